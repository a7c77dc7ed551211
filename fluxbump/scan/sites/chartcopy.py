"""A copy of the community ``flux2`` chart kept in the repository: named, never read.

Chart repositories that fork or vendor the chart (technicityworks/helm-charts' and
networkengineer-cloud/helm-charts' ``charts/flux2/``) hold its ``Chart.yaml`` (``name: flux2``,
its ``version`` and ``appVersion``, the Flux release it installs) and its values and templates
(each controller's image tag). Such a copy installs that release whatever the other pins say,
and fluxbump cannot produce another version of it: moving only the CLI tag its ``values.yaml``
holds would leave the controllers behind. It is named at its ``version`` line, as a render of
the chart is (``rendered.py``), for a human to replace.
"""

from __future__ import annotations

from collections.abc import Iterable

from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sites.rendered import EXCLUDE


def chart_copies(charts: Iterable[ChartFile], upstream: str) -> list[ChartFile]:
    """Each local chart named ``upstream`` that does not depend on it: a copy of the upstream
    chart, not a wrapper of it (a wrapper of the same name depends on it)."""
    return [
        chart
        for chart in charts
        if chart.name == upstream and all(d.subject != upstream for d in chart.dependencies)
    ]


def copy_note(chart: ChartFile, upstream: str) -> str:
    where = chart.version or chart.app_version
    line = where.line if where is not None else 1
    version = f" {chart.version.value}" if chart.version is not None else ""
    release = f" (Flux {chart.app_version.value}, its appVersion)" if chart.app_version else ""
    return (
        f"{chart.file}:{line}: a copy of the {upstream} chart{version}{release} kept in this "
        "repository, which fluxbump does not read, check or move (its controllers' tags with "
        f"it): replace the copy with the {upstream} chart version Flux moves to, {EXCLUDE}"
    )
