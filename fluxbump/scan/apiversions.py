"""The Flux API versions a cluster file names, found by the release scan as it reads each file.

``crds/migrate.py`` composes only the files naming an API version a release may not serve;
the scan already holds every cluster file's bytes (in two processes on a big fleet), so it
answers which versions each file names there, and the check does not read the fleet again.
"""

from __future__ import annotations

import re

from fluxbump.scan.sources import MAX_FILE_BYTES

# A file's Flux API versions, each with the kinds the file names: (group, version, kinds).
ApiVersions = tuple[tuple[str, str, tuple[str, ...]], ...]

# Each top-level apiVersion of a Flux API group, as (group, version), and each top-level kind,
# found by one pass (a match is ``(group, version, b"")`` or ``(b"", b"", kind)``).
# Written as "a line break, then ..." with the first line tested apart: a pattern with a
# literal first character is searched for at C speed, where ``^`` in MULTILINE mode is tried
# at every position (two such scans of a 44,000-file fleet cost about a CPU-second).
# ``API_VERSION_LINE``: one line ``apiVersion: <Flux group>/<version>`` as written, alone (a
# ResourceSet's template lines are matched by it too: ``crds/migrate.py``).
API_VERSION_LINE = (
    r"apiVersion:[ \t]*['\"]?([a-z.]*fluxcd\.io)/([a-z0-9]+)['\"]?[ \t]*(?:#[^\r\n]*)?\r?"
)
_LINE_TAIL = rb"(?:" + API_VERSION_LINE.encode() + rb"$|kind:[ \t]*['\"]?([A-Za-z0-9]+))"
_LINES = re.compile(rb"\n" + _LINE_TAIL, re.MULTILINE)
_LINE_AT_START = re.compile(_LINE_TAIL, re.MULTILINE)
# A flux-operator ResourceSet's generated objects (``spec.resources``) are indented list items:
# in a file with a top-level ``kind: ResourceSet`` (a fleet holds a few) each apiVersion and
# kind line counts at any indentation. Lines that are no object (a ``dependsOn`` entry) only
# make the file a suspect more often: ``crds/migrate.py`` reads the objects themselves.
_RESOURCE_SET = re.compile(rb"^kind:[ \t]*['\"]?ResourceSet['\"]?[ \t]*(?:#.*)?\r?$", re.MULTILINE)
_INDENTED_LINES = re.compile(rb"^[ \t]*(?:-[ \t]+)?" + _LINE_TAIL, re.MULTILINE)

# The answer by what the pattern found: a fleet's files name a few dozen distinct sets, so
# each is decoded once and is one object (pickled once when a forked half sends it back).
_known: dict[tuple[tuple[bytes, bytes, bytes], ...], ApiVersions] = {}


def api_versions(raw: bytes) -> ApiVersions | None:
    """The Flux API versions of a file's top-level ``apiVersion`` lines (a ResourceSet's
    nested ones too) with the sorted kinds of its ``kind`` lines; None when the file is not
    text fluxbump reads (not UTF-8, too large): ``crds/migrate.py`` then reads it itself and
    finds it unreadable."""
    if b"fluxcd.io/" not in raw:
        return ()
    if len(raw) > MAX_FILE_BYTES or not _utf8(raw):
        return None
    raw = _lf(raw)
    if may_hold_resource_set(raw):
        key = tuple(_INDENTED_LINES.findall(raw))
    else:
        first = _LINE_AT_START.match(raw)
        found = _LINES.findall(raw)
        key = tuple([first.groups(), *found] if first else found)
    named = _known.get(key)
    if named is None:
        kinds = tuple(sorted({kind.decode() for _, _, kind in key if kind}))
        apis = [(group.decode(), version.decode()) for group, version, _ in key if group]
        named = _known[key] = tuple((group, version, kinds) for group, version in apis)
    return named


def may_hold_resource_set(raw: bytes) -> bool:
    """Whether a file's text has a top-level ``kind: ResourceSet`` line, whose generated
    objects are Flux objects too (the parsed test, with its API group, is
    ``resourceset.is_resource_set``)."""
    return b"ResourceSet" in raw and _RESOURCE_SET.search(_lf(raw)) is not None


def _lf(raw: bytes) -> bytes:
    """The text with each CR an LF: a lone CR ends a line as LF does (YAML 1.2 §5.4), and
    only what the lines name is asked here (a CRLF's two breaks make a blank line between).
    A file without CR, nearly every one, is searched as it is."""
    return raw.replace(b"\r", b"\n") if b"\r" in raw else raw


def _utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
