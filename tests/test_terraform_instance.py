"""The Flux release a Terraform ``helm_release`` of the flux-instance chart installs.

flux-operator's d2 reference bootstrapped a cluster with Terraform's Helm provider: a
``helm_release`` of flux-operator, then one of flux-instance whose values set
``instance.distribution.version`` (1ab-io/d2-fleet keeps it, from a ``templatefile``;
kube-on-the-cheap/onprem-infra too; ydigitalspace/k8sdiy-env-2025 with ``set { … }``). That is
the Flux release the cluster runs, and it was read nowhere: not shown, never compared, never
moved. The Helm provider applies ``set`` over ``values``, so the last ``set`` of the path is
the pin; values this does not read leave it unproven; none gives the chart's default, 2.x.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, edit, snapshot, write_repo
from tests.support.independent_scan import scan

MAIN = "terraform/main.tf"
OPERATOR = """\
resource "helm_release" "flux_operator" {
  name       = "flux-operator"
  namespace  = "flux-system"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-operator"
  version    = "0.32.0"
}

"""
# provider 2.x: a ``set`` block per value (lines 16 and 20 of MAIN: the second one wins)
SET_BLOCKS = """\
resource "helm_release" "flux_instance" {
  name       = "flux"
  namespace  = "flux-system"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-instance"
  version    = "0.32.0"
  set {
    name  = "instance.distribution.version"
    value = "2.3.0"
  }
  set {
    name  = "instance.distribution.version"
    value = "{version}" # the release
  }
  set {
    name  = "instance.cluster.type"
    value = "kubernetes"
  }
}
"""
# provider 3.x: ``set`` is a list of objects
SET_LIST = """\
resource "helm_release" "flux_instance" {
  chart   = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance"
  version = "0.32.0"
  set = [
    { name = "instance.cluster.type", value = "kubernetes" },
    {
      value = "{version}"
      name  = "instance.distribution.version"
    },
  ]
}
"""
# d2-fleet's: what the template sets is not read
TEMPLATED = """\
resource "helm_release" "flux_instance" {
  chart   = "flux-instance"
  version = "0.32.0"
  values = [
    templatefile("${path.module}/values/instance.yaml", {
      distribution_version = var.flux_version
    })
  ]
}
"""
MISE = '[tools]\n"aqua:fluxcd/flux2" = "2.4.0"\n'


def repo_with(tmp_path: Path, instance: str) -> Path:
    return write_repo(tmp_path / "repo", {MAIN: OPERATOR + instance, ".mise.toml": MISE})


def instance_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]


def test_the_last_set_of_the_version_pins_the_release_and_moves(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SET_BLOCKS.replace("{version}", "2.4.0"))
    owner = "helm_release.flux_instance set instance.distribution.version"
    assert instance_rows(repo) == [(f"{MAIN}:21", owner, "2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, MAIN, since=None) == [
        '-    value = "2.4.0" # the release',
        '+    value = "2.5.1" # the release',
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_sync_follows_the_set_renovate_moved(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SET_BLOCKS.replace("{version}", "2.4.0"))
    edit(repo, MAIN, '"2.4.0" # the release', '"2.5.1" # the release')
    moved = run_cli("sync", "--repo", str(repo), "--offline")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / ".mise.toml").read_text("utf-8") == MISE.replace("2.4.0", "2.5.1")


def test_a_set_list_of_another_release_than_the_cli_fails_check(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SET_LIST.replace("{version}", "2.3.0"))
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{MAIN}:15" in check.stdout and ".mise.toml:2" in check.stdout
    refused = run_cli("to", "2.2.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 4 and f"{MAIN}:15 pins" in refused.stderr, refused.stderr


def test_a_range_set_so_is_kept_and_must_admit_the_target(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, SET_BLOCKS.replace("{version}", "2.4.x"))
    before = snapshot(repo)[MAIN]
    refused = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 1 and f"error: {MAIN}:21: " in refused.stderr, refused.stderr
    assert snapshot(repo)[MAIN] == before


def test_values_this_does_not_read_leave_the_release_unproven_and_unmoved(
    tmp_path: Path,
) -> None:
    repo = repo_with(tmp_path, TEMPLATED)
    owner = "helm_release.flux_instance values (not read)"
    assert instance_rows(repo) == [(f"{MAIN}:12", owner, "values", False)]
    before = snapshot(repo)[MAIN]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo)[MAIN] == before


def test_a_release_that_sets_no_version_gets_the_chart_default(tmp_path: Path) -> None:
    bare = SET_LIST.replace("{version}", "2.4.0").replace("distribution.version", "cluster.domain")
    repo = repo_with(tmp_path, bare)
    owner = "helm_release.flux_instance values (chart default)"
    assert instance_rows(repo) == [(f"{MAIN}:10", owner, "2.x", True)]  # admits 2.4.0


def test_a_set_made_by_an_expression_leaves_the_release_unproven(tmp_path: Path) -> None:
    # ``set`` given whole by a variable, a ``for`` over a map, or a ``dynamic`` block may set
    # the version as well as not: not the chart's default, which they would override.
    generated = {
        "set = var.flux_sets": 12,
        "set = [for k, v in var.flux : { name = k, value = v }]": 12,
        'dynamic "set" {\n    for_each = var.flux\n    content {\n      name  = set.key\n'
        "      value = set.value\n    }\n  }": 12,
    }
    for at, (argument, line) in enumerate(generated.items()):
        text = SET_LIST.replace("{version}", "2.4.0").replace("distribution.version", "x")
        repo = repo_with(tmp_path / str(at), text.replace("set = [", f"{argument}\n  s = ["))
        owner = "helm_release.flux_instance values (not read)"
        assert instance_rows(repo) == [(f"{MAIN}:{line}", owner, "values", False)], argument


def test_each_form_reads_as_the_independent_scan_reads_it(tmp_path: Path) -> None:
    forms = [SET_BLOCKS.replace("{version}", "2.4.0"), SET_LIST.replace("{version}", "2.3.0")]
    forms += [TEMPLATED, SET_LIST.replace("distribution.version", "cluster.domain")]
    forms += [SET_LIST.replace("set = [", "set = var.sets\n  s = [")]
    forms += [SET_LIST.replace('"{version}"', "var.flux_version")]
    variable = 'variable "flux_version" {\n  default = "2.3.0"\n}\n'
    for at, form in enumerate(forms):
        repo = repo_with(tmp_path / str(at), form + variable)
        expected = [p.version for p in scan(repo).flux_pins if p.kind == "instance"]
        assert [value for _, _, value, _ in instance_rows(repo)] == expected, form


def test_a_set_of_a_variable_is_followed_to_its_default_which_moves(tmp_path: Path) -> None:
    variable = 'variable "flux_version" {\n  type    = string\n  default = "2.4.0"\n}\n'
    instance = SET_BLOCKS.replace('"{version}" # the release', "var.flux_version")
    repo = write_repo(
        tmp_path / "repo",
        {MAIN: OPERATOR + instance, "terraform/variables.tf": variable, ".mise.toml": MISE},
    )
    owner = "helm_release.flux_instance set instance.distribution.version (var.flux_version)"
    assert instance_rows(repo) == [("terraform/variables.tf:3", owner, "2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "terraform/variables.tf").read_text("utf-8") == variable.replace(
        "2.4.0", "2.5.1"
    )
    assert snapshot(repo)[MAIN].decode() == OPERATOR + instance
