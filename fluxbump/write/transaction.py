"""Writing a set of files all-or-nothing, with a journal that survives a crash.

Protocol, in order (each filesystem step goes through a ``Writer``):

1. journal: write every file's old bytes into one backup file and the manifest (offsets and
   digests) as a temp, sync both, then rename the manifest into place and sync its directory.
   That rename is the commit point: from then on ``recover`` knows what to restore.
2. stage: write each new content to a hidden temp beside its real file (``places.temp_for``);
   then one sync makes every temp's data durable.
3. swap: rename each temp over its real file; then one sync makes every rename durable.
4. the caller runs its gate and its git steps (recorded in the journal's ``git.json``), then
   ``Transaction.commit()`` (drop the journal, manifest first) or ``Transaction.rollback()``
   (restore the old bytes, undo the git steps, then drop the journal).

Recovery rolls back ("restore, or finish, never a mix"), except when the run's commit exists:
then the work tree already equals that commit, and recovery finishes the git steps instead.
The journal lives where only fluxbump writes (``places``) and names files relative to the
work tree top; recovery refuses an entry that leaves it, passes a symlink or is not a file.

Why batching the syncs (one per phase, not one per file: thousands of fsyncs cost seconds)
keeps that guarantee: the order that matters is only between phases. Every backup is durable
before the manifest's rename can be (sync, then rename); the manifest is durable before any
real file is renamed (its directory is synced first); every temp's data is durable before
any rename can expose it (so a renamed file is never empty or torn after a crash); and every
rename is durable before ``commit`` drops the manifest. Within a phase the order does not
matter: a crash anywhere between the manifest's arrival and its removal is rolled back from
the backups, whatever subset of the renames reached the disk. See ``OsWriter.sync`` for how
one sync covers many files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import signal
import stat
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from fluxbump import progress
from fluxbump.errors import UsageError
from fluxbump.scan.sources import READ_LIMIT
from fluxbump.write.places import (
    JOURNAL_DIR,
    LOCK_FILE,
    TEMP_SUFFIX,
    Places,
    create_exclusive,
    ensure_state,
    places,
    refuse_work_tree_journal,
    temp_for,
)

__all__ = ["JOURNAL_DIR", "LOCK_FILE", "TEMP_SUFFIX"]

MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
GIT_STATE = "git.json"  # the git state a run started from, and each git step it took
BACKUP = "backup.bin"  # every file's old bytes, one after another (offsets in the manifest)
# Test seam: "<step>:<n>" makes OsWriter SIGKILL its own process just after the n-th such step.
CRASH_ENV = "FLUXBUMP_CRASH_AT"
# Test seam: "<step>:<n>" makes OsWriter stop just after the n-th such step, create
# "$FLUXBUMP_PAUSE_FILE.paused", and wait (polling, at most PAUSE_LIMIT seconds) until
# "$FLUXBUMP_PAUSE_FILE" exists; tests use the pause to send signals or start a rival run.
PAUSE_ENV = "FLUXBUMP_PAUSE_AT"
PAUSE_FILE_ENV = "FLUXBUMP_PAUSE_FILE"
PAUSE_LIMIT = 60.0
# Concurrent fsyncs in one ``Writer.sync``: enough for the filesystem to batch its commits.
SYNC_THREADS = 32
STEPS = ("journal", "backup", "temp-write", "fsync", "rename", "git", "journal-remove")
# Signals deferred while restoring, so a second Ctrl-C cannot leave a half-restored tree.
_DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass(frozen=True)
class FileChange:
    """One planned rewrite: the bytes we read and planned against, and the bytes to write.
    ``created``: the file does not exist yet (``old`` is empty); ``deleted``: it is removed
    (``new`` is empty). Both are journaled like a rewrite, so a crash rolls them back."""

    rel: str
    old: bytes
    new: bytes
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class _Entry:
    """A change resolved to its real (symlink-free) file and that file's permission bits."""

    rel: str
    real: Path
    key: str  # the real file relative to the work tree top: what the journal records
    mode: int
    old: bytes
    new: bytes
    owner: tuple[int, int] | None = None  # (uid, gid) the rewritten file keeps
    created: bool = False
    deleted: bool = False

    @functools.cached_property
    def temp(self) -> Path:  # named three times per file by ``apply_changes``
        return temp_for(self.real)

    @property
    def before(self) -> bytes | None:
        """The file's bytes before the run (None: absent)."""
        return None if self.created else self.old

    @property
    def after(self) -> bytes | None:
        """The file's bytes after the run (None: removed)."""
        return None if self.deleted else self.new


# --- writer seam -------------------------------------------------------------------------


