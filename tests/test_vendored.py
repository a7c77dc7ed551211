"""Vendored ``charts/<name>-<version>.tgz``: reported by check when its pin moved away."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, make_fleet

ARCHIVES = "platform/flux/chart/charts"


def vendor(repo: Path, *names: str) -> None:
    (repo / ARCHIVES).mkdir(parents=True, exist_ok=True)
    for name in names:
        (repo / ARCHIVES / name).write_bytes(b"\x1f\x8b not read: only the name is compared")


def test_an_archive_of_another_version_is_stale(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    vendor(repo, "flux2-2.13.0.tgz")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert (
        f"{fleet.WRAPPER_CHART}:10: vendored charts/flux2-2.13.0.tgz is not flux2 2.14.1, the "
        "version pinned here; run 'helm dependency build platform/flux/chart'"
    ) in outcome.stdout


def test_the_pinned_archive_is_not_stale(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    vendor(repo, "flux2-2.14.1.tgz", "flux2-extras-1.0.0.tgz")  # another chart's name prefix
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout


def test_to_names_the_archive_it_leaves_and_check_reports_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    vendor(repo, "flux2-2.13.0.tgz")
    bumped = run_cli("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert bumped.code == 0, bumped.stderr
    assert "vendored charts/flux2-2.13.0.tgz is not flux2 2.14.1" in bumped.stderr
    assert (repo / ARCHIVES / "flux2-2.13.0.tgz").exists()  # not downloaded: left for helm
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1
