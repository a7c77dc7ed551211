"""The CLI's manners: shell completion that a real shell uses, and ``--json`` everywhere with
a stable ``ok`` key (true on success, false with the error on failure)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet
from tests.support.helm_server import HelmServer

BIN = Path(sys.executable).parent  # the fluxbump console script sits beside the interpreter


def _bash_complete(line: str) -> list[str]:
    """What bash offers after ``line`` (TAB), through the script ``completion bash`` prints."""
    words = line.split(" ")
    script = (
        "source <(fluxbump completion bash)\n"
        f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}\n"
        '_fluxbump_completion fluxbump\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return [w for w in proc.stdout.splitlines() if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_options() -> None:
    assert _bash_complete("fluxbump sy") == ["sync"]
    assert "--format" in _bash_complete("fluxbump check --fo")
    assert "--renovate-version" in _bash_complete("fluxbump renovate-config --ren")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_call_back_into_fluxbump(shell: str) -> None:
    outcome = run_cli("completion", shell)
    assert outcome.code == 0
    assert f"_FLUXBUMP_COMPLETE=complete_{shell}" in outcome.stdout


def test_completion_of_an_unknown_shell_is_exit_2() -> None:
    outcome = run_cli("completion", "tcsh")
    assert outcome.code == 2 and outcome.stdout == ""
    assert "bash, zsh, fish" in outcome.stderr


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    outcome = run_cli(*args)
    document: dict[str, Any] = json.loads(outcome.stdout)
    return outcome.code, document


def test_init_json(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    code, document = _json("init", "--json", "--repo", str(repo))
    assert code == 0 and document == {"ok": True, "written": str(repo / ".fluxbump.yaml")}
    code, document = _json("init", "--json", "--repo", str(repo))
    assert code == 2 and document["ok"] is False and "--force" in document["error"]


def test_demo_json(tmp_path: Path) -> None:
    code, document = _json("demo", "--json", "--keep", str(tmp_path / "fleet"))
    assert code == 0 and document["ok"] is True and document["exit_code"] == 0
    assert any("fluxbump to 2.4.0" in line for line in document["lines"])
    assert not any("\x1b[" in line for line in document["lines"])  # no colour inside JSON
    code, document = _json("demo", "--json", "--keep", str(tmp_path / "fleet"))  # not empty
    assert code == 2 and document["ok"] is False and "not empty" in document["error"]


def test_ci_workflow_json() -> None:
    pinned = "fluxbump==0.1.0"
    code, document = _json("ci-workflow", "--json", "--install", pinned)
    assert code == 0 and document["ok"] is True and document["install"] == pinned
    assert document["path"] == ".github/workflows/fluxbump.yml"
    assert "fluxbump check --format github" in document["workflow"]
    code, document = _json("ci-workflow", "--json", "--install", "fluxbump")
    assert code == 2 and document["ok"] is False


def test_every_success_json_has_ok_true(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    index = ("--helm-repo", helm_server.base_url)
    for args in (
        ("resolve", "2.4.0", "--json", *index),
        ("status", "--json", "--repo", str(repo), *index),
        ("check", "--json", "--repo", str(repo), *index),
        ("to", "2.5.1", "--dry-run", "--json", "--repo", str(repo), *index),
        ("sync", "--json", "--repo", str(repo), *index),
    ):
        code, document = _json(*args)
        assert code == 0 and document["ok"] is True, args
    code, document = _json("resolve", "9.9.9", "--json", *index)
    assert code == 3 and document["ok"] is False and document["exit_code"] == 3
