"""The fleet benchmark runs and prints its table. No timing is asserted: machines differ."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    "--version",
    "grep -rl",
    "grep -rl + sed -i",
    "status --offline",
    "check --offline",
    "to 2.5.1 --no-git --offline",
)


def test_benchmark_prints_a_row_per_command_with_numbers() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.fleet", "--sizes", "10", "--runs", "1"],
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
