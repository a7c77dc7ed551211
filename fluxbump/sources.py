"""Reading repository files once: bytes, text, BOM and size limits, and glob matching."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fluxbump.errors import UsageError

MAX_FILE_BYTES = 8 * 1024 * 1024
# Directories that never hold pin-sites; skipping them keeps the walk cheap.
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".terraform"}


@dataclass(frozen=True)
class SourceFile:
    """One file as read from disk: its repo-relative path, raw bytes and decoded text."""

    rel: str
    raw: bytes
    text: str

    def line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def read_source(root: Path, rel: str) -> SourceFile:
    """Read one candidate pin file; too large or not UTF-8 is a UsageError naming it."""
    path = root / rel
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(
                f"{rel}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not a pin file"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{rel}: cannot read ({exc.strerror})") from None
    return SourceFile(rel, raw, decode(raw, rel))


def decode(raw: bytes, rel: str) -> str:
    """UTF-8 text, BOM kept as U+FEFF so offsets and the written bytes round-trip."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"{rel}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """``**/`` spans directories, ``*`` and ``?`` stay within one path segment."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(rel: str, patterns: Iterable[str]) -> bool:
    return any(glob_regex(p).match(rel) for p in patterns)


def walk_files(root: Path) -> Iterator[str]:
    """Every regular file under root as a repo-relative POSIX path; symlinked dirs not followed."""
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        skip = SKIP_DIRS | {"charts"} if "Chart.yaml" in filenames else SKIP_DIRS
        # A chart's charts/ holds vendored subcharts (their own Chart.yaml), never our pins.
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        base = os.path.relpath(directory, root)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        for name in sorted(filenames):
            yield prefix + name
