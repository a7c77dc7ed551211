"""The console script's entry point: what it sets up before the CLI runs."""

from __future__ import annotations

import gc

import pytest

from fluxbump import __main__ as entry
from fluxbump import cli

INTERPRETER_DEFAULT = 700  # CPython's young-generation threshold


def test_the_cli_runs_with_young_collections_every_50000_allocations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.get_threshold()))
    before = gc.get_threshold()  # tests/conftest.py sets the CLI's setting for the session
    gc.set_threshold(INTERPRETER_DEFAULT, *before[1:])
    try:
        entry._main(["schema"])  # any command the CLI answers
    finally:
        gc.set_threshold(*before)
    assert seen == [(entry.GC_YOUNG_THRESHOLD, *before[1:])]
    assert INTERPRETER_DEFAULT < entry.GC_YOUNG_THRESHOLD
