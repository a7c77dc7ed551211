"""Walk the repository once and find every pin-site of a component (docs/ARCHITECTURE.md, "The invariants").

The walk sorts every file into the roles whose globs it matches; each file is read once.
Cheap byte tests run before any YAML is parsed, so only candidate files cost a parse, and
of a multi-document manifest only the candidate documents (``sites.helmrelease``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from fluxbump.components import FLUX, Component, generic, is_external, select, unique_names
from fluxbump.config import CONFIG_NAME, Config
from fluxbump.errors import UsageError
from fluxbump.pins import Mention, PinSite, Role, Violation
from fluxbump.scan.forked import in_two
from fluxbump.scan.sites.blueprint import BlueprintFile, parse_blueprint
from fluxbump.scan.sites.chart import ChartFile, parse_chart
from fluxbump.scan.sites.chartlock import LockedChart, lock_path, locked_chart
from fluxbump.scan.sites.cloudinit import find_install_pins, helm_install_pins
from fluxbump.scan.sites.helmrelease import (
    ClusterScan,
    VersionPatch,
    names_regex_bytes,
    scan_manifest,
    substitute_sites,
)
from fluxbump.scan.sites.values import find_mirrors
from fluxbump.scan.sources import (
    Globs,
    SourceFile,
    read_raw,
    read_source,
    source_of,
    walk_files,
    wide_encoding,
)


@dataclass
class Discovery:
    """One component's chart chain and every pin-site of it, by role."""

    root: Path
    config: Config
    component: Component
    sources: dict[str, SourceFile]
    charts: dict[str, ChartFile]
    tracked: list[str]  # the wrapper, then its dependents, each after what it depends on
    installs: list[PinSite] = field(default_factory=list)
    mirrors: list[PinSite] = field(default_factory=list)
    blueprints: dict[str, BlueprintFile] = field(default_factory=dict)
    all_blueprints: dict[str, BlueprintFile] = field(default_factory=dict)  # every chart's
    constraints: list[PinSite] = field(default_factory=list)
    releases: list[PinSite] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # the cloud-init files read
    locks: dict[str, LockedChart] = field(default_factory=dict)  # tracked chart -> its lock
    # Flux post-build substitution: the Kustomization values that set each variable.
    substitutions: Setters = field(default_factory=lambda: Setters())

    @property
    def wrapper(self) -> ChartFile:
        return self.charts[self.component.wrapper]

    def upstream_pins(self) -> list[PinSite]:
        return [d for d in self.wrapper.dependencies if d.subject == self.component.upstream]

    def sources_of_truth(self) -> list[PinSite]:
        """The pins a bump of this component starts from: installs, dependency, mirrors."""
        return [*self.installs, *self.upstream_pins(), *self.mirrors]

    def sites(self) -> list[PinSite]:
        """Every pin-site in pipeline order: install, upstream, mirror, charts, releases."""
        found: list[PinSite] = self.sources_of_truth()
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


def discover(root: Path, config: Config, component: str | None = None) -> Discovery:
    """Find one component's wrapper, its dependents and every pin-site (default: Flux)."""
    found = survey(root, config)
    if component is None:
        return found.discovery(found.required_flux())
    return found.discovery(found.component(component))


