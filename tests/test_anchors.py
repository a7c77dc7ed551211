"""Pins set through YAML anchors and merge keys (issue 23): found where the scalar is, edited
there once when every pin it feeds moves together, refused when they would have to diverge."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli, run_process
from tests.support.fixtures import INCIDENT, edit, make_fleet, snapshot
from tests.support.helm_server import HelmServer
from tests.support.layouts import COMMUNITY, chart, helmrelease, write_repo

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


def test_an_anchor_defined_twice_is_read_as_yaml_1_2_reads_it_and_no_python_warning_shows(
    tmp_path: Path,
) -> None:
    # Seen in coolguy1771/home-ops: a second ``&vars`` in one file. YAML 1.2 lets an anchor be
    # redefined (an alias takes the latest); libyaml refuses it, ruamel reads it but warned
    # on stderr with its own source path — noise no user can act on.
    values = "  values:\n    first: &v {a: 1}\n    second: &v {b: 2}\n    used: *v\n"
    repo = write_repo(
        tmp_path / "repo",
        {
            "platform/flux/Chart.yaml": chart(
                "platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)
            ),
            "kubernetes/flux/helmrelease.yaml": helmrelease("flux", "platform-flux", "0.2.0")
            + values,
        },
    )
    outcome = run_process("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stderr
    assert "kubernetes/flux/helmrelease.yaml:11: flux-system/flux deploys platform-flux 0.2.0" in (
        outcome.stdout
    )
    assert "Warning" not in outcome.stderr and ".py:" not in outcome.stderr
