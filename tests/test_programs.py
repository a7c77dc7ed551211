"""Flux pinned by a Pulumi or CDK program: named with its file:line, never read or moved.

aws-quickstart/cdk-eks-blueprints installs the flux2 chart 2.13.0 from an AWS CDK add-on
(``lib/addons/fluxcd/index.ts``) and hyperledger-labs/splice from a Pulumi program; fluxbump
said nothing of either (``status``: no component, no warning), so a bump left them behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

PULUMI_TS = """\
import * as k8s from '@pulumi/kubernetes';

export const flux = new k8s.helm.v3.Release('flux', {
  name: 'flux',
  chart: 'flux2',
  version: '2.12.4',
  repositoryOpts: { repo: 'https://fluxcd-community.github.io/helm-charts' },
});
"""
PULUMI_PY = """\
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs

Release("operator", ReleaseArgs(chart="oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator", version="0.33.0"))
"""
PULUMI_GO = """\
package main

import (
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
)

func flux(ctx *pulumi.Context) error {
	_, err := helmv3.NewRelease(ctx, "flux", &helmv3.ReleaseArgs{
		Chart:   pulumi.String("flux2"),
		Version: pulumi.String("2.12.4"),
	})
	return err
}
"""
CDK_TS = """\
import { Construct } from 'constructs';
import { KubernetesManifest } from 'aws-cdk-lib/aws-eks';

const defaultProps = {
    chart: "flux2",
    version: "2.13.0",
    repository: "oci://ghcr.io/fluxcd-community/charts/flux2",
};
const manifest = "https://github.com/fluxcd/flux2/releases/download/v2.3.0/install.yaml";
"""
# Code of no such framework (a release script, a test helper): not a program fluxbump names.
PLAIN_PY = """\
def chart():
    return dict(chart="flux2", version="2.12.4")
"""
# The repository's own Flux pin, so check has something to compare.
TOOLS = "flux2 2.4.0\n"
# Each framework's project file (what ``pulumi up`` and ``cdk deploy`` read): programs are looked
# for at and below the directories holding one.
PULUMI_PROJECT = "name: infra\nruntime: nodejs\n"
CDK_PROJECT = '{"app": "npx ts-node bin/main.ts"}\n'
FILES = {
    "infra/Pulumi.yaml": PULUMI_PROJECT,
    "cdk.json": CDK_PROJECT,
    "infra/flux.ts": PULUMI_TS,
    "infra/operator.py": PULUMI_PY,
    "infra/go/main.go": PULUMI_GO,
    "lib/addons/fluxcd/index.ts": CDK_TS,
    "tools/release.py": PLAIN_PY,
    ".tool-versions": TOOLS,
}


def program_warnings(stderr: str) -> list[str]:
    return [line.split(": this ")[0] for line in stderr.splitlines() if " program pins " in line]


def test_each_line_of_a_program_that_pins_flux_is_named(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo", FILES)
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    # (in the walk's order: a directory's files, then its subdirectories)
    assert program_warnings(status.stderr) == [
        "warning: infra/flux.ts:6",  # the chart's version, the line below its name
        "warning: infra/operator.py:4",
        "warning: infra/go/main.go:10",
        "warning: lib/addons/fluxcd/index.ts:6",
        "warning: lib/addons/fluxcd/index.ts:9",
    ]
    said = {line.split(": ", 2)[1]: line for line in status.stderr.splitlines()}
    assert "this Pulumi program pins the flux2 chart here" in said["infra/flux.ts:6"]
    assert "the flux-operator chart" in said["infra/operator.py:4"]
    assert (
        "this AWS CDK program pins a Flux release (fluxcd/flux2/releases/download)"
        in (said["lib/addons/fluxcd/index.ts:9"])
    )
    assert said["infra/flux.ts:6"].endswith(
        "which fluxbump does not read, check or move: move it by hand when Flux moves, or list "
        "the file under exclude: in .fluxbump.yaml if it does not deploy this repository's Flux"
    )
    # A program is no pin-site: its release is no violation of the tool version 2.4.0.
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert ".ts" not in check.stdout and len(program_warnings(check.stderr)) == 5


def test_json_places_each_program_warning(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo", FILES)
    status = run_cli("status", "--repo", str(root), "--offline", "--json")
    assert status.code == 0, status.stdout + status.stderr
    placed = [(w["file"], w["line"]) for w in json.loads(status.stdout)["warnings"] if w["file"]]
    assert placed == [
        ("infra/flux.ts", 6),
        ("infra/operator.py", 4),
        ("infra/go/main.go", 10),
        ("lib/addons/fluxcd/index.ts", 6),
        ("lib/addons/fluxcd/index.ts", 9),
    ]


def test_a_bump_leaves_programs_as_written_and_names_them(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo", FILES)
    before = snapshot(root)
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(root)
    assert after[".tool-versions"] == b"flux2 2.5.1\n"
    assert {rel: b for rel, b in after.items() if rel != ".tool-versions"} == {
        rel: b for rel, b in before.items() if rel != ".tool-versions"
    }
    assert len(program_warnings(moved.stderr)) == 5, moved.stderr


def test_a_repository_pinning_flux_only_in_a_program_says_where(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path / "repo", {"lib/addons/fluxcd/index.ts": CDK_TS, "cdk.json": CDK_PROJECT}
    )
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 2, check.stdout + check.stderr
    assert "nothing to check" in check.stderr
    assert program_warnings(check.stderr) == [
        "warning: lib/addons/fluxcd/index.ts:6",
        "warning: lib/addons/fluxcd/index.ts:9",
    ]


# Where no version key of the chart's own object follows, the chart line is named.
CDK_NO_VERSION_BELOW = """\
import * as cdk from 'aws-cdk-lib';

