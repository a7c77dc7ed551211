"""API versions a release still serves but deprecates (issue 20): moved by a bump, a warning in
``status``/``check``; the data is the CRDs' own ``deprecated``/``deprecationWarning`` marks."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from fluxbump.crds.definitions import crd_catalog_offline, deprecated_versions
from tests.support.cli_runner import run_cli
from tests.support.data import manifest
from tests.support.fixtures import CONSISTENT, commit_file, make_fleet, snapshot
from tests.support.helm_server import HelmServer

FLUX_2_6 = {"flux_release": "2.6.4", "flux_chart": "2.16.4"}
OBJECTS = "clusters/omantel.omani.works/apps/flux-objects.yaml"
# v1beta2 Kustomization: served by Flux 2.6 and 2.7, deprecated by both, dropped by 2.8.
KUSTOMIZATION = manifest("flux-objects-renamed-fields.yaml").split("---\n")[2]


def fleet_with(root: Path, text: str) -> Path:
    repo = make_fleet(root, CONSISTENT, git=True, **FLUX_2_6)
    return commit_file(repo, OBJECTS, text, "Flux objects")


def test_the_catalog_marks_only_served_non_storage_versions_of_known_charts() -> None:
    data = json.loads(
        resources.files("fluxbump").joinpath("data", "flux2-crd-deprecations.json").read_text()
    )
    assert data["source"].startswith("https://github.com/fluxcd-community/helm-charts")
    assert len(data["charts"]) >= 40
    for chart in data["charts"]:
        facts = crd_catalog_offline(chart)
        assert facts is not None, chart
        for crd, version in deprecated_versions(chart):
            assert version in facts[crd].served and version != facts[crd].storage, (chart, crd)
    assert deprecated_versions("2.17.2")[
        ("kustomizations.kustomize.toolkit.fluxcd.io", "v1beta2")
    ] == ("v1beta2 Kustomization is deprecated, upgrade to v1")
    assert deprecated_versions("9.9.9") == {}


def test_check_warns_about_a_deprecated_api_version_without_failing(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with(tmp_path / "repo", KUSTOMIZATION)
    for command in ("check", "status"):
        outcome = run_cli(command, "--repo", str(repo), "--helm-repo", helm_server.base_url)
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert (
            f"warning: {OBJECTS}:1: Kustomization flux-system/apps: apiVersion "
            "kustomize.toolkit.fluxcd.io/v1beta2 is deprecated by Flux 2.6.4 (v1beta2 "
            "Kustomization is deprecated, upgrade to v1); 'fluxbump to' moves it to "
            "kustomize.toolkit.fluxcd.io/v1" in outcome.stderr
        ), outcome.stderr


def test_many_objects_of_one_deprecated_api_version_are_named_three_times_then_counted(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    many = "---\n".join(KUSTOMIZATION.replace("name: apps", f"name: apps{i}", 1) for i in range(5))
    repo = fleet_with(tmp_path / "repo", many)
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    named = [line for line in outcome.stderr.splitlines() if "is deprecated by" in line]
    assert [line.split(": ")[2] for line in named] == [
        f"Kustomization flux-system/apps{i}" for i in range(3)
    ]
    assert (
        "warning: 2 more object(s) in apiVersion kustomize.toolkit.fluxcd.io/v1beta2 deprecated "
        "by Flux 2.6.4; 'fluxbump to --dry-run' lists each move" in outcome.stderr
    ), outcome.stderr


def test_to_moves_a_deprecated_api_version_with_its_renamed_fields(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with(tmp_path / "repo", KUSTOMIZATION)
    outcome = run_cli("to", "2.7.5", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    migrated = manifest("flux-objects-renamed-fields-migrated.yaml").split("---\n")[2]
    assert (repo / OBJECTS).read_text() == migrated
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0 and "is deprecated by" not in check.stderr, check.stderr


def test_a_deprecated_version_that_cannot_move_exactly_is_left_with_a_warning(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    text = KUSTOMIZATION.replace(
        "  validation: client\n", "  patches:\n    - patch: '{kind: Deployment}'\n"
    )
    repo = fleet_with(tmp_path / "repo", text)
    before = snapshot(repo)[OBJECTS]
    outcome = run_cli("to", "2.7.5", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert snapshot(repo)[OBJECTS] == before  # still served: the bump goes on without it
    assert (
        f"warning: {OBJECTS}:1: kustomize.toolkit.fluxcd.io/v1beta2 left as it is (v1beta2 "
        "Kustomization is deprecated, upgrade to v1): "
        f"{OBJECTS}:15: Kustomization flux-system/apps: patchesStrategicMerge must be merged"
        in outcome.stderr
    ), outcome.stderr


def test_a_left_deprecated_object_is_named_once_when_the_reason_names_it_too(
    tmp_path: Path, helm_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal that starts at the object's own file:line (the move would change more than
    Flux's renames) is not prefixed with that place a second time."""
    from fluxbump.crds import migrate
    from fluxbump.errors import UsageError

    def refuse(obj: migrate.FluxObject, crd: object, new: str) -> None:
        raise UsageError(f"{obj.site.where}: moving it would change more; nothing written")

    monkeypatch.setattr(migrate, "_renamed", refuse)
    repo = fleet_with(tmp_path / "repo", KUSTOMIZATION)
    outcome = run_cli("to", "2.7.5", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert (
        f"warning: {OBJECTS}:1: kustomize.toolkit.fluxcd.io/v1beta2 left as it is (v1beta2 "
        "Kustomization is deprecated, upgrade to v1): moving it would change more\n"
        in outcome.stderr
    ), outcome.stderr
