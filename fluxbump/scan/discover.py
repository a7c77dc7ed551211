"""Walk the repository once and find every pin-site of a component (docs/ARCHITECTURE.md, "The invariants").

The walk sorts every file into the roles whose globs it matches; each file is read once.
Cheap byte tests run before any YAML is parsed, so only candidate files cost a parse, and
of a multi-document manifest only the candidate documents (``sites.helmrelease``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from operator import itemgetter
from pathlib import Path

from fluxbump import progress, versions
from fluxbump.components import (
    FLUX,
    WRAPPER_PREFIX,
    Component,
    may_install,
    operator_chart,
    select,
    unique_names,
)
from fluxbump.config import CONFIG_NAME, Config
from fluxbump.errors import FluxbumpError, NotRegularFile, UsageError
from fluxbump.pins import Mention, PinSite, Role, Violation, unpinned
from fluxbump.scan.apiversions import ApiVersions
from fluxbump.scan.cache import ScanCache, cached_roles, cached_scan, scan_key
from fluxbump.scan.chartkeys import follow_chart_keys
from fluxbump.scan.charts import mark_upstream, read_blueprints, read_charts, tracked_charts
from fluxbump.scan.chartsources import foreign_releases
from fluxbump.scan.detect import Detected, component_for, detect
from fluxbump.scan.forked import in_two
from fluxbump.scan.jinja import rendered_names, template_note, template_sources, unread_note
from fluxbump.scan.kept import Held, KeptPin, keepable, loose_rules_touch, set_aside
from fluxbump.scan.programs import nix_notes, program_files, program_notes, terraform_notes
from fluxbump.scan.releases import (
    NO_PIN,
    ScannedFiles,
    Unreadable,
    join_patches,
    patches_by_release_name,
    pinned_releases,
    scan_files,
    unreadable_of,
)
from fluxbump.scan.renovate_paths import RenovatePaths, followed_paths
from fluxbump.scan.roles import Roles, classify, read_once
from fluxbump.scan.sites import FindPins, writefiles
from fluxbump.scan.sites.ansible import find_helm_chart_pins
from fluxbump.scan.sites.ansiblecli import follow_role_downloads
from fluxbump.scan.sites.blueprint import BlueprintFile
from fluxbump.scan.sites.bootstrap import find_bootstrap_header
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sites.chartcopy import chart_copies, copy_note
from fluxbump.scan.sites.chartlock import LockedChart, lock_path, locked_chart
from fluxbump.scan.sites.cloudinit import find_install_pins, helm_commands, script_helm_commands
from fluxbump.scan.sites.fluxcli import find_cli_pins
from fluxbump.scan.sites.fluxinstance import (
    find_script_instances,
    find_subchart_instances,
    find_template_instances,
    find_templated_instances,
    find_terraform_instances,
    may_hold_instance,
    subchart_keys,
    template_value_paths,
)
from fluxbump.scan.sites.fluxmanifests import may_hold_flux_manifests
from fluxbump.scan.sites.helmrelease import VersionPatch
from fluxbump.scan.sites.kustomizeremote import find_install_commands, find_kustomize_remote
from fluxbump.scan.sites.operator import CHARTS as OPERATOR_CHARTS
from fluxbump.scan.sites.operator import find_operator_charts, repository_of, substituted_by_flux
from fluxbump.scan.sites.templatefile import (
    follow_templates,
    follow_written,
    is_passed_chart,
    template_variables,
)
from fluxbump.scan.sites.terraform import (
    PlacedBlock,
    ProviderConstraint,
    find_chart_releases,
    find_provider_constraints,
    find_terraform_pins,
    find_unversioned_bootstraps,
    follow_variables,
)
from fluxbump.scan.sites.timoni import find_timoni_pins
from fluxbump.scan.sites.values import find_mirrors
from fluxbump.scan.sources import (
    LINE_END,
    LINE_START,
    MAX_FILE_BYTES,
    READ_LIMIT,
    SourceFile,
    as_utf8,
    lines,
    matches,
    note_skipped,
    read_raw,
    real_rel,
    walk_files,
)
from fluxbump.scan.substitution import Setters, settled_release_pins, substitutions
from fluxbump.scan.valuesfrom import follow_values_from
from fluxbump.yamlio import yamldoc


@dataclass
class Discovery:
    """One component's chart chain and every pin-site of it, by role."""

    root: Path
    config: Config
    component: Component
    sources: dict[str, SourceFile]
    charts: dict[str, ChartFile]
    tracked: list[str]  # the wrapper, then its dependents, each after what it depends on
    installs: list[PinSite] = field(default_factory=list)
    mirrors: list[PinSite] = field(default_factory=list)
    blueprints: dict[str, BlueprintFile] = field(default_factory=dict)
    all_blueprints: dict[str, BlueprintFile] = field(default_factory=dict)  # every chart's
    constraints: list[PinSite] = field(default_factory=list)
    releases: list[PinSite] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    # Pins of the Flux release outside cloud-init (CI, CLI tools): they follow the release.
    release_pins: list[PinSite] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # the cloud-init files read
    # Templates whose install URL takes the release from a variable (``templatefile()``):
    # their pins, or the problems saying why there are none, come from the .tf files.
    variable_templates: list[str] = field(default_factory=list)
    locks: dict[str, LockedChart] = field(default_factory=dict)  # tracked chart -> its lock
    # Flux post-build substitution: the Kustomization values that set each variable.
    substitutions: Setters = field(default_factory=lambda: Setters())
    # No wrapper chart: the HelmRelease (or OCIRepository tag) pins of the upstream itself.
    direct: list[PinSite] = field(default_factory=list)
    # A wrapper: the upstream chart installed at boot outside it (``helm install``, a
    # HelmChart, a Terraform ``helm_release``), then taken over by the wrapper's HelmRelease.
    adopted: list[PinSite] = field(default_factory=list)
    # Pins ``keep:`` in .fluxbump.yaml sets aside (``scan/kept.py``): shown, not checked or moved.
    kept: list[KeptPin] = field(default_factory=list)
    # Flux's controllers' image tags in a component vector (``sites/controllerimages.py``):
    # each the controller of the release, checked and moved by the controller table.
    controller_images: list[PinSite] = field(default_factory=list)

    @property
    def wrapper(self) -> ChartFile:
        return self.charts[self.component.wrapper]

    def unread_charts(self) -> set[str]:
        """The charts whose unreadable Chart.yaml leaves this component unproven: those it
        tracks (without a wrapper, its upstream) and, for a wrapper-less Flux, the configured
        wrapper: no readable chart is it, an unread one may be (left out, 'to' moved the pins
        outside charts and left that wrapper's chart behind). An operator chart: none (its
        pins are found by content, no chart file is read for it)."""
        if self.component.operator:
            return set()
        names = set(self.tracked) or {self.component.upstream}
        # A file naming Flux's chart may install it. Not another upstream's: an unread chart
        # of its name (an umbrella's bp-flux) is a local chart, charged to what wraps it.
        if self.component.is_flux and boot_installed(self.component, self.charts):
            names.add(self.component.upstream)
        return names | ({self.config.wrapper} if self.component.direct else set())

    def agreed_upstream_pin(self) -> PinSite | None:
        """The first upstream pin when every one is the same exact version (without a wrapper,
        one HelmRelease of the chart per cluster); None when there is none, one is a range or
        they disagree (the consistency check names that)."""
        pins = self.upstream_pins()
        if not pins or not versions.is_pin(pins[0].value):
            return None
        first = pins[0].value
        return pins[0] if all(versions.equal(p.value, first) for p in pins[1:]) else None

    def upstream_pins(self) -> list[PinSite]:
        if self.component.direct:
            return list(self.direct)
        if self.component.operator:  # no wrapper: its pins are all ``release_pins``
            return []
        return [d for d in self.wrapper.dependencies if d.subject == self.component.upstream]

    def sources_of_truth(self) -> list[PinSite]:
        """The pins a bump of this component starts from: installs, dependency, mirrors and
        what installs the upstream at boot (an operator chart: every exact pin of it, none
        above the others)."""
        if self.component.operator:
            return self.component.rules.source_pins(self)
        return [*self.installs, *self.upstream_pins(), *self.mirrors, *self.adopted]

    def sites(self) -> list[PinSite]:
        """Every pin-site in pipeline order: install, upstream, mirror, boot installs of the
        upstream, charts, releases."""
        if self.component.operator:
            return list(self.release_pins)
        found: list[PinSite] = self.sources_of_truth()
        for name in self.tracked:
            chart = self.charts[name]
            found += [s for s in (chart.version, chart.app_version) if s is not None]
            found += [d for d in chart.dependencies if d.subject in self.tracked]
            blueprint = self.blueprints.get(name)
            if blueprint is not None and blueprint.version is not None:
                found.append(blueprint.version)
        return found + self.constraints + self.releases + self.release_pins


