"""Documents of a multi-document manifest, cut apart by text and composed one at a time.

A fleet has thousands of HelmRelease documents next to many more that hold no pin. So a
stream is first cut into documents at its bare ``---`` lines (only the documents a caller
selects are composed, and an edit is proven on its own document), and each selected document
is composed by libyaml (``yamldoc.compose_libyaml``: PyYAML's C composer), its marks moved to
the *whole file's* character offsets and lines, as ruamel's composer would give them. A
document libyaml refuses is composed by ruamel, which reads it or reports the error.
Cutting stays hand-written on purpose: it is a line search, and composing only candidate
documents is what keeps a scan of a fleet's non-pin documents cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fluxbump.scan.sources import LONE_CR
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
# The same test for ASCII text (``str.isascii`` is free): deleting its control characters
# leaves it shorter (one C pass, a fifth of a regex character class's cost), and only when the
# text has a CR at all, the lone-CR test: an alternation is tried at every position.
_CONTROL_ASCII = bytes([*(c for c in range(0x20) if chr(c) not in "\t\n\r"), 0x7F])
_BOM = "\ufeff"


@dataclass(slots=True)
class Segment:
    """One document of a stream: its index (as ruamel numbers them) and its text span. Never
    changed once cut (the memo below hands the same ones out again); not frozen, as a fleet's
    scan cuts one or more per file, and a frozen ``__init__`` costs three times as much."""

    index: int
    start: int  # offset of the first character after the ``---`` line (or 0)
    end: int  # offset of the next ``---`` line (or the end of the text)
    line: int  # 0-based line of ``start``


# A file's header of comment lines (printable ASCII) or blank lines, up to its first ``---``
# line. Such a header changes nothing in how the rest is cut but the offsets and lines: it
# is its own document of comments only (dropped), and holds no marker, tab, CR or BOM.
_HEADER = re.compile(r"(?:(?:#[ -~]*)?\n)+")
# What the text after such a header was cut into, by that text: a fleet's files differ from
# each other in their header (a cluster's name) and are cut alike. Bounded, as
# ``sites.helmrelease``'s document memo is: unique texts gain nothing.
_MEMO_LIMIT = 2048
_memo: dict[str, tuple[int, int, list[Segment] | None]] = {}


def split_documents(text: str) -> list[Segment] | None:
    """The documents of a stream, or None when only a full parse can number them."""
    cut = text.find("\n---") + 1
    if not cut or not _HEADER.fullmatch(text, 0, cut) or not _marker_line(text, cut):
        return _split(text)
    rest, lines = text[cut:], text.count("\n", 0, cut)
    hit = _memo.get(rest)
    if hit is None:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        hit = _memo[rest] = (cut, lines, _split(text))
    at, line, segments = hit
    if segments is None or (at, line) == (cut, lines):
        return None if segments is None else list(segments)
    return [Segment(s.index, s.start - at + cut, s.end - at + cut, s.line - line + lines)
            for s in segments]  # fmt: skip


def _marker_line(text: str, at: int) -> bool:
    """Whether a ``---`` at ``at`` is a marker (not ``----`` or ``---x``)."""
    end = at + 3
    return end == len(text) or text[end] in " \t\r\n"


def _split(text: str) -> list[Segment] | None:
    start = 1 if text.startswith(_BOM) else 0
    if _unusual(text, start) or text.startswith("%", start):
        return None  # (a directive after a BOM is not at a line start for ``_MARKER``)
    spans: list[tuple[int, int]] = []  # each document's text: after a ``---`` line, to the next
    begin = 0  # where the current document starts
    first_line = _MARKER_AT_START.match(text)
    found = [(0, first_line.end())] if first_line else []
    found += _markers(text)
    for marker, end in found:
        if not text.startswith("---", marker):
            return None
        eol = text.find("\n", end)
        after = len(text) if eol < 0 else eol + 1
        rest = text[end:after].strip(" \r\n")  # YAML's spaces, not Unicode's
        if "\t" in rest or (rest and not rest.startswith("#")):
            return None  # content on the marker line (``--- |``, ``--- !tag``), or a tab
        spans.append((begin, marker))
        begin = after
    spans.append((begin, len(text)))
    heads = [_first_content(text, at, end) for at, end in spans]
    if any(head in "|>!&" for head in heads if head):
        return None  # a root block scalar may run on over ``---`` lines in ruamel: no cutting
    # Before the first ``---``, only real content makes a document (a comment header does not).
    if not heads[0]:
        if "\t" in text[: spans[0][1]]:
            return None  # ruamel rejects a tab that starts a line: it must see the header
        spans = spans[1:]
    return _numbered(text, spans)


def _unusual(text: str, start: int) -> bool:
    """Whether ``_UNUSUAL`` finds a character from ``start`` on, or a BOM past the first
    character (fast for ASCII text, which can hold neither)."""
    if not text.isascii():
        return _UNUSUAL.search(text, start) is not None or text.find(_BOM, 1) >= 0
    ascii_bytes = text.encode("ascii")  # (no BOM in ASCII text: ``start`` is 0)
    if len(ascii_bytes.translate(None, _CONTROL_ASCII)) != len(ascii_bytes):
        return True
    return "\r" in text and LONE_CR.search(text, start) is not None


def _markers(text: str) -> list[tuple[int, int]]:
    """(offset, end) of each ``_MARKER`` after a line break. Without a ``...`` or ``%`` line
    start they are ``---`` lines, found by a substring search: ``_MARKER`` stops at every
    line break to try its alternatives."""
    if "\n..." in text or "\n%" in text:
        return [(m.start() + 1, m.end()) for m in _MARKER.finditer(text)]
    found = []
    at = text.find("\n---")
    while at >= 0:
        end = at + 4
        if end == len(text) or text[end] in " \t\r\n":
            found.append((at + 1, end))
        at = text.find("\n---", end)
    return found


# Blank and comment lines from a line start, then a line's indentation: what follows is the
# first character of content (or a comment on a last line that has no line break).
_NO_CONTENT = re.compile(r"(?:[ \t\r]*(?:#[^\n]*)?\n)*[ \t\r]*")


def _first_content(text: str, start: int, end: int) -> str:
    """The first character of the span's first line that is neither blank nor a comment
    ("" when it has none)."""
    at = 1 if start == 0 and text.startswith(_BOM) else start  # ruamel counts no BOM column
    match = _NO_CONTENT.match(text, at, end)
    found = match.end() if match is not None else at
    if found >= end or text[found] == "#":
        return ""
    return text[found]


def _numbered(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    segments, line, counted = [], 0, 0
    for index, (start, end) in enumerate(spans):
        line += text.count("\n", counted, start)
        counted = start
        segments.append(Segment(index, start, end, line))
    return segments


def compose_all(text: str, where: str) -> list[Any]:
    """Every document of a stream, as ``yamldoc.compose_documents`` numbers and reads them."""
    return yamldoc.compose_documents(text, where)


def compose_segment(text: str, segment: Segment, where: str) -> Any:
    """The document's root node (an empty document is a null scalar), as ruamel would
    compose it in the whole file; a duplicate key is dropped and noted (last wins)."""
    root = _compose(text, segment)
    if root is None:
        return _compose_with_ruamel(text, segment, where)
    yamldoc.last_key_wins([root], where)
    return root


def read_fast(text: str, segment: Segment) -> Any:
    """The document's root node from libyaml, or None where it refuses the document or the
    document holds a duplicate key (whose warning, and trees, are ``compose_segment``'s).

    For callers that have their own slow path (``splice`` verifies edits with it; discovery
    remembers what a document's text yields, which holds only when nothing was noted)."""
    root = _compose(text, segment)
    if root is None or yamldoc.has_duplicate_keys([root]):
        return None
    return root


# Up to this offset a document is composed behind a comment as long as the text before it, so
# libyaml's marks are the file's as they come; further on, they are moved node by node (one
# pass in Python, which costs more than libyaml skipping a few kilobytes of comment).
_PAD_LIMIT = 1 << 16


def _compose(text: str, segment: Segment) -> Any:
    """libyaml's node for the document alone, marks those of the file; None if refused."""
    body = text[segment.start : segment.end]
    pad = segment.start - segment.line  # characters before it that are not line breaks
    if 0 < segment.start <= _PAD_LIMIT:
        prefix = ("#" + " " * (pad - 1) if pad else "") + "\n" * segment.line
        docs = yamldoc.compose_libyaml(prefix + body)
        return docs[0] if docs else None  # no documents: only comments (ruamel: none too)
    docs = yamldoc.compose_libyaml(body)
    if not docs:  # refused, or only comments (no document: ruamel's answer too)
        return None
    if segment.start or segment.line:
        yamldoc.shift_marks(docs, segment.start, segment.line)
    return docs[0]


def _compose_with_ruamel(text: str, segment: Segment, where: str) -> Any:
    """ruamel composes the document alone; newlines in front keep its line numbers (and so
    its error messages) those of the file, and offsets are moved to the file's afterwards."""
    padded = "\n" * segment.line + text[segment.start : segment.end]
    docs = yamldoc.compose_with_ruamel(padded, where)
    if not docs:
        return None
    delta = segment.start - segment.line
    if delta:
        yamldoc.shift_marks(docs[:1], delta)
    return docs[0]
