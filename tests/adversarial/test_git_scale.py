"""Git at fleet scale and with hostile names: literal paths, no argument-length limit, only
the files fluxbump wrote in the commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.adversarial.harness import committed_files, git_out, git_state, leftovers
from tests.support.crash_cli import child_env, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

BRANCH = "fluxbump/flux-v2.4.0"
CLUSTERS = tuple(f"c{i:04d}.example" for i in range(1000))


def test_a_bump_of_over_2000_files_with_git_is_one_commit_of_exactly_those_files(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "fleet", INCIDENT, git=True, clusters=CLUSTERS)
    git_out(root, "config", "gc.auto", "0")  # no background gc racing the tree snapshot
    before = git_state(root)
    # A generous bound only (2,007 fsyncs and a commit on a shared, loaded machine).
    proc = subprocess.run(fluxbump_cmd(root, index_server, "to", "2.4.0"), capture_output=True,
                          text=True, timeout=600,
                          env=child_env(FLUXBUMP_CACHE_DIR=str(tmp_path / "cache")))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = git_state(root)
    assert after.branch == BRANCH and after.branches == (BRANCH, "main")
    assert git_out(root, "rev-parse", "HEAD^") == before.head
    # The commit holds exactly the files whose bytes changed (no dry run needed to know them).
    files = sorted(f for f in after.files if after.files[f] != before.files.get(f))
    assert len(files) >= 2000
    assert committed_files(root) == files
    assert after.clean and leftovers(root) == []


def test_a_pin_file_named_star_yaml_stages_nothing_else(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, clusters=("a.example",))
    flux = root / "clusters/a.example/bootstrap-kit"
    shutil.move(flux / "03-flux.yaml", flux / "*.yaml")
    make_fleet(root, INCIDENT, git=True, clusters=())  # commit, with the odd name
    (flux / "untracked.yaml").write_text("kind: ConfigMap\n")  # the user's own work
    (root / "clusters/_template/bootstrap-kit/notes.yaml").write_text("wip: true\n")
    proc = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "clusters/a.example/bootstrap-kit/*.yaml" in committed_files(root)
    assert not any("untracked" in f or "notes" in f for f in committed_files(root))
    assert git_state(root).status.splitlines() == [
        "?? clusters/_template/bootstrap-kit/notes.yaml",
        "?? clusters/a.example/bootstrap-kit/untracked.yaml",
    ]


def test_allow_dirty_never_commits_the_users_other_changes(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    (root / "README.md").write_text("# my unrelated edit\n")
    git_out(root, "add", "README.md")  # even staged
    (root / "infra/notes.txt").write_text("untracked\n")
    proc = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--allow-dirty"),
               tmp_path / "cache")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "README.md" not in committed_files(root)
    assert git_out(root, "show", "HEAD:README.md") == git_out(root, "show", "HEAD^:README.md")
    assert git_state(root).status.splitlines() == ["M  README.md", "?? infra/notes.txt"]
    assert leftovers(root) == []
