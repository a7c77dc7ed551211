"""Documents of a multi-document manifest, composed one at a time and as cheaply as possible.

ruamel.yaml's pure-Python composer costs milliseconds per document, and a fleet has thousands
of HelmRelease documents next to many more that hold no pin. So a stream is first cut into
documents at its ``---`` lines (only the documents a caller selects are composed), and a
document written in the plain block style most manifests use is read by a small line reader
that builds nodes shaped like ruamel's (``id``, ``value``, ``start_mark``, ``end_mark``) with
the same character offsets, lines and columns in the *whole file's* text. Anything outside
that strict subset makes the reader give up and ruamel composes the document instead, so the
fast path can only be faster, never different.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fluxbump.yamlio import yamldoc

# Document markers and directives at column 0; only a bare ``---`` (or ``--- # comment``) is cut
# here, anything else (``...``, ``%YAML``, ``--- !tag``) leaves the stream to ruamel whole.
# Written as "a line break, then ..." (the text's first line is tested apart): a pattern with a
# literal first character is searched for that character at C speed, where ``^`` in
# MULTILINE mode is tried at every position (a fleet's 44,000 files cost seconds that way).
_MARKER = re.compile(r"\n(?:(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|%)")
_MARKER_AT_START = re.compile(r"(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|%")
# Characters for which ruamel counts lines or columns differently from "\n", or which it
# rejects: a file holding any of them is composed whole, so marks and errors stay ruamel's.
_UNUSUAL = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    r"|\r(?!\n)"
)
# The same test for ASCII text (``str.isascii`` is free), one character class and, only when
# the text has a CR at all, the lone-CR test: an alternation is tried at every position.
_UNUSUAL_ASCII = re.compile("[^\t\n\r\x20-\x7e]")
_LONE_CR = re.compile(r"\r(?!\n)")
# A block mapping key this reader accepts: plain, one word, ``:`` then a space or the line end.
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +|$)")
# First characters of a plain scalar this reader accepts (no YAML indicator, ASCII only).
_PLAIN_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./$~+=(")
_BOM = "\ufeff"
# A content line: leading spaces, then a body that is neither blank nor a comment, without
# its trailing spaces or CR. ruamel counts no column for a BOM, so after it a line starts anew.
_CONTENT_LINE = re.compile(
    r"(?:^|(?<=\A\ufeff))( *)([^ #\r\n\ufeff](?:[^\n]*[^ \r\n])?)[ \r]*$", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One document of a stream: its index (as ruamel numbers them) and its text span."""

    index: int
    start: int  # offset of the first character after the ``---`` line (or 0)
    end: int  # offset of the next ``---`` line (or the end of the text)
    line: int  # 0-based line of ``start``


class Mark:
    """A position as ruamel reports it: character offset, 0-based line and column."""

    __slots__ = ("column", "index", "line")

    def __init__(self, index: int, line: int, column: int) -> None:
        self.index = index
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Mark({self.index}, {self.line}, {self.column})"


class Node:
    """A composed node with ruamel's attributes (what ``yamldoc`` reads).

    Positions are kept as ints and turned into marks only when asked: most nodes of a
    document are never located, and a fleet has hundreds of thousands of them.
    """

    __slots__ = ("_end", "_start", "id", "value")

    def __init__(
        self, kind: str, value: Any, start: tuple[int, int, int], end: tuple[int, int, int]
    ) -> None:
        self.id = kind
        self.value = value
        self._start = start
        self._end = end

    @property
    def start_index(self) -> int:
        """The character offset of the node's first character (no Mark built)."""
        return self._start[0]

    @property
    def start_mark(self) -> Mark:
        return Mark(*self._start)

    @property
    def end_mark(self) -> Mark:
        return Mark(*self._end)


class _GiveUp(Exception):
    """The document is outside the subset this reader handles: compose it with ruamel."""


