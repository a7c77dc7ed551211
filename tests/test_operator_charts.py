"""flux-operator's charts as components (issue 21): ``flux-operator`` and ``flux-instance``.

A fixture repository of the flux-operator style (tests/data/operator): both charts from
OCIRepositories (one a ``ref.semver`` range), a HelmRelease of the instance chart from an OCI
HelmRepository, a helmfile bootstrap, a cloud-init and a shell ``helm install``, and
Terraform ``helm_release``s. End to end through the CLI; tags from a 127.0.0.1 registry.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fluxbump.remote.upstream import PLAIN_HTTP_ENV
from tests.support.cli_runner import run_cli
from tests.support.data import DATA
from tests.support.fixtures import git, init_git, snapshot, write_repo
from tests.support.helm_server import HelmServer
from tests.support.registry import Registry, serve_registry

HELMFILE = "bootstrap/helmfile.d/01-apps.yaml"
OPERATOR = "clusters/prod/flux-system/flux-operator.yaml"
INSTANCE = "clusters/prod/flux-system/flux-instance.yaml"
STAGING = "clusters/prod/flux-system/staging-instance.yaml"
CLOUD_INIT = "infra/cloud-init.yaml.tftpl"
SCRIPT = "scripts/bootstrap.sh"
TERRAFORM = "terraform/flux.tf"
GHCR = "oci://ghcr.io/controlplaneio-fluxcd/charts"


def operator_repo(tmp_path: Path, registry: str | None = None) -> Path:
    """The fixture in a git repository; ``registry``: its OCI URLs point at that host."""
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "operator", repo)
    if registry is not None:
        for path in repo.rglob("*"):
            if path.is_file():
                text = path.read_text("utf-8")
                path.write_text(text.replace("oci://ghcr.io/", f"oci://{registry}/"), "utf-8")
    init_git(repo)
    return repo


def edited(before: dict[str, bytes], edits: dict[str, list[tuple[str, str]]]) -> dict[str, bytes]:
    """The tree ``before`` with each file's (old line, new line) replaced, exactly once."""
    after = dict(before)
    for rel, lines in edits.items():
        text = after[rel].decode("utf-8")
        for old, new in lines:
            assert text.count(old) == 1, (rel, old)
            text = text.replace(old, new)
        after[rel] = text.encode("utf-8")
    return after


OPERATOR_EDITS = {
    HELMFILE: [("version: 0.33.0 # the", "version: 0.34.0 # the")],
    OPERATOR: [('tag: "v0.33.0"', 'tag: "v0.34.0"')],
    CLOUD_INIT: [("--create-namespace --version 0.33.0", "--create-namespace --version 0.34.0")],
    SCRIPT: [('--version "0.33.0"', '--version "0.34.0"')],
    TERRAFORM: [('version          = "0.33.0"', 'version          = "0.34.0"')],
}


def instance_edits(version: str) -> dict[str, list[tuple[str, str]]]:
    """The flux-instance pins moved to ``version`` (its ``ref.semver`` range is never
    rewritten)."""
    return {
        HELMFILE: [('version: "0.33.0"', f'version: "{version}"')],
        STAGING: [("version: '0.33.0'", f"version: '{version}'")],
        CLOUD_INIT: [("--version=v0.33.0", f"--version=v{version}")],
        TERRAFORM: [('version    = "v0.33.0"', f'version    = "v{version}"')],
    }


