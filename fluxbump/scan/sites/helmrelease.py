"""Flux ``HelmRelease`` chart pins in cluster manifests, found by content.

Two shapes: ``spec.chart.spec.{chart,version}``, and ``spec.chartRef`` pointing at an
``OCIRepository`` whose ``spec.ref.tag`` is the pin (the chart is the URL's last segment,
so the tag is found on the OCIRepository itself). ``dependsOn`` names are not pins: the
cheap text test lets such documents through, and the parsed path rejects them. An Argo CD
``Application`` or ``ApplicationSet`` deploys a chart the same way (``argocd``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, AnyStr

from fluxbump.errors import UsageError
from fluxbump.pins import (
    NO_VERSION,
    NOT_A_LIST,
    NOT_A_MAPPING,
    NULL_VERSION,
    PinSite,
    Role,
    unpinned,
    yaml_site,
)
from fluxbump.scan.sites import (
    argocd,
    clusteraddons,
    helmchart,
    helmfile,
    kustomizehelm,
    object_name,
    pulumiyaml,
    sveltos,
    writefiles,
)
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc


@dataclass(frozen=True)
class OciRepository:
    """An OCIRepository and its tag pin; the chart is the URL's last path segment."""

    key: str  # namespace/name
    chart: str
    tag: PinSite | None


@dataclass(frozen=True)
class VersionPatch:
    """A HelmRelease document that sets ``spec.chart.spec.version`` but names no chart: a
    kustomize patch of the HelmRelease ``namespace/name``, which pins that release's chart.
    ``site.subject`` is empty until discovery matches the patch to its release."""

    namespace: str  # "" matches the name in any namespace, as kustomize targets do
    name: str
    site: PinSite


@dataclass
class ClusterScan:
    sites: list[PinSite]
    oci_repositories: list[OciRepository]
    patches: list[VersionPatch] = field(default_factory=list)
    # Releases of a chart with no version to edit (``pins.unpinned``): kept apart, as only
    # the survey's own pass wants them (a base revision's pins never hold one).
    unpinned: list[PinSite] = field(default_factory=list)


def scan_manifest(source: SourceFile, charts: frozenset[str]) -> ClusterScan:
    """HelmRelease pins of the given charts and the OCIRepositories that may pin them.

    Only documents whose text could hold such a pin are composed (see ``may_pin``); the
    others are never parsed, so a stray invalid document beside them is not this file's error.
    """
    scan = ClusterScan([], [])
    segments = blockyaml.split_documents(source.text)
    if segments is None:  # directives, ``...`` or odd line breaks: composed whole
        for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
            _scan_document(source, index, root, charts, scan)
        return scan
    for segment in segments:
        text = source.text[segment.start : segment.end]
        key = (text, segment.index, charts)
        hit = _memo.get(key)
        if hit is not None:  # (remembered only after ``may_pin`` let it through: not tested again)
            start, line, found = hit
            _rebased(found, source.rel, segment.start - start, segment.line - line, scan)
        elif may_pin(text, charts):
            _scan_segment(source, segment, key, charts, scan)
    return scan


# What a document's text yields, by (text, index, charts): a fleet deploys the same rendered
# HelmRelease in every cluster, so most candidate documents are one of a few dozen texts.
# Entries hold positions as found in the first file; bounded, as unique texts gain nothing.
_MEMO_LIMIT = 2048
_memo: dict[tuple[str, int, frozenset[str]], tuple[int, int, ClusterScan]] = {}


def _scan_segment(
    source: SourceFile,
    segment: blockyaml.Segment,
    key: tuple[str, int, frozenset[str]],
    charts: frozenset[str],
    scan: ClusterScan,
) -> None:
    """The pins of one document not met before (``key``: its text, index and ``charts``). A
    document libyaml composes depends on nothing but its own text, its index in the stream
    and where it starts (a line start: columns agree), so what it yields is remembered, and
    a text met again is answered with its offsets and lines moved (``scan_manifest``)."""
    root = blockyaml.read_fast(source.text, segment)
    if root is None:  # ruamel composes it, or a duplicate key warns: nothing to remember
        root = blockyaml.compose_segment(source.text, segment, source.rel)
        _bounded(root, key[0], source.rel)
        _scan_document(source, segment.index, root, charts, scan)
        return
    _bounded(root, key[0], source.rel)
    found = ClusterScan([], [])
    _scan_document(source, segment.index, root, charts, found)
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[key] = (segment.start, segment.line, found)
    scan.sites += found.sites
    scan.oci_repositories += found.oci_repositories
    scan.patches += found.patches
    scan.unpinned += found.unpinned


