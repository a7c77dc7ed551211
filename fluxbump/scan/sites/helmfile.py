"""helmfile: the ``releases:`` of a ``helmfile.yaml`` (or its Go template, ``*.yaml.gotmpl``).

A release installs ``chart`` (``repo/name`` or ``oci://…/name``) at ``version`` before Flux
runs, or beside it: a bootstrap of flux-operator's charts, or of the community flux2 chart
itself, whose version must then be the one the cluster's HelmRelease deploys. Each such
``version`` is a pin of that chart (``Role.HELMFILE``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile, line_end
from fluxbump.yamlio import blockyaml, yamldoc


def releases(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], template: str | None = None
) -> list[PinSite]:
    """helmfile ``releases:`` entries of ``charts`` (``repo/chart`` or an OCI URL; a local
    path's version is no chart's). ``template``: the Go template text ``root`` was read from
    with its actions blanked; a version written as an action is then its text."""
    sites = []
    for position, release in yamldoc.items(yamldoc.child(root, "releases")):
        chart = (yamldoc.text_of(yamldoc.child(release, "chart")) or "").strip().rstrip("/")
        name = chart.rsplit("/", 1)[-1]
        path = ("releases", position, "version")
        scalar = yamldoc.scalar_at(root, index, path)
        if template is not None and scalar is not None:
            scalar = as_written(scalar, template, release, "version")
        local = chart.startswith(".")  # ./charts/x: (a template's "/x" is its blanked {{ }}/x)
        if local or "/" not in chart or name not in charts or scalar is None or not scalar.value:
            continue
        owner = f"helmfile release {yamldoc.text_of(yamldoc.child(release, 'name')) or name}"
        sites.append(yaml_site(Role.HELMFILE, source.rel, scalar, subject=name, owner=owner))
    return sites


# A Go template action (``{{ … }}``, ``{{- … -}}``), possibly over several lines.
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def template_releases(source: SourceFile, charts: frozenset[str]) -> list[PinSite]:
    """The chart pins of a helmfile Go template (``helmfile.yaml.gotmpl``): its YAML read
    with every ``{{ … }}`` blanked to spaces (newlines kept, so every offset and line is the
    file's own). A literal ``version:`` is a pin, edited as text (never re-parsed as YAML); a
    version that is or holds a template action stays as written, an unproven site."""

    def found(index: int, root: Any) -> list[PinSite]:
        if not yamldoc.is_sequence(yamldoc.child(root, "releases")):
            return []
        return releases(source, index, root, charts, source.text)

    return template_sites(source, found)


def template_sites(source: SourceFile, find: Callable[[int, Any], list[PinSite]]) -> list[PinSite]:
    """What ``find`` (document index, root node) reads in a helmfile Go template: its YAML
    with every ``{{ … }}`` blanked to spaces (newlines kept, so every offset and line is the
    file's own), each site made a text one; none when it is no YAML even so."""
    blanked = _ACTION.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source.text)
    try:
        documents = blockyaml.compose_all(blanked, source.rel)
    except UsageError:  # not YAML even without its actions: its helm commands only
        return []
    sites = [site for index, root in enumerate(documents) for site in find(index, root)]
    return [_text_site(s, source.text) for s in sites]


def as_written(scalar: yamldoc.Scalar, template: str, mapping: Any, key: str) -> yamldoc.Scalar:
    """The value of ``key`` of ``mapping`` as a template holds it (``_as_written``)."""
    return _as_written(scalar, template, _key_end(mapping, key))


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
    rest = template[key_end : line_end(template, key_end)]
    action = _ACTION.search(rest)
    if action is None:
        return scalar
    start = key_end + action.start()
    return replace(scalar, value=action.group(0), start=start, end=start + len(action.group(0)))