@dataclass
class Survey:
    """One walk of the repository, shared by every component: each file is read once."""

    root: Path
    config: Config
    sources: dict[str, SourceFile]
    charts: dict[str, ChartFile]
    roles: _Roles
    components: list[Component] = field(default_factory=list)
    all_blueprints: dict[str, BlueprintFile] = field(default_factory=dict)
    constraints: list[PinSite] = field(default_factory=list)
    releases: list[PinSite] = field(default_factory=list)
    substitutions: Setters = field(default_factory=lambda: Setters())
    substituting: list[tuple[str, bytes]] = field(default_factory=list)  # postBuild files
    patches: list[VersionPatch] = field(default_factory=list)  # matched to releases later
    flux_excluded: bool = False  # ``components:`` excluded the Flux component
    unreadable: list[Unreadable] = field(default_factory=list)  # manifests not read
    _helm_installs: list[PinSite] | None = None
    _mirrors: dict[str, list[PinSite]] = field(default_factory=dict)
    _by_chart: dict[str, list[tuple[int, PinSite]]] | None = None
    _discoveries: dict[Component, Discovery] = field(default_factory=dict)

    def component(self, name: str) -> Component:
        return select(self.components, [name])[0]

    def flux(self) -> Component | None:
        """The Flux component (whatever ``components:`` renamed it to); None when excluded
        there; a repo without the Flux wrapper chart exits 2 naming it."""
        flux = next((c for c in self.components if c.is_flux), None)
        if flux is None and not self.flux_excluded and self.config.wrapper != FLUX.wrapper:
            self.discovery(component_for(self.config))  # raises: names the configured wrapper
        return flux

    def required_flux(self) -> Component:
        """The Flux component, for commands that move Flux; excluded or absent exits 2."""
        flux = self.flux()
        if flux is None and self.flux_excluded:
            raise UsageError(
                f"the Flux component is excluded in {CONFIG_NAME}; name another with --component"
            )
        if flux is None:
            raise UsageError(self._no_wrapper(component_for(self.config)))
        return flux

    def select(self, names: Sequence[str]) -> list[Component]:
        return select(self.components, names)

    def discovery(self, component: Component) -> Discovery:
        """The pin-sites of one component (derived once per run); an absent wrapper chart
        exits 2."""
        if component not in self._discoveries:
            self._discoveries[component] = self._discover(component)
        return self._discoveries[component]

    def _no_wrapper(self, component: Component) -> str:
        """Name the chart that does depend on the upstream, if one does: a renamed wrapper
        is one line of configuration (``init`` cannot help: it needs the wrapper too)."""
        head = f"no Chart.yaml with 'name: {component.wrapper}' under {self.root}"
        wrappers = sorted(
            name for name, chart in self.charts.items()
            if any(d.subject == component.upstream for d in chart.dependencies)
        )  # fmt: skip
        if wrappers:
            return (
                f"{head}; {self.charts[wrappers[0]].file} ('{wrappers[0]}') depends on "
                f"'{component.upstream}': set 'wrapper: {wrappers[0]}' in {CONFIG_NAME}"
            )
        return (
            f"{head}, and no chart depends on '{component.upstream}': fluxbump moves a wrapper "
            f"chart that depends on it; if yours has other names, set 'wrapper' and 'upstream' "
            f"in {CONFIG_NAME}"
        )

    def _discover(self, component: Component) -> Discovery:
        if component.wrapper not in self.charts:
            raise UsageError(self._no_wrapper(component))
        tracked = tracked_charts(self.charts, [component.wrapper])
        names = set(tracked)
        found = Discovery(
            self.root, self.config, component, self.sources, self.charts, tracked,
            all_blueprints=self.all_blueprints, substitutions=self.substitutions,
            templates=list(self.roles.cloudinit),
        )  # fmt: skip
        found.blueprints = {n: b for n, b in self.all_blueprints.items() if n in names}
        found.locks = {n: lock for n in tracked if (lock := self.lock_of(n)) is not None}
        found.constraints = [c for c in self.constraints if c.subject in names]
        found.releases = self.releases_of(names)
        found.mirrors = [m for m in self.mirrors_of(component.wrapper)
                         if m.subject == component.upstream]  # fmt: skip
        self._installs(found)
        _structure(found)
        found.problems += [u.problem(component.name) for u in self.unreadable
                           if u.charts & names or not u.charts]  # fmt: skip
        return found

    def releases_of(self, charts: Collection[str]) -> list[PinSite]:
        """The HelmRelease pins of ``charts``, in file order (a fleet has tens of thousands
        of them and dozens of components: each takes its own from an index by chart)."""
        if self._by_chart is None:
            self._by_chart = {}
            for position, site in enumerate(self.releases):
                self._by_chart.setdefault(site.subject, []).append((position, site))
        if len(charts) == 1:
            return [site for _, site in self._by_chart.get(next(iter(charts)), [])]
        found = [pair for chart in charts for pair in self._by_chart.get(chart, [])]
        return [site for _, site in sorted(found, key=lambda pair: pair[0])]

    def lock_of(self, name: str) -> LockedChart | None:
        """The Chart.lock beside a chart's Chart.yaml, if the walk found one."""
        chart = self.charts[name]
        rel = lock_path(chart.file)
        if rel not in self.roles.locks:
            return None
        chart_source = _read(self.sources, self.root, chart.file)
        return locked_chart(chart_source, _read(self.sources, self.root, rel), name)

    def mirrors_of(self, wrapper: str) -> list[PinSite]:
        """Every values-mirror entry of a chart (read once per chart)."""
        if wrapper not in self._mirrors:
            self._mirrors[wrapper] = self._read_mirrors(self.charts[wrapper])
        return self._mirrors[wrapper]

    def _read_mirrors(self, chart: ChartFile) -> list[PinSite]:
        rel = f"{chart.directory}/values.yaml" if chart.directory else "values.yaml"
        if rel not in self.sources and not (self.root / rel).is_file():
            return []
        source = _read(self.sources, self.root, rel)
        if self.config.values_mirror.split(".")[0].encode() not in source.raw:
            return []
        return find_mirrors(source, self.config.values_mirror, chart.name)

    def _installs(self, found: Discovery) -> None:
        pattern = found.component.install_pattern
        if pattern is None:
            found.installs = [
                s for s in self.helm_installs() if s.subject == found.component.upstream
            ]
            return
        for rel in self.roles.cloudinit:
            source = _read(self.sources, self.root, rel)
            if b"releases/download" not in source.raw:
                continue
            sites, mentions = find_install_pins(source, pattern, found.component.name)
            found.installs += sites
            found.mentions += mentions

    def helm_installs(self) -> list[PinSite]:
        """``helm install … --version`` pins in every cloud-init template (read once)."""
        if self._helm_installs is None:
            self._helm_installs = []
            for rel in self.roles.cloudinit:
                source = _read(self.sources, self.root, rel)
                if b"helm" in source.raw:
                    self._helm_installs += helm_install_pins(source)
        return self._helm_installs


