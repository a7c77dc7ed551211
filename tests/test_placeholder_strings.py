"""A string field the CRD constrains (a ``pattern``, an ``enum``) written as a ``${VAR}``
placeholder is judged after substitution, as Flux's post-build (or the repository's
``envsubst``) replaces it before the API server sees it (nucstack/k8s: ``tmpl/gotk-sync.yaml``,
``url: ${GITHUB_REPOSITORY}``, refused when ``to`` moved it off ``v1beta2``)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo
from tests.test_patch_files import UNGUARDED

SYNC = """\
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: INTERVAL
  ref:
    branch: ${GITHUB_BRANCH}
  url: URL
"""
TERRAFORM = 'resource "flux_bootstrap_git" "this" {\n  version = "v2.1.0"\n}\n'


def repo_with(root: Path, url: str, interval: str = "1m0s") -> Path:
    sync = SYNC.replace("URL", url).replace("INTERVAL", interval)
    return write_repo(root, {"terraform/flux.tf": TERRAFORM, "tmpl/gotk-sync.yaml": sync})


def bump(repo: Path) -> tuple[int, str]:
    # (2.1.0 -> 2.8.1 drops versions 2.1.0 stores: the CRD guard's refusal is not the subject)
    outcome = run_cli("to", "2.8.1", "--repo", str(repo), *UNGUARDED)
    return outcome.code, outcome.stderr


def test_placeholders_in_constrained_strings_move_with_their_object(tmp_path: Path) -> None:
    for i, (url, interval) in enumerate(
        (
            ("${GITHUB_REPOSITORY}", "1m0s"),
            ("${PROTOCOL:=https}://github.com/${OWNER}/k8s", "${INTERVAL:=1m}"),
        )
    ):
        repo = repo_with(tmp_path / str(i), url, interval)
        code, stderr = bump(repo)
        assert code == 0, stderr
        text = (repo / "tmpl/gotk-sync.yaml").read_text()
        assert text == SYNC.replace("URL", url).replace("INTERVAL", interval).replace(
            "source.toolkit.fluxcd.io/v1beta2", "source.toolkit.fluxcd.io/v1"
        )


def test_a_constrained_string_with_no_placeholder_is_still_judged(tmp_path: Path) -> None:
    repo = repo_with(tmp_path / "repo", "github.com/nucstack/k8s")
    before = snapshot(repo)
    code, stderr = bump(repo)
    assert code == 2
    assert "tmpl/gotk-sync.yaml:11: moving GitRepository flux-system/flux-system" in stderr
    assert "spec.url: 'github.com/nucstack/k8s' does not match" in stderr
    assert snapshot(repo) == before
