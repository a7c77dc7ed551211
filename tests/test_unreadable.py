"""One bad file costs one component (issue 16, item 3): a manifest that cannot be read makes
the components whose charts it names unproven, named ``file:line: reason`` by every command,
and every other component is handled fully."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import init_git, snapshot
from tests.support.layouts import COMMUNITY, chart, helmrelease, write_repo

BROKEN = "kubernetes/apps/kube-system/cilium/helmrelease.yaml"
REASON = f"{BROKEN}:16: invalid YAML"


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def consistent_pair(root: Path, extra: dict[str, str]) -> Path:
    """Flux (platform-flux) and Cilium (platform-cilium), both consistent, plus ``extra``."""
    return write_repo(
        root,
        {
            "platform/flux/Chart.yaml": chart(
                "platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)
            ),
            "platform/cilium/Chart.yaml": chart(
                "platform-cilium", "1.0.0", ("cilium", "1.16.0", "https://helm.cilium.io")
            ),
            "kubernetes/apps/flux-system/flux/helmrelease.yaml": helmrelease(
                "flux", "platform-flux", "0.3.0"
            ),
            **extra,
        },
    )


def two_components(root: Path) -> Path:
    """Flux (platform-flux) and Cilium (platform-cilium); Cilium's HelmRelease is broken."""
    broken = helmrelease("cilium", "platform-cilium", "1.0.0") + "  values: {unclosed: [\n"
    return consistent_pair(root, {BROKEN: broken})


def test_check_names_the_file_and_marks_only_its_component_unproven(tmp_path: Path) -> None:
    repo = two_components(tmp_path / "repo")
    check = run(repo, "check")
    assert check.code == 1
    # Not a pin: in the problems section, after the violations, with the real file:line.
    lines = check.stdout.splitlines()
    section = lines.index("problems (what they name is unproven):")
    assert [line for line in lines if BROKEN in line] == [lines[section + 1]]
    problem = lines[section + 1]
    assert problem.startswith(f"  {REASON}") and problem.endswith("; platform-cilium is unproven")
    assert lines[-1] == "check: 0 violation(s) and 1 problem(s) in 5 pin-sites"
    flux_only = run(repo, "check", "--component", "flux")
    assert flux_only.code == 0, flux_only.stdout
    assert "3 pin-sites agree" in flux_only.stdout


def test_status_reports_every_other_component_in_full(tmp_path: Path) -> None:
    repo = two_components(tmp_path / "repo")
    status = run(repo, "status", "--json")
    assert status.code == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["violations"] == []
    assert [(p["file"], p["line"]) for p in document["problems"]] == [(BROKEN, 16)]
    flux_sites = [
        s["value"]
        for s in document["sites"]
        if s["file"].endswith(("flux/Chart.yaml", "flux/helmrelease.yaml"))
    ]
    assert flux_sites == ["2.14.1", "0.3.0", "0.3.0"]


