"""The invariants (docs/ARCHITECTURE.md, "The invariants") as checks: every pin-site gets an expected value.

Pure: a function of the discovered sites and the index. ``check`` prints it; ``to`` and
``sync`` run it after writing and restore every file when it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from fluxbump import versions
from fluxbump.pins import Mention, PinSite, Role, Violation, installed_pin
from fluxbump.plan import restyle
from fluxbump.remote.index import HelmIndex
from fluxbump.resolve import Resolution, app_version_of, beyond_index, newest_admitted
from fluxbump.scan.controllerfiles import controller_tag, newest_tabled
from fluxbump.scan.discover import Discovery, boot_installer
from fluxbump.scan.sites import chartlock
from fluxbump.scan.sites.templatefile import one_variable
from fluxbump.scan.sites.terraform import variable_of
from fluxbump.scan.sites.writefiles import is_written
from fluxbump.scan.substitution import (
    Placeholder,
    Setters,
    default_pin,
    placeholder,
    placeholder_variable,
    unsettled,
)


class Row(NamedTuple):
    """One pin-site with the value the invariants require of it. (A named tuple: a fleet's
    check makes one per HelmRelease, tens of thousands, and a frozen dataclass's
    ``__init__`` sets each field by a call.)"""

    site: PinSite
    expected: str
    ok: bool
    proven: bool = True  # False: the value is set outside the repo (a ${VAR} no file sets)
    why: str = ""  # why it cannot be proven, when that is not the repo's doing (the index)
    kept: str = ""  # the reason a ``keep:`` entry gives: not compared, never moved

    def as_json(self) -> dict[str, Any]:
        return {
            **self.site.as_json(),
            "expected": self.expected,
            "ok": self.ok,
            "proven": self.proven,
            **({"unproven": self.why} if self.why else {}),
            **({"kept": self.kept} if self.kept else {}),
        }


@dataclass
class GateReport:
    rows: list[Row] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    # Repository-level problems (an unreadable file, a missing pin or template): not a pin
    # that disagrees, but what leaves a component unproven; they fail the gate too.
    problems: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.problems

    def failures(self) -> list[Violation]:
        """Violations, then problems: everything that fails the gate."""
        return [*self.violations, *self.problems]

    def expect(self, site: PinSite, expected: str, message: str) -> None:
        """Record a site; a mismatch becomes a violation with ``message``."""
        ok = versions.equal(site.value, expected)
        self.rows.append(Row(site, expected, ok))
        if not ok:
            self.violations.append(
                Violation(site.file, site.line, message, found=site.value, expected=expected)
            )

    def expect_pin_or_range(self, site: PinSite, version: str, message: str) -> None:
        """An exact pin must equal ``version``; a range must admit it; a ``${VAR}`` is
        reported (its value is set elsewhere), and so is a template action (``{{ … }}`` of a
        helmfile template, ``<< … >>`` of a ResourceSet: rendered only when it runs)."""
        if "${" in site.value:
            self.rows.append(Row(site, f"{version} (after substitution)", True, proven=False))
        elif "{{" in site.value or "<<" in site.value:
            self.rows.append(Row(site, f"{version} (when the template renders)", True, False))
        elif versions.is_constraint(site.value):
            ok = versions.admits_or_false(site.value, version)
            self.rows.append(Row(site, version, ok))
            if not ok:
                self.violations.append(
                    Violation(site.file, site.line, f"{site.owner} range {site.value} "
                              f"does not admit {site.subject} {version}", site.value, version)
                )  # fmt: skip
        else:
            self.expect(site, version, message)


class Judged:
    """HelmRelease rows already judged in this run, by site. A fleet's umbrella charts track
    every wrapper, so their releases (thousands) are in every component's discovery: each is
    judged once and its row shared, which ``combine`` then counts once without comparing.
    A release's row depends only on the site, the chart versions and the substitutions,
    which every discovery of one survey shares: another survey's discoveries start afresh."""

    def __init__(self) -> None:
        self._of: tuple[object, object] | None = None
        self._rows: dict[int, tuple[Row, tuple[Violation, ...]]] = {}

    def rows(self, found: Discovery) -> dict[int, tuple[Row, tuple[Violation, ...]]]:
        """``id(site)`` -> its row and violations (the row holds the site: the id stays its)."""
        if (
            self._of is None
            or self._of[0] is not found.charts
            or self._of[1] is not found.substitutions
        ):
            self._of, self._rows = (found.charts, found.substitutions), {}
        return self._rows