def _bounded(root: object, text: str, rel: str) -> None:
    """A HelmRelease whose aliases expand past what Flux decodes is refused as the whole
    file's composition refuses it (``yamldoc.compose_documents``), before anything is
    planned: a bump that moved its pin left it for the gate to refuse after writing."""
    if "*" in text:  # (no alias without one)
        yamldoc.refuse_excessive_aliasing([root], rel)


def _rebased(found: ClusterScan, rel: str, offset: int, lines: int, scan: ClusterScan) -> None:
    """``found`` as it is in ``rel``, ``offset`` characters and ``lines`` lines further on."""
    scan.sites += [s.moved(rel, lines, offset) for s in found.sites]
    if found.oci_repositories:  # (most documents hold none: no list to build)
        scan.oci_repositories += [
            replace(r, tag=r.tag.moved(rel, lines, offset) if r.tag is not None else None)
            for r in found.oci_repositories
        ]
    if found.patches:
        scan.patches += [replace(p, site=p.site.moved(rel, lines, offset)) for p in found.patches]
    if found.unpinned:
        scan.unpinned += [s.moved(rel, lines, offset) for s in found.unpinned]


def may_pin(text: str, charts: frozenset[str]) -> bool:
    """Cheap test: can this text hold a HelmRelease or OCIRepository pin of one of ``charts``?

    A pin names its chart in the text (``chart: bp-flux``, quoted, flow style, or an OCI URL
    ending in it) and its kind; only a double-quoted escape can spell either differently,
    so text with a backslash is also tested as those escapes spell it. A name only in
    ``dependsOn`` entries (``- name: bp-flux``) is no pin: see ``_LISTED``.
    """
    if "\\" in text and _names_a_pin(spelled_out(text), charts):
        return True
    return _names_a_pin(text, charts)


# Words one of which a document pinning a chart holds: its kind (a HelmChart's too), Argo CD's,
# Sveltos's, Cluster API's or Crossplane's API group, a helmfile's list of releases, a
# kustomization's list of charts to inflate, or a Pulumi YAML Helm resource's type.
PIN_KIND_WORDS = (
    "HelmRelease", "OCIRepository", "argoproj.io", "releases:", "HelmChart", kustomizehelm.KEY,
    sveltos.API_GROUP, *clusteraddons.API_GROUPS, pulumiyaml.TYPE_PREFIX,
)  # fmt: skip


def _names_a_pin(text: str, charts: frozenset[str]) -> bool:
    if not any(word in text for word in PIN_KIND_WORDS):
        return False
    if kustomizehelm.KEY in text:  # its entries name their charts as list entries do
        return names_regex(charts).search(text) is not None if charts else False
    return bool(charts) and named_outside_lists(text, charts)


# A list entry's name alone on its line (``- name: bp-flux``; a comment may follow): how
# ``dependsOn`` names the releases a release waits for, in every wrapper's HelmRelease. No pin
# is there: a chart is named by ``chart:`` (or a path ending in it), an OCI URL's last segment,
# a version patch by ``metadata.name`` or a patch target's ``name`` (never a list entry); a
# scalar that runs over such a line holds ``name: `` before the name, so it neither equals a
# chart nor ends in ``/chart``. An anchor, a tag, a flow collection or anything else on the
# line fails the match. Every mention is such an entry's name when the mentions and the
# entries count the same: each entry holds one mention, as no name of ``_LISTABLE``
# characters reaches past the blank, quote, ``#`` or line end around it (any other name: every
# mention counts). Two scans in C, no Python loop per mention.
_LISTED = r"[ \t]*-[ \t]+name:[ \t]+(['\"]?)(?:{names})\1[ \t]*(?:#[^\n]*)?\r?$"
_LISTABLE = re.compile(r"[A-Za-z0-9._-]+")


