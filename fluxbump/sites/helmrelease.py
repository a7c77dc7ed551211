"""Flux ``HelmRelease`` chart pins in cluster manifests, found by content.

Two shapes: ``spec.chart.spec.{chart,version}``, and ``spec.chartRef`` pointing at an
``OCIRepository`` whose ``spec.ref.tag`` is the pin (the chart is the URL's last segment,
so the tag is found on the OCIRepository itself). ``dependsOn`` names are not pins: the
cheap text test lets such documents through, and the parsed path rejects them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fluxbump import yamldoc
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.sites import blockyaml
from fluxbump.sources import SourceFile


@dataclass(frozen=True)
class OciRepository:
    """An OCIRepository and its tag pin; the chart is the URL's last path segment."""

    key: str  # namespace/name
    chart: str
    tag: PinSite | None


@dataclass(frozen=True)
class VersionPatch:
    """A HelmRelease document that sets ``spec.chart.spec.version`` but names no chart: a
    kustomize patch of the HelmRelease ``namespace/name``, which pins that release's chart.
    ``site.subject`` is empty until discovery matches the patch to its release."""

    namespace: str  # "" matches the name in any namespace, as kustomize targets do
    name: str
    site: PinSite


@dataclass
class ClusterScan:
    sites: list[PinSite]
    oci_repositories: list[OciRepository]
    patches: list[VersionPatch] = field(default_factory=list)


def scan_manifest(source: SourceFile, charts: frozenset[str]) -> ClusterScan:
    """HelmRelease pins of the given charts and the OCIRepositories that may pin them.

    Only documents whose text could hold such a pin are composed (see ``may_pin``); the
    others are never parsed, so a stray invalid document beside them is not this file's error.
    """
    scan = ClusterScan([], [])
    segments = blockyaml.split_documents(source.text)
    if segments is None:  # directives, ``...`` or odd line breaks: ruamel reads it whole
        for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
            _scan_document(source, index, root, charts, scan)
        return scan
    for segment in segments:
        if may_pin(source.text[segment.start : segment.end], charts):
            root = blockyaml.compose_segment(source.text, segment, source.rel)
            _scan_document(source, segment.index, root, charts, scan)
    return scan


def may_pin(text: str, charts: frozenset[str]) -> bool:
    """Cheap test: can this text hold a HelmRelease or OCIRepository pin of one of ``charts``?

    A pin names its chart in the text (``chart: bp-flux``, quoted, flow style, or an OCI URL
    ending in it) and its kind; only a double-quoted escape can spell either differently,
    so any backslash lets the text through to the parser.
    """
    if "\\" in text:
        return True
    if "HelmRelease" not in text and "OCIRepository" not in text:
        return False
    return bool(charts) and names_regex(charts).search(text) is not None


@lru_cache(maxsize=8)
def names_regex(charts: frozenset[str]) -> re.Pattern[str]:
    """One search for any of ``charts``: a repo has dozens of charts, and one regex scan of a
    file costs what one ``in`` test does (50 ``in`` tests over a fleet cost 1.5 s)."""
    return re.compile("|".join(re.escape(n) for n in sorted(charts, key=len, reverse=True)))


@lru_cache(maxsize=8)
def names_regex_bytes(charts: frozenset[str]) -> re.Pattern[bytes]:
    """``names_regex`` for raw file bytes."""
    return re.compile(names_regex(charts).pattern.encode())


def _scan_document(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], scan: ClusterScan
) -> None:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    if kind == "HelmRelease":
        _helmrelease(source, index, root, charts, scan)
    elif kind == "OCIRepository":
        scan.oci_repositories.append(_oci(source, index, root))


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
    scalar = yamldoc.scalar_at(root, index, ("spec", "chart", "spec", "version"))
    if scalar is None:
        return
    if chart in charts:
        scan.sites.append(
            yaml_site(Role.HELMRELEASE, source.rel, scalar, subject=chart, owner=owner)
        )
    elif chart is None and yamldoc.walk(spec, ("chart", "spec", "chart")) is None:
        meta = yamldoc.child(root, "metadata")
        namespace = yamldoc.text_of(yamldoc.child(meta, "namespace")) or ""
        name = yamldoc.text_of(yamldoc.child(meta, "name")) or ""
        if name:
            site = yaml_site(Role.HELMRELEASE, source.rel, scalar, subject="", owner=owner)
            scan.patches.append(VersionPatch(namespace, name, site))


def _oci(source: SourceFile, index: int, root: Any) -> OciRepository:
    key = _object_key(root)
    url = yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or ""
    chart = url.rstrip("/").rsplit("/", 1)[-1]
    scalar = yamldoc.scalar_at(root, index, ("spec", "ref", "tag"))
    tag = yaml_site(Role.OCI_TAG, source.rel, scalar, subject=chart, owner=key) if scalar else None
    return OciRepository(key, chart, tag)


def substitute_sites(source: SourceFile, wanted: dict[str, str]) -> list[PinSite]:
    """``spec.postBuild.substitute.VAR`` of Flux Kustomizations, for the variables wanted
    (variable -> the chart whose HelmRelease version it sets)."""
    sites = []
    for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
        if yamldoc.text_of(yamldoc.child(root, "kind")) != "Kustomization":
            continue
        owner = _object_key(root)
        for variable in yamldoc.keys(yamldoc.walk(root, ("spec", "postBuild", "substitute"))):
            scalar = yamldoc.scalar_at(root, index, ("spec", "postBuild", "substitute", variable))
            if variable in wanted and scalar is not None:
                sites.append(
                    yaml_site(
                        Role.SUBSTITUTE, source.rel, scalar, subject=wanted[variable], owner=owner
                    )
                )
    return sites
