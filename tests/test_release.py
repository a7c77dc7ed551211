"""The release process (README: Releasing): one version, a CHANGELOG section per release."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import fluxbump

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "fluxbump/__init__.py"
    assert version("fluxbump") == fluxbump.__version__


def test_changelog_has_unreleased_then_dated_release_sections() -> None:
    headings = re.findall(r"^## (.*)$", (ROOT / "CHANGELOG.md").read_text("utf-8"), re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    for heading in headings[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", heading), heading