def test_a_bump_of_the_other_component_proceeds_and_of_this_one_refuses(tmp_path: Path) -> None:
    repo = two_components(tmp_path / "repo")
    before = snapshot(repo)
    refused = run(repo, "to", "1.16.1", "--component", "platform-cilium", "--no-git")
    assert refused.code == 2
    assert refused.stderr.splitlines()[-1].startswith(f"error: {REASON}")
    assert snapshot(repo) == before
    bump = run(repo, "to", "2.5.1", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert "2.15.0" in (repo / "platform/flux/Chart.yaml").read_text()
    assert (repo / BROKEN).read_bytes() == before[BROKEN]


CILIUM_VALUES = "platform/cilium/values.yaml"


def broken_values(root: Path, values: bytes) -> Path:
    """Flux and Cilium, both consistent; Cilium's wrapper has a values.yaml that cannot be read."""
    repo = write_repo(
        root,
        {
            "platform/flux/Chart.yaml": chart(
                "platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)
            ),
            "platform/cilium/Chart.yaml": chart(
                "platform-cilium", "1.0.0", ("cilium", "1.16.0", "https://helm.cilium.io")
            ),
        },
        git=False,
    )
    (repo / CILIUM_VALUES).write_bytes(values)
    init_git(repo)
    return repo


def test_an_unreadable_values_file_costs_only_its_wrappers_component(tmp_path: Path) -> None:
    for name, values, reason in (
        (
            "yaml",
            b"catalystBlueprint:\n  upstream: {unclosed: [\n",
            f"{CILIUM_VALUES}:3: invalid YAML",
        ),
        ("latin1", b"catalystBlueprint:\n  note: caf\xe9\n", f"{CILIUM_VALUES}:"),
    ):
        repo = broken_values(tmp_path / name, values)
        before = snapshot(repo)
        status = run(repo, "status")
        assert status.code == 0, status.stderr
        lines = status.stdout.splitlines()
        assert (
            lines[0]
            == "components: flux (platform-flux -> flux2), platform-cilium (platform-cilium -> cilium)"
        )
        problem = lines[lines.index("problems (what they name is unproven):") + 1]
        assert problem.startswith(f"  {reason}") and problem.endswith(
            "; platform-cilium is unproven"
        )
        check = run(repo, "check")
        assert check.code == 1 and check.stdout.splitlines()[1] == problem
        assert run(repo, "check", "--component", "flux").code == 0
        refused = run(repo, "to", "1.16.1", "--component", "platform-cilium", "--no-git")
        assert refused.code == 2 and refused.stderr.startswith(f"error: {reason}"), refused.stderr
        assert snapshot(repo) == before
        bump = run(repo, "to", "2.5.1", "--no-git")
        assert bump.code == 0, bump.stdout + bump.stderr
        assert "2.15.0" in (repo / "platform/flux/Chart.yaml").read_text()
        assert (repo / CILIUM_VALUES).read_bytes() == values


CILIUM_CHART = "platform/cilium/Chart.yaml"
FLUX_CHART = "platform/flux/Chart.yaml"


# (with lone CRs no line of the broken chart began 'name:' to the byte test: it cost every
# component, Flux's too)
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_an_unreadable_chart_yaml_costs_only_what_needs_that_chart(
    tmp_path: Path, ending: str
) -> None:
    repo = broken_values(tmp_path / "repo", b"{}\n")
    cilium = (repo / CILIUM_CHART).read_text().replace("version: 1.0.0", "version: [1.0.0")
    cilium = cilium.replace("\n", ending)
    (repo / CILIUM_CHART).write_bytes(cilium.encode())
    before = snapshot(repo)
    problem = f"  {CILIUM_CHART}:4: invalid YAML"
    status = run(repo, "status")
    assert status.code == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == "components: flux (platform-flux -> flux2)"
    assert [line.split()[2] for line in lines[2:4]] == [f"{FLUX_CHART}:6", f"{FLUX_CHART}:3"]
    assert lines[-1].startswith(problem) and lines[-1].endswith(
        "; chart platform-cilium is unproven"
    )
    check = run(repo, "check")
    assert check.code == 1 and check.stdout.splitlines()[1] == lines[-1]
    assert run(repo, "check", "--component", "flux").code == 0
    bump = run(repo, "to", "2.5.1", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert (repo / CILIUM_CHART).read_bytes() == cilium.encode()
    assert snapshot(repo) != before


def test_an_unreadable_wrapper_chart_is_named_by_a_bump_of_its_component(tmp_path: Path) -> None:
    repo = broken_values(tmp_path / "repo", b"{}\n")
    flux = (repo / FLUX_CHART).read_text().replace("version: 0.3.0", "version: [0.3.0")
    (repo / FLUX_CHART).write_text(flux)
    before = snapshot(repo)
    bump = run(repo, "to", "2.5.1", "--no-git")
    assert bump.code == 2
    assert bump.stderr.startswith(f"error: {FLUX_CHART}:4: invalid YAML")
    assert bump.stderr.rstrip().endswith("; flux is unproven")
    assert snapshot(repo) == before
    status = run(repo, "status")
    assert status.code == 0 and "cilium" in status.stdout.splitlines()[0]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_a_bump_of_a_component_whose_chart_yaml_is_unreadable_names_that_file(
    tmp_path: Path, ending: str
) -> None:
    """Not 'no such component': the component is there, unproven; nothing written. (With
    lone CRs the chart it wraps, ``- name: cilium``, was no line of the broken file.)"""
    repo = broken_values(tmp_path / "repo", b"{}\n")
    cilium = (repo / CILIUM_CHART).read_text().replace("version: 1.0.0", "version: [1.0.0")
    (repo / CILIUM_CHART).write_bytes(cilium.replace("\n", ending).encode())
    before = snapshot(repo)
    for name in ("platform-cilium", "cilium"):  # its chart's name, or what it wraps
        for command in (("to", "1.16.1", "--no-git"), ("check",)):
            outcome = run(repo, *command, "--component", name)
            assert outcome.code == 2, outcome.stdout + outcome.stderr
            assert outcome.stderr.startswith(f"error: {CILIUM_CHART}:4: invalid YAML")
            assert outcome.stderr.endswith(f"; {name} is unproven\n")
    unknown = run(repo, "to", "1.16.1", "--component", "nope", "--no-git")
    assert unknown.code == 2 and "--component nope: no such component" in unknown.stderr
    assert snapshot(repo) == before


# A ConfigMap holding a shell script whose heredoc leaves the block scalar (seen in
# agndam-corp/server-one): not YAML, with backslashes in it, and no HelmRelease however a
# double-quoted escape could be read.
SCRIPT = "kubernetes/apps/adguard/scripts-configmap.yaml"
SCRIPT_TEXT = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts\ndata:\n  run.sh: |\n"
    '    printf "a\\tb\\n"\n    cat > tls.json <<EOF\n{\n  "enabled": true\n}\nEOF\n'
)


def test_a_broken_file_that_cannot_hold_a_pin_costs_no_component(tmp_path: Path) -> None:
    repo = consistent_pair(tmp_path / "repo", {SCRIPT: SCRIPT_TEXT})
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert SCRIPT not in check.stdout + check.stderr
    status = run(repo, "status", "--json")
    assert json.loads(status.stdout)["problems"] == []


def test_a_broken_file_whose_escapes_spell_a_pin_costs_the_component_they_name(
    tmp_path: Path,
) -> None:
    # "Helm\x52elease" of "platform-\x63ilium": a HelmRelease of platform-cilium, however
    # written; the file does not parse, so that component (only) is unproven.
    escaped = (
        helmrelease("cilium", "platform-cilium", "1.0.0")
        .replace("kind: HelmRelease", 'kind: "Helm\\x52elease"')
        .replace("chart: platform-cilium", 'chart: "platform-\\x63ilium"')
    )
    repo = consistent_pair(tmp_path / "repo", {SCRIPT: escaped + "  values: {unclosed: [\n"})
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    problems = [line for line in check.stdout.splitlines() if SCRIPT in line]
    assert len(problems) == 1 and problems[0].endswith("; platform-cilium is unproven")
    assert run(repo, "check", "--component", "flux").code == 0
