"""A fleet with every kind of wrapper: Flux; Cilium, installed before Flux by cloud-init with
``helm install --version``; cert-manager, with a ``v``-prefixed upstream and no cloud-init
pin; a wrapper of a library chart with an empty mirror; and an umbrella over all of them,
deployed in every cluster."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from tests.support.fixtures import CONSISTENT, edit, init_git, make_fleet

CILIUM_CHART = "platform/cilium/chart/Chart.yaml"
CILIUM_VALUES = "platform/cilium/chart/values.yaml"
CILIUM_BLUEPRINT = "platform/cilium/blueprint.yaml"
CERT_CHART = "platform/cert-manager/chart/Chart.yaml"
CERT_VALUES = "platform/cert-manager/chart/values.yaml"
CERT_BLUEPRINT = "platform/cert-manager/blueprint.yaml"
COMMON_CHART = "platform/common/chart/Chart.yaml"
COMMON_VALUES = "platform/common/chart/values.yaml"
CILIUM_RELEASE = "bootstrap-kit/01-cilium.yaml"
CERT_RELEASE = "bootstrap-kit/05-cert-manager.yaml"
CLUSTERS = ("_template", *CONSISTENT.clusters)

INSTALL = """\
  - |
    # Cilium before Flux: the pin must equal bp-cilium's cilium dependency so the
    # HelmRelease adopts this release instead of installing it twice.
    helm install cilium cilium/cilium \\
      --namespace kube-system \\
      --version 1.16.5 \\
      --set kubeProxyReplacement=true
"""


def _chart(name: str, version: str, app: str, dep: str, dep_version: str, repo: str) -> str:
    return f"""apiVersion: v2
name: {name}
description: Catalyst Blueprint wrapper for {dep}.
version: {version}
appVersion: "{app}"
dependencies:
  - name: {dep}
    version: "{dep_version}"
    repository: "{repo}"
"""


def _blueprint(name: str, version: str) -> str:
    return f"""apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata:
  name: {name}
spec:
  # Mirrors Chart.yaml version.
  version: {version}
"""


def _release(name: str, namespace: str, version: str) -> str:
    return f"""# {name} for ${{CLUSTER_NAME}}.
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 10m
  chart:
    spec:
      chart: {name}
      version: {version}
      sourceRef:
        kind: HelmRepository
        name: openova
        namespace: flux-system
"""


def wrappers_fleet(
    root: Path,
    *,
    cilium_repo: str = "https://helm.cilium.io",
    common_repo: str = "oci://registry-1.docker.io/bitnamicharts",
    git: bool = True,
) -> Path:
    """Write the fleet (consistent: ``check`` passes) and commit it."""
    repo = make_fleet(root, CONSISTENT)
    jetstack = "https://charts.jetstack.io"
    files = {
        CILIUM_CHART: _chart("bp-cilium", "1.0.3", "1.16.5", "cilium", "1.16.5", cilium_repo),
        CILIUM_VALUES: "# Tested with cilium 1.16.5 on Hetzner cx31 nodes.\ncatalystBlueprint:\n"
        f'  upstream: {{ chart: cilium, version: "1.16.5", repo: "{cilium_repo}" }}\n'
        "cilium:\n  kubeProxyReplacement: true\n",
        CILIUM_BLUEPRINT: _blueprint("bp-cilium", "1.0.3"),
        CERT_CHART: _chart(
            "bp-cert-manager", "1.4.0", "v1.16.2", "cert-manager", "v1.16.2", jetstack
        ),
        CERT_VALUES: "catalystBlueprint:\n  upstream:\n    chart: cert-manager\n"
        f'    version: "v1.16.2"\n    repo: "{jetstack}"\n',
        CERT_BLUEPRINT: _blueprint("bp-cert-manager", "1.4.0"),
        COMMON_CHART: _chart(
            "bp-common", "0.2.0", "0.2.0", "common", "2.27.0", common_repo
        ).replace("version: 0.2.0\n", "type: library\nversion: 0.2.0\n"),
        COMMON_VALUES: "catalystBlueprint:\n  upstream: {}\n",
    }
    for cluster in CLUSTERS:
        base = f"clusters/{cluster}"
        files[f"{base}/{CILIUM_RELEASE}"] = _release("bp-cilium", "kube-system", "1.0.3")
        files[f"{base}/{CERT_RELEASE}"] = _release("bp-cert-manager", "cert-manager", "1.4.0")
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    edit(
        repo,
        fleet.UMBRELLA_CHART,
        "  - name: bp-cert-manager\n",
        "  - name: bp-cilium\n    version: 1.0.3\n    repository: oci://ghcr.io/openova/charts\n"
        "  - name: bp-common\n    version: 0.2.0\n    repository: oci://ghcr.io/openova/charts\n"
        "  - name: bp-cert-manager\n",
    )
    edit(repo, fleet.CLOUDINIT, "runcmd:\n", "runcmd:\n" + INSTALL)
    if git:
        init_git(repo)
    return repo
