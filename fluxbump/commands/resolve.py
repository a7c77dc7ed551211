"""``fluxbump resolve``: a Flux release and the chart version it maps to; with ``--safe``, the
newest release a repository can move to without dropping an API version its clusters stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fluxbump.components import FLUX
from fluxbump.crds.safest import Blocked
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote.index import HelmIndex, load_index
from fluxbump.resolve import Resolution, beyond_index, resolve_chart_version

if TYPE_CHECKING:
    from fluxbump.crds.history import PinHistory
    from fluxbump.scan.discover import Discovery, Survey


@dataclass(frozen=True)
class ResolveResult:
    resolution: Resolution | None  # None: --safe found no newer release safe to move to
    warnings: tuple[str, ...]
    blocked: tuple[Blocked, ...] = ()
    safe: bool = False

    def as_lines(self) -> list[str]:
        lines = [f"blocked: {b.as_text()}" for b in self.blocked]
        r = self.resolution
        if r is None:
            return ["no newer Flux release is safe to move to", *lines]
        return [f"Flux v{r.release} → {r.chart_name} chart {r.chart} (index: {r.index})", *lines]

    def as_json(self) -> dict[str, Any]:
        r = self.resolution
        found: dict[str, Any] = {
            "flux": r.release if r else None,
            "chart": r.chart if r else None,
            "index": r.index if r else None,
            "candidates": list(r.candidates) if r else [],
        }
        if self.safe:
            found["blocked"] = [b.as_json() for b in self.blocked]
        return found


def run_resolve(
    release: str,
    *,
    pre: bool,
    helm_repo: str | None,
    offline: bool,
    safe_for: Path | None = None,
) -> ResolveResult:
    """Validate the release text, load the index, and resolve the chart version; with
    ``safe_for`` (a repository root, ``--safe``) the newest release safe for it."""
    from fluxbump import versions

    if safe_for is not None and release != "latest":
        raise UsageError("--safe chooses among the newest releases: use it with 'latest'")
    if release != "latest":
        versions.parse(release)  # malformed input is exit 2 before any network
    configured = None
    if safe_for is not None:  # the repository's index, as 'to' reads it
        from fluxbump.config import load_config

        configured = load_config(safe_for).helm_repo
    loaded = load_index(helm_repo, offline=offline, fallback=True, configured=configured)
    if safe_for is not None:
        return _safest(safe_for, loaded.index, loaded.warnings, pre=pre, offline=offline)
    try:
        resolution = resolve_chart_version(loaded.index, release, FLUX.upstream, pre=pre)
    except ResolutionError as exc:
        if loaded.index.complete or not beyond_index(
            loaded.index, FLUX.upstream, release, app=True
        ):
            raise
        # Not in a cached or bundled index proves nothing: the release may be newer than it.
        raise ResolutionError(
            f"{exc.message} ({loaded.index.url} may predate it: cannot be proven without "
            "the live index)"
        ) from None
    return ResolveResult(resolution, loaded.used_warnings())


def _safest(
    root: Path, index: HelmIndex, warnings: tuple[str, ...], *, pre: bool, offline: bool
) -> ResolveResult:
    """The repository's Flux, its pin history and manifests, judged release by release."""
    from fluxbump.commands.history import repository_pin_history
    from fluxbump.config import load_config
    from fluxbump.crds.safest import safest_release
    from fluxbump.scan.discover import survey
    from fluxbump.targets import provable

    tree = survey(root, load_config(root))
    found = provable(tree, tree.required_flux())
    history = repository_pin_history(root, found, index)
    if history is None:
        warnings += ("no git history: every served CRD version is treated as stored",)
    safest = safest_release(found, index, tree, history, pre=pre, offline=offline)
    if safest.chosen is not None:
        return ResolveResult(safest.chosen, warnings, safest.blocked, safe=True)
    blocked = list(safest.blocked)
    lagging = _lagging(root, tree, found, index, history, blocked, pre=pre, offline=offline)
    if lagging is None:
        return ResolveResult(None, warnings, tuple(blocked), safe=True)
    chosen, said = lagging
    return ResolveResult(chosen, (*warnings, *said), tuple(blocked), safe=True)


def _lagging(
    root: Path,
    tree: Survey,
    found: Discovery,
    index: HelmIndex,
    history: PinHistory | None,
    blocked: list[Blocked],
    *,
    pre: bool,
    offline: bool,
) -> tuple[Resolution, tuple[str, ...]] | None:
    """The release ``to latest`` moves to when nothing newer is safe (pins lag the release
    installed: ``bump.lagging_choice``), and what it says; None: it moves nowhere."""
    from fluxbump.commands.bump import lagging_choice
    from fluxbump.results import BumpOptions
    from fluxbump.vcs.session import GitSession

    options = BumpOptions(dry_run=True, no_git=True, offline=offline, pre=pre)
    base = GitSession.open(root, options).base_reader(None)  # (HEAD, as 'to' plans from)
    choices = lagging_choice(tree, found, index, history, options, base, blocked)
    if not choices or choices[0].chart is None:
        return None
    chosen = resolve_chart_version(index, choices[0].release, found.component.upstream, pre=True)
    return chosen, choices[0].warnings
