from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from fluxbump.errors import UsageError
from fluxbump.write.recovery import recover
from fluxbump.write.transaction import (
    CRASH_ENV,
    MANIFEST,
    TEMP_SUFFIX,
    FileChange,
    OsWriter,
    Transaction,
    apply_changes,
    interrupts_as_keyboard_interrupt,
    journal_dir,
    kill_points,
    lock_path,
    repo_lock,
)
from tests.support.swapped import run_swapped

REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "support" / "crash_driver.py"
# rel -> mode of the real file; "values.yaml" is a symlink to the last one.
FILES = {
    "clusters/prod/flux.yaml": 0o640,
    "platform/flux/chart/Chart.yaml": 0o644,
    "platform/flux/values.yaml": 0o755,
}
LINK, LINK_TARGET = "values.yaml", "platform/flux/values.yaml"
RELS = ["clusters/prod/flux.yaml", "platform/flux/chart/Chart.yaml", LINK]


@pytest.fixture(autouse=True)
def no_crash_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    """An inherited FLUXBUMP_CRASH_AT would SIGKILL pytest itself."""
    monkeypatch.delenv(CRASH_ENV, raising=False)


def make_repo(root: Path, *, git: bool = True, n_extra: int = 0) -> list[str]:
    """Files with "<rel> old" content, one reached through a symlink; returns the rels."""
    root.mkdir(parents=True, exist_ok=True)
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    for rel, mode in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{rel} old\n".encode())
        path.chmod(mode)
    (root / LINK).symlink_to(LINK_TARGET)
    extra = [f"extra/{i}.yaml" for i in range(n_extra)]
    for rel in extra:
        (root / rel).parent.mkdir(exist_ok=True)
        (root / rel).write_bytes(f"{rel} old\n".encode())
    return RELS + extra


def changes_for(root: Path, rels: list[str]) -> list[FileChange]:
    out = []
    for rel in rels:
        old = (root / rel).read_bytes()
        out.append(FileChange(rel, old, old.replace(b"old", b"new")))
    return out


def contents(root: Path, rels: list[str]) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in rels}


def state(root: Path, rels: list[str]) -> set[str]:
    """{"old"}, {"new"} or both: which version each file holds."""
    return {"new" if b" new\n" in data else "old" for data in contents(root, rels).values()}


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"*{TEMP_SUFFIX}")]


def assert_clean(root: Path) -> None:
    assert not journal_dir(root).exists()
    assert temps(root) == []


# --- apply, commit, rollback ---------------------------------------------------------------


@pytest.mark.parametrize("git", [True, False])
def test_apply_commit_writes_everything_keeps_modes_and_follows_symlinks(
    tmp_path: Path, git: bool
) -> None:
    rels = make_repo(tmp_path, git=git)
    changes = changes_for(tmp_path, rels)
    old_umask = os.umask(0o077)  # the file's own mode must win over the umask
    try:
        tx = apply_changes(tmp_path, changes)
    finally:
        os.umask(old_umask)
    # In the git directory, else in the user's state directory: never in the work tree.
    state = Path(os.environ["FLUXBUMP_STATE_DIR"])
    expected_journal = journal_dir(tmp_path)
    assert expected_journal.parent == (tmp_path / ".git" if git else expected_journal.parent)
    assert expected_journal.is_relative_to(tmp_path / ".git" if git else state)
    assert (expected_journal / MANIFEST).is_file()
    tx.commit()
    assert contents(tmp_path, rels) == {c.rel: c.new for c in changes}
    assert_clean(tmp_path)
    for rel, mode in FILES.items():
        assert (tmp_path / rel).stat().st_mode & 0o7777 == mode
    assert (tmp_path / LINK).is_symlink()
    assert os.readlink(tmp_path / LINK) == LINK_TARGET
    assert (tmp_path / LINK_TARGET).read_bytes() == b"platform/flux/values.yaml new\n"
    tx.commit()  # idempotent
    with pytest.raises(RuntimeError):
        tx.rollback()


def test_apply_rollback_restores_every_byte(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)
    tx = apply_changes(tmp_path, changes_for(tmp_path, rels))
    assert state(tmp_path, rels) == {"new"}
    tx.rollback()
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)
    assert (tmp_path / LINK).is_symlink()
    assert (tmp_path / LINK_TARGET).stat().st_mode & 0o7777 == 0o755
    tx.rollback()  # idempotent
    assert contents(tmp_path, rels) == before
    with pytest.raises(RuntimeError):
        tx.commit()


