"""Composed YAML node trees with source positions, for locating pinned scalars.

Composing (not constructing) keeps every node's character offsets, which is what lets the
editor splice new text into the original instead of re-serialising the document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
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


def compose_documents(text: str, where: str, lines_before: int = 0) -> list[Any]:
    """All documents of a stream as node trees; invalid YAML is a one-line UsageError.
    ``lines_before``: the lines of ``where`` before ``text`` (one document of it), so that
    a duplicate key is named at its line in the file.

    libyaml composes (C speed, character marks like ruamel's); a stream it refuses is left to
    ruamel, which either reads it (YAML 1.2 accepts a few things libyaml's 1.1 does not) or
    names the problem with the message and line users already get.
    """
    docs = compose_libyaml(text)
    if docs is None:
        docs = compose_with_ruamel(text, where, lines_before)
    else:
        last_key_wins(docs, where, lines_before)
    if "*" in text:  # (no alias without one)
        refuse_excessive_aliasing(docs, where)
    return docs


# Aliases share a node, so a "billion laughs" document of a few lines stands for billions of
# nodes: any reader walking its data (a schema validator, ``==``) would never finish. The YAML
# decoder of Kubernetes and Flux (go-yaml) refuses a document whose aliases make most of what
# it decodes ("document contains excessive aliasing"); past these bounds no cluster applies it.
_EXPANDED_LIMIT = 1_000_000
_EXPANSION_RATIO = 10


def refuse_excessive_aliasing(docs: list[Any], where: str) -> None:
    """A one-line UsageError naming the first document whose aliases expand it past
    ``_EXPANDED_LIMIT`` nodes and ``_EXPANSION_RATIO`` times its own."""
    for doc in docs:
        expanded, distinct = _sizes(doc)
        if expanded > max(_EXPANDED_LIMIT, _EXPANSION_RATIO * distinct):
            line = int(doc.start_mark.line) + 1
            raise UsageError(
                f"{where}:{line}: YAML aliases expand this document to more than "
                f"{_EXPANDED_LIMIT:,} nodes; Kubernetes and Flux refuse it (excessive "
                "aliasing): fix the file and re-run"
            )


def _sizes(root: Any) -> tuple[int, int]:
    """(nodes the document stands for with every alias expanded, distinct nodes), each node
    walked once. An alias inside its own anchor adds the node once (as a reference)."""
    expanded: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in expanded:
            continue
        children = _children(node)
        if children_done:
            open_.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded.get(id(c), 1) for c in children)
            continue
        open_.add(id(node))
        stack.append((node, True))
        stack += [(c, False) for c in children if id(c) not in expanded and id(c) not in open_]
    return expanded[id(root)], len(expanded)


def _children(node: Any) -> list[Any]:
    if is_mapping(node):
        return [part for pair in node.value for part in pair]
    if is_sequence(node):
        return list(node.value)
    return []


def compose_with_ruamel(text: str, where: str, lines_before: int = 0) -> list[Any]:
    """ruamel's node trees of every document (what its constructor turns into data)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        docs = [doc for doc in YAML(typ="safe", pure=True).compose_all(text)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(
            f"{where}{line}: invalid YAML: {problem}; fix the file and re-run"
        ) from None
    except ReaderError as exc:  # a character YAML forbids (NUL, most C0 controls): its line
        at = text.count("\n", 0, exc.position) + 1
        first = str(exc).splitlines()[0]
        raise UsageError(f"{where}:{at}: invalid YAML: {first}; fix the file and re-run") from None
    except YAMLError as exc:
        raise UsageError(f"{where}: invalid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise UsageError(f"{where}: YAML nested too deeply") from None
    last_key_wins(docs, where, lines_before)
    return docs


def compose_libyaml(text: str) -> list[Any] | None:
    """Every document's node tree from libyaml (PyYAML's C composer), marks as ruamel's
    (character offsets into ``text``); None when it refuses the text.

    Without the C extension PyYAML's own pure composer gives the same trees, slower.
    libyaml skips a byte-order mark without counting it; ruamel and the pure composer count
    it, so with the C composer every offset moves one on (lines and columns are equal).
    """
    if libyaml_may_differ(text):
        return None
    import yaml

    try:
        docs = list(yaml.compose_all(text, Loader=_composer(yaml.__with_libyaml__)))
    except (yaml.YAMLError, UnicodeError, RecursionError):
        return None
    if yaml.__with_libyaml__ and text.startswith("\ufeff"):
        shift_marks(docs, 1)
    return docs


def libyaml_may_differ(text: str) -> bool:
    """libyaml reads tabs, ``|#c``, ``&a:`` and ``!:!`` that ruamel rejects, and counts lines
    and offsets at ``_ODD_CHARACTERS`` apart from ruamel: in these rare texts ruamel decides."""
    return bool(
        "\t" in text
        or _BLOCK_COMMENT.search(text)
        or ("!" in text and _ODD_TAG.search(text))
        or (not text.isascii() and _ODD_CHARACTERS.search(text))
    )


# Node properties (an anchor ``&a``, a tag ``!!str``) at the start of a scalar's span, each
# with what may part it from the next or from the scalar's text: blanks, a line break, comments
# (``version: &v # pinned`` then the text on the next line). An edit keeps them as they are.
NODE_PROPERTIES = re.compile(r"(?:[&!]\S*(?:\s+#[^\r\n]*)*\s+)*")

# What libyaml accepts and ruamel rejects: a block scalar's header running into a comment
# (``|#c``, ``>-#``), an anchor or alias name holding a colon (``&metadata:``); and one
# holding a '?' (``&a?b x``), which libyaml ends before it and ruamel does not.
_BLOCK_COMMENT = re.compile(r"[|>][-+0-9]*#|[&*][^\s,\[\]{}]*[:?]")
# A second '!' after anything but a named handle's word characters (``!:!``): YAML forbids a
# '!' in a tag's suffix, ruamel refuses it, libyaml reads it.
_ODD_TAG = re.compile(r"![^\s!]*[^\s!0-9A-Za-z-][^\s!]*!")
# YAML 1.1's extra line breaks, and a byte-order mark inside the stream (libyaml skips it).
_ODD_CHARACTERS = re.compile("[\x85\u2028\u2029]|(?<!\\A)\ufeff")


@functools.cache
def _composer(with_libyaml: bool) -> Any:
    """libyaml's parser (PyYAML's own without the C extension) and a resolver of one tag.

    Nodes are composed, never constructed: a plain scalar's type is ruamel's business (the
    edit's proof asks it), so PyYAML's YAML 1.1 resolver (regexes run in Python on every
    scalar, a fifth of the composing time) is replaced: ``<<`` is the merge key that
    ``child`` follows, any other scalar a string, collections a map or a sequence.
    """
    from yaml.nodes import ScalarNode, SequenceNode

    parser: Any = _c_parser() if with_libyaml else _pure_parser()

    class Composer(parser):  # type: ignore[misc]
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: type, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                return _MERGE if value == "<<" and implicit[0] else _STR
            return _SEQ if kind is SequenceNode else _MAP

    return Composer


_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def _c_parser() -> Any:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    return CParser


def _pure_parser() -> Any:
    """PyYAML's pure-Python reader, scanner, parser and composer as one class."""
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class PureParser(Reader, Scanner, Parser, Composer):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    return PureParser


class Mark:
    """A node position: character offset, 0-based line and column (what ruamel's marks hold)."""

    __slots__ = ("column", "index", "line")

    def __init__(self, index: int, line: int, column: int) -> None:
        self.index = index
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Mark({self.index}, {self.line}, {self.column})"


def shift_marks(docs: list[Any], delta: int, lines: int = 0) -> None:
    """Move every node's offsets by ``delta`` and lines by ``lines``; fresh marks, because a
    composer may share one mark between nodes, and a visited set, as aliases share nodes."""
    for node in each_node(docs, keys=True):
        start, end = node.start_mark, node.end_mark
        node.start_mark = Mark(start.index + delta, start.line + lines, start.column)
        node.end_mark = Mark(end.index + delta, end.line + lines, end.column)


def each_node(docs: list[Any], *, keys: bool = False) -> Iterator[Any]:
    """Every node once (aliases share nodes), a parent before its children; ``keys`` yields
    mapping keys too. A mapping's pairs are read after it is yielded: a caller may prune them."""
    seen: set[int] = set()
    stack = list(docs)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if is_mapping(node):
            for key, value in node.value:
                stack += [key, value] if keys else [value]
        elif is_sequence(node):
            stack += node.value


def last_key_wins(docs: list[Any], where: str, lines_before: int = 0) -> None:
    """A key twice in one mapping: the last one is the value, as Helm and Flux read it.

    Composing keeps both pairs (only constructing notices), so the earlier pairs are dropped
    here: the gate then reads, and a bump edits, the value the cluster gets. Each one is
    noted once (``reading_warnings``) so the user can remove the dead line.
    """
    if not has_duplicate_keys(docs):
        return  # nearly always: one quick pass, no pair rebuilt
    for node in each_node(docs):
        if is_mapping(node):
            node.value = _last_pairs(node.value, where, lines_before)


def has_duplicate_keys(docs: list[Any]) -> bool:
    """Whether any mapping holds a key twice (what ``last_key_wins`` would drop and note)."""
    for mapping in _mappings(docs):
        pairs = mapping.value
        try:
            distinct = len({key.value for key, _ in pairs}) == len(pairs)
        except TypeError:  # a collection as a key: its value is a list
            distinct = False
        if not distinct:
            names = [k.value for k, _ in pairs if is_scalar(k) and k.value != "<<"]
            if len(set(names)) != len(names):
                return True
    return False


def _mappings(docs: list[Any]) -> list[Any]:
    """Every mapping node reached through values and items, once (aliases share nodes).
    ``each_node`` without its per-node calls: this runs over every document read."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [doc for doc in docs if doc is not None]
    while stack:
        node = stack.pop()
        value = node.value
        if type(value) is not list or id(node) in seen:  # a scalar's value is a str
            continue
        seen.add(id(node))
        if node.id == "mapping":
            found.append(node)
            stack += [child for _, child in value]
        else:
            stack += value
    return found


def _last_pairs(
    pairs: list[tuple[Any, Any]], where: str, lines_before: int
) -> list[tuple[Any, Any]]:
    last: dict[str, int] = {}
    for position, (key_node, _) in enumerate(pairs):
        if is_scalar(key_node) and key_node.value != "<<":
            last[key_node.value] = position
    if len(last) == sum(is_scalar(k) and k.value != "<<" for k, _ in pairs):
        return pairs
    kept = []
    for position, (key_node, value_node) in enumerate(pairs):
        if is_scalar(key_node) and key_node.value != "<<" and last[key_node.value] != position:
            used = line_of(pairs[last[key_node.value]][0]) + lines_before
            _NOTED.setdefault(
                f"{where}:{used}: key '{key_node.value}' appears twice in one mapping (also "
                f"on line {line_of(key_node) + lines_before}); the last one is used, as Helm "
                "and Flux do"
            )
            continue
        kept.append((key_node, value_node))
    return kept


# What reading files noted, each once (file:line: ...): duplicate keys, write_files content
# not read. The CLI prints them; a warm run's cache keeps each file's.
_NOTED: dict[str, None] = {}


def warnings_noted() -> int:
    """How many duplicate-key warnings are noted (a scan tells whether a file added one)."""
    return len(_NOTED)


def warnings_since(count: int) -> list[str]:
    """The warnings noted after the first ``count`` (``warnings_noted``), to be noted again
    by a reader that remembers what it read (its text is then not composed again)."""
    return list(_NOTED)[count:]


def withdraw_warnings_since(count: int) -> list[str]:
    """``warnings_since(count)``, no longer noted: a reader that puts them back in another
    order (``scan.cache``: the files it read and the files it recalled, in file order)."""
    found = warnings_since(count)
    for message in found:
        del _NOTED[message]
    return found


def reading_warnings() -> list[str]:
    """The warnings noted reading files since the last call (a key twice in one mapping,
    content written by cloud-init that is not read)."""
    found = list(_NOTED)
    _NOTED.clear()
    return found


def note_warnings(messages: Iterable[str]) -> None:
    """Note warnings another process noted (``scan.forked``: the child's half of a scan), or
    a reader recalled (``scan.cache``: what reading a file noted when it was last read)."""
    for message in messages:
        _NOTED.setdefault(message)


def is_mapping(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "mapping"


def is_sequence(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and getattr(node, "id", "") == "scalar"


# YAML's null as a plain scalar (ruamel's 1.2 table; 1.1's is the same): the libyaml composer
# resolves no tags (every scalar is a string to it), so null is told by text and style.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def is_null(node: Any) -> bool:
    """A plain scalar that reads as null (``key:``, ``key: ~``, ``key: null``)."""
    return is_scalar(node) and not getattr(node, "style", None) and node.value in _NULLS


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


def mappings(root: object) -> Iterator[tuple[YamlPath, object]]:
    """Every mapping of a document with its path, each once (an alias's target at its first
    path), without recursion (a deeply nested file is no error here)."""
    seen: set[int] = set()
    stack: list[tuple[YamlPath, object]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if is_mapping(node):
            yield path, node
            stack += [((*path, key), child(node, key)) for key in keys(node)]
        elif is_sequence(node):
            stack += [((*path, i), item) for i, item in items(node)]
