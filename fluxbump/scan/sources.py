"""Reading repository files once: bytes, text, BOM and size limits, and glob matching."""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NoReturn

from fluxbump.config import CONFIG_NAME
from fluxbump.errors import NotRegularFile, UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.scan.walked import CHARTFILE, SKIP_DIRS, tanka_vendored

MAX_FILE_BYTES = 8 * 1024 * 1024
# A file read as a manifest is read to one byte past the size one may have: a larger one is
# too large to read (``source_of``), and one of gigabytes is not read whole to learn that.
READ_LIMIT = MAX_FILE_BYTES + 1
# A file's first read takes what ``fstat`` says it holds, up to one byte past the cap (a read
# with no limit, of a file larger than that, goes on in chunks: its size is never allocated).
_FIRST_READ = READ_LIMIT
_CHUNK = 64 * 1024
# Where a line starts and ends, to a regex: after or before CR, LF or the text's ends. Lines
# end as YAML 1.2's do (§5.4: CRLF, CR, LF; a file saved with lone CRs, as classic Mac editors
# did, is read line by line as with the others), where re.MULTILINE's ^ and $ know LF alone.
LINE_START = r"(?<![^\r\n])"
LINE_END = r"(?![^\r\n])"
LINE_BREAK = re.compile(r"\r\n?|\n")
LONE_CR = re.compile(r"\r(?!\n)")
_LINE_KEPT = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def lines(text: str) -> list[str]:
    """``text``'s lines without their breaks (``LINE_BREAK``), as an editor numbers them. Not
    ``str.splitlines``: it splits at a form feed (an Emacs page break), U+001C-U+001E … too,
    which a shell, YAML and an editor read as characters of the line (a comment went on past
    one, and the lines after it were numbered one too far)."""
    return LINE_BREAK.split(text)


def lines_kept(text: str) -> list[str]:
    """``lines`` of ``text``, each with its line break (they join to ``text``)."""
    return _LINE_KEPT.findall(text)


def cr_as_lf(text: str) -> str:
    """``text`` with each CR an LF, every offset kept: a pattern of LF lines (``^`` in
    re.MULTILINE, fast where a literal follows) then finds the lines a lone CR ends too (a
    CRLF leaves an empty line between, which passes no line pattern). A text without CR,
    nearly every one, is returned as it is after one search."""
    return text.replace("\r", "\n") if "\r" in text else text


def line_start(text: str, offset: int, has_cr: bool = True) -> int:
    """Where ``offset``'s line of ``text`` starts (after the line break before it);
    ``has_cr``: whether a CR may be in the text (without one, a line ends at an LF alone)."""
    start = text.rfind("\n", 0, offset) + 1
    if has_cr:
        start = max(start, text.rfind("\r", start, offset) + 1)
    return start


def line_end(text: str, offset: int, has_cr: bool = True) -> int:
    """Where ``offset``'s line of ``text`` ends (at its line break, or the end of the text)."""
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    if has_cr:
        cr = text.find("\r", offset, end)
        end = end if cr < 0 else cr
    return end


def next_line(text: str, offset: int, has_cr: bool = True) -> int:
    """Where the line after ``offset``'s starts (one past the text's end after the last)."""
    end = line_end(text, offset, has_cr)
    return end + (2 if text.startswith("\r\n", end) else 1)


def line_break(text: str, offset: int) -> str:
    """The line break ending ``offset``'s line (LF after the last line): what a line written
    beside it ends with, so the file keeps its kind of ending."""
    end = line_end(text, offset)
    return text[end : next_line(text, offset)] or "\n"


