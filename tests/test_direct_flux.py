"""No wrapper chart: HelmReleases deploy the community ``flux2`` chart directly (issue 16,
item 1). Their ``spec.chart.spec.version`` is the Flux component's chart pin: ``to`` moves
every one of them with the cloud-init URL and every other Flux pin; ``check`` compares each
with the cloud-init release; ``sync`` follows whichever pin Renovate moved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import edit, git, snapshot
from tests.support.layouts import COMMUNITY, write_repo

PROD = "clusters/prod/flux-system/flux.yaml"
STAGING = "clusters/staging/flux-system/flux.yaml"
OCI = "clusters/lab/flux-system/flux.yaml"
CLOUD_INIT = "terraform/cloud-init.yaml.tftpl"
TOOLS = ".tool-versions"


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


# The API versions of the objects: today's, and those Flux 2.2 serves (v1 and v2 came in 2.3).
CURRENT = ("source.toolkit.fluxcd.io/v1", "helm.toolkit.fluxcd.io/v2")
FLUX_2_2 = ("source.toolkit.fluxcd.io/v1beta2", "helm.toolkit.fluxcd.io/v2beta2")


def release(version: str, *, repository: bool = True, apis: tuple[str, str] = CURRENT) -> str:
    """A HelmRepository of the community charts and a HelmRelease of flux2 at ``version``
    (written as given: quoted or not)."""
    source = (
        f"apiVersion: {apis[0]}\nkind: HelmRepository\n"
        "metadata:\n  name: fluxcd-community\n  namespace: flux-system\n"
        f"spec:\n  interval: 24h\n  url: {COMMUNITY}\n---\n"
    )
    return (source if repository else "") + (
        f"apiVersion: {apis[1]}\nkind: HelmRelease\n"
        "metadata:\n  name: flux\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n  chart:\n    spec:\n"
        f"      chart: flux2\n      version: {version}  # the community chart\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: fluxcd-community\n"
        "  values:\n    policies:\n      create: false\n"
    )


def cloud_init(release: str) -> str:
    return (
        "#cloud-config\nruncmd:\n"
        f"  - kubectl apply -f https://github.com/fluxcd/flux2/releases/download/{release}"
        "/install.yaml\n  - echo done\n"
    )


def direct_layout(
    root: Path,
    *,
    with_cloud_init: bool = True,
    prod: str = "2.12.4",
    apis: tuple[str, str] = CURRENT,
) -> Path:
    """Two clusters, each deploying flux2 2.12.4 (Flux 2.2.3) directly; one quotes it. Their
    objects are at ``apis`` (``FLUX_2_2`` for a check to pass: 2.2 serves neither of today's)."""
    files = {
        PROD: release(prod, apis=apis),
        STAGING: release('"2.12.4"', apis=apis),
        TOOLS: "flux2 2.2.3\nkubectl 1.30.0\n",
    }
    if with_cloud_init:
        files[CLOUD_INIT] = cloud_init("v2.2.3")
    return write_repo(root, files)


def assert_they_agree(repo: Path, count: int) -> None:
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert f"{count} pin-sites agree" in check.stdout


def bumped(repo: Path) -> dict[str, str]:
    """The files ``to 2.4.0 --no-git`` changed (it must succeed), by their new text."""
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    return changed(before, snapshot(repo))


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, str]:
    assert before.keys() == after.keys()
    return {rel: after[rel].decode() for rel in after if after[rel] != before[rel]}


def test_status_and_check_take_the_direct_helmreleases_as_the_flux_chart_pins(
    tmp_path: Path,
) -> None:
    repo = direct_layout(tmp_path / "repo", apis=FLUX_2_2)
    status = run(repo, "status", "--json")
    assert status.code == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["components"] == [{"name": "flux", "wrapper": None, "upstream": "flux2"}]
    assert [(s["role"], s["file"], s["line"], s["value"]) for s in document["sites"]] == [
        ("cloud-init install", CLOUD_INIT, 3, "v2.2.3"),
        ("HelmRelease", PROD, 20, "2.12.4"),
        ("HelmRelease", STAGING, 20, "2.12.4"),
        ("Flux CLI pin", TOOLS, 1, "2.2.3"),
    ]
    assert_they_agree(repo, 4)


def test_to_moves_every_direct_helmrelease_with_cloud_init_and_the_cli(tmp_path: Path) -> None:
    repo = direct_layout(tmp_path / "repo")
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert "Flux v2.4.0 → flux2 chart 2.14.1 (from Flux v2.2.3, chart 2.12.4)" in bump.stdout
    assert changed(before, snapshot(repo)) == {
        PROD: release("2.14.1"),
        STAGING: release('"2.14.1"'),
        CLOUD_INIT: cloud_init("v2.4.0"),
        TOOLS: "flux2 2.4.0\nkubectl 1.30.0\n",
    }
    assert git(repo, "log", "-1", "--format=%s") == "Bump Flux to v2.4.0 (flux2 chart 2.14.1)"
    assert run(repo, "check").code == 0