def survey(root: Path, config: Config) -> Survey:
    """Walk the repository once: charts, components, Blueprints and every HelmRelease pin."""
    if not root.is_dir():
        raise UsageError(f"--repo {root}: not a directory")
    roles = _classify(walk_files(root), config)
    found = _charts_and_blueprints(root, config, roles, {})
    _releases(found, roles.clusters)
    return found


def resurvey(before: Survey, written: Collection[str]) -> Survey:
    """The survey after this run wrote ``written``: those files are read again from disk and
    parsed again; every other file is taken as this run read it (under the repo lock), so
    the post-write gate costs what the written files cost, not another walk of the fleet."""
    changed = set(written)
    sources = {rel: s for rel, s in before.sources.items() if rel not in changed}
    found = _charts_and_blueprints(before.root, before.config, before.roles, sources)
    names = frozenset(found.charts)
    kept: dict[str, list[PinSite]] = {}
    for site in before.releases:
        if site.role is not Role.SUBSTITUTE and site.file not in changed:
            kept.setdefault(site.file, []).append(site)
    rescan = _scan_files(found, names, [r for r in before.roles.clusters if r in changed])
    found.sources.update(rescan.sources)
    found.unreadable = [u for u in before.unreadable if u.file not in changed]
    found.unreadable += rescan.unreadable
    for site in rescan.sites:
        kept.setdefault(site.file, []).append(site)
    found.releases = [site for rel in before.roles.clusters for site in kept.get(rel, ())]
    rescanned = [r for r in before.roles.clusters if r in changed and r not in rescan.sources]
    named = _patches_by_release_name(found, rescanned, names)
    _join_patches(found, [*rescan.patches, *named])
    order = {rel: i for i, rel in enumerate(before.roles.clusters)}
    substituting = [(rel, raw) for rel, raw in before.substituting if rel not in changed]
    substituting = sorted([*substituting, *rescan.substituting], key=lambda f: order[f[0]])
    _substitutions(found, substituting)
    return found


def _charts_and_blueprints(
    root: Path, config: Config, roles: _Roles, sources: dict[str, SourceFile]
) -> Survey:
    """The chart graph, its components and every Blueprint (files read once, via sources)."""
    charts = _charts(root, roles.charts, sources)
    found = Survey(root, config, sources, charts, roles)
    found.components = _detect(found)
    for component in found.components:
        if component.wrapper in charts:
            charts[component.wrapper] = _mark_upstream(
                charts[component.wrapper], component.upstream
            )
    _blueprints(found, roles.blueprints)
    return found


