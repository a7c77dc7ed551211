"""A wrapper layout (``bp-flux`` depending on the community ``flux2`` chart) whose Flux is
installed at boot by that chart itself: a ``helm install … flux2 --version`` of a cloud-init
template or a script, a k3s HelmChart (top-level or written by cloud-init's ``write_files``),
a Terraform ``helm_release``. The wrapper's HelmRelease then takes the release over: a boot
chart of another version moves the CRDs on the running controllers, the incident's failure.
Those pins were not read in this layout: ``check`` said consistent and ``to`` left them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fluxbump.config import Config
from fluxbump.fleet import CLOUDINIT, FleetSpec
from fluxbump.gate.invariants import evaluate
from fluxbump.pins import PinSite, Role
from fluxbump.scan import releases
from fluxbump.scan.discover import discover, survey
from fluxbump.scan.sites import terraform
from fluxbump.scan.sites.helmrelease import ClusterScan
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import (
    CONSISTENT,
    INCIDENT,
    changed_lines,
    edit,
    git,
    make_fleet,
    snapshot,
)
from tests.support.layouts import chart, helmrelease, write_repo
from tests.support.wrappers import wrappers_fleet
from tests.test_ansible_helm import (
    DEFAULTS,
    DEFAULTS_TEXT,
    LITERAL,
    LITERAL_TEXT,
    TASKS,
    TASKS_TEXT,
)
from tests.test_direct_flux import K3S, SCRIPT, bootstrap_script, helm_release_tf, k3s_chart
from tests.test_write_files import TEMPLATE, template

CHART = "platform/flux/chart/Chart.yaml"
URL_LINE = (
    "  - kubectl apply -f https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
)
WAIT = "  - kubectl -n flux-system wait"
HELM = "  - helm install flux2 fluxcd-community/flux2 --version {} -n flux-system\n"
TF = "infra/terraform/flux.tf"


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def fleet(
    root: Path, spec: FleetSpec, files: dict[str, str] | None = None, *, helm: str | None = None
) -> Path:
    """The demo fleet, committed, with a cloud-init ``helm install`` of flux2 after the URL
    (``helm``: its version; None: no such line) and ``files`` added in a second commit."""
    repo = make_fleet(root, spec, git=True)
    if helm is not None:
        edit(repo, CLOUDINIT, WAIT, HELM.format(helm) + WAIT)
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Flux installed at boot by its chart")
    return repo


def boot_installs(version: str) -> dict[str, str]:
    """Every other kind of boot install of flux2 at ``version``: a k3s HelmChart manifest, a
    Terraform helm_release, a script's helm upgrade, a template's write_files HelmChart, an
    Ansible helm task."""
    return {
        LITERAL: LITERAL_TEXT.replace("2.14.1", version),
        K3S: k3s_chart(version),
        TF: helm_release_tf(f'"{version}"'),
        SCRIPT: bootstrap_script(version),
        TEMPLATE: template(version),
    }


# --- unit: discovery and the invariants, on real files ----------------------------------------


def test_discovery_takes_each_boot_install_of_the_upstream_as_a_pin(tmp_path: Path) -> None:
    files = {**boot_installs("2.14.1"), SCRIPT: bootstrap_script("2.12.0")}
    repo = fleet(tmp_path / "repo", CONSISTENT, files, helm="2.14.1")
    found = discover(repo, Config())
    assert [(s.role, s.file, s.line, s.value) for s in found.adopted] == [
        (Role.HELMCHART, K3S, 9, "2.14.1"),
        (Role.HELMCHART, TEMPLATE, 14, "2.14.1"),
        (Role.TERRAFORM_HELM, TF, 7, "2.14.1"),
        (Role.HELM_COMMAND, LITERAL, 5, "2.14.1"),
        (Role.HELM_COMMAND, CLOUDINIT, 17, "2.14.1"),
        (Role.HELM_COMMAND, SCRIPT, 5, "2.12.0"),
    ]
    assert not found.problems
    report = evaluate(found, None)
    assert [(v.file, v.line, v.found, v.expected) for v in report.violations] == [
        (SCRIPT, 5, "2.12.0", "2.14.1")
    ]


# --- check and status ----------------------------------------------------------------------


def test_check_fails_on_a_cloud_init_helm_install_of_another_chart_version(tmp_path: Path) -> None:
    # The brief's repro: check said "consistent — 18 pin-sites agree".
    repo = fleet(tmp_path / "repo", CONSISTENT, helm="2.12.0")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.splitlines() == [
        f"{CLOUDINIT}:17: cloud-init installs flux2 2.12.0 at boot, but bp-flux pins flux2 "
        f"2.14.1 ({CHART}:10): its HelmRelease would take the release over and move the CRDs; "
        "run 'fluxbump sync --from chart'",
        "check: 1 violation(s) in 19 pin-sites",
    ]


def test_status_lists_the_boot_install_with_its_role(tmp_path: Path) -> None:
    repo = fleet(tmp_path / "repo", CONSISTENT, helm="2.12.0")
    status = run(repo, "status", "--json")
    sites = [
        (s["role"], s["file"], s["line"], s["value"], s["expected"], s["ok"])
        for s in json.loads(status.stdout)["sites"]
    ]
    assert sites[:4] == [
        ("cloud-init install", CLOUDINIT, 16, "v2.4.0", "v2.4.0", True),
        ("upstream dependency", CHART, 10, "2.14.1", "2.14.1", True),
        ("values mirror", "platform/flux/chart/values.yaml", 4, "2.14.1", "2.14.1", True),
        ("helm install version", CLOUDINIT, 17, "2.12.0", "2.14.1", False),
    ]
    table = run(repo, "status").stdout
    assert f"helm install version  {CLOUDINIT}:17" in table


def test_check_of_the_flux_component_alone_reads_the_boot_installs_too(tmp_path: Path) -> None:
    # ``--component`` narrows the release scan to the charts the component tracks: the
    # community chart's HelmCharts are read for it as well.
    repo = fleet(tmp_path / "repo", CONSISTENT, {K3S: k3s_chart("2.12.0")})
    for extra in ((), ("--component", "flux")):
        check = run(repo, "check", *extra)
        assert check.code == 1, check.stdout + check.stderr
        assert check.stdout.startswith(
            f"{K3S}:9: HelmChart kube-system/flux2 installs flux2 2.12.0 at boot, but bp-flux "
            f"pins flux2 2.14.1 ({CHART}:10)"
        ), check.stdout


def test_each_kind_of_boot_install_that_disagrees_is_named_at_its_line(tmp_path: Path) -> None:
    # (a second template writes a HelmChart of flux2 for k3s)
    repo = fleet(tmp_path / "repo", CONSISTENT, boot_installs("2.13.0"))
    check = run(repo, "check", "--json")
    assert check.code == 1, check.stdout + check.stderr
    found = [(v["file"], v["line"], v["found"], v["expected"])
             for v in json.loads(check.stdout)["violations"]]  # fmt: skip
    assert sorted(found) == [
        (TEMPLATE, 14, "2.13.0", "2.14.1"),
        (K3S, 9, "2.13.0", "2.14.1"),
        (TF, 7, "2.13.0", "2.14.1"),
        (LITERAL, 5, "2.13.0", "2.14.1"),
        (SCRIPT, 5, "2.13.0", "2.14.1"),
    ]


def test_a_boot_install_with_no_version_is_the_unpinned_problem(tmp_path: Path) -> None:
    repo = fleet(tmp_path / "repo", CONSISTENT)
    edit(repo, CLOUDINIT, URL_LINE, URL_LINE + "  - helm install flux2 fluxcd-community/flux2\n")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{CLOUDINIT}:17: helm install of flux2 with no --version: Helm installs the newest "
        "flux2 chart, not the one this repository pins; add '--version 2.14.1'"
    ) in check.stdout


def test_a_template_installing_flux_by_its_chart_needs_no_install_url(tmp_path: Path) -> None:
    # The boot install is the helm command: no "no line installs the install.yaml URL".
    repo = fleet(tmp_path / "repo", CONSISTENT)
    edit(repo, CLOUDINIT, URL_LINE, HELM.format("2.14.1"))
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "check: consistent — 18 pin-sites agree" in check.stdout


# --- to and sync ---------------------------------------------------------------------------


def test_to_moves_the_boot_install_with_the_dependency(tmp_path: Path) -> None:
    # The incident fleet: cloud-init v2.4.0, bp-flux on flux2 2.13.0, and the boot chart
    # 2.13.0 beside it. 'to 2.4.0' moves the dependency to 2.14.1, and the boot chart with it.
    repo = fleet(tmp_path / "repo", INCIDENT, helm="2.13.0")
    bump = run(repo, "to", "2.4.0")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert f"{CLOUDINIT}:17: helm install version (cloud-init) 2.13.0 -> 2.14.1" in bump.stdout
    assert changed_lines(repo, CLOUDINIT) == [
        "-" + HELM.format("2.13.0").rstrip("\n"),
        "+" + HELM.format("2.14.1").rstrip("\n"),
    ]
    assert changed_lines(repo, CHART) == [
        "-version: 1.1.1",
        "+version: 1.1.2",
        '-    version: "2.13.0"',
        '+    version: "2.14.1"',
    ]
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_to_moves_every_kind_of_boot_install_surgically(tmp_path: Path) -> None:
    repo = fleet(tmp_path / "repo", INCIDENT, boot_installs("2.13.0"))
    bump = run(repo, "to", "2.4.0")
    assert bump.code == 0, bump.stdout + bump.stderr
    for rel, text in boot_installs("2.14.1").items():
        assert (repo / rel).read_text("utf-8") == text
    moved = git(repo, "diff", "--name-only", "HEAD~1").splitlines()
    assert set(boot_installs("2.14.1")) | {CHART} <= set(moved) and CLOUDINIT not in moved
    assert run(repo, "check").code == 0


def test_sync_moves_the_boot_install_to_the_dependency(tmp_path: Path) -> None:
    repo = fleet(tmp_path / "repo", CONSISTENT, helm="2.12.0")
    synced = run(repo, "sync", "--from", "chart")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert git(repo, "diff", "--stat").splitlines() == [
        f"{CLOUDINIT} | 2 +-",
        " 1 file changed, 1 insertion(+), 1 deletion(-)",
    ]
    assert HELM.format("2.14.1") in (repo / CLOUDINIT).read_text("utf-8")


@pytest.mark.parametrize("moved", [CLOUDINIT, LITERAL, K3S, TF, SCRIPT, TEMPLATE])
def test_sync_follows_a_boot_install_renovate_moved(tmp_path: Path, moved: str) -> None:
    # Renovate moves one boot install: the dependency, its mirror, the install URL and the
    # other boot installs follow it, as they follow a moved dependency.
    spec = FleetSpec(flux_release="2.3.0", flux_chart="2.13.0")
    repo = fleet(tmp_path / "repo", spec, boot_installs("2.13.0"), helm="2.13.0")
    if moved == CLOUDINIT:
        edit(repo, CLOUDINIT, HELM.format("2.13.0"), HELM.format("2.14.1"))
    else:
        (repo / moved).write_text(boot_installs("2.14.1")[moved], "utf-8")
    git(repo, "commit", "-qam", "chore(deps): update flux2 to 2.14.1")
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert "Flux v2.4.0 → flux2 chart 2.14.1" in synced.stdout
    assert '    version: "2.14.1"' in (repo / CHART).read_text("utf-8")
    text = (repo / CLOUDINIT).read_text("utf-8")
    assert "download/v2.4.0/install.yaml" in text and HELM.format("2.14.1") in text
    for rel, moved_text in boot_installs("2.14.1").items():
        assert (repo / rel).read_text("utf-8") == moved_text
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_sync_follows_the_role_variable_of_an_ansible_task_renovate_moved(tmp_path: Path) -> None:
    # The task installs flux2 at {{ flux_chart_version }}, which the role's defaults set: a
    # Renovate bump there was not seen as a move (the defaults were read as a script), so
    # sync took cloud-init's release and moved the variable back.
    was = DEFAULTS_TEXT.replace("2.14.1", "2.13.0").replace("v2.4.0", "v2.3.0")
    spec = FleetSpec(flux_release="2.3.0", flux_chart="2.13.0")
    repo = fleet(tmp_path / "repo", spec, {DEFAULTS: was, TASKS: TASKS_TEXT})
    (repo / DEFAULTS).write_text(was.replace("2.13.0", "2.14.1"), "utf-8")
    git(repo, "commit", "-qam", "chore(deps): update flux2 to 2.14.1")
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / DEFAULTS).read_text("utf-8") == DEFAULTS_TEXT  # the CLI followed it too
    assert '    version: "2.14.1"' in (repo / CHART).read_text("utf-8")
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_the_charts_installed_at_boot_before_are_in_the_crd_history(tmp_path: Path) -> None:
    # A boot chart the clusters ran may have stored its CRDs' versions: the CRD guard reads
    # the boot installs' past versions as it reads the wrapper dependency's.
    repo = fleet(tmp_path / "repo", INCIDENT, {K3S: k3s_chart("2.11.0")}, helm="2.12.0")
    edit(repo, CLOUDINIT, HELM.format("2.12.0"), HELM.format("2.13.0"))
    (repo / K3S).write_text(k3s_chart("2.13.0"), "utf-8")
    git(repo, "commit", "-qam", "boot charts agree with bp-flux")
    bump = run(repo, "to", "2.4.0", "--no-git", "--json")
    assert bump.code == 0, bump.stdout + bump.stderr
    history = json.loads(bump.stdout)["crds"]["history"]["charts"]
    assert history == ["2.11.0", "2.12.0", "2.13.0", "2.14.0", "2.14.1"]


# --- any wrapper's upstream, not only Flux's ------------------------------------------------

CILIUM_CHART = "platform/cilium/chart/Chart.yaml"  # bp-cilium on cilium 1.0.0, at line 8


def cilium_boot_installs(version: str) -> dict[str, str]:
    """The same five kinds of boot install, of the cilium chart ``bp-cilium`` wraps (the
    files keep their flux names: only the chart they install differs)."""
    return {rel: text.replace("flux2", "cilium") for rel, text in boot_installs(version).items()}


def test_check_names_a_boot_install_of_another_wrappers_upstream(tmp_path: Path) -> None:
    # Only Flux's upstream was read: "check: consistent — 27 pin-sites agree", exit 0.
    repo = fleet(tmp_path / "repo", replace(CONSISTENT, wrappers=1), cilium_boot_installs("1.2.0"))
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{K3S}:9: HelmChart kube-system/cilium installs cilium 1.2.0 at boot, but bp-cilium "
        f"pins cilium 1.0.0 ({CILIUM_CHART}:8): its HelmRelease would take the release over "
        "and move the CRDs; run 'fluxbump sync --component cilium'"
    ) in check.stdout.splitlines()
    for extra in ((), ("--component", "cilium")):
        document = run(repo, "check", "--json", *extra)
        assert document.code == 1, document.stdout + document.stderr
        found = [(v["file"], v["line"], v["found"], v["expected"])
                 for v in json.loads(document.stdout)["violations"]]  # fmt: skip
        assert sorted(found) == [
            (TEMPLATE, 14, "1.2.0", "1.0.0"),
            (K3S, 9, "1.2.0", "1.0.0"),
            (TF, 7, "1.2.0", "1.0.0"),
            (LITERAL, 5, "1.2.0", "1.0.0"),
            (SCRIPT, 5, "1.2.0", "1.0.0"),
        ]


def test_to_a_wrappers_upstream_moves_its_boot_installs_with_the_dependency(
    tmp_path: Path,
) -> None:
    repo = fleet(tmp_path / "repo", replace(CONSISTENT, wrappers=1), cilium_boot_installs("1.0.0"))
    bump = run(repo, "to", "1.0.1", "--component", "cilium")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert f"{K3S}:9: HelmChart (kube-system/cilium) 1.0.0 -> 1.0.1" in bump.stdout
    for rel, text in cilium_boot_installs("1.0.1").items():  # each its version line only
        assert (repo / rel).read_text("utf-8") == text
        assert len(changed_lines(repo, rel)) == 2, changed_lines(repo, rel)
    assert changed_lines(repo, CILIUM_CHART) == [
        "-version: 1.0.0",
        "+version: 1.0.1",
        '-    version: "1.0.0"',
        '+    version: "1.0.1"',
    ]
    assert CLOUDINIT not in git(repo, "diff", "--name-only", "HEAD~1").splitlines()
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_sync_moves_a_wrappers_boot_install_to_its_dependency(tmp_path: Path) -> None:
    files = {K3S: cilium_boot_installs("1.2.0")[K3S]}
    repo = fleet(tmp_path / "repo", replace(CONSISTENT, wrappers=1), files)
    synced = run(repo, "sync", "--component", "cilium")  # what check says to run
    assert synced.code == 0, synced.stdout + synced.stderr
    assert git(repo, "diff", "-U0").splitlines()[-2:] == [
        '-  version: "1.2.0"',
        '+  version: "1.0.0"',
    ]
    assert git(repo, "diff", "--name-only").splitlines() == [K3S]


def test_each_wrapper_of_one_upstream_checks_its_boot_install(tmp_path: Path) -> None:
    # Two components of one chart (told apart by path): the helm_release is a pin of each.
    repository = "https://charts.example.org"
    repo = write_repo(
        tmp_path / "repo",
        {
            "apps/foo/Chart.yaml": chart("foo", "1.0.0", ("bar", "2.0.0", repository)),
            "disabled/foo/Chart.yaml": chart("foo", "1.0.0", ("bar", "2.0.0", repository)),
            TF: helm_release_tf('"2.1.0"').replace("flux2", "bar"),
        },
    )
    check = run(repo, "check", "--json")
    assert check.code == 1, check.stdout + check.stderr
    found = [(v["file"], v["line"], v["found"]) for v in json.loads(check.stdout)["violations"]]
    assert found == [(TF, 7, "2.1.0"), (TF, 7, "2.1.0")]  # once for each component


def test_a_wrappers_cloud_init_helm_install_with_no_version_is_the_unpinned_problem(
    tmp_path: Path,
) -> None:
    # Cilium's cloud-init install without --version was no pin at all: check said consistent.
    repo = wrappers_fleet(tmp_path / "repo")
    edit(repo, CLOUDINIT, "      --version 1.16.5 \\\n", "")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"  {CLOUDINIT}:18: helm install of cilium with no --version: Helm installs the newest "
        "cilium chart, not the one this repository pins; add '--version 1.16.5'"
    ) in check.stdout.splitlines()


def test_the_release_scan_reads_another_upstreams_pins_in_helmcharts_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each wrapper's HelmRelease names its upstream (bp-cilium), and a rendered fleet's
    # header names it too: scanning for the upstream's HelmReleases parsed every copy, which
    # the first one's answer stood for (a cold status of 1,000 clusters took 2.4x the CPU).
    # Only a file naming the HelmChart kind is read for it.
    repository = "https://helm.cilium.io"
    copies = {
        f"clusters/c{i}/cilium.yaml": f"# The cilium wrapper for c{i}.\n---\n"
        + helmrelease("bp-cilium", "bp-cilium", "1.0.0")
        for i in range(6)
    }
    repo = write_repo(
        tmp_path / "repo",
        {
            CILIUM_CHART: chart("bp-cilium", "1.0.0", ("cilium", "1.0.0", repository)),
            K3S: k3s_chart("1.2.0").replace("flux2", "cilium"),
            **copies,
        },
    )
    parsed: list[str] = []
    scan_manifest = releases._scan_manifest

    def counted(source: SourceFile, names: frozenset[str]) -> ClusterScan | None:
        parsed.append(source.rel)
        return scan_manifest(source, names)

    monkeypatch.setattr(releases, "_scan_manifest", counted)
    found = survey(repo, Config())
    assert sorted(parsed) == ["clusters/c0/cilium.yaml", K3S]
    cilium = found.discovery(found.component("cilium"))
    assert [(s.role, s.file, s.line, s.value) for s in cilium.adopted] == [
        (Role.HELMCHART, K3S, 9, "1.2.0")
    ]
    assert [s.file for s in cilium.releases] == sorted(copies)


def test_each_terraform_and_ansible_file_is_parsed_once_for_every_upstream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One helm_release and one Helm task of each of flux2 and cilium: the files were
    # parsed again for each upstream installed at boot (dozens in a fleet of wrappers).
    cilium_tf = helm_release_tf('"1.0.0"').replace("flux2", "cilium")
    cilium_task = (
        LITERAL_TEXT.split("\n", 1)[1].replace("flux2", "cilium").replace("2.14.1", "1.0.0")
    )
    files = {TF: helm_release_tf('"2.14.1"') + cilium_tf, LITERAL: LITERAL_TEXT + cilium_task}
    repo = fleet(tmp_path / "repo", replace(CONSISTENT, wrappers=1), files)
    parsed: list[str] = []
    compose_all, block_pins = blockyaml.compose_all, terraform.block_pins

    def composed(text: str, rel: str) -> list[Any]:
        parsed.append(rel)
        return compose_all(text, rel)

    def blocks(source: SourceFile, resource: str, *args: Any, **kwargs: Any) -> list[PinSite]:
        parsed.append(f"{source.rel} {resource}")
        return block_pins(source, resource, *args, **kwargs)

    monkeypatch.setattr(blockyaml, "compose_all", composed)
    monkeypatch.setattr(terraform, "block_pins", blocks)
    found = survey(repo, Config())
    assert parsed.count(LITERAL) == 1 and parsed.count(f"{TF} helm_release") == 1, parsed
    adopted = {
        name: [(s.file, s.line, s.value) for s in found.discovery(found.component(name)).adopted]
        for name in ("flux", "cilium")
    }
    assert adopted == {
        "flux": [(TF, 7, "2.14.1"), (LITERAL, 5, "2.14.1")],
        "cilium": [(TF, 19, "1.0.0"), (LITERAL, 10, "1.0.0")],
    }
    assert run(repo, "check").code == 0


def two_wrappers_of_one_upstream(root: Path, other_pin: str = "2.0.0") -> Path:
    """bp-a and bp-b, both on bar 2.0.0 (bp-b on ``other_pin``), and one Terraform
    helm_release of bar at 2.0.0: a boot install both wrappers' HelmReleases take over."""
    repository = "https://charts.example.org"
    repo = write_repo(
        root,
        {
            "apps/a/Chart.yaml": chart("bp-a", "1.0.0", ("bar", "2.0.0", repository)),
            "apps/b/Chart.yaml": chart("bp-b", "1.0.0", ("bar", other_pin, repository)),
            TF: helm_release_tf('"2.0.0"').replace("flux2", "bar"),
        },
    )
    git(repo, "commit", "-q", "--allow-empty", "-m", "(changed_lines diffs against HEAD~1)")
    return repo


