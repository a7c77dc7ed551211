"""Recovery of a run killed mid-way, found by its journal: undo it, or finish it.

Undo restores every file the journal names from its backup and undoes the recorded git
steps; once the run's commit exists (the work tree is then that commit's), recovery finishes
the git steps instead. Every entry is checked first: it must name a regular file inside the
work tree reached through directories only, and hold the old or the new bytes (anything
else was edited after the crash and is never overwritten). Once HEAD has moved to commits
the run did not make that change its files (they were committed by hand), neither undoing
nor finishing is safe: the git record's reader refuses, saying how to undo or keep them.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxbump.crds.archives import DEFAULT_LIMITS
from fluxbump.errors import UsageError
from fluxbump.output import one_line
from fluxbump.scan.sources import MAX_FILE_BYTES, file_kind
from fluxbump.write.places import Places, places, refuse_work_tree_journal, temp_for
from fluxbump.write.transaction import (
    BACKUP,
    GIT_STATE,
    MANIFEST,
    MANIFEST_VERSION,
    GitSteps,
    NotRegular,
    OsWriter,
    WriteFailed,
    Writer,
    describe,
    holds,
    open_regular,
    remove_journal,
    sha256,
    signals_deferred,
    write_all_atomically,
)


@dataclass(frozen=True)
class _Recorded:
    """One manifest entry, validated and resolved under the work tree top."""

    key: str
    real: Path
    backup: Path
    offset: int
    size: int
    mode: int
    old_sha256: str
    new_sha256: str

    @property
    def temp(self) -> Path:
        return temp_for(self.real)


GitLoader = Callable[[Places, dict[str, Any]], GitSteps]

# The most a run writes to or keeps of one file: a manifest it edits, or a chart archive it
# vendors (downloaded to at most the archive bound).
LARGEST_WRITTEN = max(MAX_FILE_BYTES, DEFAULT_LIMITS.archive_bytes)


def recover(
    root: Path, *, writer: Writer | None = None, load_git: GitLoader | None = None
) -> list[str]:
    """Undo (or, once its commit exists, finish) an interrupted run found by its journal;
    one message per restored file. ``load_git`` reads the journal's git record."""
    # Call under repo_lock: a live run's journal looks exactly like an interrupted one.
    where = places(root)
    refuse_work_tree_journal(root, where)
    journal = where.journal
    if not os.path.lexists(journal):
        return []
    if os.path.islink(journal) or not journal.is_dir():
        raise UsageError(
            f"{journal} is not a directory fluxbump made (a symlink, or a file), so it is never "
            "read or followed: inspect it, remove it; nothing was written"
        )
    writer = writer or OsWriter()
    manifest = journal / MANIFEST
    with signals_deferred():
        try:
            _refuse_odd_entries(journal)
            if not os.path.lexists(manifest):  # (a link, even dangling: refused on reading)
                # Killed before the commit point (nothing renamed yet, no git step) or after
                # commit dropped the manifest (nothing to undo): only the journal remains.
                remove_journal(journal, writer)
                return []
            records = _load_manifest(where)
            git = _load_git(where, load_git, {rec.key for rec in records})
            if git is not None and git.committed([rec.key for rec in records]):
                return _finish_recorded(journal, records, git, writer)
            return _roll_back_recorded(journal, records, git, writer)
        except OSError as exc:
            raise UsageError(
                f"cannot recover the interrupted run in {journal}: {describe(exc)}; once "
                "that is fixed, re-run fluxbump to finish recovering it (or inspect it by hand: "
                f"{BACKUP} holds the contents from before that run)"
            ) from exc


def _refuse_odd_entries(journal: Path) -> None:
    """fluxbump makes only regular files in its journal: a symlink there (a journal another
    user, a clone tool or a restored backup wrote) was read through, its manifest or backup
    taken from anywhere, and a FIFO's open waited for ever; recovery touches nothing then."""
    for entry in os.scandir(journal):
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            raise _odd_entry(Path(entry.path), mode)


def _odd_entry(path: Path, mode: int) -> UsageError:
    what = "a symlink" if stat.S_ISLNK(mode) else file_kind(mode)
    return UsageError(
        f"{path}: {what} in the journal of an interrupted run, where fluxbump makes only "
        f"regular files; it never reads or writes through one: inspect {path.parent} (its "
        f"{BACKUP} holds the contents from before that run), then remove it; nothing was "
        "written"
    )


# The largest manifest or git record recovery reads: one of 200,000 files (a real one takes
# about 300 bytes a file). Read whole, one of gigabytes (a journal another hand wrote) ended
# every later run in MemoryError.
RECORD_LIMIT = 64 * 1024 * 1024


