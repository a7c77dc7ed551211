"""Which HelmReleases named like a chart of this repository deploy another project's chart.

A HelmRelease names its chart by name and source (``spec.chart.spec.sourceRef``); this
repository's chart of that name is what it deploys only if that source serves it. The
release stays matched by name unless the repository itself says its source serves the other
project's chart, by one of two statements (nothing else counts: a sourceRef no
``HelmRepository``/``OCIRepository`` here resolves, one several objects of that name and
namespace answer with different URLs, or one with no URL keeps the match):

- the source's URL is the repository a component names for its upstream chart of that name:
  Flux's community repository (or ``helm_repo``) for ``flux2``, a wrapper's dependency
  ``repository:`` for its upstream. A local chart of that name is then a copy or a wrapper;
- the local chart is a copy of another project's chart, and the source is that project's:
  the source's host is the host of the copy's ``home`` or of one of its ``sources``, or under
  it (bitnami's ``redis``, ``home: https://bitnami.com``, from ``charts.bitnami.com``). A copy
  republished to a repository of one's own (``charts.example.org``) stays matched.

Neither is read for a source the repository publishes its own charts to (``_own_registries``:
the Catalyst layout's one registry of ``bp-*`` wrappers), whatever those charts' ``home``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fluxbump.components import Component
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.scan.roles import read_once
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sources import JoinedSource, SourceFile
from fluxbump.yamlio import yamldoc

# (kind, namespace, name) of a chart source; "" for a namespace none is written for.
SourceKey = tuple[str, str, str]
_SOURCE_KINDS = ("HelmRepository", "OCIRepository")


def foreign_releases(
    root: Path,
    sources: dict[str, SourceFile],
    chart_sources: Sequence[str],
    charts: dict[str, ChartFile],
    components: Iterable[Component],
    releases: Sequence[PinSite],
) -> set[tuple[str, int]]:
    """(file, start) of each HelmRelease pin in ``releases`` (pins of ``charts`` by name)
    whose source serves another project's chart of that name (the module's two statements),
    never one the repository publishes its own charts to (``_own_registries``)."""
    upstream = _upstream_repositories(components)
    if not _other_hosts(set(charts), charts, upstream):
        return set()  # (most repositories: no release is looked at again)
    helm = [s for s in releases if s.role is Role.HELMRELEASE and s.subject in charts]
    hosts = _other_hosts({s.subject for s in helm}, charts, upstream)
    if not hosts:
        return set()  # (no cluster file is read again)
    composed = _Composed()  # (a file holding a source and releases is composed once)
    urls = _source_urls(root, sources, chart_sources, hosts, composed)
    # Only a source serving another project's chart of a release's name can make it foreign:
    # a fleet's releases, ~40 per cluster from its own registry, are not composed again.
    others = {key for key, found in urls.items() if len(found) == 1
              and any(_serves_other(url, charts[s.subject], upstream)
                      for url in found for s in helm)}  # fmt: skip
    if not others:
        return set()
    named = tuple({key[2].encode() for key in others})
    documents: dict[str, tuple[list[Any], int]] = {}
    served = []
    for site in helm:
        if site.file not in documents:
            source = read_once(sources, root, site.file)
            # (its sourceRef names one of them in its text, or its source is another)
            held = any(n in _own_text(source) for n in named)
            documents[site.file] = composed.of(source) if held else ([], 0)
        docs, header = documents[site.file]
        key = _source_of(docs, site.start - header)
        found = urls.get(key, set()) if key is not None else set()
        if len(found) == 1:
            served.append((site, next(iter(found))))
    own = _own_registries(charts, served)
    return {
        (site.file, site.start)
        for site, url in served
        if url not in own and _serves_other(url, charts[site.subject], upstream)
    }


class ReleaseSources:
    """The URL of the one HelmRepository or OCIRepository here each HelmRelease takes its
    chart from, for drift messages: the chart sources are read and composed once, on the
    first release asked about (a chart drifting in a thousand clusters asks a thousand
    times), and each file holding releases once per body."""

    def __init__(
        self, root: Path, sources: dict[str, SourceFile], chart_sources: Sequence[str]
    ) -> None:
        self._root, self._sources, self._files = root, sources, chart_sources
        self._composed = _Composed()
        self._urls: dict[SourceKey, set[str]] | None = None

    def of(self, site: PinSite) -> str | None:
        """None when the source is of another kind (a GitRepository, a bucket), named by no
        object here, or by several with different URLs."""
        try:
            source = read_once(self._sources, self._root, site.file)
        except UsageError:
            return None
        docs, header = self._composed.of(source)
        key = _source_of(docs, site.start - header)
        if key is None or key[0] not in _SOURCE_KINDS:
            return None
        if self._urls is None:
            self._urls = _source_urls(self._root, self._sources, self._files, None, self._composed)
        found = self._urls.get(key, set())
        return next(iter(found)) if len(found) == 1 else None


def _other_hosts(
    names: set[str], charts: dict[str, ChartFile], upstream: dict[str, set[str]]
) -> tuple[bytes, ...]:
    """The hosts a source serving another project's chart of one of ``names`` is at (the
    upstream repositories' hosts, the copies' ``home``/``sources`` hosts), as bytes a file
    defining such a source holds."""
    found = {_host(url) for name in names for url in upstream.get(name, ())}
    found |= {_host(o).removeprefix("www.") for n in names for o in charts[n].origins}
    return tuple(host.encode() for host in found if host and host not in _NO_CHART_HOSTS)


# Hosts of a chart's ``home``/``sources`` that serve no chart repository, none under them
# either (GitHub's are github.io, ghcr.io, raw.githubusercontent.com): most charts name one,
# and a fleet's ~40 wrappers doing so would have every cluster file searched for nothing.
_NO_CHART_HOSTS = frozenset({"github.com"})


def _own_registries(charts: dict[str, ChartFile], served: list[tuple[PinSite, str]]) -> set[str]:
    """The repositories this one publishes its charts to, as it says so itself: one a chart
    here takes another chart of this repository from (the Catalyst umbrella depends on its
    ``bp-*`` wrappers by their registry's URL), and one HelmReleases here take two or more
    of its charts from (that layout's ~40 releases per cluster from one registry)."""
    own = chart_repositories(charts)
    taken: dict[str, set[str]] = {}
    for site, url in served:
        taken.setdefault(url, set()).add(site.subject)
    return own | {url for url, names in taken.items() if len(names) > 1}


def chart_repositories(charts: dict[str, ChartFile]) -> set[str]:
    """The repositories a chart here takes another chart of this repository from: where
    this one publishes its charts (the Catalyst umbrella's registry of ``bp-*`` wrappers)."""
    return {
        _normal(repository)
        for chart in charts.values()
        for name, repository in chart.repositories.items()
        if name in charts and repository
    }


def _upstream_repositories(components: Iterable[Component]) -> dict[str, set[str]]:
    """Each upstream chart a component wraps or deploys, and the repositories it names."""
    found: dict[str, set[str]] = {}
    for component in components:
        if not component.operator and component.helm_repo:
            found.setdefault(component.upstream, set()).add(_normal(component.helm_repo))
    return found


def _serves_other(url: str, chart: ChartFile, upstream: dict[str, set[str]]) -> bool:
    if url in upstream.get(chart.name, set()):
        return True
    host = _host(url)
    return any(_under(host, _host(origin)) for origin in chart.origins)


def _under(host: str, site: str) -> bool:
    """Whether ``host`` is ``site`` or a name under it (``charts.bitnami.com``)."""
    site = site.removeprefix("www.")
    return bool(host and site) and (host == site or host.endswith(f".{site}"))


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:  # (a malformed port or bracket: no host to compare)
        return ""


def _normal(url: str) -> str:
    """A chart repository URL as written in both places: no ``index.yaml``, no last slash."""
    url = url.strip().removesuffix("/index.yaml").rstrip("/")
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}" if rest else url


def _source_urls(
    root: Path,
    sources: dict[str, SourceFile],
    files: Sequence[str],
    hosts: tuple[bytes, ...] | None,
    composed: _Composed,
) -> dict[SourceKey, set[str]]:
    """Every HelmRepository and OCIRepository at one of ``hosts`` (None: at any) in
    ``files`` (the cluster files holding one, ``ScannedFiles.chart_sources``), by key, with
    its URLs (several overlays may define one name with different URLs: then it is not
    resolved)."""
    urls: dict[SourceKey, set[str]] = {}
    for rel in files:
        try:
            source = read_once(sources, root, rel)
        except UsageError:  # (unreadable: said where the scan read it)
            continue
        if hosts is not None and not any(host in _own_text(source) for host in hosts):
            continue
        for doc in composed.of(source)[0]:
            kind = yamldoc.text_of(yamldoc.child(doc, "kind"))
            url = yamldoc.text_of(yamldoc.walk(doc, ("spec", "url")))
            if kind in _SOURCE_KINDS and url:
                key = (kind, *_namespace_and_name(doc))
                urls.setdefault(key, set()).add(_normal(url))
    return urls


def _source_of(documents: list[Any], start: int) -> SourceKey | None:
    """The source key of the HelmRelease whose version starts at ``start``; None when the
    document cannot be found again or names no source."""
    for doc in documents:
        if yamldoc.text_of(yamldoc.child(doc, "kind")) != "HelmRelease":
            continue
        if not doc.start_mark.index <= start < doc.end_mark.index:
            continue
        ref = yamldoc.walk(doc, ("spec", "chart", "spec", "sourceRef"))
        name = yamldoc.text_of(yamldoc.child(ref, "name"))
        if not name:
            return None
        kind = yamldoc.text_of(yamldoc.child(ref, "kind")) or "HelmRepository"
        namespace = yamldoc.text_of(yamldoc.child(ref, "namespace"))
        return kind, namespace or _namespace_and_name(doc)[0], name
    return None


def _namespace_and_name(doc: Any) -> tuple[str, str]:
    meta = yamldoc.child(doc, "metadata")
    namespace = yamldoc.text_of(yamldoc.child(meta, "namespace")) or ""
    return namespace, yamldoc.text_of(yamldoc.child(meta, "name")) or ""


class _Composed:
    """Each file's documents, and where its text starts in the file: a fleet's copies of one
    manifest (``JoinedSource``: a header of comment lines and a body they share, composed the
    same) are composed once per body, which starts after the header (ASCII: its bytes are its
    characters). Each copy composed apart cost a fleet of 42,000 releases 11 s."""

    def __init__(self) -> None:
        self._bodies: dict[int, list[Any]] = {}

    def of(self, source: SourceFile) -> tuple[list[Any], int]:
        if not isinstance(source, JoinedSource):
            return _documents(source.text, source.rel), 0
        if id(source.body) not in self._bodies:
            try:
                text = source.body.decode("utf-8")
            except UnicodeDecodeError:  # (the scan names it)
                text = ""
            self._bodies[id(source.body)] = _documents(text, source.rel) if text else []
        return self._bodies[id(source.body)], len(source.header)


def _own_text(source: SourceFile) -> bytes:
    """The bytes a copy does not share with other files' headers: its body (a header of
    comment lines names no source and no host), else the whole file."""
    return source.body if isinstance(source, JoinedSource) else source.raw


def _documents(text: str, rel: str) -> list[Any]:
    """A file's documents; none when it does not compose whole (its pins were found
    document by document: such a release keeps its match)."""
    try:
        return yamldoc.compose_documents(text, rel)
    except UsageError:
        return []
