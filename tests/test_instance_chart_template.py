"""A local chart's own FluxInstance template pins Flux by the chart value it renders.

A platform chart may write the FluxInstance itself (``distribution: version: {{
.Values.distribution.version }}``), the release then set in its ``values.yaml``. fluxbump read
neither (a chart's templates are Go templates; its values file has no ``kind``): ``check``
passed such a chart installing Flux 2.4.0 beside a CLI pinned at 2.5.1, and ``to`` left it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

CHART = "charts/platform-flux"
VALUES = f"{CHART}/values.yaml"
TEMPLATE = f"{CHART}/templates/instance.yaml"
VALUES_TEXT = """\
flux:
  distribution:
    version: "{version}"
    registry: ghcr.io/fluxcd
  image:
    version: 2.3.0
"""
# The version under distribution: is the release; another ``version:`` of the template is not.
TEMPLATE_TEXT = """\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: {{ .Release.Namespace }}
spec:
  distribution:
    {{- if .Values.flux.distribution.version }}
    version: {{ .Values.flux.distribution.version | quote }}
    {{- end }}
    registry: {{ .Values.flux.distribution.registry }}
  kustomize:
    patches:
      - target:
          version: {{ .Values.flux.image.version }}
"""


def repo(tmp_path: Path, version: str = "2.4.0") -> Path:
    return write_repo(
        tmp_path / "repo",
        {
            f"{CHART}/Chart.yaml": "apiVersion: v2\nname: platform-flux\nversion: 1.0.0\n",
            VALUES: VALUES_TEXT.replace("{version}", version),
            TEMPLATE: TEMPLATE_TEXT,
            ".tool-versions": "flux2 2.5.1\n",
        },
    )


def test_status_shows_the_value_the_template_renders(tmp_path: Path) -> None:
    status = run_cli("status", "--repo", str(repo(tmp_path)), "--offline", "--json")
    assert status.code == 0, status.stdout + status.stderr
    instances = [
        (s["file"], s["line"], s["value"], s["owner"])
        for s in json.loads(status.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]
    assert instances == [
        (VALUES, 3, "2.4.0", "chart platform-flux's values (its FluxInstance template)")
    ]


def test_check_compares_it_and_to_moves_it_alone(tmp_path: Path) -> None:
    root = repo(tmp_path)
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"({VALUES}:3)" in check.stdout
    before = snapshot(root)
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(root)
    assert after[VALUES] == VALUES_TEXT.replace("{version}", "2.5.1").encode()
    assert {rel: b for rel, b in after.items() if rel != VALUES} == {
        rel: b for rel, b in before.items() if rel != VALUES
    }


def test_a_range_in_the_values_is_kept_when_it_admits_the_release(tmp_path: Path) -> None:
    root = repo(tmp_path, version="2.x")
    check = run_cli("check", "--repo", str(root), "--offline")
    assert check.code == 0, check.stdout + check.stderr
