"""Release rules of every wrapped chart but Flux: the release is the chart version, verified
against the dependency's own repository (Helm index or OCI tags)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fluxbump import versions
from fluxbump.components.rules import DiscoveredPins, Target
from fluxbump.errors import UsageError

if TYPE_CHECKING:
    from fluxbump.pins import PinSite
    from fluxbump.remote.index import HelmIndex


class ChartRules:
    """Release rules of a component whose release is its chart version."""

    names_a_release = False
    exact_upstream = False  # a wrapper may float on a range: nothing to compare, not wrong

    def subject(self, found: DiscoveredPins) -> str:
        return found.component.upstream

    def named(
        self, found: DiscoveredPins, index: HelmIndex, target: str, *, offline: bool, pre: bool
    ) -> Target:
        repository = found.wrapper.repositories.get(found.component.upstream, "")
        if target == "latest":
            return _latest(found, repository, offline=offline, pre=pre)
        version = versions.normalize(target)
        if offline:
            where = repository or "its repository"
            warning = (
                f"--offline: {found.component.upstream} {version} not verified against {where}"
            )
            return Target(version, version, (warning,))
        from fluxbump.remote.upstream import verify_chart_version

        verify_chart_version(repository, found.component.upstream, version)
        return Target(version, version)

    def release_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> str:
        return versions.normalize(pin.value)

    def target_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> Target:
        return Target(pin.value, pin.value)

    def was_names_release(self, pin: PinSite) -> bool:
        return False

    def default_target(self, found: DiscoveredPins, index: HelmIndex) -> Target | None:
        pins = [p for p in found.upstream_pins() if versions.is_pin(p.value)]
        return Target(pins[0].value, pins[0].value) if pins else None  # a range: nothing

    def source_pins(self, found: DiscoveredPins) -> list[PinSite]:
        return found.upstream_pins()

    def shipped(self, found: DiscoveredPins, index: HelmIndex, was: tuple[str, ...]) -> set[str]:
        # ``was``: what the pin Renovate moved held at the base revision.
        pins = [*found.installs, *found.upstream_pins(), *found.mirrors]
        return {p.value for p in pins} | {w for w in was if w}


CHART_RULES = ChartRules()


def _latest(found: DiscoveredPins, repository: str, *, offline: bool, pre: bool) -> Target:
    """``to latest --component``: the highest version the dependency's repository publishes
    (stable unless ``pre``); only the repository knows it, so never offline."""
    if offline:
        raise UsageError(
            f"'latest' for --component {found.component.name} asks "
            f"{repository or 'its repository'}; drop --offline or name the version"
        )
    from fluxbump.remote.upstream import latest_chart_version

    latest = latest_chart_version(repository, found.component.upstream, pre=pre)
    version = versions.normalize(latest)
    return Target(version, version)
