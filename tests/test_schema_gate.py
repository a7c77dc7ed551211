"""HelmRelease objects validated against the target flux2 chart's CRD schemas (the gate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, edit, make_fleet, snapshot
from tests.support.helm_repo import CATALOG, chart_archive, flux_repo_routes
from tests.support.helm_server import HelmServer, serve

PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def helmrelease_schema(*, take_ownership: bool) -> dict[str, Any]:
    """A structural HelmRelease schema; ``disableTakeOwnership`` only where the release has it."""
    action = {"crds": {"type": "string", "enum": ["Skip", "Create", "CreateReplace"]}}
    if take_ownership:
        action["disableTakeOwnership"] = {"type": "boolean"}
    upgrade = {**action, "preserveValues": {"type": "boolean"}}
    spec = {
        "type": "object",
        "required": ["interval"],
        "properties": {
            "interval": {"type": "string"},
            "releaseName": {"type": "string"},
            "chart": PRESERVE,
            "chartRef": PRESERVE,
            "dependsOn": {"type": "array", "items": PRESERVE},
            "install": {"type": "object", "properties": action},
            "upgrade": {"type": "object", "properties": upgrade},
            "values": PRESERVE,
        },
    }
    return {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"}, "spec": spec,
    }}  # fmt: skip


def strict_archive(version: str, *, take_ownership: bool) -> bytes:
    catalog = json.loads(CATALOG.read_text("utf-8"))[version]
    schemas = {
        "helmreleases.helm.toolkit.fluxcd.io": helmrelease_schema(take_ownership=take_ownership)
    }
    return chart_archive(version, catalog["appVersion"], catalog["crds"], schemas)


@pytest.fixture(params=[False, True], ids=["schema-without-field", "schema-with-field"])
def strict_server(request: pytest.FixtureRequest) -> Iterator[tuple[HelmServer, bool]]:
    has_field = bool(request.param)
    overrides = (("2.14.1", strict_archive("2.14.1", take_ownership=has_field)),)
    with serve(HelmServer(routes=dict(flux_repo_routes(overrides)))) as server:
        yield server, has_field


def add_take_ownership(repo: Path) -> str:
    rel = f"clusters/omantel.omani.works/{fleet.FLUX_RELEASE_FILE}"
    edit(
        repo,
        rel,
        "  install:\n    crds: CreateReplace\n",
        "  install:\n    crds: CreateReplace\n    disableTakeOwnership: false\n",
    )
    return rel


def test_to_fails_the_gate_on_a_field_the_target_schema_lacks(
    tmp_path: Path, strict_server: tuple[HelmServer, bool]
) -> None:
    server, has_field = strict_server
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    rel = add_take_ownership(repo)
    before = snapshot(repo)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url)
    if has_field:
        assert outcome.code == 0, outcome.stderr
        assert "Flux objects valid for flux2 2.14.1" in outcome.stdout
        return
    assert outcome.code == 1
    assert (
        f"{rel}:37: HelmRelease flux-system/bp-flux: spec.install.disableTakeOwnership"
        in outcome.stderr
    )
    assert snapshot(repo) == before


def test_check_reports_the_field_with_file_and_line(
    tmp_path: Path, strict_server: tuple[HelmServer, bool]
) -> None:
    server, has_field = strict_server
    repo = make_fleet(tmp_path / "repo", INCIDENT, flux_chart="2.14.1")
    rel = add_take_ownership(repo)
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url)
    assert outcome.code == (0 if has_field else 1), outcome.stdout + outcome.stderr
    if not has_field:
        assert (
            f"{rel}:37: HelmRelease flux-system/bp-flux: spec.install.disableTakeOwnership"
            in outcome.stdout
        )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (
            "!custom false",
            ":17: cannot read as data: could not determine a constructor for the tag",
        ),
        ("!!int abc", ":17: cannot read as data: invalid literal for int() with base 10: 'abc'"),
        ("1" * 5000, ":17: cannot read as data: Exceeds the limit (4300 digits)"),
        ("!!bool maybe", ":17: cannot read as data: 'maybe' is not a boolean"),
    ],
    ids=["custom-tag", "bad-int", "huge-int", "bad-bool"],
)
def test_a_flux_object_whose_data_cannot_be_read_is_named_at_its_line(
    tmp_path: Path, value: str, says: str
) -> None:
    # The objects compose (any tag, any scalar), but their data did not: ruamel's error went
    # through as "unexpected error", exit 70. check names it as a violation (the API server
    # refuses the object) and validates the rest; to's gate fails on it (exit 1), every file
    # restored.
    repo = make_fleet(tmp_path / "repo")
    release = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
    edit(repo, release, "  interval: ", f"  suspend: {value}\n  interval: ")
    before = snapshot(repo)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        [x for x in check.stdout.splitlines() if x.startswith(release)]
        == [x for x in check.stdout.splitlines() if x.startswith(f"{release}{says}")]
        != []
    )
    bump = run_cli("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 1, bump.stdout + bump.stderr
    (line,) = [x for x in bump.stderr.splitlines() if x.startswith("error: ")]
    restored = "error: gate failed after writing, every file fluxbump wrote was restored: "
    assert line.startswith(f"{restored}{release}{says}"), line
    assert snapshot(repo) == before
