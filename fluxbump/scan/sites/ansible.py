"""Ansible installing a Helm chart: a ``kubernetes.core.helm`` task of a role.

A task of the ``kubernetes.core.helm`` module (or its older names ``community.kubernetes.helm``
and ``helm``) installs the chart its ``chart_ref`` names (``flux2``, ``fluxcd-community/flux2``,
the OCI URL) at its ``chart_version``. Either may be a Jinja ``{{ NAME }}`` of a role variable:
the value the role's ``vars/main.yml`` gives NAME, else its ``defaults/main.yml`` (Ansible's
precedence within a role; an inventory may still override a default, as a Terraform module's
caller may override a variable's default). That value is then the pin, edited where it is
written; a variable neither sets stays as written, unproven.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites.terraform import chart_name
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

# (a task's pin is owned by "<module> (<task name>)": renovate-config tells its kind by it)
MODULES = ("kubernetes.core.helm", "community.kubernetes.helm", "helm")
# The keys that hold a list of tasks: a play's, and a block's parts.
_TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
_VARIABLE = re.compile(r"\{\{\s*(?P<name>[A-Za-z_]\w*)\s*\}\}")
# A role's variable files, the one Ansible prefers first.
_VARIABLE_FILES = ("vars/main.yml", "vars/main.yaml", "defaults/main.yml", "defaults/main.yaml")

Read = Callable[[str], SourceFile | None]


def find_helm_chart_pins(source: SourceFile, charts: frozenset[str], read: Read) -> list[PinSite]:
    """The ``chart_version`` of each Helm task of one of ``charts`` in a role's tasks file
    (parsed once for them all), or the role variable's value it names (``read``: a file of
    the repository, None if none)."""
    sites = []
    for task in _chart_tasks(source, charts, read):
        scalar = yamldoc.scalar_at(
            task.root, task.index, (*task.path, task.module, "chart_version")
        )
        if scalar is not None:
            name = yamldoc.text_of(yamldoc.child(task.node, "name")) or source.rel
            owner = f"{task.module} ({name})"
            sites.append(_pin(source, scalar, (task.chart, owner), task.role, read))
    return sites


def is_task_pin(site: PinSite) -> bool:
    """Whether ``site`` is a Helm task's pin (owned by "<module> (<task name>)")."""
    return site.role is Role.HELM_COMMAND and site.owner.startswith(_TASK_OWNERS)


_TASK_OWNERS = tuple(f"{module} (" for module in MODULES)
# A pin a role variable sets: its owner ends with the variable it is the value of.
_OWNER_VARIABLE = re.compile(r"\(\{\{ (?P<name>[A-Za-z_]\w*) \}\}\)$")


def task_pins_like(site: PinSite, source: SourceFile, read: Read) -> list[PinSite]:
    """The pins standing where a task's pin ``site`` stands in another revision of its file
    (``read``: that revision's files): the role variable its owner names, set there, or the
    same task's ``chart_version``."""
    variable = _OWNER_VARIABLE.search(site.owner)
    if variable is None:
        pins = find_helm_chart_pins(source, frozenset({site.subject}), read)
        return [p for p in pins if p.owner == site.owner]
    name = variable.group("name")
    return [
        yaml_site(Role.HELM_COMMAND, source.rel, scalar, subject=site.subject, owner=site.owner)
        for index, root in enumerate(blockyaml.compose_all(source.text, source.rel))
        if (scalar := yamldoc.scalar_at(root, index, (name,))) is not None
    ]


def chart_ref_variables(source: SourceFile, chart: str, read: Read) -> list[str]:
    """The role variables each Helm task of ``chart`` names its ``chart_ref`` by
    (``{{ flux_chart_name }}``), in file order: what a Renovate string must name."""
    tasks = _chart_tasks(source, frozenset({chart}), read)
    names = [_VARIABLE.fullmatch(task.ref.strip()) for task in tasks]
    return [match.group("name") for match in names if match is not None]


@dataclass(frozen=True)
class _Task:
    """A Helm task of a tasks file: where it is, its module, the chart it installs and its
    ``chart_ref`` as written."""

    index: int
    root: Any
    path: yamldoc.YamlPath
    node: Any
    module: str
    role: str
    chart: str
    ref: str


def _chart_tasks(source: SourceFile, charts: frozenset[str], read: Read) -> Iterator[_Task]:
    """Each Helm task of a role's tasks file whose ``chart_ref`` (or the role variable it
    names) is one of ``charts``."""
    if "/tasks/" not in f"/{source.rel}" or b"chart_ref" not in source.raw:
        return
    role = source.rel.rsplit("/tasks/", 1)[0] if "/tasks/" in source.rel else ""
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        for path, node in _tasks(root, ()):
            module = next((m for m in MODULES if yamldoc.child(node, m) is not None), None)
            if module is None:
                continue
            written = yamldoc.text_of(yamldoc.child(yamldoc.child(node, module), "chart_ref"))
            ref = _value(written or "", role, read)
            chart = chart_name(ref) if ref is not None else None
            if chart is not None and chart in charts:
                yield _Task(index, root, path, node, module, role, chart, written or "")


def _tasks(node: Any, path: yamldoc.YamlPath) -> Iterator[tuple[yamldoc.YamlPath, Any]]:
    """Each task of a tasks file or a playbook (into blocks and plays), with its path."""
    for i, item in yamldoc.items(node):
        if not yamldoc.is_mapping(item):
            continue
        nested = [key for key in _TASK_LISTS if yamldoc.is_sequence(yamldoc.child(item, key))]
        for key in nested:
            yield from _tasks(yamldoc.child(item, key), (*path, i, key))
        if not nested:
            yield (*path, i), item


def _pin(
    source: SourceFile, scalar: yamldoc.Scalar, of: tuple[str, str], role: str, read: Read
) -> PinSite:
    """The version a task's ``chart_version`` gives (``of``: its chart and the task): its
    literal, or the role variable's."""
    chart, owner = of
    variable = _VARIABLE.fullmatch(scalar.value.strip())
    setter = _setter(variable.group("name"), role, read) if variable is not None else None
    if variable is None or setter is None:
        return yaml_site(Role.HELM_COMMAND, source.rel, scalar, subject=chart, owner=owner)
    rel, found = setter
    owner = f"{owner} ({{{{ {variable.group('name')} }}}})"
    return yaml_site(Role.HELM_COMMAND, rel, found, subject=chart, owner=owner)


def _value(text: str, role: str, read: Read) -> str | None:
    """A task argument's value: as written, or the role variable it names (None if unset)."""
    variable = _VARIABLE.fullmatch(text.strip())
    if variable is None:
        return text
    setter = _setter(variable.group("name"), role, read)
    return setter[1].value if setter is not None else None


def _setter(name: str, role: str, read: Read) -> tuple[str, yamldoc.Scalar] | None:
    """Where the role gives variable ``name`` a scalar: its file and the scalar."""
    for suffix in _VARIABLE_FILES:
        rel = f"{role}/{suffix}" if role else suffix
        source = read(rel)
        if source is None:
            continue
        for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
            scalar = yamldoc.scalar_at(root, index, (name,))
            if scalar is not None:
                return rel, scalar
    return None
