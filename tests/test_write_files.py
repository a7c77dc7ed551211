"""A k3s/RKE2 HelmChart a cloud-init template writes (``write_files``): its helm-controller
installs the chart at boot, so its ``spec.version`` is a pin of that chart like a HelmChart
manifest of the repository. It was not read: ``check`` compared nothing there and ``to`` left
it behind, the incident's failure (the cloud-init pin and the chart disagree)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.errors import UsageError
from fluxbump.fleet import CLOUDINIT
from fluxbump.pins import Role
from fluxbump.scan.sites import writefiles
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import INCIDENT, edit, git, make_fleet, snapshot
from tests.support.layouts import COMMUNITY, write_repo

TEMPLATE = "infra/k3s/cloud-init.tftpl"
USER_DATA = "infra/rke2/user-data.yaml"
PROD = "clusters/prod/flux-system/flux.yaml"


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def template(version: str) -> str:
    """A cloud-init template writing a k3s HelmChart of flux2 at ``version`` (as written),
    beside another file and a Terraform directive."""
    return (
        "#cloud-config\n"
        "write_files:\n"
        "  - path: /etc/rancher/k3s/config.yaml\n"
        "    content: |\n"
        "      node-name: ${node_name}\n"
        "  - path: /var/lib/rancher/k3s/server/manifests/flux.yaml\n"
        "    content: |\n"
        "      apiVersion: helm.cattle.io/v1\n"
        "      kind: HelmChart\n"
        "      metadata: {name: flux2, namespace: kube-system}\n"
        "      spec:\n"
        f"        repo: {COMMUNITY}\n"
        "        chart: flux2\n"
        f"        version: {version}  # the chart helm-controller installs at boot\n"
        "        targetNamespace: flux-system\n"
        "runcmd:\n"
        "  - curl -sfL https://get.k3s.io | sh -\n"
        "%{ if enable_extras ~}\n"
        "  - echo extras\n"
        "%{ endif ~}\n"
    )


def release(version: str) -> str:
    """The cluster's HelmRelease of the community flux2 chart, which adopts the boot one."""
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: flux\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n  chart:\n    spec:\n"
        f"      chart: flux2\n      version: {version}\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: fluxcd-community\n"
    )


def check_says(repo: Path, violation: str) -> None:
    """``check`` exits 1 naming ``violation``, the one disagreement of the two pins."""
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.splitlines() == [violation, "check: 1 violation(s) in 2 pin-sites"]


def changed(repo: Path, before: dict[str, bytes]) -> dict[str, str]:
    after = snapshot(repo)
    assert before.keys() == after.keys()
    return {rel: after[rel].decode() for rel in after if after[rel] != before[rel]}


def test_check_compares_the_helm_chart_a_template_writes_with_the_release(
    tmp_path: Path,
) -> None:
    # Flux 2.3.0's chart at boot, 2.4.0's in the cluster: the helm-controller of k3s installs
    # one, Flux's the other. Before, check read only the release ("1 pin-sites agree"), and
    # asked for an install.yaml URL the template does not need.
    repo = write_repo(tmp_path / "repo", {TEMPLATE: template("2.13.0"), PROD: release("2.14.1")})
    check_says(
        repo,
        f"{TEMPLATE}:14: kube-system/flux2 deploys flux2 2.13.0, but flux-system/flux deploys "
        f"2.14.1 ({PROD}:11); make them agree",
    )
    status = json.loads(run(repo, "status", "--json").stdout)
    assert [
        (s["role"], s["file"], s["line"], s["column"], s["value"]) for s in status["sites"]
    ] == [
        (Role.HELMRELEASE.value, PROD, 11, 16, "2.14.1"),
        (Role.HELMCHART.value, TEMPLATE, 14, 18, "2.13.0"),
    ]


@pytest.mark.parametrize("style", ['"{}"', "!!str {}", "'{}'"])
def test_to_moves_the_version_in_the_template_and_nothing_else(tmp_path: Path, style: str) -> None:
    written = template(style.format("2.13.0"))
    repo = write_repo(tmp_path / "repo", {TEMPLATE: written, PROD: release("2.13.0")})
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert f"{TEMPLATE}:14: HelmChart (kube-system/flux2) 2.13.0 -> 2.14.1" in bump.stdout
    # quoting, a tag, indentation, the comment, the directives: all as written
    moved = template(style.format("2.14.1"))
    assert changed(repo, before) == {TEMPLATE: moved, PROD: release("2.14.1")}
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "2 pin-sites agree" in check.stdout


