"""Pulumi YAML programs: the Helm resources of a program's ``resources:``.

A Pulumi YAML program (``Pulumi.yaml`` with ``runtime: yaml``, or the ``Main.yaml`` beside it)
declares its resources as data: ``type: kubernetes:helm.sh/v3:Release`` (or ``v3:Chart``,
``v4:Chart``) installs ``properties.chart`` at ``properties.version`` when ``pulumi up`` runs,
as a Pulumi program in code does (``scan/programs.py`` names those: code is not read). Each such
version of a chart is a pin of it (``Role.PULUMI_HELM``); one written as an interpolation
(``${fluxChartVersion}``) is what the stack's configuration gives, shown unproven; one with none
installs the newest chart, a problem.
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import NO_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc

TYPE_PREFIX = "kubernetes:helm.sh/"  # (a byte filter: a file without it holds no such resource)


def holds_resources(root: Any, kind: str | None) -> bool:
    """A Pulumi YAML program: a ``resources:`` mapping (no Kubernetes kind)."""
    return kind is None and yamldoc.is_mapping(yamldoc.child(root, "resources"))


def chart_pins(source: SourceFile, index: int, root: Any, charts: frozenset[str]) -> list[PinSite]:
    """The ``properties.version`` of each Helm resource installing one of ``charts`` (its
    ``properties.chart``'s last segment: ``repo/flux2`` or an OCI URL)."""
    sites = []
    resources = yamldoc.child(root, "resources")
    for name in yamldoc.keys(resources):
        resource = yamldoc.child(resources, name)
        if not (yamldoc.text_of(yamldoc.child(resource, "type")) or "").startswith(TYPE_PREFIX):
            continue
        named = yamldoc.walk(resource, ("properties", "chart"))
        chart = (yamldoc.text_of(named) or "").strip().rstrip("/").rsplit("/", 1)[-1]
        if chart not in charts:
            continue
        owner = f"Pulumi resource {name}"
        path = ("resources", name, "properties", "version")
        scalar = yamldoc.scalar_at(root, index, path)
        if scalar is not None and scalar.value:
            sites.append(
                yaml_site(Role.PULUMI_HELM, source.rel, scalar, subject=chart, owner=owner)
            )
            continue
        mark = named.start_mark
        sites.append(PinSite(Role.PULUMI_HELM, source.rel, mark.line + 1, mark.column + 1,
                             NO_VERSION, chart, owner, mark.index, mark.index, index, path))  # fmt: skip
    return sites
