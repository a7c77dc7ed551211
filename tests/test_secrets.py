"""Forge tokens never leave the process: every printing function scrubs them (issue 18 item 6).

The end-to-end cases (a forge echoing the token in a pull request URL or an error body,
text and ``--json``) are in tests/test_scheduled.py; these pin the scrub itself on each
output path and on the forms a token takes when a server echoes it.
"""

from __future__ import annotations

import json

import pytest

from fluxbump import output, secrets

TOKEN = "ghp_Echo/Me+Back=0123456789"


@pytest.fixture(autouse=True)
def token_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITEA_TOKEN", TOKEN)
    monkeypatch.setattr(secrets, "_held", set())  # what other tests held stays theirs


@pytest.mark.parametrize(
    "printer", [output.out, output.err, output.warn, output.error], ids=lambda f: f.__name__
)
def test_every_text_path_scrubs_the_token(
    printer: object, capsys: pytest.CaptureFixture[str]
) -> None:
    printer(f"pull request at https://forge.example/pr/1?token={TOKEN}")  # type: ignore[operator]
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert TOKEN not in printed
    assert "https://forge.example/pr/1?token=***" in printed


def test_json_scrubs_every_string_of_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_json({"pr_url": f"https://x/{TOKEN}", "notes": [f"said {TOKEN}"], "n": 1})
    document = json.loads(capsys.readouterr().out)
    assert document == {"pr_url": "https://x/***", "notes": ["said ***"], "n": 1}


@pytest.mark.parametrize(
    "echoed",
    [
        TOKEN,
        "ghp_Echo%2FMe%2BBack%3D0123456789",  # quoted in a query string
        "ghp_Echo/Me%2BBack%3D0123456789",  # quoted in a path
    ],
)
def test_echoed_forms_are_scrubbed(echoed: str) -> None:
    assert secrets.scrub(f"<{echoed}>") == "<***>"


def test_a_held_token_is_scrubbed_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITEA_TOKEN")
    held = "tok-held-" + "x" * 20
    assert secrets.scrub(held) == held
    secrets.hold(held)
    assert secrets.scrub(f"a {held} b") == "a *** b"


def test_short_values_are_not_treated_as_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    assert secrets.scrub("example text") == "example text"
