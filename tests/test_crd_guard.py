"""The storedVersions guard through the CLI, on the real CRD facts of flux2 releases."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def test_check_explains_the_seed_failure(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 1
    line = next(x for x in outcome.stdout.splitlines() if "CRDs stop serving" in x)
    assert line.startswith(f"{fleet.WRAPPER_CHART}:10: flux2 2.13.0 CRDs stop serving")
    assert "buckets.source.toolkit.fluxcd.io/v1 (storage version now)" in line


def test_downgrade_dropping_a_stored_version_is_refused_even_when_allowed(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    before = snapshot(repo)
    outcome = run_cli(
        "to", "2.3.0", "--allow-downgrade", "--repo", str(repo), "--helm-repo", helm_server.base_url
    )
    assert outcome.code == 4
    assert "buckets.source.toolkit.fluxcd.io/v1" in outcome.stderr
    assert "no migration frees the current storage version" in outcome.stderr
    assert "--force-unsafe-crds" in outcome.stderr and "--crds-migrated" not in outcome.stderr
    assert snapshot(repo) == before


def test_force_unsafe_crds_proceeds_with_a_loud_warning(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    outcome = run_cli(
        "to", "2.3.0", "--allow-downgrade", "--force-unsafe-crds", "--repo", str(repo),
        "--helm-repo", helm_server.base_url,
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert (
        "warning: --force-unsafe-crds: flux2 2.14.1 (platform/flux/chart/Chart.yaml:10 and 1 "
        "more) -> flux2 2.13.0 stops serving" in outcome.stderr
    )


def test_safe_upgrade_passes_the_guard(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr


def test_upgrade_that_drops_beta_apis_is_refused(tmp_path: Path, helm_server: HelmServer) -> None:
    # flux2 2.17.1 (Flux 2.7.2) stops serving every v1beta1, which 2.16.4 (Flux 2.6.4) serves.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, flux_release="2.6.4", flux_chart="2.16.4")
    outcome = run_cli("to", "2.7.2", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 4, outcome.stderr
    assert "v1beta1" in outcome.stderr


def crd_lines(repo: Path, server: HelmServer) -> list[str]:
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url)
    assert outcome.code == 1  # the cloud-init install and the chart's appVersion differ
    return [x for x in outcome.stdout.splitlines() if "CRDs stop serving" in x]


def test_check_compares_only_versions_the_clusters_may_have_stored(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Renovate moved the chart to 2.18.3 (Flux 2.8.5) while cloud-init still installs 2.7.5:
    # 2.7 serves a dozen v1beta2 versions 2.8 drops, but stores none of them (the real catalog).
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    fleet.write_fleet(repo, fleet.FleetSpec(flux_release="2.7.5", flux_chart="2.18.3"))
    assert crd_lines(repo, helm_server) == []


def test_check_still_fails_a_version_a_pinned_release_stored(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The same move, but the history shows Flux 2.3.0, which stored Buckets as v1beta2.
    repo = make_fleet(
        tmp_path / "repo", CONSISTENT, git=True, flux_release="2.3.0", flux_chart="2.13.0"
    )
    fleet.write_fleet(repo, fleet.FleetSpec(**FLUX_2_7))
    git(repo, "commit", "-qam", "Flux 2.7.5")
    fleet.write_fleet(repo, fleet.FleetSpec(flux_release="2.7.5", flux_chart="2.18.3"))
    [line] = crd_lines(repo, helm_server)
    assert line.startswith(f"{fleet.WRAPPER_CHART}:10: flux2 2.18.3 CRDs stop serving ")
    assert "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0)" in line
    assert "helmreleases.helm.toolkit.fluxcd.io/v2beta2" not in line  # served only


FLUX_2_7 = {"flux_release": "2.7.5", "flux_chart": "2.17.2"}
