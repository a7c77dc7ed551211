"""Text templates (Terraform ``*.tftpl``): install pins, found by exact patterns.

Flux's is its release URL; other upstreams are ``helm install … <repo>/<chart> --version X``.

Not YAML (``${…}``, ``%{ if }``), so it is edited as text. A match on a comment line only
*mentions* a version: it is reported, never rewritten.
"""

from __future__ import annotations

import re

from fluxbump.pins import Mention, PinSite, Role
from fluxbump.sources import SourceFile

_COMMENT = re.compile(r"^\s*(#|//|/\*|\*)")
# A logical shell line: physical lines joined by a trailing backslash.
_LOGICAL_LINE = re.compile(r"(?:[^\n\\]|\\(?!\r?\n)|\\\r?\n)*")
_TOKEN = re.compile(r"(?:[^\s\\]|\\(?!\r?\n))+")
_HELM_INSTALL = re.compile(r"(?:^|[\s;&|])helm\s+(?:\\\r?\n\s*)*(?:install|upgrade)\b")


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


def helm_install_pins(source: SourceFile) -> list[PinSite]:
    """``--version X`` / ``--version=X`` of each ``helm install|upgrade`` command, by chart."""
    sites = []
    for line in _LOGICAL_LINE.finditer(source.text):
        text = line.group(0)
        if "helm" not in text or text.lstrip().startswith("#") or not _HELM_INSTALL.search(text):
            continue
        site = _install_site(source, line.start(), list(_TOKEN.finditer(text)))
        if site is not None:
            sites.append(site)
    return sites


def _install_site(source: SourceFile, base: int, tokens: list[re.Match[str]]) -> PinSite | None:
    words = [t.group(0) for t in tokens]
    charts = [w for w in words if "/" in w and not w.startswith(("-", "/", ".")) and "://" not in w]
    for i, word in enumerate(words):
        if word.startswith("--version="):
            start = base + tokens[i].start() + len("--version=")
            value = word.removeprefix("--version=")
        elif word == "--version" and i + 1 < len(words):
            start, value = base + tokens[i + 1].start(), words[i + 1]
        else:
            continue
        if not charts:
            return None
        if source.text[start] in "'\"":
            start += 1
        value = value.strip("'\"")
        line_start = source.text.rfind("\n", 0, start) + 1
        return PinSite(
            Role.INSTALL, source.rel, source.line_at(start), start - line_start + 1, value,
            charts[0].rsplit("/", 1)[-1], "cloud-init", start, start + len(value),
        )  # fmt: skip
    return None