def discover(root: Path, config: Config, component: str | None = None) -> Discovery:
    """Find one component's wrapper, its dependents and every pin-site (default: Flux)."""
    found = survey(root, config)
    if component is None:
        return found.discovery(found.required_flux())
    return found.discovery(found.component(component))


class NotScanned(AssertionError):
    """A component's discovery asked of a survey ``--component`` narrowed to others: a
    caller's mistake, except where every component's pins are wanted when known."""


@dataclass
class Survey:
    """One walk of the repository, shared by every component: each file is read once."""

    root: Path
    config: Config
    sources: dict[str, SourceFile]
    charts: dict[str, ChartFile]
    roles: Roles
    components: list[Component] = field(default_factory=list)
    all_blueprints: dict[str, BlueprintFile] = field(default_factory=dict)
    constraints: list[PinSite] = field(default_factory=list)
    releases: list[PinSite] = field(default_factory=list)
    substitutions: Setters = field(default_factory=lambda: Setters())
    substituting: list[tuple[str, bytes]] = field(default_factory=list)  # postBuild files
    patches: list[VersionPatch] = field(default_factory=list)  # matched to releases later
    flux_excluded: bool = False  # ``components:`` excluded the Flux component
    scanned: frozenset[str] | None = None  # the charts whose releases were scanned (None: all)
    unreadable: list[Unreadable] = field(default_factory=list)  # manifests not read
    # ``release_pins`` files not read: they make the Flux release unproven, nothing else.
    unreadable_release_pins: list[Unreadable] = field(default_factory=list)
    # ``release_pins`` files not read that cannot pin Flux (no "flux" in their bytes): a
    # Latin-1 script or Makefile costs nothing.
    skipped_release_pins: set[str] = field(default_factory=set)
    instances: list[PinSite] = field(default_factory=list)  # FluxInstance versions
    # The Flux API versions of the cluster files the release scan read (``crds/migrate.py``).
    api_versions: dict[str, ApiVersions] = field(default_factory=dict)
    cache: ScanCache | None = None  # a warm run's records of unchanged files (status, check)
    # Cloud-init templates not read (not UTF-8, UTF-16, too big): what they install is
    # unknown, so every component is unproven; the run goes on.
    unreadable_templates: list[Unreadable] = field(default_factory=list)
    _templates: list[SourceFile] | None = None
    _helm_commands: list[PinSite] | None = None
    _release_pins: list[PinSite] | None = None
    _operator_pins: list[PinSite] | None = None
    _mirrors: dict[str, list[PinSite]] = field(default_factory=dict)
    _by_chart: dict[str, list[tuple[int, PinSite]]] | None = None
    _foreign: set[tuple[str, int]] | None = None  # ``local_releases_of``
    chart_sources: list[str] = field(default_factory=list)  # ``ScannedFiles.chart_sources``
    _discoveries: dict[Component, Discovery] = field(default_factory=dict)
    _found_before_keep: dict[Component, Discovery] = field(default_factory=dict)
    _held_pins: dict[tuple[str, int], tuple[PinSite, frozenset[str]]] = field(default_factory=dict)
    _held_from: set[Component] = field(default_factory=set)

    def component(self, name: str) -> Component:
        return self.select([name])[0]

    def flux(self) -> Component | None:
        """The Flux component (whatever ``components:`` renamed it to); None when excluded
        there; a repo without the Flux wrapper chart exits 2 naming it."""
        flux = next((c for c in self.components if c.is_flux), None)
        if flux is None and not self.flux_excluded and self.config.wrapper != FLUX.wrapper:
            self.discovery(component_for(self.config))  # raises: names the configured wrapper
        return flux

    def required_flux(self) -> Component:
        """The Flux component, for commands that move Flux; excluded or absent exits 2."""
        flux = self.flux()
        if flux is None and self.flux_excluded:
            raise UsageError(
                f"the Flux component is excluded in {CONFIG_NAME}; name another with --component"
            )
        if flux is None:
            raise UsageError(self._no_wrapper(component_for(self.config)))
        return flux

    def select(self, names: Sequence[str]) -> list[Component]:
        """The components ``names`` name; a name only an unreadable Chart.yaml could hold
        is that file's problem (the component is unproven, not absent)."""
        try:
            return select(self.components, names)
        except UsageError:
            for name in names:
                unread = self._unreadable_chart_of(name)
                if unread is not None:
                    raise UsageError(unread.problem(name).as_text()) from None
            raise

    def _unreadable_chart_of(self, name: str) -> Unreadable | None:
        """The unreadable Chart.yaml whose chart (or, as a component, its ``bp-``-less
        name) or one of whose dependencies is ``name``, read from its text."""
        named = re.compile(
            LINE_START.encode() + rb"[ \t-]*name:[ \t]*[\"']?" + re.escape(name.encode())
            + rb"[\"']?[ \t]*" + LINE_END.encode()
        )  # fmt: skip
        for unread in self.unreadable:
            if not unread.file.endswith("Chart.yaml"):
                continue
            source = self.sources.get(unread.file)
            charts = {*unread.charts, *(c.removeprefix(WRAPPER_PREFIX) for c in unread.charts)}
            if name in charts or (source is not None and named.search(source.raw)):
                return unread
        return None

    def discovery(self, component: Component) -> Discovery:
        """The pin-sites of one component (derived once per run), less those ``keep:``
        sets aside; an absent wrapper chart exits 2."""
        if component not in self._discoveries:
            found = self._found(component)
            if self.config.keep:
                set_aside(found, self._held(self._keep_witnesses(found)))
            self._discoveries[component] = found
        return self._discoveries[component]

    def _found(self, component: Component) -> Discovery:
        if component not in self._found_before_keep:
            self._found_before_keep[component] = self._discover(component)
        return self._found_before_keep[component]

    def _keep_witnesses(self, found: Discovery) -> list[Component]:
        """The components whose pins decide which of ``found``'s a keep entry sets aside:
        ``found``'s own and those the entries name, or every one when an entry naming none
        matches a pin of ``found`` (``kept.loose_rules_touch``). So ``--component NAME``
        discovers no other component for entries that name theirs."""
        if loose_rules_touch(self.config.keep, found):
            return list(self.components)
        named = {rule.component for rule in self.config.keep}
        return [c for c in self.components if c == found.component or c.name in named]

    def _held(self, components: list[Component]) -> Held:
        """The pins of ``components`` ``keep:`` may set aside, by the components holding
        each (an umbrella's releases are in every component): an entry keeps one
        component's. Grown as later discoveries need more components."""
        for component in components:
            if component in self._held_from:
                continue
            self._held_from.add(component)
            try:
                found = self._found(component)
            except FluxbumpError:  # (its own discovery names the problem, when asked for)
                continue
            except NotScanned:
                # ``--component`` narrowed the scan: entries are judged by the pins of the
                # components asked for (a full run refuses one also matching another's)
                continue
            for site in keepable(found):
                key = (site.file, site.start)
                names = self._held_pins[key][1] if key in self._held_pins else frozenset()
                self._held_pins[key] = (site, names | {component.name})
        return self._held_pins

    def _no_wrapper(self, component: Component) -> str:
        """Name the chart that does depend on the upstream, if one does: a renamed wrapper
        is one line of configuration (``init`` cannot help: it needs the wrapper too). A
        wrapper whose Chart.yaml cannot be read is named by that file's problem."""
        head = f"no Chart.yaml with 'name: {component.wrapper}' under {self.root}"
        where = self.config.where("wrapper") if component.is_flux else None
        head = head if where is None else f"{where}: {head}"
        wrappers = sorted(
            name for name, chart in self.charts.items()
            if any(d.subject == component.upstream for d in chart.dependencies)
        )  # fmt: skip
        unread = [u for u in self.unreadable if component.wrapper in u.charts] or [
            u for u in self.unreadable if u.file.endswith("Chart.yaml") and not wrappers
        ]  # its Chart.yaml, or (no readable chart depends on the upstream) perhaps any
        if unread:
            return unread[0].problem(component.name).as_text()
        if wrappers:
            return (
                f"{head}; {self.charts[wrappers[0]].file} ('{wrappers[0]}') depends on "
                f"'{component.upstream}': set 'wrapper: {wrappers[0]}' in {CONFIG_NAME}"
            )
        pins = self.release_pins() if component.is_flux else []
        if pins:  # a flux-operator or flux bootstrap layout: no chart to configure
            more = f" and {len(pins) - 1} more" if len(pins) > 1 else ""
            return (
                f"{head}, and no chart depends on '{component.upstream}': Flux is pinned here "
                f"only outside charts ({pins[0].file}:{pins[0].line}: {pins[0].role}{more}), "
                "which fluxbump moves without a wrapper chart: remove "
                f"'wrapper: {component.wrapper}' from {CONFIG_NAME}, or name the chart that "
                f"depends on '{component.upstream}'"
            )
        unversioned = self.unversioned_bootstraps() if component.is_flux else []
        if unversioned:  # Terraform installs Flux, at the release its provider bundles
            block = unversioned[0]
            fix = (
                "the provider's version constraint chooses the release (embedded_manifests)"
                if block.embedded
                else 'write version = "vX.Y.Z" in it to pin the release there'
            )
            return (
                f"{head}, and no chart depends on '{component.upstream}': {block.file}:"
                f"{block.line}: {block.owner} sets no version, so it installs the Flux release "
                f"its fluxcd/flux provider bundles, which fluxbump cannot move: {fix}"
            )
        return (
            f"{head}, and no chart depends on '{component.upstream}'"
            + (", nor any other pin of a Flux release" if component.is_flux else "")
            + ": nothing to move (see 'fluxbump status'); if your wrapper chart has other "
            f"names, set 'wrapper' and 'upstream' in {CONFIG_NAME}"
        )

    def _discover(self, component: Component) -> Discovery:
        if component.operator:  # one installed with no version is a problem, not a pin
            chart = component.upstream
            # the distribution artifact follows the charts: never the pin compared with
            sites = [p for p in self.operator_pins() if p.subject == chart]
            sites.sort(key=lambda p: p.role is Role.OPERATOR_ARTIFACT)
            first = next((p.value for p in sites if versions.is_pin(p.value)), NO_PIN)
            pins, unversioned = pinned_releases(sites, {chart: first})
            operator = Discovery(
                self.root, self.config, component, self.sources, self.charts, [],
                release_pins=pins, substitutions=self.substitutions,
            )  # fmt: skip
            operator.problems += unversioned
            return operator
        if not component.direct and component.wrapper not in self.charts:
            raise UsageError(self._no_wrapper(component))
        tracked = tracked_charts(self.charts, [component.wrapper] if component.wrapper else [])
        if self.scanned is not None and not self.scanned.issuperset(tracked):
            raise NotScanned(f"{component.name}: this survey scanned other components only")
        names = set(tracked) or {component.upstream}
        found = Discovery(
            self.root, self.config, component, self.sources, self.charts, tracked,
            all_blueprints=self.all_blueprints, substitutions=self.substitutions,
            templates=list(self.roles.cloudinit),
        )  # fmt: skip
        found.blueprints = {n: b for n, b in self.all_blueprints.items() if n in names}
        found.locks = {n: lock for n in tracked if (lock := self.lock_of(n)) is not None}
        found.constraints = [c for c in self.constraints if c.subject in names]
        chart_versions = {n: c.version.value for n in names
                          if (c := self.charts.get(n)) is not None and c.version is not None}  # fmt: skip
        sites = self.releases_of(names) if component.direct else self.local_releases_of(names)
        if component.direct:  # no chart of ours: the first exact release is the one to write
            exact = next((s.value for s in sites if versions.is_pin(s.value)), None)
            chart_versions.setdefault(component.upstream, exact or NO_PIN)
        releases, missing = pinned_releases(sites, chart_versions)
        if component.direct:
            found.direct = releases
        else:
            found.releases = releases
            found.mirrors = [m for m in self.mirrors_of(component.wrapper)
                             if m.subject == component.upstream]  # fmt: skip
        self._installs(found)
        if not component.direct:
            found.adopted, unversioned = self._adopted(component, found.installs)
            missing += unversioned
        found.problems += [u.problem(component.name) for u in self.unreadable_templates]
        if component.rules.names_a_release:
            found.release_pins = self.release_pins()
            found.controller_images = self.controller_images()
            found.problems += [u.problem(component.name) for u in self.unreadable_release_pins]
        # Before ``_structure``: a template that installs Flux with no version (a problem
        # here) is not also one that installs nothing (``_install_problem``).
        found.problems += missing
        _structure(found)
        charged = found.unread_charts()
        found.problems += [u.problem(component.name) for u in self.unreadable
                           if u.charts & charged or not u.charts]  # fmt: skip
        return found

    def _adopted(
        self, component: Component, installs: Sequence[PinSite]
    ) -> tuple[list[PinSite], list[Violation]]:
        """What installs a wrapper's upstream at boot (``_tool_releases``, a HelmChart), and
        a problem for each that names no version: the incident's double install, where the
        wrapper's HelmRelease takes the release over and moves its CRDs to its own chart.
        A cloud-init ``helm install`` that is already the component's install pin (a chart
        wrapper's: ``_installs``) is not a second site of the same text."""
        if not boot_installed(component, self.charts):
            return [], []
        taken = {(s.file, s.start) for s in installs}
        sites = [s for s in self.releases_of({component.upstream})
                 if s.role in BOOT_ROLES and (s.file, s.start) not in taken]  # fmt: skip
        pins = [d.value for d in self.charts[component.wrapper].dependencies
                if d.subject == component.upstream and versions.is_pin(d.value)]  # fmt: skip
        return pinned_releases(sites, {component.upstream: pins[0] if pins else NO_PIN})

    def orphan_problems(self, checked: Collection[str]) -> list[Violation]:
        """Unreadable files naming only charts no checked component tracks (an unreadable
        wrapper's Chart.yaml leaves no component to carry it): said once, by chart."""
        return [
            Violation(
                u.file, u.line, f"{u.reason}; chart {', '.join(sorted(u.charts))} is unproven"
            )
            for u in self.unreadable
            if u.charts and not u.charts & set(checked)
        ]

    def releases_of(self, charts: Collection[str]) -> list[PinSite]:
        """The HelmRelease pins of ``charts``, in file order (a fleet has tens of thousands
        of them and dozens of components: each takes its own from an index by chart)."""
        if self._by_chart is None:
            self._by_chart = {}
            for position, site in enumerate(self.releases):
                self._by_chart.setdefault(site.subject, []).append((position, site))
        if len(charts) == 1:
            return [site for _, site in self._by_chart.get(next(iter(charts)), [])]
        found = [pair for chart in charts for pair in self._by_chart.get(chart, [])]
        found.sort(key=itemgetter(0))
        return [site for _, site in found]

    def local_releases_of(self, charts: Collection[str]) -> list[PinSite]:
        """``releases_of`` this repository's ``charts``: less the HelmReleases of another
        project's chart of the same name (``scan/chartsources.py``), which a wrapper-less
        Flux still takes as its pins (``releases_of`` its upstream)."""
        if self._foreign is None:
            self._foreign = foreign_releases(
                self.root, self.sources, self.chart_sources, self.charts, self.components,
                self.releases_of(self.charts),
            )  # fmt: skip
        releases = self.releases_of(charts)
        if not self._foreign:  # (most repositories: no pair to build for each release)
            return releases
        return [s for s in releases if (s.file, s.start) not in self._foreign]

    def lock_of(self, name: str) -> LockedChart | None:
        """The Chart.lock beside a chart's Chart.yaml, if the walk found one. One that cannot
        be read is a problem of that chart's components (noted once), not the end of the run."""
        chart = self.charts[name]
        rel = lock_path(chart.file)
        if rel not in self.roles.locks:
            return None
        chart_source = read_once(self.sources, self.root, chart.file)
        try:
            return locked_chart(chart_source, read_once(self.sources, self.root, rel), name)
        except UsageError as exc:
            if all(u.file != rel for u in self.unreadable):
                self.unreadable.append(unreadable_of(rel, exc.message, frozenset({name})))
            return None

    def mirrors_of(self, wrapper: str) -> list[PinSite]:
        """Every values-mirror entry of a chart (read once per chart)."""
        if wrapper not in self._mirrors:
            self._mirrors[wrapper] = self._read_mirrors(self.charts[wrapper])
        return self._mirrors[wrapper]

    def _read_mirrors(self, chart: ChartFile) -> list[PinSite]:
        rel = chart.values_file
        if rel not in self.sources and not (self.root / rel).is_file():
            return []
        try:
            source = read_once(self.sources, self.root, rel)
            if self.config.values_mirror.split(".")[0].encode() not in source.raw:
                return []
            return find_mirrors(source, self.config.values_mirror, chart.name)
        except UsageError as exc:  # one bad values.yaml costs its chart's components only
            self.unreadable.append(unreadable_of(rel, exc.message, frozenset({chart.name})))
            return []

    def _installs(self, found: Discovery) -> None:
        pattern = found.component.install_pattern
        if pattern is None:
            found.installs = [
                s for s in self.helm_installs() if s.subject == found.component.upstream
            ]
            return
        for source in self.templates():
            if not may_install(source.raw):
                continue
            sites, mentions = find_install_pins(source, pattern, found.component.name)
            found.installs += sites
            found.mentions += mentions
        self._template_variables(found)

    def _template_variables(self, found: Discovery) -> None:
        """Install URLs whose release is a template variable (``v${flux_version}``): the
        literals the ``templatefile()`` calls of the .tf files pass it are the pins."""
        pattern = found.component.install_variable
        if pattern is None:
            return
        variables = [
            variable
            for source in self.templates()
            if may_install(source.raw) and b"${" in source.raw
            for variable in template_variables(source, pattern)
        ]
        if not variables:
            return
        read = partial(read_once, self.sources, self.root)
        files = self.readable_release_pin_files()
        real = partial(real_rel, self.root)
        followed = follow_templates(variables, files, read, real, found.component.name)
        found.installs += followed.sites
        found.problems += followed.problems
        found.variable_templates = sorted({v.template for v in variables})

    def release_pins(self) -> list[PinSite]:
        """Every pin of the Flux release outside cloud-init (each file read once)."""
        if self._release_pins is None:
            self._release_pins = []
            for rel in self.roles.release_pins:
                self._release_pins += self._release_pins_in(rel)
            unread = self._unread_release_pin_files()
            readable = [rel for rel in self.roles.release_pins if rel not in unread]
            self._release_pins = follow_variables(
                self._release_pins, readable, lambda rel: read_once(self.sources, self.root, rel)
            )
            charts = self.charts.values()
            self._release_pins = follow_chart_keys(self._release_pins, self.read_if_there, charts)
            # (a workflow is a cluster file too: its CLI image is found once)
            seen = {(s.file, s.start) for s in self._release_pins}
            cluster = [
                s
                for s in self.instances
                if s.role in CLUSTER_RELEASE_ROLES and (s.file, s.start) not in seen
            ]
            self._release_pins += follow_values_from(cluster, self.read_if_there)
            listed = set(readable)  # (a role's variables are read in its defaults/ and vars/)
            self._release_pins = follow_role_downloads(
                self._release_pins,
                readable,
                lambda at: self.read_if_there(at) if at in listed else None,
            )
            self._release_pins = settled_release_pins(
                self.root, self.sources, self._release_pins, self.substituting
            )
        return self._release_pins

    def controller_images(self) -> list[PinSite]:
        """The Flux controller image tags the cluster-file pass found."""
        return [s for s in self.instances if s.role is Role.CONTROLLER_IMAGE]

    def read_if_there(self, rel: str) -> SourceFile | None:
        """A file a release pin leads to (read once), None when it is not a readable
        regular file of the repository: what it would set stays unproven."""
        if not (self.root / rel).is_file():
            return None
        try:
            return read_once(self.sources, self.root, rel)
        except (UsageError, NotRegularFile):
            return None

    def _release_pins_in(self, rel: str) -> list[PinSite]:
        """The release pins of one file; a file that cannot be read (invalid YAML, too big)
        is kept as unreadable and makes the Flux release unproven, not the whole run: a
        repository has hundreds of such files (kustomization.yaml), of every other tool."""
        try:
            source = read_once(self.sources, self.root, rel)
            return [site for kind in RELEASE_PIN_KINDS for site in kind(source)]
        except UsageError as exc:
            if _names_no_flux(self.root, rel):
                self.skipped_release_pins.add(rel)
            else:
                self.unreadable_release_pins.append(unreadable_of(rel, exc.message, frozenset()))
            return []

    def _unread_release_pin_files(self) -> set[str]:
        return {u.file for u in self.unreadable_release_pins} | self.skipped_release_pins

    def readable_release_pin_files(self) -> list[str]:
        """The ``release_pins`` files, but those ``release_pins`` found unreadable."""
        self.release_pins()  # (fills ``unreadable_release_pins``)
        unread = self._unread_release_pin_files()
        return [rel for rel in self.roles.release_pins if rel not in unread]

    def provider_constraints(self) -> list[ProviderConstraint]:
        """The ``fluxcd/flux`` Terraform provider constraints (reported, never moved)."""
        return [
            constraint
            for rel in self.readable_release_pin_files()
            for constraint in find_provider_constraints(read_once(self.sources, self.root, rel))
        ]

    def unversioned_bootstraps(self) -> list[PlacedBlock]:
        """The Flux provider blocks that set no ``version`` (each installs what its provider
        bundles: said, never a pin)."""
        return [
            block
            for rel in self.readable_release_pin_files()
            for block in find_unversioned_bootstraps(read_once(self.sources, self.root, rel))
        ]

    def operator_pins(self) -> list[PinSite]:
        """Every pin of flux-operator's charts: cluster YAML (read by the HelmRelease pass),
        cloud-init ``helm install`` lines, and the other files of the ``release_pins`` globs
        (Terraform, shell scripts), each file read once."""
        if self._operator_pins is None:
            found = [s for s in self.instances if s.role not in _NOT_OPERATOR_ROLES]
            found += [s for s in self.helm_installs() if s.subject in OPERATOR_CHARTS]
            clusters = set(self.roles.clusters)
            files = self.readable_release_pin_files()
            for rel in files:
                if rel not in clusters:
                    found += find_operator_charts(read_once(self.sources, self.root, rel))
            # a helm_release's ``version = var.NAME``: the literals that set NAME
            found = follow_variables(
                found, files, lambda rel: read_once(self.sources, self.root, rel)
            )
            seen: set[tuple[str, int, str]] = set()
            unique = []
            for site in found:  # (one literal may set both charts' versions: a site each)
                if (site.file, site.start, site.subject) not in seen:
                    seen.add((site.file, site.start, site.subject))
                    unique.append(site)
            self._operator_pins = settled_release_pins(
                self.root, self.sources, unique, self.substituting, substituted_by_flux
            )
        return self._operator_pins

    def templates(self) -> list[SourceFile]:
        """The cloud-init templates that can be read, each once; one that cannot is kept as
        unreadable (a FIFO or a link to a device still stops the run: never read at all)."""
        if self._templates is None:
            self._templates = []
            for rel in self.roles.cloudinit:
                try:
                    self._templates.append(read_once(self.sources, self.root, rel))
                except UsageError as exc:
                    self.unreadable_templates.append(unreadable_of(rel, exc.message, frozenset()))
        return self._templates

    def helm_installs(self) -> list[PinSite]:
        """``helm install … --version`` pins in every cloud-init template."""
        return [site for site in self.template_helm_commands() if not unpinned(site)]

    def template_helm_commands(self) -> list[PinSite]:
        """Each ``helm install|upgrade`` in every cloud-init template, with a version or
        without (``cloudinit.helm_commands``), each template read once."""
        if self._helm_commands is None:
            self._helm_commands = [
                site
                for source in self.templates()
                if b"helm" in source.raw
                for site in helm_commands(source)
            ]
        return self._helm_commands


