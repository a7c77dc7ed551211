"""Pins set through YAML anchors and merge keys (issue 23): found where the scalar is, edited
there once when every pin it feeds moves together, refused when they would have to diverge."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import INCIDENT, edit, make_fleet, snapshot
from tests.support.helm_server import HelmServer

RELEASE = f"clusters/muscat.omani.works/{fleet.FLUX_RELEASE_FILE}"
PLAIN_SPEC = "    spec:\n      chart: bp-flux\n      version: 1.1.1\n"
MERGED_SPEC = "    spec:\n      <<: &bp-flux\n        chart: bp-flux\n        version: 1.1.1\n"


def to(repo: Path, server: HelmServer) -> Outcome:
    return run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url, "--no-git")


def test_a_chart_spec_set_through_a_merge_key_is_found_and_moved(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    edit(repo, RELEASE, PLAIN_SPEC, MERGED_SPEC.replace("1.1.1", "1.1.0"))
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1
    assert f"{RELEASE}:32: flux-system/bp-flux deploys bp-flux 1.1.0, chart is 1.1.1" in (
        check.stdout
    )
    before = (repo / RELEASE).read_text()
    outcome = to(repo, helm_server)
    assert outcome.code == 0, outcome.stderr
    assert f"{RELEASE}:32: HelmRelease (flux-system/bp-flux) 1.1.0 -> 1.1.2" in outcome.stdout
    assert (repo / RELEASE).read_text() == before.replace(
        "        version: 1.1.0\n", "        version: 1.1.2\n"
    )


UMBRELLA_OWN = "version: 1.1.1\nappVersion"
UMBRELLA_DEP = "  - name: bp-flux\n    version: 1.1.1\n"


def test_one_anchored_scalar_feeding_pins_that_move_together_is_edited_once(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The umbrella's own version and its pin of bp-flux are one scalar: both go 1.1.1 -> 1.1.2.
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    edit(repo, fleet.UMBRELLA_CHART, UMBRELLA_OWN, "version: &v 1.1.1\nappVersion")
    edit(repo, fleet.UMBRELLA_CHART, UMBRELLA_DEP, "  - name: bp-flux\n    version: *v\n")
    before = (repo / fleet.UMBRELLA_CHART).read_text()
    outcome = to(repo, helm_server)
    assert outcome.code == 0, outcome.stderr
    assert (repo / fleet.UMBRELLA_CHART).read_text() == before.replace(
        "version: &v 1.1.1", "version: &v 1.1.2"
    ).replace('appVersion: "1.1.1"', 'appVersion: "1.1.2"')


def test_one_anchored_scalar_feeding_pins_that_must_diverge_is_refused(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # bp-flux moves to 1.1.2, bp-cert-manager stays at 1.1.1: one scalar cannot hold both.
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    edit(repo, fleet.UMBRELLA_CHART, UMBRELLA_DEP, "  - name: bp-flux\n    version: &v 1.1.1\n")
    edit(repo, fleet.UMBRELLA_CHART, "    version: 1.4.0\n", "    version: *v\n")
    before = snapshot(repo)
    outcome = to(repo, helm_server)
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        f"error: {fleet.UMBRELLA_CHART}:9: one YAML anchor sets the dependent pin bp-flux "
        "(bp-catalyst-platform) and the dependent pin bp-cert-manager (bp-catalyst-platform), "
        "which must move apart (1.1.2 and 1.1.1); give each its own value and re-run; "
        "nothing written"
    )
    assert snapshot(repo) == before
