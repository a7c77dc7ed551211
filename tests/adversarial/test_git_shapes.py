"""Repositories git itself shapes unusually, as CI checks them out, and systems without git: a
bump reads their history and commits in them like in a full clone, or says what to do."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from fluxbump import fleet
from tests.adversarial.harness import GitState, committed_files, git_out, git_state, leftovers
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def bump(root: Path, server: HelmServer, *flags: str) -> Outcome:
    return run_cli("to", "2.4.0", *flags, "--repo", str(root), "--helm-repo", server.base_url)


def assert_refused(root: Path, before: GitState, code: int, stderr: str, why: str) -> None:
    """Exit 2 with one line, ``why`` and "nothing was written", and the repository as before."""
    assert (code, stderr) == (2, f"error: {why}; nothing was written\n")
    assert git_state(root) == before and leftovers(root) == []


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
    proc = bump(root, index_server)
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
    why = (
        f"{root} is a git work tree, but git is not installed (no git on PATH): fluxbump commits "
        "with it; install git, or pass --no-git to only write the files"
    )
    assert_refused(root, before, refused.returncode, refused.stderr, why)

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
    why = (
        f"GIT_DIR={other / '.git'} is not the git directory of {root}, so git would commit "
        "there; unset GIT_DIR (a git hook exports it) and re-run"
    )
    assert_refused(root, before, proc.returncode, proc.stderr, why)
    assert git_state(other) == others and leftovers(other) == []


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
    proc = bump(root, index_server)
    why = (
        f"{root} is a sparse checkout: 2 tracked files are not checked out (first "
        "clusters/b.example/bootstrap-kit/03-flux.yaml), so their pins can be neither read nor "
        "moved and the commit would leave them behind; run git sparse-checkout disable, then "
        "re-run"
    )
    assert_refused(root, before, proc.code, proc.stderr, why)


def test_check_in_a_sparse_checkout_says_which_files_it_could_not_check(tmp_path: Path) -> None:
    """A cluster left out of the work tree, whose HelmRelease deploys another wrapper version:
    its violation is gone, and nothing said why (the other answers are the same)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example", "b.example"))
    left_out = "clusters/b.example/bootstrap-kit/03-flux.yaml"
    (root / left_out).write_text((root / left_out).read_text().replace("1.1.1", "1.0.0"))
    git_out(root, "commit", "-qam", "b.example drifts")

    def checked() -> tuple[set[str], list[str]]:
        out = json.loads(run_cli("check", "--repo", str(root), "--offline", "--json").stdout)
        return {v["file"] for v in out["violations"]}, [w["message"] for w in out["warnings"]]

    whole, said = checked()
    assert left_out in whole and not [w for w in said if "sparse" in w]
    git_out(root, "sparse-checkout", "set", "--no-cone", "/*", "!/clusters/b.example/")
    sparse, warned = checked()
    assert sparse == whole - {left_out}
    assert (
        f"a sparse checkout: 2 tracked files are not checked out (first {left_out}), so their "
        "pins are not checked; run git sparse-checkout disable for a check of the whole "
        "repository"
    ) in warned