class Writer(Protocol):
    """Every filesystem mutation the protocol makes; tests inject faults here."""

    def mkdir(self, path: Path, step: str) -> None: ...

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None: ...

    def fsync(self, path: Path) -> None: ...

    def sync(self, paths: Sequence[Path]) -> None: ...

    def replace(self, src: Path, dst: Path, step: str) -> None: ...

    def unlink(self, path: Path, step: str, dir_fd: int | None = None) -> None:
        """Remove ``path`` (with ``dir_fd``: the name ``path`` in that open directory)."""

    def rmdir(self, path: Path, step: str, dir_fd: int | None = None) -> None: ...

    def step(self, step: str) -> None:
        """A step taken outside the filesystem (a git command): a kill and pause point."""


class OsWriter:
    """The real filesystem, plus the ``FLUXBUMP_CRASH_AT`` kill seam for crash tests."""

    def __init__(self) -> None:
        self._crash_at = _parse_crash_at(os.environ.get(CRASH_ENV, ""))
        self._pause_at = _parse_crash_at(os.environ.get(PAUSE_ENV, ""), PAUSE_ENV)
        self._pause_file = os.environ.get(PAUSE_FILE_ENV, "")
        if self._pause_at is not None and not self._pause_file:
            raise ValueError(f"{PAUSE_ENV} needs {PAUSE_FILE_ENV}=<path> to wait for")
        self._counts: dict[str, int] = {}

    def mkdir(self, path: Path, step: str) -> None:
        os.mkdir(path, 0o700)
        self._tick(step)

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None:
        fd = create_exclusive(path)  # only ever a new file of ours, never through a link
        try:
            # fchmod, not the open() mode: the umask must not change the file's permissions.
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self._tick(step)

    def fsync(self, path: Path) -> None:
        _fsync_path(path)
        self._tick("fsync")

    def sync(self, paths: Sequence[Path]) -> None:
        """Make the data of these files and the entries of these directories durable: one
        ``fsync`` kill point, however many paths.

        Every path is fsynced, from a pool of threads: ``fsync`` releases the GIL, and a
        journalling filesystem commits concurrent fsyncs together, so thousands cost about
        what a few sequential ones do. Not ``syncfs(2)`` (one call per filesystem): it also
        flushes every unrelated dirty page there (a fresh checkout, a build tree), which
        measured slower than this, is Linux-only (Python 3.11 needs ctypes for it) and
        reports writeback errors only since Linux 5.8; fsync reports them per file, anywhere.
        """
        unique = list(dict.fromkeys(paths))
        if len(unique) <= 1:
            _fsync_all(unique)
        else:
            # One task per thread, each a slice of the paths: a future per path cost more
            # CPU (locks, wake-ups) than the fsyncs' own system time.
            threads = min(SYNC_THREADS, len(unique))
            with ThreadPoolExecutor(threads) as pool:
                slices = [unique[i::threads] for i in range(threads)]
                for _ in pool.map(_fsync_all, slices):  # re-raises the first OSError
                    pass
        self._tick("fsync")

    def replace(self, src: Path, dst: Path, step: str) -> None:
        os.replace(src, dst)
        self._tick(step)

    def unlink(self, path: Path, step: str, dir_fd: int | None = None) -> None:
        os.unlink(path, dir_fd=dir_fd)
        self._tick(step)

    def rmdir(self, path: Path, step: str, dir_fd: int | None = None) -> None:
        os.rmdir(path, dir_fd=dir_fd)
        self._tick(step)

    def step(self, step: str) -> None:
        self._tick(step)

    def _tick(self, step: str) -> None:
        self._counts[step] = self._counts.get(step, 0) + 1
        if self._crash_at == (step, self._counts[step]):
            os.kill(os.getpid(), signal.SIGKILL)
        if self._pause_at == (step, self._counts[step]):
            _pause(Path(self._pause_file))


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Sequence[Path]) -> None:
    for path in paths:
        _fsync_path(path)


def _pause(release: Path) -> None:
    """Announce the pause, then poll (bounded) for the release file; signals interrupt it."""
    import time

    Path(f"{release}.paused").write_text(f"{os.getpid()}\n")
    deadline = time.monotonic() + PAUSE_LIMIT
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _parse_crash_at(value: str, env: str = CRASH_ENV) -> tuple[str, int] | None:
    """``"rename:2"`` -> ``("rename", 2)``; a typo fails loudly so a crash test cannot pass idle."""
    if not value:
        return None
    step, _, n = value.partition(":")
    if step not in STEPS or not n.isdigit() or int(n) < 1:
        raise ValueError(f"{env}={value!r}: expected <step>:<n> with step in {STEPS}")
    return step, int(n)


