"""``fluxbump to`` and ``fluxbump sync``: choose, plan, refuse, write atomically, gate, commit.

Each step lives in its own module (see docs/ARCHITECTURE.md); this one reads as the list of
steps. The plan is built first and is the same object whether it is printed (``--dry-run``,
``--json``) or applied; nothing is written before every refusal has been checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from fluxbump import versions
from fluxbump.components.flux import from_chart, from_cloud_init, guarded_chart
from fluxbump.config import load_config
from fluxbump.crds.guard import CrdComparison
from fluxbump.crds.history import PinHistory
from fluxbump.crds.safest import Blocked
from fluxbump.crds.served_here import refuse_past_repository_crds
from fluxbump.errors import (
    FluxbumpError,
    GateFailure,
    Interrupted,
    NotRegularFile,
    UnsafeTransitionError,
    UsageError,
)
from fluxbump.gate.floating import floating_warnings
from fluxbump.gate.invariants import inexact_upstream, ranged_install, ranges_named
from fluxbump.gate.post_write import Gate, drift, refuse_rewritten, run_gate
from fluxbump.gate.provider import provider_warnings, unversioned_warnings
from fluxbump.output import Verbatim
from fluxbump.pins import Mention, PlacedWarning, Role
from fluxbump.plan import BaseCharts, Edit, Move, Plan, Target, plan_locks, plan_moves
from fluxbump.remote.index import HelmIndex, load_index
from fluxbump.results import BumpOptions, BumpResult
from fluxbump.scan.discover import Discovery, Survey, survey
from fluxbump.scan.forked import Ahead, while_waiting
from fluxbump.scan.kept import kept_note
from fluxbump.scan.moved import BaseSources, release_pin_at_base
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sources import SourceFile, read_raw
from fluxbump.targets import (
    SYNC_SOURCES,
    Choice,
    moved_choices,
    named_choice,
    provable,
    refuse_downgrade,
    refuse_shared_boot_installs,
    refuse_unprovable,
    shipped_releases,
    with_companions,
)
from fluxbump.vcs.session import GitSession
from fluxbump.vcs.steps import load as load_git_steps
from fluxbump.vcs.text import bump_branch
from fluxbump.write.changes import file_changes, unified_diff
from fluxbump.write.recovery import recover
from fluxbump.write.regenerate import regenerate_bootstrap
from fluxbump.write.transaction import FileChange, Transaction, apply_changes, repo_lock

__all__ = ["BumpOptions", "BumpResult", "format_result", "lagging_choice", "run_sync", "run_to"]


# Release names reach branch names and commit messages: accept only what a version can be.
_TARGET = re.compile(r"latest\Z|v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\Z")


def run_to(
    root: Path, target: str, options: BumpOptions, component: str | None = None
) -> BumpResult:
    """Move every pin of the repo at ``root`` to Flux ``target`` (or ``latest``), or, with
    ``component``, that component's upstream chart to version ``target``."""
    if not _TARGET.match(target):
        raise UsageError(
            f"'{target}' is not a Flux release (expected X.Y.Z, e.g. 2.4.0, or latest)"
            if component is None
            else f"'{target}' is not a chart version (expected X.Y.Z)"
        )

    blocked: list[Blocked] = []

    def choose(tree: Survey, index: HelmIndex, session: GitSession) -> list[Choice]:
        chosen = tree.component(component) if component else tree.required_flux()
        found = provable(tree, chosen)
        safest = target == "latest" and found.component.rules.names_a_release
        if safest and not options.force_unsafe_crds:
            history = _pin_history(found, index, session)
            newer = _safest_choice(tree, found, index, history, options, blocked)
            resumed = newer or _on_own_branch(tree, found, index, session, options)
            base = session.base_reader(options.base)
            return resumed or lagging_choice(tree, found, index, history, options, base, blocked)
        named = named_choice(found, index, target, offline=options.offline, pre=options.pre)
        refuse_shared_boot_installs(tree, [named])
        return with_companions(tree, [named], index, verify=True, offline=options.offline)

    if options.no_git and (options.push or options.open_pr):
        raise UsageError("--push and --open-pr publish a git commit; drop --no-git")
    options = replace(
        options, reuse_existing=target == "latest", push=options.push or options.open_pr
    )
    nothing = "no newer Flux release is safe to move to; nothing to do"
    return _execute(root, options, choose, guard_downgrade=True, nothing=nothing, blocked=blocked)


def _safest_choice(
    tree: Survey,
    found: Discovery,
    index: HelmIndex,
    history: PinHistory | None,
    options: BumpOptions,
    blocked: list[Blocked],
) -> list[Choice]:
    """``to latest``: the newest release whose transition is safe; newer ones are reported."""
    from fluxbump.crds.safest import safest_release

    safest = safest_release(
        found, index, tree, history,
        pre=options.pre, offline=options.offline, migrated=options.crds_migrated,
    )  # fmt: skip
    blocked += safest.blocked
    if safest.chosen is None:
        return []
    return [Choice(found, safest.chosen.release, safest.chosen.chart)]


