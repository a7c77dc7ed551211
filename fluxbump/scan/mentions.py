"""Comments that name a version: reported as stale after a bump, never edited.

A comment such as "the Flux release installed here (v2.4.0) MUST equal ..." documents a pin;
after the pin moves, the comment lies. Rewriting prose is not ours to do (docs/ARCHITECTURE.md, "Edits are surgical"), so
these lines are listed for a human.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fluxbump.pins import Mention
from fluxbump.scan.sources import SourceFile, lines

# A comment: a line that starts with '#' or '//', or the tail after ' #' on a YAML line.
_COMMENT = re.compile(r"^\s*(?:#|//)(?P<whole>.*)$|\s#(?P<tail>.*)$")


def comment_mentions(source: SourceFile, values: Iterable[str]) -> list[Mention]:
    """Comment lines of one file that name any of ``values`` (``v`` prefix optional)."""
    bare = sorted({v.removeprefix("v") for v in values if v}, key=len, reverse=True)
    if not bare:
        return []
    # Not part of a longer version: no digit, ".digit", pre-release or build suffix follows.
    ends = r"(?!\w|\.\d|[-+][0-9A-Za-z])"
    pattern = re.compile(r"(?<![\w.])v?(" + "|".join(map(re.escape, bare)) + ")" + ends)
    found = []
    for number, line in enumerate(lines(source.text), start=1):
        comment = _COMMENT.search(line)
        if comment is None:
            continue
        text = comment.group("whole") or comment.group("tail") or ""
        hit = pattern.search(text)
        if hit is not None:
            found.append(Mention(source.rel, number, line.strip(), hit.group(1)))
    return found
