"""flux-operator's own charts: every pin of the ``flux-operator`` and ``flux-instance`` charts.

The operator and the instance chart are published as OCI artifacts under
``oci://ghcr.io/controlplaneio-fluxcd/charts/`` and pinned wherever they are installed:

* in the cluster, an ``OCIRepository`` of the chart (``spec.ref.tag``, or a
  ``spec.ref.semver`` range) that a HelmRelease's ``chartRef`` names, or a HelmRelease of the
  chart by name (``spec.chart.spec.version``, from a HelmRepository or OCI source of it);
* before Flux runs, by a bootstrap tool: a helmfile release (``chart: …/flux-operator`` with
  ``version:``), a cloud-init or shell ``helm install … flux-operator … --version X``, or a
  Terraform ``helm_release`` (``chart = "flux-operator"``, ``version = "…"``).

Each is a pin of that chart's component (``components/operator.py``): they must agree. A
range (``ref.semver``) is admitted, never rewritten. Found by content, with no configuration.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, unpinned, yaml_site
from fluxbump.scan.sites import resourceset
from fluxbump.scan.sites.cloudinit import helm_commands
from fluxbump.scan.sites.fluxinstance import object_name
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


def may_hold_operator_chart(raw: bytes) -> bool:
    """The byte test run on every candidate file before any parse."""
    return _NEEDLES.search(raw) is not None


def find_operator_charts(source: SourceFile) -> list[PinSite]:
    """The operator charts' pins in one file, by its kind (told by its name). A Terraform
    ``helm_release`` or a ``helm install`` with no version is an unpinned site
    (``pins.unpinned``): it installs the newest chart, so the survey makes it a problem."""
    if not may_hold_operator_chart(source.raw):
        return []
    if source.rel.endswith(".tf"):
        found = block_pins(source, "helm_release", chart_name, unversioned=True)
        return [s for s in found if s.subject in CHARTS]
    installs = [s for s in _helm_commands(source) if s.subject in CHARTS]
    if source.rel.endswith(".gotmpl"):
        return sorted([*_helmfile_template(source), *installs], key=lambda s: s.start)
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
    sites = helm_commands(source)
    if not (source.rel.endswith(".tftpl") or source.text.startswith("#cloud-config")):
        sites = [s if unpinned(s) else replace(s, owner="script") for s in sites]
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
        return _helmfile(source, index, root)
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


def _helm_release(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    """A HelmRelease of the chart by name; one with ``chartRef`` is pinned by its source."""
    chart = yamldoc.text_of(yamldoc.walk(root, ("spec", "chart", "spec", "chart"))) or ""
    chart = chart.rstrip("/").rsplit("/", 1)[-1]
    scalar = yamldoc.scalar_at(root, index, ("spec", "chart", "spec", "version"))
    if chart not in CHARTS or scalar is None or not scalar.value:
        return []
    owner = f"HelmRelease {object_name(root)}"
    return [yaml_site(Role.HELMRELEASE, source.rel, scalar, subject=chart, owner=owner)]


def _helmfile(
    source: SourceFile, index: int, root: Any, template: str | None = None
) -> list[PinSite]:
    """helmfile ``releases:`` entries of the charts (``repo/flux-operator`` or an OCI URL).
    ``template``: the Go template text ``root`` was read from with its actions blanked; a
    version written as an action is then its text."""
    sites = []
    for position, release in yamldoc.items(yamldoc.child(root, "releases")):
        chart = (yamldoc.text_of(yamldoc.child(release, "chart")) or "").strip().rstrip("/")
        name = chart.rsplit("/", 1)[-1]
        path = ("releases", position, "version")
        scalar = yamldoc.scalar_at(root, index, path)
        if template is not None and scalar is not None:
            scalar = _as_written(scalar, template, _key_end(release, "version"))
        if "/" not in chart or name not in CHARTS or scalar is None or not scalar.value:
            continue
        owner = f"helmfile release {yamldoc.text_of(yamldoc.child(release, 'name')) or name}"
        sites.append(yaml_site(Role.HELMFILE, source.rel, scalar, subject=name, owner=owner))
    return sites


# A Go template action (``{{ … }}``, ``{{- … -}}``), possibly over several lines.
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _helmfile_template(source: SourceFile) -> list[PinSite]:
    """The chart pins of a helmfile Go template (``helmfile.yaml.gotmpl``): its YAML read
    with every ``{{ … }}`` blanked to spaces (newlines kept, so every offset and line is the
    file's own). A literal ``version:`` is a pin, edited as text (never re-parsed as YAML); a
    version that is or holds a template action stays as written, an unproven site."""
    blanked = _ACTION.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source.text)
    try:
        documents = blockyaml.compose_all(blanked, source.rel)
    except UsageError:  # not YAML even without its actions: its helm commands only
        return []
    sites = []
    for index, root in enumerate(documents):
        if yamldoc.is_sequence(yamldoc.child(root, "releases")):
            sites += _helmfile(source, index, root, source.text)
    return [_text_site(s, source.text) for s in sites]


def _text_site(site: PinSite, text: str) -> PinSite:
    """A YAML site as a text one (spliced, not re-parsed): it spans the characters between
    a quoted scalar's quotes, as every text site does, so the quotes stay."""
    quoted = text[site.start] in "\"'" and text[site.end - 1] == text[site.start]
    start, end = (site.start + 1, site.end - 1) if quoted else (site.start, site.end)
    column = site.column + 1 if quoted else site.column
    return replace(site, start=start, end=end, column=column, doc_index=None, path=())


def _key_end(mapping: Any, key: str) -> int | None:
    """Where the text of ``key`` in a block mapping ends (its value follows on that line)."""
    for name, _ in mapping.value:
        if getattr(name, "value", None) == key:
            return int(name.end_mark.index)
    return None


def _as_written(scalar: yamldoc.Scalar, template: str, key_end: int | None) -> yamldoc.Scalar:
    """A scalar read from a blanked template, with the value the template holds there: a
    blank one (an action, nothing else) is the action's text on the key's line."""
    written = template[scalar.start : scalar.end]
    if "{{" in written:
        return replace(scalar, value=written.strip().strip("\"'"))
    if scalar.value.strip() or key_end is None:
        return scalar
    line_end = template.find("\n", key_end)
    rest = template[key_end : len(template) if line_end < 0 else line_end]
    action = _ACTION.search(rest)
    if action is None:
        return scalar
    start = key_end + action.start()
    return replace(scalar, value=action.group(0), start=start, end=start + len(action.group(0)))
