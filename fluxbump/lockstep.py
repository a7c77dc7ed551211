"""Charts outside every component (no upstream of their own, not depending on a wrapper).

Their Blueprint mirrors and the pins other charts hold on them drift too; ``check``
reports those with the same lines as the component invariants (``gate``) and nothing moves
them: they have no upstream to follow.
"""

from __future__ import annotations

from collections.abc import Iterator

from fluxbump import versions
from fluxbump.discover import Survey
from fluxbump.pins import PinSite, Violation


def outside_violations(found: Survey, covered: set[str]) -> list[Violation]:
    """Drift of charts no component tracks (``covered``: every component's chart chain)."""
    outside = sorted(name for name in found.charts if name not in covered)
    return [*_blueprint_drift(found, outside), *_dependent_drift(found, set(outside))]


def _blueprint_drift(found: Survey, outside: list[str]) -> Iterator[Violation]:
    for name in outside:
        chart, blueprint = found.charts[name], found.all_blueprints.get(name)
        if blueprint is None or blueprint.version is None or chart.version is None:
            continue
        if not versions.equal(blueprint.version.value, chart.version.value):
            yield _drift(
                blueprint.version,
                f"Blueprint of {name} mirrors {blueprint.version.value}, chart is {chart.version.value}",
                chart.version.value,
            )


def _dependent_drift(found: Survey, outside: set[str]) -> Iterator[Violation]:
    """Any chart's pin on a repo chart no component tracks."""
    for name in sorted(found.charts):
        for dep in found.charts[name].dependencies:
            target = found.charts.get(dep.subject)
            if target is None or target.version is None or dep.subject not in outside:
                continue
            version = target.version.value
            if _admitted(dep.value, version):
                continue
            yield _drift(
                dep, f"{name} pins {dep.subject} {dep.value}, {dep.subject} is {version}", version
            )


def _admitted(value: str, version: str) -> bool:
    if "${" in value:
        return True
    if versions.is_constraint(value):
        return versions.admits_or_false(value, version)
    return versions.equal(value, version)


def _drift(site: PinSite, message: str, expected: str) -> Violation:
    return Violation(site.file, site.line, message, site.value, expected)
