"""A Sveltos ``ClusterProfile``/``Profile`` installing the flux2 chart pins it by ``chartVersion``.

Sveltos' docs install Flux on a management cluster so (``helmCharts: - chartName: flux2/flux2,
chartVersion: 2.12.4``); fluxbump read no Sveltos profile, so ``check`` passed a repository whose
CLI pinned Flux 2.4.0 while the profile installed chart 2.12.4 (Flux 2.2.3), and ``to`` left it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

PROFILE = "mgmt/flux.yaml"
PROFILE_TEXT = """\
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata:
  name: flux
spec:
  clusterSelector:
    matchLabels:
      cluster: mgmt
  helmCharts:
  - repositoryURL: https://kyverno.github.io/kyverno/
    repositoryName: kyverno
    chartName: kyverno/kyverno
    chartVersion: v3.3.3
    releaseName: kyverno-latest
    releaseNamespace: kyverno
    helmChartAction: Install
  - repositoryURL: https://fluxcd-community.github.io/helm-charts
    repositoryName: flux2
    chartName: flux2/flux2
    chartVersion: "{chart}"
    releaseName: flux2
    releaseNamespace: flux2
    helmChartAction: Install
"""
# A namespaced Profile whose version Sveltos renders per cluster, and one with none.
TEMPLATED = "tenants/flux.yaml"
TEMPLATED_TEXT = """\
apiVersion: config.projectsveltos.io/v1beta1
kind: Profile
metadata:
  name: flux
  namespace: tenant-a
spec:
  helmCharts:
  - chartName: flux2/flux2
    chartVersion: '{{ index .Cluster.metadata.labels "flux" }}'
    releaseName: flux2
    releaseNamespace: flux2
"""
UNVERSIONED_TEXT = """\
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata:
  name: flux-edge
spec:
  helmCharts:
  - chartName: flux2/flux2
    releaseName: flux2
    releaseNamespace: flux2
"""


def repo(tmp_path: Path, chart: str = "2.12.4", **more: str) -> Path:
    files = {PROFILE: PROFILE_TEXT.replace("{chart}", chart), ".tool-versions": "flux2 2.4.0\n"}
    return write_repo(tmp_path / "repo", {**files, **more})


def sites(root: Path) -> list[tuple[str, str, int, str]]:
    status = run_cli("status", "--repo", str(root), "--offline", "--json")
    assert status.code == 0, status.stdout + status.stderr
    found = json.loads(status.stdout)["sites"]
    return [(s["role"], s["file"], s["line"], s["value"]) for s in found]


def test_status_shows_the_flux2_entry_and_no_other_chart(tmp_path: Path) -> None:
    found = sites(repo(tmp_path))
    assert ("Sveltos helmCharts chartVersion", PROFILE, 20, "2.12.4") in found
    assert not [s for s in found if s[3] == "v3.3.3"]


def test_check_compares_it_with_the_other_pins(tmp_path: Path) -> None:
    check = run_cli("check", "--repo", str(repo(tmp_path)), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert "the repository installs Flux 2.2.3" in check.stdout
    agreed = run_cli("check", "--repo", str(repo(tmp_path / "b", chart="2.14.1")), "--offline")
    assert agreed.code == 0, agreed.stdout + agreed.stderr


def test_to_moves_the_chart_version_with_the_cli(tmp_path: Path) -> None:
    root = repo(tmp_path, chart="2.14.1")
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(root)
    assert after[PROFILE] == PROFILE_TEXT.replace("{chart}", "2.15.0").encode()
    assert after[".tool-versions"] == b"flux2 2.5.1\n"


def test_a_templated_version_is_unproven_and_left_as_written(tmp_path: Path) -> None:
    root = repo(tmp_path, chart="2.14.1", **{TEMPLATED: TEMPLATED_TEXT})
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # rendered per cluster: no violation
    before = snapshot(root)
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(root)[TEMPLATED] == before[TEMPLATED]
    assert f"warning: {TEMPLATED}:9: Sveltos helmCharts chartVersion" in moved.stderr


def test_an_entry_with_no_chart_version_is_a_problem(tmp_path: Path) -> None:
    edge = repo(tmp_path, chart="2.14.1", **{"edge/flux.yaml": UNVERSIONED_TEXT})
    found = run_cli("check", "--repo", str(edge), "--offline")
    assert found.code == 1, found.stdout + found.stderr
    assert (
        "edge/flux.yaml:7: ClusterProfile flux-edge installs flux2 with no chartVersion, which "
        "Sveltos requires (its API rejects the profile): no chart version this repository pins; "
        "add 'chartVersion: 2.14.1' to the entry"
    ) in found.stdout