# Each reads one file of the ``release_pins`` globs and returns the Flux release pins in it
# (an empty list for a file of another kind).
def _names_no_flux(root: Path, rel: str) -> bool:
    """Whether a file that cannot be read as text holds no pin of Flux or its operator: each
    kind names Flux (``flux2``, ``fluxcd/``, ``flux-operator``, ``flux_bootstrap_git``,
    ``# Flux Version``). A file whose bytes cannot be read at all may hold one."""
    try:
        raw = read_raw(root, rel, limit=READ_LIMIT)
    except UsageError:
        return False
    # UTF-16/32 text: what it spells names Flux, not its bytes
    return len(raw) <= MAX_FILE_BYTES and re.search(rb"(?i)flux", as_utf8(raw)) is None


RELEASE_PIN_KINDS: tuple[FindPins, ...] = (
    find_cli_pins,
    find_terraform_pins,
    find_timoni_pins,
    find_bootstrap_header,
    find_kustomize_remote,
    find_install_commands,
    find_template_instances,
    find_terraform_instances,
    find_script_instances,
)
# Flux release pins read during the cluster-file pass (``Survey.instances``); the other
# pins that pass finds are flux-operator's chart pins.
CLUSTER_RELEASE_ROLES = frozenset(
    {Role.INSTANCE, Role.FLUX_MANIFESTS, Role.FLUX_GIT, Role.CLI, Role.BOOTSTRAP}
)
# The other pins of Flux that pass finds: its controllers' image tags (``controller_images``).
_NOT_OPERATOR_ROLES = CLUSTER_RELEASE_ROLES | {Role.CONTROLLER_IMAGE}


