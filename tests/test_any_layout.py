"""Repositories that are not laid out like the Catalyst fleet (issue 16, items 1 and 2):
discovery by content anywhere, the Flux wrapper found by its flux2 dependency, no cloud-init,
a check that never passes having proven nothing, same-name and same-named charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import snapshot
from tests.support.layouts import COMMUNITY, chart, helmrelease, write_repo

FLUX_CHART = "platform/flux/Chart.yaml"
APPS_RELEASE = "kubernetes/apps/flux-system/flux/helmrelease.yaml"


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def flux_layout(root: Path, *, release_pin: str = "0.3.0", **extra: str) -> Path:
    """A wrapper named platform-flux, its HelmRelease under kubernetes/apps/, no cloud-init."""
    return write_repo(
        root,
        {
            FLUX_CHART: chart("platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)),
            APPS_RELEASE: helmrelease("flux", "platform-flux", release_pin),
            **extra,
        },
    )


def test_the_wrapper_is_the_chart_that_depends_on_flux2_and_cloud_init_is_optional(
    tmp_path: Path,
) -> None:
    repo = flux_layout(tmp_path / "repo")
    status = run(repo, "status", "--json")
    assert status.code == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["components"] == [
        {"name": "flux", "wrapper": "platform-flux", "upstream": "flux2"}
    ]
    assert [(s["role"], s["file"], s["value"]) for s in document["sites"]] == [
        ("upstream dependency", FLUX_CHART, "2.14.1"),
        ("chart version", FLUX_CHART, "0.3.0"),
        ("HelmRelease", APPS_RELEASE, "0.3.0"),
    ]
    assert status.stderr.count("no cloud-init template") == 1
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "3 pin-sites agree" in check.stdout


def test_a_stale_helmrelease_outside_clusters_fails_check(tmp_path: Path) -> None:
    repo = flux_layout(tmp_path / "repo", release_pin="0.2.0")
    check = run(repo, "check")
    assert check.code == 1
    assert f"{APPS_RELEASE}:11:" in check.stdout


def test_exclude_keeps_a_tree_out_of_discovery(tmp_path: Path) -> None:
    stale = {"archive/old/helmrelease.yaml": helmrelease("flux", "platform-flux", "0.1.0")}
    repo = flux_layout(tmp_path / "repo", **stale)
    assert run(repo, "check").code == 1
    (repo / ".fluxbump.yaml").write_text('exclude: ["archive/**"]\n')
    assert run(repo, "check").code == 0


def test_chart_templates_and_go_templated_files_are_not_manifests(tmp_path: Path) -> None:
    templated = (
        "{{- range .Values.releases }}\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: {{ .name }}\nspec:\n  chart:\n    spec:\n"
        "      chart: platform-flux\n      version: 0.0.1\n{{- end }}\n"
    )
    repo = flux_layout(
        tmp_path / "repo",
        **{
            "platform/flux/templates/helmrelease.yaml": helmrelease("x", "platform-flux", "9.9.9"),
            "bootstrap/helmfile/apps.yaml": templated,
        },
    )
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "3 pin-sites agree" in check.stdout


def test_several_charts_depending_on_flux2_exit_2_naming_each(tmp_path: Path) -> None:
    repo = flux_layout(
        tmp_path / "repo",
        **{"lab/flux/Chart.yaml": chart("lab-flux", "1.0.0", ("flux2", "2.14.1", COMMUNITY))},
    )
    for command in ("status", "check"):
        outcome = run(repo, command)
        assert outcome.code == 2
        assert outcome.stderr == (
            f"error: 2 charts depend on 'flux2': lab/flux/Chart.yaml ('lab-flux'), {FLUX_CHART} "
            "('platform-flux'); set 'wrapper' to the one that installs Flux in .fluxbump.yaml\n"
        )
    (repo / ".fluxbump.yaml").write_text("wrapper: lab-flux\n")
    assert run(repo, "check").code == 0


def test_check_that_finds_nothing_to_prove_exits_2(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo", {"apps/podinfo.yaml": helmrelease("podinfo", "podinfo", "6.0.0")}
    )
    check = run(repo, "check")
    assert check.code == 2
    assert "error: check: nothing to check: no component" in check.stderr
    assert run(repo, "status").code == 0


def test_a_local_chart_wrapping_an_upstream_of_its_own_name_is_its_wrapper(tmp_path: Path) -> None:
    cilium = "https://helm.cilium.io/"
    repo = write_repo(
        tmp_path / "repo",
        {"apps/core/cilium/Chart.yaml": chart("cilium", "0.0.1", ("cilium", "1.16.0", cilium))},
    )
    status = json.loads(run(repo, "status", "--json").stdout)
    assert status["components"] == [
        {"name": "cilium", "wrapper": "apps/core/cilium", "upstream": "cilium"}
    ]
    assert [(s["role"], s["value"]) for s in status["sites"]] == [
        ("upstream dependency", "1.16.0"),
        ("chart version", "0.0.1"),
    ]
    assert run(repo, "check").code == 0
    bump = run(repo, "to", "1.16.1", "--component", "cilium", "--no-git")
    assert bump.code == 0, bump.stderr
    assert (repo / "apps/core/cilium/Chart.yaml").read_text() == chart(
        "cilium", "0.0.2", ("cilium", "1.16.1", cilium)
    )


def test_two_charts_of_one_name_are_two_components_told_apart_by_path(tmp_path: Path) -> None:
    repository = "https://charts.example.org"
    repo = write_repo(
        tmp_path / "repo",
        {
            "apps/foo/Chart.yaml": chart("foo", "1.0.0", ("bar", "2.0.0", repository)),
            "disabled/foo/Chart.yaml": chart("foo", "1.0.0", ("bar", "1.0.0", repository)),
        },
    )
    status = json.loads(run(repo, "status", "--json").stdout)
    assert [c["name"] for c in status["components"]] == ["apps/foo/bar", "disabled/foo/bar"]
    assert run(repo, "check").code == 0
    before = snapshot(repo)
    bump = run(repo, "to", "2.0.1", "--component", "disabled/foo/bar", "--no-git")
    assert bump.code == 0, bump.stderr
    after = snapshot(repo)
    assert {k for k in after if after[k] != before.get(k)} == {"disabled/foo/Chart.yaml"}
    narrowed = run(repo, "check", "--component", "apps/foo/bar")
    assert narrowed.code == 0 and "2 pin-sites agree" in narrowed.stdout


def test_init_writes_the_wrapper_a_helmrelease_deploys_when_several_depend_on_flux2(
    tmp_path: Path,
) -> None:
    lab = {"lab/flux/Chart.yaml": chart("lab-flux", "1.0.0", ("flux2", "2.14.1", COMMUNITY))}
    repo = flux_layout(tmp_path / "repo", **lab)
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text()
    assert "\nwrapper: platform-flux\n" in text
    assert run(repo, "check").code == 0


def test_init_with_several_wrappers_and_no_single_deployed_one_names_the_line_to_write(
    tmp_path: Path,
) -> None:
    lab = {"lab/flux/Chart.yaml": chart("lab-flux", "1.0.0", ("flux2", "2.14.1", COMMUNITY))}
    both = {
        "lab/release.yaml": helmrelease("lab", "lab-flux", "1.0.0"),
        APPS_RELEASE: helmrelease("flux", "platform-flux", "0.3.0"),
    }
    for name, extra, why in (
        ("none", {}, "no HelmRelease deploys one"),
        ("both", both, "HelmReleases deploy lab-flux, platform-flux"),
    ):
        repo = write_repo(
            tmp_path / name,
            {FLUX_CHART: chart("platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)),
             **lab, **extra},
        )  # fmt: skip
        outcome = run_cli("init", "--repo", str(repo))
        assert outcome.code == 2
        assert outcome.stderr == (
            f"error: 2 charts depend on 'flux2': lab/flux/Chart.yaml ('lab-flux'), {FLUX_CHART} "
            f"('platform-flux'); {why}: write 'wrapper: NAME' in .fluxbump.yaml naming the one "
            "that installs Flux (e.g. 'wrapper: lab-flux'), then run init again\n"
        )
        assert not (repo / ".fluxbump.yaml").exists()


def test_init_writes_a_renamed_wrapper_it_found(tmp_path: Path) -> None:
    repo = flux_layout(tmp_path / "repo")
    assert run_cli("init", "--repo", str(repo)).code == 0
    assert "\nwrapper: platform-flux\n" in (repo / ".fluxbump.yaml").read_text()


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_freemarker_templated_files_are_not_manifests(tmp_path: Path, ending: str) -> None:
    """cloudogu/gitops-playground's ``*.ftl.yaml`` (FreeMarker ``<#if>`` lines around YAML)
    made each chart they name unproven, so ``check`` failed on a template as Go's are not.
    (With lone CRs no line began '<#if': the template was unproven again.)"""
    templated = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: flux\nspec:\n  chart:\n    spec:\n      chart: platform-flux\n"
        "<#if config.registry.twoRegistries>\n      version: 0.0.1\n</#if>\n"
    ).replace("\n", ending)
    repo = flux_layout(tmp_path / "repo", **{"bootstrap/flux.ftl.yaml": templated})
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "unproven" not in check.stdout + check.stderr
