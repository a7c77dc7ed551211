"""A Flux release a build script reads from a chart's Chart.yaml with yq.

End to end through the CLI in git repositories in ``tmp_path``; ``--offline`` uses the
bundled Helm index snapshot (2.6.4 and 2.7.2 are in it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

CHART = "helm/flux-app/Chart.yaml"
# giantswarm/flux-app: Flux repackaged as a chart of its own, with kube-state-metrics as an
# optional add-on; its appVersion is the Flux release the script builds the chart from.
CHART_TEXT = """\
apiVersion: v2
appVersion: 2.6.4
dependencies:
  - name: kube-state-metrics
    version: "7.2.1"
    repository: https://prometheus-community.github.io/helm-charts
    alias: kubeStateMetrics
    condition: kubeStateMetrics.enabled
name: flux-app
type: application
version: 1.10.2
"""
SCRIPT = "hack/flux-manifest.sh"
SCRIPT_TEXT = """\
#!/usr/bin/env bash
VERSION=$(yq '.appVersion' ./helm/flux-app/Chart.yaml)
WORKDIR=$(mktemp -d)
cd $WORKDIR
curl -s -L "https://github.com/fluxcd/flux2/releases/download/v${VERSION}/install.yaml" \\
    | yq -s '.kind + "-" + .metadata.name'
"""


def repo_of(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_repo(tmp_path / "repo", files)


def status(root: Path) -> dict[str, Any]:
    outcome = run_cli("status", "--offline", "--json", "--repo", str(root))
    assert outcome.code == 0, outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def test_a_release_a_script_reads_from_chart_yaml_with_yq_is_that_key(tmp_path: Path) -> None:
    # The URL was shown as v${VERSION}, unproven, and 'to' found nothing to do.
    root = repo_of(tmp_path, {CHART: CHART_TEXT, SCRIPT: SCRIPT_TEXT})
    document = status(root)
    flux = [s for s in document["sites"] if s["subject"] == "Flux"]
    assert [(s["file"], s["line"], s["value"], s["proven"]) for s in flux] == [
        (CHART, 2, "2.6.4", True)
    ]
    assert "read by yq in hack/flux-manifest.sh" in flux[0]["owner"]
    check = run_cli("check", "--offline", "--repo", str(root))
    assert check.code == 0, check.stdout + check.stderr
    assert "cannot be proven" not in check.stdout


def test_to_moves_the_chart_key_the_script_reads_and_nothing_else(tmp_path: Path) -> None:
    root = repo_of(tmp_path, {CHART: CHART_TEXT, SCRIPT: SCRIPT_TEXT})
    before = snapshot(root)
    moved = run_cli("to", "2.7.2", "--offline", "--no-git", "--repo", str(root))
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(root)
    assert {rel for rel in after if after[rel] != before[rel]} == {CHART}
    assert (root / CHART).read_text("utf-8") == CHART_TEXT.replace("2.6.4", "2.7.2")
    assert run_cli("check", "--offline", "--repo", str(root)).code == 0


def test_a_chart_key_read_from_the_script_s_directory_with_yq_eval_is_followed(
    tmp_path: Path,
) -> None:
    script = SCRIPT_TEXT.replace(
        "$(yq '.appVersion' ./helm/flux-app/Chart.yaml)",
        '$(yq eval -r ".appVersion" ../helm/flux-app/Chart.yaml)',
    )
    root = repo_of(tmp_path, {CHART: CHART_TEXT, SCRIPT: script})
    flux = [s for s in status(root)["sites"] if s["subject"] == "Flux"]
    assert [(s["file"], s["line"], s["value"]) for s in flux] == [(CHART, 2, "2.6.4")]


def test_a_chart_built_from_flux_s_release_is_not_named_as_its_add_on_s_wrapper(
    tmp_path: Path,
) -> None:
    # flux-app was 'flux-app (flux-app -> kube-state-metrics)': '--component flux-app' moved
    # kube-state-metrics, the chart's optional add-on, as if it were the chart's release.
    root = repo_of(tmp_path, {CHART: CHART_TEXT, SCRIPT: SCRIPT_TEXT})
    components = status(root)["components"]
    assert components == [
        {"name": "flux", "wrapper": None, "upstream": "flux2"},
        {"name": "kube-state-metrics", "wrapper": "flux-app", "upstream": "kube-state-metrics"},
    ]
    wrong = run_cli("to", "7.3.0", "--component", "flux-app", "--offline", "--no-git",
                    "--repo", str(root))  # fmt: skip
    assert wrong.code == 2
    assert "--component flux-app: no such component (found: flux, kube-state-metrics)" in (
        wrong.stderr
    )


def test_without_the_script_the_chart_still_wraps_its_one_dependency_by_its_own_name(
    tmp_path: Path,
) -> None:
    root = repo_of(tmp_path, {CHART: CHART_TEXT})
    components = status(root)["components"]
    assert components == [
        {"name": "flux-app", "wrapper": "flux-app", "upstream": "kube-state-metrics"}
    ]
