"""`to` commits a tracked file it moved even where .gitignore ignores its directory (a tracked
archive/ that .gitignore lists, as in Ramblurr/home-ops): `git add` stages such a file yet exits
1 ("paths are ignored"), which refused the whole bump, restored, with no way to run it."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import git, init_git

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0
"""


def test_to_commits_a_tracked_pin_under_an_ignored_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "archive/bootstrap").mkdir(parents=True)
    (repo / "archive/bootstrap/kustomization.yaml").write_text(KUSTOMIZATION)
    (repo / "bootstrap").mkdir()
    (repo / "bootstrap/kustomization.yaml").write_text(KUSTOMIZATION)
    (repo / ".gitignore").write_text("archive\n")
    init_git(repo)
    git(repo, "add", "-f", "archive/bootstrap/kustomization.yaml")
    git(repo, "commit", "-qm", "archive")
    outcome = run_cli("to", "2.5.1", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome
    assert git(repo, "branch", "--show-current") == "fluxbump/flux-v2.5.1"
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(committed) == [
        "archive/bootstrap/kustomization.yaml",
        "bootstrap/kustomization.yaml",
    ]
    assert git(repo, "status", "--porcelain") == ""
    assert "ref=v2.5.1" in git(repo, "show", "HEAD:archive/bootstrap/kustomization.yaml")


def test_an_untracked_file_gitignore_lists_is_never_committed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "bootstrap").mkdir(parents=True)
    (repo / "bootstrap/kustomization.yaml").write_text(KUSTOMIZATION)
    (repo / ".gitignore").write_text("local\n")
    init_git(repo)
    (repo / "local").mkdir()
    (repo / "local/kustomization.yaml").write_text(KUSTOMIZATION)
    outcome = run_cli("to", "2.5.1", "--offline", "--repo", str(repo))
    assert outcome.code == 2, outcome  # the commit cannot hold it: refused before any write
    assert "local/kustomization.yaml (untracked, and .gitignore lists it" in outcome.stderr
    assert "nothing was written" in outcome.stderr
    assert git(repo, "branch", "--list") == "* main"
    assert (repo / "local/kustomization.yaml").read_text() == KUSTOMIZATION
    assert (repo / "bootstrap/kustomization.yaml").read_text() == KUSTOMIZATION