def merged(*edits: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for one in edits:
        for rel, lines in one.items():
            out[rel] = [*out.get(rel, []), *lines]
    return out


def test_status_shows_both_charts_as_components_with_every_pin(tmp_path: Path) -> None:
    repo = operator_repo(tmp_path)
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    data = json.loads(outcome.stdout)
    names = [(c["name"], c["upstream"]) for c in data["components"]]
    # Flux itself is pinned by the FluxInstance: a component of its own, with no chart.
    assert names == [
        ("flux", "flux2"), ("flux-operator", "flux-operator"), ("flux-instance", "flux-instance")
    ]  # fmt: skip
    rows = {(r["subject"], r["role"], f"{r['file']}:{r['line']}", r["value"], r["ok"])
            for r in data["sites"] if r["subject"] != "Flux"}  # fmt: skip
    assert rows == {
        ("flux-operator", "helmfile release version", f"{HELMFILE}:15", "0.33.0", True),
        ("flux-operator", "OCIRepository tag", f"{OPERATOR}:13", "v0.33.0", True),
        ("flux-operator", "cloud-init install", f"{CLOUD_INIT}:4", "0.33.0", True),
        ("flux-operator", "install script", f"{SCRIPT}:6", "0.33.0", True),
        ("flux-operator", "Terraform helm_release version", f"{TERRAFORM}:6", "0.33.0", True),
        ("flux-instance", "helmfile release version", f"{HELMFILE}:21", "0.33.0", True),
        ("flux-instance", "OCIRepository semver", f"{INSTANCE}:10", ">=0.30.0 <1.0.0", True),
        ("flux-instance", "HelmRelease", f"{STAGING}:19", "0.33.0", True),
        ("flux-instance", "cloud-init install", f"{CLOUD_INIT}:6", "v0.33.0", True),
        ("flux-instance", "Terraform helm_release version", f"{TERRAFORM}:15", "v0.33.0", True),
    }
    # cert-manager in the helmfile and Terraform, and the comment in the script, are no pins
    text = run_cli("status", "--repo", str(repo), "--offline").stdout
    assert f"flux-operator ({GHCR}/flux-operator)" in text


def test_check_reports_drift_between_the_pins_of_one_chart(tmp_path: Path) -> None:
    repo = operator_repo(tmp_path)
    path = repo / TERRAFORM
    path.write_text(path.read_text("utf-8").replace('"0.33.0"', '"0.32.1"'), "utf-8")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert (
        f"{TERRAFORM}:6: helm_release.flux_operator pins flux-operator 0.32.1, helmfile release "
        f"flux-operator pins 0.33.0 ({HELMFILE}:15) — make them agree: fluxbump to <version> "
        "--component flux-operator"
    ) in outcome.stdout
    assert outcome.stdout.count("violation") >= 1 and "flux-instance" not in outcome.stdout


def test_to_moves_both_operator_charts_and_nothing_else(tmp_path: Path) -> None:
    """Both charts are released together under one version (controlplaneio-fluxcd/charts):
    moving flux-operator alone would leave flux-instance drifted, so it moves too."""
    repo = operator_repo(tmp_path)
    before = snapshot(repo)
    args = ("to", "0.34.0", "--component", "flux-operator", "--offline", "--repo", str(repo))
    outcome = run_cli(*args)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert snapshot(repo) == edited(before, merged(OPERATOR_EDITS, instance_edits("0.34.0")))
    assert "flux-operator: flux-operator chart 0.34.0 (chart was 0.33.0)" in outcome.stdout
    assert "flux-instance: flux-instance chart 0.34.0 (chart was 0.33.0)" in outcome.stdout
    assert git(repo, "status", "--porcelain") == ""  # committed on its branch
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_scripts_helm_install_reads_as_an_install_script_not_cloud_init(
    tmp_path: Path,
) -> None:
    """scripts/bootstrap.sh's ``helm upgrade --install flux-operator`` was labelled
    "cloud-init install" in status and in the commit, sending the reader to a template."""
    repo = operator_repo(tmp_path)
    table = run_cli("status", "--repo", str(repo), "--offline").stdout.splitlines()
    rows = [line.split()[:3] for line in table if SCRIPT in line or CLOUD_INIT in line]
    assert rows == [
        ["cloud-init", "install", f"{CLOUD_INIT}:4"],
        ["install", "script", f"{SCRIPT}:6"],
        ["cloud-init", "install", f"{CLOUD_INIT}:6"],
    ]
    args = ("to", "0.34.0", "--component", "flux-operator", "--offline", "--repo", str(repo))
    assert run_cli(*args).code == 0
    message = git(repo, "log", "-1", "--format=%B")
    assert f"- {SCRIPT}:6: install script (script) 0.33.0 -> 0.34.0" in message
    assert f"- {CLOUD_INIT}:4: cloud-init install (cloud-init) 0.33.0 -> 0.34.0" in message


def test_a_repository_pinning_one_operator_chart_moves_only_that_one(tmp_path: Path) -> None:
    repo = operator_repo(tmp_path)
    (repo / ".fluxbump.yaml").write_text("components:\n  flux-instance: false\n", "utf-8")
    git(repo, "add", ".fluxbump.yaml")
    git(repo, "commit", "-qm", "flux-instance is not managed here")
    before = snapshot(repo)
    args = ("to", "0.34.0", "--component", "flux-operator", "--offline", "--repo", str(repo))
    outcome = run_cli(*args)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert snapshot(repo) == edited(before, OPERATOR_EDITS)
    assert "flux-instance" not in outcome.stdout


def test_to_verifies_the_version_against_the_charts_oci_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_server: HelmServer
) -> None:
    chart = "controlplaneio-fluxcd/charts/flux-instance"
    operator = "controlplaneio-fluxcd/charts/flux-operator"
    registry = Registry(
        pages={chart: [["0.33.0", "0.34.0"], ["0.35.0"]], operator: [["0.34.0", "0.35.0"]]}
    )
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, registry.host)
        repo = operator_repo(tmp_path, registry.host)
        before = snapshot(repo)
        index = ("--helm-repo", helm_server.base_url, "--repo", str(repo))
        missing = run_cli("to", "0.36.0", "--component", "flux-instance", *index)
        assert missing.code != 0 and "0.36.0" in missing.stderr, missing.stderr
        assert snapshot(repo) == before
        outcome = run_cli("to", "latest", "--component", "flux-instance", "--no-git", *index)
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        listed = {r.path.split("/tags/")[0] for r in registry.tag_requests()}
        assert listed == {f"/v2/{chart}", f"/v2/{operator}"}, "both charts' tags were listed"
    operator_edits = {
        rel: [(old.replace("0.34.0", "0.35.0"), new.replace("0.34.0", "0.35.0"))
              for old, new in lines]
        for rel, lines in OPERATOR_EDITS.items()
    }  # fmt: skip
    # the ``ref.semver`` range admits 0.35.0 and is never rewritten; flux-operator follows
    assert snapshot(repo) == edited(before, merged(instance_edits("0.35.0"), operator_edits))


