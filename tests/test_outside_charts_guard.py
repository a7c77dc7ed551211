"""The storedVersions guard where Flux has no wrapper chart: a kustomize remote install, a
bootstrap, a flux-manifests artifact or Terraform apply Flux's own manifests, and nothing
migrates what the cluster stores first, so a target that stops serving a stored version is
refused (exit 4) as for a chart. It compared no chart at all ("running": []) and let
Flux 2.3.0 -> 2.8.5 through, which drops the v1beta2 that 2.3.0 stores OCIRepositories as."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo
from tests.test_resourceset import INSTANCE as FLUX_INSTANCE

REMOTE = "clusters/prod/flux-system/kustomization.yaml"
REMOTE_TEXT = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - https://github.com/fluxcd/flux2/releases/download/vRELEASE/install.yaml
"""
INSTANCE = "clusters/prod/flux-system/flux-instance.yaml"
INSTANCE_TEXT = FLUX_INSTANCE.replace('"2.4.0"', '"2.3.0"')


def bump(repo: Path, *args: str) -> tuple[int, str]:
    outcome = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git", *args)
    return outcome.code, outcome.stderr


def test_a_kustomize_install_moving_past_its_storage_version_is_refused(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "2.3.0")})
    before = snapshot(repo)
    code, stderr = bump(repo)
    assert code == 4, stderr
    error = stderr.strip().splitlines()[-1]
    assert error.startswith(
        f"error: flux2 2.13.0 ({REMOTE}:4) -> flux2 2.18.3 stops serving CRD API versions"
    ), error
    assert "ocirepositories.source.toolkit.fluxcd.io/v1beta2 (storage version now)" in error
    # no Helm here: the apply of Flux's manifests is what the API server refuses
    assert "so Flux's manifests fail to apply" in error and "Helm" not in error
    assert snapshot(repo) == before
    code, stderr = bump(repo, "--force-unsafe-crds")
    assert code == 0, stderr
    assert "v2.8.5/install.yaml" in (repo / REMOTE).read_text()


def test_flux_operator_migrates_what_its_instance_stored(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {INSTANCE: INSTANCE_TEXT})
    code, stderr = bump(repo)
    assert code == 0, stderr
    assert 'version: "2.8.5"' in (repo / INSTANCE).read_text()


def test_moving_from_a_release_older_than_every_chart_is_refused(tmp_path: Path) -> None:
    """Flux v0.17.2 is older than the first community chart (0.20.1): what its clusters
    store is unknown (0.x stored GitRepositories as v1beta1/v1beta2, which 2.8 no longer
    serves), so moving from it is refused, not let through unchecked."""
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "0.17.2")})
    before = snapshot(repo)
    code, stderr = bump(repo)
    assert code == 4, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: no flux2 chart carries Flux v0.17.2 ({REMOTE}:4): the CRD versions its clusters "
        "store are unknown, so flux2 2.18.3 may stop serving one of them; the API server would "
        "reject the CRD update, so Flux's manifests fail to apply; steps: 1) for each cluster "
        "deploying Flux (every cluster that runs Flux) run `flux migrate --context <that "
        "cluster's kube context>` (rewrites stored objects to the storage versions and prunes "
        "status.storedVersions); 2) re-run with --crds-migrated to "
        "record it was done (--force-unsafe-crds skips the check)"
    )
    assert snapshot(repo) == before
    code, stderr = bump(repo, "--crds-migrated")
    assert code == 0, stderr
    assert (
        "warning: --crds-migrated: moving to flux2 2.18.3 although no flux2 chart carries Flux "
        f"v0.17.2 ({REMOTE}:4)" in stderr
    )
    assert "v2.8.5/install.yaml" in (repo / REMOTE).read_text()


