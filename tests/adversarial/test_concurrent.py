"""An editor racing fluxbump: its edit is kept, only fluxbump's own changes are undone."""

from __future__ import annotations

import json
import os
import signal
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fluxbump.write.transaction import PAUSE_ENV, PAUSE_FILE_ENV
from tests.adversarial.harness import bump_process, git_state, leftovers
from tests.adversarial.test_git_crash import BRANCH
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run_here, wait_for
from tests.support.fixtures import INCIDENT, git, make_fleet, snapshot
from tests.support.helm_server import Fault, HelmServer, serve
from tests.test_hostile_network import new_release_routes


def planned(root: Path, server: HelmServer, tmp: Path) -> list[str]:
    proc = run_here(fluxbump_cmd(root, server, "to", "2.4.0", "--dry-run", "--json"), tmp / "cache")
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


def _raced(
    root: Path, server: HelmServer, tmp: Path, at: str, act: Callable[[], None]
) -> tuple[int, str]:
    """``to 2.4.0`` paused at the kill point ``at`` while ``act`` runs: exit code, stderr."""
    seam = {PAUSE_ENV: at, PAUSE_FILE_ENV: str(tmp / "release")}
    with bump_process(root, server, tmp / "cache", **seam) as proc:
        wait_for(tmp / "release.paused", proc)
        act()
        (tmp / "release").touch()
        _, err = proc.communicate(timeout=30)
    return proc.returncode, err


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
    code, err = _raced(root, index_server, tmp_path, "journal:1",
                       lambda: _replace(root / victim, kind, tmp_path / "outside.yaml"))  # fmt: skip
    assert code == 2, err
    line = err.strip()
    assert "\n" not in line and line.startswith(f"error: {victim}: changed by another process")
    mode = os.lstat(root / victim).st_mode
    assert {"directory": stat.S_ISDIR, "fifo": stat.S_ISFIFO, "symlink": stat.S_ISLNK}[kind](mode)
    others = {k: v for k, v in before.files.items() if k != victim}
    assert {k: v for k, v in snapshot(root).items() if k != victim} == others
    state = git_state(root)
    assert (state.head, state.branch, state.branches) == (before.head, "main", ("main",))
    assert leftovers(root) == []


def _check_out_another(root: Path, _victim: str) -> None:
    git(root, "checkout", "-q", "-b", "theirs")


def _commit_theirs(root: Path, _victim: str) -> None:
    (root / "THEIRS.txt").write_text("theirs\n")
    git(root, "add", "THEIRS.txt")
    git(root, "commit", "-qm", "their commit")  # on HEAD: the branch fluxbump just made


def _delete(root: Path, victim: str) -> None:
    (root / victim).unlink()


def _link(root: Path, victim: str) -> None:
    _replace(root / victim, "symlink", root.parent / "outside.yaml")