def evaluate(found: Discovery, index: HelmIndex | None, judged: Judged | None = None) -> GateReport:
    """Check every invariant; ``index`` None skips only the appVersion mapping check.
    ``judged``: the release rows of components evaluated before (shared, not judged again)."""
    report = _evaluate(found, index, judged)
    _say_unsettled(found.substitutions, report)
    # A kept pin is expected to hold what it holds: listed, never a violation.
    report.rows += [Row(k.site, k.site.value, True, kept=k.rule.reason) for k in found.kept]
    return report


def _say_unsettled(setters: Setters, report: GateReport) -> None:
    """Each unproven ``${VAR}`` pin a Kustomization may set from a ConfigMap or Secret says
    so, with where, and what to write instead (``substitution.unsettled``)."""
    if not setters.sourced:
        return
    for at, row in enumerate(report.rows):
        if not row.proven and "${" in row.site.value:
            why = unsettled(row.site.value, row.site.file, setters)
            if why is not None:
                report.rows[at] = row._replace(why=why)


def _evaluate(found: Discovery, index: HelmIndex | None, judged: Judged | None) -> GateReport:
    report = GateReport(problems=list(found.problems))
    if found.component.operator:
        _operator_pins(found.release_pins, report)
        return report
    if found.component.rules.names_a_release:
        release = _installs(found, report)
        upstream = _upstream(found, index, release, report)
        flux = _flux_release(found, index, release)
        _flux_release_pins(found, flux, report)
        loose = found.component.outside_charts
        _controller_images(found, loose_release(found.release_pins) if loose else flux, report)
    else:
        upstream = _upstream(found, None, None, report)
        _helm_installs(found, upstream, report)
    _mirrors(found, upstream, report)
    _adopted(found, upstream, report)
    _charts(found, report)
    _releases(found, report, {} if judged is None else judged.rows(found))
    _constraints(found, report)
    _locks(found, report)
    return report


def _installs(found: Discovery, report: GateReport) -> str | None:
    if not found.installs:
        return None
    first = found.installs[0]
    for site in found.installs:
        if not versions.is_pin(site.value):
            report.violations.append(
                Violation(site.file, site.line, f"install URL version '{site.value}' is not X.Y.Z")
            )
            continue
        report.expect(
            site,
            first.value,
            f"cloud-init installs Flux {site.value} here but {first.value} at {first.where}: "
            "make them agree ('fluxbump to X.Y.Z' moves both)",
        )
    return first.value if versions.is_pin(first.value) else None


def _flux_release(found: Discovery, index: HelmIndex | None, install: str | None) -> str | None:
    """The release the repository installs: cloud-init's, else the pinned chart's appVersion."""
    if install is not None:
        return versions.normalize(install)
    pins = found.upstream_pins()
    if index is None or not pins or not versions.is_pin(pins[0].value):
        return None
    app = app_version_of(index, found.component.upstream, pins[0].value)
    return versions.normalize(app) if app is not None and versions.is_pin(app) else None


def installed_release(found: Discovery, index: HelmIndex | None) -> str | None:
    """The Flux release the repository installs (what its other pins are checked against)."""
    if found.component.outside_charts:
        return loose_release(found.release_pins)
    install = found.installs[0].value if found.installs else None
    return _flux_release(found, index, install if install and versions.is_pin(install) else None)


