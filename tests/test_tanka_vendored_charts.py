"""Charts Tanka vendors (``tk tool charts vendor``: the ``requires`` of a ``chartfile.yaml``,
copied into the folder it names, ``charts`` unless set) are other projects' charts, as a
chart's own ``charts/`` holds. They were read as this repository's: each became a wrapper
component of its dependencies, and every HelmRelease deploying the upstream chart of that name
from its Helm repository was a false violation ("deploys grafana 8.9.0, chart is 8.10.4",
leesiongchan/homelab) or a false problem when it named no version."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, write_repo

CHARTFILE = """\
directory: {directory}
repositories:
- name: grafana
  url: https://grafana.github.io/helm-charts
requires:
- chart: grafana/k8s-monitoring
  version: 2.0.21
version: 1
"""
VENDORED = """\
apiVersion: v2
name: k8s-monitoring
version: 2.0.21
dependencies:
- name: alloy
  repository: https://grafana.github.io/helm-charts
  version: 0.12.5
"""
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: k8s-monitoring
  namespace: o11y
spec:
  chart:
    spec:
      chart: k8s-monitoring
      sourceRef:
        kind: HelmRepository
        name: grafana
        namespace: flux-system
      version: 2.0.0-rc.9
"""
UNVERSIONED = RELEASE.replace("      version: 2.0.0-rc.9\n", "")
MISE = '[tools]\nflux2 = "2.4.0"\n'


def tanka_repo(tmp_path: Path, directory: str = "charts") -> Path:
    files = {
        "tanka/chartfile.yaml": CHARTFILE.format(directory=directory),
        f"tanka/{directory}/k8s-monitoring/Chart.yaml": VENDORED,
        "o11y/k8s-monitoring.yaml": RELEASE,
        "generated/k8s-monitoring.yaml": UNVERSIONED,
        "mise.toml": MISE,
    }
    return write_repo(tmp_path / "repo", files)


def components(repo: Path) -> list[str]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [c["name"] for c in json.loads(outcome.stdout)["components"]]


def test_a_chart_tanka_vendors_is_no_chart_of_the_repository(tmp_path: Path) -> None:
    repo = tanka_repo(tmp_path)
    assert components(repo) == ["flux"]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert "k8s-monitoring" not in check.stdout + check.stderr


def test_the_folder_the_chartfile_names_is_the_one_left_out(tmp_path: Path) -> None:
    assert components(tanka_repo(tmp_path, "vendor")) == ["flux"]


def test_a_charts_folder_beside_another_file_of_that_name_is_read(tmp_path: Path) -> None:
    # no ``requires``: not Tanka's file; the chart there is the repository's own wrapper
    repo = tanka_repo(tmp_path)
    chartfile = repo / "tanka/chartfile.yaml"
    chartfile.write_text("directory: charts\nversion: 1\n", "utf-8")
    init_git(repo)
    assert components(repo) == ["flux", "k8s-monitoring"]


def test_a_chartfile_that_is_a_fifo_is_refused_as_any_fifo_not_opened(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"mise.toml": MISE, "tanka/charts/x/Chart.yaml": VENDORED})
    os.mkfifo(repo / "tanka/chartfile.yaml")
    outcome = run_cli("status", "--repo", str(repo), "--offline")  # (opened, it would block)
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.startswith("error: tanka/chartfile.yaml: a FIFO, not a regular file")
