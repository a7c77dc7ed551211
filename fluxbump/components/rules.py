"""What differs between kinds of component: how a target is named, resolved and guarded.

A component's ``rules`` is one of two kinds: Flux (``flux.py``), whose release is a Flux
release mapped to a chart through ``appVersion``, and every other wrapped chart
(``chart.py``), whose release is its chart version. Choosing targets, the downgrade guard,
the invariants and the plan ask the rules and never test which component they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from fluxbump.components import Component
    from fluxbump.pins import PinSite
    from fluxbump.remote.index import HelmIndex


class Wrapper(Protocol):
    @property
    def repositories(self) -> Mapping[str, str]: ...  # dependency name -> chart repository


class DiscoveredPins(Protocol):
    """What the rules read of a component's discovered pins (``scan.discover.Discovery`` is
    one). Rules belong to components, which the scan needs, so they name no scan type."""

    @property
    def component(self) -> Component: ...
    @property
    def installs(self) -> list[PinSite]: ...
    @property
    def mirrors(self) -> list[PinSite]: ...
    @property
    def release_pins(self) -> list[PinSite]: ...
    @property
    def wrapper(self) -> Wrapper: ...
    def upstream_pins(self) -> list[PinSite]: ...


class Target(NamedTuple):
    """A release and the chart version that carries it (equal for a plain chart)."""

    release: str
    chart: str | None  # None: a release no chart carries, which no pin needs (``FluxRules``)
    warnings: tuple[str, ...] = ()


class ReleaseRules(Protocol):
    """The behaviour a component kind supplies; see the module docstring."""

    # The install pin names a release (Flux's URL) rather than a chart version, the release
    # maps to a chart through appVersion, and the chart's CRDs are guarded and validated.
    names_a_release: bool
    # The upstream pin must be exact: a range cannot be mapped to one release.
    exact_upstream: bool

    def subject(self, found: DiscoveredPins) -> str:
        """What a message calls the thing that moves: ``Flux`` or the upstream chart."""
        ...

    def named(
        self, found: DiscoveredPins, index: HelmIndex, target: str, *, offline: bool, pre: bool
    ) -> Target:
        """``fluxbump to TARGET`` (a version or ``latest``), resolved and verified."""
        ...

    def release_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> str:
        """What a moved pin asks for, comparable across pin roles."""
        ...

    def target_of(self, found: DiscoveredPins, pin: PinSite, index: HelmIndex) -> Target:
        """The target a moved pin names."""
        ...

    def was_names_release(self, pin: PinSite) -> bool:
        """Whether a moved pin's old value names a release (else a chart version)."""
        ...

    def default_target(self, found: DiscoveredPins, index: HelmIndex) -> Target | None:
        """``sync`` when no pin moved: the target the repository's source pins name."""
        ...

    def source_pins(self, found: DiscoveredPins) -> list[PinSite]:
        """The pins that say what is installed now (the downgrade guard compares them)."""
        ...

    def shipped(self, found: DiscoveredPins, index: HelmIndex, was: tuple[str, ...]) -> set[str]:
        """The releases the repository ships now, before normalisation."""
        ...
