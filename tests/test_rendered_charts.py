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
