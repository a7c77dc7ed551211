"""`fluxbump sync`: after Renovate moves one pin, every other pin follows; git is never touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, edit, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def sync(server: HelmServer, repo: Path, *args: str) -> Outcome:
    return run_cli("sync", *args, "--repo", str(repo), "--helm-repo", server.base_url)


def git_objects(repo: Path) -> set[str]:
    return {p.relative_to(repo).as_posix() for p in (repo / ".git/objects").rglob("*")}


def check_code(server: HelmServer, repo: Path) -> int:
    return run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url).code


def test_renovate_moved_the_install_url_and_sync_moves_the_rest(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.5.1/")
    objects, head = git_objects(repo), git(repo, "rev-parse", "HEAD")
    outcome = sync(helm_server, repo)
    assert outcome.code == 0, outcome.stderr
    assert 'version: "2.15.0"' in (repo / fleet.WRAPPER_CHART).read_text()
    assert 'version: "2.15.0"' in (repo / fleet.WRAPPER_VALUES).read_text()
    assert "version: 1.1.2" in (repo / fleet.WRAPPER_BLUEPRINT).read_text()
    assert check_code(helm_server, repo) == 0
    assert git_objects(repo) == objects and git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_second_sync_leaves_the_tree_byte_identical(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.5.1/")
    assert sync(helm_server, repo).code == 0
    before = snapshot(repo)
    again = sync(helm_server, repo)
    assert again.code == 0 and "nothing to do" in again.stdout
    assert snapshot(repo) == before


def test_renovate_moved_the_chart_and_sync_from_chart_moves_the_url(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.WRAPPER_CHART, 'version: "2.14.1"', 'version: "2.15.0"')
    outcome = sync(helm_server, repo, "--from", "chart", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["to"] == {"release": "2.5.1", "chart": "2.15.0"}
    assert document["applied"] is True and document["branch"] is None
    assert "download/v2.5.1/install.yaml" in (repo / fleet.CLOUDINIT).read_text()
    assert check_code(helm_server, repo) == 0


@pytest.mark.parametrize("moved", [fleet.WRAPPER_CHART, fleet.WRAPPER_VALUES])
def test_without_from_sync_follows_whichever_flux_pin_renovate_moved(
    tmp_path: Path, helm_server: HelmServer, moved: str
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, moved, 'version: "2.14.1"', 'version: "2.15.0"')
    outcome = sync(helm_server, repo, "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["from"] == {"release": "2.4.0", "chart": "2.14.1"}
    assert document["to"] == {"release": "2.5.1", "chart": "2.15.0"}
    assert "download/v2.5.1/install.yaml" in (repo / fleet.CLOUDINIT).read_text()
    assert check_code(helm_server, repo) == 0


def test_flux_pins_moved_to_different_releases_exit_2(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.WRAPPER_CHART, 'version: "2.14.1"', 'version: "2.15.0"')
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.6.0/")
    before = snapshot(repo)
    outcome = sync(helm_server, repo)
    assert outcome.code == 2
    assert "(upstream dependency) 2.14.1 -> 2.15.0 (Flux 2.5.1)" in outcome.stderr
    assert snapshot(repo) == before


def test_sync_on_incident_state_realigns_to_cloud_init(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    assert sync(helm_server, repo).code == 0
    assert 'version: "2.14.1"' in (repo / fleet.WRAPPER_CHART).read_text()
    assert check_code(helm_server, repo) == 0


def test_consistent_tree_is_exit_0_and_untouched(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    before = snapshot(repo)
    outcome = sync(helm_server, repo)
    assert outcome.code == 0 and "nothing to do" in outcome.stdout
    assert snapshot(repo) == before


def test_unknown_source_is_exit_2(tmp_path: Path, helm_server: HelmServer) -> None:
    outcome = sync(helm_server, make_fleet(tmp_path / "repo"), "--from", "values")
    assert outcome.code == 2 and "--from must be one of cloud-init, chart" in outcome.stderr


def test_chart_missing_from_index_is_exit_3(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    edit(repo, fleet.WRAPPER_CHART, 'version: "2.14.1"', 'version: "9.9.9"')
    before = snapshot(repo)
    outcome = sync(helm_server, repo, "--from", "chart")
    assert outcome.code == 3 and "9.9.9 is not in the index" in outcome.stderr
    assert snapshot(repo) == before


def test_a_moved_umbrella_pin_of_a_repo_chart_is_a_conflict_not_undone(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Renovate's helmv3 manager moved the umbrella's pin of the repo's own wrapper (published
    # as 1.1.2 elsewhere) while the wrapper here is 1.1.1: sync used to move it back, exit 0.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    pin = "  - name: bp-flux\n    version: 1.1.1\n"
    edit(repo, fleet.UMBRELLA_CHART, pin, pin.replace("1.1.1", "1.1.2"))
    before = snapshot(repo)
    outcome = sync(helm_server, repo)
    assert outcome.code == 2
    line = f"{fleet.UMBRELLA_CHART}:9: bp-catalyst-platform's pin of bp-flux moved 1.1.1 -> 1.1.2"
    assert line in outcome.stderr
    assert "sync does not undo it" in outcome.stderr and len(outcome.stderr.splitlines()) == 1
    assert snapshot(repo) == before


def test_a_moved_umbrella_pin_that_sync_agrees_with_is_kept(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Renovate moved the install URL and the umbrella's pin to the wrapper version that the
    # sync computes: nothing to undo, and the pin stays.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.5.1/")
    pin = "  - name: bp-flux\n    version: 1.1.1\n"
    edit(repo, fleet.UMBRELLA_CHART, pin, pin.replace("1.1.1", "1.1.2"))
    outcome = sync(helm_server, repo)
    assert outcome.code == 0, outcome.stderr
    assert pin.replace("1.1.1", "1.1.2") in (repo / fleet.UMBRELLA_CHART).read_text()
    assert check_code(helm_server, repo) == 0


def test_renovate_moved_the_install_url_to_a_release_with_no_chart_yet(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.5.0/")
    before = snapshot(repo)
    outcome = run_cli("sync", "--json", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 3
    (line,) = outcome.stderr.splitlines()
    assert line.startswith(f"error: {fleet.CLOUDINIT}:")
    assert "has no 'flux2' chart in the index yet" in line and "wait until a chart" in line
    assert "2.4.0 -> 2.14.1" in line  # the nearest releases that have one
    assert json.loads(outcome.stdout)["ok"] is False
    assert snapshot(repo) == before
