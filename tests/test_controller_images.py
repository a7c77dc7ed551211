"""Flux controller images a kustomization pins, which a move of Flux leaves running.

DoD-Platform-One/big-bang applies Flux's manifests through ``base/flux/kustomization.yaml``,
whose ``images:`` send each controller to the Iron Bank mirror at a ``newTag`` of its own: the
tags that run, whatever release the manifests are of. A bump moved the manifests and said
nothing of them, so the old controllers kept running under the new release's CRDs.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

KUSTOMIZATION = "base/flux/kustomization.yaml"
KUSTOMIZATION_TEXT = """\
resources:
  - https://github.com/fluxcd/flux2/manifests/install?ref=v2.7.5
images:
  - name: ghcr.io/fluxcd/helm-controller
    newName: registry1.dso.mil/ironbank/fluxcd/helm-controller
    newTag: v1.4.5
  - name: ghcr.io/fluxcd/source-controller
    newName: registry1.dso.mil/ironbank/fluxcd/source-controller
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - name: ghcr.io/fluxcd/kustomize-controller
    newName: registry1.dso.mil/ironbank/fluxcd/kustomize-controller
  - name: docker.io/library/nginx
    newTag: "1.27"
"""


def _moved_saying(repo: Path, words: str) -> list[str]:
    """The lines with ``words`` that ``to 2.8.5`` printed (it must succeed)."""
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    return [line for line in moved.stderr.splitlines() if words in line]


def test_a_bump_names_each_controller_image_a_kustomization_pins(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {KUSTOMIZATION: KUSTOMIZATION_TEXT})
    before = snapshot(repo)
    assert _moved_saying(repo, "the kustomization runs") == [
        f"warning: {KUSTOMIZATION}:6: the kustomization runs helm-controller at v1.4.5 whatever "
        "release the Flux manifests it applies are of; fluxbump does not move it: set it to "
        "the helm-controller of Flux 2.8.5 (its install.yaml names each controller's tag)",
        f"warning: {KUSTOMIZATION}:9: the kustomization runs source-controller at sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef whatever release the "
        "Flux manifests it applies are of; fluxbump does not move it: set it to the "
        "source-controller of Flux 2.8.5 (its install.yaml names each controller's tag)",
    ]  # not kustomize-controller (only mirrored: the manifests' tag runs), not nginx
    after = snapshot(repo)
    assert after[KUSTOMIZATION].decode() == KUSTOMIZATION_TEXT.replace("ref=v2.7.5", "ref=v2.8.5")
    assert {rel for rel in after if after[rel] != before[rel]} == {KUSTOMIZATION}
    # at the release already installed nothing moves, so nothing is said of them
    again = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert again.code == 0, again.stdout + again.stderr
    assert "the kustomization runs" not in again.stderr


INSTANCE = "clusters/prod/flux-instance.yaml"
DIGEST = "sha256:" + "0123456789abcdef" * 4
INSTANCE_TEXT = f"""\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.8.4"
    registry: ghcr.io/fluxcd
  kustomize:
    patches:
      - patch: |
          - op: replace
            path: /spec/template/spec/containers/0/image
            value: "ghcr.io/fluxcd/source-controller:v1.8.1@{DIGEST}"
        target:
          kind: Deployment
          name: source-controller
      - patch: |
          - op: replace
            path: /spec/template/spec/containers/0/image
            value: ghcr.io/fluxcd/helm-controller:v1.5.3
        target:
          kind: Deployment
          name: helm-controller
"""
BOOTSTRAP = "bootstrap/kustomization.yaml"
BOOTSTRAP_TEXT = """\
resources:
  - https://github.com/fluxcd/flux2/manifests/install?ref=v2.8.4
patches:
  - patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: kustomize-controller
      spec:
        template:
          spec:
            containers:
              - name: manager
                image: registry.example.com/mirror/fluxcd/kustomize-controller:v1.8.2
"""


def test_a_bump_names_each_controller_image_a_patch_sets(tmp_path: Path) -> None:
    """devopscoop/fluxcd-template pins every controller in its FluxInstance's
    ``kustomize.patches`` (tag and digest, "run ./update_flux-instance.sh to refresh both"):
    ``to`` moved ``distribution.version`` and passed, leaving the old controllers to run
    under the new release's CRDs, and said nothing of them."""
    repo = write_repo(tmp_path / "repo", {INSTANCE: INSTANCE_TEXT, BOOTSTRAP: BOOTSTRAP_TEXT})
    assert _moved_saying(repo, "a patch runs") == [
        f"warning: {BOOTSTRAP}:14: a patch runs kustomize-controller at v1.8.2 whatever release "
        "the Flux manifests it patches are of; fluxbump does not move it: set it to v1.8.3, "
        "the kustomize-controller of Flux 2.8.5",
        f"warning: {INSTANCE}:15: a patch runs source-controller at v1.8.1 whatever release the "
        "Flux manifests it patches are of; fluxbump does not move it: set it to v1.8.2, the "
        "source-controller of Flux 2.8.5",
    ]  # not helm-controller: v1.5.3 is 2.8.5's own
    after = snapshot(repo)
    assert after[INSTANCE].decode() == INSTANCE_TEXT.replace('"2.8.4"', '"2.8.5"')
    assert after[BOOTSTRAP].decode() == BOOTSTRAP_TEXT.replace("ref=v2.8.4", "ref=v2.8.5")


