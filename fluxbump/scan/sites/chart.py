"""``Chart.yaml``: a chart's own version and appVersion, and its dependency pins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc


@dataclass(frozen=True)
class ChartFile:
    """What one Chart.yaml declares, as pin-sites."""

    name: str
    file: str
    version: PinSite | None
    app_version: PinSite | None
    dependencies: list[PinSite] = field(default_factory=list)
    # Dependency name -> its ``repository`` ("" when absent): where an upstream is verified.
    repositories: dict[str, str] = field(default_factory=dict)
    # ``home`` and ``sources``: where the chart's project lives (a vendored copy names
    # another project's), read by ``scan/chartsources.py``.
    origins: tuple[str, ...] = ()

    @property
    def directory(self) -> str:
        return self.file.rsplit("/", 1)[0] if "/" in self.file else ""

    @property
    def values_file(self) -> str:
        """The repo-relative ``values.yaml`` beside the Chart.yaml: the chart's own values."""
        return f"{self.directory}/values.yaml" if self.directory else "values.yaml"

    @property
    def vendored_folder(self) -> str:
        """The repo-relative ``charts/`` beside the Chart.yaml: where Helm takes dependencies."""
        return f"{self.directory}/charts" if self.directory else "charts"


def parse_chart(source: SourceFile) -> ChartFile | None:
    """The chart declared by a Chart.yaml, or None if it has no ``name``."""
    docs = blockyaml.compose_all(source.text, source.rel)
    root = docs[0] if docs else None
    if root is not None and not yamldoc.is_mapping(root):
        raise UsageError(
            f"{source.rel}:{yamldoc.line_of(root)}: not a chart: a Chart.yaml is a mapping "
            "with 'name' and 'version'"
        )
    name = yamldoc.text_of(yamldoc.child(root, "name"))
    if not name:
        return None
    return ChartFile(
        name=name,
        file=source.rel,
        version=_own(root, source.rel, "version", Role.CHART_VERSION, name),
        app_version=_own(root, source.rel, "appVersion", Role.APP_VERSION, name),
        dependencies=_dependencies(root, source.rel, name),
        repositories=_repositories(root),
        origins=_origins(root),
    )


def _own(root: Any, rel: str, key: str, role: Role, name: str) -> PinSite | None:
    scalar = yamldoc.scalar_at(root, 0, (key,))
    return yaml_site(role, rel, scalar, subject=name, owner=name) if scalar else None


def _dependencies(root: Any, rel: str, owner: str) -> list[PinSite]:
    sites = []
    for index, dep in yamldoc.items(yamldoc.child(root, "dependencies")):
        _refuse_malformed(dep, rel)
        dep_name = yamldoc.text_of(yamldoc.child(dep, "name"))
        scalar = yamldoc.scalar_at(dep, 0, ("version",))
        if dep_name and scalar:
            scalar = _rebase(scalar, ("dependencies", index, "version"))
            sites.append(yaml_site(Role.DEPENDENCY, rel, scalar, subject=dep_name, owner=owner))
    return sites


def _refuse_malformed(dep: Any, rel: str) -> None:
    """A dependency Helm itself would reject must not silently drop a component's pins."""
    version = yamldoc.child(dep, "version")
    if (
        not yamldoc.is_mapping(dep)
        or not yamldoc.text_of(yamldoc.child(dep, "name"))
        or (version is not None and not yamldoc.is_scalar(version))
    ):
        raise UsageError(
            f"{rel}:{yamldoc.line_of(dep)}: a dependency must be a mapping with a 'name' and a "
            "scalar 'version'; fix the entry and re-run"
        )


def _repositories(root: Any) -> dict[str, str]:
    found = {}
    for _, dep in yamldoc.items(yamldoc.child(root, "dependencies")):
        name = yamldoc.text_of(yamldoc.child(dep, "name"))
        if name:
            found[name] = yamldoc.text_of(yamldoc.child(dep, "repository")) or ""
    return found


def _origins(root: Any) -> tuple[str, ...]:
    """The chart's ``home`` and ``sources`` URLs (what is not a string is left out: Helm
    lints it, no pin depends on it)."""
    home = yamldoc.text_of(yamldoc.child(root, "home"))
    sources = [yamldoc.text_of(s) for _, s in yamldoc.items(yamldoc.child(root, "sources"))]
    return tuple(url for url in (home, *sources) if url)


def _rebase(scalar: yamldoc.Scalar, path: yamldoc.YamlPath) -> yamldoc.Scalar:
    return yamldoc.Scalar(
        scalar.value, scalar.start, scalar.end, scalar.line, scalar.column, 0, path
    )
