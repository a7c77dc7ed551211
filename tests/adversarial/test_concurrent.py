"""An editor racing fluxbump: its edit is kept, only fluxbump's own changes are undone."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest

from fluxbump.write.transaction import PAUSE_ENV, PAUSE_FILE_ENV
from tests.adversarial.harness import bump_process, git_state, leftovers
from tests.support.crash_cli import SMALL, fluxbump_cmd, run, wait_for
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def planned(root: Path, server: HelmServer, tmp: Path) -> list[str]:
    proc = run(fluxbump_cmd(root, server, "to", "2.4.0", "--dry-run", "--json"), tmp / "cache")
    files: list[str] = json.loads(proc.stdout)["files"]
    return sorted(files)


@pytest.mark.parametrize("moment", ["before its rename", "before the rollback"])
def test_an_edit_made_while_fluxbump_writes_is_kept_and_named(
    tmp_path: Path, index_server: HelmServer, moment: str
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    files = planned(root, index_server, tmp_path)
    victim = files[-1]  # renamed last
    at = "rename:2" if moment == "before its rename" else "git:1"
    seam = {PAUSE_ENV: at, PAUSE_FILE_ENV: str(tmp_path / "release")}
    with bump_process(root, index_server, tmp_path / "cache", **seam) as proc:
        wait_for(tmp_path / "release.paused", proc)
        theirs = (root / victim).read_bytes() + b"# their edit\n"
        (root / victim).write_bytes(theirs)
        if moment == "before its rename":
            (tmp_path / "release").touch()
        else:
            proc.send_signal(signal.SIGTERM)  # roll back, with their edit on a written file
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    line = err.strip()
    assert "\n" not in line and line.startswith(f"error: {victim}: changed by another process")
    assert "kept that version" in line
    after = snapshot(root)
    assert after[victim] == theirs
    assert {k: v for k, v in after.items() if k != victim} == {
        k: v for k, v in before.files.items() if k != victim
    }
    state = git_state(root)
    assert (state.head, state.branch, state.branches) == (before.head, "main", ("main",))
    assert state.status == f" M {victim}" and leftovers(root) == []


def _replace(path: Path, kind: str, outside: Path) -> None:
    outside.write_bytes(path.read_bytes())  # a link to the same bytes: only its kind changed
    path.unlink()
    {"directory": path.mkdir, "fifo": lambda: os.mkfifo(path),
     "symlink": lambda: path.symlink_to(outside)}[kind]()  # fmt: skip


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_a_file_another_process_turns_into_something_else_is_kept_and_named(
    tmp_path: Path, index_server: HelmServer, kind: str
) -> None:
    """Between the plan and the first rename, another process puts a directory, a FIFO or
    a symlink where a file fluxbump edits was. It is theirs: kept and named, every other file
    restored, no journal left. A directory made the rollback's read raise (exit 70, eight files
    left edited, the journal left); a FIFO's open blocked the run forever; a symlink to the
    same bytes passed for the file and was replaced by it."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    victim = planned(root, index_server, tmp_path)[-1]
    seam = {PAUSE_ENV: "journal:1", PAUSE_FILE_ENV: str(tmp_path / "release")}
    with bump_process(root, index_server, tmp_path / "cache", **seam) as proc:
        wait_for(tmp_path / "release.paused", proc)
        _replace(root / victim, kind, tmp_path / "outside.yaml")
        (tmp_path / "release").touch()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    line = err.strip()
    assert "\n" not in line and line.startswith(f"error: {victim}: changed by another process")
    mode = os.lstat(root / victim).st_mode
    assert {"directory": stat.S_ISDIR, "fifo": stat.S_ISFIFO, "symlink": stat.S_ISLNK}[kind](mode)
    others = {k: v for k, v in before.files.items() if k != victim}
    assert {k: v for k, v in snapshot(root).items() if k != victim} == others
    state = git_state(root)
    assert (state.head, state.branch, state.branches) == (before.head, "main", ("main",))
    assert leftovers(root) == []