def test_a_version_only_one_chart_has_moves_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_server: HelmServer
) -> None:
    chart = "controlplaneio-fluxcd/charts/flux-instance"
    operator = "controlplaneio-fluxcd/charts/flux-operator"
    registry = Registry(pages={chart: [["0.34.0"]], operator: [["0.33.0"]]})
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, registry.host)
        repo = operator_repo(tmp_path, registry.host)
        before = snapshot(repo)
        index = ("--helm-repo", helm_server.base_url, "--repo", str(repo), "--no-git")
        outcome = run_cli("to", "0.34.0", "--component", "flux-instance", *index)
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.startswith(
        "error: flux-operator moves with flux-instance (both charts are released under one "
        "version): chart 'flux-operator' version 0.34.0 is not published in oci://"
    ), outcome.stderr
    assert len(outcome.stderr.splitlines()) == 1
    assert snapshot(repo) == before


def test_a_range_that_excludes_the_target_blocks_the_move(tmp_path: Path) -> None:
    repo = operator_repo(tmp_path)
    before = snapshot(repo)
    args = ("to", "1.0.0", "--component", "flux-instance", "--offline", "--repo", str(repo))
    outcome = run_cli(*args)
    assert outcome.code != 0
    assert (
        f"{INSTANCE}:10: OCIRepository flux-system/flux-instance requires flux-instance "
        ">=0.30.0 <1.0.0, which does not admit 1.0.0"
    ) in outcome.stderr
    assert snapshot(repo) == before


# The OCIRepository, or the bootstrap script's ``helm install`` (a script pin was compared
# with the base as a templatefile() literal, found none, and sync said "nothing to do").
@pytest.mark.parametrize("renovated", [OPERATOR, SCRIPT])
def test_sync_moves_the_other_pins_to_the_one_renovate_moved(
    tmp_path: Path, renovated: str
) -> None:
    repo = operator_repo(tmp_path)
    path = repo / renovated
    old, new = OPERATOR_EDITS[renovated][0]
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    git(repo, "commit", "-qam", "renovate: flux-operator v0.34.0")
    before = snapshot(repo)
    outcome = run_cli("sync", "--repo", str(repo), "--offline", "--base", "HEAD~1")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    moved = {k: v for k, v in OPERATOR_EDITS.items() if k != renovated}
    # flux-instance follows: one version line with flux-operator
    assert snapshot(repo) == edited(before, merged(moved, instance_edits("0.34.0")))


def test_components_false_excludes_an_operator_chart_and_narrowing_names_it(
    tmp_path: Path,
) -> None:
    repo = operator_repo(tmp_path)
    narrowed = run_cli("check", "--repo", str(repo), "--offline", "--component", "flux-operator")
    assert narrowed.code == 0, narrowed.stdout + narrowed.stderr
    assert "5 pin-sites agree" in narrowed.stdout
    (repo / ".fluxbump.yaml").write_text("components:\n  flux-instance: false\n", "utf-8")
    data = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    assert [c["name"] for c in data["components"]] == ["flux", "flux-operator"]
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--component", "flux-instance")
    assert outcome.code == 2
    assert (
        "--component flux-instance: no such component (found: flux, flux-operator)"
        in outcome.stderr
    )