def _on_own_branch(
    tree: Survey, found: Discovery, index: HelmIndex, session: GitSession, options: BumpOptions
) -> list[Choice]:
    """``to latest --push`` with nothing newer, run on the bump branch of the release already
    pinned (an earlier run committed it, then its push failed): that release is chosen, so the
    unchanged plan resumes the push as ``to VERSION`` does. Elsewhere: nothing (nothing to do)."""
    from fluxbump.crds.safest import installed_release

    current = installed_release(found, index)
    if not options.push or current is None or session.original is None:
        return []
    current = versions.normalize(current)  # an install pin may say v2.4.0; branches do not
    if session.original != bump_branch(found.component.name, current, options.branch):
        return []
    named = named_choice(found, index, current, offline=options.offline, pre=True)
    return with_companions(tree, [named], index, verify=True, offline=options.offline)


def lagging_choice(
    tree: Survey,
    found: Discovery,
    index: HelmIndex,
    history: PinHistory | None,
    options: BumpOptions,
    base: BaseCharts,
    blocked: list[Blocked],
) -> list[Choice]:
    """``to latest`` (and ``resolve latest --safe``) with no newer release safe: the release
    installed, when pins lag it (a CLI pin, another cluster's install), so they move to it as
    ``to <installed>`` would move them. A newer safe release would move them too; left until
    one is, ``check`` fails on them for weeks while the scheduled job says "nothing to do".
    Judged as a newer release is (``safest.judged``); a plan ``to`` would refuse (a pin it
    would move back, one ahead of the installed release; a range) moves nothing either: each
    is reported in ``blocked``, naming the pins that lag."""
    from fluxbump.crds.safest import installed_release, judged

    current = installed_release(found, index)
    if current is None:
        return []
    try:
        named = named_choice(
            found, index, versions.normalize(current), offline=options.offline, pre=True
        )
    except FluxbumpError:  # (no chart carries it: the guard judges nothing to move to)
        return []
    choices = with_companions(tree, [named], index, verify=True, offline=options.offline)
    moves = _moves(choices, index)
    plan = plan_moves(moves, base, tree.config.app_version_policy)
    if not plan.changed:
        return []
    release, chart = named.release, named.chart or ""
    refused = _refused(moves, plan, index)
    if refused is not None:
        steps = f"move them to {versions.normalize(release)} by hand (fluxbump check names each)"
        blocked.append(_behind(Blocked(release, chart, refused, steps), plan))
        return []
    if named.chart is not None:
        why = judged(found, index, tree, history, (release, chart), offline=options.offline,
                     migrated=options.crds_migrated)  # fmt: skip
        if why is not None:
            blocked.append(_behind(why, plan))
            return []
    said = (f"no newer Flux release is safe to move to: the pins behind Flux "
            f"v{versions.normalize(release)}, the release installed, move to it")  # fmt: skip
    return [replace(choices[0], warnings=(*choices[0].warnings, said)), *choices[1:]]


def _behind(why: Blocked, plan: Plan) -> Blocked:
    """The installed release, blocked for the pins that lag it (the plan's first edit that
    moves a pin up named; one it would move back is no lag)."""
    lag = [edit for edit in plan.edits if not _moves_back(edit)] or plan.edits
    first, more = lag[0].site.where, len(lag) - 1
    where = f"{first} and {more} more" if more else first
    return replace(why, reason=f"the pins behind it ({where}) cannot move to it: {why.reason}")


def _refused(moves: list[Move], plan: Plan, index: HelmIndex) -> str | None:
    """Why ``to`` refuses ``plan`` before the CRD guard (a pin moved back, a range below or
    left behind, an unprovable pin); None: it does not."""
    back = next((edit for edit in plan.edits if _moves_back(edit)), None)
    if back is not None:
        return f"the same move takes {back.site.where} back from {back.site.value}"
    try:
        for move in moves:
            refuse_unprovable(move.found)
            _refuse_below_ranges(move, index)
        _refuse_ranges_left(moves, plan)
        _refuse_blocked(plan)
    except FluxbumpError as exc:
        return exc.message.removesuffix("; nothing written")
    return None


def _moves_back(edit: Edit) -> bool:
    """An edit of one exact version to an older one (a pin ahead of the installed release)."""
    old, new = edit.site.value, edit.new
    pins = versions.is_pin(old) and versions.is_pin(new)
    return pins and versions.sort_key(new) < versions.sort_key(old)


def _moves(choices: list[Choice], index: HelmIndex) -> list[Move]:
    """Each choice as the move the plan is built from."""
    return [
        Move(c.found, c.release, c.chart,
             shipped_releases(c.found, index, c.was_release or c.was_chart),
             c.was_release, c.was_chart)
        for c in choices
    ]  # fmt: skip


