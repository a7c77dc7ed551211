"""Start-up weight: the read-only commands import none of the heavy optional libraries.

A module-level import is paid by every run, however small the repository: typer 0.29 began
coercing every option through pydantic (about 80 ms of imports on the benchmark machine),
which is why pyproject.toml keeps typer below it. These tests fail if a dependency or one of
our modules starts importing such a library on the way to ``--version``, ``status`` or
``check``; they assert which modules load, never how long anything takes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import make_fleet

# Needed only by commands that use the network, git or CRD schemas: imported where used.
HEAVY = {"pydantic", "httpx", "git", "jsonschema"}
LOADED_MODULES = """
import atexit, sys
atexit.register(lambda: print(" ".join(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["fluxbump", *sys.argv[1:]]
from fluxbump.cli import main
main()
"""


def loaded_by(*args: str) -> set[str]:
    """Top-level packages imported by one CLI run in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, *args], capture_output=True, text=True, timeout=60
    )
    # A run that failed early (bad --repo, a crash) would import little and prove nothing.
    assert proc.returncode == 0, proc.stderr
    modules = proc.stderr.strip().splitlines()[-1].split()
    return {m.split(".")[0] for m in modules}


def test_version_imports_no_yaml_network_or_git_library() -> None:
    assert loaded_by("--version") & (HEAVY | {"ruamel"}) == set()


@pytest.mark.parametrize("command", ["status", "check"])
def test_offline_read_commands_import_no_heavy_library(tmp_path: Path, command: str) -> None:
    repo = make_fleet(tmp_path / "repo")
    first = loaded_by(command, "--offline", "--repo", str(repo))
    assert "fluxbump" in first and first & HEAVY == set()
    # The first run parsed the bundled index once (YAML) and kept it as JSON in the cache.
    loaded = loaded_by(command, "--offline", "--repo", str(repo))
    assert "fluxbump" in loaded and loaded & HEAVY == set()
    # Charts, Blueprints and values in the plain block style never need ruamel's composer.
    assert "ruamel" not in loaded


def test_ruamel_is_imported_when_a_file_needs_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    chart = repo / "platform/flux/chart/Chart.yaml"
    chart.write_text(chart.read_text().replace("name: bp-flux", "name: &n bp-flux", 1))
    loaded_by("status", "--offline", "--repo", str(repo))  # the index's JSON sidecar
    loaded = loaded_by("status", "--offline", "--repo", str(repo))
    assert "fluxbump" in loaded and "ruamel" in loaded  # an anchor: ruamel reads that file
