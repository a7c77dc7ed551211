"""Ask a chart's own repository whether a pinned version was ever published.

A pin that names a version the repository never published only fails later, inside the
cluster, when Flux cannot pull the chart; asking the repository first turns that into a
usage error at the keyboard. Two kinds of repository can be asked:

* ``https://`` / ``http://`` Helm repositories: ``<repository>/index.yaml`` is fetched and
  parsed with ``fluxbump.remote.index.parse_index``.
* ``oci://host/path`` registries: the chart is ``host/path/<chart>`` and its tags are listed
  with the OCI distribution API (``GET /v2/<path>/<chart>/tags/list``), taking an anonymous
  Bearer token when the registry asks for one and following ``Link: rel="next"`` pages.

``$FLUXBUMP_OCI_PLAIN_HTTP`` is a comma-separated list of registry hosts (``host`` or
``host:port``, e.g. ``127.0.0.1:5000``) spoken to over ``http://`` instead of ``https://``:
a local registry without TLS, and the tests' servers on 127.0.0.1.

The answer is the repository's own spelling of the version (``v1.16.6`` when its tags are
``v``-prefixed and the user typed ``1.16.6``), so a pin written from it matches exactly.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlparse

from fluxbump import versions
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote import http
from fluxbump.remote.index import FETCH_INDEX, MAX_INDEX_BYTES, index_text, parse_index

if TYPE_CHECKING:
    import semver

PLAIN_HTTP_ENV = "FLUXBUMP_OCI_PLAIN_HTTP"
# A registry that pages forever must not hang a run; 50 pages is thousands of tags.
MAX_PAGES = 50
# A tag-list page or token answer: thousands of tags fit in far less.
MAX_PAGE_BYTES = 4 * 1024 * 1024
# All pages together: a chart with every build tagged stays far below; a registry paging tens
# of MB of tags is refused before they are all held in memory.
MAX_TAG_LIST_BYTES = 8 * 1024 * 1024
LIST_TAGS = "list the chart's tags"
# How many alternative versions a "not published" message names.
SUGGESTIONS = 5
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def verify_chart_version(repository: str, chart: str, version: str) -> str:
    """Check that `chart` at `version` exists in `repository`; return the repository's own
    spelling of that version (e.g. 'v1.16.6' if the repo tags are v-prefixed and the user
    typed 1.16.6).

    Raise ResolutionError (exit 3) when the repository cannot be reached or read, and
    UsageError (exit 2) when the version is not published or the repository cannot be asked.
    """
    published = _published(
        repository, chart, f"verify chart '{chart}' {version}", "use --offline to skip verification"
    )
    match = next((v for v in published if versions.equal(v, version)), None)
    if match is None:
        raise UsageError(_not_published(repository, chart, version, published))
    return match


def latest_chart_version(repository: str, chart: str, *, pre: bool = False) -> str:
    """The highest SemVer version of ``chart`` the repository publishes, in its own spelling;
    pre-releases only with ``pre``. Tags that are not SemVer (``latest``, ``sha-…``) are
    never candidates. Same errors as ``verify_chart_version``."""
    published = _published(
        repository, chart, f"find the latest '{chart}'", "name the version instead of 'latest'"
    )
    candidates = [
        (key, v)
        for v in published
        if (key := _precedence(v)) is not None and (pre or not key.prerelease)
    ]
    if not candidates:
        kind = "SemVer" if pre else "stable SemVer"
        raise UsageError(f"{repository} publishes no {kind} version of chart '{chart}'")
    # Ties (build metadata, a ``v`` prefix) go to the greater text, whatever the repository's order.
    return max(candidates, key=lambda pair: (pair[0], pair[1]))[1]


def _published(repository: str, chart: str, purpose: str, hint: str) -> list[str]:
    """Every version of ``chart`` in ``repository`` (an index or an OCI tag list)."""
    scheme = urlparse(repository).scheme
    if scheme in ("http", "https"):
        return _helm_versions(repository, chart)
    if scheme == "oci":
        return _oci_versions(repository, chart)
    raise UsageError(
        f"cannot {purpose} in repository '{repository}': only https://, http:// and "
        f"oci:// repositories can be queried; {hint}"
    )


# --- Helm repositories -----------------------------------------------------------------


def _helm_versions(repository: str, chart: str) -> list[str]:
    """Every version of ``chart`` listed in the repository's ``index.yaml``."""
    url = repository.rstrip("/") + "/index.yaml"
    reply = http.get(url, what=FETCH_INDEX, max_bytes=MAX_INDEX_BYTES)
    return [entry.version for entry in parse_index(index_text(reply, url), url).versions_of(chart)]


# --- OCI registries --------------------------------------------------------------------


def _oci_versions(repository: str, chart: str) -> list[str]:
    """Every tag of ``host/path/chart``, as a chart version (Helm pushes ``+`` as ``_``)."""
    parsed = urlparse(repository)
    if not parsed.netloc:
        raise UsageError(f"repository '{repository}': expected oci://host/path")
    path = parsed.path.strip("/")
    name = f"{path}/{chart}" if path else chart
    url = f"{_scheme(parsed.netloc)}://{parsed.netloc}/v2/{name}/tags/list"
    with http.Session() as session:
        tags = _list_tags(session, url, name)
    return [tag.replace("_", "+") for tag in tags]


