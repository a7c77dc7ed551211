"""The post-write gate: after the bump's files are written, prove the invariants again.

It fails on what the plan was meant to make consistent (the moved components) and on any
violation of another component that the write introduced; drift that was already there is
reported, not fixed and not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fluxbump import versions
from fluxbump.config import Config
from fluxbump.errors import GateFailure, UsageError
from fluxbump.gate.commands import RESTORED, run_gate_command
from fluxbump.gate.drift import outside_report
from fluxbump.gate.floating import floats
from fluxbump.gate.invariants import GateReport, Judged, combine, evaluate
from fluxbump.pins import PinSite, Violation
from fluxbump.plan import Target
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import same_minor_chart
from fluxbump.results import BumpResult
from fluxbump.scan.charts import tracked_charts
from fluxbump.scan.discover import Survey, resurvey
from fluxbump.write.transaction import FileChange


@dataclass(frozen=True)
class Gate:
    """What the post-write gate proves: every moved component consistent, nothing else worse."""

    config: Config
    index: HelmIndex
    moved: set[str]
    baseline: list[Violation]  # drift of the other components before the write
    before: Survey  # the repo as this run read it; the written files are read again
    offline: bool = False


def run_gate(root: Path, gate: Gate, result: BumpResult) -> str:
    """The in-process check (and, for Flux, CRD schemas at the target), then gate commands.

    Fails on what the plan was meant to make consistent (the moved components) and on any
    violation of another component that the write introduced; drift that was already there
    is reported (``result.drift``), not fixed and not fatal. Raises GateFailure.
    """
    from fluxbump.crds.guard import schema_violations

    plan = result.plan
    tree = resurvey(gate.before, plan.files())
    judged = Judged()  # (an umbrella's releases, in moved and unmoved components: once)
    moved = combine([evaluate(tree.discovery(c), gate.index, judged)
                     for c in tree.components if c.name in gate.moved])  # fmt: skip
    result.warnings += left_unproven(moved, tree.release_pins())
    after, _ = drift(tree, gate.index, gate.moved, judged)
    known = {_key(v) for v in gate.baseline}
    violations = moved.failures() + [v for v in after if _key(v) not in known]
    result.drift = after
    warnings: list[str] = []
    schema: list[Violation] = []
    flux = next((t for t in plan.targets if t.flux), None)
    judge = _schema_chart(gate.index, flux) if flux is not None else None
    if flux is not None and judge is not None:  # (None: its CRDs are unknown: said)
        found = tree.discovery(tree.component(flux.component))
        schema, warnings = schema_violations(found, gate.index, *judge, offline=gate.offline)
        violations += schema
    judged_by = _judged_by(flux, judge)
    if violations:
        lines = "; ".join(v.as_text() for v in violations[:3])
        by = _stood_in(flux, judge) if schema else ""
        raise GateFailure(f"gate failed after writing, {RESTORED}: {lines}{by}")
    commands = gate.config.gate.commands
    for command in commands:
        run_gate_command(root, command, gate.config.gate.timeout)
    ran = f" and {len(commands)} gate command(s)" if commands else ""
    schemas = ""
    if judged_by:
        schemas = f"; {warnings[0]}" if warnings else f"; Flux objects valid for {judged_by}"
    # as check counts them: a pin left as written (``latest``) is named, not proven
    unproven = sum(1 for row in moved.rows if not row.proven)
    kept = sum(1 for row in moved.rows if row.kept)  # (listed, not compared: not "consistent")
    left = f", {unproven} left unproven (see the warnings)" if unproven else ""
    left += f", {kept} kept on purpose" if kept else ""
    consistent = len(moved.rows) - unproven - kept
    return f"passed: {consistent} pin-sites consistent{left}{ran}{schemas}"


def _schema_chart(index: HelmIndex, flux: Target) -> tuple[str, str] | None:
    """The chart whose CRD schemas the written Flux objects are validated against, and the
    release it carries: the target's, else for a release no chart carries the nearest of its
    minor line (``resolve.same_minor_chart``: Flux changes its API versions only in minor
    releases); None when none is (a release below may lack a field the target added)."""
    if flux.chart is not None:
        return flux.chart, flux.release
    same_line = same_minor_chart(index, flux.upstream, versions.normalize(flux.release))
    return (same_line.chart, same_line.release) if same_line is not None else None


def _judged_by(flux: Target | None, judge: tuple[str, str] | None) -> str:
    """``flux2 2.17.1``, with the release it stands in for when no chart carries the target."""
    if flux is None or judge is None:
        return ""
    stood_in = "" if flux.chart else f" (standing in for Flux {flux.release})"
    return f"{flux.upstream} {judge[0]}{stood_in}"


def _stood_in(flux: Target | None, judge: tuple[str, str] | None) -> str:
    """Whose schemas judged a target no chart carries (a violation names their release)."""
    if flux is None or judge is None or flux.chart:
        return ""
    return (
        f"; the CRD schemas of {flux.upstream} {judge[0]} (Flux {judge[1]}) stood in for "
        f"Flux {flux.release}'s, which no chart carries"
    )


def left_unproven(report: GateReport, release_pins: list[PinSite]) -> list[str]:
    """The moved components' pins the bump left as written because the repository does not
    say their value (a ``${VAR}`` set elsewhere, a template): the gate passes on them, so
    they are named (the first ``_NAMED``), to be checked by hand. A release pin that names no
    release (``latest``) was named with the plan (gate/floating.py)."""
    said = {(s.file, s.line, s.value) for s in release_pins if floats(s)}
    left = [
        r
        for r in report.rows
        if not r.proven and (r.site.file, r.site.line, r.site.value) not in said
    ]
    named = [
        f"{row.site.where}: {row.site.role} {row.site.value} left as written: fluxbump cannot "
        f"prove it is {row.expected}{f' ({row.why})' if row.why else ''}; check it by hand"
        for row in left[:_NAMED]
    ]
    if len(left) > _NAMED:  # (a fleet's ${VAR} releases: a line each would bury the rest)
        named.append(f"and {len(left) - _NAMED} more left as written ('fluxbump status': ??)")
    return named


_NAMED = 10


def drift(
    tree: Survey, index: HelmIndex, moved: set[str], judged: Judged | None = None
) -> tuple[list[Violation], list[str]]:
    """Violations of the components this run does not move, and of the charts outside every
    component (``check`` reports both): reported, never fixed. One whose files cannot be read
    (invalid YAML) does not block a bump of another: it is named. ``judged``: the release
    rows of ``tree``'s moved components, judged already."""
    reports, unreadable = [], []
    judged = judged if judged is not None else Judged()  # (an umbrella's releases: once)
    for component in tree.components:
        if component.name in moved:
            continue
        try:
            report = evaluate(tree.discovery(component), index, judged)
        except UsageError as exc:
            unreadable.append(f"component {component.name} not checked: {exc.message}")
            continue
        # Only failures are kept: a fleet's rows (one per pin-site of every other component,
        # tens of thousands) would be merged by ``combine`` only to be dropped.
        reports.append(GateReport(violations=report.violations, problems=report.problems))
    wrappers = [c.wrapper for c in tree.components if c.wrapper]
    outside = outside_report(tree, set(tracked_charts(tree.charts, wrappers)))
    reports.append(GateReport(violations=outside.violations))
    return combine(reports).failures(), unreadable


def _key(violation: Violation) -> tuple[str, int, str]:
    return violation.file, violation.line, violation.message


def refuse_rewritten(root: Path, changes: list[FileChange]) -> None:
    """A gate command that passed but edited a file this run wrote would put its edit into
    the bump's commit, which must change nothing but the pinned values."""
    for change in changes:
        after = None if change.deleted else change.new
        if change.old != change.new and not _holds(root / change.rel, after):
            raise GateFailure(
                f"{change.rel}: changed by a gate command after fluxbump wrote it; {RESTORED}"
            )


def _holds(path: Path, expected: bytes | None) -> bool:
    from fluxbump.write.transaction import holds

    try:
        return holds(path, expected)
    except OSError:
        return False
