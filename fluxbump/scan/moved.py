"""Which source pins moved since the base revision: how ``sync`` knows what Renovate bumped.

A component's source pins are its cloud-init install pins, its wrapper's dependency pin and
its values mirror. Each is compared with the same pin in the file as it was at the base
revision (the n-th pin of that role and chart in that file); the one that differs is the
source of truth. Pins of one component moved to different targets are a conflict: no guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fluxbump import versions
from fluxbump.errors import FluxbumpError, UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.scan.discover import BOOT_ROLES, Discovery
from fluxbump.scan.sites.ansible import is_task_pin, task_pins_like
from fluxbump.scan.sites.templatefile import is_passed_chart
from fluxbump.scan.sites.terraform import followed_variable
from fluxbump.scan.sources import SourceFile
from fluxbump.scan.substitution import substituted_like

# Reads a file as it was at the base revision (None: absent there, or no git).
BaseSources = Callable[[str], SourceFile | None]


@dataclass(frozen=True)
class MovedPin:
    site: PinSite
    was: str

    def describe(self) -> str:
        return f"{self.site.where} ({self.site.role.value}) {self.was} -> {self.site.value}"


def moved_pins(found: Discovery, base: BaseSources) -> list[MovedPin]:
    """The component's source pins whose value differs from the base revision."""
    moved = []
    outside = found.component.outside_charts  # Flux pinned only outside charts: those pins
    sources = (
        [p for p in found.release_pins if versions.is_pin(p.value)]
        if outside
        else found.sources_of_truth()
    )
    for site in sources:
        was = release_pin_at_base(site, base) if outside else _base_value(found, site, base)
        if was is not None and not versions.equal(was, site.value):
            moved.append(MovedPin(site, was))
    return moved


def refuse_disagreement(found: Discovery, moved: list[MovedPin], targets: list[str]) -> None:
    """Pins of one component moved to different targets (``targets[i]`` is where
    ``moved[i]`` leads: a Flux release, or a chart version): exit 2, nothing written."""
    if len({versions.normalize(t) for t in targets}) > 1:
        listed = "; ".join(_leads(m, t) for m, t in zip(moved, targets, strict=True))
        raise UsageError(
            f"{found.component.name}: pins moved to different versions since the base "
            f"revision: {listed}; make them agree, or name the source with --from"
        )


def _leads(moved: MovedPin, target: str) -> str:
    if versions.equal(moved.site.value, target):
        return moved.describe()
    return f"{moved.describe()} (Flux {versions.normalize(target)})"


def _base_value(found: Discovery, site: PinSite, base: BaseSources) -> str | None:
    """The same pin (n-th of its role and chart in the file) at the base revision."""

    if followed_variable(site) is not None:  # a variable's default or a module argument
        return release_pin_at_base(site, base)
    if is_task_pin(site):  # an Ansible task's, or the role variable it names
        return _task_value_at_base(site, base)
    # (a HelmChart's version a .tf file passes the template that writes it: one such literal)
    templated = (site.role is Role.INSTALL and site.file not in found.templates) or (
        is_passed_chart(site)
    )
    if templated and not found.component.operator:  # (an operator's script: read below)
        return _templatefile_at_base(found, site, base)
    source = base(site.file)
    if source is None:
        return None
    substituted = substituted_like(site, source)  # a Kustomization's postBuild value
    if found.component.operator and substituted is not None:
        at = base_ordinal(site, substituted)
        return substituted[at].value if at is not None else None
    try:
        then = pins_like(found, site.role, source)
    except FluxbumpError:
        return None  # unreadable at the base: nothing to compare with
    now = [
        s
        for s in found.sources_of_truth()
        if s.file == site.file and s.role == site.role and followed_variable(s) is None
    ]  # (a variable's value beside: compared above, and ``pins_like`` leaves it out)
    ordinal = [(s.start, s.end) for s in now].index((site.start, site.end))
    return then[ordinal].value if ordinal < len(then) else None


def _task_value_at_base(site: PinSite, base: BaseSources) -> str | None:
    """An Ansible Helm task's pin at the base revision (its role's files read there too)."""
    source = base(site.file)
    if source is None:
        return None
    try:
        then = task_pins_like(site, source, base)
    except FluxbumpError:
        return None  # unreadable at the base: nothing to compare with
    at = base_ordinal(site, then)
    return then[at].value if at is not None else None


def _templatefile_at_base(found: Discovery, site: PinSite, base: BaseSources) -> str | None:
    """A literal a ``templatefile()`` call passes a template (or the default, ``.tfvars``
    value or module argument of the ``var.X`` it passes) at the base revision."""
    from fluxbump.scan.sites.templatefile import literals_like

    now, source = found.sources.get(site.file), base(site.file)
    if now is None or source is None:
        return None
    then = literals_like(site, now, source)
    at = base_ordinal(site, then)
    return then[at].value if at is not None else None


