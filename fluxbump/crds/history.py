"""Which flux2 chart releases this repository has pinned, read from past versions of its pin
files, and so which CRD API versions a cluster may still hold in ``status.storedVersions``.

The API server writes every object in the CRD's *storage* version and records it in
``status.storedVersions``; a version a release only *served* is never recorded there. So a
version can block a CRD update only if it was the storage version of a release the clusters
ran, and the clusters ran what this repository pinned (the wrapper's dependency and the
cloud-init install; without a chart, the pins that apply Flux's own manifests). Pure
functions: the caller reads git (``vcs/git.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from fluxbump import versions
from fluxbump.components import may_install
from fluxbump.crds.definitions import CrdVersions
from fluxbump.pins import PinSite, Role
from fluxbump.scan.discover import RELEASE_PIN_KINDS, Discovery
from fluxbump.scan.roles import classify
from fluxbump.scan.sites.chart import parse_chart
from fluxbump.scan.sites.cloudinit import find_install_pins
from fluxbump.scan.sites.fluxmanifests import find_flux_manifests
from fluxbump.scan.sites.helmrelease import scan_manifest
from fluxbump.scan.sites.templatefile import is_passed_chart, literals_like
from fluxbump.scan.sources import SourceFile

# Commits read from the pin files' history: enough for years of weekly bumps, and bounded so a
# monorepo with a long history still answers in well under a second.
HISTORY_LIMIT = 400


@dataclass(frozen=True)
class PinHistory:
    """The chart versions this repository pinned in the commits read (oldest release first)."""

    charts: tuple[str, ...]
    commits: int
    bounded: bool  # more commits touched the pin files than were read: older pins unknown
    # (chart, the releases no chart carries it stood in for: "Flux 2.5.0"), for a chart of
    # ``charts`` no release pinned is carried by: what it stored, those releases stored.
    stood_in: tuple[tuple[str, str], ...] = ()
    # (chart, a file deleted since that pinned it), for a chart of ``charts`` only deleted
    # files pinned: a refusal names where it came from, which no file of today shows.
    deleted: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        listed = ", ".join(self.charts) or "none"
        cut = f" (the newest {self.commits}; older ones not read)" if self.bounded else ""
        return f"{self.commits} commit(s) of the pin files{cut} pinned flux2 {listed}"


# Pins of a Flux with no wrapper chart that apply Flux's own manifests as they are: nothing
# migrates the objects the cluster stores first, so a CRD update dropping a stored version is
# rejected (fluxcd/flux2#3362, #5852). flux-operator migrates them itself (a FluxInstance is
# not one; Timoni's flux-aio module applies Flux's CRDs as they are); a CLI pin installs nothing.
MANIFEST_INSTALLS = frozenset(
    {
        Role.BOOTSTRAP,
        Role.KUSTOMIZE_REMOTE,
        Role.FLUX_MANIFESTS,
        Role.FLUX_GIT,
        Role.TIMONI,
        Role.TERRAFORM,
    }
)


def manifest_installs(found: Discovery) -> list[PinSite]:
    """Without a chart, the release pins that install Flux's own manifests (none with one)."""
    if not found.component.outside_charts:
        return []
    return [s for s in found.release_pins if s.role in MANIFEST_INSTALLS]


def pin_files(found: Discovery) -> list[str]:
    """The files whose history says which releases the clusters ran: the wrapper chart, what
    installs its upstream at boot, the cloud-init templates and, without a chart, the files
    of the pins that apply Flux's manifests."""
    installs = (s.file for s in (*found.installs, *manifest_installs(found)))
    return sorted({*_chart_files(found), *installs, *found.templates})


def _chart_files(found: Discovery) -> set[str]:
    """The files pinning the upstream chart: the wrapper's (none: the upstream's own pins) and
    what installs it at boot before the wrapper takes it over."""
    own = {s.file for s in found.direct} if found.component.direct else {found.wrapper.file}
    return own | {s.file for s in found.adopted}