def _detect(found: Survey) -> list[Component]:
    """Flux, then every wrapper: a chart whose upstream dependencies come from a repository.

    A chart that also depends on charts of this repo (an umbrella) wraps only the
    dependencies its values mirror names. ``components:`` in .fluxbump.yaml adds, renames
    and excludes.
    """
    flux = _flux_component(found)
    detected = [flux] if flux.wrapper in found.charts else []
    for name, chart in sorted(found.charts.items()):
        upstreams = _upstreams_of(found, chart)
        for subject in upstreams:
            if subject != flux.upstream:  # Flux's chart is only ever the Flux component
                repository = chart.repositories.get(subject, "")
                component = generic(name, subject, repository, only=len(upstreams) == 1)
                if name != chart.file.rsplit("/", 1)[0] or "/" not in chart.file:
                    detected.append(component)
                else:  # a chart named by its directory: its component by what it wraps
                    detected.append(replace(component, name=subject))
    return _configured(found, unique_names(detected))


def _flux_component(found: Survey) -> Component:
    """Flux's wrapper is the configured chart; with the default name absent, whatever chart
    depends on the community chart (a layout names its wrapper as it likes). Several such
    charts exit 2 naming them: which one the cluster runs is the user's to say."""
    flux = component_for(found.config)
    if flux.wrapper in found.charts or found.config.wrapper != FLUX.wrapper:
        return flux
    wrappers = sorted(
        name for name, chart in found.charts.items()
        if any(d.subject == flux.upstream and is_external(chart.repositories.get(d.subject, ""))
               for d in chart.dependencies)
    )  # fmt: skip
    if len(wrappers) > 1:
        listed = ", ".join(f"{found.charts[n].file} ('{n}')" for n in wrappers)
        raise UsageError(
            f"{len(wrappers)} charts depend on '{flux.upstream}': {listed}; set 'wrapper' to "
            f"the one that installs Flux in {CONFIG_NAME}"
        )
    return replace(flux, wrapper=wrappers[0]) if wrappers else flux


def _upstreams_of(found: Survey, chart: ChartFile) -> list[str]:
    external = []
    for dep in chart.dependencies:
        repository = chart.repositories.get(dep.subject, "")
        known = dep.subject in found.charts or dep.subject in external
        if not known and is_external(repository):
            external.append(dep.subject)
    if external and any(d.subject in found.charts for d in chart.dependencies):
        mirrored = {m.subject for m in found.mirrors_of(chart.name)}
        external = [e for e in external if e in mirrored]
    return external


def _configured(found: Survey, detected: list[Component]) -> list[Component]:
    """Apply ``components:`` to the names ``status`` shows; a name that matches nothing, or
    two components with one name, exit 2 (a typo must not silently keep a component)."""
    components = list(detected)
    for entry in found.config.components:
        where = f"{CONFIG_NAME}: components.{entry.name}"
        if entry.excluded:
            if entry.name not in {c.name for c in components}:
                listed = ", ".join(c.name for c in components)
                raise UsageError(f"{where}: no component of that name to exclude (found: {listed})")
            found.flux_excluded |= any(c.is_flux for c in components if c.name == entry.name)
            components = [c for c in components if c.name != entry.name]
            continue
        assert entry.wrapper is not None and entry.upstream is not None
        same = [c for c in components if (c.wrapper, c.upstream) == (entry.wrapper, entry.upstream)]
        if same:
            components[components.index(same[0])] = replace(same[0], name=entry.name)
            continue
        chart = found.charts.get(entry.wrapper)
        if chart is None:
            raise UsageError(f"{where}: no Chart.yaml with 'name: {entry.wrapper}'")
        if entry.upstream in found.charts:
            raise UsageError(
                f"{where}: '{entry.upstream}' is a chart of this repo, not an upstream; "
                "charts that depend on a wrapper follow it without configuration"
            )
        flux = component_for(found.config)
        if (entry.wrapper, entry.upstream) == (flux.wrapper, flux.upstream):
            components.append(replace(flux, name=entry.name))  # still Flux, whatever its name
            continue
        repository = chart.repositories.get(entry.upstream, "")
        components.append(replace(generic(entry.wrapper, entry.upstream, repository, only=True),
                                  name=entry.name))  # fmt: skip
    names = [c.name for c in components]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"{CONFIG_NAME}: two components are named '{twice[0]}'; rename one")
    return components


