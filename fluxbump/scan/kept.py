"""Pins kept on purpose: the ``keep:`` entries of .fluxbump.yaml (``config.KeepRule``).

A kept pin is set aside from its component's pins when the component is discovered, so the
gate does not compare it and the planner does not move it, while ``status`` still lists it,
marked kept with its reason. Set aside in this one place, check, status, to, sync and the gate
after writing all read it alike.

An entry matches a pin by its file and value, so the same value may be another component's
pin in those files (a cluster kept at bp-flux 1.1.1 whose bp-cilium is 1.1.1 too): an entry
keeps only pins of one component, the one its ``component:`` names, or else the one that
holds every pin it matches (an umbrella's release is every component's: one pin); when none
does, it exits 2 asking for ``component:``. A kept pin is kept in every component holding it.

A keep entry may not set aside every pin of the kind that says which release is installed (a
cloud-init install, what installs an upstream at boot, a wrapper-less HelmRelease of the
upstream and, with no wrapper chart, the most trusted kind of release pin): every other pin
is checked against those and ``to`` moves them together. With the last one kept, the rest
would move away from the release the cluster runs: a chart of one Flux release applied over
an install of another, whose failed CRD update rolled back and deleted the Flux controllers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, NamedTuple

from fluxbump.config import CONFIG_NAME, KeepRule
from fluxbump.errors import FluxbumpError, UsageError
from fluxbump.pins import PinSite, PlacedWarning, installed_kind
from fluxbump.scan.sites.helmrelease import scan_manifest
from fluxbump.scan.sources import SourceFile

if TYPE_CHECKING:
    from fluxbump.scan.discover import Discovery


Held = Mapping[tuple[str, int], tuple[PinSite, frozenset[str]]]  # (file, start): components


class KeptPin(NamedTuple):
    """A pin a keep entry set aside, and that entry (its reason is printed with it)."""

    site: PinSite
    rule: KeepRule


def keepable(found: Discovery) -> list[PinSite]:
    """The pins of ``found`` a keep entry may set aside (kept ones included)."""
    return [*found.installs, *found.adopted, *found.direct, *found.releases,
            *found.release_pins, *(k.site for k in found.kept)]  # fmt: skip


def set_aside(found: Discovery, held: Held) -> None:
    """Move the pins a keep entry names out of ``found``'s lists into ``found.kept``; the last
    pin saying which release is installed, or an entry matching pins of more than one
    component with no ``component:``, exits 2 instead (before anything is written).
    ``held``: every component's keepable pins, by the components holding each."""
    rules = found.config.keep
    if not rules:
        return
    sites = keepable(found)
    owners = {rule: _owner(rule, held) for rule in rules if _touches(rule, sites)}
    loose = found.component.operator or found.component.outside_charts
    apart = _Apart(found, held, owners)
    found.installs = apart(found.installs, installed=True)
    found.adopted = apart(found.adopted, installed=True)
    found.direct = apart(found.direct, installed=True)
    found.releases = apart(found.releases, installed=False)
    found.release_pins = apart(found.release_pins, installed=loose)


def _touches(rule: KeepRule, sites: list[PinSite]) -> bool:
    """Whether ``rule`` may keep one of ``sites``: an entry that matches none of a
    component's pins is judged (and an ambiguous one refused) in the discovery of a
    component whose pin it does match."""
    return any(rule.matches(site.file, site.value) for site in sites)


def loose_rules_touch(rules: Collection[KeepRule], found: Discovery) -> bool:
    """Whether an entry naming no component matches one of ``found``'s pins: whether it
    keeps that pin depends on which components hold every pin it matches, so every
    component's pins must be known (``Held``); otherwise only the components the entries
    name, and ``found``'s own, are."""
    sites = keepable(found)
    return any(rule.component is None and _touches(rule, sites) for rule in rules)


def _owner(rule: KeepRule, held: Held) -> frozenset[str] | None:
    """The components whose pins ``rule`` keeps: the one it names, else those holding every
    pin it matches (None: it matches none of theirs); none is ambiguous (exit 2)."""
    if rule.component is not None:
        return frozenset({rule.component})
    matched = [
        (site, names) for site, names in held.values() if rule.matches(site.file, site.value)
    ]
    if not matched:
        return None
    common = frozenset.intersection(*(names for _, names in matched))
    if common:
        return common
    first, one = matched[0]
    second, other = _parting(matched)
    raise UsageError(
        f"{rule.where}: keep entry '{rule.file}' {rule.value} matches pins of more than one "
        f"component ({first.where} {first.label} of {_names(one)}, {second.where} "
        f"{second.label} of {_names(other)}): add 'component: NAME' to the entry to say whose "
        "pin it keeps"
    )


def _parting(matched: list[tuple[PinSite, frozenset[str]]]) -> tuple[PinSite, frozenset[str]]:
    """The first pin after which no component holds every pin matched so far."""
    running = matched[0][1]
    for site, names in matched[1:]:
        running &= names
        if not running:
            return site, names
    raise AssertionError("the pins share a component")  # (the caller checked they do not)


def _names(components: frozenset[str]) -> str:
    return ", ".join(sorted(components))


