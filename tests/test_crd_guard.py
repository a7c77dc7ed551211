"""The storedVersions guard through the CLI, on the real CRD facts of flux2 releases."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, make_fleet, snapshot
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
        "warning: --force-unsafe-crds: flux2 2.14.1 -> flux2 2.13.0 stops serving" in outcome.stderr
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