def test_to_without_cloud_init_moves_the_helmreleases_and_the_cli(tmp_path: Path) -> None:
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False)
    assert bumped(repo) == {
        PROD: release("2.14.1"),
        STAGING: release('"2.14.1"'),
        TOOLS: "flux2 2.4.0\nkubectl 1.30.0\n",
    }
    assert run(repo, "check").code == 0


def test_check_compares_each_direct_helmrelease_with_the_cloud_init_release(
    tmp_path: Path,
) -> None:
    repo = direct_layout(tmp_path / "repo", prod="2.13.0")  # Flux 2.3.0, cloud-init 2.2.3
    check = run(repo, "check")
    assert check.code == 1
    assert (
        f"{PROD}:20: flux2 2.13.0 carries appVersion 2.3.0 but cloud-init installs Flux "
        f"v2.2.3 ({CLOUD_INIT}:3) — run 'fluxbump to 2.2.3'"
    ) in check.stdout
    assert STAGING not in check.stdout


def test_without_cloud_init_the_direct_helmreleases_must_agree(tmp_path: Path) -> None:
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False, prod="2.13.0")
    check = run(repo, "check")
    assert check.code == 1
    assert (
        f"{STAGING}:20: flux-system/flux deploys flux2 2.12.4, but flux-system/flux deploys "
        f"2.13.0 ({PROD}:20); make them agree"
    ) in check.stdout


def test_sync_follows_the_helmrelease_renovate_moved(tmp_path: Path) -> None:
    repo = direct_layout(tmp_path / "repo")
    path = repo / STAGING
    path.write_text(release('"2.14.1"'))  # what Renovate's flux manager does
    before = snapshot(repo)
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert changed(before, snapshot(repo)) == {
        PROD: release("2.14.1"),
        CLOUD_INIT: cloud_init("v2.4.0"),
        TOOLS: "flux2 2.4.0\nkubectl 1.30.0\n",
    }


def test_an_ocirepository_of_the_community_chart_is_a_pin_too(tmp_path: Path) -> None:
    oci = (
        "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\n"
        "metadata:\n  name: flux2\n  namespace: flux-system\nspec:\n  interval: 1h\n"
        "  url: oci://ghcr.io/fluxcd-community/charts/flux2\n  ref:\n    tag: 2.12.4\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: flux\n  namespace: flux-system\nspec:\n  interval: 1h\n"
        "  chartRef:\n    kind: OCIRepository\n    name: flux2\n"
    )
    repo = direct_layout(tmp_path / "repo")
    (repo / OCI).parent.mkdir(parents=True)
    (repo / OCI).write_text(oci)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lab")
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    after = changed(before, snapshot(repo))
    assert after[OCI] == oci.replace("tag: 2.12.4", "tag: 2.14.1")
    assert sorted(after) == sorted([CLOUD_INIT, OCI, PROD, STAGING, TOOLS])


def test_a_wrapper_still_wins_over_direct_helmreleases(tmp_path: Path) -> None:
    """With a bp-flux chart, a HelmRelease of flux2 is not a pin of the Flux component."""
    repo = direct_layout(tmp_path / "repo")
    (repo / "charts/bp-flux").mkdir(parents=True)
    (repo / "charts/bp-flux/Chart.yaml").write_text(
        f"apiVersion: v2\nname: bp-flux\nversion: 1.0.0\ndependencies:\n"
        f"  - name: flux2\n    version: 2.12.4\n    repository: {COMMUNITY}\n"
    )
    document = json.loads(run(repo, "status", "--json").stdout)
    assert document["components"] == [{"name": "flux", "wrapper": "bp-flux", "upstream": "flux2"}]
    assert not any(s["file"] in (PROD, STAGING) for s in document["sites"])


def test_init_writes_a_config_that_keeps_the_direct_layout(tmp_path: Path) -> None:
    repo = direct_layout(tmp_path / "repo", apis=FLUX_2_2)
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text()
    assert "\nwrapper: bp-flux\n" in text
    assert f"wrapper none (HelmReleases deploy flux2: {PROD}, {STAGING}); " in text
    assert "2 HelmRelease pin(s)" in text
    document = json.loads(run(repo, "status", "--json").stdout)
    assert document["components"] == [{"name": "flux", "wrapper": None, "upstream": "flux2"}]
    assert run(repo, "check").code == 0


TF_MAIN = "terraform/flux/main.tf"
TF_VARS = "terraform/flux/variables.tf"
TF_LITERAL = "terraform/lab/flux.tf"


def helm_release_tf(version: str) -> str:
    """A Terraform helm_release of the community flux2 chart (the Helm provider's resource)."""
    return (
        'resource "helm_release" "flux2" {\n'
        f'  repository       = "{COMMUNITY}"\n'
        '  chart            = "flux2"\n  name             = "flux2"\n'
        '  namespace        = "flux-system"\n  create_namespace = true\n'
        f"  version          = {version}\n"
        '  set {\n    name  = "policies.create"\n    value = "false"\n  }\n}\n'
    )


