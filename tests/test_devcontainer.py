"""The Flux CLI a Dev Container installs by a feature of ``devcontainer.json`` is a pin.

NathanVaughn/homelab-k8s pins it so (``"ghcr.io/jsburckhardt/devcontainer-features/flux:1":
{"version": "v2.8.1"}``) beside a cluster bootstrapped at v2.9.4: fluxbump read no
``devcontainer.json``, so ``check`` passed the two releases and ``to`` left the CLI behind.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

DEVCONTAINER = ".devcontainer/devcontainer.json"
# JSONC: comments, one of them a commented-out entry of the same feature (it pins nothing).
DEVCONTAINER_TEXT = """\
{
    // a Dev Container
    "image": "mcr.microsoft.com/devcontainers/base:ubuntu",
    "features": {
        // "ghcr.io/jsburckhardt/devcontainer-features/flux:1": {"version": "v2.0.0"},
        "ghcr.io/jsburckhardt/devcontainer-features/flux:1": {
            // renovate: depName=flux2 packageName=fluxcd/flux2
            "version": "v2.3.0"
        },
        "ghcr.io/devcontainers/features/node:1": {"version": "20"}
    }
}
"""
# A feature given no version installs the newest release: shown, never moved.
LATEST = ".devcontainer/ci/devcontainer.json"
LATEST_TEXT = '{"features": {"ghcr.io/goldsam/dev-container-features/flux2:1": {}}}\n'
KUSTOMIZATION = "base/kustomization.yaml"
KUSTOMIZATION_TEXT = "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0\n"


def _repo(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path / "repo",
        {DEVCONTAINER: DEVCONTAINER_TEXT, LATEST: LATEST_TEXT, KUSTOMIZATION: KUSTOMIZATION_TEXT},
    )


def test_check_compares_a_dev_container_flux_feature_with_the_installed_release(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 1, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[0] == (
        f"{DEVCONTAINER}:8: devcontainer feature ghcr.io/jsburckhardt/devcontainer-features/"
        "flux:1 pins Flux v2.3.0, kustomize resources fluxcd/flux2/manifests/install pins Flux "
        f"v2.4.0 ({KUSTOMIZATION}:2) — make them agree"
    )
    assert (
        f"warning: {LATEST}:1: Flux CLI pin latest names no Flux release: fluxbump neither "
        "checks nor moves it; write the release there to have it checked"
    ) in checked.stderr.splitlines()
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert status.code == 0, status.stdout + status.stderr
    assert [("v2.0.0" in status.stdout), ("v2.3.0" in status.stdout)] == [False, True]


def test_to_moves_the_feature_version_and_keeps_the_comments(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[DEVCONTAINER].decode() == DEVCONTAINER_TEXT.replace(
        '"version": "v2.3.0"', '"version": "v2.5.1"'
    )
    assert after[LATEST] == before[LATEST]
    assert {rel for rel in after if after[rel] != before[rel]} == {DEVCONTAINER, KUSTOMIZATION}