def run_sync(
    root: Path, source: str | None, options: BumpOptions, components: tuple[str, ...] = ()
) -> BumpResult:
    """Make every pin agree with the pin Renovate moved (or ``source``); never touches git."""
    if source is not None and source not in SYNC_SOURCES:
        raise UsageError(f"--from must be one of {', '.join(SYNC_SOURCES)}, not '{source}'")

    def choose(tree: Survey, index: HelmIndex, session: GitSession) -> list[Choice]:
        if source is not None:
            flux = tree.required_flux()
            if any(name != flux.name for name in components):
                raise UsageError(
                    f"--from names Flux's source; it cannot sync --component {components[0]}"
                )
            found = provable(tree, flux)
            pick = from_cloud_init if source == "cloud-init" else from_chart
            release, chart, _ = pick(found, index)
            return [Choice(found, release, chart)]
        moved = moved_choices(tree, index, session.source_reader(options.base), components)
        refuse_shared_boot_installs(tree, moved)
        return with_companions(tree, moved, index, verify=False, offline=options.offline)

    return _execute(
        root,
        replace(options, no_git=True),
        choose,
        guard_downgrade=False,
        keep_moved=True,
        unmoved=_unmoved(options.base),
    )


def _unmoved(base: str | None) -> str:
    """Why sync left disagreeing pins. A Renovate commit already in HEAD (the default base)
    is no move since HEAD: the revision before it names the move."""
    if base is None:
        return (
            "the pins below disagree, but none sync follows moved since the base revision: if "
            "one was moved in a commit, name the revision before it (--base REV), or the source "
            "(--from cloud-init|chart)"
        )
    return f"the pins below disagree, but none sync follows moved since {base}: fix each as it says"


Chooser = Callable[[Survey, HelmIndex, GitSession], list[Choice]]


def _published(choice: Choice, options: BumpOptions) -> Choice:
    """A release no chart carries (``flux.chartless``): no index entry shows it exists, so
    the release download base must have it (a typo is refused, exit 3); offline, said."""
    from fluxbump.remote.fluxcli import refuse_unpublished

    if options.offline:
        said = f"Flux {choice.release}: not checked to be a published release (--offline)"
        return replace(choice, warnings=(*choice.warnings, said))
    refuse_unpublished(choice.release, releases=options.flux_releases)
    return choice


