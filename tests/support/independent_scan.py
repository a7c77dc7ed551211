"""An oracle for the real-repository tests that shares no code with fluxbump.

It walks a snapshot with ``os.walk`` and reads YAML with ruamel.yaml's safe loader, and lists
the facts a correct tool must report: every HelmRelease (file, name, chart, version), every
``Chart.yaml`` dependency pin, and which charts depend on the community ``flux2`` chart. Its
rules are Helm's and Flux's, written from their documentation, not from fluxbump's code:
files under a chart's ``templates/`` are Go templates, not manifests; a HelmRelease names its
chart in ``spec.chart.spec`` or through ``spec.chartRef`` to an ``OCIRepository`` (whose tag is
the version); a dependency whose ``repository`` is a URL other than ``file://`` is an upstream
chart, whatever its name, unless it names a chart of this repository that no chart takes by
path (the repository's own chart, as published); one with no ``repository`` is the chart's own
copy in its ``charts/`` directory (Helm's resolver: a "local chart subfolder"). flux-operator's two charts (``flux-operator``, ``flux-instance``, OCI
artifacts under ``ghcr.io/controlplaneio-fluxcd/charts``) are pinned by an OCIRepository of that
URL (``ref.tag`` or ``ref.semver``, as Flux's OCIRepository documents), a HelmRelease naming
the chart (``spec.chart.spec.version``), or a helmfile ``releases:`` entry (``chart`` ending in
the chart's name, ``version``, as helmfile documents). The Flux release itself is pinned by
the header ``flux install --export`` writes atop a ``flux bootstrap`` ``gotk-components.yaml``
(``# Flux Version: vX.Y.Z``), by a ``FluxInstance``'s ``spec.distribution.version`` (or the
``instance.distribution.version`` value of a HelmRelease of the ``flux-instance`` chart, the
chart's default ``2.x`` when its values leave it out and no ``valuesFrom`` may set it), and
by the Flux CLI a ``mise.toml`` installs (under ``[tools]``, ``flux2`` or a backend of the
``fluxcd/flux2`` releases: ``aqua:``, ``github:``, ``ubi:``, or the asdf plugin
``asdf:tablexi/asdf-flux2``, as mise's registry lists them), by a ``kustomization.yaml`` entry
(``resources``, ``components``, ``bases``) that kustomize fetches from the ``fluxcd/flux2``
repository at a ref (a git URL of its ``manifests/`` tree, the ref in the ``ref`` query
parameter, else ``version``, as kustomize's remoteBuild.md documents) or from a release's
``install.yaml`` asset, by an ``OCIRepository`` of Flux's ``flux-manifests`` artifact
(``ref.semver``, else ``ref.tag``; with a ``ref.digest`` neither is what Flux pulls), by a
``GitRepository`` of Flux's own repository ``github.com/fluxcd/flux2`` (``ref.semver``, else
``ref.tag``; Flux's GitRepository documents that ``ref.commit`` and ``ref.name`` take precedence),
by a Dockerfile ``FROM`` of the Flux CLI's image (``fluxcd/flux-cli:<tag>``),
and by a command in a shell script, Taskfile or Makefile that gives ``kubectl`` or ``kustomize``
one of those remote URLs (``kubectl apply -k URL``: kubectl builds it with kustomize); the exact
ones must all name one release; so does the Flux CLI an Ansible role or inventory downloads
(a string of a ``defaults/``, ``vars/``, ``tasks/`` or ``group_vars/`` YAML file whose URL is a
``flux_<version>_…`` asset of a fluxcd/flux2 release: the release in its path, or, when that is
a Jinja ``{{ NAME }}``, the value the same file's top-level key NAME holds, else the role's
``vars/main.yml`` or ``defaults/main.yml``; the URL's prefix may be such a variable too). With no chart wrapping ``flux2``, Terraform's Helm provider may
install the community chart itself: a ``resource "helm_release"`` whose ``chart`` is ``flux2``
(or a URL ending in it) pins that chart by its ``version`` argument, a string, or ``var.NAME``,
whose values are what Terraform's documentation lists for an input variable of the module (the
block's directory): the ``default`` of its ``variable`` block, a ``*.tfvars`` assignment, and the
argument NAME of each ``module`` block whose ``source`` is a local path (``./``, ``../``) to that
directory; those chart pins must name one chart version. So may an Ansible role's
``kubernetes.core.helm`` task whose ``chart_ref`` is ``flux2`` (its ``chart_version``, or the
role variable ``{{ NAME }}`` it names, from the role's vars/main.yml, else defaults/main.yml,
as Ansible's role variable precedence documents); the Flux release pins must then name the
release that chart version carries in the fluxcd-community index. A GitHub workflow step that
``uses: fluxcd/flux2/action@…`` installs the CLI its ``with.version`` names, or with none the
latest release (its action.yml: "defaults to latest stable release"), kind "cli"; a version
written as a ``${{ … }}`` expression is not read here. A Terraform ``helm_release`` of flux2
with no ``version`` argument installs the newest chart (``unversioned_charts``). A Dev
Container (``devcontainer.json``, JSON with comments, as the Dev Container specification
allows) installs the CLI by a feature whose id ends in ``flux``, ``flux2`` or ``fluxcd`` (the
published Flux CLI features: jsburckhardt's, goldsam's, moenzuel's), at its ``version`` option,
whose documented default is ``latest``: kind "cli". So is the CLI's image another YAML file
names (a string ``[registry/]fluxcd/flux-cli:<tag>``, or a mapping whose ``repository`` is that
image and whose ``tag`` is the pin), and the release asset a multi-line string (a workflow's
``run:`` script) downloads, its release a shell variable read as the literal the script assigns.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

FLUX_UPSTREAM = "flux2"
FLUX_REPOSITORY = "https://fluxcd-community.github.io/helm-charts"
OPERATOR_CHARTS = ("flux-operator", "flux-instance")
OPERATOR_OCI = "/controlplaneio-fluxcd/charts/"
# The flux-instance chart's values.yaml: ``instance.distribution.version: "2.x"``.
FLUX_INSTANCE_DEFAULT = "2.x"


@dataclass(frozen=True)
class OperatorPin:
    """A version (or range) of one of flux-operator's charts."""

    file: str
    chart: str
    version: str


@dataclass(frozen=True)
class FluxPin:
    """A pin of the Flux release itself: ``kind`` is "instance", "manifests" (the flux-manifests
    artifact), "git" (a GitRepository of fluxcd/flux2), "bootstrap", "kustomize" (a remote flux2
    resource, in a kustomization or a command) or "cli"."""

    file: str
    kind: str
    version: str

    @property
    def exact(self) -> bool:
        return _EXACT.fullmatch(self.version) is not None


_EXACT = re.compile(r"v?\d+\.\d+\.\d+")
_HEADER = re.compile(r"^# Flux [Vv]ersion: (\S+)$", re.MULTILINE)  # lowercase before 0.22
_MISE_FLUX = (
    "flux2", "aqua:fluxcd/flux2", "github:fluxcd/flux2", "ubi:fluxcd/flux2",
    "asdf:tablexi/asdf-flux2",
)  # fmt: skip
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class TerraformChart:
    """A version of the community flux2 chart a Terraform helm_release installs."""

    file: str
    version: str


@dataclass(frozen=True)
class Release:
    """A HelmRelease and the chart version it deploys (None: a range or no version)."""

    file: str
    name: str
    chart: str
    version: str | None


@dataclass(frozen=True)
class DependencyPin:
    """One ``dependencies:`` entry of a ``Chart.yaml``."""

    file: str
    chart: str  # the chart that declares it
    dependency: str
    version: str
    repository: str

    @property
    def upstream(self) -> bool:
        """From a chart repository (http(s) or oci), not a chart of this repository."""
        return self.repository.startswith(("http://", "https://", "oci://"))


