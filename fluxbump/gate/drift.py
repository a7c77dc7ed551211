"""Charts outside every component (no upstream of their own, not depending on a wrapper).

Their Blueprint mirrors and the pins other charts hold on them drift too; ``check``
reports those with the same checks and lines as the component invariants (``gate``), and
nothing moves them: they have no upstream to follow.
"""

from __future__ import annotations

from fluxbump.gate.invariants import GateReport
from fluxbump.pins import Violation
from fluxbump.scan.discover import Survey


def outside_violations(found: Survey, covered: set[str]) -> list[Violation]:
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
    return report.violations
