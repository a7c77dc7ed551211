"""Every command's --help says what each option takes, and exits 0."""

from __future__ import annotations

import pytest

from tests.cli_runner import run_cli

COMMANDS = ["resolve", "status", "check", "to", "sync", "init", "demo", "renovate-config",
            "ci-workflow"]  # fmt: skip


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
