"""Fields Flux renamed or removed between API versions, rewritten in place.

Moving a manifest's ``apiVersion`` is not enough where the schema changed: kustomize-controller's
``v1`` dropped ``spec.patchesStrategicMerge`` and ``spec.patchesJson6902`` for ``spec.patches``
and ``spec.validation`` (a no-op since v1beta2); helm-controller's ``v2`` dropped
``spec.chart.spec.valuesFile`` for ``valuesFiles`` and the post-renderers' two patch lists for
``patches``; source-controller's ``v1`` did the same to ``HelmChart.spec.valuesFile`` and
dropped ``GitRepository.spec.gitImplementation`` (a no-op since go-git is the only one). Each
rule applies only when the target version's schema lacks the old field.

``flux migrate -f`` re-serialises such files; here only the field's own lines change: a key is
renamed in place, a removed entry's lines are deleted, and a patch written as YAML data becomes
a literal block scalar holding the same lines (indented further only where YAML requires it), so
comments and layout inside the patch survive. Every rewrite is proven: the new document's data
is the old data transformed as Flux's migration notes say, and each new patch string parses to
the data it replaces; anything else is refused with the field's ``file:line``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.scan.sources import line_break, line_start, lines_kept, next_line
from fluxbump.yamlio.yamldoc import child, is_mapping, is_scalar, is_sequence

# What the migrated data must be: a function that edits a deep copy of the old data.
Transform = Callable[[Any], None]


@dataclass(frozen=True)
class Rewrite:
    """Replace ``text[start:end]`` by ``new_text``; shown as ``old -> new`` at ``line``."""

    start: int
    end: int
    new_text: str
    line: int
    column: int
    old: str
    new: str


class Refused(Exception):
    """A rename that cannot be done exactly: the message says where and what to do."""


@dataclass(frozen=True)
class _Field:
    """A mapping (``parent``, at data path ``path``) holding a field the target lacks."""

    parent: Any
    path: tuple[str | int, ...]
    key: Any
    value: Any


# (group, kind) -> the mappings (paths of keys; "*" is each item of a list) and their fields.
_RULES: dict[tuple[str, str], tuple[tuple[tuple[str, ...], str], ...]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (
        (("spec",), "validation"),
        (("spec",), "patchesStrategicMerge"),
        (("spec",), "patchesJson6902"),
    ),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (
        (("spec", "chart", "spec"), "valuesFile"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesStrategicMerge"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesJson6902"),
    ),
    ("source.toolkit.fluxcd.io", "HelmChart"): ((("spec",), "valuesFile"),),
    ("source.toolkit.fluxcd.io", "GitRepository"): ((("spec",), "gitImplementation"),),
}

_DELETED = frozenset({"validation", "gitImplementation"})
_PATCH_LISTS = ("patchesStrategicMerge", "patchesJson6902")


def renamed_fields(
    text: str, node: Any, group: str, kind: str, target_schema: Mapping[str, Any] | None
) -> tuple[list[Rewrite], list[Transform]]:
    """The rewrites of one document's fields the target schema lacks, and the data edits
    they stand for. Raises ``Refused`` when one cannot be rewritten exactly."""
    rewrites: list[Rewrite] = []
    transforms: list[Transform] = []
    for parents, name in _RULES.get((group, kind), ()):
        if target_schema is not None and _schema_has(target_schema, (*parents, name)):
            continue
        for field in _fields(node, parents, name):
            rewrite, transform = _rewrite(text, field)
            rewrites += rewrite
            transforms.append(transform)
    return rewrites, transforms


def _schema_has(schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether an openAPIV3Schema knows the field at ``path`` ("*": a list's items)."""
    node: Any = schema
    for step in path:
        node = node.get("items") if step == "*" else (node.get("properties") or {}).get(step)
        if not isinstance(node, dict):
            return False
    return True


def _fields(node: Any, parents: tuple[str, ...], name: str) -> list[_Field]:
    found: list[_Field] = []
    mappings: list[tuple[Any, tuple[str | int, ...]]] = [(node, ())]
    for step in parents:
        if step == "*":
            mappings = [
                (item, (*path, i))
                for seq, path in mappings
                if is_sequence(seq)
                for i, item in enumerate(seq.value)
            ]
        else:
            mappings = [
                (found_node, (*path, step))
                for mapping, path in mappings
                if (found_node := child(mapping, step)) is not None
            ]
    for mapping, path in mappings:
        if not is_mapping(mapping):
            continue
        for key, value in mapping.value:
            if is_scalar(key) and key.value == name:
                found.append(_Field(mapping, path, key, value))
    return found


