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

# Each top-level apiVersion of a Flux API group, as (group, version), and each top-level kind.
# Written as "a line break, then ..." with the first line tested apart: a pattern with a
# literal first character is searched for at C speed, where ``^`` in MULTILINE mode is tried
# at every position (two such scans of a 44,000-file fleet cost about a CPU-second).
_API_TAIL = rb"apiVersion:[ \t]*['\"]?([a-z.]*fluxcd\.io)/([a-z0-9]+)['\"]?[ \t]*(?:#.*)?\r?$"
_API = re.compile(rb"\n" + _API_TAIL, re.MULTILINE)
_API_AT_START = re.compile(_API_TAIL, re.MULTILINE)
_KIND_TAIL = rb"kind:[ \t]*['\"]?([A-Za-z0-9]+)"
_KIND = re.compile(rb"\n" + _KIND_TAIL)
_KIND_AT_START = re.compile(_KIND_TAIL)

# The answer by what the patterns found: a fleet's files name a few dozen distinct sets, so
# each is decoded once and is one object (pickled once when a forked half sends it back).
_known: dict[tuple[tuple[tuple[bytes, bytes], ...], tuple[bytes, ...]], ApiVersions] = {}


def api_versions(raw: bytes) -> ApiVersions | None:
    """The Flux API versions of a file's top-level ``apiVersion`` lines with the sorted kinds
    of its top-level ``kind`` lines; None when the file is not text fluxbump reads (not
    UTF-8, too large): ``crds/migrate.py`` then reads it itself and finds it unreadable."""
    if b"fluxcd.io/" not in raw:
        return ()
    if len(raw) > MAX_FILE_BYTES or not _utf8(raw):
        return None
    apis = _apis(raw)
    if not apis:
        return ()
    key = (tuple(apis), tuple(_kinds(raw)))
    named = _known.get(key)
    if named is None:
        kinds = tuple(sorted({k.decode() for k in key[1]}))
        named = tuple((group.decode(), version.decode(), kinds) for group, version in key[0])
        _known[key] = named
    return named


def _apis(raw: bytes) -> list[tuple[bytes, bytes]]:
    first = _API_AT_START.match(raw)
    head = [(first[1], first[2])] if first else []
    return head + _API.findall(raw)


def _kinds(raw: bytes) -> list[bytes]:
    first = _KIND_AT_START.match(raw)
    head = [first[1]] if first else []
    return head + _KIND.findall(raw)


def _utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
