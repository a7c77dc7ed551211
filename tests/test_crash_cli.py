"""Crash safety of the real ``fluxbump to`` process: SIGKILL at every kill point, signals, lock.

Each kill-point run is a real ``python -m fluxbump to`` subprocess on its own incident fleet
(``FLUXBUMP_CRASH_AT`` makes the writer SIGKILL the process after that step); the runs go in
parallel. Then fluxbump runs again on each tree and must leave it all-old (byte for byte)
or all-new (and consistent), with no journal, lock or temp file left.

Recovery happens in ``fluxbump to`` (``--dry-run`` too), under the lock: ``check`` only reads.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from fluxbump.write import transaction
from fluxbump.write.transaction import (
    CRASH_ENV,
    PAUSE_ENV,
    PAUSE_FILE_ENV,
    TEMP_SUFFIX,
    OsWriter,
    journal_dir,
    kill_points,
    lock_path,
)
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import (
    SMALL,
    child_env,
    fluxbump_cmd,
    fork_server,
    no_seams,  # noqa: F401 (an autouse fixture)
    run,
    wait_for,
)
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def leftovers(root: Path) -> list[str]:
    """Journal, lock and temp files a finished or recovered run must not leave."""
    found = [p for p in (journal_dir(root), lock_path(root)) if p.exists()]
    found += list(root.rglob(f"*{TEMP_SUFFIX}"))
    return [str(p.relative_to(root)) for p in found]


def planned_files(root: Path, server: HelmServer) -> list[str]:
    plan = run_cli("to", "2.4.0", "--no-git", "--dry-run", "--json", "--repo", str(root),
                   "--helm-repo", server.base_url)  # fmt: skip
    assert plan.code == 0, plan.stderr
    files: list[str] = json.loads(plan.stdout)["files"]
    return files


# --- SIGKILL at every kill point -----------------------------------------------------------


def test_sigkill_at_every_kill_point_then_rerun_leaves_all_old_or_all_new(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    control = make_fleet(tmp_path / "control", INCIDENT, **SMALL)
    original = snapshot(control)
    files = planned_files(control, index_server)
    assert len(files) == 9
    done = run(fluxbump_cmd(control, index_server, "to", "2.4.0", "--no-git"), cache)
    assert done.returncode == 0, done.stderr
    new_tree = snapshot(control)
    assert {rel for rel in original if original[rel] != new_tree[rel]} == set(files)

    points = kill_points(len(files))
    roots = {p: make_fleet(tmp_path / p.replace(":", "-"), INCIDENT, **SMALL) for p in points}
    logs = tmp_path / "logs"
    logs.mkdir()

    # A whole bump on a fleet of its own warms the fork server: its children then find the
    # write and gate modules (and jsonschema) already imported.
    warm_root = make_fleet(tmp_path / "warm", INCIDENT, **SMALL)
    warm = ["to", "2.4.0", "--no-git", "--repo", str(warm_root), "--helm-repo",
            index_server.base_url]  # fmt: skip

    def job(point: str, *args: str, **env: str) -> dict[str, object]:
        name = f"{point.replace(':', '-')}-{args[0]}"
        return {
            "id": point, "args": [*args, "--repo", str(roots[point]),
            "--helm-repo", index_server.base_url], "env": env,
            "out": str(logs / f"{name}.out"), "err": str(logs / f"{name}.err"),
        }  # fmt: skip

    with fork_server(cache, warm) as server:
        crashed = server.run([job(p, "to", "2.4.0", "--no-git", **{CRASH_ENV: p}) for p in points])
        mixed = 0
        for point in points:
            assert crashed[point] == -signal.SIGKILL, (point, crashed[point])
            after_kill = snapshot(roots[point])
            # Each file is renamed into place whole: old bytes or new bytes, never a torn file.
            for rel in files:
                assert after_kill[rel] in (original[rel], new_tree[rel]), (point, rel)
            n_new = sum(after_kill[rel] == new_tree[rel] for rel in files)
            mixed += 0 < n_new < len(files)

        # Run fluxbump again on every crashed tree: `to --dry-run` recovers under the lock.
        again = server.run([job(p, "to", "2.4.0", "--no-git", "--dry-run") for p in points])
    restored = kept_new = 0
    for point in points:
        root = roots[point]
        name = point.replace(":", "-")
        out = (logs / f"{name}-to.out").read_text()
        err = (logs / f"{name}-to.err").read_text()
        assert again[point] == 0, (point, err)
        assert "Traceback" not in out + err, point
        assert leftovers(root) == [], point
        tree = snapshot(root)
        if tree == original:
            restored += "from an interrupted run" in out
        else:
            assert tree == new_tree, point  # all-new, never a mix
            kept_new += 1
            assert "already at v2.4.0" in out
            check = run_cli("check", "--repo", str(root), "--helm-repo", index_server.base_url)
            assert check.code == 0, (point, check.stdout)
    assert len(points) == 30  # n_files = 9: 3 journal, 1 backup, 9 temp, 5 fsync, 9 rename, 3
    assert mixed > 0 and restored > 0  # crashes really hit mid-swap, and were restored
    assert kept_new == 4  # killed after commit dropped the manifest: journal-remove:*, fsync:5


@pytest.mark.parametrize("point", ["journal:3", "rename:4", "journal-remove:1"])
def test_sigkill_of_python_m_fluxbump_in_a_git_repo(
    tmp_path: Path, index_server: HelmServer, point: str
) -> None:
    """The console entry point itself, journal under .git/, recovery by a second process."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    original = snapshot(root)
    crash = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git"), cache,
                **{CRASH_ENV: point})  # fmt: skip
    assert crash.returncode == -signal.SIGKILL, crash.stderr
    assert journal_dir(root) == root / ".git" / "fluxbump-journal"
    assert journal_dir(root).is_dir() and lock_path(root).exists()
    again = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git", "--dry-run"), cache)
    assert again.returncode == 0, again.stderr
    assert leftovers(root) == []
    if point == "journal-remove:1":
        assert snapshot(root) != original and "already at v2.4.0" in again.stdout
        assert run(fluxbump_cmd(root, index_server, "check"), cache).returncode == 0
    else:
        assert snapshot(root) == original


