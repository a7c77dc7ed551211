"""Without --repo the repository is the git work tree's top, wherever in it a command runs.

In-process runs with the working directory set (``run_cli_at``); one real process from a
subdirectory shows the console entry point starts from its own working directory too."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cli_runner import run_cli, run_cli_at, run_process
from tests.support.fixtures import INCIDENT, git, make_fleet

SUBDIR = "clusters/muscat.omani.works/bootstrap-kit"


def test_status_from_a_subdirectory_equals_status_from_the_root(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    at_root = run_cli_at(repo, "status", "--offline", "--json")
    below = run_process("status", "--offline", "--json", cwd=repo / SUBDIR)  # a real process
    assert at_root.code == 0, at_root.stderr
    assert (below.code, below.stdout) == (at_root.code, at_root.stdout)


def test_check_from_a_subdirectory_reports_the_same_violations(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    at_root = run_cli_at(repo, "check", "--offline")
    below = run_cli_at(repo / SUBDIR, "check", "--offline")
    assert at_root.code == 1  # the incident tree: real violations, the same from anywhere
    assert (below.code, below.stdout) == (at_root.code, at_root.stdout)


def test_to_from_a_subdirectory_bumps_the_whole_tree(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = run_cli_at(repo / SUBDIR, "to", "2.4.0", "--offline")
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.4.0"
    assert run_cli_at(repo, "check", "--offline").code == 0


def test_a_linked_work_tree_is_its_own_repository(tmp_path: Path) -> None:
    # `git worktree add` leaves a .git *file*: that directory is the top, not the main one.
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "other", str(linked))
    (linked / "platform/flux/chart/Chart.yaml").write_text(
        (linked / "platform/flux/chart/Chart.yaml").read_text().replace('"2.13.0"', '"2.14.1"')
    )
    below = run_cli_at(linked / SUBDIR, "status", "--offline", "--json")
    at_top = run_cli("status", "--offline", "--json", "--repo", str(linked))
    assert below.stdout == at_top.stdout
    assert below.stdout != run_cli_at(repo, "status", "--offline", "--json").stdout


def test_repo_option_still_wins(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = run_cli_at(repo, "check", "--offline", "--repo", SUBDIR)
    assert outcome.code == 2  # that subdirectory holds no pin: it was taken as asked
    assert "nothing to check" in outcome.stderr
    assert run_cli_at(repo / SUBDIR, "check", "--offline").code == 1  # the whole repo


def test_outside_git_the_current_directory_is_the_repository(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "plain", INCIDENT)
    assert not any((parent / ".git").exists() for parent in (repo, *repo.parents)), os.getcwd()
    outcome = run_cli_at(repo, "status", "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
