"""Repositories git itself shapes unusually, as CI checks them out: a bump reads their history
and commits in them like in a full clone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fluxbump import fleet
from tests.adversarial.harness import committed_files, git_out, git_state, leftovers
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL
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