def test_latest_from_a_release_no_chart_carries_names_one_blocked_release(tmp_path: Path) -> None:
    # As for a wrapper (README, 'to latest'): the scheduled job exits 0 and says why, where it
    # exited 4 every week (a layout without a chart skipped the walk over newer releases).
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "0.17.2")})
    before = snapshot(repo)
    outcome = run_cli("to", "latest", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "no newer Flux release is safe to move to; nothing to do"
    assert lines[1].startswith("blocked: Flux v2.8.5 (chart 2.18.3) blocked: no flux2 chart ")
    assert outcome.stdout.count("no flux2 chart carries Flux v0.17.2") == 1, outcome.stdout
    assert snapshot(repo) == before


def test_two_installs_of_one_unknown_release_are_named_in_one_clause(tmp_path: Path) -> None:
    other = "clusters/staging/flux-system/kustomization.yaml"
    text = REMOTE_TEXT.replace("RELEASE", "0.17.2")
    repo = write_repo(tmp_path / "repo", {REMOTE: text, other: text})
    code, stderr = bump(repo)
    assert code == 4, stderr
    assert (
        f"error: no flux2 chart carries Flux v0.17.2 ({REMOTE}:4, {other}:4): the CRD versions "
        "its clusters store are unknown, so flux2 2.18.3" in stderr
    ), stderr


def test_a_release_the_chart_skipped_is_judged_by_its_minor_lines_crds(tmp_path: Path) -> None:
    """No chart carries Flux 2.5.0 (the community chart went from 2.4.0 to 2.5.1): 2.5.1's
    CRDs, of its minor line, judge it, so 2.5.0 -> 2.8.5 is refused for the v1beta2 it
    stores; it went through unchecked."""
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "2.5.0")})
    before = snapshot(repo)
    code, stderr = bump(repo)
    assert code == 4, stderr
    error = stderr.strip().splitlines()[-1]
    assert error.startswith(
        "error: flux2 2.15.0 (standing in for Flux v2.5.0, which no chart carries) -> "
        "flux2 2.18.3 stops serving"
    )
    assert "ocirepositories.source.toolkit.fluxcd.io/v1beta2 (storage version now)" in error
    assert snapshot(repo) == before


def test_a_patch_release_within_a_line_the_chart_skipped_is_no_drop(tmp_path: Path) -> None:
    """Judged by 2.6.4 and 2.7.2 together, 2.7.0 -> 2.7.2 "dropped" every v1beta1 that
    2.6.4 serves and 2.7.0 never did: without git history, refused (exit 4)."""
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "2.7.0")})
    outcome = run_cli("to", "2.7.2", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    assert "stops serving" not in outcome.stderr
    assert (
        f"warning: CRD guard: no flux2 chart carries Flux v2.7.0 ({REMOTE}:4): judged by the "
        "CRDs of flux2 2.17.1, of its minor line"
    ) in outcome.stderr


def test_a_release_newer_than_the_index_is_named_not_refused(tmp_path: Path) -> None:
    """Flux 2.9.1 is newer than the bundled index (which may predate it) and of a minor line
    it does not carry: not checked, said, and not refused as unknown (the downgrade guard
    decides a move back)."""
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "2.9.1")})
    code, stderr = bump(repo, "--allow-downgrade")
    assert code == 0, stderr
    assert (
        f"warning: CRD guard: no flux2 chart carries Flux v2.9.1 ({REMOTE}:4), newer than every "
        "release of the index: the CRD versions its clusters store are not checked"
    ) in stderr
    assert "v2.8.5/install.yaml" in (repo / REMOTE).read_text()


def test_a_forced_move_from_between_two_charts_says_how_it_was_judged(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "2.5.1")})
    code, stderr = bump(repo, "--crds-migrated", "--force-unsafe-crds", "--dry-run")
    assert code == 0, stderr
    assert "judged by the CRDs of the releases around it" not in stderr  # 2.5.1 has a chart
    (repo / REMOTE).write_text(REMOTE_TEXT.replace("RELEASE", "0.40.0"))  # no 0.40 chart
    code, stderr = bump(repo, "--force-unsafe-crds", "--dry-run")
    assert code == 0, stderr
    assert (
        f"warning: CRD guard: no flux2 chart carries Flux v0.40.0 ({REMOTE}:4): judged by the "
        "CRDs of the releases around it (flux2 2.6.0 and 2.7.0)"
    ) in stderr
