"""A flux-instance HelmRelease whose values come from a ConfigMap that kustomize generates
from a file of the repository (``valuesFrom`` + ``configMapGenerator``).

The layout of damacus/home-ops, auricom/home-ops, kashalls/home-cluster and ricsanfre/pi-cluster:
``helm/values.yaml`` sets ``instance.distribution.version`` (Renovate-annotated), the app's
``kustomization.yaml`` turns it into the ConfigMap the HelmRelease's ``valuesFrom`` names, and
the bootstrap helmfile reads the same file. That value is the Flux release the operator
installs: a pin at its line, checked and moved like a written one.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, edit, snapshot, write_repo

APP = "kubernetes/apps/flux-system/flux-instance/app"
VALUES = f"{APP}/helm/values.yaml"
RELEASE = f"{APP}/helmrelease.yaml"
RELEASE_TEXT = """\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: flux-instance
  valuesFrom:
    - kind: ConfigMap
      name: flux-instance-values
"""
KUSTOMIZATION = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./helmrelease.yaml
configMapGenerator:
  - name: flux-instance-values
    files:
      - values.yaml=./helm/values.yaml
configurations:
  - ./helm/kustomizeconfig.yaml
"""
VALUES_TEXT = """\
---
instance:
  distribution:
    # renovate: depName=controlplaneio-fluxcd/distribution datasource=github-releases
    version: {version}
  cluster:
    networkPolicy: false
"""
MISE = '[tools]\n"aqua:fluxcd/flux2" = "2.4.0"\n'


def repo_with(tmp_path: Path, version: str = "2.4.0", **more: str) -> Path:
    files = {
        RELEASE: RELEASE_TEXT,
        f"{APP}/kustomization.yaml": KUSTOMIZATION,
        VALUES: VALUES_TEXT.format(version=version),
        ".mise.toml": MISE,
    }
    return write_repo(tmp_path / "repo", {**files, **more})


def instance_rows(repo: Path) -> list[tuple[str, str, str, bool, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"], s["ok"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]


def test_the_generated_values_file_sets_the_release(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    owner = "flux-instance values (ConfigMap flux-instance-values)"
    assert instance_rows(repo) == [(f"{VALUES}:5", owner, "2.4.0", True, True)]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_a_values_file_of_another_release_is_a_violation_at_its_line(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, version="2.3.0")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    # the FluxInstance is what installs Flux: the CLI's 2.4.0 is the pin that differs
    assert ".mise.toml:2" in check.stdout
    assert "2.3.0" in check.stdout


def test_to_moves_the_values_file_with_the_other_pins(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    changed = changed_lines(repo, since=None)
    assert changed == [
        '-"aqua:fluxcd/flux2" = "2.4.0"',
        '+"aqua:fluxcd/flux2" = "2.5.1"',
        "-    version: 2.4.0",
        "+    version: 2.5.1",
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_values_that_leave_the_version_out_are_the_charts_default(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, **{VALUES: "instance:\n  cluster:\n    networkPolicy: false\n"})
    owner = "flux-instance values (chart default)"
    # at its chartRef, as for a release with no values (nothing to write there)
    assert instance_rows(repo) == [(f"{RELEASE}:8", owner, "2.x", True, True)]


def test_a_later_source_the_repository_does_not_hold_leaves_it_unproven(tmp_path: Path) -> None:
    later = "    - kind: Secret\n      name: flux-instance-overrides\n"
    repo = repo_with(tmp_path, **{RELEASE: RELEASE_TEXT + later})
    [row] = instance_rows(repo)
    assert (row[0].split(":")[0], row[2], row[4]) == (RELEASE, "valuesFrom", False)
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git", "--dry-run")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo) == before


def test_a_generator_file_outside_its_kustomization_is_not_followed(tmp_path: Path) -> None:
    outside = KUSTOMIZATION.replace("./helm/values.yaml", "../../values.yaml")
    repo = repo_with(
        tmp_path,
        **{
            f"{APP}/kustomization.yaml": outside,
            "kubernetes/apps/values.yaml": VALUES_TEXT.format(version="2.4.0"),
        },
    )
    [row] = instance_rows(repo)  # kustomize refuses a file above its root (load restrictor)
    assert (row[2], row[4]) == ("valuesFrom", False)


def test_sync_follows_renovate_moving_the_values_file(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    edit(repo, VALUES, "version: 2.4.0", "version: 2.5.1")  # Renovate's post-upgrade task
    synced = run_cli("sync", "--repo", str(repo), "--offline")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / ".mise.toml").read_text("utf-8") == MISE.replace("2.4.0", "2.5.1")
