"""File names that are any bytes but "/" and NUL: one holding a newline or an escape sequence is
found like any other."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git
from tests.support.layouts import helmrelease

NEWLINE_DIR = "clusters/a\nb"
ESCAPE_DIR = "clusters/e\x1b[2Jx"


def fleet(root: Path, dirs: dict[bytes, str]) -> Path:
    """A repository of HelmReleases deploying flux2 (no wrapper), one per directory, committed;
    the directory names are bytes (a name need not be UTF-8)."""
    for name, version in dirs.items():
        directory = os.fsencode(root) + b"/" + name
        os.makedirs(directory)
        with open(directory + b"/flux.yaml", "w", encoding="utf-8") as file:
            file.write(helmrelease("flux", "flux2", version))
    init_git(root)
    return root


def odd(root: Path) -> Path:
    """The release in a directory whose name holds an escape sequence lags the others."""
    return fleet(
        root,
        {
            os.fsencode(NEWLINE_DIR): "2.14.1",
            os.fsencode(ESCAPE_DIR): "2.13.0",
            b"clusters/c": "2.14.1",
        },
    )


def run(command: str, repo: Path, *args: str) -> tuple[int, str]:
    outcome = run_cli(command, *args, "--repo", str(repo), "--offline")
    return outcome.code, outcome.stdout


def test_a_release_under_a_directory_whose_name_holds_a_newline_is_checked(tmp_path: Path) -> None:
    repo = odd(tmp_path / "repo")
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    files = [site["file"] for site in json.loads(status.stdout)["sites"]]
    assert f"{NEWLINE_DIR}/flux.yaml" in files, status.stdout