def _flux_release_pins(found: Discovery, release: str | None, report: GateReport) -> None:
    """Flux pinned only outside charts: its pins agree with the installed one."""
    if found.component.outside_charts:
        report.rows += (loose := loose_release_pins(found.release_pins)).rows
        report.violations += loose.violations
    else:
        _release_pins(found.release_pins, release, report)


def _controller_images(found: Discovery, release: str | None, report: GateReport) -> None:
    """Each controller image tag of a component vector must be that controller's in the
    installed release (``data/flux2-controllers.json``); a release the table does not know
    leaves it unproven."""
    for site in found.controller_images:
        tag = controller_tag(release, site.subject) if release is not None else None
        if release is None or tag is None:  # (``to`` names each one it leaves so)
            expected = f"the {site.subject} of Flux {release or '(no exact release pinned)'}"
            why = f"fluxbump's controller table ends at Flux {newest_tabled()}"
            report.rows.append(Row(site, expected, True, False, why if release else ""))
            continue
        report.expect(
            site,
            restyle(site.value, tag),
            f"{site.owner} is at {site.value}, but the repository installs Flux {release}, "
            f"whose {site.subject} is {tag} — run 'fluxbump to {release}'",
        )


def loose_release(pins: list[PinSite]) -> str | None:
    """Without a Flux wrapper chart: the release of the installed pin (``installed_pin``)."""
    first = installed_pin(pins)
    return None if first is None else versions.normalize(first.value)


def ranged_install(found: Discovery, index: HelmIndex) -> tuple[Resolution, list[PinSite]] | None:
    """Flux installed outside charts with no exact pin of what installs it, and FluxInstance
    ranges naming the release (``2.x``, which the operator resolves to the newest release it
    admits): the newest release every such range admits in the Helm index (with its chart:
    what the clusters run, as far as the index knows), and those ranges; None otherwise."""
    if not found.component.outside_charts:
        return None
    if loose_release(found.component.rules.source_pins(found)) is not None:
        return None
    ranged = [p for p in found.release_pins
              if p.role is Role.INSTANCE and versions.is_constraint(p.value)]  # fmt: skip
    if not ranged:
        return None
    newest = newest_admitted(index, found.component.upstream, sorted({p.value for p in ranged}))
    return None if newest is None else (newest, ranged)


def ranges_named(pins: list[PinSite]) -> str:
    """The FluxInstance ranges ``pins`` as check and to name them, distinct, with where the
    first is (``the FluxInstance range 2.x, >=2.3.0 (clusters/flux.yaml:9)``)."""
    ranges = ", ".join(sorted({p.value for p in pins}))
    return f"the FluxInstance range {ranges} ({pins[0].where})"


def loose_release_pins(pins: list[PinSite]) -> GateReport:
    """Flux release pins of a repository with no Flux wrapper chart (a flux-operator or
    ``flux bootstrap`` layout): nothing else says which release is installed, so they must
    agree with the installed pin (``installed_pin``: the newest of the cluster's own kind
    present, what the operator or the bootstrap manifests install, then Terraform's, then
    the CLI's)."""
    report = GateReport()
    first = installed_pin(pins)
    if first is None:  # ranges and ``latest`` only: nothing to compare them with
        report.rows += [Row(p, "an exact Flux release to compare with", True, False) for p in pins]
        return report
    _release_pins(pins, versions.normalize(first.value), report, first)
    return report


def _release_pins(
    pins: list[PinSite], release: str | None, report: GateReport, first: PinSite | None = None
) -> None:
    """CI and CLI pins name the Flux release: the automation's CLI must be the cluster's.
    ``first``: the pin ``release`` was read from, when no install or chart says it."""
    for site in pins:
        if release is None:
            why = "no cloud-init install and no index to read the chart's appVersion"
            report.rows.append(Row(site, "the installed Flux release", True, False, why))
        elif versions.is_pin(site.value) or _is_range(site.value) or _is_template(site.value):
            pinned = versions.is_pin(site.value) and site.value.startswith("v")
            expected = f"v{release}" if pinned else release  # a range is checked to admit it
            message = _release_pin_message(site, release, first)
            report.expect_pin_or_range(site, expected, message)
        else:  # ``latest`` or a partial version: not a pin fluxbump can compare
            report.rows.append(Row(site, f"Flux {release}", True, proven=False))