def pinned_charts(
    past: Iterable[SourceFile], found: Discovery, charts_of_release: Callable[[str], list[str]]
) -> tuple[list[str], dict[str, str]]:
    """Chart versions pinned in ``past`` versions of the pin files, and those only files
    deleted since pinned, each with the first such file.

    The wrapper's dependency names the chart; a cloud-init install names a Flux release,
    mapped to its charts by ``charts_of_release`` (normalised release -> chart versions).
    """
    component = found.component
    charts: set[str] = set()
    gone: dict[str, str] = {}
    chart_files = _chart_files(found)
    today = set(pin_files(found))
    manifests: dict[str, list[PinSite]] = {}
    for site in manifest_installs(found):
        manifests.setdefault(site.file, []).append(site)
    for source in past:
        if source.rel not in today:  # a deleted install (``MovedInstall``)
            pinned, releases = _gone_pins(source, found)
            for chart in [*pinned, *(c for r in releases for c in charts_of_release(r))]:
                gone.setdefault(chart, source.rel)
            continue
        if source.rel in chart_files:
            charts.update(
                versions.normalize(d.value)
                for d in _past_pins(source, found)
                if d.subject == component.upstream and versions.is_pin(d.value)
            )
        if component.install_pattern is not None and may_install(source.raw):
            sites, _ = find_install_pins(source, component.install_pattern, component.name)
            for site in sites:
                if versions.is_pin(site.value):
                    charts.update(charts_of_release(versions.normalize(site.value)))
        for release in _past_template_releases(source, found):
            charts.update(charts_of_release(release))
        for release in _past_releases(source, manifests.get(source.rel, [])):
            charts.update(charts_of_release(release))
    deleted = {chart: rel for chart, rel in gone.items() if chart not in charts}
    return sorted(charts | gone.keys(), key=versions.sort_key), deleted


@dataclass(frozen=True)
class MovedInstall:
    """Which deleted files are read as pin files too (``vcs.git.DeletedPins``): those a
    commit that added a pin file deleted (it moved the install: a cloud-init template
    rewritten elsewhere, a kustomize install of Flux's manifests replaced by a HelmRelease)
    and those deleted since, on their own or by a merge; the clusters ran what the deleted
    file pinned, whatever today's layout."""

    found: Discovery

    def candidates(self, rels: Sequence[str]) -> list[str]:
        """Those of ``rels`` of a pin-file kind (the configured globs); any YAML file may hold
        a HelmRelease, so the kinds that name an install come first."""
        roles = classify(rels, self.found.config)
        return list(dict.fromkeys([*roles.cloudinit, *roles.charts, *roles.release_pins,
                                   *roles.clusters]))  # fmt: skip

    def pinned(self, source: SourceFile) -> bool:
        """Whether this version of it pinned the upstream chart or installed a Flux release."""
        needle = self.found.component.upstream.encode()
        if needle not in source.raw and _NAMES_FLUX_PIN.search(source.raw) is None:
            return False  # (no parse: a deleted file is most often no pin at all)
        return any(_gone_pins(source, self.found))


# What every pin ``_gone_pins`` reads spells out (the install URLs and kustomize remotes name
# fluxcd/flux2): a test on the bytes that spares parsing the others.
_NAMES_FLUX_PIN = re.compile(rb"flux2|flux-manifests|Flux Version|flux_bootstrap_git|flux_install")


def _gone_pins(source: SourceFile, found: Discovery) -> tuple[set[str], set[str]]:
    """The upstream chart versions and the Flux releases a file no pin of today stands in
    pinned, whatever today's layout: a wrapper's dependency, a HelmRelease or OCI tag of the
    chart, a cloud-init install, or a pin that applies Flux's own manifests."""
    from fluxbump.errors import FluxbumpError

    upstream = found.component.upstream
    try:
        chart_pins = _gone_chart_pins(source, upstream)
        read = [s for kind in RELEASE_PIN_KINDS for s in kind(source)]
        if source.rel.endswith((".yaml", ".yml")):
            read += find_flux_manifests(source)
        pattern = found.component.install_pattern
        if pattern is not None and may_install(source.raw):
            read += find_install_pins(source, pattern, found.component.name)[0]
    except FluxbumpError:
        return set(), set()  # a past version that did not parse pinned nothing we can read
    installs = MANIFEST_INSTALLS | {Role.INSTALL}
    releases = [s.value for s in read if s.role in installs]
    return _exact(p.value for p in chart_pins), _exact(releases)


def _gone_chart_pins(source: SourceFile, upstream: str) -> list[PinSite]:
    """The upstream chart's pins in a deleted file: a Chart.yaml's dependency on it, else
    the HelmReleases (and OCI tags) of it."""
    if source.rel.endswith("Chart.yaml"):
        chart = parse_chart(source)
        return [d for d in chart.dependencies if d.subject == upstream] if chart else []
    if not source.rel.endswith((".yaml", ".yml")):
        return []
    manifest = scan_manifest(source, frozenset({upstream}))
    tags = [r.tag for r in manifest.oci_repositories if r.tag is not None]
    return [s for s in (*manifest.sites, *tags) if s.subject == upstream]