GOTMPL = "bootstrap/helmfile.yaml.gotmpl"
GOTMPL_TEXT = """\
---
{{- $registry := "oci://ghcr.io/controlplaneio-fluxcd/charts" }}
helmDefaults:
  wait: {{ env "WAIT" | default "true" }}

releases:
  - name: flux-operator
    namespace: flux-system
    chart: {{ $registry }}/flux-operator
    version: "0.33.0" # moved with the other pins
    values: ['{{ requiredEnv "VALUES" }}']

  - name: flux-instance
    namespace: flux-system
    chart: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
    version: {{ .Values.instanceVersion }}
{{- if eq .Environment.Name "staging" }}
  - name: flux-instance-staging
    chart: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
    version: "{{ .Values.stagingVersion }}"
{{- end }}
"""


def with_gotmpl(tmp_path: Path) -> Path:
    repo = operator_repo(tmp_path)
    (repo / GOTMPL).write_text(GOTMPL_TEXT, "utf-8")
    git(repo, "add", GOTMPL)
    git(repo, "commit", "-qm", "helmfile template")
    return repo


def test_a_helmfile_template_pins_literal_versions_and_templated_ones_are_unproven(
    tmp_path: Path,
) -> None:
    repo = with_gotmpl(tmp_path)
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    rows = [(r["subject"], r["line"], r["value"], r["ok"], r["proven"])
            for r in json.loads(outcome.stdout)["sites"] if r["file"] == GOTMPL]  # fmt: skip
    assert rows == [
        ("flux-operator", 10, "0.33.0", True, True),
        ("flux-instance", 16, "{{ .Values.instanceVersion }}", True, False),
        ("flux-instance", 20, "{{ .Values.stagingVersion }}", True, False),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # unproven, not a violation


def test_a_helmfile_template_literal_that_disagrees_is_a_violation(tmp_path: Path) -> None:
    repo = with_gotmpl(tmp_path)
    path = repo / GOTMPL
    path.write_text(GOTMPL_TEXT.replace('"0.33.0"', '"0.32.0"'), "utf-8")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{GOTMPL}:10: helmfile release flux-operator pins flux-operator 0.32.0" in check.stdout


def test_to_moves_a_helmfile_template_literal_and_leaves_its_actions(tmp_path: Path) -> None:
    repo = with_gotmpl(tmp_path)
    before = snapshot(repo)
    args = ("to", "0.34.0", "--component", "flux-operator", "--offline", "--repo", str(repo))
    outcome = run_cli(*args)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    gotmpl = {GOTMPL: [('version: "0.33.0" # moved', 'version: "0.34.0" # moved')]}
    assert snapshot(repo) == edited(
        before, merged(OPERATOR_EDITS, instance_edits("0.34.0"), gotmpl)
    )


def test_init_names_the_operator_charts_it_found(tmp_path: Path) -> None:
    repo = operator_repo(tmp_path)
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text("utf-8")
    assert "; flux-operator chart(s): flux-operator, flux-instance" in text
    after = run_cli("check", "--repo", str(repo), "--offline")
    assert after.code == 0, after.stdout + after.stderr


# ydigitalspace/k8sdiy-env-2025's bootstrap/flux.tf: both charts by helm_release, no version.
UNVERSIONED_TF = """\
resource "helm_release" "flux_operator" {
  name             = "flux-operator"
  namespace        = "flux-system"
  repository       = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart            = "flux-operator"
  create_namespace = true
}
resource "helm_release" "flux_instance" {
  depends_on = [helm_release.flux_operator]
  name       = "flux-instance"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-instance"
}
"""
UNVERSIONED_SH = (
    "#!/bin/sh\nhelm install flux-operator "
    "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator -n flux-system\n"
)


def unversioned_repo(tmp_path: Path, rel: str, text: str) -> Path:
    """A git repository of ``UNVERSIONED_TF`` and one more file."""
    repo = tmp_path / "repo"
    for path, content in (("bootstrap/flux.tf", UNVERSIONED_TF), (rel, text)):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content, "utf-8")
    init_git(repo)
    return repo