def kill_points(n_files: int, *, git: bool = False) -> list[str]:
    """Every valid ``FLUXBUMP_CRASH_AT`` value for apply + commit of n changed files (and,
    with ``git``, the branch and commit steps between them)."""
    if n_files == 0:
        return []
    counts = {
        "journal": 3,  # mkdir, manifest temp written, manifest renamed into place
        # one file holds every old content (and the git record, which a --no-git run or a
        # sync in a git work tree also writes: backup:2 then exists, with no git steps)
        "backup": 2 if git else 1,
        "temp-write": n_files,
        # one sync each: the journal (backup, manifest temp, directories), the manifest's
        # rename, the temps, the renames, and the journal after commit drops the manifest;
        # with git, two per rewrite of the git record (the file, its directory)
        "fsync": 9 if git else 5,
        "rename": n_files,
        # after: the branch, its record (write, rename), the commit, its record, the index
        "git": 7 if git else 0,
        # manifest, backup, the directory; with git also its record, private index, message
        "journal-remove": 6 if git else 3,
    }
    return [f"{step}:{i}" for step in STEPS for i in range(1, counts[step] + 1)]


# --- paths ---------------------------------------------------------------------------------


def journal_dir(root: Path) -> Path:
    """In the git directory (or the user's state directory outside git), never the work tree."""
    return places(root).journal


def lock_path(root: Path) -> Path:
    return places(root).lock


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class NotRegular(Exception):
    """What ``open_regular`` found instead of a regular file: its ``st_mode``."""

    def __init__(self, mode: int) -> None:
        super().__init__(mode)
        self.mode = mode


def open_regular(path: Path | str) -> int | None:
    """A descriptor of the regular file at ``path`` (None: absent), checked by ``fstat`` on
    that descriptor: a check by path before the open (``lstat``) let a file another process
    swapped in between be read, a symlink through its target, a FIFO by waiting for a writer
    for ever. Never follows a symlink (``O_NOFOLLOW``) nor waits (``O_NONBLOCK``); raises
    ``NotRegular`` for anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in _NOT_OPENED:
            raise NotRegular(_NOT_OPENED[exc.errno]) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegular(mode)
    return fd


# What a refused open says was there: O_NOFOLLOW's answer for a symlink, a socket's.
_NOT_OPENED = {errno.ELOOP: stat.S_IFLNK, errno.ENXIO: stat.S_IFSOCK}


def regular_or_none(path: Path | str, limit: int | None = None) -> bytes | None:
    """A regular file's bytes (at most ``limit``); None when it is absent or something else
    (a FIFO, a directory, a symlink: ``open_regular``)."""
    try:
        fd = open_regular(path)
    except NotRegular:
        return None
    if fd is None:
        return None
    try:
        return _read_fd(fd, limit)
    finally:
        os.close(fd)


def _not_a_file(path: Path) -> bool:
    """Another process put something other than a regular file where the run reads and
    writes (a directory, a symlink, a FIFO): it is theirs, never opened (opening a FIFO
    blocks until a writer comes) nor replaced, as an edited file is kept."""
    try:
        return not stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def holds(path: Path | str, expected: bytes | None) -> bool:
    """Whether the file holds exactly ``expected`` (None: it is absent), read no further than
    a byte past it: one another process (or a gate command) made gigabytes long costs what
    ``expected`` does, never its size in memory. A FIFO, directory or symlink there holds
    no bytes (``regular_or_none``)."""
    if expected is None:
        return not os.path.lexists(path)
    return regular_or_none(path, limit=len(expected) + 1) == expected


def _read_fd(fd: int, limit: int | None = None) -> bytes:
    """An open file's bytes (at most ``limit``), read without a buffered file object: a
    fleet's bump reads thousands of small files back, and ``Path.read_bytes`` costs about
    twice this."""
    size = os.fstat(fd).st_size
    left = size + 1 if limit is None else min(size + 1, limit)  # a file that grew: whole
    chunks = [os.read(fd, left)]
    while chunks[-1] and (limit is None or (left := left - len(chunks[-1])) > 0):
        chunks.append(os.read(fd, max(size, 1 << 16) if limit is None else left))
    return b"".join(chunks)


def describe(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EFBIG:  # (said as for a git the limit kills: ``steps._killed``)
        text += " (a file passed the file size limit: raise ulimit -f)"
    return text[:1].lower() + text[1:]


# --- lock ----------------------------------------------------------------------------------

# The held lock's descriptor, handed to every command the run starts (``held_lock``).
_HELD: list[int] = []


def held_lock() -> tuple[int, ...]:
    """The lock's descriptor while this process holds it, for ``pass_fds``: a git commit (its
    hooks) or a gate command outlives a run killed alone (the OOM killer), and holding the
    lock until it ends keeps the next run from recovering under it (that recovery restored
    the files, then the orphan committed the bump on the start branch)."""
    return tuple(_HELD)


@contextmanager
def repo_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive flock for the run; the kernel drops it once the process dies and
    every command it started (``held_lock``) has ended."""
    where = places(root)
    ensure_state(where)
    path = where.lock
    fd = _acquire(path, "the git directory" if where.git_dir else str(where.state))
    _HELD.append(fd)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:  # a full disk: refused here, before the first real write
            raise UsageError(
                f"cannot write the lock {path} ({describe(exc)}); nothing was written: free "
                "some space and re-run"
            ) from None
        yield
    finally:
        # Unlink while still holding the lock; _acquire re-checks the inode to close the race.
        with contextlib.suppress(OSError):
            os.unlink(path)
        _HELD.remove(fd)
        os.close(fd)


