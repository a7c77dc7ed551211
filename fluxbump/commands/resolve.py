"""``fluxbump resolve``: a Flux release and the chart version it maps to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluxbump.components import FLUX
from fluxbump.errors import ResolutionError
from fluxbump.remote.index import load_index
from fluxbump.resolve import Resolution, beyond_index, resolve_chart_version


@dataclass(frozen=True)
class ResolveResult:
    resolution: Resolution
    warnings: tuple[str, ...]

    def as_text(self) -> str:
        r = self.resolution
        return f"Flux v{r.release} → {r.chart_name} chart {r.chart} (index: {r.index})"

    def as_json(self) -> dict[str, Any]:
        r = self.resolution
        return {
            "flux": r.release,
            "chart": r.chart,
            "index": r.index,
            "candidates": list(r.candidates),
        }


def run_resolve(release: str, *, pre: bool, helm_repo: str | None, offline: bool) -> ResolveResult:
    """Validate the release text, load the index, and resolve the chart version."""
    from fluxbump import versions

    if release != "latest":
        versions.parse(release)  # malformed input is exit 2 before any network
    loaded = load_index(helm_repo, offline=offline, fallback=True)
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
    return ResolveResult(resolution, loaded.warnings)
