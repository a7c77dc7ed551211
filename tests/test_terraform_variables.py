"""Terraform ``version = var.NAME`` (issue 21): followed to the literal values that set the
variable in the same module, which are the pin-sites; none is an unproven site, never a
violation, never edited.

End to end through the CLI on a generated fleet (cloud-init installs Flux v2.4.0) with a
Terraform module beside it; ``to`` runs against the 127.0.0.1 Helm index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, git, init_git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

MAIN = """\
resource "flux_bootstrap_git" "this" {
  path    = "clusters/prod"
  version = var.flux_version # set in variables.tf
}
"""
VARIABLES = """\
variable "cluster" {
  default = "v9.9.9"
}

variable "flux_version" {
  description = "Flux release"
  type        = string
  default     = "v2.4.0"
}
"""
TFVARS = 'cluster      = "prod"\nflux_version = "v2.4.0" # the cluster\'s\n'


def module(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def cli_and_module(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository of ``files`` and an asdf Flux CLI pin (2.4.0), with no fleet."""
    repo = tmp_path / "repo"
    for rel, text in {**files, ".tool-versions": "flux2 2.4.0\n"}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def terraform_files(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {rel: data for rel, data in tree.items() if rel.endswith((".tf", ".tfvars"))}


def terraform_rows(repo: Path) -> list[dict[str, Any]]:
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code in (0, 1), outcome.stderr
    rows = json.loads(outcome.stdout)["sites"]
    return [
        {k: r[k] for k in ("file", "line", "value", "owner", "ok", "proven")}
        for r in rows
        if r["role"] == "Terraform Flux version"
    ]


def test_a_variable_default_is_the_pin_and_to_moves_it(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = module(tmp_path, {"infra/flux/main.tf": MAIN, "infra/flux/variables.tf": VARIABLES})
    assert terraform_rows(repo) == [
        {"file": "infra/flux/variables.tf", "line": 8, "value": "v2.4.0",
         "owner": 'flux_bootstrap_git.this (var.flux_version)', "ok": True, "proven": True},
    ]  # fmt: skip
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after["infra/flux/variables.tf"] == VARIABLES.replace(
        'default     = "v2.4.0"', 'default     = "v2.5.1"'
    ).encode("utf-8")
    assert after["infra/flux/main.tf"] == before["infra/flux/main.tf"]


def test_a_default_that_disagrees_is_a_violation_at_its_line(tmp_path: Path) -> None:
    stale = VARIABLES.replace('"v2.4.0"', '"v2.3.0"')
    repo = module(tmp_path, {"infra/flux/main.tf": MAIN, "infra/flux/variables.tf": stale})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "infra/flux/variables.tf:8: flux_bootstrap_git.this (var.flux_version) pins Flux "
        "v2.3.0, the repository installs Flux 2.4.0 — run 'fluxbump to 2.4.0'"
    ) in check.stdout


def test_tfvars_values_and_the_default_all_move(tmp_path: Path, helm_server: HelmServer) -> None:
    auto = 'flux_version = "2.4.0"\n'
    repo = module(
        tmp_path,
        {
            "infra/flux/main.tf": MAIN,
            "infra/flux/variables.tf": VARIABLES,
            "infra/flux/terraform.tfvars": TFVARS,
            "infra/flux/prod.auto.tfvars": auto,
            "infra/other/terraform.tfvars": TFVARS,  # another module: not this variable
        },
    )
    rows = [(r["file"], r["line"], r["value"]) for r in terraform_rows(repo)]
    assert sorted(rows) == [
        ("infra/flux/prod.auto.tfvars", 1, "2.4.0"),
        ("infra/flux/terraform.tfvars", 2, "v2.4.0"),
        ("infra/flux/variables.tf", 8, "v2.4.0"),
    ]
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    expected = terraform_files(before)
    expected["infra/flux/variables.tf"] = VARIABLES.replace(
        'default     = "v2.4.0"', 'default     = "v2.5.1"'
    ).encode()
    expected["infra/flux/terraform.tfvars"] = TFVARS.replace("v2.4.0", "v2.5.1").encode()
    expected["infra/flux/prod.auto.tfvars"] = b'flux_version = "2.5.1"\n'
    assert terraform_files(snapshot(repo)) == expected  # the other module's too: untouched


def assert_unproven_and_left(repo: Path, value: str, helm_server: HelmServer) -> None:
    """main.tf's version is one unproven site: no violation, and ``to`` writes no .tf file."""
    assert terraform_rows(repo) == [
        {"file": "infra/flux/main.tf", "line": 3, "value": value,
         "owner": "flux_bootstrap_git.this", "ok": True, "proven": False},
    ]  # fmt: skip
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert "1 cannot be proven" in check.stdout
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert terraform_files(snapshot(repo)) == terraform_files(before)


def test_a_variable_nothing_sets_is_unproven_not_a_violation(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    no_default = 'variable "flux_version" {\n  type = string\n}\n'
    repo = module(
        tmp_path,
        {
            "infra/flux/main.tf": MAIN,
            "infra/flux/variables.tf": no_default,
            "infra/other/terraform.tfvars": TFVARS,  # another module does not set it here
        },
    )
    assert_unproven_and_left(repo, "var.flux_version", helm_server)


def test_sync_follows_a_variable_default_renovate_moved(tmp_path: Path) -> None:
    # Renovate's terraform or regex manager moves the variable's default on its own: sync
    # must take it as the release being synced and move the rest (here the asdf CLI pin).
    repo = cli_and_module(
        tmp_path, {"infra/flux/main.tf": MAIN, "infra/flux/variables.tf": VARIABLES}
    )
    moved = VARIABLES.replace('default     = "v2.4.0"', 'default     = "v2.5.1"')
    (repo / "infra/flux/variables.tf").write_text(moved, "utf-8")
    outcome = run_cli("sync", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == "flux2 2.5.1\n"
    assert (repo / "infra/flux/variables.tf").read_text("utf-8") == moved
    assert (repo / "infra/flux/main.tf").read_text("utf-8") == MAIN


CALLERS = """\
module "prod" {
  source       = "../../modules/flux" # this repository's module
  flux_version = "v2.4.0"
}

module "remote" {
  source       = "git::https://example.com/flux.git"
  flux_version = "v1.0.0" # another module's variable, not this one's
}
"""


def test_a_local_module_call_that_sets_the_variable_is_a_pin_too(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # A module's caller passes the version (``module "…" { source = "../…" NAME = "…" }``):
    # that argument, not only the default, is what Terraform installs; both move.
    repo = module(
        tmp_path,
        {"modules/flux/main.tf": MAIN, "modules/flux/variables.tf": VARIABLES,
         "live/prod/main.tf": CALLERS},
    )  # fmt: skip
    owner = "flux_bootstrap_git.this (var.flux_version)"
    assert terraform_rows(repo) == [
        {"file": "live/prod/main.tf", "line": 3, "value": "v2.4.0",
         "owner": f'module "prod" -> {owner}',
         "ok": True, "proven": True},
        {"file": "modules/flux/variables.tf", "line": 8, "value": "v2.4.0", "owner": owner,
         "ok": True, "proven": True},
    ]  # fmt: skip
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after["live/prod/main.tf"] == CALLERS.replace(
        'flux_version = "v2.4.0"', 'flux_version = "v2.5.1"'
    ).encode("utf-8")
    assert b'default     = "v2.5.1"' in after["modules/flux/variables.tf"]


def test_a_module_call_passing_an_expression_leaves_the_version_unproven(tmp_path: Path) -> None:
    # ``flux_version = var.flux_version`` in the caller: Terraform installs the caller's
    # value, which is not this module's default; the reference is shown unproven beside it.
    callers = CALLERS.replace('flux_version = "v2.4.0"', "flux_version = var.flux_version")
    repo = module(
        tmp_path,
        {"modules/flux/main.tf": MAIN, "modules/flux/variables.tf": VARIABLES,
         "live/prod/main.tf": callers},
    )  # fmt: skip
    rows = terraform_rows(repo)
    assert sorted((r["file"], r["value"], r["proven"]) for r in rows) == [
        ("modules/flux/main.tf", "var.flux_version", False),
        ("modules/flux/variables.tf", "v2.4.0", True),
    ]


def test_sync_follows_a_module_argument_renovate_moved(tmp_path: Path) -> None:
    repo = cli_and_module(
        tmp_path,
        {"modules/flux/main.tf": MAIN, "modules/flux/variables.tf": VARIABLES,
         "live/prod/main.tf": CALLERS},
    )  # fmt: skip
    moved = CALLERS.replace('flux_version = "v2.4.0"', 'flux_version = "v2.5.1"')
    (repo / "live/prod/main.tf").write_text(moved, "utf-8")
    outcome = run_cli("sync", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == "flux2 2.5.1\n"
    assert b'default     = "v2.5.1"' in (repo / "modules/flux/variables.tf").read_bytes()
    assert (repo / "live/prod/main.tf").read_text("utf-8") == moved


TWO_CALLERS = """\
module "prod" {
  source       = "../../modules/flux"
  flux_version = "v2.4.0"
}

module "other" {
  source       = "../../modules/other" # its own flux_version, of something else
  flux_version = "v9.9.9"
}
"""
DNS = 'module "dns" {\n  source = "../../modules/dns"\n  zone   = "example.com"\n}\n\n'


def test_sync_compares_a_module_argument_with_the_same_module_at_the_base(
    tmp_path: Path,
) -> None:
    # Since --base a block was added above: module "prod"'s argument now stands on the line
    # module "other"'s stood on. Read by line, v9.9.9 -> v2.4.0 looked moved and sync refused
    # a false conflict with the CLI pin Renovate moved; read by module, prod did not move.
    repo = cli_and_module(
        tmp_path,
        {"modules/flux/main.tf": MAIN, "modules/flux/variables.tf": VARIABLES,
         "modules/other/variables.tf": 'variable "flux_version" {}\n',
         "live/prod/main.tf": TWO_CALLERS},
    )  # fmt: skip
    (repo / "live/prod/main.tf").write_text(DNS + TWO_CALLERS, "utf-8")
    git(repo, "commit", "-qam", "a dns module above")
    (repo / ".tool-versions").write_text("flux2 2.5.1\n", "utf-8")
    outcome = run_cli("sync", "--repo", str(repo), "--offline", "--base", "HEAD~1")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert (repo / "live/prod/main.tf").read_text("utf-8") == DNS + TWO_CALLERS.replace(
        '"v2.4.0"', '"v2.5.1"'
    )
    assert b'default     = "v2.5.1"' in (repo / "modules/flux/variables.tf").read_bytes()


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def test_a_variable_in_crlf_files_is_followed_and_moved_keeping_crlf(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Terraform written on Windows: every line ends in CR LF (the reference, the variable
    # block and the tfvars were not matched: no pin at all, "components: none").
    files = {
        "infra/flux/main.tf": crlf(MAIN),
        "infra/flux/variables.tf": crlf(VARIABLES),
        "infra/flux/terraform.tfvars": crlf(TFVARS),
    }
    repo = module(tmp_path, files)
    rows = [(r["file"], r["line"], r["value"], r["proven"]) for r in terraform_rows(repo)]
    assert sorted(rows) == [
        ("infra/flux/terraform.tfvars", 2, "v2.4.0", True),
        ("infra/flux/variables.tf", 8, "v2.4.0", True),
    ]
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = terraform_files(snapshot(repo))
    assert (
        after["infra/flux/variables.tf"] == crlf(VARIABLES).replace('"v2.4.0"', '"v2.5.1"').encode()
    )
    assert after["infra/flux/terraform.tfvars"] == crlf(TFVARS).replace("v2.4.0", "v2.5.1").encode()
    assert after["infra/flux/main.tf"] == crlf(MAIN).encode()


def test_an_interpolated_variable_is_the_variable(tmp_path: Path) -> None:
    # Terraform 0.11's way to write a reference, still common: "${var.NAME}" is var.NAME.
    main = MAIN.replace("var.flux_version", '"${var.flux_version}"')
    repo = module(tmp_path, {"infra/flux/main.tf": main, "infra/flux/variables.tf": VARIABLES})
    assert terraform_rows(repo) == [
        {"file": "infra/flux/variables.tf", "line": 8, "value": "v2.4.0",
         "owner": 'flux_bootstrap_git.this (var.flux_version)', "ok": True, "proven": True},
    ]  # fmt: skip


def test_any_other_expression_is_shown_unproven_at_its_line(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # A local (or a call) is no literal and no variable to follow: it was no pin at all, and
    # check said "nothing to check" of a repository that pins Flux through it.
    main = MAIN.replace("var.flux_version", "local.flux_version")
    locals_tf = 'locals {\n  flux_version = "v2.4.0"\n}\n'
    files = {"infra/flux/main.tf": main, "infra/flux/locals.tf": locals_tf}
    repo = cli_and_module(tmp_path, files)
    assert_unproven_and_left(repo, "local.flux_version", helm_server)