@dataclass
class Facts:
    """What a correct tool must report about one repository."""

    releases: list[Release] = field(default_factory=list)
    pins: list[DependencyPin] = field(default_factory=list)
    charts: dict[str, list[str]] = field(default_factory=dict)  # name -> its Chart.yaml files
    versions: dict[str, str] = field(default_factory=dict)  # Chart.yaml file -> its version
    unreadable: list[str] = field(default_factory=list)
    operator_pins: list[OperatorPin] = field(default_factory=list)
    flux_pins: list[FluxPin] = field(default_factory=list)
    # the flux2 chart versions Terraform helm_release blocks install, in walk order
    terraform_charts: list[TerraformChart] = field(default_factory=list)
    # the files of Terraform helm_release blocks of flux2 with no version (the newest chart)
    unversioned_charts: list[str] = field(default_factory=list)
    # the same of flux-operator's charts (whatever else pins Flux), their version ""
    unversioned_operator_charts: list[OperatorPin] = field(default_factory=list)
    # the flux2 chart versions Ansible kubernetes.core.helm tasks install
    ansible_charts: list[TerraformChart] = field(default_factory=list)
    # flux-instance HelmReleases whose version a ``valuesFrom`` source may set: unknown here
    valued_instances: list[str] = field(default_factory=list)
    # the ``*.tftpl`` files that are cloud-init user-data (each must install Flux)
    cloud_init_templates: list[str] = field(default_factory=list)
    # (file, line, apiVersion) of each Flux object a chart's template renders, in walk order
    chart_template_apis: list[tuple[str, int, str]] = field(default_factory=list)
    # (file, controller, tag) of each Flux controller image a data file pins by its tag
    controller_images: list[tuple[str, str, str]] = field(default_factory=list)

    def flux_disagreements(self) -> set[tuple[str, str]]:
        """(file, version) of each exact Flux release pin that names another release than the
        first exact one of a FluxInstance, else of a bootstrap header, else of the CLI."""
        exact = [p for p in self.flux_pins if p.exact]
        order = {"instance": 0, "manifests": 1, "git": 2, "bootstrap": 3, "kustomize": 4, "cli": 5}
        charts = {(p.file, p.version) for p in self.terraform_charts}
        if self.terraform_charts:  # each against the first the walk meets
            charts = {pin for pin in charts if pin[1] != self.terraform_charts[0].version}
        if not exact:
            return charts
        first = min(exact, key=lambda p: order[p.kind]).version.removeprefix("v")
        if self.ansible_charts:  # the release the chart carries is what is installed
            first = _app_version(self.ansible_charts[0].version) or first
        return charts | {(p.file, p.version) for p in exact if p.version.removeprefix("v") != first}

    def operator_disagreements(self) -> set[tuple[str, str]]:
        """(file, version) of each flux-operator distribution artifact whose release is not the
        one flux-operator's chart pins (when they all name one)."""
        pins = [p for p in self.operator_pins if p.chart == "flux-operator"]
        charts = {p.version.removeprefix("v") for p in pins if p.version[:1].isdigit()}
        if len(charts) != 1:
            return set()
        artifacts = [p for p in pins if p.version.startswith("v")]
        return {(p.file, p.version) for p in artifacts if p.version[1:] not in charts}

    def flux_wrappers(self) -> list[str]:
        """The charts that depend on the community ``flux2`` chart."""
        return sorted({p.chart for p in self.pins if p.dependency == FLUX_UPSTREAM and p.upstream})

    def upstream_pins(self) -> list[DependencyPin]:
        return [p for p in self.pins if p.upstream]

    def local_pins(self) -> list[DependencyPin]:
        return [p for p in self.pins if not p.upstream and p.dependency in self.charts]

    def published_here(self, pin: DependencyPin) -> bool:
        """A dependency fetched from a chart repository that names a chart of this repository
        which no chart takes by path or from its own ``charts/``: this repository's chart as
        it publishes it (an umbrella such as newrelic's ``nri-bundle`` takes its siblings so).
        A chart some other chart vendors is not published, so that name is someone else's; and
        a chart never depends on itself: a dependency of its own name is the chart it wraps, so
        that name, taken from a repository anywhere, is the wrapped chart's."""
        vendored = {p.dependency for p in self.pins if not p.upstream}
        wrapped = {p.chart for p in self.pins if p.upstream and p.dependency == p.chart}
        others = set(self.charts) - {pin.chart} - vendored - wrapped
        return pin.upstream and pin.dependency in others


def scan(root: Path) -> Facts:
    """Every fact of the repository under ``root`` (``.git`` is not part of it)."""
    facts = Facts()
    documents: list[tuple[str, dict[str, Any]]] = []
    for rel in _yaml_files(root):
        loaded = _load(root / rel)
        if loaded is None:
            facts.unreadable.append(rel)
            continue
        if rel.rsplit("/", 1)[-1] == "Chart.yaml" and loaded and isinstance(loaded[0], dict):
            _chart(facts, rel, loaded[0])
            continue
        facts.operator_pins += [OperatorPin(rel, "flux-operator", v) for v in _artifacts(loaded)]
        documents += [(rel, d) for d in loaded if isinstance(d, dict)]
    documents += _resourceset_objects(documents)
    oci = {
        _name(d): d for _, d in documents if d.get("kind") == "OCIRepository" and _name(d)
    }  # fmt: skip
    for rel, document in documents:
        release = _release(rel, document, oci)
        if release is not None:
            facts.releases.append(release)
        facts.operator_pins += _operator_pins(rel, document)
        instance = _instance_version(document, oci)
        if instance is not None:
            facts.flux_pins.append(FluxPin(rel, "instance", instance))
        elif _valued_instance(document, oci):
            generated = _generated_values_version(root, rel, document)
            if generated is None:
                facts.valued_instances.append(rel)
            else:
                facts.flux_pins.append(FluxPin(generated[0], "instance", generated[1]))
        manifests = _flux_manifests_version(document)
        if manifests is not None:
            facts.flux_pins.append(FluxPin(rel, "manifests", manifests))
        git = _flux_git_version(document)
        if git is not None:
            facts.flux_pins.append(FluxPin(rel, "git", git))
        facts.controller_images += [(rel, *image) for image in _controller_images(document)]
    facts.flux_pins += _bootstrap_headers(root) + _mise_pins(root) + _kustomize_pins(root)
    facts.flux_pins += _action_pins(root) + _install_script_pins(root)
    facts.flux_pins += _command_pins(root) + _ansible_downloads(root) + _image_pins(root)
    facts.flux_pins += _kept_url_pins(root) + _image_arg_pins(root) + _newest_release_pins(root)
    facts.flux_pins += _asdf_pins(root) + _terraform_instances(root) + _heredoc_instances(root)
    facts.flux_pins += _object_instances(root) + _devcontainer_pins(root)
    facts.flux_pins += _subchart_instances(root)
    facts.flux_pins += _yaml_cli_pins(root) + _script_cli_pins(root)
    facts.operator_pins += _operator_manifests(root)
    facts.unversioned_operator_charts = [
        OperatorPin(rel, chart, "")
        for rel, chart in _unversioned_helm_releases(root, OPERATOR_CHARTS)
    ]
    facts.cloud_init_templates = _cloud_init_templates(root)
    facts.chart_template_apis = _chart_template_apis(root)
    if not facts.flux_wrappers():
        facts.terraform_charts = _terraform_charts(root)
        facts.unversioned_charts = _unversioned_charts(root)
        facts.ansible_charts = _ansible_charts(root)
    return facts


def _terraform_charts(root: Path) -> list[TerraformChart]:
    files = {rel: (root / rel).read_text("utf-8") for rel in _files_ending(root, ".tf", ".tfvars")}
    blocks = {rel: _hcl_blocks(text) for rel, text in files.items() if rel.endswith(".tf")}
    found: list[TerraformChart] = []
    for rel, file_blocks in blocks.items():
        for words, arguments in file_blocks:
            chart = _hcl_string(arguments.get("chart", ""))
            if words[:2] != ["resource", "helm_release"] or chart is None:
                continue
            if chart.rstrip("/").rsplit("/", 1)[-1] != FLUX_UPSTREAM:
                continue
            version = arguments.get("version", "")
            literal = _hcl_string(version)
            if literal is not None:
                found.append(TerraformChart(rel, literal))
            elif version.startswith("var."):
                module = os.path.dirname(rel)
                found += _variable_values(version[4:], module, files, blocks)
    seen: set[TerraformChart] = set()  # one variable read by two blocks is one value
    order = list(files)
    found.sort(key=lambda c: order.index(c.file))
    return [c for c in found if not (c in seen or seen.add(c))]


def _unversioned_charts(root: Path) -> list[str]:
    """The files of the ``helm_release`` blocks of flux2 that give no ``version`` at all."""
    return [rel for rel, _ in _unversioned_helm_releases(root, (FLUX_UPSTREAM,))]


def _unversioned_helm_releases(root: Path, charts: tuple[str, ...]) -> list[tuple[str, str]]:
    """(file, chart) of each ``helm_release`` block of ``charts`` that gives no ``version``."""
    found = []
    for rel in _files_ending(root, ".tf"):
        for words, arguments in _hcl_blocks((root / rel).read_text("utf-8")):
            chart = (_hcl_string(arguments.get("chart", "")) or "").rstrip("/").rsplit("/", 1)[-1]
            named = chart in charts
            if words[:2] == ["resource", "helm_release"] and named and "version" not in arguments:
                found.append((rel, chart))
    return found


