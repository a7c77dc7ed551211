"""The HelmRelease pins of the cluster files: each file read once, and only the documents that
may pin a chart of this repository parsed (cheap byte tests first, ``sites.helmrelease``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fluxbump import progress
from fluxbump.errors import UsageError
from fluxbump.pins import (
    NO_VERSION,
    NOT_A_LIST,
    NULL_VERSION,
    PinSite,
    Role,
    Violation,
    site_of,
    unpinned,
)
from fluxbump.scan.apiversions import ApiVersions, api_versions
from fluxbump.scan.repeated import Repeated, Yield
from fluxbump.scan.sites import (
    bootstrap,
    controllerimages,
    fluxcli,
    fluxinstance,
    fluxmanifests,
    helmfile,
    kustomizehelm,
    ocireferences,
    operator,
    rendered,
)
from fluxbump.scan.sites.bootstrap import find_bootstrap_header, may_hold_bootstrap_header
from fluxbump.scan.sites.controllerimages import find_controller_tags, may_hold_controller_tag
from fluxbump.scan.sites.fluxcli import find_written_cli_pins, may_hold_written_cli_pin
from fluxbump.scan.sites.fluxinstance import find_flux_instance, may_hold_instance
from fluxbump.scan.sites.fluxmanifests import find_flux_manifests, may_hold_flux_manifests
from fluxbump.scan.sites.helmrelease import (
    PIN_KIND_WORDS,
    ClusterScan,
    VersionPatch,
    named_outside_lists_bytes,
    names_regex_bytes,
    scan_manifest,
    spelled_out,
)
from fluxbump.scan.sites.ocireferences import chart_reference_notes, may_hold_chart_reference
from fluxbump.scan.sites.operator import find_operator_charts, may_hold_operator_chart
from fluxbump.scan.sites.rendered import may_hold_render, render_notes
from fluxbump.scan.sources import (
    LINE_START,
    READ_LIMIT,
    JoinedSource,
    ReceivedSource,
    SourceFile,
    as_utf8,
    read_raw,
    source_of,
    wide_encoding,
)
from fluxbump.yamlio import yamldoc

# Marks a patch's owner in messages ("flux-system/bp-flux (patch)"); a patch is no release.
PATCH = " (patch)"


@dataclass(frozen=True)
class Unreadable:
    """A manifest that could not be read, and the charts its text names: the components of
    those charts cannot be proven, every other component is unaffected."""

    file: str
    line: int
    reason: str
    charts: frozenset[str]

    def problem(self, component: str) -> Violation:
        return Violation(self.file, self.line, f"{self.reason}; {component} is unproven")


@dataclass
class ScannedFiles:
    """What one pass over some cluster files found (picklable: a forked child returns it)."""

    sources: dict[str, SourceFile] = field(default_factory=dict)  # the candidate files
    sites: list[PinSite] = field(default_factory=list)
    substituting: list[tuple[str, bytes]] = field(default_factory=list)  # postBuild files
    patches: list[VersionPatch] = field(default_factory=list)  # matched to releases later
    unreadable: list[Unreadable] = field(default_factory=list)
    # flux-operator's pins: FluxInstance Flux releases, and the operator charts' versions
    instances: list[PinSite] = field(default_factory=list)
    # The files holding them: kept apart from ``sources`` (the HelmRelease pass's candidates,
    # which the release-name pass skips); the survey joins them after that pass.
    instance_sources: dict[str, SourceFile] = field(default_factory=dict)
    # Each readable file's Flux API versions (``scan.apiversions``), for ``crds/migrate.py``.
    api_versions: dict[str, ApiVersions] = field(default_factory=dict)
    # The warnings noted while reading a file (``yamldoc.warnings_noted``), by file: a warm
    # run says them again for the files it takes from the cache (``scan/cache.py``).
    warnings: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # The files holding a HelmRepository or OCIRepository (``scan/chartsources.py`` reads
    # them, the only files it needs: a fleet's other files are not read again).
    chart_sources: list[str] = field(default_factory=list)

    # A forked child sends this through a pipe: tens of thousands of files and sites, pickled
    # as plain tuples (a dataclass pickles as a class and a dict each, which cost the parent
    # seconds to load) and the text left for the parent to decode again from the bytes.
    def __getstate__(self) -> object:
        return (
            _files_out(self.sources),
            [astuple_of(site) for site in self.sites],
            self.substituting,
            self.patches,
            self.unreadable,
            [astuple_of(site) for site in self.instances],
            _files_out(self.instance_sources),
            self.api_versions,
            self.warnings,
            self.chart_sources,
        )

    def __setstate__(self, state: Any) -> None:
        sources, sites, self.substituting, self.patches, self.unreadable = state[:5]
        instances, held, self.api_versions, self.warnings, self.chart_sources = state[5:]
        self.sources, self.instance_sources = _files_in(sources), _files_in(held)
        self.sites = [site_of(fields) for fields in sites]
        self.instances = [site_of(fields) for fields in instances]


def _files_out(
    sources: dict[str, SourceFile],
) -> list[tuple[str, bytes] | tuple[str, bytes, bytes]]:
    """Each file's bytes; a copy's as its header and its shared body (sent once)."""
    return [
        (s.rel, s.header, s.body) if isinstance(s, JoinedSource) else (s.rel, s.raw)
        for s in sources.values()
    ]


def _files_in(files: list[tuple[str, bytes] | tuple[str, bytes, bytes]]) -> dict[str, SourceFile]:
    return {f[0]: JoinedSource(*f) if len(f) == 3 else ReceivedSource(*f) for f in files}


def astuple_of(site: PinSite) -> tuple[Any, ...]:
    """A PinSite's fields in order (``PinSite(*fields)`` builds it again): not
    ``dataclasses.astuple``, which deep-copies every field."""
    return (site.role, site.file, site.line, site.column, site.value, site.subject, site.owner,
            site.start, site.end, site.doc_index, site.path)  # fmt: skip


def scan_files(
    root: str,
    sources: dict[str, SourceFile],
    names: frozenset[str],
    files: Sequence[str],
    *,
    known: frozenset[str] | None = None,
    api: bool = True,
    boot: Mapping[str, frozenset[str]] | None = None,
) -> ScannedFiles:
    """Read each cluster file once; parse only the documents that may pin one of ``names``.
    ``known`` (default ``names``): every chart, which an unreadable file is blamed on.
    ``api``: find each file's Flux API versions too (only a check of Flux reads them).
    ``boot``: charts whose HelmCharts alone are pins (``_boot_pins``), each with the charts
    a file of it that cannot be read is blamed on."""
    known = names if known is None else known
    out = ScannedFiles()
    repeated = Repeated(names)
    booted = frozenset(boot or ())
    for rel in files:
        progress.step(progress.SCANNED)
        noted = yamldoc.warnings_noted()
        failed = len(out.unreadable)
        raw = _read_file(root, sources.get(rel), rel, names, known, api, repeated, out)
        # (a file unread is named once; a plain copy holds no HelmChart)
        if raw is not None and boot and len(out.unreadable) == failed and _may_boot(raw, booted):
            _boot_pins(rel, raw, out.sources.get(rel, sources.get(rel)), boot, out)
        if yamldoc.warnings_noted() != noted:  # rare: a key twice, a write_files content
            out.warnings.append((rel, tuple(yamldoc.warnings_since(noted))))
    return out


def _read_file(
    root: str,
    source: SourceFile | None,
    rel: str,
    names: frozenset[str],
    known: frozenset[str],
    api: bool,
    repeated: Repeated,
    out: ScannedFiles,
) -> bytes | None:
    """``scan_files`` of one file (``source``: its text, when read already); its bytes, or
    None for a plain copy (``_plain_copy``), answered whole."""
    try:
        raw = source.raw if source is not None else read_raw(root, rel, limit=READ_LIMIT)
    except UsageError as exc:  # too large to be a manifest: costs what it names, if read
        out.unreadable.append(_unreadable(rel, b"", exc.message, known))
        return b""
    split = repeated.find(raw) if source is None else None
    if split is not None and _plain_copy(raw, *split):
        cut, _, found = split
        assert found is not None
        _answer(rel, raw, cut, found, api, out)
        return None
    if b"postBuild" in raw:
        out.substituting.append((rel, raw))
    if _may_hold_release_pins(raw):
        if wide_encoding(raw) is not None:  # UTF-16/32: named as not read, never skipped
            out.unreadable.append(_unreadable(rel, raw, _not_text(rel, raw), known))
            return raw
        try:
            source = _instances(rel, raw, source, out)
        except UsageError as exc:  # it names no chart: the HelmRelease pass would not
            out.unreadable.append(_unreadable(rel, raw, exc.message, known))
            return raw
    # (a file read as text, before or by ``_instances``, is scanned whole: never a copy)
    if split is None or source is not None:
        _scan_file(rel, raw, source, names, known, api, out)
        return raw
    cut, body, found = split
    if found is None:
        found = _scan_once(rel, raw, cut, body, names, known, api, out)
        if found is not None:
            repeated.remember(body, found)
    else:
        _answer(rel, raw, cut, found, api, out)
    return raw


def _scan_file(
    rel: str,
    raw: bytes,
    source: SourceFile | None,
    names: frozenset[str],
    known: frozenset[str],
    api: bool,
    out: ScannedFiles,
) -> None:
    """One file's API versions and pins (``source``: its text, when read already), and
    whether it holds a chart source."""
    if CHART_SOURCE.search(raw) is not None:
        out.chart_sources.append(rel)
    named = api_versions(raw) if api else None
    if named is not None:
        out.api_versions[rel] = named
    if not _may_pin(raw, names):
        return
    try:
        if source is None:
            source = source_of(rel, raw)
        manifest = _scan_manifest(source, names)
    except UsageError as exc:  # one bad file costs the components it names, no more
        out.unreadable.append(_unreadable(rel, raw, exc.message, known))
        return
    if manifest is None:
        return
    out.sources.setdefault(rel, source)
    out.sites += manifest.sites
    out.sites += [
        r.tag for r in manifest.oci_repositories if r.chart in names and r.tag is not None
    ]
    out.patches += manifest.patches
    out.sites += manifest.unpinned


def _scan_once(
    rel: str,
    raw: bytes,
    cut: int,
    body: bytes,
    names: frozenset[str],
    known: frozenset[str],
    api: bool,
    out: ScannedFiles,
) -> Yield | None:
    """``_scan_file`` of a file whose body is new, and what it yielded if that can answer
    the next file with the same body (``scan.repeated``): None when its scan warned, failed,
    or found a Go template (``{{`` in a header would then matter)."""
    sites, patches, failed = len(out.sites), len(out.patches), len(out.unreadable)
    warned = yamldoc.warnings_noted()
    _scan_file(rel, raw, None, names, known, api, out)
    candidate = rel in out.sources
    if len(out.unreadable) != failed or yamldoc.warnings_noted() != warned:
        return None
    if not candidate and _may_pin(raw, names):
        return None  # a Go template that is no YAML
    named = out.api_versions.get(rel) if api else None
    lines = raw.count(b"\n", 0, cut)
    kept = tuple(out.sites[sites:]), tuple(out.patches[patches:])
    source = bool(out.chart_sources) and out.chart_sources[-1] == rel
    return Yield(cut, lines, body, named, candidate, *kept, plain=_plain(body), source=source)


def _boot_pins(
    rel: str,
    raw: bytes,
    source: SourceFile | None,
    boot: Mapping[str, frozenset[str]],
    out: ScannedFiles,
) -> None:
    """The HelmCharts of ``boot`` charts in one file that may hold one (``_may_boot``):
    another wrapper's upstream, whose HelmReleases are no pin of it. A file that does not
    parse is charged to the wrappers of those it names (their boot install is unproven)."""
    charts = frozenset(boot)
    try:
        source = source if source is not None else source_of(rel, raw)
        manifest = _scan_manifest(source, charts)
    except UsageError as exc:
        unread = _unreadable(rel, raw, exc.message, charts)
        wrappers = frozenset(w for chart in unread.charts for w in boot[chart])
        out.unreadable.append(replace(unread, charts=wrappers))
        return
    found = [] if manifest is None else [*manifest.sites, *manifest.unpinned]
    sites = [s for s in found if s.role is Role.HELMCHART]  # (not a HelmRelease of it)
    if sites:
        out.sources.setdefault(rel, source)
        out.sites += sites


def _may_boot(raw: bytes, charts: frozenset[str]) -> bool:
    """Whether a file may hold a HelmChart of ``charts`` (k3s or RKE2 install it at boot; a
    cloud-config's ``write_files`` may hold one too). The kind is tested before the names:
    each HelmRelease of a wrapper names its upstream (``bp-cilium``), so the names alone
    would let every cluster file of a fleet through to the parser."""
    return b"HelmChart" in as_utf8(raw) and _may_pin(raw, charts)


def _answer(rel: str, raw: bytes, cut: int, found: Yield, api: bool, out: ScannedFiles) -> None:
    """What ``found`` yielded, as it is in ``rel``: the same bytes after a header of ``cut``
    (kept as that header and the body, decoded when first used: the same body decoded, so
    this one decodes too)."""
    if api and found.api is not None:
        out.api_versions[rel] = found.api
    if found.source:
        out.chart_sources.append(rel)
    if not found.candidate:
        return
    out.sources.setdefault(rel, JoinedSource(rel, raw[:cut], found.body))
    sites, patches = found.moved(rel, cut, raw.count(b"\n", 0, cut))
    out.sites += sites
    out.patches += patches


# A HelmRepository or OCIRepository: its kind at a document's top level (a HelmRelease's
# ``sourceRef`` kind is indented). A copy's header of comment lines holds none.
CHART_SOURCE = re.compile(rb"^(?:\xef\xbb\xbf)?kind:[ \t]*[\"']?(?:Helm|OCI)Repository\b", re.M)


# Each test of ``_may_hold_release_pins`` needs one of these in the file (its module's
# ``NEEDED``): most cluster files hold none, and five substring searches cost a fifth of the
# four tests' calls and patterns (1.1 against 5.9 µs for a fleet's HelmRelease file).
_RELEASE_NEEDLES = tuple(
    dict.fromkeys(
        (
            *fluxinstance.NEEDED,
            *operator.NEEDED,
            *fluxmanifests.NEEDED,
            *fluxcli.NEEDED,
            *bootstrap.NEEDED,
            *rendered.NEEDED,
            *ocireferences.NEEDED,
            *controllerimages.NEEDED,
        )
    )
)


def _may_hold_release_pins(raw: bytes) -> bool:
    """Whether a FluxInstance, a flux-manifests or flux2 source, an operator chart, the
    Flux CLI or ``flux install --export``'s header may be pinned here, or a Flux chart's
    render or OCI reference be named; UTF-16/32 text is tested as what it spells (its bytes never match)."""
    raw = as_utf8(raw)
    for needle in _RELEASE_NEEDLES:  # (a loop: a generator for ``any`` costs a microsecond)
        if needle in raw:
            break
    else:
        return False
    operator = may_hold_instance(raw) or may_hold_operator_chart(raw)
    written = may_hold_written_cli_pin(raw) or may_hold_bootstrap_header(raw)
    named = may_hold_render(raw) or may_hold_chart_reference(raw)
    return operator or may_hold_flux_manifests(raw) or written or named


# What the tests ``_read_file`` and ``scan_files`` run on a whole file look for (besides the
# kinds, escapes and braces no copy's header holds: ``scan.repeated``), as one search of the
# header (1.1 µs, against 1.5 for a loop of ``in`` tests over its copy).
_WHOLE_FILE_NEEDLES = re.compile(b"|".join(map(re.escape, (b"postBuild", *_RELEASE_NEEDLES))))


def _plain_copy(raw: bytes, cut: int, body: bytes, found: Yield | None) -> bool:
    """Whether ``raw`` is a copy of a body met before on which none of the whole-file tests
    (postBuild values, Flux release pins, boot HelmCharts) held (``Yield.plain``), under a
    header holding nothing they look for: each test would answer as for that body, so the
    copy is answered without them (a fleet's copies are most of its files)."""
    if found is None or not found.plain:
        return False
    return _WHOLE_FILE_NEEDLES.search(raw, 0, cut) is None


def _plain(body: bytes) -> bool:
    """Whether no whole-file test holds on ``body`` (a HelmChart of any chart, a wide
    encoding: not plain, whatever ``boot`` is)."""
    if wide_encoding(body) is not None or b"HelmChart" in body:
        return False
    return b"postBuild" not in body and not _may_hold_release_pins(body)


def _not_text(rel: str, raw: bytes) -> str:
    """Why ``raw`` is not read: the decoding error's own line."""
    try:
        source_of(rel, raw)
    except UsageError as exc:
        return exc.message
    return f"{rel}:1: not read"


def _instances(
    rel: str, raw: bytes, source: SourceFile | None, out: ScannedFiles
) -> SourceFile | None:
    """FluxInstance versions, flux-manifests tags, Flux CLI pins and operator chart pins of
    one file. One that may hold a FluxInstance or flux-manifests source and does not decode
    or parse raises: it pins the release unseen, and names no chart for the HelmRelease pass
    to report it by (any other is that pass's; a Go template is not a manifest, though its
    ``helm install`` lines are pins)."""
    releasing = not _go_template(raw) and (may_hold_instance(raw) or may_hold_flux_manifests(raw))
    try:
        source = source if source is not None else source_of(rel, raw)
    except UsageError:
        if releasing:
            raise
        return source
    found = find_operator_charts(source)
    try:
        if may_hold_instance(raw):
            found = sorted(find_flux_instance(source) + found, key=lambda s: s.start)
        if may_hold_flux_manifests(raw):
            found = sorted(find_flux_manifests(source) + found, key=lambda s: s.start)
        if may_hold_written_cli_pin(raw):
            found = sorted(find_written_cli_pins(source) + found, key=lambda s: s.start)
        if may_hold_controller_tag(raw):
            found = sorted(find_controller_tags(source) + found, key=lambda s: s.start)
        if may_hold_bootstrap_header(raw):  # (one named gotk-components.yaml: found twice)
            found = sorted(find_bootstrap_header(source) + found, key=lambda s: s.start)
        if may_hold_render(raw):  # (noted as reading warnings: kept with the file's cache)
            exported = any(site.role is Role.BOOTSTRAP for site in found)
            yamldoc.note_warnings(render_notes(source, exported=exported))
        if may_hold_chart_reference(raw):
            yamldoc.note_warnings(chart_reference_notes(source))
    except UsageError:
        if releasing:
            raise
    if found:
        out.instance_sources[rel] = source
        out.instances += found
    return source


def patches_by_release_name(
    root: str,
    sources: dict[str, SourceFile],
    unreadable: Iterable[Unreadable],
    releases: Iterable[PinSite],
    files: Sequence[str],
    names: frozenset[str],
    known: frozenset[str] | None = None,
) -> list[VersionPatch]:
    """Patches that name neither chart but the release (``flux`` deploying ``bp-flux``):
    the first pass only parsed text naming a chart, so the files it skipped are read again
    for those release names. A layout whose releases are named after their charts pays
    nothing here. A file read here joins ``sources`` (a bump edits it from that text).
    ``known``: every chart, when the first pass looked for some (``names``) only."""
    others = frozenset({site.owner.rpartition("/")[2] for site in released(releases)} - names)
    if not others:
        return []
    skipped = known if known is not None and known != names else None
    patches: list[VersionPatch] = []
    unread = {u.file for u in unreadable}
    for rel in files:
        if rel in sources or rel in unread:
            continue  # parsed (or found unreadable) in the first pass
        raw = read_raw(root, rel, limit=READ_LIMIT)
        if _may_pin(raw, others):
            source = source_of(rel, raw)
            try:
                manifest = _scan_manifest(source, others)
            except UsageError:
                if skipped is None or not _may_pin(raw, skipped):
                    raise
                # A first pass over every chart found it unreadable and charged it to the
                # charts it names, none of them the ones scanned for: so it is here.
                continue
            found_here = manifest.patches if manifest is not None else []
            if found_here:
                sources[rel] = source
                patches += found_here
    return patches


def released(releases: Iterable[PinSite]) -> Iterator[PinSite]:
    """The HelmRelease pins of releases themselves (not of patches)."""
    return (s for s in releases if s.role is Role.HELMRELEASE and not s.owner.endswith(PATCH))


def pinned_releases(
    sites: list[PinSite], versions: Mapping[str, str]
) -> tuple[list[PinSite], list[Violation]]:
    """The releases with a version to check and edit, and a problem for each one without
    (``pins.unpinned``) that no version patch pins: a kustomize base often names the chart
    and leaves the version to its overlays' patches. ``versions``: chart -> its version
    here, named as the one to write."""
    if not any(unpinned(s) for s in sites):
        return sites, []
    patched = {s.owner.removesuffix(PATCH) for s in sites if s.owner.endswith(PATCH)}
    problems = [
        _unpinned_problem(s, versions.get(s.subject, NO_PIN))
        for s in sites
        if unpinned(s) and s.owner not in patched and s.owner.rpartition("/")[2] not in patched
    ]
    return [s for s in sites if not unpinned(s)], problems


# The version to write when the repository pins the chart nowhere exactly.
NO_PIN = "X.Y.Z"


# How each installer with no version is worded: (what the site lacks, what then installs the
# newest chart, the text to add, the owner's kind).
_UNVERSIONED = {
    Role.TERRAFORM_HELM: (  # (``terraform.block_pins``: no version at all)
        "deploys {chart} with no version", "the Helm provider", "'version = \"{version}\"' to it", ""
    ),
    Role.HELM_COMMAND: (  # (``cloudinit.unversioned_helm_installs``)
        "of {chart} with no --version", "Helm", "'--version {version}'", ""
    ),
    Role.KUSTOMIZE_HELM: (  # (``kustomizehelm.chart_pins``)
        "renders {chart} with no version", "kustomize", "'version: {version}' to the entry", ""
    ),
    Role.HELMCHART: (  # (``helmchart.chart_pin``)
        "deploys {chart} with no spec.version", "its controller", "'version: {version}' under spec",
        "HelmChart ",
    ),
    Role.CAPI_HELM: (  # (``clusteraddons.chart_pin``: its owner names the kind)
        "installs {chart} with no spec.version", "Cluster API's Helm add-on provider",
        "'version: {version}' under spec", "",
    ),
    Role.CROSSPLANE_HELM: (
        "installs {chart} with no chart version", "Crossplane's Helm provider",
        "'version: {version}' under spec.forProvider.chart", "",
    ),
    Role.PULUMI_HELM: (  # (``pulumiyaml.chart_pins``)
        "installs {chart} with no version", "Pulumi", "'version: {version}' under properties", "",
    ),
}  # fmt: skip


# Installers that install nothing without a version (what the site lacks, the text to add):
# Argo CD's Helm source (``argocd.helm_sources``), Sveltos' profile (``sveltos.chart_pins``).
_NAMES_NONE = {
    Role.ARGO_APP: (
        "deploys {chart} with no targetRevision (of a Helm chart, the version Argo CD deploys)",
        "'targetRevision: {version}'",
    ),
    Role.SVELTOS_HELM: (
        "installs {chart} with no chartVersion, which Sveltos requires (its API rejects the "
        "profile)",
        "'chartVersion: {version}' to the entry",
    ),
}


def _unpinned_problem(site: PinSite, version: str) -> Violation:
    against = (
        "not the one this repository pins"
        if version != NO_PIN
        else "and this repository pins no exact version of it to compare"
    )
    if site.role in _UNVERSIONED:
        lacks, installer, add, kind = _UNVERSIONED[site.role]
        why = (
            f"{lacks.format(chart=site.subject)}: {installer} installs the newest "
            f"{site.subject} chart, {against}; add {add.format(version=version)}"
        )
        return Violation(site.file, site.line, f"{kind}{site.owner} {why}")
    if site.role in _NAMES_NONE:
        lacks, add = _NAMES_NONE[site.role]
        why = (
            f"{lacks.format(chart=site.subject)}: no chart version this repository pins; add "
            f"{add.format(version=version)}"
        )
        return Violation(site.file, site.line, f"{site.owner} {why}")
    write = f"'version: {version}' under spec.chart.spec"
    if site.value in (NO_VERSION, NULL_VERSION):
        none, verb = ("no", "add") if site.value == NO_VERSION else ("a null (empty)", "write")
        why = (
            f"deploys {site.subject} with {none} spec.chart.spec.version: Flux installs the "
            f"newest {site.subject} chart, {against}; {verb} {write} "
            "(a range such as '1.x' if following new charts is meant)"
        )
    else:
        shape = "a list" if site.value == NOT_A_LIST else "a mapping"
        why = (
            f"has a spec.chart.spec.version of {site.subject} that is {shape}, not a version (Flux "
            f"rejects the object); write {write}"
        )
    return Violation(site.file, site.line, f"HelmRelease {site.owner} {why}")


def join_patches(
    releases: list[PinSite], patches: list[VersionPatch], files: Sequence[str]
) -> list[PinSite]:
    """A version patch pins the chart of the HelmRelease it patches (same name; same
    namespace when the patch names one); each joins the releases in file order."""
    if not patches:
        return releases
    charts_by_name: dict[str, set[tuple[str, str]]] = {}
    for site in released(releases):
        namespace, _, name = site.owner.rpartition("/")
        charts_by_name.setdefault(name, set()).add((namespace, site.subject))
    joined = []
    for patch in patches:
        candidates = charts_by_name.get(patch.name, set())
        charts = {c for ns, c in candidates if not patch.namespace or ns == patch.namespace}
        if len(charts) == 1:  # two charts behind one name: no guess (the gate sees both)
            joined.append(replace(patch.site, subject=charts.pop(),
                                  owner=patch.site.owner + PATCH))  # fmt: skip
    if not joined:
        return releases
    order = {rel: i for i, rel in enumerate(files)}
    return sorted([*releases, *joined], key=lambda s: (order.get(s.file, -1), s.start))


# "file:line: reason" or "file: reason", as UsageError messages name a file.
_WHERE = re.compile(r"(?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<reason>.*)\Z", re.DOTALL)


def unreadable_of(rel: str, message: str, charts: frozenset[str]) -> Unreadable:
    """A file of ``charts`` (a chart's values.yaml) that could not be read: those charts'
    components are unproven, named by the file's own ``file:line: reason``."""
    return replace(_unreadable(rel, b"", message, frozenset()), charts=charts)


def _unreadable(rel: str, raw: bytes, message: str, names: frozenset[str]) -> Unreadable:
    match = _WHERE.match(message)
    reason = message.removeprefix(f"{rel}: ")
    line = 1
    if match is not None and match.group("file") == rel:
        reason, line = match.group("reason"), int(match.group("line") or 1)
    reason = reason.removesuffix("; fix the file and re-run")
    # as the candidate test reads them: a chart only in ``dependsOn`` entries is not charged
    # (a narrowed scan never parses the file for it, and must give the verdict a full one does)
    raw = as_utf8(raw)  # UTF-16/32: its charts are named in the text it spells
    texts = (raw, _spelled_out(raw)) if b"\\" in raw else (raw,)
    named = frozenset(
        n for n in names if any(named_outside_lists_bytes(t, frozenset({n})) for t in texts)
    )
    return Unreadable(rel, line, reason, named)


def _scan_manifest(source: SourceFile, names: frozenset[str]) -> ClusterScan | None:
    """The pins of one manifest file; None for a Go template that is not YAML (but for the
    releases of a helmfile's, read with its actions blanked as a ``*.yaml.gotmpl``'s)."""
    try:
        return scan_manifest(source, names)
    except UsageError:
        if not _go_template(source.raw):
            raise
    sites = helmfile.template_releases(source, names)  # a tool renders it first
    return ClusterScan(sites, []) if sites else None


def _go_template(raw: bytes) -> bool:
    """A file that is a template rather than YAML: when it does not parse, it is something a
    tool renders before Kubernetes sees it. Go's ``{{ ... }}`` actions (Helm, helmfile), or a
    FreeMarker directive on a line of its own (``<#if …>``, ``</#if>``: a platform installer's
    ``*.ftl.yaml``, whose ``<#`` lines made every chart it names unproven)."""
    return (b"{{" in raw and b"}}" in raw) or (b"<#" in raw and _FREEMARKER.search(raw) is not None)


_FREEMARKER = re.compile(LINE_START.encode() + rb"[ \t]*</?#[a-z-]")  # (CR, LF, CRLF)


def _may_pin(raw: bytes, names: frozenset[str]) -> bool:
    """The file-level form of ``helmrelease.may_pin``: most cluster files fail it unparsed."""
    if wide_encoding(raw) is not None:  # UTF-16/32: test its text; decoding it names the file
        return _may_pin(as_utf8(raw), names)
    if b"\\" in raw and _names_a_pin(_spelled_out(raw), names):
        return True
    return _names_a_pin(raw, names)


_PIN_KIND_BYTES = tuple(word.encode() for word in PIN_KIND_WORDS)


def _names_a_pin(raw: bytes, names: frozenset[str]) -> bool:
    if not any(word in raw for word in _PIN_KIND_BYTES):
        return False
    if _INFLATED in raw:  # a kustomization's helmCharts entries name charts as lists do
        return names_regex_bytes(names).search(raw) is not None if names else False
    return bool(names) and named_outside_lists_bytes(raw, names)


_INFLATED = kustomizehelm.KEY.encode()


def _spelled_out(raw: bytes) -> bytes:
    """``helmrelease.spelled_out`` of a file's bytes."""
    return spelled_out(raw.decode("utf-8", "replace")).encode("utf-8", "surrogatepass")
