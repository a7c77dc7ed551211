"""Cut a block-style Helm index into one text slice per chart, so that only the charts a
command consults are parsed.

Why: a chart museum's index of 100,000 entries (25 MB) took 43-60 s and ~940 MB to parse
whole, though a run consults one to a few charts. Helm writes its index in block style with
every chart's key at one indentation; between two such key lines lies exactly that chart's
value, which parses alone as it parses in place. The cut is only made when that is provable
from the lines themselves: anything that could carry a node across lines without indentation
(a quoted scalar or flow collection left open on its line), anchors, aliases, tags, explicit
keys, directives and document markers, a BOM, tabs, other line breaks, a JSON index, or an
odd indentation make ``cut_index`` answer None, and the caller parses the whole text.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass

# A plain key and the ": " after it: a plain scalar never holds ": " or " #".
_KEY = r"""(?:[^\s\-?:\#'"\[\]{},&*!|>%@`]|[-?:](?=\S))(?:[^:\n\#]|:(?=\S)|(?<!\ )\#)*:\ +"""
# A quoted scalar not closed on its line (after its closing quote at most a comment).
_OPEN_QUOTES = (
    r""""(?!(?:[^"\\\n]|\\.)*"\ *(?:\#[^\n]*)?(?:\n|\Z))""",
    r"""'(?!(?:[^'\n]|'')*'\ *(?:\#[^\n]*)?(?:\n|\Z))""",
)
# A line that may start a node able to run past its line, or one the cut does not read
# alike in place and alone: after the indentation, any sequence dashes and an optional plain
# key, a value starting a flow collection (other than ``[]``/``{}``), an anchor, alias, tag,
# explicit key or value, a reserved character, or a quoted scalar not closed on its line.
# Over-matching (a quoted key, a block scalar's text) only costs the whole parse.
_RISKY_LINE = re.compile(
    r"""\ *(?:-\ +)*(?:"""
    + _KEY
    + r""")?
    (?: \[(?!\]\ *(?:\#[^\n]*)?$) | \{(?!\}\ *(?:\#[^\n]*)?$)
      | [\]}&*!?%@`] | :(?=\ |$) | """
    + "|".join(_OPEN_QUOTES)
    + ")",
    re.MULTILINE | re.VERBOSE,
)
# Where such a value may start, found fast (a regex tried at every line, or a character
# class, costs ~0.1-1 s on 25 MB; ``str.find`` of one character or a regex with a literal
# prefix a few milliseconds): a rare character after a space or a line break, and a quote
# not closed at its line's end or a colon alone (each ``created: "…"`` is no suspect).
_SUSPECT_CHARACTERS = "[]{}&*!?%@`"
_SUSPECTS = tuple(
    re.compile(before + suspect, re.VERBOSE)
    for suspect in (*_OPEN_QUOTES, r":(?=[\ \n]|\Z)")
    for before in (r"\ ", r"\n")
)
# A block scalar's header (``key: |``, ``- >-``): group 1 its indentation and dashes, group 2
# its key. YAML reads a block scalar's text as text, holding no node that could run on, so
# the risk test skips it.
_HEADER = re.compile(
    r"(\ *(?:-\ +)*)(" + _KEY + r")?[|>][-+0-9]*(?:\ +\#[^\n]*)?(?=\n|\Z)", re.VERBOSE
)
# Characters that break or mark lines otherwise than ``\n`` does (libyaml reads YAML 1.1's
# NEL, LS and PS as line breaks), tabs, which YAML forbids in indentation, and a BOM.
_ODD_CHARACTERS = ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")
# A document marker or a directive at the start of a line (the first line is tested apart).
_DOCUMENT_MARK = re.compile(r"\n(?:---|\.\.\.)(?=[ \n]|\Z)|\n%")
_FIRST_LINE_MARK = ("---", "...", "%")
# The top-level ``entries:`` key with its value on the following lines.
_ENTRIES = re.compile(r"\nentries:\ *(?:\#[^\n]*)?(?=\n|\Z)", re.VERBOSE)
_FIRST_ENTRIES = re.compile(_ENTRIES.pattern[2:], re.VERBOSE)
# The end of the entries block: the next line starting at column 0 that is no comment.
_TOP_LEVEL = re.compile(r"\n[^\s#]")
_FIRST_CONTENT = re.compile(r"\n(\ +)[^\ \n\#]", re.VERBOSE)


@dataclass(frozen=True)
class IndexCut:
    """The document without its charts' values (each key then null; a parse error there is
    never shown: the whole parse names it), and each chart's value as ``(start, end)``
    offsets, in document order."""

    skeleton: str
    spans: tuple[tuple[int, int], ...]


def cut_index(text: str) -> IndexCut | None:
    """The cut of a block-style index, or None when it is not provably exact."""
    if any(c in text for c in _ODD_CHARACTERS) or text.startswith(_FIRST_LINE_MARK):
        return None
    if _DOCUMENT_MARK.search(text) or _risky(text):
        return None
    found = [m.end() + 1 for m in (_FIRST_ENTRIES.match(text), *_ENTRIES.finditer(text)) if m]
    if len(found) != 1:
        return None
    start = found[0]  # (the first line of the entries' value)
    top = _TOP_LEVEL.search(text, start - 1)
    end = top.start() + 1 if top else len(text)
    keys = _chart_key_lines(text, start, end)
    if not keys:
        return None
    spans = tuple(
        (key.end() + 1, keys[i + 1].start(1) if i + 1 < len(keys) else end)
        for i, key in enumerate(keys)
    )
    return IndexCut(_skeleton(text, keys, end), spans)


def _risky(text: str) -> bool:
    """Whether any line outside a block scalar's text is a ``_RISKY_LINE``."""
    skipped = _block_texts(text)
    starts = [start for start, _ in skipped]
    for line in _suspect_lines(text):
        at = bisect.bisect_right(starts, line) - 1
        if at >= 0 and line < skipped[at][1]:
            continue  # a block scalar's text
        if _RISKY_LINE.match(text, line):
            return True
    return False


def _suspect_lines(text: str) -> Iterator[int]:
    """The start of every line that may be a ``_RISKY_LINE`` (and of some that are not): a
    value starts a line or follows a space (``key: v``, ``- v``)."""
    yield 0
    for character in _SUSPECT_CHARACTERS:
        for at in _found(text, character):
            if at == 0 or text[at - 1] in " \n":
                yield _line_start(text, at)
    for suspect in _SUSPECTS:
        for hit in suspect.finditer(text):
            yield _line_start(text, hit.start() + 1)


def _found(text: str, what: str) -> Iterator[int]:
    at = text.find(what)
    while at >= 0:
        yield at
        at = text.find(what, at + 1)


def _line_start(text: str, at: int) -> int:
    # (LF alone ends a line here: ``cut_index`` parses a text holding any CR whole)
    return text.rfind("\n", 0, at) + 1


def _block_texts(text: str) -> list[tuple[int, int]]:
    """Where the text of each block scalar lies, in order: from its header's line end."""
    texts: list[tuple[int, int]] = []
    ends = heapq.merge(_found(text, "|"), _found(text, ">"))
    for at in ends:
        if texts and at < texts[-1][1]:
            continue  # (a '|' inside a block scalar's text)
        header = _HEADER.match(text, _line_start(text, at))
        if header is not None and header.end() > at:
            end = _block_text_end(text, header.end(), _parent_column(header))
            texts.append((header.end(), end))
    return texts


def _parent_column(header: re.Match[str]) -> int:
    """The column of the collection holding a block scalar: its key's, else its last dash's;
    with neither, the header's own column, past its parent's (its text is then skipped only
    where indented past the header: less than YAML's rule, never more)."""
    prefix, key = header.group(1), header.group(2)
    if key is not None:
        return len(prefix)
    dashes = prefix.rstrip(" ")
    return len(dashes) - 1 if dashes.endswith("-") else len(prefix)


def _block_text_end(text: str, start: int, parent: int) -> int:
    """Where a block scalar's text from ``start`` (its header's line end) ends: at the first
    line that is not blank and not indented past ``parent``, the indentation of the
    collection holding it. (Its text may end sooner, at a line indented less than its first;
    in a valid document such a line can only be a comment.)"""
    end = _less_indented(parent).search(text, start)
    return end.start() + 1 if end else len(text)


@functools.cache
def _less_indented(parent: int) -> re.Pattern[str]:
    return re.compile(rf"\n {{0,{parent}}}[^ \n]")


def _chart_key_lines(text: str, start: int, end: int) -> list[re.Match[str]]:
    """The lines of the entries block at the charts' indentation, each a key with its value
    below it; none when another line sits at or left of that indentation or the block does
    not start with a key."""
    first = _FIRST_CONTENT.search(text, start - 1, end)
    if first is None:
        return []
    indent = len(first.group(1))
    if indent > 1 and re.compile(rf"\n {{1,{indent - 1}}}[^ \n#]").search(text, start - 1, end):
        return []  # a line left of the charts' keys: not the shape the cut reads
    at_indent = re.compile(rf"\n( {{{indent}}}(?!- |-\n|-$)[^ \n#][^\n]*)")
    key_line = re.compile(rf" {{{indent}}}[^\n]*?:(?: +(?:#[^\n]*)?)?")
    keys = []
    for line in at_indent.finditer(text, start - 1, end):
        if not key_line.fullmatch(line.group(1)):
            return []  # a chart key with its value on its line, or no key at all
        keys.append(line)
    return keys if keys and keys[0].start(1) == first.start() + 1 else []


def _skeleton(text: str, keys: list[re.Match[str]], end: int) -> str:
    """The text without the charts' values: each chart's key line, then the next."""
    charts = "".join(f"{key.group(1)}\n" for key in keys)
    return text[: keys[0].start(1)] + charts + text[end:]