def named_outside_lists(text: str, charts: frozenset[str]) -> bool:
    """Whether ``text`` names one of ``charts`` anywhere but as a list entry's name."""
    mentions = len(names_regex(charts).findall(text))
    listed = _listed(charts)
    return mentions > 0 and (listed is None or mentions != _entries(text, listed))


def named_outside_lists_bytes(raw: bytes, charts: frozenset[str]) -> bool:
    """``named_outside_lists`` of a file's bytes."""
    mentions = len(names_regex_bytes(charts).findall(raw))
    listed = _listed_bytes(charts)
    return mentions > 0 and (listed is None or mentions != _entries(raw, listed))


def _entries(text: AnyStr, listed: tuple[re.Pattern[AnyStr], re.Pattern[AnyStr]]) -> int:
    later, first = listed
    return len(later.findall(text)) + (first.match(text) is not None)


def listable(charts: frozenset[str]) -> bool:
    """Whether every name is of ``_LISTABLE`` characters (no mention reaches past it)."""
    return _listed(charts) is not None


@lru_cache(maxsize=8)
def _listed(charts: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The list entries naming one of ``charts``: those after a line break (led by it, the
    regex engine skips from line break to line break, 3x faster than trying every offset for
    a line start) and the first line's. None when a chart's name has a character outside
    ``_LISTABLE`` (its mention might then reach past the entry's name)."""
    if not all(_LISTABLE.fullmatch(c) for c in charts):
        return None
    entry = _LISTED.format(names=names_regex(charts).pattern)
    return re.compile("\n" + entry, re.MULTILINE), re.compile(entry, re.MULTILINE)


@lru_cache(maxsize=8)
def _listed_bytes(charts: frozenset[str]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]] | None:
    listed = _listed(charts)
    if listed is None:
        return None
    return re.compile(listed[0].pattern.encode(), re.MULTILINE), re.compile(
        listed[1].pattern.encode(), re.MULTILINE
    )


# The double-quoted escapes that can spell a letter (``\x52``, ``\u0052``, ``\U00000052``)
# and an escaped line break, which joins the text on either side (``Helm\<newline> Release``).
_LETTER_ESCAPE = re.compile(
    r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|\r?\n[ \t]*)"
)


def spelled_out(text: str) -> str:
    """``text`` with those escapes read as what they spell, wherever they are: a kind or a
    chart name written through escapes appears in it. Reading a backslash that is not in a
    double-quoted scalar this way only lets more text through to the parser, never less."""
    return _LETTER_ESCAPE.sub(_spelled, text)


def _spelled(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2) or match.group(3)
    if code is None:
        return ""  # an escaped line break
    point = int(code, 16)
    return chr(point) if point <= 0x10FFFF else ""


@lru_cache(maxsize=8)
def names_regex(charts: frozenset[str]) -> re.Pattern[str]:
    """One search for any of ``charts``: a repo has dozens of charts, and one regex scan of a
    file costs what one ``in`` test does (50 ``in`` tests over a fleet cost 1.5 s)."""
    return re.compile("|".join(re.escape(n) for n in sorted(charts, key=len, reverse=True)))


@lru_cache(maxsize=8)
def names_regex_bytes(charts: frozenset[str]) -> re.Pattern[bytes]:
    """``names_regex`` for raw file bytes."""
    return re.compile(names_regex(charts).pattern.encode())


