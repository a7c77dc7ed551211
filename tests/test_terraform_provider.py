"""The ``fluxcd/flux`` Terraform provider constraint (issue 21): reported, never moved, when
no provider it admits is known to bundle the Flux release being installed.

End to end through the CLI on a generated fleet (cloud-init installs Flux v2.4.0) with a
Terraform root beside it; ``to`` runs against the 127.0.0.1 Helm index.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.gate.provider import provider_table
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, edit, init_git, make_fleet, write_repo
from tests.support.helm_server import HelmServer

MAIN_TF = "infra/flux/main.tf"
PROVIDERS = """\
terraform {
  required_providers {
    helm = { source = "hashicorp/helm", version = "~> 1.2.0" }
    flux = {
      source  = "fluxcd/flux"
      version = "CONSTRAINT" # the provider Terraform selects
    }
  }
}

resource "flux_bootstrap_git" "this" {
  path    = "clusters/prod"
  version = "v2.4.0"
}
"""


def with_provider(tmp_path: Path, constraint: str) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / MAIN_TF).parent.mkdir(parents=True)
    (repo / MAIN_TF).write_text(PROVIDERS.replace("CONSTRAINT", constraint), "utf-8")
    init_git(repo)
    return repo


def provider_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "provider constraint" in line]


def test_the_table_is_the_providers_changelog() -> None:
    """Spot values read from fluxcd/terraform-provider-flux's CHANGELOG (and go.mod where
    the CHANGELOG does not say it)."""
    table = provider_table()
    assert table[(1, 2, 3)] == "2.2.3"
    assert table[(1, 4, 0)] == "2.4.0"
    assert table[(1, 7, 1)] == "2.7.0"  # go.mod at v1.7.1
    assert table[(1, 0, 0)] == "2.0.0"  # go.mod at v1.0.0
    assert table[(0, 25, 3)] == "0.41.2"


def test_status_and_check_warn_about_a_constraint_that_cannot_install_the_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_provider(tmp_path, "~> 1.2.0")
    expected = [
        f"warning: {MAIN_TF}:6: the fluxcd/flux provider constraint ~> 1.2.0 admits provider "
        "1.2.3 at most, which bundles Flux 2.2.3, not Flux 2.4.0; widen it to admit provider "
        "1.4.0 or later (fluxbump does not move provider constraints)"
    ]
    status = run_cli("status", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert status.code == 0, status.stdout + status.stderr
    assert provider_lines(status.stderr) == expected
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # a warning, not a violation
    assert provider_lines(check.stderr) == expected


@pytest.mark.parametrize("constraint", ["~> 1.4", ">= 1.0", "~> 1.4.0", "= 1.4.0", "1.9.x"])
def test_a_constraint_that_admits_the_release_or_cannot_be_read_is_not_reported(
    tmp_path: Path, constraint: str
) -> None:
    repo = with_provider(tmp_path, constraint)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert provider_lines(check.stderr) == []


def test_to_warns_and_moves_the_resource_version_but_never_the_constraint(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_provider(tmp_path, ">= 1.0, < 1.5")
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert provider_lines(outcome.stderr) == [
        f"warning: {MAIN_TF}:6: the fluxcd/flux provider constraint >= 1.0, < 1.5 admits "
        "provider 1.4.0 at most, which bundles Flux 2.4.0, not Flux 2.5.1; widen it to admit "
        "provider 1.5.0 or later (fluxbump does not move provider constraints)"
    ]
    written = PROVIDERS.replace("CONSTRAINT", ">= 1.0, < 1.5").replace('"v2.4.0"', '"v2.5.1"')
    assert (repo / MAIN_TF).read_text("utf-8") == written


def test_without_a_flux_wrapper_the_first_exact_pin_is_the_release(tmp_path: Path) -> None:
    """A Terraform-only repository: the flux_bootstrap_git version is the release."""
    repo = tmp_path / "terraform"
    (repo / "infra").mkdir(parents=True)
    text = PROVIDERS.replace("CONSTRAINT", "~> 0.25").replace(
        'flux = {\n      source  = "fluxcd/flux"',
        'flux = {\n      source  = "registry.terraform.io/fluxcd/flux"',
    )
    (repo / "infra/main.tf").write_text(text, "utf-8")
    init_git(repo)
    check = run_cli("check", "--repo", str(repo), "--offline", "--json")
    assert check.code == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"] is True
    assert provider_lines(check.stderr) == [
        "warning: infra/main.tf:6: the fluxcd/flux provider constraint ~> 0.25 admits provider "
        "0.25.3 at most, which bundles Flux 0.41.2, not Flux 2.4.0; widen it to admit provider "
        "1.4.0 or later (fluxbump does not move provider constraints)"
    ]


def provider_entries(document: dict[str, object]) -> list[object]:
    warnings = document["warnings"]
    assert isinstance(warnings, list)
    return [w for w in warnings if "provider constraint" in w["message"]]


def test_json_lists_the_provider_warning_with_its_file_and_line(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """``--json`` documents carry the warnings stderr shows (stderr keeps them too)."""
    repo = with_provider(tmp_path, "~> 1.2.0")
    expected = {
        "file": MAIN_TF,
        "line": 6,
        "message": "the fluxcd/flux provider constraint ~> 1.2.0 admits provider 1.2.3 at most, "
        "which bundles Flux 2.2.3, not Flux 2.4.0; widen it to admit provider 1.4.0 or later "
        "(fluxbump does not move provider constraints)",
    }
    for command in ("status", "check"):
        outcome = run_cli(command, "--repo", str(repo), "--offline", "--json")
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert provider_entries(json.loads(outcome.stdout)) == [expected]
        assert len(provider_lines(outcome.stderr)) == 1
    index = ("--helm-repo", helm_server.base_url, "--repo", str(repo))
    moved = run_cli("to", "2.5.1", "--dry-run", "--json", *index)
    assert moved.code == 0, moved.stdout + moved.stderr
    (entry,) = provider_entries(json.loads(moved.stdout))
    assert entry == {
        "file": MAIN_TF,
        "line": 6,
        "message": str(expected["message"])
        .replace("Flux 2.4.0", "Flux 2.5.1")
        .replace("provider 1.4.0 or later", "provider 1.5.0 or later"),
    }


def test_json_warnings_are_an_empty_list_or_unplaced_text_when_no_file_is_to_blame(
    tmp_path: Path,
) -> None:
    repo = with_provider(tmp_path, "~> 1.4")
    document = json.loads(run_cli("check", "--repo", str(repo), "--offline", "--json").stdout)
    assert provider_entries(document) == []
    # --offline with no cached index: the bundled snapshot is said, with no file to blame
    (said,) = document["warnings"]
    assert said["file"] is None and said["line"] is None
    assert said["message"].startswith("offline: no cached index for ")


FLUX_MANIFESTS = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: v2.0.0-rc.1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: flux
  namespace: flux-system
spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: OCIRepository
    name: flux-manifests
"""


