"""Argo CD deploying a chart: the Helm sources of an ``Application`` and of an
``ApplicationSet``'s template, found among the cluster manifests (``helmrelease.scan_manifest``).

A Helm source (``spec.source``, or an entry of ``spec.sources``) names its chart by ``chart``
and pins it by ``targetRevision`` (Argo CD's docs: for a Helm repository, the chart version;
a source of a git repository has ``path``, no ``chart``). An ApplicationSet stamps one
Application per parameter set its generators give, each from ``spec.template``: a literal
``targetRevision`` there is every generated Application's.
"""

from __future__ import annotations

import re
from typing import Any

from fluxbump.pins import NO_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc

_ARGO_API = re.compile(r"argoproj\.io/")
# Where each kind holds an Application's spec.
_SPECS: dict[str, yamldoc.YamlPath] = {
    "Application": ("spec",),
    "ApplicationSet": ("spec", "template", "spec"),
}


def holds_application(root: Any, kind: str | None) -> bool:
    """Whether the document of ``kind`` is an Argo CD Application or ApplicationSet."""
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    return kind in _SPECS and _ARGO_API.match(api) is not None


def helm_sources(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], key: str
) -> tuple[list[PinSite], list[PinSite]]:
    """The ``targetRevision`` of each Helm source deploying one of ``charts`` of the object
    ``key`` (namespace/name), and, apart, each such source with none, null or empty: it names
    no chart version (an unpinned site, ``pins.unpinned``)."""
    kind = yamldoc.text_of(yamldoc.child(root, "kind")) or ""
    spec = _SPECS[kind]
    owner = f"{kind} {key}"
    listed = yamldoc.items(yamldoc.walk(root, (*spec, "sources")))
    sites: list[PinSite] = []
    unpinned: list[PinSite] = []
    for path in [(*spec, "source"), *((*spec, "sources", i) for i, _ in listed)]:
        held = yamldoc.walk(root, path)
        named = yamldoc.text_of(yamldoc.child(held, "chart")) or ""
        chart = named.rstrip("/").rsplit("/", 1)[-1]
        if chart not in charts:
            continue
        revision = yamldoc.child(held, "targetRevision")
        scalar = yamldoc.located(revision, index, (*path, "targetRevision"))
        if scalar is None or not scalar.value or yamldoc.is_null(revision):
            unpinned.append(_untargeted(source, index, held, chart, owner))
        else:
            sites.append(yaml_site(Role.ARGO_APP, source.rel, scalar, subject=chart, owner=owner))
    return sites, unpinned


def _untargeted(source: SourceFile, index: int, held: Any, chart: str, owner: str) -> PinSite:
    """A Helm source of ``chart`` with no chart version: at its ``targetRevision`` key when
    it has one (null, empty or a collection), else at its ``chart:`` line."""
    keys = {k.value: k for k, _ in held.value if yamldoc.is_scalar(k)}
    node = keys.get("targetRevision") or keys.get("chart") or held  # (``chart`` by a merge key)
    mark = node.start_mark
    return PinSite(Role.ARGO_APP, source.rel, mark.line + 1, mark.column + 1, NO_VERSION, chart,
                   owner, mark.index, mark.index, index, ())  # fmt: skip
