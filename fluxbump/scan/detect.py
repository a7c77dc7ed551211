"""Which components a repository has: Flux, then every wrapper chart of an upstream chart,
with ``components:`` in .fluxbump.yaml applied (docs/ARCHITECTURE.md, "Components")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fluxbump.components import FLUX, Component, generic, is_external, unique_names
from fluxbump.config import CONFIG_NAME, Config
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sites.operator import CHARTS as OPERATOR_CHARTS

# A chart's values-mirror entries, by chart name (read once per chart by the survey).
MirrorsOf = Callable[[str], list[PinSite]]


@dataclass(frozen=True)
class Detected:
    components: list[Component]
    flux_excluded: bool  # ``components:`` excluded the Flux component


def component_for(config: Config) -> Component:
    """The Flux component with the configuration's names applied."""
    return replace(
        FLUX,
        wrapper=config.wrapper,
        upstream=config.upstream,
        helm_repo=config.helm_repo or FLUX.helm_repo,
    )


def detect(charts: dict[str, ChartFile], config: Config, mirrors_of: MirrorsOf) -> Detected:
    """Flux, then every wrapper: a chart whose upstream dependencies come from a repository.

    A chart that also depends on charts of this repo (an umbrella) wraps only the
    dependencies its values mirror names. ``components:`` in .fluxbump.yaml adds, renames
    and excludes.
    """
    flux = _flux_component(charts, config)
    detected = [flux] if flux.wrapper in charts else []
    for name, chart in sorted(charts.items()):
        upstreams = _upstreams_of(charts, chart, mirrors_of)
        for subject in upstreams:
            if subject != flux.upstream:  # Flux's chart is only ever the Flux component
                repository = chart.repositories.get(subject, "")
                component = generic(name, subject, repository, only=len(upstreams) == 1)
                by_place = name == chart.file or (
                    "/" in chart.file and name == chart.file.rsplit("/", 1)[0]
                )
                if not by_place:
                    detected.append(component)
                else:  # a chart named by its directory or file: its component by what it wraps
                    detected.append(replace(component, name=subject))
    return _configured(charts, config, unique_names(detected))


def _flux_component(charts: dict[str, ChartFile], config: Config) -> Component:
    """Flux's wrapper is the configured chart; with the default name absent, whatever chart
    depends on the community chart (a layout names its wrapper as it likes). Several such
    charts exit 2 naming them: which one the cluster runs is the user's to say."""
    flux = component_for(config)
    if flux.wrapper in charts or config.wrapper != FLUX.wrapper:
        return flux
    wrappers = sorted(
        name for name, chart in charts.items()
        if any(d.subject == flux.upstream and is_external(chart.repositories.get(d.subject, ""))
               for d in chart.dependencies)
    )  # fmt: skip
    if len(wrappers) > 1:
        raise SeveralWrappers(flux.upstream, [(n, charts[n].file) for n in wrappers])
    return replace(flux, wrapper=wrappers[0]) if wrappers else flux


class SeveralWrappers(UsageError):
    """Several charts depend on the Flux chart: which one installs Flux is the user's to say
    (``init`` says it when exactly one of them is deployed by a HelmRelease)."""

    def __init__(self, upstream: str, wrappers: list[tuple[str, str]]) -> None:
        self.upstream = upstream
        self.wrappers = wrappers  # (chart name, Chart.yaml path)
        super().__init__(
            f"{self.listed()}; set 'wrapper' to the one that installs Flux in {CONFIG_NAME}"
        )

    def listed(self) -> str:
        charts = ", ".join(f"{file} ('{name}')" for name, file in self.wrappers)
        return f"{len(self.wrappers)} charts depend on '{self.upstream}': {charts}"


def _upstreams_of(
    charts: dict[str, ChartFile], chart: ChartFile, mirrors_of: MirrorsOf
) -> list[str]:
    external = []
    for dep in chart.dependencies:
        repository = chart.repositories.get(dep.subject, "")
        known = dep.subject in charts or dep.subject in external
        if not known and is_external(repository):
            external.append(dep.subject)
    if external and any(d.subject in charts for d in chart.dependencies):
        mirrored = {m.subject for m in mirrors_of(chart.name)}
        external = [e for e in external if e in mirrored]
    return external


def _configured(
    charts: dict[str, ChartFile], config: Config, detected: list[Component]
) -> Detected:
    """Apply ``components:`` to the names ``status`` shows; a name that matches nothing, or
    two components with one name, exit 2 (a typo must not silently keep a component)."""
    components = list(detected)
    flux_excluded = False
    for entry in config.components:
        where = f"{config.where('components', entry.name) or CONFIG_NAME}: components.{entry.name}"
        if entry.excluded:
            # flux-operator's charts become components after the scan (excluded there)
            if entry.name not in {c.name for c in components} | set(OPERATOR_CHARTS):
                listed = ", ".join(c.name for c in components)
                raise UsageError(f"{where}: no component of that name to exclude (found: {listed})")
            flux_excluded |= any(c.is_flux for c in components if c.name == entry.name)
            components = [c for c in components if c.name != entry.name]
            continue
        assert entry.wrapper is not None and entry.upstream is not None
        same = [c for c in components if (c.wrapper, c.upstream) == (entry.wrapper, entry.upstream)]
        if same:
            components[components.index(same[0])] = replace(same[0], name=entry.name)
            continue
        chart = charts.get(entry.wrapper)
        if chart is None:
            raise UsageError(f"{where}: no Chart.yaml with 'name: {entry.wrapper}'")
        if entry.upstream in charts:
            raise UsageError(
                f"{where}: '{entry.upstream}' is a chart of this repo, not an upstream; "
                "charts that depend on a wrapper follow it without configuration"
            )
        flux = component_for(config)
        if (entry.wrapper, entry.upstream) == (flux.wrapper, flux.upstream):
            components.append(replace(flux, name=entry.name))  # still Flux, whatever its name
            continue
        repository = chart.repositories.get(entry.upstream, "")
        components.append(replace(generic(entry.wrapper, entry.upstream, repository, only=True),
                                  name=entry.name))  # fmt: skip
    names = [c.name for c in components]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        where = config.where("components") or CONFIG_NAME
        raise UsageError(f"{where}: two components are named '{twice[0]}'; rename one")
    return Detected(components, flux_excluded)
