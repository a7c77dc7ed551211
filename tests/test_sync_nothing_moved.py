"""`fluxbump sync` with nothing moved since the base revision on a repository whose pins
disagree (a Renovate pull request checked out, its commit in HEAD): it writes nothing, and says
which pins disagree and how to name the revision before the change, rather than only 'nothing
to do' while `check` fails on the same tree."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import git, init_git, snapshot

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0
"""
MANIFESTS = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: v2.4.0
"""


def _renovate_branch(root: Path) -> Path:
    """Flux's remote kustomize install at 2.4.0, then Renovate's commit moving it alone."""
    (root / "bootstrap").mkdir(parents=True)
    (root / "flux").mkdir()
    (root / "bootstrap/kustomization.yaml").write_text(KUSTOMIZATION)
    (root / "flux/manifests.yaml").write_text(MANIFESTS)
    init_git(root)
    moved = KUSTOMIZATION.replace("?ref=v2.4.0", "?ref=v2.5.1")
    (root / "bootstrap/kustomization.yaml").write_text(moved)
    git(root, "commit", "-qam", "chore(deps): update fluxcd/flux2 to v2.5.1")
    return root


def test_sync_with_nothing_moved_names_the_disagreeing_pins_and_base(tmp_path: Path) -> None:
    repo = _renovate_branch(tmp_path / "repo")
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1 and "flux/manifests.yaml:10" in check.stdout, check
    before = snapshot(repo)
    outcome = run_cli("sync", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome
    assert snapshot(repo) == before
    assert "nothing to do" in outcome.stdout
    assert "flux/manifests.yaml:10" in outcome.stdout  # the pin check names
    assert "--base" in outcome.stdout  # how to sync from the commit that moved it
    named = run_cli("sync", "--offline", "--base", "HEAD", "--repo", str(repo))
    assert named.code == 0 and "flux/manifests.yaml:10" in named.stdout, named
    assert "--base" not in named.stdout  # the base was named: that hint would not help
    synced = run_cli("sync", "--offline", "--base", "HEAD~1", "--repo", str(repo))
    assert synced.code == 0, synced
    assert "tag: v2.5.1" in (repo / "flux/manifests.yaml").read_text()
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_sync_on_a_consistent_tree_says_only_nothing_to_do(tmp_path: Path) -> None:
    repo = _renovate_branch(tmp_path / "repo")
    assert run_cli("sync", "--offline", "--base", "HEAD~1", "--repo", str(repo)).code == 0
    git(repo, "commit", "-qam", "synced")
    outcome = run_cli("sync", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome
    assert "nothing to do" in outcome.stdout
    assert "--base" not in outcome.stdout and "drift" not in outcome.stdout