def _release_pin_message(site: PinSite, release: str, first: PinSite | None) -> str:
    other = (
        f"the repository installs Flux {release}"
        if first is None
        else f"{first.owner} pins Flux {first.value} ({first.where})"
    )
    if site.role is Role.BOOTSTRAP:  # generated: the fix is regenerating, not a bump
        return (
            f"{site.owner} manifests are of Flux {site.value}, {other} — regenerate them with "
            f"'flux install --export' of Flux {release}"
        )
    fix = f"run 'fluxbump to {release}'" if first is None else "make them agree"
    return f"{site.owner} pins Flux {site.value}, {other} — {fix}"


def _is_template(value: str) -> bool:
    """A value set where it is rendered: a ``${VAR}`` substitution, a ResourceSet input."""
    return "${" in value or "<<" in value


def _is_range(value: str) -> bool:
    return versions.is_constraint(value.removeprefix("v"))


def _operator_pins(pins: list[PinSite], report: GateReport) -> None:
    """A flux-operator chart's pins must agree: the first exact one (the cluster's own
    source, in file order) is what every other pin and range is compared with."""
    first = next((p for p in pins if versions.is_pin(p.value)), None)
    for site in pins:
        if first is None:
            report.rows.append(Row(site, "an exact version to compare with", True, False))
            continue
        message = (
            f"{site.owner} pins {site.subject} {site.value}, {first.owner} pins "
            f"{first.value} ({first.where}) — make them agree: "
            f"fluxbump to <version> --component {site.subject}"
        )
        version = versions.normalize(first.value)
        if versions.is_pin(site.value):
            report.expect(site, restyle(site.value, version), message)
        elif (why := _templated(site)) is not None:
            report.rows.append(Row(site, version, True, False, why))
        else:  # a range (``ref.semver``) must admit it; a ``${VAR}`` is set elsewhere
            report.expect_pin_or_range(site, version, message)


def _helm_installs(found: Discovery, upstream: str | None, report: GateReport) -> None:
    """``helm install … --version X`` must equal the wrapper's pin, or the HelmRelease
    would not adopt the release cloud-init installed."""
    if upstream is None:
        return
    pin = found.upstream_pins()[0]
    for site in found.installs:
        report.expect(
            site,
            upstream,
            f"cloud-init installs {site.subject} {site.value}, but {found.wrapper.name} pins "
            f"{site.subject} {upstream} ({pin.where}); the HelmRelease would not adopt it",
        )


def combine(reports: list[GateReport]) -> GateReport:
    """Several components' reports as one; a site or violation they share counts once."""
    combined = GateReport()
    # The first row of each site, in order: one dict operation a row (a fleet's 41 reports
    # hold 82,000 rows, half of them an umbrella's releases every component shares).
    first: dict[tuple[str, int], Row] = {}
    seen: set[tuple[str, int, str]] = set()
    for report in reports:
        for row in report.rows:
            site = row.site
            first.setdefault((site.file, site.start), row)
        for kept, found in ((combined.violations, report.violations),
                            (combined.problems, report.problems)):  # fmt: skip
            for violation in found:
                if (violation.file, violation.line, violation.message) not in seen:
                    seen.add((violation.file, violation.line, violation.message))
                    kept.append(violation)
    combined.rows = list(first.values())
    return combined