def terraform_layout(root: Path, *, default: str = "2.12.4") -> Path:
    """Flux installed by Terraform's Helm provider: one module takes the chart version from
    a variable's default, another writes it; no cloud-init, no HelmRelease."""
    return write_repo(
        root,
        {
            TF_MAIN: helm_release_tf("var.flux_version"),
            TF_VARS: f'variable "flux_version" {{\n  type    = string\n  default = "{default}"\n}}\n',
            TF_LITERAL: helm_release_tf('"2.12.4"'),
            TOOLS: "flux2 2.2.3\n",
        },
    )


def test_a_terraform_helm_release_of_flux2_is_a_flux_chart_pin(tmp_path: Path) -> None:
    repo = terraform_layout(tmp_path / "repo")
    document = json.loads(run(repo, "status", "--json").stdout)
    assert document["components"] == [{"name": "flux", "wrapper": None, "upstream": "flux2"}]
    role = "Terraform helm_release version"
    assert [(s["role"], s["file"], s["line"], s["value"]) for s in document["sites"]] == [
        (role, TF_VARS, 3, "2.12.4"),  # the default var.flux_version takes
        (role, TF_LITERAL, 7, "2.12.4"),
        ("Flux CLI pin", TOOLS, 1, "2.2.3"),
    ]
    assert_they_agree(repo, 3)
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo)) == {
        TF_VARS: before[TF_VARS].decode().replace('"2.12.4"', '"2.14.1"'),
        TF_LITERAL: helm_release_tf('"2.14.1"'),
        TOOLS: "flux2 2.4.0\n",
    }
    assert run(repo, "check").code == 0


def test_terraform_helm_releases_of_flux2_that_disagree_are_a_violation(tmp_path: Path) -> None:
    repo = terraform_layout(tmp_path / "repo", default="2.13.0")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{TF_LITERAL}:7: " in check.stdout and "make them agree" in check.stdout


def test_a_terraform_helm_release_of_a_variable_nothing_sets_is_unproven(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {TF_MAIN: helm_release_tf("var.flux_version")})
    status = run(repo, "status", "--json")
    assert status.code == 0, status.stderr
    document = json.loads(status.stdout)
    assert [(s["file"], s["value"], s["proven"]) for s in document["sites"]] == [
        (TF_MAIN, "var.flux_version", False)
    ]
    assert document["violations"] == []
    check = run(repo, "check")  # as a ${VAR} set outside the repository: said, not failed
    assert check.code == 0, check.stdout + check.stderr
    assert f"0 pin-sites agree, 1 cannot be proven: {TF_MAIN}:7" in check.stdout


SCRIPT = "scripts/bootstrap.sh"


def bootstrap_script(version: str) -> str:
    return (
        "#!/bin/sh\nset -eu\nhelm repo add fluxcd-community "
        f"{COMMUNITY}\nhelm upgrade --install flux fluxcd-community/flux2 \\\n"
        f"  --version {version} -n flux-system --create-namespace\n"
    )


def test_a_helm_install_of_flux2_in_a_script_is_a_flux_chart_pin(tmp_path: Path) -> None:
    # svc-design/gitops installs Flux by ``helm upgrade --install … flux2 --version`` in its
    # bootstrap scripts: the chart version, not a Flux release, moved with the HelmReleases.
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False, apis=FLUX_2_2)
    (repo / SCRIPT).parent.mkdir()
    (repo / SCRIPT).write_text(bootstrap_script("2.12.4"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "script")
    document = json.loads(run(repo, "status", "--json").stdout)
    assert ("helm install version", SCRIPT, 5, "2.12.4") in [
        (s["role"], s["file"], s["line"], s["value"]) for s in document["sites"]
    ]
    assert run(repo, "check").code == 0
    (repo / SCRIPT).write_text(bootstrap_script("2.13.0"))
    check = run(repo, "check")
    assert check.code == 1 and f"{SCRIPT}:5: " in check.stdout, check.stdout + check.stderr
    (repo / SCRIPT).write_text(bootstrap_script("2.12.4"))
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo))[SCRIPT] == bootstrap_script("2.14.1")