def test_an_operator_chart_installed_with_no_version_is_a_problem_at_its_chart_line(
    tmp_path: Path,
) -> None:
    # The Helm provider (and a bare ``helm install``) installs the newest chart at every
    # apply: status showed no pin, check said 'nothing to check'.
    repo = unversioned_repo(tmp_path, SCRIPT, UNVERSIONED_SH)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    for where, chart, owner in (
        ("bootstrap/flux.tf:5", "flux-operator", "helm_release.flux_operator"),
        ("bootstrap/flux.tf:12", "flux-instance", "helm_release.flux_instance"),
    ):
        assert (
            f"{where}: {owner} deploys {chart} with no version: the Helm provider installs the "
            f"newest {chart} chart, and this repository pins no exact version of it to "
            "compare; add 'version = \"X.Y.Z\"'" in check.stdout
        ), check.stdout
    assert (
        f"{SCRIPT}:2: helm install of flux-operator with no --version: Helm installs the newest "
        "flux-operator chart" in check.stdout
    ), check.stdout
    before = snapshot(repo)
    args = ("to", "0.34.0", "--component", "flux-operator", "--offline", "--repo", str(repo))
    bump = run_cli(*args)
    assert bump.code == 2, bump.stdout + bump.stderr
    assert "bootstrap/flux.tf:5: helm_release.flux_operator deploys flux-operator" in bump.stderr
    assert snapshot(repo) == before


def test_an_unversioned_operator_chart_is_told_the_version_its_other_pins_hold(
    tmp_path: Path,
) -> None:
    source = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n"
        f"  name: flux-operator\nspec:\n  url: {GHCR}/flux-operator\n  ref:\n"
        '    tag: "0.33.0"\n'
    )
    repo = unversioned_repo(tmp_path, OPERATOR, source)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "bootstrap/flux.tf:5: helm_release.flux_operator deploys flux-operator with no version: "
        "the Helm provider installs the newest flux-operator chart, not the one this repository "
        "pins; add 'version = \"0.33.0\"' to it"
    ) in check.stdout


def test_sync_with_an_operator_chart_installed_with_no_version_refuses_not_nothing_to_do(
    tmp_path: Path,
) -> None:
    # check exits 1 on it, but sync said "no pin moved …; nothing to do" (exit 0), so
    # Renovate's post-upgrade task committed a branch whose flux-operator floats.
    repo = unversioned_repo(tmp_path, SCRIPT, UNVERSIONED_SH)
    before = snapshot(repo)
    synced = run_cli("sync", "--repo", str(repo), "--offline")
    assert synced.code == 2, synced.stdout + synced.stderr
    assert synced.stderr.startswith(
        "error: bootstrap/flux.tf:5: helm_release.flux_operator deploys flux-operator with no "
        "version"
    ), synced.stderr
    assert synced.stderr.count("\n") == 1, synced.stderr
    assert snapshot(repo) == before


def oci_repository(chart: str, tag: str) -> str:
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n"
        f"  name: {chart}\n  namespace: flux-system\nspec:\n"
        f'  url: {GHCR}/{chart}\n  ref:\n    tag: "{tag}"\n'
    )


def test_the_two_operator_charts_apart_are_a_warning_naming_the_bump_that_joins_them(
    tmp_path: Path,
) -> None:
    # to and sync move both charts (upstream releases them under one version), but check said
    # "consistent" without a word when they were apart (xunholy/k8s-gitops after a partial
    # update). Each still deploys: a warning, exit 0.
    files = {
        "c/flux-operator.yaml": oci_repository("flux-operator", "0.59.0"),
        "c/flux-instance.yaml": oci_repository("flux-instance", "0.53.0"),
    }
    repo = write_repo(tmp_path / "repo", files)
    check = run_cli("check", "--repo", str(repo), "--offline", "--json")
    assert check.code == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["warnings"] == [
        {
            "file": "c/flux-instance.yaml",
            "line": 9,
            "message": "flux-instance pins 0.53.0, flux-operator 0.59.0 (c/flux-operator.yaml:9): "
            "upstream releases both charts under one version; 'fluxbump to 0.59.0 --component "
            "flux-operator' moves both",
        }
    ]
    (repo / "c/flux-instance.yaml").write_text(oci_repository("flux-instance", "0.59.0"), "utf-8")
    again = run_cli("check", "--repo", str(repo), "--offline", "--json")
    assert json.loads(again.stdout)["warnings"] == []