@dataclass
class _Roles:
    """The walked files, by the configured globs they match (a file may have several roles)."""

    charts: list[str] = field(default_factory=list)
    cloudinit: list[str] = field(default_factory=list)
    blueprints: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    locks: set[str] = field(default_factory=set)  # every Chart.lock (Helm's, beside a chart)


def _classify(files: Iterable[str], config: Config) -> _Roles:
    exclude, charts = Globs(config.exclude), Globs(config.charts)
    cloudinit, blueprints = Globs(config.cloudinit), Globs(config.blueprints)
    clusters = Globs(config.clusters)
    roles = _Roles()
    files = list(files)
    # A chart's templates/ are Go templates Helm renders, not manifests of the repository.
    rendered = tuple(rel[: -len("Chart.yaml")] + "templates/" for rel in files
                     if rel == "Chart.yaml" or rel.endswith("/Chart.yaml"))  # fmt: skip
    for rel in files:
        if exclude.match(rel) or (rendered and rel.startswith(rendered)):
            continue
        if rel.endswith("Chart.yaml") and charts.match(rel):
            roles.charts.append(rel)
        elif rel.endswith("Chart.lock"):
            roles.locks.add(rel)
        if cloudinit.match(rel):
            roles.cloudinit.append(rel)
        if blueprints.match(rel):
            roles.blueprints.append(rel)
        if clusters.match(rel):
            roles.clusters.append(rel)
    return roles


def _read(found_sources: dict[str, SourceFile], root: Path, rel: str) -> SourceFile:
    if rel not in found_sources:
        found_sources[rel] = read_source(root, rel)
    return found_sources[rel]


def _charts(root: Path, files: list[str], sources: dict[str, SourceFile]) -> dict[str, ChartFile]:
    """Every chart by name. Two charts of one name (an app and its copy under ``disabled/``)
    are both kept, each named by its directory; so is a chart that depends on an upstream
    chart of its own name (``name: foo`` wrapping ``foo``), whose dependency is then the
    upstream, never the chart itself."""
    parsed = [c for c in (parse_chart(_read(sources, root, rel)) for rel in files) if c]
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
            chart = qualified(chart, chart.directory or chart.name)
        charts[chart.name] = chart
    return charts


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


def qualified(chart: ChartFile, name: str) -> ChartFile:
    """The chart under another name: its own pins follow; its dependencies keep theirs."""

    def own(site: PinSite | None) -> PinSite | None:
        return None if site is None else replace(site, subject=name, owner=name)

    deps = [replace(d, owner=name) for d in chart.dependencies]
    return replace(chart, name=name, version=own(chart.version),
                   app_version=own(chart.app_version), dependencies=deps)  # fmt: skip


def _mark_upstream(wrapper: ChartFile, upstream: str) -> ChartFile:
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


def _blueprints(found: Survey, files: list[str]) -> None:
    by_directory = {chart.directory: name for name, chart in found.charts.items()}
    names = set(found.charts)
    for rel in files:
        source = _read(found.sources, found.root, rel)
        if b"Blueprint" not in source.raw:
            continue
        blueprint = parse_blueprint(source)
        if blueprint is None:
            continue
        chart = _chart_of_blueprint(rel, blueprint, by_directory, names)
        if chart is not None:
            found.all_blueprints[chart] = blueprint
        found.constraints += [c for c in blueprint.constraints if c.subject in names]


def _chart_of_blueprint(
    rel: str, blueprint: BlueprintFile, by_directory: dict[str, str], tracked: set[str]
) -> str | None:
    """A Blueprint mirrors the chart beside it (``./Chart.yaml`` or ``./chart/Chart.yaml``)."""
    directory = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for candidate in (directory, f"{directory}/chart" if directory else "chart"):
        if candidate in by_directory:
            return by_directory[candidate]
    return blueprint.name if blueprint.name in tracked else None


# Below this many cluster files a second process costs more than it saves.
FORK_THRESHOLD = 2000


@dataclass
class _ScannedFiles:
    """What one pass over some cluster files found (picklable: a forked child returns it)."""

    sources: dict[str, SourceFile] = field(default_factory=dict)  # the candidate files
    sites: list[PinSite] = field(default_factory=list)
    substituting: list[tuple[str, bytes]] = field(default_factory=list)  # postBuild files
    patches: list[VersionPatch] = field(default_factory=list)  # matched to releases later
    flux_excluded: bool = False  # ``components:`` excluded the Flux component
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(frozen=True)
class Unreadable:
    """A manifest that could not be read, and the charts its text names: the components of
    those charts cannot be proven, every other component is unaffected."""

    file: str
    line: int
    reason: str
    charts: frozenset[str]

    def problem(self, component: str) -> Violation:
        return Violation(self.file, self.line, f"{self.reason}; {component} is unproven")


