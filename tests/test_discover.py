"""Discovery: pin-sites found by content, with or without `.fluxbump.yaml`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.config import Config, load_config
from fluxbump.errors import UsageError
from fluxbump.pins import Role
from fluxbump.scan.discover import discover
from tests.support.cli_runner import run_cli
from tests.support.fixtures import make_fleet


def release_files(repo: Path) -> list[str]:
    return sorted({s.file for s in discover(repo, Config()).releases})


def test_new_cluster_directory_is_found_without_configuration(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=("a.example",))
    before = release_files(repo)
    make_fleet(tmp_path, clusters=("a.example", "zz-new.example"))
    after = release_files(repo)
    assert set(after) - set(before) == {
        f"clusters/zz-new.example/{fleet.FLUX_RELEASE_FILE}",
        f"clusters/zz-new.example/{fleet.UMBRELLA_RELEASE_FILE}",
    }


def test_depends_on_alone_is_not_a_pin_site(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / "clusters/_template/apps.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app}\n"
        "spec:\n  dependsOn: [{name: bp-flux}]\n  chart: {spec: {chart: app, version: 1.0.0}}\n"
    )
    assert "clusters/_template/apps.yaml" not in release_files(repo)


def test_chart_ref_oci_repository_tag_is_a_pin_site(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / "clusters/_template/oci.yaml").write_text(
        "---\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\n"
        "metadata: {name: bp-flux, namespace: flux-system}\n"
        "spec:\n  url: oci://ghcr.io/openova/charts/bp-flux\n  ref:\n    tag: 1.1.1\n"
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: bp-flux-oci, namespace: flux-system}\n"
        "spec:\n  chartRef: {kind: OCIRepository, name: bp-flux}\n"
    )
    found = discover(repo, Config())
    tags = [s for s in found.releases if s.role is Role.OCI_TAG]
    assert [(t.file, t.line, t.value) for t in tags] == [
        ("clusters/_template/oci.yaml", 8, "1.1.1")
    ]


def test_vendored_subcharts_are_not_charts(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    vendored = repo / "platform/flux/chart/charts/flux2/Chart.yaml"
    vendored.parent.mkdir(parents=True)
    vendored.write_text("apiVersion: v2\nname: flux2\nversion: 2.14.1\nappVersion: 2.4.0\n")
    assert "flux2" not in discover(repo, Config()).charts


def test_config_renames_the_wrapper(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    chart = repo / fleet.WRAPPER_CHART
    chart.write_text(chart.read_text().replace("name: bp-flux\n", "name: gitops-engine\n"))
    (repo / ".fluxbump.yaml").write_text("wrapper: gitops-engine\n")
    found = discover(repo, load_config(repo))
    assert found.wrapper.file == fleet.WRAPPER_CHART


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wrapperr: x\n", "unknown key 'wrapperr'"),
        ("charts: 3\n", "'charts' must be a list"),
        ("app_version_policy: sometimes\n", "app_version_policy must be one of"),
        ("gate: {commands: ls}\n", "'gate.commands' must be a list"),
        ("gate: {timeout: -1}\n", "'gate.timeout' must be a positive"),
        ("- a\n", "must be a mapping"),
        ("a: [\n", "cannot read configuration"),
    ],
)
def test_bad_configuration_is_exit_2_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / ".fluxbump.yaml").write_text(text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        load_config(repo)
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 2
    assert message in outcome.stderr


def test_cloud_init_templates_outside_infra_are_found(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / "terraform/aws").mkdir(parents=True)
    (repo / fleet.CLOUDINIT).rename(repo / "terraform/aws/bootstrap.tftpl")
    found = discover(repo, Config())
    assert [(s.file, s.line) for s in found.installs] == [("terraform/aws/bootstrap.tftpl", 16)]


def test_no_template_at_all_is_no_cloud_init_invariant(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / fleet.CLOUDINIT).unlink()
    found = discover(repo, Config())
    assert found.problems == [] and found.installs == []


def test_a_template_named_in_the_configuration_is_required(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, clusters=())
    (repo / fleet.CLOUDINIT).unlink()
    [problem] = discover(repo, Config(cloudinit=("infra/**/*.tftpl",))).problems
    assert problem.message.startswith("no cloud-init template (infra/**/*.tftpl) holds")


def test_component_narrows_the_scan_to_the_charts_it_tracks(tmp_path: Path) -> None:
    """``--component NAME`` parses only the releases of NAME's charts, and finds in them
    exactly what a survey of every component finds for NAME."""
    from fluxbump.scan.discover import survey

    fleet.write_fleet(tmp_path, fleet.FleetSpec(clusters=("a.example", "b.example"), wrappers=3))
    config = load_config(tmp_path)
    name, other = fleet.upstreams(3)[1], fleet.upstreams(3)[2]
    full = survey(tmp_path, config)
    narrowed = survey(tmp_path, config, [name])
    wanted, reference = (
        narrowed.discovery(narrowed.component(name)),
        full.discovery(full.component(name)),
    )
    assert wanted.sites() == reference.sites()
    assert wanted.problems == reference.problems
    assert len(wanted.releases) == 6  # its wrapper and the umbrella: two clusters, _template
    assert f"bp-{other}" in {s.subject for s in full.releases}
    assert {s.subject for s in narrowed.releases} == set(wanted.tracked)
    other_files = {s.file for s in full.releases if s.subject == f"bp-{other}"}
    assert other_files and not other_files & set(narrowed.sources)  # never parsed
    with pytest.raises(AssertionError):
        narrowed.discovery(narrowed.component(other))


def test_component_narrowing_still_names_an_unknown_component(tmp_path: Path) -> None:
    fleet.write_fleet(tmp_path, fleet.FleetSpec(clusters=("a.example",), wrappers=1))
    out = run_cli("check", "--repo", str(tmp_path), "--offline", "--component", "nope")
    assert out.code == 2
    assert "--component nope: no such component" in out.stderr


@pytest.mark.parametrize("command", ["status", "check"])
def test_an_unknown_component_lists_what_was_found(tmp_path: Path, command: str) -> None:
    """Not Flux in a repository without a pin of it: the list is the scan's, as for
    ``--component flux`` there."""
    for name in ("nope", "flux"):
        out = run_cli(command, "--repo", str(tmp_path), "--offline", "--component", name)
        assert out.code == 2
        assert f"--component {name}: no such component (found: none)" in out.stderr
