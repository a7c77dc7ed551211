"""``fluxbump sync`` (Renovate's post-upgrade command) SIGKILLed at every kill point, then run
again as Renovate retries it: the tree ends synced (as one uninterrupted run leaves it), with
nothing of fluxbump's left, and ``check`` passes. ``sync`` never touches git."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from fluxbump.write.transaction import (
    CRASH_ENV,
    PAUSE_ENV,
    PAUSE_FILE_ENV,
    journal_dir,
    kill_points,
    lock_path,
)
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL, child_env, fluxbump_cmd, fork_server, wait_for
from tests.support.fixtures import INCIDENT, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

SYNC = ("sync", "--from", "cloud-init")


def test_sync_killed_at_every_kill_point_then_run_again_ends_synced(
    tmp_path: Path, index_server: HelmServer
) -> None:
    control = make_fleet(tmp_path / "control", INCIDENT, git=True, **SMALL)
    original = snapshot(control)
    done = run_cli(*SYNC, "--repo", str(control), "--helm-repo", index_server.base_url)
    assert done.code == 0, done.stderr
    synced = snapshot(control)
    points = kill_points(sum(original[rel] != synced[rel] for rel in synced))
    roots = {p: make_fleet(tmp_path / p.replace(":", "-"), INCIDENT, git=True, **SMALL)
             for p in points}  # fmt: skip
    logs = tmp_path / "logs"
    logs.mkdir()

    def job(point: str, step: str, **env: str) -> dict[str, object]:
        name = f"{point.replace(':', '-')}-{step}"
        return {"id": point, "env": env, "out": str(logs / f"{name}.out"),
                "err": str(logs / f"{name}.err"),
                "args": [*SYNC, "--repo", str(roots[point]), "--helm-repo",
                         index_server.base_url]}  # fmt: skip

    warm = [*SYNC, "--repo", str(make_fleet(tmp_path / "warm", INCIDENT, **SMALL)),
            "--helm-repo", index_server.base_url]  # fmt: skip
    with fork_server(tmp_path, warm) as server:
        crashed = server.run([job(p, "killed", **{CRASH_ENV: p}) for p in points])
        assert all(code == -signal.SIGKILL for code in crashed.values()), crashed
        again = server.run([job(p, "again") for p in points])
    for point, root in roots.items():
        err = (logs / f"{point.replace(':', '-')}-again.err").read_text()
        assert again[point] == 0, (point, err)
        assert snapshot(root) == synced, point
        assert not journal_dir(root).exists() and not lock_path(root).exists(), point
        assert git(root, "rev-parse", "HEAD") == git(root, "rev-parse", "main"), point
        check = run_cli("check", "--repo", str(root), "--helm-repo", index_server.base_url)
        assert check.code == 0, (point, check.stdout)


def test_a_file_renovate_edits_while_sync_writes_keeps_renovates_version(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Another editor (Renovate's own file update, a second post-upgrade command) changes a
    file sync is about to replace: its version is kept and named, every other file is put
    back, exit 2; the next sync, with that edit in place, finishes the sync."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = snapshot(root)
    dry = run_cli(*SYNC, "--dry-run", "--json", "--repo", str(root),
                  "--helm-repo", index_server.base_url)  # fmt: skip
    victim = sorted(json.loads(dry.stdout)["files"])[-1]
    seam = {PAUSE_ENV: "rename:2", PAUSE_FILE_ENV: str(tmp_path / "release")}
    proc = subprocess.Popen(
        fluxbump_cmd(root, index_server, *SYNC), text=True,
        env=child_env(FLUXBUMP_CACHE_DIR=str(tmp_path / "cache"), **seam),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(tmp_path / "release.paused", proc)
        theirs = (root / victim).read_bytes() + b"# renovate's edit\n"
        (root / victim).write_bytes(theirs)
        (tmp_path / "release").touch()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2, err
    assert err.startswith(f"error: {victim}: changed by another process") and "kept" in err
    after = snapshot(root)
    assert after[victim] == theirs
    assert {k: v for k, v in after.items() if k != victim} == {
        k: v for k, v in before.items() if k != victim
    }
    assert not journal_dir(root).exists() and not lock_path(root).exists()
    again = run_cli(*SYNC, "--repo", str(root), "--helm-repo", index_server.base_url)
    assert again.code == 0, again.stderr
    assert (root / victim).read_bytes().endswith(b"# renovate's edit\n")