NO_LITERAL = (
    "${flux_chart_version} is what the templatefile() calls rendering the template pass as "
    "flux_chart_version, and none passes it a literal fluxbump can read; "
    'write flux_chart_version = "X.Y.Z" there'
)
DIRECTIVE = (
    "%{ if lts }2.12.4%{ else }2.13.0%{ endif } takes its value where the cloud-init template is "
    "rendered (templatefile()), which fluxbump does not evaluate"
)


@pytest.mark.parametrize(
    ("version", "why"),
    [
        ("${flux_chart_version}", NO_LITERAL),
        ("%{ if lts }2.12.4%{ else }2.13.0%{ endif }", DIRECTIVE),
    ],
)
def test_a_templated_version_is_unproven_and_left_as_written(
    tmp_path: Path, version: str, why: str
) -> None:
    # ``templatefile()`` renders it: its value is not in the template (no .tf file passes a
    # literal here), and never guessed.
    repo = write_repo(tmp_path / "repo", {TEMPLATE: template(version), PROD: release("2.13.0")})
    status = json.loads(run(repo, "status", "--json").stdout)
    written = [s for s in status["sites"] if s["file"] == TEMPLATE]
    assert [(s["line"], s["column"], s["value"], s["proven"]) for s in written] == [
        (14, 18, version, False)
    ]
    assert written[0]["unproven"] == why
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert f"1 cannot be proven: {TEMPLATE}:14" in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(repo, before) == {PROD: release("2.14.1")}


def user_data(version: str) -> str:
    """Plain cloud-config YAML (CRLF, as written on Windows) writing an RKE2 HelmChart with
    ``|-``, a document marker and a blank line in it, beside content cloud-init decodes."""
    lines = [
        "#cloud-config",
        "write_files:",
        "- path: /var/lib/rancher/rke2/server/manifests/flux.yaml",
        "  owner: root:root",
        "  content: |-",
        "    ---",
        "    apiVersion: helm.cattle.io/v1",
        "    kind: HelmChart",
        "    metadata:",
        "      name: flux2",
        "      namespace: kube-system",
        "    spec:",
        "      chart: flux2",
        f"      repo: {COMMUNITY}",
        "",
        f"      version: {version}",
        "- path: /var/lib/rancher/rke2/server/manifests/extra.yaml",
        "  encoding: b64",
        "  content: YXBpVmVyc2lvbjogdjEK",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_plain_cloud_config_yaml_is_read_and_moved_too(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo", {USER_DATA: user_data("'2.13.0'"), PROD: release("2.14.1")}
    )
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.startswith(
        f"{USER_DATA}:16: kube-system/flux2 deploys flux2 2.13.0, but flux-system/flux deploys "
        f"2.14.1 ({PROD}:11); make them agree\n"
    )
    # the b64 content is not decoded: said, with its line, never a traceback
    assert (
        f"warning: {USER_DATA}:19: the manifest cloud-init writes to "
        "/var/lib/rancher/rke2/server/manifests/extra.yaml is not read: it is written with "
        "'encoding: b64', which fluxbump does not decode; a HelmChart there is not checked "
        "or moved"
    ) in check.stderr
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(repo, before) == {USER_DATA: user_data("'2.14.1'")}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            "    encoding: gzip\n    content: !!binary |\n      H4sIAAAAAAAA\n",
            "it is written with 'encoding: gzip', which fluxbump does not decode",
        ),
        (
            '    content: "apiVersion: helm.cattle.io/v1\\nkind: HelmChart\\nspec:\\n'
            '  chart: flux2\\n  version: 2.13.0\\n"\n',
            "its content is not a literal block scalar ('content: |')",
        ),
    ],
)
def test_a_manifest_written_in_another_form_is_named_not_read(
    tmp_path: Path, content: str, why: str
) -> None:
    written = (
        "#cloud-config\nwrite_files:\n"
        "  - path: /var/lib/rancher/k3s/server/manifests/flux.yaml\n"
        f"{content}"
        "runcmd:\n  - kubectl apply -f "
        "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
    )
    repo = write_repo(tmp_path / "repo", {TEMPLATE: written, PROD: release("2.14.1")})
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    line = written.count("\n", 0, written.index("content:")) + 1
    assert (
        f"warning: {TEMPLATE}:{line}: the manifest cloud-init writes to "
        f"/var/lib/rancher/k3s/server/manifests/flux.yaml is not read: {why}; a HelmChart "
        "there is not checked or moved"
    ) in check.stderr


