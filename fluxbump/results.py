"""What a bump was asked to do (``BumpOptions``) and what it did (``BumpResult``).

Plain data shared by the bump's stages (targets, write, gate, git session) and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fluxbump.crds.guard import CrdComparison
from fluxbump.crds.safest import Blocked
from fluxbump.pins import Mention, Violation, warnings_json
from fluxbump.plan import Plan


@dataclass(frozen=True)
class BumpOptions:
    """Options of ``fluxbump to`` (defaults: write, gate, branch and commit)."""

    dry_run: bool = False
    no_git: bool = False
    branch: str | None = None
    push: bool = False
    open_pr: bool = False
    allow_downgrade: bool = False
    allow_dirty: bool = False
    base: str | None = None
    helm_repo: str | None = None
    offline: bool = False
    pre: bool = False
    force_unsafe_crds: bool = False
    crds_migrated: bool = False  # stored objects were migrated (`flux migrate`) on every cluster
    # The scheduled job (`to latest`): an existing bump branch is reported, not an error.
    reuse_existing: bool = False
    diff: bool = False  # keep the unified diff of an applied bump too (the demo shows it)
    # the flux CLIs that check and regenerate flux bootstrap manifests (one per release)
    flux_cli: tuple[str, ...] = ()
    flux_releases: str | None = None  # where the flux CLI release assets are downloaded from


@dataclass
class BumpResult:
    """What happened: the plan, the diff, and where the change went."""

    plan: Plan
    applied: bool = False
    diffs: list[str] = field(default_factory=list)
    branch: str | None = None
    commit: str | None = None
    pushed: bool = False
    pr_url: str | None = None
    crds: CrdComparison | None = None
    dry_run: bool = False
    gate: str = ""
    stale: list[Mention] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    drift: list[Violation] = field(default_factory=list)  # other components': not fixed
    blocked: list[Blocked] = field(default_factory=list)  # `to latest`: newer, refused

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,  # a failure prints {"ok": false, "error": ...} instead (cli._fail)
            **self.plan.as_json(),
            "changed": self.plan.changed if self.dry_run else self.applied,
            "applied": self.applied,
            "branch": self.branch,
            "commit": self.commit,
            "pushed": self.pushed,
            "pr_url": self.pr_url,
            "crds": self.crds.as_json() if self.crds is not None else None,
            "gate": self.gate,
            "stale_mentions": [m.as_json() for m in self.stale],
            "drift": [v.as_json() for v in self.drift],
            "notes": list(self.notes),
            "blocked": [b.as_json() for b in self.blocked],
            "warnings": warnings_json(self.warnings),
        }