def _journal_bytes(path: Path, limit: int = RECORD_LIMIT, *, refuse: bool = True) -> bytes | None:
    """A journal entry's bytes (None: absent), opened as the regular file it must be: the
    entry swapped for a symlink or a FIFO since ``_refuse_odd_entries`` looked (by someone
    who can write the git directory) is refused as that look refuses it. At most ``limit``
    bytes: a longer entry is refused (``refuse``), else only its first ``limit`` are read."""
    try:
        fd = open_regular(path)
    except NotRegular as odd:
        raise _odd_entry(path, odd.mode) from None
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        # (its size first: a refused entry is not read at all; then the read's length, for
        # one growing meanwhile)
        oversized = refuse and os.fstat(fd).st_size > limit
        data = b"" if oversized else handle.read(limit + 1)
    if len(data) <= limit and not oversized:
        return data
    if not refuse:
        return data[:limit]
    raise UsageError(
        f"{path}: larger than any record fluxbump writes ({limit // (1024 * 1024)} MiB), so it "
        f"is not read: inspect {path.parent} (its {BACKUP} holds the contents from before "
        "that run), then remove it; nothing was written"
    )


def _load_git(where: Places, load_git: GitLoader | None, written: set[str]) -> GitSteps | None:
    """The journal's git record (None: the run took no git step), whose files are the
    manifest's (``written``)."""
    path = where.journal / GIT_STATE
    try:
        raw = _journal_bytes(path)
        if raw is None:
            return None
        state = json.loads(raw)
        if not isinstance(state, dict):
            raise ValueError("not a mapping")
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is unreadable ({exc}); inspect {where.journal} by hand") from None
    if load_git is None:
        raise UsageError(
            f"{where.journal} records git steps; run 'fluxbump to' (or sync) to recover it"
        )
    _refuse_foreign_paths(path, state, written)
    return load_git(where, state)


def _refuse_foreign_paths(record: Path, state: dict[str, Any], written: set[str]) -> None:
    """The record's ``paths`` (the files the run staged) are those whose index entries
    undoing and finishing set to HEAD's; the run staged only files it wrote, which its
    manifest lists. One more, in a record another hand wrote, had the user's staged change
    to a file the run never touched reset: refused before anything is touched."""
    paths = state.get("paths")
    listed = paths if isinstance(paths, list) else []  # (no list: a run that took no step)
    foreign = next((p for p in listed if isinstance(p, str) and p not in written), None)
    if foreign is None:  # (a path that is no string: the git record's reader refuses it)
        return
    raise UsageError(
        f"{record} names {one_line(foreign)} as a file the interrupted fluxbump run staged, "
        "but its manifest does not list it as written by that run, so recovery would reset "
        "its index entry (a change staged to it would be lost): the index, branches and "
        "every file are left as they are; if that record is not this clone's, remove it and "
        f"re-run to restore the files (or remove {record.parent} to keep them)"
    )


def _finish_recorded(
    journal: Path, records: list[_Recorded], git: GitSteps, writer: Writer
) -> list[str]:
    """The run's commit exists and is checked out: the work tree is that commit's; finish."""
    git.complete()
    for rec in records:
        if os.path.lexists(rec.temp):
            writer.unlink(rec.temp, "journal-remove")
    remove_journal(journal, writer)
    return ["finished an interrupted bump: its commit was made; the journal is dropped"]


def _roll_back_recorded(
    journal: Path, records: list[_Recorded], git: GitSteps | None, writer: Writer
) -> list[str]:
    # Check everything first: a file that is neither old nor new was edited after the crash,
    # and overwriting it would destroy work; stop before touching anything.
    restore: list[tuple[_Recorded, bytes | None]] = []  # None: remove (the run created it)
    backups: dict[Path, bytes | None] = {}
    for rec in records:
        digest = _digest_regular(rec)  # "": absent, as recorded
        if digest == rec.old_sha256:
            continue
        if digest != rec.new_sha256 and not _hook_edited(rec, git):
            raise UsageError(
                f"{rec.key} changed after an interrupted fluxbump run; its content from before "
                f"that run is in {rec.backup}; restore it by hand, then remove {journal}"
            )
        if not rec.old_sha256:  # created by the run: removed again
            restore.append((rec, None))
            continue
        old = _backup_of(rec, backups, records)
        if old is None or sha256(old) != rec.old_sha256:
            raise UsageError(
                f"{rec.backup} is missing or damaged, so {rec.key} cannot be restored; "
                f"inspect {journal} by hand"
            )
        restore.append((rec, old))
    for rec in records:
        if os.path.lexists(rec.temp):
            writer.unlink(rec.temp, "journal-remove")
    for rec, old in restore:
        if old is None:
            writer.unlink(rec.real, "rename")
    try:
        write_all_atomically(
            [(rec.real, old, rec.mode, None) for rec, old in restore if old is not None], writer
        )
    except WriteFailed as failed:
        raise failed.error from None
    if git is not None:
        git.undo()
    messages = [f"restored {rec.key} from an interrupted run" for rec, _ in restore]
    remove_journal(journal, writer)
    return messages


