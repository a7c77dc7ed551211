"""kustomize's Helm inflator: a kustomization's ``helmCharts:`` entry of the community flux2
chart (``kustomize build --enable-helm``) bootstraps Flux before its HelmRelease deploys the
same chart, as robinelfrink/kube's ``bootstrap/flux`` does. Its ``version`` is a pin of the
chart: ``status`` shows it, ``check`` compares it with the HelmRelease and ``to`` moves both;
one with no version renders the newest chart, a problem. It was read nowhere: ``to 2.8.5``
moved the HelmRelease and left the bootstrap at the old chart. End to end through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import edit, snapshot, write_repo
from tests.test_operator_manifest import OCI_TEXT

BOOTSTRAP = "bootstrap/flux/kustomization.yaml"
INFLATED = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
helmCharts:
  - name: cilium
    repo: https://helm.cilium.io
    version: 1.16.0
  - name: flux2
    repo: https://fluxcd-community.github.io/helm-charts
    version: 2.17.2
    releaseName: flux
    includeCRDs: true
"""
RELEASE = "clusters/prod/flux.yaml"
HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux
  namespace: flux-system
spec:
  interval: 1h
  chart:
    spec:
      chart: flux2
      version: 2.17.2
      sourceRef:
        kind: HelmRepository
        name: fluxcd-community
"""


def inflated(tmp_path: Path, bootstrap: str = INFLATED) -> Path:
    return write_repo(tmp_path / "repo", {BOOTSTRAP: bootstrap, RELEASE: HELM_RELEASE})


def test_a_helm_charts_entry_of_flux2_is_a_pin_that_to_moves_with_the_helm_release(
    tmp_path: Path,
) -> None:
    repo = inflated(tmp_path)
    status = run_cli("status", "--repo", str(repo), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert f"kustomize helmCharts version  {BOOTSTRAP}:10  2.17.2" in status.stdout
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / BOOTSTRAP).read_text("utf-8") == INFLATED.replace("2.17.2", "2.18.3")
    assert (repo / RELEASE).read_text("utf-8") == HELM_RELEASE.replace("2.17.2", "2.18.3")


def test_a_helm_charts_entry_that_disagrees_is_named_and_one_with_no_version_is_a_problem(
    tmp_path: Path,
) -> None:
    # no kind (kustomize's is optional) and flux2 named by the entry alone
    bootstrap = INFLATED.split("helmCharts:\n")[1].replace("version: 2.17.2", "version: 2.16.0")
    repo = inflated(tmp_path, "helmCharts:\n" + bootstrap)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{RELEASE}:11: flux-system/flux deploys flux2 2.17.2, but kustomize helmCharts flux "
        f"deploys 2.16.0 ({BOOTSTRAP}:7); make them agree"
    ) in check.stdout
    edit(repo, BOOTSTRAP, "    version: 2.16.0\n", "")
    before = snapshot(repo)
    refused = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {BOOTSTRAP}:5: kustomize helmCharts flux renders flux2 with no version: "
        "kustomize installs the newest flux2 chart, not the one this repository pins; add "
        "'version: 2.17.2' to the entry"
    )
    assert snapshot(repo) == before


OPERATOR_BOOTSTRAP = """\
helmCharts:
  - name: flux-operator
    repo: oci://ghcr.io/controlplaneio-fluxcd/charts
    version: 0.28.0
    releaseName: flux-operator
"""
OPERATOR_SOURCE = "clusters/prod/flux-operator.yaml"
OCI_REPOSITORY = OCI_TEXT.replace("0.34.0", "0.29.0")


def test_a_helm_charts_entry_of_flux_operator_is_a_pin_of_that_chart(tmp_path: Path) -> None:
    """The operator's bootstrap inflated by kustomize disagreeing with the OCIRepository the
    cluster reconciles it from later: the same double install as a helmfile's."""
    repo = write_repo(
        tmp_path / "repo", {BOOTSTRAP: OPERATOR_BOOTSTRAP, OPERATOR_SOURCE: OCI_REPOSITORY}
    )
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.startswith(
        f"{OPERATOR_SOURCE}:10: OCIRepository flux-system/flux-operator pins flux-operator "
        f"0.29.0, kustomize helmCharts flux-operator pins 0.28.0 ({BOOTSTRAP}:4)"
    )
    args = ("--component", "flux-operator", "--repo", str(repo), "--offline", "--no-git")
    moved = run_cli("to", "0.29.0", *args)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / BOOTSTRAP).read_text("utf-8") == OPERATOR_BOOTSTRAP.replace("0.28.0", "0.29.0")
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
