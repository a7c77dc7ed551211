"""flux-operator's own charts: every pin of the ``flux-operator`` and ``flux-instance`` charts.

The operator and the instance chart are published as OCI artifacts under
``oci://ghcr.io/controlplaneio-fluxcd/charts/`` and pinned wherever they are installed:

* in the cluster, an ``OCIRepository`` of the chart (``spec.ref.tag``, or a
  ``spec.ref.semver`` range) that a HelmRelease's ``chartRef`` names, or a HelmRelease of the
  chart by name (``spec.chart.spec.version``, from a HelmRepository or OCI source of it);
* in a FluxInstance (or the flux-instance chart's values), ``distribution.artifact`` at a tag
  (``oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v0.58.1``): the Flux
  distributions the operator of that release knows, published with each operator release
  under its version (Renovate configurations group it with both charts);
* before Flux runs, by a bootstrap tool: a helmfile release (``chart: …/flux-operator`` with
  ``version:``), a cloud-init or shell ``helm install … flux-operator … --version X``, a
  Terraform ``helm_release`` (``chart = "flux-operator"``, ``version = "…"``), or the
  operator's own release manifest (``…/releases/download/vX.Y.Z/install.yaml``) a line applies.

Each is a pin of that chart's component (``components/operator.py``): they must agree. A
range (``ref.semver``) is admitted, never rewritten. Found by content, with no configuration.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, unpinned, yaml_site
from fluxbump.scan.sites import helmfile, kustomizehelm, object_name, resourceset
from fluxbump.scan.sites.cloudinit import helm_commands, script_helm_commands
from fluxbump.scan.sites.terraform import block_pins, chart_name
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

CHARTS = ("flux-operator", "flux-instance")
# The chart's OCI repository path; any host serves it (ghcr.io, or a mirror of it).
_OCI_PATH = "controlplaneio-fluxcd/charts/"
# Any chart's name, as one search (a generator of ``in`` tests costs more: it runs on every file).
_NEEDLES = re.compile(b"|".join(re.escape(name.encode()) for name in CHARTS))
_OCI_URL = re.compile(
    r"oci://[^\s\"'`]*?/controlplaneio-fluxcd/charts/(?P<chart>flux-(?:operator|instance))\b"
)


# What ``may_hold_operator_chart`` needs one of.
NEEDED = tuple(name.encode() for name in CHARTS)


def may_hold_operator_chart(raw: bytes) -> bool:
    """The byte test run on every candidate file before any parse."""
    return _NEEDLES.search(raw) is not None


def find_operator_charts(source: SourceFile) -> list[PinSite]:
    """The operator charts' pins in one file, by its kind (told by its name), and the
    operator's release manifests it applies. A Terraform ``helm_release`` or a ``helm
    install`` with no version is an unpinned site (``pins.unpinned``): it installs the newest
    chart, so the survey makes it a problem."""
    if not may_hold_operator_chart(source.raw):
        return []
    manifests = release_manifests(source) + manifests_artifacts(source)
    charts = _chart_pins(source)
    return sorted([*charts, *manifests], key=lambda s: s.start) if manifests else charts


def manifest_url(group: str) -> str:
    """The release manifest's URL as a pattern, its version in ``(group…)``: ``?P<version>``
    here, ``?<currentValue>`` in Renovate's manager (commands/renovate_lines.py), so that both
    read the same URLs."""
    return (
        r"(?:https?://)?github\.com/controlplaneio-fluxcd/flux-operator/releases/download/"
        rf"({group}v?[0-9]+\.[0-9]+\.[0-9]+(?:-[\w.]+)?)/install\.yaml"
    )


# flux-operator's own release manifest, ``…/flux-operator/releases/download/v0.33.0/
# install.yaml`` (its install guide's ``kubectl apply -f``, or a kustomization's remote
# resource): the operator of that release, which the chart of the same version deploys (each
# chart's ``appVersion`` is ``v`` and its version). ``releases/latest/download`` pins nothing.
# Its scheme is part of it: no ``/`` comes before it (``…/https://github.com/…`` is no URL of it).
_MANIFEST = re.compile(
    rf"(?<![\w./-]){manifest_url('?P<version>')}(?![\w.-])",
    re.ASCII,  # (words as RE2 and JavaScript read them, as Renovate's manager does)
)
# What precedes the URL on its line says whether the line fetches or keeps it: a command given
# it, a list entry (``resources:``), a key or variable set to it (``url = …``,
# ``MANIFEST=…``); not a comment, nor a command printing it (``echo "apply …"``; a line that
# prints something after fetching it still fetches it). Renovate's regex manager reads the
# same rule (commands/renovate_lines.py), so both find the same pins.
FETCH_WORDS = ("kubectl", "kustomize", "curl", "wget", "fetchurl")
PRINT_WORDS = ("echo", "printf")
_FETCHES = re.compile(
    rf"\b(?:{'|'.join(FETCH_WORDS)})\b|^[ \t]*-[ \t]|^[ \t]*[\w.\"-]+[ \t]*[:=]", re.ASCII
)
_NOT_FETCHING = re.compile(rf"^[ \t]*(?:#|//)|\b(?:{'|'.join(PRINT_WORDS)})\b", re.ASCII)
MANIFEST_OWNER = "flux-operator install.yaml asset"


def release_manifests(source: SourceFile) -> list[PinSite]:
    """Each versioned flux-operator release manifest a line of ``source`` applies."""
    sites = []
    for match in _MANIFEST.finditer(source.text):
        before = source.line_before(match.start())
        if _NOT_FETCHING.search(before) or not _FETCHES.search(before):
            continue
        at, version = match.start("version"), match.group("version")
        site = source.text_site(Role.KUSTOMIZE_REMOTE, at, version, CHARTS[0], MANIFEST_OWNER)
        sites.append(site)
    return sites


# What may follow the artifact's tag: no more of a tag, and no ``@`` (a digest after the tag,
# ``:v0.58.1@sha256:…``, decides the artifact whatever the tag says).
ARTIFACT_TAG_ENDS = r"\w.@-"


def artifact_reference(group: str) -> str:
    """The distribution artifact at a release's tag as a pattern (``:latest`` names no
    release), the tag in ``(group…)``: ``?P<version>`` here, ``?<currentValue>`` in Renovate's
    manager (commands/renovate_lines.py), so that both read the same references."""
    return (  # (a quote unescaped: JavaScript's unicode-mode regexes refuse ``\\"``)
        r"""oci://[^\s"'`]*?/controlplaneio-fluxcd/flux-operator-manifests:"""
        rf"({group}v?[0-9]+\.[0-9]+\.[0-9]+(?:-[\w.]+)?)"
    )


