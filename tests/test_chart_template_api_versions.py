"""The Flux objects a Helm chart's templates render (platformcompass/wayfinder's chart writes a
HelmRelease and a HelmRepository per entry of its values, in named templates of ``.tpl``
files) are in the API versions their ``apiVersion`` lines name. A template is not YAML and is
never rewritten: a version the release does not serve is named by ``check`` and ``to`` refuses
until it is written by hand, as for a ResourceSet's ``resourcesTemplate``. Before, the chart's
templates were skipped, and ``to 2.8.5`` left HelmReleases in ``v2beta2``, which Flux 2.8 no
longer serves, for the chart to fail on its next upgrade. End to end through the CLI on real git
repositories and the real CRD catalog."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import edit, snapshot, write_repo
from tests.test_terraform_provider import FLUX_MANIFESTS

TEMPLATE = "chart/templates/_helmRelease.tpl"
HELM_RELEASE = """\
{{- define "platform.helmrelease" }}
{{- $ := index . 0 }}
{{ with index . 1 }}
---
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: {{ .name }}
spec:
  chart:
    spec:
      chart: {{ .name }}
      sourceRef:
        apiVersion: source.toolkit.fluxcd.io/v1beta2
        kind: HelmRepository
        name: {{ .name }}
      version: {{ .version }}
  interval: 10m0s
{{- end }}
{{- end }}
"""
MANIFESTS = FLUX_MANIFESTS.replace("fluxcd.io/v1beta2\n", "fluxcd.io/v1\n")
CHART = "apiVersion: v2\nname: platform\nversion: 1.0.0\n"


def platform(tmp_path: Path, release: str) -> Path:
    """Flux installed from flux-manifests at ``release`` and a chart rendering HelmReleases."""
    return write_repo(
        tmp_path / "repo",
        {
            "kubernetes/flux.yaml": MANIFESTS.replace("v2.0.0-rc.1", f"v{release}"),
            "chart/Chart.yaml": CHART,
            TEMPLATE: HELM_RELEASE,
            "chart/templates/routes.yaml": '{{- include "platform.helmrelease" (list $ .) }}\n',
        },
    )


def test_to_refuses_while_a_chart_template_writes_a_version_the_target_does_not_serve(
    tmp_path: Path,
) -> None:
    repo = platform(tmp_path, "2.7.0")
    before = snapshot(repo)
    refused = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 2, refused.stdout + refused.stderr
    assert (
        f"error: {TEMPLATE}:5: Helm chart template: apiVersion helm.toolkit.fluxcd.io/v2beta2 "
        "is not served by Flux 2.8.5, and a template is not rewritten: write "
        "helm.toolkit.fluxcd.io/v2 there by hand, then re-run; nothing written"
    ) in refused.stderr
    assert snapshot(repo) == before
    edit(repo, TEMPLATE, "helm.toolkit.fluxcd.io/v2beta2", "helm.toolkit.fluxcd.io/v2")
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    # the sourceRef's indented apiVersion is a field, not an object the template renders
    assert "source.toolkit.fluxcd.io/v1beta2\n        kind: HelmRepository" in (
        (repo / TEMPLATE).read_text("utf-8")
    )


def test_check_names_a_chart_template_line_the_release_does_not_serve(tmp_path: Path) -> None:
    repo = platform(tmp_path, "2.8.5")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert [line for line in check.stdout.splitlines() if "not served" in line] == [
        f"{TEMPLATE}:5: Helm chart template: apiVersion helm.toolkit.fluxcd.io/v2beta2 is not "
        "served by Flux 2.8.5; a template is not rewritten: write helm.toolkit.fluxcd.io/v2 "
        "there by hand"
    ]
