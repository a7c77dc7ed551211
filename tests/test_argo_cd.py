"""Argo CD deploying the community ``flux2`` chart beyond one ``Application`` (those are in
test_direct_flux.py): an ``ApplicationSet`` whose template's Helm source is the chart at a
``targetRevision`` (Argo CD stamps one Application per generated parameter set, each at that
version), and a Helm source of the chart with no ``targetRevision`` at all, which names no
chart version this repository could prove (Argo CD reads the chart version there)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.fixtures import snapshot
from tests.support.layouts import COMMUNITY, write_repo
from tests.test_direct_flux import (
    ARGO_ROLE,
    TOOLS,
    application,
    assert_a_problem_that_blocks_a_bump,
    bumped,
    run,
)

APPSET = "argocd/appsets/flux.yaml"
APP = "argocd/apps/flux.yaml"


def application_set(version: str) -> str:
    """Flux on every cluster Argo CD knows (a cluster generator): the chart from its
    repository, its values from each cluster's own file (a second source)."""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        "metadata:\n  name: flux\n  namespace: argocd\n"
        "spec:\n  goTemplate: true\n  generators:\n    - clusters: {}\n"
        "  template:\n    metadata:\n      name: 'flux-{{ .name }}'\n"
        "    spec:\n      project: default\n"
        "      destination:\n        server: '{{ .server }}'\n        namespace: flux-system\n"
        "      sources:\n"
        f"        - repoURL: {COMMUNITY}\n          chart: flux2\n"
        f"          targetRevision: {version}\n"
        "          helm:\n            valueFiles:\n"
        "              - $values/clusters/{{ .name }}/flux.yaml\n"
        "        - repoURL: https://github.com/example/fleet.git\n"
        "          targetRevision: main\n          ref: values\n"
    )


def untargeted() -> str:
    """test_direct_flux's Application with no ``targetRevision`` line."""
    return application("2.12.4").replace("    targetRevision: 2.12.4  # the community chart\n", "")


def appset_layout(root: Path, version: str = "2.12.4") -> Path:
    return write_repo(root, {APPSET: application_set(version), TOOLS: "flux2 2.2.3\n"})


def test_an_argo_applicationset_of_flux2_is_the_flux_chart_pin(tmp_path: Path) -> None:
    repo = appset_layout(tmp_path / "repo")
    document = json.loads(run(repo, "status", "--json").stdout)
    assert document["components"] == [{"name": "flux", "wrapper": None, "upstream": "flux2"}]
    assert [
        (s["role"], s["file"], s["line"], s["value"], s["owner"]) for s in document["sites"]
    ] == [
        (ARGO_ROLE, APPSET, 21, "2.12.4", "ApplicationSet argocd/flux"),
        ("Flux CLI pin", TOOLS, 1, "2.2.3", ".tool-versions"),
    ]
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "2 pin-sites agree" in check.stdout


def test_an_argo_applicationset_of_another_flux2_chart_is_a_violation(tmp_path: Path) -> None:
    repo = appset_layout(tmp_path / "repo", "2.13.0")  # Flux 2.3.0, not the CLI's 2.2.3
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    # the ApplicationSet's chart is what installs Flux: the CLI pin beside it is what disagrees
    assert f"{TOOLS}:1: {TOOLS} pins Flux 2.2.3, the repository installs Flux 2.3.0" in check.stdout


def test_to_moves_the_argo_applicationset_with_the_application_and_the_cli(
    tmp_path: Path,
) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {APPSET: application_set('"2.12.4"'), APP: application("2.12.4"), TOOLS: "flux2 2.2.3\n"},
    )
    assert bumped(repo) == {
        APPSET: application_set('"2.14.1"'),
        APP: application("2.14.1"),
        TOOLS: "flux2 2.4.0\n",
    }
    assert run(repo, "check").code == 0


def test_sync_follows_the_argo_applicationset_renovate_moved(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {APPSET: application_set("2.12.4"), APP: application("2.12.4"), TOOLS: "flux2 2.2.3\n"},
    )
    (repo / APPSET).write_text(application_set("2.14.1"))  # Renovate's argocd manager reads both
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / APP).read_text() == application("2.14.1")
    assert (repo / TOOLS).read_text() == "flux2 2.4.0\n"


def test_an_applicationset_of_another_chart_or_a_generated_application_is_no_pin(
    tmp_path: Path,
) -> None:
    other = application_set("1.0.0").replace("chart: flux2", "chart: podinfo")
    # a chart only in a generator's parameters, not in the template: not read
    listed = application_set("'{{ .version }}'").replace("chart: flux2", "chart: '{{ .chart }}'")
    repo = write_repo(
        tmp_path / "repo",
        {APPSET: other, "argocd/appsets/listed.yaml": listed, TOOLS: "flux2 2.2.3\n"},
    )
    document = json.loads(run(repo, "status", "--json").stdout)
    assert [s["role"] for s in document["sites"]] == ["Flux CLI pin"]


def test_an_argo_applicationset_of_flux2_at_a_generator_parameter_is_unproven(
    tmp_path: Path,
) -> None:
    # ``targetRevision: '{{ .version }}'``: each generated Application gets what a generator
    # gives it (a list element, a cluster label), which this cannot read: shown, never edited.
    repo = appset_layout(tmp_path / "repo", "'{{ .version }}'")
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert (
        f"{APPSET}:21 ({{{{ .version }}}} is what the ApplicationSet's generators give each "
        "Application)"
    ) in check.stdout
    assert "not an exact pin" not in check.stdout
    assert bumped(repo) == {TOOLS: "flux2 2.4.0\n"}


# --- a Helm source of flux2 with no targetRevision -------------------------------------------


def test_an_argo_application_of_flux2_with_no_target_revision_is_a_problem(
    tmp_path: Path,
) -> None:
    repo = write_repo(tmp_path / "repo", {APP: untargeted(), TOOLS: "flux2 2.2.3\n"})
    said = (
        f"{APP}:13: Application argocd/flux deploys flux2 with no targetRevision (of a Helm "
        "chart, the version Argo CD deploys): no chart version this repository pins; add "
        "'targetRevision: X.Y.Z'"
    )
    assert_a_problem_that_blocks_a_bump(repo, said)
    # alone, it is still Flux deployed with nothing pinned: a problem, not 'nothing to check'
    (repo / TOOLS).unlink()
    alone = run(repo, "check")
    assert alone.code == 1, alone.stdout + alone.stderr
    assert f"{APP}:13: Application argocd/flux" in alone.stdout


def test_an_argo_applicationset_of_flux2_with_an_empty_target_revision_is_a_problem(
    tmp_path: Path,
) -> None:
    repo = appset_layout(tmp_path / "repo", '""')
    said = f"{APPSET}:21: ApplicationSet argocd/flux deploys flux2 with no targetRevision"
    assert_a_problem_that_blocks_a_bump(repo, said)


def test_a_pinned_argo_application_beside_an_unpinned_one_still_names_the_unpinned(
    tmp_path: Path,
) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {APPSET: application_set("2.12.4"), APP: untargeted(), TOOLS: "flux2 2.2.3\n"},
    )
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert f"{APP}:13: Application argocd/flux deploys flux2 with no targetRevision" in bump.stderr
    assert snapshot(repo) == before