def _upstream(
    found: Discovery, index: HelmIndex | None, release: str | None, report: GateReport
) -> str | None:
    pins = found.upstream_pins()
    if found.component.direct:  # HelmReleases: Flux's post-build substitution may set them
        pins = [p for p in (_in_effect(found, pin, report) for pin in pins) if p is not None]
    if not pins:
        return None
    value = _upstream_pin(found, pins[0], index, release, report)
    if not found.component.direct:
        return value
    # Without a wrapper every HelmRelease of the chart is a pin of it: each proves the
    # cloud-init release on its own, and without one they must agree with the first.
    first = pins[0]
    for pin in pins[1:]:
        if release is not None or not versions.is_pin(pin.value) or value is None:
            _upstream_pin(found, pin, index, release, report)
        else:
            report.expect(
                pin, value, f"{pin.owner} deploys {found.component.upstream} {pin.value}, but "
                f"{first.owner} deploys {first.value} ({first.where}); make them agree"
            )  # fmt: skip
    return value


def inexact_upstream(found: Discovery) -> list[Violation]:
    """The ranges among a component's upstream chart pins when it must pin one chart (Flux:
    a release maps to one chart): no bump can make them agree, so ``to`` refuses before
    writing (the gate would fail on them after)."""
    if not found.component.rules.exact_upstream:
        return []
    return [
        Violation(pin.file, pin.line, _not_exact(found, pin))
        for pin in found.upstream_pins()
        if not _exact_where_written(found, pin)
        and variable_of(pin) is None
        and _templated(pin) is None
    ]


def _exact_where_written(found: Discovery, pin: PinSite) -> bool:
    """Whether a chart pin is exact where this repository writes it: a ``${VAR:=X}`` that no
    Kustomization here sets deploys X; one a Kustomization sets is judged at that value (its
    own row), and one set outside the repository cannot be judged here."""
    if _substitution(pin) is None:
        return versions.is_pin(pin.value)
    fallback = default_pin(pin, found.substitutions)
    return fallback is None or versions.is_pin(fallback.default or "")


def _not_exact(found: Discovery, pin: PinSite) -> str:
    """A range on the Flux chart, and what to pin instead: the version its Chart.lock holds
    (what Helm resolved the range to, and deploys), else one version."""
    locked = found.locks.get(pin.owner)
    held = [e.version.value for e in locked.lock.entries
            if e.version is not None and e.version.subject == pin.subject] if locked else []  # fmt: skip
    fix = (
        f"pin {held[0]}, the version {locked.lock.file} holds"
        if held and locked is not None and versions.is_pin(held[0])
        else "pin one version"
    )
    pinned = (
        f"{pin.subject} version '{pin.value}' of HelmRelease {pin.owner}"
        if pin.role is Role.HELMRELEASE  # (no wrapper: a HelmRelease pins the chart)
        else f"{pin.subject} dependency '{pin.value}'"
    )
    return f"{pinned} is not an exact pin: a Flux release maps to one chart; {fix}"


def _upstream_pin(
    found: Discovery, pin: PinSite, index: HelmIndex | None, release: str | None,
    report: GateReport,
) -> str | None:  # fmt: skip
    """One upstream pin against the release (Flux: the cloud-init install's)."""
    name = found.component.upstream
    if not versions.is_pin(pin.value) and not found.component.rules.exact_upstream:
        # Another wrapper may float on a range: nothing to compare its mirrors and installs
        # with, and nothing wrong with it (Flux must be exact: the release maps to one chart).
        report.rows.append(Row(pin, "an exact version to compare mirrors with", True, False))
        return None
    why = _unproven_version(pin)
    if why is not None:
        report.rows.append(Row(pin, f"an exact {name} version", True, False, why))
        return None
    if not versions.is_pin(pin.value):
        report.violations.append(Violation(pin.file, pin.line, _not_exact(found, pin)))
        return None
    if index is None or release is None:
        report.rows.append(Row(pin, pin.value, True))
        return pin.value
    if not index.complete and beyond_index(index, name, pin.value):
        # A cached or bundled index predates the chart: its appVersion is unknown here, so
        # neither a violation nor advice to move it would be true.
        why = f"{name} {pin.value} is not in {index.url}, which may predate it"
        report.rows.append(Row(pin, f"appVersion {versions.normalize(release)}", True, False, why))
        return pin.value
    report.expect(pin, _chart_for(index, name, release, pin.value), _mismatch(found, index, pin))
    return pin.value


