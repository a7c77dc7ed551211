"""Which Helm repository a command reads: ``--helm-repo``, else ``$FLUXBUMP_HELM_REPO``, else
``helm_repo`` in ``.fluxbump.yaml``, else the default (the usual CLI order: flag, environment,
configuration file). The configuration file won over the environment: a job exporting
``FLUXBUMP_HELM_REPO`` for a mirror read the repository's own setting instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet

# Each names an index that is not there: the error says which one was read.
FLAG, ENV, CONFIG = (f"/nonexistent/{name}-index.yaml" for name in ("flag", "env", "config"))
COMMANDS = {
    "check": ("check",),
    "to": ("to", "2.5.1", "--dry-run"),
    "sync": ("sync", "--dry-run"),
    "resolve --safe": ("resolve", "latest", "--safe"),
}


def configured(tmp_path: Path) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / ".fluxbump.yaml").write_text(f"helm_repo: {CONFIG}\n")
    return repo


def read_index(repo: Path, command: str, *flag: str, env: str | None = None) -> str:
    """The index the command tried to read (each of these is missing: exit 3 naming it)."""
    outcome = run_cli(*COMMANDS[command], "--repo", str(repo), *flag,
                      env={"FLUXBUMP_HELM_REPO": env})  # fmt: skip
    assert outcome.code == 3, outcome.stdout + outcome.stderr
    assert outcome.stderr.startswith("error: /nonexistent/"), outcome.stderr
    return outcome.stderr.removeprefix("error: ").split(":")[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_environment_wins_over_the_config_file(tmp_path: Path, command: str) -> None:
    assert read_index(configured(tmp_path), command, env=ENV) == ENV


@pytest.mark.parametrize("command", COMMANDS)
def test_the_flag_wins_over_the_environment(tmp_path: Path, command: str) -> None:
    assert read_index(configured(tmp_path), command, "--helm-repo", FLAG, env=ENV) == FLAG


@pytest.mark.parametrize("command", COMMANDS)
def test_the_config_file_wins_over_the_default(tmp_path: Path, command: str) -> None:
    assert read_index(configured(tmp_path), command) == CONFIG


def test_the_help_texts_say_the_same_order() -> None:
    order = "--helm-repo, else $FLUXBUMP_HELM_REPO, else helm_repo in .fluxbump.yaml"
    for command in ("to", "sync", "check", "status", "resolve"):
        shown = run_cli(command, "--help", env={"COLUMNS": "400"})
        assert order in " ".join(shown.stdout.split()), command
    top = run_cli("--help", env={"COLUMNS": "400"})
    said = "FLUXBUMP_HELM_REPO: Helm repo of the chart (as --helm-repo; over .fluxbump.yaml's)"
    assert said in " ".join(top.stdout.split())
