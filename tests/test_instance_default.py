"""A flux-instance HelmRelease that sets no ``instance.distribution.version``.

The chart's own values.yaml defaults it to ``2.x``: the operator installs the newest Flux 2.x
of its distribution artifact (mirceanton/home-ops, onedr0p/home-ops). That is the cluster's Flux
release range, shown and checked like a written ``2.x``; a version that may come from
``valuesFrom`` is shown as unproven.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, snapshot

RELEASE = "kubernetes/flux-instance/helmrelease.yaml"
RELEASE_TEXT = """\
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
      distribution:
        artifact: oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v0.46.0
      components: [source-controller]
"""
MISE = '[tools]\n"aqua:fluxcd/flux2" = "2.4.0"\n'


def repo_with(tmp_path: Path, release: str) -> Path:
    repo = tmp_path / "repo"
    (repo / RELEASE).parent.mkdir(parents=True)
    (repo / RELEASE).write_text(release, "utf-8")
    (repo / ".mise.toml").write_text(MISE, "utf-8")
    init_git(repo)
    return repo


def instance_rows(repo: Path) -> list[tuple[str, str, str, str, bool, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"], s["expected"], s["ok"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]


def test_no_distribution_version_is_the_charts_default_range(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, RELEASE_TEXT)
    owner = "flux-system/flux-instance values (chart default)"
    # at the distribution: the values that leave the version out
    assert instance_rows(repo) == [(f"{RELEASE}:13", owner, "2.x", "2.4.0", True, True)]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    before = snapshot(repo)
    refused = run_cli("to", "3.0.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code != 0  # the chart's 2.x would not admit it: never a silent pass
    assert snapshot(repo) == before


def test_no_instance_values_at_all_is_the_default_too(tmp_path: Path) -> None:
    text = RELEASE_TEXT.split("  values:\n")[0]
    repo = repo_with(tmp_path, text)
    owner = "flux-system/flux-instance values (chart default)"
    assert instance_rows(repo) == [(f"{RELEASE}:8", owner, "2.x", "2.4.0", True, True)]


def test_values_from_elsewhere_leave_the_version_unproven(tmp_path: Path) -> None:
    text = RELEASE_TEXT.replace(
        "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: flux-values\n  values:\n"
    )
    repo = repo_with(tmp_path, text)
    rows = instance_rows(repo)
    assert [(r[0], r[2], r[5]) for r in rows] == [(f"{RELEASE}:16", "valuesFrom", False)]
