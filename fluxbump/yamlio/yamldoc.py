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
    _refuse_duplicate_keys(docs, where)
    return docs


def _refuse_duplicate_keys(docs: list[Any], where: str) -> None:
    """YAML forbids a key twice in one mapping; readers disagree on which one wins, so refuse.

    Composing keeps both (only constructing notices), so without this check the gate would
    read the first value while kubectl, Helm or Flux reject the file or read the last.
    """
    stack = list(docs)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if is_mapping(node):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if not is_scalar(key_node) or key_node.value == "<<":
                    continue
                line = line_of(key_node)
                if key_node.value in first:
                    raise UsageError(
                        f"{where}:{line}: key '{key_node.value}' appears twice in one mapping "
                        f"(first on line {first[key_node.value]}); remove one and re-run"
                    )
                first[key_node.value] = line
        elif is_sequence(node):
            stack.extend(node.value)


def is_mapping(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "mapping"


def is_sequence(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "scalar"


def child(node: Any, key: str) -> Any:
    """The value node under ``key`` in a mapping node, or None."""
    if not is_mapping(node):
        return None
    for key_node, value_node in node.value:
        if is_scalar(key_node) and key_node.value == key:
            return value_node
    return None


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


def duplicate_key(node: Any) -> str | None:
    """The first key that appears twice in a mapping node (YAML forbids it; we refuse it)."""
    seen: set[str] = set()
    for key in keys(node):
        if key in seen:
            return key
        seen.add(key)
    return None