@pytest.mark.parametrize(
    ("at", "act", "says", "branch"),
    [
        ("git:1", _delete, "{victim}: deleted by another process after fluxbump wrote it; "
         "left so; every other file was restored", "main"),
        ("git:1", _link, "{victim}: changed by another process after fluxbump wrote it", "main"),
        ("git:1", _check_out_another, "HEAD moved to branch theirs at {head12} while fluxbump "
         "was writing", "theirs"),
        ("git:1", _commit_theirs, "a commit (", "main"),
        ("journal:1", _check_out_another, "HEAD moved to branch theirs at {head12}", "theirs"),
        ("journal:1", _commit_theirs, "HEAD moved to branch main at", "main"),
    ],
    ids=["deleted", "symlink", "checkout", "commit", "checkout-early", "commit-early"],
)  # fmt: skip
def test_another_process_acting_before_the_commit_is_never_committed_as_the_bump(
    tmp_path: Path, index_server: HelmServer, at: str, act: Any, says: str, branch: str
) -> None:
    """Every file is written (and, at git:1, the branch made); before the commit, another
    process deletes a written file or puts a link there, checks out another branch, or
    commits on HEAD. The bump's commit deleted that file or committed the link, landed on
    their branch (leaving fluxbump's empty), or sat on their commit; made before the branch
    step, their checkout or commit was left under fluxbump's branch; each was exit 0."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    victim = planned(root, index_server, tmp_path)[-1]
    code, err = _raced(root, index_server, tmp_path, at, lambda: act(root, victim))
    assert code == 2, err
    line = err.strip()
    expected = says.format(victim=victim, head12=before.head[:12])
    assert "\n" not in line and line.startswith(f"error: {expected}"), line
    state = git_state(root)
    assert (state.branch, leftovers(root)) == (branch, [])
    subjects = git(root, "log", "--all", "--format=%s").splitlines()
    assert not any(s.startswith("Bump Flux") for s in subjects)  # no bump commit anywhere
    # Their commit is kept where they made it (on the branch fluxbump had made, at git:1);
    # no other branch of fluxbump's is left.
    made = [b for b in state.branches if b.startswith("fluxbump/")]
    theirs = [git(root, "log", "-1", "--format=%s", b) for b in made]
    assert theirs == (["their commit"] if (at, act) == ("git:1", _commit_theirs) else [])
    others = {k: v for k, v in before.files.items() if k != victim}
    assert {k: v for k, v in snapshot(root).items() if k not in (victim, "THEIRS.txt")} == others


def test_a_bump_branch_another_work_trees_run_made_meanwhile_is_kept_for_it(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Two bumps at once in two work trees of one repository (each has its own lock): the
    one here passed the branch check, then, while it wrote, the other made the same branch
    and checked it out. This run's branch step failed, and its rollback deleted that branch
    (it pointed where this run began): the other run, its HEAD on a branch gone, was refused
    too, and the message was git's "reference already exists", saying nothing restored."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    other = tmp_path / "other"
    git(root, "worktree", "add", "-q", "-b", "theirs", str(other))
    before, theirs_before = git_state(root), git_state(other)
    pause = {PAUSE_ENV: "rename:1", PAUSE_FILE_ENV: str(tmp_path / "mine")}
    with bump_process(root, index_server, tmp_path / "cache", **pause) as mine:
        wait_for(tmp_path / "mine.paused", mine)
        theirs_pause = {PAUSE_ENV: "git:1", PAUSE_FILE_ENV: str(tmp_path / "theirs")}
        with bump_process(other, index_server, tmp_path / "cache2", **theirs_pause) as theirs:
            wait_for(tmp_path / "theirs.paused", theirs)  # its branch made and checked out
            (tmp_path / "mine").touch()
            _, err = mine.communicate(timeout=60)
            (tmp_path / "theirs").touch()
            _, their_err = theirs.communicate(timeout=60)
    assert mine.returncode == 2, err
    assert err == (
        f"error: branch {BRANCH} was created by another process while fluxbump was writing; it "
        "is kept; nothing was committed, every file is restored: delete it, or pass --branch "
        "NAME, and re-run\n"
    )
    # Here: as before, only with their branch (branches are the repository's, not a tree's).
    assert git_state(root) == replace(before, branches=(BRANCH, *before.branches))
    assert leftovers(root) == []
    assert theirs.returncode == 0, their_err
    finished = git_state(other)
    assert (finished.branch, finished.clean) == (BRANCH, True) and leftovers(other) == []
    assert git(other, "rev-parse", f"{BRANCH}^") == theirs_before.head


def test_a_file_deleted_before_fluxbump_wrote_it_is_named_so(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Two files renamed, another process deletes the last one fluxbump would write: the
    rollback said it was "changed by another process after fluxbump wrote it; kept that
    version (fluxbump's edit in it is not undone)" of a file fluxbump never wrote."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    victim = planned(root, index_server, tmp_path)[-1]  # renamed last
    code, err = _raced(root, index_server, tmp_path, "rename:2", lambda: _delete(root, victim))
    assert code == 2, err
    assert err == (
        f"error: {victim}: deleted by another process before fluxbump wrote it; left so, every "
        "file fluxbump had written was restored; re-run\n"
    )
    others = {k: v for k, v in before.files.items() if k != victim}
    assert snapshot(root) == others
    state = git_state(root)
    assert (state.head, state.branch, state.branches) == (before.head, "main", ("main",))
    assert leftovers(root) == []


@pytest.mark.parametrize(
    ("git_args", "says"),
    [
        ((), "error: uncommitted changes in {rel}, which this bump edits"),
        (("--no-git",), "error: {rel}: changed on disk since it was read; nothing was written"),
    ],
    ids=["git", "no-git"],
)
def test_an_edit_made_between_the_scan_and_the_write_refuses_the_bump(
    tmp_path: Path, git_args: tuple[str, ...], says: str
) -> None:
    """Another process edits a pin file while ``to`` waits for the target chart its guard
    reads before writing (a release the bundled CRD catalog does not know): the bump is
    refused with one line naming the file, nothing written, their edit kept, git as it was."""
    routes, archive = new_release_routes("2.99.0")
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(root)
    rel = "clusters/a.example/bootstrap-kit/03-flux.yaml"
    theirs = (root / rel).read_bytes() + b"# their edit\n"
    edit = Fault(status=200, body=routes[archive], path=archive,
                 before=lambda: (root / rel).write_bytes(theirs))  # fmt: skip
    with serve(HelmServer(routes=routes, faults=[edit])) as srv:
        outcome = run_cli("to", "2.99.0", *git_args, "--repo", str(root),
                          "--helm-repo", srv.base_url)  # fmt: skip
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.count("\n") == 1, outcome.stderr
    assert outcome.stderr.startswith(says.format(rel=rel)), outcome.stderr
    assert snapshot(root) == {**before.files, rel: theirs}
    state = git_state(root)
    assert (state.head, state.branches) == (before.head, before.branches)
    assert leftovers(root) == []
