from __future__ import annotations

import re
from pathlib import Path

import pytest

from fluxbump import versions
from fluxbump.errors import UsageError
from tests.support.cli_runner import run_cli
from tests.support.fixtures import make_fleet


def test_semver_precedence_orders_prereleases_before_release_and_numbers_numerically() -> None:
    given = ["2.0.0", "1.1.10", "2.0.0-rc.3", "1.1.9", "2.0.0-rc.10", "2.0.0-beta.1"]
    ordered = sorted(given, key=versions.sort_key)
    assert ordered == ["1.1.9", "1.1.10", "2.0.0-beta.1", "2.0.0-rc.3", "2.0.0-rc.10", "2.0.0"]


def test_build_metadata_is_ignored_for_precedence() -> None:
    assert versions.sort_key("1.2.3+build.7") == versions.sort_key("1.2.3")


def test_v_prefix_is_accepted_and_normalised() -> None:
    assert versions.normalize("v2.4.0") == "2.4.0"
    assert versions.equal("v2.4.0", "2.4.0")


@pytest.mark.parametrize("bad", ["2.4", "v2.4.0; rm -rf /", "../2.4.0", "", "2.4.0.1", "latest!"])
def test_malformed_versions_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="not a version"):
        versions.parse(bad)


def test_bump_patch_keeps_prefix() -> None:
    assert versions.bump_patch("1.1.9") == "1.1.10"
    assert versions.bump_patch("v1.16.5") == "v1.16.6"


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("^1.0", "1.1.2", True),
        ("^1.0", "2.0.0", False),
        ("^0.2", "0.2.9", True),
        ("^0.2", "0.3.0", False),
        ("~1.2", "1.2.9", True),
        ("~1.2", "1.3.0", False),
        (">= 1.2, < 2", "1.9.0", True),
        (">=1.2 <2", "2.0.0", False),
        ("1.x", "1.7.3", True),
        ("1.x", "2.0.0", False),
        ("1.0.0 - 1.4", "1.4.9", True),
        ("1.0.0 - 1.4", "1.5.0", False),
        ("^1.0 || ^2.0", "2.3.0", True),
        ("^1.0", "1.2.0-rc.1", False),
        ("=1.1.2", "1.1.2", True),
        ("!=1.1.2", "1.1.2", False),
    ],
)
def test_helm_constraints(constraint: str, version: str, expected: bool) -> None:
    assert versions.admits(constraint, version) is expected


def test_constraint_detection() -> None:
    assert versions.is_constraint("^1.0")
    assert versions.is_constraint(">= 1.2, < 2")
    assert not versions.is_constraint("1.2.3")
    assert not versions.is_constraint("${VERSION}")


def test_a_short_chart_version_is_read_as_helm_completes_it() -> None:
    """Helm reads a chart's ``version: "1.10"`` as 1.10.0 (Masterminds): ranges admit it."""
    assert versions.admits("^1.0", "1.10") and versions.admits("1.10", "1.10")
    assert versions.admits(">= 2", "v2") and not versions.admits("~1.9", "1.10")


def test_check_passes_a_wrapper_chart_of_a_two_part_version(tmp_path: Path) -> None:
    """A wrapper chart at "1.10" with its releases at "1.10": check said "range 1.10 does not
    admit bp-flux 1.10" and that the Blueprint's ^1.0 did not admit it (found by a helper)."""
    repo = make_fleet(
        tmp_path / "repo", wrapper_version="1.10", umbrella_version="1.10", flux_chart="2.14.1"
    )
    for release in repo.glob("clusters/*/bootstrap-kit/*.yaml"):
        text = release.read_text()
        release.write_text(re.sub(r"version: 1\.10$", 'version: "1.10"', text, flags=re.M))
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "consistent — 18 pin-sites agree" in outcome.stdout