def survey(
    root: Path, config: Config, components: Sequence[str] = (), cache: ScanCache | None = None
) -> Survey:
    """Walk the repository once: charts, components, Blueprints and every HelmRelease pin.

    ``components`` (``--component``) narrows the HelmRelease scan to the charts those
    components track: a file naming none of them is read but never parsed. Such a survey
    answers only for them (``discovery`` of another component is an error). ``cache``: the
    cluster files git finds unchanged are taken from it, not read (``scan/cache.py``)."""
    if not root.is_dir():
        raise UsageError(f"--repo {root}: not a directory")
    if _is_bare_repository(root):
        raise UsageError(
            f"--repo {root}: a bare git repository, which has no files to read; run fluxbump "
            "in a clone of it (git clone)"
        )
    files = list(walk_files(root))
    renovate = followed_paths(root, config.follow_renovate_paths)
    if cache is None:
        roles = classify(files, config, renovate)
    else:
        roles = cached_roles(cache, files, config, renovate)
    found = _charts_and_blueprints(root, config, roles, {})
    _say_renovate_skipped(found, renovate)
    _leave_chart_copies(found, config.upstream)
    found.cache = cache
    found.scanned = _scanned_charts(found, components)
    _releases(found, roles.clusters, api_versions=_checks_flux(found, components))
    _written_charts(found)
    _subchart_instances(found)
    _tool_releases(found)
    _settle_direct(found)
    _name_flux_chart_add_ons(found)
    _operator_components(found)
    _say_template_pins(found, files, renovate)
    _say_program_pins(found, files, renovate)
    return found


