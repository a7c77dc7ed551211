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


@dataclass(frozen=True)
class Drop:
    """An API version the current release serves and the target does not."""

    crd: str
    version: str
    stored: bool  # the current storage version: objects are certainly stored as it
    crd_removed: bool  # the target has no such CRD at all

    def describe(self) -> str:
        notes = [
            n
            for n, on in (("storage version now", self.stored), ("CRD removed", self.crd_removed))
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
    current_chart: str, target_chart: str, drops: Sequence[Drop], *, force: bool
) -> list[str]:
    """Refuse a transition that drops served CRD versions (exit 4); forced, warn instead."""
    if not drops:
        return []
    listed = ", ".join(d.describe() for d in drops)
    if not force:
        raise UnsafeTransitionError(
            f"{current_chart} -> {target_chart} stops serving CRD API versions in use now: "
            f"{listed}; the API server would reject the CRD update and Helm's rollback removes "
            f"the Flux controllers; {WAY_OUT}"
        )
    return [
        f"--force-unsafe-crds: {current_chart} -> {target_chart} stops serving {d.describe()}; "
        f"objects stored as {d.version} must be migrated or the CRD update is rejected"
        for d in drops
    ]