_ARTIFACT = re.compile(
    rf"{artifact_reference('?P<version>')}(?![{ARTIFACT_TAG_ENDS}])",
    re.ASCII,  # (words as RE2 and JavaScript read them, as Renovate's manager does)
)
ARTIFACT_OWNER = "distribution artifact"
# A line that is a comment (Renovate's manager spells the same rule: renovate_lines.py).
_COMMENTED = re.compile(r"^[ \t]*(?:#|//)")


def manifests_artifacts(source: SourceFile) -> list[PinSite]:
    """Each flux-operator-manifests artifact a line of ``source`` names at a release's tag,
    outside comments: a pin of flux-operator's release, edited as text."""
    sites = []
    for match in _ARTIFACT.finditer(source.text):
        if _COMMENTED.search(source.line_before(match.start())) is None:
            at, version = match.start("version"), match.group("version")
            site = source.text_site(Role.OPERATOR_ARTIFACT, at, version, CHARTS[0], ARTIFACT_OWNER)
            sites.append(site)
    return sites


def _chart_pins(source: SourceFile) -> list[PinSite]:
    """The operator charts' pins in one file, by its kind."""
    if source.rel.endswith(".tf"):
        found = block_pins(source, "helm_release", chart_name, references=True, unversioned=True)
        return [s for s in found if s.subject in CHARTS]
    installs = [s for s in _helm_commands(source) if s.subject in CHARTS]
    if source.rel.endswith(".gotmpl"):
        templated = helmfile.template_releases(source, frozenset(CHARTS))
        return sorted([*templated, *installs], key=lambda s: s.start)
    if not source.rel.endswith((".yaml", ".yml")):
        return installs  # a shell script or a cloud-init template
    try:
        documents = blockyaml.compose_all(source.text, source.rel)
    except UsageError:  # a Go template (helmfile's .gotmpl) or not YAML: its helm commands
        return installs
    sites: list[PinSite] = []
    for index, root, at in resourceset.objects(documents):
        sites += resourceset.placed(_document_pins(source, index, root), at)
    return sorted([*sites, *installs], key=lambda s: s.start)


