"""A Flux chart rendered by ``helm template`` and committed as plain manifests (each object
labelled ``helm.sh/chart: flux2-2.18.3``, as mesosphere/kommander-applications bootstraps Flux
beside its HelmRelease) installs that chart whatever the pins say. fluxbump renders no chart,
so it names the render's first object, chart and version, in every command; it was silent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet

RENDER = "clusters/bootstrap/flux-rendered.yaml"
OBJECTS = """---
# Source: flux2/templates/source-controller.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: source-controller
  labels:
    app.kubernetes.io/managed-by: Helm
    helm.sh/chart: flux2-2.13.0
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: helm-controller
  labels:
    "helm.sh/chart": "flux2-2.13.0"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flux-operator
  labels:
    helm.sh/chart: 'flux-operator-0.23.0'
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: cilium
  labels:
    helm.sh/chart: cilium-1.15.0
"""
NAMED = (
    f"{RENDER}:{{line}}: {{chart}} chart {{version}} rendered by helm template (helm.sh/chart: "
    "{chart}-{version}), which fluxbump does not read, check or move: render it again from the "
    "chart version Flux moves to, or list the file under exclude: in .fluxbump.yaml if it "
    "installs no cluster of this repository"
)
FLUX2 = NAMED.format(line=9, chart="flux2", version="2.13.0")
OPERATOR = NAMED.format(line=23, chart="flux-operator", version="0.23.0")


def rendered(tmp_path: Path, text: str = OBJECTS, newline: str = "\n") -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / RENDER).parent.mkdir(parents=True, exist_ok=True)
    (repo / RENDER).write_bytes(text.replace("\n", newline).encode())
    return repo


def warnings(stderr: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in stderr.splitlines() if "rendered" in line]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_check_names_each_flux_chart_render_once_and_passes(tmp_path: Path, newline: str) -> None:
    repo = rendered(tmp_path, newline=newline)
    for run in ("cold", "warm"):  # the second run is answered from what the first kept
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, (run, outcome.stdout + outcome.stderr)
        assert warnings(outcome.stderr) == [FLUX2, OPERATOR], run


def test_status_json_and_a_bump_name_it_and_leave_it_as_it_is(tmp_path: Path) -> None:
    repo = rendered(tmp_path)
    status = run_cli("status", "--offline", "--json", "--repo", str(repo))
    assert status.code == 0, status.stderr
    said = [w["message"] for w in json.loads(status.stdout)["warnings"]]
    assert FLUX2 in said and OPERATOR in said
    bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    assert FLUX2 in warnings(bump.stderr)
    assert (repo / RENDER).read_text() == OBJECTS  # rendering is the user's: never edited


def test_a_chart_template_or_another_chart_is_no_render_of_flux(tmp_path: Path) -> None:
    template = (
        'metadata:\n  labels:\n    helm.sh/chart: {{ include "flux2.chart" . }}\n'
        "---\nmetadata:\n  labels:\n    helm.sh/chart: flux2-operator-x-1.0.0\n"
    )
    repo = rendered(tmp_path, template)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert warnings(outcome.stderr) == []


COPY = "clusters/bootstrap/flux/install.yaml"
# What ``kustomize build`` of fluxcd/flux2's manifests/install writes (the release's
# install.yaml): every object labelled with the release, no ``# Flux Version:`` header.
# (the labels of a controller's objects)
CONTROLLER_LABELS = """\
  labels:
    app.kubernetes.io/component: source-controller
    app.kubernetes.io/instance: flux-system
    app.kubernetes.io/part-of: flux
    app.kubernetes.io/version: v2.3.0
"""
INSTALL_COPY = f"""---
apiVersion: v1
kind: Namespace
metadata:
  labels:
    app.kubernetes.io/instance: flux-system
    app.kubernetes.io/part-of: flux
    app.kubernetes.io/version: v2.3.0
  name: flux-system
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
{CONTROLLER_LABELS}  name: gitrepositories.source.toolkit.fluxcd.io
spec:
  group: source.toolkit.fluxcd.io
---
apiVersion: apps/v1
kind: Deployment
metadata:
{CONTROLLER_LABELS}    control-plane: controller
  name: source-controller
spec:
  template:
    spec:
      containers:
      - image: ghcr.io/fluxcd/source-controller:v1.3.0
        name: manager
