"""``fluxbump sync`` (Renovate's post-upgrade command) SIGKILLed at every kill point, then run
again as Renovate retries it: the tree ends synced (as one uninterrupted run leaves it), with
nothing of fluxbump's left, and ``check`` passes. ``sync`` never touches git."""

from __future__ import annotations

import signal
from pathlib import Path

from fluxbump.write.transaction import CRASH_ENV, journal_dir, kill_points, lock_path
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL, run_forked
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
    crashed = run_forked([job(p, "killed", **{CRASH_ENV: p}) for p in points], tmp_path, warm)
    assert all(code == -signal.SIGKILL for code in crashed.values()), crashed
    again = run_forked([job(p, "again") for p in points], tmp_path, warm)
    for point, root in roots.items():
        err = (logs / f"{point.replace(':', '-')}-again.err").read_text()
        assert again[point] == 0, (point, err)
        assert snapshot(root) == synced, point
        assert not journal_dir(root).exists() and not lock_path(root).exists(), point
        assert git(root, "rev-parse", "HEAD") == git(root, "rev-parse", "main"), point
        check = run_cli("check", "--repo", str(root), "--helm-repo", index_server.base_url)
        assert check.code == 0, (point, check.stdout)