def _acquire(path: Path, keeper: str) -> int:
    """The lock at ``path``, held; ``keeper`` names where it lives, for a refusal."""
    while True:
        try:
            # O_NOFOLLOW: a symlink planted at the lock's name is refused, never truncated.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UsageError(
                    f"the lock {path} is a symlink; fluxbump never follows one there: remove "
                    "it and re-run; nothing was written"
                ) from None
            unwritable = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            hint = (
                f": fluxbump keeps its lock and journal in {keeper}; make it writable by this "
                "user; nothing was written"
                if unwritable
                else ""
            )
            raise UsageError(f"cannot create the lock {path} ({describe(exc)}){hint}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UsageError(f"the lock {path} is not a regular file; remove it and re-run")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if _gone(holder):
                raise UsageError(
                    f"the lock {path} is still held by a command that fluxbump run {holder}, "
                    "since ended, started (its git commit's hooks, or a gate command): wait for "
                    "it to end, then re-run (it recovers that run); if it runs on (a daemon), "
                    "remove the lock; nothing was written"
                ) from None
            raise UsageError(
                f"another fluxbump run holds the lock {path} (pid {holder}); "
                "wait for it or remove it if no fluxbump is running"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        # The holder unlinked the file between our open and flock: lock the new one instead.
        os.close(fd)


def _gone(pid: str) -> bool:
    """Whether the process ``pid`` has ended (one of another user's still runs)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, OverflowError, OSError):
        return False
    return False


# --- signals -------------------------------------------------------------------------------


# SIGHUP too: a closed terminal or a dropped SSH session sends it, and its default action
# (like any signal ``run_git`` held until git was done) ended the run mid-write.
_AS_INTERRUPT = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """While active, SIGTERM and SIGHUP raise KeyboardInterrupt so callers roll back like on
    Ctrl-C; one ignored (``nohup``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = {sig: signal.getsignal(sig) for sig in _AS_INTERRUPT}
    for sig, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(sig, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends; they are delivered right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# --- apply ---------------------------------------------------------------------------------


class GitSteps(Protocol):
    """The git steps taken around a transaction, as recovery and rollback see them."""

    def committed(self, files: Sequence[str]) -> bool:
        """True when the run's commit exists and is checked out: finish, do not undo.
        ``files``: the journal's, relative to the work tree top; raises when neither is safe."""
        ...

    def complete(self) -> None:
        """Finish what the run began after its commit (the index entries of its files)."""
        ...

    def undo(self) -> None:
        """Back to the branch and HEAD the run started from; its branch deleted."""
        ...

    def hook_edit(self, key: str) -> bytes | None:
        """What the run's commit holds at ``key`` when a hook staged it again during that
        commit (``committed`` said undo): the hook's edit, undone with the run's; else None."""
        ...


class ChangedMeanwhile(UsageError):
    """Another process edited a file fluxbump was writing or restoring: theirs is kept."""


Stamps = dict[Path, tuple[int, int, int] | None]


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _what_another_did(entry: _Entry, before: bool = False) -> tuple[str, str]:
    """What another process did to a file fluxbump writes (deleted it: a message saying it
    "kept that version" of a file that is gone says nothing true), and what is left there."""
    if os.path.lexists(entry.real):
        return ("created" if before and entry.created else "changed"), "kept that version"
    return "deleted", "left so"


class Transaction:
    """Files already written; the caller decides: ``commit()`` keeps them, ``rollback()`` not."""

    def __init__(self, where: Places, entries: Sequence[_Entry], writer: Writer) -> None:
        self.places = where
        self.journal = where.journal
        self.entries = tuple(entries)
        self.writer = writer
        self.git: GitSteps | None = None  # set by the caller once it takes git steps
        # What this run last wrote to each file: a rollback overwrites only these bytes.
        self._written = {entry.real: entry.after for entry in self.entries}
        # Files a gate command or hook made larger than a manifest may be, claimed by stamp
        # (their bytes are not held): restored over while the stamp is the one claimed.
        self._claimed: Stamps = {}
        self._settled: Stamps = {}  # the files' stamps once every rename is done
        # The files renamed (or removed) so far: another process's change to any other one
        # was made before fluxbump wrote it, which the rollback must not call its own.
        self.wrote: set[Path] = set()
        self._state = "open"

    @property
    def rels(self) -> list[str]:
        return [e.rel for e in self.entries]

    def claim_current(self, changed_since: Stamps | None = None) -> None:
        """Count the files' current bytes as this run's own (gate commands it ran edited
        them, or the user's git hooks its commit ran), so a rollback restores over those edits
        too; with ``changed_since`` (``stamps()``), only of the files changed after it."""
        for entry in self.entries:
            if changed_since is not None and changed_since[entry.real] == _stamp(entry.real):
                continue
            current = regular_or_none(entry.real, limit=READ_LIMIT)  # (a FIFO is not theirs)
            if current is not None and len(current) < READ_LIMIT:
                self._written[entry.real] = current
            elif current is not None:
                self._claimed[entry.real] = _stamp(entry.real)

    def refuse_changed(self) -> None:
        """Before a commit takes the files from the work tree: each must still be what this
        run wrote, or another process's deletion, link or directory there would be committed
        as the bump. A file whose stamp has not moved since the writes is not read again."""
        for entry in self.entries:
            path = entry.real
            if _not_a_file(path) or (
                _stamp(path) != self._settled.get(path) and not holds(path, self._written[path])
            ):
                how, left = _what_another_did(entry)
                raise ChangedMeanwhile(
                    f"{entry.rel}: {how} by another process after fluxbump wrote it, before "
                    f"its commit; {left}, every other file is restored; nothing was committed"
                )

    def stamps(self) -> Stamps:
        """Each file's inode, size and modification time: what tells, without reading them,
        which files a process this run starts (git, running the user's hooks) changes."""
        return {entry.real: _stamp(entry.real) for entry in self.entries}

    def record_git(self, state: dict[str, Any]) -> None:
        """Replace the journal's git record (atomically); a kill point follows."""
        if not self.entries:
            return
        tmp = self.journal / f"{GIT_STATE}.tmp"
        self.writer.write_bytes(tmp, json.dumps(state).encode(), 0o600, "git")
        self.writer.fsync(tmp)
        self.writer.replace(tmp, self.journal / GIT_STATE, "git")
        self.writer.fsync(self.journal)

    def commit(self) -> None:
        """Forget the journal: the new contents stay."""
        if self._state == "rolled back":
            raise RuntimeError("transaction was rolled back; cannot commit")
        if self._state == "committed" or not self.entries:
            self._state = "committed"
            return
        with signals_deferred():
            try:
                remove_journal(self.journal, self.writer)
            except OSError as exc:
                raise UsageError(
                    f"the change was written but the journal {self.journal} could not be "
                    f"removed ({describe(exc)}); remove it by hand before the next run, "
                    "or the next run will restore the old contents"
                ) from exc
            self._state = "committed"

    def rollback(self) -> None:
        """Restore every file to its old bytes (atomically per file), undo the git steps, then
        drop the journal. A file someone else changed after fluxbump wrote it keeps their
        version, and is named (``ChangedMeanwhile``) once everything else is restored."""
        if self._state == "committed":
            raise RuntimeError("transaction was committed; cannot roll back")
        with signals_deferred():
            kept = self._restore()
            self._state = "rolled back"
        if not kept:
            return
        deleted = [e.rel for e in kept if _what_another_did(e)[0] == "deleted"]
        changed = [e.rel for e in kept if e.rel not in deleted]
        said = [
            *([f"{', '.join(changed)}: changed by another process after fluxbump wrote it; "
               "kept that version (fluxbump's edit in it is not undone)"] if changed else []),
            *([f"{', '.join(deleted)}: deleted by another process after fluxbump wrote it; "
               "left so"] if deleted else []),
        ]  # fmt: skip
        raise ChangedMeanwhile(f"{'; '.join(said)}; every other file was restored")

    def _ours(self, real: Path) -> bytes | None:
        """What a file must hold for the rollback to restore over it: what this run last
        wrote there; None (whatever it holds) for one claimed by its stamp, still that."""
        claimed = self._claimed.get(real)
        if claimed is not None and claimed == _stamp(real):
            return None
        return self._written[real]

    def changed_before_written(self, entry: _Entry) -> ChangedMeanwhile:
        """Another process changed ``entry`` before its rename: what it did, and that the
        files fluxbump had written are restored (the rollback follows)."""
        how, left = _what_another_did(entry, before=True)
        return ChangedMeanwhile(
            f"{entry.rel}: {how} by another process before fluxbump wrote it; {left}, every "
            "file fluxbump had written was restored; re-run"
        )

    def _restore(self) -> list[_Entry]:
        by_real = {entry.real: entry for entry in self.entries}
        self._drop_temps()
        kept = {e.real for e in self.entries if _not_a_file(e.real)}
        stale = [e for e in self.entries if e.real not in kept and not holds(e.real, e.before)]
        for entry in [e for e in stale if e.created]:  # ours, unless changed since: remove
            ours = self._ours(entry.real)
            if ours is None or holds(entry.real, ours):
                self.writer.unlink(entry.real, "rename")
            else:
                kept.add(entry.real)
        stale = [e for e in stale if not e.created]
        try:
            kept |= write_all_atomically(
                [(e.real, e.old, e.mode, self._ours(e.real)) for e in stale], self.writer
            )
        except WriteFailed as failed:
            entry = by_real[failed.real]
            raise UsageError(
                f"{entry.rel}: could not be restored ({describe(failed.error)}); its old "
                f"content is kept in {self.journal}; re-run fluxbump to finish restoring"
            ) from failed.error
        for entry in stale:
            if entry.real not in kept:
                _keep_owner(entry.real, entry.owner)
        if self.git is not None:
            try:
                self.git.undo()
            except UsageError as exc:  # git's own lock held by another process, say
                raise UsageError(
                    f"every file was restored, but undoing its git steps failed ({exc.message}); "
                    "the next 'fluxbump to' or 'fluxbump sync' finishes undoing them"
                ) from exc
        try:
            if self.journal.exists():
                remove_journal(self.journal, self.writer)
        except OSError as exc:
            raise UsageError(
                f"every file was restored but the journal {self.journal} could not be removed "
                f"({describe(exc)}); remove it by hand"
            ) from exc
        return [by_real[real] for real in kept if real in self.wrote]

    def _drop_temps(self) -> None:
        for entry in self.entries:
            try:
                if os.path.lexists(entry.temp):
                    self.writer.unlink(entry.temp, "journal-remove")
            except OSError as exc:
                raise UsageError(
                    f"{entry.rel}: could not be restored ({describe(exc)}); its old content "
                    f"is kept in {self.journal}; re-run fluxbump to finish restoring"
                ) from exc


def apply_changes(
    root: Path,
    changes: Sequence[FileChange],
    *,
    writer: Writer | None = None,
    git_state: dict[str, Any] | None = None,
) -> Transaction:
    """Write all changes or none; on any exception, KeyboardInterrupt too, restore and re-raise.

    ``git_state`` (the branch and HEAD the run starts from) goes into the journal, so that
    recovery can also undo or finish the git steps the caller takes before ``commit()``."""
    writer = writer or OsWriter()
    where = places(root)
    refuse_work_tree_journal(root, where)
    entries = _prepare(root, where, changes)
    tx = Transaction(where, entries, writer)
    if not entries:
        return tx
    ensure_state(where)
    current = str(tx.journal)
    try:
        _write_journal(tx.journal, entries, writer, git_state)
        staged = [entry for entry in entries if not entry.deleted]
        for entry in staged:
            current = entry.rel
            writer.write_bytes(entry.temp, entry.new, entry.mode, "temp-write")
            _keep_owner(entry.temp, entry.owner)
        current = "staged files"
        writer.sync([entry.temp for entry in staged])  # data durable before any rename
        for entry in entries:
            current = entry.rel
            if _not_a_file(entry.real) or not holds(entry.real, entry.before):
                raise tx.changed_before_written(entry)
            tx.wrote.add(entry.real)  # (before the step: a failed rename may have happened)
            if entry.deleted:
                writer.unlink(entry.real, "rename")
            else:
                writer.replace(entry.temp, entry.real, "rename")
            progress.step(progress.WRITTEN, total=len(entries))
        current = "renamed files"
        writer.sync(_parents(entries))  # renames durable before commit drops the manifest
        tx._settled = tx.stamps()
    except BaseException as exc:
        tx.rollback()
        if isinstance(exc, OSError):
            raise UsageError(
                f"{current}: cannot write: {describe(exc)}; every file was restored"
            ) from exc
        raise
    return tx


def _prepare(root: Path, where: Places, changes: Sequence[FileChange]) -> list[_Entry]:
    """Check every file before anything is written: unchanged since read, writable, inside
    the repository, and one entry per real file."""
    entries: list[_Entry] = []
    seen: dict[Path, _Entry] = {}
    inside = Path(os.path.realpath(root))
    # Paths as strings: pathlib's parsing cost more than these checks' system calls.
    within, base = os.path.join(inside, ""), os.path.join(where.base, "")
    parents: dict[str, str] = {}  # a fleet writes a few files in each of a thousand folders
    for change in changes:
        if change.old == change.new and not (change.created or change.deleted):
            continue
        if change.created:
            entries.append(_new_entry(root, where, inside, change))
            continue
        real_path = _real_path(os.path.join(root, change.rel), parents)
        real = Path(real_path)
        if not real_path.startswith(within):
            # Written there, the edit would be in no commit and no pull request.
            raise UsageError(
                f"{change.rel}: a symlink to {real}, outside the repository; fluxbump edits only "
                "files inside it (replace the link with the file); nothing was written"
            )
        try:
            st, current = _stat_and_read(real_path, limit=len(change.old) + 1)
        except NotRegular:
            raise UsageError(f"{change.rel}: not a regular file; nothing was written") from None
        except OSError as exc:
            raise UsageError(
                f"{change.rel}: cannot read ({describe(exc)}); nothing was written"
            ) from None
        if current != change.old:
            raise UsageError(
                f"{change.rel}: changed on disk since it was read; nothing was written; re-run"
            )
        folder = os.path.dirname(real_path)
        if not (os.access(real_path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)):
            where_ = "" if real == root / change.rel else f" ({real})"
            raise UsageError(f"{change.rel}{where_}: not writable; nothing was written")
        if real in seen:
            if seen[real].new == change.new:
                continue  # a symlink and its target, edited alike: one write
            other = seen[real].rel
            raise UsageError(
                f"{change.rel} and {other} are the same file ({real}); nothing was written"
            )
        if st.st_nlink > 1:
            raise UsageError(
                f"{change.rel}: has {st.st_nlink} hard links, and the atomic rewrite (a new file "
                "renamed over it) would split them; nothing was written"
            )
        temp = temp_for(real)
        if os.path.lexists(temp):
            raise UsageError(
                f"{change.rel}: {temp.name}, the name of fluxbump's temp file for it, "
                "already exists beside it; fluxbump never writes through it: remove it, re-run; "
                "nothing was written"
            )
        key = real_path[len(base) :] if real_path.startswith(base) else real.relative_to(base)
        entry = _Entry(change.rel, real, str(key), stat.S_IMODE(st.st_mode), change.old,
                       change.new, (st.st_uid, st.st_gid), deleted=change.deleted)  # fmt: skip
        entry.__dict__["temp"] = temp  # the cached property, computed once
        seen[real] = entry
        entries.append(entry)
    if entries and where.journal.exists():
        raise UsageError(f"{where.journal} is left from an interrupted run; recover it first")
    return entries


def _stat_and_read(path: str, limit: int) -> tuple[os.stat_result, bytes]:
    """The regular file's status and bytes (at most ``limit``), from one descriptor."""
    fd = open_regular(path)
    if fd is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    try:
        return os.fstat(fd), _read_fd(fd, limit)
    finally:
        os.close(fd)


def _real_path(path: str, parents: dict[str, str]) -> str:
    """``realpath(path)``, its folder's resolved once: a path whose last part is no symlink
    is its real folder's entry of that name."""
    if os.path.islink(path):
        return os.path.realpath(path)
    parent, name = os.path.split(path)
    folder = parents.get(parent)
    if folder is None:
        folder = parents[parent] = os.path.realpath(parent)
    return os.path.join(folder, name)


def _new_entry(root: Path, where: Places, inside: Path, change: FileChange) -> _Entry:
    """A file the run creates: its directory exists inside the repository, the name is free."""
    parent = Path(os.path.realpath((root / change.rel).parent))
    real = parent / Path(change.rel).name
    if not parent.is_relative_to(inside) or not parent.is_dir():
        raise UsageError(f"{change.rel}: its directory is not inside the repository")
    if os.path.lexists(real) or os.path.lexists(temp_for(real)):
        raise UsageError(f"{change.rel}: already exists; remove it and re-run; nothing written")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{change.rel}: its directory is not writable; nothing was written")
    key = real.relative_to(where.base).as_posix()
    return _Entry(change.rel, real, key, 0o644, b"", change.new, created=True)


def _keep_owner(path: Path, owner: tuple[int, int] | None) -> None:
    """A rewritten file gets the old one's owner and group, as an in-place edit would keep
    them (a root container editing a bind-mounted checkout must not hand files to root).
    Without the right to (another user's group-writable file), it stays the writer's, as
    with any editor."""
    if owner is None:
        return
    st = os.stat(path)
    if (st.st_uid, st.st_gid) != owner:
        with contextlib.suppress(PermissionError):
            os.chown(path, *owner)


def _parents(entries: Sequence[_Entry]) -> list[Path]:
    return list(dict.fromkeys(entry.real.parent for entry in entries))


def _write_journal(
    journal: Path, entries: Sequence[_Entry], writer: Writer, git_state: dict[str, Any] | None
) -> None:
    """Backups first, then the manifest by rename: the manifest's arrival is the commit point."""
    writer.mkdir(journal, "journal")
    files: list[dict[str, Any]] = []
    offset = 0
    for entry in entries:
        files.append(
            {
                "path": entry.key,
                "offset": offset,
                "size": len(entry.old),
                "mode": entry.mode,
                # "" for a file absent before (created) or after (deleted) the run
                "old_sha256": "" if entry.created else sha256(entry.old),
                "new_sha256": "" if entry.deleted else sha256(entry.new),
            }
        )
        offset += len(entry.old)
    backup = journal / BACKUP
    writer.write_bytes(backup, b"".join(e.old for e in entries), 0o600, "backup")
    durable = [journal.parent, journal, backup]
    if git_state is not None:
        # Before the manifest: a manifest with git steps to undo always has their record.
        git_file = journal / GIT_STATE
        writer.write_bytes(git_file, json.dumps(git_state).encode(), 0o600, "backup")
        durable.append(git_file)
    tmp = journal / f"{MANIFEST}.tmp"
    manifest = {"version": MANIFEST_VERSION, "files": files}
    # Compact: without ``indent`` json uses its C encoder (a fleet's manifest names thousands
    # of files; indented, encoding it took longer than writing it).
    writer.write_bytes(tmp, json.dumps(manifest).encode(), 0o600, "journal")
    # The journal directory's own entry, the backup and the manifest temp (data and entries)
    # are durable before the manifest's rename can be: a manifest never names lost bytes.
    writer.sync([*durable, tmp])
    writer.replace(tmp, journal / MANIFEST, "journal")
    writer.sync([journal])  # the commit point is durable before any real file is renamed


class WriteFailed(Exception):
    """An OSError while writing ``real`` (restores name the file that failed)."""

    def __init__(self, real: Path, error: OSError) -> None:
        super().__init__(str(error))
        self.real = real
        self.error = error


def write_all_atomically(
    items: Sequence[tuple[Path, bytes, int, bytes | None]], writer: Writer
) -> set[Path]:
    """Each (real, data, mode, expected) via temp + rename, with one sync per phase (as in
    apply). A file whose content is no longer ``expected`` (nor already ``data``) when its
    turn comes was changed by someone else: it is left alone and returned."""
    kept: set[Path] = set()
    if not items:
        return kept
    real = items[0][0]
    try:
        for real, data, mode, _ in items:
            if os.path.lexists(temp_for(real)):
                writer.unlink(temp_for(real), "journal-remove")  # ours, from the failed apply
            writer.write_bytes(temp_for(real), data, mode, "temp-write")
        real = items[0][0]
        writer.sync([temp_for(path) for path, _, _, _ in items])
        for real, data, _, expected in items:
            if expected is not None and not (holds(real, expected) or holds(real, data)):
                kept.add(real)
                writer.unlink(temp_for(real), "journal-remove")
                continue
            writer.replace(temp_for(real), real, "rename")
        real = items[0][0]
        writer.sync(list(dict.fromkeys(path.parent for path, _, _, _ in items)))
    except OSError as exc:
        for path, _, _, _ in items:  # (the journal keeps their bytes: no temp left in the tree)
            with contextlib.suppress(OSError):
                if os.path.lexists(temp_for(path)):
                    writer.unlink(temp_for(path), "journal-remove")
        raise WriteFailed(real, exc) from exc
    return kept


def remove_journal(journal: Path, writer: Writer) -> None:
    """Manifest first (then fsync): once it is gone the journal means nothing to recover.

    Through descriptors: the directory is opened once, never through a symlink, and its
    entries are unlinked in it. By path, a journal another process swapped for a symlink
    after it was checked had the files of the directory it points to unlinked."""
    parent = os.open(journal.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = _open_journal(journal, parent)
        try:
            names = os.listdir(fd)
            if MANIFEST in names:
                writer.unlink(Path(MANIFEST), "journal-remove", dir_fd=fd)
                writer.fsync(journal)
            for name in sorted(set(names) - {MANIFEST}):
                writer.unlink(Path(name), "journal-remove", dir_fd=fd)
        finally:
            os.close(fd)
        # (rmdir never follows a symlink: one swapped in since is refused, not removed)
        writer.rmdir(Path(journal.name), "journal-remove", dir_fd=parent)
    finally:
        os.close(parent)


def _open_journal(journal: Path, parent: int) -> int:
    """The journal directory, opened in ``parent`` without following a symlink."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(journal.name, flags, dir_fd=parent)
    except NotADirectoryError:  # (O_NOFOLLOW's answer for a symlink, with O_DIRECTORY)
        raise UsageError(
            f"{journal} was replaced by a symlink or a file (by another process) while "
            "fluxbump was removing it; nothing was removed through it: inspect it, then "
            "remove it by hand"
        ) from None
