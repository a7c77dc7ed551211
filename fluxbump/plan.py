"""The Plan: every edit that makes all invariants hold at a target, computed before any write.

Propagation is generic: the upstream pin moves, the wrapper's version is patch-bumped once
relative to the base revision, and every dependent, Blueprint mirror and HelmRelease follows
up the chart graph. Nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fluxbump import versions
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.scan.charts import tracked_charts
from fluxbump.scan.controllerfiles import controller_tag
from fluxbump.scan.discover import Discovery
from fluxbump.scan.sites import chartlock, timoni
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.substitution import Placeholder, default_pin
from fluxbump.yamlio.yamldoc import YamlPath

# Reads a chart as it was at the base revision (None: no such file there, or no git).
BaseCharts = Callable[[str], ChartFile | None]


@dataclass(frozen=True)
class Edit:
    """One pinned scalar to change (or, with ``text``, one field Flux renamed or a flux-aio
    module version: ``new`` is what is shown, ``text`` what replaces the site's span)."""

    site: PinSite
    new: str
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {**self.site.as_json(), "old": self.site.value, "new": self.new}

    def describe(self) -> str:
        s = self.site
        held = s.label if s.label == s.owner else f"{s.label} ({s.owner})"
        return f"{s.where}: {held} {s.value} -> {self.new}"


@dataclass(frozen=True)
class Target:
    """One component's move: from which release/chart to which."""

    component: str
    upstream: str
    release: str  # Flux: the release; other components: the chart version
    chart: str | None
    from_release: str | None
    from_chart: str | None
    flux: bool = True
    wrapper: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "upstream": self.upstream,
            "from": {"release": self.from_release, "chart": self.from_chart},
            "to": {"release": self.release, "chart": self.chart},
        }

    def chart_named(self) -> str:
        """``flux2 chart 2.14.1``, or that no chart carries the release (``flux.chartless``)."""
        return f"{self.upstream} chart {self.chart}" if self.chart else f"no {self.upstream} chart"

    def title(self) -> str:
        """``Flux v2.4.0 → flux2 chart 2.14.1`` or ``cilium → cilium chart 1.16.6``."""
        if self.flux:
            return f"Flux v{self.release} → {self.chart_named()}"
        if not self.wrapper:  # a flux-operator chart: no wrapper chart carries it
            return f"{self.component}: {self.upstream} chart {self.chart}"
        return f"{self.component}: {self.wrapper} → {self.upstream} chart {self.chart}"