def _say_program_pins(found: Survey, files: list[str], renovate: RenovatePaths | None) -> None:
    """Each line of a Pulumi or CDK program that pins Flux, of Terraform naming a Flux chart
    outside a ``helm_release``, or of a Nix expression writing a FluxInstance
    (``scan/programs.py``), said with its file:line: code is never read as a pin-site, nor
    moved."""
    for rel in program_files(files):
        if matches(rel, found.config.exclude) or (renovate is not None and renovate.skips(rel)):
            continue
        for note in program_notes(found.root, rel):
            note_skipped(note)
    for rel in files:
        if not rel.endswith((".tf", ".nix")) or matches(rel, found.config.exclude):
            continue
        if renovate is None or not renovate.skips(rel):
            for note in terraform_notes(found.root, rel) + nix_notes(found.root, rel):
                note_skipped(note)


def _say_template_pins(found: Survey, files: list[str], renovate: RenovatePaths | None) -> None:
    """The Flux pins of Jinja templates (``scan/jinja.py``): each found as the scan of the
    file it renders finds it, then said with the template's file:line, never moved."""
    templates = {
        rendered: template
        for rendered, template in rendered_names(files).items()
        if not matches(template, found.config.exclude)
        and (renovate is None or not renovate.skips(template))
    }
    if not templates:
        return
    roles = classify(templates, found.config)
    pin_files, cluster_files = set(roles.release_pins), set(roles.clusters)
    for rendered, template in templates.items():
        sources = template_sources(found.root, template, rendered)
        sites, problem = None, ""
        for source in sources:  # its statement lines emptied, then its Jinja inside lines
            noted = yamldoc.warnings_noted()
            try:
                sites = _rendered_pins(
                    found, source, rendered in pin_files, rendered in cluster_files
                )
            except UsageError as exc:  # a template's text need not be YAML
                problem = exc.message
            # (a key twice in a template is Jinja's choice between them, not a mistake)
            yamldoc.withdraw_warnings_since(noted)
            if sites is not None:
                break
        unread = unread_note(template, sources[0], problem) if sources and sites is None else None
        if unread is not None:  # it was skipped in silence, though it names a Flux release
            note_skipped(unread)
        for site in sites or []:
            if versions.is_pin(site.value):  # (a range such as 2.x no render turns back)
                note_skipped(template_note(template, site))


def _rendered_pins(found: Survey, source: SourceFile, pins: bool, cluster: bool) -> list[PinSite]:
    """The Flux and flux-operator pins the scan of a file would find in ``source``, read
    as a release-pin file (``pins``) and as a cluster file (``cluster``)."""
    sites: list[PinSite] = []
    if pins:
        sites += [site for kind in RELEASE_PIN_KINDS for site in kind(source)]
    if pins and not cluster:
        sites += find_operator_charts(source)
    if cluster:
        known, names = _scanned_names(found)
        rel = source.rel
        scanned = scan_files(str(found.root), {rel: source}, names, [rel], known=known, api=False)
        sites += scanned.sites + scanned.instances
    return sites


def _say_renovate_skipped(found: Survey, renovate: RenovatePaths | None) -> None:
    """Files left unread because Renovate is kept out of them: named, never silently, and
    those that pin Flux (a cluster Renovate leaves at an old release is one ``check`` then
    cannot compare: samip5/k8s-cluster's nebula at flux-manifests v2.5.1)."""
    skipped = found.roles.renovate_skipped
    if renovate is None or not skipped:
        return
    first = skipped[0]
    more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    charts = {c.wrapper or c.upstream for c in found.components if c.is_flux} | {FLUX.upstream}
    pattern = _chart_line(frozenset(charts))
    pinning = [rel for rel in skipped if _pins_flux(found.root, rel, pattern)]
    among = ""
    if len(pinning) == 1:
        among = f"; {pinning[0]} pins Flux"
    elif pinning:
        named = (
            " and ".join(pinning)
            if len(pinning) == 2
            else f"{', '.join(pinning[:2])} and {len(pinning) - 2} more"
        )
        among = f"; {named} pin Flux"
    note_skipped(
        f"{renovate.file}: Renovate's ignorePaths leave {first}{more} "
        f"out, so fluxbump does not read them either{among} (follow_renovate_paths: false in "
        f"{CONFIG_NAME} reads them)"
    )


def _chart_line(charts: frozenset[str]) -> re.Pattern[bytes]:
    """A ``chart: NAME`` line of one of ``charts`` (a HelmRelease of Flux's chart)."""
    names = b"|".join(re.escape(c.encode()) for c in sorted(charts))
    # (its line ends at CR, LF or CRLF: YAML's line end, ``LINE_END``)
    return re.compile(rb"chart:[ \t]*['\"]?(?:" + names + rb")['\"]?[ \t]*" + LINE_END.encode())


def _pins_flux(root: Path, rel: str, chart_line: re.Pattern[bytes]) -> bool:
    """Whether a file the scan leaves unread pins Flux as the byte tests before any parse see
    it: a FluxInstance or flux-manifests source (``releases._may_hold_release_pins``), an
    install from Flux's repository, a HelmRelease of Flux's chart or its wrapper."""
    try:
        raw = read_raw(root, rel, limit=_SKIPPED_READ)
    except UsageError:  # (unreadable: said where it is read, if it is)
        return False
    return (
        may_hold_instance(raw)
        or may_hold_flux_manifests(raw)
        or b"fluxcd/flux2" in raw
        or chart_line.search(raw) is not None
    )


_SKIPPED_READ = 1 << 20  # a manifest's worth: a large file left out is no reason to read it


def _is_bare_repository(root: Path) -> bool:
    """git's own layout at the top (``HEAD``, ``objects/``, ``refs/``) and no work tree's
    ``.git``: what ``git clone --bare`` and a forge's storage hold."""
    return (
        (root / "HEAD").is_file()
        and (root / "objects").is_dir()
        and (root / "refs").is_dir()
        and not (root / ".git").exists()
    )