def _hook_edited(rec: _Recorded, git: GitSteps | None) -> bool:
    """Whether the file holds a hook's edit made during the run's commit (``hook_edit``):
    restored as the run's own edit is."""
    edit = git.hook_edit(rec.key) if git is not None else None
    return edit is not None and holds(rec.real, edit)


def _digest_regular(rec: _Recorded) -> str:
    """The recorded file's sha256 ("" when absent), read in blocks; one larger than a
    manifest may be (made so since: by a gate command of the killed run, say) is neither its
    old nor its new content, and is named as changed unread, where reading it whole ended
    every later run with MemoryError. It must still be a regular file, checked on the
    descriptor read (``open_regular``): never read through a link, from a device or a FIFO
    (whose read waited for ever)."""
    try:
        fd = open_regular(rec.real)
    except NotRegular as odd:
        what = "a symlink" if stat.S_ISLNK(odd.mode) else file_kind(odd.mode)
        raise UsageError(
            f"{rec.key}: named by the journal but {what} now, not a regular file; refusing to "
            "restore through it: inspect it by hand"
        ) from None
    if fd is None:
        return ""
    with os.fdopen(fd, "rb") as handle:
        if os.fstat(fd).st_size > LARGEST_WRITTEN:
            return "larger than any content fluxbump wrote or kept"
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _backup_of(
    rec: _Recorded, backups: dict[Path, bytes | None], records: list[_Recorded]
) -> bytes | None:
    """The entry's old bytes, reading each backup file once (all entries share one), no
    further than the records' contents end in it: a longer one costs no more memory."""
    if rec.backup not in backups:
        end = max(r.offset + r.size for r in records if r.backup == rec.backup)
        backups[rec.backup] = _journal_bytes(rec.backup, end, refuse=False)
    data = backups[rec.backup]
    if data is None:
        return None
    end = rec.offset + rec.size
    return data[rec.offset : end] if end <= len(data) else None


def _load_manifest(where: Places) -> list[_Recorded]:
    manifest = where.journal / MANIFEST
    try:
        raw = json.loads(_journal_bytes(manifest) or b"")
        version: Any = raw.get("version") if isinstance(raw, dict) else None
        if _count(version) and version > MANIFEST_VERSION:
            # Its entries may mean what this version cannot tell: the version that wrote it
            # recovers it.
            raise UsageError(
                f"{manifest} was written by a newer fluxbump (journal version {version}); run "
                "that version to recover the interrupted run; nothing was written"
            )
        if not isinstance(raw, dict) or raw.get("version") != MANIFEST_VERSION:
            raise ValueError(f"not a version-{MANIFEST_VERSION} manifest")
        files = raw.get("files")
        if not isinstance(files, list):
            raise ValueError("no file list")
        return [_parse_record(where, item) for item in files]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{manifest} is unreadable or unsafe ({exc}); inspect {where.journal} by hand: "
            f"{BACKUP} holds the contents from before the interrupted run"
        ) from None


def _parse_record(where: Places, item: Any) -> _Recorded:
    """Strict shape check, and the path must stay a regular file inside the work tree."""
    fields = ("path", "old_sha256", "new_sha256")
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
        raise ValueError(f"bad entry {item!r}")
    mode: Any = item.get("mode")
    offset: Any = item.get("offset")
    size: Any = item.get("size")
    if not (_count(mode) and _count(offset) and _count(size)):
        raise ValueError(f"bad mode, offset or size in {item!r}")
    key = item["path"]
    return _Recorded(
        key,
        _inside(where.base, key),
        where.journal / BACKUP,
        offset,
        size,
        mode & 0o777,  # never set-id bits, whatever the record says
        item["old_sha256"],
        item["new_sha256"],
    )


def _inside(base: Path, key: str) -> Path:
    """``base / key`` when it names a path inside ``base`` reached through directories only."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in key:
        raise ValueError(f"path {key!r} is not inside the repository")
    path = base
    for part in parts[:-1]:
        path = path / part
        if os.path.islink(path) or not path.is_dir():
            raise ValueError(f"path {key!r} passes through {path}, not a directory")
    path = path / parts[-1]
    if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
        raise ValueError(f"path {key!r} is not a regular file (a symlink, device or FIFO)")
    return path


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