def _helm_commands(source: SourceFile) -> list[PinSite]:
    """Each ``helm install|upgrade`` pin, and each with no ``--version`` as a ``HELM_COMMAND``
    site (the role its problem is worded by, ``releases.pinned_releases``). A pin outside a
    cloud-init template (a Makefile, a shell script) is a script's."""
    cloud_init = source.rel.endswith(".tftpl") or source.text.startswith("#cloud-config")
    sites = helm_commands(source) if cloud_init else script_helm_commands(source)
    return [replace(s, role=Role.HELM_COMMAND) if unpinned(s) else s for s in sites]


def repository_of(text: str, chart: str) -> str | None:
    """The OCI repository (``oci://host/…/charts``) a text installs ``chart`` from."""
    for match in _OCI_URL.finditer(text):
        if match.group("chart") == chart:
            return match.group(0)[: match.start("chart") - match.start(0) - 1]
    return None


def _document_pins(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    if kind == "OCIRepository":
        return _oci_repository(source, index, root)
    if kind == "HelmRelease":
        return _helm_release(source, index, root)
    if kind is None and yamldoc.is_sequence(yamldoc.child(root, "releases")):
        return helmfile.releases(source, index, root, frozenset(CHARTS))
    if kustomizehelm.holds_charts(root, kind):  # kustomize build --enable-helm renders them
        return kustomizehelm.chart_pins(source, index, root, frozenset(CHARTS))
    return []


def _oci_repository(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    url = (yamldoc.text_of(yamldoc.walk(root, ("spec", "url"))) or "").rstrip("/")
    chart = url.rsplit("/", 1)[-1]
    if chart not in CHARTS or not url.startswith("oci://") or f"/{_OCI_PATH}{chart}" not in url:
        return []
    owner = f"OCIRepository {object_name(root)}"
    for key, role in (("tag", Role.OCI_TAG), ("semver", Role.OCI_SEMVER)):
        scalar = yamldoc.scalar_at(root, index, ("spec", "ref", key))
        if scalar is not None and scalar.value:
            return [yaml_site(role, source.rel, scalar, subject=chart, owner=owner)]
    return []


def substituted_by_flux(site: PinSite) -> bool:
    """Whether an operator chart's pin is a Flux object's (a HelmRelease's or
    OCIRepository's), which post-build substitution renders (``${VAR:-X}``: the value a
    Kustomization sets, else X); a script's or a helmfile's is theirs to expand."""
    return site.role in (Role.HELMRELEASE, Role.OCI_TAG)


def _helm_release(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    """A HelmRelease of the chart by name; one with ``chartRef`` is pinned by its source."""
    chart = yamldoc.text_of(yamldoc.walk(root, ("spec", "chart", "spec", "chart"))) or ""
    chart = chart.rstrip("/").rsplit("/", 1)[-1]
    scalar = yamldoc.scalar_at(root, index, ("spec", "chart", "spec", "version"))
    if chart not in CHARTS or scalar is None or not scalar.value:
        return []
    owner = f"HelmRelease {object_name(root)}"
    return [yaml_site(Role.HELMRELEASE, source.rel, scalar, subject=chart, owner=owner)]