def _execute(
    root: Path,
    options: BumpOptions,
    choose: Chooser,
    *,
    guard_downgrade: bool,
    keep_moved: bool = False,
    nothing: str = "no pin moved since the base revision and none to sync from; nothing to do",
    blocked: list[Blocked] | None = None,  # filled by ``choose`` (``to latest``)
    unmoved: str | None = None,  # said, with every violation, when nothing was chosen
) -> BumpResult:
    """Survey, choose the targets, plan, refuse what is unsafe, then apply, gate and commit."""
    config = load_config(root)
    with repo_lock(root), _recovered(root) as notes:
        # The index (a download, when online) is fetched while the scan's child sends its half.
        index = Ahead(
            lambda: load_index(
                options.helm_repo, offline=options.offline, configured=config.helm_repo
            )
        )
        with while_waiting(index):
            tree = survey(root, config)
        loaded = index.result()
        session = GitSession.open(root, options)
        session.index_url = loaded.index.url
        session.config = config
        choices = choose(tree, loaded.index, session)
        if not choices:
            result = BumpResult(
                Plan([]), dry_run=options.dry_run, notes=[*notes, nothing], blocked=blocked or []
            )
            if unmoved is not None:  # nothing to do is no consistency: say what check fails on
                result.drift, result.warnings = drift(tree, loaded.index, set())
                result.notes += [unmoved] if result.drift else []
            return result
        for choice in choices:
            refuse_unprovable(choice.found)
        choices = [_published(c, options) if c.chart is None else c for c in choices]
        moves = _moves(choices, loaded.index)
        for move in moves:
            _refuse_below_ranges(move, loaded.index)
        plan = plan_moves(moves, session.base_reader(options.base), config.app_version_policy)
        _refuse_ranges_left(moves, plan)
        plan_locks(moves, plan, datetime.now().astimezone())
        online = not options.offline and loaded.index.complete
        left, archives = _vendored_archives(tree, plan, loaded.index if online else None)
        plan.warnings += left + _left_behind(tree, plan)
        moved = {m.found.component.name for m in moves}
        baseline, unreadable = drift(tree, loaded.index, moved)
        result = BumpResult(
            plan,
            dry_run=options.dry_run,
            warnings=[
                *loaded.used_warnings(),
                *(w for c in choices for w in c.warnings),
                *plan.warnings,
                *unreadable,
            ],
            notes=[*notes, *session.notes, *kept_note([m.found for m in moves])],
            drift=baseline,
            blocked=blocked or [],
        )
        flux = next((m for m in moves if m.found.component.rules.names_a_release), None)
        if flux is not None:  # said even when refused: widening it is part of the fix
            result.warnings += floating_warnings(tree.release_pins())
            result.warnings += provider_warnings(tree.provider_constraints(), flux.release)
            unversioned = tree.unversioned_bootstraps()
            result.warnings += unversioned_warnings(unversioned, tree.provider_constraints())
        if guard_downgrade:
            for move in moves:
                refuse_downgrade(move, options.allow_downgrade)
        # At the release already pinned, ``to`` still moves the objects it does not serve
        # (``check`` names them and says 'fluxbump to' moves them); no transition to guard.
        in_place = not plan.changed and not keep_moved
        if flux is not None and in_place:
            _migrate(tree, flux, loaded.index, options, result)
        _refuse_blocked(plan)  # (a range that blocks the target moves nothing: still refused)
        _refuse_missing_checksums(tree, plan)
        if not plan.changed:
            return session.resumed(config.remote, result) or result
        if keep_moved:
            _refuse_reverting(plan, session.base_reader(options.base))
            _refuse_reverting_release_pins(plan, session.source_reader(options.base))
        if flux is not None and not in_place:
            judge = guarded_chart(flux.found, loaded.index, flux.release, flux.chart)
            if judge is not None:  # (None: Flux pinned only by FluxInstances and CLI pins,
                # where nothing here applies CRDs: flux-operator migrates what its clusters store)
                stands_for = None if flux.chart else versions.normalize(flux.release)
                result.crds = _guard_crds(
                    flux.found, loaded.index, judge, options, session, stands_for
                )
                result.warnings += result.crds.warnings
            _migrate(tree, flux, loaded.index, options, result)
            result.warnings += _overridden_controllers(tree, flux.found, flux.release)
        result.notes += regenerate_bootstrap(
            plan, tree.sources, flux_cli=options.flux_cli, releases=options.flux_releases,
            offline=options.offline,
        )  # fmt: skip
        changes = file_changes(tree.sources, plan)
        if options.dry_run or options.diff:  # a fleet's diff is thousands of hunks: on request
            result.diffs = [unified_diff(c) for c in changes]
        changes += archives
        result.notes += [_replaced(c) for c in archives if c.created]
        if options.dry_run:
            return result
        session.refuse_unsafe(plan, config.remote)
        if session.proposed(result):
            return session.publish(config.remote, result)
        gate = Gate(config, loaded.index, moved, baseline, tree, offline=options.offline)
        _apply_gate_commit(root, gate, changes, session, result)
        result.stale = stale_after(tree.sources, [m.found for m in moves], plan)
    with _telling(notes):
        return session.publish(config.remote, result)


@contextmanager
def _recovered(root: Path) -> Iterator[list[str]]:
    """An interrupted run undone (or finished) first, its notes yielded; a refusal after it
    says what it did too: said only with a result, it went unsaid, and the refusal's
    "nothing was written" was all the user heard of the files it had restored."""
    notes = recover(root, load_git=load_git_steps)
    with _telling(notes):
        yield notes


@contextmanager
def _telling(notes: list[str]) -> Iterator[None]:
    """A failure or an interruption says what recovery did (``notes``): the push, after the
    lock is released, Ctrl-C and an unexpected error ended the run with no word of the files
    it had restored."""
    try:
        yield
    except FluxbumpError as exc:
        exc.message += _before_that(notes)
        raise
    except KeyboardInterrupt:
        if not notes:
            raise
        raise Interrupted(f"interrupted{_before_that(notes)}") from None
    except Exception as exc:  # exit 70: its one line (``cli._crash``) says the note too
        if notes:
            exc.add_note(_before_that(notes).removeprefix("; "))
        raise


def _before_that(notes: list[str]) -> str:
    if not notes:
        return ""
    more = f" (and {len(notes) - 1} more files)" if len(notes) > 1 else ""
    return f"; before that, {notes[0]}{more}"


def _refuse_below_ranges(move: Move, index: HelmIndex) -> None:
    """Where only FluxInstance ranges say which release the clusters run, the operator
    installs the newest release they admit: a move to an older one would move the
    repository's objects to a release no cluster runs (fluxbump never rewrites a range, and
    --allow-downgrade cannot change what the operator installs). Exit 2, nothing written."""
    admitted = ranged_install(move.found, index)
    if admitted is None:
        return
    newest, ranged = admitted
    target = versions.normalize(move.release)
    if versions.sort_key(target) < versions.sort_key(newest.release):
        raise UsageError(
            f"Flux {target} is older than {newest.release}, the newest release "
            f"{ranges_named(ranged)} admits, which the operator installs: fluxbump never "
            f"rewrites a range; write '{target}' there to run Flux {target}; nothing written"
        )


