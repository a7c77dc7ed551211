"""The storedVersions guard applied to a repository: which CRD facts, which transition.

The seed's cluster died because the chart's CRDs stopped serving an API version the running
Flux had stored. Only a version that was the storage version of a release the clusters ran
can be in ``status.storedVersions``; the releases they ran are the ones this repository
pinned (its git history, ``crds/history.py``). Such a drop is refused with the steps that
make it safe; a version only served is a warning. Without a history every served version
is treated as stored (the conservative rule). CRD facts come from the bundled catalog of
real flux2 releases when it knows the chart (no network), else from the chart archive
itself (cached by digest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fluxbump import versions
from fluxbump.crds.archives import fetch_chart_archive
from fluxbump.crds.definitions import Crd, CrdVersions, crd_catalog_offline, read_crds
from fluxbump.crds.drops import Drop, dropped_versions
from fluxbump.crds.history import PinHistory, manifest_installs, stored_versions
from fluxbump.errors import ResolutionError
from fluxbump.pins import PinSite, Role, Violation
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import (
    Resolution,
    carried_around,
    resolve_chart_version,
    same_minor_chart,
)
from fluxbump.scan.discover import Discovery
from fluxbump.scan.sites.writefiles import is_written
from fluxbump.scan.sources import Globs

CrdFacts = Mapping[str, CrdVersions]


def crd_facts(index: HelmIndex, chart: str, version: str, *, offline: bool) -> CrdFacts | None:
    """Served/storage versions of every CRD in one chart release; None if unknowable offline."""
    known = crd_catalog_offline(version) if chart == "flux2" else None
    if known is not None:
        return known
    try:
        archive = fetch_chart_archive(index, chart, version, offline=offline)
    except ResolutionError:
        if offline:
            return None
        raise
    notes: list[str] = []
    facts = read_crds(archive, f"{chart}-{version}.tgz", notes=notes)
    if notes:
        # A CRD left unread would pass for one the target removed, or one a running chart
        # never stored: the guard cannot judge the move without every CRD.
        raise ResolutionError(
            f"{notes[0]}; fluxbump cannot tell which API versions {chart} {version} serves "
            "(a broken or altered chart?): refusing it"
        )
    return facts


def running_charts(found: Discovery, installed: Sequence[Installed]) -> list[str]:
    """Chart versions whose CRDs the cluster may run: the pinned one and the cloud-init one
    (without a wrapper chart, the chart of each release the manifest installs pin, or the
    charts standing in for one no chart carries: ``Installed.stand_ins``)."""
    charts = [p.value for p in found.upstream_pins() if versions.is_pin(p.value)]
    for one in installed:
        charts += [one.chart] if one.chart is not None else one.stand_ins
    return list(dict.fromkeys(charts))


@dataclass(frozen=True)
class Installed:
    """An exact install pin, and the chart carrying its release; without a wrapper chart,
    when none carries it (the community chart skips some: 2.5.0, 2.7.0, 0.31.4), the chart of
    its minor line nearest to it (``resolve.same_minor_chart``), and the charts of the nearest
    releases below and above it."""

    site: PinSite
    chart: str | None
    below: str | None = None
    above: str | None = None
    line: str | None = None

    @property
    def stand_ins(self) -> list[str]:
        """The charts that judge it when none carries it: one of its minor line, which serves
        and stores what it does (Flux changes its API versions only in minor releases), else
        those around it: an API version is served for many releases, so what the two around
        it serve covers what it may have stored."""
        return _stand_ins(self.below, self.above, self.line)

    @property
    def unknown(self) -> bool:
        """Older than every release a chart carries: what its clusters store is unknown
        (``bump._guard_unknown`` refuses moving from it)."""
        return self.chart is None and self.line is None and self.below is None

    @property
    def beyond_index(self) -> bool:
        """Newer than every release of the index (which may predate it) and of a minor line
        it does not carry: not checked."""
        return self.chart is None and not self.stand_ins and self.below is not None


def installed_releases(found: Discovery, index: HelmIndex) -> list[Installed]:
    """Each exact install pin the guard judges, classified once per release it names: a
    fleet's hundreds of kustomize remotes name a few releases, and each classification reads
    the whole index (300 pins of 2.5.0: 600 of them, 25 s of a 'to')."""
    installed = []
    known: dict[str, Installed | None] = {}
    for site in _install_sites(found):
        if not versions.is_pin(site.value):
            continue
        if site.value not in known:
            known[site.value] = _classified(found, index, site)
        one = known[site.value]
        if one is not None:
            installed.append(replace(one, site=site))
    return installed


def _classified(found: Discovery, index: HelmIndex, site: PinSite) -> Installed | None:
    chart = _chart_of(found, index, site)
    if chart is not None:
        return Installed(site, chart)
    if found.component.outside_charts:  # (a cloud-init one no chart carries: the gate's)
        return Installed(site, None, *_judging(index, found.component.upstream, site.value))
    return None


def _install_sites(found: Discovery) -> list[PinSite]:
    if found.component.outside_charts:
        return manifest_installs(found)
    return found.installs[:1]


def _chart_of(found: Discovery, index: HelmIndex, site: PinSite) -> str | None:
    """The chart carrying the release ``site`` installs; None: a range, or no chart carries
    it (a cloud-init one the gate reports)."""
    if not versions.is_pin(site.value):
        return None
    try:
        return resolve_chart_version(index, site.value, found.component.upstream).chart
    except ResolutionError:
        return None


def _judging(
    index: HelmIndex, chart: str, release: str
) -> tuple[str | None, str | None, str | None]:
    """For a release no chart carries: the newest chart of the newest release before it, of
    the first after it, and of its own minor line's nearest (``Installed``'s fields)."""
    below, above = carried_around(index, chart, release)
    line = same_minor_chart(index, chart, release)
    return _chart(below), _chart(above), _chart(line)


def _chart(resolution: Resolution | None) -> str | None:
    return resolution.chart if resolution is not None else None


def _stand_ins(below: str | None, above: str | None, line: str | None) -> list[str]:
    return [line] if line else [below, above] if below and above else []


def pinned_at(found: Discovery, installed: Sequence[Installed], chart: str) -> str:
    """Where the repository pins the running chart version ``chart``: its chart pins and the
    install pins of the release it carries (the first, and how many more)."""
    sites = [p.where for p in found.upstream_pins() if versions.equal(p.value, chart)]
    sites += [one.site.where for one in installed
              if one.chart is not None and versions.equal(one.chart, chart)]  # fmt: skip
    named = list(dict.fromkeys(sites))
    return named[0] + (f" and {len(named) - 1} more" if len(named) > 1 else "") if named else ""


def install_notes(installed: Sequence[Installed], chart: str) -> list[str]:
    """What the guard says of install pins no chart carries that it does not refuse, once per
    release (a fleet's hundreds of pins of it: the first named, and how many more): one of a
    minor line a chart carries, or between two carried releases, is judged by their charts,
    one newer than the index is not checked (the index may predate it)."""
    by_release: dict[str, list[Installed]] = {}
    for one in installed:
        by_release.setdefault(one.site.value, []).append(one)
    notes = []
    for release, ones in by_release.items():
        one, more = ones[0], len(ones) - 1
        head = f"CRD guard: no {chart} chart carries Flux {release} ({one.site.where}"
        head += f" and {more} more)" if more else ")"
        if one.line is not None:
            notes.append(f"{head}: judged by the CRDs of {chart} {one.line}, of its minor line")
        elif one.stand_ins:
            notes.append(f"{head}: judged by the CRDs of the releases around it ({chart} "
                         f"{one.below} and {one.above})")  # fmt: skip
        elif one.beyond_index:
            notes.append(f"{head}, newer than every release of the index: the CRD versions its "
                         "clusters store are not checked")  # fmt: skip
    return notes


def unknown_installs(found: Discovery, index: HelmIndex) -> list[PinSite]:
    """Without a wrapper chart, each exact install pin of a release older than every one a
    chart carries (``Installed.unknown``)."""
    return [one.site for one in installed_releases(found, index) if one.unknown]


def unknown_release(sites: Sequence[PinSite], chart: str) -> str:
    """Why the guard cannot judge moving from the releases ``sites`` install (one clause per
    release, naming every site of it)."""
    by_release: dict[str, list[str]] = {}
    for site in sites:
        by_release.setdefault(site.value, []).append(site.where)
    return "; ".join(
        f"no {chart} chart carries Flux {release} ({', '.join(where)}): the CRD versions its "
        "clusters store are unknown"
        for release, where in by_release.items()
    )


def drops_between(
    index: HelmIndex, chart: str, sources: list[str], target: str, *, offline: bool
) -> tuple[list[Drop], list[str]]:
    """API versions served by any source release and not by the target; and warnings."""
    target_facts = crd_facts(index, chart, target, offline=offline)
    if target_facts is None:
        return [], [f"CRD guard skipped: no CRD facts for {chart} {target} offline"]
    drops: dict[tuple[str, str], Drop] = {}
    warnings = []
    for source in sources:
        if source == target:
            continue
        facts = crd_facts(index, chart, source, offline=offline)
        if facts is None:
            warnings.append(f"CRD guard skipped for {chart} {source}: no CRD facts offline")
            continue
        for drop in dropped_versions(facts, target_facts):
            drops.setdefault((drop.crd, drop.version), drop)
    return list(drops.values()), warnings


@dataclass(frozen=True)
class CrdComparison:
    """The CRD API versions the running charts serve that the target chart does not."""

    chart: str
    running: tuple[str, ...]
    target: str
    drops: tuple[Drop, ...]
    warnings: tuple[str, ...] = ()
    history: PinHistory | None = None  # None: no git history, every served version counts
    clusters: tuple[str, ...] = ()  # the directories whose HelmRelease deploys Flux
    migrated: bool = False  # --crds-migrated: stored objects were migrated first
    # Install pins of a release no chart carries: what their clusters store is unknown.
    unknown: tuple[PinSite, ...] = ()
    # Releases no chart carries, judged by the charts standing in for them (``Installed``).
    around: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Drop, ...]:
        """Drops the clusters may hold in status.storedVersions."""
        return tuple(d for d in self.drops if not d.served_only)

    def as_json(self) -> dict[str, Any]:
        return {
            "chart": self.chart,
            "running": list(self.running),
            "target": self.target,
            "dropped": [d.describe() for d in self.drops],
            "stored": [d.describe() for d in self.blocking],
            "served_only": [d.describe() for d in self.drops if d.served_only],
            "history": None
            if self.history is None
            else {
                "charts": list(self.history.charts),
                "commits": self.history.commits,
                "bounded": self.history.bounded,
            },
            "migrated": self.migrated,
            "safe": not self.blocking or self.migrated,
        }

    def unchecked(self) -> tuple[str, ...]:
        """``check``'s word on each release whose stored versions are unknown (``to`` refuses
        moving from one: ``bump._guard_unknown``)."""
        return tuple(
            f"CRD guard: {unknown_release([s], self.chart)}, not checked (run `flux migrate` "
            "before a minor upgrade)"
            for s in self.unknown
        )

    def summary(self) -> str:
        running = ", ".join(self.running) or "none"
        if not self.drops:
            return f"{self.chart} {running} -> {self.target}: no CRD API version dropped"
        listed = ", ".join(d.describe() for d in self.drops)
        done = "; stored objects migrated first (--crds-migrated)" if self.migrated else ""
        return f"{self.chart} {running} -> {self.target}: drops {listed}{done}"

    def steps(self) -> str:
        """What makes this transition safe, on the clusters and then here."""
        return migration_steps(self.clusters)


def migration_steps(clusters: Sequence[str]) -> str:
    """The way forward when a drop may be in status.storedVersions (one line)."""
    where = ", ".join(clusters) if clusters else "every cluster that runs Flux"
    return (
        f"steps: 1) for each cluster deploying Flux ({where}) run `flux migrate --context "
        "<that cluster's kube context>` (rewrites stored objects to the storage versions "
        "and prunes status.storedVersions); 2) re-run with --crds-migrated to record it was "
        "done (--force-unsafe-crds skips the check)"
    )


def flux_clusters(found: Discovery) -> tuple[str, ...]:
    """The directories holding a HelmRelease of the wrapper chart: the clusters to migrate."""
    wrapper = found.component.wrapper or found.component.upstream  # none: it is deployed
    excluded = Globs(found.config.exclude)
    directories = {
        s.file.rpartition("/")[0] or "."
        for s in (*found.releases, *found.direct)
        if s.role is Role.HELMRELEASE and s.subject == wrapper
    }
    return tuple(sorted(d for d in directories if not _not_a_cluster(d, excluded)))


def _not_a_cluster(directory: str, excluded: Globs) -> bool:
    """A template (``clusters/_template``: copied to make a cluster, never applied), a hidden
    directory, or one the configuration excludes runs no Flux to migrate."""
    hidden = any(part[:1] in ("_", ".") for part in directory.split("/") if part != ".")
    return hidden or excluded.match(directory) or excluded.match(directory + "/")


def compare_crds(
    found: Discovery,
    index: HelmIndex,
    target: str,
    *,
    offline: bool,
    history: PinHistory | None = None,
) -> CrdComparison:
    """What moving from the running charts (pinned and cloud-init) to ``target`` drops, each
    drop marked stored (by a release of ``history``) or served only."""
    chart = found.component.upstream
    installed = installed_releases(found, index)
    running = tuple(running_charts(found, installed))
    drops, warnings = drops_between(index, chart, list(running), target, offline=offline)
    unknown = tuple(one.site for one in installed if one.unknown)
    warnings = install_notes(installed, chart) + warnings
    around = tuple(dict.fromkeys(one.site.value for one in installed if one.stand_ins))
    if history is not None and drops:
        pinned = [*running, *history.charts]
        drops, more = _classify(drops, index, chart, pinned, history)
        warnings += more
    return CrdComparison(
        chart, running, target, tuple(drops), tuple(warnings), history, flux_clusters(found),
        unknown=unknown, around=around,
    )  # fmt: skip


def _classify(
    drops: list[Drop],
    index: HelmIndex,
    chart: str,
    pinned: list[str],
    history: PinHistory,
) -> tuple[list[Drop], list[str]]:
    """Mark each drop stored by a pinned chart (by the releases it stood in for, where no
    chart carries them: ``PinHistory.stood_in``), or served only. A pinned chart whose CRD
    facts are unknown offline leaves every drop counted as stored (the conservative rule)."""
    facts: dict[str, CrdFacts] = {}
    for version in dict.fromkeys(pinned):
        known = crd_facts(index, chart, version, offline=True)
        if known is None:
            return drops, [
                f"CRD guard: no CRD facts for pinned {chart} {version}: every served version "
                "is treated as stored"
            ]
        facts[version] = known
    stored = stored_versions(facts)
    return [
        replace(d, stored_by=_stored_by(chart, stored[(d.crd, d.version)], history))
        if (d.crd, d.version) in stored
        else d
        if d.stored
        else replace(d, served_only=True)
        for d in drops
    ], []


def _stored_by(chart: str, version: str, history: PinHistory) -> str:
    """``flux2 2.17.1``; for a chart only standing in, the releases it stood in for first
    (``Flux 2.5.0 (flux2 2.15.0 standing in)``): the repository pinned those, not it; for
    one only a file deleted since pinned, that file (no file of today shows it)."""
    stood_in, deleted = dict(history.stood_in), dict(history.deleted)
    named = f"{chart} {version}"
    named = f"{stood_in[version]} ({named} standing in)" if version in stood_in else named
    return (
        f"{named}, pinned by {deleted[version]} before it was removed"
        if version in deleted
        else named
    )


def check_violations(found: Discovery, comparison: CrdComparison | None) -> list[Violation]:
    """For ``check``: the pinned chart must serve every CRD version the clusters may hold in
    ``status.storedVersions``: the storage versions of the cloud-init Flux, and of the releases
    the pin history shows (a version only served was never stored: not a violation)."""
    stored = [d for d in comparison.drops if d.stored or d.stored_by] if comparison else []
    if comparison is None or not stored or not found.installs:
        return []
    pin, install = found.upstream_pins()[0], found.installs[0]
    listed = ", ".join(d.describe() for d in stored)
    message = (
        f"{comparison.chart} {pin.value} CRDs stop serving {listed}, which Flux {install.value} "
        f"from cloud-init ({install.where}) or a release pinned before may have stored: the CRD "
        "update would be rejected and Helm's rollback would delete the Flux controllers"
    )
    return [Violation(pin.file, pin.line, message, pin.value, "")]


def pinned_comparison(
    found: Discovery, index: HelmIndex, *, offline: bool, history: PinHistory | None = None
) -> CrdComparison | None:
    """The running charts against the pinned one (each drop judged by ``history`` when
    known); None when the pins name no one exact version."""
    pin = found.agreed_upstream_pin()
    if pin is None or index.find(found.component.upstream, pin.value) is None:
        return None
    return compare_crds(found, index, pin.value, offline=offline, history=history)


def schema_violations(
    found: Discovery, index: HelmIndex, chart_version: str, release: str, *, offline: bool
) -> tuple[list[Violation], list[str]]:
    """Flux objects in the discovered files, validated against the chart's CRD schemas.

    The seed's follow-up had to delete HelmRelease fields the target release's schema lacks;
    this finds them before anything is deployed. Offline without a cached archive, the
    bundled schema catalog answers for the community ``flux2`` chart (else validation is
    skipped with a warning); online, an archive that cannot be fetched or
    verified is an error (exit 3), never a silent skip.
    """
    from fluxbump.crds.schema import validate_files

    chart = found.component.upstream
    if index.find(chart, chart_version) is None:
        return [], []
    crds = chart_crds(index, chart, chart_version, offline=offline)
    if crds is None:
        return [], [f"CRD schemas not validated: {chart} {chart_version} is not cached (offline)"]
    from fluxbump.scan.patchfiles import patch_files

    # the manifests that hold releases, not a cloud-init file that writes a HelmChart (a
    # Terraform template is no YAML; the manifests it writes are not validated)
    files = {s.file for s in found.releases if not is_written(s)}
    if found.component.outside_charts:  # (no chart's releases: the FluxInstance files, which
        # hold the HelmReleases of flux-operator's charts and often the cluster's others)
        files |= {s.file for s in found.release_pins if s.role is Role.INSTANCE}
    if not files:  # (a kustomize remote or a bootstrap applies Flux's own manifests: none)
        return [], [
            f"Flux objects not validated against {chart} {chart_version}'s CRD schemas: no file "
            f"here holds a release of {chart} or a FluxInstance, the files they are read in"
        ]
    texts = {rel: found.sources[rel].text for rel in sorted(files)}
    release = f"Flux {versions.normalize(release)}"
    return validate_files(texts, crds, release=release, is_patch=patch_files(found.root)), []


def charts_of_release(index: HelmIndex, chart: str) -> ReleaseCharts:
    """``ReleaseCharts`` of ``chart`` in ``index``."""
    return ReleaseCharts(index, chart)


class ReleaseCharts:
    """Flux release -> the chart versions carrying it (the index's, else the catalog's); for
    one no chart carries, those whose CRDs judge what it stored (``_standing_in``), each
    remembered with the releases it stood in for (``stood_in``: a refusal names them)."""

    def __init__(self, index: HelmIndex, chart: str) -> None:
        from fluxbump.crds.definitions import catalog_releases

        self.index, self.chart = index, chart
        self.by_release: dict[str, list[str]] = {}
        for entry in index.versions_of(chart):
            if versions.is_pin(entry.app_version) and versions.is_pin(entry.version):
                release = versions.normalize(entry.app_version)
                self.by_release.setdefault(release, []).append(entry.version)
        self.catalog = catalog_releases() if chart == "flux2" else {}
        self.stand_ins: dict[str, list[str]] = {}  # (each reads the whole index: once)
        self.carried: set[str] = set()  # the charts carrying a release asked for

    def __call__(self, release: str) -> list[str]:
        known = self.by_release.get(release) or self.catalog.get(release, [])
        self.carried.update(known)
        if known or release in self.stand_ins:
            return known or self.stand_ins[release]
        return self.stand_ins.setdefault(release, _standing_in(self.index, self.chart, release))

    def stood_in(self) -> dict[str, str]:
        """Each chart returned only standing in (``Flux 2.5.0``): one that also carries a
        release asked for stored what it stores for that release."""
        releases: dict[str, list[str]] = {}
        for release, charts in self.stand_ins.items():
            for chart in charts:
                releases.setdefault(chart, []).append(release)
        return {chart: f"Flux {', '.join(named)}" for chart, named in releases.items()
                if chart not in self.carried}  # fmt: skip


def _standing_in(index: HelmIndex, chart: str, release: str) -> list[str]:
    """The charts whose storage versions a release no chart carries stored (2.5.0 stored
    OCIRepositories as v1beta2, as 2.5.1 does; left out, a later move dropping v1beta2 passed
    as "served only"): ``Installed.stand_ins``; none past or before every chart."""
    return _stand_ins(*_judging(index, chart, release))


def chart_crds(
    index: HelmIndex, chart: str, version: str, *, offline: bool
) -> dict[str, Crd] | None:
    """The CRDs (with schemas) of one chart release: its archive, else offline the bundled
    catalog for ``flux2``; None offline when neither has it. Online, an archive that cannot be
    fetched or verified is an error (exit 3), never a silent skip."""
    try:
        archive = fetch_chart_archive(index, chart, version, offline=offline)
        return read_crds(archive, f"{chart}-{version}.tgz")
    except ResolutionError:
        if not offline:
            raise
    from fluxbump.crds.schema_catalog import bundled_crds

    return bundled_crds(version) if chart == "flux2" else None


def migration_crds(
    index: HelmIndex, chart: str, version: str, *, offline: bool
) -> dict[str, Crd] | None:
    """The CRDs manifests are moved to and validated against: for ``flux2`` the bundled
    catalog (the real schemas of every release, no network), else the chart's archive."""
    from fluxbump.crds.schema_catalog import bundled_crds

    bundled = bundled_crds(version) if chart == "flux2" else None
    return bundled or chart_crds(index, chart, version, offline=offline)
