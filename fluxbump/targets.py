"""Choosing what a bump moves to: one ``Choice`` per component, from a named target (``to``)
or from the pin Renovate moved (``sync``), and the refusals that come before any plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fluxbump import versions
from fluxbump.components import Component
from fluxbump.errors import UnsafeTransitionError, UsageError
from fluxbump.pins import Role
from fluxbump.plan import Move
from fluxbump.remote.index import HelmIndex
from fluxbump.scan.discover import Discovery, Survey, boot_installer
from fluxbump.scan.moved import BaseSources, MovedPin

SYNC_SOURCES = ("cloud-init", "chart")


@dataclass(frozen=True)
class Choice:
    """One component to move, to a release and chart version (equal for non-Flux)."""

    found: Discovery
    release: str
    chart: str | None
    warnings: tuple[str, ...] = ()
    was_release: str | None = None  # sync: the moved pin's value at the base revision
    was_chart: str | None = None


def named_choice(
    found: Discovery, index: HelmIndex, target: str, *, offline: bool, pre: bool
) -> Choice:
    """``fluxbump to TARGET``: the component's rules resolve and verify the target."""
    named = found.component.rules.named(found, index, target, offline=offline, pre=pre)
    return Choice(found, named.release, named.chart, named.warnings)


def refuse_shared_boot_installs(tree: Survey, choices: Sequence[Choice]) -> None:
    """A boot install of an upstream that another component's wrapper takes over too must
    equal that wrapper's dependency as well: moved with the chosen components alone, it
    leaves the other behind (the gate failed after writing and restored every file). It is
    not moved for the other (a bump of a wrapper nobody named): refused before any plan,
    naming the other component and the sync that moves both dependencies with it."""
    chosen = {c.found.component for c in choices}
    for choice in choices:
        upstream = choice.found.component.upstream
        chart = choice.chart
        if chart is None:  # a layout that pins no chart (``flux.chartless``) adopts none
            continue
        moved = {(s.file, s.start) for s in choice.found.adopted
                 if versions.is_pin(s.value) and not versions.equal(s.value, chart)}  # fmt: skip
        others = [c for c in tree.components if c not in chosen and not c.operator
                  and c.upstream == upstream] if moved else []  # fmt: skip
        for other in map(tree.discovery, others):
            _refuse_left_behind(choice, other, moved)


def _refuse_left_behind(choice: Choice, other: Discovery, moved: set[tuple[str, int]]) -> None:
    """``refuse_shared_boot_installs`` of one other component: only a boot install it agrees
    with now (one it disagrees with is its drift already, which this move does not make)."""
    pins = [p for p in other.upstream_pins() if versions.is_pin(p.value)]
    shared = [s for s in other.adopted if (s.file, s.start) in moved
              and pins and versions.equal(s.value, pins[0].value)]  # fmt: skip
    if not shared:
        return  # (a range: the gate says whether it admits the chart)
    site, chart = shared[0], other.component.upstream
    this, that = choice.found.component.name, other.component.name
    raise UsageError(
        f"{site.where}: {boot_installer(site)} installs {chart} at boot for component {that} "
        f"too ({other.wrapper.name} pins {chart} {pins[0].value} at {pins[0].where}): moving "
        f"it to {choice.chart} with {this} alone would leave {that}'s HelmRelease taking over "
        f"another chart; write {choice.chart} there and run 'fluxbump sync --component {this} "
        f"--component {that}'"
    )


def with_companions(
    tree: Survey, choices: list[Choice], index: HelmIndex, *, verify: bool, offline: bool
) -> list[Choice]:
    """``choices`` and, for a flux-operator chart, the other chart of its version line when
    the repository pins it and nothing chose it: moving one alone would leave them drifted.
    ``verify`` (``to``): the version is checked against the other chart's tags too; ``sync``
    follows the pin Renovate moved, as for the chart itself."""
    from fluxbump.components.operator import companions

    names = {c.found.component.name for c in choices}
    added = []
    for choice in (c for c in choices if c.found.component.operator):
        for chart in companions(choice.found.component.upstream):
            other = next((c for c in tree.components if c.operator and c.upstream == chart), None)
            if other is None or other.name in names:
                continue
            names.add(other.name)
            found = provable(tree, other)
            if not verify:
                added.append(Choice(found, choice.release, choice.chart))
                continue
            try:
                added.append(named_choice(found, index, choice.release, offline=offline, pre=False))
            except UsageError as error:
                raise UsageError(
                    f"{chart} moves with {choice.found.component.name} (both charts are released "
                    f"under one version): {error}"
                ) from None
    return [*choices, *added]


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
    for component in chosen:  # 'no pin moved' is no proof where a pin is missing or unread:
        refuse_unprovable(tree.discovery(component))  # Renovate's branch would carry it
    flux = next((c for c in chosen if c.is_flux), None) if names else tree.flux()
    fallback = flux or (chosen[0] if names else None)
    if fallback is None:
        return []  # Flux excluded and nothing moved
    if fallback.outside_charts:  # no install URL or chart pin to realign to: 'check' proves
        return []  # they agree
    found = tree.discovery(fallback)
    default = found.component.rules.default_target(found, index)
    return [] if default is None else [Choice(found, default.release, default.chart)]


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
    rules = found.component.rules
    refuse_disagreement(found, moved, [rules.release_of(found, m.site, index) for m in moved])
    # any other role: after them
    preference = (Role.UPSTREAM, Role.HELMRELEASE, Role.OCI_TAG, Role.MIRROR, Role.INSTALL)
    pin = min(moved, key=lambda m: _rank(preference, m.site.role))
    target = rules.target_of(found, pin.site, index)
    choice = Choice(found, target.release, target.chart, target.warnings)
    was = pin.was.removeprefix("v")
    if rules.was_names_release(pin.site):
        return replace(choice, was_release=was)
    return replace(choice, was_chart=was)


def _rank(preference: tuple[Role, ...], role: Role) -> int:
    return preference.index(role) if role in preference else len(preference)


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
    """The releases the repo ships now (a wrapper appVersion naming one records it); ``was``
    is what the pin Renovate moved held at the base revision."""
    shipped = found.component.rules.shipped(found, index, tuple(w for w in was if w))
    return frozenset(versions.normalize(v) for v in shipped if versions.is_pin(v))


def refuse_downgrade(move: Move, allowed: bool) -> None:
    """Compare with the newest version any source pin names: every one of them moves, so a
    target below any of them moves that pin down, whichever kind ``check`` trusts most
    (``installed_pin``; within one kind the two agree: both take the newest)."""
    found = move.found
    rules = found.component.rules
    installed = [s for s in rules.source_pins(found) if versions.is_pin(s.value)]
    named_only = not installed and rules.names_a_release
    if named_only:  # no exact install (a FluxInstance range, ``valuesFrom``): the CLI pins
        # name the release all the same, and would move back
        installed = [s for s in found.release_pins if versions.is_pin(s.value)]
    if allowed or not installed:
        return
    newest = max(installed, key=lambda s: versions.sort_key(s.value))
    current = versions.normalize(newest.value)
    if versions.sort_key(move.release) < versions.sort_key(current):
        than = (
            f"{current}, which {newest.where} pins (no exact pin says which release is installed)"
            if named_only
            else f"the installed {current}, which {newest.where} pins"
        )
        raise UnsafeTransitionError(
            f"{rules.subject(found)} {versions.normalize(move.release)} is older than {than}: "
            "refusing a downgrade (a downgrade can drop CRD versions the cluster has stored); "
            "--allow-downgrade overrides"
        )