@dataclass(frozen=True)
class SourceFile:
    """One file as read from disk: its repo-relative path, raw bytes and decoded text."""

    rel: str
    raw: bytes
    text: str

    def line_at(self, offset: int) -> int:
        """The 1-based line of a character offset, lines ending as YAML's do (``LINE_START``):
        the line an editor shows; U+0085 and U+2028, breaks to ``str.splitlines``, are none.
        Sites are asked for in text order: counting on from the offset asked last keeps a
        file of many matches linear (counting from the start each time, 40,000 URLs on one
        long line took 23 s)."""
        counted: tuple[int, int] = self.__dict__.get("_counted", (0, 1))
        at, line = counted if offset >= counted[0] else (0, 1)
        text = self.text
        line += text.count("\n", at, offset)
        if self._has_cr():  # a CR ends a line, and the LF of a CRLF then ends none
            line += text.count("\r", at, offset) - text.count("\r\n", at, offset)
            line -= 0 < at < offset and text[at - 1] == "\r" and text[at] == "\n"
        self.__dict__["_counted"] = (offset, line)  # (not a field: equality ignores it)
        return line

    def line_start(self, offset: int) -> int:
        """Where ``offset``'s line starts (after the line break before it)."""
        return line_start(self.text, offset, self._has_cr())

    def line_end(self, offset: int) -> int:
        """Where ``offset``'s line ends (at its line break, or the end of the text)."""
        return line_end(self.text, offset, self._has_cr())

    def next_line(self, offset: int) -> int:
        """Where the line after ``offset``'s starts (one past the text's end after the last)."""
        return next_line(self.text, offset, self._has_cr())

    def line_before(self, offset: int) -> str:
        """The text of ``offset``'s line before it (what a pin there follows on its line)."""
        return self.text[self.line_start(offset) : offset]

    def _has_cr(self) -> bool:
        """Whether a CR is in the text (asked once: most files have none, and then a line
        ends at an LF alone)."""
        has: bool | None = self.__dict__.get("_cr")
        if has is None:
            has = self.__dict__["_cr"] = "\r" in self.text
        return has

    def refuse_lone_cr(self, reader: str) -> None:
        """A UsageError at the first line ending in a lone CR, for a format whose ``reader``
        ends a line at LF or CRLF only (HCL's scanner, TOML 1.0): to it the file's lines are
        one, and what they seem to pin to YAML's rule is nothing it reads. One test passes a
        file without CR, nearly every one."""
        lone = LONE_CR.search(self.text) if self._has_cr() else None
        if lone is not None:
            raise UsageError(
                f"{self.rel}:{self.line_at(lone.start())}: lone CR line endings (classic Mac), "
                f"which {reader} does not read as line breaks (only LF or CRLF): save the file "
                "with LF line endings (mac2unix)"
            )

    def text_site(self, role: Role, start: int, value: str, subject: str, owner: str) -> PinSite:
        """The pin-site of ``value`` found at ``start`` in the text (a pin edited as text)."""
        column = start - self.line_start(start) + 1
        return PinSite(role, self.rel, self.line_at(start), column, value, subject, owner,
                       start, start + len(value))  # fmt: skip


class ReceivedSource(SourceFile):
    """A SourceFile of bytes decoded once already (by a forked scan's child, which sends the
    bytes only): its text is decoded again on first use. A fleet's scan sends tens of
    thousands of candidate files, and the parent reads few of them as text."""

    def __init__(self, rel: str, raw: bytes) -> None:  # (the frozen fields, set directly)
        self.__dict__.update(rel=rel, raw=raw)

    @property
    def text(self) -> str:
        text: str | None = self.__dict__.get("_text")
        if text is None:
            text = self.__dict__["_text"] = decode(self.raw, self.rel)
        return text

    # Equal to the SourceFile of the same file (the dataclass's test wants one class).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceFile):
            return NotImplemented
        return (self.rel, self.raw, self.text) == (other.rel, other.raw, other.text)

    __hash__ = SourceFile.__hash__


class JoinedSource(ReceivedSource):
    """A ReceivedSource of a comment header of its own and a body of bytes other files have
    too (``scan/repeated.py``: a fleet's copies of one manifest). Kept, and sent back by a
    forked scan, as the two, the body one object for every copy (pickled once): a fleet's
    candidate files are mostly such copies, and few of them are read again."""

    header: bytes
    body: bytes

    def __init__(self, rel: str, header: bytes, body: bytes) -> None:
        self.__dict__.update(rel=rel, header=header, body=body)

    @property
    def raw(self) -> bytes:  # (the frozen field, joined on first use)
        raw: bytes | None = self.__dict__.get("_raw")
        if raw is None:
            raw = self.__dict__["_raw"] = self.header + self.body
        return raw

    __hash__ = SourceFile.__hash__


