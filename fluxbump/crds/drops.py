"""The storedVersions guard, as pure rules: which served API versions a transition drops,
and the refusal (exit 4) or the forced warning.

The API server rejects a CRD update whose ``spec.versions`` no longer serve a version in
``status.storedVersions`` (``Invalid value: "v1": must appear in spec.versions``); Helm's
rollback of that failure deleted every Flux controller in the incident this guards against.
``fluxbump.crds.guard`` applies these rules to a repository.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fluxbump.crds.definitions import CrdVersions
from fluxbump.errors import UnsafeTransitionError

WAY_OUT = (
    "migrate stored objects first (e.g. `flux migrate`), then bump; --force-unsafe-crds overrides"
)
# `flux migrate` moves objects to the current storage version: it cannot free that one.
NO_WAY_OUT = (
    "no migration frees the current storage version: choose a target that serves it; "
    "--force-unsafe-crds overrides"
)


# What the API server's refusal of the CRD update does: under Helm (a chart of Flux), its
# rollback; where Flux's own manifests are applied (kustomize, bootstrap), the apply fails.
HELM_FAILURE = (
    "the API server would reject the CRD update and Helm's rollback removes the Flux controllers"
)
APPLY_FAILURE = "the API server would reject the CRD update, so Flux's manifests fail to apply"


@dataclass(frozen=True)
class Drop:
    """An API version the current release serves and the target does not."""

    crd: str
    version: str
    stored: bool  # the current storage version: objects are certainly stored as it
    crd_removed: bool  # the target has no such CRD at all
    # A pinned release whose storage version this was ("flux2 2.5.1"): it may be in
    # status.storedVersions on every cluster that ran that release.
    stored_by: str = ""
    # The pin history is known and no release in it stored this version: it cannot be in
    # status.storedVersions, so dropping it does not block the CRD update.
    served_only: bool = False

    def describe(self) -> str:
        notes = [
            n
            for n, on in (
                ("storage version now", self.stored),
                (f"stored by {self.stored_by}", bool(self.stored_by) and not self.stored),
                ("served only", self.served_only),
                ("CRD removed", self.crd_removed),
            )
            if on
        ]
        return f"{self.crd}/{self.version}" + (f" ({', '.join(notes)})" if notes else "")


def dropped_versions(
    current: Mapping[str, CrdVersions], target: Mapping[str, CrdVersions]
) -> list[Drop]:
    """Each API version a current CRD serves that the target release does not serve.

    Any served version may appear in ``status.storedVersions`` (the current storage version
    certainly does); the API server rejects a CRD update that drops one, which is the
    incident this guards against. A CRD missing from the target drops every version.
    """
    drops: list[Drop] = []
    for name, now in sorted(current.items()):
        then = target.get(name)
        kept = set(then.served) if then is not None else set()
        drops.extend(
            Drop(name, version, stored=version == now.storage, crd_removed=then is None)
            for version in now.served
            if version not in kept
        )
    return drops


def guard_transition(
    current_chart: str,
    target_chart: str,
    drops: Sequence[Drop],
    *,
    force: bool,
    migrated: bool = False,
    steps: str = WAY_OUT,
    basis: str = "in use now",
    failure: str = HELM_FAILURE,
) -> list[str]:
    """Refuse a transition that drops a CRD version the clusters may have stored (exit 4).

    A version only served (``Drop.served_only``) is a warning: it cannot be in
    ``status.storedVersions``. ``migrated`` (``--crds-migrated``: stored objects were moved
    with ``flux migrate``) and ``force`` (``--force-unsafe-crds``) proceed with a warning;
    a drop of the current storage version is beyond any migration: only ``force`` passes it.
    """
    blocking = [d for d in drops if not d.served_only]
    warnings = [
        f"{current_chart} -> {target_chart} stops serving {d.describe()}: no release this "
        "repository pinned stored it, so no cluster holds it in status.storedVersions"
        for d in drops
        if d.served_only
    ]
    if not blocking:
        return warnings
    listed = ", ".join(d.describe() for d in blocking)
    if any(d.stored for d in blocking):
        migrated, steps = False, NO_WAY_OUT
    if migrated:
        return [
            *warnings,
            f"--crds-migrated: recorded that stored objects were migrated (`flux migrate`) "
            f"before {current_chart} -> {target_chart}, which stops serving {listed}",
        ]
    if not force:
        raise UnsafeTransitionError(
            f"{current_chart} -> {target_chart} stops serving CRD API versions {basis}: "
            f"{listed}; {failure}; {steps}"
        )
    return [
        *warnings,
        *(
            f"--force-unsafe-crds: {current_chart} -> {target_chart} stops serving "
            f"{d.describe()}; objects stored as {d.version} must be migrated or the CRD "
            "update is rejected"
            for d in blocking
        ),
    ]