def test_helm_global_flags_before_install_or_upgrade_still_make_a_chart_pin(
    tmp_path: Path,
) -> None:
    # SamInTheShell/notebook installs Flux with ``helm --namespace flux-system upgrade flux2
    # flux2 --install … --repo URL``: Helm takes its global flags before the subcommand, and
    # only ``helm install|upgrade`` right after ``helm`` was read, so the pin was read nowhere.
    script = (
        "#!/bin/sh\nhelm --namespace flux-system upgrade flux2 flux2 --install \\\n"
        f"  --create-namespace --version '2.12.4' --repo {COMMUNITY}\n"
        "helm -n flux-system --kube-context=prod --debug install flux fluxcd-community/flux2"
        " --version 2.12.4\n"
        "echo 'run helm to upgrade flux2 later'\n"
    )
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False, apis=FLUX_2_2)
    (repo / SCRIPT).parent.mkdir()
    (repo / SCRIPT).write_text(script)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "script")
    document = json.loads(run(repo, "status", "--json").stdout)
    assert [
        (s["file"], s["line"], s["value"])
        for s in document["sites"]
        if s["role"] == "helm install version"
    ] == [(SCRIPT, 3, "2.12.4"), (SCRIPT, 4, "2.12.4")]
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo))[SCRIPT] == script.replace("2.12.4", "2.14.1")


def test_a_cloud_init_helm_install_of_flux2_is_its_chart_pin_not_a_missing_url(
    tmp_path: Path,
) -> None:
    template = (
        "#cloud-config\nruncmd:\n  - helm install flux oci://ghcr.io/fluxcd-community/charts/"
        "flux2 --version {} -n flux-system\n"
    )
    repo = write_repo(tmp_path / "repo", {CLOUD_INIT: template.format("2.12.4")})
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr  # was: no line installs install.yaml
    assert "1 pin-sites agree" in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo)) == {CLOUD_INIT: template.format("2.14.1")}


def test_sync_follows_a_terraform_or_script_chart_pin_renovate_moved(tmp_path: Path) -> None:
    repo = terraform_layout(tmp_path / "repo")
    (repo / SCRIPT).parent.mkdir()
    (repo / SCRIPT).write_text(bootstrap_script("2.12.4"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "script")
    (repo / TF_LITERAL).write_text(helm_release_tf('"2.14.1"'))  # Renovate's terraform manager
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / SCRIPT).read_text() == bootstrap_script("2.14.1")
    assert '"2.14.1"' in (repo / TF_VARS).read_text()
    assert (repo / TOOLS).read_text() == "flux2 2.4.0\n"


def test_sync_with_nothing_moved_and_no_cloud_init_changes_nothing(tmp_path: Path) -> None:
    # It said "cloud-init pins disagree or are not X.Y.Z: ; fix one" with no template at all.
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False)
    before = snapshot(repo)
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert "cloud-init" not in synced.stdout + synced.stderr
    assert snapshot(repo) == before


def test_to_with_only_an_unset_variable_does_not_claim_the_target_is_installed(
    tmp_path: Path,
) -> None:
    # It said "already at v2.4.0" and took "ar.flux_version" (var. without its v) as the chart.
    repo = write_repo(tmp_path / "repo", {TF_MAIN: helm_release_tf("var.flux_version")})
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert "already at" not in bump.stdout and "no pin names an exact release" in bump.stdout
    document = json.loads(run(repo, "to", "2.4.0", "--no-git", "--json").stdout)
    assert document["from"] == {"release": None, "chart": None}


def test_sync_reads_a_literal_helm_release_beside_a_variable_one_at_its_own_place(
    tmp_path: Path,
) -> None:
    # The base's pins of main.tf were read with the var.flux_version reference among them, so
    # the literal release (the second) was compared with "var.flux_version": moved, it said;
    # and a default in the same file counted among today's, so a moved literal was not seen.
    variable = 'variable "flux_version" {\n  type    = string\n  default = "2.12.4"\n}\n'
    second = helm_release_tf('"2.12.4"').replace('"flux2" {', '"flux2_b" {')
    for files in (
        {TF_MAIN: helm_release_tf("var.flux_version") + second, TF_VARS: variable},
        {TF_MAIN: variable + helm_release_tf("var.flux_version") + second},  # one file
    ):
        repo = write_repo(tmp_path / f"repo{len(files)}", {**files, TOOLS: "flux2 2.2.3\n"})
        holder = TF_VARS if TF_VARS in files else TF_MAIN
        (repo / holder).write_text(files[holder].replace("2.12.4", "2.14.1", 1))  # Renovate
        synced = run(repo, "sync")
        assert synced.code == 0, synced.stdout + synced.stderr
        assert (repo / TF_MAIN).read_text().count('"2.14.1"') == (2 if holder == TF_MAIN else 1)
        assert (repo / TOOLS).read_text() == "flux2 2.4.0\n"
    text = variable + helm_release_tf("var.flux_version") + second
    repo = write_repo(tmp_path / "repo", {TF_MAIN: text, TOOLS: "flux2 2.2.3\n"})
    at = text.rindex("2.12.4")
    (repo / TF_MAIN).write_text(text[:at] + "2.14.1" + text[at + 6 :])  # Renovate: the literal
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / TF_MAIN).read_text().count('"2.14.1"') == 2
    assert (repo / TOOLS).read_text() == "flux2 2.4.0\n"


