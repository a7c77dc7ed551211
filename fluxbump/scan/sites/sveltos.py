"""Sveltos profiles: the ``spec.helmCharts`` entries of a ``ClusterProfile`` or ``Profile``.

Sveltos (``config.projectsveltos.io``) installs each entry, chart ``chartName`` from
``repositoryURL`` at ``chartVersion``, on every cluster its selector matches: its own docs
install Flux so (``chartName: flux2/flux2``, ``chartVersion: 2.12.4``), and a management
cluster's HelmRelease or CLI then pins the same release. Each such ``chartVersion`` is a pin of
that chart (``Role.SVELTOS_HELM``); an entry with none (or an empty one) names no chart
version, an unpinned site (``pins.unpinned``), a problem: Sveltos' API requires one.
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import NO_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc

API_GROUP = "projectsveltos.io"  # (a byte filter: a file without it holds no profile)
_KINDS = ("ClusterProfile", "Profile")


def holds_charts(root: Any, kind: str | None) -> bool:
    """A Sveltos profile with a ``spec.helmCharts`` list."""
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    return (
        kind in _KINDS
        and api.startswith(f"config.{API_GROUP}/")
        and yamldoc.is_sequence(yamldoc.walk(root, ("spec", "helmCharts")))
    )


def chart_pins(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], owner: str
) -> list[PinSite]:
    """The ``chartVersion`` of each entry installing one of ``charts`` (``chartName``'s last
    segment: ``flux2/flux2``, the repository's name then the chart's)."""
    sites = []
    for position, entry in yamldoc.items(yamldoc.walk(root, ("spec", "helmCharts"))):
        named = (yamldoc.text_of(yamldoc.child(entry, "chartName")) or "").strip().rstrip("/")
        chart = named.rsplit("/", 1)[-1]
        if chart not in charts:
            continue
        path = ("spec", "helmCharts", position, "chartVersion")
        scalar = yamldoc.scalar_at(root, index, path)
        if scalar is not None and scalar.value:
            sites.append(
                yaml_site(Role.SVELTOS_HELM, source.rel, scalar, subject=chart, owner=owner)
            )
            continue
        mark = yamldoc.child(entry, "chartName").start_mark
        sites.append(PinSite(Role.SVELTOS_HELM, source.rel, mark.line + 1, mark.column + 1,
                             NO_VERSION, chart, owner, mark.index, mark.index, index, path))  # fmt: skip
    return sites