const a = { chart: "flux2" };
const b = { version: "1.0.0" };
const c = {
    chart: "flux2",
    appVersion: "2.3.0",
    values: {
        version: "9.9.9",
    },
};
const d = {
    version: "2.13.0", chart: "flux2",
};
"""


def test_a_program_warning_names_the_chart_version_line_of_the_same_object_else_the_chart(
    tmp_path: Path,
) -> None:
    # cdk-eks-blueprints' index.ts names the chart at 182 and its version at 183, the line a
    # human moves; the warning named 182. Another object's version, a nested values key or
    # appVersion is not the chart's version.
    root = write_repo(
        tmp_path / "repo", {"lib/flux.ts": CDK_NO_VERSION_BELOW, "cdk.json": CDK_PROJECT}
    )
    status = run_cli("status", "--repo", str(root), "--offline", "--json")
    assert status.code in (0, 2), status.stdout + status.stderr
    placed = [(w["file"], w["line"]) for w in json.loads(status.stdout)["warnings"] if w["file"]]
    assert placed == [("lib/flux.ts", 3), ("lib/flux.ts", 6), ("lib/flux.ts", 13)]


def test_excluded_programs_are_not_named(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo", FILES)
    (root / ".fluxbump.yaml").write_text('exclude: ["infra/**", "lib/**"]\n', "utf-8")
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert program_warnings(status.stderr) == []


def test_code_outside_a_project_of_a_framework_is_not_read(tmp_path: Path) -> None:
    """Without the project file a framework deploys from, the same code deploys nothing here
    (a library of constructs, a copy in docs): a code-heavy monorepo's sources are not read."""
    files = {
        rel: text for rel, text in FILES.items() if rel not in ("infra/Pulumi.yaml", "cdk.json")
    }
    root = write_repo(tmp_path / "repo", {**files, "other/Pulumi.yaml": PULUMI_PROJECT})
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert program_warnings(check.stderr) == []


# The Pulumi flux provider installs Flux itself (squaremo/flux-plus-pulumi applies the content
# of its getFluxInstallOutput, no version: the provider's default release); each SDK's spelling,
# and an import or the provider SDK's own definition of the same names, which install nothing.
PROVIDER_JS = """\
const k8s = require("@pulumi/kubernetes");
const flux = require("@worawat/flux");
const { FluxBootstrapGit } = require("@worawat/flux");
const install = flux.getFluxInstallOutput({ targetPath: "infra/" });
const bootstrap = new flux.FluxBootstrapGit("flux", { path: "clusters/dev" });
"""
PROVIDER_PY = """\
import pulumi_flux as flux
from pulumi_flux import get_flux_install

install = flux.get_flux_install(target_path="clusters/dev", version="v0.41.2")
"""
PROVIDER_SDK = """\
import * as pulumi from "@pulumi/pulumi";

export function getFluxInstall(args: GetFluxInstallArgs): Promise<GetFluxInstallResult> {
    return pulumi.runtime.invoke("flux:index/getFluxInstall:getFluxInstall", args);
}
"""
PROVIDER_GO = """\
package main

import "github.com/oun/pulumi-flux/sdk/go/flux"

func bootstrap(ctx *pulumi.Context) error {
	_, err := flux.NewFluxBootstrapGit(ctx, "flux", &flux.FluxBootstrapGitArgs{})
	return err
}
"""


