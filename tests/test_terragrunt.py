"""Terragrunt (``terragrunt.hcl``): the ``inputs`` it calls a module of the repository with
set that module's variables, so a ``version = var.NAME`` with no default (kube-on-the-cheap/
onprem-infra's platform-bootstrap module) is pinned there. It was left unproven and a bump
moved nothing. End to end through the CLI, offline, on real git repositories.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import commit_file, init_git, snapshot

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


# Terragrunt's common layout: each child includes the root file, which sets the inputs every
# module shares (Terragrunt merges them under the child's own; the child's keys win).
ROOT_INPUTS = """\
remote_state {
  backend = "s3"
}

inputs = {
  flux_version = "v2.4.0"
}
"""
ROOT_CHILD = """\
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules/flux"
}

inputs = {
  cluster = "CLUSTER"
}
"""


def included_layout(tmp_path: Path, cli: str) -> Path:
    """Two clusters' children of the Flux module including ``live/root.hcl``."""
    files = {
        "modules/flux/main.tf": BOOTSTRAP,
        "live/root.hcl": ROOT_INPUTS,
        "live/prod/flux/terragrunt.hcl": ROOT_CHILD.replace("CLUSTER", "prod"),
        "live/staging/flux/terragrunt.hcl": ROOT_CHILD.replace("CLUSTER", "staging"),
    }
    return repository(tmp_path, {**files, ".tool-versions": f"flux2 {cli}\n"})


def rows(repo: Path) -> list[tuple[str, int, str, str, str, bool]]:
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return [
        (s["file"], s["line"], s["subject"], s["value"], s["owner"], s["proven"])
        for s in document["sites"]
    ]


# The Flux module's variable set by its caller's inputs, or by those of the file it includes
# (once for both clusters); each: the layout, the pin's file, line and text before the bump.
LAYOUTS = {
    "own-inputs": (flux_module, "live/prod/terragrunt.hcl", 7, FLUX_CALL),
    "included-root-hcl": (included_layout, "live/root.hcl", 6, ROOT_INPUTS),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_terragrunt_input_is_the_flux_release_a_module_variable_with_no_default_takes(
    tmp_path: Path, layout: str
) -> None:
    make, rel, line, text = LAYOUTS[layout]
    repo = make(tmp_path, "2.4.0")
    owner = "terragrunt inputs -> flux_bootstrap_git.this (var.flux_version)"
    flux = [row for row in rows(repo) if row[0] != ".tool-versions"]
    assert flux == [(rel, line, "Flux", "v2.4.0", owner, True)]
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after.pop(rel) == text.replace("v2.4.0", "v2.5.1").encode()
    assert after.pop(".tool-versions") == b"flux2 2.5.1\n"
    assert after == {f: data for f, data in before.items() if f in after}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_terragrunt_input_disagreeing_with_the_cli_is_a_violation_at_its_line(
    tmp_path: Path, layout: str
) -> None:
    make, rel, line, _ = LAYOUTS[layout]
    outcome = run_cli("check", "--offline", "--repo", str(make(tmp_path, "2.5.1")))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.splitlines()[0] == (
        ".tool-versions:1: .tool-versions pins Flux 2.5.1, terragrunt inputs -> "
        f"flux_bootstrap_git.this (var.flux_version) pins Flux v2.4.0 ({rel}:{line}) — make "
        "them agree"
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


def test_a_child_s_own_input_wins_over_the_terragrunt_hcl_it_includes(tmp_path: Path) -> None:
    # find_in_parent_folders() finds the nearest terragrunt.hcl above the child; a relative
    # string path names a file beside it. The child's own key is the one Terragrunt passes.
    parent = 'inputs = {\n  flux_version = "v2.0.0"\n}\n'
    child = ROOT_CHILD.replace('("root.hcl")', "()").replace("CLUSTER", "prod")
    own = 'include { path = "../common.hcl" }\n\n' + FLUX_CALL
    # merge_strategy = "no_merge": Terragrunt passes none of the included file's inputs
    unmerged = 'include {\n  path = "../common.hcl"\n  merge_strategy = "no_merge"\n}\n\n'
    unmerged += ROOT_CHILD.replace("../../../", "../../").split("\n\n", 1)[1]
    # a quoted path holding // is one path (no comment starts inside a string)
    slashed = unmerged.replace('"../common.hcl"', '"..//common.hcl"').replace(
        '  merge_strategy = "no_merge"\n', ""
    )
    repo = repository(
        tmp_path,
        {
            "modules/flux/main.tf": BOOTSTRAP,
            "live/terragrunt.hcl": parent,
            "live/prod/flux/terragrunt.hcl": child,
            "live/common.hcl": parent.replace("v2.0.0", "v2.1.0"),
            "live/dev/terragrunt.hcl": own,
            "live/lab/terragrunt.hcl": unmerged,
            "live/qa/terragrunt.hcl": slashed,
        },
    )
    assert {(row[0], row[1], row[3]) for row in rows(repo)} == {
        ("live/terragrunt.hcl", 2, "v2.0.0"),
        ("live/dev/terragrunt.hcl", 9, "v2.4.0"),  # not common.hcl's v2.1.0 (nor for lab)
        ("live/common.hcl", 2, "v2.1.0"),  # for qa
    }


def test_an_include_fluxbump_cannot_resolve_is_a_warning_at_its_line(tmp_path: Path) -> None:
    missing = ROOT_CHILD.replace("CLUSTER", "prod")
    computed = ROOT_CHILD.replace(
        'find_in_parent_folders("root.hcl")', '"${get_repo_root()}/root.hcl"'
    ).replace("CLUSTER", "staging")
    repo = repository(
        tmp_path,
        {
            "modules/flux/main.tf": BOOTSTRAP,
            "live/prod/flux/terragrunt.hcl": missing,
            "live/staging/flux/terragrunt.hcl": computed,
        },
    )
    # the variable stays unproven at its version line
    assert [(row[0], row[1], row[5]) for row in rows(repo)] == [("modules/flux/main.tf", 7, False)]
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repo))
    warnings = {
        (w["file"], w["line"]): w["message"] for w in json.loads(outcome.stdout)["warnings"]
    }
    assert warnings[("live/prod/flux/terragrunt.hcl", 2)] == (
        'include path find_in_parent_folders("root.hcl") finds no root.hcl read in a directory '
        "above live/prod/flux: the inputs it would give are not followed; create it, or "
        "exclude this file"
    )
    assert warnings[("live/staging/flux/terragrunt.hcl", 2)].startswith(
        'include path "${get_repo_root()}/root.hcl" is an expression fluxbump cannot evaluate'
    )
    checked = run_cli("check", "--offline", "--repo", str(repo))
    assert "Traceback" not in checked.stderr
    assert "live/prod/flux/terragrunt.hcl:2: include path" in checked.stdout + checked.stderr


def test_sync_follows_a_root_hcl_input_moved_since_the_base_revision(tmp_path: Path) -> None:
    # root.hcl's line is read again at the base revision: moved there, it is the source.
    repo = included_layout(tmp_path, cli="2.4.0")
    commit_file(repo, "live/root.hcl", ROOT_INPUTS.replace("v2.4.0", "v2.5.1"), "bump Flux")
    outcome = run_cli("sync", "--offline", "--base", "HEAD~1", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == "flux2 2.5.1\n"