@pytest.mark.parametrize("command", ["status", "check"])
def test_a_pre_release_installed_is_compared_by_its_minor_line(
    tmp_path: Path, command: str
) -> None:
    """kubebn/talos-proxmox-kaas installs Flux v2.0.0-rc.1 from flux-manifests: the provider
    gate read '0-rc' as a number and every status and check ended at exit 70."""
    repo = tmp_path / "prerelease"
    (repo / "infra").mkdir(parents=True)
    (repo / "kubernetes").mkdir()
    (repo / "kubernetes/flux.yaml").write_text(FLUX_MANIFESTS, "utf-8")
    text = PROVIDERS.replace("CONSTRAINT", "~> 0.25").replace('"v2.4.0"', '"v2.0.0-rc.1"')
    (repo / "infra/main.tf").write_text(text, "utf-8")
    init_git(repo)
    outcome = run_cli(command, "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert provider_lines(outcome.stderr) == [
        "warning: infra/main.tf:6: the fluxcd/flux provider constraint ~> 0.25 admits provider "
        "0.25.3 at most, which bundles Flux 0.41.2, not Flux 2.0.0-rc.1; widen it to admit "
        "provider 1.0.0 or later (fluxbump does not move provider constraints)"
    ]


UNVERSIONED = """\
provider "flux" {
  kubernetes = { config_path = "~/.kube/config" }
}

resource "flux_bootstrap_git" "this" {
  path = var.target_path
}
"""
EXACT_PROVIDER = """\
terraform {
  required_providers {
    flux = {
      source  = "fluxcd/flux"
      version = "1.5.0"
    }
  }
}
"""
NO_VERSION_WARNING = (
    "warning: modules/flux/main.tf:5: flux_bootstrap_git.this sets no version: it installs the "
    "Flux release its fluxcd/flux provider bundles (Flux 2.5.0 for provider 1.5.0, "
    "modules/flux/terraform.tf:5), which fluxbump neither checks nor moves; write "
    'version = "v2.5.0" in it to pin the release there'
)


def unversioned_bootstrap(tmp_path: Path, files: dict[str, str]) -> Path:
    """tabulat/tf-flux's module: provider 1.5.0 and a flux_bootstrap_git with no version."""
    module = {"modules/flux/main.tf": UNVERSIONED, "modules/flux/terraform.tf": EXACT_PROVIDER}
    return write_repo(tmp_path / "repo", module | files)


def test_a_bootstrap_with_no_version_is_named_with_the_release_its_provider_bundles(
    tmp_path: Path,
) -> None:
    """It installs Flux 2.5.0, which no line names: status and check said nothing of it (and
    check 'nothing to check'), and to said there was no pin of a Flux release at all."""
    repo = unversioned_bootstrap(tmp_path, {})
    status = run_cli("status", "--repo", str(repo), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert NO_VERSION_WARNING in status.stderr.splitlines()
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert (check.code, NO_VERSION_WARNING in check.stderr.splitlines()) == (2, True)
    refused = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().endswith(
        "modules/flux/main.tf:5: flux_bootstrap_git.this sets no version, so it installs the "
        "Flux release its fluxcd/flux provider bundles, which fluxbump cannot move: write "
        'version = "vX.Y.Z" in it to pin the release there'
    )
    # with embedded_manifests a version would have no effect: the provider chooses
    edit(repo, "modules/flux/main.tf", "path = var", "embedded_manifests = true\n  path = var")
    assert (
        "warning: modules/flux/main.tf:5: flux_bootstrap_git.this applies the Flux manifests its "
        "fluxcd/flux provider embeds (embedded_manifests) (Flux 2.5.0 for provider 1.5.0, "
        "modules/flux/terraform.tf:5), which fluxbump neither checks nor moves; the provider's "
        "version constraint chooses the release"
    ) in run_cli("status", "--repo", str(repo), "--offline").stderr.splitlines()


def test_a_bump_of_the_other_pins_names_the_bootstrap_it_cannot_move(tmp_path: Path) -> None:
    repo = unversioned_bootstrap(tmp_path, {".tool-versions": "flux2 2.5.0\n"})
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == "flux2 2.8.5\n"
    assert NO_VERSION_WARNING in moved.stderr.splitlines()
    # a block that sets a version, whatever its expression, is not named
    edit(
        repo, "modules/flux/main.tf", "path = var.target_path", 'version = var.v ? "v2.5.0" : null'
    )
    assert "sets no version" not in run_cli("status", "--repo", str(repo), "--offline").stderr
