"""Flux's controllers kept a file each and applied together by a kustomization (as
neuralnetes/monorepo vendors them) are an install no pin names the release of: every command
names it, with the Flux release its controllers' image tags are of. One controller's file, or
files no kustomization applies (flux-operator keeps each release's manifests so, as data), are
no install: not named."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet

# fluxcd/flux2's manifests/bases/<controller>/kustomization.yaml at v2.8.3 and at v2.8.4 (the
# same controllers: 2.8.4 changed the CLI only).
FLUX_2_8_3 = {
    "helm-controller": "v1.5.3", "image-automation-controller": "v1.1.1",
    "image-reflector-controller": "v1.1.1", "kustomize-controller": "v1.8.2",
    "notification-controller": "v1.8.2", "source-controller": "v1.8.1",
    "source-watcher": "v2.1.1",
}  # fmt: skip
LISTED = ", ".join(f"{name} {tag}" for name, tag in sorted(FLUX_2_8_3.items()))
FOLDER = "infrastructure/flux-system"


def controller_file(name: str, tag: str) -> str:
    return (
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name + "\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n"
        f"    control-plane: controller\n  name: {name}\n  namespace: flux-system\nspec:\n"
        "  template:\n    spec:\n      containers:\n"
        f"      - image: ghcr.io/fluxcd/{name}:{tag}\n        name: manager\n"
    )


def vendored(tmp_path: Path, files: dict[str, str], kustomization: list[str] | None) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / FOLDER).mkdir(parents=True)
    for name, tag in files.items():
        (repo / FOLDER / f"{name}.yaml").write_text(controller_file(name, tag), "utf-8")
    if kustomization is not None:
        listed = "".join(f"  - {name}.yaml\n" for name in kustomization)
        text = f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listed}"
        (repo / FOLDER / "kustomization.yaml").write_text(text, "utf-8")
    return repo


def named(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "one file per controller" in line]


def test_controllers_a_kustomization_applies_a_file_each_are_named_with_their_releases(
    tmp_path: Path,
) -> None:
    repo = vendored(tmp_path, FLUX_2_8_3, sorted(FLUX_2_8_3))
    for command in ("status", "check"):
        outcome = run_cli(command, "--offline", "--repo", str(repo))
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert named(outcome.stderr) == [
            f"warning: {FOLDER}/kustomization.yaml:4: {FOLDER}/ holds Flux 2.8.3 or 2.8.4's "
            f"manifests, one file per controller ({LISTED}), with no '# Flux Version:' "
            "header or release label, "
            "which fluxbump does not read, check or move: replace them with the manifests of "
            "the release Flux moves to (each controller's release assets), or list them under "
            "exclude: in .fluxbump.yaml if they install no cluster of this repository"
        ], command


def test_one_controller_s_file_or_files_no_kustomization_applies_are_not_named(
    tmp_path: Path,
) -> None:
    for case, listed in (("data", None), ("one", ["source-controller"])):
        repo = vendored(tmp_path / case, FLUX_2_8_3, listed)
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert named(outcome.stderr) == [], case
