"""``flux bootstrap`` system manifests: the ``# Flux Version: vX.Y.Z`` header of
``gotk-components.yaml``, which ``flux install --export`` writes above the manifests of that
release.

The header is a pin of the Flux release (``check`` reports one that disagrees), but the file
is generated: moving it means regenerating every manifest under it, not editing the header,
so the plan refuses a move that would change it (see ``plan.py``).
"""

from __future__ import annotations

import re

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sources import SourceFile

_HEADER = re.compile(r"^# Flux Version: (?P<version>\S+)[ \t]*\r?$", re.MULTILINE)
_COMPONENTS = re.compile(r"^# Components: (?P<list>\S+)", re.MULTILINE)
# flux bootstrap writes the header in the file's first lines; later matches are not it.
_HEAD_BYTES = 1024


def find_bootstrap_header(source: SourceFile) -> list[PinSite]:
    """The header's version, when the file is a ``gotk-components.yaml`` that has one."""
    if not source.rel.endswith("gotk-components.yaml"):
        return []
    match = _HEADER.search(source.text, 0, _HEAD_BYTES)
    if match is None:
        return []
    start, value = match.start("version"), match.group("version")
    components = _COMPONENTS.search(source.text, 0, _HEAD_BYTES)
    owner = f"flux bootstrap ({components.group('list')})" if components else "flux bootstrap"
    line_start = source.text.rfind("\n", 0, start) + 1
    return [
        PinSite(
            Role.BOOTSTRAP, source.rel, source.line_at(start), start - line_start + 1, value,
            "Flux", owner, start, start + len(value),
        )
    ]  # fmt: skip
