"""flux-operator's ``ResourceSet``: the objects it generates, as pin-site readers see them.

A ResourceSet (``fluxcd.controlplane.io/*``) holds whole Kubernetes objects under
``spec.resources``, which the operator applies (once per input set): the Flux Operator's
reference fleet (controlplaneio-fluxcd/d2-fleet) deploys flux-operator itself from an
``OCIRepository`` and a ``HelmRelease`` there, and its docs generate ``FluxInstance``\\s the
same way (``spec.steps[*].resources`` too, applied step by step). Each such object pins as
it would at the top of a file; its sites carry the path from the document's root
(``spec.resources[i]…``), which the splice proof checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from fluxbump.pins import PinSite
from fluxbump.yamlio import yamldoc

API_GROUP = "fluxcd.controlplane.io/"
_SPEC: yamldoc.YamlPath = ("spec",)
_STEPS: yamldoc.YamlPath = ("spec", "steps")


def objects(documents: Sequence[Any]) -> Iterator[tuple[int, Any, yamldoc.YamlPath]]:
    """``(document index, object node, its path in the document)``: each document, then,
    for a ResourceSet, each object it generates (``generated``)."""
    for index, root in enumerate(documents):
        yield index, root, ()
        for at, item in generated(root):
            yield index, item, at


def generated(root: Any) -> Iterator[tuple[yamldoc.YamlPath, Any]]:
    """``(its path in the document, object node)`` of each object a ResourceSet document
    generates: ``spec.resources``, then each of its ordered ``spec.steps``' ``resources``
    (flux-operator applies a step's once the step before is ready); nothing for any other
    document."""
    for place in _places(root):
        at = (*place, "resources")
        for position, item in yamldoc.items(yamldoc.walk(root, at)):
            yield (*at, position), item


def templates(root: Any) -> Iterator[Any]:
    """The ``resourcesTemplate`` scalar nodes of a ResourceSet document (``spec``'s and each
    step's): objects written as one Go template string, no YAML until the operator renders it."""
    for place in _places(root):
        node = yamldoc.walk(root, (*place, "resourcesTemplate"))
        if yamldoc.is_scalar(node):
            yield node


def _places(root: Any) -> Iterator[yamldoc.YamlPath]:
    """Where a ResourceSet lists what it generates: ``spec``, then each of ``spec.steps``."""
    if is_resource_set(root):
        yield _SPEC
        for step, _ in yamldoc.items(yamldoc.walk(root, _STEPS)):
            yield (*_STEPS, step)


def is_resource_set(root: Any) -> bool:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    return kind == "ResourceSet" and api.startswith(API_GROUP)


def placed(sites: list[PinSite], at: yamldoc.YamlPath) -> list[PinSite]:
    """Sites read from an object at path ``at`` of its document, with their whole path."""
    return [replace(site, path=(*at, *site.path)) for site in sites] if at else sites
