"""Choosing what a bump moves to: one ``Choice`` per component, from a named target (``to``)
or from the pin Renovate moved (``sync``), and the refusals that come before any plan."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fluxbump import versions
from fluxbump.components import Component
from fluxbump.errors import ResolutionError, UnsafeTransitionError, UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.plan import Move
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import app_version_of, resolve_chart_version
from fluxbump.scan.discover import Discovery, Survey
from fluxbump.scan.moved import BaseSources, MovedPin

SYNC_SOURCES = ("cloud-init", "chart")


@dataclass(frozen=True)
class Choice:
    """One component to move, to a release and chart version (equal for non-Flux)."""

    found: Discovery
    release: str
    chart: str
    warnings: tuple[str, ...] = ()
    was_release: str | None = None  # sync: the moved pin's value at the base revision
    was_chart: str | None = None


def upstream_choice(found: Discovery, target: str, *, offline: bool, pre: bool) -> Choice:
    """A non-Flux component's chart version, verified against its repository."""
    component = found.component
    repository = found.wrapper.repositories.get(component.upstream, "")
    if target == "latest":
        return _latest_upstream_choice(found, repository, offline=offline, pre=pre)
    version = versions.normalize(target)
    if offline:
        warning = f"--offline: {component.upstream} {version} not verified against {repository or 'its repository'}"
        return Choice(found, version, version, (warning,))
    from fluxbump.remote.upstream import verify_chart_version

    verify_chart_version(repository, component.upstream, version)
    return Choice(found, version, version)


def _latest_upstream_choice(
    found: Discovery, repository: str, *, offline: bool, pre: bool
) -> Choice:
    """``to latest --component``: the highest version the dependency's repository publishes
    (stable unless ``pre``); only the repository knows it, so never offline."""
    component = found.component
    if offline:
        raise UsageError(
            f"'latest' for --component {component.name} asks {repository or 'its repository'}; "
            "drop --offline or name the version"
        )
    from fluxbump.remote.upstream import latest_chart_version

    version = versions.normalize(latest_chart_version(repository, component.upstream, pre=pre))
    return Choice(found, version, version)


def moved_choices(
    tree: Survey, index: HelmIndex, base: BaseSources, names: tuple[str, ...]
) -> list[Choice]:
    """Each component whose source pin moved since the base; none: the default source."""
    from fluxbump.scan.moved import moved_pins

    chosen = tree.select(names)
    choices = []
    for component in chosen:
        found = tree.discovery(component)
        choice = _moved_choice(found, moved_pins(found, base), index)
        if choice is not None:
            choices.append(choice)
    if choices:
        return choices
    flux = next((c for c in chosen if c.is_flux), None) if names else tree.flux()
    fallback = flux or (chosen[0] if names else None)
    if fallback is None:
        return []  # Flux excluded and nothing moved
    found = provable(tree, fallback)
    if found.component.is_flux:
        return [Choice(found, *from_cloud_init(found, index))]
    pins = [p for p in found.upstream_pins() if versions.is_pin(p.value)]
    return [Choice(found, pins[0].value, pins[0].value)] if pins else []  # a range: nothing


def provable(tree: Survey, component: Component) -> Discovery:
    """A component's discovery, refused (exit 2) when its source pins are missing or
    ambiguous: a target chosen from them would be a guess."""
    found = tree.discovery(component)
    refuse_unprovable(found)
    return found


def _moved_choice(found: Discovery, moved: list[MovedPin], index: HelmIndex) -> Choice | None:
    """The target the moved pins agree on; a moved chart pin names the exact chart."""
    from fluxbump.scan.moved import refuse_disagreement

    moved = [m for m in moved if versions.is_pin(m.site.value)]  # a range floats: no target
    if not moved:
        return None
    refuse_unprovable(found)
    refuse_disagreement(found, moved, [_release_of(found, m.site, index) for m in moved])
    preference = (Role.UPSTREAM, Role.MIRROR, Role.INSTALL)
    pin = min(moved, key=lambda m: preference.index(m.site.role))
    choice = _choice_from(found, pin.site, index)
    was = pin.was.removeprefix("v")
    if found.component.is_flux and pin.site.role is Role.INSTALL:
        return replace(choice, was_release=was)
    return replace(choice, was_chart=was)


