"""Recovery against a racing or hostile local environment: a journal directory swapped for a
symlink before it is removed, and a git record (git.json) naming a branch that run never
created."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from fluxbump.write import recovery
from fluxbump.write.places import places
from fluxbump.write.transaction import CRASH_ENV, GIT_STATE
from tests.adversarial.harness import git_out, git_state
from tests.support.crash_cli import SMALL, fluxbump_cmd, run, run_here
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer


def killed_bump(root: Path, server: HelmServer, cache: Path, point: str = "rename:1") -> None:
    """``to 2.4.0`` with git, SIGKILLed at ``point``: a real interrupted journal."""
    proc = run(fluxbump_cmd(root, server, "to", "2.4.0"), cache, **{CRASH_ENV: point})
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _rewrite_record(root: Path, **fields: object) -> Path:
    path = places(root).journal / GIT_STATE
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))
    return path


@pytest.mark.parametrize("named", ["main", "main-moved", "release"])
def test_a_git_record_naming_a_branch_the_run_did_not_create_leaves_it(
    tmp_path: Path, index_server: HelmServer, named: str
) -> None:
    """A git.json naming ``main`` (the start branch: recovery deleted it, HEAD left on an
    unborn branch), ``main`` moved past the recorded start with its tip recorded as the run's
    commit (deleted, commit and reflog with it), or a branch the user made at the start
    (deleted) is refused: every branch, HEAD and file stays as it was, the journal is kept."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    start = git_out(root, "rev-parse", "HEAD")
    killed_bump(root, index_server, cache)
    fields: dict[str, object] = {"branch": "main"}
    if named == "main-moved":
        (root / "NOTES.md").write_text("the user's own work\n")
        git_out(root, "add", "NOTES.md")
        git_out(root, "commit", "-qm", "the user's own work")
        tip = git_out(root, "rev-parse", "HEAD")
        tree = git_out(root, "rev-parse", f"{start}^{{tree}}")  # "a hook staged again"
        fields = {"branch": "main", "commit": tip, "staged": tree, "steps": ["branch", "commit"]}
    if named == "release":
        git_out(root, "branch", "release")
        fields = {"branch": "release"}
    record = _rewrite_record(root, **fields)
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    branch = str(fields["branch"])
    reason = (
        "it is the branch that run started from"
        if branch == "main"
        else "its reflog does not begin with fluxbump creating it from main at "
        f"{start[:12]} (it began: branch: Created from main)"
    )
    assert proc.stderr == (
        f"error: {record} names {branch} as the branch of an interrupted fluxbump run, but "
        f"{reason}: the branch, HEAD and every file are left as they are; if that record is "
        f"not this clone's, remove it and re-run to restore the files (or remove "
        f"{record.parent} to keep them)\n"
    )
    assert git_state(root) == before
    assert record.is_file()


def test_a_journal_swapped_for_a_symlink_before_its_removal_removes_nothing_through_it(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed before its manifest (journal:2), the run leaves a journal recovery only removes.
    Swapped for a symlink to another directory after recovery checked it, the removal by
    path unlinked that directory's files; the descriptor it now removes through refuses."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed_bump(root, index_server, cache, "journal:2")
    journal = places(root).journal
    kept = sorted(os.listdir(journal))
    victim, aside = tmp_path / "victim", tmp_path / "aside"
    victim.mkdir()
    (victim / "canary.txt").write_text("someone else's file\n")
    checked = recovery._refuse_odd_entries

    def checked_then_swapped(path: Path) -> None:
        checked(path)
        journal.rename(aside)
        journal.symlink_to(victim)

    monkeypatch.setattr(recovery, "_refuse_odd_entries", checked_then_swapped)
    tree = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert (victim / "canary.txt").read_text() == "someone else's file\n"
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr == (
        f"error: {journal} was replaced by a symlink or a file (by another process) while "
        "fluxbump was removing it; nothing was removed through it: inspect it, then remove "
        "it by hand\n"
    )
    assert os.readlink(journal) == str(victim) and sorted(os.listdir(aside)) == kept
    assert git_state(root) == tree
