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
    assert error.startswith("error: flux2 2.13.0 -> flux2 2.18.3 stops serving CRD API versions")
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


def test_moving_from_a_release_no_chart_carries_is_refused(tmp_path: Path) -> None:
    """Flux v0.31.4 (older than any community chart) stored GitRepositories as v1beta2, which
    2.8 no longer serves: an unknown source release is refused, not let through unchecked."""
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "0.31.4")})
    before = snapshot(repo)
    code, stderr = bump(repo)
    assert code == 4, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: no flux2 chart carries Flux v0.31.4 ({REMOTE}:4): the CRD versions its clusters "
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
        f"v0.31.4 ({REMOTE}:4)" in stderr
    )
    assert "v2.8.5/install.yaml" in (repo / REMOTE).read_text()


def test_latest_from_a_release_no_chart_carries_names_one_blocked_release(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {REMOTE: REMOTE_TEXT.replace("RELEASE", "0.31.4")})
    before = snapshot(repo)
    outcome = run_cli("to", "latest", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 4, outcome.stderr
    assert outcome.stderr.count("no flux2 chart carries Flux v0.31.4") == 1, outcome.stderr
    assert snapshot(repo) == before


def test_two_installs_of_one_unknown_release_are_named_in_one_clause(tmp_path: Path) -> None:
    other = "clusters/staging/flux-system/kustomization.yaml"
    text = REMOTE_TEXT.replace("RELEASE", "0.31.4")
    repo = write_repo(tmp_path / "repo", {REMOTE: text, other: text})
    code, stderr = bump(repo)
    assert code == 4, stderr
    assert (
        f"error: no flux2 chart carries Flux v0.31.4 ({REMOTE}:4, {other}:4): the CRD versions "
        "its clusters store are unknown, so flux2 2.18.3" in stderr
    ), stderr
