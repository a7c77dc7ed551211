"""Kustomize patches of a HelmRelease's chart version (a HelmRelease document that sets
``spec.chart.spec.version`` and names no chart) pin the chart of the release they patch."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from fluxbump.config import Config
from fluxbump.scan.discover import resurvey, survey
from tests.support.cli_runner import run_cli
from tests.support.data import manifest
from tests.support.fixtures import INCIDENT, edit, make_fleet
from tests.support.helm_server import HelmServer
from tests.support.overlays import JSON6902, KUSTOMIZATION, PATCH, STRATEGIC, patch


def patched_fleet(root: Path, version: str, *, namespace: str = "flux-system") -> Path:
    repo = make_fleet(root, INCIDENT)
    (repo / PATCH).parent.mkdir(parents=True)
    (repo / PATCH).write_text(patch(version, namespace))
    return repo


def test_to_moves_the_patched_version_with_every_other_pin(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = patched_fleet(tmp_path / "repo", "1.1.1")
    outcome = run_cli(
        "to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url, "--no-git"
    )
    assert outcome.code == 0, outcome.stderr
    assert f"{PATCH}:10: HelmRelease (flux-system/bp-flux (patch)) 1.1.1 -> 1.1.2" in (
        outcome.stdout
    )
    assert (repo / PATCH).read_text() == patch("1.1.2")
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout


def test_a_stale_patch_is_a_violation(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    (repo / PATCH).parent.mkdir(parents=True)
    (repo / PATCH).write_text(patch("1.1.0"))
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1
    assert (
        f"{PATCH}:10: flux-system/bp-flux (patch) deploys bp-flux 1.1.0, chart is 1.1.1"
        in outcome.stdout
    )


def test_a_patch_of_another_namespace_is_not_a_pin(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    (repo / PATCH).parent.mkdir(parents=True)
    (repo / PATCH).write_text(patch("0.0.1", namespace="elsewhere"))
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    assert outcome.code == 0 and PATCH not in outcome.stdout
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_the_post_write_resurvey_joins_a_rewritten_patch_like_a_fresh_walk(
    tmp_path: Path,
) -> None:
    repo = patched_fleet(tmp_path / "repo", "1.1.1")
    before = survey(repo, Config())
    written = [PATCH, f"clusters/muscat.omani.works/{fleet.FLUX_RELEASE_FILE}"]
    edit(repo, PATCH, "version: 1.1.1", "version: 1.1.3")
    edit(repo, written[1], "      version: 1.1.1\n", "      version: 1.1.3\n")
    after, fresh = resurvey(before, written), survey(repo, Config())
    assert after.releases == fresh.releases and after.releases != before.releases
    assert any(s.file == PATCH and s.value == "1.1.3" for s in after.releases)


FLUX_KS = "clusters/omantel.omani.works/flux-system/bootstrap-kit.yaml"


def test_an_inline_json_patch_is_moved_in_place(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    (repo / KUSTOMIZATION).write_text(JSON6902.replace("VERSION", "1.1.1"))
    outcome = run_cli(
        "to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url, "--no-git"
    )
    assert outcome.code == 0, outcome.stderr
    assert f"{KUSTOMIZATION}:9: HelmRelease (bp-flux (patch)) 1.1.1 -> 1.1.2" in outcome.stdout
    assert f"{KUSTOMIZATION}:12: HelmRelease (bp-flux (patch)) 1.1.1 -> 1.1.2" in outcome.stdout
    assert (repo / KUSTOMIZATION).read_text() == JSON6902.replace("VERSION", "1.1.2")
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout


def test_an_inline_strategic_patch_in_a_flux_kustomization_is_proven(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo")
    (repo / FLUX_KS).parent.mkdir(parents=True)
    (repo / FLUX_KS).write_text(STRATEGIC.replace("VERSION", "1.1.0"))
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1
    assert f"{FLUX_KS}:17: bp-flux (patch) deploys bp-flux 1.1.0, chart is 1.1.1" in outcome.stdout
    (repo / FLUX_KS).write_text(STRATEGIC.replace("VERSION", "1.1.1"))
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_an_inline_patch_of_another_release_is_not_a_pin(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    other = JSON6902.replace("name: bp-flux}", "name: cert-manager}  # bp-flux next")
    (repo / KUSTOMIZATION).write_text(other.replace("VERSION", "0.0.1"))
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    assert outcome.code == 0 and KUSTOMIZATION not in outcome.stdout


TRICKY_BLOCK = manifest("kustomization-tricky-block-patch.yaml")


def test_an_inline_patch_is_edited_at_its_value_or_not_at_all(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """A comment naming the same version comes first; the second block has an anchor before
    its indicator, where the block's lines cannot be proven: it is left alone, not mis-edited."""
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    (repo / KUSTOMIZATION).write_text(TRICKY_BLOCK.replace("VERSION", "1.1.1"))
    outcome = run_cli(
        "to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url, "--no-git"
    )
    assert outcome.code == 0, outcome.stderr
    expected = TRICKY_BLOCK.replace("VERSION", "1.1.1").replace('value: "1.1.1"', 'value: "1.1.2"')
    assert (repo / KUSTOMIZATION).read_text() == expected


def test_a_patch_that_names_only_the_release_is_found_by_the_release_name(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    release = f"clusters/omantel.omani.works/{fleet.FLUX_RELEASE_FILE}"
    edit(repo, release, "  name: bp-flux\n", "  name: flux\n")  # HelmRelease flux, chart bp-flux
    (repo / PATCH).parent.mkdir(parents=True)
    (repo / PATCH).write_text(patch("1.1.1").replace("name: bp-flux", "name: flux"))
    outcome = run_cli(
        "to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url, "--no-git"
    )
    assert outcome.code == 0, outcome.stderr
    assert f"{PATCH}:10: HelmRelease (flux-system/flux (patch)) 1.1.1 -> 1.1.2" in outcome.stdout
    assert "version: 1.1.2  # the patch is the pin" in (repo / PATCH).read_text()
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout


def test_the_post_write_resurvey_finds_a_release_named_patch_like_a_fresh_walk(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    release = f"clusters/omantel.omani.works/{fleet.FLUX_RELEASE_FILE}"
    edit(repo, release, "  name: bp-flux\n", "  name: flux\n")
    (repo / PATCH).parent.mkdir(parents=True)
    (repo / PATCH).write_text(patch("1.1.1").replace("name: bp-flux", "name: flux"))
    before = survey(repo, Config())
    edit(repo, PATCH, "version: 1.1.1", "version: 1.1.3")
    after, fresh = resurvey(before, [PATCH]), survey(repo, Config())
    assert after.releases == fresh.releases
    assert any(s.file == PATCH and s.value == "1.1.3" for s in after.releases)
