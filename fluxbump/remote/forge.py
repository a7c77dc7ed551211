"""Open, or reuse, the bump's pull request on GitHub (incl. Enterprise) or Gitea.

The forge is read from the git remote URL; ``FLUXBUMP_FORGE`` (``github``/``gitea``) and
``FLUXBUMP_FORGE_API`` (the REST base URL) override it for GitHub Enterprise, self-hosted
Gitea and tests. The token never appears in an error message: every text taken from a
response is scrubbed of it before it reaches an exception (and ``fluxbump.secrets`` scrubs
every line fluxbump prints). HTTP goes through ``fluxbump.remote.http``: GETs are retried,
the POST never is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote import http
from fluxbump.secrets import TOKEN_ENV, hold

FORGE_ENV = "FLUXBUMP_FORGE"
FORGE_API_ENV = "FLUXBUMP_FORGE_API"
KINDS = ("github", "gitea")
GITHUB_API = "https://api.github.com"
GITHUB_API_VERSION = "2022-11-28"
# A page of 100 pull requests with their bodies; far more is not an API answer.
MAX_REPLY_BYTES = 16 * 1024 * 1024
# The page size each forge is asked for: GitHub's most, Gitea's default MAX_RESPONSE_ITEMS (an
# admin may set it lower: pages are followed by their Link, never counted by their size).
PAGE_SIZE = {"github": 100, "gitea": 50}
# A list is read to this many pages (2,000 pull requests on GitHub), then the run says so.
MAX_LIST_PAGES = 20
_HOSTS = {"github.com": "github", "www.github.com": "github", "codeberg.org": "gitea"}
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^/:]+):(?P<path>(?!//).+)$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ForgeTarget:
    """Where the pull request goes: forge kind, REST API base URL and repository."""

    kind: str  # "github" | "gitea"
    api_base: str  # https://api.github.com, GHE https://host/api/v3, Gitea https://host/api/v1
    owner: str
    repo: str

    @property
    def label(self) -> str:
        return "GitHub" if self.kind == "github" else "Gitea"

    @property
    def repo_path(self) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}"


@dataclass(frozen=True)
class PullRequest:
    """An open pull request: its number, web URL, and whether this run created it."""

    number: int
    url: str
    created: bool


# --- where ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Remote:
    scheme: str  # "https", "http" or "ssh"
    host: str
    port: int | None
    prefix: str  # path before owner/repo (a Gitea served under a sub-path), "" or "/x"
    owner: str
    repo: str


def forge_for_remote(remote_url: str, env: Mapping[str, str]) -> ForgeTarget:
    """The forge and repository a git remote URL names (https, ssh:// or scp-like ssh)."""
    remote = _parse_remote(remote_url)
    api_override = env.get(FORGE_API_ENV, "").strip()
    checked = _check_api(api_override) if api_override else ""  # before _kind splits it
    kind = _kind(remote, env.get(FORGE_ENV, "").strip().lower(), api_override)
    api_base = checked or _default_api(kind, remote)
    return ForgeTarget(kind=kind, api_base=api_base, owner=remote.owner, repo=remote.repo)


def token_for(target: ForgeTarget, env: Mapping[str, str]) -> str:
    """The API token for the target's forge, from ``GITHUB_TOKEN`` or ``GITEA_TOKEN``."""
    name = TOKEN_ENV[target.kind]
    token = env.get(name, "").strip()
    if not token:
        raise UsageError(
            f"opening a {target.label} pull request needs a token: set ${name} "
            f"(it needs write access to pull requests of {target.owner}/{target.repo})"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise UsageError(f"${name} contains whitespace or control characters")
    hold(token)
    return token


def _parse_remote(remote_url: str) -> _Remote:
    url = remote_url.strip()
    shown = _redact_userinfo(url)
    if "://" in url:
        parts = _split(url, f"git remote '{shown}'")
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http", "ssh", "git+ssh", "ssh+git"):
            raise UsageError(f"git remote '{shown}': unsupported scheme '{parts.scheme}'")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"git remote '{shown}': invalid port") from None
        host, path = parts.hostname or "", parts.path
        scheme = scheme if scheme in ("https", "http") else "ssh"
    else:
        match = _SCP_LIKE.match(url)
        if match is None:
            raise UsageError(f"git remote '{shown}' is not a URL or user@host:owner/repo")
        scheme, host, port, path = "ssh", match["host"], None, match["path"]
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
    if not host or len(segments) < 2 or not all(_NAME.match(s) for s in segments[-2:]):
        raise UsageError(f"git remote '{shown}' does not name an owner/repository")
    prefix = "/" + "/".join(segments[:-2]) if len(segments) > 2 else ""
    return _Remote(scheme, host.lower(), port, prefix, segments[-2], segments[-1])


def _kind(remote: _Remote, forced: str, api_override: str) -> str:
    if forced:
        if forced not in KINDS:
            raise UsageError(f"${FORGE_ENV}='{forced}': expected one of {', '.join(KINDS)}")
        return forced
    if api_override:
        path = urlsplit(api_override).path.rstrip("/")
        if path.endswith("/api/v1"):
            return "gitea"
        if path.endswith("/api/v3") or urlsplit(api_override).hostname == "api.github.com":
            return "github"
    kind = _HOSTS.get(remote.host)
    if kind is None:
        raise UsageError(
            f"cannot tell which forge hosts '{remote.host}': set ${FORGE_ENV}=github|gitea "
            f"(and ${FORGE_API_ENV} if its API is not at the usual place)"
        )
    return kind


def _default_api(kind: str, remote: _Remote) -> str:
    if kind == "github" and remote.host in ("github.com", "www.github.com"):
        return GITHUB_API
    scheme = remote.scheme if remote.scheme in ("https", "http") else "https"
    port = f":{remote.port}" if remote.port and remote.scheme == scheme else ""
    suffix = "/api/v3" if kind == "github" else "/api/v1"
    return f"{scheme}://{remote.host}{port}{remote.prefix}{suffix}"


def _check_api(url: str) -> str:
    parts = _split(url, f"${FORGE_API_ENV}='{_redact_userinfo(url)}'")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"${FORGE_API_ENV}='{url}': expected an http(s) base URL")
    if parts.username or parts.password:
        raise UsageError(f"${FORGE_API_ENV} must not carry credentials; use the token variable")
    return url.rstrip("/")


