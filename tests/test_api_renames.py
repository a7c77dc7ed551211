"""Fields Flux renamed between API versions are rewritten with the apiVersion, byte-minimal
(issue 20): through the CLI on real git repos and the real CRD catalog, Flux 2.6 -> 2.8."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import Outcome, run_cli
from tests.support.data import manifest
from tests.support.fixtures import CONSISTENT, commit_file, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

FLUX_2_6 = {"flux_release": "2.6.4", "flux_chart": "2.16.4"}
OBJECTS = "clusters/omantel.omani.works/apps/flux-objects.yaml"
RENAMED = manifest("flux-objects-renamed-fields.yaml")
MIGRATED = manifest("flux-objects-renamed-fields-migrated.yaml")


def fleet_with(root: Path, text: str) -> Path:
    repo = make_fleet(root, CONSISTENT, git=True, **FLUX_2_6)
    return commit_file(repo, OBJECTS, text, "Flux objects")


def bump(server: HelmServer, repo: Path, *args: str) -> Outcome:
    return run_cli("to", "2.8.5", *args, "--repo", str(repo), "--helm-repo", server.base_url)


def test_to_2_8_rewrites_the_renamed_fields_with_the_api_versions(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with(tmp_path / "repo", RENAMED)
    outcome = bump(helm_server, repo)
    assert outcome.code == 0, outcome.stderr
    # The whole file, exactly: only the apiVersion lines and the renamed fields' lines moved
    # (comments inside and around the patches, flow mappings and quoting survive).
    assert (repo / OBJECTS).read_bytes().decode() == MIGRATED
    assert git(repo, "log", "-1", "--format=%s").startswith("Bump Flux to v2.8.5")
    plan = outcome.stdout
    assert f"{OBJECTS}:11: Flux API field (GitRepository flux-system/apps) gitImplementation" in (
        plan
    )
    assert (
        f"{OBJECTS}:28: Flux API field (Kustomization flux-system/apps) patchesStrategicMerge "
        "-> patches" in plan
    )
    assert f"{OBJECTS}:70: Flux API field (HelmRelease apps/podinfo) valuesFile -> valuesFiles" in (
        plan
    )
    # The gate passes on the result: check reads it back against Flux 2.8's schemas.
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout + check.stderr


def test_the_rewrite_keeps_crlf_line_endings(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = fleet_with(tmp_path / "repo", RENAMED.replace("\n", "\r\n"))
    outcome = bump(helm_server, repo)
    assert outcome.code == 0, outcome.stderr
    assert (repo / OBJECTS).read_bytes().decode() == MIGRATED.replace("\n", "\r\n")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        # Both lists would have to be merged into one, and their order changes the result.
        (
            "  validation: client\n",
            "  patches:\n    - patch: '{kind: Deployment, metadata: {name: a}}'\n",
            "29: Kustomization flux-system/apps: patchesStrategicMerge must be merged with "
            "another patch list into patches",
        ),
        (
            "    patch:\n      - {op: remove, path: /spec/ports/0}\n",
            "    patch: [{op: remove, path: /spec/ports/0}]\n",
            "56: Kustomization flux-system/infra: a patchesJson6902 patch is not a block list",
        ),
    ],
)
def test_a_rename_that_cannot_be_exact_is_refused_naming_the_field(
    tmp_path: Path, helm_server: HelmServer, old: str, new: str, where: str
) -> None:
    assert old in RENAMED
    repo = fleet_with(tmp_path / "repo", RENAMED.replace(old, new))
    before = snapshot(repo)
    outcome = bump(helm_server, repo)
    assert outcome.code == 2, outcome.stderr
    error = outcome.stderr.strip()
    assert error.startswith(f"error: {OBJECTS}:{where}"), error
    assert "rewrite it by hand as Flux's migration notes say" in error
    assert error.endswith("nothing written") and "\n" not in error
    assert snapshot(repo) == before


def test_a_removed_field_without_a_documented_replacement_is_still_refused(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # accessFrom was dropped from the v1 source APIs with no replacement: a person decides.
    text = RENAMED.replace(
        "  gitImplementation: go-git   # a no-op since Flux 0.36\n",
        "  accessFrom:\n    namespaceSelectors: [{matchLabels: {team: a}}]\n",
    )
    repo = fleet_with(tmp_path / "repo", text)
    outcome = bump(helm_server, repo)
    assert outcome.code == 2, outcome.stderr
    assert f"error: {OBJECTS}:11: moving GitRepository flux-system/apps from " in outcome.stderr
    assert "spec.accessFrom: unknown field" in outcome.stderr