# "file:line: reason" or "file: reason", as UsageError messages name a file.
_WHERE = re.compile(r"(?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<reason>.*)\Z", re.DOTALL)


def _unreadable(rel: str, raw: bytes, message: str, names: frozenset[str]) -> Unreadable:
    match = _WHERE.match(message)
    reason = message.removeprefix(f"{rel}: ")
    line = 1
    if match is not None and match.group("file") == rel:
        reason, line = match.group("reason"), int(match.group("line") or 1)
    reason = reason.removesuffix("; fix the file and re-run")
    named = frozenset(n for n in names if n.encode() in raw)
    return Unreadable(rel, line, reason, named)


def _releases(found: Survey, files: list[str]) -> None:
    names = frozenset(found.charts)

    def scan(chunk: Sequence[str]) -> _ScannedFiles:
        return _scan_files(found, names, chunk)

    substituting: list[tuple[str, bytes]] = []
    patches: list[VersionPatch] = []
    for part in in_two(scan, files, threshold=FORK_THRESHOLD):
        found.sources.update(part.sources)
        found.releases += part.sites
        found.unreadable += part.unreadable
        substituting += part.substituting
        patches += part.patches
    patches += _patches_by_release_name(found, files, names)
    _join_patches(found, patches)
    _substitutions(found, substituting)


def _patches_by_release_name(
    found: Survey, files: Sequence[str], names: frozenset[str]
) -> list[VersionPatch]:
    """Patches that name neither chart but the release (``flux`` deploying ``bp-flux``):
    the first pass only parsed text naming a chart, so the files it skipped are read again
    for those release names. A layout whose releases are named after their charts pays
    nothing here."""
    releases = {site.owner.rpartition("/")[2] for site in _released(found)}
    others = frozenset(releases - names)
    if not others:
        return []
    needles = names_regex_bytes(others)
    patches: list[VersionPatch] = []
    unread = {u.file for u in found.unreadable}
    for rel in files:
        if rel in found.sources or rel in unread:
            continue  # parsed (or found unreadable) in the first pass
        raw = read_raw(str(found.root), rel)
        if _may_pin(raw, needles):
            source = source_of(rel, raw)
            manifest = _scan_manifest(source, others)
            found_here = manifest.patches if manifest is not None else []
            if found_here:
                found.sources[rel] = source  # a bump edits it from the text read here
                patches += found_here
    return patches


# Marks a patch's owner in messages ("flux-system/bp-flux (patch)"); a patch is no release.
PATCH = " (patch)"


def _released(found: Survey) -> Iterator[PinSite]:
    """The HelmRelease pins of releases themselves (not of patches)."""
    return (s for s in found.releases if s.role is Role.HELMRELEASE and not s.owner.endswith(PATCH))


def _join_patches(found: Survey, patches: list[VersionPatch]) -> None:
    """A version patch pins the chart of the HelmRelease it patches (same name; same
    namespace when the patch names one); each joins the releases in file order."""
    if not patches:
        return
    charts_by_name: dict[str, set[tuple[str, str]]] = {}
    for site in _released(found):
        namespace, _, name = site.owner.rpartition("/")
        charts_by_name.setdefault(name, set()).add((namespace, site.subject))
    joined = []
    for patch in patches:
        candidates = charts_by_name.get(patch.name, set())
        charts = {c for ns, c in candidates if not patch.namespace or ns == patch.namespace}
        if len(charts) == 1:  # two charts behind one name: no guess (the gate sees both)
            joined.append(replace(patch.site, subject=charts.pop(),
                                  owner=patch.site.owner + PATCH))  # fmt: skip
    if joined:
        order = {rel: i for i, rel in enumerate(found.roles.clusters)}
        found.releases = sorted(
            [*found.releases, *joined], key=lambda s: (order.get(s.file, -1), s.start)
        )