def _scheme(host: str) -> str:
    """``http`` for hosts named in ``$FLUXBUMP_OCI_PLAIN_HTTP``, else ``https``."""
    plain = {h.strip().lower() for h in os.environ.get(PLAIN_HTTP_ENV, "").split(",")}
    return "http" if host.lower() in plain else "https"


def _list_tags(session: http.Session, url: str, name: str) -> list[str]:
    """Walk the tag list page by page, taking an anonymous token if the registry asks."""
    origin = urlparse(url).netloc
    headers: dict[str, str] = {}
    tags: list[str] = []
    total = 0
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return tags
        # The token is for this registry only: a page on another host never gets it.
        sent = headers if urlparse(next_url).netloc == origin else {}
        reply = session.get(next_url, what=LIST_TAGS, max_bytes=MAX_PAGE_BYTES, headers=sent)
        if reply.status == 401 and not headers:
            headers = {"Authorization": f"Bearer {_anonymous_token(session, reply, name)}"}
            reply = session.get(next_url, what=LIST_TAGS, max_bytes=MAX_PAGE_BYTES, headers=headers)
        if reply.status == 404 and next_url == url:
            return []  # the registry has no such chart: reported as "not published"
        _check_tags_status(reply, next_url)
        total += len(reply.body)
        if total > MAX_TAG_LIST_BYTES:
            raise ResolutionError(
                f"{url}: tag list larger than {MAX_TAG_LIST_BYTES} bytes over all pages; "
                "refusing it (is this the chart's repository?)"
            )
        tags.extend(_tags_of(reply.body, next_url))
        link = reply.links.get("next")
        next_url = urljoin(next_url, link) if link else None
    if next_url is not None:
        raise ResolutionError(f"{url}: tag list still paging after {MAX_PAGES} pages")
    return tags


def _check_tags_status(reply: http.Reply, url: str) -> None:
    if reply.status == 401:
        raise ResolutionError(f"{url}: HTTP 401 even with an anonymous token (private chart?)")
    if reply.status != 200:
        raise ResolutionError(f"{url}: HTTP {reply.status} listing the chart's tags")


def _anonymous_token(session: http.Session, challenge: http.Reply, name: str) -> str:
    """Answer a ``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge anonymously,
    as ``helm pull`` does for a public chart on ghcr.io or Docker Hub."""
    header = challenge.headers.get("www-authenticate", "")
    if not header.lower().startswith("bearer "):
        raise ResolutionError(
            f"{challenge.url}: HTTP 401 without a Bearer challenge (cannot log in anonymously)"
        )
    params = dict(_CHALLENGE_PARAM.findall(header))
    realm = params.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise ResolutionError(f"{challenge.url}: Bearer challenge without a usable realm")
    query = {"scope": params.get("scope") or f"repository:{name}:pull"}
    if params.get("service"):
        query["service"] = params["service"]
    token_url = realm + ("&" if "?" in realm else "?") + urlencode(query)
    reply = session.get(token_url, what="request an anonymous token", max_bytes=MAX_PAGE_BYTES)
    if reply.status != 200:
        raise ResolutionError(f"{realm}: HTTP {reply.status} requesting an anonymous token")
    data = _json(reply.body, realm)
    token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ResolutionError(f"{realm}: token response has no 'token' or 'access_token'")
    return token


def _tags_of(body: bytes, url: str) -> list[str]:
    """The ``tags`` of a tag-list page (``null`` for a repository with none)."""
    data = _json(body, url)
    tags = data.get("tags") if isinstance(data, dict) else None
    if tags is None and isinstance(data, dict):
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ResolutionError(f"{url}: not an OCI tag list (no 'tags' array of strings)")
    return tags


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ResolutionError(f"{url}: the answer is not JSON") from None


# --- messages --------------------------------------------------------------------------


def _not_published(repository: str, chart: str, version: str, published: list[str]) -> str:
    """Name what was asked for and what a user could pin instead."""
    head = f"chart '{chart}' version {version} is not published in {repository}"
    if not published:
        return f"{head}: the repository has no versions of '{chart}'"
    ordered = sorted(
        ((key, v) for v in published if (key := _precedence(v)) is not None),
        key=lambda pair: pair[0],
    )
    wanted = _precedence(version)
    newer = [v for key, v in ordered if wanted is not None and key > wanted]
    if newer:
        return f"{head}; nearest newer: {', '.join(newer[:SUGGESTIONS])}"
    latest = [v for _, v in reversed(ordered)][:SUGGESTIONS] or published[:SUGGESTIONS]
    return f"{head}; latest available: {', '.join(latest)}"


def _precedence(text: str) -> semver.Version | None:
    """SemVer precedence of a version text (build metadata ignored), None if not SemVer."""
    parsed = versions.try_parse(text) if len(text) <= 128 else None
    return parsed.replace(build=None) if parsed is not None else None