def _release_of(found: Discovery, pin: PinSite, index: HelmIndex) -> str:
    """What a moved pin asks for, comparable across roles (Flux: a release)."""
    if found.component.is_flux and pin.role is not Role.INSTALL:
        return _flux_for_chart(found, index, pin)[0]
    return versions.normalize(pin.value)


def _choice_from(found: Discovery, pin: PinSite, index: HelmIndex) -> Choice:
    """The target a moved pin names: for Flux an install names a release, a chart pin a chart."""
    if not found.component.is_flux:
        return Choice(found, pin.value, pin.value)
    if pin.role is Role.INSTALL:
        return Choice(found, *_flux_for_release(found, index, versions.normalize(pin.value)))
    return Choice(found, *_flux_for_chart(found, index, pin))


def from_cloud_init(found: Discovery, index: HelmIndex) -> tuple[str, str]:
    """The release the cloud-init template installs, and the chart carrying it."""
    values = sorted(
        {versions.normalize(s.value) for s in found.installs if versions.is_pin(s.value)}
    )
    if len(values) != 1:
        where = ", ".join(f"{s.where} ({s.value})" for s in found.installs)
        raise UsageError(f"cloud-init pins disagree or are not X.Y.Z: {where}; fix one and re-run")
    return _flux_for_release(found, index, values[0])


def _flux_for_release(found: Discovery, index: HelmIndex, release: str) -> tuple[str, str]:
    upstream = found.component.upstream
    pinned = found.upstream_pins()[0].value
    # Keep the pinned chart when it already carries the release: sync moves only what disagrees.
    if versions.equal(app_version_of(index, upstream, pinned) or "", release):
        return release, pinned
    return release, resolve_chart_version(index, release, upstream).chart


def from_chart(found: Discovery, index: HelmIndex) -> tuple[str, str]:
    """The release (appVersion) of the pinned upstream chart, and that chart."""
    return _flux_for_chart(found, index, found.upstream_pins()[0])


def _flux_for_chart(found: Discovery, index: HelmIndex, pin: PinSite) -> tuple[str, str]:
    app = app_version_of(index, found.component.upstream, pin.value)
    if app is None or not versions.is_pin(app):
        raise ResolutionError(
            f"{pin.where}: {found.component.upstream} {pin.value} is not in the index {index.url} "
            "(or has no X.Y.Z appVersion); cannot tell which Flux release it carries"
        )
    return versions.normalize(app), pin.value


def refuse_unprovable(found: Discovery) -> None:
    """Missing or ambiguous source pins: planning from them would guess."""
    if found.problems:
        first = found.problems[0]
        more = (
            f" (and {len(found.problems) - 1} more; run 'fluxbump check')"
            if len(found.problems) > 1
            else ""
        )
        raise UsageError(f"{first.as_text()}{more}")


def shipped_releases(found: Discovery, index: HelmIndex, *was: str | None) -> frozenset[str]:
    """The releases the repo ships now (a wrapper appVersion naming one records it): for
    Flux cloud-init's and the pinned chart's appVersion; for others every source pin's
    value and ``was``, what the pin Renovate moved held at the base revision (Flux needs
    no ``was``: whichever pin moved, the other still names the old release)."""
    flux = found.component.is_flux
    shipped = {s.value for s in found.installs} | {w for w in was if w and not flux}
    for pin in found.upstream_pins():
        if found.component.is_flux:
            shipped.add(app_version_of(index, found.component.upstream, pin.value) or "")
        else:
            shipped.add(pin.value)
    if not found.component.is_flux:
        shipped |= {m.value for m in found.mirrors}
    return frozenset(versions.normalize(v) for v in shipped if versions.is_pin(v))


def refuse_downgrade(move: Move, allowed: bool) -> None:
    """Compare with the newest version any source pin names: every one of them moves."""
    found = move.found
    sources = found.installs if found.component.is_flux else found.upstream_pins()
    installed = [s.value for s in sources if versions.is_pin(s.value)]
    if allowed or not installed:
        return
    current = versions.normalize(max(installed, key=versions.sort_key))
    if versions.sort_key(move.release) < versions.sort_key(current):
        what = "Flux" if found.component.is_flux else found.component.upstream
        raise UnsafeTransitionError(
            f"{what} {versions.normalize(move.release)} is older than the installed {current}: "
            "refusing a downgrade (a downgrade can drop CRD versions the cluster has stored); "
            "--allow-downgrade overrides"
        )