def test_a_program_installing_flux_with_the_flux_provider_is_named(tmp_path: Path) -> None:
    # Before, nothing was said of these lines: check found "nothing to check" and no warning.
    files = {
        "infra/Pulumi.yaml": PULUMI_PROJECT,
        "infra/index.js": PROVIDER_JS,
        "infra/install.py": PROVIDER_PY,
        "infra/go/main.go": PROVIDER_GO,
        "infra/sdk/getFluxInstall.ts": PROVIDER_SDK,
    }
    root = write_repo(tmp_path / "repo", files)
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 2, check.stdout + check.stderr
    assert program_warnings(check.stderr) == [
        "warning: infra/index.js:4",
        "warning: infra/index.js:5",
        "warning: infra/install.py:4",
        "warning: infra/go/main.go:6",
    ]
    assert (
        "warning: infra/index.js:4: this Pulumi program pins the Flux release the flux "
        "provider's getFluxInstallOutput installs here"
    ) in check.stderr


# danielr1996/hydrogen's terraform/extensions.tf: k0s Helm extensions handed to k0sctl from
# Terraform locals (k0s installs them at boot), beside a helm_release fluxbump reads as a pin.
K0S_EXTENSIONS_TF = """\
locals {
  charts = [
    {
      name      = "flux2"
      chartname = "fluxcd-community/flux2"
      version   = "2.13.0"
      namespace = "flux-system"
    },
    {
      name      = "flux2-sync"
      chartname = "fluxcd-community/flux2-sync"
      version   = "1.10.0"
    },
  ]
}

resource "helm_release" "flux" {
  name       = "flux2"
  repository = "https://fluxcd-community.github.io/helm-charts"
  chart      = "flux2"
  version    = "2.14.1"
}
"""


def test_terraform_naming_a_flux_chart_outside_a_helm_release_is_named(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo", {"terraform/extensions.tf": K0S_EXTENSIONS_TF})
    check = run_cli("check", "--repo", str(root), "--offline")
    said = [line for line in check.stderr.splitlines() if "this Terraform value pins" in line]
    assert said == [
        "warning: terraform/extensions.tf:6: this Terraform value pins the flux2 chart here, "
        "which fluxbump does not read, check or move: move it by hand when Flux moves, or list "
        "the file under exclude: in .fluxbump.yaml if it does not deploy this repository's Flux"
    ], check.stderr
    status = run_cli("status", "--repo", str(root), "--json", "--offline")
    assert [
        (f"{s['file']}:{s['line']}", s["value"]) for s in json.loads(status.stdout)["sites"]
    ] == [("terraform/extensions.tf:21", "2.14.1")]  # the helm_release: read, not named
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert any(
        line.startswith("warning: terraform/extensions.tf:6: ")
        for line in moved.stderr.splitlines()
    )
    moved_text = K0S_EXTENSIONS_TF.replace('"2.14.1"', '"2.15.0"')  # (the helm_release alone)
    assert (root / "terraform/extensions.tf").read_text("utf-8") == moved_text


# dorn-haus/8 generates its manifests with Nix: the FluxInstance's version comes from a table
# of versions (``v.flux.github-releases``), evaluated by Nix, read nowhere by fluxbump.
NIX_INSTANCE = """\
{self, v, ...}: {
  kind = "FluxInstance";
  apiVersion = "fluxcd.controlplane.io/v1";
  # kind = "FluxInstance"; (a comment names nothing)
  spec.distribution.version = v.flux.github-releases;
}
"""
# Its flake's download of the CLI is a pin (read, moved), not named as code.
NIX_FLAKE = """\
{
  flux = pkgs.fetchurl {
    url = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_linux_amd64.tar.gz";
  };
}
"""


def test_a_nix_expression_writing_a_fluxinstance_is_named(tmp_path: Path) -> None:
    files = {"manifests/flux-instance.yaml.nix": NIX_INSTANCE, "flake.nix": NIX_FLAKE}
    root = write_repo(tmp_path / "repo", files)
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    said = [line for line in check.stderr.splitlines() if "this Nix expression pins" in line]
    assert said == [
        "warning: manifests/flux-instance.yaml.nix:2: this Nix expression pins a FluxInstance "
        "here, which fluxbump does not read, check or move: move it by hand when Flux moves, or "
        "list the file under exclude: in .fluxbump.yaml if it does not deploy this repository's "
        "Flux"
    ], check.stderr
    status = run_cli("status", "--repo", str(root), "--json", "--offline")
    assert {
        (f"{s['file']}:{s['line']}", s["value"]) for s in json.loads(status.stdout)["sites"]
    } == {("flake.nix:3", "2.4.0")}  # (the asset's path and its name: both read, not named)
