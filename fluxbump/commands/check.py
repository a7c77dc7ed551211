"""``fluxbump status`` and ``fluxbump check``: discover, evaluate the invariants, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fluxbump import versions
from fluxbump.components import Component
from fluxbump.config import CONFIG_NAME, Config, KeepRule, load_config
from fluxbump.crds.guard import (
    CrdComparison,
    check_violations,
    pinned_comparison,
    schema_violations,
)
from fluxbump.errors import ResolutionError
from fluxbump.gate.drift import outside_report
from fluxbump.gate.floating import floating_warnings
from fluxbump.gate.invariants import (
    GateReport,
    Judged,
    Row,
    combine,
    evaluate,
    installed_release,
    loose_release,
    loose_release_pins,
    ranged_install,
    ranges_named,
    stale_mentions,
)
from fluxbump.gate.provider import provider_warnings, unversioned_warnings
from fluxbump.output import one_line
from fluxbump.pins import Mention, PlacedWarning, Role, Violation, warnings_json
from fluxbump.remote.index import HelmIndex, IndexLoad, load_index
from fluxbump.resolve import app_version_of
from fluxbump.scan.cache import ScanCache, open_cache
from fluxbump.scan.controllerfiles import stale_generated, vendored_installs
from fluxbump.scan.discover import Discovery, Survey, has_templates, survey
from fluxbump.scan.forked import Ahead, while_waiting
from fluxbump.scan.kept import stale_warnings, untracked_chart
from fluxbump.scan.sources import matches, walk_warnings
from fluxbump.vcs.git import sparse_warnings
from fluxbump.yamlio.yamldoc import reading_warnings

if TYPE_CHECKING:
    from fluxbump.crds.migrate import FluxObject


@dataclass(frozen=True)
class CheckResult:
    found: Discovery | None  # Flux's chain, when it is checked (stale mentions, CRDs)
    report: GateReport
    warnings: tuple[str, ...]
    crds: CrdComparison | None = None
    components: tuple[Component, ...] = ()
    per_component: tuple[GateReport, ...] = ()  # parallel to ``components``
    outside: tuple[Row, ...] = ()  # rows of charts outside every component (also in ``report``)

    def as_json(self) -> dict[str, Any]:
        outside = self.outside_ids()
        return {
            "ok": self.report.ok,
            "component": self.found.component.name if self.found else None,
            "components": [
                {"name": c.name, "wrapper": c.wrapper or None, "upstream": c.upstream}
                for c in self.components
            ],
            "violations": [v.as_json() for v in self.report.violations],
            "problems": [p.as_json() for p in self.report.problems],
            "sites": [_site_json(r, id(r) in outside) for r in self.report.rows],
            "stale_mentions": [m.as_json() for m in self.stale()],
            "crds": self.crds.as_json() if self.crds is not None else None,
            "warnings": warnings_json(self.warnings),
        }

    def outside_ids(self) -> set[int]:
        """Which rows of ``report`` are ``outside`` (the same objects): one look-up a row."""
        return {id(r) for r in self.outside}

    def stale(self) -> list[Mention]:
        return stale_mentions(self.found) if self.found is not None else []


def _site_json(row: Row, outside: bool) -> dict[str, Any]:
    """A row; one of a chart outside every component says so (no component moves it)."""
    return {**row.as_json(), **({"outside_components": True} if outside else {})}


def run_check(
    repo: Path,
    *,
    helm_repo: str | None,
    offline: bool,
    components: tuple[str, ...] = (),
    warm: bool = True,
) -> CheckResult:
    """Discover every component's pin-sites and prove every invariant (Flux's against the
    Helm index); ``components`` narrows to those names. ``warm``: files git finds unchanged
    since the last run are answered by the cache in the git directory (``scan/cache.py``)."""
    config = load_config(repo)
    cache = open_cache(repo, config) if warm else None
    index = Ahead(
        lambda: load_index(helm_repo, offline=offline, fallback=True, configured=config.helm_repo)
    )
    with while_waiting(index, Ahead(_import_schema_validation)):
        found = _survey(repo, config, components, cache)
    result = _checked(found, config, index, offline=offline, components=components)
    if cache is not None:
        cache.save()  # only once every pass that keeps records has run
    return result


# What replaying a record of another shape raises (unpacking, indexing, a field's type).
_ODD_RECORD = (TypeError, ValueError, IndexError, KeyError, AttributeError)


def _survey(
    repo: Path, config: Config, components: tuple[str, ...], cache: ScanCache | None
) -> Survey:
    """The survey, warm when a cache is given. Records the format and version say this code
    wrote but that do not replay (damaged inside, written by another build of the same
    stamp) make it a cold run that writes the cache again, never an error: a real fault
    of the scan raises again there."""
    if cache is None:
        return survey(repo, config, components)
    try:
        return survey(repo, config, components, cache)
    except _ODD_RECORD:
        cache.forget()
        return survey(repo, config, components, cache)


def _import_schema_validation() -> None:
    """jsonschema (a tenth of a second to import) and the loader of the Flux objects it
    validates (ruamel's resolver table) while the scan's child sends its half."""
    import jsonschema  # noqa: F401

    from fluxbump.yamlio.plaindata import prepare

    prepare()


def _checked(
    found: Survey,
    config: Config,
    index: Ahead[IndexLoad],
    *,
    offline: bool,
    components: tuple[str, ...],
) -> CheckResult:
    repo = found.root
    chosen = found.select(components)
    if not components:
        found.flux()  # Flux is always checked unless excluded: this names a missing wrapper
    discoveries = [found.discovery(c) for c in chosen]
    flux = next((d for d in discoveries if d.component.rules.names_a_release), None)
    loaded = index.result()
    offline = offline or not loaded.index.complete  # fell back: chart archives are not fetched
    judged = Judged()  # an umbrella's releases are in every component: judged once
    reports = tuple(evaluate(d, loaded.index, judged) for d in discoveries)
    report = combine(list(reports))
    crds, warnings = None, list[str]()
    if flux is not None and not has_templates(flux) and not flux.component.outside_charts:
        warnings.append(
            f"no cloud-init template ({', '.join(config.cloudinit)}): Flux is installed another "
            "way here, so there is no cloud-init invariant"
        )
    if flux is not None:
        crds = _pinned_comparison(repo, flux, loaded.index, offline=offline)
        schema, schema_warnings = _pinned_schema_violations(flux, loaded.index, offline=offline)
        unserved, deprecated = _unserved_api_versions(found, flux, loaded.index, offline=offline)
        said = {(v.file, v.line) for v in schema}
        unserved = [v for v in unserved if (v.file, v.line) not in said]
        report.violations += check_violations(flux, crds) + schema + unserved
        guarded = (*crds.unchecked(), *crds.warnings) if crds is not None else ()
        warnings += [*guarded, *schema_warnings, *deprecated]
    if flux is None and not components and not found.flux_excluded:
        loose = loose_release_pins(found.release_pins())
        report.rows += loose.rows
        report.violations += loose.violations
    if flux is not None or (not components and not found.flux_excluded):
        release = (
            installed_release(flux, loaded.index)
            if flux is not None
            else loose_release(found.release_pins())
        )
        warnings += floating_warnings(found.release_pins())
        warnings += provider_warnings(found.provider_constraints(), release)
        warnings += _patched_controllers(found, release)
    warnings += unversioned_warnings(found.unversioned_bootstraps(), found.provider_constraints())
    warnings += _operator_charts_apart(discoveries)
    warnings += _controller_files(found)
    warnings += sparse_warnings(repo)
    if not components:  # (narrowed, the entries of the other components would seem stale)
        warnings += stale_warnings(config.keep, discoveries, _untracked(found, discoveries))
    outside = GateReport()
    if not components:
        covered = {name for d in discoveries for name in d.tracked}
        outside = outside_report(found, covered)
        report.rows += outside.rows
        report.violations += outside.violations
        report.problems += found.orphan_problems(
            {n for d in discoveries for n in d.unread_charts()}
        )
    report.violations += _stale_archives(found, discoveries)
    # Where the index came from is said only now, once the index was (or was not) needed.
    # What the walk left unread and the keys read twice are part of the result (--json):
    # taken from the notes the reading left.
    skipped = [*walk_warnings(), *reading_warnings()]
    warnings = [*_pending_journal(repo), *skipped, *loaded.used_warnings(), *warnings]
    return CheckResult(
        flux, report, tuple(warnings), crds, tuple(chosen), reports, tuple(outside.rows)
    )


def _operator_charts_apart(discoveries: list[Discovery]) -> list[str]:
    """flux-operator's two charts pinned at different versions: upstream releases both under
    one version, and ``to``/``sync`` move them together (a warning: each still deploys)."""
    firsts = {
        d.component.upstream: first
        for d in discoveries
        if d.component.operator
        and (first := next((p for p in d.release_pins if versions.is_pin(p.value)), None))
    }
    if len(firsts) < 2:
        return []
    newer, older = sorted(firsts.values(), key=lambda p: versions.sort_key(p.value), reverse=True)
    if versions.equal(newer.value, older.value):
        return []
    message = (
        f"{older.subject} pins {older.value}, {newer.subject} {newer.value} ({newer.where}): "
        "upstream releases both charts under one version; 'fluxbump to "
        f"{versions.normalize(newer.value)} --component {newer.subject}' moves both"
    )
    return [PlacedWarning(older.file, older.line, message)]


def _pinned_comparison(
    repo: Path, flux: Discovery, index: HelmIndex, *, offline: bool
) -> CrdComparison | None:
    """The cloud-init Flux's CRDs against the pinned chart's, judged by the pin history only
    when they differ (reading git costs the common, consistent case nothing)."""
    from fluxbump.commands.history import repository_pin_history

    crds = pinned_comparison(flux, index, offline=offline)
    if crds is None or not crds.drops:
        return crds
    history = repository_pin_history(repo, flux, index)
    return pinned_comparison(flux, index, offline=offline, history=history)


def _stale_archives(found: Survey, discoveries: list[Discovery]) -> list[Violation]:
    """Vendored archives of the checked charts that their pins moved away from. Only the
    read-only commands report them: a bump does not download archives (yet), so its gate
    must not fail on them; the next ``check`` names them."""
    from fluxbump.scan.sites.vendored import stale_archives, stale_unpacked, vendored

    names = sorted({name for d in discoveries for name in d.tracked})
    stale = []
    for chart in (found.charts[name] for name in names):
        held = vendored(found.root, chart)
        stale += stale_archives(chart, held) + stale_unpacked(found.root, chart, held)
    return stale


def _controller_files(found: Survey) -> list[PlacedWarning]:
    """The Flux installs kept as controllers' Deployments that no pin names the release of,
    or whose pin moved without them (``scan/controllerfiles.py``)."""
    pins = [(site, site.value) for site in found.release_pins()]
    generated = stale_generated(pins, found.roles.chart_templates, found.read_if_there)
    vendored = vendored_installs(found.readable_release_pin_files(), found.read_if_there)
    return generated + vendored


def _patched_controllers(found: Survey, release: str | None) -> list[PlacedWarning]:
    """The Flux controller images patches set at a tag other than the installed release's
    controller (``scan/sites/controllerimages.py``): a warning, as ``to`` names them."""
    from fluxbump.scan.sites import controllerimages as images

    files = images.image_files(found.readable_release_pin_files(), found.release_pins())
    [patched] = images.controllers_of(files, found.read_if_there, [images.patched_controllers])
    return images.drifted_patches(patched, release)


def _pending_journal(repo: Path) -> tuple[str, ...]:
    """check never repairs (it only reads); it says when a killed run left files half-written."""
    from fluxbump.verdict import note_exists
    from fluxbump.write.places import places

    journal = places(repo).journal  # (one ``git rev-parse``; not the writer's module)
    pending = journal.exists()
    note_exists(journal, pending)
    if not pending:
        return ()
    return (
        f"an interrupted fluxbump run left a journal in {journal}; the next "
        "'fluxbump to' or 'fluxbump sync' recovers it first (finishes that run if its commit "
        "was made, else restores its files; it says so if neither is safe)",
    )


def _pinned_schema_violations(
    found: Discovery, index: HelmIndex, *, offline: bool
) -> tuple[list[Violation], list[str]]:
    """Flux objects against the CRD schemas of the chart the wrapper pins; without a chart,
    the FluxInstance files' (which hold the cluster's HelmReleases) against those of the
    release what installs Flux names."""
    if not found.component.outside_charts:
        pinned = _chart_pinned(found, index)
        return schema_violations(found, index, *pinned, offline=offline) if pinned else ([], [])
    if not any(site.role is Role.INSTANCE for site in found.release_pins):
        return [], []  # (a kustomize remote or a bootstrap: Flux's own manifests, no objects)
    from fluxbump.resolve import same_minor_chart, stand_in_said

    # The chart carrying the release the pins install, else the nearest release of its minor
    # line a chart carries (never one below: it may lack a field the release added).
    release = loose_release(found.component.rules.source_pins(found))
    judge = same_minor_chart(index, found.component.upstream, release) if release else None
    if release is None or judge is None:
        return [], []
    violations, warnings = schema_violations(
        found, index, judge.chart, judge.release, offline=offline
    )
    if violations and judge.release != versions.normalize(release):  # (they name judge's)
        warnings.insert(0, f"Flux {release}: no chart carries it: its objects' fields are "
                           f"judged by {stand_in_said(judge, release)}")  # fmt: skip
    return violations, warnings


def _unserved_api_versions(
    tree: Survey, found: Discovery, index: HelmIndex, *, offline: bool
) -> tuple[list[Violation], list[str]]:
    """Flux objects anywhere in the manifests whose apiVersion the pinned release does not
    serve (the schema check reads only the files that deploy a chart), and warnings for those
    whose apiVersion it deprecates."""
    from fluxbump.crds import migrate
    from fluxbump.crds.definitions import deprecated_versions
    from fluxbump.crds.guard import migration_crds

    pinned, why, above = _pinned_chart(found, index), "", None
    if pinned is None and found.component.outside_charts:
        pinned, why, above = _outside_charts_release(found, index)
    if pinned is None:
        return [], []
    chart = found.component.upstream
    chart_version, release = pinned
    crds = migration_crds(index, chart, chart_version, offline=offline)
    if crds is None:
        return [], []
    deprecated = deprecated_versions(chart_version) if chart == "flux2" else {}
    objects = migrate.repository_objects(
        tree, migrate.unserved_somewhere(crds, deprecated=deprecated)
    )
    flux = f"Flux {versions.normalize(release)}"
    judged = _unserved_above(objects, index, chart, above, offline=offline)
    unserved = migrate.unserved_violations(judged, crds, flux)
    warnings = migrate.deprecation_warnings(objects, crds, flux, deprecated)
    if why and (unserved or warnings):  # say why that release, where no pin names it
        warnings.insert(0, f"{flux}: {why}")
    return unserved, warnings


def _outside_charts_release(
    found: Discovery, index: HelmIndex
) -> tuple[tuple[str, str] | None, str, str | None]:
    """Without a chart pin and with no chart carrying the release the pins name: (chart
    version, release) whose CRDs the objects are judged by instead, why that release, and the
    chart of the first release above it (None when there is none or the release is known)."""
    from fluxbump.resolve import carried_around, same_minor_chart, stand_in_said

    release = loose_release(found.component.rules.source_pins(found))
    if release is None:
        return (*_newest_admitted(found, index), None)
    chart = found.component.upstream
    same_line = same_minor_chart(index, chart, release)
    if same_line is not None:  # (it serves what the release serves: nothing left to filter)
        why = f"none carries Flux {release}: judged by {stand_in_said(same_line, release)}"
        return (same_line.chart, same_line.release), why, None
    below, above = carried_around(index, chart, release)
    if below is None:
        return None, "", None
    why = (f"the newest release below Flux {release} a chart carries (none carries {release}): "
           f"what it no longer serves, {release} does not serve either")  # fmt: skip
    return (below.chart, below.release), why, (above.chart if above else None)


def _unserved_above(
    objects: list[FluxObject], index: HelmIndex, chart: str, above: str | None, *, offline: bool
) -> list[FluxObject]:
    """The objects a release judged by the one below it can be said not to serve: those the
    first release above it does not serve either. One it serves may be new in the release
    itself (Flux 2.0.0-rc.1 serves kustomize.toolkit.fluxcd.io/v1, which 0.41.1, the release
    below it a chart carries, does not), and Flux never serves a version again once removed."""
    from fluxbump.crds import migrate
    from fluxbump.crds.guard import migration_crds

    crds = None if above is None else migration_crds(index, chart, above, offline=offline)
    if crds is None:
        return objects
    unserved = {id(obj) for obj, _ in migrate.unserved(objects, crds)}
    return [obj for obj in objects if id(obj) in unserved]


def _newest_admitted(found: Discovery, index: HelmIndex) -> tuple[tuple[str, str] | None, str]:
    """With only ranges naming the release (a FluxInstance's ``2.x``, which the operator
    resolves to the newest release it admits): (chart version, release) of the newest chart
    whose Flux release every such range admits, and why that release."""
    admitted = ranged_install(found, index)
    if admitted is None:
        return None, ""
    newest, ranged = admitted
    return (newest.chart, newest.release), (
        f"the newest release {ranges_named(ranged)} admits in the Helm index; the operator "
        "installs the newest release its range admits"
    )


def _pinned_chart(found: Discovery, index: HelmIndex) -> tuple[str, str] | None:
    """(chart version, Flux release) whose CRDs the repository's objects must be served by:
    the wrapper's one exact pin of the chart and its appVersion; with no wrapper chart (a
    flux-operator or ``flux bootstrap`` layout) the release its first exact pin that installs
    Flux names (a CLI pin installs nothing) and the chart carrying that release."""
    from fluxbump.resolve import resolve_chart_version

    if found.component.outside_charts:  # what installs Flux (the rules' own source pins)
        release = loose_release(found.component.rules.source_pins(found))
        if release is None:
            return None
        try:
            return resolve_chart_version(index, release, found.component.upstream).chart, release
        except ResolutionError:
            return None  # no chart carries it: the release pins' own check names that
    return _chart_pinned(found, index)


def _chart_pinned(found: Discovery, index: HelmIndex) -> tuple[str, str] | None:
    """(chart version, Flux release) of the one exact version the chart pins agree on."""
    pin = found.agreed_upstream_pin()
    if pin is None:
        return None
    release = app_version_of(index, found.component.upstream, pin.value)
    return None if release is None or not versions.is_pin(release) else (pin.value, release)


def format_problems(report: GateReport) -> list[str]:
    """Repository-level problems in their own section (not pins: no row of the table)."""
    if not report.problems:
        return []
    return [
        "problems (what they name is unproven):",
        *(f"  {p.as_text()}" for p in report.problems),
    ]


def format_text(result: CheckResult) -> list[str]:
    lines = [v.as_text() for v in result.report.violations] + format_problems(result.report)
    kept = sum(bool(row.kept) for row in result.report.rows)
    count = len(result.report.rows) - kept
    unproven = sum(not row.proven for row in result.report.rows)
    why = _unproven_by_index(result.report)
    if result.report.ok and unproven and not why:
        lines.append(
            f"check: consistent — {count - unproven} pin-sites agree, {unproven} cannot be "
            "proven from this repo (marked ?? by 'status')"
        )
    elif result.report.ok and unproven:
        lines.append(
            f"check: consistent — {count - unproven} pin-sites agree, {unproven} cannot be "
            f"proven: {why}"
        )
    elif result.report.ok:
        lines.append(f"check: consistent — {count} pin-sites agree")
    else:
        suffix = f"; {unproven} cannot be proven: {why}" if why else ""
        problems = len(result.report.problems)
        also = f" and {problems} problem(s)" if problems else ""
        lines.append(
            f"check: {len(result.report.violations)} violation(s){also} in {count} "
            f"pin-sites{suffix}"
        )
    if kept:
        lines[-1] += f"; {kept} kept on purpose ('keep' in {CONFIG_NAME}; 'status' lists them)"
    return lines


def _unproven_by_index(report: GateReport) -> str:
    """What the index could not prove, named (``file:line (reason)``), or ""."""
    named = [f"{r.site.where} ({r.why})" for r in report.rows if r.why]
    return "; ".join(named)


def format_github(result: CheckResult) -> list[str]:
    """GitHub Actions workflow commands; message data escaped as the runner requires."""
    lines = []
    for v in result.report.failures():
        place = f"file={_escape_property(v.file)}" + (f",line={v.line}" if v.line else "")
        where = place if v.file else ""
        lines.append(
            f"::error {where}::{_escape_data(v.message)}"
            if where
            else f"::error::{_escape_data(v.message)}"
        )
    return lines + format_text(result)[-1:]


def _escape_data(text: str) -> str:
    """A workflow command's message, escaped as actions/toolkit ``escapeData`` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A property value (``file=``), escaped as actions/toolkit ``escapeProperty`` does: an
    unescaped ``,`` or ``:`` in a directory name would end the value and forge the location."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# Above this many components ``status`` prints one line per component unless asked for the