def _terraform_instances(root: Path) -> list[FluxPin]:
    """The Flux release each ``helm_release`` of the flux-instance chart installs: the Helm
    provider's docs give ``set`` precedence over ``values``, so the last ``set`` (a nested
    ``set { name, value }`` block, or an object of a ``set = [ … ]`` list) whose ``name`` is
    ``instance.distribution.version``; with none, "values" (unknown here) when a ``values``
    argument, a ``dynamic "set"`` or a ``set`` given by an expression (a variable, a ``for``)
    may set it, else the chart's default. A value ``var.NAME`` is what sets that input
    variable of the module (``_variable_values``)."""
    pins = []
    files = {rel: (root / rel).read_text("utf-8") for rel in _files_ending(root, ".tf", ".tfvars")}
    blocks = {rel: _hcl_blocks(text) for rel, text in files.items() if rel.endswith(".tf")}
    for rel in blocks:
        for words, arguments, body in _hcl_bodies(files[rel]):
            chart = (_hcl_string(arguments.get("chart", "")) or "").rstrip("/")
            if words[:2] != ["resource", "helm_release"] or not chart.endswith("flux-instance"):
                continue
            given = [
                value
                for name, value in _set_entries(body)
                if name == "instance.distribution.version"
            ]
            generated = not arguments.get("set", "[").startswith("[")
            generated = generated or re.search(r'dynamic\s+"set"|\[\s*for\b', body) is not None
            if given and given[-1].startswith("var."):
                module = os.path.dirname(rel)
                variable = _variable_values(given[-1][4:], module, files, blocks)
                pins += [FluxPin(c.file, "instance", c.version) for c in variable]
            elif given:
                pins.append(FluxPin(rel, "instance", given[-1]))
            elif generated or "values" in arguments:
                pins.append(FluxPin(rel, "instance", "values"))
            else:
                pins.append(FluxPin(rel, "instance", FLUX_INSTANCE_DEFAULT))
    return pins


# A heredoc: ``<<TAG`` or ``<<-TAG`` at a line's end, its lines, the line of TAG alone.
_HEREDOC_BODY = re.compile(r"<<(-?)([A-Za-z_]\w*)[ \t]*\r?\n(.*?)^[ \t]*\2[ \t]*\r?$", re.M | re.S)


def _heredoc_instances(root: Path) -> list[FluxPin]:
    """The distribution version of each FluxInstance a ``.tf`` heredoc writes (Terraform's
    ``<<-`` strips the common indentation first); one given as ``${var.NAME}`` is what sets
    that variable (``_variable_values``). A heredoc opened on a comment line is none."""
    pins = []
    files = {rel: (root / rel).read_text("utf-8") for rel in _files_ending(root, ".tf", ".tfvars")}
    blocks = {rel: _hcl_blocks(text) for rel, text in files.items() if rel.endswith(".tf")}
    for rel in blocks:
        for heredoc in _HEREDOC_BODY.finditer(files[rel]):
            opened = files[rel][files[rel].rfind("\n", 0, heredoc.start()) + 1 : heredoc.start()]
            if re.match(r"\s*(#|//)", opened):
                continue
            body = textwrap.dedent(heredoc[3]) if heredoc[1] else heredoc[3]
            yaml = YAML(typ="safe", pure=True)
            for document in yaml.load_all(body.replace("\r\n", "\n")):
                version = _instance_version(document, {}) if isinstance(document, dict) else None
                if version is None or document.get("kind") != "FluxInstance":
                    continue
                variable = re.fullmatch(r"\$\{\s*var\.([\w-]+)\s*\}", version)
                if variable is None:
                    pins.append(FluxPin(rel, "instance", version))
                    continue
                found = _variable_values(variable[1], os.path.dirname(rel), files, blocks)
                pins += [FluxPin(c.file, "instance", c.version) for c in found]
    return pins


# A FluxInstance written as a Terraform object, up to its distribution's version (no ``}``
# between the distribution's ``{`` and the version: it is that object's).
_OBJECT_INSTANCE = re.compile(
    r'kind"?\s*[=:]\s*"FluxInstance".*?distribution"?\s*[=:]\s*\{[^}]*?'
    r'\bversion"?\s*[=:]\s*(?:"(?P<literal>[^"]*)"|var\.(?P<variable>[\w-]+))',
    re.S,
)


def _object_instances(root: Path) -> list[FluxPin]:
    """The distribution version of each FluxInstance a ``.tf`` file writes as an object
    (``manifest = { … }``, ``yamlencode({ … })``): a literal, or what sets the variable."""
    pins = []
    files = {rel: (root / rel).read_text("utf-8") for rel in _files_ending(root, ".tf", ".tfvars")}
    blocks = {rel: _hcl_blocks(text) for rel, text in files.items() if rel.endswith(".tf")}
    for rel in blocks:
        uncommented = re.sub(r"(?m)^\s*(#|//).*$", "", files[rel])
        for found in _OBJECT_INSTANCE.finditer(uncommented):
            if found["literal"] is not None:
                pins.append(FluxPin(rel, "instance", found["literal"]))
                continue
            values = _variable_values(found["variable"], os.path.dirname(rel), files, blocks)
            pins += [FluxPin(c.file, "instance", c.version) for c in values]
    return pins


def _hcl_bodies(text: str) -> list[tuple[list[str], dict[str, str], str]]:
    """``_hcl_blocks``, each with the text of its body (comments dropped)."""
    bodies: list[str] = []
    depth = 0
    for raw in text.splitlines():
        line = re.sub(r"\s(#|//).*$", "", raw)
        braces = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        if depth == 0 and braces.rstrip().endswith("{"):
            bodies.append("")
        elif depth > 0 and bodies:
            bodies[-1] += line + "\n"
        depth += braces.count("{") - braces.count("}")
    return [(w, a, b) for (w, a), b in zip(_hcl_blocks(text), bodies, strict=True)]


def _set_entries(body: str) -> list[tuple[str, str]]:
    """(name, value) of each ``set`` of a block body, in order: a literal's text, or a
    ``var.NAME`` reference as written."""
    objects = []
    for match in re.finditer(r"\bset\s*(=\s*\[(?P<list>[^\]]*)\]|\{(?P<block>[^{}]*)\})", body):
        if match.group("block") is not None:
            objects.append(match.group("block"))
        else:
            objects += re.findall(r"\{([^{}]*)\}", match.group("list"))
    entries = []
    for text in objects:
        name = re.search(r'\bname\s*=\s*"([^"]*)"', text)
        value = re.search(r'\bvalue\s*=\s*(?:"([^"]*)"|(var\.[A-Za-z_][\w-]*))', text)
        if name and value:
            entries.append((name.group(1), value.group(1) or value.group(2)))
    return entries


def _variable_values(
    name: str,
    module: str,
    files: dict[str, str],
    blocks: dict[str, list[tuple[list[str], dict[str, str]]]],
) -> list[TerraformChart]:
    values = []
    for rel, text in files.items():
        if rel.endswith(".tfvars") and os.path.dirname(rel) == module:
            for line in text.splitlines():
                key, _, value = line.partition("=")
                literal = _hcl_string(value.split("#")[0].strip())
                if key.strip() == name and literal:
                    values.append(TerraformChart(rel, literal))
        for words, arguments in blocks.get(rel, []):
            declared = words == ["variable", name] and os.path.dirname(rel) == module
            source = _hcl_string(arguments.get("source", "")) or ""
            called = os.path.normpath(os.path.join(os.path.dirname(rel), source))
            calls = words[:1] == ["module"] and source.startswith(("./", "../"))
            literal = _hcl_string(arguments.get("default" if declared else name, ""))
            if literal and (declared or (calls and called == (module or "."))):
                values.append(TerraformChart(rel, literal))
    return values


def _hcl_blocks(text: str) -> list[tuple[list[str], dict[str, str]]]:
    """Each top-level block of an HCL file: its type and labels, and the expression text of
    each argument written at its top level (nested blocks are skipped)."""
    blocks: list[tuple[list[str], dict[str, str]]] = []
    depth = 0
    for raw in text.splitlines():
        line = re.sub(r"\s(#|//).*$", "", raw).strip()
        braces = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        if depth == 0 and braces.endswith("{"):
            blocks.append(([w.strip('"') for w in line[:-1].split()], {}))
        elif depth == 1 and "=" in line and blocks:
            key, _, value = line.partition("=")
            blocks[-1][1].setdefault(key.strip(), value.strip())
        depth += braces.count("{") - braces.count("}")
    return blocks


def _hcl_string(expression: str) -> str | None:
    """A plain string literal's text (no interpolation), else None."""
    match = re.fullmatch(r'"([^"$%\\]*)"', expression.strip())
    return match.group(1) if match and match.group(1) else None


def _files_ending(root: Path, *endings: str) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        found += [
            (Path(directory) / n).relative_to(root).as_posix()
            for n in sorted(files)
            if n.endswith(endings)
        ]
    return found


# Flux's controllers, as fluxcd/flux2's manifests/bases name their images.
_CONTROLLERS = (
    "source-controller", "kustomize-controller", "helm-controller", "notification-controller",
    "image-reflector-controller", "image-automation-controller", "source-watcher",
)  # fmt: skip


def _controller_images(node: Any) -> list[tuple[str, str]]:
    """(controller, tag) of each Flux controller image under ``node``: a mapping whose
    ``repository`` is ``<registry>/fluxcd/<controller>`` beside a ``tag`` and no ``digest``
    (the digest is what is pulled), or an OCM ``imageReference`` string ``…/fluxcd/<c>:<tag>``."""
    found: list[tuple[str, str]] = []
    if isinstance(node, list):
        return [image for item in node for image in _controller_images(item)]
    if not isinstance(node, dict):
        return found
    repository = str(node.get("repository", ""))
    name = repository.rsplit("fluxcd/", 1)[-1]
    tagged = isinstance(node.get("tag"), str) and "digest" not in node
    if "fluxcd/" in repository and name in _CONTROLLERS and tagged:
        found.append((name, node["tag"]))
    reference = node.get("imageReference")
    if isinstance(reference, str) and "fluxcd/" in reference and ":" in reference:
        image, tag = reference.rsplit(":", 1)
        if image.rsplit("fluxcd/", 1)[-1] in _CONTROLLERS:
            found.append((image.rsplit("fluxcd/", 1)[-1], tag))
    return found + [i for value in node.values() for i in _controller_images(value)]