def _direct_flux(charts: dict[str, ChartFile], config: Config, detected: Detected) -> bool:
    """Whether Flux may be deployed without a wrapper: no chart wraps the community chart
    and none is configured; the release scan then also looks for HelmReleases of it."""
    return (
        not any(c.is_flux for c in detected.components)
        and not detected.flux_excluded
        and config.wrapper == FLUX.wrapper
        and FLUX.wrapper not in charts
    )


def _tool_releases(found: Survey) -> None:
    """What installs an upstream chart outside the cluster pins it as a HelmRelease of it
    does (Flux without a wrapper) or as the wrapper's dependency (``Discovery.adopted``): a
    Terraform ``helm_release`` (its literal ``version``, or the values that set the variable
    it names, as for the Flux provider's ``version``) and a ``helm install|upgrade …
    --version`` of a script or cloud-init template (the chart's version there, not the Flux
    release a cloud-init URL names). Each wrapper's upstream, not only Flux's: a boot chart
    of another version is the same double install for any chart."""
    # (a set: two wrappers of one upstream are two components of one chart; each file is
    # read and parsed once for every upstream)
    charts = frozenset(c.upstream for c in found.components if boot_installed(c, found.charts))
    if not charts:
        return
    files = found.readable_release_pin_files()
    read = partial(read_once, found.sources, found.root)
    pins = [s for rel in files for s in find_chart_releases(read(rel), charts)]
    # a cloud-init template's (its owner says so); one with no --version installs the newest
    # chart: a problem (``pins.unpinned``)
    commands = [*found.template_helm_commands()]
    for rel in files:
        source = read(rel)
        if not rel.endswith(".tf") and rel not in found.roles.cloudinit and b"helm" in source.raw:
            commands += script_helm_commands(source)
    kept = [s for s in found.releases if s.role not in _TOOL_ROLES]  # (resurvey: read again)
    found.releases = kept + follow_variables(pins, files, read)
    listed = set(files)  # (a role's variables are read in its defaults/ and vars/ files)
    found.releases += [
        site
        for rel in files
        for site in find_helm_chart_pins(
            read(rel), charts, lambda at: read(at) if at in listed else None
        )
    ]
    found.releases += [
        replace(site, role=Role.HELM_COMMAND) for site in commands if site.subject in charts
    ]


def _subchart_instances(found: Survey) -> None:
    """The Flux release each local chart sets in its ``values.yaml`` for a FluxInstance it
    renders: as the values of flux-instance, carried as a subchart (an umbrella, such as
    cozystack's ``cozy-fluxcd``), or of its own template of one (``version: {{ .Values.… }}``).
    A FluxInstance pin, as a HelmRelease's values of the chart are (its values file has no
    ``kind``, so the cluster-file pass finds none; one that pass does not read, this does not
    either). Read before ``release_pins`` (which keeps what it read); a resurvey keeps the
    pins of a file it did not write, so each is added once."""
    clusters = set(found.roles.clusters)
    templates = _templates_by_chart(found)
    found_here = []
    for chart in found.charts.values():
        values = chart.values_file
        source = found.read_if_there(chart.file) if values in clusters else None
        keys = subchart_keys(source, found.root / chart.vendored_folder) if source else []
        paths = _templated_paths(found, templates.get(chart.directory, [])) if source else []
        given = found.read_if_there(values) if keys or paths else None
        try:
            found_here += find_subchart_instances(given, keys, chart.name) if given else []
            found_here += find_templated_instances(given, paths, chart.name) if given else []
        except UsageError:  # no YAML: the cluster-file pass names it
            continue
    seen = {(s.file, s.start) for s in found_here}
    found.instances = [s for s in found.instances if (s.file, s.start) not in seen] + found_here


def _templates_by_chart(found: Survey) -> dict[str, list[str]]:
    """Each chart directory's rendered templates (``templates/`` beside its Chart.yaml)."""
    by_chart: dict[str, list[str]] = {}
    for rel in found.roles.chart_templates:
        at = rel.rfind("templates/")
        if at == 0 or (at > 0 and rel[at - 1] == "/"):
            by_chart.setdefault(rel[: max(at - 1, 0)], []).append(rel)
    return by_chart


def _templated_paths(found: Survey, templates: list[str]) -> list[tuple[str, ...]]:
    """The values paths a chart's own FluxInstance templates render their version from."""
    paths: list[tuple[str, ...]] = []
    for rel in templates:
        template = found.read_if_there(rel)
        for path in template_value_paths(template) if template else []:
            if path not in paths:
                paths.append(path)
    return paths


_TOOL_ROLES = frozenset({Role.TERRAFORM_HELM, Role.HELM_COMMAND})
# What installs a wrapper's upstream at boot: a tool, or a HelmChart k3s or RKE2 installs.
BOOT_ROLES = _TOOL_ROLES | {Role.HELMCHART}


def boot_installer(site: PinSite) -> str:
    """What a boot install is, as messages name it (``HelmChart kube-system/cilium``,
    ``helm_release.flux2``, ``cloud-init``)."""
    return f"HelmChart {site.owner}" if site.role is Role.HELMCHART else site.owner


def boot_installed(component: Component, charts: Collection[str]) -> bool:
    """Whether the pins of the upstream chart itself outside the cluster (``_tool_releases``)
    and in HelmCharts are the component's: Flux's, deployed directly or by a wrapper of
    another name (a local chart named as its upstream is what those pins deploy)."""
    return not component.operator and (component.direct or component.upstream not in charts)


def _written_charts(found: Survey) -> None:
    """The HelmCharts cloud-init templates write for k3s or RKE2 to install at boot
    (``writefiles``): pins of the charts whose releases the scan collects, as a HelmChart
    manifest of the repository is. A template the cluster files hold too (globs that give a
    ``.yaml`` both roles) was read by that scan."""
    templates = [s for s in found.templates() if writefiles.may_write(s.raw)]
    if not templates:
        return
    _, names = _scanned_names(found)
    names |= frozenset(_boot_charts(found))  # (a template writes no HelmRelease: no scan)
    clusters = set(found.roles.clusters)
    read = partial(read_once, found.sources, found.root)
    real = partial(real_rel, found.root)
    for source in templates:
        if source.rel not in clusters:
            written = writefiles.template_pins(source, names)
            files = found.readable_release_pin_files() if b"${" in source.raw else []
            found.releases += [
                s for w in written.sites for s in follow_written(w, files, read, real)
            ]
            yamldoc.note_warnings(written.unread)


def _settle_direct(found: Survey) -> None:
    """A wrapper-less Flux component stays only if a HelmRelease deploys its chart or Flux
    is pinned outside charts (a flux-operator or ``flux bootstrap`` layout: ``to`` moves
    those pins)."""
    direct = next((c for c in found.components if c.is_flux and c.direct), None)
    deployed = direct is not None and any(s.subject == direct.upstream for s in found.releases)
    if direct is None or deployed:
        return
    at = found.components.index(direct)
    if found.release_pins() or found.unreadable_release_pins:  # (unproven: check says so)
        found.components[at] = replace(direct, outside_charts=True, install_required=False)
    else:
        del found.components[at]


def _name_flux_chart_add_ons(found: Survey) -> None:
    """A chart whose ``appVersion`` (or ``version``) is a Flux release pin is Flux itself,
    built from that release's manifests (``scan/chartkeys.py``), not a wrapper of the one
    chart it depends on: that dependency is an add-on (giantswarm/flux-app's optional
    kube-state-metrics), its component named after itself, not after Flux's chart."""
    named = [c for c in found.components if _named_after_wrapper(found.config, c)]
    if not named:  # (the common case reads no release pin here)
        return
    flux_charts = {p.file for p in found.release_pins() if p.file.endswith("Chart.yaml")}
    renamed = [
        replace(c, name=c.upstream)
        if c in named and found.charts[c.wrapper].file in flux_charts
        else c
        for c in found.components
    ]
    found.components = unique_names(renamed)


def _named_after_wrapper(config: Config, component: Component) -> bool:
    """A wrapper's component named after its chart by default (not by ``components:``)."""
    configured = {(e.wrapper, e.upstream) for e in config.components}
    return (
        not (component.is_flux or component.operator or component.direct)
        and component.name != component.upstream
        and (component.wrapper, component.upstream) not in configured
    )


def _scanned_names(found: Survey) -> tuple[frozenset[str], frozenset[str]]:
    """The charts whose releases are known, and those this survey scans releases of (fewer
    when ``--component`` narrowed it)."""
    known = _release_charts(found)
    return known, known if found.scanned is None else found.scanned