# table (``--verbose`` or ``--component``): a real repository has dozens of wrappers.
SUMMARY_ABOVE = 3


OUTSIDE_HEADING = "charts outside every component (checked; to and sync never move them):"


def format_status(result: CheckResult, *, verbose: bool = False) -> list[str]:
    """A table: role, file:line, value, expected, ok; then stale mentions. Many components:
    one summary line each, then what is wrong."""
    if len(result.components) > SUMMARY_ABOVE and not verbose:
        return _component_summary(result)
    described = ", ".join(c.describe() for c in result.components)
    ids = result.outside_ids()
    outside = [r for r in result.report.rows if id(r) in ids]
    tracked = [r for r in result.report.rows if id(r) not in ids]
    header = [("ROLE", "WHERE", "VALUE", "EXPECTED", "OK")]
    cells = [(r.site.label, one_line(r.site.where), one_line(r.site.value),
              one_line(r.expected), _verdict(r)) for r in (*tracked, *outside)]  # fmt: skip
    widths = [max(len(r[i]) for r in header + cells) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
             for r in header + cells]  # fmt: skip
    if outside:  # their own part: no component tracks (or moves) them
        lines.insert(1 + len(tracked), OUTSIDE_HEADING)
    lines.insert(0, f"components: {described or 'none'}")
    lines += [v.as_text() for v in result.report.violations if not _is_row(v, result)]
    lines += format_problems(result.report)
    stale = result.stale()
    if stale:
        lines.append("stale mentions (comments, not edited):")
        lines += [f"  {m.where}: {m.text}" for m in stale]
    return lines


