"""Writing a set of files all-or-nothing, with a journal that survives a crash.

Protocol, in order (each filesystem step goes through a ``Writer``):

1. journal: write every file's old bytes into one backup file and the manifest (offsets and
   digests) as a temp, sync both, then rename the manifest into place and sync its directory.
   That rename is the commit point: from then on ``recover`` knows what to restore.
2. stage: write each new content to ``.<name>.fluxbump-tmp`` beside its real file; then one
   sync makes every temp's data durable.
3. swap: rename each temp over its real file; then one sync makes every rename durable.
4. the caller runs its gate, then ``Transaction.commit()`` (drop the journal, manifest first)
   or ``Transaction.rollback()`` (restore the old bytes, then drop the journal).

Recovery always rolls back ("restore, or finish, never a mix": we restore).

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
import fcntl
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

from fluxbump.errors import UsageError

JOURNAL_DIR = "fluxbump-journal"
LOCK_FILE = "fluxbump.lock"
MANIFEST = "manifest.json"
BACKUP = "backup.bin"  # every file's old bytes, one after another (offsets in the manifest)
TEMP_SUFFIX = ".fluxbump-tmp"
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
STEPS = ("journal", "backup", "temp-write", "fsync", "rename", "journal-remove")
# Signals deferred while restoring, so a second Ctrl-C cannot leave a half-restored tree.
_DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass(frozen=True)
class FileChange:
    """One planned rewrite: the bytes we read and planned against, and the bytes to write."""

    rel: str
    old: bytes
    new: bytes


@dataclass(frozen=True)
class _Entry:
    """A change resolved to its real (symlink-free) file and that file's permission bits."""

    rel: str
    real: Path
    mode: int
    old: bytes
    new: bytes
    owner: tuple[int, int] | None = None  # (uid, gid) the rewritten file keeps

    @property
    def temp(self) -> Path:
        return _temp_for(self.real)


# --- writer seam -------------------------------------------------------------------------


class Writer(Protocol):
    """Every filesystem mutation the protocol makes; tests inject faults here."""

    def mkdir(self, path: Path, step: str) -> None: ...

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None: ...

    def fsync(self, path: Path) -> None: ...

    def sync(self, paths: Sequence[Path]) -> None: ...

    def replace(self, src: Path, dst: Path, step: str) -> None: ...

    def unlink(self, path: Path, step: str) -> None: ...

    def rmdir(self, path: Path, step: str) -> None: ...


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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
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
            for path in unique:
                _fsync_path(path)
        else:
            with ThreadPoolExecutor(min(SYNC_THREADS, len(unique))) as pool:
                for _ in pool.map(_fsync_path, unique):  # re-raises the first OSError
                    pass
        self._tick("fsync")

    def replace(self, src: Path, dst: Path, step: str) -> None:
        os.replace(src, dst)
        self._tick(step)

    def unlink(self, path: Path, step: str) -> None:
        os.unlink(path)
        self._tick(step)

    def rmdir(self, path: Path, step: str) -> None:
        os.rmdir(path)
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


def kill_points(n_files: int) -> list[str]:
    """Every valid ``FLUXBUMP_CRASH_AT`` value for apply + commit of n changed files."""
    if n_files == 0:
        return []
    counts = {
        "journal": 3,  # mkdir, manifest temp written, manifest renamed into place
        "backup": 1,  # one file holds every old content
        "temp-write": n_files,
        # one sync each: the journal (backup, manifest temp, directories), the manifest's
        # rename, the temps, the renames, and the journal after commit drops the manifest
        "fsync": 5,
        "rename": n_files,
        "journal-remove": 3,  # manifest, the backup file, the directory
    }
    return [f"{step}:{i}" for step in STEPS for i in range(1, counts[step] + 1)]


# --- paths ---------------------------------------------------------------------------------


def journal_dir(root: Path) -> Path:
    """Inside ``.git`` when there is one, so the journal never shows up as a repo change."""
    git = root / ".git"
    return git / JOURNAL_DIR if git.is_dir() else root / f".{JOURNAL_DIR}"


def lock_path(root: Path) -> Path:
    git = root / ".git"
    return git / LOCK_FILE if git.is_dir() else root / f".{LOCK_FILE}"


