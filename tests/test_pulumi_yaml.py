"""A Pulumi YAML program (``runtime: yaml``) that installs the flux2 chart as a Helm resource
(``type: kubernetes:helm.sh/v3:Release``, ``properties.chart``/``version``) pins the chart. It
was read nowhere and named nowhere (only programs in code are named): ``to`` moved the CLI and
left ``pulumi up`` installing the old chart. Its version is now a pin (shown, compared, moved);
an interpolation is the stack's configuration, unproven; none installs the newest chart."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, snapshot, write_repo

PROGRAM = """\
name: fleet
runtime: yaml
resources:
  flux:
    type: kubernetes:helm.sh/v3:Release
    properties:
      chart: flux2
      version: {version}
      namespace: flux-system
      repositoryOpts:
        repo: https://fluxcd-community.github.io/helm-charts
  podinfo:
    type: kubernetes:helm.sh/v3:Release
    properties:
      chart: podinfo
      version: 6.5.0
"""
MISE = '[tools]\nflux2 = "2.2.0"\n'  # the flux2 chart 2.12.1 carries Flux 2.2.0


def pulumi_repo(tmp_path: Path, program: str) -> Path:
    return write_repo(tmp_path / "repo", {"infra/Pulumi.yaml": program, "mise.toml": MISE})


def pulumi_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "Pulumi YAML chart version"
    ]


def test_a_pulumi_yaml_helm_resource_of_flux2_is_a_pin_and_moves(tmp_path: Path) -> None:
    repo = pulumi_repo(tmp_path, PROGRAM.replace("{version}", "2.12.1"))
    assert pulumi_rows(repo) == [("infra/Pulumi.yaml:8", "Pulumi resource flux", "2.12.1", True)]
    moved = run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, "infra/Pulumi.yaml", since=None) == [
        "-      version: 2.12.1",
        "+      version: 2.13.0",
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_an_interpolated_version_is_the_stack_s_configuration_unproven(tmp_path: Path) -> None:
    repo = pulumi_repo(tmp_path, PROGRAM.replace("{version}", "${fluxChartVersion}"))
    rows = pulumi_rows(repo)
    assert rows == [("infra/Pulumi.yaml:8", "Pulumi resource flux", "${fluxChartVersion}", False)]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_resource_with_no_version_is_a_problem(tmp_path: Path) -> None:
    repo = pulumi_repo(tmp_path, PROGRAM.replace("      version: {version}\n", "", 1))
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "infra/Pulumi.yaml:7: Pulumi resource flux installs flux2 with no version: Pulumi "
        "installs the newest flux2 chart"
    ) in check.stdout
    before = snapshot(repo)
    assert run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git").code == 2
    assert snapshot(repo) == before
