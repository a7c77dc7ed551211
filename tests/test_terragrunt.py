"""Terragrunt (``terragrunt.hcl``): the ``inputs`` it calls a module of the repository with
set that module's variables, so a ``version = var.NAME`` with no default (kube-on-the-cheap/
onprem-infra's platform-bootstrap module) is pinned there. It was left unproven and a bump
moved nothing. End to end through the CLI, offline, on real git repositories.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, snapshot

BOOTSTRAP = """\
variable "flux_version" {
  type = string
}

resource "flux_bootstrap_git" "this" {
  path    = "clusters/prod"
  version = var.flux_version
}
"""
FLUX_CALL = """\
terraform {
  source = "../..//modules/flux/"
}

inputs = {
  cluster      = "prod"
  flux_version = "v2.4.0"
}
"""
OPERATOR = """\
variable "flux_operator_version" {
  type = string
}

resource "helm_release" "flux_operator" {
  name       = "flux-operator"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-operator"
  version    = var.flux_operator_version
}

resource "helm_release" "flux_instance" {
  name       = "flux"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-instance"
  version    = var.flux_operator_version
}
"""
# as kube-on-the-cheap/onprem-infra's config/understairs/platform-bootstrap/terragrunt.hcl
OPERATOR_CALL = """\
terraform {
  source = "../../..//modules/platform-bootstrap/"
}

include "general" {
  path = find_in_parent_folders("general.include.hcl")
}

inputs = {
  flux_operator_version = "0.47.0"
  sync = {
    repo = "https://github.com/example/platform"
  }
}
"""
OPERATOR_CALLER = "config/understairs/platform-bootstrap/terragrunt.hcl"


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def flux_module(tmp_path: Path, cli: str) -> Path:
    """The Flux bootstrap module, its Terragrunt caller, and an asdf CLI pin at ``cli``."""
    files = {"modules/flux/main.tf": BOOTSTRAP, "live/prod/terragrunt.hcl": FLUX_CALL}
    return repository(tmp_path, {**files, ".tool-versions": f"flux2 {cli}\n"})


def rows(repo: Path) -> list[tuple[str, int, str, str, str, bool]]:
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return [
        (s["file"], s["line"], s["subject"], s["value"], s["owner"], s["proven"])
        for s in document["sites"]
    ]


def test_a_terragrunt_input_is_the_flux_release_a_module_variable_with_no_default_takes(
    tmp_path: Path,
) -> None:
    repo = flux_module(tmp_path, cli="2.4.0")
    owner = "terragrunt inputs -> flux_bootstrap_git.this (var.flux_version)"
    assert ("live/prod/terragrunt.hcl", 7, "Flux", "v2.4.0", owner, True) in rows(repo)
    assert not [row for row in rows(repo) if row[0] == "modules/flux/main.tf"]
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after.pop("live/prod/terragrunt.hcl") == FLUX_CALL.replace("v2.4.0", "v2.5.1").encode()
    assert after.pop(".tool-versions") == b"flux2 2.5.1\n"
    assert after == {rel: data for rel, data in before.items() if rel in after}


def test_a_terragrunt_input_disagreeing_with_the_cli_is_a_violation_at_its_line(
    tmp_path: Path,
) -> None:
    repo = flux_module(tmp_path, cli="2.5.1")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.splitlines()[0] == (
        ".tool-versions:1: .tool-versions pins Flux 2.5.1, terragrunt inputs -> "
        "flux_bootstrap_git.this (var.flux_version) pins Flux v2.4.0 "
        "(live/prod/terragrunt.hcl:7) — make them agree"
    )


def test_flux_operator_s_charts_take_their_version_from_a_terragrunt_input(
    tmp_path: Path,
) -> None:
    # One input sets both charts' versions: each chart is a component, and the bump of
    # flux-operator moves the input once (flux-instance is released under the same version).
    repo = repository(
        tmp_path,
        {"modules/platform-bootstrap/operator.tf": OPERATOR, OPERATOR_CALLER: OPERATOR_CALL},
    )
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repo))
    document = json.loads(outcome.stdout)
    assert [c["name"] for c in document["components"]] == ["flux", "flux-operator", "flux-instance"]
    assert {(row[0], row[1], row[3], row[5]) for row in rows(repo)} == {
        (OPERATOR_CALLER, 10, "0.47.0", True),
        ("modules/platform-bootstrap/operator.tf", 15, "2.x", False),  # the chart's default
    }
    checked = run_cli("check", "--offline", "--repo", str(repo))
    assert checked.code == 0, checked.stdout + checked.stderr
    before = snapshot(repo)
    args = ("to", "0.48.0", "--component", "flux-operator", "--offline", "--no-git")
    outcome = run_cli(*args, "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after.pop(OPERATOR_CALLER) == OPERATOR_CALL.replace("0.47.0", "0.48.0").encode()
    assert after == {rel: data for rel, data in before.items() if rel != OPERATOR_CALLER}