def _split(url: str, named: str) -> SplitResult:
    """``urlsplit``, its ValueError (an unclosed IPv6 bracket) a usage error naming ``named``."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise UsageError(f"{named}: not a URL ({exc})") from None


def _redact_userinfo(url: str) -> str:
    """``https://user:secret@host/x`` -> ``https://***@host/x`` for messages."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^@/]+@", r"\1***@", url)


# --- open or reuse ---------------------------------------------------------------------


def open_pull_request(
    target: ForgeTarget, token: str, *, head: str, base: str, title: str, body: str
) -> PullRequest:
    """Reuse the open pull request from ``head`` if there is one, else create it."""
    with http.Session(base_url=target.api_base, headers=_headers(target, token)) as session:
        api = _Api(session, target, token)
        existing = _find_open(api, head)
        if existing is not None:
            return existing
        return _create(api, head=head, base=base, title=title, body=body)


def create_pull_request(
    target: ForgeTarget, token: str, *, head: str, base: str, title: str, body: str
) -> PullRequest:
    """Open a pull request from ``head`` (the caller found none open)."""
    with http.Session(base_url=target.api_base, headers=_headers(target, token)) as session:
        return _create(_Api(session, target, token), head=head, base=base, title=title, body=body)


def _create(api: _Api, *, head: str, base: str, title: str, body: str) -> PullRequest:
    payload = {"title": title, "head": head, "base": base, "body": body}
    data = api.call("POST", f"{api.target.repo_path}/pulls", json=payload)
    return _pull_request(data, api.target, api.token, created=True)