def _refuse_ranges_left(moves: list[Move], plan: Plan) -> None:
    """A range on the Flux chart that the plan does not rewrite (a HelmRelease's, which is
    admitted elsewhere): the gate would fail on it after writing every file. Exit 2 first."""
    edited = {(edit.site.file, edit.site.line) for edit in plan.edits}
    left = [v for m in moves for v in inexact_upstream(m.found) if (v.file, v.line) not in edited]
    if left:
        raise UsageError(f"{left[0].as_text()}; nothing written")


def _vendored_archives(
    tree: Survey, plan: Plan, index: HelmIndex | None
) -> tuple[list[str], list[FileChange]]:
    """Vendored ``charts/<name>-<version>.tgz`` a moved pin leaves behind. With a reachable
    index that lists the new version, the archive it names is downloaded, checked against
    the index's sha256 digest (a mismatch exits 3, nothing written) and replaces the old one
    in the same transaction; otherwise (offline, another repository's chart) the bump says
    which to rebuild, and ``check`` reports them until then. An unpacked ``charts/<name>/``
    is only named: a directory is the user's to replace."""
    from fluxbump.crds.archives import fetch_chart_archive
    from fluxbump.scan.sites.vendored import stale_archives, stale_names, stale_unpacked, vendored

    moved: dict[str, dict[int, str]] = {}
    for edit in plan.edits:
        if edit.site.path[:1] == ("dependencies",) and edit.site.file.endswith("Chart.yaml"):
            moved.setdefault(edit.site.file, {})[edit.site.start] = edit.new
    warnings, changes = [], []
    for chart in tree.charts.values():
        if chart.file not in moved:
            continue
        new = moved[chart.file]
        deps = [replace(d, value=new.get(d.start, d.value)) for d in chart.dependencies]
        names = vendored(tree.root, chart)
        for dep in deps:
            warnings += [
                v.as_text()
                for v in stale_unpacked(tree.root, replace(chart, dependencies=[dep]), names)
            ]
            stale = stale_names(dep, names)
            if stale and (index is None or index.find(dep.subject, dep.value) is None):
                left = stale_archives(replace(chart, dependencies=[dep]), names)
                warnings += [v.as_text() for v in left]
            if not stale or index is None or index.find(dep.subject, dep.value) is None:
                continue
            body = fetch_chart_archive(index, dep.subject, dep.value, offline=False)
            folder = chart.vendored_folder
            changes += [FileChange(f"{folder}/{old}", _archive(tree.root, chart, old), b"",
                                   deleted=True) for old in stale]  # fmt: skip
            changes.append(
                FileChange(f"{folder}/{dep.subject}-{dep.value}.tgz", b"", body, created=True)
            )
    return warnings, changes


def _archive(root: Path, chart: ChartFile, name: str) -> bytes:
    """A vendored archive's bytes, kept to restore it; read as the scan reads (a FIFO so named
    would hang the open, a directory raise). 'exclude' does not govern a chart's ``charts/``
    (read because the chart is), so a refusal says what does. One larger than any chart
    archive fluxbump takes from an index (``ArchiveLimits``) is no archive it would replace
    with a download either: refused, and read no further than that (it was read whole)."""
    from fluxbump.crds.archives import DEFAULT_LIMITS, MIB

    rel = f"{chart.vendored_folder}/{name}"
    remedy = f"remove it ('helm dependency build {chart.directory or '.'}' vendors it again)"
    limit = DEFAULT_LIMITS.archive_bytes
    try:
        raw = read_raw(root, rel, limit=limit + 1)
    except NotRegularFile as exc:
        raise exc.advising(f"replace it with the archive itself, or {remedy}") from None
    if len(raw) > limit:
        raise UsageError(
            f"{rel}: larger than {limit // MIB} MiB, more than a chart archive fluxbump "
            f"downloads may be: {remedy}; nothing was written"
        )
    return raw


def _replaced(change: FileChange) -> str:
    return f"{change.rel}: downloaded, sha256 checked against the index, replacing the old archive"