def split_documents(text: str) -> list[Segment] | None:
    """The documents of a stream, or None when only a full parse can number them."""
    start = 1 if text.startswith(_BOM) else 0
    if _unusual(text, start) or text.find(_BOM, 1) >= 0 or text.startswith("%", start):
        return None  # (a directive after a BOM is not at a line start for ``_MARKER``)
    cuts: list[tuple[int, int]] = []  # (offset of the --- line, offset after it)
    first_line = _MARKER_AT_START.match(text)
    found = [(0, first_line.end())] if first_line else []
    found += [(m.start() + 1, m.end()) for m in _MARKER.finditer(text)]
    for begin, end in found:
        if not text.startswith("---", begin):
            return None
        eol = text.find("\n", end)
        after = len(text) if eol < 0 else eol + 1
        rest = text[end:after].strip(" \r\n")  # YAML's spaces, not Unicode's
        if "\t" in rest or (rest and not rest.startswith("#")):
            return None  # content on the marker line (``--- |``, ``--- !tag``), or a tab
        cuts.append((begin, after))
    first = cuts[0][0] if cuts else len(text)
    spans = [(0, first)]
    for i, (_, after) in enumerate(cuts):
        spans.append((after, cuts[i + 1][0] if i + 1 < len(cuts) else len(text)))
    heads = [_first_content(text, start, end) for start, end in spans]
    if any(head in "|>!&" for head in heads if head):
        return None  # a root block scalar may run on over ``---`` lines in ruamel: no cutting
    # Before the first ``---``, only real content makes a document (a comment header does not).
    if not heads[0]:
        if "\t" in text[: spans[0][1]]:
            return None  # ruamel rejects a tab that starts a line: it must see the header
        spans = spans[1:]
    return _numbered(text, spans)


def _unusual(text: str, start: int) -> bool:
    """Whether ``_UNUSUAL`` finds a character from ``start`` on (fast for ASCII text)."""
    if not text.isascii():
        return _UNUSUAL.search(text, start) is not None
    if _UNUSUAL_ASCII.search(text, start) is not None:
        return True
    return "\r" in text and _LONE_CR.search(text, start) is not None


def _first_content(text: str, start: int, end: int) -> str:
    """The first character of the span's first line that is neither blank nor a comment
    ("" when it has none). Line by line: the answer is almost always on the first lines,
    and a regex anchored at line starts would be tried at every position of the span."""
    at = 1 if start == 0 and text.startswith(_BOM) else start  # ruamel counts no BOM column
    while at < end:
        eol = text.find("\n", at, end)
        eol = end if eol < 0 else eol
        body = text[at:eol].lstrip(" \t\r")
        if body and body[0] != "#":
            return body[0]
        at = eol + 1
    return ""


