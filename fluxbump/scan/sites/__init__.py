"""Pin-site kinds: one module per kind of file that pins a version.

A kind whose pins stand alone in one file is a ``FindPins``: it reads one ``SourceFile`` and
returns its ``PinSite``s, an empty list for a file of another kind (Flux CLI and CI pins,
Terraform, the ``flux bootstrap`` header, FluxInstance). ``scan/discover.py`` lists those in
``RELEASE_PIN_KINDS`` and hands each the files of its role; adding such a kind is one module
and one entry there. The other kinds need what the scan learnt elsewhere, so they take it as
arguments: the chart names a HelmRelease may deploy (``helmrelease``), the mirror path
(``values``), the install URL pattern (``cloudinit``); charts, Blueprints and Chart.locks are
parsed whole (``parse_*``) because the planner needs their other fields.
See docs/ARCHITECTURE.md, "Where a change belongs".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from fluxbump.yamlio import yamldoc

if TYPE_CHECKING:
    from fluxbump.pins import PinSite
    from fluxbump.scan.sources import SourceFile


class FindPins(Protocol):
    def __call__(self, source: SourceFile, /) -> list[PinSite]: ...


def object_name(root: Any, default_namespace: str = "") -> str:
    """``namespace/name`` of a Kubernetes object's node (``name`` without a namespace, ``?``
    without a name): the owner every site of it is named by."""
    meta = yamldoc.child(root, "metadata")
    namespace = yamldoc.text_of(yamldoc.child(meta, "namespace")) or default_namespace
    name = yamldoc.text_of(yamldoc.child(meta, "name")) or "?"
    return f"{namespace}/{name}" if namespace else name


def scalar_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the characters of a YAML scalar spanning ``text[start:end]`` are, to be edited
    as text: after its anchor or tag, and between a quoted scalar's quotes."""
    properties = yamldoc.NODE_PROPERTIES.match(text, start, end)
    start = properties.end() if properties is not None else start
    if end > start + 1 and text[start] in "\"'" and text[end - 1] == text[start]:
        start, end = start + 1, end - 1
    return start, end
