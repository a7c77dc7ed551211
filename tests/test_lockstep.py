"""`check` reports drift in every wrapper: Cilium's cloud-init pin, mirrors, umbrellas; and in
charts outside every component."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.scan.sites.cloudinit import helm_install_pins
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.fixtures import edit
from tests.support.wrappers import CILIUM_BLUEPRINT, CILIUM_CHART, CILIUM_VALUES, wrappers_fleet


def check(repo: Path) -> tuple[int, list[str]]:
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    return outcome.code, outcome.stdout.splitlines()


def test_consistent_wrappers_pass(tmp_path: Path) -> None:
    code, lines = check(wrappers_fleet(tmp_path / "repo", git=False))
    assert code == 0, lines


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            fleet.CLOUDINIT,
            "--version 1.16.5",
            "--version 1.16.4",
            f"{fleet.CLOUDINIT}:20: cloud-init installs cilium 1.16.4, but bp-cilium pins cilium 1.16.5 ({CILIUM_CHART}:8); the HelmRelease would not adopt it",
        ),
        (
            CILIUM_BLUEPRINT,
            "version: 1.0.3",
            "version: 1.0.2",
            f"{CILIUM_BLUEPRINT}:7: Blueprint of bp-cilium mirrors 1.0.2, chart is 1.0.3",
        ),
        (
            fleet.UMBRELLA_CHART,
            "bp-cilium\n    version: 1.0.3",
            "bp-cilium\n    version: 1.0.2",
            f"{fleet.UMBRELLA_CHART}:12: bp-catalyst-platform pins bp-cilium 1.0.2, bp-cilium is 1.0.3",
        ),
        (
            CILIUM_VALUES,
            'version: "1.16.5"',
            'version: "1.16.4"',
            f"{CILIUM_VALUES}:3: values mirror of cilium is 1.16.4, dependency pins 1.16.5",
        ),
    ],
    ids=[
        "cloud-init --version",
        "Blueprint behind",
        "umbrella pins older wrapper",
        "values mirror",
    ],
)
def test_each_kind_of_drift_is_one_violation_line(
    tmp_path: Path, rel: str, old: str, new: str, expected: str
) -> None:
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    edit(repo, rel, old, new)
    code, lines = check(repo)
    assert code == 1
    assert [x for x in lines if not x.startswith("check:")] == [expected]


def test_a_chart_outside_every_component_is_still_checked(tmp_path: Path) -> None:
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    docs = repo / "platform/docs"
    (docs / "chart").mkdir(parents=True)
    (docs / "chart/Chart.yaml").write_text("apiVersion: v2\nname: bp-docs\nversion: 0.3.0\n")
    (docs / "blueprint.yaml").write_text(
        "apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata:\n"
        "  name: bp-docs\nspec:\n  version: 0.2.0\n"
    )
    code, lines = check(repo)
    assert code == 1
    assert (
        lines[0]
        == "platform/docs/blueprint.yaml:6: Blueprint of bp-docs mirrors 0.2.0, chart is 0.3.0"
    )


DOCS_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bp-docs
  namespace: flux-system
spec:
  interval: 5m
  chart:
    spec:
      chart: bp-docs
      version: {version}
      sourceRef:
        kind: HelmRepository
        name: bp-docs
"""
DOCS_SYNC = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: docs
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/b
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      docs_version: "0.2.0"
"""


def docs_fleet(tmp_path: Path) -> Path:
    """The wrappers fleet and bp-docs 0.3.0, a chart of no component (no upstream)."""
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    (repo / "platform/docs/chart").mkdir(parents=True)
    (repo / "platform/docs/chart/Chart.yaml").write_text(
        "apiVersion: v2\nname: bp-docs\nversion: 0.3.0\n"
    )
    return repo


def test_the_helmreleases_of_a_chart_outside_every_component_are_checked(
    tmp_path: Path,
) -> None:
    # An umbrella of this repository with no upstream (nebius/soperator's) is deployed by a
    # HelmRelease per environment: one left at the old version deploys the old chart.
    repo = docs_fleet(tmp_path)
    for cluster, version in (("a", "0.3.0"), ("b", "${docs_version}"), ("c", "0.2.0")):
        (repo / f"clusters/{cluster}").mkdir(parents=True, exist_ok=True)
        (repo / f"clusters/{cluster}/docs.yaml").write_text(DOCS_RELEASE.format(version=version))
    (repo / "clusters/b-sync.yaml").write_text(DOCS_SYNC)
    code, lines = check(repo)
    assert code == 1
    assert [x for x in lines if not x.startswith("check:")] == [
        "clusters/c/docs.yaml:11: flux-system/bp-docs deploys bp-docs 0.2.0, chart is 0.3.0",
        "clusters/b-sync.yaml:15: flux-system/docs deploys bp-docs 0.2.0, chart is 0.3.0",
    ]
    status = run_cli("status", "--json", "--repo", str(repo), "--offline")
    sites = {(s["file"], s["value"], s["ok"]) for s in json.loads(status.stdout)["sites"]
             if s["subject"] == "bp-docs"}  # fmt: skip
    assert sites == {
        ("clusters/a/docs.yaml", "0.3.0", True),
        ("clusters/b/docs.yaml", "${docs_version}", True),  # proven by the Kustomization's value
        ("clusters/b-sync.yaml", "0.2.0", False),
        ("clusters/c/docs.yaml", "0.2.0", False),
    }


def test_helm_install_pins_across_continuations_and_equals_form() -> None:
    text = "helm upgrade --install cilium cilium/cilium \\\n  --version=v1.16.5 -n kube-system\nhelm install x repo/other --version '2.0.0'\n# helm install y r/z --version 9\n"
    sites = helm_install_pins(SourceFile("t.tftpl", text.encode(), text))
    assert [(s.subject, s.value, s.line, text[s.start : s.end]) for s in sites] == [
        ("cilium", "v1.16.5", 2, "v1.16.5"), ("other", "2.0.0", 3, "2.0.0"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("helm install cilium -f cilium/values.yaml cilium/cilium --version 1.16.4", ("cilium", "1.16.4")),
        ("helm upgrade --install cilium oci://quay.io/cilium/charts/cilium --version 1.16.4", ("cilium", "1.16.4")),
        ("helm install cilium cilium --repo https://helm.cilium.io --version=1.16.4", ("cilium", "1.16.4")),
        ("helm install --generate-name cilium/cilium --version 1.16.4", ("cilium", "1.16.4")),
        ("helm repo add cilium https://helm.cilium.io && helm install c cilium/cilium --version \"1.16.4\"", ("cilium", "1.16.4")),
        ("/usr/local/bin/helm install c --namespace kube-system cilium/cilium --version v1.16.4", ("cilium", "v1.16.4")),
        ("- \"helm install cilium cilium/cilium --namespace kube-system --version 1.16.4\"", ("cilium", "1.16.4")),
        ("- 'helm upgrade --install cilium cilium/cilium --version=1.16.4'", ("cilium", "1.16.4")),
        ("helm install --kube-tls-server-name api.local c cilium/cilium --version 1.16.4", ("cilium", "1.16.4")),
        ("helm install cilium ./charts/cilium --version 1.16.4", None),
        ("helm install cilium cilium --version 1.16.4", None),
        ("helm install cilium cilium/cilium", None),
        ("helm template cilium cilium/cilium --version 1.16.4", None),
    ],
    ids=["-f before chart", "oci", "--repo bare name", "generate-name", "after &&",
         "path to helm", "double-quoted item", "single-quoted item", "--kube-tls-server-name",
         "local path", "bare name without --repo", "no version", "not install"],
)  # fmt: skip
def test_the_chart_of_a_helm_install_is_its_chart_argument(
    command: str, expected: tuple[str, str] | None
) -> None:
    sites = helm_install_pins(SourceFile("t.tftpl", command.encode(), command))
    assert [(s.subject, s.value) for s in sites] == ([expected] if expected else [])
    for site in sites:
        assert command[site.start : site.end] == site.value


def test_to_reports_the_drift_of_a_chart_outside_every_component(tmp_path: Path) -> None:
    # `check` reports it; a bump that says what it left unfixed must name it too, and must
    # not fail on drift that was there before it wrote.
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    (repo / "platform/docs/chart").mkdir(parents=True)
    (repo / "platform/docs/chart/Chart.yaml").write_text(
        "apiVersion: v2\nname: bp-docs\nversion: 0.3.0\n"
    )
    (repo / "clusters/c").mkdir(parents=True)
    (repo / "clusters/c/docs.yaml").write_text(DOCS_RELEASE.format(version="0.2.0"))
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    at = lines.index(
        "drift in components this run did not move (reported, not fixed; see 'fluxbump check'):"
    )
    assert lines[at + 1 :] == [
        "  clusters/c/docs.yaml:11: flux-system/bp-docs deploys bp-docs 0.2.0, chart is 0.3.0"
    ]
    assert "version: 0.2.0" in (repo / "clusters/c/docs.yaml").read_text()
    assert "download/v2.5.1/" in (repo / fleet.CLOUDINIT).read_text()


OUTSIDE_HEADING = "charts outside every component (checked; to and sync never move them):"


def docs_deployed(tmp_path: Path, version: str) -> Path:
    """``docs_fleet`` with a HelmRelease of bp-docs at ``version`` in clusters/a."""
    repo = docs_fleet(tmp_path)
    (repo / "clusters/a").mkdir(parents=True)
    (repo / "clusters/a/docs.yaml").write_text(DOCS_RELEASE.format(version=version))
    return repo


def test_status_shows_the_rows_of_charts_outside_every_component_under_their_own_heading(
    tmp_path: Path,
) -> None:
    # Appended to the last component's rows, bp-docs' Blueprint read as one of common's pins.
    repo = docs_deployed(tmp_path, "0.2.0")
    outcome = run_cli("status", "--verbose", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    heading = lines.index(OUTSIDE_HEADING)
    docs = [i for i, line in enumerate(lines) if "clusters/a/docs.yaml" in line]
    table = [i for i, line in enumerate(lines) if line.endswith(("  ok", "  NO", "  ??"))]
    assert docs == [heading + 1] and table[-1] == heading + 1, lines
    assert lines[heading + 1].split() == ["HelmRelease", "clusters/a/docs.yaml:11", "0.2.0",
                                          "0.3.0", "NO"]  # fmt: skip
    report = json.loads(run_cli("status", "--json", "--repo", str(repo), "--offline").stdout)
    outside = [(s["file"], s["line"]) for s in report["sites"] if s.get("outside_components")]
    assert outside == [("clusters/a/docs.yaml", 11)]
    assert {s["subject"] for s in report["sites"] if not s.get("outside_components")} >= {
        "flux2", "cilium", "bp-flux"
    }  # fmt: skip
    narrowed = run_cli("status", "--repo", str(repo), "--offline", "--component", "cilium")
    assert OUTSIDE_HEADING not in narrowed.stdout


def test_status_summary_has_a_line_for_the_charts_outside_every_component(
    tmp_path: Path,
) -> None:
    # Over three components status prints one line each: the outside charts' pins (and their
    # violation) were in no line, a reader of the table saw every component ok.
    repo = docs_deployed(tmp_path, "0.2.0")
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0].split() == ["COMPONENT", "CHARTS", "PIN-SITES", "STATE"]
    assert [line.split() for line in lines if line.startswith("(outside)")] == [
        ["(outside)", "bp-docs", "1", "1", "violation(s)"]
    ], lines
    edit(repo, "clusters/a/docs.yaml", "0.2.0", "0.3.0")
    consistent = run_cli("status", "--repo", str(repo), "--offline").stdout.splitlines()
    assert [line.split() for line in consistent if line.startswith("(outside)")] == [
        ["(outside)", "bp-docs", "1", "ok"]
    ], consistent
