"""`fluxbump renovate-config` for the Flux CLI downloads, Ansible chart pins and CLI images.

Each regex manager is run, with Renovate's ``(?<name>…)`` turned into Python's, over the
real files of the snapshots in tests/realworld it names (and written cases for the forms
they lack); Renovate's regex manager replaces every ``currentValue`` of a match, which
``_renovated`` does the same way.
"""

from __future__ import annotations

import re
import shutil
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import init_git, write_repo
from tests.test_renovate import NOT_RE2, SCHEMAS, _py, _release, generated, problems
from tests.test_renovate import _manager_of as _manager

REAL = Path(__file__).parent / "realworld"


def real(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(REAL / name, repo, ignore=shutil.ignore_patterns("LICENSE", "SOURCE.md"))
    init_git(repo)
    return repo


def _read(repo: Path, manager: dict[str, Any]) -> dict[str, list[str]]:
    """currentValue of each match, by file, in the files the manager names."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
        rel = path.relative_to(repo).as_posix()
        if any(fnmatch(rel, g) for g in manager["managerFilePatterns"]):
            text = path.read_text("utf-8")
            found[rel] = [m["currentValue"] for p in manager["matchStrings"]
                          for m in _py(p).finditer(text)]  # fmt: skip
    return found


def _renovated(manager: dict[str, Any], text: str, new: str) -> str:
    """The text after Renovate moved each match to ``new`` (autoReplace: every occurrence
    of currentValue in the matched string)."""
    for pattern in manager["matchStrings"]:
        for match in _py(pattern).finditer(text):
            moved = match[0].replace(match["currentValue"], new)
            text = text.replace(match[0], moved)
    return text


def _flux_group(config: dict[str, Any]) -> dict[str, Any]:
    (rule,) = (r for r in config["packageRules"] if r.get("groupName") == "Flux")
    found: dict[str, Any] = rule
    return found


def test_a_role_variable_of_a_cli_download_is_read_where_the_role_sets_it(
    tmp_path: Path,
) -> None:
    repo = real(tmp_path, "evocloud-dev-evocloud-paas")
    config = generated(repo)
    manager = _manager(config, "Flux CLI's release asset")
    assert (manager["datasourceTemplate"], manager["depNameTemplate"]) == (
        "github-releases",
        "fluxcd/flux2",
    )  # the Flux group's name
    # flux_cli_ver: "2.7.5", which the download URL of the same file reads twice; the
    # commented URLs and the checksum's own renovate comment are not matched
    assert _read(repo, manager) == {"Ansible/roles/app-flux-cli/vars/main.yml": ["2.7.5"]}
    assert not any("kubernetes.core.helm" in m["description"] for m in config["customManagers"])
    assert all(not NOT_RE2.search(p) for p in manager["matchStrings"])


def test_an_ansible_flux2_chart_and_cli_download_join_the_flux_group(tmp_path: Path) -> None:
    repo = real(tmp_path, "azimuth-cloud-ansible-collection-azimuth-ops")
    config = generated(repo)
    chart = _manager(config, "kubernetes.core.helm")
    assert chart["datasourceTemplate"] == "helm"
    assert chart["registryUrlTemplate"] == "https://fluxcd-community.github.io/helm-charts"
    assert chart["depNameTemplate"] in _flux_group(config)["matchDepNames"]
    # flux_chart_version: 2.18.3 in the role's defaults (the crossplane role's charts not)
    assert _read(repo, chart) == {"roles/flux/defaults/main.yml": ["2.18.3"]}
    download = _manager(config, "Flux CLI's release asset")
    assert _read(repo, download) == {"roles/flux/defaults/main.yml": ["v2.8.3"]}
    assert _flux_group(config)["postUpgradeTasks"]["commands"] == ["fluxbump sync"]
    for pattern in (*chart["matchStrings"], *download["matchStrings"]):
        assert not NOT_RE2.search(pattern)


def test_the_cli_image_of_a_dockerfile_joins_the_flux_group_by_name(tmp_path: Path) -> None:
    repo = real(tmp_path, "chezmoidotsh-arcane")  # FROM docker.io/fluxcd/flux-cli:v2.8.3
    config = generated(repo)
    names = [n for n in _flux_group(config)["matchDepNames"] if n.startswith("/")]
    (image,) = (_py(n.strip("/")) for n in names if "flux-cli" in n)
    for dep in ("docker.io/fluxcd/flux-cli", "ghcr.io/fluxcd/flux-cli", "fluxcd/flux-cli"):
        assert image.search(dep), dep  # the dockerfile and github-actions managers' depName
    for other in ("fluxcd/flux-cli-extra", "myfluxcd/flux-cli", "fluxcd/flux2"):
        assert not image.search(other), other
    assert len(config["customManagers"]) == 2  # the image is Renovate's own dep: no regex


ROLE_TASKS = """\
- name: Cilium first
  kubernetes.core.helm:
    chart_ref: cilium/cilium
    chart_version: 1.16.5
    release_name: cilium
- name: Flux
  kubernetes.core.helm:
    release_name: flux
    chart_ref: fluxcd-community/flux2
    chart_version: "2.14.0"
    release_namespace: flux-system
- name: Flux again, its version first
  kubernetes.core.helm:
    chart_version: 2.14.0
    chart_ref: oci://ghcr.io/fluxcd-community/charts/flux2
    release_name: flux2
"""
SCRIPT = """\
#!/bin/sh
# https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml is not the CLI
curl -sL https://github.com/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_linux_amd64.tar.gz | tar xz
"""


def written(tmp_path: Path) -> Path:
    files = {"roles/flux/tasks/main.yml": ROLE_TASKS, "scripts/cli.sh": SCRIPT}
    return write_repo(tmp_path / "written", files)


def test_a_literal_chart_version_is_read_beside_its_chart_only(tmp_path: Path) -> None:
    repo = written(tmp_path)
    config = generated(repo)
    chart = _manager(config, "kubernetes.core.helm")
    assert _read(repo, chart) == {"roles/flux/tasks/main.yml": ["2.14.0", "2.14.0"]}
    moved = _renovated(chart, ROLE_TASKS, "2.15.0")
    assert moved == ROLE_TASKS.replace("2.14.0", "2.15.0")  # cilium's 1.16.5 stays


def test_a_literal_cli_download_moves_its_tag_and_asset_name_together(tmp_path: Path) -> None:
    repo = written(tmp_path)
    manager = _manager(generated(repo), "Flux CLI's release asset")
    assert _read(repo, manager) == {"scripts/cli.sh": ["2.4.0"]}
    moved = _renovated(manager, SCRIPT, "2.5.0")
    assert "download/v2.5.0/flux_2.5.0_linux_amd64.tar.gz" in moved
    assert "download/v2.4.0/install.yaml" in moved  # not the CLI's asset: not this manager's


CHART_FILES = {  # the file each repository's Ansible chart pin is in
    "azimuth-cloud-ansible-collection-azimuth-ops": "roles/flux/defaults/main.yml",
    "written": "roles/flux/tasks/main.yml",
}


def test_the_literal_download_string_skips_the_commented_urls_of_a_role(tmp_path: Path) -> None:
    # one manager reads the script's literal URL and the role's variable in both files: the
    # role's vars file documents its release in commented URLs, which fetch nothing
    repo = tmp_path / "both"
    shutil.copytree(REAL / "evocloud-dev-evocloud-paas", repo)
    manager = _manager(generated(write_repo(repo, {"scripts/cli.sh": SCRIPT})), "release asset")
    assert _read(repo, manager) == {
        "Ansible/roles/app-flux-cli/vars/main.yml": ["2.7.5"],
        "scripts/cli.sh": ["2.4.0"],
    }


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
@pytest.mark.parametrize("name", [*CHART_FILES, "chezmoidotsh-arcane"])
def test_each_release_accepts_the_new_kinds(tmp_path: Path, schema: Path, name: str) -> None:
    repo = written(tmp_path) if name == "written" else real(tmp_path, name)
    config = generated(repo, "--renovate-version", _release(schema))
    assert problems(schema, config) == []
    if int(_release(schema).split(".")[0]) < 41 and name in CHART_FILES:
        (pattern,) = _manager(config, "kubernetes.core.helm")["fileMatch"]
        files = (p.relative_to(repo).as_posix() for p in repo.rglob("*.y*ml"))
        assert [rel for rel in files if re.search(pattern, rel)] == [CHART_FILES[name]]


VARIABLE_REF_TASKS = """\
- name: Cilium, its chart a variable too
  kubernetes.core.helm:
    chart_ref: "{{ cilium_chart_name }}"
    chart_version: 1.16.5
    release_name: cilium
- name: Flux
  kubernetes.core.helm:
    chart_ref: "{{ flux_chart_name }}"
    chart_repo_url: https://fluxcd-community.github.io/helm-charts
    chart_version: 2.18.3
    release_name: flux
"""
VARIABLE_REF_DEFAULTS = "flux_chart_name: flux2\ncilium_chart_name: cilium\n"


def test_a_literal_chart_version_beside_a_chart_ref_variable_of_the_chart_is_read(
    tmp_path: Path,
) -> None:
    # the scan follows chart_ref's variable to the role's defaults (flux2) and pins 2.18.3,
    # but the matchStrings wanted the chart's name written in chart_ref: Renovate read none
    files = {
        "roles/flux/tasks/main.yml": VARIABLE_REF_TASKS,
        "roles/flux/defaults/main.yml": VARIABLE_REF_DEFAULTS,
    }
    repo = write_repo(tmp_path / "repo", files)
    chart = _manager(generated(repo), "kubernetes.core.helm")
    assert _read(repo, chart) == {"roles/flux/tasks/main.yml": ["2.18.3"]}
    moved = _renovated(chart, VARIABLE_REF_TASKS, "2.19.0")
    assert moved == VARIABLE_REF_TASKS.replace("2.18.3", "2.19.0")  # cilium's 1.16.5 stays
    assert all(not NOT_RE2.search(p) for p in chart["matchStrings"])


def test_the_install_script_and_a_dockerfile_variable_are_read_and_moved(tmp_path: Path) -> None:
    # fluxcd.io/install.sh given FLUX_VERSION=, literally or by a Dockerfile ENV: fluxbump
    # reads both as CLI pins, so Renovate must move them for sync to follow.
    from tests.test_cli_downloads import INSTALL, INSTALL_IMAGE, INSTALL_IMAGE_TEXT, INSTALL_TEXT

    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, INSTALL_IMAGE: INSTALL_IMAGE_TEXT})
    config = generated(repo)
    manager = _manager(config, "Flux's install script")
    assert _read(repo, manager) == {INSTALL: ["2.4.0", "2.4.0"], INSTALL_IMAGE: ["2.4.0"]}
    assert all(not NOT_RE2.search(p) for p in manager["matchStrings"])
    assert _renovated(manager, INSTALL_TEXT, "2.5.1") == INSTALL_TEXT.replace(
        "FLUX_VERSION=2.4.0", "FLUX_VERSION=2.5.1"
    ).replace('"2.4.0"', '"2.5.1"')
    assert _renovated(manager, INSTALL_IMAGE_TEXT, "2.5.1") == INSTALL_IMAGE_TEXT.replace(
        "2.4.0", "2.5.1"
    )
    for schema in SCHEMAS:
        assert problems(schema, generated(repo, "--renovate-version", _release(schema))) == []
