"""`fluxbump demo`: the main job on the bundled fleet, offline, with git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli, run_process


def test_demo_shows_violation_bump_and_clean_check(tmp_path: Path) -> None:
    outcome = run_cli("demo", "--keep", str(tmp_path / "fleet"))
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    first_check = lines.index(next(x for x in lines if x.startswith("== 1.")))
    assert lines[first_check + 1].startswith(
        f"{fleet.WRAPPER_CHART}:10: flux2 2.13.0 carries appVersion 2.3.0"
    )
    assert '+    version: "2.14.1"' in lines
    assert any(x.startswith("gate: passed: 18 pin-sites consistent") for x in lines)
    assert "check: consistent — 18 pin-sites agree" in lines
    assert lines[-1].startswith(f"kept {tmp_path / 'fleet'}: on branch main in the incident state")


def test_demo_keep_leaves_the_incident_state_on_main_and_the_bump_on_a_branch(
    tmp_path: Path,
) -> None:
    kept = tmp_path / "fleet"
    assert run_cli("demo", "--keep", str(kept)).code == 0

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=kept, capture_output=True, text=True)
        return done.stdout.strip()

    assert git("rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git("status", "--porcelain") == ""
    assert git("branch", "--format=%(refname:short)").splitlines() == ["demo/bumped", "main"]
    changed = git("diff", "--name-only", "main", "demo/bumped").splitlines()
    assert fleet.WRAPPER_CHART in changed and fleet.CLOUDINIT not in changed
    again = run_cli("to", "2.4.0", "--repo", str(kept), "--offline")
    assert again.code == 0, again.stderr
    assert git("diff", "demo/bumped", "fluxbump/flux-v2.4.0", "--stat") == ""


@pytest.mark.cold_cache  # lists every file under tmp_path
def test_demo_refuses_a_non_empty_keep_directory(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("mine")
    outcome = run_cli("demo", "--keep", str(tmp_path))
    assert outcome.code == 2 and "not empty" in outcome.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["something"]


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("a-file", "not a directory"),
        ("a-file/sub", "cannot create it (not a directory)"),
    ],
)
def test_demo_refuses_a_keep_path_it_cannot_use_in_one_line(
    tmp_path: Path, where: str, why: str
) -> None:
    """A file, or a path under one: NotADirectoryError, exit 70."""
    (tmp_path / "a-file").write_text("mine")
    keep = tmp_path / where
    outcome = run_cli("demo", "--keep", str(keep))
    assert (outcome.code, outcome.stderr) == (
        2,
        f"error: --keep {keep}: {why}; pass a new or empty directory\n",
    )
    assert (tmp_path / "a-file").read_text() == "mine"


@pytest.mark.cold_cache  # lists every file under tmp_path
def test_demo_runs_as_a_process_from_any_directory_without_colour_when_piped(
    tmp_path: Path,
) -> None:
    outcome = run_process("demo", cwd=tmp_path)
    assert outcome.code == 0, outcome.stderr
    assert "\033[" not in outcome.stdout
    assert list(tmp_path.iterdir()) == []