@dataclass
class Plan:
    """What ``to``/``sync`` will do: each component's move, every edit, and warnings."""

    targets: list[Target]
    edits: list[Edit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # why the plan cannot be applied
    # ``flux bootstrap`` manifests whose header an edit moves: the file's whole new bytes
    # (``write/regenerate.py``), written instead of a splice of the header.
    regenerated: dict[str, bytes] = field(default_factory=dict)

    @property
    def first(self) -> Target:
        return self.targets[0]

    @property
    def component(self) -> str:
        return self.first.component

    @property
    def upstream(self) -> str:
        return self.first.upstream

    @property
    def release(self) -> str:
        return self.first.release

    @property
    def chart(self) -> str | None:
        return self.first.chart

    @property
    def from_release(self) -> str | None:
        return self.first.from_release

    @property
    def from_chart(self) -> str | None:
        return self.first.from_chart

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def files(self) -> list[str]:
        return sorted({e.site.file for e in self.edits})

    def as_json(self) -> dict[str, Any]:
        return {
            **(
                self.first.as_json()
                if self.targets
                else {"component": None, "from": None, "to": None}
            ),
            "components": [t.as_json() for t in self.targets],
            "changed": self.changed,
            "files": self.files(),
            "edits": [e.as_json() for e in self.edits],
            "regenerated": sorted(self.regenerated),  # whole files: flux install --export
            "warnings": list(self.warnings),
            "blocked": list(self.blocked),
        }


@dataclass(frozen=True)
class Move:
    """One component to move: its discovery, the target release and chart version.

    ``old_releases``: what the repo ships now (Flux: the cloud-init release and the pinned
    chart's appVersion; others: the pinned chart); a wrapper appVersion equal to one of them
    records the release and moves too.
    """

    found: Discovery
    release: str
    chart: str | None
    old_releases: frozenset[str] = frozenset()
    # Where the move starts when its source pin already moved (sync): the base revision's.
    was_release: str | None = None
    was_chart: str | None = None

    def target(self) -> Target:
        component = self.found.component
        from_release = _from_release(self.found)
        from_pins = (
            [] if component.rules.names_a_release else component.rules.source_pins(self.found)
        )
        return Target(
            component=component.name,
            upstream=component.upstream,
            release=versions.normalize(self.release),
            chart=self.chart,
            from_release=self.was_release or from_release,
            from_chart=self.was_chart or _first(self.found.upstream_pins() or from_pins),
            flux=component.rules.names_a_release,
            wrapper=component.wrapper,
        )


def _from_release(found: Discovery) -> str | None:
    """The release a move of Flux starts from: the first exact pin of what installs it (a
    cloud-init URL; with Flux pinned outside charts only, a FluxInstance, a kustomize or
    bootstrap install); with none of those exact, the CLI's, as ``refuse_downgrade`` reads it."""
    rules = found.component.rules
    if not rules.names_a_release:
        return None
    first = _first(rules.source_pins(found))
    if first is None and found.component.outside_charts:
        first = _first(found.release_pins)
    return first


def restyle(old: str, new: str) -> str:
    """Keep the old text's ``v`` prefix convention (``v2.4.0`` stays prefixed)."""
    bare = new.removeprefix("v")
    return f"v{bare}" if old.startswith("v") else bare


class _Planner:
    def __init__(self, moves: list[Move], base: BaseCharts, policy: str) -> None:
        first = moves[0].found
        self.charts = first.charts
        self.base = base
        self.policy = policy
        self.edits: list[Edit] = []
        self.planned: set[tuple[str, int]] = set()
        # Every value asked of a site (changed or kept), by its scalar and path: one scalar
        # may feed several sites through a YAML anchor (see ``_shared_scalars``).
        self.wanted: dict[tuple[str, int, YamlPath], str] = {}
        self.versions: dict[str, str] = {}  # chart -> version after the plan
        self.blocked: list[str] = []  # ranges that will not admit the planned version
        self.upstreams = {m.found.component.upstream for m in moves}
        # wrapper -> (the releases its appVersion may record now, the release it will record)
        self.marks = {
            m.found.component.wrapper: (
                m.old_releases - {versions.normalize(m.release)},
                versions.normalize(m.release),
            )
            for m in moves
        }
        self.blueprints = {n: b for m in moves for n, b in m.found.blueprints.items()}

    def set(self, site: PinSite, new: str) -> None:
        """Plan one edit; a site two components share (an umbrella) is planned once."""
        self._add(site, restyle(site.value, new))

    def _add(self, site: PinSite, new: str) -> None:
        self.wanted.setdefault((site.file, site.start, site.path), new)
        if site.value != new and (site.file, site.start) not in self.planned:
            self.planned.add((site.file, site.start))
            # A flux-aio module's site holds its Flux release: the text is a module version.
            text = timoni.module_version(new) if site.role is Role.TIMONI else None
            self.edits.append(Edit(site, new, text))

    def set_default(self, site: PinSite, held: Placeholder, new: str) -> None:
        """Move the default of ``${VAR:=1.1.1}`` (the version in effect); a range is kept."""
        assert held.default is not None
        if versions.is_pin(held.default):
            self._add(site, held.with_default(restyle(held.default, new)))

    def chart(self, name: str, desired_deps: dict[str, str]) -> None:
        """Decide one chart's version, then move its own mirrors and pins."""
        chart = self.charts[name]
        for dep in chart.dependencies:
            if dep.subject in desired_deps and not self._ranged(dep, desired_deps[dep.subject]):
                self.set(dep, desired_deps[dep.subject])
        if chart.version is None:
            return
        version = self._next_version(chart, desired_deps)
        self.versions[name] = version
        self.set(chart.version, version)
        self._app_version(chart, version)
        blueprint = self.blueprints.get(name)
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

    def _is_range(self, dep: PinSite) -> bool:
        """A dependent's range on a tracked chart (the upstream pin itself must be exact)."""
        return dep.subject not in self.upstreams and _unpinnable(dep.value)

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
        old, new = self.marks.get(chart.name, (frozenset(), ""))
        if app is not None and versions.is_pin(app.value) and versions.normalize(app.value) in old:
            self.set(app, new)  # the wrapper's appVersion records the upstream release
            return
        if app is None or own is None or own.value == version:
            return
        if self.policy == "follow" and versions.equal(app.value, own.value):
            self.set(app, version)
        elif self.policy == "bump" and versions.is_pin(app.value):
            self.set(app, versions.bump_patch(app.value))


def plan_moves(moves: list[Move], base: BaseCharts, policy: str = "follow") -> Plan:
    """Every edit that moves each component; charts they share are bumped once."""
    planner = _Planner(moves, base, policy)
    desired: dict[str, str] = {}
    for move in moves:
        for site in move.found.installs:
            planner.set(site, move.release)
        for site in move.found.release_pins:
            if versions.is_pin(site.value):  # a bootstrap header too: its file is regenerated
                planner.set(site, move.release)
            elif "${" not in site.value:  # a range or ``latest`` stays; a range must admit it
                _block_range(site, versions.normalize(move.release), planner.blocked)
        for site in move.found.controller_images:  # (a release the table lacks: left, named)
            tag = controller_tag(move.release, site.subject)
            if tag is not None:
                planner.set(site, tag)
        if move.chart is not None:  # None: a layout that pins no chart (``flux.chartless``)
            _move_chart_pins(planner, move, move.chart)
            desired[move.found.component.upstream] = move.chart
    wrappers = [
        m.found.component.wrapper
        for m in moves
        if not (m.found.component.direct or m.found.component.operator)
    ]
    order = tracked_charts(planner.charts, wrappers)
    for name in order:
        planner.chart(name, desired)
        if name in planner.versions:
            desired[name] = planner.versions[name]
    setters = moves[0].found.substitutions  # one survey's: every component shares it
    for site in _unique(s for m in moves for s in m.found.releases):
        fallback = default_pin(site, setters)
        if site.subject in planner.versions and fallback is not None:
            planner.set_default(site, fallback, planner.versions[site.subject])
        elif site.subject in planner.versions and not _unpinnable(site.value):
            planner.set(site, planner.versions[site.subject])
        elif site.subject in planner.versions and versions.is_constraint(site.value):
            _block_range(site, planner.versions[site.subject], planner.blocked)
    for site in _unique(s for m in moves for s in m.found.constraints):
        if site.subject in planner.versions:
            _block_range(site, planner.versions[site.subject], planner.blocked)
    planner.edits += _shared_scalars(planner, _every_site(moves, planner))
    return Plan([m.target() for m in moves], edits=planner.edits, blocked=planner.blocked)


def _move_chart_pins(planner: _Planner, move: Move, chart: str) -> None:
    """The pins of ``move``'s upstream chart: values mirrors, boot installs, and without a
    wrapper its HelmReleases."""
    for site in move.found.mirrors:
        planner.set(site, chart)
    for site in move.found.adopted:  # installed at boot, then the wrapper takes it over
        if versions.is_pin(site.value):
            planner.set(site, chart)
        elif "${" not in site.value:  # a range must admit the chart; an expression stays
            _block_range(site, chart, planner.blocked)
    if move.found.component.direct:  # no wrapper: its HelmReleases pin the chart
        for site in move.found.upstream_pins():
            held = site.role is Role.HELMRELEASE  # (Flux substitutes its own objects only)
            fallback = default_pin(site, move.found.substitutions) if held else None
            if fallback is not None:  # ``${VAR:=X}`` no Kustomization here sets: X deploys
                planner.set_default(site, fallback, chart)
            elif versions.is_pin(site.value):  # else the gate says it is not exact
                planner.set(site, chart)


def _every_site(moves: list[Move], planner: _Planner) -> list[PinSite]:
    """Every pin-site the plan may move, a shared one once per path it is read at."""
    charts = planner.charts.values()
    own = [s for c in charts for s in (c.version, c.app_version) if s is not None]
    deps = [s for c in charts for s in c.dependencies]
    mirrors = [b.version for b in planner.blueprints.values() if b.version is not None]
    found = [
        s for m in moves
        for s in (*m.found.installs, *m.found.mirrors, *m.found.releases, *m.found.direct,
                  *m.found.adopted)
    ]  # fmt: skip
    return _unique([*own, *deps, *mirrors, *found])


def _shared_scalars(planner: _Planner, sites: list[PinSite]) -> list[Edit]:
    """One scalar read at several paths (an anchor and its aliases or merge keys) is one
    edit that moves every one of them: planned for each path when all want the same value
    (the edit's proof then expects each), refused when they would have to move apart."""
    groups: dict[tuple[str, int], list[PinSite]] = {}
    for site in sites:
        groups.setdefault((site.file, site.start), []).append(site)
    extra = []
    for group in groups.values():
        if len(group) < 2:
            continue
        wanted = [planner.wanted.get((s.file, s.start, s.path), s.value) for s in group]
        if len(set(wanted)) > 1:
            raise UsageError(_apart(group, wanted))
        edited = {(e.site.file, e.site.start, e.site.path) for e in planner.edits}
        if wanted[0] != group[0].value:
            extra += [Edit(s, wanted[0]) for s in group if (s.file, s.start, s.path) not in edited]
    return extra


def _apart(group: list[PinSite], wanted: list[str]) -> str:
    a, b = group[0], next(s for s, w in zip(group, wanted, strict=True) if w != wanted[0])
    other = wanted[group.index(b)]
    return (
        f"{a.where}: one YAML anchor sets the {a.role.value} {a.subject} ({a.owner}) and the "
        f"{b.role.value} {b.subject} ({b.owner}), which must move apart ({wanted[0]} and "
        f"{other}); give each its own value and re-run; nothing written"
    )


def plan_locks(moves: list[Move], plan: Plan, now: datetime) -> None:
    """Rewrite each moved chart's Chart.lock as ``helm dependency update`` would for the
    planned Chart.yaml: locked version, digest, ``generated`` (``now``). A lock whose list
    is not the chart's cannot be rewritten in place: it blocks the plan."""
    planned = {(e.site.file, e.site.path): e.new for e in plan.edits}
    done: set[str] = set()
    for move in moves:
        for locked in move.found.locks.values():
            if locked.lock.file in done:
                continue
            done.add(locked.lock.file)
            pins = {
                i: new
                for i in range(len(locked.required))
                if (new := planned.get((locked.chart_file, ("dependencies", i, "version"))))
            }
            state = locked.state(pins)
            if state.mismatch is not None:
                plan.blocked.append(
                    f"{locked.lock.file}:{locked.lock.line}: {state.mismatch}; run "
                    "'helm dependency update' there first"
                )
                continue
            plan.edits += [Edit(site, new) for site, new in chartlock.edits(state, now)]


def _unique(sites: Iterable[PinSite]) -> list[PinSite]:
    """Each site once; one scalar read at two paths (a YAML alias) is two sites."""
    seen: set[tuple[str, int, YamlPath]] = set()
    unique = []
    for site in sites:
        if (site.file, site.start, site.path) not in seen:
            seen.add((site.file, site.start, site.path))
            unique.append(site)
    return unique


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
    """The first exact pin's version (``var.NAME`` or ``${VAR}`` is no version to start from)."""
    return next((s.value.removeprefix("v") for s in sites if versions.is_pin(s.value)), None)
