"""flux-operator installed from its own release manifest.

Its install guide applies ``…/flux-operator/releases/download/vX.Y.Z/install.yaml``; public
bootstraps do so from a script, a Terraform ``local-exec``, a kustomization's resources or a
Nix ``fetchurl`` (k3s manifests), then let Flux take the operator over from its chart, whose
version line is the operator's (each chart's ``appVersion`` is ``v`` and its version). The
manifest was read nowhere: ``check`` said consistent with the bootstrap at one release and the
chart at another, and ``to --component flux-operator`` left the bootstrap behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, edit, git, write_repo
from tests.support.independent_scan import scan

URL = "https://github.com/controlplaneio-fluxcd/flux-operator/releases/download/{}/install.yaml"
SCRIPT = "scripts/bootstrap.sh"
SCRIPT_TEXT = f"""\
#!/usr/bin/env bash
# kubectl apply -f {URL.format("v0.30.0")}
echo "installing {URL.format("v0.31.0")}"
kubectl apply --server-side -f {URL.format("v0.33.0")}
kubectl apply -f https://github.com/controlplaneio-fluxcd/flux-operator/releases/latest/download/install.yaml
"""
KUSTOMIZATION = "bootstrap/kustomization.yaml"
KUSTOMIZATION_TEXT = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {URL.format("v0.33.0")}
"""
OCI = "kubernetes/flux-operator/oci.yaml"
OCI_TEXT = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-operator
  namespace: flux-system
spec:
  interval: 1h
  url: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator
  ref:
    tag: 0.34.0
"""


def fleet(tmp_path: Path) -> Path:
    files = {SCRIPT: SCRIPT_TEXT, KUSTOMIZATION: KUSTOMIZATION_TEXT, OCI: OCI_TEXT}
    return write_repo(tmp_path / "repo", files)


def operator_rows(repo: Path) -> list[tuple[str, str, str]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["role"], s["value"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["subject"] == "flux-operator"
    ]


def test_each_manifest_a_line_applies_is_a_pin_of_the_operator(tmp_path: Path) -> None:
    # not the commented one, the echoed one, nor releases/latest
    rows = operator_rows(fleet(tmp_path))
    assert sorted(rows) == [
        (f"{KUSTOMIZATION}:4", "kustomize remote install", "v0.33.0"),
        (f"{OCI}:10", "OCIRepository tag", "0.34.0"),
        (f"{SCRIPT}:4", "kustomize remote install", "v0.33.0"),
    ]


def test_check_names_a_manifest_of_another_release_than_the_chart(tmp_path: Path) -> None:
    check = run_cli("check", "--repo", str(fleet(tmp_path)), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    # the chart disagrees with the first exact pin, the bootstrap kustomization's manifest
    assert f"{OCI}:10: " in check.stdout and f"({KUSTOMIZATION}:4)" in check.stdout


def test_to_moves_the_manifests_with_the_chart_keeping_the_v(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    args = ("to", "0.35.0", "--component", "flux-operator", "--offline", "--no-git")
    moved = run_cli(*args, "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    changed = changed_lines(repo, since=None)
    assert changed == [
        f"-  - {URL.format('v0.33.0')}",
        f"+  - {URL.format('v0.35.0')}",
        "-    tag: 0.34.0",
        "+    tag: 0.35.0",
        f"-kubectl apply --server-side -f {URL.format('v0.33.0')}",
        f"+kubectl apply --server-side -f {URL.format('v0.35.0')}",
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_sync_moves_the_manifests_to_the_tag_renovate_moved(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    for rel in (SCRIPT, KUSTOMIZATION):
        edit(repo, rel, URL.format("v0.33.0"), URL.format("v0.34.0"))
        git(repo, "commit", "-qam", f"align {rel}")
    edit(repo, OCI, "tag: 0.34.0", "tag: 0.35.0")
    moved = run_cli("sync", "--component", "flux-operator", "--repo", str(repo), "--offline")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert URL.format("v0.35.0") in (repo / SCRIPT).read_text("utf-8")
    assert URL.format("v0.35.0") in (repo / KUSTOMIZATION).read_text("utf-8")


def test_the_pins_are_those_the_independent_scan_reads(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    expected = {(p.file, p.chart, p.version) for p in scan(repo).operator_pins}
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    found = {(s["file"], s["subject"], s["value"]) for s in json.loads(outcome.stdout)["sites"]}
    assert found == expected
