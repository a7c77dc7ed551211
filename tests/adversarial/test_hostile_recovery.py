"""Recovery against a hostile local environment: a git record (git.json) naming a branch
that run never created."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

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
