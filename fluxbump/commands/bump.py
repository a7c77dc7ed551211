"""``fluxbump to``: resolve, plan, write atomically, gate, commit on a new branch.

The plan is built first and is the same object whether it is printed (``--dry-run``,
``--json``) or applied; nothing is written before every refusal has been checked.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fluxbump import versions
from fluxbump.components import Component
from fluxbump.config import Config, load_config
from fluxbump.crd_guard import CrdComparison
from fluxbump.discover import Discovery, Survey, resurvey, survey
from fluxbump.errors import GateFailure, ResolutionError, UnsafeTransitionError, UsageError
from fluxbump.gate import combine, evaluate
from fluxbump.index import HelmIndex, load_index
from fluxbump.moved import BaseSources, MovedPin
from fluxbump.pins import Mention, PinSite, Role, Violation
from fluxbump.plan import BaseCharts, Move, Plan, Target, plan_moves
from fluxbump.resolve import app_version_of, resolve_chart_version
from fluxbump.sources import SourceFile
from fluxbump.splice import edit_yaml, splice
from fluxbump.transaction import FileChange, Transaction, apply_changes, recover, repo_lock

# Release names reach branch names and commit messages: accept only what a version can be.
_TARGET = re.compile(r"latest\Z|v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\Z")


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
    # The scheduled job (`to latest`): an existing bump branch is reported, not an error.
    reuse_existing: bool = False
    diff: bool = False  # keep the unified diff of an applied bump too (the demo shows it)


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

    def as_json(self) -> dict[str, Any]:
        return {
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
        }


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

    def choose(tree: Survey, index: HelmIndex, base: BaseSources) -> list[Choice]:
        chosen = tree.component(component) if component else tree.required_flux()
        found = _provable(tree, chosen)
        if chosen.is_flux:
            upstream = chosen.upstream
            resolution = resolve_chart_version(index, target, upstream, pre=options.pre)
            return [Choice(found, resolution.release, resolution.chart)]
        return [_upstream_choice(found, target, offline=options.offline, pre=options.pre)]

    if options.no_git and (options.push or options.open_pr):
        raise UsageError("--push and --open-pr publish a git commit; drop --no-git")
    options = replace(
        options, reuse_existing=target == "latest", push=options.push or options.open_pr
    )
    return _execute(root, options, choose, refuse_downgrade=True)


def _upstream_choice(found: Discovery, target: str, *, offline: bool, pre: bool) -> Choice:
    """A non-Flux component's chart version, verified against its repository."""
    component = found.component
    repository = found.wrapper.repositories.get(component.upstream, "")
    if target == "latest":
        return _latest_upstream_choice(found, repository, offline=offline, pre=pre)
    version = versions.normalize(target)
    if offline:
        warning = f"--offline: {component.upstream} {version} not verified against {repository or 'its repository'}"
        return Choice(found, version, version, (warning,))
    from fluxbump.upstream import verify_chart_version

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
    from fluxbump.upstream import latest_chart_version

    version = versions.normalize(latest_chart_version(repository, component.upstream, pre=pre))
    return Choice(found, version, version)


def run_sync(
    root: Path, source: str | None, options: BumpOptions, components: tuple[str, ...] = ()
) -> BumpResult:
    """Make every pin agree with the pin Renovate moved (or ``source``); never touches git."""
    if source is not None and source not in SYNC_SOURCES:
        raise UsageError(f"--from must be one of {', '.join(SYNC_SOURCES)}, not '{source}'")

    def choose(tree: Survey, index: HelmIndex, base: BaseSources) -> list[Choice]:
        if source is not None:
            flux = tree.required_flux()
            if any(name != flux.name for name in components):
                raise UsageError(
                    f"--from names Flux's source; it cannot sync --component {components[0]}"
                )
            found = _provable(tree, flux)
            pick = _from_cloud_init if source == "cloud-init" else _from_chart
            return [Choice(found, *pick(found, index))]
        return _moved_choices(tree, index, base, components)

    return _execute(root, replace(options, no_git=True), choose, refuse_downgrade=False)


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


