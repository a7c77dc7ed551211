"""The files the repository's Renovate configuration keeps Renovate out of, kept out of the scan.

A repository says there which files are not live: ``ignorePaths: [".archive/**"]`` (the
home-ops template family archives retired apps so). Renovate never updates those files; read
by fluxbump, an archived HelmRelease pinned at an old release was a violation that no bump
(and no ``sync`` after Renovate's) could end, and ``to`` rewrote archived objects. The
top-level ``ignorePaths`` of the first configuration file Renovate itself reads are followed,
matched as Renovate 39 and 42 match them (``lib/workers/repository/extract/file-match.ts``): a
path is ignored when it contains an entry or minimatch (``dot: true``) matches it.
``includePaths`` is not followed: it narrows what the bot manages, not what is deployed (a
wrapper chart outside it is live all the same). Presets (``extends``) are not resolved: they
are fetched from elsewhere, and fluxbump reads only this repository.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fluxbump.scan.sources import ANY, DIRS, SLASH, STAR, GlobToken, glob_pattern

# Renovate's own order (``lib/config/app-strings.ts``): the first that exists is the config.
CONFIG_FILES = (
    "renovate.json",
    "renovate.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    "package.json",  # its "renovate" key
)
MAX_CONFIG_BYTES = 1024 * 1024
# Brace patterns an entry may expand to: each pair doubles them at least, and 24 pairs made
# 16 million (MemoryError); no real ignorePaths entry names this many alternatives.
MAX_EXPANSIONS = 1000


@dataclass(frozen=True)
class RenovatePaths:
    """The ``ignorePaths`` of one Renovate configuration file."""

    file: str
    ignore: tuple[str, ...] = ()

    def skips(self, rel: str) -> bool:
        """Whether Renovate leaves the file at ``rel`` (a repository path) alone."""
        return any(entry in rel for entry in self.ignore) or self._ignored.match(rel)

    @cached_property
    def _ignored(self) -> _Minimatch:
        return _Minimatch(self.ignore)


def followed_paths(root: Path, follow: bool) -> RenovatePaths | None:
    """The paths the scan leaves to Renovate's word (``follow_renovate_paths``); a
    configuration that cannot be read is said, and then nothing is left out."""
    if not follow:
        return None
    from fluxbump.scan.sources import note_skipped

    paths, unread = read_renovate_paths(root)
    if unread is not None:
        note_skipped(unread)
    return paths


def read_renovate_paths(root: Path) -> tuple[RenovatePaths | None, str | None]:
    """The repository's Renovate paths (None: no configuration, or it names none), and a
    warning when the file Renovate would read cannot be read (its paths are then unknown)."""
    from fluxbump.errors import NotRegularFile, UsageError
    from fluxbump.scan.sources import read_raw

    for name in CONFIG_FILES:
        try:
            if not (root / name).is_file():
                continue
        except OSError as exc:  # (a folder this user may not search: .github/ 0700)
            return None, _unread(name, exc.strerror or type(exc).__name__)
        try:
            try:
                raw = read_raw(root, name, limit=MAX_CONFIG_BYTES + 1)
            except NotRegularFile:  # (a link out of the repository: not this repository's)
                raise ValueError("not a regular file inside the repository") from None
            except UsageError as exc:  # (its text names the file: the reason is after it)
                raise ValueError(exc.message.removeprefix(f"{name}: ")) from None
            if len(raw) > MAX_CONFIG_BYTES:
                raise ValueError(f"larger than {MAX_CONFIG_BYTES // 2**20} MiB")
            if not raw.strip():  # no configuration yet: ``renovate-config > renovate.json``
                return None, None  # empties it before fluxbump runs (Python's stdout to a
                # file is block-buffered: nothing of this run is in it before the scan)
            data = _parse(name, raw.decode("utf-8-sig"))
        except (OSError, ValueError, RecursionError) as exc:
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return None, _unread(name, why)
        if name == "package.json":
            if not isinstance(data, dict) or "renovate" not in data:
                continue  # Renovate reads a package.json only for its "renovate" key
            data = data["renovate"]
        if not isinstance(data, dict):
            return None, _unread(name, "not a JSON object")
        ignore = data.get("ignorePaths", [])
        if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
            return None, _unread(name, "ignorePaths is not a list of strings")
        try:
            _Minimatch(tuple(ignore))  # an entry that is no glob leaves every path unknown
        except ValueError as exc:
            return None, _unread(name, str(exc))
        return (RenovatePaths(name, tuple(ignore)) if ignore else None), None
    return None, None


def _unread(name: str, why: str) -> str:
    return (
        f"{name}: cannot read it as Renovate configuration ({why}); the files its "
        "ignorePaths name are read"
    )


def _parse(name: str, text: str) -> Any:
    """JSON, else JSON5 (comments, trailing commas, unquoted keys: what Renovate accepts and
    home-ops repositories write; the json5 library, as hand-stripping comments from JSON5
    misreads a ``/*`` inside a glob string)."""
    try:
        return json.loads(text)
    except ValueError:
        if name == "package.json":
            raise
    import json5

    return json5.loads(text)


class _Minimatch:
    """Patterns matched as minimatch matches them with ``dot: true`` (Renovate's options): a
    ``**`` segment spans directories (none too), ``*``/``?``/``[…]`` stay in one segment,
    ``{a,b}`` expands, a leading ``!`` negates and a leading ``#`` is a comment."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        """ValueError: an entry whose braces expand past MAX_EXPANSIONS, or whose class
        Python's ``re`` refuses (``[z-a]``)."""
        self._tests = [_compile(p) for p in patterns]

    def match(self, rel: str) -> bool:
        return any(
            regex is not None and (regex.match(rel) is None) == negated
            for regex, negated in self._tests
        )


class _TooMany(Exception):
    """An entry's braces expand to more than MAX_EXPANSIONS patterns."""


def _compile(entry: str) -> tuple[re.Pattern[str] | None, bool]:
    """(the regex of ``entry``'s expansions, whether it is negated); no regex: a comment."""
    negated, pattern = False, entry
    while pattern.startswith("!"):
        negated, pattern = not negated, pattern[1:]
    if pattern.startswith("#"):
        return None, False
    try:
        expanded = "|".join(f"(?:{glob_pattern(_segments(p))})" for p in _braces(pattern))
        return re.compile(f"(?:{expanded})\\Z", re.DOTALL), negated
    except _TooMany:
        why = f"expands to more than {MAX_EXPANSIONS} patterns"
    except re.error as exc:
        why = f"is no glob ({exc})"
    raise ValueError(f"ignorePaths entry '{entry}' {why}")


def _segments(pattern: str) -> list[GlobToken]:
    segments = pattern.split("/")
    out: list[GlobToken] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            if i > 0:
                out.append(SLASH)
            out.append(ANY if last else DIRS)  # (``a/**`` is not ``a`` itself)
            continue
        if i > 0 and segments[i - 1] != "**":
            out.append(SLASH)
        out += _segment(segment)
    return out


def _segment(segment: str) -> list[GlobToken]:
    out: list[GlobToken] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and i + 1 < len(segment):
            out.append(("lit", re.escape(segment[i + 1])))
            i += 2
            continue
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":  # ``a**`` is ``a*``
                i += 1
            out.append(STAR)
        elif char == "?":
            out.append(("lit", "[^/]"))
        elif char == "[" and (end := _class_end(segment, i)) > 0:
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            members = (body[1:] if negate else body).replace("\\", "\\\\").replace("[", "\\[")
            # (a range such as ``%-0`` holds ``/``, which minimatch's class never meets)
            out.append(("lit", f"[^/{members}]" if negate else f"(?!/)[{members}]"))
            i = end
        else:
            out.append(("lit", re.escape(char)))
        i += 1
    return out


def _class_end(segment: str, start: int) -> int:
    """The index of the ``]`` closing the class opened at ``start`` (0: no class)."""
    at = start + 1
    if segment[at : at + 1] in ("!", "^"):
        at += 1
    if segment[at : at + 1] == "]":  # a leading ``]`` is a member
        at += 1
    end = segment.find("]", at)
    return end if end > 0 else 0


def _braces(pattern: str) -> list[str]:
    """``a{b,c}d`` as ``abd`` and ``acd`` (nested too); braces without a comma are text."""
    depth, start = 0, -1
    for i, char in enumerate(pattern):
        if char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                options = _split_top(pattern[start + 1 : i])
                if len(options) > 1:
                    rest = _braces(pattern[i + 1 :])
                    expanded = [_braces(option) for option in options]
                    if sum(map(len, expanded)) * len(rest) > MAX_EXPANSIONS:
                        raise _TooMany
                    head = pattern[:start]
                    return [head + o + r for each in expanded for o in each for r in rest]
    return [pattern]


def _split_top(text: str) -> list[str]:
    """``text`` split at its commas outside nested braces."""
    parts, depth, last = [], 0, 0
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    return [*parts, text[last:]]
