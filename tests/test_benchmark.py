"""The fleet benchmark runs and prints its table. No timing is asserted: machines differ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    "--version",
    "grep -rl",
    "grep -rl + sed -i",
    "status --offline",
    "check --offline",
    "to 2.5.1 --no-git --offline",
)


@pytest.mark.parametrize("shape", ["flux", "real"])
def test_benchmark_prints_a_row_per_command_with_numbers(shape: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.fleet",
            "--shape",
            shape,
            "--sizes",
            "10",
            "--runs",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[0] != "command":
            rows[cells[0]] = cells
    assert set(rows) == set(COMMANDS), proc.stdout
    for name, (_, size, wall, rss, ratio) in rows.items():
        assert size == ("-" if name == "--version" else "10")
        assert float(wall) > 0 and float(rss) > 0
        if ratio != "-":
            assert float(ratio) > 0
    assert "--version <= 150 ms" in proc.stdout
    assert "peak RSS <= 150 MB" in proc.stdout


# --- the block reader gives ruamel's nodes, or gives up ---------------------------------------


def test_the_real_shape_fleet_is_consistent_with_one_component_per_wrapper(tmp_path: Path) -> None:
    from fluxbump.fleet import FleetSpec, write_fleet
    from tests.support.cli_runner import run_cli

    spec = FleetSpec(clusters=("a", "b"), flux_chart="2.14.1", wrappers=40)
    write_fleet(tmp_path, spec)
    status = run_cli("status", "--repo", str(tmp_path), "--offline", "--json")
    assert status.code == 0, status.stderr
    components = json.loads(status.stdout)["components"]
    assert len(components) == 41
    releases = sorted(tmp_path.glob("clusters/*/bootstrap-kit/*-bp-*.yaml"))
    assert len(releases) == 3 * 41  # in _template, a and b: the umbrella and the 40 wrappers
    check = run_cli("check", "--repo", str(tmp_path), "--offline")
    assert check.code == 0, check.stdout + check.stderr
