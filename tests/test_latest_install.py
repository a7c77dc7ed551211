"""Flux installed from its newest release's assets (``releases/latest/download/…``), as the
quickstarts write it, is shown where it is, as a branch ref of the remote kustomization is.

The module said so (``scan/sites/kustomizeremote.py``: "a branch (``ref=main``) or
``releases/latest`` is not a pin: it is reported"), but only ``releases/download/<tag>/``
URLs were read: a repository installing Flux so had no Flux component, ``status`` listed
nothing and ``check`` said "nothing to check".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

LATEST = "https://github.com/fluxcd/flux2/releases/latest/download/install.yaml"
KUSTOMIZATION = "clusters/prod/flux-system/kustomization.yaml"
KUSTOMIZATION_TEXT = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {LATEST}
"""
SCRIPT = "scripts/install.sh"
SCRIPT_TEXT = f"#!/bin/sh\nkubectl apply -f {LATEST}\n"


def test_an_install_of_the_latest_release_is_shown_unproven_and_never_rewritten(
    tmp_path: Path,
) -> None:
    files = {KUSTOMIZATION: KUSTOMIZATION_TEXT, SCRIPT: SCRIPT_TEXT}
    repo = write_repo(tmp_path / "repo", files)
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stderr
    sites = json.loads(status.stdout)["sites"]
    assert sorted((s["file"], s["line"], s["value"], s["proven"]) for s in sites) == [
        (KUSTOMIZATION, 4, "latest", False),
        (SCRIPT, 2, "latest", False),
    ]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    assert "2 cannot be proven from this repo" in check.stdout
    before = snapshot(repo)
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    assert snapshot(repo) == before
