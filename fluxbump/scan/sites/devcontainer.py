"""The Flux CLI a Dev Container installs: a ``features`` entry of ``devcontainer.json``.

NathanVaughn/homelab-k8s pins the CLI its contributors run by a feature's ``version`` option
(``"ghcr.io/jsburckhardt/devcontainer-features/flux:1": {"version": "v2.8.1"}``, kept current
by a Renovate comment), beside a cluster bootstrapped at another release. The features that
install the CLI so (jsburckhardt's ``flux``, goldsam's ``flux2``, moenzuel's ``fluxcd``) all
take ``version`` (default ``latest``), a ``v`` or not. The file is JSON with comments (JSONC):
comments are blanked before it is searched, so a commented-out entry pins nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sources import SourceFile

SUBJECT = "Flux"
# What the Dev Container CLI reads: ``.devcontainer/devcontainer.json``, ``.devcontainer.json``
# and ``.devcontainer/<name>/devcontainer.json``.
FILE_NAMES = ("devcontainer.json", ".devcontainer.json")
# A feature whose id ends in one of these names (``…/flux:1``, ``…/flux2@sha256:…``), opening
# its options object.
_FEATURE = re.compile(
    r"\"(?P<id>[^\"\n]*/(?:flux|flux2|fluxcd)(?:[:@][^\"\n]*)?)\"[ \t\r\n]*:[ \t\r\n]*\{"
)
_VERSION = re.compile(r"\"version\"[ \t\r\n]*:[ \t\r\n]*\"(?P<version>[^\"\\\n]*)\"")
# A string (kept: a ``//`` inside one is no comment), or a comment (blanked).
_STRING_OR_COMMENT = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|//[^\n]*|/\*.*?\*/", re.DOTALL)
_DEFAULT = "(no version: the latest release)"


def find_devcontainer_pins(source: SourceFile) -> list[PinSite]:
    """Each Flux CLI feature's ``version``; one without it installs the newest release, shown
    at its id as ``latest`` (never edited)."""
    text = _blank_comments(source.text)
    sites = []
    for feature in _FEATURE.finditer(text):
        options = text[feature.end() : _object_end(text, feature.end())]
        owner = f"devcontainer feature {feature['id']}"
        version = _VERSION.search(options)
        if version is None or not version["version"]:
            at = feature.start("id")
            sites.append(replace(_site(source, at, "latest", f"{owner} {_DEFAULT}"), end=at))
        else:
            at = feature.end() + version.start("version")
            sites.append(_site(source, at, version["version"], owner))
    return sites


def _site(source: SourceFile, start: int, value: str, owner: str) -> PinSite:
    return source.text_site(Role.CLI, start, value, SUBJECT, owner)


def _blank_comments(text: str) -> str:
    """The text with each comment's characters but its newlines turned to spaces (offsets
    and lines kept)."""

    def blank(match: re.Match[str]) -> str:
        found = match.group()
        return found if found.startswith('"') else re.sub(r"[^\n]", " ", found)

    return _STRING_OR_COMMENT.sub(blank, text)


def _object_end(text: str, start: int) -> int:
    """Where the object whose body starts at ``start`` closes (its options are flat, but a
    string may hold a brace): the end of the text when it never does."""
    depth = 1
    for match in re.finditer(r"\"(?:[^\"\\\n]|\\.)*\"|[{}]", text[start:]):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return start + match.start()
    return len(text)