def _scan_document(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], scan: ClusterScan
) -> None:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    if kind == "HelmRelease":
        _helmrelease(source, index, root, charts, scan)
    elif kind == "OCIRepository":
        scan.oci_repositories.append(_oci(source, index, root))
    elif kind == "Kustomization":
        _kustomization(source, root, scan)
        _helm_charts(source, index, root, charts, scan)
    elif kind is None and kustomizehelm.holds_charts(root, kind):  # (its kind is optional)
        _helm_charts(source, index, root, charts, scan)
    elif kind is None and yamldoc.is_sequence(yamldoc.child(root, "releases")):
        scan.sites += helmfile.releases(source, index, root, charts)  # helmfile.yaml
    elif helmchart.holds_chart(root, kind):
        site = helmchart.chart_pin(source, index, root, charts, object_name(root))
        if site is not None:
            (scan.unpinned if unpinned(site) else scan.sites).append(site)
    elif sveltos.holds_charts(root, kind):
        for site in sveltos.chart_pins(source, index, root, charts, f"{kind} {object_name(root)}"):
            (scan.unpinned if unpinned(site) else scan.sites).append(site)
    elif (installer := clusteraddons.installer_of(root, kind)) is not None:
        owner = f"{kind} {object_name(root)}"
        site = clusteraddons.chart_pin(source, index, root, installer, charts, owner)
        if site is not None:
            (scan.unpinned if unpinned(site) else scan.sites).append(site)
    elif argocd.holds_application(root, kind):
        sites, missing = argocd.helm_sources(source, index, root, charts, object_name(root))
        scan.sites += sites
        scan.unpinned += missing
    elif pulumiyaml.holds_resources(root, kind):
        for site in pulumiyaml.chart_pins(source, index, root, charts):
            (scan.unpinned if unpinned(site) else scan.sites).append(site)
    elif kind is None and writefiles.holds_files(root):  # a cloud-config: k3s manifests
        for site in writefiles.written_pins(source, root, charts):
            (scan.unpinned if unpinned(site) else scan.sites).append(site)


def _helmrelease(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], scan: ClusterScan
) -> None:
    owner = object_name(root)
    spec = yamldoc.child(root, "spec")
    chart = yamldoc.text_of(yamldoc.walk(spec, ("chart", "spec", "chart")))
    node = yamldoc.walk(root, _CHART_VERSION)
    scalar = yamldoc.located(node, index, _CHART_VERSION)
    if scalar is None or yamldoc.is_null(node):
        if chart in charts and _versioned_source(spec) and _whole_or_collection(spec):
            scan.unpinned.append(_unpinned(source, index, root, chart, owner))
        elif scalar is not None:  # a null one: a patch that deletes the version
            _patch(root, _unpinned(source, index, root, "", owner), scan)
        return
    if chart in charts:
        scan.sites.append(
            yaml_site(Role.HELMRELEASE, source.rel, scalar, subject=chart, owner=owner)
        )
        return
    _patch(root, yaml_site(Role.HELMRELEASE, source.rel, scalar, subject="", owner=owner), scan)


def _patch(root: Any, site: PinSite, scan: ClusterScan) -> None:
    """``site`` as a version patch, when the document is one (``_patched_release``): a null
    one removes the version (a strategic merge patch deletes a key set to null)."""
    target = _patched_release(root)
    if target is not None:
        scan.patches.append(VersionPatch(*target, site))


_CHART_VERSION: yamldoc.YamlPath = ("spec", "chart", "spec", "version")


def _versioned_source(spec: Any) -> bool:
    """Whether the chart comes from a source that reads ``version`` (a HelmRepository, the
    default kind): from a GitRepository or Bucket Flux ignores it and takes the chart at
    the source's revision, so no version there is no pin missing."""
    kind = yamldoc.text_of(yamldoc.walk(spec, ("chart", "spec", "sourceRef", "kind")))
    return kind not in ("GitRepository", "Bucket")


def _whole_or_collection(spec: Any) -> bool:
    """A version that is a collection (Flux rejects it, patched or not), or none in a whole
    HelmRelease: one with ``spec.interval``, which the API requires. A document without it
    is a kustomize patch (of the source, the values), which leaves the version as it was."""
    version = yamldoc.walk(spec, ("chart", "spec", "version"))
    return version is not None or yamldoc.child(spec, "interval") is not None


