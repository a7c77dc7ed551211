"""Flux charts rendered by ``helm template`` and kept as plain manifests: named, never read.

mesosphere/kommander-applications applies the flux2 chart rendered by ``helm template`` (each
object labelled ``helm.sh/chart: flux2-2.18.3``) to bootstrap Flux, beside the HelmRelease that
takes Flux over. The render installs that chart's CRDs and controllers whatever the
HelmRelease pins, so a bump that leaves it behind is the incident's mismatch. fluxbump renders
no chart: it names the first object of each render, with the chart and version the render
holds, for a human to render it again when Flux moves (or to exclude the file).
"""

from __future__ import annotations

import re

from fluxbump.config import CONFIG_NAME
from fluxbump.scan.sources import SourceFile

# A file may hold a render where it has this (``releases._may_hold_release_pins``).
NEEDED = (b"helm.sh/chart",)
_CHARTS = "flux2|flux-operator|flux-instance"
# The label Helm's chart templates give every object: ``helm.sh/chart: <name>-<version>``.
_LABEL_BYTES = re.compile(rb"helm\.sh/chart[\"']?:[ \t]*[\"']?(?:" + _CHARTS.encode() + rb")-\d")
_LABEL = re.compile(
    rf"""helm\.sh/chart["']?:[ \t]*["']?(?P<chart>{_CHARTS})-(?P<version>\d[^\s"']*)"""
)


def may_hold_render(raw: bytes) -> bool:
    """Whether the file may hold objects a Flux chart rendered."""
    return _LABEL_BYTES.search(raw) is not None


def render_notes(source: SourceFile) -> list[str]:
    """A warning at the first object of each Flux chart version the file holds a render of."""
    first: dict[tuple[str, str], int] = {}
    for match in _LABEL.finditer(source.text):
        first.setdefault((match["chart"], match["version"]), match.start())
    return [
        f"{source.rel}:{source.line_at(at)}: {chart} chart {version} rendered by helm template "
        f"(helm.sh/chart: {chart}-{version}), which fluxbump does not read, check or move: render "
        f"it again from the chart version Flux moves to, or list the file under exclude: in "
        f"{CONFIG_NAME} if it installs no cluster of this repository"
        for (chart, version), at in first.items()
    ]
