"""A FluxInstance that Terraform applies from a heredoc (``kubectl_manifest``'s ``yaml_body``,
``kubernetes_manifest``'s ``yamldecode(<<-EOT … EOT)``) or writes as a Terraform object
(``manifest = { … }``, ``yamlencode({ … })``) pins the Flux release the operator installs.
It was read nowhere: ``status`` did not show it, ``check`` passed whatever it said, and ``to``
refused "nothing to move" on a repository where it is the only Flux pin. Read as the YAML
Terraform passes on (or the object's attributes), it is shown, compared and moved as text in
the ``.tf`` file; a version given by a variable is followed to the literal that sets it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, snapshot, write_repo
from tests.support.independent_scan import scan
from tests.test_renovate_new_kinds import config_of, manager_for, values_found
from tests.test_terraform_instance import MAIN, MISE, OPERATOR

# kubectl provider, indented body (``<<-``): line 19 of MAIN holds the version
KUBECTL = """\
resource "kubectl_manifest" "flux_instance" {
  depends_on = [helm_release.flux_operator]
  yaml_body  = <<-YAML
    apiVersion: fluxcd.controlplane.io/v1
    kind: FluxInstance
    metadata:
      name: flux
      namespace: flux-system
    spec:
      distribution:
        version: "{version}" # the release
        registry: ghcr.io/fluxcd
  YAML
}
"""
# kubernetes provider, a body at column 0 decoded by ``yamldecode``: line 17 of MAIN
DECODED = """\
resource "kubernetes_manifest" "flux_instance" {
  manifest = yamldecode(<<EOT
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
spec:
  distribution:
    version: {version}
EOT
  )
}
"""
# kubernetes provider, the object written in HCL with quoted keys: line 19 of MAIN
OBJECT = """\
resource "kubernetes_manifest" "flux_instance" {
  manifest = {
    "apiVersion" = "fluxcd.controlplane.io/v1"
    "kind"       = "FluxInstance"
    "metadata" = {
      "name" = "flux"
    }
    "spec" = {
      "distribution" = {
        "registry" = "ghcr.io/fluxcd"
        "version"  = "{version}"
      }
    }
  }
}
"""
# kubectl provider, ``yamlencode`` of an object, the distribution on one line: line 15 of MAIN
ENCODED = """\
resource "kubectl_manifest" "flux_instance" {
  yaml_body = yamlencode({
    apiVersion = "fluxcd.controlplane.io/v1"
    kind       = "FluxInstance"
    metadata   = { name = "flux" }
    spec = {
      distribution = { registry = "ghcr.io/fluxcd", version = "{version}" }
    }
  })
}
"""
VARIABLE = 'variable "flux_version" {\n  type    = string\n  default = "2.4.0"\n}\n'


def repo_with(tmp_path: Path, instance: str, **more: str) -> Path:
    files = {MAIN: OPERATOR + instance, ".mise.toml": MISE, **more}
    return write_repo(tmp_path / "repo", files)


def instance_rows(repo: Path) -> list[tuple[str, str, str]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["owner"], s["value"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "FluxInstance version"
    ]


def test_a_heredoc_fluxinstance_pins_the_release_and_moves_alone(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, KUBECTL.replace("{version}", "2.4.0"))
    owner = "FluxInstance flux-system/flux"
    assert instance_rows(repo) == [(f"{MAIN}:19", owner, "2.4.0")]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, MAIN, since=None) == [
        '-        version: "2.4.0" # the release',
        '+        version: "2.5.1" # the release',
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_heredoc_of_another_release_than_the_cli_fails_check(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, DECODED.replace("{version}", "2.3.0"))
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{MAIN}:17" in check.stdout and ".mise.toml:2" in check.stdout


def test_crlf_endings_and_a_plain_scalar_are_kept_around_the_edit(tmp_path: Path) -> None:
    text = (OPERATOR + DECODED.replace("{version}", "2.4.0")).replace("\n", "\r\n")
    repo = write_repo(tmp_path / "repo", {MAIN: text, ".mise.toml": MISE})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)[MAIN]
    assert after == text.replace("version: 2.4.0", "version: 2.5.1").encode()


def test_a_version_from_a_variable_is_followed_to_its_default(tmp_path: Path) -> None:
    instance = KUBECTL.replace('"{version}"', '"${var.flux_version}"')
    repo = repo_with(tmp_path, instance, **{"terraform/variables.tf": VARIABLE})
    owner = "FluxInstance flux-system/flux (var.flux_version)"
    assert instance_rows(repo) == [("terraform/variables.tf:3", owner, "2.4.0")]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, MAIN, since=None) == []
    assert changed_lines(repo, "terraform/variables.tf", since=None) == [
        '-  default = "2.4.0"',
        '+  default = "2.5.1"',
    ]


def test_heredocs_in_comments_strings_and_of_other_kinds_pin_nothing(tmp_path: Path) -> None:
    commented = "".join(f"# {line}\n" for line in KUBECTL.splitlines())
    quoted = 'locals {\n  note = "<<YAML kind: FluxInstance version: 2.3.0"\n}\n'
    other = KUBECTL.replace("kind: FluxInstance", "kind: Namespace")
    live = KUBECTL.replace("{version}", "2.4.0")
    repo = repo_with(tmp_path, commented + quoted + other.replace("{version}", "2.3.0") + live)
    assert [value for _, _, value in instance_rows(repo)] == ["2.4.0"]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_heredoc_that_is_no_yaml_until_rendered_is_shown_unproven(tmp_path: Path) -> None:
    # (an interpolation may write YAML there: not a violation, never edited)
    rendered = "    spec:\n      ${indent(6, yamlencode(var.spec))}\n"
    broken = KUBECTL.replace("{version}", "2.4.0")
    broken = broken[: broken.index("    spec:")] + rendered + "  YAML\n}\n"
    repo = repo_with(tmp_path, broken.replace("kind: FluxInstance", "kind: FluxInstance\n  - x"))
    owner = "heredoc FluxInstance (not read: no YAML before Terraform renders it)"
    assert instance_rows(repo) == [(f"{MAIN}:12", owner, "heredoc")]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0 and "cannot be proven" in check.stdout, check.stdout + check.stderr
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo)[MAIN] == before[MAIN]


def test_tabs_that_indent_an_indented_heredoc_are_read(tmp_path: Path) -> None:
    tabbed = KUBECTL.replace("{version}", "2.4.0").replace("\n    ", "\n\t\t")
    repo = repo_with(tmp_path, tabbed)
    assert [value for _, _, value in instance_rows(repo)] == ["2.4.0"]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo)[MAIN] == (OPERATOR + tabbed.replace("2.4.0", "2.5.1")).encode()


def test_an_object_fluxinstance_pins_the_release_and_moves(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OBJECT.replace("{version}", "2.4.0"))
    owner = "kubernetes_manifest.flux_instance FluxInstance"
    assert instance_rows(repo) == [(f"{MAIN}:19", owner, "2.4.0")]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, MAIN, since=None) == [
        '-        "version"  = "2.4.0"',
        '+        "version"  = "2.5.1"',
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_an_encoded_object_of_a_variable_is_followed_and_of_another_release_fails(
    tmp_path: Path,
) -> None:
    instance = ENCODED.replace('"{version}"', "var.flux_version")
    repo = repo_with(tmp_path, instance, **{"terraform/variables.tf": VARIABLE})
    owner = "kubectl_manifest.flux_instance FluxInstance (var.flux_version)"
    assert instance_rows(repo) == [("terraform/variables.tf:3", owner, "2.4.0")]
    other = repo_with(tmp_path / "other", ENCODED.replace("{version}", "2.3.0"))
    check = run_cli("check", "--repo", str(other), "--offline")
    assert check.code == 1 and f"{MAIN}:15" in check.stdout, check.stdout + check.stderr


def test_each_heredoc_form_reads_as_the_independent_scan_reads_it(tmp_path: Path) -> None:
    forms = [KUBECTL.replace("{version}", "2.4.0"), DECODED.replace("{version}", "2.3.0")]
    forms += [KUBECTL.replace('"{version}"', "${var.flux_version}")]
    forms += [OBJECT.replace("{version}", "2.4.0"), ENCODED.replace("{version}", "2.3.0")]
    forms += [ENCODED.replace('"{version}"', "var.flux_version")]
    forms += [OBJECT.replace('"version"  = "{version}"', '"paused" = false')]
    forms += [KUBECTL.replace("{version}", "2.x"), KUBECTL.replace("kind: Flux", "kind: X")]
    for at, form in enumerate(forms):
        repo = write_repo(tmp_path / str(at), {MAIN: OPERATOR + form + VARIABLE})
        expected = [p.version for p in scan(repo).flux_pins if p.kind == "instance"]
        assert [value for _, _, value in instance_rows(repo)] == expected, form


def test_renovate_config_gets_a_manager_that_reads_each_form(tmp_path: Path) -> None:
    for at, form in enumerate((KUBECTL, OBJECT, ENCODED)):
        repo = repo_with(tmp_path / str(at), form.replace("{version}", "2.4.0"))
        manager = manager_for(config_of(repo), "fluxcd/flux2", MAIN)
        assert values_found(manager, (repo / MAIN).read_text("utf-8")) == ["2.4.0"], form


def test_the_object_manager_stops_at_a_distribution_without_a_version(tmp_path: Path) -> None:
    # (else it would read the next block's version: a chart's, proposed as a Flux release)
    repo = repo_with(tmp_path, OBJECT.replace("{version}", "2.4.0"))
    manager = manager_for(config_of(repo), "fluxcd/flux2", MAIN)
    versionless = OBJECT.replace('"version"  = "{version}"', '"paused" = false')
    assert values_found(manager, versionless + OPERATOR) == []
