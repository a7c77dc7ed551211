"""Cluster files met again in one scan: what an earlier file with the same body yielded.

A fleet renders the same manifests into every cluster directory; at most a comment header
differs (the cluster's name). A file's HelmRelease pins, its Flux API versions and whether
it is a candidate depend only on its text, and a header of comment lines changes none of
them but the offsets and lines (``blockyaml.split_documents`` relies on the same). So the
release scan remembers, by the bytes after such a header, what a file yielded, and answers a
file with the same bytes there by moving those sites to its own path, offsets and lines;
nothing else in a file's result names it. A file whose scan warned or failed is never
remembered (its message names it), nor one that holds a flux-operator or flux-manifests pin
(read apart, ``releases._instances``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from fluxbump.pins import PinSite
from fluxbump.scan.apiversions import ApiVersions
from fluxbump.scan.sites.helmrelease import (
    PIN_KIND_WORDS,
    VersionPatch,
    listable,
    names_regex_bytes,
)

# A header of comment lines (printable ASCII) or blank lines, up to the first ``---`` line:
# the pattern ``blockyaml.split_documents`` cuts at, on bytes (ASCII: a byte is a character).
_HEADER = re.compile(rb"(?:#[ -~]*\n|\n)+")
# What would make a header matter to the scan: a kind or an escape (``releases._may_pin``
# reads the whole file for them), a Go template's braces (``releases._go_template``). One
# search (measured faster than four ``in`` tests); chart names are a second one
# (``Repeated._names_chart``), searched only where they can matter.
_HEADER_TERMS = re.compile(
    b"|".join([*(re.escape(w.encode()) for w in PIN_KIND_WORDS), rb"\\", rb"\{\{"])
)
# Remembered bodies: a fleet has a few dozen; unique ones gain nothing, so the table is
# bounded in entries and in the size of each body.
_LIMIT = 2048
_MARKER_ENDS = (b"", b" ", b"\t", b"\r", b"\n")
_MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class Yield:
    """What one file yielded, as found in the first file with its body."""

    cut: int  # where the body starts (the header's length)
    lines: int  # the header's lines
    body: bytes  # the bytes after it (one object, shared by the copies' sources)
    api: ApiVersions | None
    candidate: bool  # parsed for pins: its source is kept (``ScannedFiles.sources``)
    sites: tuple[PinSite, ...]
    patches: tuple[VersionPatch, ...]
    # No whole-file test of the release scan holds on the body (``releases._plain``)
    plain: bool = False
    source: bool = False  # it holds a chart source (``ScannedFiles.chart_sources``)

    def moved(self, rel: str, cut: int, lines: int) -> tuple[list[PinSite], list[VersionPatch]]:
        """The sites and patches as they are in ``rel``, whose header is ``cut`` long."""
        offset, more = cut - self.cut, lines - self.lines
        sites = [s.moved(rel, more, offset) for s in self.sites]
        patches = [replace(p, site=p.site.moved(rel, more, offset)) for p in self.patches]
        return sites, patches


class Repeated:
    """The bodies met so far in one scan for ``names`` (each forked half keeps its own)."""

    def __init__(self, names: frozenset[str]) -> None:
        # A name of other characters might run across the header's end: no table then.
        self._enabled = bool(names) and listable(names)
        self._names = names_regex_bytes(names) if self._enabled else None
        self._seen: dict[bytes, Yield] = {}

    def find(self, raw: bytes) -> tuple[int, bytes, Yield | None] | None:
        """(the header's length, the body, what the first file with that body yielded, if one
        did) of a file the table may answer; None if not. A file with no such header is its
        own body: only a file of the same bytes matches."""
        if not self._enabled:
            return None
        cut = raw.find(b"\n---") + 1
        if not (cut and raw[cut + 3 : cut + 4] in _MARKER_ENDS and self._inert(raw, cut)):
            cut = 0  # (``----`` or ``---x`` is no marker line)
        found = self._seen.get(raw[cut:])
        # A chart the header names makes the file a candidate (``releases._may_pin`` counts
        # every mention) and changes nothing else (the header is in no document): looked for
        # only where that can matter, as the search costs a third of a copy's scan.
        if cut and (found is None or not found.candidate) and self._names_chart(raw, cut):
            cut, found = 0, self._seen.get(raw)
        return None if len(raw) - cut > _MAX_BODY else (cut, raw[cut:], found)

    def _inert(self, raw: bytes, cut: int) -> bool:
        """Whether ``raw[:cut]`` is comment lines naming no kind, escape or template."""
        return (
            _HEADER.fullmatch(raw, 0, cut) is not None and _HEADER_TERMS.search(raw, 0, cut) is None
        )

    def _names_chart(self, raw: bytes, cut: int) -> bool:
        assert self._names is not None
        return self._names.search(raw, 0, cut) is not None

    def remember(self, body: bytes, found: Yield) -> None:
        if len(self._seen) >= _LIMIT:
            self._seen.clear()
        self._seen[body] = found
