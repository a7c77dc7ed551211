"""Flux installed from the ``flux-manifests`` OCI artifact Flux publishes with each release.

An ``OCIRepository`` (``source.toolkit.fluxcd.io/*``) whose ``spec.url`` is
``oci://ghcr.io/fluxcd/flux-manifests`` (or a mirror's ``…/fluxcd/flux-manifests``), applied
by a Flux ``Kustomization``, installs the release its ``spec.ref.tag`` names (``v2.4.0``):
Flux then reconciles itself from it. That tag is a pin of the Flux release and counts as
installed for the downgrade guard. A ``spec.ref.semver`` range (which Flux prefers to a tag)
is checked to admit the target and never rewritten; with a ``spec.ref.digest`` Flux ignores
both, and the object pins nothing fluxbump can compare.
A ``GitRepository`` of Flux's own repository (``https://github.com/fluxcd/flux2``, ``ssh://``
and ``.git`` forms) that a Flux ``Kustomization`` applies ``./manifests/install`` from is the
same pin in git: its ``spec.ref.tag`` (or ``spec.ref.semver`` range); a ``spec.ref.commit`` or
``spec.ref.name``, which Flux prefers, pins nothing to compare.
Read during the cluster-file pass, like ``FluxInstance`` (``scan/releases.py``).
"""

from __future__ import annotations

import re
from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites import object_name
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

_NEEDLES = (b"fluxcd/flux-manifests", b"fluxcd/flux2")
_NEEDLES_START = b"fluxcd/flux"
_REPOSITORY = "/fluxcd/flux-manifests"
_API_GROUP = "source.toolkit.fluxcd.io/"
# Flux's repository as a GitRepository's URL (the owner exactly: a fork is not Flux's release).
_FLUX_GIT = re.compile(r"^(?:https?|ssh)://(?:[^@/\s]+@)?github\.com[:/]fluxcd/flux2(?:\.git)?/?$")
# A source's ``ref`` fields that Flux prefers to the ones below: the object pins nothing then.
_OVERRIDES = {"OCIRepository": ("digest",), "GitRepository": ("commit", "name")}


# What ``may_hold_flux_manifests`` needs (one).
NEEDED = (_NEEDLES_START,)


def may_hold_flux_manifests(raw: bytes) -> bool:
    """The byte test run on every cluster file before any parse: the needles' common start
    first (one test, where a generator of two cost a fleet's scan a tenth of a second)."""
    return _NEEDLES_START in raw and any(needle in raw for needle in _NEEDLES)


def find_flux_manifests(source: SourceFile) -> list[PinSite]:
    """Each flux-manifests OCIRepository's ``ref.tag`` (or ``ref.semver`` range)."""
    if not may_hold_flux_manifests(source.raw):
        return []
    sites = []
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        kind = _flux_source(root)
        if kind is None:
            continue
        if any(yamldoc.walk(root, ("spec", "ref", key)) is not None for key in _OVERRIDES[kind]):
            continue  # Flux pulls the digest (the commit) and ignores semver and tag
        role, named = (
            (Role.FLUX_GIT, "fluxcd/flux2")
            if kind == "GitRepository"
            else (Role.FLUX_MANIFESTS, "flux-manifests")
        )
        owner = f"{kind} {object_name(root)} ({named})"
        for key in ("semver", "tag"):  # Flux's order: a semver range wins over a tag
            scalar = yamldoc.scalar_at(root, index, ("spec", "ref", key))
            if scalar is not None and scalar.value:
                sites.append(yaml_site(role, source.rel, scalar, subject="Flux", owner=owner))
                break
    return sites


def _flux_source(root: Any) -> str | None:
    """``OCIRepository`` of the flux-manifests artifact, ``GitRepository`` of Flux's own
    repository, else None."""
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    if kind not in _OVERRIDES or not api.startswith(_API_GROUP):
        return None
    url = (yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or "").rstrip("/")
    if kind == "OCIRepository":
        return kind if url.startswith("oci://") and url.endswith(_REPOSITORY) else None
    return kind if _FLUX_GIT.match(url) else None
