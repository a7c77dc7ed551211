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
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from fluxbump import versions
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote.index import get_limited, http_timeout, parse_index

if TYPE_CHECKING:
    import httpx
    import semver

PLAIN_HTTP_ENV = "FLUXBUMP_OCI_PLAIN_HTTP"
# A registry that pages forever must not hang a run; 50 pages is thousands of tags.
MAX_PAGES = 50
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
    import httpx

    url = repository.rstrip("/") + "/index.yaml"
    try:
        with _client() as client:
            response, body = get_limited(client, url, {})
            if response.status_code != 200:
                raise ResolutionError(f"{url}: HTTP {response.status_code} fetching the Helm index")
            text = body.decode("utf-8")
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, RecursionError) as exc:
        raise ResolutionError(f"{url}: cannot fetch the Helm index ({_why(exc)})") from None
    return [entry.version for entry in parse_index(text, url).versions_of(chart)]


# --- OCI registries --------------------------------------------------------------------


def _oci_versions(repository: str, chart: str) -> list[str]:
    """Every tag of ``host/path/chart``, as a chart version (Helm pushes ``+`` as ``_``)."""
    import httpx

    parsed = urlparse(repository)
    if not parsed.netloc:
        raise UsageError(f"repository '{repository}': expected oci://host/path")
    path = parsed.path.strip("/")
    name = f"{path}/{chart}" if path else chart
    url = f"{_scheme(parsed.netloc)}://{parsed.netloc}/v2/{name}/tags/list"
    try:
        with _client() as client:
            tags = _list_tags(client, url, name)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, RecursionError) as exc:
        raise ResolutionError(f"{url}: cannot list the chart's tags ({_why(exc)})") from None
    return [tag.replace("_", "+") for tag in tags]


def _scheme(host: str) -> str:
    """``http`` for hosts named in ``$FLUXBUMP_OCI_PLAIN_HTTP``, else ``https``."""
    plain = {h.strip().lower() for h in os.environ.get(PLAIN_HTTP_ENV, "").split(",")}
    return "http" if host.lower() in plain else "https"


def _list_tags(client: httpx.Client, url: str, name: str) -> list[str]:
    """Walk the tag list page by page, taking an anonymous token if the registry asks."""
    origin = urlparse(url).netloc
    headers: dict[str, str] = {}
    tags: list[str] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return tags
        # The token is for this registry only: a page on another host never gets it.
        sent = headers if urlparse(next_url).netloc == origin else {}
        response, body = get_limited(client, next_url, sent)
        if response.status_code == 401 and not headers:
            headers = {"Authorization": f"Bearer {_anonymous_token(client, response, name)}"}
            response, body = get_limited(client, next_url, headers)
        if response.status_code == 404 and next_url == url:
            return []  # the registry has no such chart: reported as "not published"
        _check_tags_status(response, next_url)
        tags.extend(_tags_of(body, next_url))
        link = response.links.get("next", {}).get("url")
        next_url = urljoin(next_url, link) if link else None
    if next_url is not None:
        raise ResolutionError(f"{url}: tag list still paging after {MAX_PAGES} pages")
    return tags


def _check_tags_status(response: httpx.Response, url: str) -> None:
    if response.status_code == 401:
        raise ResolutionError(f"{url}: HTTP 401 even with an anonymous token (private chart?)")
    if response.status_code != 200:
        raise ResolutionError(f"{url}: HTTP {response.status_code} listing the chart's tags")


def _anonymous_token(client: httpx.Client, challenge: httpx.Response, name: str) -> str:
    """Answer a ``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge anonymously,
    as ``helm pull`` does for a public chart on ghcr.io or Docker Hub."""
    import httpx

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
    token_url = str(httpx.URL(realm).copy_merge_params(query))
    response, body = get_limited(client, token_url, {})
    if response.status_code != 200:
        raise ResolutionError(f"{realm}: HTTP {response.status_code} requesting an anonymous token")
    data = json.loads(body)
    token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ResolutionError(f"{realm}: token response has no 'token' or 'access_token'")
    return token


def _tags_of(body: bytes, url: str) -> list[str]:
    """The ``tags`` of a tag-list page (``null`` for a repository with none)."""
    data = json.loads(body)
    tags = data.get("tags") if isinstance(data, dict) else None
    if tags is None and isinstance(data, dict):
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ResolutionError(f"{url}: not an OCI tag list (no 'tags' array of strings)")
    return tags


# --- HTTP ------------------------------------------------------------------------------


def _client() -> httpx.Client:
    import httpx

    return httpx.Client(timeout=http_timeout(), follow_redirects=True, trust_env=True)


def _why(exc: Exception) -> str:
    """One line naming the failure: the class, and its message when it has one."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


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