def _moved_choices(
    tree: Survey, index: HelmIndex, base: BaseSources, names: tuple[str, ...]
) -> list[Choice]:
    """Each component whose source pin moved since the base; none: the default source."""
    from fluxbump.moved import moved_pins

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
    found = _provable(tree, fallback)
    if found.component.is_flux:
        return [Choice(found, *_from_cloud_init(found, index))]
    pins = [p for p in found.upstream_pins() if versions.is_pin(p.value)]
    return [Choice(found, pins[0].value, pins[0].value)] if pins else []  # a range: nothing


def _provable(tree: Survey, component: Component) -> Discovery:
    """A component's discovery, refused (exit 2) when its source pins are missing or
    ambiguous: a target chosen from them would be a guess."""
    found = tree.discovery(component)
    _refuse_unprovable(found)
    return found


def _moved_choice(found: Discovery, moved: list[MovedPin], index: HelmIndex) -> Choice | None:
    """The target the moved pins agree on; a moved chart pin names the exact chart."""
    from fluxbump.moved import refuse_disagreement

    moved = [m for m in moved if versions.is_pin(m.site.value)]  # a range floats: no target
    if not moved:
        return None
    _refuse_unprovable(found)
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


def _from_cloud_init(found: Discovery, index: HelmIndex) -> tuple[str, str]:
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


def _from_chart(found: Discovery, index: HelmIndex) -> tuple[str, str]:
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


Chooser = Callable[[Survey, HelmIndex, BaseSources], list[Choice]]


def _execute(
    root: Path, options: BumpOptions, choose: Chooser, *, refuse_downgrade: bool
) -> BumpResult:
    """Survey, choose the targets, plan, refuse what is unsafe, then apply, gate and commit."""
    config = load_config(root)
    with repo_lock(root):
        notes = recover(root)
        tree = survey(root, config)
        loaded = load_index(options.helm_repo or config.helm_repo, offline=options.offline)
        session = _GitSession.open(root, options)
        session.index_url = loaded.index.url
        choices = choose(tree, loaded.index, session.source_reader(options.base))
        if not choices:
            nothing = "no pin moved since the base revision and none to sync from; nothing to do"
            return BumpResult(Plan([]), dry_run=options.dry_run, notes=[*notes, nothing])
        for choice in choices:
            _refuse_unprovable(choice.found)
        moves = [
            Move(c.found, c.release, c.chart,
                 shipped_releases(c.found, loaded.index, c.was_release or c.was_chart),
                 c.was_release, c.was_chart)
            for c in choices
        ]  # fmt: skip
        plan = plan_moves(moves, session.base_reader(options.base), config.app_version_policy)
        moved = {m.found.component.name for m in moves}
        baseline, unreadable = _drift(tree, loaded.index, moved)
        result = BumpResult(
            plan,
            dry_run=options.dry_run,
            warnings=[
                *loaded.warnings,
                *(w for c in choices for w in c.warnings),
                *plan.warnings,
                *unreadable,
            ],
            notes=[*notes, *session.notes],
            drift=baseline,
        )
        if refuse_downgrade:
            for move in moves:
                _refuse_downgrade(move, options.allow_downgrade)
        if not plan.changed:
            return result
        _refuse_blocked(plan)
        flux = next((m for m in moves if m.found.component.is_flux), None)
        if flux is not None:
            result.crds = _guard_crds(flux.found, loaded.index, flux.chart, options)
            result.warnings += result.crds.warnings
        changes = file_changes(tree.sources, plan)
        if options.dry_run or options.diff:  # a fleet's diff is thousands of hunks: on request
            result.diffs = [unified_diff(c) for c in changes]
        if options.dry_run:
            return result
        session.refuse_unsafe(plan, config.remote)
        if session.proposed(result):
            return session.publish(config.remote, result)
        gate = Gate(config, loaded.index, moved, baseline, tree, offline=options.offline)
        _apply_gate_commit(root, gate, changes, session, result)
        result.stale = stale_after(tree.sources, [m.found for m in moves], plan)
    return session.publish(config.remote, result)


