"""A Flux release written as ``${VAR}`` (an OCIRepository's ``tag`` of flux-manifests) is pinned
where a Kustomization's ``postBuild.substitute`` sets VAR for it.

JJGadgets/Biohazard installs Flux from ``kube/bootstrap/flux/flux-install-localhost.yaml``,
``tag: "${FLUXCD_VERSION:=v2.8.5}"``, which ``kube/clusters/biohazard/flux/kustomization.yaml``
lists from outside its directory (``../../../bootstrap/flux/…``); the Kustomization rendering
that directory sets ``FLUXCD_VERSION: "v2.8.5"``. The tag was shown unproven, the release was
read from a CLI pin, and ``to`` moved the CLI alone: the cluster stayed where it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

INSTALL = "kube/bootstrap/flux/flux-install-localhost.yaml"
INSTALL_TEXT = """\
---
# downloads and installs Flux manifests to cluster
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: "${FLUXCD_VERSION:=v2.6.0}"
"""
LISTING = "kube/clusters/biohazard/flux/kustomization.yaml"
LISTING_TEXT = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - flux-repo.yaml
  - ../../../bootstrap/flux/flux-install-localhost.yaml
"""
SETTER = "kube/clusters/biohazard/flux/flux-repo.yaml"
SETTER_TEXT = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: 0-biohazard-config
  namespace: flux-system
spec:
  interval: 5m0s
  path: ./kube/clusters/biohazard/flux
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      CLUSTER_NAME: "biohazard"
      FLUXCD_VERSION: "v2.8.3"
"""
WORKFLOW = ".github/workflows/flux-diff.yaml"
WORKFLOW_TEXT = """\
jobs:
  diff:
    runs-on: ubuntu-latest
    steps:
      - uses: fluxcd/flux2/action@main
        with:
          version: 2.8.3
"""


def biohazard(tmp_path: Path, cli: str = "2.8.3") -> Path:
    return write_repo(
        tmp_path / "repo",
        {
            INSTALL: INSTALL_TEXT,
            LISTING: LISTING_TEXT,
            SETTER: SETTER_TEXT,
            WORKFLOW: WORKFLOW_TEXT.replace("2.8.3", cli),
        },
    )


def test_the_postbuild_value_is_the_release_pin_and_to_moves_it(tmp_path: Path) -> None:
    repo = biohazard(tmp_path)
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stderr
    pins = [(s["role"], s["file"], s["line"], s["value"])
            for s in json.loads(status.stdout)["sites"]]  # fmt: skip
    assert ("flux-manifests OCI artifact", SETTER, 17, "v2.8.3") in pins
    assert not any(file == INSTALL for _, file, _, _ in pins)  # (its default is not in effect)
    before = snapshot(repo)
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    after = snapshot(repo)
    assert after[SETTER] == before[SETTER].replace(b'"v2.8.3"', b'"v2.8.5"')
    assert after[WORKFLOW] == before[WORKFLOW].replace(b"2.8.3", b"2.8.5")
    assert after[INSTALL] == before[INSTALL] and after[LISTING] == before[LISTING]
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_a_cli_behind_the_substituted_release_is_a_violation(tmp_path: Path) -> None:
    """The release the cluster installs is the postBuild value's: a CLI pin at another one
    is what disagrees (it was the CLI that was taken for the release)."""
    repo = biohazard(tmp_path, cli="2.8.0")
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    assert f"{WORKFLOW}:7: fluxcd/flux2/action (diff) pins Flux 2.8.0, " in check.stdout
    assert f"pins Flux v2.8.3 ({SETTER}:17) — make them agree" in check.stdout
