"""Pins kept on purpose: the ``keep:`` entries of .fluxbump.yaml (``config.KeepRule``).

A kept pin is set aside from its component's pins when the component is discovered, so the
gate does not compare it and the planner does not move it, while ``status`` still lists it,
marked kept with its reason. Set aside in this one place, check, status, to, sync and the gate
after writing all read it alike.

A keep entry may not set aside every pin of the kind that says which release is installed (a
cloud-init install, what installs an upstream at boot, a wrapper-less HelmRelease of the
upstream and, with no wrapper chart, the most trusted kind of release pin): every other pin
is checked against those and ``to`` moves them together. With the last one kept, the rest
would move away from the release the cluster runs: a chart of one Flux release applied over
an install of another, whose failed CRD update rolled back and deleted the Flux controllers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from fluxbump.config import CONFIG_NAME, KeepRule
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, PlacedWarning, installed_kind

if TYPE_CHECKING:
    from fluxbump.scan.discover import Discovery


class KeptPin(NamedTuple):
    """A pin a keep entry set aside, and that entry (its reason is printed with it)."""

    site: PinSite
    rule: KeepRule


def set_aside(found: Discovery) -> None:
    """Move the pins a keep entry names out of ``found``'s lists into ``found.kept``; the last
    pin saying which release is installed exits 2 instead (before anything is written)."""
    rules = found.config.keep
    if not rules:
        return
    loose = found.component.operator or found.component.outside_charts
    found.installs = _apart(found, found.installs, installed=True)
    found.adopted = _apart(found, found.adopted, installed=True)
    found.direct = _apart(found, found.direct, installed=True)
    found.releases = _apart(found, found.releases, installed=False)
    found.release_pins = _apart(found, found.release_pins, installed=loose)


def _apart(found: Discovery, pins: list[PinSite], *, installed: bool) -> list[PinSite]:
    """``pins`` less the kept ones (added to ``found.kept``). ``installed``: these pins say
    which release is installed, and one of their most trusted kind must stay."""
    kept = [KeptPin(s, rule) for s in pins if (rule := _rule_of(s, found.config.keep))]
    if not kept:
        return pins
    aside = {id(k.site) for k in kept}
    left = [s for s in pins if id(s) not in aside]
    if installed:
        _refuse_last(found, pins, left, kept)
    found.kept += kept
    return left


def _rule_of(site: PinSite, rules: tuple[KeepRule, ...]) -> KeepRule | None:
    return next((r for r in rules if r.matches(site.file, site.value)), None)


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


def stale_warnings(rules: tuple[KeepRule, ...], found: list[Discovery]) -> list[str]:
    """A warning for each keep entry that set aside no pin: the pin moved or is gone, and an
    entry left behind would silently keep the next pin that happens to match it."""
    used = {id(k.rule) for d in found for k in d.kept}
    return [
        PlacedWarning(
            CONFIG_NAME, rule.line,
            f"keep entry '{rule.file}' {rule.value} matches no pin fluxbump moves (the pin "
            "moved, or is gone, or is a chart's own version): remove the entry",
        )
        for rule in rules
        if id(rule) not in used
    ]  # fmt: skip


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
