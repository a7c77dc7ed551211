"""Helm charts a cluster-management controller installs on the clusters it manages.

Cluster API's Helm add-on provider (``HelmChartProxy``, ``addons.cluster.x-k8s.io``) installs
chart ``spec.chartName`` from ``spec.repoURL`` at ``spec.version`` on every workload cluster its
selector matches; Crossplane's Helm provider (``Release``, ``helm.crossplane.io``) installs
``spec.forProvider.chart`` (``name``, ``repository``, ``version``) on the cluster its provider
config names. Either is how a management cluster gives its workload clusters Flux (the community
flux2 chart), beside the HelmRelease or CLI that pins the management cluster's own: each such
version is a pin of that chart. One with none installs the newest chart (Cluster API keeps it
"up to date with the latest version"; Crossplane takes the latest once), an unpinned site
(``pins.unpinned``), a problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluxbump.pins import NO_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc


@dataclass(frozen=True)
class Installer:
    """One kind of object that installs a chart: where it names the chart and its version."""

    group: str  # its API group (a byte filter: a file without one holds no such object)
    kind: str
    chart: yamldoc.YamlPath
    version: yamldoc.YamlPath
    role: Role


INSTALLERS = (
    Installer("addons.cluster.x-k8s.io", "HelmChartProxy", ("spec", "chartName"),
              ("spec", "version"), Role.CAPI_HELM),
    Installer("helm.crossplane.io", "Release", ("spec", "forProvider", "chart", "name"),
              ("spec", "forProvider", "chart", "version"), Role.CROSSPLANE_HELM),
)  # fmt: skip
API_GROUPS = tuple(installer.group for installer in INSTALLERS)


def installer_of(root: Any, kind: str | None) -> Installer | None:
    """The installer a document is, by its kind and API group; None for any other."""
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    found = (i for i in INSTALLERS if i.kind == kind and api.startswith(f"{i.group}/"))
    return next(found, None)


def chart_pin(
    source: SourceFile, index: int, root: Any, installer: Installer, charts: frozenset[str],
    owner: str,
) -> PinSite | None:  # fmt: skip
    """The version at which the object installs one of ``charts`` (its chart's name, the
    last segment of a path), unpinned when it gives none; None for another chart."""
    named = yamldoc.walk(root, installer.chart)
    chart = (yamldoc.text_of(named) or "").strip().rstrip("/").rsplit("/", 1)[-1]
    if chart not in charts:
        return None
    scalar = yamldoc.scalar_at(root, index, installer.version)
    if scalar is not None and scalar.value:
        return yaml_site(installer.role, source.rel, scalar, subject=chart, owner=owner)
    mark = named.start_mark
    return PinSite(installer.role, source.rel, mark.line + 1, mark.column + 1, NO_VERSION, chart,
                   owner, mark.index, mark.index, index, installer.version)  # fmt: skip
