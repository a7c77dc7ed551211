"""Terraform (``*.tf``): the Flux release a ``fluxcd/flux`` provider block installs.

``resource "flux_bootstrap_git" "NAME" { version = "v2.4.0" }`` (provider 1.x) and
``data "flux_install" "NAME" { version = "v2.4.0" }`` (provider 0.x) name a Flux release
(the provider's docs: "``version`` (String) Flux version"). Only a literal string at the top
level of the block is a pin; ``var.x`` or an interpolation is set elsewhere and is not read.
HCL is edited as text: the site spans the characters between the quotes.
"""

from __future__ import annotations

import re

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sources import SourceFile

# The blocks of the fluxcd/flux provider whose ``version`` is the Flux release.
_BLOCKS = {("resource", "flux_bootstrap_git"), ("data", "flux_install")}
_HEADER = re.compile(
    r'^[ \t]*(?P<kind>resource|data)[ \t]+"(?P<type>[^"\n]+)"[ \t]+"(?P<name>[^"\n]+)"[ \t]*\{',
    re.MULTILINE,
)
_VERSION = re.compile(r'^[ \t]*version[ \t]*=[ \t]*"(?P<version>[^"$%\\\n]*)"[ \t]*(?:#.*|//.*)?$')


def find_terraform_pins(source: SourceFile) -> list[PinSite]:
    """The ``version`` of each Flux provider block in one ``.tf`` file."""
    if not source.rel.endswith(".tf") or b"flux_" not in source.raw:
        return []
    sites = []
    for header in _HEADER.finditer(source.text):
        if (header.group("kind"), header.group("type")) not in _BLOCKS:
            continue
        owner = f"{header.group('type')}.{header.group('name')}"
        for start, line in _top_level_lines(source.text, header.end()):
            match = _VERSION.match(line)
            if match is not None and match.group("version"):
                at = start + match.start("version")
                sites.append(_site(source, at, match.group("version"), owner))
    return sites


def _site(source: SourceFile, start: int, value: str, owner: str) -> PinSite:
    line_start = source.text.rfind("\n", 0, start) + 1
    return PinSite(
        Role.TERRAFORM, source.rel, source.line_at(start), start - line_start + 1, value,
        "Flux", owner, start, start + len(value),
    )  # fmt: skip


def _top_level_lines(text: str, body: int) -> list[tuple[int, str]]:
    """The lines of a block body (from just after its ``{``) at nesting depth one: nested
    blocks (``timeouts { … }``), strings, heredocs and comments do not end it early."""
    lines: list[tuple[int, str]] = []
    depth, i, line_start, line_depth = 1, body, body, 1
    while i < len(text) and depth > 0:
        char = text[i]
        if char == "\n":
            if line_depth == 1:
                lines.append((line_start, text[line_start:i]))
            line_start, line_depth = i + 1, depth
        elif char == '"':
            i = _string_end(text, i)
            continue
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        elif text.startswith("<<", i):
            i = _heredoc_end(text, i)
            continue
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        i += 1
    return lines


def _string_end(text: str, start: int) -> int:
    """The index after a quoted string's closing quote (``${…}`` inside may hold quotes)."""
    i, nested = start + 1, 0
    while i < len(text) and text[i] != "\n":
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            nested += 1
            i += 2
            continue
        if text[i] == "}" and nested:
            nested -= 1
        elif text[i] == '"' and not nested:
            return i + 1
        i += 1
    return i


_HEREDOC = re.compile(r"<<-?(?P<tag>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")


def _heredoc_end(text: str, start: int) -> int:
    """The index of the newline ending a heredoc's closing tag line (or after ``<<``)."""
    match = _HEREDOC.match(text, start)
    if match is None:
        return start + 2
    closing = re.compile(rf"^[ \t]*{match.group('tag')}[ \t]*$", re.MULTILINE)
    end = closing.search(text, match.end())
    return len(text) if end is None else end.end()
