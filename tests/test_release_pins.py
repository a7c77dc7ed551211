"""Flux pins outside the cluster (issue 21): CI action inputs, ``.tool-versions``, mise, aqua.

End to end through the CLI on a generated fleet (cloud-init installs Flux v2.4.0) with the
pins added beside it; ``to`` runs against the 127.0.0.1 Helm index.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.data import manifest
from tests.support.fixtures import CONSISTENT, git, init_git, make_fleet, snapshot, write_repo
from tests.support.helm_server import HelmServer

WORKFLOW = ".github/workflows/e2e.yaml"
WORKFLOW_TEXT = """\
name: e2e
on: [push]
jobs:
  kind:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Setup Flux CLI
        uses: fluxcd/flux2/action@main
        with:
          version: "v2.4.0"   # the cluster's release
      - uses: other/action@v1
        with:
          version: 9.9.9
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: fluxcd/flux2/action@v2.4.0
        with: {version: 2.4.0}
"""
TOOL_VERSIONS = "helm 3.16.2\nflux2 2.4.0 # pinned\nkubectl 1.31.0\n"
MISE = """\
[env]
flux2 = "not a tool"

[tools]
helm = "3.16.2"
flux2 = "2.4.0"
"aqua:fluxcd/flux2" = { version = "v2.4.0" }
"""
AQUA = """\
registries:
  - type: standard
    ref: v4.200.0
packages:
  - name: helm/helm@v3.16.2
  - name: fluxcd/flux2@v2.4.0 # flux CLI
"""


def assert_refused(
    repo: Path, server: HelmServer, args: tuple[str, ...], code: int, line: str
) -> None:
    """The command exits ``code`` with ``line`` on stderr and writes nothing."""
    before = snapshot(repo)
    outcome = run_cli(*args, "--repo", str(repo), "--helm-repo", server.base_url)
    assert outcome.code == code, outcome.stdout + outcome.stderr
    assert line in outcome.stderr
    assert snapshot(repo) == before


def with_pins(tmp_path: Path) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    files = {WORKFLOW: WORKFLOW_TEXT, ".tool-versions": TOOL_VERSIONS, "mise.toml": MISE,
             "aqua.yaml": AQUA}  # fmt: skip
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def site_rows(
    repo: Path, server: HelmServer, role: str, *, by_owner: bool = False
) -> list[tuple[str, str, str, bool]]:
    """``status --json`` rows of one role: where (file:line, or owner@line), value, expected, ok."""
    outcome = run_cli("status", "--repo", str(repo), "--json", "--helm-repo", server.base_url)
    assert outcome.code in (0, 1), outcome.stderr
    return [
        (f"{s['owner']}@{s['line']}" if by_owner else f"{s['file']}:{s['line']}",
         s["value"], s["expected"], s["ok"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == role
    ]  # fmt: skip


def cli_rows(repo: Path, server: HelmServer) -> list[tuple[str, str, str, bool]]:
    return site_rows(repo, server, "Flux CLI pin")


def test_status_lists_every_cli_pin_with_the_installed_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_pins(tmp_path)
    assert cli_rows(repo, helm_server) == [
        (".tool-versions:2", "2.4.0", "2.4.0", True),
        ("aqua.yaml:6", "v2.4.0", "v2.4.0", True),
        ("mise.toml:6", "2.4.0", "2.4.0", True),
        ("mise.toml:7", "v2.4.0", "v2.4.0", True),
        (f"{WORKFLOW}:11", "v2.4.0", "v2.4.0", True),
        (f"{WORKFLOW}:19", "2.4.0", "2.4.0", True),
    ]


def test_check_names_a_cli_pin_that_disagrees(tmp_path: Path) -> None:
    repo = with_pins(tmp_path)
    (repo / ".tool-versions").write_text(TOOL_VERSIONS.replace("2.4.0", "2.3.0"), "utf-8")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1, outcome.stdout
    assert (
        ".tool-versions:2: .tool-versions pins Flux 2.3.0, the repository installs Flux 2.4.0 "
        "— run 'fluxbump to 2.4.0'"
    ) in outcome.stdout


def test_to_moves_every_cli_pin_byte_minimally_keeping_style(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_pins(tmp_path)
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    after = snapshot(repo)
    expected = {
        WORKFLOW: WORKFLOW_TEXT.replace('"v2.4.0"', '"v2.5.1"').replace(
            "{version: 2.4.0}", "{version: 2.5.1}"
        ),
        ".tool-versions": TOOL_VERSIONS.replace("2.4.0", "2.5.1"),
        "mise.toml": MISE.replace("2.4.0", "2.5.1"),
        "aqua.yaml": AQUA.replace("v2.4.0", "v2.5.1"),
    }
    for rel, text in expected.items():
        assert after[rel].decode() == text, rel
    # the action's own ref (@v2.4.0) is a git ref, not the CLI version input: kept
    assert "fluxcd/flux2/action@v2.4.0" in after[WORKFLOW].decode()
    assert git(repo, "status", "--porcelain") == ""
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout
    assert before[".tool-versions"] != after[".tool-versions"]


def test_a_range_or_latest_is_never_rewritten(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / ".tool-versions").write_text("flux2 latest\n", "utf-8")
    (repo / "mise.toml").write_text('[tools]\nflux2 = "2.4"\n', "utf-8")
    init_git(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert "mise.toml:2: mise [tools] requires Flux 2.4, which does not admit 2.5.1" in (
        outcome.stdout + outcome.stderr
    )
    assert (repo / "mise.toml").read_text() == '[tools]\nflux2 = "2.4"\n'


TERRAFORM = """\
terraform {
  required_providers {
    flux = {
      source  = "fluxcd/flux"
      version = ">= 1.4"
    }
  }
}