def _instance_version(document: dict[str, Any], oci: dict[str, dict[str, Any]]) -> str | None:
    """A FluxInstance's distribution version, or a flux-instance HelmRelease's value of it."""
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    api = str(document.get("apiVersion", ""))
    if document.get("kind") == "FluxInstance" and api.startswith("fluxcd.controlplane.io/"):
        version = (spec.get("distribution") or {}).get("version")
        return None if version is None else str(version)
    release = _release("", document, oci)
    if release is None or release.chart.rsplit("/", 1)[-1] != "flux-instance":
        return None
    instance = (spec.get("values") or {}).get("instance") or {}
    version = (instance.get("distribution") or {}).get("version")
    if version is None and "valuesFrom" not in spec:
        return FLUX_INSTANCE_DEFAULT  # Helm renders the chart's own default
    return None if version is None else str(version)


def _flux_manifests_version(document: dict[str, Any]) -> str | None:
    """The release an OCIRepository of ``…/fluxcd/flux-manifests`` makes Flux pull."""
    spec = _source_spec(document, "OCIRepository")
    url = str(spec.get("url", ""))
    if not url.startswith("oci://") or not url.rstrip("/").endswith("/fluxcd/flux-manifests"):
        return None
    return _ref_version(spec, overridden_by=("digest",))


def _flux_git_version(document: dict[str, Any]) -> str | None:
    """The release a GitRepository of ``github.com/fluxcd/flux2`` checks out."""
    spec = _source_spec(document, "GitRepository")
    url = urlsplit(str(spec.get("url", "")))
    path = url.path.rstrip("/").removesuffix(".git")
    if url.hostname != "github.com" or path.lstrip("/") != "fluxcd/flux2":
        return None
    return _ref_version(spec, overridden_by=("commit", "name"))