def test_check_does_not_recover_but_to_dry_run_does(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    original = snapshot(root)
    crash = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git"), cache,
                **{CRASH_ENV: "rename:4"})  # fmt: skip
    assert crash.returncode == -signal.SIGKILL
    mixed = snapshot(root)
    assert mixed != original
    # The runs after the crash go in-process: only the crash needs a process to kill.
    check = run_cli("check", "--repo", str(root), "--helm-repo", index_server.base_url)
    assert check.code in (0, 1) and "Traceback" not in check.stderr
    assert journal_dir(root).is_dir()  # check only reads
    assert {k: v for k, v in snapshot(root).items() if k in original} == {
        k: v for k, v in mixed.items() if k in original
    }
    dry = run_cli("to", "2.4.0", "--no-git", "--dry-run", "--repo", str(root), "--helm-repo",
                  index_server.base_url)  # fmt: skip
    assert dry.code == 0, dry.stderr
    assert dry.stdout.count("from an interrupted run") == 4
    assert snapshot(root) == original and leftovers(root) == []


def test_check_names_a_pending_journal(tmp_path: Path, index_server: HelmServer) -> None:
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    crash = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git"), cache,
                **{CRASH_ENV: "rename:4"})  # fmt: skip
    assert crash.returncode == -signal.SIGKILL
    check = run_cli("check", "--repo", str(root), "--helm-repo", index_server.base_url)
    assert "interrupted" in check.stdout + check.stderr
    assert "recovers it first (finishes that run if its commit was made, else restores its " \
        "files" in check.stderr  # fmt: skip


# --- signals during apply, and a rival run: the pause seam ---------------------------------