def find_pull_request(target: ForgeTarget, token: str, *, head: str) -> PullRequest | None:
    """The open pull request from ``head``, if there is one."""
    with http.Session(base_url=target.api_base, headers=_headers(target, token)) as session:
        return _find_open(_Api(session, target, token), head)


@dataclass(frozen=True)
class OpenBranches:
    """The open pull requests of this repository's ``prefix``* branches, as (number, head
    branch), and how many pages were read when the bound cut the list (0: read whole)."""

    found: list[tuple[int, str]]
    cut_at: int
    listed: int  # pull requests read, of every branch


def open_branches(target: ForgeTarget, token: str, *, prefix: str) -> OpenBranches:
    """Number and head branch of the open pull requests from this repository's branches named
    ``prefix``*, read page by page to ``MAX_LIST_PAGES``."""
    with http.Session(base_url=target.api_base, headers=_headers(target, token)) as session:
        pages = _Pages(_Api(session, target, token), f"{target.repo_path}/pulls", {})
        listed = [pr for page in pages for pr in page]
    heads = ((pr, _head_of(pr)) for pr in listed)
    found = [
        (pr["number"], head[0])
        for pr, head in heads
        if head is not None
        and head[0].startswith(prefix)
        and head[1] is not None  # a deleted fork's head has no repository: not this one
        and head[1].lower() == target.owner.lower()
        and isinstance(pr.get("number"), int)
    ]
    return OpenBranches(found, MAX_LIST_PAGES if pages.cut else 0, len(listed))


def _headers(target: ForgeTarget, token: str) -> dict[str, str]:
    if target.kind == "github":
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": "fluxbump",
        }
    return {
        "Authorization": f"token {token}",
        "Accept": "application/json",
        "User-Agent": "fluxbump",
    }


def _find_open(api: _Api, head: str) -> PullRequest | None:
    target = api.target
    head_owner, _, branch = head.rpartition(":")
    head_owner = head_owner or target.owner
    # GitHub filters by head (one page); Gitea cannot, and every page is searched.
    by_head = {"head": f"{head_owner}:{branch}"} if target.kind == "github" else {}
    for page in _Pages(api, f"{target.repo_path}/pulls", by_head):
        for pr in page:
            if _is_head(pr, head_owner, branch):
                return _pull_request(pr, target, api.token, created=False)
    return None


class _Pages:
    """The pages of an open pull request list, each page's ``Link: rel="next"`` followed
    (GitHub and Gitea both send it) to ``MAX_LIST_PAGES``; ``cut`` says the bound stopped it."""

    def __init__(self, api: _Api, path: str, params: Mapping[str, str | int]) -> None:
        self.api = api
        self.path = path
        size = "per_page" if api.target.kind == "github" else "limit"
        self.params = {"state": "open", size: PAGE_SIZE[api.target.kind], **params}
        self.cut = False

    def __iter__(self) -> Iterator[list[Any]]:
        url: str | None = self.path
        params: Mapping[str, str | int] | None = self.params
        for _ in range(MAX_LIST_PAGES):
            if url is None:
                return
            data, link = self.api.page(url, params)
            yield _as_list(data, self.api.target, token=self.api.token)
            url, params = (self._on_our_api(link) if link else None), None
        self.cut = url is not None

    def _on_our_api(self, link: str) -> str:
        """The next page's query on this API's own URL: the session sends the token to every
        URL, and Gitea writes its links with its ROOT_URL, which need not be the host the
        API is reached at (an in-cluster service name)."""
        return f"{self.path}?{urlsplit(link).query}"


def _is_head(pr: object, owner: str, branch: str) -> bool:
    """Whether a listed pull request comes from ``owner``'s ``branch``."""
    head = _head_of(pr)
    if head is None or head[0] != branch:
        return False
    return head[1] is None or head[1].lower() == owner.lower()


