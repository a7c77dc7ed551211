"""``--offline`` says where the index came from only when a result depended on it (issue 24):
a repository whose components never look a chart up in the Flux index gets no such warning;
one that does gets it once; ``-q`` silences it."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, init_git, make_fleet

SNAPSHOT_WARNING = "using the bundled snapshot of 2026-04-15"

PODINFO_CHART = """\
apiVersion: v2
name: podinfo-wrapper
version: 1.0.0
dependencies:
  - name: podinfo
    version: "6.7.1"
    repository: https://stefanprodan.github.io/podinfo
"""

PODINFO_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: podinfo-wrapper
      version: 1.0.0
"""


def no_flux_repo(root: Path) -> Path:
    """One wrapper of a chart that is not Flux's: nothing in it is looked up in the Flux index."""
    (root / "apps/podinfo").mkdir(parents=True)
    (root / "apps/podinfo/Chart.yaml").write_text(PODINFO_CHART)
    (root / "clusters/prod").mkdir(parents=True)
    (root / "clusters/prod/podinfo.yaml").write_text(PODINFO_RELEASE)
    init_git(root)
    return root


def snapshot_warnings(outcome: Outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if SNAPSHOT_WARNING in line]


def test_offline_status_of_a_repo_that_needs_no_index_prints_no_snapshot_warning(
    tmp_path: Path,
) -> None:
    repo = no_flux_repo(tmp_path / "repo")
    for command in ("status", "check"):
        outcome = run_cli(command, "--repo", str(repo), "--offline")
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert "podinfo" in outcome.stdout or "3 pin-sites agree" in outcome.stdout
        assert snapshot_warnings(outcome) == [], outcome.stderr


def test_offline_check_of_flux_warns_once_and_quiet_silences_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert len(snapshot_warnings(outcome)) == 1, outcome.stderr
    quiet = run_cli("check", "--repo", str(repo), "--offline", "-q")
    assert quiet.code == 0 and quiet.stderr == ""


def test_offline_dry_run_bump_warns_once_and_quiet_silences_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    loud = run_cli("to", "2.4.0", "--repo", str(repo), "--offline", "--dry-run")
    assert loud.code == 0, loud.stdout + loud.stderr
    assert len(snapshot_warnings(loud)) == 1, loud.stderr
    quiet = run_cli("to", "2.4.0", "--repo", str(repo), "--offline", "--dry-run", "-q")
    assert quiet.code == 0 and snapshot_warnings(quiet) == [] and "warning" not in quiet.stderr
    assert quiet.stdout == loud.stdout