def _rewrite(text: str, field: _Field) -> tuple[list[Rewrite], Transform]:
    name = str(field.key.value)
    if field.parent.flow_style or field.key.style:
        raise _refuse(field.key, f"{name} is in a flow mapping or quoted")
    if name in _DELETED:
        return [_delete_entry(text, field)], _deleting(field.path, name)
    siblings = {str(k.value) for k, _ in field.parent.value if is_scalar(k)}
    if name == "valuesFile":
        if "valuesFiles" in siblings:
            raise _refuse(field.key, "valuesFile must be merged into the valuesFiles beside it")
        return _values_files(text, field), _listing(field.path)
    if "patches" in siblings or all(n in siblings for n in _PATCH_LISTS):
        raise _refuse(
            field.key,
            f"{name} must be merged with another patch list into patches (their order matters)",
        )
    if not is_sequence(field.value) or field.value.flow_style:
        raise _refuse(field.key, f"{name} is not a block list")
    rewrites = [_rename_key(field.key, "patches")]
    if name == "patchesStrategicMerge":
        rewrites += [_item_to_patch(text, item) for item in field.value.value]
    else:
        for item in field.value.value:
            patch = child(item, "patch")
            if not is_mapping(item) or item.flow_style or patch is None:
                raise _refuse(item, "a patchesJson6902 item is not a block mapping with a patch")
            key = next(k for k, v in item.value if v is patch)
            rewrites.append(_value_to_literal(text, key, patch))
    return rewrites, _patching(field.path, name)


def _refuse(node: Any, why: str) -> Refused:
    return Refused(f"{node.start_mark.line + 1}: {why}")


def _rename_key(key: Any, new: str) -> Rewrite:
    return Rewrite(
        key.start_mark.index,
        key.end_mark.index,
        new,
        key.start_mark.line + 1,
        key.start_mark.column + 1,
        str(key.value),
        new,
    )


def _line_end(text: str, index: int) -> int:
    """The index just past the line break ending the line holding ``index``."""
    return min(next_line(text, index), len(text))


def _last_index(text: str, node: Any) -> int:
    """The index of the last character of a node's content (not the comments after it)."""
    if is_scalar(node) or node.flow_style or not node.value:
        end = int(node.end_mark.index)
        while end > node.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1  # a block scalar's end mark is past its line breaks
        return max(end - 1, int(node.start_mark.index))
    last = node.value[-1]
    return _last_index(text, last[1] if isinstance(last, tuple) else last)


def _content_end(text: str, node: Any) -> int:
    """Just past the line ending a node's last content, which must end that line."""
    last = _last_index(text, node)
    rest = text[last + 1 : _line_end(text, last)].strip()
    if rest and not rest.startswith("#"):
        raise _refuse(node, "something follows the value on its last line")
    return _line_end(text, last)


def _delete_entry(text: str, field: _Field) -> Rewrite:
    start = line_start(text, field.key.start_mark.index)
    if text[start : field.key.start_mark.index].strip(" ") not in ("",):
        raise _refuse(field.key, f"{field.key.value} does not start its line")
    end = _content_end(text, field.value)
    return Rewrite(
        start,
        end,
        "",
        field.key.start_mark.line + 1,
        field.key.start_mark.column + 1,
        str(field.key.value),
        "(removed)",
    )


def _values_files(text: str, field: _Field) -> list[Rewrite]:
    value = field.value
    if (
        not is_scalar(value)
        or value.style in ("|", ">")
        or value.start_mark.line != field.key.start_mark.line
    ):
        raise _refuse(field.key, "valuesFile is not a one-line scalar")
    raw = text[value.start_mark.index : value.end_mark.index]
    if not value.style and any(c in raw for c in ",[]{}"):
        raise _refuse(field.key, "valuesFile holds a character a flow list would split")
    key = field.key
    between = text[key.end_mark.index : value.start_mark.index]
    return [
        Rewrite(
            key.start_mark.index,
            value.end_mark.index,
            f"valuesFiles{between}[{raw}]",
            key.start_mark.line + 1,
            key.start_mark.column + 1,
            "valuesFile",
            "valuesFiles",
        )
    ]


