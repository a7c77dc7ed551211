"""Text templates (Terraform ``*.tftpl``): the install pin, found by an exact pattern.

Not YAML (``${…}``, ``%{ if }``), so it is edited as text. A match on a comment line only
*mentions* a version: it is reported, never rewritten.
"""

from __future__ import annotations

import re

from fluxbump.pins import Mention, PinSite, Role
from fluxbump.sources import SourceFile

_COMMENT = re.compile(r"^\s*(#|//|/\*|\*)")


def find_install_pins(
    source: SourceFile, pattern: str, subject: str
) -> tuple[list[PinSite], list[Mention]]:
    """Install pins (non-comment lines) and mentions (comment lines) of ``pattern``."""
    sites: list[PinSite] = []
    mentions: list[Mention] = []
    for match in re.finditer(pattern, source.text):
        line_start = source.text.rfind("\n", 0, match.start()) + 1
        line_end = source.text.find("\n", match.end())
        line_text = source.text[line_start : line_end if line_end >= 0 else None].rstrip("\r")
        line = source.line_at(match.start())
        if _COMMENT.match(line_text):
            mentions.append(Mention(source.rel, line, line_text.strip(), match.group("version")))
            continue
        start, end = match.span("version")
        sites.append(
            PinSite(
                role=Role.INSTALL,
                file=source.rel,
                line=line,
                column=start - line_start + 1,
                value=match.group("version"),
                subject=subject,
                owner="cloud-init",
                start=start,
                end=end,
            )
        )
    return sites, mentions