def _drift(tree: Survey, index: HelmIndex, moved: set[str]) -> tuple[list[Violation], list[str]]:
    """Violations of the components this run does not move: reported, never fixed. One whose
    files cannot be read (invalid YAML) does not block a bump of another: it is named."""
    reports, unreadable = [], []
    for component in tree.components:
        if component.name in moved:
            continue
        try:
            reports.append(evaluate(tree.discovery(component), index))
        except UsageError as exc:
            unreadable.append(f"component {component.name} not checked: {exc.message}")
    return combine(reports).violations, unreadable


def _guard_crds(
    found: Discovery, index: HelmIndex, target: str, options: BumpOptions
) -> CrdComparison:
    """Refuse (exit 4) a target whose CRDs stop serving a version the cluster may store."""
    from fluxbump.crd_guard import compare_crds
    from fluxbump.crds import guard_transition

    comparison = compare_crds(found, index, target, offline=options.offline)
    chart = comparison.chart
    # A running chart equal to the target is no transition: name only those it moves from.
    moving = [c for c in comparison.running if not versions.equal(c, target)]
    current = ", ".join(f"{chart} {c}" for c in moving) or "the current release"
    forced = guard_transition(
        current, f"{chart} {target}", list(comparison.drops), force=options.force_unsafe_crds
    )
    return replace(comparison, warnings=(*comparison.warnings, *forced))


def _refuse_unprovable(found: Discovery) -> None:
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


def _refuse_blocked(plan: Plan) -> None:
    """A range that will not admit the planned version fails the gate: say so before writing."""
    if plan.blocked:
        more = f" (and {len(plan.blocked) - 1} more)" if len(plan.blocked) > 1 else ""
        raise GateFailure(f"{plan.blocked[0]}{more}; nothing written")


def _refuse_downgrade(move: Move, allowed: bool) -> None:
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


# Below this many edited files a second process costs more than it saves.
FORK_THRESHOLD = 500


def file_changes(sources: dict[str, SourceFile], plan: Plan) -> list[FileChange]:
    """The new bytes of every file the plan touches (pure: nothing is written).

    Each edit is proven by re-parsing its document; across a fleet that is thousands of
    documents, so half of them are proven in a forked child (``forked.in_two``).
    """
    from fluxbump.forked import in_two

    by_file: dict[str, list[tuple[PinSite, str]]] = {}
    for edit in plan.edits:
        by_file.setdefault(edit.site.file, []).append((edit.site, edit.new))

    def edited(files: Sequence[tuple[str, list[tuple[PinSite, str]]]]) -> list[FileChange]:
        changes = []
        for rel, edits in files:
            source = sources[rel]
            is_text = any(site.doc_index is None for site, _ in edits)
            text = splice(source.text, edits) if is_text else edit_yaml(rel, source.text, edits)
            changes.append(FileChange(rel, source.raw, text.encode("utf-8")))
        return changes

    parts = in_two(edited, sorted(by_file.items()), threshold=FORK_THRESHOLD)
    return [change for part in parts for change in part]


def unified_diff(change: FileChange) -> str:
    old = change.old.decode("utf-8").splitlines(keepends=True)
    new = change.new.decode("utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{change.rel}", f"b/{change.rel}"))


@dataclass(frozen=True)
class Gate:
    """What the post-write gate proves: every moved component consistent, nothing else worse."""

    config: Config
    index: HelmIndex
    moved: set[str]
    baseline: list[Violation]  # drift of the other components before the write
    before: Survey  # the repo as this run read it; the written files are read again
    offline: bool = False


def _apply_gate_commit(
    root: Path,
    gate: Gate,
    changes: list[FileChange],
    session: _GitSession,
    result: BumpResult,
) -> None:
    """Write all files, prove the invariants, commit; any failure restores every file."""
    from fluxbump.transaction import interrupts_as_keyboard_interrupt

    with interrupts_as_keyboard_interrupt():
        transaction = apply_changes(root, changes)
        try:
            result.gate = run_gate(root, gate, result)
            if gate.config.gate.commands:
                _refuse_rewritten(root, changes)
            session.commit(result)
        except BaseException:
            transaction.rollback()
            session.undo()
            raise
        _finish(transaction, result)


def _finish(transaction: Transaction, result: BumpResult) -> None:
    transaction.commit()
    result.applied = True