def _indent_lines(text: str, start: int, end: int, by: int) -> str:
    """``text[start:end]`` (whole lines) with ``by`` spaces put before each non-blank line."""
    pad = " " * by
    return "".join(pad + line if line.strip() else line for line in lines_kept(text[start:end]))


def _item_to_patch(text: str, item: Any) -> Rewrite:
    """A strategic-merge patch written as data (``- kind: …``) becomes ``- patch: |`` with the
    same lines under it, two columns further in (a block scalar's lines must be indented
    more than its key)."""
    if not is_mapping(item) or item.flow_style:
        raise _refuse(item, "a patchesStrategicMerge item is not a block mapping")
    start = int(item.start_mark.index)
    column = int(item.start_mark.column)
    if text[line_start(text, start) : start].strip() != "-":
        raise _refuse(item, "a patchesStrategicMerge item does not follow its '-' on its line")
    end = _content_end(text, item)
    first_end = _line_end(text, start)
    body = text[start:first_end] + _indent_lines(text, first_end, end, 2)
    new_text = f"patch: |{line_break(text, start)}{' ' * (column + 2)}{body}"
    line = item.start_mark.line + 1
    return Rewrite(start, end, new_text, line, column + 1, "patch data", "patch: |")


def _value_to_literal(text: str, key: Any, value: Any) -> Rewrite:
    """A JSON6902 patch written as a YAML list becomes a literal block scalar of its lines."""
    if not (is_sequence(value) or is_mapping(value)) or value.flow_style:
        raise _refuse(value, "a patchesJson6902 patch is not a block list")
    colon = key.end_mark.index
    head_end = _line_end(text, colon)
    head = text[colon:head_end]
    if not head.startswith(":") or value.start_mark.line == key.start_mark.line:
        raise _refuse(key, "the patch list does not start on the line after its key")
    body_start = line_start(text, value.start_mark.index)
    end = _content_end(text, value)
    column, key_column = int(value.start_mark.column), int(key.start_mark.column)
    by = key_column + 2 - column if column <= key_column else 0
    new_text = (
        ": |" + head[1:] + text[head_end:body_start] + _indent_lines(text, body_start, end, by)
    )
    line = key.start_mark.line + 1
    return Rewrite(colon, end, new_text, line, key.start_mark.column + 1, "patch list", "patch: |")


# --- the data each rewrite must produce -------------------------------------------------


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _deleting(path: tuple[str | int, ...], name: str) -> Transform:
    def transform(data: Any) -> None:
        del _at(data, path)[name]

    return transform


def _listing(path: tuple[str | int, ...]) -> Transform:
    def transform(data: Any) -> None:
        mapping = _at(data, path)
        mapping["valuesFiles"] = [mapping.pop("valuesFile")]

    return transform


def _patching(path: tuple[str | int, ...], name: str) -> Transform:
    """Old items become ``{patch: <a string that parses to the old patch>}``; the strings are
    taken from the new data once ``patch_strings_mean`` proved them."""

    def transform(data: Any) -> None:
        mapping = _at(data, path)
        items = mapping.pop(name)
        mapping["patches"] = [
            {"patch": _Parsed(item)}
            if name == "patchesStrategicMerge"
            else {**item, "patch": _Parsed(item.get("patch"))}
            for item in items
        ]

    return transform


class _Parsed:
    """Equal to any string whose YAML is ``data`` (a migrated patch's text)."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and _parses_to(other, self.data)

    __hash__ = None  # type: ignore[assignment]


def _parses_to(text: str, data: Any) -> bool:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return bool(YAML(typ="safe", pure=True).load(text) == data)
    except YAMLError:
        return False


def expected(old: Any, transforms: list[Transform]) -> Any:
    """The old document's data as the rewrites must leave it."""
    data = copy.deepcopy(old)
    for transform in transforms:
        transform(data)
    return data


def refusal(file: str, line_and_why: str, owner: str) -> UsageError:
    line, why = line_and_why.split(": ", 1)
    return UsageError(
        f"{file}:{line}: {owner}: {why}, which fluxbump cannot rewrite exactly; rewrite it by "
        "hand as Flux's migration notes say (patchesStrategicMerge and patchesJson6902 -> "
        "patches, valuesFile -> valuesFiles), then re-run; nothing written"
    )