def _guard_crds(
    found: Discovery,
    index: HelmIndex,
    target: str,
    options: BumpOptions,
    session: GitSession,
    stands_for: str | None = None,
) -> CrdComparison:
    """Refuse (exit 4) a target whose CRDs stop serving a version the clusters may store
    (``stands_for``: the release no chart carries whose CRDs ``target``'s stand in for)."""
    from fluxbump.crds.drops import APPLY_FAILURE, HELM_FAILURE, guard_transition
    from fluxbump.crds.guard import installed_releases, pinned_at

    comparison = crd_comparison(found, index, target, options, session)
    chart = comparison.chart
    # A running chart equal to the target is no transition: name only those it moves from.
    moving = [c for c in comparison.running if not versions.equal(c, target)]
    installed = installed_releases(found, index)
    current = ", ".join(_running(chart, c, pinned_at(found, installed, c)) for c in moving)
    current = current or "the current release"
    if comparison.around:  # (the charts are not the repository's: say whose they stand for)
        current += f" (standing in for Flux {', '.join(comparison.around)}, which no chart carries)"
    basis = (
        "that a release this repository pinned stored (so status.storedVersions may hold them)"
        if comparison.history is not None
        else "in use now (no git history: every served version is treated as stored)"
    )
    failure = APPLY_FAILURE if found.component.outside_charts else HELM_FAILURE
    label = f"{chart} {target}" + (f" (standing in for Flux {stands_for})" if stands_for else "")
    said = guard_transition(
        current, label, list(comparison.drops),
        force=options.force_unsafe_crds, migrated=options.crds_migrated,
        steps=comparison.steps(), basis=basis, failure=failure,
    )  # fmt: skip
    said += _guard_unknown(comparison, target, options, failure)
    return replace(
        comparison,
        warnings=(*comparison.warnings, *said),
        migrated=options.crds_migrated and bool(comparison.blocking or comparison.unknown),
    )


def _running(chart: str, version: str, where: str) -> str:
    """``flux2 2.14.1 (platform/flux/chart/Chart.yaml:10)``: a running chart, where pinned."""
    return f"{chart} {version} ({where})" if where else f"{chart} {version}"


def _guard_unknown(
    comparison: CrdComparison, target: str, options: BumpOptions, failure: str
) -> list[str]:
    """Refuse (exit 4) moving from a release older than any chart: the CRD versions its
    clusters store are unknown, and the target may stop serving one (Flux v0.31 stored
    GitRepositories as v1beta2, which 2.8 no longer serves). Passing is said, never silent."""
    from fluxbump.crds.guard import unknown_release

    if not comparison.unknown:
        return []
    why = unknown_release(comparison.unknown, comparison.chart)
    if options.crds_migrated or options.force_unsafe_crds:
        flag = "--crds-migrated" if options.crds_migrated else "--force-unsafe-crds"
        return [f"{flag}: moving to {comparison.chart} {target} although {why}"]
    raise UnsafeTransitionError(
        f"{why}, so {comparison.chart} {target} may stop serving one of them; {failure}; "
        f"{comparison.steps()}"
    )


def crd_comparison(
    found: Discovery, index: HelmIndex, target: str, options: BumpOptions, session: GitSession
) -> CrdComparison:
    """The running charts against ``target``, each drop judged by the pin files' git history."""
    from fluxbump.crds.guard import compare_crds

    history = _pin_history(found, index, session)
    return compare_crds(found, index, target, offline=options.offline, history=history)


def _pin_history(found: Discovery, index: HelmIndex, session: GitSession) -> PinHistory | None:
    """The flux2 releases the pin files' git history pinned (None: no git history)."""
    from fluxbump.crds.guard import charts_of_release
    from fluxbump.crds.history import HISTORY_LIMIT, MovedInstall, pin_files, pin_history

    past = session.past_versions(pin_files(found), HISTORY_LIMIT, MovedInstall(found))
    if past is None:
        return None
    return pin_history(found, past, charts_of_release(index, found.component.upstream))


def _migrate(
    tree: Survey, move: Move, index: HelmIndex, options: BumpOptions, result: BumpResult
) -> None:
    migrations, warnings = _api_migrations(tree, move, index, options)
    result.plan.edits += migrations
    result.warnings += warnings


def _api_migrations(
    tree: Survey, move: Move, index: HelmIndex, options: BumpOptions
) -> tuple[list[Edit], list[str]]:
    """The apiVersion edits that move every Flux object of the repository the target release
    does not serve to the version it stores (refused when one would not validate), and every
    one in a version it deprecates (left, with a warning, when that move would not be exact)."""
    from fluxbump.crds import migrate
    from fluxbump.crds.definitions import deprecated_versions
    from fluxbump.crds.guard import migration_crds
    from fluxbump.resolve import crd_stand_in

    chart = move.found.component.upstream
    target, release = move.chart, f"Flux {versions.normalize(move.release)}"
    if target is None:  # no chart carries the release (the target's warning says whose CRDs
        # stand in for its own)
        stand_in = crd_stand_in(index, chart, versions.normalize(move.release))
        if stand_in is None:
            return [], []
        target, release = stand_in.chart, f"Flux {stand_in.release}"
    crds = migration_crds(index, chart, target, offline=options.offline)
    if crds is None:
        return [], [f"Flux manifests not migrated: no CRDs of {chart} {target} offline"]
    deprecated = deprecated_versions(target) if chart == "flux2" else {}
    objects = migrate.repository_objects(
        tree, migrate.unserved_somewhere(crds, deprecated=deprecated)
    )
    edits = migrate.migration_edits(objects, crds, release)
    more, warnings = migrate.deprecation_edits(objects, crds, release, deprecated)
    warnings += refuse_past_repository_crds(
        tree, move.found, index, edits + more, release, force=options.force_unsafe_crds
    )
    return edits + more, warnings


