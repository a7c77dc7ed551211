"""Charts outside every component (no upstream of their own, not depending on a wrapper).

Their Blueprint mirrors, the pins other charts hold on them and the HelmReleases that
deploy them drift too; ``check`` reports those with the same checks and lines as the
component invariants (``gate``), and nothing moves them: they have no upstream to follow.
"""

from __future__ import annotations

from dataclasses import replace

from fluxbump.gate.invariants import GateReport, release_row
from fluxbump.pins import PinSite
from fluxbump.scan.chartsources import ReleaseSources, chart_repositories
from fluxbump.scan.discover import Survey
from fluxbump.scan.releases import pinned_releases


def outside_report(found: Survey, covered: set[str]) -> GateReport:
    """Drift of charts no component tracks (``covered``: every component's chart chain)."""
    outside = sorted(name for name in found.charts if name not in covered)
    report = GateReport()
    for name in outside:
        chart, blueprint = found.charts[name], found.all_blueprints.get(name)
        if blueprint is not None and blueprint.version is not None and chart.version is not None:
            version = chart.version.value
            message = f"Blueprint of {name} mirrors {blueprint.version.value}, chart is {version}"
            report.expect(blueprint.version, version, message)
    for name in sorted(found.charts):
        for dep in found.charts[name].dependencies:
            target = found.charts.get(dep.subject)
            if dep.subject in outside and target is not None and target.version is not None:
                version = target.version.value
                message = f"{name} pins {dep.subject} {dep.value}, {dep.subject} is {version}"
                report.expect_pin_or_range(dep, version, message)
    _releases(found, outside, report)
    return report


def _releases(found: Survey, outside: list[str], report: GateReport) -> None:
    """The HelmReleases of charts outside every component: an umbrella of this repository
    deployed per environment (its templates render the HelmReleases of its parts) pins its
    own version there, and a chart bumped without them deploys the old one. Those with no
    version are left to Flux (a component's own are its problems)."""
    charts = {name: chart.version.value for name in outside
              if (chart := found.charts[name]).version is not None}  # fmt: skip
    releases, _ = pinned_releases(found.local_releases_of(list(charts)), charts)
    served = ReleaseSources(found.root, found.sources, found.chart_sources)
    own = chart_repositories(found.charts)
    for site in releases:
        before = len(report.violations)
        release_row(found.substitutions, report, site, charts[site.subject])
        if len(report.violations) > before:
            hint = _source_hint(found, site, served.of(site), own)
            report.violations[before:] = [
                replace(v, message=v.message + hint) for v in report.violations[before:]
            ]


def _source_hint(found: Survey, site: PinSite, url: str | None, own: set[str]) -> str:
    """Where a drifting release takes its chart from, when that is a chart repository: a
    chart of this repository's is matched by name, and a copy of another project's chart
    kept here (its ``home`` naming no host of that repository) is not told from one this
    repository publishes there (``scan/chartsources.py``): the reader can, and is told how
    to leave the copy out. ``url``: where it takes it from; ``own``: this repository's own
    registries (``chart_repositories``), named nowhere."""
    chart = found.charts[site.subject]
    if url is None or url in own:
        return ""
    folder = f"{chart.directory}/**" if chart.directory else chart.file
    return (
        f" ({chart.file}); it takes the chart from {url}: if that is another project's "
        f"{site.subject} chart, add {folder} to 'exclude' in .fluxbump.yaml"
    )
