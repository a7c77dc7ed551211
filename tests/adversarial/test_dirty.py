"""The user's own uncommitted edits never enter a bump's commit (issue 18): a file the bump
must edit that holds them is refused, with or without --allow-dirty, naming the file and what
to do; unrelated dirty files stay out of the commit (test_git_scale.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from tests.adversarial.harness import committed_files, git_out, git_state, leftovers
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import SMALL
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

THEIRS = "# my own note, not ready to commit\n"


def bump(root: Path, server: HelmServer, *flags: str) -> Outcome:
    """``fluxbump to 2.4.0`` in-process: nothing here is killed or hangs, and git runs as
    its own processes either way."""
    return run_cli("to", "2.4.0", *flags, "--repo", str(root), "--helm-repo", server.base_url)


@pytest.mark.parametrize("staged", [False, True], ids=["unstaged", "staged"])
@pytest.mark.parametrize("flags", [(), ("--allow-dirty",)], ids=["plain", "allow-dirty"])
def test_a_file_the_bump_edits_with_the_users_edits_is_refused(
    tmp_path: Path, index_server: HelmServer, staged: bool, flags: tuple[str, ...]
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    chart = root / fleet.WRAPPER_CHART
    chart.write_text(chart.read_text() + THEIRS)
    if staged:
        git_out(root, "add", fleet.WRAPPER_CHART)
    before = git_state(root)
    proc = bump(root, index_server, *flags)
    assert proc.code == 2, proc.stderr
    assert proc.stderr == (
        f"error: uncommitted changes in {fleet.WRAPPER_CHART}, which this bump edits and "
        "commits; commit or stash them and re-run (or pass --no-git to only write the files); "
        "nothing was written\n"
    )
    assert git_state(root) == before and leftovers(root) == []

    git_out(root, "stash")  # what the message says to do: then the bump commits only its own
    done = bump(root, index_server)
    assert done.code == 0, done.stderr
    assert fleet.WRAPPER_CHART in committed_files(root)
    assert THEIRS not in git_out(root, "show", f"HEAD:{fleet.WRAPPER_CHART}")
    assert git_state(root).clean and leftovers(root) == []


def test_no_git_writes_the_files_and_keeps_the_users_edits(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    chart = root / fleet.WRAPPER_CHART
    chart.write_text(chart.read_text() + THEIRS)
    head = git_out(root, "rev-parse", "HEAD")
    proc = bump(root, index_server, "--no-git")
    assert proc.code == 0, proc.stderr
    assert chart.read_text().endswith(THEIRS) and "version: 1.1.2" in chart.read_text()
    assert git_out(root, "rev-parse", "HEAD") == head and leftovers(root) == []


@pytest.mark.parametrize("bit", ["--assume-unchanged", "--skip-worktree"])
def test_edits_git_status_hides_by_an_index_bit_are_refused(
    tmp_path: Path, index_server: HelmServer, bit: str
) -> None:
    """``git update-index --assume-unchanged`` (local tweaks kept out of ``git status``) or
    ``--skip-worktree`` on a file the bump edits: git status lists no change, yet the commit
    took the user's edits as the bump's (exit 0)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    git_out(root, "update-index", bit, fleet.WRAPPER_CHART)
    chart = root / fleet.WRAPPER_CHART
    chart.write_text(chart.read_text() + THEIRS)
    before = git_state(root)
    assert before.clean  # what makes it easy to miss
    proc = bump(root, index_server)
    assert proc.code == 2, proc.stderr
    assert proc.stderr == (
        f"error: uncommitted changes in {fleet.WRAPPER_CHART} (hidden from git status by its "
        f"{bit[2:]} bit; git update-index --no-{bit[2:]} shows them), which this bump edits and "
        "commits; commit or stash them and re-run (or pass --no-git to only write the files); "
        "nothing was written\n"
    )
    assert git_state(root) == before and leftovers(root) == []


def test_a_staged_change_to_another_file_stays_staged_and_out_of_the_commit(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The commit is made from an index of HEAD's tree (the user's stat data kept, their
    staged changes not), and the user's index changes only at the bump's files."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "README.md").write_text((root / "README.md").read_text() + THEIRS)
    git_out(root, "add", "README.md")
    proc = bump(root, index_server)
    assert proc.code == 0, proc.stderr
    assert "README.md" not in committed_files(root)
    assert fleet.WRAPPER_CHART in committed_files(root)
    assert git_out(root, "status", "--porcelain") == "M  README.md"
    assert THEIRS.strip() in git_out(root, "show", ":README.md")


def test_an_index_bit_on_a_file_without_edits_is_no_obstacle(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    git_out(root, "update-index", "--assume-unchanged", fleet.WRAPPER_CHART)
    proc = bump(root, index_server)
    assert proc.code == 0, proc.stderr
    assert fleet.WRAPPER_CHART in committed_files(root)
    assert "version: 1.1.2" in git_out(root, "show", f"HEAD:{fleet.WRAPPER_CHART}")


def test_the_users_changes_elsewhere_of_every_kind_are_no_obstacle(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """git is asked about the whole index (a pathspec of every file a fleet's bump writes cost
    seconds) and its answer filtered: changes to other files, of every kind, stay the user's
    and out of the commit. A staged rename names its old path after the new one, which read
    as a status entry was the bump's own file (``ab/`` cut with the status letters)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    edited = "clusters/a.example/bootstrap-kit/03-flux.yaml"
    (root / "ab" / edited).parent.mkdir(parents=True)
    (root / "ab" / edited).write_text("# an old note\n" * 20)
    (root / "notes.md").write_text("notes\n")
    git_out(root, "add", "-A")
    git_out(root, "commit", "-qm", "notes")
    git_out(root, "mv", f"ab/{edited}", "moved.md")  # a staged rename
    (root / "notes.md").write_text(THEIRS)  # unstaged
    (root / "untracked.md").write_text(THEIRS)
    (root / ".gitignore").write_text("*.log\n")
    (root / "build.log").write_text("ignored\n")
    before = git_out(root, "status", "--porcelain", "--untracked-files=all")
    proc = bump(root, index_server)
    assert proc.code == 0, proc.stderr
    assert edited in committed_files(root) and "moved.md" not in committed_files(root)
    assert git_out(root, "status", "--porcelain", "--untracked-files=all") == before
