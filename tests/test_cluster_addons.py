"""A management cluster gives its workload clusters Flux through a Cluster API
``HelmChartProxy`` (the Helm add-on provider) or a Crossplane Helm ``Release`` of the community
flux2 chart. Neither was read: ``to`` moved the management cluster's pins and left the workload
clusters' chart at the old release, and ``check`` passed any disagreement. Each version is now a
pin of the chart (shown, compared, moved); one with no version installs the newest chart: a
problem naming its file:line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, snapshot, write_repo

PROXY = """\
apiVersion: addons.cluster.x-k8s.io/v1alpha1
kind: HelmChartProxy
metadata:
  name: flux2
  namespace: fleet
spec:
  clusterSelector:
    matchLabels:
      flux: enabled
  repoURL: https://fluxcd-community.github.io/helm-charts
  chartName: flux2
  version: 2.12.1
  namespace: flux-system
"""
CROSSPLANE = """\
apiVersion: helm.crossplane.io/v1beta1
kind: Release
metadata:
  name: flux
spec:
  forProvider:
    chart:
      name: flux2
      repository: https://fluxcd-community.github.io/helm-charts
      version: "2.12.1"
    namespace: flux-system
  providerConfigRef:
    name: workload-cluster
"""
# another chart and another group's Release: no Flux pin
OTHERS = """\
apiVersion: addons.cluster.x-k8s.io/v1alpha1
kind: HelmChartProxy
metadata:
  name: cert-manager
spec:
  repoURL: https://charts.jetstack.io
  chartName: cert-manager
  version: v1.14.4
---
apiVersion: example.com/v1
kind: Release
spec:
  forProvider:
    chart:
      name: flux2
      version: 9.9.9
"""
MISE = '[tools]\nflux2 = "2.2.0"\n'  # the flux2 chart 2.12.1 carries Flux 2.2.0


def repo_with(tmp_path: Path, **files: str) -> Path:
    return write_repo(tmp_path / "repo", {"mise.toml": MISE, **files})


def chart_rows(repo: Path) -> list[tuple[str, str, str]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    return [
        (s["role"], f"{s['file']}:{s['line']}", s["value"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["subject"] == "flux2"
    ]


def test_each_installer_of_the_flux2_chart_is_a_pin_and_moves(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        **{"mgmt/capi.yaml": PROXY, "mgmt/crossplane.yaml": CROSSPLANE, "mgmt/others.yaml": OTHERS},
    )
    assert chart_rows(repo) == [
        ("Cluster API HelmChartProxy version", "mgmt/capi.yaml:12", "2.12.1"),
        ("Crossplane Release chart version", "mgmt/crossplane.yaml:10", "2.12.1"),
    ]
    moved = run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, since=None) == [
        "-  version: 2.12.1",
        "+  version: 2.13.0",
        '-      version: "2.12.1"',
        '+      version: "2.13.0"',
        '-flux2 = "2.2.0"',
        '+flux2 = "2.3.0"',
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_workload_cluster_chart_of_another_release_fails_check(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, **{"mgmt/capi.yaml": PROXY.replace("2.12.1", "2.13.0")})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    # the chart the workload clusters get is the installed release the CLI must name
    assert "mise.toml:2: mise [tools] pins Flux 2.2.0, the repository installs Flux 2.3.0" in (
        check.stdout
    )


def test_an_installer_with_no_version_is_a_problem_and_blocks_a_bump(tmp_path: Path) -> None:
    unversioned = CROSSPLANE.replace('      version: "2.12.1"\n', "")
    repo = repo_with(tmp_path, **{"mgmt/crossplane.yaml": unversioned})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "mgmt/crossplane.yaml:8: Release flux installs flux2 with no chart version: Crossplane's "
        "Helm provider installs the newest flux2 chart"
    ) in check.stdout
    before = snapshot(repo)
    refused = run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 2, refused.stdout + refused.stderr
    assert snapshot(repo) == before
