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
    return with_workflow(
        tmp_path, {INSTALL: INSTALL_TEXT, LISTING: LISTING_TEXT, SETTER: SETTER_TEXT}, cli
    )


def bumped(repo: Path, release: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The repository's files before and after a successful ``to release``."""
    before = snapshot(repo)
    bump = run_cli("to", release, "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    return before, snapshot(repo)


def with_workflow(tmp_path: Path, files: dict[str, str], cli: str) -> Path:
    """A repository of ``files`` and a workflow installing the Flux CLI ``cli``."""
    return write_repo(tmp_path / "repo", {**files, WORKFLOW: WORKFLOW_TEXT.replace("2.8.3", cli)})


def test_the_postbuild_value_is_the_release_pin_and_to_moves_it(tmp_path: Path) -> None:
    repo = biohazard(tmp_path)
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stderr
    pins = [(s["role"], s["file"], s["line"], s["value"])
            for s in json.loads(status.stdout)["sites"]]  # fmt: skip
    assert ("flux-manifests OCI artifact", SETTER, 17, "v2.8.3") in pins
    assert not any(file == INSTALL for _, file, _, _ in pins)  # (its default is not in effect)
    before, after = bumped(repo, "2.8.5")
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


JOB = "kube/bootstrap/flux/flux-check.yaml"
JOB_TEXT = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: flux-check
spec:
  template:
    spec:
      containers:
        - name: flux
          image: ghcr.io/fluxcd/flux-cli:${FLUXCD_VERSION:=v2.8.3}
"""


def default_only(tmp_path: Path, cli: str = "2.8.3") -> Path:
    """Biohazard's install with no Kustomization setting FLUXCD_VERSION: the default is in
    effect, in the flux-manifests tag and in a Job's CLI image alike."""
    return with_workflow(
        tmp_path, {INSTALL: INSTALL_TEXT.replace("v2.6.0", "v2.8.3"), JOB: JOB_TEXT}, cli
    )


def test_a_default_nothing_sets_is_the_release_pin_and_to_moves_it_alone(tmp_path: Path) -> None:
    repo = default_only(tmp_path)
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stderr
    sites = json.loads(status.stdout)["sites"]
    pins = {(s["file"], s["line"]): (s["value"], s["proven"]) for s in sites}
    assert pins[(INSTALL, 12)] == ("v2.8.3", True)
    assert pins[(JOB, 10)] == ("v2.8.3", True)
    before, after = bumped(repo, "2.8.5")
    assert after[INSTALL] == before[INSTALL].replace(b":=v2.8.3}", b":=v2.8.5}")
    assert after[JOB] == before[JOB].replace(b":=v2.8.3}", b":=v2.8.5}")
    assert after[WORKFLOW] == before[WORKFLOW].replace(b"2.8.3", b"2.8.5")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_a_cli_behind_the_default_in_effect_is_a_violation(tmp_path: Path) -> None:
    repo = default_only(tmp_path, cli="2.8.0")
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    assert f"{WORKFLOW}:7: fluxcd/flux2/action (diff) pins Flux 2.8.0, " in check.stdout
    default = "(default of ${FLUXCD_VERSION}, which nothing here sets)"
    assert f"{default} pins Flux v2.8.3 ({INSTALL}:12)" in check.stdout


def test_a_target_below_the_default_in_effect_is_a_refused_downgrade(tmp_path: Path) -> None:
    repo = default_only(tmp_path)
    before = snapshot(repo)
    bump = run_cli("to", "2.8.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 4, bump.stdout + bump.stderr
    assert f"the installed 2.8.3, which {INSTALL}:12 pins" in bump.stderr
    assert snapshot(repo) == before


def renovate_moved(repo: Path, rel: str, old: bytes, new: bytes) -> dict[str, bytes]:
    """``sync`` after ``rel`` was moved from ``old`` to ``new`` (as Renovate moves it): the
    files before; the move is checked kept."""
    before = snapshot(repo)
    moved = before[rel].replace(old, new)
    (repo / rel).write_bytes(moved)
    synced = run_cli("sync", "--offline", "--repo", str(repo))
    assert synced.code == 0, synced.stdout + synced.stderr
    assert synced.stdout.splitlines()[0] == "Flux v2.8.5 → flux2 chart 2.18.3 (from Flux v2.8.3)"
    assert (repo / rel).read_bytes() == moved
    return before


def test_sync_follows_the_default_renovate_moved(tmp_path: Path) -> None:
    repo = default_only(tmp_path)
    before = renovate_moved(repo, INSTALL, b":=v2.8.3}", b":=v2.8.5}")
    after = snapshot(repo)
    assert after[JOB] == before[JOB].replace(b":=v2.8.3}", b":=v2.8.5}")
    assert after[WORKFLOW] == before[WORKFLOW].replace(b"2.8.3", b"2.8.5")


def test_sync_follows_the_postbuild_value_renovate_moved(tmp_path: Path) -> None:
    # The value was not read at the base revision (re-read as an OCIRepository), so sync saw
    # no pin moved and left the CLI at the old release.
    repo = biohazard(tmp_path)
    before = renovate_moved(repo, SETTER, b'"v2.8.3"', b'"v2.8.5"')
    assert (repo / WORKFLOW).read_bytes() == before[WORKFLOW].replace(b"2.8.3", b"2.8.5")