def _refuse_blocked(plan: Plan) -> None:
    """A range that will not admit the planned version fails the gate: say so before writing."""
    if plan.blocked:
        more = f" (and {len(plan.blocked) - 1} more)" if len(plan.blocked) > 1 else ""
        raise GateFailure(f"{plan.blocked[0]}{more}; nothing written")


def _refuse_missing_checksums(tree: Survey, plan: Plan) -> None:
    """An Ansible role's CLI release moved to one its checksum table lacks: the role's next
    run fails its download (``scan/sites/ansiblecli.py``). Refused, before writing (exit 2)."""
    from fluxbump.scan.sites.ansiblecli import missing_checksums

    moved = [(e.site, e.new) for e in plan.edits if e.site.role is Role.CLI]
    refusals = missing_checksums(moved, tree.readable_release_pin_files(), tree.read_if_there)
    if refusals:
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        raise UsageError(f"{refusals[0]}{more}")


def _refuse_reverting(plan: Plan, base: BaseCharts) -> None:
    """``sync`` never moves back a dependent's pin of a chart of this repo that changed since
    the base (Renovate's helmv3 manager bumping an umbrella's pin of a wrapper): undoing it
    would pass silently, so it is a conflict for a person to settle (exit 2)."""
    for edit in plan.edits:
        if edit.site.role is not Role.DEPENDENCY:
            continue
        then = base(edit.site.file)
        was = [d.value for d in then.dependencies if d.subject == edit.site.subject] if then else []
        if len(was) == 1 and not versions.equal(was[0], edit.site.value):
            site = edit.site
            raise UsageError(
                f"{site.where}: {site.owner}'s pin of {site.subject} moved {was[0]} -> "
                f"{site.value} since the base revision, but {site.subject} in this repository "
                f"is {edit.new}; sync does not undo it: revert the pin, or move "
                f"{site.subject} itself; nothing written"
            )


# Flux pins outside cloud-init that Renovate's own managers may move (asdf, mise, flux,
# kustomize's remote resources).
_RELEASE_PIN_ROLES = frozenset(
    {
        Role.CLI,
        Role.TERRAFORM,
        Role.INSTANCE,
        Role.KUSTOMIZE_REMOTE,
        Role.FLUX_MANIFESTS,
        Role.FLUX_GIT,
        Role.TIMONI,
    }
)


def _refuse_reverting_release_pins(plan: Plan, base: BaseSources) -> None:
    """``sync`` never moves back a Flux CLI, Terraform or FluxInstance pin that changed since
    the base (Renovate's asdf or mise manager moving ``flux2`` on its own): exit 2."""
    for edit in plan.edits:
        if edit.site.role not in _RELEASE_PIN_ROLES:
            continue
        was = release_pin_at_base(edit.site, base)
        if was is not None and not versions.equal(was, edit.site.value):
            site = edit.site
            raise UsageError(
                f"{site.where}: {site.owner} moved Flux {was} -> {site.value} since the base "
                f"revision, but the release being synced is {edit.new}; sync does not undo it: "
                "revert the pin, or move the install with it; nothing written"
            )


def _apply_gate_commit(
    root: Path,
    gate: Gate,
    changes: list[FileChange],
    session: GitSession,
    result: BumpResult,
) -> None:
    """Write all files, prove the invariants, commit; any failure restores every file."""
    from fluxbump.write.transaction import interrupts_as_keyboard_interrupt

    with interrupts_as_keyboard_interrupt():
        steps = session.steps()
        state = None if steps is None else steps.state()
        transaction = apply_changes(root, changes, git_state=state)
        transaction.git = steps
        try:
            result.gate = run_gate(root, gate, result)
            if gate.config.gate.commands:
                refuse_rewritten(root, changes)
            session.commit(result, transaction)
        except BaseException:
            if gate.config.gate.commands:
                transaction.claim_current()  # their edits are this run's: restore over them
            transaction.rollback()  # files, then the git steps, then the journal
            raise
        _finish(transaction, result)


def _finish(transaction: Transaction, result: BumpResult) -> None:
    transaction.commit()
    result.applied = True


