"""Flux charts rendered by ``helm template`` and kept as plain manifests: named, never read.

mesosphere/kommander-applications applies the flux2 chart rendered by ``helm template`` (each
object labelled ``helm.sh/chart: flux2-2.18.3``) to bootstrap Flux, beside the HelmRelease that
takes Flux over. The render installs that chart's CRDs and controllers whatever the
HelmRelease pins, so a bump that leaves it behind is the incident's mismatch. fluxbump renders
no chart: it names the first object of each render, with the chart and version the render
holds, for a human to render it again when Flux moves (or to exclude the file).

A copy of a release's own manifests (its ``install.yaml``, the ``kustomize build`` of
``manifests/install`` or ``manifests/crds``) kept without the ``# Flux Version:`` header of
``flux install --export`` is the same: its objects are labelled with the release
(``app.kubernetes.io/part-of: flux``, ``app.kubernetes.io/version: v2.4.0``) and it holds a
controller's Deployment or a Flux CRD. It installs that release whatever the other pins say, so
the first object of each release it holds is named too; the header's copies are ``bootstrap``'s.
A ``kustomize build`` of ``manifests/install`` from Flux's Git repository (not its release
build) carries no version label: it is named by its controllers' image tags.
"""

from __future__ import annotations

import re

from fluxbump.config import CONFIG_NAME
from fluxbump.scan.sources import LINE_START, SourceFile

# A file may hold a render where it has one of these (``releases._may_hold_release_pins``).
NEEDED = (b"helm.sh/chart", b"part-of: flux")
_CHARTS = "flux2|flux-operator|flux-instance"
# The label Helm's chart templates give every object: ``helm.sh/chart: <name>-<version>``.
_LABEL_BYTES = re.compile(rb"helm\.sh/chart[\"']?:[ \t]*[\"']?(?:" + _CHARTS.encode() + rb")-\d")
_LABEL = re.compile(
    rf"""helm\.sh/chart["']?:[ \t]*["']?(?P<chart>{_CHARTS})-(?P<version>\d[^\s"']*)"""
)


# The labels Flux's release build gives every object of its manifests (``part-of: flux`` and
# the release, ``v2.4.0``; a flux2 chart render stripped of its ``helm.sh/chart`` label has the
# chart's appVersion, ``"2.0.0"``), in either order within one ``labels:`` mapping.
_LABELS = re.compile(
    rf"{LINE_START}(?P<indent>[ \t]*)labels:[ \t]*\r?\n(?P<body>(?:(?P=indent)[ \t]+[^\s#][^\n]*(?:\n|$))+)"
)
_PART_OF = re.compile(r"app\.kubernetes\.io/part-of: [\"']?flux[\"']?[ \t]*\r?$", re.MULTILINE)
_RELEASE = re.compile(r"app\.kubernetes\.io/version: [\"']?(?P<version>v?\d+\.\d+\.\d+[\w.+-]*)")
# What only Flux's manifests hold beside those labels (a kustomization labelling the user's own
# objects so installs nothing of Flux): a Flux CRD, a controller's image at a tag.
_FLUX_CRD = re.compile(r"group: [a-z]+\.toolkit\.fluxcd\.io")
_CONTROLLER_IMAGE = re.compile(
    r"image: [\"']?(?:[\w.-]+(?::\d+)?/)*fluxcd/(?P<name>[a-z-]+-controller|source-watcher)"
    r":(?P<tag>v?\d[\w.+-]*)"
)


def may_hold_render(raw: bytes) -> bool:
    """Whether the file may hold objects a Flux chart rendered, or a copy of Flux's release
    manifests."""
    return _LABEL_BYTES.search(raw) is not None or NEEDED[1] in raw


def render_notes(source: SourceFile, *, exported: bool) -> list[str]:
    """A warning at the first object of each Flux chart version the file holds a render of,
    else (and when it is not ``flux install --export``'s output, ``exported``) of each release
    whose manifests it holds a copy of."""
    first: dict[tuple[str, str], int] = {}
    for match in _LABEL.finditer(source.text):
        first.setdefault((match["chart"], match["version"]), match.start())
    if first:
        return [
            f"{source.rel}:{source.line_at(at)}: {chart} chart {version} rendered by helm "
            f"template (helm.sh/chart: {chart}-{version}), which fluxbump does not read, check "
            f"or move: render it again from the chart version Flux moves to, {EXCLUDE}"
            for (chart, version), at in first.items()
        ]
    return [] if exported else _copy_notes(source)


EXCLUDE = (
    f"or list the file under exclude: in {CONFIG_NAME} if it installs no cluster of this repository"
)


def _copy_notes(source: SourceFile) -> list[str]:
    """A warning at the first object of each release a copy of Flux's manifests is labelled
    with."""
    if _CONTROLLER_IMAGE.search(source.text) is None and _FLUX_CRD.search(source.text) is None:
        return []
    labelled = _labelled_releases(source)
    if not labelled:
        return _unlabelled_copy_notes(source)
    return [
        f"{source.rel}:{source.line_at(at)}: Flux {version}'s manifests (objects labelled "
        f"app.kubernetes.io/version: {version}) {_UNREAD}"
        for version, at in labelled.items()
    ]


_UNREAD = (
    "kept without the '# Flux Version:' header of 'flux install --export', which fluxbump "
    "does not read, check or move: replace them with the manifests of the release Flux "
    f"moves to, {EXCLUDE}"
)


def _unlabelled_copy_notes(source: SourceFile) -> list[str]:
    """A warning at the first object labelled part of Flux in a copy whose objects name no
    release: a ``kustomize build`` of ``manifests/install`` from Flux's Git repository (only
    its release build adds the version label), told by its controllers' tags."""
    controllers = {m["name"]: m["tag"] for m in _CONTROLLER_IMAGE.finditer(source.text)}
    # One controller's objects are a piece of an install, not one: flux-operator keeps each
    # release's manifests so, a file per controller, as data (``config/data/flux/v2.7.4/``).
    if len(controllers) < 2:
        return []
    at = next(
        (m.start("body") for m in _LABELS.finditer(source.text) if _PART_OF.search(m["body"])),
        None,
    )
    if at is None:
        return []
    tags = ", ".join(f"{name} {tag}" for name, tag in sorted(controllers.items()))
    return [
        f"{source.rel}:{source.line_at(at)}: Flux's manifests (objects labelled "
        f"app.kubernetes.io/part-of: flux, with no release label; controllers {tags}) {_UNREAD}"
    ]


def _labelled_releases(source: SourceFile) -> dict[str, int]:
    """Each release the file's objects are labelled part of Flux at, and where it is first."""
    first: dict[str, int] = {}
    for labels in _LABELS.finditer(source.text):
        body = labels.group("body")
        release = _RELEASE.search(body)
        if release is not None and _PART_OF.search(body) is not None:
            first.setdefault(release["version"], labels.start("body") + release.start("version"))
    return first