def read_source(root: Path, rel: str) -> SourceFile:
    """Read one candidate pin file; too large or not UTF-8 is a UsageError naming it."""
    # One byte past the cap is enough to refuse: the cap counts the bytes read, not st_size.
    return source_of(rel, read_raw(root, rel, limit=READ_LIMIT))


def source_of(rel: str, raw: bytes) -> SourceFile:
    """A SourceFile from bytes already read (so a file read for a byte test is not read twice)."""
    if len(raw) > MAX_FILE_BYTES:
        _too_large(rel)
    return SourceFile(rel, raw, decode(raw, rel))


def _too_large(rel: str) -> NoReturn:
    raise UsageError(
        f"{rel}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, too large to be read for "
        "pins; add it to 'exclude' in .fluxbump.yaml if it pins nothing"
    )


def read_raw(root: Path | str, rel: str, *, limit: int | None = None) -> bytes:
    """A regular file's bytes (at most ``limit``); an unreadable file is a UsageError naming
    it, a device, FIFO, socket or a symlink out of the repository a ``NotRegularFile``.

    A fleet has tens of thousands of small files: one ``os.read`` of the size ``fstat`` gave
    (and a byte more, to see the file end) allocates only the bytes the file has and skips
    the buffered file object that ``Path.read_bytes`` pays; a file that grew is read on.
    """
    bound = sys.maxsize if limit is None else limit
    try:
        fd, size = _open_sized(root, rel)
        try:
            want = min(size + 1, bound, _FIRST_READ)
            raw = os.read(fd, want)
            if len(raw) < want or len(raw) >= bound:
                return raw
            chunks = [raw]
            left = bound - len(raw)
            while left > 0 and (chunk := os.read(fd, min(_CHUNK, left))):
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"{rel}: {_unread_because(root, rel, exc)}") from None


def _unread_because(root: str | Path, rel: str, exc: OSError) -> str:
    """Why a file could not be read; a dangling symlink, or one in a loop, is named as one
    (the system says only that there is no such file, beside a name the user sees in the
    listing, or that there are too many levels of links)."""
    path = os.path.join(root, rel)
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return f"a symlink to {os.readlink(path)}, which does not exist: fix or remove the link"
    if exc.errno == errno.ELOOP and os.path.islink(path):  # (the system says only "too many")
        return f"a symlink to {os.readlink(path)}, which leads back to it: fix or remove the link"
    return f"cannot read ({exc.strerror})"


# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after, by fstat);
# O_NOFOLLOW: a symlink is resolved and checked first (``_open_link``); O_NOCTTY: a terminal
# never becomes ours.
_OPEN_FLAGS = (
    os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
)


def _open_sized(root: Path | str, rel: str) -> tuple[int, int]:
    """An fd of ``root/rel`` and its size, when it is a regular file inside the repository (a
    symlink to one included): anything else is refused by the one ``fstat`` that proves it
    regular, before a byte is read, so a FIFO never blocks and a device is never read without
    bound. OSError: the file cannot be opened."""
    path = f"{root}/{rel}"
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            fd = _open_link(root, rel)
        elif exc.errno == errno.ENXIO:  # a socket (or a device without a driver)
            _not_regular(rel, file_kind(os.stat(path).st_mode))
        else:
            raise
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        os.close(fd)
        target = os.path.realpath(path)
        link = f"a symlink to {target}, " if target != os.path.abspath(path) else ""
        _not_regular(rel, link + file_kind(found.st_mode))
    return fd, found.st_size


def _open_link(root: Path | str, rel: str) -> int:
    """Open what a symlink names when that is a regular file inside the repository; a link
    out of it would put a file the repository does not hold into the scan (and a bump would
    edit it)."""
    target = os.path.realpath(f"{root}/{rel}")
    mode = os.stat(target).st_mode  # stat never blocks, not even on a FIFO
    if not stat.S_ISREG(mode):
        _not_regular(rel, f"a symlink to {target}, {file_kind(mode)}")
    if not target.startswith(_inside(root)):
        # (``.fluxbump.yaml`` itself is read before its ``exclude``: no such advice for it)
        exclude = "" if rel == CONFIG_NAME else ", or add it to 'exclude' in .fluxbump.yaml"
        raise NotRegularFile.of(
            rel,
            f"a symlink to {target}, outside the repository; fluxbump reads only files inside it",
            f"replace the link with the file{exclude}",
        )
    return os.open(target, _OPEN_FLAGS)