def test_the_edit_is_proven_on_the_manifest_it_belongs_to() -> None:
    text = template("2.13.0")
    [site] = writefiles.template_pins(SourceFile(TEMPLATE, text.encode(), text), FLUX2).sites
    assert (site.line, site.value, site.path) == (
        14,
        "2.13.0",
        ("write_files", 1, "content", 0, "spec", "version"),
    )
    assert writefiles.edit(TEMPLATE, text, [(site, "2.14.1")]) == template("2.14.1")
    # text the manifest would not read as that version ("2.14.1", a comment) is refused
    with pytest.raises(UsageError) as refused:
        writefiles.edit(TEMPLATE, text, [(site, "2.14.1 #")])
    assert refused.value.message == (
        f"{TEMPLATE}:14: editing the pin would change other data in the file; nothing written "
        "— edit this file by hand and re-run"
    )


FLUX2 = frozenset({"flux2"})


def test_sync_follows_the_helm_chart_a_template_writes_when_it_moved(tmp_path: Path) -> None:
    # The base revision's template is read as the survey reads it (its directives blanked):
    # read as a manifest, it was no YAML, so nothing had moved and sync did nothing.
    encoded = (
        "write_files:\n  - path: /var/lib/rancher/k3s/server/manifests/old.yaml\n"
        "    encoding: b64\n    content: YXBpVmVyc2lvbjogdjEK\n"
    )
    was = template("2.13.0").replace("write_files:\n", encoded)
    repo = write_repo(tmp_path / "repo", {TEMPLATE: was, PROD: release("2.13.0")})
    (repo / TEMPLATE).write_text(template("2.14.1"), "utf-8")
    git(repo, "commit", "-qam", "k3s: flux2 2.14.1")
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / PROD).read_text("utf-8") == release("2.14.1")
    assert "is not read" not in synced.stderr  # (of the base revision's file: not this one)


def test_to_moves_it_beside_the_install_url_of_the_same_template(tmp_path: Path) -> None:
    # Two edits in one template, one as text (the URL) and one proven on its manifest.
    url = "https://github.com/fluxcd/flux2/releases/download/{}/install.yaml"
    runs = "  - kubectl apply -f " + url + "\n"
    repo = write_repo(
        tmp_path / "repo",
        {TEMPLATE: template("2.13.0") + runs.format("v2.3.0"), PROD: release("2.13.0")},
    )
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(repo, before) == {
        TEMPLATE: template("2.14.1") + runs.format("v2.4.0"),
        PROD: release("2.14.1"),
    }


def wrapper_chart(version: str) -> str:
    """A write_files entry installing the wrapper chart bp-flux at boot."""
    return (
        "  - path: /var/lib/rancher/k3s/server/manifests/bp-flux.yaml\n"
        "    content: |\n"
        "      apiVersion: helm.cattle.io/v1\n"
        "      kind: HelmChart\n"
        "      metadata: {name: bp-flux, namespace: kube-system}\n"
        "      spec:\n"
        "        chart: oci://registry.example/charts/bp-flux\n"
        f"        version: {version}\n"
    )


def test_a_wrapper_chart_a_template_writes_moves_with_the_wrapper(tmp_path: Path) -> None:
    # The incident's layout, with k3s installing the wrapper at boot. The template is no
    # manifest: the CRD schema check read it as one, and failed on its %{ } directives.
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    edit(repo, CLOUDINIT, "write_files:\n", "write_files:\n" + wrapper_chart("1.1.1"))
    git(repo, "commit", "-qam", "k3s installs bp-flux at boot")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert "invalid YAML" not in check.stdout
    assert "check: 2 violation(s) in 19 pin-sites" in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    moved = changed(repo, before)[CLOUDINIT]
    assert wrapper_chart("1.1.2") in moved
    assert run(repo, "check").code == 0


