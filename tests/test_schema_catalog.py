"""The bundled Flux CRD schema catalog: true to the real charts, used by ``check --offline``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.crds.schema_catalog import bundled_crds
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, edit, make_fleet

# Served/storage versions read from the real chart archives of every release (shipped as the
# CRD drop guard's offline data): an independent source for the schema catalog's versions.
VERSIONS = json.loads(
    resources.files("fluxbump").joinpath("data", "flux2-crd-versions.json").read_text("utf-8")
)


@pytest.mark.parametrize("chart", sorted(VERSIONS))
def test_catalog_versions_match_those_read_from_the_real_archives(chart: str) -> None:
    crds = bundled_crds(chart)
    assert crds is not None
    expected = VERSIONS[chart]["crds"]
    assert set(crds) == set(expected)
    for name, facts in expected.items():
        assert sorted(crds[name].served) == sorted(facts["served"]), name
        assert crds[name].storage == facts["storage"], name
        assert set(crds[name].schemas) >= set(facts["served"]), name


def test_an_unknown_chart_version_is_not_in_the_catalog() -> None:
    assert bundled_crds("9.9.9") is None


def test_field_added_after_the_pinned_release_is_in_the_newer_schema_only() -> None:
    def install_fields(chart: str) -> set[str]:
        crds = bundled_crds(chart)
        assert crds is not None
        schema = crds["helmreleases.helm.toolkit.fluxcd.io"].schemas["v2"]
        return set(schema["properties"]["spec"]["properties"]["install"]["properties"])

    assert "disableTakeOwnership" not in install_fields("2.14.1")
    assert "disableTakeOwnership" in install_fields("2.18.3")


HELMRELEASE = f"clusters/_template/{fleet.FLUX_RELEASE_FILE}"


def test_check_offline_with_an_empty_cache_rejects_a_field_the_pinned_schema_lacks(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "fleet", CONSISTENT, git=False)
    clean = run_cli("check", "--repo", str(repo), "--offline")
    assert clean.code == 0, clean.stdout + clean.stderr
    assert "not validated" not in clean.stderr
    edit(repo, HELMRELEASE, "  install:\n", "  install:\n    disableTakeOwnership: true\n")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    line = (
        repo.joinpath(HELMRELEASE).read_text().splitlines().index("    disableTakeOwnership: true")
    )
    assert (
        f"{HELMRELEASE}:{line + 1}: HelmRelease flux-system/bp-flux: "
        "spec.install.disableTakeOwnership: unknown field in helm.toolkit.fluxcd.io/v2 of "
        "Flux 2.4.0"
    ) in outcome.stdout
