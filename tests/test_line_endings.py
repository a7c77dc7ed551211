"""A file saved with CRLF or lone-CR (classic Mac) line endings is read as with LF wherever its
format reads them as line breaks (YAML 1.2 §5.4, a cloud-init template, Jinja): the same
sites at the same lines and columns (the lines an editor shows), the same verdict, and ``to``
rewrites the version bytes alone, every line ending kept byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

ENDINGS = {"crlf": "\r\n", "cr": "\r"}


def repo_with(root: Path, files: dict[str, str], ending: str) -> Path:
    return write_repo(root, {rel: text.replace("\n", ending) for rel, text in files.items()})


def sites(repo: Path) -> list[tuple[str, str, int, int, str]]:
    outcome = run_cli("status", "--offline", "--json", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    found = json.loads(outcome.stdout)["sites"]
    return [(s["role"], s["file"], s["line"], s["column"], s["value"]) for s in found]


def check(repo: Path) -> tuple[int, str]:
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    return outcome.code, outcome.stdout.replace(str(repo), "REPO")


def assert_read_alike(tmp_path: Path, files: dict[str, str], ending: str, target: str) -> None:
    """status, check and ``to target`` answer over ``ending`` as over LF."""
    lf, other = repo_with(tmp_path / "lf", files, "\n"), repo_with(tmp_path / "x", files, ending)
    assert sites(other) == sites(lf)
    assert check(other) == check(lf)
    for repo in (lf, other):
        bump = run_cli("to", target, "--offline", "--no-git", "--repo", str(repo))
        assert bump.code == 0, bump.stdout + bump.stderr
    moved = snapshot(lf)
    assert moved != {rel: text.encode() for rel, text in files.items()}  # (the bump moved)
    assert snapshot(other) == {
        rel: raw.replace(b"\n", ending.encode()) for rel, raw in moved.items()
    }


KUSTOMIZATION = {
    "bootstrap/flux/kustomization.yaml": """\
---
# yaml-language-server: $schema=https://json.schemastore.org/kustomization
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0
"""
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_kustomize_remote_url_is_at_its_line(tmp_path: Path, ending: str) -> None:
    # (with lone CRs it was at line 1, column 205: only LF was counted)
    assert_read_alike(tmp_path, KUSTOMIZATION, ending, "2.5.1")
    assert ("bootstrap/flux/kustomization.yaml", 6, 51) in [s[1:4] for s in sites(tmp_path / "x")]
