"""Walk the repository once and find every pin-site of a component (DESIGN §1).

Cheap byte tests run before any YAML is parsed, so only candidate files cost a parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from fluxbump.components import FLUX, Component
from fluxbump.config import Config
from fluxbump.errors import UsageError
from fluxbump.pins import Mention, PinSite, Role, Violation
from fluxbump.sites.blueprint import BlueprintFile, parse_blueprint
from fluxbump.sites.chart import ChartFile, parse_chart
from fluxbump.sites.cloudinit import find_install_pins
from fluxbump.sites.helmrelease import scan_manifest
from fluxbump.sites.values import find_mirrors
from fluxbump.sources import SourceFile, matches, read_source, walk_files


@dataclass
class Discovery:
    """Everything found: the chart graph and every pin-site, by role."""

    root: Path
    config: Config
    component: Component
    sources: dict[str, SourceFile]
    charts: dict[str, ChartFile]
    tracked: list[str]  # the wrapper, then its dependents, each after what it depends on
    installs: list[PinSite] = field(default_factory=list)
    mirrors: list[PinSite] = field(default_factory=list)
    blueprints: dict[str, BlueprintFile] = field(default_factory=dict)
    constraints: list[PinSite] = field(default_factory=list)
    releases: list[PinSite] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)

    @property
    def wrapper(self) -> ChartFile:
        return self.charts[self.component.wrapper]

    def upstream_pins(self) -> list[PinSite]:
        return [d for d in self.wrapper.dependencies if d.subject == self.component.upstream]

    def sites(self) -> list[PinSite]:
        """Every pin-site in pipeline order: install, upstream, mirror, charts, releases."""
        found: list[PinSite] = [*self.installs, *self.upstream_pins(), *self.mirrors]
        for name in self.tracked:
            chart = self.charts[name]
            found += [s for s in (chart.version, chart.app_version) if s is not None]
            found += [d for d in chart.dependencies if d.subject in self.tracked]
            blueprint = self.blueprints.get(name)
            if blueprint is not None and blueprint.version is not None:
                found.append(blueprint.version)
        return found + self.constraints + self.releases


def component_for(config: Config) -> Component:
    """The Flux component with the configuration's names applied."""
    return replace(
        FLUX,
        wrapper=config.wrapper,
        upstream=config.upstream,
        helm_repo=config.helm_repo or FLUX.helm_repo,
    )


def discover(root: Path, config: Config) -> Discovery:
    """Find the wrapper, its dependents and every pin-site of the component."""
    if not root.is_dir():
        raise UsageError(f"--repo {root}: not a directory")
    component = component_for(config)
    files = [rel for rel in walk_files(root) if not matches(rel, config.exclude)]
    sources: dict[str, SourceFile] = {}
    charts = _charts(root, config, files, sources)
    if component.wrapper not in charts:
        raise UsageError(
            f"no Chart.yaml with 'name: {component.wrapper}' under {root}; "
            f"set 'wrapper' in .fluxbump.yaml (run 'fluxbump init')"
        )
    charts[component.wrapper] = _mark_upstream(charts[component.wrapper], component.upstream)
    found = Discovery(root, config, component, sources, charts, _tracked(charts, component.wrapper))
    _installs(found, files)
    _mirrors(found)
    _blueprints(found, files)
    _releases(found, files)
    _structure(found)
    return found


def _read(found_sources: dict[str, SourceFile], root: Path, rel: str) -> SourceFile:
    if rel not in found_sources:
        found_sources[rel] = read_source(root, rel)
    return found_sources[rel]


def _charts(
    root: Path, config: Config, files: list[str], sources: dict[str, SourceFile]
) -> dict[str, ChartFile]:
    charts: dict[str, ChartFile] = {}
    for rel in files:
        if not rel.endswith("Chart.yaml") or not matches(rel, config.charts):
            continue
        chart = parse_chart(_read(sources, root, rel))
        if chart is None:
            continue
        if chart.name in charts:
            other = charts[chart.name].file
            raise UsageError(f"{rel}: chart '{chart.name}' is also declared in {other}")
        charts[chart.name] = chart
    return charts


def _mark_upstream(wrapper: ChartFile, upstream: str) -> ChartFile:
    """The wrapper's dependency on the upstream chart plays its own role in the invariants."""
    deps = [
        replace(d, role=Role.UPSTREAM) if d.subject == upstream else d for d in wrapper.dependencies
    ]
    return replace(wrapper, dependencies=deps)


