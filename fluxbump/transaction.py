"""Writing a set of files all-or-nothing, with a journal that survives a crash.

Protocol, in order (each filesystem step goes through a ``Writer``):

1. journal: back up every file's old bytes, then rename the manifest into place and fsync its
   directory. That rename is the commit point: from then on ``recover`` knows what to restore.
2. stage: write each new content to ``.<name>.fluxbump-tmp`` beside its real file, fsync.
3. swap: rename each temp over its real file, fsync the directory.
4. the caller runs its gate, then ``Transaction.commit()`` (drop the journal, manifest first)
   or ``Transaction.rollback()`` (restore the old bytes, then drop the journal).

Recovery always rolls back ("restore, or finish, never a mix": we restore).
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from fluxbump.errors import UsageError

JOURNAL_DIR = "fluxbump-journal"
LOCK_FILE = "fluxbump.lock"
MANIFEST = "manifest.json"
TEMP_SUFFIX = ".fluxbump-tmp"
# Test seam: "<step>:<n>" makes OsWriter SIGKILL its own process just after the n-th such step.
CRASH_ENV = "FLUXBUMP_CRASH_AT"
# Test seam: "<step>:<n>" makes OsWriter stop just after the n-th such step, create
# "$FLUXBUMP_PAUSE_FILE.paused", and wait (polling, at most PAUSE_LIMIT seconds) until
# "$FLUXBUMP_PAUSE_FILE" exists; tests use the pause to send signals or start a rival run.
PAUSE_ENV = "FLUXBUMP_PAUSE_AT"
PAUSE_FILE_ENV = "FLUXBUMP_PAUSE_FILE"
PAUSE_LIMIT = 60.0
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

    @property
    def temp(self) -> Path:
        return _temp_for(self.real)


# --- writer seam -------------------------------------------------------------------------


class Writer(Protocol):
    """Every filesystem mutation the protocol makes; tests inject faults here."""

    def mkdir(self, path: Path, step: str) -> None: ...

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None: ...

    def fsync(self, path: Path) -> None: ...

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
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
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
        "backup": n_files,
        "temp-write": n_files,
        # backups, journal's parent, journal dir twice, manifest, temps, one dir per rename,
        # and the journal dir once more after commit drops the manifest
        "fsync": 3 * n_files + 5,
        "rename": n_files,
        "journal-remove": n_files + 2,  # manifest, each backup, the directory
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
        for entry in self.entries:
            try:
                if _read(entry.real) != entry.old:
                    _write_atomically(entry.real, entry.old, entry.mode, self.writer)
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
            writer.fsync(entry.temp)
        for entry in entries:
            current = entry.rel
            writer.replace(entry.temp, entry.real, "rename")
            writer.fsync(entry.real.parent)
    except BaseException as exc:
        tx.rollback()
        if isinstance(exc, OSError):
            raise UsageError(
                f"{current}: cannot write: {_describe(exc)}; every file was restored"
            ) from exc
        raise
    return tx


def _prepare(root: Path, changes: Sequence[FileChange]) -> list[_Entry]:
    """Check every file before anything is written: unchanged since read, writable, distinct."""
    entries: list[_Entry] = []
    seen: dict[Path, str] = {}
    for change in changes:
        if change.old == change.new:
            continue
        real = Path(os.path.realpath(root / change.rel))
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
            raise UsageError(f"{change.rel} and {seen[real]} are the same file ({real})")
        seen[real] = change.rel
        entries.append(_Entry(change.rel, real, stat.S_IMODE(st.st_mode), change.old, change.new))
    journal = journal_dir(root)
    if entries and journal.exists():
        raise UsageError(f"{journal} is left from an interrupted run; recover it first")
    return entries


def _write_journal(journal: Path, entries: Sequence[_Entry], writer: Writer) -> None:
    """Backups first, then the manifest by rename: the manifest's arrival is the commit point."""
    writer.mkdir(journal, "journal")
    writer.fsync(journal.parent)
    manifest: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        backup = journal / f"{i}.bak"
        writer.write_bytes(backup, entry.old, 0o600, "backup")
        writer.fsync(backup)
        manifest.append(
            {
                "rel": entry.rel,
                "real": str(entry.real),
                "temp": str(entry.temp),
                "backup": backup.name,
                "mode": entry.mode,
                "old_sha256": _sha256(entry.old),
                "new_sha256": _sha256(entry.new),
            }
        )
    writer.fsync(journal)  # backups' directory entries are durable before the manifest's
    tmp = journal / f"{MANIFEST}.tmp"
    writer.write_bytes(tmp, json.dumps(manifest, indent=1).encode(), 0o600, "journal")
    writer.fsync(tmp)
    writer.replace(tmp, journal / MANIFEST, "journal")
    writer.fsync(journal)


def _write_atomically(real: Path, data: bytes, mode: int, writer: Writer) -> None:
    temp = _temp_for(real)
    writer.write_bytes(temp, data, mode, "temp-write")
    writer.fsync(temp)
    writer.replace(temp, real, "rename")
    writer.fsync(real.parent)


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
        old = _read(rec.backup)
        if old is None or _sha256(old) != rec.old_sha256:
            raise UsageError(
                f"{rec.backup} is missing or damaged, so {rec.rel} cannot be restored; "
                f"inspect {journal} by hand"
            )
        restore.append((rec, old))
    messages: list[str] = []
    for rec, old in restore:
        _write_atomically(rec.real, old, rec.mode, writer)
        messages.append(f"restored {rec.rel} from an interrupted run")
    for rec in records:
        if rec.temp.exists():
            writer.unlink(rec.temp, "journal-remove")
    _remove_journal(journal, writer)
    return messages


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
        mode & 0o7777,
        item["old_sha256"],
        item["new_sha256"],
    )
