"""fluxbump on trimmed snapshots of public GitOps repositories (see each SOURCE.md).

The expected facts come from ``tests.support.independent_scan``, which shares no code with
fluxbump; the expected diffs of the bumps were written by reading the snapshot files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.independent_scan import DependencyPin, Release, scan

SNAPSHOTS = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in SNAPSHOTS.iterdir() if (p / "SOURCE.md").is_file())


def test_there_are_six_snapshots_each_with_its_license_and_source() -> None:
    assert len(NAMES) >= 6
    for name in NAMES:
        source = (SNAPSHOTS / name / "SOURCE.md").read_text("utf-8")
        assert "commit `" in source and "License:" in source
        assert (SNAPSHOTS / name / "LICENSE").is_file()
        size = sum(p.stat().st_size for p in (SNAPSHOTS / name).rglob("*") if p.is_file())
        assert size < 300_000


def test_the_oracle_finds_the_flux_wrapper_and_the_lock_of_kcm() -> None:
    facts = scan(SNAPSHOTS / "k0rdent-kcm")
    assert facts.flux_wrappers() == ["kcm"]
    assert (
        DependencyPin(
            "templates/provider/kcm/Chart.yaml",
            "kcm",
            "flux2",
            "2.17.2",
            "https://fluxcd-community.github.io/helm-charts",
        )
        in facts.upstream_pins()
    )
    # the Go-templated chart templates are not manifests
    assert not any("/templates/" in r.file for r in facts.releases)


def test_the_oracle_sees_same_named_charts_and_unreadable_files() -> None:
    mmalyska = scan(SNAPSHOTS / "mmalyska-home-ops")
    assert sorted(n for n, files in mmalyska.charts.items() if len(files) > 1) == [
        "hass-proxy",
        "jellyfin",
    ]
    onedr0p = scan(SNAPSHOTS / "onedr0p-home-ops")
    assert onedr0p.unreadable == ["kubernetes/apps/default/recyclarr/app/resources/recyclarr.yml"]
    assert (
        Release(
            "kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml",
            "cert-manager",
            "cert-manager",
            "v1.21.1",
        )
        in onedr0p.releases
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_oracle_reads_every_snapshot(name: str) -> None:
    facts = scan(SNAPSHOTS / name)
    assert facts.charts or facts.releases or name == "fluxcd-flux2-multi-tenancy"
