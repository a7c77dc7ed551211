"""Renovate's regex manager, read as Renovate reads it (``lib/modules/manager/custom/regex``).

Each matchString is compiled with the ``g`` flag only; RE2 and JavaScript share the subset
fluxbump writes with Python's ``re`` (``(?<name>`` is spelled ``(?P<name>``; words are ASCII).
With ``matchStringsStrategy: recursive`` each string runs over the text of each match of the one
before it (``^`` and ``$`` are that text's ends); otherwise each runs over the whole file.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple


class Read(NamedTuple):
    """One dependency the manager extracts: its ``currentValue`` and where it is."""

    value: str
    start: int
    end: int


def reads(manager: dict[str, Any], text: str) -> list[Read]:
    """Each dependency ``manager`` extracts from ``text``, in Renovate's order."""
    patterns = [re.compile(s.replace("(?<", "(?P<"), re.ASCII) for s in manager["matchStrings"]]
    if manager.get("matchStringsStrategy") == "recursive":
        found = _matches(patterns[0], 0, text)
        for pattern in patterns[1:]:
            found = [n for at, m in found for n in _matches(pattern, at + m.start(), m[0])]
    else:
        found = [found for pattern in patterns for found in _matches(pattern, 0, text)]
    return [
        Read(m["currentValue"], at + m.start("currentValue"), at + m.end("currentValue"))
        for at, m in found
    ]


def _matches(pattern: re.Pattern[str], at: int, text: str) -> list[tuple[int, re.Match[str]]]:
    """Each match in ``text`` (found at ``at`` of the file), as Renovate's ``exec`` loop finds
    them: one of no text does not move its ``lastIndex``, so it is read again and again."""
    found = [(at, m) for m in pattern.finditer(text)]
    assert all(m[0] for _, m in found), f"{pattern.pattern} matches no text in {text!r}"
    return found


def values(manager: dict[str, Any], text: str) -> list[str]:
    return [read.value for read in reads(manager, text)]


def updated(manager: dict[str, Any], text: str, new: str) -> str:
    """``text`` after Renovate moved each dependency the manager read to ``new``."""
    for read in reversed(reads(manager, text)):
        text = text[: read.start] + new + text[read.end :]
    return text
