"""``fluxbump init``: write ``.fluxbump.yaml`` describing what discovery found."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from fluxbump.components import Component
from fluxbump.config import CONFIG_NAME, Config, load_config, parse_config
from fluxbump.errors import UsageError
from fluxbump.output import one_line
from fluxbump.pins import PinSite, Role
from fluxbump.scan.detect import SeveralWrappers
from fluxbump.scan.discover import survey


def render_init(root: Path) -> str:
    """The configuration text for the repo at ``root`` (validated by parsing it back)."""
    config = load_config(root)
    try:
        tree = survey(root, config)
    except SeveralWrappers as several:
        config = replace(config, wrapper=_deployed_wrapper(root, config, several))
        tree = survey(root, config)
    # The components are the charts': one that cannot be read would be left out of (or, a
    # wrapper, misnamed in) a configuration that outlives the fix.
    unread = next((u for u in tree.unreadable if u.file.endswith("Chart.yaml")), None)
    if unread is not None:
        raise UsageError(
            f"{unread.file}:{unread.line}: {unread.reason}; init writes the components the "
            "charts define: fix it first"
        )
    others = [c for c in tree.components if not c.is_flux and not c.operator]  # found by content
    flux = tree.flux()
    if (flux is None or flux.outside_charts) and not tree.flux_excluded:
        # A flux-operator or flux bootstrap layout (or no Flux at all): no wrapper chart, and
        # still the pins of Flux outside charts and the other components to write down.
        pins = tree.release_pins()
        operators = [c.name for c in tree.components if c.operator]  # found by content
        summary = (
            f"{len(pins)} Flux pin(s) outside charts; no Flux wrapper chart (none depends on "
            f"'{config.upstream}'); {len(others)} other component(s)"
            + (f"; flux-operator chart(s): {', '.join(operators)}" if operators else "")
        )
        return _config_text(config, config.wrapper, pins, summary, others)
    found = tree.discovery(tree.required_flux())
    templates = ", ".join(sorted({s.file for s in found.installs})) or "none"
    if found.component.direct:  # the default name, absent: discovery finds them again
        deployed = ", ".join(sorted({s.file for s in found.direct}))
        wrapper = f"none (HelmReleases deploy {found.component.upstream}: {deployed})"
    else:
        wrapper = found.wrapper.file
    summary = (
        f"{len(found.sites())} pin-sites; cloud-init {templates}; wrapper {wrapper}; "
        f"{max(len(found.tracked) - 1, 0)} dependent chart(s); "
        f"{len(found.releases) + len(found.direct)} HelmRelease pin(s)"
    )
    # the chart discovery chose, whatever its name (none: the default, which is absent)
    chosen = found.component.wrapper or config.wrapper
    return _config_text(config, chosen, found.release_pins, summary, others)


def _config_text(
    config: Config, wrapper: str, pins: list[PinSite], summary: str, others: list[Component]
) -> str:
    """The configuration text, validated by parsing it back."""
    from ruamel.yaml import YAML

    from fluxbump.render import render

    text = render(
        "fluxbump.yaml",
        wrapper=wrapper,
        upstream=config.upstream,
        cloudinit="\n".join(f'  - "{glob}"' for glob in config.cloudinit),
        release_pins="\n".join(f'  - "{glob}"' for glob in config.release_pins),
        # Both land in comments: a file name's newline would end one and write YAML.
        release_pin_files=one_line(_release_pin_files(pins)),
        values_mirror=config.values_mirror,
        summary=one_line(summary),
        components="\n".join(
            f"  {c.name}: {{ wrapper: {c.wrapper}, upstream: {c.upstream} }}" for c in others
        )
        or "  {}",
    )
    parse_config(YAML(typ="safe", pure=True).load(text))
    return text


def _release_pin_files(sites: list[PinSite]) -> str:
    """``file (role), …`` of the Flux release pins outside cloud-init, or ``none``."""
    named = dict.fromkeys(f"{s.file} ({s.role.value})" for s in sites)
    return ", ".join(named) or "none"


def _deployed_wrapper(root: Path, config: Config, several: SeveralWrappers) -> str:
    """Of several charts depending on the Flux chart, the one a HelmRelease of this repo
    deploys; none or several deployed exit 2 naming them and the line to write."""
    names = [name for name, _ in several.wrappers]
    tree = survey(root, replace(config, wrapper=names[0]))  # any one: to read the releases
    deployed = {site.subject for site in tree.releases if site.role is Role.HELMRELEASE}
    chosen = [name for name in names if name in deployed]
    if len(chosen) == 1:
        return chosen[0]
    why = f"HelmReleases deploy {', '.join(chosen)}" if chosen else "no HelmRelease deploys one"
    raise UsageError(
        f"{several.listed()}; {why}: write 'wrapper: NAME' in {CONFIG_NAME} naming the one "
        f"that installs Flux (e.g. 'wrapper: {(chosen or names)[0]}'), then run init again"
    )


def run_init(root: Path, *, force: bool) -> Path:
    """Write the file under the repository's lock (as every writing command), atomically (a
    temp renamed over it); an existing one is kept unless ``force``."""
    from fluxbump.write.transaction import OsWriter, WriteFailed, describe, repo_lock
    from fluxbump.write.transaction import write_all_atomically as write

    target = root / CONFIG_NAME
    with repo_lock(root):
        if os.path.lexists(target) and not force:
            raise UsageError(f"{target} already exists; pass --force to overwrite it")
        text = render_init(root)  # reads an existing one: a regular file inside the repo
        real = Path(os.path.realpath(target))
        old = real.read_bytes() if real.exists() else None
        try:
            kept = write([(real, text.encode("utf-8"), 0o644, old)], OsWriter())
        except WriteFailed as exc:
            raise UsageError(f"{target}: cannot write ({describe(exc.error)})") from None
        if kept:
            raise UsageError(f"{target}: changed by another process meanwhile; kept that version")
    return target
