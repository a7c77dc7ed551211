"""The Plan: every edit that makes all invariants hold at a target, computed before any write.

Propagation is generic: the upstream pin moves, the wrapper's version is patch-bumped once
relative to the base revision, and every dependent, Blueprint mirror and HelmRelease follows
up the chart graph. Nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluxbump import versions
from fluxbump.discover import Discovery
from fluxbump.pins import PinSite
from fluxbump.sites.chart import ChartFile

# Reads a chart as it was at the base revision (None: no such file there, or no git).
BaseCharts = Callable[[str], ChartFile | None]


@dataclass(frozen=True)
class Edit:
    """One pinned scalar to change."""

    site: PinSite
    new: str

    def as_json(self) -> dict[str, Any]:
        return {**self.site.as_json(), "old": self.site.value, "new": self.new}

    def describe(self) -> str:
        s = self.site
        return f"{s.where}: {s.role.value} ({s.owner}) {s.value} -> {self.new}"


@dataclass
class Plan:
    """What ``to``/``sync`` will do: the mapping, every edit, and warnings."""

    component: str
    upstream: str
    release: str
    chart: str
    from_release: str | None
    from_chart: str | None
    edits: list[Edit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # why the plan cannot be applied

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def files(self) -> list[str]:
        return sorted({e.site.file for e in self.edits})

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "from": {"release": self.from_release, "chart": self.from_chart},
            "to": {"release": self.release, "chart": self.chart},
            "changed": self.changed,
            "files": self.files(),
            "edits": [e.as_json() for e in self.edits],
            "warnings": list(self.warnings),
            "blocked": list(self.blocked),
        }


def restyle(old: str, new: str) -> str:
    """Keep the old text's ``v`` prefix convention (``v2.4.0`` stays prefixed)."""
    bare = new.removeprefix("v")
    return f"v{bare}" if old.startswith("v") else bare


class _Planner:
    def __init__(
        self, found: Discovery, base: BaseCharts, policy: str, release_marks: frozenset[str]
    ) -> None:
        self.found = found
        self.release_marks = release_marks
        self.base = base
        self.policy = policy
        self.edits: list[Edit] = []
        self.versions: dict[str, str] = {}  # chart -> version after the plan
        self.blocked: list[str] = []  # ranges that will not admit the planned version
        self.release = ""

    def set(self, site: PinSite, new: str) -> None:
        new = restyle(site.value, new)
        if site.value != new:
            self.edits.append(Edit(site, new))

    def chart(self, name: str, desired_deps: dict[str, str]) -> None:
        """Decide one chart's version, then move its own mirrors and pins."""
        chart = self.found.charts[name]
        for dep in chart.dependencies:
            if dep.subject in desired_deps and not self._ranged(dep, desired_deps[dep.subject]):
                self.set(dep, desired_deps[dep.subject])
        if chart.version is None:
            return
        version = self._next_version(chart, desired_deps)
        self.versions[name] = version
        self.set(chart.version, version)
        self._app_version(chart, version)
        blueprint = self.found.blueprints.get(name)
        if blueprint is not None and blueprint.version is not None:
            self.set(blueprint.version, version)

    def _next_version(self, chart: ChartFile, desired_deps: dict[str, str]) -> str:
        """Patch-bump once relative to the base when the payload (a pinned dependency) moves."""
        assert chart.version is not None
        current = chart.version.value
        base = self.base(chart.file) or chart
        base_deps = {d.subject: d.value for d in base.dependencies}
        pinned = {d.subject for d in chart.dependencies if not self._is_range(d)}
        moved = any(
            not versions.equal(base_deps.get(subject, ""), wanted)
            for subject, wanted in desired_deps.items()
            if subject in pinned
        )
        base_version = base.version.value if base.version is not None else current
        if not moved or not versions.is_pin(base_version):
            return current
        bumped = versions.bump_patch(base_version)
        if versions.is_pin(current) and versions.sort_key(current) > versions.sort_key(bumped):
            return current
        return bumped

    def _marks(self, app: PinSite) -> bool:
        """The wrapper's appVersion names the Flux release it ships (the old one)."""
        return versions.is_pin(app.value) and versions.normalize(app.value) in self.release_marks

    def _is_range(self, dep: PinSite) -> bool:
        """A dependent's range on a tracked chart (the upstream pin itself must be exact)."""
        return dep.subject != self.found.component.upstream and _unpinnable(dep.value)

    def _ranged(self, dep: PinSite, wanted: str) -> bool:
        """True for a range, which is never rewritten: it must admit ``wanted`` or block."""
        if not self._is_range(dep):
            return False
        if "${" not in dep.value and not versions.admits_or_false(dep.value, wanted):
            self.blocked.append(
                f"{dep.where}: {dep.owner} requires {dep.subject} {dep.value}, which does not "
                f"admit {wanted}; widen the range first"
            )
        return True

    def _app_version(self, chart: ChartFile, version: str) -> None:
        app, own = chart.app_version, chart.version
        if app is not None and chart.name == self.found.component.wrapper and self._marks(app):
            self.set(app, self.release)  # the wrapper's appVersion records the Flux release
            return
        if app is None or own is None or own.value == version:
            return
        if self.policy == "follow" and versions.equal(app.value, own.value):
            self.set(app, version)
        elif self.policy == "bump" and versions.is_pin(app.value):
            self.set(app, versions.bump_patch(app.value))


def plan_bump(
    found: Discovery,
    release: str,
    chart: str,
    base: BaseCharts,
    policy: str = "follow",
    old_releases: frozenset[str] = frozenset(),
) -> Plan:
    """Every edit that puts the repo at Flux ``release`` / upstream chart ``chart``.

    ``old_releases``: the Flux releases the repo ships now (cloud-init, the pinned chart's
    appVersion); a wrapper appVersion equal to one of them records the release and moves too.
    """
    planner = _Planner(found, base, policy, old_releases - {versions.normalize(release)})
    planner.release = versions.normalize(release)
    for site in found.installs:
        planner.set(site, release)
    for site in found.mirrors:
        planner.set(site, chart)
    desired = {found.component.upstream: chart}
    for name in found.tracked:
        planner.chart(name, desired)
        if name in planner.versions:
            desired[name] = planner.versions[name]
    for site in found.releases:
        if site.subject in planner.versions and not _unpinnable(site.value):
            planner.set(site, planner.versions[site.subject])
        elif site.subject in planner.versions and versions.is_constraint(site.value):
            _block_range(site, planner.versions[site.subject], planner.blocked)
    plan = Plan(
        component=found.component.name,
        upstream=found.component.upstream,
        release=versions.normalize(release),
        chart=chart,
        from_release=_first(found.installs),
        from_chart=_first(found.upstream_pins()),
        edits=planner.edits,
        blocked=planner.blocked,
    )
    for site in found.constraints:
        if site.subject in planner.versions:
            _block_range(site, planner.versions[site.subject], plan.blocked)
    return plan


def _block_range(site: PinSite, version: str, blocked: list[str]) -> None:
    """A range (Blueprint constraint, HelmRelease range) that would not admit the plan."""
    if versions.is_constraint(site.value) and not versions.admits_or_false(site.value, version):
        blocked.append(
            f"{site.where}: {site.owner} requires {site.subject} {site.value}, which does not "
            f"admit {version}; widen the range first"
        )


def _unpinnable(value: str) -> bool:
    """``${VAR}`` placeholders and ranges are left for the user (reported by the gate)."""
    return "${" in value or versions.is_constraint(value)


def _first(sites: list[PinSite]) -> str | None:
    return sites[0].value.removeprefix("v") if sites else None