def _unpinned(source: SourceFile, index: int, root: Any, chart: str, owner: str) -> PinSite:
    """A release of ``chart`` whose version is missing (at its ``chart:`` line, where one
    belongs: Flux then installs the newest chart), null (the same) or no scalar (Flux
    rejects the object)."""
    node = yamldoc.walk(root, _CHART_VERSION)
    value = NO_VERSION
    if node is None:
        node = yamldoc.walk(root, ("spec", "chart", "spec", "chart"))
    else:  # named at its key: a block collection starts on the line after it
        if yamldoc.is_null(node):
            value = NULL_VERSION
        else:
            value = NOT_A_LIST if yamldoc.is_sequence(node) else NOT_A_MAPPING
        held = yamldoc.walk(root, _CHART_VERSION[:-1])
        node = next((k for k, v in held.value if v is node), node)
    mark = node.start_mark
    return PinSite(Role.HELMRELEASE, source.rel, mark.line + 1, mark.column + 1, value, chart,
                   owner, mark.index, mark.index, index, _CHART_VERSION)  # fmt: skip


def _patched_release(doc: Any) -> tuple[str, str] | None:
    """(namespace, name) of the release a HelmRelease document patches: it sets
    ``spec.chart.spec.version`` and names no chart. An empty namespace matches any."""
    spec = yamldoc.walk(doc, ("spec", "chart", "spec"))
    meta = yamldoc.child(doc, "metadata")
    name = yamldoc.text_of(yamldoc.child(meta, "name")) or ""
    if not name or yamldoc.child(spec, "chart") is not None:
        return None
    if not yamldoc.is_scalar(yamldoc.child(spec, "version")):
        return None
    return yamldoc.text_of(yamldoc.child(meta, "namespace")) or "", name


def _oci(source: SourceFile, index: int, root: Any) -> OciRepository:
    key = object_name(root)
    url = yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or ""
    chart = url.rstrip("/").rsplit("/", 1)[-1]
    scalar = yamldoc.scalar_at(root, index, ("spec", "ref", "tag"))
    tag = yaml_site(Role.OCI_TAG, source.rel, scalar, subject=chart, owner=key) if scalar else None
    return OciRepository(key, chart, tag)


def substitute_sites(source: SourceFile, wanted: dict[str, str]) -> list[tuple[PinSite, str]]:
    """``spec.postBuild.substitute.VAR`` of Flux Kustomizations, for the variables wanted
    (variable -> the chart whose HelmRelease version it sets), each with its Kustomization's
    ``spec.path`` (the manifests it renders; "" when it has none)."""
    sites = []
    for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
        if yamldoc.text_of(yamldoc.child(root, "kind")) != "Kustomization":
            continue
        owner = object_name(root)
        path = yamldoc.text_of(yamldoc.walk(root, ("spec", "path"))) or ""
        for variable in yamldoc.keys(yamldoc.walk(root, ("spec", "postBuild", "substitute"))):
            scalar = yamldoc.scalar_at(root, index, ("spec", "postBuild", "substitute", variable))
            if variable in wanted and scalar is not None:
                subject = wanted[variable]
                site = yaml_site(Role.SUBSTITUTE, source.rel, scalar, subject=subject, owner=owner)
                sites.append((site, path))
    return sites


# --- inline kustomize patches ------------------------------------------------------------

# Where a Kustomization lists its patches: kustomize's top level, or a Flux Kustomization's spec.
_PATCH_LISTS: tuple[yamldoc.YamlPath, ...] = (("patches",), ("spec", "patches"))
_VERSION_PATH = "/spec/chart/spec/version"


def _helm_charts(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], scan: ClusterScan
) -> None:
    """A kustomization's ``helmCharts:`` entries of ``charts`` (kustomize renders them)."""
    if kustomizehelm.holds_charts(root, yamldoc.text_of(yamldoc.child(root, "kind"))):
        for site in kustomizehelm.chart_pins(source, index, root, charts):
            (scan.unpinned if unpinned(site) else scan.sites).append(site)


