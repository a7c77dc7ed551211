"""Composed YAML node trees with source positions, for locating pinned scalars.

Composing (not constructing) keeps every node's character offsets, which is what lets the
editor splice new text into the original instead of re-serialising the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fluxbump.errors import UsageError

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Scalar:
    """A scalar node's value and where its source text is."""

    value: str
    start: int
    end: int
    line: int  # 1-based
    column: int  # 1-based
    doc_index: int
    path: YamlPath


def compose_documents(text: str, where: str) -> list[Any]:
    """All documents of a stream as node trees; invalid YAML is a one-line UsageError."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        docs = [doc for doc in YAML(typ="safe", pure=True).compose_all(text)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(
            f"{where}{line}: invalid YAML: {problem}; fix the file and re-run"
        ) from None
    except YAMLError as exc:
        raise UsageError(f"{where}: invalid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise UsageError(f"{where}: YAML nested too deeply") from None
    _last_key_wins(docs, where)
    return docs


def _last_key_wins(docs: list[Any], where: str) -> None:
    """A key twice in one mapping: the last one is the value, as Helm and Flux read it.

    Composing keeps both pairs (only constructing notices), so the earlier pairs are dropped
    here: the gate then reads, and a bump edits, the value the cluster gets. Each one is
    noted once (``duplicate_warnings``) so the user can remove the dead line.
    """
    stack = list(docs)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if is_mapping(node):
            node.value = _last_pairs(node.value, where)
            stack.extend(value for _, value in node.value)
        elif is_sequence(node):
            stack.extend(node.value)


def _last_pairs(pairs: list[tuple[Any, Any]], where: str) -> list[tuple[Any, Any]]:
    last: dict[str, int] = {}
    for position, (key_node, _) in enumerate(pairs):
        if is_scalar(key_node) and key_node.value != "<<":
            last[key_node.value] = position
    if len(last) == sum(is_scalar(k) and k.value != "<<" for k, _ in pairs):
        return pairs
    kept = []
    for position, (key_node, value_node) in enumerate(pairs):
        if is_scalar(key_node) and key_node.value != "<<" and last[key_node.value] != position:
            used = line_of(pairs[last[key_node.value]][0])
            _DUPLICATES.setdefault(
                f"{where}:{used}: key '{key_node.value}' appears twice in one mapping (also "
                f"on line {line_of(key_node)}); the last one is used, as Helm and Flux do"
            )
            continue
        kept.append((key_node, value_node))
    return kept


# Duplicate keys met while reading, each once (file:line: ...); the CLI prints them.
_DUPLICATES: dict[str, None] = {}


def duplicate_warnings() -> list[str]:
    """The duplicate-key warnings noted since the last call."""
    found = list(_DUPLICATES)
    _DUPLICATES.clear()
    return found


def is_mapping(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "mapping"


def is_sequence(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "scalar"


def child(node: Any, key: str) -> Any:
    """The value node under ``key`` in a mapping node, or None. A key the mapping takes from
    a merge key (``<<: *anchor``) is the node that holds it (the anchor's), so a pin set
    through a merge is found, and edited where its text is."""
    return _child(node, key, set())


def _child(node: Any, key: str, seen: set[int]) -> Any:
    if not is_mapping(node) or id(node) in seen:
        return None
    seen.add(id(node))
    merged = []
    for key_node, value_node in node.value:
        if _is_merge(key_node):
            merged.append(value_node)
        elif is_scalar(key_node) and key_node.value == key:
            return value_node
    # The mapping's own keys win; then the merged mappings, the first listed first (YAML 1.1).
    for value_node in merged:
        sources = value_node.value if is_sequence(value_node) else [value_node]
        for source in sources:
            found = _child(source, key, seen)
            if found is not None:
                return found
    return None


def _is_merge(key_node: Any) -> bool:
    return (
        is_scalar(key_node)
        and key_node.value == "<<"
        and str(getattr(key_node, "tag", "")).endswith(":merge")
    )


def keys(node: Any) -> list[str]:
    """Scalar keys of a mapping node, in source order (duplicates kept)."""
    if not is_mapping(node):
        return []
    return [k.value for k, _ in node.value if is_scalar(k)]


def items(node: Any) -> Iterator[tuple[int, Any]]:
    """Index and node of each item of a sequence node."""
    if is_sequence(node):
        yield from enumerate(node.value)


def walk(node: Any, path: YamlPath) -> Any:
    """Follow a path of keys and indices; None when any step is missing."""
    for step in path:
        if isinstance(step, int):
            node = node.value[step] if is_sequence(node) and step < len(node.value) else None
        else:
            node = child(node, step)
        if node is None:
            return None
    return node


def text_of(node: Any) -> str | None:
    """A scalar node's value, or None for anything else."""
    return str(node.value) if is_scalar(node) else None


def located(node: Any, doc_index: int, path: YamlPath) -> Scalar | None:
    """A Scalar for a scalar node at ``path``; None if the node is not a scalar."""
    if not is_scalar(node):
        return None
    mark = node.start_mark
    return Scalar(
        value=str(node.value),
        start=mark.index,
        end=node.end_mark.index,
        line=mark.line + 1,
        column=mark.column + 1,
        doc_index=doc_index,
        path=path,
    )


def scalar_at(root: Any, doc_index: int, path: YamlPath) -> Scalar | None:
    return located(walk(root, path), doc_index, path)


def line_of(node: Any) -> int:
    return int(node.start_mark.line) + 1 if node is not None else 1