def start_paused(
    root: Path, server: HelmServer, cache: Path, release: Path, at: str
) -> subprocess.Popen[str]:
    env = child_env(FLUXBUMP_CACHE_DIR=str(cache), **{PAUSE_ENV: at, PAUSE_FILE_ENV: str(release)})
    return subprocess.Popen(
        fluxbump_cmd(root, server, "to", "2.4.0", "--no-git"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # An inherited SIG_IGN (a background shell) would make Python ignore SIGINT too.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_during_apply_restores_every_file(
    tmp_path: Path, index_server: HelmServer, sig: signal.Signals
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    original = snapshot(root)
    release = tmp_path / "release"
    proc = start_paused(root, index_server, tmp_path / "cache", release, "rename:4")
    try:
        wait_for(Path(f"{release}.paused"), proc)
        halfway = snapshot(root)
        assert sum(halfway[rel] != original[rel] for rel in original) == 4  # really mid-swap
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in err
    assert snapshot(root) == original
    assert leftovers(root) == []


def test_second_run_is_refused_while_the_first_holds_the_lock(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    release = tmp_path / "release"
    first = start_paused(root, index_server, cache, release, "rename:1")
    try:
        wait_for(Path(f"{release}.paused"), first)
        during = snapshot(root)
        second = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git"), cache)
        assert second.returncode == 2, second.stderr
        line = second.stderr.strip()
        assert "\n" not in line and line.startswith("error: another fluxbump run holds the lock")
        assert f"{lock_path(root)} (pid {first.pid})" in line
        assert snapshot(root) == during  # the refused run wrote nothing
        release.touch()
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert "gate: passed" in out
    assert leftovers(root) == []
    check = run(fluxbump_cmd(root, index_server, "check"), cache)
    assert check.returncode == 0, check.stdout


def test_pause_seam_needs_a_release_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PAUSE_ENV, "rename:1")
    with pytest.raises(ValueError, match=PAUSE_FILE_ENV):
        OsWriter()
    monkeypatch.setenv(PAUSE_FILE_ENV, "/nonexistent")
    monkeypatch.setenv(PAUSE_ENV, "renam:1")
    with pytest.raises(ValueError, match=PAUSE_ENV):
        OsWriter()


# --- filesystem faults through the Writer seam, at the CLI ---------------------------------


class FaultyWriter(OsWriter):
    """The real writer, failing the 3rd temp-file write with ``err`` (leaving half a file)."""

    err = errno.ENOSPC

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write_bytes(self, path: Path, data: bytes, mode: int, step: str) -> None:
        if step == "temp-write":
            self.writes += 1
            if self.writes == 3:
                path.write_bytes(data[: len(data) // 2])
                raise OSError(self.err, os.strerror(self.err))
        super().write_bytes(path, data, mode, step)


def bump_in_process(root: Path, server: HelmServer) -> Outcome:
    return run_cli("to", "2.4.0", "--repo", str(root), "--helm-repo", server.base_url)


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EACCES])
def test_write_fault_on_third_file_exits_2_and_restores_everything(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    original = snapshot(root)
    monkeypatch.setattr(FaultyWriter, "err", err)
    monkeypatch.setattr(transaction, "OsWriter", FaultyWriter)
    outcome = bump_in_process(root, index_server)
    assert outcome.code == 2, outcome.stdout
    message = outcome.stderr.strip()
    assert "\n" not in message
    assert message.startswith("error: ") and message.endswith("; every file was restored")
    assert f"cannot write: {os.strerror(err).lower()}" in message
    assert snapshot(root) == original
    assert leftovers(root) == []


def test_unwritable_pin_file_is_refused_before_any_write(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs as root too: os.access reports one pin file read-only (root ignores chmod)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    target = (root / "platform/flux/blueprint.yaml").resolve()
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        return Path(path) != target and real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    original = snapshot(root)
    outcome = bump_in_process(root, index_server)
    assert outcome.code == 2
    assert outcome.stderr.strip() == (
        "error: platform/flux/blueprint.yaml: not writable; nothing was written"
    )
    assert snapshot(root) == original and leftovers(root) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a 0444 file")
def test_read_only_pin_file_is_refused_before_any_write(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "platform/flux/blueprint.yaml").chmod(0o444)
    original = snapshot(root)
    outcome = bump_in_process(root, index_server)
    assert outcome.code == 2 and "blueprint.yaml: not writable" in outcome.stderr
    assert snapshot(root) == original
