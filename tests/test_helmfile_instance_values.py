"""The Flux release a bootstrap helmfile installs the flux-instance chart with.

monosense-io/k8s-gitops bootstraps flux-operator and flux-instance from
``bootstrap/helmfile.d/01-core.yaml.gotmpl`` with the instance's values written inline
(``values: [{instance: {distribution: {version: v2.7.2}}}]``); that is the repository's only
pin of the Flux release. helmfile merges a release's ``values`` in order, so the last inline
mapping that sets the version is the pin; a values file after it is not read here.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, snapshot, write_repo

HELMFILE = "bootstrap/helmfile.d/01-core.yaml.gotmpl"
HELMFILE_TEXT = """\
---
releases:
  - name: flux-operator
    namespace: flux-system
    chart: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator
    version: 0.32.0

  - name: flux-instance
    namespace: flux-system
    chart: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
    version: 0.32.0
    needs: ['flux-system/flux-operator']
    values:
      - instance:
          distribution:
            artifact: oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests
            version: {version}
          sync:
            kind: GitRepository
            path: kubernetes/clusters/{{{{ .Environment.Name }}}}
"""
MISE = '[tools]\n"aqua:fluxcd/flux2" = "2.4.0"\n'


def repo_with(tmp_path: Path, text: str, rel: str = HELMFILE) -> Path:
    return write_repo(tmp_path / "repo", {rel: text, ".mise.toml": MISE})


def instance_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]


def test_the_inline_values_of_a_helmfile_template_pin_the_release(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, HELMFILE_TEXT.format(version="v2.4.0"))
    owner = "helmfile release flux-instance values"
    assert instance_rows(repo) == [(f"{HELMFILE}:17", owner, "v2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    changed = changed_lines(repo, HELMFILE, since=None)
    assert changed == ["-            version: v2.4.0", "+            version: v2.5.1"]


def test_a_plain_helmfile_of_another_release_fails_check(tmp_path: Path) -> None:
    text = HELMFILE_TEXT.format(version='"2.3.0"').replace("{{ .Environment.Name }}", "home")
    repo = repo_with(tmp_path, text, "helmfile.yaml")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert "helmfile.yaml:17" in check.stdout and ".mise.toml:2" in check.stdout


def test_a_values_file_after_the_inline_values_leaves_nothing_read(tmp_path: Path) -> None:
    text = HELMFILE_TEXT.format(version="v2.3.0") + "      - ./templates/values.yaml.gotmpl\n"
    repo = repo_with(tmp_path, text)
    assert instance_rows(repo) == []  # the file may set it: no guess


def test_a_version_written_as_a_template_action_is_unproven_and_kept(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, HELMFILE_TEXT.format(version="{{ .Values.flux }}"))
    assert [(r[2], r[3]) for r in instance_rows(repo)] == [("{{ .Values.flux }}", False)]
    before = snapshot(repo)[HELMFILE]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo)[HELMFILE] == before
