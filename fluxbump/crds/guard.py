"""The storedVersions guard applied to a repository: which CRD facts, which transition.

The seed's cluster died because the chart's CRDs stopped serving an API version the running
Flux had stored. Any version a release serves may be stored, so moving from what the cluster
runs now (the cloud-init release and the pinned chart) to a target that does not serve it is
refused. CRD facts come from the bundled catalog of real flux2 releases when it knows the
chart (no network), else from the chart archive itself (cached by digest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fluxbump import versions
from fluxbump.crds.archives import fetch_chart_archive
from fluxbump.crds.definitions import CrdVersions, crd_catalog_offline, read_crds
from fluxbump.crds.drops import Drop, dropped_versions
from fluxbump.errors import ResolutionError
from fluxbump.pins import Violation
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import resolve_chart_version
from fluxbump.scan.discover import Discovery

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
    return read_crds(archive, f"{chart}-{version}.tgz")


def running_charts(found: Discovery, index: HelmIndex) -> list[str]:
    """Chart versions whose CRDs the cluster may run: the pinned one and the cloud-init one."""
    upstream = found.component.upstream
    charts = [p.value for p in found.upstream_pins() if versions.is_pin(p.value)]
    for site in found.installs[:1]:
        if not versions.is_pin(site.value):
            continue
        try:
            charts.append(resolve_chart_version(index, site.value, upstream).chart)
        except ResolutionError:
            continue  # no chart for that release: the gate reports it
    return list(dict.fromkeys(charts))


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

    def as_json(self) -> dict[str, Any]:
        return {
            "chart": self.chart,
            "running": list(self.running),
            "target": self.target,
            "dropped": [d.describe() for d in self.drops],
            "safe": not self.drops,
        }

    def summary(self) -> str:
        running = ", ".join(self.running) or "none"
        if not self.drops:
            return f"{self.chart} {running} -> {self.target}: no CRD API version dropped"
        listed = ", ".join(d.describe() for d in self.drops)
        return f"{self.chart} {running} -> {self.target}: drops {listed}"


def compare_crds(
    found: Discovery, index: HelmIndex, target: str, *, offline: bool
) -> CrdComparison:
    """What moving from the running charts (pinned and cloud-init) to ``target`` drops."""
    chart = found.component.upstream
    running = tuple(running_charts(found, index))
    drops, warnings = drops_between(index, chart, list(running), target, offline=offline)
    return CrdComparison(chart, running, target, tuple(drops), tuple(warnings))


def check_violations(found: Discovery, comparison: CrdComparison | None) -> list[Violation]:
    """For ``check``: the pinned chart must serve every CRD version the cloud-init Flux serves."""
    if comparison is None or not comparison.drops or not found.installs:
        return []
    pin, install = found.upstream_pins()[0], found.installs[0]
    listed = ", ".join(d.describe() for d in comparison.drops)
    message = (
        f"{comparison.chart} {pin.value} CRDs stop serving {listed}, which Flux {install.value} "
        f"from cloud-init ({install.where}) serves: the CRD update would be rejected and Helm's "
        "rollback would delete the Flux controllers"
    )
    return [Violation(pin.file, pin.line, message, pin.value, "")]


def pinned_comparison(found: Discovery, index: HelmIndex, *, offline: bool) -> CrdComparison | None:
    """The running charts against the pinned one; None when there is no single exact pin."""
    pins = found.upstream_pins()
    if len(pins) != 1 or not versions.is_pin(pins[0].value):
        return None
    if index.find(found.component.upstream, pins[0].value) is None:
        return None
    return compare_crds(found, index, pins[0].value, offline=offline)


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
    try:
        archive = fetch_chart_archive(index, chart, chart_version, offline=offline)
        crds = read_crds(archive, f"{chart}-{chart_version}.tgz")
    except ResolutionError:
        if not offline:
            raise
        from fluxbump.crds.schema_catalog import bundled_crds

        bundled = bundled_crds(chart_version) if chart == "flux2" else None
        if bundled is None:
            return [], [
                f"CRD schemas not validated: {chart} {chart_version} is not cached (offline)"
            ]
        crds = bundled
    texts = {rel: found.sources[rel].text for rel in sorted({s.file for s in found.releases})}
    return validate_files(texts, crds, release=f"Flux {versions.normalize(release)}"), []
