"""kustomize's Helm inflator: the ``helmCharts:`` entries of a kustomization.

``kustomize build --enable-helm`` renders each entry, chart ``name`` from ``repo`` at
``version``, into its build: a bootstrap of the community flux2 chart applied before Flux
runs (robinelfrink/kube's ``bootstrap/flux``, whose HelmRelease deploys the same chart
later), whose version must then be the one the cluster's HelmRelease deploys. Each such
``version`` is a pin of that chart (``Role.KUSTOMIZE_HELM``); an entry with none renders the
newest chart, an unpinned site (``pins.unpinned``), a problem.
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import NO_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc

KEY = "helmCharts:"  # (a byte filter: a file without it holds no entry)


def holds_charts(root: Any, kind: str | None) -> bool:
    """A kustomization (its ``kind`` is optional) with a ``helmCharts:`` list."""
    return kind in (None, "Kustomization") and yamldoc.is_sequence(
        yamldoc.child(root, "helmCharts")
    )


def chart_pins(source: SourceFile, index: int, root: Any, charts: frozenset[str]) -> list[PinSite]:
    """The ``version`` of each entry rendering one of ``charts`` (its ``name``)."""
    sites = []
    for position, entry in yamldoc.items(yamldoc.child(root, "helmCharts")):
        chart = (yamldoc.text_of(yamldoc.child(entry, "name")) or "").strip()
        if chart not in charts:
            continue
        release = yamldoc.text_of(yamldoc.child(entry, "releaseName")) or chart
        owner = f"kustomize helmCharts {release}"
        path = ("helmCharts", position, "version")
        scalar = yamldoc.scalar_at(root, index, path)
        if scalar is not None and scalar.value:
            site = yaml_site(Role.KUSTOMIZE_HELM, source.rel, scalar, subject=chart, owner=owner)
            sites.append(site)
            continue
        mark = yamldoc.child(entry, "name").start_mark
        sites.append(PinSite(Role.KUSTOMIZE_HELM, source.rel, mark.line + 1, mark.column + 1,
                             NO_VERSION, chart, owner, mark.index, mark.index, index, path))  # fmt: skip
    return sites