def assert_a_problem_that_blocks_a_bump(repo: Path, said: str) -> None:
    """``check`` says ``said`` (exit 1); ``to`` refuses with it (exit 2), writing nothing."""
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert said in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert said in bump.stderr
    assert snapshot(repo) == before


def test_a_terraform_helm_release_of_flux2_with_no_version_is_a_problem_not_agreement(
    tmp_path: Path,
) -> None:
    # 4T-24/ctf-2024-infra and tetratelabs/tetrate-service-bridge-sandbox install flux2 by a
    # helm_release with no ``version``: the Helm provider installs the newest chart at every
    # apply, so the CLI pin beside it agreeing with nothing is no proof (it said it agreed).
    unversioned = helm_release_tf("var.unused").replace("  version          = var.unused\n", "")
    repo = write_repo(tmp_path / "repo", {TF_MAIN: unversioned, TOOLS: "flux2 2.2.3\n"})
    said = (
        f"{TF_MAIN}:3: helm_release.flux2 deploys flux2 with no version: the Helm provider "
        "installs the newest flux2 chart, and this repository pins no exact version of it to "
        "compare; add 'version = \"X.Y.Z\"' to it"
    )
    assert_a_problem_that_blocks_a_bump(repo, said)
    # alone, it is still Flux deployed with nothing pinned: a problem, not 'nothing to check'
    (repo / TOOLS).unlink()
    alone = run(repo, "check")
    assert alone.code == 1, alone.stdout + alone.stderr
    assert f"{TF_MAIN}:3: helm_release.flux2" in alone.stdout


def test_a_terraform_helm_release_of_flux2_whose_version_is_an_expression_is_no_problem(
    tmp_path: Path,
) -> None:
    # ``version = local.flux`` names a version this cannot read: not a missing one.
    repo = write_repo(
        tmp_path / "repo",
        {TF_MAIN: helm_release_tf("local.flux"), TOOLS: "flux2 2.2.3\n"},
    )
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "no version" not in check.stdout + check.stderr


def test_a_helm_install_of_flux2_with_no_version_in_a_script_is_a_problem_not_agreement(
    tmp_path: Path,
) -> None:
    # grafana/k8s-monitoring-helm's test scripts install flux2 by ``helm upgrade --install …
    # oci://ghcr.io/fluxcd-community/charts/flux2`` with no ``--version``: Helm installs the
    # newest chart, so the CLI pin beside it agreeing with nothing is no proof.
    command = (
        "#!/bin/sh\nset -eu\nhelm upgrade --install --namespace flux-system \\\n"
        "  --create-namespace flux oci://ghcr.io/fluxcd-community/charts/flux2 --wait\n"
    )
    repo = write_repo(tmp_path / "repo", {SCRIPT: command, TOOLS: "flux2 2.2.3\n"})
    said = (
        f"{SCRIPT}:4: helm upgrade of flux2 with no --version: Helm installs the newest flux2 "
        "chart, and this repository pins no exact version of it to compare; add "
        "'--version X.Y.Z'"
    )
    assert_a_problem_that_blocks_a_bump(repo, said)


def test_a_helm_install_of_flux2_with_no_version_in_a_cloud_init_template_is_a_problem(
    tmp_path: Path,
) -> None:
    template = "#cloud-config\nruncmd:\n  - helm install flux fluxcd-community/flux2 -n flux\n"
    repo = write_repo(tmp_path / "repo", {CLOUD_INIT: template, TOOLS: "flux2 2.2.3\n"})
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{CLOUD_INIT}:3: helm install of flux2 with no --version" in check.stdout


# --- Argo CD: an Application installing the community chart -----------------------------------
# Its Helm source (``spec.source`` or an entry of ``spec.sources``: ``chart: flux2`` from a chart
# repository at ``targetRevision``) is the Flux chart pin, as a HelmRelease of it is (XenitAB's
# terraform-modules renders one).

ARGO_SINGLE = "argocd/apps/flux.yaml"
ARGO_MULTI = "argocd/apps/flux-multi.yaml"
ARGO_ROLE = "Argo CD Application"


def application(version: str) -> str:
    """XenitAB's shape: one Helm source of the community chart (its values kept out)."""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata:\n  name: flux\n  namespace: argocd\n"
        "spec:\n  project: default\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: flux-system\n"
        f"  source:\n    repoURL: {COMMUNITY}\n    chart: flux2\n"
        f"    targetRevision: {version}  # the community chart\n"
        "    helm:\n      releaseName: flux2\n"
    )


def multi_source(version: str) -> str:
    """The chart from its repository, its values file from this one (``$values``)."""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata:\n  name: flux-multi\n  namespace: argocd\n"
        "spec:\n  project: default\n  sources:\n"
        "    - repoURL: https://github.com/example/fleet.git\n"
        "      targetRevision: main\n      ref: values\n"
        "    - repoURL: ghcr.io/fluxcd-community/charts\n      chart: flux2\n"
        f"      targetRevision: {version}\n"
        "      helm:\n        valueFiles:\n          - $values/flux/values.yaml\n"
    )


