"""Every command's --help says what each option takes, and exits 0."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli

PACKAGE = Path(__file__).resolve().parent.parent / "fluxbump"

COMMANDS = ["resolve", "status", "check", "to", "sync", "init", "demo", "renovate-config",
            "ci-workflow", "completion"]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_what_options_take(command: str) -> None:
    outcome = run_cli(command, "--help")
    assert outcome.code == 0, outcome.stderr
    assert "<str>" not in outcome.stdout and "TEXT" not in outcome.stdout, outcome.stdout


def test_to_help_shows_the_metavars_a_user_types() -> None:
    text = run_cli("to", "--help").stdout
    for option in ("--repo DIR", "--helm-repo URL", "--base REV", "--branch NAME",
                   "--component NAME"):  # fmt: skip
        assert option in text, option
    assert "VERSION" in text.split("\n", 1)[0]  # the usage line


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_dash_h_is_help(command: str | None) -> None:
    args = [command] if command else []
    short, long = run_cli(*args, "-h"), run_cli(*args, "--help")
    assert short.code == 0 and short.stdout == long.stdout and "Usage:" in short.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    assert "Example" in run_cli(command, "--help").stdout


def test_help_names_every_environment_variable() -> None:
    """Each ``*_ENV = "NAME"`` fluxbump reads is in --help, except the crash-test seams."""
    source = "\n".join(p.read_text("utf-8") for p in PACKAGE.rglob("*.py"))
    names = set(re.findall(r'^[A-Z_]*_ENV = "([A-Z_]+)"', source, re.MULTILINE))
    names |= set(re.findall(r'"((?:GITHUB|GITEA)_TOKEN)"', source))
    seams = {n for n in names if re.search(r"CRASH|PAUSE", n)}
    assert {"FLUXBUMP_HTTP_TIMEOUT", "FLUXBUMP_HELM_REPO", "GITHUB_TOKEN"} <= names
    text = run_cli("--help").stdout
    for name in [*sorted(names - seams), "NO_COLOR"]:
        assert name in text, name
