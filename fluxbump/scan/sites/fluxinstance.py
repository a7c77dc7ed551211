"""flux-operator: the Flux release a ``FluxInstance`` asks the operator to install.

``FluxInstance`` (``fluxcd.controlplane.io/*``) ``spec.distribution.version``, and the same
value in a HelmRelease of the ``flux-instance`` chart (``spec.values.instance.distribution.
version``). The operator reads either as a semver range (``2.x``, ``2.4.x``) or an exact
release: a range is checked to admit the target and never rewritten. A flux-instance
HelmRelease that sets no version gets the chart's default, ``2.x`` (its values.yaml): the
newest Flux 2.x of the operator's distribution artifact, shown at the values that leave it
out; with ``valuesFrom`` the version may be set there, so it is shown so here, and followed to
the files kustomize generates those sources of by ``scan/valuesfrom.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites import (
    helmfile,
    object_name,
    resourceset,
    scalar_span,
    shellheredoc,
    terraform,
    writefiles,
)
from fluxbump.scan.sites.kustomizeremote import follow_file_variables
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

_CHART = "flux-instance"
VALUES_PATH = ("spec", "values", "instance", "distribution", "version")
IN_VALUES = VALUES_PATH[2:]  # ``instance.distribution.version`` of the chart's values
# flux-instance's values.yaml: ``instance.distribution.version: "2.x"``.
CHART_DEFAULT = "2.x"
VALUES_FROM = "valuesFrom"


# What ``may_hold_instance`` needs one of (``releases._may_hold_release_pins`` tests these
# first, for every Flux-release test at once).
NEEDED = (b"distribution", b"flux-instance")


def may_hold_instance(raw: bytes) -> bool:
    """The byte test run on every cluster file before any parse."""
    by_value = b"distribution" in raw and (b"FluxInstance" in raw or b"instance:" in raw)
    return by_value or b"flux-instance" in raw  # (a release of the chart's default)


def find_flux_instance(source: SourceFile) -> list[PinSite]:
    """Each FluxInstance's distribution version, and each flux-instance HelmRelease's (or
    helmfile release's, or Terraform ``helm_release``'s)."""
    if source.rel.endswith(_TEMPLATES):
        return find_template_instances(source)
    if source.rel.endswith(".tf"):
        return find_terraform_instances(source)
    if source.rel.endswith(shellheredoc.SCRIPTS):
        return find_script_instances(source)
    sites = []
    for index, root, at in resourceset.objects(blockyaml.compose_all(source.text, source.rel)):
        sites += resourceset.placed(_object_pins(source, index, root), at)
    return sites


def find_template_instances(source: SourceFile) -> list[PinSite]:
    """The Flux release a helmfile Go template (``helmfile.yaml.gotmpl``) installs the
    flux-instance chart with (``_helmfile_values``), edited as text; one written as a
    template action is shown as written (unproven)."""
    if not source.rel.endswith(_TEMPLATES) or not may_hold_instance(source.raw):
        return []
    return helmfile.template_sites(
        source, lambda index, root: _helmfile_values(source, index, root, source.text)
    )


_TEMPLATES = (".yaml.gotmpl", ".yml.gotmpl")


def find_terraform_instances(source: SourceFile) -> list[PinSite]:
    """The Flux releases a ``.tf`` file installs through flux-operator: by a ``helm_release``
    of the flux-instance chart, or a FluxInstance written in a heredoc or as a Terraform
    object, in file order."""
    if not source.rel.endswith(".tf"):
        return []
    found = _helm_release_instances(source) + _heredoc_instances(source)
    found += _object_instances(source)
    return sorted(found, key=lambda site: site.start)


def _helm_release_instances(source: SourceFile) -> list[PinSite]:
    """The Flux release each Terraform ``helm_release`` of the chart installs (a bootstrap
    of the operator, as flux-operator's d2 reference once did): the last ``set`` of
    ``instance.distribution.version`` (the Helm provider applies ``set`` over ``values``), a
    literal edited as text; else, with ``values`` (a file, a ``templatefile``) or a ``set``
    this cannot read, unproven at that line; else the chart's default at its ``chart``."""
    if _CHART.encode() not in source.raw:
        return []
    sites = []
    for block in terraform.resource_blocks(source, "helm_release"):
        chart = block.chart()
        if chart is None or terraform.chart_name(chart[1]) != _CHART:
            continue
        site = _terraform_set(source, block)
        if site is None:
            opaque = _terraform_opaque(source, block)
            at, why = (chart[0], "chart default") if opaque is None else (opaque, "not read")
            value = CHART_DEFAULT if opaque is None else _TF_VALUES
            site = replace(source.text_site(Role.INSTANCE, at, value, "Flux", ""), end=at)
            site = replace(site, owner=f"{block.owner} values ({why})")  # never moved
        sites.append(site)
    return sites


def _heredoc_instances(source: SourceFile) -> list[PinSite]:
    """The distribution version of each FluxInstance a heredoc of the file writes (a
    ``kubectl_manifest``'s ``yaml_body``, ``yamldecode(<<-EOT … EOT)``), read as the YAML
    Terraform passes on (``%{ … }`` directives blanked and ``<<-``'s indentation made spaces,
    offsets kept; an indented body is the same YAML) and edited as text in the file. A
    version Terraform interpolates whole (``${var.flux_version}``) is that expression:
    ``terraform.follow_variables`` follows a variable to the literals that set it; any other
    stays unproven, as does a heredoc naming FluxInstance that is no YAML before Terraform
    renders it (an interpolation that writes YAML), shown at its first line."""
    if b"FluxInstance" not in source.raw:
        return []
    sites = []
    for start, end in terraform.heredocs(source.text):
        body = _spaced(writefiles.blank_directives(source.text[start:end]))
        if "FluxInstance" not in body:
            continue
        inner = SourceFile(source.rel, body.encode("utf-8"), body)
        try:
            documents = blockyaml.compose_all(body, source.rel)
        except UsageError:
            unread = source.text_site(Role.INSTANCE, start, _HEREDOC, "Flux", _HEREDOC_UNREAD)
            sites.append(replace(unread, end=start))  # never moved
            continue
        for index, root, _ in resourceset.objects(documents):
            sites += [_in_heredoc(source, start, s) for s in _object_pins(inner, index, root)]
    return sites


def find_script_instances(source: SourceFile) -> list[PinSite]:
    """The distribution version of each FluxInstance a shell script applies from a heredoc
    (``kubectl apply -f - <<EOF``, flux-operator's documented bootstrap), edited as text in
    the script; one the shell expands (``$FLUX_VERSION``) is the literal the script assigns,
    else as written (unproven). A body naming FluxInstance that is no YAML until the shell
    expands it is shown unproven at its first line."""
    if not source.rel.endswith(shellheredoc.SCRIPTS) or b"FluxInstance" not in source.raw:
        return []
    expanded: list[PinSite] = []
    verbatim: list[PinSite] = []
    for offset, body, expands in shellheredoc.yaml_bodies(source):
        if "FluxInstance" not in body.text:
            continue
        try:
            documents = blockyaml.compose_all(body.text, source.rel)
        except UsageError:
            unread = source.text_site(Role.INSTANCE, offset, _HEREDOC, "Flux", _SCRIPT_UNREAD)
            verbatim.append(replace(unread, end=offset))  # never moved
            continue
        for index, root, _ in resourceset.objects(documents):
            pins = [shellheredoc.placed(source, offset, s) for s in _object_pins(body, index, root)]
            (expanded if expands else verbatim).extend(pins)
    found = follow_file_variables(source, expanded) + verbatim
    return sorted(found, key=lambda site: site.start)


# The argument a manifest resource takes its object in, written as a Terraform object:
# ``kubernetes_manifest``'s ``manifest = { … }``, ``kubectl_manifest``'s ``yaml_body =
# yamlencode({ … })``.
_MANIFEST_OBJECT = re.compile(
    r"^[ \t]*(?:manifest|yaml_body)[ \t]*=[ \t]*(?:yamlencode\([ \t]*)?\{[ \t]*(?:#.*|//.*)?\r?$"
)
_MANIFEST_RESOURCES = ("kubernetes_manifest", "kubectl_manifest")
# One attribute of an object on its own line (``key = value``, ``"key": value``), and its
# value's text.
_ATTRIBUTE = re.compile(
    r'^[ \t]*"?(?P<key>[A-Za-z_][\w-]*)"?[ \t]*[=:][ \t]*(?P<value>[^\s#/][^#\r\n]*?)'
    r"[ \t]*,?[ \t]*(?:#.*|//.*)?\r?$"
)


def _object_instances(source: SourceFile) -> list[PinSite]:
    """The distribution version of each FluxInstance a manifest resource writes as a
    Terraform object (``_MANIFEST_OBJECT``): a literal, edited as text; ``var.NAME``, which
    ``terraform.follow_variables`` follows; any other expression as written (unproven)."""
    if b"FluxInstance" not in source.raw:
        return []
    sites = []
    for resource in _MANIFEST_RESOURCES:
        for block in terraform.resource_blocks(source, resource):
            for start, line in block.lines:
                opened = _MANIFEST_OBJECT.match(line)
                if opened is None:
                    continue
                manifest = _attributes(source.text, start + line.index("{") + 1)
                site = _object_version(source, manifest, f"{block.owner} FluxInstance")
                sites += [site] if site is not None else []
    return sites


def _object_version(
    source: SourceFile, manifest: dict[str, tuple[int, str]], owner: str
) -> PinSite | None:
    kind = terraform.STRING_LITERAL.fullmatch(manifest.get("kind", (0, ""))[1])
    api = terraform.STRING_LITERAL.fullmatch(manifest.get("apiVersion", (0, ""))[1])
    if kind is None or kind["text"] != "FluxInstance" or api is None:
        return None
    if not api["text"].startswith(resourceset.API_GROUP):
        return None
    found = manifest
    for key in ("spec", "distribution"):
        if key not in found or not found[key][1].startswith("{"):
            return None
        found = _attributes(source.text, found[key][0] + 1)
    if "version" not in found:
        return None
    at, value = _expression_value(*found["version"])
    return source.text_site(Role.INSTANCE, at, value, "Flux", owner)


def _expression_value(at: int, text: str) -> tuple[int, str]:
    """A Terraform expression's value at ``at``: a string literal's text (after its quote),
    else the expression as written (``var.NAME``, which ``follow_variables`` follows)."""
    literal = terraform.STRING_LITERAL.fullmatch(text)
    return (at + 1, literal["text"]) if literal is not None else (at, text)


def _attributes(text: str, body: int) -> dict[str, tuple[int, str]]:
    """The attributes of the object whose body starts at ``body`` (after its ``{``), each
    key with where its value starts and the value's text (a nested object's from its ``{``)."""
    found = {}
    for start, entry in terraform.object_entries(text, body)[0]:
        attribute = _ATTRIBUTE.match(entry)
        if attribute is not None:
            found[attribute["key"]] = (start + attribute.start("value"), attribute["value"])
    return found


_HEREDOC = "heredoc"
_HEREDOC_UNREAD = "heredoc FluxInstance (not read: no YAML before Terraform renders it)"
_SCRIPT_UNREAD = "heredoc FluxInstance (not read: no YAML before the shell expands it)"
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def _spaced(body: str) -> str:
    """A heredoc body with the tabs of its lines' indentation made spaces, one for one (the
    indentation ``<<-`` strips; YAML allows no tab there): every offset kept."""
    if "\t" not in body:
        return body
    return _INDENT.sub(lambda m: " " * len(m.group(0)), body)


# A string of one Terraform interpolation (``${var.flux_version}``): its expression.
_INTERPOLATION = re.compile(r"\$\{[ \t]*(?P<expression>[^${}\s]+)[ \t]*\}")


def _in_heredoc(source: SourceFile, offset: int, site: PinSite) -> PinSite:
    """A site of a heredoc's YAML (``offset``: where its body starts) as one of the file,
    spliced as text there."""
    start, end = scalar_span(source.text, offset + site.start, offset + site.end)
    value = site.value
    interpolated = _INTERPOLATION.fullmatch(source.text, start, end)
    if interpolated is not None:
        start, end = interpolated.span("expression")
        value = interpolated["expression"]
    column = start - source.line_start(start) + 1
    return replace(site, line=source.line_at(start), column=column, start=start, end=end,
                   value=value, doc_index=None)  # fmt: skip


# A ``set`` entry's argument (``name``, ``value``) and a literal string as its value.
_TF_ARGUMENT = re.compile(
    r'^[ \t]*(?P<key>name|value)[ \t]*=[ \t]*(?P<value>"[^"\n]*"|[^\s#/][^#\r\n]*?)'
    r"[ \t]*(?:#.*|//.*)?\r?$"
)
# What may set the version besides a literal ``set``: values, a generated ``set`` (a
# ``dynamic`` block, or ``set =`` any expression but a list written out).
_TF_VALUES = "values"
_TF_OPAQUE = re.compile(r'^[ \t]*(?:values[ \t]*=|dynamic[ \t]+"set"|set[ \t]*=(?![ \t]*\[))')
_TF_SETS = re.compile(r"^[ \t]*set[ \t]*(?:=[ \t]*\[|\{)")


def _terraform_sets(
    source: SourceFile, block: terraform.ResourceBlock
) -> list[tuple[int, dict[str, Any]]]:
    """Each ``set`` of a block (``set { … }``, or provider 3's ``set = [{ … }]``): where it
    starts, and its arguments' text with where each starts (none: an expression)."""
    found = []
    for start, line in block.lines:
        if not _TF_SETS.match(line):
            continue
        for entries in terraform.nested_entries(source.text, start, line):
            arguments: dict[str, Any] = {}
            for begin, entry in entries:
                match = _TF_ARGUMENT.match(entry)
                if match is not None:
                    arguments[match.group("key")] = (begin + match.start("value"), match["value"])
            found.append((_text_start(*entries[0]) if entries else start, arguments))
    return found


def _text_start(start: int, line: str) -> int:
    """Where the text of ``line`` (at ``start``) begins, after its indentation."""
    return start + len(line) - len(line.lstrip())


def _terraform_set(source: SourceFile, block: terraform.ResourceBlock) -> PinSite | None:
    """The last ``set`` of ``instance.distribution.version``: a literal, else as written."""
    path = ".".join(IN_VALUES)
    for _, arguments in reversed(_terraform_sets(source, block)):
        name = terraform.STRING_LITERAL.fullmatch(arguments.get("name", (0, ""))[1])
        if name is None or name["text"] != path or "value" not in arguments:
            continue
        at, value = _expression_value(*arguments["value"])
        return source.text_site(Role.INSTANCE, at, value, "Flux", f"{block.owner} set {path}")
    return None


def _terraform_opaque(source: SourceFile, block: terraform.ResourceBlock) -> int | None:
    """Where a block gives values this does not read (or a ``set`` of a name written as an
    expression), which may set the version: None when it gives none."""
    for start, line in block.lines:
        if _TF_OPAQUE.match(line):
            return _text_start(start, line)
    for at, arguments in _terraform_sets(source, block):
        name = arguments.get("name")
        if name is None or terraform.STRING_LITERAL.fullmatch(name[1]) is None:
            return at if name is None else int(name[0])
    return None


def _helmfile_values(
    source: SourceFile, index: int, root: Any, template: str | None = None
) -> list[PinSite]:
    """``instance.distribution.version`` in the inline ``values:`` of each helmfile release
    of the chart (a bootstrap installs Flux so before the operator reconciles it): helmfile
    merges the list in order, so the last inline mapping that sets it; none when a values
    file after it may (a file is not followed: a template such as onedr0p's reads the
    HelmRelease's values, which are read there)."""
    sites = []
    for position, release in yamldoc.items(yamldoc.child(root, "releases")):
        chart = (yamldoc.text_of(yamldoc.child(release, "chart")) or "").rstrip("/")
        if chart.startswith(".") or "/" not in chart or chart.rsplit("/", 1)[-1] != _CHART:
            continue
        name = yamldoc.text_of(yamldoc.child(release, "name")) or _CHART
        owner = f"helmfile release {name} values"
        for item, values in reversed(list(yamldoc.items(yamldoc.child(release, "values")))):
            if not yamldoc.is_mapping(values):
                break  # a values file: what it sets is not read here
            path = ("releases", position, "values", item, *IN_VALUES)
            scalar = yamldoc.scalar_at(root, index, path)
            if scalar is not None and template is not None:  # (an action blanked: its text)
                mapping = yamldoc.walk(root, path[:-1])
                scalar = helmfile.as_written(scalar, template, mapping, path[-1])
            if scalar is None or not scalar.value:
                continue
            sites.append(yaml_site(Role.INSTANCE, source.rel, scalar, subject="Flux", owner=owner))
            break
    return sites


def _object_pins(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    if kind is None and yamldoc.is_sequence(yamldoc.child(root, "releases")):
        return _helmfile_values(source, index, root)
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    if kind == "FluxInstance" and api.startswith(resourceset.API_GROUP):
        path: yamldoc.YamlPath = ("spec", "distribution", "version")
        owner = f"FluxInstance {object_name(root)}"
    elif kind == "HelmRelease" and deploys_flux_instance(root):
        path, owner = VALUES_PATH, f"{object_name(root)} values"
    else:
        return []
    scalar = yamldoc.scalar_at(root, index, path)
    if scalar is not None and scalar.value:
        return [yaml_site(Role.INSTANCE, source.rel, scalar, subject="Flux", owner=owner)]
    if kind == "HelmRelease" and yamldoc.walk(root, path) is None:
        return [_chart_default(source, root, index, owner)]
    return []


def _chart_default(source: SourceFile, root: Any, index: int, owner: str) -> PinSite:
    """The version a flux-instance release that sets none installs, at the key of the
    deepest values it gives on the way to it (``distribution:``, ``instance:``, ``values:``),
    else at its chart's; never edited (a range, or unproven)."""
    key = None
    for depth in range(2, len(VALUES_PATH)):
        found = _key_node(yamldoc.walk(root, VALUES_PATH[: depth - 1]), VALUES_PATH[depth - 1])
        key = found or key
        if found is None:
            break
    key = key or _key_node(yamldoc.child(root, "spec"), "chartRef")
    key = key or _key_node(yamldoc.child(root, "spec"), "chart")
    given = yamldoc.child(yamldoc.child(root, "spec"), VALUES_FROM) is not None
    value, why = (VALUES_FROM, VALUES_FROM) if given else (CHART_DEFAULT, "chart default")
    scalar = yamldoc.located(key, index, VALUES_PATH)
    assert scalar is not None  # (a HelmRelease of the chart names it under spec)
    at = replace(scalar, value=value, end=scalar.start)  # nothing to splice: never moved
    return yaml_site(Role.INSTANCE, source.rel, at, subject="Flux", owner=f"{owner} ({why})")


def _key_node(mapping: Any, key: str) -> Any:
    """The key node of ``key`` in a mapping node (where its line is), or None."""
    if not yamldoc.is_mapping(mapping):
        return None
    return next((k for k, _ in mapping.value if yamldoc.text_of(k) == key), None)


def subchart_keys(chart: SourceFile, vendored: Path) -> list[str]:
    """The values keys under which a local chart (an umbrella) gives the flux-instance chart
    its values, as Helm passes a subchart its own: each dependency of it (its ``alias``, else
    its name), else the chart vendored in its ``charts/`` (a directory, as ``helm pull
    --untar`` leaves it, or an archive), under its name."""
    keys = []
    if _CHART.encode() in chart.raw:  # (a fleet's charts: most name no such dependency)
        docs = blockyaml.compose_all(chart.text, chart.rel)
        for _, dep in yamldoc.items(yamldoc.child(docs[0] if docs else None, "dependencies")):
            if yamldoc.text_of(yamldoc.child(dep, "name")) == _CHART:
                keys.append(yamldoc.text_of(yamldoc.child(dep, "alias")) or _CHART)
    if not keys and vendored.is_dir() and _vendors(vendored):
        keys.append(_CHART)
    return keys


def _vendors(vendored: Path) -> bool:
    """Whether a ``charts/`` folder holds the chart, untarred or as its archive."""
    untarred = (vendored / _CHART / "Chart.yaml").is_file()
    return untarred or any(vendored.glob(f"{_CHART}-*.tgz"))


def find_subchart_instances(values: SourceFile, keys: list[str], chart: str) -> list[PinSite]:
    """The Flux release an umbrella chart's ``values.yaml`` sets for its flux-instance
    subchart (``flux-instance.instance.distribution.version``): what the FluxInstance the
    subchart renders asks the operator for. One the file leaves out is the subchart's own
    default, not pinned here."""
    paths = [((key, *IN_VALUES), f"chart {chart}'s {key} values") for key in keys]
    return _values_pins(values, paths)


def template_value_paths(template: SourceFile) -> list[tuple[str, ...]]:
    """The values a local chart's own template of a FluxInstance takes its distribution
    version from (``version: {{ .Values.flux.version }}`` under ``distribution:``): that
    chart's values then pin the release, as a subchart's do."""
    if b"FluxInstance" not in template.raw or b"distribution" not in template.raw:
        return []
    text = template.text
    return [
        tuple(match.group("path").split("."))
        for match in _TEMPLATE_VERSION.finditer(text)
        if _parent_key(text, match.start(), len(match.group("indent"))) == "distribution"
    ]


# A ``version:`` line whose value is one chart value, as Helm renders it (``| quote`` too).
_TEMPLATE_VERSION = re.compile(
    r"""^(?P<indent>[ \t]+)version:[ \t]*["']?\{\{-?[ \t]*\.Values\.(?P<path>[\w.]+)"""
    r"""(?:[ \t]*\|[ \t]*quote)?[ \t]*-?\}\}["']?[ \t]*\r?$""",
    re.MULTILINE,
)


def _parent_key(text: str, start: int, indent: int) -> str | None:
    """The key of the nearest line above ``start`` indented less than ``indent`` (template
    action lines, ``{{- if … }}``, are not YAML and are passed over)."""
    for line in reversed(text[:start].splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith(("{{", "#")):
            continue
        if len(line) - len(line.lstrip(" \t")) < indent:
            return stripped.split(":", 1)[0].strip() if stripped.endswith(":") else None
    return None


def find_templated_instances(
    values: SourceFile, paths: list[tuple[str, ...]], chart: str
) -> list[PinSite]:
    """The Flux release a local chart's ``values.yaml`` sets at each of ``paths``, the values
    its own FluxInstance template renders its version from (``template_value_paths``)."""
    owner = f"chart {chart}'s values (its FluxInstance template)"
    return _values_pins(values, [(path, owner) for path in paths])


def _values_pins(values: SourceFile, paths: Sequence[tuple[tuple[str, ...], str]]) -> list[PinSite]:
    """A FluxInstance pin at each (path, owner) a chart's values file sets to a scalar."""
    docs = blockyaml.compose_all(values.text, values.rel)
    sites = []
    for path, owner in paths if docs else []:
        scalar = yamldoc.scalar_at(docs[0], 0, path)
        if scalar is not None and scalar.value:
            sites.append(yaml_site(Role.INSTANCE, values.rel, scalar, subject="Flux", owner=owner))
    return sites


def deploys_flux_instance(root: Any) -> bool:
    """A HelmRelease of the chart by name, or by a ``chartRef`` to a source named after it
    (an OCIRepository of ``oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance``)."""
    chart = yamldoc.text_of(yamldoc.walk(root, ("spec", "chart", "spec", "chart"))) or ""
    ref = yamldoc.text_of(yamldoc.walk(root, ("spec", "chartRef", "name"))) or ""
    return chart.rsplit("/", 1)[-1] == _CHART or _CHART in ref