def _release_charts(found: Survey) -> frozenset[str]:
    """The chart names whose HelmRelease pins the scan collects: this repo's charts, and
    the upstream a wrapper-less Flux component deploys directly (or a Flux wrapper's, which
    a HelmChart may install at boot)."""
    direct = {c.upstream for c in found.components if _scans_upstream(c, found.charts)}
    return frozenset(found.charts) | direct


def _scans_upstream(component: Component, charts: Collection[str]) -> bool:
    """Whether the release scan looks for every pin of the upstream chart itself: Flux's
    (a HelmRelease of it beside its wrapper is named as no pin). Another wrapper's upstream
    is looked for in HelmCharts only (``_boot_charts``)."""
    return component.is_flux and boot_installed(component, charts)


def _boot_charts(found: Survey) -> dict[str, frozenset[str]]:
    """The other upstreams installed at boot, whose HelmCharts the release scan reads
    (``releases._boot_pins``), of the components it scans for (all, or those
    ``--component`` names): each with the wrappers a file of it that cannot be read leaves
    unproven."""
    scanned, released = found.scanned, _release_charts(found)
    booted: dict[str, set[str]] = {}
    for c in found.components:
        if c.upstream in released or not boot_installed(c, found.charts):
            continue
        if scanned is None or c.wrapper in scanned:
            booted.setdefault(c.upstream, set()).add(c.wrapper)
    return {upstream: frozenset(wrappers) for upstream, wrappers in booted.items()}


def _operator_components(found: Survey) -> None:
    """flux-operator's charts are components when the repository pins them, found by content
    (after the Flux and wrapper components: ``status`` lists them last)."""
    pins = found.operator_pins()
    excluded = {entry.name for entry in found.config.components if entry.excluded}
    for chart in (c for c in OPERATOR_CHARTS if c not in excluded):
        files = [s.file for s in pins if s.subject == chart]
        taken = any(chart in (c.name, c.upstream) for c in found.components)  # a wrapper's
        if files and not taken:
            texts = (found.sources[rel].text for rel in files if rel in found.sources)
            repository = next((r for t in texts if (r := repository_of(t, chart))), None)
            found.components.append(operator_chart(chart, repository))


def _leave_chart_copies(found: Survey, upstream: str) -> None:
    """Name each copy of the upstream chart kept here (``chartcopy``) and leave its folder's
    files out of the pin scans: the CLI tag its values hold was moved alone, the copy's
    controllers left at the release the copy installs."""
    copies = chart_copies(found.charts.values(), upstream)
    for chart in copies:
        note_skipped(copy_note(chart, upstream))
    folders = tuple(chart.file.removesuffix("Chart.yaml") for chart in copies)
    if folders:
        roles = found.roles
        roles.clusters = [rel for rel in roles.clusters if not rel.startswith(folders)]
        roles.release_pins = [rel for rel in roles.release_pins if not rel.startswith(folders)]


def _checks_flux(found: Survey, components: Sequence[str]) -> bool:
    """Whether the Flux component is among ``components`` (none: every component), whose
    check reads the Flux API versions of every cluster file (``crds/migrate.py``)."""
    if not components:
        return True
    named = [name for name in components if name not in OPERATOR_CHARTS]
    if not _all_known(found, named):
        return True  # (the command names the unknown one after the scan: ``_all_known``)
    return bool(named) and any(c.rules.names_a_release for c in found.select(named))


def _all_known(found: Survey, names: Sequence[str]) -> bool:
    """Whether every name is a component before the scan. Flux is one then whether or not
    a pin of it is found, so an unknown name is not refused here (``found: flux`` in a
    repository without Flux) but by the command's ``select`` after the scan, which lists
    what was found; narrowing the scan for it would gain nothing."""
    known = {c.name for c in found.components}
    return all(name in known for name in names)


def _scanned_charts(found: Survey, components: Sequence[str]) -> frozenset[str] | None:
    """The charts whose releases a survey for ``components`` needs; None: every chart."""
    named = [name for name in components if name not in OPERATOR_CHARTS]
    if not named:  # none (every chart), or operator charts only (no chart: found apart)
        return frozenset() if components else None
    if not _all_known(found, named):
        return None
    selected = found.select(named)  # (an unreadable Chart.yaml naming one exits 2 here)
    wrappers = [c.wrapper for c in selected]
    if any(w not in found.charts for w in wrappers):  # (or a direct layout: no wrapper)
        return None  # ``discovery`` names the missing wrapper
    booted = {c.upstream for c in selected if _scans_upstream(c, found.charts)}
    return frozenset(tracked_charts(found.charts, wrappers)) | booted


def resurvey(before: Survey, written: Collection[str]) -> Survey:
    """The survey after this run wrote ``written``: those files are read again from disk and
    parsed again; every other file is taken as this run read it (under the repo lock), so
    the post-write gate costs what the written files cost, not another walk of the fleet
    (nor a table per file of it: the gate runs at the run's peak of memory)."""
    changed = set(written)
    sources = {rel: s for rel, s in before.sources.items() if rel not in changed}
    found = _charts_and_blueprints(before.root, before.config, before.roles, sources)
    names = _release_charts(found)
    root = str(found.root)
    clusters = before.roles.clusters
    rewritten = [r for r in clusters if r in changed]
    rescan = scan_files(root, found.sources, names, rewritten, boot=_boot_charts(found))
    found.sources.update(rescan.sources)
    found.unreadable = [u for u in before.unreadable if u.file not in changed]
    found.unreadable += rescan.unreadable
    found.api_versions = {r: v for r, v in before.api_versions.items() if r not in changed}
    found.api_versions.update(rescan.api_versions)
    found.chart_sources = [r for r in before.chart_sources if r not in changed]
    found.chart_sources += rescan.chart_sources
    kept = [s for s in before.releases if s.role is not Role.SUBSTITUTE and s.file not in changed]
    found.releases = in_file_order(clusters, kept, rescan.sites)
    instances = [s for s in before.instances if s.file not in changed] + rescan.instances
    substituting = [(rel, raw) for rel, raw in before.substituting if rel not in changed]
    substituting += rescan.substituting
    order = _positions(clusters, {s.file for s in instances} | {rel for rel, _ in substituting})
    found.instances = sorted(instances, key=lambda s: (order.get(s.file, -1), s.start))
    substituting.sort(key=lambda f: order[f[0]])
    rescanned = [r for r in clusters if r in changed and r not in rescan.sources]
    _join(found, rescan.patches, rescanned, substituting)
    _keep(found.sources, rescan.instance_sources)
    _written_charts(found)
    _subchart_instances(found)
    _tool_releases(found)
    _settle_direct(found)
    _name_flux_chart_add_ons(found)
    _operator_components(found)
    return found


def in_file_order(
    files: Sequence[str], kept: Sequence[PinSite], fresh: Sequence[PinSite]
) -> list[PinSite]:
    """The sites of ``files`` in their order, each file's in the order they are given: those
    ``kept`` and those ``fresh`` (of files read again), never both of one file. Sites of
    other files are dropped. ``kept`` comes from a survey, grouped by file in ``files``
    order: then one walk merges them, without a table of every file."""
    by_file: dict[str, list[PinSite]] = {}
    for site in fresh:
        by_file.setdefault(site.file, []).append(site)
    merged: list[PinSite] = []
    at = 0
    for rel in files:
        merged += by_file.get(rel, ())
        while at < len(kept) and kept[at].file == rel:
            merged.append(kept[at])
            at += 1
    if at == len(kept):
        return merged
    for site in kept:  # not grouped in that order: place each file's sites by name
        by_file.setdefault(site.file, []).append(site)
    return [site for rel in files for site in by_file.get(rel, ())]


def _positions(files: Sequence[str], wanted: Collection[str]) -> dict[str, int]:
    """The position in ``files`` of each of ``wanted`` that is there."""
    if not wanted:
        return {}
    return {rel: i for i, rel in enumerate(files) if rel in wanted}


def _charts_and_blueprints(
    root: Path, config: Config, roles: Roles, sources: dict[str, SourceFile]
) -> Survey:
    """The chart graph, its components and every Blueprint (files read once, via sources)."""
    unreadable: list[Unreadable] = []
    charts = read_charts(root, roles.charts, sources, unreadable)
    found = Survey(root, config, sources, charts, roles, unreadable=unreadable)
    detected = detect(charts, config, found.mirrors_of)
    found.components, found.flux_excluded = detected.components, detected.flux_excluded
    if _direct_flux(charts, config, detected):  # kept by ``_settle_direct`` if deployed
        found.components.insert(0, replace(component_for(config), wrapper=""))
    for component in found.components:
        if component.wrapper in charts:
            charts[component.wrapper] = mark_upstream(charts[component.wrapper], component.upstream)
    blueprints = read_blueprints(root, sources, charts, roles.blueprints, unreadable)
    found.all_blueprints, found.constraints = blueprints.by_chart, blueprints.constraints
    return found