def _temp_for(real: Path) -> Path:
    return real.with_name(f".{real.name}{TEMP_SUFFIX}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _describe(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


# --- lock ----------------------------------------------------------------------------------


@contextmanager
def repo_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive flock for the run; the kernel drops it if the process dies."""
    path = lock_path(root)
    fd = _acquire(path)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        # Unlink while still holding the lock; _acquire re-checks the inode to close the race.
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _acquire(path: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot create the lock {path} ({_describe(exc)})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
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


# --- signals -------------------------------------------------------------------------------


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises KeyboardInterrupt so callers roll back like on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def _signals_deferred() -> Iterator[None]:
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


class Transaction:
    """Files already written; the caller decides: ``commit()`` keeps them, ``rollback()`` not."""

    def __init__(self, root: Path, entries: Sequence[_Entry], writer: Writer) -> None:
        self.root = root
        self.journal = journal_dir(root)
        self.entries = tuple(entries)
        self.writer = writer
        self._state = "open"

    @property
    def rels(self) -> list[str]:
        return [e.rel for e in self.entries]

    def commit(self) -> None:
        """Forget the journal: the new contents stay."""
        if self._state == "rolled back":
            raise RuntimeError("transaction was rolled back; cannot commit")
        if self._state == "committed" or not self.entries:
            self._state = "committed"
            return
        with _signals_deferred():
            try:
                _remove_journal(self.journal, self.writer)
            except OSError as exc:
                raise UsageError(
                    f"the change was written but the journal {self.journal} could not be "
                    f"removed ({_describe(exc)}); remove it by hand before the next run, "
                    "or the next run will restore the old contents"
                ) from exc
            self._state = "committed"

    def rollback(self) -> None:
        """Restore every file to its old bytes (atomically per file), then drop the journal."""
        if self._state == "committed":
            raise RuntimeError("transaction was committed; cannot roll back")
        with _signals_deferred():
            self._restore()
            self._state = "rolled back"

    def _restore(self) -> None:
        by_real = {entry.real: entry for entry in self.entries}
        stale = [e for e in self.entries if _read(e.real) != e.old]
        try:
            _write_all_atomically([(e.real, e.old, e.mode) for e in stale], self.writer)
        except _WriteFailed as failed:
            entry = by_real[failed.real]
            raise UsageError(
                f"{entry.rel}: could not be restored ({_describe(failed.error)}); its old "
                f"content is kept in {self.journal}; re-run fluxbump to finish restoring"
            ) from failed.error
        for entry in stale:
            _keep_owner(entry.real, entry.owner)
        for entry in self.entries:
            try:
                if entry.temp.exists():
                    self.writer.unlink(entry.temp, "journal-remove")
            except OSError as exc:
                raise UsageError(
                    f"{entry.rel}: could not be restored ({_describe(exc)}); its old content "
                    f"is kept in {self.journal}; re-run fluxbump to finish restoring"
                ) from exc
        try:
            if self.journal.exists():
                _remove_journal(self.journal, self.writer)
        except OSError as exc:
            raise UsageError(
                f"every file was restored but the journal {self.journal} could not be removed "
                f"({_describe(exc)}); remove it by hand"
            ) from exc


def apply_changes(
    root: Path, changes: Sequence[FileChange], *, writer: Writer | None = None
) -> Transaction:
    """Write all changes or none; on any exception, KeyboardInterrupt too, restore and re-raise."""
    writer = writer or OsWriter()
    entries = _prepare(root, changes)
    tx = Transaction(root, entries, writer)
    if not entries:
        return tx
    current = str(tx.journal)
    try:
        _write_journal(tx.journal, entries, writer)
        for entry in entries:
            current = entry.rel
            writer.write_bytes(entry.temp, entry.new, entry.mode, "temp-write")
            _keep_owner(entry.temp, entry.owner)
        current = "staged files"
        writer.sync([entry.temp for entry in entries])  # data durable before any rename
        for entry in entries:
            current = entry.rel
            writer.replace(entry.temp, entry.real, "rename")
        current = "renamed files"
        writer.sync(_parents(entries))  # renames durable before commit drops the manifest
    except BaseException as exc:
        tx.rollback()
        if isinstance(exc, OSError):
            raise UsageError(
                f"{current}: cannot write: {_describe(exc)}; every file was restored"
            ) from exc
        raise
    return tx


def _prepare(root: Path, changes: Sequence[FileChange]) -> list[_Entry]:
    """Check every file before anything is written: unchanged since read, writable, inside
    the repository, and one entry per real file."""
    entries: list[_Entry] = []
    seen: dict[Path, _Entry] = {}
    inside = Path(os.path.realpath(root))
    for change in changes:
        if change.old == change.new:
            continue
        real = Path(os.path.realpath(root / change.rel))
        if not real.is_relative_to(inside):
            # Written there, the edit would be in no commit and no pull request.
            raise UsageError(
                f"{change.rel}: a symlink to {real}, outside the repository; fluxbump edits only "
                "files inside it (replace the link with the file); nothing was written"
            )
        try:
            st = os.stat(real)
            current = real.read_bytes()
        except OSError as exc:
            raise UsageError(f"{change.rel}: cannot read ({_describe(exc)})") from None
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{change.rel}: not a regular file")
        if current != change.old:
            raise UsageError(f"{change.rel}: changed on disk since it was read; re-run")
        if not (os.access(real, os.W_OK) and os.access(real.parent, os.W_OK | os.X_OK)):
            where = "" if real == root / change.rel else f" ({real})"
            raise UsageError(f"{change.rel}{where}: not writable; nothing was written")
        if real in seen:
            if seen[real].new == change.new:
                continue  # a symlink and its target, edited alike: one write
            other = seen[real].rel
            raise UsageError(f"{change.rel} and {other} are the same file ({real})")
        if st.st_nlink > 1:
            raise UsageError(
                f"{change.rel}: has {st.st_nlink} hard links, and the atomic rewrite (a new file "
                "renamed over it) would split them; nothing was written"
            )
        entry = _Entry(change.rel, real, stat.S_IMODE(st.st_mode), change.old, change.new,
                       (st.st_uid, st.st_gid))  # fmt: skip
        seen[real] = entry
        entries.append(entry)
    journal = journal_dir(root)
    if entries and journal.exists():
        raise UsageError(f"{journal} is left from an interrupted run; recover it first")
    return entries


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


def _write_journal(journal: Path, entries: Sequence[_Entry], writer: Writer) -> None:
    """Backups first, then the manifest by rename: the manifest's arrival is the commit point."""
    writer.mkdir(journal, "journal")
    manifest: list[dict[str, Any]] = []
    offset = 0
    for entry in entries:
        manifest.append(
            {
                "rel": entry.rel,
                "real": str(entry.real),
                "temp": str(entry.temp),
                "backup": BACKUP,
                "offset": offset,
                "size": len(entry.old),
                "mode": entry.mode,
                "old_sha256": _sha256(entry.old),
                "new_sha256": _sha256(entry.new),
            }
        )
        offset += len(entry.old)
    backup = journal / BACKUP
    writer.write_bytes(backup, b"".join(e.old for e in entries), 0o600, "backup")
    tmp = journal / f"{MANIFEST}.tmp"
    writer.write_bytes(tmp, json.dumps(manifest, indent=1).encode(), 0o600, "journal")
    # The journal directory's own entry, the backup and the manifest temp (data and entries)
    # are durable before the manifest's rename can be: a manifest never names lost bytes.
    writer.sync([journal.parent, journal, backup, tmp])
    writer.replace(tmp, journal / MANIFEST, "journal")
    writer.sync([journal])  # the commit point is durable before any real file is renamed


class _WriteFailed(Exception):
    """An OSError while writing ``real`` (restores name the file that failed)."""

    def __init__(self, real: Path, error: OSError) -> None:
        super().__init__(str(error))
        self.real = real
        self.error = error


def _write_all_atomically(items: Sequence[tuple[Path, bytes, int]], writer: Writer) -> None:
    """Each (real, data, mode) via temp + rename, with one sync per phase (as in apply)."""
    if not items:
        return
    real = items[0][0]
    try:
        for real, data, mode in items:
            writer.write_bytes(_temp_for(real), data, mode, "temp-write")
        real = items[0][0]
        writer.sync([_temp_for(path) for path, _, _ in items])
        for real, _, _ in items:
            writer.replace(_temp_for(real), real, "rename")
        real = items[0][0]
        writer.sync(list(dict.fromkeys(path.parent for path, _, _ in items)))
    except OSError as exc:
        raise _WriteFailed(real, exc) from exc


def _remove_journal(journal: Path, writer: Writer) -> None:
    """Manifest first (then fsync): once it is gone the journal means nothing to recover."""
    manifest = journal / MANIFEST
    if manifest.exists():
        writer.unlink(manifest, "journal-remove")
        writer.fsync(journal)
    for name in sorted(os.listdir(journal)):
        writer.unlink(journal / name, "journal-remove")
    writer.rmdir(journal, "journal-remove")


# --- recover -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recorded:
    """One manifest entry, validated."""

    rel: str
    real: Path
    temp: Path
    backup: Path
    offset: int
    size: int | None  # None: the whole file (journals of earlier versions: one file each)
    mode: int
    old_sha256: str
    new_sha256: str


def recover(root: Path, *, writer: Writer | None = None) -> list[str]:
    """Roll back an interrupted apply found by its journal; one message per restored file."""
    # Call under repo_lock: a live run's journal looks exactly like an interrupted one.
    journal = journal_dir(root)
    if not journal.is_dir():
        return []
    writer = writer or OsWriter()
    manifest = journal / MANIFEST
    with _signals_deferred():
        try:
            if not manifest.exists():
                # Killed before the commit point (nothing renamed yet) or after commit dropped
                # the manifest (nothing to undo): either way only the journal itself remains.
                _remove_journal(journal, writer)
                return []
            return _roll_back_recorded(journal, _load_manifest(journal), writer)
        except OSError as exc:
            raise UsageError(
                f"cannot recover the interrupted run in {journal} ({_describe(exc)}); "
                "inspect it by hand: the *.bak files hold the contents from before that run"
            ) from exc


def _roll_back_recorded(journal: Path, records: list[_Recorded], writer: Writer) -> list[str]:
    # Check everything first: a file that is neither old nor new was edited after the crash,
    # and overwriting it would destroy work; stop before touching anything.
    restore: list[tuple[_Recorded, bytes]] = []
    backups: dict[Path, bytes | None] = {}
    for rec in records:
        current = _read(rec.real)
        digest = None if current is None else _sha256(current)
        if digest == rec.old_sha256:
            continue
        if digest != rec.new_sha256 and current is not None:
            raise UsageError(
                f"{rec.rel} changed after an interrupted fluxbump run; its content from before "
                f"that run is {rec.backup}; restore it by hand, then remove {journal}"
            )
        old = _backup_of(rec, backups)
        if old is None or _sha256(old) != rec.old_sha256:
            raise UsageError(
                f"{rec.backup} is missing or damaged, so {rec.rel} cannot be restored; "
                f"inspect {journal} by hand"
            )
        restore.append((rec, old))
    try:
        _write_all_atomically([(rec.real, old, rec.mode) for rec, old in restore], writer)
    except _WriteFailed as failed:
        raise failed.error from None
    messages = [f"restored {rec.rel} from an interrupted run" for rec, _ in restore]
    for rec in records:
        if rec.temp.exists():
            writer.unlink(rec.temp, "journal-remove")
    _remove_journal(journal, writer)
    return messages


def _backup_of(rec: _Recorded, backups: dict[Path, bytes | None]) -> bytes | None:
    """The entry's old bytes, reading each backup file once (all entries share one)."""
    if rec.backup not in backups:
        backups[rec.backup] = _read(rec.backup)
    data = backups[rec.backup]
    if data is None:
        return None
    end = len(data) if rec.size is None else rec.offset + rec.size
    return data[rec.offset : end] if end <= len(data) else None


def _load_manifest(journal: Path) -> list[_Recorded]:
    manifest = journal / MANIFEST
    try:
        raw = json.loads(manifest.read_bytes())
        if not isinstance(raw, list):
            raise ValueError("not a list")
        return [_parse_record(journal, item) for item in raw]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{manifest} is unreadable ({exc}); inspect {journal} by hand: the *.bak files "
            "hold the contents from before the interrupted run"
        ) from None


def _parse_record(journal: Path, item: Any) -> _Recorded:
    """Strict shape check, so a damaged manifest cannot steer writes to unrelated paths."""
    fields = ("rel", "real", "temp", "backup", "old_sha256", "new_sha256")
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
        raise ValueError(f"bad entry {item!r}")
    mode = item.get("mode")
    if not isinstance(mode, int) or isinstance(mode, bool):
        raise ValueError(f"bad mode in {item!r}")
    offset, size = item.get("offset", 0), item.get("size")
    if not _count(offset) or not (size is None or _count(size)):
        raise ValueError(f"bad offset or size in {item!r}")
    real, temp = Path(item["real"]), Path(item["temp"])
    backup = item["backup"]
    if not real.is_absolute() or temp != _temp_for(real):
        raise ValueError(f"bad paths in {item!r}")
    if "/" in backup or backup in ("", ".", "..", MANIFEST):
        raise ValueError(f"bad backup name {backup!r}")
    return _Recorded(
        item["rel"],
        real,
        temp,
        journal / backup,
        offset,
        size,
        mode & 0o7777,
        item["old_sha256"],
        item["new_sha256"],
    )


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
