"""The fleets ``make_fleet`` makes once and copies live in the pytest session's own directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import INCIDENT, _made_once, make_fleet, snapshot


def test_a_fleet_made_once_is_kept_under_the_sessions_base_directory(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # In a directory of its own in /tmp (removed at exit), every killed worker left one behind.
    copy = make_fleet(tmp_path / "copy", INCIDENT, git=True)
    made = _made_once(INCIDENT, True)
    assert made.is_relative_to(tmp_path_factory.getbasetemp())
    assert snapshot(copy) == snapshot(made) and (copy / ".git").is_dir()