def run_gate(root: Path, gate: Gate, result: BumpResult) -> str:
    """The in-process check (and, for Flux, CRD schemas at the target), then gate commands.

    Fails on what the plan was meant to make consistent (the moved components) and on any
    violation of another component that the write introduced; drift that was already there
    is reported (``result.drift``), not fixed and not fatal. Raises GateFailure.
    """
    from fluxbump.crd_guard import schema_violations

    plan = result.plan
    tree = resurvey(gate.before, plan.files())
    moved = combine(
        [evaluate(tree.discovery(c), gate.index) for c in tree.components if c.name in gate.moved]
    )
    after, _ = _drift(tree, gate.index, gate.moved)
    known = {_key(v) for v in gate.baseline}
    violations = moved.violations + [v for v in after if _key(v) not in known]
    result.drift = after
    warnings: list[str] = []
    flux = next((t for t in plan.targets if t.flux), None)
    if flux is not None:
        found = tree.discovery(tree.component(flux.component))
        schema, warnings = schema_violations(
            found, gate.index, flux.chart, flux.release, offline=gate.offline
        )
        violations += schema
    if violations:
        lines = "; ".join(v.as_text() for v in violations[:3])
        raise GateFailure(f"gate failed after writing, {RESTORED}: {lines}")
    commands = gate.config.gate.commands
    for command in commands:
        _run_gate_command(root, command, gate.config.gate.timeout)
    ran = f" and {len(commands)} gate command(s)" if commands else ""
    schemas = ""
    if flux is not None:
        schemas = (
            f"; {warnings[0]}"
            if warnings
            else (f"; Flux objects valid for {flux.upstream} {flux.chart}")
        )
    return f"passed: {len(moved.rows)} pin-sites consistent{ran}{schemas}"


def _key(violation: Violation) -> tuple[str, int, str]:
    return violation.file, violation.line, violation.message


