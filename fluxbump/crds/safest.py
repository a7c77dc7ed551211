"""The highest safe release: what ``to latest`` and ``resolve latest --safe`` move to.

A repository whose clusters stored an API version the newest release drops is refused every
week by the scheduled job, so it never moved even to the newest release that *is* safe. Here
each release newer than the installed one is judged, newest first, as a bump would judge it:
the storedVersions guard (against the pin history) and the validation of the manifests it
must migrate. The first one that passes is chosen; each newer one is reported with its
reason and the steps that unblock it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fluxbump import versions
from fluxbump.crds.definitions import Crd
from fluxbump.crds.drops import NO_WAY_OUT
from fluxbump.crds.guard import (
    compare_crds,
    flux_clusters,
    migration_crds,
    migration_steps,
    unknown_installs,
    unknown_release,
)
from fluxbump.crds.history import PinHistory
from fluxbump.crds.migrate import (
    FluxObject,
    migration_edits,
    repository_objects,
    unserved_somewhere,
)
from fluxbump.errors import UsageError
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import Resolution, releases, resolve_chart_version
from fluxbump.scan.discover import Discovery, Survey


@dataclass(frozen=True)
class Blocked:
    """A release newer than the chosen one, and why a bump to it is refused."""

    release: str
    chart: str
    reason: str
    steps: str

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "chart": self.chart,
            "reason": self.reason,
            "steps": self.steps,
        }

    def as_text(self) -> str:
        chart = f" (chart {self.chart})" if self.chart else ""  # ("": a release no chart carries)
        return f"Flux v{self.release}{chart} blocked: {self.reason}; {self.steps}"


@dataclass(frozen=True)
class Safest:
    """The newest safe release (None: none newer is safe) and the newer blocked ones."""

    chosen: Resolution | None
    blocked: tuple[Blocked, ...]


def newer_releases(index: HelmIndex, chart: str, installed: str, *, pre: bool) -> list[str]:
    """Flux releases some chart carries that are newer than ``installed``, newest first:
    those ``resolve_chart_version`` finds a chart for."""
    floor = versions.sort_key(installed)
    found = [r for r in releases(index, chart)
             if versions.parse(r) > floor and (pre or not versions.parse(r).prerelease)]  # fmt: skip
    return sorted(found, key=versions.sort_key, reverse=True)


def safest_release(
    found: Discovery,
    index: HelmIndex,
    tree: Survey,
    history: PinHistory | None,
    *,
    pre: bool,
    offline: bool,
    migrated: bool = False,
) -> Safest:
    """The newest release newer than the installed one whose transition is safe."""
    chart = found.component.upstream
    current = installed_release(found, index)
    if current is None:
        return Safest(resolve_chart_version(index, "latest", chart, pre=pre), ())
    candidates = [
        resolve_chart_version(index, release, chart, pre=pre)
        for release in newer_releases(index, chart, current, pre=pre)
    ]
    first = candidates[0] if candidates and not migrated else None
    unknown = _unknown_blocks(found, index, first.release, first.chart) if first else None
    if unknown is not None:  # every release alike (``bump._guard_unknown``)
        return Safest(None, (unknown,))
    target_crds = [migration_crds(index, chart, c.chart, offline=offline) for c in candidates]
    objects = repository_objects(tree, unserved_somewhere(*(c for c in target_crds if c)))
    blocked: list[Blocked] = []
    for resolution, crds in zip(candidates, target_crds, strict=True):
        why = _blocked_by(found, index, resolution.chart, crds, objects, history, offline, migrated)
        if why is None:
            return Safest(resolution, tuple(blocked))
        blocked.append(Blocked(resolution.release, resolution.chart, *why))
    return Safest(None, tuple(blocked))


def judged(
    found: Discovery,
    index: HelmIndex,
    tree: Survey,
    history: PinHistory | None,
    target: tuple[str, str],
    *,
    offline: bool,
    migrated: bool = False,
) -> Blocked | None:
    """Why a bump to ``target`` (release, chart) would be refused, judged as
    ``safest_release`` judges each newer release; None: safe."""
    release, chart = target
    unknown = None if migrated else _unknown_blocks(found, index, release, chart)
    if unknown is not None:
        return unknown
    crds = migration_crds(index, found.component.upstream, chart, offline=offline)
    objects = repository_objects(tree, unserved_somewhere(*([crds] if crds else [])))
    why = _blocked_by(found, index, chart, crds, objects, history, offline, migrated)
    return None if why is None else Blocked(release, chart, *why)


def _unknown_blocks(found: Discovery, index: HelmIndex, release: str, chart: str) -> Blocked | None:
    """An install of a release older than every chart blocks every target: what its clusters
    store is unknown (``guard.unknown_installs``)."""
    unknown = unknown_installs(found, index)
    if not unknown:
        return None
    reason = unknown_release(unknown, found.component.upstream)
    return Blocked(release, chart, reason, migration_steps(flux_clusters(found)))


def installed_release(found: Discovery, index: HelmIndex) -> str | None:
    """The newest release the repository installs: its install pins, and the app version of
    each upstream chart pin; without a chart, its release pins as ``refuse_downgrade`` reads
    them (None: nothing pinned)."""
    chart = found.component.upstream
    installed = [s.value for s in found.installs if versions.is_pin(s.value)]
    if found.component.outside_charts:  # (a FluxInstance past every chart: no 'latest' below)
        pins = [s for s in found.component.rules.source_pins(found) if versions.is_pin(s.value)]
        installed += [s.value for s in pins or found.release_pins if versions.is_pin(s.value)]
    installed += [
        app
        for pin in found.upstream_pins()
        if (app := _app_of(index, chart, pin.value)) is not None
    ]
    return max(installed, key=versions.sort_key) if installed else None


def _app_of(index: HelmIndex, chart: str, version: str) -> str | None:
    entry = index.find(chart, version)
    return entry.app_version if entry is not None and versions.is_pin(entry.app_version) else None


def _blocked_by(
    found: Discovery,
    index: HelmIndex,
    target: str,
    crds: Mapping[str, Crd] | None,
    objects: Sequence[FluxObject],
    history: PinHistory | None,
    offline: bool,
    migrated: bool,
) -> tuple[str, str] | None:
    """(reason, steps) when a bump to chart ``target`` would be refused; None when safe."""
    comparison = compare_crds(found, index, target, offline=offline, history=history)
    blocking = comparison.blocking
    if blocking and (any(d.stored for d in blocking) or not migrated):
        listed = ", ".join(d.describe() for d in blocking)
        steps = NO_WAY_OUT if any(d.stored for d in blocking) else comparison.steps()
        return f"its CRDs stop serving {listed}", steps
    if crds is not None:
        try:
            migration_edits(objects, crds, f"chart {target}")
        except UsageError as exc:
            return exc.message.removesuffix("; nothing written"), "rewrite that object, then re-run"
    return None
