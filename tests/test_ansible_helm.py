"""Ansible installing the community flux2 chart with ``kubernetes.core.helm`` (azimuth-cloud's
ansible-collection-azimuth-ops): the task's ``chart_version``, or the role variable it names
(``{{ flux_chart_version }}``, set in the role's ``vars/`` else ``defaults/``), is the Flux
chart pin, like a Terraform ``helm_release``'s; the same role downloads the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump.scan.sites.ansible import find_helm_chart_pins
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot
from tests.support.layouts import write_repo

DEFAULTS = "roles/flux/defaults/main.yml"
DEFAULTS_TEXT = """\
---
flux_chart_repo: https://fluxcd-community.github.io/helm-charts
flux_chart_name: flux2
flux_chart_version: 2.14.1
flux_cli_version: v2.4.0
flux_cli_archive_name: >-
  flux_{{ flux_cli_version.removeprefix('v') }}_linux_amd64.tar.gz
flux_cli_archive_url: >-
  https://github.com/fluxcd/flux2/releases/download/{{ flux_cli_version }}/{{ flux_cli_archive_name }}
"""
TASKS = "roles/flux/tasks/main.yml"
TASKS_TEXT = """\
---
- name: Install Flux controllers
  kubernetes.core.helm:
    chart_ref: "{{ flux_chart_name }}"
    chart_repo_url: "{{ flux_chart_repo }}"
    chart_version: "{{ flux_chart_version }}"
    release_name: flux
    release_namespace: flux-system
- name: Something else
  kubernetes.core.helm:
    chart_ref: ingress-nginx/ingress-nginx
    chart_version: 4.11.3
"""
LITERAL = "roles/edge/tasks/main.yml"
LITERAL_TEXT = """\
- block:
    - name: Flux on the edge cluster
      kubernetes.core.helm:
        chart_ref: oci://ghcr.io/fluxcd-community/charts/flux2
        chart_version: "2.14.1"
        release_name: flux
"""


def rows(repo: Path) -> list[tuple[str, str, str, str]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (s["role"], f"{s['file']}:{s['line']}", s["value"], s["owner"])
        for s in json.loads(outcome.stdout)["sites"]
    ]


def test_the_role_variable_a_helm_task_installs_flux2_at_is_the_chart_pin(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {DEFAULTS: DEFAULTS_TEXT, TASKS: TASKS_TEXT})
    task = "kubernetes.core.helm (Install Flux controllers)"
    assert rows(repo) == [
        ("helm install version", f"{DEFAULTS}:4", "2.14.1", f"{task} ({{{{ flux_chart_version }}}})"),
        ("Flux CLI pin", f"{DEFAULTS}:5", "v2.4.0",
         "fluxcd/flux2 CLI download ({{ flux_cli_version }})"),
    ]  # fmt: skip
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_a_literal_task_version_is_the_pin_too(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {LITERAL: LITERAL_TEXT})
    task = "kubernetes.core.helm (Flux on the edge cluster)"
    assert rows(repo) == [("helm install version", f"{LITERAL}:5", "2.14.1", task)]


def test_check_names_the_cli_the_role_downloads_beside_another_chart(tmp_path: Path) -> None:
    text = DEFAULTS_TEXT.replace("2.14.1", "2.13.0")  # the chart of Flux 2.3.0
    repo = write_repo(tmp_path / "repo", {DEFAULTS: text, TASKS: TASKS_TEXT})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{DEFAULTS}:5: " in check.stdout and "2.3.0" in check.stdout, check.stdout


def test_to_moves_the_chart_variable_and_the_cli_and_nothing_else(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo", {DEFAULTS: DEFAULTS_TEXT, TASKS: TASKS_TEXT, LITERAL: LITERAL_TEXT}
    )
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    expected = DEFAULTS_TEXT.replace("2.14.1", "2.15.0").replace("v2.4.0", "v2.5.1")
    assert after[DEFAULTS].decode() == expected
    assert after[LITERAL].decode() == LITERAL_TEXT.replace('"2.14.1"', '"2.15.0"')
    assert after[TASKS] == before[TASKS]


def chart_pins(files: dict[str, str], tasks: str) -> list[tuple[str, int, str, str]]:
    """(file, line, value, owner) of each flux2 pin ``find_helm_chart_pins`` reads in ``tasks``."""
    sources = {rel: SourceFile(rel, text.encode(), text) for rel, text in files.items()}
    return [
        (s.file, s.line, s.value, s.owner)
        for s in find_helm_chart_pins(sources[tasks], frozenset({"flux2"}), sources.get)
    ]


def test_a_roles_vars_win_over_its_defaults_and_blocks_and_plays_are_read() -> None:
    tasks = """\
- hosts: all
  tasks:
    - block:
        - name: flux
          community.kubernetes.helm:
            chart_ref: "{{ flux_chart }}"
            chart_version: "{{ flux_chart_version }}"
      rescue:
        - helm:
            chart_ref: fluxcd-community/flux2
            chart_version: "{{ unset_version }}"
        - helm: {chart_ref: fluxcd/flux, chart_version: 1.25.4}
"""
    files = {
        "r/tasks/main.yml": tasks,
        "r/defaults/main.yml": "flux_chart: flux2\nflux_chart_version: 2.13.0\n",
        "r/vars/main.yml": "flux_chart_version: '2.14.1'\n",
    }
    assert chart_pins(files, "r/tasks/main.yml") == [
        ("r/vars/main.yml", 1, "2.14.1",
         "community.kubernetes.helm (flux) ({{ flux_chart_version }})"),
        # a variable the role does not set stays as written: unproven, never edited
        ("r/tasks/main.yml", 11, "{{ unset_version }}", "helm (r/tasks/main.yml)"),
    ]  # fmt: skip


def test_a_chart_version_the_role_leaves_to_its_inventory_is_unproven_not_wrong(
    tmp_path: Path,
) -> None:
    tasks = TASKS_TEXT.replace("{{ flux_chart_version }}", "{{ flux_version_from_inventory }}")
    repo = write_repo(tmp_path / "repo", {DEFAULTS: DEFAULTS_TEXT, TASKS: tasks})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert f"cannot be proven: {TASKS}:6" in check.stdout, check.stdout
