"""``renovate-config`` for the pins fluxbump reads that no Renovate manager does: the Flux
release a Terraform ``helm_release`` of flux-instance sets, and flux-operator's own release
manifest. Without a custom manager Renovate never proposed a move of either (a helper found
both in public repositories). Each config is what the recorded schema of Renovate 39 and 42
accepts, and each manager's regex (RE2 and JavaScript share this subset with Python's ``re``)
finds exactly the literal pins fluxbump reads in the file it names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fluxbump.commands.renovate_lines import operator_manifest_string
from fluxbump.scan.sites.operator import release_manifests
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.fixtures import write_repo
from tests.test_operator_manifest import KUSTOMIZATION, KUSTOMIZATION_TEXT, OCI, OCI_TEXT
from tests.test_operator_manifest import SCRIPT as OPERATOR_SCRIPT
from tests.test_operator_manifest import SCRIPT_TEXT as OPERATOR_SCRIPT_TEXT
from tests.test_renovate import SCHEMAS, _release, problems
from tests.test_terraform_instance import MAIN, MISE, OPERATOR, SET_BLOCKS, SET_LIST


def config_of(repo: Path, *args: str) -> dict[str, Any]:
    outcome = run_cli("renovate-config", "--repo", str(repo), *args)
    assert outcome.code == 0, outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def manager_for(config: dict[str, Any], dep: str, in_file: str) -> dict[str, Any]:
    (found,) = [
        m
        for m in config["customManagers"]
        if m.get("depNameTemplate") == dep and in_file in json.dumps(m["managerFilePatterns"])
    ]
    return found


def values_found(manager: dict[str, Any], text: str) -> list[str]:
    pythonic = [s.replace("(?<", "(?P<") for s in manager["matchStrings"]]  # (same syntax)
    return [m["currentValue"] for s in pythonic for m in re.finditer(s, text)]


@pytest.mark.parametrize(("instance", "values"), [(SET_BLOCKS, ["2.3.0", "2.4.0"]),
                                                  (SET_LIST, ["2.4.0"])])  # fmt: skip
def test_a_terraform_flux_instance_release_gets_a_manager_in_the_flux_group(
    tmp_path: Path, instance: str, values: list[str]
) -> None:
    text = OPERATOR + instance.replace("{version}", "2.4.0")
    repo = write_repo(tmp_path / "repo", {MAIN: text, ".mise.toml": MISE})
    config = config_of(repo)
    manager = manager_for(config, "fluxcd/flux2", MAIN)
    assert manager["datasourceTemplate"] == "github-releases"
    assert values_found(manager, (repo / MAIN).read_text("utf-8")) == values
    (group,) = [r for r in config["packageRules"] if r.get("groupName") == "Flux"]
    assert "fluxcd/flux2" in group["matchDepNames"]


def test_flux_operators_release_manifest_gets_a_manager_in_the_operator_group(
    tmp_path: Path,
) -> None:
    files = {
        OPERATOR_SCRIPT: OPERATOR_SCRIPT_TEXT,
        KUSTOMIZATION: KUSTOMIZATION_TEXT,
        OCI: OCI_TEXT,
    }
    repo = write_repo(tmp_path / "repo", files)
    config = config_of(repo)
    dep = "controlplaneio-fluxcd/flux-operator"
    for rel in (OPERATOR_SCRIPT, KUSTOMIZATION):
        manager = manager_for(config, dep, rel)
        assert manager["managerFilePatterns"] == [KUSTOMIZATION, OPERATOR_SCRIPT]
    manager = manager_for(config, dep, KUSTOMIZATION)
    assert values_found(manager, KUSTOMIZATION_TEXT) == ["v0.33.0"]
    assert "v0.30.0" not in values_found(manager, OPERATOR_SCRIPT_TEXT)  # (a comment)
    (group,) = [r for r in config["packageRules"] if r.get("groupName") == "flux-operator"]
    assert dep in group["matchDepNames"]
    assert group["postUpgradeTasks"]["commands"] == ["fluxbump sync"]


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_new_managers_are_what_each_release_accepts(tmp_path: Path, schema: Path) -> None:
    files = {
        MAIN: OPERATOR + SET_BLOCKS.replace("{version}", "2.4.0"),
        OPERATOR_SCRIPT: OPERATOR_SCRIPT_TEXT,
        KUSTOMIZATION: KUSTOMIZATION_TEXT,
    }
    repo = write_repo(tmp_path / "repo", files)
    config = config_of(repo, "--renovate-version", _release(schema))
    deps = {m.get("depNameTemplate") for m in config["customManagers"]}
    assert {"fluxcd/flux2", "controlplaneio-fluxcd/flux-operator"} <= deps
    assert problems(schema, config) == []


# Lines holding flux-operator's manifest, and whether each fetches or keeps it (a pin).
MANIFEST_LINES = {
    "kubectl apply -f {url}": True,
    'echo "installing {url}"': False,  # printed: Renovate's manager took it for a pin
    "printf '%s\\n' {url}": False,
    "# kubectl apply -f {url}": False,
    "  // kubectl apply -f {url}": False,
    "  - {url}": True,
    'MANIFEST="{url}"': True,
    "url: {url}": True,
    "curl -sL {url} | kubectl apply -f -": True,
    "kubectl apply -f {url} || echo failed": True,  # (it prints after fetching)
    "echo done; kubectl apply -f {url}": False,  # (an echo before it: said printed)
    "/usr/local/bin/kubectl.exe apply -f {url}": True,
    "$(curl -fsSL {url})": True,
    "see {url} (kubectl)": False,
    "ekubectl apply -f {url}": False,
    "kubectl apply -f x-{url}": False,  # (its scheme glued to another word: no URL of it)
    "  {url}": False,
}


def fluxbump_reads(text: str) -> list[str]:
    return [s.value for s in release_manifests(SourceFile("install.sh", text.encode(), text))]


def operator_manager(tmp_path: Path) -> dict[str, Any]:
    repo = write_repo(tmp_path / "repo", {OPERATOR_SCRIPT: OPERATOR_SCRIPT_TEXT})
    return manager_for(config_of(repo), "controlplaneio-fluxcd/flux-operator", OPERATOR_SCRIPT)


def test_the_operator_manager_reads_the_lines_fluxbump_reads(tmp_path: Path) -> None:
    """A URL an ``echo`` prints is no pin to fluxbump; the manager's ``[^#\\n]*?`` before it
    took any line that was no comment, so Renovate proposed moving what nothing applies."""
    manager = operator_manager(tmp_path)
    assert values_found(manager, OPERATOR_SCRIPT_TEXT) == ["v0.33.0"]
    url = "https://github.com/controlplaneio-fluxcd/flux-operator/releases/download/{}/install.yaml"
    lines = [line.format(url=url.format(f"v0.{i}.0")) for i, line in enumerate(MANIFEST_LINES)]
    text = "\n".join(lines) + "\n"
    pins = [f"v0.{i}.0" for i, pin in enumerate(MANIFEST_LINES.values()) if pin]
    assert fluxbump_reads(text) == pins
    assert values_found(manager, text) == pins


_TOKENS = ["echo", "printf", "kubectl", "curl", "wget", "x", "_", "-", " ", "\t", "#", "/",
           ":", "=", '"', "'", ".", "|", "$(", "-f", "https://", "http://", "ec"]  # fmt: skip
_URL = "github.com/controlplaneio-fluxcd/flux-operator/releases/download/v0.33.0/install.yaml"


@settings(max_examples=300, deadline=None)
@example([["kubectl", "curl", ".", "="], ["ec", '"', ":"], ["https://"], ["'", "https://"]])
@given(st.lists(st.lists(st.sampled_from(_TOKENS), max_size=6), min_size=1, max_size=4))
def test_the_operator_manager_and_fluxbump_agree_on_any_line(befores: list[list[str]]) -> None:
    manager = _generated_operator_manager()
    text = "".join("".join(before) + _URL + "\n" for before in befores)
    assert values_found(manager, text) == fluxbump_reads(text)


def _generated_operator_manager() -> dict[str, Any]:
    """The manager as renovate-config writes it (its matchStrings alone are read)."""
    return {"matchStrings": [operator_manifest_string()]}