def _tracked(charts: dict[str, ChartFile], wrapper: str) -> list[str]:
    """The wrapper and every chart that depends on it, transitively, dependencies first."""
    order = [wrapper]
    changed = True
    while changed:
        changed = False
        for name, chart in sorted(charts.items()):
            if name not in order and any(d.subject in order for d in chart.dependencies):
                order.append(name)
                changed = True
    return order


def _installs(found: Discovery, files: list[str]) -> None:
    pattern = found.component.install_pattern
    if pattern is None:
        return
    marker = b"releases/download"
    for rel in files:
        if not matches(rel, found.config.cloudinit):
            continue
        source = _read(found.sources, found.root, rel)
        if marker not in source.raw:
            continue
        sites, mentions = find_install_pins(source, pattern, found.component.name)
        found.installs += sites
        found.mentions += mentions


def _mirrors(found: Discovery) -> None:
    directory = found.wrapper.directory
    rel = f"{directory}/values.yaml" if directory else "values.yaml"
    if not (found.root / rel).is_file():
        return
    source = _read(found.sources, found.root, rel)
    mirrors = find_mirrors(source, found.config.values_mirror, found.wrapper.name)
    found.mirrors = [m for m in mirrors if m.subject == found.component.upstream]


def _blueprints(found: Discovery, files: list[str]) -> None:
    by_directory = {found.charts[n].directory: n for n in found.tracked}
    tracked = set(found.tracked)
    for rel in files:
        if not matches(rel, found.config.blueprints):
            continue
        source = _read(found.sources, found.root, rel)
        if b"Blueprint" not in source.raw:
            continue
        blueprint = parse_blueprint(source)
        if blueprint is None:
            continue
        chart = _chart_of_blueprint(rel, blueprint, by_directory, tracked)
        if chart is not None:
            found.blueprints[chart] = blueprint
        found.constraints += [c for c in blueprint.constraints if c.subject in tracked]


def _chart_of_blueprint(
    rel: str, blueprint: BlueprintFile, by_directory: dict[str, str], tracked: set[str]
) -> str | None:
    """A Blueprint mirrors the chart beside it (``./Chart.yaml`` or ``./chart/Chart.yaml``)."""
    directory = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for candidate in (directory, f"{directory}/chart" if directory else "chart"):
        if candidate in by_directory:
            return by_directory[candidate]
    return blueprint.name if blueprint.name in tracked else None


def _releases(found: Discovery, files: list[str]) -> None:
    names = frozenset(found.tracked)
    needles = [n.encode() for n in names]
    for rel in files:
        if not matches(rel, found.config.clusters):
            continue
        raw = (found.root / rel).read_bytes()
        if (b"HelmRelease" not in raw and b"OCIRepository" not in raw) or not any(
            n in raw for n in needles
        ):
            continue
        scan = scan_manifest(_read(found.sources, found.root, rel), names)
        found.releases += scan.sites
        found.releases += [
            r.tag for r in scan.oci_repositories if r.chart in names and r.tag is not None
        ]


def _structure(found: Discovery) -> None:
    """Missing or ambiguous pins that make the invariants unprovable."""
    wrapper = found.wrapper
    upstream = found.upstream_pins()
    if not upstream:
        found.problems.append(
            Violation(wrapper.file, 1, f"no '{found.component.upstream}' dependency with a version")
        )
    elif len(upstream) > 1:
        lines = ", ".join(str(u.line) for u in upstream)
        found.problems.append(
            Violation(
                wrapper.file,
                upstream[1].line,
                f"'{found.component.upstream}' is a dependency more than once (lines {lines})",
            )
        )
    if not found.installs:
        found.problems.append(
            Violation(
                "/".join(found.config.cloudinit),
                1,
                "no cloud-init template pins the Flux install.yaml URL to an explicit vX.Y.Z",
            )
        )
    if wrapper.version is None:
        found.problems.append(Violation(wrapper.file, 1, "the wrapper chart has no 'version'"))


def installs_by_file(found: Discovery) -> dict[str, list[PinSite]]:
    grouped: dict[str, list[PinSite]] = {}
    for site in found.installs:
        grouped.setdefault(site.file, []).append(site)
    return grouped


__all__ = ["Discovery", "Role", "discover"]