def test_no_op_changes_write_nothing(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    same = [
        FileChange(rel, (tmp_path / rel).read_bytes(), (tmp_path / rel).read_bytes())
        for rel in rels
    ]
    tx = apply_changes(tmp_path, same)
    assert isinstance(tx, Transaction) and tx.rels == []
    assert not journal_dir(tmp_path).exists()
    tx.commit()


# --- refusals before any write -------------------------------------------------------------


def test_stale_old_bytes_refused_before_any_write(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    changes = changes_for(tmp_path, rels)
    (tmp_path / rels[1]).write_bytes(b"edited meanwhile\n")
    before = contents(tmp_path, rels)
    with pytest.raises(
        UsageError,
        match=rf"{rels[1]}: changed on disk since it was read; nothing was written; re-run",
    ):
        apply_changes(tmp_path, changes)
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a 0444 file")
def test_read_only_file_refused_before_any_write(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    (tmp_path / rels[2]).resolve().chmod(0o444)
    before = contents(tmp_path, rels)
    with pytest.raises(UsageError, match=rf"{LINK} .*not writable"):
        apply_changes(tmp_path, changes_for(tmp_path, rels))
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


def test_unwritable_file_refused_before_any_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same as above, but runs as root too: os.access reports the last file unwritable."""
    rels = make_repo(tmp_path)
    target = (tmp_path / LINK_TARGET).resolve()
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        return Path(path) != target and real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    changes = changes_for(tmp_path, rels)
    before = contents(tmp_path, rels)
    with pytest.raises(UsageError, match=rf"{LINK} \({target}\): not writable"):
        apply_changes(tmp_path, changes, writer=RecordingWriter())
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


def test_same_real_file_twice_with_one_edit_is_written_once(tmp_path: Path) -> None:
    make_repo(tmp_path)
    (target,) = changes_for(tmp_path, [LINK_TARGET])
    link = FileChange(LINK, target.old, target.new)  # what discovery sees through the link
    tx = apply_changes(tmp_path, [target, link])
    assert tx.rels == [LINK_TARGET]
    tx.commit()
    assert (tmp_path / LINK_TARGET).read_bytes() == target.new and (tmp_path / LINK).is_symlink()


def test_same_real_file_twice_with_different_edits_refused(tmp_path: Path) -> None:
    make_repo(tmp_path)
    (target,) = changes_for(tmp_path, [LINK_TARGET])
    link = FileChange(LINK, target.old, target.old.replace(b"old", b"other"))
    with pytest.raises(UsageError, match="are the same file"):
        apply_changes(tmp_path, [target, link])
    assert_clean(tmp_path)


def test_symlink_out_of_the_repository_refused_before_any_write(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(b"x old\n")
    repo = tmp_path / "repo"
    rels = make_repo(repo)
    (repo / "clusters/prod/out.yaml").symlink_to(outside)
    changes = changes_for(repo, [*rels, "clusters/prod/out.yaml"])
    with pytest.raises(UsageError, match=r"clusters/prod/out.yaml: a symlink to .*outside"):
        apply_changes(repo, changes)
    assert outside.read_bytes() == b"x old\n" and state(repo, rels) == {"old"}
    assert_clean(repo)


def test_hard_linked_file_refused_before_any_write(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    os.link(tmp_path / rels[0], tmp_path / "elsewhere.yaml")
    with pytest.raises(UsageError, match=rf"{rels[0]}: has 2 hard links"):
        apply_changes(tmp_path, changes_for(tmp_path, rels))
    assert state(tmp_path, rels) == {"old"}
    assert_clean(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_rewritten_and_restored_files_keep_owner_and_group(tmp_path: Path, outcome: str) -> None:
    rels = make_repo(tmp_path)
    os.chown(tmp_path / rels[0], 1234, 5678)
    tx = apply_changes(tmp_path, changes_for(tmp_path, rels))
    tx.commit() if outcome == "commit" else tx.rollback()
    st = os.stat(tmp_path / rels[0])
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert state(tmp_path, rels) == {"new" if outcome == "commit" else "old"}


# --- injected faults -----------------------------------------------------------------------


class RecordingWriter(OsWriter):
    """The real writer, counting every step instead of ever crashing."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: Counter[str] = Counter()

    def _tick(self, step: str) -> None:
        self.steps[step] += 1


class FaultyWriter(RecordingWriter):
    """Raises OSError(err) on the nth step of a kind; a failing write leaves half a file."""

    def __init__(self, step: str, nth: int, err: int) -> None:
        super().__init__()
        self.fail_at, self.err = (step, nth), err
        self.attempts: Counter[str] = Counter()
        self.fired = False

    def _check(self, step: str, path: Path | None = None, data: bytes = b"") -> None:
        self.attempts[step] += 1
        if (step, self.attempts[step]) == self.fail_at and not self.fired:
            self.fired = True
            if path is not None:
                path.write_bytes(data[: len(data) // 2])
            raise OSError(self.err, os.strerror(self.err))

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None:
        self._check(step, path, data)
        super().write_bytes(path, data, mode, step)

    def replace(self, src: Path, dst: Path, step: str) -> None:
        self._check(step)
        super().replace(src, dst, step)


@pytest.mark.parametrize(
    ("step", "nth", "err", "named"),
    [
        ("temp-write", 3, errno.ENOSPC, "platform/flux/values.yaml"),
        ("temp-write", 3, errno.EACCES, "platform/flux/values.yaml"),
        ("rename", 3, errno.ENOSPC, "platform/flux/values.yaml"),
        ("rename", 5, errno.EACCES, "extra/1.yaml"),
        ("backup", 1, errno.ENOSPC, "fluxbump-journal"),
        ("journal", 2, errno.ENOSPC, "fluxbump-journal"),
    ],
)
def test_fault_on_nth_of_five_writes_restores_every_file(
    tmp_path: Path, step: str, nth: int, err: int, named: str
) -> None:
    rels = [r for r in make_repo(tmp_path, n_extra=2) if r != LINK]
    rels.insert(2, LINK_TARGET)
    assert len(rels) == 5
    before = contents(tmp_path, rels)
    writer = FaultyWriter(step, nth, err)
    reason = os.strerror(err).lower()
    with pytest.raises(
        UsageError, match=rf"{named}.*: cannot write: {reason}; every file was restored"
    ):
        apply_changes(tmp_path, changes_for(tmp_path, rels), writer=writer)
    assert writer.fired  # the fault really fired mid-way
    assert contents(tmp_path, rels) == before
    for rel, mode in FILES.items():
        assert (tmp_path / rel).stat().st_mode & 0o7777 == mode
    assert_clean(tmp_path)


def test_keyboard_interrupt_mid_rename_restores_and_reraises(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)

    class Interrupting(RecordingWriter):
        def replace(self, src: Path, dst: Path, step: str) -> None:
            super().replace(src, dst, step)
            if step == "rename" and self.steps[step] == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply_changes(tmp_path, changes_for(tmp_path, rels), writer=Interrupting())
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


def test_sigterm_mid_apply_restores_and_raises_keyboard_interrupt(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)

    class Terminated(RecordingWriter):
        def replace(self, src: Path, dst: Path, step: str) -> None:
            super().replace(src, dst, step)
            if step == "rename" and self.steps[step] == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt), interrupts_as_keyboard_interrupt():
        apply_changes(tmp_path, changes_for(tmp_path, rels), writer=Terminated())
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


# --- kill points and crash recovery --------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 5])
def test_kill_points_match_the_steps_actually_taken(tmp_path: Path, n: int) -> None:
    rels = make_repo(tmp_path, n_extra=n)[-n:]
    writer = RecordingWriter()
    apply_changes(tmp_path, changes_for(tmp_path, rels), writer=writer).commit()
    taken = [f"{step}:{i}" for step, count in writer.steps.items() for i in range(1, count + 1)]
    assert sorted(kill_points(n)) == sorted(taken)
    assert kill_points(0) == []


def test_sigkill_at_every_kill_point_then_recover_restores(tmp_path: Path) -> None:
    points = kill_points(len(RELS))
    # Past-the-end points never fire, so those runs finish: they prove the driver works.
    controls = ["rename:4", "journal-remove:99"]
    procs: dict[str, tuple[Path, subprocess.Popen[bytes]]] = {}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for point in points + controls:
        root = tmp_path / point.replace(":", "-")
        make_repo(root)
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(root), *RELS],
            env={**env, CRASH_ENV: point},
            stderr=subprocess.PIPE,
        )
        procs[point] = (root, proc)

    # Only a kill after commit() dropped the manifest may leave (and keep) the new contents.
    last_fsync = max(int(p.split(":")[1]) for p in points if p.startswith("fsync:"))
    committed = {p for p in points if p.startswith("journal-remove:")} | {f"fsync:{last_fsync}"}
    restored_runs = mixed_before = 0
    for point, (root, proc) in procs.items():
        _, err = proc.communicate(timeout=60)
        if point in controls:
            assert proc.returncode == 0, err.decode()
            assert state(root, RELS) == {"new"}
            assert_clean(root)
            continue
        assert proc.returncode == -signal.SIGKILL, (point, err.decode())
        had_manifest = (journal_dir(root) / MANIFEST).exists()
        new_before = sum(b" new\n" in d for d in contents(root, RELS).values())
        mixed_before += 0 < new_before < len(RELS)
        with repo_lock(root):  # the SIGKILLed driver's lock is free again
            messages = recover(root)
        after = state(root, RELS)
        assert len(after) == 1, (point, after)  # never a mix
        if had_manifest:
            assert after == {"old"}, point
            assert len(messages) == new_before, (point, messages)
            restored_runs += bool(messages)
        else:
            # No manifest: killed before the commit point, or after commit dropped it.
            assert messages == [], point
            assert after == ({"new"} if point in committed else {"old"}), point
        assert_clean(root)
        assert recover(root) == []  # idempotent
    assert len(points) == 18  # 3 journal, 1 backup, 3 temp-write, 5 fsync, 3 rename, 3 remove
    assert mixed_before > 0 and restored_runs > 0  # the crashes really hit mid-swap


def test_recover_rolls_back_an_uncommitted_apply(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)
    apply_changes(tmp_path, changes_for(tmp_path, rels))  # "dies" without commit/rollback
    messages = recover(tmp_path)
    # Named as the real file each link resolves to (what the journal records).
    real = [os.path.relpath(os.path.realpath(tmp_path / rel), tmp_path) for rel in rels]
    assert messages == [f"restored {rel} from an interrupted run" for rel in real]
    assert contents(tmp_path, rels) == before
    assert (tmp_path / LINK).is_symlink()
    assert (tmp_path / LINK_TARGET).stat().st_mode & 0o7777 == 0o755
    assert_clean(tmp_path)
    assert recover(tmp_path) == []


def test_recover_restores_a_file_written_larger_than_a_manifest(tmp_path: Path) -> None:
    """A chart archive a bump vendors may pass the 8 MiB a manifest may have (up to the 20 MiB
    of a download): its digest is read like any other, not taken as changed since unread."""
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)
    big = (tmp_path / rels[0]).read_bytes() + b"#" * (9 << 20)
    apply_changes(tmp_path, [FileChange(rels[0], before[rels[0]], big)])
    assert recover(tmp_path) == [f"restored {rels[0]} from an interrupted run"]
    assert contents(tmp_path, rels) == before


def test_apply_refuses_while_a_journal_is_left(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    apply_changes(tmp_path, changes_for(tmp_path, rels))
    current = (tmp_path / rels[0]).read_bytes()
    with pytest.raises(UsageError, match="interrupted run; recover it first"):
        apply_changes(tmp_path, [FileChange(rels[0], current, current + b"more\n")])


def test_recover_refuses_to_clobber_a_file_edited_after_the_crash(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    apply_changes(tmp_path, changes_for(tmp_path, rels))
    (tmp_path / rels[0]).write_bytes(b"hand edit\n")
    snapshot = contents(tmp_path, rels)
    with pytest.raises(UsageError, match=rf"{rels[0]} changed after an interrupted"):
        recover(tmp_path)
    assert contents(tmp_path, rels) == snapshot
    assert (journal_dir(tmp_path) / MANIFEST).exists()


@pytest.mark.parametrize("body", [b"{not json", b"{}", b'[{"rel": "a"}]'])
def test_recover_refuses_a_corrupt_manifest(tmp_path: Path, body: bytes) -> None:
    make_repo(tmp_path)
    journal = journal_dir(tmp_path)
    journal.mkdir(parents=True)
    (journal / MANIFEST).write_bytes(body)
    with pytest.raises(UsageError, match=r"inspect .* by hand"):
        recover(tmp_path)
    assert (journal / MANIFEST).read_bytes() == body


def test_recover_without_manifest_just_removes_the_journal(tmp_path: Path) -> None:
    rels = make_repo(tmp_path)
    before = contents(tmp_path, rels)
    journal = journal_dir(tmp_path)
    journal.mkdir(parents=True)
    (journal / "0.bak").write_bytes(b"x")
    (journal / f"{MANIFEST}.tmp").write_bytes(b"[")
    assert recover(tmp_path) == []
    assert contents(tmp_path, rels) == before
    assert_clean(tmp_path)


def test_recover_with_nothing_to_do(tmp_path: Path) -> None:
    make_repo(tmp_path)
    assert recover(tmp_path) == []


def test_crash_seam_rejects_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CRASH_ENV, "renam:1")
    with pytest.raises(ValueError, match=CRASH_ENV):
        OsWriter()


# --- signals -------------------------------------------------------------------------------


@pytest.fixture
def safety_sigterm() -> Iterator[list[int]]:
    """A harmless SIGTERM handler, so a broken context manager cannot kill pytest."""
    seen: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_raises_keyboard_interrupt_and_handler_is_restored(
    safety_sigterm: list[int],
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), interrupts_as_keyboard_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted at once by the handler
    assert safety_sigterm == []
    assert signal.getsignal(signal.SIGTERM) is before
    os.kill(os.getpid(), signal.SIGTERM)
    assert safety_sigterm == [signal.SIGTERM]


def test_an_ignored_sighup_stays_ignored_and_is_restored() -> None:
    """Under ``nohup`` a closed terminal must not interrupt the bump."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with interrupts_as_keyboard_interrupt():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)  # ignored: no KeyboardInterrupt
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


# --- lock ----------------------------------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from fluxbump.write.transaction import repo_lock
with repo_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_repo_lock_refuses_a_second_holder_and_frees_after_sigkill(tmp_path: Path) -> None:
    make_repo(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"locked\n"
        with pytest.raises(UsageError) as info, repo_lock(tmp_path):
            pass
        message = info.value.message
        assert f"holds the lock {lock_path(tmp_path)} (pid {proc.pid})" in message
        assert "wait for it or remove it if no fluxbump is running" in message
    finally:
        proc.kill()
        proc.wait()
    assert lock_path(tmp_path).exists()  # a SIGKILLed holder leaves the file, not the lock
    with repo_lock(tmp_path):
        assert lock_path(tmp_path).read_text() == f"{os.getpid()}\n"
    assert not lock_path(tmp_path).exists()


def test_repo_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with (
        repo_lock(tmp_path),
        pytest.raises(UsageError, match="another fluxbump run"),
        repo_lock(tmp_path),
    ):
        pass
    with repo_lock(tmp_path):
        pass
    assert not lock_path(tmp_path).exists()


def test_commit_never_removes_through_a_journal_swapped_for_a_symlink(tmp_path: Path) -> None:
    """Another process swaps the journal directory for a symlink before ``commit`` drops it:
    the removal by path unlinked the files of the directory the link points to."""
    repo = tmp_path / "repo"
    repo.mkdir()
    rels = make_repo(repo)
    tx = apply_changes(repo, changes_for(repo, rels))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "canary.txt").write_text("someone else's file\n")
    tx.journal.rename(tmp_path / "aside")
    tx.journal.symlink_to(victim)
    with pytest.raises(UsageError) as refused:
        tx.commit()
    assert (victim / "canary.txt").read_text() == "someone else's file\n"
    assert (
        "was replaced by a symlink or a file (by another process) while fluxbump was "
        "removing it; nothing was removed through it" in refused.value.message
    )
    assert tx.journal.is_symlink()


@pytest.mark.parametrize("into", ["fifo", "link"])
def test_holds_never_reads_a_file_swapped_after_it_was_looked_at(tmp_path: Path, into: str) -> None:
    """``holds`` looked (lstat) and then opened by path: a FIFO swapped in between hung the
    run (the open waits for a writer), a symlink was read through (here: to a file holding
    the expected bytes). The descriptor it reads is the one it checks."""
    path, outside = tmp_path / "pin.yaml", tmp_path / "outside.yaml"
    path.write_bytes(b"version: 2.4.0\n")
    outside.write_bytes(b"version: 2.4.0\n")
    code = (
        "from fluxbump.write.transaction import holds, regular_or_none\n"
        "print(holds(_target, b'version: 2.4.0\\n'), regular_or_none(_target))\n"
    )
    proc = run_swapped(path, "fifo" if into == "fifo" else str(outside), code)
    assert (proc.stdout, proc.stderr) == ("False None\n", "")
    assert path.is_fifo() if into == "fifo" else path.is_symlink()