def argo_layout(root: Path, single: str = "2.12.4") -> Path:
    return write_repo(
        root,
        {
            ARGO_SINGLE: application(single),
            ARGO_MULTI: multi_source('"2.12.4"'),
            TOOLS: "flux2 2.2.3\n",  # the release chart 2.12.4 carries
        },
    )


def test_an_argo_application_of_flux2_is_the_flux_chart_pin(tmp_path: Path) -> None:
    repo = argo_layout(tmp_path / "repo")
    document = json.loads(run(repo, "status", "--json").stdout)
    assert document["components"] == [{"name": "flux", "wrapper": None, "upstream": "flux2"}]
    assert [
        (s["role"], s["file"], s["line"], s["value"], s["owner"]) for s in document["sites"]
    ] == [
        (ARGO_ROLE, ARGO_MULTI, 14, "2.12.4", "Application argocd/flux-multi"),
        (ARGO_ROLE, ARGO_SINGLE, 14, "2.12.4", "Application argocd/flux"),
        ("Flux CLI pin", TOOLS, 1, "2.2.3", ".tool-versions"),
    ]
    assert_they_agree(repo, 3)


def test_to_moves_every_argo_application_of_flux2_with_the_cli(tmp_path: Path) -> None:
    repo = argo_layout(tmp_path / "repo")
    assert bumped(repo) == {
        ARGO_SINGLE: application("2.14.1"),
        ARGO_MULTI: multi_source('"2.14.1"'),
        TOOLS: "flux2 2.4.0\n",
    }
    assert run(repo, "check").code == 0


def test_an_argo_application_of_another_flux2_chart_is_a_violation(tmp_path: Path) -> None:
    repo = argo_layout(tmp_path / "repo", single="2.13.0")  # Flux 2.3.0, not the CLI's 2.2.3
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{ARGO_SINGLE}:14: " in check.stdout


def test_an_argo_application_of_another_chart_or_from_git_is_no_pin(tmp_path: Path) -> None:
    other = application("1.0.0").replace("chart: flux2", "chart: podinfo")
    git_source = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: flux\n"
        "spec:\n  source:\n    repoURL: https://github.com/fluxcd/flux2\n"
        "    path: manifests/install\n    targetRevision: v2.2.3\n"
    )
    repo = write_repo(
        tmp_path / "repo", {ARGO_SINGLE: other, ARGO_MULTI: git_source, TOOLS: "flux2 2.2.3\n"}
    )
    document = json.loads(run(repo, "status", "--json").stdout)
    assert [s["role"] for s in document["sites"]] == ["Flux CLI pin"]


def test_sync_follows_the_argo_application_renovate_moved(tmp_path: Path) -> None:
    repo = argo_layout(tmp_path / "repo")
    (repo / ARGO_MULTI).write_text(multi_source('"2.14.1"'))  # what Renovate's argocd manager does
    synced = run(repo, "sync")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / ARGO_SINGLE).read_text() == application("2.14.1")
    assert (repo / TOOLS).read_text() == "flux2 2.4.0\n"


PATCH_TEMPLATE = """\
# Ref: https://fluxcd.io/flux/installation/configuration/workload-identity/
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml
patches:
  - patch: |
      apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: controller
        annotations:
          eks.amazonaws.com/role-arn: ${role_arn}
"""


def test_a_terraform_template_that_is_no_cloud_init_needs_no_install_url(tmp_path: Path) -> None:
    # fluxcd/terraform-provider-flux's examples: flux2 by a helm_release, and a kustomization
    # patch rendered by templatefile() (*.tftpl, the default cloud-init glob). check said
    # "no line installs the Flux install.yaml URL" at the patch (exit 1).
    repo = write_repo(
        tmp_path / "repo",
        {"main.tf": helm_release_tf('"2.12.4"'), "resources/patch.tftpl": PATCH_TEMPLATE},
    )
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    # cloud-init user-data (its first line) with no install still lacks it; so does any
    # template naming an install the URL of which holds no literal release
    for name, text in [
        ("user-data.tftpl", "#cloud-config\nruncmd:\n  - echo no flux\n"),
        ("part.tftpl", "kubectl apply -f https://github.com/fluxcd/flux2/releases/latest/download/install.yaml\n"),
    ]:  # fmt: skip
        (repo / name).write_text(text, "utf-8")
        check = run(repo, "check")
        assert check.code == 1 and f"{name}:" in check.stdout, check.stdout + check.stderr
        (repo / name).unlink()


HELMFILE = "bootstrap/helmfile.yaml"