def _in_effect(found: Discovery, pin: PinSite, report: GateReport) -> PinSite | None:
    """A HelmRelease's chart pin as Flux deploys it: ``${VAR:=X}`` that no Kustomization here
    sets is X; one a Kustomization sets is judged there (its own row), so it is shown
    unproven here (None), as is one set outside the repository."""
    held = _substitution(pin)
    if held is None:
        return pin
    fallback = default_pin(pin, found.substitutions)
    if fallback is not None and fallback.default is not None:
        return replace(pin, value=fallback.default)
    why = _substituted(found.substitutions, pin, held.variable)
    name = found.component.upstream
    report.rows.append(Row(pin, f"an exact {name} version", True, False, why))
    return None


def _substitution(pin: PinSite) -> Placeholder | None:
    """The post-build placeholder a HelmRelease's version is (Flux substitutes its own
    objects only: a HelmChart a template writes renders ``${…}`` itself, ``templatefile``)."""
    return placeholder(pin.value) if pin.role is Role.HELMRELEASE else None


def _substituted(setters: Setters, pin: PinSite, variable: str) -> str:
    """Why a chart pin written as ``${VAR}`` is not itself compared: the Kustomization that
    sets VAR is (its own row, a ``substitution variable``), or none here does."""
    where = ", ".join(s.where for s in setters.of(variable, pin.file))
    if where:
        return f"{pin.value} takes the value {where} substitutes, compared there"
    sourced = unsettled(pin.value, pin.file, setters)
    return sourced or f"{pin.value} is substituted by a Kustomization outside this repository"


def _templated(pin: PinSite) -> str | None:
    """Why a templated chart pin is unproven: set where this repository does not say."""
    if pin.role is Role.TERRAFORM_HELM and not _version_or_range(pin.value):
        return f"{pin.value} is a Terraform expression fluxbump does not evaluate"  # local.v
    if is_written(pin) and ("${" in pin.value or "%{" in pin.value):
        return _rendered(pin.value)
    if pin.role is Role.PULUMI_HELM and "${" in pin.value:  # (an interpolation of the program)
        return f"{pin.value} is what the Pulumi stack's configuration gives"
    if "{{" not in pin.value:
        return None
    if pin.role is Role.HELM_COMMAND:  # an Ansible variable its role leaves to an inventory
        return f"{pin.value} is set outside its role"
    if pin.role is Role.ARGO_APP and pin.owner.startswith("ApplicationSet "):
        return f"{pin.value} is what the ApplicationSet's generators give each Application"
    if pin.role is Role.SVELTOS_HELM:  # (addon-controller renders it with each cluster's data)
        return f"{pin.value} is what Sveltos renders for each cluster the profile matches"
    return None


def _rendered(value: str) -> str:
    """Why a version a cloud-init template renders is unproven: a variable no call passes a
    literal (``templatefile.follow_written`` found none), or a directive, not evaluated."""
    name = one_variable(value)
    if name is not None:
        return (
            f"{value} is what the templatefile() calls rendering the template pass as {name}, "
            f'and none passes it a literal fluxbump can read; write {name} = "X.Y.Z" there'
        )
    return (
        f"{value} takes its value where the cloud-init template is rendered "
        "(templatefile()), which fluxbump does not evaluate"
    )


def _version_or_range(value: str) -> bool:
    return versions.is_pin(value) or versions.is_constraint(value)


def _chart_for(index: HelmIndex, name: str, release: str, pinned: str) -> str:
    """The pinned chart if its appVersion is the release, else the chart that maps to it."""
    from fluxbump.errors import ResolutionError
    from fluxbump.resolve import resolve_chart_version

    if versions.equal(app_version_of(index, name, pinned) or "", release):
        return pinned
    try:
        return resolve_chart_version(index, release, name).chart
    except ResolutionError:
        return f"a {name} chart with appVersion {versions.normalize(release)}"