# Below this many cluster files a second process costs more than it saves.
FORK_THRESHOLD = 2000


def _releases(found: Survey, files: list[str], *, api_versions: bool = True) -> None:
    known, names = _scanned_names(found)
    boot = _boot_charts(found)
    root = str(found.root)

    def scan(chunk: Sequence[str]) -> ScannedFiles:
        return scan_files(
            root, found.sources, names, chunk, known=known, api=api_versions, boot=boot
        )

    def scan_all(chunk: Sequence[str]) -> list[ScannedFiles]:
        # Only what is read counts: a warm run's cached files are not scanned again.
        progress.step(progress.SCANNED, 0, total=len(chunk))
        return in_two(scan, chunk, threshold=FORK_THRESHOLD, phase=progress.SCANNED)

    if found.cache is None:
        parts = scan_all(files)
    else:
        records = found.cache.part("releases", scan_key(names, known, boot))
        parts = [cached_scan(records, root, files, scan_all)]
    substituting: list[tuple[str, bytes]] = []
    patches: list[VersionPatch] = []
    instance_sources: dict[str, SourceFile] = {}
    for part in parts:
        found.sources.update(part.sources)
        found.releases += part.sites
        found.unreadable += part.unreadable
        found.instances += part.instances
        instance_sources.update(part.instance_sources)
        found.api_versions.update(part.api_versions)
        substituting += part.substituting
        patches += part.patches
        found.chart_sources += part.chart_sources
    _join(found, patches, files, substituting)
    _keep(found.sources, instance_sources)


def _keep(sources: dict[str, SourceFile], more: dict[str, SourceFile]) -> None:
    """Files read for their FluxInstance versions: a bump edits them from this text."""
    for rel, source in more.items():
        sources.setdefault(rel, source)


def _join(
    found: Survey,
    patches: list[VersionPatch],
    unscanned: Sequence[str],
    substituting: list[tuple[str, bytes]],
) -> None:
    """Join version patches to their releases (reading ``unscanned`` for patches that name a
    release, not a chart), then the postBuild values that set a release's version."""
    known, names = _scanned_names(found)
    root = str(found.root)
    patches = patches + patches_by_release_name(
        root, found.sources, found.unreadable, found.releases, unscanned, names, known
    )
    found.releases = join_patches(found.releases, patches, found.roles.clusters)
    found.substituting = substituting
    found.releases += substitutions(
        found.root, found.sources, found.releases, substituting, found.substitutions
    )


def _structure(found: Discovery) -> None:
    """Missing or ambiguous pins that make the invariants unprovable."""
    if found.component.direct:  # its pins are HelmReleases: the gate compares them
        _install_problem(found)
        return
    wrapper = found.wrapper
    upstream = found.upstream_pins()
    if not upstream:
        where = found.config.where("upstream") if found.component.is_flux else None
        said = f" ({where} sets 'upstream')" if where else ""
        found.problems.append(
            Violation(
                wrapper.file, 0, f"no '{found.component.upstream}' dependency with a version{said}"
            )
        )
    elif len({u.value for u in upstream}) > 1:  # the same chart under two aliases is fine
        lines = ", ".join(str(u.line) for u in upstream)
        found.problems.append(
            Violation(
                wrapper.file,
                upstream[1].line,
                f"'{found.component.upstream}' is a dependency more than once (lines {lines})",
            )
        )
    elif not wrapper.repositories.get(found.component.upstream):
        found.problems.append(_vendored_upstream(found, upstream[0]))
    _install_problem(found)
    if wrapper.version is None:
        found.problems.append(Violation(wrapper.file, 0, "the wrapper chart has no 'version'"))


def _vendored_upstream(found: Discovery, pin: PinSite) -> Violation:
    """A configured wrapper's upstream with no ``repository``: Helm takes it from the chart's
    own ``charts/`` (a "local chart subfolder"), which no index can replace, so moving the
    pin would leave the chart deploying the old copy."""
    folder = found.wrapper.vendored_folder
    return Violation(
        pin.file,
        pin.line,
        f"'{pin.subject}' has no 'repository': Helm takes it from {folder}/, which a bump "
        "cannot replace; give the chart repository it comes from and run 'helm dependency "
        "update'",
    )


def _install_problem(found: Discovery) -> None:
    # A template that installs the chart itself (``helm install … flux2 --version``) holds
    # its pin as a direct one: it installs Flux, with no install.yaml URL to hold.
    templates = set(found.templates)
    by_helm = any(
        s.role in _INSTALLING and (s.file in templates or is_passed_chart(s))
        for s in (*found.direct, *found.adopted)
    )
    required = found.component.install_required and not by_helm
    unread = {p.file for p in found.problems}  # a template not read is not one without a pin
    unread |= set(found.variable_templates)  # its pins or problems come from templatefile()
    if not found.installs and required and _expects_install(found) and not unread & templates:
        found.problems.append(_no_install(found))


# What installs the chart from a template with no install.yaml URL: a helm command, or a
# HelmChart it writes for k3s or RKE2 (``writefiles``).
_INSTALLING = frozenset({Role.HELM_COMMAND, Role.HELMCHART})


def _expects_install(found: Discovery) -> bool:
    """Whether the cloud-init templates must install Flux. The default globs match every
    Terraform template; one that is not cloud-init user-data (its first line says so, as
    cloud-init reads it: ``#cloud-config``, ``#!``, a MIME part) and names no install of
    Flux is some other template (a kustomization patch, a values file): none is required."""
    if found.config.cloudinit != Config().cloudinit:
        return True  # listed by the user: each is a Flux install
    sources = [found.sources.get(rel) for rel in found.templates]
    return any(
        source is None or _user_data(source.text) or _unpinned_install_line(source) is not None
        for source in sources
    )


# The first line of each user-data format cloud-init runs (its documentation's list).
_USER_DATA = ("#cloud-config", "#!", "#include", "#cloud-boothook", "#part-handler",
              "## template: jinja", "content-type:", "mime-version:")  # fmt: skip


def _user_data(text: str) -> bool:
    return text.lstrip("\ufeff").lower().startswith(_USER_DATA)


def has_templates(found: Discovery) -> bool:
    """A cloud-init template is optional: with none in the repo (and the default globs) the
    Flux release is installed some other way, and there is no cloud-init invariant."""
    return bool(found.templates) or found.config.cloudinit != Config().cloudinit


def _no_install(found: Discovery) -> Violation:
    """Name the template that lacks the pin, or the globs that matched no template."""
    what = "the Flux install.yaml URL pinned to an explicit vX.Y.Z"
    for rel in found.templates:
        line = _unpinned_install_line(found.sources.get(rel))
        if line is not None:
            number, text = line
            return Violation(
                rel, number, f"installs Flux from '{text}', not a literal vX.Y.Z; "
                "fluxbump pins and moves only a literal release in the URL"
            )  # fmt: skip
    if found.templates:
        return Violation(found.templates[0], 0, f"no line installs {what}")
    if not found.config.cloudinit:
        return Violation(
            CONFIG_NAME, 0, f"'cloudinit' lists no template, so none holds {what}; list them"
        )
    globs = ", ".join(found.config.cloudinit)
    return Violation(  # no file to name: the globs matched none
        "",
        0,
        f"no cloud-init template ({globs}) holds {what}; {found.config.advice('cloudinit')}",
    )


# What a line fetching Flux's install manifests holds, whatever its version is written as.
_INSTALL_PATHS = (
    "fluxcd/flux2/releases/",
    "fluxcd/flux2/manifests/install",
    "fluxcd/flux2//manifests/install",
)


def _unpinned_install_line(source: SourceFile | None) -> tuple[int, str] | None:
    """A line fetching Flux's release manifests without a literal version (``v${flux}``)."""
    if source is None:
        return None
    for number, line in enumerate(lines(source.text), start=1):
        if any(n in line for n in _INSTALL_PATHS) and not line.lstrip().startswith("#"):
            words = (w for w in line.split() if any(n in w for n in _INSTALL_PATHS))
            return number, next(words, line.strip())
    return None


__all__ = ["Discovery", "Role", "Survey", "component_for", "discover", "survey"]