def _scan_files(found: Survey, names: frozenset[str], files: Sequence[str]) -> _ScannedFiles:
    """Read each cluster file once; parse only the documents that may pin one of ``names``."""
    needles = names_regex_bytes(names) if names else None
    root = str(found.root)
    out = _ScannedFiles()
    for rel in files:
        source = found.sources.get(rel)
        try:
            raw = source.raw if source is not None else read_raw(root, rel)
        except UsageError as exc:  # too large to be a manifest: costs what it names, if read
            out.unreadable.append(_unreadable(rel, b"", exc.message, names))
            continue
        if b"postBuild" in raw:
            out.substituting.append((rel, raw))
        if not _may_pin(raw, needles):
            continue
        try:
            if source is None:
                source = source_of(rel, raw)
            manifest = _scan_manifest(source, names)
        except UsageError as exc:  # one bad file costs the components it names, no more
            out.unreadable.append(_unreadable(rel, raw, exc.message, names))
            continue
        if manifest is None:
            continue
        out.sources.setdefault(rel, source)
        out.sites += manifest.sites
        out.sites += [
            r.tag for r in manifest.oci_repositories if r.chart in names and r.tag is not None
        ]
        out.patches += manifest.patches
    return out


def _scan_manifest(source: SourceFile, names: frozenset[str]) -> ClusterScan | None:
    """The pins of one manifest file; None for a Go template that is not YAML."""
    try:
        return scan_manifest(source, names)
    except UsageError:
        if not _go_template(source.raw):
            raise
        return None  # helmfile or another tool renders it first: not a manifest


def _go_template(raw: bytes) -> bool:
    """A file that is a Go template (``{{ ... }}`` actions) rather than YAML: when it does not
    parse, it is something a tool renders before Kubernetes sees it."""
    return b"{{" in raw and b"}}" in raw


# Flux post-build substitution (envsubst): ``${VAR}``, or with a default for an unset VAR,
# ``${VAR:=1.2.3}``, ``${VAR:-1.2.3}`` (and ``=``/``-`` without the colon).
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}\Z")


@dataclass(frozen=True)
class Placeholder:
    """A version written as a substitution variable, and the default it falls back to."""

    variable: str
    operator: str  # ":=", ":-", "=", "-", or "" (no default)
    default: str | None

    def with_default(self, value: str) -> str:
        """The same placeholder text with another default."""
        return f"${{{self.variable}{self.operator}{value}}}"


def placeholder(value: str) -> Placeholder | None:
    """``${BP_FLUX_VERSION:=1.1.1}`` -> its variable and default; None for anything else."""
    match = PLACEHOLDER.match(value)
    if match is None:
        return None
    return Placeholder(match.group(1), match.group(2) or "", match.group(3))


def placeholder_variable(value: str) -> str | None:
    """``${BP_FLUX_VERSION}`` (with or without a default) -> ``BP_FLUX_VERSION``."""
    held = placeholder(value)
    return held.variable if held is not None else None


def default_pin(site: PinSite, setters: Setters) -> Placeholder | None:
    """The placeholder whose default is in effect: it has one and no Kustomization of this
    repo sets its variable for the site's file. That default is then the pin, moved and
    proven like one."""
    held = placeholder(site.value)
    if held is None or held.default is None or setters.of(held.variable, site.file):
        return None
    return held


def _substitutions(found: Survey, files: list[tuple[str, bytes]]) -> None:
    """Kustomization ``postBuild.substitute`` values that set a HelmRelease's version variable.

    A HelmRelease pinned as ``${VAR}`` is really pinned where VAR is set; that value is the
    pin-site, so the bump moves it and the gate proves it.
    """
    found.substituting = files
    wanted: dict[str, str] = {}
    for site in found.releases:
        variable = placeholder_variable(site.value)
        if variable is not None:
            wanted.setdefault(variable, site.subject)
    for rel, raw in files:
        if not wanted or not any(v.encode() in raw for v in wanted):
            continue
        source = found.sources.get(rel) or source_of(rel, raw)
        found.sources[rel] = source
        for site, path in substitute_sites(source, wanted):
            found.substitutions.add(str(site.path[-1]), site, _scope(found.root, path))
            found.releases.append(site)


def _scope(root: Path, path: str) -> str:
    """The directory a Kustomization's ``spec.path`` renders, relative to the repo; "" (every
    file) when it names no directory of this repo (another source, or none)."""
    rel = path.strip().removeprefix("./").strip("/")
    return rel if rel and (root / rel).is_dir() else ""