resource "helm_release" "cilium" {
  chart   = "cilium"
  version = "1.16.6"
}

resource "flux_bootstrap_git" "this" {
  path = "clusters/prod" # version = "v0.0.1" is a comment
  kustomization_override = <<-EOT
    version = "v0.0.2"
  EOT
  timeouts {
    version = "v0.0.3"
  }
  version = "v2.4.0"
}

data "flux_install" "legacy" {
  target_path = "clusters/old"
  version     = var.flux_version
}
"""


def test_terraform_flux_bootstrap_version_is_checked_and_moved(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / "infra/flux").mkdir(parents=True)
    (repo / "infra/flux/main.tf").write_text(TERRAFORM.replace('"v2.4.0"', '"v2.3.0"'), "utf-8")
    init_git(repo)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1
    violations = [line for line in check.stdout.splitlines() if "main.tf" in line]
    assert violations == [
        "infra/flux/main.tf:23: flux_bootstrap_git.this pins Flux v2.3.0, the repository "
        "installs Flux 2.4.0 — run 'fluxbump to 2.4.0'"
    ]
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert (repo / "infra/flux/main.tf").read_text() == TERRAFORM.replace('"v2.4.0"', '"v2.5.1"')


OPERATOR = """\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.4.0" # exact
    registry: ghcr.io/fluxcd
  components: [source-controller, kustomize-controller]
---
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
        version: 2.x
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: other
spec:
  interval: 1h
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
  values:
    instance:
      distribution:
        version: 9.9.9
