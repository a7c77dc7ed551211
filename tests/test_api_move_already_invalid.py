"""A Flux object already invalid as written is no reason to refuse moving its apiVersion.

aws-samples/eks-multi-cluster-gitops keeps its GitRepositories at ``source.toolkit.fluxcd.io/
v1beta2`` with ``url: REPO_PREFIX/gitops-system``, a placeholder its setup replaces with sed.
Every version's schema rejects that URL, the one written as much as the one moved to; yet ``to
2.8.5`` refused the whole bump (exit 2, "rewrite it by hand as Flux's migration notes say"),
and ``to`` at a release deprecating v1beta2 left the object there "because the move leaves it
invalid". Only a problem the move itself makes (a field the new version lacks, a rename that
cannot be done) stops it.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

INSTALL = "clusters/prod/flux-system/kustomization.yaml"
INSTALL_TEXT = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - https://github.com/fluxcd/flux2/releases/download/v2.7.5/install.yaml
"""
SYNC = "clusters/prod/flux-system/gotk-sync.yaml"
SYNC_TEXT = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: REPO_PREFIX/gitops-system
  ref:
    branch: main
"""


def _repo(root: Path, sync: str = SYNC_TEXT) -> Path:
    return write_repo(root, {INSTALL: INSTALL_TEXT, SYNC: sync})


def _bump(repo: Path, release: str) -> tuple[int, str]:
    outcome = run_cli("to", release, "--repo", str(repo), "--offline", "--no-git")
    return outcome.code, outcome.stderr


def test_an_unserved_version_moves_though_a_value_was_already_invalid(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    before = snapshot(repo)
    code, stderr = _bump(repo, "2.8.5")  # Flux 2.8 serves no v1beta2
    assert code == 0, stderr
    after = snapshot(repo)
    assert after[SYNC] == before[SYNC].replace(b"/v1beta2\n", b"/v1\n", 1)
    assert after[INSTALL] == before[INSTALL].replace(b"v2.7.5", b"v2.8.5")


def test_a_deprecated_version_moves_though_a_value_was_already_invalid(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    before = snapshot(repo)[SYNC]
    code, stderr = _bump(repo, "2.7.5")  # served, deprecated: moved to v1 by every bump
    assert code == 0, stderr
    assert "left as it is" not in stderr, stderr
    assert snapshot(repo)[SYNC] == before.replace(b"/v1beta2\n", b"/v1\n", 1)


def test_a_problem_the_move_makes_still_refuses_it(tmp_path: Path) -> None:
    """A field v1beta2 has and v1 lacks, which Flux's migration notes do not rename
    (``spec.accessFrom``), is the move's doing, placeholder or not."""
    access = "  accessFrom:\n    namespaceSelectors:\n      - matchLabels: {team: a}\n"
    repo = _repo(tmp_path / "repo", SYNC_TEXT + access)
    before = snapshot(repo)
    code, stderr = _bump(repo, "2.8.5")
    assert code == 2, stderr
    assert f"error: {SYNC}:11: moving GitRepository flux-system/flux-system from " in stderr
    assert "spec.accessFrom: unknown field" in stderr
    assert "spec.url" not in stderr  # the placeholder was invalid before: not the reason
    assert snapshot(repo) == before