def file_kind(mode: int) -> str:
    kinds = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _not_regular(rel: str, what: str) -> NoReturn:
    raise NotRegularFile.of(
        rel,
        f"{what}, not a regular file; fluxbump reads only regular files",
        "remove it, or add it to 'exclude' in .fluxbump.yaml",
    )


# Byte-order marks of encodings a YAML file may be saved in (PowerShell 5 writes UTF-16);
# UTF-32's come first, as UTF-32-LE's begins with UTF-16-LE's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# The first bytes of those marks: one cheap test per file before looking closer.
WIDE_FIRST = frozenset({b"\xff", b"\xfe", b"\x00"})


def wide_encoding(raw: bytes) -> str | None:
    """``utf-16`` or ``utf-32`` for text that starts with that byte-order mark, else None."""
    if raw[:1] not in WIDE_FIRST:
        return None
    return next((codec for bom, codec in _WIDE_BOMS if raw.startswith(bom)), None)


def as_utf8(raw: bytes) -> bytes:
    """UTF-16/32 text (by its byte-order mark) as UTF-8 bytes, for the byte tests that pick
    the files worth reading (their bytes never spell a name); other bytes as they are."""
    wide = wide_encoding(raw)
    return raw if wide is None else raw.decode(wide, errors="replace").encode()


def decode(raw: bytes, rel: str) -> str:
    """UTF-8 text, BOM kept as U+FEFF so offsets and the written bytes round-trip."""
    wide = wide_encoding(raw)
    if wide is not None:
        raise UsageError(
            f"{rel}:1: {wide.upper()} text (byte-order mark); fluxbump reads and writes UTF-8 "
            f"only: convert it first (iconv -f {wide.upper()} -t UTF-8)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{rel}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): save it as UTF-8"
        ) from None


# A glob's parts, each with its regex: "lit" matches one fixed character ('/' only as
# itself), "star" any run within a segment, "dirs" any run of whole directories, "any" any run.
GlobToken = tuple[str, str]
STAR: GlobToken = ("star", "[^/]*")
DIRS: GlobToken = ("dirs", "(?:.*/)?")
ANY: GlobToken = ("any", ".*")
SLASH: GlobToken = ("lit", "/")


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """``**/`` spans directories, ``*`` and ``?`` stay within one path segment."""
    # (DOTALL: a name may hold a newline)
    return re.compile(glob_pattern(glob_tokens(pattern)) + r"\Z", re.DOTALL)


def glob_tokens(pattern: str, escape: Callable[[str], str] = re.escape) -> list[GlobToken]:
    """The parts of one of fluxbump's globs (``**`` not before a ``/`` spans anything);
    ``escape`` quotes a literal character (``commands.renovate``: JavaScript's rules)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append(DIRS)
            i += 3
        elif pattern.startswith("**", i):
            out.append(ANY)
            i += 2
        elif pattern[i] == "*":
            out.append(STAR)
            i += 1
        else:
            out.append(("lit", "[^/]" if pattern[i] == "?" else escape(pattern[i])))
            i += 1
    return out


def glob_pattern(tokens: list[GlobToken]) -> str:
    """The regex of a glob's parts (``_assembled``), fluxbump's or Renovate's."""
    return _assembled(tokens)[0]


def free_runs(pattern: str) -> int:
    """How many runs of ``pattern`` (before its last) ``glob_pattern`` matches as written,
    trying every split: the time a path takes grows as its length to this power, plus one."""
    return _assembled(glob_tokens(pattern))[1]


