"""`fluxbump renovate-config`: the snippet each Renovate release accepts, for this repository.

The vendored schemas (tests/data/renovate/, made by tests/renovate_schema.py from each
release's renovate-schema.json) close every object fluxbump writes, so an option a release
does not know fails here, offline, as Renovate's own validator fails on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fluxbump import fleet
from fluxbump.commands.renovate import glob_to_regex
from tests.support.cli_runner import run_cli
from tests.support.fixtures import make_fleet

SCHEMAS = sorted((Path(__file__).parent / "data" / "renovate").glob("renovate-*.schema.json"))


def _release(schema: Path) -> str:
    return schema.name.removeprefix("renovate-").removesuffix(".schema.json")


def generated(repo: Path, *args: str) -> dict[str, Any]:
    outcome = run_cli("renovate-config", "--repo", str(repo), *args)
    assert outcome.code == 0, outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def problems(schema: Path, config: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(schema.read_text("utf-8")))
    return [error.message for error in validator.iter_errors(config)]


def test_both_validated_releases_are_vendored() -> None:
    assert {_release(s).split(".")[0] for s in SCHEMAS} >= {"39", "42"}


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_config_for_a_release_is_what_its_schema_accepts(tmp_path: Path, schema: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    release = _release(schema)
    assert problems(schema, generated(repo, "--renovate-version", release)) == []
    other = "42" if int(release.split(".")[0]) < 41 else "39"
    refused = problems(schema, generated(repo, "--renovate-version", other))
    assert refused and all("was unexpected" in p for p in refused)


def test_default_is_the_current_form(tmp_path: Path) -> None:
    config = generated(make_fleet(tmp_path / "fleet"))
    for manager in config["customManagers"]:
        assert manager["managerFilePatterns"] == ["**/*.tftpl"] and "fileMatch" not in manager


def test_renovate_39_gets_a_regex_that_matches_the_cloud_init_template(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    config = generated(repo, "--renovate-version", "39.264.1")
    for manager in config["customManagers"]:
        assert "managerFilePatterns" not in manager
        (pattern,) = manager["fileMatch"]
        assert re.search(pattern, fleet.CLOUDINIT)
        assert re.search(pattern, "cloudinit.tftpl")  # ** spans no directory too
        assert not re.search(pattern, fleet.WRAPPER_CHART)
        assert not re.search(pattern, "infra/x.tftpl.bak")


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("**/*.tftpl", "a/b/c.tftpl", True),
        ("infra/*/cloud-init.tftpl", "infra/hetzner/cloud-init.tftpl", True),
        ("infra/*/cloud-init.tftpl", "infra/a/b/cloud-init.tftpl", False),
        ("infra/*/cloud-init.tftpl", "infra/hetzner/cloud-initxtftpl", False),
        ("x?.tftpl", "x1.tftpl", True),
    ],
)
def test_glob_to_regex(glob: str, path: str, matches: bool) -> None:
    assert bool(re.search(glob_to_regex(glob), path)) is matches
    assert "\\-" not in glob_to_regex(glob)  # a syntax error in a JavaScript unicode regex


def test_file_filters_cover_every_file_sync_can_write(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    (repo / ".fluxbump.yaml").write_text(
        'cloudinit: ["infra/**/*.tftpl"]\nclusters: ["kubernetes/**/*.yaml"]\n', "utf-8"
    )
    for rule in generated(repo)["packageRules"]:
        if "postUpgradeTasks" in rule:
            filters = rule["postUpgradeTasks"]["fileFilters"]
            for glob in ("**/*.yaml", "**/*.yml", "**/Chart.lock", "infra/**/*.tftpl"):
                assert glob in filters
            assert "kubernetes/**/*.yaml" in filters
            for glob in ("**/.tool-versions", "**/mise.toml", "**/*.tf"):  # Flux CLI/Terraform
                assert glob in filters


def test_charts_of_the_repository_are_not_updated_by_renovate(tmp_path: Path) -> None:
    config = generated(make_fleet(tmp_path / "fleet"))
    (rule,) = (r for r in config["packageRules"] if r.get("enabled") is False)
    assert rule["matchDepNames"] == ["bp-catalyst-platform", "bp-flux"]  # not flux2: upstream


def test_a_repository_without_local_charts_has_no_empty_matcher(tmp_path: Path) -> None:
    repo = tmp_path / "bare"
    repo.mkdir()
    config = generated(repo)
    assert all(r.get("matchDepNames") != [] for r in config["packageRules"])
    assert not any(r.get("enabled") is False for r in config["packageRules"])


@pytest.mark.parametrize("bad", ["latest", "39.x", "", "v"])
def test_a_bad_renovate_version_is_one_line_and_exit_2(tmp_path: Path, bad: str) -> None:
    outcome = run_cli("renovate-config", "--repo", str(tmp_path), "--renovate-version", bad)
    assert outcome.code == 2 and outcome.stdout == ""
    assert "--renovate-version" in outcome.stderr and len(outcome.stderr.splitlines()) == 1