def pins_like(found: Discovery, role: Role, source: SourceFile) -> list[PinSite]:
    """Re-read a source file with the parser that found pins of ``role`` in it."""
    from fluxbump.scan.sites.chart import parse_chart
    from fluxbump.scan.sites.cloudinit import find_install_pins, helm_install_pins
    from fluxbump.scan.sites.values import find_mirrors

    component = found.component
    # The upstream chart's own pins: a wrapper-less component's, or a wrapper's boot installs.
    chart_pin = component.direct or role in BOOT_ROLES
    if component.operator:  # every exact pin of the chart is a source (``sources_of_truth``)
        return _operator_pins_like(component.upstream, role, source)
    if role is Role.INSTALL and component.install_pattern is not None:
        return find_install_pins(source, component.install_pattern, component.name)[0]
    if role is Role.INSTALL or (chart_pin and role is Role.HELM_COMMAND):
        return [s for s in helm_install_pins(source) if s.subject == component.upstream]
    if role is Role.MIRROR:
        mirrors = find_mirrors(source, found.config.values_mirror, component.wrapper)
        return [m for m in mirrors if m.subject == component.upstream]
    if chart_pin and role is Role.TERRAFORM_HELM:  # what installs it outside
        from fluxbump.scan.sites.terraform import find_chart_releases, variable_of

        # Literals only: a ``var.NAME`` release is compared where its variable is set.
        found_here = find_chart_releases(source, frozenset({component.upstream}))
        return [s for s in found_here if variable_of(s) is None]
    if chart_pin and source.rel in found.templates:  # a HelmChart it writes for k3s
        from fluxbump.scan.sites.writefiles import template_pins

        written = template_pins(source, frozenset({component.upstream})).sites
        return [s for s in written if s.role is role]
    if chart_pin:  # the HelmReleases (or OCI tags) of a wrapper-less chart, or a HelmChart
        from fluxbump.scan.sites.helmrelease import scan_manifest

        manifest = scan_manifest(source, frozenset({component.upstream}))
        tags = [r.tag for r in manifest.oci_repositories if r.tag is not None]
        return [s for s in (*manifest.sites, *tags) if s.role is role]
    chart = parse_chart(source)
    deps = chart.dependencies if chart is not None else []
    return [d for d in deps if d.subject == component.upstream]


def _operator_pins_like(chart: str, role: Role, source: SourceFile) -> list[PinSite]:
    """An operator chart's exact pins of ``role`` in ``source``, a Flux object's
    ``${VAR:-X}`` read as X where nothing here sets VAR, as the survey reads it
    (``settled_release_pins``)."""
    from fluxbump.scan.sites.operator import find_operator_charts, substituted_by_flux
    from fluxbump.scan.substitution import default_site

    pins = [
        (default_site(s, source.text) if substituted_by_flux(s) else None) or s
        for s in find_operator_charts(source)
        if (s.subject, s.role) == (chart, role)
    ]
    return [s for s in pins if versions.is_pin(s.value)]


def release_pin_at_base(site: PinSite, base: BaseSources) -> str | None:
    """A Flux CLI / Terraform / FluxInstance pin's value at the base revision: the n-th pin
    of its role and owner in the file, re-read by the kind that found it (None: not there)."""
    source = base(site.file)
    if source is None:
        return None
    try:
        then = release_pins_like(site, source)
    except FluxbumpError:
        return None  # unreadable at the base: nothing to compare with
    now = base_ordinal(site, then)
    return then[now].value if now is not None else None


def release_pins_like(site: PinSite, source: SourceFile) -> list[PinSite]:
    """The pins of ``site``'s role and owner in ``source`` (another revision of its file),
    re-read by the kind that found it; a ``FluxbumpError`` when that revision cannot be read."""
    from fluxbump.scan.discover import RELEASE_PIN_KINDS
    from fluxbump.scan.sites.fluxinstance import find_flux_instance
    from fluxbump.scan.sites.fluxmanifests import find_flux_manifests
    from fluxbump.scan.sites.terraform import setters_like
    from fluxbump.scan.substitution import default_site
    from fluxbump.scan.valuesfrom import is_followed, version_like

    # FluxInstances and flux-manifests OCIRepositories are read from cluster YAML only:
    # other kinds' files may not be YAML.
    cluster = {Role.INSTANCE: find_flux_instance, Role.FLUX_MANIFESTS: find_flux_manifests,
               Role.FLUX_GIT: find_flux_manifests}  # fmt: skip
    kinds = (cluster[site.role],) if site.role in cluster else RELEASE_PIN_KINDS
    variable = followed_variable(site)
    if is_followed(site):  # a values file a flux-instance release's valuesFrom is made of
        return version_like(site, source)
    if variable is not None:  # a default, tfvars value or module argument: read as one
        return setters_like(source, site, variable)
    substituted = substituted_like(site, source)  # a Kustomization's postBuild value
    if substituted is not None:
        return substituted
    read = [default_site(s, source.text) or s for kind in kinds for s in kind(source)]
    return [s for s in read if (s.role, s.owner) == (site.role, site.owner)]


def base_ordinal(site: PinSite, then: list[PinSite]) -> int | None:
    """Which of ``then`` stands where ``site`` stands: the only one, or the one on its line."""
    if len(then) == 1:
        return 0
    return next((i for i, s in enumerate(then) if s.line == site.line), None)
