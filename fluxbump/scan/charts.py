"""The repository's chart graph: every Chart.yaml by name, the charts that follow a wrapper,
and the Blueprint beside each chart."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from fluxbump.components import is_external
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.scan.releases import Unreadable, unreadable_of
from fluxbump.scan.roles import read_once
from fluxbump.scan.sites.blueprint import BlueprintFile, parse_blueprint
from fluxbump.scan.sites.chart import ChartFile, parse_chart
from fluxbump.scan.sources import LINE_START, SourceFile


def read_charts(
    root: Path,
    files: list[str],
    sources: dict[str, SourceFile],
    unreadable: list[Unreadable] | None = None,
) -> dict[str, ChartFile]:
    """Every chart by name. Two charts of one name (an app and its copy under ``disabled/``)
    are both kept, each named by its directory; so is a chart that depends on an upstream
    chart of its own name (``name: foo`` wrapping ``foo``), whose dependency is then the
    upstream, never the chart itself."""
    first = len(unreadable) if unreadable is not None else 0
    parsed = [c for rel in files if (c := _read_chart(root, rel, sources, unreadable))]
    counts: dict[str, int] = {}
    for chart in parsed:
        counts[chart.name] = counts.get(chart.name, 0) + 1
    ambiguous = _pulled_both_ways(parsed)
    charts: dict[str, ChartFile] = {}
    for chart in parsed:
        wraps_itself = any(
            d.subject == chart.name and is_external(chart.repositories.get(d.subject, ""))
            for d in chart.dependencies
        )
        if counts[chart.name] > 1 or wraps_itself or chart.name in ambiguous:
            chart = qualified(chart, qualifier(chart))
        charts[chart.name] = chart
    if unreadable is not None:  # a chart that cannot be read may depend on any it names
        for at in range(first, len(unreadable)):
            unread = unreadable[at]
            raw = sources[unread.file].raw if unread.file in sources else b""
            named = unread.charts | {name for name in charts if name.encode() in raw}
            unreadable[at] = replace(unread, charts=frozenset(named))
    return charts


# A chart's name, read from the text of a Chart.yaml that does not parse as a whole (at
# YAML's line starts: after CR, LF or CRLF).
_NAME = re.compile(LINE_START.encode() + rb"name:[ \t]*[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)")


def _read_chart(
    root: Path, rel: str, sources: dict[str, SourceFile], unreadable: list[Unreadable] | None
) -> ChartFile | None:
    """One Chart.yaml; one that cannot be read (invalid YAML, not UTF-8, too big) is
    recorded in ``unreadable`` with the chart name its text gives, if any: it costs the
    components that need that chart (all, when its name is unknown), not the run."""
    try:
        chart = parse_chart(read_once(sources, root, rel))
    except UsageError as exc:
        if unreadable is None:
            raise
        source = sources.get(rel)
        match = _NAME.search(source.raw) if source is not None else None
        named = frozenset({match.group(1).decode()}) if match else frozenset()
        unreadable.append(unreadable_of(rel, exc.message, named))
        return None
    if chart is None and unreadable is not None:
        # Emptied or cut by a bad merge, it may be any chart (a wrapper left out, 'to' moved
        # the pins outside charts and left its own behind): it costs every component.
        unreadable.append(unreadable_of(rel, _NO_NAME.format(rel=rel), frozenset()))
    return chart


_NO_NAME = (
    "{rel}:1: a Chart.yaml with no 'name', which Helm refuses (chart.metadata.name is "
    "required): restore it or delete it"
)


def _pulled_both_ways(charts: list[ChartFile]) -> set[str]:
    """Names that one chart takes by path (``file://``) and another from a chart repository.
    A repo that vendors its chart ``foo`` by path does not publish it, so a ``foo`` fetched
    from a repository is someone else's chart (an upstream), never this one."""
    by_path: set[str] = set()
    by_url: set[str] = set()
    for chart in charts:
        for dep in chart.dependencies:
            external = is_external(chart.repositories.get(dep.subject, ""))
            (by_url if external else by_path).add(dep.subject)
    return by_path & by_url


def qualifier(chart: ChartFile) -> str:
    """The name an ambiguous chart is kept under: its directory, unless that is the chart's
    own name (``argo-cd/Chart.yaml``) or there is none (a repository that is one chart, at
    its root): then its Chart.yaml's path. The chart's name would be the upstream it wraps,
    which made a same-name wrapper depend on itself: no component, and a false violation."""
    directory = chart.directory
    return directory if directory and directory != chart.name else chart.file


def qualified(chart: ChartFile, name: str) -> ChartFile:
    """The chart under another name: its own pins follow; its dependencies keep theirs."""

    def own(site: PinSite | None) -> PinSite | None:
        return None if site is None else replace(site, subject=name, owner=name)

    deps = [replace(d, owner=name) for d in chart.dependencies]
    return replace(chart, name=name, version=own(chart.version),
                   app_version=own(chart.app_version), dependencies=deps)  # fmt: skip


def mark_upstream(wrapper: ChartFile, upstream: str) -> ChartFile:
    """The wrapper's dependency on the upstream chart plays its own role in the invariants."""
    deps = [
        replace(d, role=Role.UPSTREAM) if d.subject == upstream else d for d in wrapper.dependencies
    ]
    return replace(wrapper, dependencies=deps)


def tracked_charts(charts: dict[str, ChartFile], wrappers: Sequence[str]) -> list[str]:
    """The wrappers and every chart that depends on one, transitively, dependencies first."""
    closure = set(wrappers)
    changed = True
    while changed:
        changed = False
        for name, chart in charts.items():
            if name not in closure and any(d.subject in closure for d in chart.dependencies):
                closure.add(name)
                changed = True
    order: list[str] = []
    while len(order) < len(closure):
        ready = sorted(
            name for name in closure - set(order)
            if all(d.subject not in closure or d.subject in order or d.subject == name
                   for d in charts[name].dependencies)
        )  # fmt: skip
        order += ready or sorted(closure - set(order))  # a cycle: any order, the gate reports it
    return order


@dataclass
class Blueprints:
    """Every chart's Blueprint, and the version constraints Blueprints set on charts."""

    by_chart: dict[str, BlueprintFile] = field(default_factory=dict)
    constraints: list[PinSite] = field(default_factory=list)


def read_blueprints(
    root: Path,
    sources: dict[str, SourceFile],
    charts: dict[str, ChartFile],
    files: list[str],
    unreadable: list[Unreadable],
) -> Blueprints:
    """Every chart's Blueprint; one that cannot be read is recorded in ``unreadable``, a
    problem of the chart beside it and of those its text names, as an unread Chart.yaml is."""
    by_directory = {chart.directory: name for name, chart in charts.items()}
    names = set(charts)
    found = Blueprints()
    for rel in files:
        try:
            source = read_once(sources, root, rel)
            if b"Blueprint" not in source.raw:
                continue
            blueprint = parse_blueprint(source)
        except UsageError as exc:
            beside = _chart_beside(rel, by_directory)
            raw = sources[rel].raw if rel in sources else b""
            named = {name for name in names if name.encode() in raw or name == beside}
            unreadable.append(unreadable_of(rel, exc.message, frozenset(named)))
            continue
        if blueprint is None:
            continue
        chart = _chart_of_blueprint(rel, blueprint, by_directory, names)
        if chart is not None:
            found.by_chart[chart] = blueprint
        found.constraints += [c for c in blueprint.constraints if c.subject in names]
    return found


def _chart_of_blueprint(
    rel: str, blueprint: BlueprintFile, by_directory: dict[str, str], tracked: set[str]
) -> str | None:
    """A Blueprint mirrors the chart beside it (``./Chart.yaml`` or ``./chart/Chart.yaml``)."""
    beside = _chart_beside(rel, by_directory)
    if beside is not None:
        return beside
    return blueprint.name if blueprint.name in tracked else None


def _chart_beside(rel: str, by_directory: dict[str, str]) -> str | None:
    """The chart in the Blueprint's directory or its ``chart/``, if any."""
    directory = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for candidate in (directory, f"{directory}/chart" if directory else "chart"):
        if candidate in by_directory:
            return by_directory[candidate]
    return None
