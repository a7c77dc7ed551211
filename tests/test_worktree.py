"""Without --repo the repository is the git work tree's top, wherever in it a command runs."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cli_runner import run_process
from tests.support.fixtures import INCIDENT, git, make_fleet

SUBDIR = "clusters/muscat.omani.works/bootstrap-kit"


def test_status_from_a_subdirectory_equals_status_from_the_root(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    at_root = run_process("status", "--offline", "--json", cwd=repo)
    below = run_process("status", "--offline", "--json", cwd=repo / SUBDIR)
    assert at_root.code == 0, at_root.stderr
    assert (below.code, below.stdout) == (at_root.code, at_root.stdout)


def test_check_from_a_subdirectory_reports_the_same_violations(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    at_root = run_process("check", "--offline", cwd=repo)
    below = run_process("check", "--offline", cwd=repo / SUBDIR)
    assert at_root.code == 1  # the incident tree: real violations, the same from anywhere
    assert (below.code, below.stdout) == (at_root.code, at_root.stdout)


def test_to_from_a_subdirectory_bumps_the_whole_tree(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = run_process("to", "2.4.0", "--offline", cwd=repo / SUBDIR)
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.4.0"
    assert run_process("check", "--offline", cwd=repo).code == 0


def test_a_linked_work_tree_is_its_own_repository(tmp_path: Path) -> None:
    # `git worktree add` leaves a .git *file*: that directory is the top, not the main one.
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "other", str(linked))
    (linked / "platform/flux/chart/Chart.yaml").write_text(
        (linked / "platform/flux/chart/Chart.yaml").read_text().replace('"2.13.0"', '"2.14.1"')
    )
    below = run_process("status", "--offline", "--json", cwd=linked / SUBDIR)
    at_top = run_process("status", "--offline", "--json", "--repo", str(linked))
    assert below.stdout == at_top.stdout
    assert below.stdout != run_process("status", "--offline", "--json", cwd=repo).stdout


def test_repo_option_still_wins(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = run_process("check", "--offline", "--repo", SUBDIR, cwd=repo)
    assert outcome.code == 2  # that subdirectory holds no pin: it was taken as asked
    assert "nothing to check" in outcome.stderr
    assert run_process("check", "--offline", cwd=repo / SUBDIR).code == 1  # the whole repo


def test_outside_git_the_current_directory_is_the_repository(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "plain", INCIDENT)
    assert not any((parent / ".git").exists() for parent in (repo, *repo.parents)), os.getcwd()
    outcome = run_process("status", "--offline", "--json", cwd=repo)
    assert outcome.code == 0, outcome.stderr
