"""``status`` on a repository with many components stays readable: one line per component."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump.fleet import FleetSpec, write_fleet
from tests.support.cli_runner import run_cli


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fifty")
    write_fleet(root, FleetSpec(clusters=("a",), flux_chart="2.14.1", wrappers=49))
    return root


def test_status_of_fifty_components_is_one_line_each_within_100_columns(fifty: Path) -> None:
    outcome = run_cli("status", "--repo", str(fifty), "--offline")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].split() == ["COMPONENT", "CHARTS", "PIN-SITES", "STATE"]
    body = [line.split() for line in lines[1:-1]]
    assert len(body) == 50
    assert {row[0] for row in body} >= {"flux", "cilium", "vault"}
    assert all(row[-1] == "ok" for row in body), lines
    assert lines[-1].startswith("one line per component")


def test_status_verbose_or_component_shows_every_pin_site(fifty: Path) -> None:
    verbose = run_cli("status", "--repo", str(fifty), "--offline", "-v")
    one = run_cli("status", "--repo", str(fifty), "--offline", "--component", "vault")
    assert verbose.code == 0 and one.code == 0
    assert verbose.stdout.splitlines()[1].split()[:2] == ["ROLE", "WHERE"]
    assert "upstream dependency  platform/vault/chart/Chart.yaml:8" in one.stdout
    assert "platform/cilium/" not in one.stdout


def test_each_warning_is_printed_once(fifty: Path) -> None:
    outcome = run_cli("status", "--repo", str(fifty), "--offline")
    warnings = [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and len(warnings) == len(set(warnings))


@pytest.mark.parametrize("command", ["status", "check"])
def test_quiet_silences_warnings_not_results(fifty: Path, command: str) -> None:
    loud = run_cli(command, "--repo", str(fifty), "--offline")
    quiet = run_cli(command, "--repo", str(fifty), "--offline", "-q")
    assert "warning:" in loud.stderr
    assert quiet.stderr == "" and quiet.code == loud.code == 0
    assert quiet.stdout == loud.stdout
