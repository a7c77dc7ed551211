"""A kustomize patch file (``patchesStrategicMerge:``, or ``patches:`` with a ``path:``) holds
part of a Flux object: the fields it leaves out come from the object it patches. Moving its
``apiVersion`` with the object's must not fail on them (pawelpesz/simple-eks-flux-cluster:
``observability/dev/grafana-loki-values.yaml``, a HelmRelease of values and a version range)."""

from __future__ import annotations

from pathlib import Path

from fluxbump.fleet import FleetSpec
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, make_fleet, snapshot, write_repo
from tests.support.helm_server import HelmServer

BASE = """\
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: loki-stack
spec:
  releaseName: loki-stack
  chart:
    spec:
      chart: loki-stack
      sourceRef:
        kind: HelmRepository
        name: loki-stack
        namespace: observability
  interval: 1h0m0s
"""
# What the overlay changes: no interval, no chart name, no source (they are the base's).
PATCH = """\
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: loki-stack
  namespace: observability
spec:
  chart:
    spec:
      version: "~>2.9"
  values:
    loki:
      enabled: true # keep
"""
# 2.1.0 -> 2.8.1 drops versions 2.1.0 stores: the CRD guard's refusal is not the subject here.
UNGUARDED = ("--offline", "--no-git", "--force-unsafe-crds")
TERRAFORM = """\
resource "flux_bootstrap_git" "this" {
  path    = "clusters/dev"
  version = "v2.1.0"
}
"""


def overlay(root: Path, listing: str) -> Path:
    return write_repo(
        root,
        {
            "terraform/flux.tf": TERRAFORM,
            "observability/base/loki/release.yaml": BASE,
            "observability/base/loki/kustomization.yaml": "resources:\n  - release.yaml\n",
            "observability/dev/kustomization.yaml": (
                f"namespace: observability\nresources:\n  - ../base/loki\n{listing}"
            ),
            "observability/dev/loki-values.yaml": PATCH,
        },
    )


def moved(text: str) -> str:
    return text.replace("helm.toolkit.fluxcd.io/v2beta1", "helm.toolkit.fluxcd.io/v2")


def test_a_strategic_merge_patch_file_moves_with_the_object_it_patches(tmp_path: Path) -> None:
    for listing in (
        "patchesStrategicMerge:\n  - loki-values.yaml\n",
        "patches:\n  - path: ./loki-values.yaml\n",
    ):
        repo = overlay(tmp_path / str(len(list(tmp_path.iterdir()))), listing)
        outcome = run_cli("to", "2.8.1", "--repo", str(repo), *UNGUARDED)
        assert outcome.code == 0, outcome.stderr
        assert (repo / "observability/dev/loki-values.yaml").read_text() == moved(PATCH)
        assert (repo / "observability/base/loki/release.yaml").read_text() == moved(BASE)
        assert 'version = "v2.8.1"' in (repo / "terraform/flux.tf").read_text()


def test_a_partial_object_no_kustomization_patches_with_is_still_refused(
    tmp_path: Path,
) -> None:
    # Listed as a resource, the same document is a whole object the API server would reject.
    repo = overlay(tmp_path / "repo", "  - loki-values.yaml\n")
    before = snapshot(repo)
    outcome = run_cli("to", "2.8.1", "--repo", str(repo), *UNGUARDED)
    assert outcome.code == 2
    assert outcome.stderr.startswith(
        "error: observability/dev/loki-values.yaml:7: moving HelmRelease observability/loki-stack"
    )
    assert "'interval' is a required property" in outcome.stderr
    assert snapshot(repo) == before


# A patch of the wrapper's HelmRelease that names the chart beside its version (Renovate's
# flux manager reads a HelmRelease only with its chart): a pin, and no whole object.
WRAPPER_PATCH = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bp-flux
  namespace: flux-system
spec:
  chart:
    spec:
      chart: bp-flux
      version: VERSION
"""
OVERLAY = "clusters/omantel.omani.works/overlay"


def wrapper_overlay(root: Path, listing: str, spec: FleetSpec = CONSISTENT) -> Path:
    repo = make_fleet(root, spec)
    (repo / OVERLAY).mkdir(parents=True)
    (repo / OVERLAY / "kustomization.yaml").write_text(
        f"resources:\n  - ../bootstrap-kit\n{listing}"
    )
    (repo / OVERLAY / "flux-version.yaml").write_text(WRAPPER_PATCH.replace("VERSION", "1.1.1"))
    return repo


def test_check_judges_a_patch_file_of_a_pinned_release_as_a_patch(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = wrapper_overlay(tmp_path / "repo", "patches:\n  - path: flux-version.yaml\n")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout
    assert f"{OVERLAY}/flux-version.yaml" not in check.stdout
    repo = wrapper_overlay(
        tmp_path / "incident", "patches:\n  - path: flux-version.yaml\n", INCIDENT
    )
    moved = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert moved.code == 0, moved.stderr
    patched = (repo / OVERLAY / "flux-version.yaml").read_text()
    assert patched == WRAPPER_PATCH.replace("VERSION", "1.1.2")


def test_the_same_document_as_a_resource_is_a_whole_object_still_judged(tmp_path: Path) -> None:
    repo = wrapper_overlay(tmp_path / "repo", "  - flux-version.yaml\n")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1
    assert (
        f"{OVERLAY}/flux-version.yaml:6: HelmRelease flux-system/bp-flux: spec: 'interval' is a "
        "required property" in check.stdout
    )