class _Apart:
    """Splits a list of pins into those kept (added to ``found.kept``) and the rest."""

    def __init__(
        self, found: Discovery, held: Held, owners: dict[KeepRule, frozenset[str] | None]
    ) -> None:
        self.found, self.held, self.owners = found, held, owners

    def __call__(self, pins: list[PinSite], *, installed: bool) -> list[PinSite]:
        """``pins`` less the kept ones. ``installed``: these pins say which release is
        installed, and one of their most trusted kind must stay."""
        kept = [KeptPin(s, rule) for s in pins if (rule := self._rule_of(s))]
        if not kept:
            return pins
        aside = {id(k.site) for k in kept}
        left = [s for s in pins if id(s) not in aside]
        if installed:
            _refuse_last(self.found, pins, left, kept)
        self.found.kept += kept
        return left

    def _rule_of(self, site: PinSite) -> KeepRule | None:
        holders = self._holders(site)
        return next(
            (r for r in self.found.config.keep
             if r.matches(site.file, site.value) and self._owned(holders, self.owners[r])),
            None,
        )  # fmt: skip

    @staticmethod
    def _owned(holders: frozenset[str], owner: frozenset[str] | None) -> bool:
        return owner is None or bool(holders & owner)

    def _holders(self, site: PinSite) -> frozenset[str]:
        entry = self.held.get((site.file, site.start))
        return entry[1] if entry is not None else frozenset({self.found.component.name})


def _refuse_last(
    found: Discovery, pins: list[PinSite], left: list[PinSite], kept: list[KeptPin]
) -> None:
    trusted = {id(p) for p in installed_kind(pins)}
    if not trusted or any(id(s) in trusted for s in left):
        return
    site, rule = next(k for k in kept if id(k.site) in trusted)
    raise UsageError(
        f"{rule.where}: keep entry '{rule.file}' {rule.value} would set aside {site.where} "
        f"({site.label} {site.value}), the last pin saying which {found.component.name} "
        "release is installed: the other pins are checked against it and 'to' moves them "
        "together, so kept they would move away from what the cluster runs (a chart of one "
        "release over an install of another); keep only pins beside it, or remove the entry"
    )


def stale_warnings(
    rules: tuple[KeepRule, ...], found: list[Discovery], untracked: Callable[[KeepRule], str | None]
) -> list[str]:
    """A warning for each keep entry that set aside no pin: the pin moved or is gone, and an
    entry left behind would silently keep the next pin that happens to match it. An entry
    about a chart no component tracks (``untracked``: its name, else None) says so: nothing
    checks or moves that chart's pins, so there is nothing to keep."""
    used = {id(k.rule) for d in found for k in d.kept}
    components = ", ".join(sorted({d.component.name for d in found}))
    return [
        PlacedWarning(CONFIG_NAME, rule.line, _unused(rule, components, untracked(rule)))
        for rule in rules
        if id(rule) not in used
    ]


def _unused(rule: KeepRule, components: str, chart: str | None) -> str:
    head = f"keep entry '{rule.file}' {rule.value}"
    if chart is not None:
        return (
            f"{head}: chart {chart} is not one fluxbump bumps (no component tracks it: its "
            f"pins are neither checked nor moved, so there is nothing to keep; components: "
            f"{components}): remove the entry"
        )
    if rule.component is not None and rule.component not in components.split(", "):
        return (
            f"{head}: component '{rule.component}' is none of this repository's "
            f"({components}): correct the name or remove the entry"
        )
    return (
        f"{head} matches no pin fluxbump moves (the pin moved, or is gone, or is a chart's "
        "own version): remove the entry"
    )


# A HelmRelease's chart name, to scan the files an entry matches for charts of any name.
_CHART_NAME = re.compile(r"^[ \t]*chart:[ \t]*[\"']?([\w./-]+)", re.MULTILINE)


def untracked_chart(
    rule: KeepRule, files: list[SourceFile], covered: Collection[str], local: Collection[str]
) -> str | None:
    """The chart no component tracks (``covered``) that ``rule`` is about: the one its
    ``component:`` names (a chart of the repository, ``local``, or one a HelmRelease of its
    ``files`` deploys), else one such a HelmRelease pins at its value; None when none is."""
    if rule.component is not None:
        name = rule.component
        if name in covered or not (name in local or any(_pins(f, {name}) for f in files)):
            return None
        return name
    for source in files:
        for site in _pins(source, set(_CHART_NAME.findall(source.text)) - set(covered)):
            if rule.matches(site.file, site.value):
                return site.subject
    return None


def _pins(source: SourceFile, charts: set[str]) -> list[PinSite]:
    """The HelmRelease pins of ``charts`` in ``source``; none in a file that is not YAML
    (a template a tool renders): it pins nothing here."""
    if not charts:
        return []
    try:
        return scan_manifest(source, frozenset(charts)).sites
    except FluxbumpError:
        return []


def kept_note(found: list[Discovery]) -> list[str]:
    """``to``'s one line naming the pins it left where they are, and why (the first's)."""
    kept = list({(k.site.file, k.site.start): k for d in found for k in d.kept}.values())
    if not kept:
        return []
    site, rule = kept[0]
    more = f" and {len(kept) - 1} more" if len(kept) > 1 else ""
    return [
        f"kept, not moved ('keep' in {CONFIG_NAME}): {site.where} {site.value} "
        f"({rule.reason}){more}"
    ]