"""
OPERATOR_FILE = "clusters/operator/flux-instance.yaml"


def with_operator(tmp_path: Path, text: str = OPERATOR) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / OPERATOR_FILE).parent.mkdir(parents=True)
    (repo / OPERATOR_FILE).write_text(text, "utf-8")
    init_git(repo)
    return repo


def instance_rows(repo: Path, server: HelmServer) -> list[tuple[str, str, str, bool]]:
    return site_rows(repo, server, "FluxInstance version", by_owner=True)


def test_flux_instance_versions_are_shown_and_a_range_admits_the_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_operator(tmp_path)
    assert instance_rows(repo, helm_server) == [
        ("FluxInstance flux-system/flux@8", "2.4.0", "2.4.0", True),
        ("flux-system/flux-instance values@25", "2.x", "2.4.0", True),
    ]
    drifted = with_operator(tmp_path / "b", OPERATOR.replace('"2.4.0"', '"2.3.0"'))
    check = run_cli("check", "--repo", str(drifted), "--offline")
    assert check.code == 1
    assert (
        f"{OPERATOR_FILE}:8: FluxInstance flux-system/flux pins Flux 2.3.0, the repository "
        "installs Flux 2.4.0 — run 'fluxbump to 2.4.0'"
    ) in check.stdout


def test_to_moves_the_flux_instance_and_keeps_the_range(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_operator(tmp_path)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert (repo / OPERATOR_FILE).read_text() == OPERATOR.replace('"2.4.0"', '"2.5.1"')
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout


def test_a_flux_instance_range_that_excludes_the_target_blocks_the_bump(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_operator(tmp_path, OPERATOR.replace("version: 2.x", "version: 2.4.x"))
    assert_refused(repo, helm_server, ("to", "2.5.1"), 1,
        f"{OPERATOR_FILE}:25: flux-system/flux-instance values requires Flux 2.4.x, which does "
        "not admit 2.5.1; widen the range first",
    )  # fmt: skip


GOTK = """\
---
# This manifest was generated by flux. DO NOT EDIT.
# Flux Version: v2.4.0
# Components: source-controller,kustomize-controller,helm-controller,notification-controller
apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
"""
GOTK_KUSTOMIZATION = manifest("gotk-kustomization.yaml")


def with_bootstrap(tmp_path: Path, versions: tuple[str, str]) -> Path:
    """Two clusters bootstrapped by ``flux bootstrap``; one patches its gotk-components."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    for cluster, version in zip(("staging", "production"), versions, strict=True):
        system = repo / "bootstrap" / cluster / "flux-system"
        system.mkdir(parents=True)
        (system / "gotk-components.yaml").write_text(GOTK.replace("v2.4.0", version), "utf-8")
    (repo / "bootstrap/production/flux-system/kustomization.yaml").write_text(
        GOTK_KUSTOMIZATION, "utf-8"
    )
    init_git(repo)
    return repo


