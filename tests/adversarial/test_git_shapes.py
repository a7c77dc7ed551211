"""Repositories git itself shapes unusually, as CI checks them out, and systems without git: a
bump reads their history and commits in them like in a full clone, or says what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fluxbump import fleet
from tests.adversarial.harness import committed_files, git_out, git_state, leftovers
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer


def test_a_shallow_clone_is_bumped(tmp_path: Path, index_server: HelmServer) -> None:
    """``actions/checkout`` clones one commit deep: its commit names a parent git does not
    have. The CRD guard's history asked git for that parent and the bump ended in exit 70."""
    origin = make_fleet(tmp_path / "origin", INCIDENT, git=True, **SMALL)
    (origin / "README.md").write_text("a later commit\n")
    git_out(origin, "commit", "-qam", "later")
    root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", origin.as_uri(), str(root)], check=True)
    git_out(root, "config", "user.email", "ci@fluxbump.invalid")
    git_out(root, "config", "user.name", "ci")
    assert git_out(root, "rev-parse", "--is-shallow-repository") == "true"
    proc = run_cli("to", "2.4.0", "--repo", str(root), "--helm-repo", index_server.base_url)
    assert proc.code == 0, proc.stderr
    assert fleet.WRAPPER_CHART in committed_files(root)
    assert git_state(root).clean and leftovers(root) == []


def test_without_git_installed_to_refuses_and_no_git_and_check_still_work(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A slim container image (python:3.12-slim) has no git: every command, even ``to
    --no-git`` and ``check``, ended in exit 70 (GitPython's import needs a git executable)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    no_git = {"PATH": str(tmp_path / "empty-bin")}  # the interpreter is started by its path
    before = git_state(root)
    refused = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache", **no_git)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr == (
        f"error: {root} is a git work tree, but git is not installed (no git on PATH): "
        "fluxbump commits with it; install git, or pass --no-git to only write the files; "
        "nothing was written\n"
    )
    assert git_state(root) == before and leftovers(root) == []

    cmd = fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git")
    written = run(cmd, tmp_path / "cache", **no_git)
    assert written.returncode == 0, written.stderr
    assert "version: 1.1.2" in (root / fleet.WRAPPER_CHART).read_text()
    assert git_out(root, "rev-parse", "HEAD") == before.head and leftovers(root) == []


def test_without_git_installed_check_reads_the_files_and_says_what_it_cannot(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    no_git = {"PATH": str(tmp_path / "empty-bin")}
    proc = run(fluxbump_cmd(root, index_server, "check"), tmp_path / "cache", **no_git)
    assert proc.returncode == 1, proc.stderr  # the incident's violations, as with git
    assert "check: 2 violation(s) in 14 pin-sites" in proc.stdout
    assert proc.stderr == (
        f"warning: {root} is a git work tree, but git is not installed (no git on PATH): its "
        "pin history is not read, so every served CRD version counts as stored; install git\n"
    )


def test_a_git_dir_of_another_repository_in_the_environment_is_refused(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """GIT_DIR exported (by hand, or by a hook of another repository running fluxbump) is what
    every git command follows: the bump wrote its files here and put its branch and commit in
    the other repository, checked out there."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    other = make_fleet(tmp_path / "other", INCIDENT, git=True, **SMALL)
    before, others = git_state(root), git_state(other)
    cmd = fluxbump_cmd(root, index_server, "to", "2.4.0")
    proc = run(cmd, tmp_path / "cache", GIT_DIR=str(other / ".git"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"error: GIT_DIR={other / '.git'} is not the git directory of {root}, so git would "
        "commit there; unset GIT_DIR (a git hook exports it) and re-run; nothing was written\n"
    )
    assert git_state(root) == before and git_state(other) == others
    assert leftovers(root) == [] and leftovers(other) == []


def test_a_sparse_checkout_leaving_pin_files_out_is_refused(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Files a sparse checkout leaves out are neither read nor moved: the bump committed the
    other cluster's HelmRelease at the old wrapper version (gate passed, exit 0)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example", "b.example"))
    git_out(root, "status")  # a copied fleet's stat data: else git keeps the files "modified"
    git_out(root, "sparse-checkout", "set", "--no-cone", "/*", "!/clusters/b.example/")
    assert not (root / "clusters" / "b.example").exists()
    before = git_state(root)
    proc = run_cli("to", "2.4.0", "--repo", str(root), "--helm-repo", index_server.base_url)
    assert proc.code == 2, proc.stderr
    left_out = "clusters/b.example/bootstrap-kit/03-flux.yaml"
    assert proc.stderr == (
        f"error: {root} is a sparse checkout: 2 tracked files are not checked out (first "
        f"{left_out}), so their pins can be neither read nor moved and the commit would leave "
        "them behind; run git sparse-checkout disable, then re-run; nothing was written\n"
    )
    assert git_state(root) == before and leftovers(root) == []
