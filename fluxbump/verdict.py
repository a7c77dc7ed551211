"""The verdict cache: a warm ``status``/``check --offline`` answered before the CLI loads.

A second ``check`` of a repository nobody touched prints what the first printed. Its whole
output (each line to stdout or stderr, in order, and the exit code) is kept under a key that
names everything the output depends on; a later run whose key is the same prints it again
without walking, parsing or importing Typer, ruamel or jsonschema. The key is never trusted
beyond what it names, so it names all of it:

- fluxbump itself: its version, the Python running it, and the size and mtime of every file of
  the installed package (an edited checkout or a reinstall of the same version is new code);
- the command line: the command and every argument, verbatim, the current directory (a
  relative ``--repo``), whether stdout and stderr are terminals and their encodings (colour,
  the bytes printed), and the environment that changes behaviour (``FLUXBUMP_*``, ``GIT_*``,
  ``NO_COLOR``, ``HOME``, ``XDG_*`` and the forge tokens every printed line is scrubbed of);
- the repository: its top and git directory, ``git ls-files --stage -v`` (every index entry
  with its blob id and flags: the configuration file and every tracked file are in it), and
  ``git status --porcelain=v2 --branch --untracked-files=all --ignored`` (HEAD's commit, whose
  history the CRD check reads, and every path whose work-tree copy git does not vouch for).
  Each such path (modified, staged, unmerged, untracked, ignored but walked by the scan), each
  entry git does not look at (assume-unchanged, skip-worktree) and each symlink's target is
  hashed by content: a dirty tree is keyed by its bytes, not sent down the slow path, so a
  pre-commit hook (the tree is dirty by definition) stays warm. Git's own rules decide that a
  tracked file is unchanged, as ``git status`` does (stat data, racy entries compared by
  content), as the per-file cache (``scan/cache.py``) already trusts them;
- what the run read outside the repository: the cold run notes each such file as it reads it
  (``note_read``: the Helm index file or its cached copy, a cached chart archive, the journal
  directory), with the digest of the very bytes it used; a warm run re-reads each and is
  served only if every one is what it was.

Only ``--offline`` runs are kept: online, the Helm index and chart archives come from the
network, and a verdict cannot name content it has not seen. A key that cannot be made (not at
the top of a git work tree, a submodule or nested repository, more than ``MAX_HASHED`` bytes
of dirty files) leaves the run to the CLI, cold. Only exits 0, 1 and 2 are kept (offline,
each follows from what the key names); an interrupted or crashed run never is. The cold run's key is made again after it
ran; a change while it ran means nothing is kept.

Verdicts live in the git directory (``fluxbump-verdicts/``, one file per key, the newest
``KEEP``), written atomically; a corrupt, foreign or unreadable one, or anything but a regular
file, is a miss, never an error; a store that is a symlink is neither read nor written.
``--no-cache`` and ``FLUXBUMP_NO_CACHE`` bypass it, reading and writing.
"""

from __future__ import annotations

import os
import stat
import sys

from fluxbump import __version__
from fluxbump.pipes import (
    EXIT_STDOUT_CLOSED,
    StdoutClosed,
    drop_stdout,
    flush_stdout,
    write_stderr,
    write_stdout,
)
from fluxbump.scan.walked import SKIP_DIRS
from fluxbump.worktree import root_text

try:  # built in, where hashlib would load OpenSSL first: a warm run is mostly start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (another Python)
    from hashlib import blake2b

# Only for mypy (which takes any name TYPE_CHECKING as true): ``typing``, ``pathlib``,
# ``subprocess`` and ``contextlib`` would cost a warm run more than its git commands' output.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from types import TracebackType

VERDICT_DIR = "fluxbump-verdicts"
NO_CACHE_ENV = "FLUXBUMP_NO_CACHE"
KEEP = 4
# Dirty files are hashed whole: past this many bytes a cold run is cheaper to trust.
MAX_HASHED = 64 * 1024 * 1024
# A verdict larger than this (a --json status of a huge fleet) is not kept.
MAX_VERDICT = 32 * 1024 * 1024
_FORMAT = 1
_MAGIC = b"fluxbump-verdict 1\n"
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
# The options of each command that may take part in a key (verbatim); any other argument
# (--help, --no-cache, a typo) leaves the run to the CLI.
_FLAGS = {
    "status": {"--offline", "--json", "--quiet", "-q", "--verbose", "-v"},
    "check": {"--offline", "--json", "--quiet", "-q"},
}
_VALUED = {
    "status": {"--repo", "--component", "--helm-repo"},
    "check": {"--repo", "--component", "--helm-repo", "--format"},
}
_ENV_PREFIXES = ("FLUXBUMP_", "GIT_", "XDG_")
_ENV_NAMES = ("NO_COLOR", "HOME", "GITHUB_TOKEN", "GITEA_TOKEN")
_SIMPLE_MODES = (b"100644", b"100755")