def test_check_reports_a_bootstrap_header_that_disagrees(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_bootstrap(tmp_path, ("v2.4.0", "v2.3.0"))
    owner = (
        "flux bootstrap (source-controller,kustomize-controller,helm-controller,"
        "notification-controller)"
    )
    assert site_rows(repo, helm_server, "flux bootstrap header") == [
        ("bootstrap/production/flux-system/gotk-components.yaml:3", "v2.3.0", "v2.4.0", False),
        ("bootstrap/staging/flux-system/gotk-components.yaml:3", "v2.4.0", "v2.4.0", True),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1
    assert (
        f"bootstrap/production/flux-system/gotk-components.yaml:3: {owner} manifests are of "
        "Flux v2.3.0, the repository installs Flux 2.4.0 — regenerate them with "
        "'flux install --export' of Flux 2.4.0"
    ) in check.stdout


def test_a_header_as_flux_before_0_22_wrote_it_is_a_bootstrap_pin(tmp_path: Path) -> None:
    # DoD-Platform-One/big-bang's base/flux/gotk-components.yaml: 'flux install --export'
    # before Flux 0.22 wrote "# Flux version: v0.15.0" (lowercase), and its hack script
    # installs v0.2.4. The header was not read, so check said "consistent" of one pin.
    old = GOTK.replace("# Flux Version: v2.4.0", "# Flux version: v0.15.0")
    script = '#!/bin/bash\nfluxver="v0.2.4"\nflux install -n flux-system --version=${fluxver}\n'
    files = {"base/flux/gotk-components.yaml": old, "hack/flux-install.sh": script}
    repo = write_repo(tmp_path / "repo", files)
    status = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    assert [(s["file"], s["line"], s["value"]) for s in status["sites"]] == [
        ("base/flux/gotk-components.yaml", 3, "v0.15.0"),
        ("hack/flux-install.sh", 2, "v0.2.4"),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert "pins Flux v0.2.4" in check.stdout
    assert "(base/flux/gotk-components.yaml:3) — make them agree" in check.stdout


def test_to_refuses_to_half_bump_bootstrap_manifests(
    tmp_path: Path, helm_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the flux CLIs (the current release's proves the manifests unedited, the
    target's regenerates them) nothing is written (tests/test_bootstrap_regen.py has both)."""
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "flux").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    assert_refused(
        with_bootstrap(tmp_path, ("v2.4.0", "v2.4.0")), helm_server, ("to", "2.5.1", "--offline"), 3,
        "error: bootstrap/production/flux-system/gotk-components.yaml: fluxbump needs the CLI "
        "of Flux 2.4.0 to prove the file is what it printed (regenerating a file changed since "
        "would drop the change): flux 2.4.0 CLI not on PATH and could not be fetched from "
        "https://github.com/fluxcd/flux2/releases/download/v2.4.0/: --offline; install it or "
        "pass --flux-cli PATH (--flux-cli may be given once per release), or list the file "
        "under exclude: in .fluxbump.yaml; nothing written",
    )  # fmt: skip
    repo = with_bootstrap(tmp_path / "b", ("v2.4.0", "v2.4.0"))
    # a bump that leaves the release where it is does not touch them
    same = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert same.code == 0, same.stderr


def test_init_writes_the_release_pin_globs_and_names_what_it_found(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = with_pins(tmp_path)
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text("utf-8")
    assert (
        "Found here: .tool-versions (Flux CLI pin), aqua.yaml (Flux CLI pin), mise.toml "
        f"(Flux CLI pin), {WORKFLOW} (Flux CLI pin)\n"
    ) in text
    assert '  - "**/.tool-versions"\n' in text and '  - "**/*.tf"\n' in text
    # the written configuration finds the same six pins
    assert len(cli_rows(repo, helm_server)) == 6


def test_without_a_flux_wrapper_the_flux_pins_must_agree_with_each_other(tmp_path: Path) -> None:
    """A flux-operator / flux bootstrap repository: no flux2 chart says which release is
    installed, so ``check`` compares the pins with the first exact one."""
    repo = tmp_path / "operator"
    (repo / "clusters/prod").mkdir(parents=True)
    (repo / "clusters/prod/flux-instance.yaml").write_text(OPERATOR, "utf-8")
    (repo / ".tool-versions").write_text(TOOL_VERSIONS.replace("2.4.0", "2.3.0"), "utf-8")
    system = repo / "clusters/prod/flux-system"
    system.mkdir()
    (system / "gotk-components.yaml").write_text(GOTK, "utf-8")
    init_git(repo)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    first = "FluxInstance flux-system/flux pins Flux 2.4.0 (clusters/prod/flux-instance.yaml:8)"
    assert [
        line for line in check.stdout.splitlines() if ": " in line and "check:" not in line
    ] == [f".tool-versions:2: .tool-versions pins Flux 2.3.0, {first} — make them agree"]
    (repo / ".tool-versions").write_text(TOOL_VERSIONS, "utf-8")
    agreed = run_cli("check", "--repo", str(repo), "--offline")
    assert agreed.code == 0, agreed.stdout + agreed.stderr
    assert "4 pin-sites agree" in agreed.stdout  # instance, values range, header, CLI


def operator_only(tmp_path: Path, instance: str = OPERATOR) -> Path:
    """Flux pinned only outside charts: a FluxInstance (and flux-instance values) and asdf."""
    repo = tmp_path / "operator"
    (repo / "clusters/prod").mkdir(parents=True)
    (repo / "clusters/prod/flux-instance.yaml").write_text(instance, "utf-8")
    (repo / ".tool-versions").write_text(TOOL_VERSIONS, "utf-8")
    init_git(repo)
    return repo


def assert_moved_from_2_4_0_to_2_5_1(repo: Path) -> None:
    """The exact pins moved; the range (2.x admits 2.5.1) and podinfo's version stayed."""
    assert (repo / ".tool-versions").read_text("utf-8") == TOOL_VERSIONS.replace("2.4.0", "2.5.1")
    expected = OPERATOR.replace('version: "2.4.0" # exact', 'version: "2.5.1" # exact')
    assert (repo / "clusters/prod/flux-instance.yaml").read_text("utf-8") == expected
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_to_without_a_flux_wrapper_moves_the_flux_pins_outside_charts(tmp_path: Path) -> None:
    # Every flux-operator and flux bootstrap repository tried (bjw-s-labs, zhorvath83,
    # daluca, ...) was refused: it has no chart to move, only Flux pins outside charts.
    repo = operator_only(tmp_path)
    status = run_cli("status", "--repo", str(repo), "--offline")
    assert "flux (release pins outside charts)" in status.stdout, status.stdout + status.stderr
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert_moved_from_2_4_0_to_2_5_1(repo)


def test_sync_of_flux_pinned_only_outside_charts_follows_the_pin_renovate_moved(
    tmp_path: Path,
) -> None:
    from tests.support.fixtures import edit

    repo = operator_only(tmp_path)
    idle = run_cli("sync", "--repo", str(repo), "--offline")
    assert idle.code == 0 and "nothing to do" in idle.stdout, idle.stdout + idle.stderr
    edit(repo, "clusters/prod/flux-instance.yaml", '"2.4.0" # exact', '"2.5.1" # exact')
    moved = run_cli("sync", "--repo", str(repo), "--offline")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert_moved_from_2_4_0_to_2_5_1(repo)


def test_a_downgrade_of_flux_pinned_only_outside_charts_is_refused(tmp_path: Path) -> None:
    repo = operator_only(tmp_path)
    before = snapshot(repo)
    refused = run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 4, refused.stdout + refused.stderr
    said = "older than the installed 2.4.0, which clusters/prod/flux-instance.yaml:8 pins"
    assert f"{said}: refusing a downgrade" in refused.stderr
    assert snapshot(repo) == before


def test_to_a_release_a_range_outside_charts_does_not_admit_is_refused(tmp_path: Path) -> None:
    # 2.5.1 has a chart in the index: what refuses it is the flux-instance values' range.
    repo = operator_only(tmp_path, OPERATOR.replace("version: 2.x", "version: 2.4.x"))
    before = snapshot(repo)
    refused = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 1, refused.stdout + refused.stderr
    assert (
        "clusters/prod/flux-instance.yaml:25: flux-system/flux-instance values requires Flux "
        "2.4.x, which does not admit 2.5.1; widen the range first; nothing written"
    ) in refused.stderr
    assert snapshot(repo) == before


def test_sync_moves_the_cli_pins_with_the_install_and_never_undoes_one_renovate_moved(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    from fluxbump import fleet
    from tests.support.fixtures import edit

    repo = with_pins(tmp_path)
    edit(repo, ".tool-versions", "flux2 2.4.0", "flux2 2.5.1")  # asdf manager, on its own
    assert_refused(repo, helm_server, ("sync",), 2,
        "error: .tool-versions:2: .tool-versions moved Flux 2.4.0 -> 2.5.1 since the base "
        "revision, but the release being synced is 2.4.0; sync does not undo it: revert the "
        "pin, or move the install with it; nothing written",
    )  # fmt: skip
    edit(repo, fleet.CLOUDINIT, "download/v2.4.0/", "download/v2.5.1/")  # the grouped PR
    grouped = run_cli("sync", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert grouped.code == 0, grouped.stderr
    assert (repo / "mise.toml").read_text() == MISE.replace("2.4.0", "2.5.1")
    assert (repo / ".tool-versions").read_text() == TOOL_VERSIONS.replace("2.4.0", "2.5.1")


def test_to_with_only_ranges_says_they_admit_the_release_not_that_it_is_installed(
    tmp_path: Path,
) -> None:
    # controlplaneio-fluxcd/d2-fleet: every FluxInstance asks for "2.x" and nothing pins an
    # exact release; "already at v2.8.5" would claim an installed release nobody pinned. (A
    # release below the newest the range admits is refused: test_chartless_release.py.)
    repo = tmp_path / "fleet"
    (repo / "clusters/prod").mkdir(parents=True)
    (repo / "clusters/prod/flux-instance.yaml").write_text(
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
        'spec:\n  distribution:\n    version: "2.x"\n    registry: ghcr.io/fluxcd\n',
        "utf-8",
    )
    init_git(repo)
    before = snapshot(repo)
    outcome = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "already at" not in outcome.stdout
    assert (
        "Flux v2.8.5: no pin names an exact release (every range admits it; a value set "
        "outside this repository is unproven: see 'fluxbump status'); nothing to do"
    ) in outcome.stdout
    assert snapshot(repo) == before


def test_to_a_release_that_only_ranges_pin_and_do_not_admit_is_refused(tmp_path: Path) -> None:
    # aenix-io/cozystack asks flux-operator for "2.5.x" and pins no exact release: 'to 2.8.5'
    # said "every range admits it; nothing to do", exit 0, while the operator keeps 2.5.x.
    # A range that blocks the target is refused (exit 1), as it is beside an exact pin.
    instance = (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
        "  namespace: flux-system\nspec:\n  distribution:\n    version: 2.5.x\n"
    )
    repo = write_repo(tmp_path / "repo", {"clusters/prod/flux-instance.yaml": instance})
    before = snapshot(repo)
    outcome = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        "error: clusters/prod/flux-instance.yaml:8: FluxInstance flux-system/flux requires "
        "Flux 2.5.x, which does not admit 2.8.5; widen the range first; nothing written"
    )
    assert "nothing to do" not in outcome.stdout
    assert snapshot(repo) == before
    admitted = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert admitted.code == 0, admitted.stdout + admitted.stderr
    assert "every range admits it" in admitted.stdout and snapshot(repo) == before


@pytest.mark.parametrize("install", [True, False])
def test_to_the_release_every_exact_pin_names_says_it_is_already_there(
    tmp_path: Path, install: bool
) -> None:
    # geoffdavis/talos-gitops (mise 2.8.1, a bootstrap header v2.8.1): 'to 2.8.1' said "no pin
    # names an exact release", as if only ranges pinned Flux. With or without an exact pin of
    # what installs it (a kustomize remote install here; else the CLI's), it is already there.
    files = {"mise.toml": '[tools]\nflux2 = "2.5.1"\n'}
    if install:
        files["kustomization.yaml"] = (
            "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.5.1\n"
        )
    repo = write_repo(tmp_path / "repo", files)
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "no pin names an exact release" not in outcome.stdout
    assert ": already at v2.5.1; nothing to do" in outcome.stdout
    assert snapshot(repo) == before


# --- ${{ env.NAME }}: the env: literal that sets it is the pin ---------------------------------

ENV_WORKFLOW = """\
name: e2e
on: [push]
env:
  FLUX_VERSION: 2.4.0 # the cluster's release
jobs:
  kind:
    runs-on: ubuntu-latest
    steps:
      - uses: fluxcd/flux2/action@main
        with:
          version: ${{ env.FLUX_VERSION }}
  lint:
    runs-on: ubuntu-latest
    env:
      FLUX_VERSION: "v2.4.0"
    steps:
      - uses: fluxcd/flux2/action@main
        with: {version: "${{ env.FLUX_VERSION }}"}
      - uses: fluxcd/flux2/action@main
        env:
          FLUX_VERSION: ${{ vars.FLUX }}
        with:
          version: ${{env.FLUX_VERSION}}
  e2e:
    runs-on: ubuntu-latest
    steps:
      - uses: fluxcd/flux2/action@main
        with:
          version: ${{ env.FLUX_VERSION }}
      - uses: fluxcd/flux2/action@main
        with:
          version: ${{ env.OTHER }}
      - uses: fluxcd/flux2/action@main
        env:
          EMPTY:
        with:
          version: ${{ env.EMPTY }}
"""


def env_pins(tmp_path: Path, workflow: str = ENV_WORKFLOW) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / WORKFLOW).parent.mkdir(parents=True)
    (repo / WORKFLOW).write_text(workflow, "utf-8")
    init_git(repo)
    return repo


def workflow_rows(repo: Path) -> list[tuple[int, str, str, bool]]:
    """(line, value, owner, proven) of each site ``status`` shows in the workflow."""
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert status.code == 0, status.stderr
    return [
        (s["line"], s["value"], s["owner"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
        if s["file"] == WORKFLOW
    ]


def test_an_env_reference_is_the_env_literal_nearest_the_step(tmp_path: Path) -> None:
    repo = env_pins(tmp_path)
    rows = workflow_rows(repo)
    assert rows == [
        # the workflow's env, read by the kind and e2e jobs: one pin
        (4, "2.4.0", "fluxcd/flux2/action (kind) via env.FLUX_VERSION", True),
        # the lint job's own env, for its first step
        (15, "v2.4.0", "fluxcd/flux2/action (lint) via env.FLUX_VERSION", True),
        # a step env set from vars (outside the file), an env nothing sets: unproven
        (23, "${{env.FLUX_VERSION}}", "fluxcd/flux2/action (lint)", False),
        (32, "${{ env.OTHER }}", "fluxcd/flux2/action (e2e)", False),
        (37, "${{ env.EMPTY }}", "fluxcd/flux2/action (e2e)", False),  # an empty env: unproven
    ]
    (repo / WORKFLOW).write_text(ENV_WORKFLOW.replace("FLUX_VERSION: 2.4.0", "FLUX_VERSION: 2.3.0"))
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1
    assert f"{WORKFLOW}:4: fluxcd/flux2/action (kind) via env.FLUX_VERSION pins Flux 2.3.0" in (
        check.stdout
    )


def test_to_moves_the_env_literals_and_leaves_the_references(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = env_pins(tmp_path)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    expected = ENV_WORKFLOW.replace("FLUX_VERSION: 2.4.0", "FLUX_VERSION: 2.5.1").replace(
        'FLUX_VERSION: "v2.4.0"', 'FLUX_VERSION: "v2.5.1"'
    )
    assert (repo / WORKFLOW).read_text("utf-8") == expected
    assert git(repo, "status", "--porcelain") == ""


def test_a_bump_of_flux_pinned_only_outside_charts_names_no_chart_it_came_from(
    tmp_path: Path,
) -> None:
    # With no chart pinned there is no chart it came from: the line said "chart None".
    from tests.support.fixtures import edit

    repo = operator_only(tmp_path)
    edit(repo, "clusters/prod/flux-instance.yaml", '"2.4.0" # exact', '"2.5.1" # exact')
    moved = run_cli("sync", "--repo", str(repo), "--offline", "--dry-run")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert moved.stdout.splitlines()[0] == "Flux v2.5.1 → flux2 chart 2.15.0 (from Flux v2.4.0)"


# --- a Flux action step with no version input installs the latest CLI ------------------------

NO_VERSION_WORKFLOW = """\
name: integration
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Install Flux CLI
        uses: fluxcd/flux2/action@889be9d6cc8afa8ed639e1e1ba4ab678e3b38d8c  # v2.9.4
      - uses: fluxcd/flux2/action@main
        with:
          bindir: /usr/local/bin
"""


def test_a_flux_action_step_with_no_version_is_the_latest_cli_shown_unproven(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # grafana/k8s-monitoring-helm's integration tests: the action's default is the latest
    # stable release (its action.yml), not the v2.9.4 its commit is tagged: never agreement.
    repo = env_pins(tmp_path, NO_VERSION_WORKFLOW)
    owner = "fluxcd/flux2/action (test) (no version: the latest release)"
    assert workflow_rows(repo) == [(8, "latest", owner, False), (9, "latest", owner, False)]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert "2 cannot be proven from this repo" in check.stdout
    for line in (8, 9):  # named, as a kustomize remote at ref=main is (gate/floating.py)
        assert f"{WORKFLOW}:{line}: Flux CLI pin latest names no Flux release" in check.stderr
    bump = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert bump.code == 0, bump.stdout + bump.stderr
    assert (repo / WORKFLOW).read_text("utf-8") == NO_VERSION_WORKFLOW