def _mismatch(found: Discovery, index: HelmIndex, pin: PinSite) -> str:
    install = found.installs[0]
    app = app_version_of(index, found.component.upstream, pin.value)
    carried = f"carries appVersion {app}" if app else f"is not in the index {index.url}"
    return (
        f"{found.component.upstream} {pin.value} {carried} but cloud-init installs Flux "
        f"{install.value} ({install.where}) — run 'fluxbump to {versions.normalize(install.value)}'"
    )


def _adopted(found: Discovery, upstream: str | None, report: GateReport) -> None:
    """What installs the upstream chart at boot must be the wrapper's dependency: the
    wrapper's HelmRelease takes that release over, and a chart of another version moves
    the CRDs on the running controllers (the incident: Helm's rollback deleted them)."""
    name = found.component.upstream
    for site in found.adopted:
        why = _unproven_version(site)
        if upstream is None or why is not None:
            expected = f"the {name} version {found.component.wrapper} pins"
            report.rows.append(Row(site, expected, True, False, why or ""))
            continue
        pin = found.upstream_pins()[0]
        report.expect_pin_or_range(
            site,
            restyle(site.value, upstream),
            f"{boot_installer(site)} installs {name} {site.value} at boot, but "
            f"{found.wrapper.name} pins {name} {upstream} ({pin.where}): its HelmRelease would "
            f"take the release over and move the CRDs; run '{_sync_to_chart(found)}'",
        )


def _sync_to_chart(found: Discovery) -> str:
    """The command that moves every pin to the wrapper's dependency: ``--from`` names
    Flux's source only; another component's sync takes its dependency when it moved."""
    if found.component.is_flux:
        return "fluxbump sync --from chart"
    return f"fluxbump sync --component {found.component.name}"


def _unproven_version(site: PinSite) -> str | None:
    """Why a chart pin's value cannot be compared: a variable no file sets, an expression."""
    variable = variable_of(site)
    if variable is not None:  # a Terraform helm_release's var.NAME no file of its module sets
        return f"var.{variable} is set outside this repository"
    return _templated(site)


def _mirrors(found: Discovery, upstream: str | None, report: GateReport) -> None:
    if upstream is None:
        return
    name = found.component.upstream
    for site in found.mirrors:
        report.expect(
            site, upstream, f"values mirror of {name} is {site.value}, dependency pins {upstream}"
        )


def _charts(found: Discovery, report: GateReport) -> None:
    for name in found.tracked:
        chart = found.charts[name]
        if chart.version is None:
            continue
        version = chart.version.value
        report.rows.append(Row(chart.version, version, True))
        if chart.app_version is not None:
            report.rows.append(Row(chart.app_version, chart.app_version.value, True))
        blueprint = found.blueprints.get(name)
        if blueprint is not None and blueprint.version is not None:
            report.expect(
                blueprint.version,
                version,
                f"Blueprint of {name} mirrors {blueprint.version.value}, chart is {version}",
            )
        for dependent in found.tracked:
            for dep in found.charts[dependent].dependencies:
                if dep.subject == name:
                    report.expect_pin_or_range(
                        dep,
                        version,
                        f"{dependent} pins {name} {dep.value}, {name} is {version}",
                    )


def _against_chart(found: Discovery, sites: list[PinSite]) -> Iterator[tuple[PinSite, str]]:
    """Each site with the version of the chart it pins (a chart without one proves nothing)."""
    for site in sites:
        chart = found.charts[site.subject]
        if chart.version is not None:
            yield site, chart.version.value


def _releases(
    found: Discovery, report: GateReport, judged: dict[int, tuple[Row, tuple[Violation, ...]]]
) -> None:
    # Each chart's version, and whether it is one exact version: a fleet has tens of
    # thousands of releases of a few dozen charts (``_against_chart``, inlined).
    charts = {name: None if chart.version is None else
              (chart.version.value, versions.is_pin(chart.version.value))
              for name, chart in found.charts.items()}  # fmt: skip
    rows, violations = report.rows, report.violations
    for site in found.releases:
        seen = judged.get(id(site))
        if seen is not None:
            rows.append(seen[0])
            violations += seen[1]
            continue
        known = charts[site.subject]
        if known is None:  # a chart without a version proves nothing
            continue
        version, pinned = known
        if pinned and site.value == version:  # most releases: the row ``expect`` would add
            row = Row(site, version, True)
            rows.append(row)
            judged[id(site)] = (row, ())
            continue
        before = len(violations)
        release_row(found.substitutions, report, site, version)
        judged[id(site)] = (rows[-1], tuple(violations[before:]))


