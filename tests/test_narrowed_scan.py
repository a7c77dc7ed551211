"""``check --component flux`` on a fleet where every wrapper's release waits for bp-flux
(``dependsOn: - name: bp-flux``): the same Flux verdict as a full check, from Flux's files only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fluxbump import fleet
from fluxbump.scan import releases
from fluxbump.scan.repeated import Yield
from fluxbump.scan.sites.helmrelease import ClusterScan
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.fixtures import edit, make_fleet

CLUSTERS = ("a.example", "b.example")
# Flux's charts: its wrapper and the umbrella over it (the charts whose releases pin them).
FLUX_SUBJECTS = {"flux", "flux2", "bp-flux", "bp-catalyst-platform"}


def _parsed_checking(
    repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[dict[str, Any], set[str]]:
    """The ``check --json`` document, and the cluster files the release scan parsed (or
    answered from an earlier file of the same body, ``scan/repeated.py``, as it parsed)."""
    parsed: set[str] = set()
    parse, answer = releases._scan_manifest, releases._answer

    def counted(source: SourceFile, names: frozenset[str]) -> ClusterScan | None:
        parsed.add(source.rel)
        return parse(source, names)

    def answered(rel: str, raw: bytes, cut: int, found: Yield, *args: Any) -> None:
        if found.candidate:
            parsed.add(rel)
        answer(rel, raw, cut, found, *args)

    with monkeypatch.context() as patched:
        patched.setattr(releases, "_scan_manifest", counted)
        patched.setattr(releases, "_answer", answered)
        outcome = run_cli("check", "--repo", str(repo), "--offline", "--json", *args)
    assert outcome.code == 1, outcome.stderr
    return json.loads(outcome.stdout), parsed


def test_check_component_flux_parses_only_fluxs_release_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_fleet(tmp_path / "repo", clusters=CLUSTERS, wrappers=5, filler_files=2)
    flux_file = f"clusters/{CLUSTERS[1]}/{fleet.FLUX_RELEASE_FILE}"
    edit(
        repo,
        flux_file,
        "chart: bp-flux\n      version: 1.1.1",
        "chart: bp-flux\n      version: 1.0.9",
    )
    wrapper = f"clusters/{CLUSTERS[0]}/bootstrap-kit/20-bp-cilium.yaml"
    assert "dependsOn:\n    - name: bp-flux\n" in (repo / wrapper).read_text()

    full, parsed_full = _parsed_checking(repo, monkeypatch)
    narrowed, parsed = _parsed_checking(repo, monkeypatch, "--component", "flux")

    release_files = {
        f"clusters/{c}/{f}"
        for c in ("_template", *CLUSTERS)
        for f in (fleet.FLUX_RELEASE_FILE, fleet.UMBRELLA_RELEASE_FILE)
    }
    assert parsed == release_files
    assert wrapper in parsed_full and len(parsed_full) == 3 * (2 + 5)  # fillers: no repo chart
    assert narrowed["violations"] == full["violations"]
    assert [v["file"] for v in narrowed["violations"]] == [flux_file]
    assert narrowed["sites"] == [s for s in full["sites"] if s["subject"] in FLUX_SUBJECTS]
    assert {s["subject"] for s in narrowed["sites"]} == FLUX_SUBJECTS


def test_a_broken_wrapper_release_costs_its_own_component_not_the_flux_it_waits_for(
    tmp_path: Path,
) -> None:
    """A file that does not parse costs the charts it names as a pin could: the wrapper's own,
    not bp-flux in its ``dependsOn``; a full and a narrowed check agree on Flux."""
    repo = make_fleet(tmp_path / "repo", clusters=CLUSTERS, wrappers=2)
    wrapper = f"clusters/{CLUSTERS[0]}/bootstrap-kit/20-bp-cilium.yaml"
    (repo / wrapper).write_text((repo / wrapper).read_text() + "  broken: [unclosed\n")
    full = run_cli("check", "--repo", str(repo), "--offline")
    narrowed = run_cli("check", "--repo", str(repo), "--offline", "--component", "flux")
    problems = [line for line in full.stdout.splitlines() if line.startswith(f"  {wrapper}:")]
    assert full.code == 1 and len(problems) == 1, full.stdout
    assert problems[0].endswith("; cilium is unproven")
    assert narrowed.code == 0, narrowed.stdout
    assert "unproven" not in narrowed.stdout
