"""Formats whose own readers end a line at LF or CRLF only, never at a lone CR: Terraform
(HCL's scanner: ``Newline = '\\r'? '\\n'``, a lone CR is an invalid character), TOML 1.0
("newline means LF or CRLF") and a ``.tool-versions`` file (asdf and mise split it at LF).
A file of one of them saved with lone CRs (a classic Mac editor) pins nothing its tool
reads: it is a problem naming the file, its line and what to do, never a silent nothing.
With CRLF it is read, judged and moved as with LF, every CR LF kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import test_terraform_variables as tf
from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot
from tests.test_line_endings import KUSTOMIZATION, assert_read_alike, repo_with

TERRAFORM = {
    "infra/flux/main.tf": """\
terraform {
  required_providers {
    flux = { source = "fluxcd/flux" }
  }
}

resource "flux_bootstrap_git" "this" {
  path    = "clusters/prod"
  version = "v2.4.0"
}
"""
}
MISE = {"mise.toml": '[env]\nFLUX_NS = "flux-system"\n\n[tools]\nflux2 = "2.4.0"\n'}
TOOL_VERSIONS = {".tool-versions": "terraform 1.5.0\nflux2 2.4.0\n"}
FORMATS = {
    "terraform": (TERRAFORM, 9, "Terraform"),
    "mise": (MISE, 5, "TOML"),
    "tool-versions": (TOOL_VERSIONS, 2, "asdf or mise"),
}


@pytest.mark.parametrize("files", [f[0] for f in FORMATS.values()], ids=FORMATS.keys())
def test_a_crlf_file_is_read_and_moved_keeping_crlf(tmp_path: Path, files: dict[str, str]) -> None:
    assert_read_alike(tmp_path, {**files, **KUSTOMIZATION}, "\r\n", "2.5.1")


@pytest.mark.parametrize(("files", "line", "reader"), FORMATS.values(), ids=FORMATS.keys())
def test_a_lone_cr_file_is_a_problem_named_at_its_first_line(
    tmp_path: Path, files: dict[str, str], line: int, reader: str
) -> None:
    # (it was read as one line: no pin and no word of it, check passed)
    (rel,) = files
    repo = repo_with(tmp_path / "repo", files, "\r")
    repo_with(repo, KUSTOMIZATION, "\n")
    before = snapshot(repo)
    message = (
        f"{rel}:1: lone CR line endings (classic Mac), which {reader} does not read as line "
        "breaks (only LF or CRLF): save the file with LF line endings (mac2unix); flux is unproven"
    )
    status = run_cli("status", "--offline", "--json", "--repo", str(repo))
    problems = json.loads(status.stdout)["problems"]
    assert [f"{p['file']}:{p['line']}: {p['message']}" for p in problems] == [message]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1 and message in check.stdout, check.stdout
    bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 2 and message in bump.stderr, bump.stdout + bump.stderr
    assert snapshot(repo) == before
    # converted as the message says, its pin is read where the LF file has it
    (repo / rel).write_bytes((repo / rel).read_bytes().replace(b"\r", b"\n"))
    found = json.loads(run_cli("status", "--offline", "--json", "--repo", str(repo)).stdout)
    assert (rel, line, "2.4.0") in [(s["file"], s["line"], s["value"][-5:]) for s in found["sites"]]


def test_a_lone_cr_tfvars_file_setting_the_flux_variable_is_a_problem(tmp_path: Path) -> None:
    # (its value was silently not a pin: to moved the variable's default and left it)
    module = {"infra/flux/main.tf": tf.MAIN, "infra/flux/variables.tf": tf.VARIABLES}
    repo = repo_with(tmp_path / "repo", module, "\n")
    repo_with(repo, {"infra/flux/terraform.tfvars": tf.TFVARS}, "\r")
    status = run_cli("status", "--offline", "--json", "--repo", str(repo))
    problems = json.loads(status.stdout)["problems"]
    assert [(p["file"], p["line"]) for p in problems] == [("infra/flux/terraform.tfvars", 1)]
    assert problems[0]["message"].startswith("lone CR line endings (classic Mac), which Terraform")
    before = snapshot(repo)
    bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 2 and "terraform.tfvars:1: lone CR" in bump.stderr, bump.stderr
    assert snapshot(repo) == before
