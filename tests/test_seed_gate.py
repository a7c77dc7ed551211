"""The seed's own gate script (cases 1, 2 and 4) agrees with `fluxbump check` on fixture repos.

The script is read from ../shared/spec at test time (never copied into the project); its
helm-dependent cases 3, 5 and 6 are cut out, since they need helm and the network.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import edit, make_fleet

SPEC = Path(__file__).resolve().parents[2] / "shared/spec/incident-commit-with-gate-script.txt"


def seed_cases_1_2_4() -> str:
    lines = SPEC.read_text("utf-8").splitlines()
    script = [x for x in lines[lines.index("#!/usr/bin/env bash") :] if x.strip() != "|"]
    text = "\n".join(script)
    case3, case4, case5 = (text.index(f"# ── Case {n}") for n in (3, 4, 5))
    return text[:case3] + text[case4:case5] + '\necho "seed cases 1, 2, 4 green"\n'


def seed_gate(repo: Path, tmp_path: Path) -> int:
    script = tmp_path / "seed-gate.sh"
    script.write_text(seed_cases_1_2_4())
    chart_dir = repo / "platform/flux/chart"
    proc = subprocess.run(
        ["bash", str(script), str(chart_dir)], env={"REPO_ROOT": str(repo), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return proc.returncode


BREAKAGES = {
    "consistent": None,
    "values mirror drifted": (fleet.WRAPPER_VALUES, 'version: "2.14.1"', 'version: "2.13.0"'),
    "install URL not pinned to a v-tag": (fleet.CLOUDINIT, "download/v2.4.0/", "download/latest/"),
    "flux2 dependency without a version": (fleet.WRAPPER_CHART, '    version: "2.14.1"\n', ""),
}


@pytest.mark.skipif(not SPEC.is_file(), reason="../shared/spec is not beside this checkout")
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_seed_gate_and_check_agree(tmp_path: Path, breakage: str) -> None:
    repo = make_fleet(tmp_path / "repo")
    change = BREAKAGES[breakage]
    if change is not None:
        edit(repo, *change)
    seed_ok = seed_gate(repo, tmp_path) == 0
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code in (0, 1), check.stderr
    assert seed_ok == (check.code == 0) == (change is None)