def _source_spec(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """The spec of a Flux source object of this kind; empty for any other object."""
    if document.get("kind") != kind:
        return {}
    if not str(document.get("apiVersion", "")).startswith("source.toolkit.fluxcd.io/"):
        return {}
    spec = document.get("spec")
    return spec if isinstance(spec, dict) else {}


def _ref_version(spec: dict[str, Any], *, overridden_by: tuple[str, ...]) -> str | None:
    """``ref.semver`` or ``ref.tag``, unless a ref field that wins over both is set."""
    ref = spec.get("ref") if isinstance(spec.get("ref"), dict) else {}
    if any(ref.get(field) for field in overridden_by):
        return None
    version = ref.get("semver") or ref.get("tag")
    return None if version is None else str(version)


def _command_pins(root: Path) -> list[FluxPin]:
    """``kubectl``/``kustomize`` given a remote flux2 URL on a script's, Taskfile's or
    Makefile's line, and ``flux install``/``flux bootstrap`` given ``--version`` (the release
    the Flux CLI installs, kind "cli"); a ``#`` comment is not run."""
    pins = []
    for rel in _command_files(root):
        for line in (root / rel).read_text("utf-8", errors="replace").splitlines():
            body = line.strip().removeprefix("- ").strip()
            if body.startswith("#") or not {"kubectl", "kustomize", "flux"} & set(body.split()):
                continue
            try:
                words = shlex.split(body, comments=True)
            except ValueError:  # an open quote continued on the next line
                words = body.split()
            for word in words:
                if word.startswith("-") and "=" in word:
                    word = word.split("=", 1)[1]
                version = _flux2_ref(word)
                if version:
                    pins.append(FluxPin(rel, "kustomize", version))
            version = _flux_cli_version(words)
            if version:
                pins.append(FluxPin(rel, "cli", version))
    return pins


def _image_pins(root: Path) -> list[FluxPin]:
    """The tag of each Dockerfile ``FROM`` of the Flux CLI's image (``[registry/]fluxcd/
    flux-cli:<tag>``, as Docker names images), kind "cli"."""
    pins = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        for name in sorted(n for n in files if n == "Dockerfile" or n.endswith(".Dockerfile")):
            path = Path(directory) / name
            for line in path.read_text("utf-8").splitlines():
                words = line.split()
                if len(words) < 2 or words[0].upper() != "FROM":
                    continue
                image, _, tag = words[1].rpartition(":")
                if image.split("/")[-2:] == ["fluxcd", "flux-cli"]:
                    pins.append(FluxPin(path.relative_to(root).as_posix(), "cli", tag))
    return pins


def _yaml_cli_pins(root: Path) -> list[FluxPin]:
    """The Flux CLI a YAML file names outside Dockerfiles and Ansible roles (kind "cli"): a
    string that is the CLI's image reference (``ghcr.io/fluxcd/flux-cli:v2.9.4``, an OCM
    component's ``imageReference``), a mapping of its ``repository`` and ``tag`` (a component
    vector's ``ociImage``), and a multi-line string (a workflow's ``run:`` script) downloading
    the CLI's release asset, its release written as a shell variable the script assigns. A
    workflow's ``${{ … }}`` expressions are GitHub's, not a Go template's: its file is read."""
    pins = []
    for rel in _files_ending(root, ".yaml", ".yml"):
        text = (root / rel).read_text("utf-8", errors="replace")
        if set(Path(rel).parts) & set(_ANSIBLE_DIRS) or "{{" in text.replace("${{", ""):
            continue  # read by _ansible_downloads; a Go template
        documents = _load(root / rel) or []
        for node in _nodes(documents):
            if _CLI_IMAGE.fullmatch(str(node.get("repository", ""))) and "tag" in node:
                pins.append(FluxPin(rel, "cli", str(node["tag"])))
        for text in _strings(documents):
            image = _CLI_IMAGE_REFERENCE.fullmatch(text)
            if image is not None:
                pins.append(FluxPin(rel, "cli", image.group(1)))
            if "\n" in text:
                pins += [FluxPin(rel, "cli", r) for r in _script_downloads(text.splitlines())]
    return list(dict.fromkeys(pins))


_CLI_IMAGE = re.compile(r"(?:[\w.-]+(?::\d+)?/)*fluxcd/flux-cli")
_CLI_IMAGE_REFERENCE = re.compile(rf"{_CLI_IMAGE.pattern}:([\w.+-]+)")


def _nodes(node: Any) -> list[dict[str, Any]]:
    """Every mapping of a document, itself included."""
    if isinstance(node, dict):
        return [node] + [m for value in node.values() for m in _nodes(value)]
    if isinstance(node, list):
        return [m for value in node for m in _nodes(value)]
    return []


def _script_downloads(lines: list[str]) -> list[str]:
    """The release each line of a script downloads the CLI's asset of, a variable read as the
    literal the script assigns it (``FLUX_VERSION="2.9.3"``), else as written."""
    assigned = _literal_assignments(lines)
    releases = []
    for line in lines:
        release = None if line.strip().startswith("#") else _cli_asset_release(line)
        variable = _RELEASE_VARIABLE.fullmatch(release or "")
        if variable is not None:
            release = assigned.get(next(g for g in variable.groups() if g), release)
        if release is not None:
            releases.append(release)
    return releases


# Make reads these names (GNU make's manual, "What Name to Give Your Makefile"), and a
# Makefile includes others, by convention ``*.mk``.
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")


def _script_cli_pins(root: Path) -> list[FluxPin]:
    """The CLI release each shell script or Makefile (or Makefile include) downloads
    (kind "cli"), a variable read as the literal the file assigns it."""
    pins = []
    for rel in _files_ending(root, ".sh", ".mk", *_MAKEFILES):
        if not rel.endswith((".sh", ".mk")) and rel.rsplit("/", 1)[-1] not in _MAKEFILES:
            continue
        lines = (root / rel).read_text("utf-8", errors="replace").splitlines()
        pins += [FluxPin(rel, "cli", release) for release in _script_downloads(lines)]
    return list(dict.fromkeys(pins))


_ANSIBLE_DIRS = ("defaults", "vars", "tasks", "group_vars")
_JINJA_NAME = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _ansible_downloads(root: Path) -> list[FluxPin]:
    """The Flux CLI release each Ansible YAML file downloads (kind "cli")."""
    pins = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        here = Path(directory)
        parts = here.relative_to(root).parts
        if not set(parts) & set(_ANSIBLE_DIRS):
            continue
        for name in sorted(n for n in files if n.endswith((".yml", ".yaml"))):
            documents = _load(here / name) or []
            keys = {k: v for d in documents if isinstance(d, dict) for k, v in d.items()}
            rel = (here / name).relative_to(root).as_posix()
            for text in _strings(documents):
                release = _cli_asset_release(_with_role_prefix(root, rel, text))
                variable = _JINJA_NAME.fullmatch(release or "")
                where = rel
                if variable is not None and isinstance(keys.get(variable.group(1)), str):
                    release = keys[variable.group(1)]
                elif variable is not None and (given := _role_variable(root, rel, variable[1])):
                    where, release = given
                if release is not None:
                    pins.append(FluxPin(where, "cli", release))
    return list(dict.fromkeys(pins))  # the same release read twice is one pin


def _role_variable(root: Path, rel: str, name: str) -> tuple[str, str] | None:
    """The file and string value a role gives its variable ``name`` (``_role_variables``),
    for a file of a role's ``defaults/``, ``vars/`` or ``tasks/``; None for any other file,
    or a variable the role does not set to a string."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[-2] not in ("defaults", "vars", "tasks"):
        return None
    value, path = _role_variables(root.joinpath(*parts[:-2])).get(name, (None, root))
    return (path.relative_to(root).as_posix(), value) if isinstance(value, str) else None


def _with_role_prefix(root: Path, rel: str, text: str) -> str:
    """``text`` with a leading ``{{ NAME }}/`` replaced by the URL the role sets NAME to
    (andrewrothstein/ansible-flux's ``'{{ flux_mirror }}/v{{ flux_ver }}/…'``)."""
    lead = _JINJA_NAME.match(text)
    if lead is None or text[lead.end() : lead.end() + 1] != "/":
        return text
    given = _role_variable(root, rel, lead.group(1))
    return text if given is None else given[1].rstrip("/") + text[lead.end() :]


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def _cli_asset_release(text: str) -> str | None:
    """The release of ``https://github.com/fluxcd/flux2/releases/download/<tag>/flux_…``."""
    start = text.find("https://github.com/fluxcd/flux2/releases/download/")
    if start < 0:
        return None
    # (split on '/' alone: a Jinja expression in the path holds blanks)
    parts = text[start:].split("/")  # https:, '', github.com, fluxcd, flux2, releases, download
    if len(parts) < 9 or not parts[8].startswith(("flux_", "{{")):
        return None  # install.yaml, manifests.tar.gz: not the CLI (a templated name may be)
    return parts[7].removeprefix("v")


_HELM_MODULES = ("kubernetes.core.helm", "community.kubernetes.helm", "helm")


def _ansible_charts(root: Path) -> list[TerraformChart]:
    """The flux2 chart version of each Helm task of a role (``<role>/tasks/*.yml``): the
    task's ``chart_version``, a ``{{ NAME }}`` taken from the role's vars/main.yml, else its
    defaults/main.yml, as Ansible's role variable precedence reads them (where it is set)."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        here = Path(directory)
        if here.name != "tasks":
            continue
        variables = _role_variables(here.parent)  # name -> (value, the file setting it)
        for name in sorted(n for n in files if n.endswith((".yml", ".yaml"))):
            for task in _task_list(_load(here / name) or []):
                args = next((task[m] for m in _HELM_MODULES if isinstance(task.get(m), dict)), {})
                chart = _role_value(str(args.get("chart_ref", "")), variables)
                if chart[0].rstrip("/").rsplit("/", 1)[-1] != FLUX_UPSTREAM:
                    continue
                version, at = _role_value(str(args.get("chart_version", "")), variables)
                file = at or (here / name)
                found.append(TerraformChart(file.relative_to(root).as_posix(), version))
    return found


def _role_variables(role: Path) -> dict[str, tuple[Any, Path]]:
    variables: dict[str, tuple[Any, Path]] = {}
    for part in ("defaults", "vars"):  # vars/ wins
        path = role / part / "main.yml"
        for document in (_load(path) or []) if path.is_file() else []:
            if isinstance(document, dict):
                variables.update({k: (v, path) for k, v in document.items()})
    return variables


def _task_list(documents: list[Any]) -> list[dict[str, Any]]:
    tasks = []
    for document in documents:
        for item in document if isinstance(document, list) else []:
            if not isinstance(item, dict):
                continue
            parts = ("block", "rescue", "always", "tasks")
            nested = [item[k] for k in parts if isinstance(item.get(k), list)]
            tasks += _task_list(nested) if nested else [item]
    return tasks


def _role_value(text: str, variables: dict[str, tuple[Any, Path]]) -> tuple[str, Path | None]:
    """A task argument as written, or the role variable it names and the file setting it."""
    variable = _JINJA_NAME.fullmatch(text.strip())
    if variable is None or variable.group(1) not in variables:
        return text, None
    value, path = variables[variable.group(1)]
    return str(value), path


def _app_version(chart_version: str) -> str | None:
    """The Flux release a flux2 chart version carries, from the fluxcd-community index
    snapshot the tests run offline with (the chart repository's own published data)."""
    index = (
        Path(__file__).resolve().parents[2] / "fluxbump/data/fluxcd-community-index-2026-04-15.yaml"
    )
    entries = (_load(index) or [{}])[0].get("entries", {}).get(FLUX_UPSTREAM, [])
    return next((str(e["appVersion"]) for e in entries if str(e["version"]) == chart_version), None)


def _flux_cli_version(words: list[str]) -> str | None:
    """``--version`` of ``flux install``/``flux bootstrap``, up to the end of that command.
    The CLI's global flags may come before the subcommand (cobra's persistent flags:
    ``flux -n flux-system install``, ``flux --kubeconfig=k bootstrap``)."""
    for i in range(len(words) - 1):
        if words[i] != "flux":
            continue
        k = _subcommand_at(words, i + 1)
        if k is not None:
            for j, word in enumerate(words[k + 1 :], k + 1):
                if word in ("|", "||", "&&", ";") or word.startswith(">"):
                    return None
                if word.startswith("--version="):
                    return word.removeprefix("--version=")
                if word == "--version" and j + 1 < len(words):
                    return words[j + 1]
    return None


def _subcommand_at(words: list[str], k: int) -> int | None:
    """Where ``install``/``bootstrap`` is, from ``words[k]`` past global flags (a flag
    without ``=`` takes the next word as its value unless that is the subcommand or a flag)."""
    while k < len(words) and words[k].startswith("-"):
        flag = words[k]
        k += 1
        if "=" not in flag and k < len(words):
            after = words[k]
            if not after.startswith("-") and after not in ("install", "bootstrap"):
                k += 1
    return k if k < len(words) and words[k] in ("install", "bootstrap") else None


def _command_files(root: Path) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        for name in sorted(files):
            rel = (Path(directory) / name).relative_to(root).as_posix()
            taskfile = name.startswith("Taskfile") or "/.taskfiles/" in f"/{rel}"
            if name.endswith(".sh") or name == "Makefile" or (taskfile and ".y" in name):
                found.append(rel)
    return found


# flux-operator's distribution artifact at a release's tag (no digest after it)
_ARTIFACT_TAG = re.compile(
    r"oci://\S*/controlplaneio-fluxcd/flux-operator-manifests:(v?\d+\.\d+\.\d+)"
)


def artifact_pins(root: Path) -> set[tuple[str, str]]:
    """(file, tag) of each flux-operator distribution artifact at a release's tag that the
    YAML files under ``root`` name (what Renovate's manager of it must read)."""
    found = set()
    for rel in _yaml_files(root):
        loaded = _load(root / rel)
        found |= {(rel, tag) for tag in _artifacts(loaded or [])}
    return found


def _artifacts(documents: list[Any]) -> list[str]:
    """The tag of each ``artifact:`` value naming flux-operator's distribution artifact, at
    any depth of any document (a FluxInstance's ``spec.distribution``, the flux-instance
    chart's values inline or in a values file): the operator release it was published with."""
    found, stack = [], list(reversed(documents))
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            tag = _ARTIFACT_TAG.fullmatch(str(node.get("artifact", "")))
            found += [tag.group(1)] if tag else []
            stack += reversed(list(node.values()))
        elif isinstance(node, list):
            stack += reversed(node)
    return found


def _operator_manifests(root: Path) -> list[OperatorPin]:
    """flux-operator's release manifest (``…/flux-operator/releases/download/vX.Y.Z/
    install.yaml``, its install guide's ``kubectl apply -f``) given to a command of a script,
    Makefile or Taskfile, or listed in a kustomization's ``resources``: the operator of that
    release, whose chart has the same version. A comment or an ``echo`` before it applies
    nothing (one after it, ``kubectl apply -f URL || echo failed``, is the line's own)."""
    url = re.compile(
        r"github\.com/controlplaneio-fluxcd/flux-operator/releases/download/(v?\d+\.\d+\.\d+)/"
        r"install\.yaml"
    )
    pins = []
    for rel in _command_files(root):
        for line in (root / rel).read_text("utf-8").splitlines():
            for found in url.finditer(line):  # what precedes the URL says what the line does
                words = line[: found.start()].split()
                if not words or words[0].startswith("#") or {"echo", "printf"} & set(words):
                    continue
                if {"kubectl", "kustomize", "curl", "wget"} & {w.rsplit("/", 1)[-1] for w in words}:
                    pins.append(OperatorPin(rel, "flux-operator", found.group(1)))
    for rel in _files_named(root, _KUSTOMIZATION_FILES):
        for document in _load(root / rel) or []:
            entries = document.get("resources") if isinstance(document, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                found = url.search(str(entry))
                if found:
                    pins.append(OperatorPin(rel, "flux-operator", found.group(1)))
    return pins


def _kustomize_pins(root: Path) -> list[FluxPin]:
    pins = []
    for rel in _files_named(root, _KUSTOMIZATION_FILES):
        for document in _load(root / rel) or []:
            if not isinstance(document, dict):
                continue
            if document.get("kind", "Kustomization") not in ("Kustomization", "Component"):
                continue
            if "toolkit.fluxcd.io" in str(document.get("apiVersion", "")):
                continue  # Flux's own Kustomization object, not kustomize's file
            for key in ("resources", "components", "bases"):
                for entry in document.get(key) or []:
                    version = _flux2_ref(entry) if isinstance(entry, str) else None
                    if version:
                        pins.append(FluxPin(rel, "kustomize", version))
    return pins


def _flux2_ref(entry: str) -> str | None:
    """The ref kustomize fetches ``fluxcd/flux2`` at, when ``entry`` is one of its remote
    directories under ``manifests/`` or a release's ``install.yaml``."""
    text = entry.removeprefix("git::")
    if text.startswith("git@github.com:"):
        text = "ssh://git@github.com/" + text.removeprefix("git@github.com:")
    try:
        url = urlsplit(text if "://" in text else "https://" + text)
        if url.hostname != "github.com":
            return None
    except ValueError:  # not a URL (a shell array, "${args[@]}")
        return None
    parts = [p for p in url.path.split("/") if p]  # kustomize's ``//`` marks the repo's root
    if len(parts) < 3 or (parts[0], parts[1].removesuffix(".git")) != ("fluxcd", "flux2"):
        return None
    if parts[2:4] == ["releases", "download"] and parts[5:] == ["install.yaml"]:
        return parts[4]
    if parts[2] != "manifests":
        return None
    query = parse_qs(url.query)
    found = query.get("ref") or query.get("version")
    return found[0] if found else None


def _bootstrap_headers(root: Path) -> list[FluxPin]:
    """The ``# Flux Version`` header of ``flux install --export``'s output: a
    ``gotk-components.yaml`` (what ``flux bootstrap`` writes), or a YAML file of any other name
    whose first lines are the CLI's header (``# Flux Version: v2.4.0``, ``# Components: …``)
    and that holds the whole output: a Deployment of each component its header lists (a
    piece of it split into files is not the install)."""
    named = _files_named(root, ("gotk-components.yaml",))
    exported = [rel for rel in _yaml_files(root) if rel not in named and _whole_export(root / rel)]
    return [
        FluxPin(rel, "bootstrap", match.group(1))
        for rel in named + exported
        if (match := _HEADER.search((root / rel).read_text("utf-8"))) is not None
    ]


def _whole_export(path: Path) -> bool:
    lines = path.read_text("utf-8").splitlines()
    if not any(_HEADER.match(line) for line in lines[:4]):
        return False
    listed = next((line.split(": ", 1)[1] for line in lines[:4] if line.startswith(_LISTED)), "")
    deployed = {
        str(d.get("metadata", {}).get("name"))
        for d in _load(path) or []
        if isinstance(d, dict) and d.get("kind") == "Deployment"
    }
    return bool(listed) and set(listed.split(",")) <= deployed


_LISTED = "# Components: "
_INSTALL_SCRIPT = "fluxcd.io/install.sh"


# What a script fetches of whichever release is newest when it runs: the CRD schemas
# kubeconform validates against, and the CLI asset GitHub's API names (eksctl's Dockerfile).
_NEWEST_RELEASE = (
    "https://github.com/fluxcd/flux2/releases/latest/download/crd-schemas.tar.gz",
    "https://api.github.com/repos/fluxcd/flux2/releases/latest",
)


def _newest_release_pins(root: Path) -> list[FluxPin]:
    """A script's download of the newest release's CRD schemas, or of the release GitHub's
    API says is the latest, outside a ``#`` comment: kind "cli", release ``latest``."""
    pins = []
    for rel in _command_files(root):
        for line in (root / rel).read_text("utf-8", errors="replace").splitlines():
            code = line.split("#", 1)[0]
            if any(url in code.split() for url in _NEWEST_RELEASE):
                pins.append(FluxPin(rel, "cli", "latest"))
    return pins


def _install_script_pins(root: Path) -> list[FluxPin]:
    """Flux's install script given a release by ``FLUX_VERSION=X`` on the same line (``curl -s
    https://fluxcd.io/install.sh | sudo FLUX_VERSION=2.4.0 bash``) in a script, a Makefile or a
    GitHub workflow: the CLI of that release (kind "cli"); given none (neuralnetes/monorepo's
    ``wget https://fluxcd.io/install.sh``), the latest release's; a ``#`` comment runs nothing.
    A download saved to a file is run by a later line naming that file, which gives it its
    release (SovereignCloudStack's ``FLUX_VERSION=$1 install-flux2.sh``)."""
    workflows = [
        rel for rel in _files_ending(root, ".yml", ".yaml") if rel.startswith(".github/workflows/")
    ]
    pins = []
    for rel in _command_files(root) + workflows:
        text = (root / rel).read_text("utf-8", errors="replace").splitlines()
        for n, line in enumerate(text):
            if _INSTALL_SCRIPT not in line or line.strip().startswith("#"):
                continue
            saved = _saved_script(line.split())
            runs = [r for later in text[n:] if (r := _run_of(saved, later)) is not None]
            given = runs if saved and runs else [_given_release(line.split())]
            pins += [FluxPin(rel, "cli", release) for release in given]
    return pins


def _given_release(words: list[str]) -> str:
    """The release ``FLUX_VERSION=X`` among ``words`` gives the script (``latest``: none)."""
    given = [w.split("=", 1)[1] for w in words if w.startswith("FLUX_VERSION=")]
    return given[0].strip("\"'") if given else "latest"


def _saved_script(words: list[str]) -> str:
    """The file name a download of the script that pipes it nowhere saves it to: after
    ``>``, curl's ``-o`` (last of its short options), wget's ``-O``, or wget's own choice,
    the URL's last part (GNU wget's manual); "" when it is piped."""
    if "|" in words:
        return ""
    for i, word in enumerate(words[:-1]):
        curl_output = word.startswith("-") and not word.startswith("--") and word.endswith("o")
        if word in (">", ">>", "-O") or (words[0] == "curl" and curl_output):
            return words[i + 1].rsplit("/", 1)[-1]
    url = next((w for w in words if _INSTALL_SCRIPT in w), "")
    return url.rsplit("/", 1)[-1] if words[0] == "wget" else ""


def _run_of(name: str, line: str) -> str | None:
    """The release a line running the saved script ``name`` gives it (the words before the
    script's path: assignments, ``sudo``, ``env``, a shell and its flags), None when the line
    runs no such file (``chmod +x`` it, ``rm`` it)."""
    words = line.split()
    for i, word in enumerate(words):
        if name and word.strip("\"'").rsplit("/", 1)[-1] == name:
            before = words[:i]
            runner = {"sudo", "env", "bash", "sh"}
            if all(w in runner or w.startswith("-") or "=" in w for w in before):
                return _given_release(before)
    return None


def _mise_pins(root: Path) -> list[FluxPin]:
    pins = []
    for rel in _files_named(root, ("mise.toml", ".mise.toml")):
        tools = tomllib.loads((root / rel).read_text("utf-8")).get("tools") or {}
        for name in _MISE_FLUX:
            value = tools.get(name)
            version = value.get("version") if isinstance(value, dict) else value
            if isinstance(version, str):
                pins.append(FluxPin(rel, "cli", version))
    return pins


def _devcontainer_pins(root: Path) -> list[FluxPin]:
    """The Flux CLI each Dev Container feature of it installs (``latest`` when given none)."""
    pins = []
    for rel in _files_named(root, ("devcontainer.json", ".devcontainer.json")):
        document = json.loads(_without_jsonc_comments((root / rel).read_text("utf-8")))
        for feature, options in (document.get("features") or {}).items():
            name = re.split(r"[:@]", feature.rsplit("/", 1)[-1])[0]
            if name in ("flux", "flux2", "fluxcd") and isinstance(options, dict):
                pins.append(FluxPin(rel, "cli", str(options.get("version") or "latest")))
    return pins


def _without_jsonc_comments(text: str) -> str:
    """JSON with comments as plain JSON: each comment outside a string dropped, character by
    character (a ``//`` inside a URL string is no comment), and trailing commas with it."""
    out, i, quoted = [], 0, False
    while i < len(text):
        char = text[i]
        if quoted:
            out.append(char)
            if char == "\\":
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                quoted = False
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        else:
            quoted = char == '"'
            out.append(char)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _asdf_pins(root: Path) -> list[FluxPin]:
    """asdf's ``.tool-versions``: ``flux2 <version>`` (the first version is the one used)."""
    pins = []
    for rel in _files_named(root, (".tool-versions",)):
        for line in (root / rel).read_text("utf-8").splitlines():
            words = line.split("#")[0].split()
            if len(words) >= 2 and words[0] == "flux2":
                pins.append(FluxPin(rel, "cli", words[1]))
    return pins


def _action_pins(root: Path) -> list[FluxPin]:
    """The CLI release each ``fluxcd/flux2/action`` step of a workflow installs."""
    pins = []
    for rel in sorted(_files_ending(root, ".yml", ".yaml")):
        if not rel.startswith(".github/workflows/"):
            continue
        for workflow in _load(root / rel) or []:
            jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
            for job in (jobs or {}).values():
                for step in job.get("steps") or []:
                    if not str(step.get("uses", "")).startswith("fluxcd/flux2/action@"):
                        continue
                    version = str((step.get("with") or {}).get("version") or "latest")
                    if "${{" not in version:
                        pins.append(FluxPin(rel, "cli", version))
    return pins


def _subchart_instances(root: Path) -> list[FluxPin]:
    """The Flux release a chart's ``values.yaml`` gives a flux-instance subchart: Helm hands
    a subchart the values under its name (a dependency's ``alias`` when it has one), whether
    the chart declares it in ``dependencies`` or keeps it in its ``charts/`` folder. A chart
    that is itself such a vendored copy is skipped: its values are its own defaults."""
    pins = []
    for rel in _files_named(root, ("Chart.yaml",)):
        folder = (root / rel).parent
        chart = (_load(root / rel) or [None])[0]
        if folder.parent.name == "charts" or not isinstance(chart, dict):
            continue
        entries = [d for d in chart.get("dependencies") or [] if isinstance(d, dict)]
        keys = [
            str(d.get("alias") or d["name"]) for d in entries if d.get("name") == "flux-instance"
        ]
        kept = folder / "charts"
        if not keys and (
            (kept / "flux-instance/Chart.yaml").is_file() or any(kept.glob("flux-instance-*.tgz"))
        ):
            keys = ["flux-instance"]
        values = (
            (_load(folder / "values.yaml") or [None])[0]
            if (folder / "values.yaml").is_file()
            else None
        )
        for key in keys:
            node: Any = values
            for step in (key, "instance", "distribution", "version"):
                node = node.get(step) if isinstance(node, dict) else None
            if node not in (None, ""):
                where = (folder / "values.yaml").relative_to(root).as_posix()
                pins.append(FluxPin(where, "instance", str(node)))
    return pins


def _files_named(root: Path, names: tuple[str, ...]) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        found += [
            (Path(directory) / n).relative_to(root).as_posix() for n in sorted(files) if n in names
        ]
    return found


def _operator_pins(rel: str, document: dict[str, Any]) -> list[OperatorPin]:
    """flux-operator's chart pins in one document: an OCIRepository of the chart, a
    HelmRelease naming it, or a helmfile (a document with ``releases:`` and no ``kind``)."""
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    kind = document.get("kind")
    if kind == "OCIRepository":
        url = str(spec.get("url", "")).rstrip("/")
        chart = url.rsplit("/", 1)[-1]
        ref = spec.get("ref") or {}
        version = ref.get("tag") or ref.get("semver")
        if chart in OPERATOR_CHARTS and OPERATOR_OCI + chart in url and version:
            return [OperatorPin(rel, chart, str(version))]
    if kind == "HelmRelease":
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        chart = str(chart_spec.get("chart", "")).rsplit("/", 1)[-1]
        if chart in OPERATOR_CHARTS and chart_spec.get("version"):
            return [OperatorPin(rel, chart, str(chart_spec["version"]))]
    if kind is None and isinstance(document.get("releases"), list):
        pins = []
        for release in document["releases"]:
            if not isinstance(release, dict) or not release.get("version"):
                continue
            chart = str(release.get("chart", ""))
            if "/" in chart and chart.rsplit("/", 1)[-1] in OPERATOR_CHARTS:
                pins.append(OperatorPin(rel, chart.rsplit("/", 1)[-1], str(release["version"])))
        return pins
    return []


def _chart_template_apis(root: Path) -> list[tuple[str, int, str]]:
    """Each line of a chart's ``templates/`` file Helm renders (``.yaml``, ``.yml``, ``.tpl``)
    that opens a Flux object: it starts with ``apiVersion:`` and names a ``fluxcd.io`` group
    (an indented one is a field of an object, such as a ``sourceRef``'s)."""
    found = []
    for rel in _files_ending(root, ".yaml", ".yml", ".tpl"):
        chart, _, below = rel.rpartition("templates/")
        if not below or not (root / chart / "Chart.yaml").is_file() or "/" in below:
            continue  # (a subdirectory of templates/ is rendered too, but none is in a snapshot)
        text = (root / rel).read_text("utf-8")
        for number, line in enumerate(text.split("\n"), start=1):
            key, _, value = line.partition(":")
            value = value.split("#")[0].strip().strip("'\"")
            if key == "apiVersion" and value.split("/")[0].endswith("fluxcd.io"):
                found.append((rel, number, value))
    return found


def _yaml_files(root: Path) -> list[str]:
    """Every YAML file, minus chart ``templates/`` trees and files that are Go templates."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(s for s in subdirectories if s != ".git")
        here = Path(directory)
        if (here / "Chart.yaml").is_file() and "templates" in subdirectories:
            subdirectories.remove("templates")  # Helm renders these; they are not manifests
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = here / name
            if "{{" in path.read_text("utf-8", errors="replace"):
                continue  # a Go template: Helm or helmfile renders it first
            found.append(path.relative_to(root).as_posix())
    return found


def _load(path: Path) -> list[Any] | None:
    """The documents of one file; None when a YAML 1.2 safe loader refuses it. A key that
    appears twice in a mapping is accepted with the last value, as Helm and Flux do."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True
    try:
        return list(yaml.load_all(path.read_text("utf-8")))
    except (YAMLError, UnicodeDecodeError):
        return None


def _chart(facts: Facts, rel: str, chart: dict[str, Any]) -> None:
    name = str(chart.get("name", ""))
    facts.charts.setdefault(name, []).append(rel)
    facts.versions[rel] = str(chart.get("version", ""))
    for dependency in chart.get("dependencies") or []:
        if isinstance(dependency, dict) and dependency.get("version") is not None:
            facts.pins.append(
                DependencyPin(
                    rel,
                    name,
                    str(dependency.get("name")),
                    str(dependency["version"]),
                    str(dependency.get("repository") or ""),
                )
            )


def _name(document: dict[str, Any]) -> str:
    metadata = document.get("metadata")
    return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""


def _release(rel: str, document: dict[str, Any], oci: dict[str, dict[str, Any]]) -> Release | None:
    if document.get("kind") != "HelmRelease":
        return None
    if not str(document.get("apiVersion", "")).startswith("helm.toolkit.fluxcd.io/"):
        return None
    spec = document.get("spec") or {}
    chart_spec = (spec.get("chart") or {}).get("spec") or {}
    if chart_spec.get("chart"):
        version = chart_spec.get("version")
        return Release(rel, _name(document), str(chart_spec["chart"]), _str(version))
    reference = spec.get("chartRef") or {}
    source = oci.get(str(reference.get("name", "")))
    if reference.get("kind") != "OCIRepository" or source is None:
        return None
    url = str((source.get("spec") or {}).get("url", ""))
    tag = ((source.get("spec") or {}).get("ref") or {}).get("tag")
    return Release(rel, _name(document), url.rstrip("/").rsplit("/", 1)[-1], _str(tag))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- ResourceSet objects, URLs kept in variables, cloud-init templates --------------------


def _resourceset_objects(
    documents: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """The objects each flux-operator ``ResourceSet`` (``fluxcd.controlplane.io``) applies: the
    items of its ``spec.resources``, as its documentation describes them (with no ``inputs``
    they are applied as written)."""
    found = []
    for rel, document in documents:
        api = str(document.get("apiVersion", ""))
        if document.get("kind") != "ResourceSet" or not api.startswith("fluxcd.controlplane.io/"):
            continue
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        found += [(rel, item) for item in spec.get("resources") or [] if isinstance(item, dict)]
    return found


def _valued_instance(document: dict[str, Any], oci: dict[str, dict[str, Any]]) -> bool:
    """A flux-instance HelmRelease whose values leave the version out and whose ``valuesFrom``
    (a ConfigMap or Secret, merged over them by helm-controller) may set it."""
    release = _release("", document, oci)
    if release is None or release.chart.rsplit("/", 1)[-1] != "flux-instance":
        return False
    spec = document.get("spec") or {}
    return "valuesFrom" in spec


def _generated_values_version(
    root: Path, rel: str, document: dict[str, Any]
) -> tuple[str, str] | None:
    """(file, version) of a flux-instance release whose ``valuesFrom`` sources are all made by
    the ``kustomization.yaml`` of its own directory (kustomize's ``configMapGenerator`` and
    ``secretGenerator``: a ``files`` entry ``key=path`` or ``path``, keyed by its file name,
    under the kustomization's directory) from files setting ``instance.distribution.version``:
    helm-controller merges the sources in order (``valuesKey`` defaults to ``values.yaml``),
    so the last that sets it wins, and none setting it leaves the chart's ``2.x``. None when a
    source is not made so (it may set the version)."""
    folder = (root / rel).parent
    kustomization = next(
        (d for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
         if (folder / n).is_file() for d in (_load(folder / n) or [])[:1]),
        None,
    )  # fmt: skip
    if not isinstance(kustomization, dict):
        return None
    listed = [str(r).removeprefix("./") for r in kustomization.get("resources") or []]
    if (root / rel).name not in listed:
        return None
    version: tuple[str, str] = (rel, FLUX_INSTANCE_DEFAULT)
    for source in (document.get("spec") or {}).get("valuesFrom") or []:
        generator = {"ConfigMap": "configMapGenerator", "Secret": "secretGenerator"}
        made = [
            g for g in kustomization.get(generator.get(source.get("kind"), "-")) or []
            if g.get("name") == source.get("name")
        ]  # fmt: skip
        key = source.get("valuesKey", "values.yaml")
        files = [f.partition("=")[::2] for g in made for f in g.get("files") or []]
        paths = [path or name for name, path in files if (name if path else Path(name).name) == key]
        if len(paths) != 1 or "targetPath" in source or paths[0].startswith(("/", "../")):
            return None
        values = (_load(folder / paths[0]) or [None])[0] if (folder / paths[0]).is_file() else None
        if not isinstance(values, dict):
            return None
        set_here = ((values.get("instance") or {}).get("distribution") or {}).get("version")
        if set_here is not None:
            version = ((folder / paths[0]).relative_to(root).as_posix(), str(set_here))
    return version


# ``NAME = value`` as GNU make (``=``, ``:=``, ``::=``, ``?=``) and the shell (``NAME=value``,
# ``export NAME=value``) write an assignment.
_ASSIGNMENT = re.compile(r"^(?:export[ \t]+)?([A-Za-z_]\w*)[ \t]*(\?=|::?=|=)[ \t]*(.*)$")
# A release written as a variable: ``$(NAME)`` (make), ``${NAME}``/``$NAME`` (shell), after a ``v``.
_RELEASE_VARIABLE = re.compile(r"v?\$(?:\((\w+)\)|\{(\w+)\}|(\w+))")


def _kept_url_pins(root: Path) -> list[FluxPin]:
    """A flux2 URL a script's or Makefile's line keeps in a variable (``NAME=URL``) or gives
    ``curl``/``wget`` (kind "kustomize": the release's install.yaml or manifests.tar.gz); a
    release written as a variable is the literal the file assigns it, else as written. A
    comment or an ``echo`` fetches nothing."""
    pins = []
    for rel in _command_files(root):
        lines = (root / rel).read_text("utf-8", errors="replace").splitlines()
        assigned = _literal_assignments(lines)
        read = _chart_reads(root, rel, lines)
        for line in lines:
            body = line.strip()
            if body.startswith("#"):
                continue
            for word in _kept_urls(body):
                release = _flux2_ref(word) or _tarball_release(word)
                variable = _RELEASE_VARIABLE.fullmatch(release or "")
                name = next(g for g in variable.groups() if g) if variable else ""
                if name in read:  # a chart's key, read by yq: that key is the pin
                    pins.append(FluxPin(*read[name]))
                    continue
                if variable is not None:  # no literal (``:=$(shell …)``): as written, unproven
                    release = assigned.get(name, release)
                if release:
                    pins.append(FluxPin(rel, "kustomize", release))
    return list(dict.fromkeys(pins))


def _chart_reads(root: Path, rel: str, lines: list[str]) -> dict[str, tuple[str, str, str]]:
    """NAME -> (chart file, "kustomize", value) for ``NAME=$(yq '.appVersion' Chart.yaml)``:
    the script's variable is that top-level key of the chart (a path from the repository's
    root, where giantswarm/flux-app's CONTRIBUTING.md runs its script, or the script's)."""
    found = {}
    for line in lines:
        match = _ASSIGNMENT.match(line.strip())
        value = match.group(3) if match else ""
        if not (value.startswith("$(") and value.endswith(")")):
            continue
        words = shlex.split(value[2:-1])
        if words[:1] != ["yq"] or not words[-1].endswith("Chart.yaml"):
            continue
        key = next((w[1:] for w in words if w in (".appVersion", ".version")), None)
        for base in (root, (root / rel).parent):
            chart = (base / words[-1]).resolve()
            if key and chart.is_file():
                document = YAML(typ="safe").load(chart.read_text("utf-8"))
                where = chart.relative_to(root.resolve()).as_posix()
                found[match.group(1)] = (where, "kustomize", str(document[key]))  # type: ignore[union-attr]
                break
    return found


def _tarball_release(word: str) -> str | None:
    """The release of ``https://github.com/fluxcd/flux2/releases/download/<tag>/manifests.tar.gz``,
    the asset of each flux2 release that holds its manifests."""
    try:
        url = urlsplit(word)
    except ValueError:
        return None
    parts = url.path.strip("/").split("/")
    if url.hostname != "github.com" or len(parts) != 6 or parts[5] != "manifests.tar.gz":
        return None
    if parts[:5] == ["fluxcd", "flux2", "releases", "latest", "download"]:
        return "latest"  # the newest release's asset: named, never a release
    return parts[4] if parts[:4] == ["fluxcd", "flux2", "releases", "download"] else None


def _kept_urls(body: str) -> list[str]:
    """The words of a line that may be a URL it keeps: an assignment's value, or each word
    of a ``curl``/``wget`` command."""
    assignment = _ASSIGNMENT.match(body)
    if assignment is not None:
        return [assignment.group(3).split("#")[0].strip().strip("\"'")]
    try:
        words = shlex.split(body, comments=True)
    except ValueError:  # a line continued by a backslash, an open quote: its quotes stay
        words = [word.strip("\"'") for word in body.split()]
    return words if {"curl", "wget"} & set(words) else []


def _literal_assignments(lines: list[str]) -> dict[str, str]:
    """NAME -> the literal the file last assigns it (``?=`` only when unset, as make does);
    a value that is not a plain word (``$(shell …)``) is no literal."""
    assigned: dict[str, str] = {}
    for line in lines:
        match = _ASSIGNMENT.match(line.strip())
        if match is None or (match.group(2) == "?=" and match.group(1) in assigned):
            continue
        value = match.group(3).split("#")[0].strip().strip("\"'")
        if re.fullmatch(r"v?\d+\.\d+\.\d+[\w.+-]*", value):
            assigned[match.group(1)] = value
        else:
            assigned.pop(match.group(1), None)
    return assigned


# cloud-init's user-data formats (its "User data formats" documentation): a cloud-config
# file, a script, an include list, a boothook, a part-handler, a Jinja template, a MIME
# multi-part archive.
_USER_DATA_STARTS = (
    "#cloud-config", "#!", "#include", "#cloud-boothook", "#part-handler", "## template: jinja",
    "Content-Type: multipart/", "MIME-Version:",
)  # fmt: skip


def _cloud_init_templates(root: Path) -> list[str]:
    """The Terraform templates (``*.tftpl``) that are cloud-init user-data by their first line,
    or that name a flux2 release's ``install.yaml``: these install Flux; any other (a kustomize
    patch given to ``templatefile()``) installs nothing."""
    found = []
    for rel in _files_ending(root, ".tftpl"):
        text = (root / rel).read_text("utf-8", errors="replace")
        first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
        install = re.search(
            r"github\.com/fluxcd/flux2/releases/download/[^/\s]+/install\.yaml", text
        )
        if first.startswith(_USER_DATA_STARTS) or install is not None:
            found.append(rel)
    return found


def _image_arg_pins(root: Path) -> list[FluxPin]:
    """The Flux CLI image a ``*.dockerfile`` (``docker build -f``; Renovate's dockerfile
    manager reads the name) keeps in an ``ARG NAME=<image>:<tag>`` for a ``FROM $NAME``: the
    tag, a ``v$VAR`` the literal ``ARG VAR=`` sets (Docker substitutes build args in ARG
    values); with ``FROM $NAME@sha256:…`` the digest decides the image, so the tag as written."""
    pins = []
    for rel in _files_ending(root, ".dockerfile"):
        text = (root / rel).read_text("utf-8")
        args = dict(re.findall(r"(?m)^ARG[ \t]+(\w+)=(\S+)", text))
        for name, value in args.items():
            image, _, tag = value.rpartition(":")
            if image.split("/")[-2:] != ["fluxcd", "flux-cli"]:
                continue
            variable = re.fullmatch(r"v?\$\{?(\w+)\}?", tag)
            if re.search(rf"\$\{{?{name}\}}?@sha256:", text) is None and variable is not None:
                tag = args.get(variable.group(1), tag)
            pins.append(FluxPin(rel, "cli", tag))
    return pins