def helmfile(version: str, *, templated: bool = False) -> str:
    """A helmfile bootstrap of the community flux2 chart; ``templated``: with Go template
    actions where YAML does not allow them (helmfile renders the file before reading it)."""
    action = "    {{- if .Values.ha }}\n    values: [ha.yaml]\n    {{- end }}\n"
    return (
        f"repositories:\n  - name: fluxcd-community\n    url: {COMMUNITY}\nreleases:\n"
        "  - name: flux2\n    namespace: flux-system\n    chart: fluxcd-community/flux2\n"
        f"    version: {version}\n" + (action if templated else "")
    )


@pytest.mark.parametrize("templated", [False, True])
def test_a_helmfile_bootstrap_of_flux2_is_a_pin_the_release_must_agree_with(
    tmp_path: Path, templated: bool
) -> None:
    # helmfile installs the chart before Flux runs, then the HelmRelease takes it over: the
    # incident's shape (a bootstrap and the cluster's chart apart). It was not read: check
    # said "1 pin-sites agree" with the two charts apart, and to moved only the HelmRelease.
    repo = write_repo(
        tmp_path / "repo",
        {HELMFILE: helmfile("2.12.4", templated=templated), PROD: release("2.12.3")},
    )
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{PROD}:20: flux-system/flux deploys flux2 2.12.3, but helmfile release flux2 deploys "
        f"2.12.4 ({HELMFILE}:8)"
    ) in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo)) == {
        HELMFILE: helmfile("2.14.1", templated=templated),
        PROD: release("2.14.1"),
    }
    # Renovate's helmfile manager moves the bootstrap; sync moves the HelmRelease after it
    git(repo, "commit", "-qam", "fluxbump to 2.4.0")
    (repo / HELMFILE).write_text(helmfile("2.15.0", templated=templated), "utf-8")
    git(repo, "commit", "-qam", "renovate: flux2 2.15.0")
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / PROD).read_text("utf-8") == release("2.15.0")


def test_a_helmfile_of_a_local_flux2_chart_pins_nothing(tmp_path: Path) -> None:
    local = helmfile("9.9.9").replace("fluxcd-community/flux2", "./charts/flux2")
    repo = write_repo(tmp_path / "repo", {HELMFILE: local, PROD: release("2.14.1")})
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_a_range_on_a_release_of_flux2_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    # The release's range is never rewritten (only a wrapper's dependency is), so the gate
    # failed on it after writing .tool-versions (exit 1, every file restored). Now exit 2
    # first, naming the line, as check does.
    repo = write_repo(tmp_path / "repo", {PROD: release("2.*"), TOOLS: "flux2 2.2.3\n"})
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 2, bump.stdout + bump.stderr
    # (named as a HelmRelease's version: with no wrapper there is no chart dependency)
    assert bump.stderr.startswith(
        f"error: {PROD}:20: flux2 version '2.*' of HelmRelease flux-system/flux is not an exact pin"
    )
    assert "nothing written" in bump.stderr
    assert snapshot(repo) == before


K3S = "infra/k3s/manifests/flux.yaml"


def k3s_chart(version: str | None) -> str:
    """A k3s/RKE2 HelmChart of the community flux2 chart (its helm-controller installs it)."""
    pinned = f'  version: "{version}"\n' if version is not None else ""
    return (
        "apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: flux2\n"
        f"  namespace: kube-system\nspec:\n  repo: {COMMUNITY}\n  chart: flux2\n{pinned}"
        "  targetNamespace: flux-system\n"
    )


def test_a_k3s_helm_chart_of_flux2_is_a_pin_the_release_must_agree_with(tmp_path: Path) -> None:
    # k3s installs a HelmChart manifest at boot, then the cluster's HelmRelease takes the
    # chart over: two pins of one chart. It was not read (check: "1 pin-sites agree").
    repo = write_repo(tmp_path / "repo", {K3S: k3s_chart("2.12.4"), PROD: release("2.12.3")})
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{K3S}:9: kube-system/flux2 deploys flux2 2.12.4, but flux-system/flux deploys 2.12.3"
    ) in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(before, snapshot(repo)) == {K3S: k3s_chart("2.14.1"), PROD: release("2.14.1")}
    # with no version it installs the newest chart: a problem naming the one to write
    (repo / K3S).write_text(k3s_chart(None), "utf-8")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{K3S}:8: HelmChart kube-system/flux2 deploys flux2 with no spec.version: its "
        "controller installs the newest flux2 chart, not the one this repository pins; add "
        "'version: 2.14.1' under spec"
    ) in check.stdout


def test_a_flux_helm_chart_a_release_takes_by_chart_ref_is_its_pin(tmp_path: Path) -> None:
    chart = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata:\n  name: flux2\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  chart: flux2\n  version: 2.12.4\n"
        "  sourceRef:\n    kind: HelmRepository\n    name: fluxcd-community\n"
    )
    repo = write_repo(tmp_path / "repo", {PROD: chart, TOOLS: "flux2 2.2.2\n"})
    check = run(repo, "check")
    assert check.code == 1 and f"{TOOLS}:1: " in check.stdout, check.stdout + check.stderr
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert (repo / PROD).read_text("utf-8") == chart.replace("2.12.4", "2.14.1")


