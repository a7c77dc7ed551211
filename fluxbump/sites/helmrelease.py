"""Flux ``HelmRelease`` chart pins in cluster manifests, found by content.

Two shapes: ``spec.chart.spec.{chart,version}``, and ``spec.chartRef`` pointing at an
``OCIRepository`` whose ``spec.ref.tag`` is the pin (the chart is the URL's last segment,
so the tag is found on the OCIRepository itself). ``dependsOn`` names are not pins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluxbump import yamldoc
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.sources import SourceFile


@dataclass(frozen=True)
class OciRepository:
    """An OCIRepository and its tag pin; the chart is the URL's last path segment."""

    key: str  # namespace/name
    chart: str
    tag: PinSite | None


@dataclass
class ClusterScan:
    sites: list[PinSite]
    oci_repositories: list[OciRepository]


def scan_manifest(source: SourceFile, charts: frozenset[str]) -> ClusterScan:
    """HelmRelease pins of the given charts and the OCIRepositories in one file."""
    scan = ClusterScan([], [])
    for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
        kind = yamldoc.text_of(yamldoc.child(root, "kind"))
        if kind == "HelmRelease":
            _helmrelease(source, index, root, charts, scan)
        elif kind == "OCIRepository":
            scan.oci_repositories.append(_oci(source, index, root))
    return scan


def _object_key(root: Any, default_namespace: str = "") -> str:
    meta = yamldoc.child(root, "metadata")
    namespace = yamldoc.text_of(yamldoc.child(meta, "namespace")) or default_namespace
    name = yamldoc.text_of(yamldoc.child(meta, "name")) or "?"
    return f"{namespace}/{name}" if namespace else name


def _helmrelease(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], scan: ClusterScan
) -> None:
    owner = _object_key(root)
    spec = yamldoc.child(root, "spec")
    chart = yamldoc.text_of(yamldoc.walk(spec, ("chart", "spec", "chart")))
    if chart in charts:
        scalar = yamldoc.scalar_at(root, index, ("spec", "chart", "spec", "version"))
        if scalar is not None:
            scan.sites.append(
                yaml_site(Role.HELMRELEASE, source.rel, scalar, subject=chart, owner=owner)
            )


def _oci(source: SourceFile, index: int, root: Any) -> OciRepository:
    key = _object_key(root)
    url = yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or ""
    chart = url.rstrip("/").rsplit("/", 1)[-1]
    scalar = yamldoc.scalar_at(root, index, ("spec", "ref", "tag"))
    tag = yaml_site(Role.OCI_TAG, source.rel, scalar, subject=chart, owner=key) if scalar else None
    return OciRepository(key, chart, tag)
