"""Flux controller images a kustomization overrides (``images:`` ``newTag``/``digest``).

Air-gapped and hardened platforms (DoD-Platform-One/big-bang's ``base/flux``) apply Flux's
manifests through a kustomization whose ``images:`` entries send each controller to a mirror
at a tag of their own. Those tags, not the manifests', are what runs: after a bump of the
manifests (a regenerated ``gotk-components.yaml``, a moved ``?ref=``) the controllers stay at
the old tags, under the new release's CRDs. A controller's tag is not a Flux release, so
fluxbump does not move it; a bump names each one it leaves (``overridden_controllers``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fluxbump.pins import PlacedWarning
from fluxbump.scan.sites.kustomizeremote import is_kustomization
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

# Flux's controller images by name, from any registry or mirror path (``ghcr.io/fluxcd/…``,
# ``registry1.dso.mil/ironbank/fluxcd/…``, ``docker.io/fluxcd/…``).
_CONTROLLER = re.compile(
    r"(?:^|/)fluxcd/(?P<name>(?:source|kustomize|helm|notification|image-reflector|"
    r"image-automation)-controller|source-watcher)$"
)
_OVERRIDES = ("newTag", "digest")


@dataclass(frozen=True)
class ControllerOverride:
    """One ``images:`` entry that pins a Flux controller's image."""

    file: str
    line: int
    controller: str
    value: str  # its newTag (or digest)


def controller_overrides(source: SourceFile) -> list[ControllerOverride]:
    """Each ``images:`` entry of a kustomization that sets a Flux controller's tag or digest."""
    if not is_kustomization(source.rel) or b"controller" not in source.raw:
        return []
    found = []
    for root in blockyaml.compose_all(source.text, source.rel):
        for _, entry in yamldoc.items(yamldoc.child(root, "images")):
            match = _CONTROLLER.search(yamldoc.text_of(yamldoc.child(entry, "name")) or "")
            if match is None:
                continue
            for key in _OVERRIDES:
                node = yamldoc.child(entry, key)
                value = yamldoc.text_of(node)
                if value:
                    line = yamldoc.line_of(node)
                    found.append(ControllerOverride(source.rel, line, match["name"], value))
    return found


def overridden_controllers(
    overrides: list[ControllerOverride], release: str
) -> list[PlacedWarning]:
    """A warning at each override a move of Flux to ``release`` leaves as written."""
    return [
        PlacedWarning(
            o.file,
            o.line,
            f"the kustomization runs {o.controller} at {o.value} whatever release the Flux "
            f"manifests it applies are of; fluxbump does not move it: set it to the "
            f"{o.controller} of Flux {release} (its install.yaml names each controller's tag)",
        )
        for o in overrides
    ]