def _assembled(tokens: list[GlobToken]) -> tuple[str, int]:
    """The regex of a glob's tokens, in time about linear in the path's length: each run a
    later run can stand in for is matched once, at its first fit, and never tried again. Plain
    concatenation backtracks through every split: 14 stars (``*a*a…*c``) over a name of 40
    a's ran for hours, and so did ``**/a/**/a/…`` over a deep path.

    Committing is exact where a star (``[^/]*``) or ``.*`` is followed by fixed characters
    and then another star or ``.*`` (a ``.*`` by ``.*`` only): a later fit of the fixed part
    leaves a rest the next star matches from the first fit too, since what lies between
    holds no ``/`` (a star's run cannot, nor can a shifted copy of the fixed part). And where
    ``**/`` is followed by whole segments ending in ``/`` and then ``**/`` again: their end
    is fixed by where they start, and the next ``**/`` spans any whole directories between
    the first fit and a later one."""
    out, i, free = [], 0, 0
    while i < len(tokens):
        kind, regex = tokens[i]
        j = _next_run(tokens, i + 1)
        fixed = "".join(r for _, r in tokens[i + 1 : j])
        after = tokens[j][0] if j < len(tokens) else None
        if (kind == "star" and after in ("star", "any")) or kind == after == "any":
            out.append(f"(?>{regex}?{fixed})")  # the first fit, as a lazy run finds it
        elif kind == "dirs" and (unit := _unit_end(tokens, i)) is not None:
            inner, inner_free = _assembled(tokens[i + 1 : unit])
            out.append(f"(?>(?:.*?/)??{inner})")
            free, j = free + inner_free, unit
        else:
            out.append(regex + fixed)
            # (a star ends where its segment does, if a '/' follows it: no choice to try)
            forced = kind == "star" and SLASH in tokens[i + 1 : j]
            free += kind != "lit" and j < len(tokens) and not forced
        i = j
    return "".join(out), free


def _next_run(tokens: list[GlobToken], start: int) -> int:
    """The index of the first run (not "lit") from ``start``, else ``len(tokens)``."""
    return next((k for k in range(start, len(tokens)) if tokens[k][0] != "lit"), len(tokens))


def _unit_end(tokens: list[GlobToken], at: int) -> int | None:
    """Where the whole segments after the ``**/`` at ``at`` end, at the next ``**/``, when
    they end in ``/`` and hold no ``.*``; else None (the run is matched as written)."""
    end = next((k for k in range(at + 1, len(tokens)) if tokens[k][0] in ("dirs", "any")), None)
    if end is None or tokens[end][0] != "dirs" or tokens[end - 1] != SLASH:
        return None
    return end


class Globs:
    """Several glob patterns as one test. A fleet has tens of thousands of paths but a few
    dozen file names: a ``**/NAME`` pattern (no ``/`` or ``**`` in NAME) matches exactly the
    paths whose last segment matches NAME, so it is answered once per name. The others run as
    one combined regex, after literal prefixes, suffixes and parts (C-speed tests) rule most
    paths out."""

    def __init__(self, patterns: Iterable[str]) -> None:
        listed = tuple(patterns)
        names = [p[3:] for p in listed if _by_name(p)]
        paths = [p for p in listed if not _by_name(p)]
        self.names = _combined(names)
        self.by_name: dict[str, bool] = {}
        self.whole = _combined(list(listed))  # a path with a line break (never by name)
        self.regex = _combined(paths)
        self.prefixes = tuple(re.split(r"[*?]", p)[0] for p in paths)
        # ``**/name`` matches ``name`` at the top too: its suffix is ``name``, not ``/name``.
        self.suffixes = tuple(re.split(r"[*?]", p)[-1].removeprefix("/") for p in paths)
        # And each pattern's longest literal part is in every path it matches.
        parts = (max(re.split(r"\*\*/|\*|\?", p), key=len) for p in paths)
        self.parts = re.compile("|".join(re.escape(part) for part in parts))

    def match(self, rel: str) -> bool:
        if "\n" in rel:
            return self.whole is not None and self.whole.match(rel) is not None
        return self.match_name(rel[rel.rfind("/") + 1 :]) or self.match_path(rel)

    def match_name(self, name: str) -> bool:
        """Whether a ``**/NAME`` pattern matches a path whose last segment is ``name``."""
        if self.names is None:
            return False
        found = self.by_name.get(name)
        if found is None:
            found = self.by_name[name] = self.names.match(name) is not None
        return found

    def match_path(self, rel: str) -> bool:
        """Whether one of the other patterns matches ``rel`` (a path without a line break)."""
        return (
            self.regex is not None
            and rel.endswith(self.suffixes)
            and rel.startswith(self.prefixes)
            and self.parts.search(rel) is not None
            and self.regex.match(rel) is not None
        )