def answer(argv: Sequence[str]) -> Recording | None:
    """Print the kept verdict of this command line and exit, when there is one; else the
    recording the CLI's run should be kept by (None: this run is not kept)."""
    request = _request(argv)
    if request is None:
        return None
    keyed = state_key(request)
    if keyed is None:
        return None
    key, store = keyed
    kept = _load(os.path.join(store, f"{key}.v"), key) if _own_dir(store) else None
    if kept is not None:
        _replay(kept)
    return Recording(request, key, store)


class Request:
    """A command line whose verdict may be kept, and the repository it names."""

    def __init__(self, argv: tuple[str, ...], root: str) -> None:
        self.argv, self.root = argv, root


def _request(argv: Sequence[str]) -> Request | None:
    """The command line, when it is one whose verdict may be kept; None otherwise."""
    if not argv or argv[0] not in _FLAGS or os.environ.get(NO_CACHE_ENV):
        return None
    flags, valued = _FLAGS[argv[0]], _VALUED[argv[0]]
    repo: str | None = None
    offline = False
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.partition("=")
        if name in valued:
            if not has_value:
                if not args:
                    return None
                value = args.pop(0)
            repo = value if name == "--repo" else repo
        elif arg in flags:
            offline = offline or arg == "--offline"
        else:
            return None
    if not offline:
        return None  # online, the index and archives are the network's: nothing to key by
    return Request(tuple(argv), root_text(repo))


# --- the key ---------------------------------------------------------------------------------


def state_key(request: Request) -> tuple[str, str] | None:
    """The digest of everything the command's output depends on (see the module docstring)
    and the directory its verdict is kept in; None when it cannot be made."""
    root = request.root
    outputs = _git_all(
        root,
        ["rev-parse", "--show-toplevel", "--absolute-git-dir"],
        ["ls-files", "--stage", "-v", "-z"],
        ["status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all",
         "--ignored=traditional", "--no-renames"],
    )  # fmt: skip
    if outputs is None:
        return None
    located, listed, status = outputs
    lines = os.fsdecode(located).splitlines()
    if len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(root):
        return None  # below the top: git's paths would not be the scan's
    paths = _unvouched(listed, status)
    if paths is None:
        return None
    digest = blake2b(digest_size=32)
    for fact in (*_process_facts(request), *lines):
        _feed(digest, os.fsencode(fact))
    for output in (listed, status):
        _feed(digest, output)
    if not _feed_contents(digest, root, sorted(paths)):
        return None
    return digest.hexdigest(), os.path.join(lines[1], VERDICT_DIR)


def _feed(digest: blake2b, part: bytes) -> None:
    """Length-prefixed, so no two sequences of parts feed the same bytes."""
    digest.update(len(part).to_bytes(8, "big"))
    digest.update(part)


def _process_facts(request: Request) -> list[str]:
    env = sorted(
        f"{name}={value}"
        for name, value in os.environ.items()
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES
    )
    streams = [_stream_facts(s) for s in (sys.stdout, sys.stderr)]
    return [str(_FORMAT), __version__, sys.version, package_stamp(), os.getcwd(),
            *streams, "\0".join(env), "\0".join(request.argv)]  # fmt: skip


def _stream_facts(stream: object) -> str:
    """A terminal gets colour (and progress); the encoding decides the bytes printed."""
    if stream is None:
        return "none"
    try:
        tty = stream.isatty()  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        tty = False
    return f"{tty}:{getattr(stream, 'encoding', '')}:{getattr(stream, 'errors', '')}"


def package_stamp() -> str:
    """Size and mtime of every file of the installed package: new code is a new key (for
    the verdicts here and the scan's per-file records, ``scan/cache.py``)."""
    if not _stamp:
        _stamp.append(_scan_package())
    return _stamp[0]