def test_to_refuses_to_move_a_boot_install_another_component_shares(tmp_path: Path) -> None:
    # It moved the helm_release with bp-a, then the gate found bp-b's dependency left behind
    # and restored every file (exit 1): now refused before writing, naming b and what to run.
    repo = two_wrappers_of_one_upstream(tmp_path / "repo")
    before = snapshot(repo)
    for extra in ((), ("--dry-run",)):
        bump = run(repo, "to", "2.0.1", "--component", "a", "--no-git", *extra)
        assert bump.code == 2, bump.stdout + bump.stderr
        assert bump.stderr.splitlines() == [
            f"error: {TF}:7: helm_release.bar installs bar at boot for component b too (bp-b "
            "pins bar 2.0.0 at apps/b/Chart.yaml:6): moving it to 2.0.1 with a alone would "
            "leave b's HelmRelease taking over another chart; write 2.0.1 there and run "
            "'fluxbump sync --component a --component b'"
        ]
        assert snapshot(repo) == before
    # what it says to run moves both dependencies with it
    edit(repo, TF, '"2.0.0"', '"2.0.1"')
    synced = run(repo, "sync", "--component", "a", "--component", "b")
    assert synced.code == 0, synced.stdout + synced.stderr
    for rel in ("apps/a/Chart.yaml", "apps/b/Chart.yaml"):
        assert changed_lines(repo, rel) == [
            "-version: 1.0.0",
            "+version: 1.0.1",
            "-    version: 2.0.0",
            "+    version: 2.0.1",
        ]
    assert run(repo, "check").code == 0