def test_a_kustomization_that_is_no_yaml_costs_only_its_warnings(tmp_path: Path) -> None:
    """A kustomization naming a controller image in text that is no YAML (a patch block
    left open) was composed for its patches outside the guard of its read: ``to`` stopped
    at it with exit 2, though ``check`` passed and the file holds no pin."""
    broken = (
        "kind: Kustomization\npatches:\n  - patch: |\n      - op: replace\n        value: "
        "ghcr.io/fluxcd/source-controller:v1.0.0\n    target: {kind: Deployment\n  bad: [\n"
    )
    other = "clusters/staging/kustomization.yaml"
    repo = write_repo(tmp_path / "repo", {INSTANCE: INSTANCE_TEXT, other: broken})
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    assert _moved_saying(repo, "a patch runs") == [
        f"warning: {INSTANCE}:15: a patch runs source-controller at v1.8.1 whatever release the "
        "Flux manifests it patches are of; fluxbump does not move it: set it to v1.8.2, the "
        "source-controller of Flux 2.8.5",
    ]
    assert snapshot(repo)[other].decode() == broken


def test_check_names_each_patched_controller_not_of_the_installed_release(tmp_path: Path) -> None:
    """A FluxInstance at 2.8.5 whose patch runs source-controller v1.8.1 (2.8.4's): ``check``
    said nothing of it. It warns (file:line, the tag to set; in ``--json`` too) and still
    passes, as for the other controller drift it names; a range installs no exact release."""
    files = {
        INSTANCE: INSTANCE_TEXT.replace('"2.8.4"', '"2.8.5"'),
        BOOTSTRAP: BOOTSTRAP_TEXT.replace("ref=v2.8.4", "ref=v2.8.5"),
    }
    repo = write_repo(tmp_path / "repo", files)
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 0, checked.stdout + checked.stderr
    said = [
        (BOOTSTRAP, 14, "a patch runs kustomize-controller at v1.8.2, but the repository "
         "installs Flux 2.8.5, whose kustomize-controller is v1.8.3: set it to v1.8.3"),
        (INSTANCE, 15, "a patch runs source-controller at v1.8.1, but the repository installs "
         "Flux 2.8.5, whose source-controller is v1.8.2: set it to v1.8.2"),
    ]  # fmt: skip
    patched = [line for line in checked.stderr.splitlines() if "a patch runs" in line]
    assert patched == [f"warning: {rel}:{line}: {message}" for rel, line, message in said]
    as_json = run_cli("check", "--repo", str(repo), "--offline", "--json")
    assert as_json.code == 0, as_json.stdout + as_json.stderr
    warnings = json.loads(as_json.stdout)["warnings"]
    assert [w for w in warnings if "a patch runs" in w["message"]] == [
        {"file": rel, "line": line, "message": message} for rel, line, message in said
    ]
    ranged = write_repo(tmp_path / "ranged", {INSTANCE: INSTANCE_TEXT.replace('"2.8.4"', '"2.x"')})
    loose = run_cli("check", "--repo", str(ranged), "--offline")
    assert "a patch runs" not in loose.stderr, loose.stderr


HELM_RELEASE = "clusters/prod/flux-instance/helmrelease.yaml"
# The FluxInstance's spec given as the flux-instance chart's ``instance`` values.
SPEC = INSTANCE_TEXT.split("spec:\n", 1)[1]
HELM_RELEASE_TEXT = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
  namespace: flux-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: flux-instance
  values:
    instance:
""" + textwrap.indent(SPEC, "      ")
APP = "kubernetes/apps/flux-system/flux-instance/app"
VALUES_FROM_FILES = {
    f"{APP}/helmrelease.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
    "metadata:\n  name: flux-instance\nspec:\n  interval: 1h\n  chartRef:\n"
    "    kind: OCIRepository\n    name: flux-instance\n  valuesFrom:\n"
    "    - kind: ConfigMap\n      name: flux-instance-values\n",
    f"{APP}/kustomization.yaml": "kind: Kustomization\nresources:\n  - ./helmrelease.yaml\n"
    "configMapGenerator:\n  - name: flux-instance-values\n    files:\n"
    "      - values.yaml=./helm/values.yaml\n",
    f"{APP}/helm/values.yaml": "instance:\n"
    + textwrap.indent(SPEC, "  ").replace("2.8.4", "2.8.5"),
}


def test_the_flux_instance_charts_patches_are_read_as_a_flux_instances(tmp_path: Path) -> None:
    """The same patches given to the flux-instance chart (a HelmRelease's
    ``spec.values.instance.kustomize.patches``, or the values file its ``valuesFrom`` is
    generated of), which the chart writes into its FluxInstance: neither ``to`` nor ``check``
    read them."""
    repo = write_repo(tmp_path / "repo", {HELM_RELEASE: HELM_RELEASE_TEXT})
    assert _moved_saying(repo, "a patch runs") == [
        f"warning: {HELM_RELEASE}:21: a patch runs source-controller at v1.8.1 whatever release "
        "the Flux manifests it patches are of; fluxbump does not move it: set it to v1.8.2, "
        "the source-controller of Flux 2.8.5",
    ]
    assert snapshot(repo)[HELM_RELEASE].decode() == HELM_RELEASE_TEXT.replace("2.8.4", "2.8.5")
    fed = write_repo(tmp_path / "fed", VALUES_FROM_FILES)
    checked = run_cli("check", "--repo", str(fed), "--offline")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert [line for line in checked.stderr.splitlines() if "a patch runs" in line] == [
        f"warning: {APP}/helm/values.yaml:10: a patch runs source-controller at v1.8.1, but "
        "the repository installs Flux 2.8.5, whose source-controller is v1.8.2: set it to v1.8.2"
    ]