def _head_of(pr: object) -> tuple[str, str | None] | None:
    """A listed pull request's head branch and the login owning its repository (None: not
    given); None when the entry names no head branch."""
    if not isinstance(pr, dict) or not isinstance(pr.get("head"), dict):
        return None
    head = pr["head"]
    ref = head.get("ref")
    if not isinstance(ref, str):
        return None
    repo = head.get("repo")
    repo_owner = repo.get("owner") if isinstance(repo, dict) else None
    login = repo_owner.get("login") if isinstance(repo_owner, dict) else None
    return ref, login if isinstance(login, str) else None


def _pull_request(data: object, target: ForgeTarget, token: str, *, created: bool) -> PullRequest:
    if isinstance(data, dict):
        number, url = data.get("number"), data.get("html_url")
        if isinstance(number, int) and not isinstance(number, bool) and isinstance(url, str):
            return PullRequest(number=number, url=url, created=created)
    raise ResolutionError(
        _scrub(
            f"{target.label} API: the pull request in the response has no number/html_url", token
        )
    )


def _as_list(data: object, target: ForgeTarget, *, token: str) -> list[Any]:
    if isinstance(data, list):
        return data
    raise ResolutionError(_scrub(f"{target.label} API: expected a list of pull requests", token))


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Api:
    session: http.Session
    target: ForgeTarget
    token: str

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, str] | None = None,
    ) -> Any:
        """One API request, JSON decoded; any failure is a token-free ResolutionError."""
        return self._send(method, path, params, json)[0]

    def page(self, url: str, params: Mapping[str, str | int] | None) -> tuple[Any, str | None]:
        """One GET of a paged list: its JSON and the URL of the next page (None: the last)."""
        data, reply = self._send("GET", url, params, None)
        return data, reply.links.get("next")

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Mapping[str, str] | None,
    ) -> tuple[Any, http.Reply]:
        where = f"{self.target.label} API {method} {urlsplit(path).path}"
        what = f"call the {where}"
        try:
            if method == "GET":
                reply = self.session.get(path, what=what, max_bytes=MAX_REPLY_BYTES, params=params)
            else:
                reply = self.session.post_json(
                    path, json or {}, what=what, max_bytes=MAX_REPLY_BYTES
                )
        except ResolutionError as exc:
            raise ResolutionError(_scrub(exc.message, self.token)) from None
        return _decode(reply, where, self.token), reply


def _decode(reply: http.Reply, where: str, token: str) -> Any:
    try:
        data = json.loads(reply.body) if reply.body else None
    except (ValueError, RecursionError):
        data = _NOT_JSON
    status = reply.status
    if not 200 <= status < 300:
        message = _api_message(data)
        hint = _hint(status)
        text = f"{where}: HTTP {status}" + (f": {message}" if message else "") + hint
        raise ResolutionError(_scrub(text, token))
    if data is _NOT_JSON or data is None:
        raise ResolutionError(_scrub(f"{where}: HTTP {status} but the body is not JSON", token))
    return data


_NOT_JSON = object()


def _api_message(data: object) -> str:
    """The API's ``message`` plus any GitHub ``errors[].message``, on one line."""
    if not isinstance(data, dict):
        return ""
    parts = [data["message"]] if isinstance(data.get("message"), str) else []
    errors = data.get("errors")
    if isinstance(errors, list):
        for err in errors[:3]:
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                parts.append(err["message"])
            elif isinstance(err, str):
                parts.append(err)
    return " — ".join(p for p in parts if p.strip())


def _hint(status: int) -> str:
    if status == 401:
        return " (check the token)"
    if status == 404:
        return " (wrong owner/repo or API base URL, or the token cannot see the repository)"
    return ""


def _scrub(text: str, token: str) -> str:
    """One line, at most 400 characters, with every form of the token replaced by ***."""
    if token:
        for form in {token, quote(token, safe=""), quote(token)}:
            text = text.replace(form, "***")
    line = " ".join(text.split())
    return line if len(line) <= 400 else line[:397] + "..."
