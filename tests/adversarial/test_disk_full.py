"""A real full disk (issue 18): the repository on a small tmpfs filled to the last block. A bump
and init end with one line and a documented exit code, every file as it was, no leftovers;
once space is freed the same command succeeds. Mounting needs root: skipped otherwise."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.crash_cli import SMALL, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a small tmpfs needs root"
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, spare_blocks: int = 0) -> Path:
    """Write until the filesystem says ENOSPC, then give back ``spare_blocks`` pages."""
    filler = disk / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - spare_blocks * 4096))
    return filler


# How much room is left decides where the bump runs out: the lock (0), git's index (1), the
# journal (2), a file (8), the restore after git's commit failed (16), or nowhere (64).
SPARE = (0, 1, 2, 8, 16, 64)


def test_a_bump_on_a_full_disk_ends_in_one_line_and_a_rerun_finishes_it(
    small_disk: Path, tmp_path: Path, index_server: HelmServer
) -> None:
    base = make_fleet(tmp_path / "base", INCIDENT, git=True, **SMALL)
    before = git_state(base)
    codes = []
    for spare in SPARE:
        root = small_disk / "repo"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(base, root, symlinks=True)
        filler = fill(small_disk, spare)
        proc = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
        filler.unlink()  # git itself needs a block to tell the state
        codes.append(proc.returncode)
        if proc.returncode == 2:
            [line] = proc.stderr.splitlines()
            assert "no space left on device" in line.lower() or "out of diskspace" in line.lower()
            if "re-run fluxbump to finish restoring" not in line:
                assert git_state(root) == before and leftovers(root) == [], (spare, line)
            rerun = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
            assert rerun.returncode == 0, (spare, rerun.stderr)
        else:
            assert proc.returncode == 0, (spare, proc.stderr)
        after = git_state(root)
        assert (after.branch, after.clean, leftovers(root)) == ("fluxbump/flux-v2.4.0", True, [])
        assert sorted(after.branches) == ["fluxbump/flux-v2.4.0", "main"], spare
        assert after.files != before.files
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