def format_result(result: BumpResult, *, show_diff: bool) -> list[str]:
    """Human report of a bump: mapping, plan, diff, gate, branch, stale mentions, drift."""
    plan = result.plan
    lines = [*result.notes, *(f"blocked: {b.as_text()}" for b in result.blocked)]
    if not plan.targets:
        return lines + _drift_lines(result)
    if not plan.changed:
        lines += [_unchanged(t) for t in plan.targets]
        return lines + _drift_lines(result)
    lines += [f"{t.title()}{_origin(t)}" for t in plan.targets]
    lines.append(f"plan: {len(plan.edits)} edit(s) in {len(plan.files())} file(s)")
    lines += [f"  {edit.describe()}" for edit in plan.edits]
    if show_diff:
        lines += [Verbatim(d.rstrip("\n")) for d in result.diffs]  # names escaped in it
    if not result.applied:
        return [*lines, "dry run: nothing written", *_drift_lines(result)]
    lines.append(f"gate: {result.gate}")
    if result.branch:
        lines.append(
            f"committed {result.commit[:12] if result.commit else ''} on branch {result.branch}"
        )
    if result.pushed:
        lines.append(f"pushed {result.branch}")
    if result.stale:
        lines.append("stale mentions (comments still naming the old release; not edited):")
        lines += [f"  {m.where}: {m.text}" for m in result.stale]
    return lines + _drift_lines(result)


def _origin(target: Target) -> str:
    """Where the bump starts: the installed release if it moves, else the chart it replaces."""
    if target.from_release and not versions.equal(target.from_release, target.release):
        chart = f", chart {target.from_chart}" if target.from_chart else ""  # none: no chart
        return f" (from Flux v{target.from_release}{chart})"
    if target.from_chart == target.chart:  # only objects it does not serve move
        return " (already pinned)"
    return f" (chart was {target.from_chart})" if target.from_chart else ""


def _unchanged(target: Target) -> str:
    """Why a target moved nothing: it is installed, or (Flux pinned by ranges only, as a
    FluxInstance's ``2.x``) nothing names a release and every range admits this one."""
    if target.flux and target.from_release is None and target.from_chart is None:
        return (
            f"Flux v{target.release}: no pin names an exact release (every range admits it; "
            "a value set outside this repository is unproven: see 'fluxbump status'); nothing to do"
        )
    return f"{target.title()}: already at {_at(target)}; nothing to do"


def _at(target: Target) -> str:
    return f"v{target.release}" if target.flux else target.release  # (non-Flux: the chart)


def _drift_lines(result: BumpResult) -> list[str]:
    """Other components' violations: this run did not move them, so it does not fix them."""
    if not result.drift:
        return []
    header = (
        "drift in components this run did not move (reported, not fixed; see 'fluxbump check'):"
    )
    return [header, *(f"  {v.as_text()}" for v in result.drift)]


def _left_behind(tree: Survey, plan: Plan) -> list[str]:
    """What the Flux CLI and install manifest downloads the plan moves leave at the old
    release (digests, mise.lock, the chart templates a script generates from a moved key)."""
    from fluxbump.scan.controllerfiles import stale_generated
    from fluxbump.scan.sites.fluxcli import left_behind
    from fluxbump.scan.sources import read_source

    def read(rel: str) -> SourceFile | None:
        if rel in tree.sources:
            return tree.sources[rel]
        try:  # (not kept in tree.sources: the files the bump may write)
            return read_source(tree.root, rel) if (tree.root / rel).is_file() else None
        except UsageError:  # unreadable: nothing to say of it (it is no pin of ours)
            return None

    downloads = (Role.CLI, Role.KUSTOMIZE_REMOTE)
    moved = [(e.site, e.new) for e in plan.edits if e.site.role in downloads]
    generated = stale_generated(moved, tree.roles.chart_templates, read)
    return [*left_behind(moved, read), *generated]


def _overridden_controllers(tree: Survey, found: Discovery, release: str) -> list[PlacedWarning]:
    """The Flux controller images the repository's kustomizations pin (``images:``) and the
    patches of its kustomizations and FluxInstances set, which keep running at their tags
    after Flux moves (``scan/sites/controllerimages.py``)."""
    from fluxbump.scan.sites import controllerimages as images
    from fluxbump.scan.sources import read_source

    def read(rel: str) -> SourceFile:  # (not kept in tree.sources: the files the bump may write)
        return tree.sources.get(rel) or read_source(tree.root, rel)

    files = images.image_files(tree.readable_release_pin_files(), found.release_pins)
    finders = (images.controller_overrides, images.patched_controllers)
    overrides, patched = images.controllers_of(files, read, finders)
    return [
        *images.overridden_controllers(overrides, release),
        *images.patched_controller_warnings(patched, release),
    ]


def stale_after(
    sources: dict[str, SourceFile], moved: list[Discovery], plan: Plan
) -> list[Mention]:
    """Comment lines, in the files the bump touched or the cloud-init templates, that still
    name a value the bump moved away from."""
    from fluxbump.scan.mentions import comment_mentions

    values = {e.site.value for e in plan.edits}
    files = sorted({*plan.files(), *(s.file for found in moved for s in found.installs)})
    # A regenerated file's comments are flux's, of the new release (the header is the pin).
    return [
        m
        for rel in files
        if rel not in plan.regenerated
        for m in comment_mentions(sources[rel], values)
    ]