def _component_summary(result: CheckResult) -> list[str]:
    """One line per component (name, wrapper -> upstream, pin-sites, verdict), and one for
    the charts outside every component (``--verbose`` shows their rows under a heading)."""
    rows = [("COMPONENT", "CHARTS", "PIN-SITES", "STATE")]
    for component, report in zip(result.components, result.per_component, strict=True):
        unproven = sum(not row.proven for row in report.rows)
        state = _state(len(report.violations), unproven, len(report.problems))
        rows.append((component.name, component.charts, str(len(report.rows)), state))
    if result.outside:
        rows.append(_outside_summary(result.outside))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
             for r in rows]  # fmt: skip
    lines += [v.as_text() for v in result.report.violations] + format_problems(result.report)
    lines.append("one line per component; --verbose or --component NAME for every pin-site")
    return lines


def _state(wrong: int, unproven: int, problems: int) -> str:
    """A summary line's verdict: its violations, else its problems, else ok or ?? unproven."""
    if wrong:
        return f"{wrong} violation(s)"
    if problems:
        return f"unproven: {problems} problem(s)"
    return "ok" if not unproven else f"{unproven} ??"


# Charts outside every component listed by name on their summary line, the rest counted:
# the line stays within the table's width however many there are.
OUTSIDE_NAMED = 2