def _run_gate_command(root: Path, command: str, timeout: int) -> None:
    """Run one configured command in its own process group: on timeout the whole group is
    killed, so nothing it started can write into the tree after the restore."""
    proc = subprocess.Popen(
        command, shell=True, cwd=root, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout)
    except BaseException as exc:
        _kill_group(proc.pid)
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise GateFailure(
                f"gate command '{command}' ran over {timeout}s and was killed; {RESTORED}"
            ) from None
        raise
    _kill_group(proc.pid)  # what it left running in the background must not write later
    if proc.returncode != 0:
        tail = " | ".join(output.strip().splitlines()[-5:])
        raise GateFailure(
            f"gate command '{command}' exited {proc.returncode}; {RESTORED}"
            + (f": {tail}" if tail else "")
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


# What a failed gate restores: the files this run wrote (not what a gate command wrote).
RESTORED = "every file fluxbump wrote was restored"


def _refuse_rewritten(root: Path, changes: list[FileChange]) -> None:
    """A gate command that passed but edited a file this run wrote would put its edit into
    the bump's commit, which must change nothing but the pinned values."""
    for change in changes:
        if change.old != change.new and _read_bytes(root / change.rel) != change.new:
            raise GateFailure(
                f"{change.rel}: changed by a gate command after fluxbump wrote it; {RESTORED}"
            )


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def stale_after(
    sources: dict[str, SourceFile], moved: list[Discovery], plan: Plan
) -> list[Mention]:
    """Comment lines, in the files the bump touched or the cloud-init templates, that still
    name a value the bump moved away from."""
    from fluxbump.mentions import comment_mentions

    values = {e.site.value for e in plan.edits}
    files = sorted({*plan.files(), *(s.file for found in moved for s in found.installs)})
    return [m for rel in files for m in comment_mentions(sources[rel], values)]


def branch_name(plan: Plan, requested: str | None) -> str:
    return requested or f"fluxbump/{plan.component}-v{plan.release}"


def commit_message(plan: Plan, index_url: str) -> str:
    """The commit message, from ``templates/commit-message.txt``."""
    from fluxbump import __version__
    from fluxbump.render import render

    return render(
        "commit-message.txt",
        summary="; ".join(_summary(t) for t in plan.targets),
        mapping="\n".join(_mapping(t, index_url) for t in plan.targets),
        changes="\n".join(f"- {e.describe()}" for e in plan.edits),
        fluxbump_version=__version__,
    )


def _summary(target: Target) -> str:
    if target.flux:
        return f"Bump Flux to v{target.release} ({target.upstream} chart {target.chart})"
    return f"Bump {target.component} to {target.upstream} chart {target.chart}"


def _mapping(target: Target, index_url: str) -> str:
    if target.flux:
        return (
            f"Flux v{target.release} -> {target.upstream} chart {target.chart} "
            f"(appVersion {target.release}, index: {index_url})."
        )
    return (
        f"Component {target.component}: {target.upstream} chart "
        f"{target.from_chart or '?'} -> {target.chart}."
    )


class _GitSession:
    """Git around one bump: the base reader, the refusals, the branch and commit."""

    def __init__(self, repo: Any, options: BumpOptions, notes: list[str]) -> None:
        self.repo = repo
        self.options = options
        self.notes = notes
        self.original: str | None = None
        self.branch: str | None = None
        self.index_url = ""
        self.forge: tuple[Any, str] | None = None

    @classmethod
    def open(cls, root: Path, options: BumpOptions) -> _GitSession:
        """Git is read (for the base revision) even with --no-git; only writes are skipped."""
        from fluxbump import git

        repo = git.open_repo(root)
        if repo is None or not git.has_head(repo):
            where = (
                "not in a git repository" if repo is None else "in a git repository with no commit"
            )
            note = (
                [] if options.no_git else [f"{root} is {where}: writing files only (as --no-git)"]
            )
            return cls(None, options, note)
        session = cls(repo, options, [])
        session.original = git.current_branch(repo)
        return session

    @property
    def writes(self) -> bool:
        return self.repo is not None and not self.options.no_git

    def source_reader(self, base: str | None) -> BaseSources:
        """Files as they were at the base revision (``sync`` finds what Renovate moved)."""
        if self.repo is None:
            return _no_base
        from fluxbump import git

        return git.base_source_reader(self.repo, base or "HEAD")

    def base_reader(self, base: str | None) -> BaseCharts:
        if self.repo is None:
            return _no_base
        from fluxbump import git

        reader: Callable[[str], Any] = git.base_chart_reader(self.repo, base or "HEAD")
        return reader

    def refuse_unsafe(self, plan: Plan, remote: str) -> None:
        """Dirty files, an existing branch, a missing forge token: refused before any write."""
        if not self.writes:
            return
        from fluxbump import git

        git.refuse_unsettled(self.repo)
        dirty = git.dirty_files(self.repo, plan.files())
        if dirty and not self.options.allow_dirty:
            raise UsageError(
                f"uncommitted changes in {', '.join(dirty)}, which this bump edits; "
                "commit or stash them, or pass --allow-dirty"
            )
        self.branch = branch_name(plan, self.options.branch)
        if git.branch_exists(self.repo, self.branch) and not self.options.reuse_existing:
            raise UsageError(
                f"branch {self.branch} already exists; delete it, or pass --branch NAME"
            )
        if self.options.push and not git.has_remote(self.repo, remote):
            flag = "--open-pr" if self.options.open_pr else "--push"
            raise UsageError(
                f"{flag}: no git remote '{remote}' (set 'remote' in .fluxbump.yaml, or "
                f"git remote add {remote} URL); nothing was written"
            )
        if self.options.open_pr:
            self.forge = _forge_for(self.repo, remote)

    def proposed(self, result: BumpResult) -> bool:
        """True when the scheduled job finds its bump branch already there (nothing to do)."""
        if not self.writes or self.branch is None or not self.options.reuse_existing:
            return False
        from fluxbump import git

        if not git.branch_exists(self.repo, self.branch):
            return False
        result.branch = self.branch
        result.notes.append(
            f"a bump to v{result.plan.release} already exists on branch {self.branch}; nothing to do"
        )
        return True

    def publish(self, remote: str, result: BumpResult) -> BumpResult:
        """Push the branch and open (or find) its pull request, as asked."""
        if not self.writes or result.branch is None:
            return result
        if self.options.push:
            self.push(remote, result)
        if self.options.open_pr and self.forge is not None:
            self.open_pr(result)
        return result

    def open_pr(self, result: BumpResult) -> None:
        from fluxbump.forge import open_pull_request

        assert self.forge is not None and result.branch is not None
        target, token = self.forge
        title, body = pr_text(result)
        pr = open_pull_request(
            target, token, head=result.branch, base=self.original or "main", title=title, body=body
        )
        result.pr_url = pr.url
        verb = "opened" if pr.created else "found existing"
        result.notes.append(f"{verb} pull request #{pr.number}: {pr.url}")

    def commit(self, result: BumpResult) -> None:
        if not self.writes or self.branch is None:
            return
        from fluxbump import git

        message = commit_message(result.plan, self.index_url)
        result.commit = git.commit_on_new_branch(
            self.repo, self.branch, result.plan.files(), message
        )
        result.branch = self.branch

    def push(self, remote: str, result: BumpResult) -> None:
        """Push the new branch; a failure leaves the commit on the local branch (exit 3)."""
        if not self.writes or result.branch is None:
            return
        from fluxbump import git

        git.push(self.repo, remote, result.branch)
        result.pushed = True

    def undo(self) -> None:
        if not self.writes or self.branch is None:
            return
        from fluxbump import git

        if git.current_branch(self.repo) == self.branch:
            git.undo_branch(self.repo, self.original, self.branch)


def _forge_for(repo: Any, remote: str) -> tuple[Any, str]:
    """The forge and token for --open-pr, checked before anything is written."""
    from fluxbump import git
    from fluxbump.forge import forge_for_remote, token_for

    if not git.has_remote(repo, remote):
        raise UsageError(f"--open-pr: no git remote '{remote}' (set 'remote' in .fluxbump.yaml)")
    target = forge_for_remote(git.remote_url(repo, remote), os.environ)
    return target, token_for(target, os.environ)


def pr_text(result: BumpResult) -> tuple[str, str]:
    """The pull request title and body (templates pr-title.txt and pr-body.md)."""
    from fluxbump.render import PrContent, PrEdit, render_pr

    plan = result.plan
    edits = tuple(
        PrEdit(e.site.file, e.site.line, e.site.role.value, e.site.owner, e.site.value, e.new)
        for e in plan.edits
    )
    content = PrContent(
        subject="Flux" if plan.first.flux else plan.component,
        upstream=plan.upstream,
        flux=plan.first.flux,
        release=plan.release,
        chart=plan.chart,
        from_release=plan.from_release or "?",
        from_chart=plan.from_chart or "?",
        edits=edits,
        stale_mentions=tuple(f"{m.where}: {m.text}" for m in result.stale),
        gate_result=result.gate,
        crd_summary=result.crds.summary() if result.crds is not None else "not compared",
    )
    return render_pr(content)


def _no_base(rel: str) -> None:
    return None


def _origin(target: Target) -> str:
    """Where the bump starts: the installed release if it moves, else the chart it replaces."""
    if target.from_release and not versions.equal(target.from_release, target.release):
        return f" (from Flux v{target.from_release}, chart {target.from_chart})"
    return f" (chart was {target.from_chart})" if target.from_chart else ""


def format_result(result: BumpResult, *, show_diff: bool) -> list[str]:
    """Human report of a bump: mapping, plan, diff, gate, branch, stale mentions, drift."""
    plan = result.plan
    lines = [*result.notes]
    if not plan.targets:
        return lines
    if not plan.changed:
        lines += [f"{t.title()}: already at {_at(t)}; nothing to do" for t in plan.targets]
        return lines + _drift_lines(result)
    lines += [f"{t.title()}{_origin(t)}" for t in plan.targets]
    lines.append(f"plan: {len(plan.edits)} edit(s) in {len(plan.files())} file(s)")
    lines += [f"  {edit.describe()}" for edit in plan.edits]
    if show_diff:
        lines += [d.rstrip("\n") for d in result.diffs]
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


def _at(target: Target) -> str:
    return f"v{target.release}" if target.flux else target.chart


def _drift_lines(result: BumpResult) -> list[str]:
    """Other components' violations: this run did not move them, so it does not fix them."""
    if not result.drift:
        return []
    header = (
        "drift in components this run did not move (reported, not fixed; see 'fluxbump check'):"
    )
    return [header, *(f"  {v.as_text()}" for v in result.drift)]