def release_row(setters: Setters, report: GateReport, site: PinSite, version: str) -> None:
    """One HelmRelease pin (or the Kustomization value its ``${VAR}`` takes) of a chart at
    ``version``: its row (one) and, when it deploys another version, its violation."""
    if site.value.startswith("${"):  # a placeholder (the only text that can be one)
        fallback = default_pin(site, setters)
        if fallback is not None:
            _default_row(report, site, fallback, version)
            return
        variable = placeholder_variable(site.value)
        if variable is not None:
            report.rows.append(_placeholder_row(setters, site, variable, version))
            return
    message = f"{site.owner} deploys {site.subject} {site.value}, chart is {version}"
    report.expect_pin_or_range(site, version, message)


def _default_row(report: GateReport, site: PinSite, held: Placeholder, version: str) -> None:
    """``${VAR:=1.1.1}`` that no Kustomization of this repo sets: Flux deploys the default."""
    assert held.default is not None
    if versions.is_constraint(held.default):  # a range as the default must admit the chart
        ok = versions.admits_or_false(held.default, version)
        report.rows.append(Row(site, version, ok))
    else:
        ok = versions.equal(held.default, version)
        report.rows.append(Row(site, held.with_default(version), ok))
    if not ok:
        report.violations.append(
            Violation(site.file, site.line, f"{site.owner} deploys {site.subject} "
                      f"{held.default} (the default of ${{{held.variable}}}, which no "
                      f"Kustomization here sets), chart is {version}",
                      site.value, held.with_default(version))
        )  # fmt: skip


def _placeholder_row(substitutions: Setters, site: PinSite, variable: str, version: str) -> Row:
    """A ``${VAR}`` version is proven by the Kustomization that sets VAR (its own row)."""
    setters = substitutions.of(variable, site.file)
    if not setters:
        return Row(
            site, f"{version}, but ${{{variable}}} is set outside this repo", True, proven=False
        )
    return Row(site, f"{version} via {', '.join(s.where for s in setters)}", True)


def _constraints(found: Discovery, report: GateReport) -> None:
    for site, version in _against_chart(found, found.constraints):
        ok = versions.admits_or_false(site.value, version)
        report.rows.append(Row(site, f"admits {version}", ok))
        if not ok:
            report.violations.append(
                Violation(
                    site.file,
                    site.line,
                    f"{site.owner} requires {site.subject} {site.value}, "
                    f"which does not admit {version}",
                    site.value,
                    version,
                )
            )


def stale_mentions(found: Discovery) -> list[Mention]:
    """Comment lines naming an install version other than the one pinned."""
    if not found.installs:
        return list(found.mentions)
    current = found.installs[0].value
    return [m for m in found.mentions if m.value and not versions.equal(m.value, current)]


def _locks(found: Discovery, report: GateReport) -> None:
    """Each tracked chart's Chart.lock must be what ``helm dependency update`` writes for
    its Chart.yaml, or ``helm dependency build`` refuses it (DESIGN: charts carry locks)."""
    subjects = {*found.tracked, found.component.upstream}
    for locked in found.locks.values():
        state = locked.state()
        report.violations += chartlock.violations(state, locked.chart_file)
        if state.mismatch is not None:
            continue
        for index, entry in enumerate(locked.lock.entries):
            site = entry.version
            if site is not None and site.subject in subjects:
                expected = state.versions.get(index, site.value)
                report.rows.append(Row(site, expected, index not in state.versions))