def test_a_helm_release_version_given_by_another_expression_is_shown_unproven(
    tmp_path: Path,
) -> None:
    # skyfjell/terraform-flux-install: ``version = local.chart_version``. The helm_release was
    # no pin at all ("components: none"); an operator chart's ``var.NAME`` neither.
    operator = (
        'resource "helm_release" "operator" {\n  name       = "flux-operator"\n'
        '  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"\n'
        '  chart      = "flux-operator"\n  version    = var.operator_version\n}\n'
    )
    repo = write_repo(
        tmp_path / "repo",
        {TF_MAIN: helm_release_tf("local.chart_version"), "infra/operator.tf": operator},
    )
    status = json.loads(run(repo, "status", "--json").stdout)
    assert [c["name"] for c in status["components"]] == ["flux", "flux-operator"]
    assert sorted((s["file"], s["value"], s["proven"]) for s in status["sites"]) == [
        ("infra/operator.tf", "var.operator_version", False),
        (TF_MAIN, "local.chart_version", False),
    ]
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "local.chart_version is a Terraform expression fluxbump does not evaluate" in (
        check.stdout
    )
    before = snapshot(repo)
    assert run(repo, "to", "2.4.0", "--no-git").code == 0
    assert snapshot(repo) == before


def test_the_charts_a_terraform_helm_release_pinned_before_are_in_the_crd_history(
    tmp_path: Path,
) -> None:
    """A chart the clusters ran may have stored its CRDs' versions: the guard reads the past
    versions of a ``helm_release`` as the survey reads today's (they were read as YAML
    manifests, which a ``.tf`` file is not, and the history held today's chart only)."""
    repo = terraform_layout(tmp_path / "repo", default="2.11.0")
    edit(repo, TF_LITERAL, '"2.12.4"', '"2.11.0"')
    git(repo, "commit", "-qam", "Flux 2.1 everywhere")
    for rel, old in ((TF_VARS, '"2.11.0"'), (TF_LITERAL, '"2.11.0"')):
        edit(repo, rel, old, '"2.12.4"')
    git(repo, "commit", "-qam", "Flux 2.2")
    bump = run(repo, "to", "2.4.0", "--no-git", "--json")
    assert bump.code == 0, bump.stdout + bump.stderr
    history = json.loads(bump.stdout)["crds"]["history"]["charts"]
    assert "2.11.0" in history and "2.12.4" in history, history


# A Flux Kustomization that sets the staging HelmRelease's chart version by post-build
# substitution (stuttgart-things/flux writes its apps' versions so).
SUBSTITUTING = "clusters/staging/apps.yaml"


def substituting(value: str) -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: apps\n  namespace: flux-system\n"
        "spec:\n  interval: 10m\n  path: ./clusters/staging\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        f"  postBuild:\n    substitute:\n      FLUX_CHART: {value}\n"
    )


def test_a_direct_helmrelease_substituted_by_a_kustomization_is_judged_where_it_is_set(
    tmp_path: Path,
) -> None:
    # It was a violation, "flux2 dependency '${FLUX_CHART}' is not an exact pin", though the
    # Kustomization sets it to the chart the other cluster pins, and 'to' refused (exit 2).
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False)
    edit(repo, STAGING, '"2.12.4"', "${FLUX_CHART}")
    (repo / SUBSTITUTING).write_text(substituting('"2.12.4"'), "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "substituted")
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert f"takes the value {SUBSTITUTING}:15 substitutes" in check.stdout, check.stdout
    assert bumped(repo) == {
        PROD: release("2.14.1"),
        SUBSTITUTING: substituting('"2.14.1"'),
        TOOLS: "flux2 2.4.0\nkubectl 1.30.0\n",
    }


def test_a_direct_helmreleases_default_no_kustomization_sets_is_its_pin(tmp_path: Path) -> None:
    # ``${FLUX_CHART:=2.12.4}``, which nothing here sets: Flux deploys the default, which is
    # compared as the pin and moved in place (it was "not an exact pin", and 'to' refused).
    repo = direct_layout(tmp_path / "repo", with_cloud_init=False, prod="2.13.0")
    edit(repo, STAGING, '"2.12.4"', "${FLUX_CHART:=2.12.4}")
    git(repo, "commit", "-qam", "defaulted")
    check = run(repo, "check")
    said = f"{STAGING}:20: flux-system/flux deploys flux2 2.12.4, but flux-system/flux deploys"
    assert (check.code, f"{said} 2.13.0 ({PROD}:20); make them agree" in check.stdout) == (
        1,
        True,
    ), check.stdout + check.stderr
    assert bumped(repo) == {
        PROD: release("2.14.1"),
        STAGING: release("${FLUX_CHART:=2.14.1}"),
        TOOLS: "flux2 2.4.0\nkubectl 1.30.0\n",
    }