"""
COPY_NAMED = (
    f"{COPY}:8: Flux v2.3.0's manifests (objects labelled app.kubernetes.io/version: v2.3.0) "
    "kept without the '# Flux Version:' header of 'flux install --export', which fluxbump does "
    "not read, check or move: replace them with the manifests of the release Flux moves to, or "
    "list the file under exclude: in .fluxbump.yaml if it installs no cluster of this repository"
)


def copied(tmp_path: Path, text: str, newline: str = "\n") -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / COPY).parent.mkdir(parents=True, exist_ok=True)
    (repo / COPY).write_bytes(text.replace("\n", newline).encode())
    return repo


def copy_warnings(stderr: str) -> list[str]:
    return [
        line.removeprefix("warning: ") for line in stderr.splitlines() if "kept without" in line
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_copy_of_a_release_install_yaml_without_its_header_is_named(
    tmp_path: Path, newline: str
) -> None:
    # A vendored install.yaml (kustomize build output) installs Flux 2.3.0 whatever the
    # cloud-init URL says; with no '# Flux Version:' header it was read as nothing, silently.
    repo = copied(tmp_path, INSTALL_COPY, newline)
    for run in ("cold", "warm"):
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, (run, outcome.stdout + outcome.stderr)
        assert copy_warnings(outcome.stderr) == [COPY_NAMED], run
    bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    assert copy_warnings(bump.stderr) == [COPY_NAMED]
    assert (repo / COPY).read_bytes() == INSTALL_COPY.replace("\n", newline).encode()


def test_labels_alone_or_an_export_with_its_header_are_no_unread_copy(tmp_path: Path) -> None:
    # kommander-applications labels its own Namespace and NetworkPolicy 'part-of: flux' with
    # the release (no controller, no Flux CRD: nothing of Flux installed); 'flux install
    # --export' output with its header is a bootstrap pin, read and moved.
    labels_only = INSTALL_COPY.split("---\napiVersion: apiextensions")[0]
    exported = (
        "# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: v2.4.0\n"
        "# Components: source-controller\n" + INSTALL_COPY.replace("v2.3.0", "v2.4.0")
    )
    for text in (labels_only, exported):
        repo = copied(tmp_path / str(len(text)), text)
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert copy_warnings(outcome.stderr) == []
    status = run_cli("status", "--offline", "--repo", str(repo))
    assert f"{COPY}:2" in status.stdout, status.stdout  # (the header's pin: read)


def test_a_chart_render_stripped_of_its_chart_label_is_named_by_its_app_version(
    tmp_path: Path,
) -> None:
    # nephio-project/catalog's kpt package nephio/optional/flux-helm-controllers: the flux2
    # chart rendered ('# Source: flux2/templates/…') with no helm.sh/chart label, its objects
    # labelled with the chart's appVersion before part-of (kustomize writes part-of first).
    render = (
        "---\n# Source: flux2/templates/helm-controller.yaml\napiVersion: apps/v1\n"
        "kind: Deployment\nmetadata:\n  labels:\n    app.kubernetes.io/instance: flux-system\n"
        '    app.kubernetes.io/version: "2.0.0"\n    app.kubernetes.io/part-of: flux\n'
        "    control-plane: controller\n  name: helm-controller\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - image: ghcr.io/fluxcd/helm-controller:v0.35.0\n"
    )
    repo = copied(tmp_path, render)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert copy_warnings(outcome.stderr) == [COPY_NAMED.replace("v2.3.0", "2.0.0")]


def test_a_kustomize_build_of_flux_git_manifests_is_named_by_its_controllers(
    tmp_path: Path,
) -> None:
    # sergelogvinov/terraform-talos applies vars/flux-result.yaml, its Makefile's `kubectl
    # kustomize` of github.com/fluxcd/flux2/manifests/install?ref=v2.7.5: from Git (not the
    # release build) no object carries the version label, so the copy was passed in silence
    # while `to` moved the kustomization's ref beside it.
    piece = INSTALL_COPY.replace("    app.kubernetes.io/version: v2.3.0\n", "")
    second = piece.split("---\napiVersion: apps/v1")[1].replace("source-", "kustomize-")
    build = piece + "---\napiVersion: apps/v1" + second.replace(":v1.3.0", ":v1.3.1")
    repo = copied(tmp_path, build)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert copy_warnings(outcome.stderr) == [
        f"{COPY}:6: Flux's manifests (objects labelled app.kubernetes.io/part-of: flux, with no "
        "release label; controllers kustomize-controller v1.3.1, source-controller v1.3.0) "
        "kept without the '# Flux "
        "Version:' header of 'flux install --export', which fluxbump does not read, check or "
        "move: replace them with the manifests of the release Flux moves to, or list the file "
        "under exclude: in .fluxbump.yaml if it installs no cluster of this repository"
    ]
    # one controller's objects are a piece of an install (flux-operator keeps each release's
    # manifests so, as data), its CRDs alone name no tag to tell the release by: not named
    for part, text in (("piece", piece), ("crds", piece.split("---\napiVersion: apps/v1")[0])):
        repo = copied(tmp_path / part, text)
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert copy_warnings(outcome.stderr) == [], (part, outcome.stderr)
