"""Start-up weight: the read-only commands import none of the heavy optional libraries.

A module-level import is paid by every run, however small the repository: typer 0.29 began
coercing every option through pydantic (about 80 ms of imports on the benchmark machine),
which is why pyproject.toml keeps typer below it. These tests fail if a dependency or one of
our modules starts importing such a library on the way to ``--version``, ``status`` or
``check``; they assert which modules load, never how long anything takes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from fluxbump import __version__
from tests.support.cli_runner import run_cli, run_entry_point, run_process
from tests.support.fixtures import make_fleet

# Needed only by commands that use the network, git or CRD schemas: imported where used.
HEAVY = {"pydantic", "httpx", "git", "jsonschema"}
# Offline status/check validate Flux objects against the bundled CRD schemas (the pre-commit
# hook's mode): jsonschema, and ruamel for each distinct Flux document, are their price; the
# network and git stay out.
HEAVY_OFFLINE = HEAVY - {"jsonschema"}


def loaded_by(*args: str) -> set[str]:
    """Top-level packages imported by one CLI run in a fresh interpreter."""
    printed, modules = run_entry_point(*args)
    # A run that failed early (bad --repo, a crash) would import little and prove nothing.
    assert printed.code == 0, printed.stderr
    return modules


def test_version_imports_no_yaml_network_or_git_library() -> None:
    assert loaded_by("--version") & (HEAVY | {"ruamel"}) == set()


def test_version_is_answered_before_the_cli_loads() -> None:
    # Typer and click are most of a ``--version`` run; any other argument still needs them.
    assert loaded_by("--version") & {"typer", "click", "rich"} == set()
    assert "typer" in loaded_by("--version", "--help")


def test_the_installed_command_is_the_entry_point_measured_here() -> None:
    # LOADED_MODULES calls ``fluxbump.__main__.main``: the console script must be that one,
    # or these tests would guard a path no user takes.
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["fluxbump"] == "fluxbump.__main__:main"


def test_early_version_prints_what_the_cli_prints() -> None:
    early, via_cli = run_process("--version"), run_cli("--version")
    assert early.code == via_cli.code == 0
    assert early.stdout == via_cli.stdout == f"fluxbump {__version__}\n"


@pytest.mark.parametrize("command", ["status", "check"])
def test_offline_read_commands_import_no_heavy_library(tmp_path: Path, command: str) -> None:
    repo = make_fleet(tmp_path / "repo")
    first = loaded_by(command, "--offline", "--repo", str(repo))
    assert "fluxbump" in first and first & HEAVY_OFFLINE == set()
    # The first run parsed the bundled index once (YAML) and kept it as JSON in the cache.
    loaded = loaded_by(command, "--offline", "--repo", str(repo))
    assert "fluxbump" in loaded and loaded & HEAVY_OFFLINE == set()
    assert "jsonschema" in loaded  # the schemas were checked, offline
