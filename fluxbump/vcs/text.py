"""Commit message, pull request title and body, and the bump branch's name."""

from __future__ import annotations

from fluxbump.output import one_line
from fluxbump.plan import Plan, Target
from fluxbump.results import BumpResult
from fluxbump.secrets import scrub

# What every bump branch's name starts with, unless ``--branch`` names another.
BRANCH_PREFIX = "fluxbump/"


def branch_name(plan: Plan, requested: str | None) -> str:
    return bump_branch(plan.component, plan.release, requested)


def bump_branch(component: str, release: str, requested: str | None) -> str:
    """The branch a bump of ``component`` to ``release`` commits on (``--branch`` wins)."""
    return requested or f"{bump_prefix(component)}{release}"


def bump_prefix(component: str) -> str:
    """What every branch of ``component``'s bumps starts with (before the release)."""
    return f"{BRANCH_PREFIX}{component}-v"


def commit_message(plan: Plan, index_url: str) -> str:
    """The commit message, from ``templates/commit-message.txt``."""
    from fluxbump import __version__
    from fluxbump.render import render

    return render(
        "commit-message.txt",
        summary="; ".join(_summary(t) for t in plan.targets),
        # Not a password of the index's URL (a private repository's basic auth): the history
        # and the pull request are read by everyone with the repository.
        mapping="\n".join(_mapping(t, scrub(index_url)) for t in plan.targets),
        changes="\n".join(f"- {one_line(e.describe())}" for e in plan.edits),
        fluxbump_version=__version__,
    )


def _summary(target: Target) -> str:
    if target.flux:
        return f"Bump Flux to v{target.release} ({target.chart_named()})"
    return f"Bump {target.component} to {target.upstream} chart {target.chart}"


def _mapping(target: Target, index_url: str) -> str:
    if target.flux:
        return (
            f"Flux v{target.release} -> {target.chart_named()} "
            f"(appVersion {target.release}, index: {index_url})."
        )
    return (
        f"Component {target.component}: {target.upstream} chart "
        f"{target.from_chart or '?'} -> {target.chart}."
    )


def pr_text(result: BumpResult) -> tuple[str, str]:
    """The pull request title and body (templates pr-title.txt and pr-body.md)."""
    from fluxbump.render import PrContent, PrEdit, render_pr

    plan = result.plan
    edits = tuple(
        PrEdit(e.site.file, e.site.line, e.site.label, e.site.owner, e.site.value, e.new)
        for e in plan.edits
    )
    content = PrContent(
        subject="Flux" if plan.first.flux else plan.component,
        upstream=plan.upstream,
        flux=plan.first.flux,
        release=plan.release,
        chart=plan.chart or "none",  # (no chart carries the release: ``flux.chartless``)
        from_release=plan.from_release or "?",
        from_chart=plan.from_chart or "?",
        edits=edits,
        stale_mentions=tuple(f"{m.where}: {m.text}" for m in result.stale),
        gate_result=result.gate,
        crd_summary=result.crds.summary() if result.crds is not None else "not compared",
        blocked=tuple(b.as_text() for b in result.blocked),
    )
    return render_pr(content)