@dataclass
class Setters:
    """Flux post-build substitution: variable -> the Kustomization values that set it, and
    which files each of them renders (its ``spec.path``)."""

    by_variable: dict[str, list[PinSite]] = field(default_factory=dict)
    scopes: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, start) -> dir

    def add(self, variable: str, site: PinSite, scope: str) -> None:
        self.by_variable.setdefault(variable, []).append(site)
        self.scopes[(site.file, site.start)] = scope

    def of(self, variable: str, file: str) -> list[PinSite]:
        """The values that set ``variable`` for the manifests of ``file``."""
        return [s for s in self.by_variable.get(variable, []) if self._covers(s, file)]

    def _covers(self, site: PinSite, file: str) -> bool:
        scope = self.scopes.get((site.file, site.start), "")
        return not scope or file.startswith(scope + "/")


# First bytes of the UTF-16/32 byte-order marks: one cheap test per file before looking closer.
_WIDE_FIRST = frozenset({b"\xff", b"\xfe", b"\x00"})


def _may_pin(raw: bytes, needles: re.Pattern[bytes] | None) -> bool:
    """The file-level form of ``helmrelease.may_pin``: most cluster files fail it unparsed."""
    wide = wide_encoding(raw) if raw[:1] in _WIDE_FIRST else None
    if wide is not None:  # UTF-16/32: test its text; decoding it then names the file
        return _may_pin(raw.decode(wide, errors="replace").encode(), needles)
    if b"\\" in raw:
        return True
    if b"HelmRelease" not in raw and b"OCIRepository" not in raw:
        return False
    return needles is not None and needles.search(raw) is not None


def _structure(found: Discovery) -> None:
    """Missing or ambiguous pins that make the invariants unprovable."""
    wrapper = found.wrapper
    upstream = found.upstream_pins()
    if not upstream:
        found.problems.append(
            Violation(wrapper.file, 1, f"no '{found.component.upstream}' dependency with a version")
        )
    elif len({u.value for u in upstream}) > 1:  # the same chart under two aliases is fine
        lines = ", ".join(str(u.line) for u in upstream)
        found.problems.append(
            Violation(
                wrapper.file,
                upstream[1].line,
                f"'{found.component.upstream}' is a dependency more than once (lines {lines})",
            )
        )
    if not found.installs and found.component.install_required and has_templates(found):
        found.problems.append(_no_install(found))
    if wrapper.version is None:
        found.problems.append(Violation(wrapper.file, 1, "the wrapper chart has no 'version'"))


def has_templates(found: Discovery) -> bool:
    """A cloud-init template is optional: with none in the repo (and the default globs) the
    Flux release is installed some other way, and there is no cloud-init invariant."""
    return bool(found.templates) or found.config.cloudinit != Config().cloudinit


def _no_install(found: Discovery) -> Violation:
    """Name the template that lacks the pin, or the globs that matched no template."""
    what = "the Flux install.yaml URL pinned to an explicit vX.Y.Z"
    for rel in found.templates:
        line = _unpinned_install_line(found.sources.get(rel))
        if line is not None:
            number, text = line
            return Violation(
                rel, number, f"installs Flux from '{text}', not a literal vX.Y.Z; "
                "fluxbump pins and moves only a literal release in the URL"
            )  # fmt: skip
    if found.templates:
        return Violation(found.templates[0], 1, f"no line installs {what}")
    if not found.config.cloudinit:
        return Violation(
            CONFIG_NAME, 1, f"'cloudinit' lists no template, so none holds {what}; list them"
        )
    globs = ", ".join(found.config.cloudinit)
    return Violation(
        globs,
        1,
        f"no cloud-init template ({globs}) holds {what}; set 'cloudinit' in .fluxbump.yaml",
    )


def _unpinned_install_line(source: SourceFile | None) -> tuple[int, str] | None:
    """A line fetching Flux's release manifests without a literal version (``v${flux}``)."""
    if source is None:
        return None
    for number, line in enumerate(source.text.splitlines(), start=1):
        if "fluxcd/flux2/releases/" in line and not line.lstrip().startswith("#"):
            url = next((w for w in line.split() if "fluxcd/flux2/releases/" in w), line.strip())
            return number, url
    return None


__all__ = ["Discovery", "Role", "Survey", "discover", "survey"]