def _kustomization(source: SourceFile, root: Any, scan: ClusterScan) -> None:
    """``patches[].patch`` strings (literal blocks) that set a HelmRelease's chart version,
    as a JSON6902 ``replace``/``add`` of /spec/chart/spec/version (or a ``test`` of it, which
    must follow, or the patch fails to apply) or a strategic-merge
    HelmRelease; each is a text pin-site at the version's place in this file."""
    for path in _PATCH_LISTS:
        entries = yamldoc.walk(root, path)
        if not yamldoc.is_sequence(entries):
            continue
        for _, entry in yamldoc.items(entries):
            body = yamldoc.child(entry, "patch")
            if yamldoc.is_scalar(body) and getattr(body, "style", None) == "|":
                target = yamldoc.child(entry, "target")
                for namespace, name, scalar in _patched_versions(source, body, target):
                    site = _site_in_block(source, body, scalar, f"{namespace}/{name}".lstrip("/"))
                    if site is not None:
                        scan.patches.append(VersionPatch(namespace, name, site))


def _patched_versions(source: SourceFile, body: Any, target: Any) -> list[tuple[str, str, Any]]:
    """(namespace, name, version scalar of the patch text) for each HelmRelease version set."""
    try:
        docs = yamldoc.compose_documents(body.value, source.rel)
    except UsageError:
        return []  # kustomize cannot apply it either; nothing here to move
    found = []
    for doc in docs:
        if (
            yamldoc.is_sequence(doc)
            and yamldoc.text_of(yamldoc.child(target, "kind")) == "HelmRelease"
        ):
            name = yamldoc.text_of(yamldoc.child(target, "name")) or ""
            namespace = yamldoc.text_of(yamldoc.child(target, "namespace")) or ""
            for _, op in yamldoc.items(doc):
                value = yamldoc.child(op, "value")
                if (
                    yamldoc.text_of(yamldoc.child(op, "op")) in ("replace", "add", "test")
                    and yamldoc.text_of(yamldoc.child(op, "path")) == _VERSION_PATH
                    and yamldoc.is_scalar(value)
                    and name
                ):
                    found.append((namespace, name, value))
        elif yamldoc.text_of(yamldoc.child(doc, "kind")) == "HelmRelease":
            patched = _patched_release(doc)
            if patched is not None:
                version = yamldoc.walk(doc, ("spec", "chart", "spec", "version"))
                found.append((*patched, version))
    return found


def _site_in_block(source: SourceFile, body: Any, scalar: Any, owner: str) -> PinSite | None:
    """The version's place in the file. A literal block's lines are the file's lines after
    its ``|`` indicator, each less the block's indentation: that is checked for every line
    of the block, so anything else (properties before the indicator, a lone CR, an
    indentation indicator that leaves spaces in the content) makes no site, never a wrong one.
    A file's lines end in CR LF, CR or LF; YAML reads each as one line break (the block's
    value has LF only), so no line's break is part of its content."""
    text, value = source.text, scalar.value
    indicator = body.start_mark.index
    if not text.startswith("|", indicator) or "\r" in body.value:
        return None
    first = source.next_line(indicator)  # the line after the indicator
    content = body.value.split("\n")
    if body.value.endswith("\n"):
        content.pop()  # the final line break ends the last line; it starts no new one
    indent = _block_indent(source, first)
    if indent is None:
        return None
    starts, at = [], first
    for line in content:
        expected = " " * indent + line if line else ""
        if text[at : source.line_end(at)].rstrip(" ") != expected.rstrip(" "):
            return None
        starts.append(at)
        at = source.next_line(at)
    k, column = scalar.start_mark.line, scalar.start_mark.column
    if k >= len(starts):
        return None
    offset = starts[k] + indent + column
    if text.startswith(("'", '"'), offset):
        offset += 1
    if not value or text[offset : offset + len(value)] != value:
        return None
    return source.text_site(Role.HELMRELEASE, offset, value, "", owner)


def _block_indent(source: SourceFile, first: int) -> int | None:
    """The indentation of a block's first non-blank line (None if the block has none)."""
    at = first
    while at < len(source.text):
        line = source.text[at : source.line_end(at)]
        if line.strip(" "):
            return len(line) - len(line.lstrip(" "))
        at = source.next_line(at)
    return None
