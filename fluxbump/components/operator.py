"""Release rules of flux-operator's charts (``flux-operator``, ``flux-instance``): the release
is the chart version, published as an OCI tag; no wrapper chart holds it, so every pin of the
chart (``Discovery.release_pins``: OCIRepository, HelmRelease, helmfile, ``helm install``,
Terraform) is a source, and they must agree with each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fluxbump import versions
from fluxbump.components.rules import DiscoveredPins, Target
from fluxbump.errors import UsageError

if TYPE_CHECKING:
    from fluxbump.pins import PinSite
    from fluxbump.remote.index import HelmIndex


class OperatorRules:
    """Release rules of a flux-operator chart."""

    names_a_release = False
    exact_upstream = False

    def subject(self, found: DiscoveredPins) -> str:
        return found.component.upstream

    def named(
        self, found: DiscoveredPins, index: HelmIndex, target: str, *, offline: bool, pre: bool
    ) -> Target:
        """``to X --component flux-operator``: verified against the chart's OCI tags."""
        from fluxbump.remote.upstream import latest_chart_version, verify_chart_version

        repository, chart = found.component.helm_repo, found.component.upstream
        if target == "latest" and offline:
            raise UsageError(
                f"'latest' for --component {found.component.name} lists the tags of "
                f"{repository}/{chart}; drop --offline or name the version"
            )
        if target == "latest":
            version = versions.normalize(latest_chart_version(repository, chart, pre=pre))
            return Target(version, version)
        version = versions.normalize(target)
        if offline:
            warning = f"--offline: {chart} {version} not verified against {repository}"
            return Target(version, version, (warning,))
        verify_chart_version(repository, chart, version)
        return Target(version, version)

    def release_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> str:
        return versions.normalize(pin.value)

    def target_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> Target:
        version = versions.normalize(pin.value)
        return Target(version, version)

    def was_names_release(self, pin: PinSite) -> bool:
        return False

    def default_target(self, found: DiscoveredPins, index: HelmIndex) -> Target | None:
        """``sync`` with nothing moved: the first exact pin (what the cluster runs)."""
        pins = self.source_pins(found)
        return self.target_of(found, pins[0], index) if pins else None

    def source_pins(self, found: DiscoveredPins) -> list[PinSite]:
        return [p for p in found.release_pins if versions.is_pin(p.value)]

    def shipped(self, found: DiscoveredPins, index: HelmIndex, was: tuple[str, ...]) -> set[str]:
        return {p.value for p in self.source_pins(found)} | {w for w in was if w}


OPERATOR_RULES = OperatorRules()

# Both charts are released together from controlplaneio-fluxcd/charts with one version (every
# release of it since 0.25.0 sets the same ``version`` in both Chart.yaml): the instance chart
# of release X is the one tested with the operator of release X, so a repository pinning both
# at different versions has drifted.
SHARED_VERSION_LINE = ("flux-operator", "flux-instance")


def companions(chart: str) -> tuple[str, ...]:
    """The other charts released with ``chart`` under one version (none for any other)."""
    if chart not in SHARED_VERSION_LINE:
        return ()
    return tuple(c for c in SHARED_VERSION_LINE if c != chart)
