"""A real full disk (issue 18): the repository on a small tmpfs filled to the last block. A bump
and init end with one line and a documented exit code, every file as it was, no leftovers;
once space is freed the same command succeeds. Mounting needs root: skipped otherwise."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.crash_cli import SMALL, ForkServer, fork_server, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a small tmpfs needs root"
)


def _mount(disk: Path) -> None:
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")


@pytest.fixture
def small_disks(tmp_path: Path) -> Iterator[Callable[[int], list[Path]]]:
    """``small_disks(n)``: n small tmpfs mounts, unmounted at the end."""
    mounted: list[Path] = []

    def make(count: int) -> list[Path]:
        for _ in range(count):
            disk = tmp_path / f"disk{len(mounted)}"
            _mount(disk)
            mounted.append(disk)
        return mounted[-count:]

    try:
        yield make
    finally:
        for disk in mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def small_disk(small_disks: Callable[[int], list[Path]]) -> Path:
    return small_disks(1)[0]


def fill(disk: Path, spare_blocks: int = 0) -> Path:
    """Write until the filesystem says ENOSPC, then give back ``spare_blocks`` pages."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for chunk in (b"\0" * (1 << 20), b"\0" * 4096):  # large writes, then the last pages
            try:
                while True:
                    handle.write(chunk)  # a short write when room runs out, then ENOSPC
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - spare_blocks * 4096))
    return filler


# How much room is left decides where the bump runs out: the lock (0), git's index (1), the
# journal (2), a file (8), the restore after git's commit failed (16), or nowhere (64).
SPARE = (0, 1, 2, 8, 16, 64)


def test_a_bump_on_a_full_disk_ends_in_one_line_and_a_rerun_finishes_it(
    small_disks: Callable[[int], list[Path]], tmp_path: Path, index_server: HelmServer
) -> None:
    """One disk per amount of room left, so the bumps (and the reruns) go as forked children
    of one warm interpreter (tests/support/crash_cli.py) instead of twelve fresh processes."""
    base = make_fleet(tmp_path / "base", INCIDENT, git=True, **SMALL)
    before = git_state(base)
    roots, fillers = {}, {}
    for spare, disk in zip(SPARE, small_disks(len(SPARE)), strict=True):
        roots[spare] = disk / "repo"
        shutil.copytree(base, roots[spare], symlinks=True)
        fillers[spare] = fill(disk, spare)
    logs = tmp_path / "logs"
    logs.mkdir()

    def bumps(server: ForkServer, which: list[int], run: str) -> dict[int, tuple[int, str]]:
        """``to 2.4.0`` on each disk in ``which``: spare -> (exit code, stderr)."""
        jobs = [{"id": str(spare), "args": ["to", "2.4.0", "--repo", str(roots[spare]),
                 "--helm-repo", index_server.base_url], "env": {},
                 "out": str(logs / f"{spare}-{run}.out"), "err": str(logs / f"{spare}-{run}.err")}
                for spare in which]  # fmt: skip
        codes = server.run(jobs)
        return {s: (codes[str(s)], (logs / f"{s}-{run}.err").read_text()) for s in which}

    warm = make_fleet(tmp_path / "warm", INCIDENT, git=True, **SMALL)
    warm_args = ["to", "2.4.0", "--repo", str(warm), "--helm-repo", index_server.base_url]
    with fork_server(tmp_path / "cache", warm_args) as server:
        first = bumps(server, list(SPARE), "first")
        for filler in fillers.values():
            filler.unlink()  # git itself needs a block to tell the state
        for spare, (code, err) in first.items():
            if code == 2:
                [line] = err.splitlines()
                assert (
                    "no space left on device" in line.lower() or "out of diskspace" in line.lower()
                )
                if "re-run fluxbump to finish restoring" not in line:
                    assert git_state(roots[spare]) == before, (spare, line)
                    assert leftovers(roots[spare]) == [], (spare, line)
            else:
                assert code == 0, (spare, err)
        again = bumps(server, [spare for spare, (code, _) in first.items() if code == 2], "again")
    for spare in SPARE:
        assert again.get(spare, first[spare])[0] == 0, (spare, again.get(spare))
        after = git_state(roots[spare])
        assert (after.branch, after.clean) == ("fluxbump/flux-v2.4.0", True), spare
        assert leftovers(roots[spare]) == [], spare
        assert sorted(after.branches) == ["fluxbump/flux-v2.4.0", "main"], spare
        assert after.files != before.files
    codes = [first[spare][0] for spare in SPARE]
    assert codes[0] == 2 and codes[-1] == 0, codes  # the range spans refusal and success


def test_init_on_a_full_disk_writes_nothing(small_disk: Path, tmp_path: Path) -> None:
    root = make_fleet(small_disk / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    filler = fill(small_disk)
    cmd = [sys.executable, "-m", "fluxbump", "init", "--repo", str(root)]
    proc = run(cmd, tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert "no space left on device" in line.lower(), line
    filler.unlink()
    assert git_state(root) == before and leftovers(root) == []
    assert run(cmd, tmp_path / "cache").returncode == 0