def _outside_summary(rows: tuple[Row, ...]) -> tuple[str, str, str, str]:
    """The summary line of the charts outside every component (each of their rows is a pin on
    one of them: ``subject``); a row that disagrees is one of their violations."""
    charts = sorted({row.site.subject for row in rows})
    named = ", ".join(charts[:OUTSIDE_NAMED])
    more = f" +{len(charts) - OUTSIDE_NAMED}" if len(charts) > OUTSIDE_NAMED else ""
    wrong = sum(row.proven and not row.ok for row in rows)
    unproven = sum(not row.proven for row in rows)
    return ("(outside)", named + more, str(len(rows)), _state(wrong, unproven, 0))


def _verdict(row: Any) -> str:
    """ok, NO, ?? for a value set outside the repo (not proven either way), or kept with the
    reason a ``keep:`` entry gives."""
    if row.kept:
        return f"kept: {one_line(row.kept)}"
    if not row.proven:
        return "??"
    return "ok" if row.ok else "NO"


def _is_row(violation: Any, result: CheckResult) -> bool:
    return any(
        r.site.file == violation.file and r.site.line == violation.line for r in result.report.rows
    )


def _untracked(found: Survey, discoveries: list[Discovery]) -> Callable[[KeepRule], str | None]:
    """The chart no component tracks that a keep entry is about (``kept.untracked_chart``),
    read from the cluster files it matches."""
    covered = {n for d in discoveries for n in (*d.tracked, d.component.upstream)}

    def chart_of(rule: KeepRule) -> str | None:
        files = [source for rel in found.roles.clusters if matches(rel, [rule.file])
                 if (source := found.read_if_there(rel)) is not None]  # fmt: skip
        return untracked_chart(rule, files, covered, found.charts)

    return chart_of