_stamp: list[str] = []  # package_stamp's answer, once per process


def _scan_package() -> str:
    stamps: list[str] = []
    pending = [os.path.dirname(os.path.abspath(__file__))]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                    continue
                info = entry.stat()
                stamps.append(f"{entry.path}:{info.st_size}:{info.st_mtime_ns}")
    return "\0".join(sorted(stamps))


def _git_all(root: str, *commands: list[str]) -> list[bytes] | None:
    """Each git command's stdout, all started at once (they read the same index). Spawned
    with ``os.posix_spawnp``: importing ``subprocess`` costs more than these commands' output."""
    env = {**os.environ, **_GIT_ENV}
    started: list[tuple[int, int]] = []
    try:
        for args in commands:
            started.append(_spawn(root, ["git", "--no-optional-locks", *args], env))
        outputs = [_drain(pipe) for _, pipe in started]
    except OSError:
        return None
    finally:
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid, _ in started]
    return outputs if not any(codes) else None


def _spawn(cwd: str, argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start ``argv`` in ``cwd`` with stdout to a pipe and stderr to /dev/null: (pid, pipe)."""
    read, write = os.pipe()
    try:
        actions = [
            (os.POSIX_SPAWN_CLOSE, read),
            (os.POSIX_SPAWN_DUP2, write, 1),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ]
        # posix_spawn has no cwd: git's -C is the same thing, said to git.
        pid = os.posix_spawnp("git", [argv[0], "-C", cwd, *argv[1:]], env, file_actions=actions)
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return pid, read


def _drain(pipe: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(pipe, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(pipe)
    return b"".join(chunks)


def _unvouched(listed: bytes, status: bytes) -> set[str] | None:
    """The paths git does not vouch for: listed by ``git status`` (changed, staged, unmerged,
    untracked, ignored), index entries git does not check (assume-unchanged, skip-worktree)
    and symlinks (what the scan reads is their target). None: a submodule or a nested
    repository, whose files git does not list here."""
    paths: set[str] = set()
    records = listed.count(b"\0")
    plain = sum(listed.count(b"\0H " + mode + b" ") for mode in _SIMPLE_MODES)
    plain += listed[:2] == b"H " and listed[2:8] in _SIMPLE_MODES
    # Most indexes hold only plain files: counted in C instead of looking at each record.
    for record in listed.split(b"\0") if plain != records else ():
        if not record or (record[:2] == b"H " and record[2:8] in _SIMPLE_MODES):
            continue
        head, _, path = record.partition(b"\t")
        if b" 160000 " in head:
            return None
        paths.add(os.fsdecode(path))
    for record in status.split(b"\0"):
        kind = record[:2]
        if kind in (b"1 ", b"u "):
            path = record.split(b" ", 8 if kind == b"1 " else 10)[-1]
        elif kind in (b"? ", b"! "):
            path = record[2:]
        else:
            continue  # a header (# branch.oid ...), or the end
        if path.endswith(b"/"):
            return None  # a directory git does not descend: a nested repository
        rel = os.fsdecode(path)
        if not SKIP_DIRS.intersection(rel.split("/")[:-1]):  # the scan never walks these
            paths.add(rel)
    return paths


def _feed_contents(digest: blake2b, root: str, paths: Sequence[str]) -> bool:
    """Each path and what it holds; False past ``MAX_HASHED`` bytes."""
    budget = MAX_HASHED
    for rel in paths:
        content = _content(os.path.join(root, rel), budget)
        if content is None:
            return False
        budget -= len(content)
        _feed(digest, os.fsencode(rel))
        _feed(digest, content)
    return True


def _content(path: str, budget: int) -> bytes | None:
    """A file's bytes (a symlink's also name its target); a marker for anything else (gone,
    a FIFO, a directory): never blocks. None: more than ``budget`` bytes."""
    target = os.path.realpath(path) if os.path.islink(path) else ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return f"{target}\0!{exc.errno}".encode("utf-8", "surrogateescape")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"{target}\0~{stat.S_IFMT(info.st_mode)}".encode("utf-8", "surrogateescape")
        if info.st_size > budget:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(budget + 1)
    finally:
        os.close(fd)
    if len(data) > budget:
        return None
    return f"{target}\0=".encode("utf-8", "surrogateescape") + data


# --- what the run read outside the repository ------------------------------------------------


class _Reads:
    """Files read outside the repository by the run being recorded: path -> (how, digest)."""

    active = False
    seen: dict[str, tuple[str, str]] = {}  # noqa: RUF012 (one instance, replaced per run)


_READS = _Reads()


def note_read(path: Path | str, data: bytes | str | None) -> None:
    """The run used ``data`` as the content of ``path`` (None: it could not read it). Called
    where fluxbump reads a file outside the repository; free when nothing is recorded."""
    if _READS.active:
        _READS.seen.setdefault(str(path), _fingerprint(data))


def note_exists(path: Path | str, exists: bool) -> None:
    """The run's output depended on whether ``path`` exists (the journal directory)."""
    if _READS.active:
        _READS.seen.setdefault(str(path), ("exists", str(exists)))


