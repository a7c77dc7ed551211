"""SECURITY.md "Safe YAML only": a tag that would run code when constructed (PyYAML's
``!!python/object/apply``) is never executed, in a repository manifest or in the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot


def evil(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))


def test_a_manifest_with_a_code_tag_is_never_constructed(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    manifest = repo / "clusters/a.example/evil.yaml"  # names bp-flux: parsed, not skipped
    manifest.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bp-flux-notes\ndata: {evil(marker)}\n"
    )
    before = snapshot(repo)
    for args in (("status",), ("check",), ("to", "2.5.1", "--no-git", "--dry-run")):
        outcome = run_cli(*args, "--repo", str(repo), "--offline", "--json")
        assert outcome.code in (0, 1), (args, outcome.stderr)
        assert "Traceback" not in outcome.stderr
    assert not marker.exists() and snapshot(repo) == before


def test_a_config_with_a_code_tag_is_refused_and_never_constructed(
    repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    (repo / ".fluxbump.yaml").write_text(f"wrapper: {evil(marker)}\n")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 2
    assert outcome.stderr.startswith("error: .fluxbump.yaml:1: cannot read configuration")
    assert not marker.exists()
