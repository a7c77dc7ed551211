"""A copy of the community flux2 chart kept in the repository is named, never moved in part.

technicityworks/helm-charts and networkengineer-cloud/helm-charts keep the flux2 chart in their
own ``charts/flux2/`` (``name: flux2``, the Flux release as its ``appVersion``, each controller's
tag in its values). ``to`` moved the CLI tag of that copy's values alone, said nothing of the
copy, and exited 0: the copy still installed the old controllers.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

CHART = "charts/flux2/Chart.yaml"
WORKFLOW = ".github/workflows/e2e.yaml"
CHART_TEXT = """\
apiVersion: v2
appVersion: 2.3.0
description: A Helm chart for flux2
name: flux2
sources:
- https://github.com/fluxcd-community/helm-charts
type: application
version: 2.13.0
"""
VALUES_TEXT = """\
cli:
  image: ghcr.io/fluxcd/flux-cli
  tag: v2.3.0
helmController:
  image: ghcr.io/fluxcd/helm-controller
  tag: v1.0.1
"""
# A wrapper of the same name depends on the community chart: a wrapper, not a copy.
WRAPPER_TEXT = """\
apiVersion: v2
name: flux2
version: 1.0.0
dependencies:
  - name: flux2
    version: 2.13.0
    repository: https://fluxcd-community.github.io/helm-charts
"""
NOTE = (
    f"warning: {CHART}:8: a copy of the flux2 chart 2.13.0 (Flux 2.3.0, its appVersion) kept "
    "in this repository, which fluxbump does not read, check or move (its controllers' tags "
    "with it): replace the copy with the flux2 chart version Flux moves to, or list the file "
    "under exclude: in .fluxbump.yaml if it installs no cluster of this repository"
)


def _copy(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path / "repo",
        {
            CHART: CHART_TEXT,
            "charts/flux2/values.yaml": VALUES_TEXT,
            "charts/flux2/templates/helm-controller.yaml": "kind: Deployment\n",
            # the repository's own pin of the release, which a bump moves
            WORKFLOW: "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: fluxcd/flux2/action@main\n        with:\n          version: 2.3.0\n",
        },
    )


def test_status_check_and_to_name_a_copy_of_the_flux2_chart(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    for command in (("status",), ("check",), ("to", "2.8.5", "--dry-run", "--no-git")):
        result = run_cli(*command, "--repo", str(repo), "--offline")
        assert result.code == 0, result.stdout + result.stderr
        assert [line for line in result.stderr.splitlines() if "a copy of" in line] == [NOTE]


def test_a_bump_of_a_repository_with_a_copy_says_what_it_left(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    before = snapshot(repo)
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert NOTE in moved.stderr.splitlines()
    after = snapshot(repo)
    assert after[CHART] == before[CHART]  # the copy's release is never rewritten in place
    # nor its CLI tag alone (it was: v2.8.5 beside the controllers of 2.3.0)
    assert after["charts/flux2/values.yaml"] == before["charts/flux2/values.yaml"]
    assert b"version: 2.8.5" in after[WORKFLOW]


def test_a_wrapper_named_like_the_community_chart_is_not_a_copy(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {CHART: WRAPPER_TEXT})
    result = run_cli("status", "--repo", str(repo), "--offline")
    assert result.code == 0, result.stdout + result.stderr
    assert "a copy of" not in result.stderr