def test_the_versions_a_template_wrote_before_are_in_the_crd_history(tmp_path: Path) -> None:
    # A chart k3s installed at boot may have stored its CRDs' versions: the CRD guard reads
    # the template's past HelmCharts as it reads the releases' (it read them as manifests,
    # which a template with directives is not, and left 2.13.0 out).
    repo = write_repo(tmp_path / "repo", {TEMPLATE: template("2.13.0"), PROD: release("2.14.1")})
    (repo / TEMPLATE).write_text(template("2.14.1"), "utf-8")
    git(repo, "commit", "-qam", "k3s: flux2 2.14.1")
    bump = run(repo, "to", "2.6.1", "--no-git", "--json")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert json.loads(bump.stdout)["crds"]["history"]["charts"] == ["2.13.0", "2.14.1"]


def test_a_template_writing_the_chart_with_no_version_is_one_problem_not_two(
    tmp_path: Path,
) -> None:
    """It installs Flux (the newest chart): not also "no line installs the Flux install.yaml
    URL", which sent the user looking for a URL the template does not need."""
    unversioned = template("2.13.0").replace(
        "        version: 2.13.0  # the chart helm-controller installs at boot\n", ""
    )
    repo = write_repo(tmp_path / "repo", {TEMPLATE: unversioned, PROD: release("2.14.1")})
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.splitlines() == [
        "problems (what they name is unproven):",
        f"  {TEMPLATE}:13: HelmChart kube-system/flux2 deploys flux2 with no spec.version: its "
        "controller installs the newest flux2 chart, not the one this repository pins; add "
        "'version: 2.14.1' under spec",
        "check: 0 violation(s) and 1 problem(s) in 1 pin-sites",
    ]


MAIN_TF = "infra/k3s/main.tf"


def main_tf(flux_chart: str) -> str:
    """The Terraform call that renders the template, passing the chart version it writes."""
    return (
        'resource "hcloud_server" "k3s" {\n'
        '  user_data = templatefile("${path.module}/cloud-init.tftpl", {\n'
        '    node_name     = "k3s-1"\n'
        f"    flux_chart    = {flux_chart}\n"
        "    enable_extras = false\n"
        "  })\n"
        "}\n"
    )


def committed(repo: Path, rel: str, text: str) -> Path:
    """The repository after a commit writing ``text`` to ``rel`` (as Renovate's bump)."""
    (repo / rel).write_text(text, "utf-8")
    git(repo, "commit", "-qam", "k3s: flux2 2.14.1")
    return repo


def test_a_version_templatefile_passes_is_checked_at_its_literal(tmp_path: Path) -> None:
    # ``version: ${flux_chart}`` is what main.tf passes: 2.13.0 at boot, 2.14.1 in the
    # cluster. Before, the site was unproven ("which fluxbump does not follow"), and check
    # said the pins agree.
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf('"2.13.0"'),
             PROD: release("2.14.1")}  # fmt: skip
    check_says(
        write_repo(tmp_path / "repo", files),
        f"{MAIN_TF}:4: kube-system/flux2 from cloud-init via templatefile() in main.tf deploys "
        f"flux2 2.13.0, but flux-system/flux deploys 2.14.1 ({PROD}:11); make them agree",
    )


def test_to_moves_the_literal_templatefile_passes_and_nothing_else(tmp_path: Path) -> None:
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf('"2.13.0"'),
             PROD: release("2.13.0")}  # fmt: skip
    repo = write_repo(tmp_path / "repo", files)
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert f"{MAIN_TF}:4: HelmChart (kube-system/flux2" in bump.stdout
    assert changed(repo, before) == {MAIN_TF: main_tf('"2.14.1"'), PROD: release("2.14.1")}
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "2 pin-sites agree" in check.stdout


def test_a_version_templatefile_passes_as_an_expression_stays_unproven(tmp_path: Path) -> None:
    # ``local.chart`` is set where fluxbump does not evaluate: never guessed, left as written.
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf("local.chart"),
             PROD: release("2.13.0")}  # fmt: skip
    repo = write_repo(tmp_path / "repo", files)
    status = json.loads(run(repo, "status", "--json").stdout)
    written = [s for s in status["sites"] if s["file"] in (TEMPLATE, MAIN_TF)]
    assert [(s["file"], s["line"], s["value"], s["proven"]) for s in written] == [
        (TEMPLATE, 14, "${flux_chart}", False)
    ]
    assert written[0]["unproven"] == NO_LITERAL.replace("flux_chart_version", "flux_chart")
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(repo, before) == {PROD: release("2.14.1")}