def _fingerprint(data: bytes | str | None) -> tuple[str, str]:
    if data is None:
        return "bytes", ""
    if isinstance(data, str):  # read as text: universal newlines, UTF-8
        return "text", blake2b(data.encode("utf-8", "surrogatepass"), digest_size=32).hexdigest()
    return "bytes", blake2b(data, digest_size=32).hexdigest()


def _still(path: str, how: str, expected: str) -> bool:
    """Whether ``path`` holds what the recorded run read, read the same way."""
    if how == "exists":
        return str(os.path.exists(path)) == expected
    try:
        data = read_regular(path)
        found = _fingerprint(_as_text(data) if how == "text" and data is not None else data)
    except (OSError, ValueError):
        found = _fingerprint(None)
    return found == (how, expected)


def _as_text(data: bytes) -> str:
    """As ``open(path, encoding="utf-8")`` reads it (the recording did): universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


# --- recording and replaying -----------------------------------------------------------------

Event = tuple[str, str]  # ("out" | "err", text)


class Recording:
    """The CLI's run of a command line whose verdict may be kept."""

    def __init__(self, request: Request, key: str, store: str) -> None:
        self.request, self.key, self.store = request, key, store
        self.events: list[Event] = []
        self.tainted = False
        self._shown: Callable[..., None] | None = None

    def __enter__(self) -> None:
        """Record what the CLI prints (``fluxbump.output``) and what it reads outside the
        repository, from here on."""
        import warnings

        from fluxbump import output

        shown = self._shown = warnings.showwarning

        def taint(*args: object, **kwargs: object) -> None:
            self.tainted = True  # printed around output.py: the verdict would miss it
            shown(*args, **kwargs)  # type: ignore[arg-type]

        output.TAPS.append(self.events.append)
        warnings.showwarning = taint
        _READS.active, _READS.seen = True, {}

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Keep the verdict when the CLI exited 0, 1 or 2 (KeyboardInterrupt, a crash: never)."""
        import warnings

        from fluxbump import output

        output.TAPS.remove(self.events.append)
        if self._shown is not None:
            warnings.showwarning = self._shown
        _READS.active = False
        code = 0 if kind is None else exc.code if isinstance(exc, SystemExit) else "interrupted"
        self._keep(0 if code is None else code)

    def _keep(self, code: object) -> None:
        if self.tainted or code not in (0, 1, 2):
            return
        try:
            if state_key(self.request) == (self.key, self.store):  # nothing changed meanwhile
                _store(self.store, self.key, code, self.events, _READS.seen)
        except Exception:  # a verdict not kept only costs the next run
            return


def _store(
    store: str, key: str, code: object, events: list[Event], reads: dict[str, tuple[str, str]]
) -> None:
    """One file: the magic, the key, the exit code, the reads (how, digest, path in hex) and
    the events (stream, size), a line each, then the events' texts (no parser to import)."""
    events = _joined(events)
    bodies = [text.encode("utf-8", "surrogatepass") for _, text in events]
    lines = [key, str(code), str(len(reads))]
    lines += [f"{how} {digest or '-'} {os.fsencode(p).hex()}" for p, (how, digest) in reads.items()]
    lines += [str(len(events))]
    lines += [f"{stream} {len(body)}" for (stream, _), body in zip(events, bodies, strict=True)]
    data = b"".join([_MAGIC, "\n".join(lines).encode(), b"\n", *bodies])
    if len(data) > MAX_VERDICT:
        return
    os.makedirs(store, mode=0o700, exist_ok=True)
    if not _own_dir(store):
        return
    temp = os.path.join(store, f".{key}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, os.path.join(store, f"{key}.v"))
    finally:
        _unlink(temp)
    _prune(store)


def _joined(events: list[Event]) -> list[Event]:
    """Consecutive texts to the same stream as one (a status prints a line at a time)."""
    groups: list[tuple[str, list[str]]] = []
    for stream, text in events:
        if groups and groups[-1][0] == stream:
            groups[-1][1].append(text)
        else:
            groups.append((stream, [text]))
    return [(stream, "".join(texts)) for stream, texts in groups]


def _own_dir(store: str) -> bool:
    """The verdict store is a directory of the git directory's own: a symlink there (to a
    directory of the user's) is not used, so nothing is written or pruned out of it."""
    try:
        return stat.S_ISDIR(os.lstat(store).st_mode)
    except OSError:
        return False


def _prune(store: str) -> None:
    """Keep the newest ``KEEP`` verdicts (a hit counts as new: ``_load`` touches it)."""
    with os.scandir(store) as entries:
        found = [(e.stat().st_mtime_ns, e.path) for e in entries if e.name.endswith(".v")]
    for _, old in sorted(found, reverse=True)[KEEP:]:
        _unlink(old)


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 (contextlib is not imported before the CLI)
        os.unlink(path)
    except OSError:
        pass  # gone already, or a read-only git directory: nothing to undo


Kept = tuple[int, list[Event]]  # exit code, what was printed


def read_own(path: str, limit: int) -> bytes | None:
    """The bytes of one of fluxbump's files in the git directory; None when something else
    is at its name (a symlink to a device never ends) or it holds more than ``limit`` bytes.
    The caller treats None as a miss."""
    return read_regular(path, limit, follow=False)


def read_regular(path: str, limit: int | None = None, *, follow: bool = True) -> bytes | None:
    """A regular file's bytes; None when it cannot be opened, is anything else, or holds
    more than ``limit`` bytes. Opened without blocking: a FIFO at its name would hold the
    open for ever."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = handle.read() if limit is None else handle.read(limit + 1)
    return data if limit is None or len(data) <= limit else None


def _load(path: str, key: str) -> Kept | None:
    """The verdict kept under ``key``, if intact and every file it read is unchanged."""
    try:
        data = read_own(path, MAX_VERDICT)
        if data is None or not data.startswith(_MAGIC):
            return None
        lines = _Lines(data, len(_MAGIC))
        if lines.next() != key or (code := lines.next()) not in ("0", "1", "2"):
            return None
        reads = [lines.next().split(" ") for _ in range(int(lines.next()))]
        if not all(_still(os.fsdecode(bytes.fromhex(p)), how, d.strip("-")) for how, d, p in reads):
            return None
        sizes = [lines.next().split(" ") for _ in range(int(lines.next()))]
        events, offset = [], lines.offset
        for stream, size in sizes:
            if stream not in ("out", "err"):
                return None
            end = offset + int(size)
            events.append((stream, data[offset:end].decode("utf-8", "surrogatepass")))
            offset = end
        if offset != len(data):
            return None  # cut short or grown: not what was written
        try:  # noqa: SIM105
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass  # a read-only git directory: it is still served
        return int(code), events
    except Exception:  # missing, truncated, garbage, another layout: a miss, never an error
        return None


class _Lines:
    """The header lines of a kept verdict, one at a time; ``offset``: where the next starts."""

    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.offset = data, offset

    def next(self) -> str:
        end = self.data.index(b"\n", self.offset)
        line = self.data[self.offset : end].decode("ascii")
        self.offset = end + 1
        return line


def _replay(kept: Kept) -> None:
    """Print the verdict as the CLI printed it, and exit with its code."""
    code, events = kept
    write: dict[str, Callable[[str], object]] = {"out": write_stdout, "err": write_stderr}
    try:
        for stream, text in events:
            write[stream](text)
        flush_stdout()
    except StdoutClosed:  # stdout's reader went away (``| head``): as the CLI exits
        drop_stdout()
        raise SystemExit(EXIT_STDOUT_CLOSED) from None
    except OSError as exc:  # a full disk: as the CLI would say it
        drop_stdout()
        write_stderr(f"error: unexpected error ({type(exc).__name__}: {exc})\n")
        raise SystemExit(70) from None
    raise SystemExit(code)