def _numbered(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    segments, line, counted = [], 0, 0
    for index, (start, end) in enumerate(spans):
        line += text.count("\n", counted, start)
        counted = start
        segments.append(Segment(index, start, end, line))
    return segments


def compose_all(text: str, where: str) -> list[Any]:
    """Every document of a stream, as ``yamldoc.compose_documents`` numbers them, each read
    by the fast reader where the subset allows (an empty document is None): a repository of
    plain files is read without importing ruamel.yaml at all."""
    segments = split_documents(text)
    if segments is None:
        return yamldoc.compose_documents(text, where)
    return [compose_segment(text, segment, where) for segment in segments]


def compose_segment(text: str, segment: Segment, where: str) -> Any:
    """The document's root node (None for an empty document), fast when the subset allows."""
    try:
        return _Reader(text, segment).document()
    except (_GiveUp, RecursionError):  # ruamel's composer reports deep nesting as it should
        return _compose_with_ruamel(text, segment, where)


def read_fast(text: str, segment: Segment) -> Node | None:
    """The document's root node from the fast reader alone, or None where it gives up.

    For callers that have their own slow path (``splice`` verifies edits with it) and must
    know which reader built the nodes: these nodes hold scalars' source text, unresolved.
    """
    try:
        return _Reader(text, segment).document()
    except (_GiveUp, RecursionError):
        return None


def _compose_with_ruamel(text: str, segment: Segment, where: str) -> Any:
    """ruamel composes the document alone; newlines in front keep its line numbers (and so
    its error messages) those of the file, and offsets are moved to the file's afterwards."""
    padded = "\n" * segment.line + text[segment.start : segment.end]
    docs = yamldoc.compose_documents(padded, where)
    if not docs:
        return None
    _shift_marks(docs[0], segment.start - segment.line)
    return docs[0]


def _shift_marks(root: Any, delta: int) -> None:
    """Move every node's offsets by ``delta``; fresh marks, because ruamel shares mark objects
    between nodes, and a visited set, because aliases share nodes."""
    if delta == 0:
        return
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for attr in ("start_mark", "end_mark"):
            mark = getattr(node, attr)
            setattr(node, attr, Mark(mark.index + delta, mark.line, mark.column))
        if yamldoc.is_mapping(node):
            for key, value in node.value:
                stack += [key, value]
        elif yamldoc.is_sequence(node):
            stack += node.value


class _Line:
    """One content line: where its first non-space character is, and the text from there."""

    __slots__ = ("at", "body", "indent", "is_item", "line_start", "number")

    def __init__(self, indent: int, at: int, body: str, number: int, line_start: int) -> None:
        self.indent = indent  # column of ``body``
        self.at = at  # offset of ``body`` in the file
        self.body = body  # line break and trailing spaces removed
        self.number = number  # 0-based line in the file
        self.line_start = line_start  # offset that column 0 counts from
        self.is_item = body == "-" or body.startswith("- ")


class _Reader:
    """Block mappings and sequences of one-line plain or simply quoted scalars, nothing else."""

    def __init__(self, text: str, segment: Segment) -> None:
        self.lines = _content_lines(text, segment)
        self.pos = 0

    def document(self) -> Node:
        if not self.lines:
            raise _GiveUp  # an empty document is a null scalar: rare, leave it to ruamel
        root = self.block(self.lines[0].indent)
        if self.pos != len(self.lines):
            raise _GiveUp
        return root

    def block(self, indent: int) -> Node:
        line = self.lines[self.pos]
        if line.indent != indent:
            raise _GiveUp
        return self.sequence(indent) if line.is_item else self.mapping(indent)

    def mapping(self, indent: int) -> Node:
        pairs: list[tuple[Node, Node]] = []
        seen: set[str] = set()
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent or (line.indent == indent and line.is_item):
                break
            key_match = _KEY.match(line.body)
            if line.indent > indent or key_match is None:
                raise _GiveUp
            key = _scalar(line, 0, key_match.group(1))
            if key.value in seen:
                raise _GiveUp  # ruamel's composer reports duplicate keys with its message
            seen.add(key.value)
            pairs.append((key, self.value_after(line, key_match.end(), indent, indentless=True)))
        return Node("mapping", pairs, pairs[0][0]._start, pairs[-1][1]._end)

    def value_after(self, line: _Line, offset: int, indent: int, *, indentless: bool) -> Node:
        """The value whose text starts ``offset`` characters into the line, else below it.

        ``indentless``: a mapping value may be a sequence at the key's own indentation.
        """
        rest = line.body[offset:]
        self.pos += 1
        if rest and not rest.startswith("#"):
            return _inline(line, offset, rest)
        if self.pos == len(self.lines):
            raise _GiveUp  # a null value: its marks are ruamel's business
        below = self.lines[self.pos]
        if below.indent > indent or (indentless and below.indent == indent and below.is_item):
            return self.block(below.indent)
        raise _GiveUp

    def sequence(self, indent: int) -> Node:
        first = self.lines[self.pos]
        start = (first.at, first.number, first.at - first.line_start)  # the first "-"
        items: list[Node] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent or not line.is_item:
                break  # the caller decides whether what follows may be there
            if line.indent > indent:
                raise _GiveUp
            items.append(self.item(line, indent))
        return Node("sequence", items, start, items[-1]._end)

    def item(self, line: _Line, indent: int) -> Node:
        content = line.body[1:].lstrip(" ")
        if not content or content.startswith("#"):
            return self.value_after(line, len(line.body), indent, indentless=False)
        offset = len(line.body) - len(content)
        if content == "-" or content.startswith("- ") or _KEY.match(content):
            # The item's content is a block node starting on this line: read it as if it
            # were a line of its own at the content's column.
            column = indent + offset
            self.lines[self.pos] = _Line(
                column, line.at + offset, content, line.number, line.line_start
            )
            return self.block(column)
        self.pos += 1
        return _inline(line, offset, content)


def _content_lines(text: str, segment: Segment) -> list[_Line]:
    """The document's non-blank, non-comment lines; a tab anywhere gives up."""
    if "\t" in text[segment.start : segment.end]:
        raise _GiveUp
    lines: list[_Line] = []
    number, counted = segment.line, segment.start
    for match in _CONTENT_LINE.finditer(text, segment.start, segment.end):
        origin = match.start(1)  # column 0: the line's start, or after the file's BOM
        number += text.count("\n", counted, origin)
        counted = origin
        indent = match.end(1) - origin
        lines.append(_Line(indent, origin + indent, match.group(2), number, origin))
    return lines


def _scalar(line: _Line, offset: int, value: str, length: int | None = None) -> Node:
    """A scalar whose source text starts ``offset`` characters into the line's body."""
    at = line.at + offset
    column = at - line.line_start
    size = len(value) if length is None else length
    return Node("scalar", value, (at, line.number, column), (at + size, line.number, column + size))


def _inline(line: _Line, offset: int, rest: str) -> Node:
    """A value that starts and ends on this line; anything that could continue gives up."""
    if rest[0] in _PLAIN_FIRST and " #" not in rest and ": " not in rest and rest[-1] != ":":
        # Most values are a bare word: what ``_FlowReader.plain`` reads, without building it.
        return _scalar(line, offset, rest)
    reader = _FlowReader(line, offset, rest)
    node = reader.node(flow=False)
    _only_comment(rest[reader.pos :])
    return node


def _only_comment(after: str) -> None:
    if after and not (after[0] == " " and after.lstrip(" ").startswith("#")):
        raise _GiveUp  # more text (or a comment not set off by a space)


class _FlowReader:
    """One line's scalar or flow collection (``{chart: flux2, version: "1.2.3"}``), nested."""

    def __init__(self, line: _Line, offset: int, text: str) -> None:
        self.line = line
        self.offset = offset  # of ``text`` in the line's body
        self.text = text
        self.pos = 0

    def node(self, *, flow: bool = True) -> Node:
        first = self.text[self.pos : self.pos + 1]
        if first == "{":
            return self.collection("}")
        if first == "[":
            return self.collection("]")
        if first in ("'", '"'):
            return self.quoted(first)
        if first and first in _PLAIN_FIRST:
            return self.plain(flow)
        raise _GiveUp  # block scalars, anchors, aliases, tags, empty values, ...

    def collection(self, close: str) -> Node:
        start = self.pos
        self.pos += 1
        entries: list[Any] = []
        seen: set[str] = set()
        while True:
            self.spaces()
            if close == "}":
                key = self.node()
                if not self.text.startswith(": ", self.pos) or key.value in seen:
                    raise _GiveUp  # a key without value, ``a:b``, a duplicate key
                seen.add(key.value)
                self.pos += 2
                self.spaces()
                entries.append((key, self.node()))
            else:
                entries.append(self.node())
            self.spaces()
            follows = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if follows == close:
                break
            if follows != ",":
                raise _GiveUp  # unclosed on this line, or something else
        kind = "mapping" if close == "}" else "sequence"
        return Node(kind, entries, self.mark(start), self.mark(self.pos))

    def quoted(self, quote: str) -> Node:
        close = self.text.find(quote, self.pos + 1)
        if close < 0 or self.text.startswith(quote, close + 1):
            raise _GiveUp  # unclosed, or '' inside single quotes
        inner = self.text[self.pos + 1 : close]
        if quote == '"' and "\\" in inner:
            raise _GiveUp  # escapes
        start, self.pos = self.pos, close + 1
        return Node("scalar", inner, self.mark(start), self.mark(self.pos))

    def plain(self, flow: bool) -> Node:
        start, text = self.pos, self.text
        if flow:
            # In a flow collection a plain scalar ends at ``,[]{}`` or ``: ``; another ``:``
            # is given up on (readers differ on ``a:b`` there), and so is a comment.
            end = start
            while end < len(text) and text[end] not in ",[]{}":
                if text.startswith(": ", end):
                    break
                if text[end] == ":" or (text[end] == "#" and text[end - 1] == " "):
                    raise _GiveUp
                end += 1
            value = text[start:end].rstrip(" ")
        else:
            comment = text.find(" #")
            value = (text if comment < 0 else text[:comment]).rstrip(" ")
            if ": " in value or value.endswith(":"):
                raise _GiveUp
        self.pos = start + len(value)
        return Node("scalar", value, self.mark(start), self.mark(self.pos))

    def spaces(self) -> None:
        while self.text.startswith(" ", self.pos):
            self.pos += 1

    def mark(self, pos: int) -> tuple[int, int, int]:
        at = self.line.at + self.offset + pos
        return (at, self.line.number, at - self.line.line_start)