def _by_name(pattern: str) -> bool:
    """A ``**/NAME`` pattern whose NAME can only match one path segment."""
    return pattern.startswith("**/") and "/" not in pattern[3:] and "**" not in pattern[3:]


def _combined(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{glob_regex(p).pattern})" for p in patterns), re.DOTALL)


def matches(rel: str, patterns: Iterable[str]) -> bool:
    return any(glob_regex(p).match(rel) for p in patterns)


def walk_files(root: Path) -> Iterator[str]:
    """Every file under root as a repo-relative POSIX path, directory by directory in name
    order (a directory's files, then its subdirectories); symlinked dirs are not followed,
    nor is a symlink to a file outside the repository (``unfollowed_links`` names it)."""
    yield from _walk(str(root), "", _inside(root))


def real_rel(root: Path | str, rel: str) -> str | None:
    """The repository path ``rel`` names once its symlinks are resolved (a file reached through
    a linked directory is its target's, the one the walk found), or None: it leaves the
    repository, so it is no file of it."""
    inside = _inside(root)
    real = os.path.realpath(os.path.join(root, rel))
    return real[len(inside) :] if real.startswith(inside) else None


def _inside(root: Path | str) -> str:
    """The prefix of every real path inside the repository (its real path and a slash): a
    symlink whose real path lacks it leaves the repository."""
    return os.path.join(os.path.realpath(root), "")


def _walk(directory: str, prefix: str, inside: str) -> Iterator[str]:
    # One scandir per directory (entry types come with it) instead of os.walk's relpath work.
    try:
        with os.scandir(directory) as entries:
            files, dirs = _split_entries(entries, prefix, inside)
    except OSError as exc:  # its files are unknown: said, and the rest is read
        if prefix:  # (the repository's own root is checked before the walk)
            reason = exc.strerror or type(exc).__name__
            note = f"{prefix[:-1]}/: cannot list it ({reason}); its files were not read"
            _UNFOLLOWED[note] = None
        return
    # A chart's charts/ holds vendored subcharts (their own Chart.yaml), never our pins; so
    # does the folder Tanka vendors other projects' charts into.
    skip = SKIP_DIRS | {"charts"} if "Chart.yaml" in files else SKIP_DIRS
    if CHARTFILE in files:
        skip = skip | tanka_vendored(directory)
    for name in sorted(files):
        yield prefix + name
    for name in sorted(dirs):
        if name not in skip:
            yield from _walk(f"{directory}/{name}", f"{prefix}{name}/", inside)


def _split_entries(
    entries: Iterator[os.DirEntry[str]], prefix: str, inside: str
) -> tuple[list[str], list[str]]:
    """File names and names of real (not symlinked) subdirectories."""
    files: list[str] = []
    dirs: list[str] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            if not entry.is_symlink() or _links_inside(entry.path, prefix + entry.name, inside):
                files.append(entry.name)
        elif not entry.is_symlink():
            dirs.append(entry.name)
        else:  # never followed: inside, its files are found where they are; out, it is named
            _links_inside(entry.path, prefix + entry.name, inside)
    return files, dirs


# What the walk did not follow, each once: a symlink to a file outside the repository, a
# directory it may not list. The CLI names them.
_UNFOLLOWED: dict[str, None] = {}


def _links_inside(path: str, rel: str, inside: str) -> bool:
    """Whether a symlink names a file or folder inside the repository (a file is read like
    any other). One out of it is never followed: git stores the link, not what it names, so its target is
    no content of the repository (a developer's home file, a device), and one such link
    must not stop the run; it is named once instead."""
    target = os.path.realpath(path)
    if target.startswith(inside) or target == inside[:-1]:  # (a link to the root is inside)
        return True
    _UNFOLLOWED[
        f"{rel}: a symlink to {target}, outside the repository; not followed (git stores the "
        "link, not what it names)"
    ] = None
    return False


def note_skipped(note: str) -> None:
    """Something the scan leaves unread for a reason outside the walk (said with its notes)."""
    _UNFOLLOWED[note] = None


def walk_warnings() -> list[str]:
    """What the walk skipped since the last call: symlinks out of the repository
    (``_links_inside``), directories it could not list (``_walk``)."""
    found = list(_UNFOLLOWED)
    _UNFOLLOWED.clear()
    return found