def test_sync_follows_the_literal_templatefile_passes_when_it_moved(tmp_path: Path) -> None:
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf('"2.13.0"'),
             PROD: release("2.13.0")}  # fmt: skip
    repo = committed(write_repo(tmp_path / "repo", files), MAIN_TF, main_tf('"2.14.1"'))
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / PROD).read_text("utf-8") == release("2.14.1")


def test_to_moves_the_default_of_the_variable_templatefile_passes(tmp_path: Path) -> None:
    # ``flux_chart = var.chart``: followed to its default, as the install URL's variable is.
    variables = 'variable "chart" {\n  default = "{}"\n}\n'
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf("var.chart"),
             "infra/k3s/variables.tf": variables.replace("{}", "2.13.0"),
             PROD: release("2.13.0")}  # fmt: skip
    repo = write_repo(tmp_path / "repo", files)
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert changed(repo, before) == {
        "infra/k3s/variables.tf": variables.replace("{}", "2.14.1"),
        PROD: release("2.14.1"),
    }


def test_sync_follows_the_tfvars_value_of_the_variable_templatefile_passes(
    tmp_path: Path,
) -> None:
    # The variable's value in terraform.tfvars moved (Renovate): the cluster's release follows.
    tfvars = "infra/k3s/terraform.tfvars"
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf("var.chart"),
             "infra/k3s/variables.tf": 'variable "chart" {}\n',
             tfvars: 'chart = "2.13.0"\n', PROD: release("2.13.0")}  # fmt: skip
    repo = committed(write_repo(tmp_path / "repo", files), tfvars, 'chart = "2.14.1"\n')
    synced = run(repo, "sync", "--base", "HEAD~1")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / PROD).read_text("utf-8") == release("2.14.1")
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr


def test_the_versions_templatefile_passed_before_are_in_the_crd_history(tmp_path: Path) -> None:
    # main.tf passed 2.13.0 before: the chart k3s installed then may have stored its CRDs'
    # versions, so the CRD guard reads the literal in main.tf's past versions too.
    files = {TEMPLATE: template("${flux_chart}"), MAIN_TF: main_tf('"2.13.0"'),
             PROD: release("2.14.1")}  # fmt: skip
    repo = committed(write_repo(tmp_path / "repo", files), MAIN_TF, main_tf('"2.14.1"'))
    bump = run(repo, "to", "2.6.1", "--no-git", "--json")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert json.loads(bump.stdout)["crds"]["history"]["charts"] == ["2.13.0", "2.14.1"]


def test_a_wrapper_chart_version_templatefile_passes_moves_with_the_wrapper(
    tmp_path: Path,
) -> None:
    # The incident's layout, k3s installing bp-flux at ``${bp_flux}``, which main.tf passes:
    # its literal moves with the wrapper, and the CRD check does not read main.tf as YAML.
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    edit(repo, CLOUDINIT, "write_files:\n", "write_files:\n" + wrapper_chart("${bp_flux}"))
    folder, name = CLOUDINIT.rsplit("/", 1)
    main = f"{folder}/main.tf"

    def call(version: str) -> str:
        return (
            'resource "hcloud_server" "cp" {\n'
            f'  user_data = templatefile("${{path.module}}/{name}", {{\n'
            f'    bp_flux = "{version}"\n'
            "  })\n}\n"
        )

    (repo / main).write_text(call("1.1.1"), "utf-8")
    git(repo, "add", main)
    git(repo, "commit", "-qam", "k3s installs bp-flux at boot")
    check = run(repo, "check")
    assert check.code == 1, check.stdout + check.stderr
    assert "invalid YAML" not in check.stdout
    before = snapshot(repo)
    bump = run(repo, "to", "2.4.0", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert f"{main}:3: HelmChart (kube-system/bp-flux from" in bump.stdout
    assert changed(repo, before)[main] == call("1.1.2")
    assert run(repo, "check").code == 0
