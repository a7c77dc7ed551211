"""A Flux object already invalid as written is refused a move as before, but not sent to
Flux's migration notes.

aws-samples/eks-multi-cluster-gitops keeps its GitRepositories at ``source.toolkit.fluxcd.io/
v1beta2`` with ``url: REPO_PREFIX/gitops-system``, a placeholder its setup replaces with sed.
Every version's schema rejects that URL, the one written as much as the one moved to; ``to
2.8.5`` refused (exit 2, rightly: fluxbump writes no invalid object) saying the move "leaves it
invalid … rewrite it by hand as Flux's migration notes say", which no note covers: the value
is what to correct. A problem the move itself makes (a field the new version lacks) is still
the notes' case, and named first.
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


def test_an_unserved_version_already_invalid_as_written_names_the_value(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    before = snapshot(repo)
    code, stderr = _bump(repo, "2.8.5")  # Flux 2.8 serves no v1beta2
    assert code == 2, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: {SYNC}:8: moving GitRepository flux-system/flux-system from "
        "source.toolkit.fluxcd.io/v1beta2 to source.toolkit.fluxcd.io/v1 keeps it invalid, as "
        "it is as written: GitRepository flux-system/flux-system: spec.url: "
        "'REPO_PREFIX/gitops-system' does not match '^(http|https|ssh)://.*$' in "
        "source.toolkit.fluxcd.io/v1 of Flux 2.8.5; correct that value, then re-run; "
        "nothing written"
    )
    assert snapshot(repo) == before


def test_a_deprecated_version_already_invalid_as_written_is_left_saying_so(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path / "repo")
    before = snapshot(repo)[SYNC]
    code, stderr = _bump(repo, "2.7.5")  # served, deprecated: left, the bump goes on
    assert code == 0, stderr
    assert (
        f"warning: {SYNC}:1: source.toolkit.fluxcd.io/v1beta2 left as it is (v1beta2 "
        "GitRepository is deprecated, upgrade to v1): moving it to source.toolkit.fluxcd.io/v1 "
        "keeps it invalid, as it is as written: GitRepository flux-system/flux-system: spec.url"
    ) in stderr
    assert snapshot(repo)[SYNC] == before


def test_a_problem_the_move_makes_is_named_first(tmp_path: Path) -> None:
    """A field v1beta2 has and v1 lacks, which Flux's migration notes do not rename
    (``spec.accessFrom``), is the move's doing: named before the placeholder."""
    access = "  accessFrom:\n    namespaceSelectors:\n      - matchLabels: {team: a}\n"
    repo = _repo(tmp_path / "repo", SYNC_TEXT + access)
    before = snapshot(repo)
    code, stderr = _bump(repo, "2.8.5")
    assert code == 2, stderr
    assert f"error: {SYNC}:11: moving GitRepository flux-system/flux-system from " in stderr
    assert "leaves it invalid" in stderr and "spec.accessFrom: unknown field" in stderr
    assert "as Flux's migration notes say" in stderr
    assert "spec.url" not in stderr
    assert snapshot(repo) == before