def test_a_pin_file_a_sparse_checkout_left_in_place_is_refused_before_writing(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A file the definition leaves out that git kept (its stat data said modified): the bump
    wrote every file, then git add refused it with git's nine lines of hints (restored)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    wrapper = root / fleet.WRAPPER_CHART
    kept = wrapper.read_bytes()
    git_out(root, "sparse-checkout", "set", "--no-cone", "/*", f"!/{fleet.WRAPPER_CHART}")
    wrapper.write_bytes(kept)  # (git either kept it or removed it: present again either way)
    before = git_state(root)
    proc = bump(root, index_server)
    why = (
        f"{fleet.WRAPPER_CHART} is outside this sparse checkout's definition, so git add would "
        "refuse it; run git sparse-checkout disable (or add it to the definition), then re-run"
    )
    assert_refused(root, before, proc.code, proc.stderr, why)


def test_a_sha256_repository_is_refused_and_no_git_still_writes(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """``git init --object-format=sha256``: GitPython reads SHA-1 object names only, saw no
    commit, and the bump wrote its files uncommitted (exit 0), saying there was none."""
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    git_out(root, "init", "-q", "--object-format=sha256", "-b", "main")
    git_out(root, "add", "-A")
    git_out(root, "-c", "user.name=t", "-c", "user.email=t@fluxbump.invalid", "commit", "-qm", "x")
    before = git_state(root)
    proc = bump(root, index_server)
    why = (
        f"{root} is a git work tree, but it names objects by SHA-256, which fluxbump's git "
        "library (GitPython) cannot read: fluxbump commits with it; pass --no-git to only write "
        "the files, and commit them yourself"
    )
    assert_refused(root, before, proc.code, proc.stderr, why)
    written = bump(root, index_server, "--no-git")
    assert written.code == 0, written.stderr
    assert "version: 1.1.2" in (root / fleet.WRAPPER_CHART).read_text()


def test_a_git_that_does_not_run_is_named_with_its_reason(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A broken global git configuration makes every git command fail, ``git version`` too:
    GitPython's import failed and the bump ended in exit 70."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    broken = tmp_path / "gitconfig"
    broken.write_text("[user\n")
    before = git_state(root)
    cmd = fluxbump_cmd(root, index_server, "to", "2.4.0")
    proc = run(cmd, tmp_path / "cache", GIT_CONFIG_GLOBAL=str(broken))
    why = (
        f"{root} is a git work tree, but git does not run (bad config line 1 in file {broken}): "
        "fluxbump commits with it; fix that, or pass --no-git to only write the files"
    )
    assert_refused(root, before, proc.returncode, proc.stderr, why)


def test_a_work_tree_git_refuses_for_its_broken_configuration_says_what_to_do(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The refusal read "(bad config line …); or pass --no-git": a remedy left out."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    with (root / ".git" / "config").open("a") as config:
        config.write("[core\n")
    lines = len((root / ".git" / "config").read_text().splitlines())
    proc = bump(root, index_server)
    why = (
        f"git refuses to work in {root} (bad config line {lines} in file .git/config); fix "
        "that, or pass --no-git to only write the files"
    )
    assert (proc.code, proc.stderr) == (2, f"error: {why}; nothing was written\n")
    assert snapshot(root) == before.files and leftovers(root) == []


def test_a_tag_named_like_the_bumps_branch_does_not_stop_its_push(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """git push origin NAME:NAME matched the tag and the branch ("src refspec matches more
    than one"): exit 3, and every run again failed the same way."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    git_out(root, "remote", "add", "origin", str(remote))
    git_out(root, "tag", "fluxbump/flux-v2.4.0")
    proc = bump(root, index_server, "--push")
    assert proc.code == 0, proc.stderr
    pushed = git_out(remote, "rev-parse", "refs/heads/fluxbump/flux-v2.4.0")
    assert pushed == git_out(root, "rev-parse", "HEAD")
    assert (
        git_out(root, "rev-parse", "--abbrev-ref", "@{upstream}") == "origin/fluxbump/flux-v2.4.0"
    )


def test_pin_files_in_a_submodule_are_refused_from_the_superproject(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The superproject's commit cannot hold a submodule's files: every file was written, then
    git add failed ("Pathspec … is in submodule") and they were restored, with no remedy."""
    fleet_repo = make_fleet(tmp_path / "fleet", INCIDENT, git=True, **SMALL)
    root = tmp_path / "super"
    root.mkdir()
    git_out(root, "init", "-q", "-b", "main")
    git_out(root, "config", "user.email", "t@fluxbump.invalid")
    git_out(root, "config", "user.name", "t")
    add = ["-c", "protocol.file.allow=always", "submodule", "add", "-q", str(fleet_repo), "gitops"]
    git_out(root, *add)
    git_out(root, "commit", "-qm", "submodule")
    before = git_state(root)
    proc = bump(root, index_server)
    why = (
        "gitops/clusters/_template/bootstrap-kit/03-flux.yaml is in gitops, a "
        "repository of its own (a submodule), which this repository's commit cannot hold; run "
        "fluxbump there (--repo gitops), or pass --no-git to only write the files"
    )
    assert_refused(root, before, proc.code, proc.stderr, why)


def test_a_linked_worktree_whose_repository_is_gone_is_refused(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A ``git worktree`` whose main repository moved or pruned it: its ``.git`` file leads
    nowhere and git stops there. The bump wrote every file uncommitted, saying the directory
    was not in a git repository (exit 0)."""
    main = make_fleet(tmp_path / "main", INCIDENT, git=True, **SMALL)
    root = tmp_path / "linked"
    git_out(main, "worktree", "add", "-q", str(root))
    shutil.rmtree(main / ".git" / "worktrees")
    before = snapshot(root)
    refused = bump(root, index_server)
    assert refused.code == 2, refused.stderr
    assert refused.stderr == (
        f"error: {root} is a git work tree, but git cannot open its .git file (not a git "
        f"repository: {main}/.git/worktrees/linked): fluxbump commits with it; repair it (`git "
        "worktree repair` in the main work tree), or pass --no-git to only write the files; "
        "nothing was written\n"
    )
    assert snapshot(root) == before
    written = bump(root, index_server, "--no-git")
    assert written.code == 0, written.stderr
    assert snapshot(root) != before
