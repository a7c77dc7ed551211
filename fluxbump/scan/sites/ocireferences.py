"""Flux's charts named by an OCI reference at a tag, as a mirror list names them: named, never read.

mesosphere/kommander-applications lists what its air-gapped bundle mirrors, charts and images
alike (``artifacts_full.yaml``): ``oci://ghcr.io/fluxcd-community/charts/flux2:2.18.3`` beside
``ghcr.io/fluxcd/flux-cli:v2.8.5`` (the CLI's image, a pin fluxbump reads and moves). The
chart's line deploys nothing itself, but a mirror made from a list left at the old chart lacks
the one the moved HelmRelease installs. A list is no format fluxbump can prove an edit of (its
entries may be of several releases on purpose), so each line naming a Flux chart so is named in
a warning, for a human to move.
"""

from __future__ import annotations

import re

from fluxbump.config import CONFIG_NAME
from fluxbump.scan.sites.kustomizeremote import COMMENT
from fluxbump.scan.sources import SourceFile

# A file may hold such a reference where it has one of these (``releases._may_hold_release_pins``).
NEEDED = (b"/flux2:", b"/flux-operator:", b"/flux-instance:")
# A registry path ending in a Flux chart's name, at a version tag. Only a chart's: one written
# ``oci://…`` or under a ``charts/`` path (flux-operator's image is ``…/flux-operator:v0.33.0``).
_REFERENCE = re.compile(
    r"(?<![\w./:-])(?P<ref>(?:oci://)?[\w.-]+(?::\d+)?(?:/[\w.-]+)*?"
    r"/(?P<chart>flux2|flux-operator|flux-instance)):(?P<version>v?\d+\.\d+\.\d+[\w.+-]*)"
)


def may_hold_chart_reference(raw: bytes) -> bool:
    """Whether the file may name a Flux chart by an OCI reference at a tag."""
    return any(needle in raw for needle in NEEDED)


def chart_reference_notes(source: SourceFile) -> list[str]:
    """A warning at each line outside comments naming a Flux chart by an OCI reference at a tag."""
    notes: dict[int, str] = {}
    for match in _REFERENCE.finditer(source.text):
        reference, chart, version = match["ref"], match["chart"], match["version"]
        if not reference.startswith("oci://") and "/charts/" not in reference:
            continue  # an image, not a chart
        if COMMENT.search(source.line_before(match.start())) is not None:
            continue
        notes.setdefault(
            source.line_at(match.start()),
            f"{chart} chart {version} named by its OCI reference ({reference}:{version}, as a "
            "mirror list names it), which fluxbump does not read, check or move: move it by hand "
            f"when Flux moves, or list the file under exclude: in {CONFIG_NAME} if it is not this "
            "repository's Flux",
        )
    return [f"{source.rel}:{line}: {note}" for line, note in notes.items()]
