"""Surgical edits: replace pinned scalars' text at their positions, then prove nothing else moved.

Never re-serialise a document (that reformats users' files): splice the new scalar text into
the original text, keep the quoting style, re-parse, and compare the data to the original
with only the intended paths changed (DESIGN §2).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite
from fluxbump.yamldoc import YamlPath

# A plain scalar that YAML would read back as the same string (versions, tags)...
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
# ...unless it reads as a number or a keyword (``2.0`` is a float, ``on`` a bool in YAML 1.1).
_PLAIN_TYPED = re.compile(
    r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?\Z"
    r"|(?i:true|false|null|yes|no|on|off|y|n|~)\Z"
)
# Node properties (anchor ``&a``, tag ``!!str``) precede a scalar's text in its span.
_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)*")


def scalar_text(raw: str, new: str) -> str:
    """The source text for ``new`` in the quoting style of the scalar's current text ``raw``."""
    properties = _PROPERTIES.match(raw)
    if properties is not None and properties.end():
        return raw[: properties.end()] + scalar_text(raw[properties.end() :], new)
    if raw.startswith('"'):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if raw.startswith("'"):
        return "'" + new.replace("'", "''") + "'"
    if not _PLAIN_SAFE.match(new) or _PLAIN_TYPED.match(new):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return new


def splice(text: str, changes: Sequence[tuple[PinSite, str]]) -> str:
    """Replace each site's source span; YAML sites keep quoting, text sites are raw."""
    spans = sorted(changes, key=lambda change: change[0].start, reverse=True)
    _refuse_overlaps(spans)
    for site, new in spans:
        raw = text[site.start : site.end]
        replacement = scalar_text(raw, new) if site.doc_index is not None else new
        text = text[: site.start] + replacement + text[site.end :]
    return text


def _refuse_overlaps(spans: Sequence[tuple[PinSite, str]]) -> None:
    for (later, _), (earlier, _) in itertools.pairwise(spans):
        if earlier.end > later.start:
            raise UsageError(f"{later.where}: two edits overlap; report this as a fluxbump bug")


def edit_yaml(rel: str, text: str, changes: Sequence[tuple[PinSite, str]]) -> str:
    """The new text of a YAML file; refuses unless the data changed exactly at the sites."""
    new_text = splice(text, changes)
    expected = _load_all(text, rel)
    for site, new in changes:
        assert site.doc_index is not None
        _assign(expected[site.doc_index], site.path, new)
    if _load_all(new_text, rel) != expected:
        first = _first_bad_site(rel, text, changes)
        raise UsageError(
            f"{first.where}: editing the pin would change other data in the file; "
            "nothing written — edit this file by hand and re-run"
        )
    return new_text


def _first_bad_site(rel: str, text: str, changes: Sequence[tuple[PinSite, str]]) -> PinSite:
    """The site whose edit alone changes other data (so the message names the right line)."""
    ordered = sorted(changes, key=lambda change: change[0].start)
    original = _load_all(text, rel)
    for site, new in ordered:
        expected = _load_all(text, rel)
        assert site.doc_index is not None
        _assign(expected[site.doc_index], site.path, new)
        try:
            alone = _load_all(splice(text, [(site, new)]), rel)
        except UsageError:
            return site
        if alone != expected and expected != original:
            return site
    return ordered[0][0]


def _load_all(text: str, rel: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UsageError(
            f"{rel}: YAML no longer parses after the edit ({first}); nothing written"
        ) from None


def _assign(data: Any, path: YamlPath, value: str) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value