def _exact(values: Iterable[str]) -> set[str]:
    return {versions.normalize(v) for v in values if versions.is_pin(v)}


def _past_template_releases(source: SourceFile, found: Discovery) -> set[str]:
    """The releases a past version of a ``.tf`` file passed a cloud-init template through
    ``templatefile()`` (``scan/sites/templatefile.py``): where today's install pins stand."""
    templates = set(found.templates)
    releases = set()
    for site in found.installs:
        now = found.sources.get(site.file)
        if site.file != source.rel or site.file in templates or now is None:
            continue
        past = (p.value for p in literals_like(site, now, source))
        releases |= {versions.normalize(v) for v in past if versions.is_pin(v)}
    return releases


def _past_releases(source: SourceFile, today: list[PinSite]) -> set[str]:
    """The releases a past version of a file installed by Flux's own manifests: the pins of
    ``today``'s (its pins now) kinds, roles and owners there, read as the scan reads them
    (``moved.release_pins_like``: a kustomize remote, a flux-manifests tag, a Terraform
    literal or the default, ``.tfvars`` value or module argument of its variable)."""
    from fluxbump.errors import FluxbumpError
    from fluxbump.scan.moved import release_pins_like

    releases: set[str] = set()
    for site in today:
        try:
            then = release_pins_like(site, source)
        except FluxbumpError:
            continue  # a past version that did not parse pinned nothing we can read
        releases |= {versions.normalize(p.value) for p in then if versions.is_pin(p.value)}
    return releases


def _past_pins(source: SourceFile, found: Discovery) -> list[PinSite]:
    """The upstream pins of a past version of a pin file, read as the survey read today's
    pins of that file (``moved.pins_like``, by their roles): the wrapper's dependencies; no
    wrapper, the HelmReleases of the upstream chart, a Terraform ``helm_release``, a script's
    ``helm install``, the HelmCharts a cloud-init template writes; a wrapper's boot installs."""
    from fluxbump.errors import FluxbumpError
    from fluxbump.scan.moved import pins_like

    today = [s for s in (*found.upstream_pins(), *found.adopted) if s.file == source.rel]
    passed = [s for s in today if is_passed_chart(s)]
    roles = {s.role for s in today if s not in passed}
    try:
        if today:
            read = [p for role in roles for p in pins_like(found, role, source)]
            return read + _passed_then(passed, found, source)
        chart = parse_chart(source)  # the wrapper's Chart.yaml (its pins may be gone today)
    except FluxbumpError:
        return []  # a past version that did not parse pinned nothing we can read
    return chart.dependencies if chart is not None and not found.component.direct else []


def _passed_then(passed: list[PinSite], found: Discovery, source: SourceFile) -> list[PinSite]:
    """The literals a past version of a Terraform file passed as the versions of HelmCharts a
    template writes (``templatefile.follow_written``): a chart k3s installed then."""
    now = found.sources.get(source.rel)
    if now is None:
        return []
    return [replace(p, subject=s.subject) for s in passed for p in literals_like(s, now, source)]


def stored_versions(facts: Mapping[str, Mapping[str, CrdVersions]]) -> dict[tuple[str, str], str]:
    """(CRD, API version) -> the first chart (of ``facts``, chart -> CRDs) that stored it."""
    stored: dict[tuple[str, str], str] = {}
    for chart in sorted(facts, key=versions.sort_key):
        for name, crd in facts[chart].items():
            if crd.storage:
                stored.setdefault((name, crd.storage), chart)
    return stored


class ChartsOfRelease(Protocol):
    """Flux release -> the chart versions carrying it, or standing in for it
    (``guard.charts_of_release``)."""

    def __call__(self, release: str) -> list[str]: ...

    def stood_in(self) -> dict[str, str]:
        """Each chart returned only standing in for releases no chart carries: those."""
        ...


def pin_history(
    found: Discovery, past: tuple[list[SourceFile], int, bool], charts_of_release: ChartsOfRelease
) -> PinHistory:
    """The history of the pin files (``vcs.git.past_versions``) as the charts they pinned."""
    sources, commits, bounded = past
    charts, deleted = pinned_charts(sources, found, charts_of_release)
    stood_in = tuple(charts_of_release.stood_in().items())
    return PinHistory(tuple(charts), commits, bounded, stood_in, tuple(deleted.items()))
