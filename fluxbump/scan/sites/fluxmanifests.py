"""Flux installed from the ``flux-manifests`` OCI artifact Flux publishes with each release.

An ``OCIRepository`` (``source.toolkit.fluxcd.io/*``) whose ``spec.url`` is
``oci://ghcr.io/fluxcd/flux-manifests`` (or a mirror's ``…/fluxcd/flux-manifests``), applied
by a Flux ``Kustomization``, installs the release its ``spec.ref.tag`` names (``v2.4.0``):
Flux then reconciles itself from it. That tag is a pin of the Flux release and counts as
installed for the downgrade guard. A ``spec.ref.semver`` range (which Flux prefers to a tag)
is checked to admit the target and never rewritten; with a ``spec.ref.digest`` Flux ignores
both, and the object pins nothing fluxbump can compare.
Read during the cluster-file pass, like ``FluxInstance`` (``scan/releases.py``).
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites.fluxinstance import object_name
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

_NEEDLE = b"fluxcd/flux-manifests"
_REPOSITORY = "/fluxcd/flux-manifests"
_API_GROUP = "source.toolkit.fluxcd.io/"


def may_hold_flux_manifests(raw: bytes) -> bool:
    """The byte test run on every cluster file before any parse."""
    return _NEEDLE in raw


def find_flux_manifests(source: SourceFile) -> list[PinSite]:
    """Each flux-manifests OCIRepository's ``ref.tag`` (or ``ref.semver`` range)."""
    if not may_hold_flux_manifests(source.raw):
        return []
    sites = []
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        if not _is_flux_manifests(root):
            continue
        if yamldoc.walk(root, ("spec", "ref", "digest")) is not None:
            continue  # Flux pulls the digest and ignores semver and tag
        owner = f"OCIRepository {object_name(root)} (flux-manifests)"
        for key in ("semver", "tag"):  # Flux's order: a semver range wins over a tag
            scalar = yamldoc.scalar_at(root, index, ("spec", "ref", key))
            if scalar is not None and scalar.value:
                sites.append(
                    yaml_site(Role.FLUX_MANIFESTS, source.rel, scalar, subject="Flux", owner=owner)
                )
                break
    return sites


def _is_flux_manifests(root: Any) -> bool:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    url = (yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or "").rstrip("/")
    return (
        kind == "OCIRepository"
        and api.startswith(_API_GROUP)
        and url.startswith("oci://")
        and url.endswith(_REPOSITORY)
    )