def test_sync_refuses_to_move_a_boot_install_another_component_shares(tmp_path: Path) -> None:
    # Renovate moved bp-a's dependency: sync --component a moved the helm_release with it,
    # then the gate found bp-b left behind (exit 1, every file restored).
    repo = two_wrappers_of_one_upstream(tmp_path / "repo")
    edit(repo, "apps/a/Chart.yaml", "    version: 2.0.0", "    version: 2.0.1")
    git(repo, "commit", "-qam", "chore(deps): update bar to 2.0.1")
    before = snapshot(repo)
    for extra in (("--component", "a"), ()):
        synced = run(repo, "sync", "--base", "HEAD~1", *extra)
        assert synced.code == 2, synced.stdout + synced.stderr
        assert synced.stderr.splitlines()[-1].startswith(
            f"error: {TF}:7: helm_release.bar installs bar at boot for component b too"
        ), synced.stderr
        assert snapshot(repo) == before
    edit(repo, TF, '"2.0.0"', '"2.0.1"')  # what it says to do
    synced = run(repo, "sync", "--component", "a", "--component", "b")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert "    version: 2.0.1" in (repo / "apps/b/Chart.yaml").read_text("utf-8")
    assert run(repo, "check").code == 0


def test_to_moves_a_shared_boot_install_the_other_component_already_pins(
    tmp_path: Path,
) -> None:
    # bp-b already depends on 2.0.1 (check names the helm_release): moving it to 2.0.1 with
    # bp-a leaves nothing behind, so nothing is refused.
    repo = two_wrappers_of_one_upstream(tmp_path / "repo", other_pin="2.0.1")
    bump = run(repo, "to", "2.0.1", "--component", "a", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed_lines(repo, TF) == [
        '-  version          = "2.0.0"',
        '+  version          = "2.0.1"',
    ]
    assert run(repo, "check").code == 0


def test_a_boot_helmchart_that_cannot_be_read_leaves_its_wrappers_component_unproven(
    tmp_path: Path,
) -> None:
    # It was charged to the chart cilium, which no component leaves unproven: check named it
    # apart ("chart cilium is unproven") and 'check --component cilium' said consistent.
    broken = k3s_chart("1.0.0").replace("flux2", "cilium").replace('"1.0.0"', "[1.0.0")
    repo = fleet(tmp_path / "repo", replace(CONSISTENT, wrappers=1), {K3S: broken})
    problem = f"  {K3S}:10: invalid YAML: expected ',' or ']', but got ':'; cilium is unproven"
    for extra in ((), ("--component", "cilium")):
        check = run(repo, "check", *extra)
        assert check.code == 1, check.stdout + check.stderr
        assert problem in check.stdout.splitlines(), check.stdout
    assert run(repo, "check", "--component", "flux").code == 0
