"""Flux's release rules: a Flux release maps to the community ``flux2`` chart whose
``appVersion`` is that release; cloud-init installs name the release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fluxbump import versions
from fluxbump.components.rules import DiscoveredPins, Target
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.pins import Role
from fluxbump.resolve import (
    app_version_of,
    crd_stand_in,
    resolve_chart_version,
    same_minor_chart,
    stand_in_said,
)

if TYPE_CHECKING:
    from fluxbump.pins import PinSite
    from fluxbump.remote.index import HelmIndex


# Pins that name the Flux release itself (not a chart version): the cloud-init install URL,
# and the pins of a repository that pins Flux only outside charts (``outside_charts``).
_NAMES_RELEASE = (
    Role.INSTALL, Role.INSTANCE, Role.FLUX_MANIFESTS, Role.FLUX_GIT, Role.BOOTSTRAP,
    Role.KUSTOMIZE_REMOTE, Role.TIMONI,
    Role.TERRAFORM, Role.CLI,
)  # fmt: skip


class FluxRules:
    """Release rules of the Flux component."""

    names_a_release = True
    exact_upstream = True

    def subject(self, found: DiscoveredPins) -> str:
        return "Flux"

    def named(
        self, found: DiscoveredPins, index: HelmIndex, target: str, *, offline: bool, pre: bool
    ) -> Target:
        try:
            resolution = resolve_chart_version(index, target, found.component.upstream, pre=pre)
        except ResolutionError as exc:
            if target == "latest":
                raise
            return unchartered_target(found, index, versions.normalize(target), exc)
        return Target(resolution.release, resolution.chart)

    def release_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> str:
        if pin.role not in _NAMES_RELEASE:
            return for_chart(found, index, pin).release
        return versions.normalize(pin.value)

    def target_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> Target:
        if pin.role in _NAMES_RELEASE:
            return for_release(found, index, versions.normalize(pin.value))
        return for_chart(found, index, pin)

    def was_names_release(self, pin: PinSite) -> bool:
        return pin.role in _NAMES_RELEASE

    def default_target(self, found: DiscoveredPins, index: HelmIndex) -> Target | None:
        return from_cloud_init(found, index)

    def source_pins(self, found: DiscoveredPins) -> list[PinSite]:
        if found.component.outside_charts:  # what installs Flux (a CLI pin installs nothing)
            pins = found.release_pins
            return [p for p in pins if p.role is not Role.CLI and versions.is_pin(p.value)]
        return list(found.installs)

    def shipped(self, found: DiscoveredPins, index: HelmIndex, was: tuple[str, ...]) -> set[str]:
        # No ``was``: whichever pin moved, the other still names the old release.
        upstream = found.component.upstream
        apps = {app_version_of(index, upstream, p.value) or "" for p in found.upstream_pins()}
        return {s.value for s in found.installs} | apps


FLUX_RULES = FluxRules()


def from_cloud_init(found: DiscoveredPins, index: HelmIndex) -> Target:
    """The release the cloud-init template installs, and the chart carrying it; with no
    template, the release the first exact chart pin carries (a wrapper-less layout)."""
    charts = [p for p in found.upstream_pins() if versions.is_pin(p.value)]
    if not found.installs and charts:
        return for_chart(found, index, charts[0])
    values = sorted(
        {versions.normalize(s.value) for s in found.installs if versions.is_pin(s.value)}
    )
    if len(values) != 1:
        where = ", ".join(f"{s.where} ({s.value})" for s in found.installs)
        raise UsageError(f"cloud-init pins disagree or are not X.Y.Z: {where}; fix one and re-run")
    return for_release(found, index, values[0])


def from_chart(found: DiscoveredPins, index: HelmIndex) -> Target:
    """The release (appVersion) of the pinned upstream chart, and that chart."""
    return for_chart(found, index, found.upstream_pins()[0])


def for_release(found: DiscoveredPins, index: HelmIndex, release: str) -> Target:
    upstream = found.component.upstream
    pins = found.upstream_pins()  # none: Flux pinned only outside charts
    # Keep the pinned chart when it already carries the release: sync moves only what disagrees.
    if pins and versions.equal(app_version_of(index, upstream, pins[0].value) or "", release):
        return Target(release, pins[0].value)
    try:
        return Target(release, resolve_chart_version(index, release, upstream).chart)
    except ResolutionError as exc:
        if chartless(found) or applies_manifests(found):
            return unchartered_target(found, index, release, exc)
        # Renovate proposes a Flux release as soon as it is tagged; the community chart can
        # follow days later (or never: 2.5.0). Say what to do, in the one line Renovate shows.
        where = next((s.where for s in found.installs if versions.equal(s.value, release)), "")
        detail = exc.message.replace(" chart in the index", " chart in the index yet", 1)
        raise ResolutionError(
            f"{where + ': ' if where else ''}{detail}; nothing written: wait until a "
            f"chart carries Flux {release}, then re-run fluxbump sync (on a Renovate pull "
            "request: tick its rebase box), or move the install back"
        ) from None


# What installs a Flux no chart pin names and whose CRDs no manifest applies: flux-operator
# (it migrates the objects its clusters store itself); a CLI pin installs nothing.
_CHARTLESS = frozenset({Role.INSTANCE, Role.CLI})


def chartless(found: DiscoveredPins) -> bool:
    """Whether Flux is pinned only by FluxInstances and CLI pins: the community chart is then
    nobody's, so a release it does not carry (yet: it follows a release by days, or never, as
    2.5.0) is no reason to refuse; its CRDs are what is unknown (``chartless_target``)."""
    pins = found.release_pins
    return (
        found.component.outside_charts
        and not found.installs
        and bool(pins)
        and all(p.role in _CHARTLESS for p in pins)
    )


def applies_manifests(found: DiscoveredPins) -> bool:
    """Whether Flux is installed only by pins that apply its own manifests (a kustomize
    remote, a bootstrap, flux-manifests, Terraform: ``history.MANIFEST_INSTALLS``) beside
    FluxInstances and CLI pins, with no chart pin and no cloud-init install: no chart is
    anybody's, but the CRD guard needs the target's CRDs (nothing migrates what the clusters
    store first)."""
    return found.component.outside_charts and not found.installs and not found.upstream_pins()


def unchartered_target(
    found: DiscoveredPins, index: HelmIndex, release: str, exc: ResolutionError
) -> Target:
    """A release no chart carries, for a layout that pins no chart: ``chartless_target``, or
    with Flux's manifests applied, the CRDs of a charted release of its own minor line
    standing in for its own (``resolve.same_minor_chart``: the guard judges the move by
    them); ``exc`` re-raised, with why, when neither applies."""
    if chartless(found):
        return chartless_target(found, index, release)
    if not applies_manifests(found):
        raise exc
    upstream = found.component.upstream
    same_line = same_minor_chart(index, upstream, release)
    if same_line is None:
        none = (
            "a pre-release's may differ from its line's"
            if versions.parse(release).prerelease
            else "none carries one"
        )
        raise ResolutionError(
            f"{exc.message}; the CRD guard judges the CRDs this repository's pins apply by a "
            f"chart of Flux {release}'s minor line, and {none}: pin a release a chart "
            "carries, or wait until one carries it; nothing written"
        ) from None
    return Target(
        release, None,
        (f"no {upstream} chart carries Flux {release}: {stand_in_said(same_line, release)} "
         "stand in for its own; the CRD guard judges the move by them and Flux objects are "
         "moved off the API versions they do not serve",),
    )  # fmt: skip


def guarded_chart(
    found: DiscoveredPins, index: HelmIndex, release: str, chart: str | None
) -> str | None:
    """The chart whose CRDs the guard judges a move to ``release`` by: its own, else the one
    standing in for a release no chart carries where Flux's manifests are applied
    (``unchartered_target``); None where nothing here applies CRDs (``chartless``)."""
    if chart is not None or chartless(found) or not applies_manifests(found):
        return chart
    same_line = same_minor_chart(index, found.component.upstream, release)
    return same_line.chart if same_line is not None else None


def chartless_target(found: DiscoveredPins, index: HelmIndex, release: str) -> Target:
    """A release no chart carries, for a repository that pins none (``chartless``): moved
    to, with whose CRDs stand in for its own (``resolve.crd_stand_in``) said."""
    upstream = found.component.upstream
    stand_in = crd_stand_in(index, upstream, release)
    head = f"no {upstream} chart carries Flux {release}"
    if stand_in is None:
        judged = (
            ", so its CRDs are unknown: this repository's Flux objects were not checked or moved "
            "against them"
        )
    else:
        judged = (
            f": {stand_in_said(stand_in, release)} stand in for its own; Flux objects are "
            "moved off the API versions they do not serve"
        )
    return Target(release, None, (f"{head}{judged}; run 'fluxbump check' once a chart carries it",))


def for_chart(found: DiscoveredPins, index: HelmIndex, pin: PinSite) -> Target:
    app = app_version_of(index, found.component.upstream, pin.value)
    if app is None or not versions.is_pin(app):
        raise ResolutionError(
            f"{pin.where}: {found.component.upstream} {pin.value} is not in the index {index.url} "
            "(or has no X.Y.Z appVersion); cannot tell which Flux release it carries"
        )
    return Target(versions.normalize(app), pin.value)
