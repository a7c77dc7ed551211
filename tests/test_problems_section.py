"""Repository-level problems (issue 24): an unreadable file or a missing template is not a pin,
so ``status`` and ``check`` print it in its own section (JSON key ``problems``) with the real
file name, or none at all, never a made-up ``glob:1`` in the pin table."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.layouts import COMMUNITY, chart, helmrelease, write_repo

FLUX_CHART = "platform/flux/Chart.yaml"
RELEASE = "kubernetes/apps/flux/helmrelease.yaml"
HEADER = "problems (what they name is unproven):"
NO_TEMPLATE = (
    "no cloud-init template (infra/**/*.tftpl) holds the Flux install.yaml URL pinned to an "
    "explicit vX.Y.Z; change 'cloudinit' at .fluxbump.yaml:1"
)


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def configured_template_missing(root: Path) -> Path:
    """A Flux wrapper and its HelmRelease; the configuration names templates that do not exist."""
    return write_repo(
        root,
        {
            FLUX_CHART: chart("platform-flux", "0.3.0", ("flux2", "2.14.1", COMMUNITY)),
            RELEASE: helmrelease("flux", "platform-flux", "0.3.0"),
            ".fluxbump.yaml": 'cloudinit: ["infra/**/*.tftpl"]\n',
        },
    )


def test_status_prints_a_missing_template_after_the_table_without_a_location(
    tmp_path: Path,
) -> None:
    repo = configured_template_missing(tmp_path / "repo")
    status = run(repo, "status")
    assert status.code == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[-2:] == [HEADER, f"  {NO_TEMPLATE}"]
    assert not any("tftpl:1" in line for line in lines)
    table = lines[1 : lines.index(HEADER)]
    assert [line.split()[0] for line in table[1:]] == ["upstream", "chart", "HelmRelease"]


def test_check_fails_on_the_problem_and_says_so_in_text_json_and_github(tmp_path: Path) -> None:
    repo = configured_template_missing(tmp_path / "repo")
    text = run(repo, "check")
    assert text.code == 1
    assert text.stdout.splitlines() == [
        HEADER,
        f"  {NO_TEMPLATE}",
        "check: 0 violation(s) and 1 problem(s) in 3 pin-sites",
    ]
    document = json.loads(run(repo, "check", "--json").stdout)
    assert document["ok"] is False and document["violations"] == []
    assert document["problems"] == [
        {"file": None, "line": None, "message": NO_TEMPLATE, "found": "", "expected": ""}
    ]
    github = run(repo, "check", "--format", "github")
    assert github.code == 1
    assert github.stdout.splitlines()[0] == f"::error::{NO_TEMPLATE}"


def test_a_wrapper_without_its_pin_names_the_whole_file_not_line_1(tmp_path: Path) -> None:
    unpinned = (
        chart("bp-flux", "0.3.0") + f"dependencies:\n  - name: flux2\n    repository: {COMMUNITY}\n"
    )
    repo = write_repo(
        tmp_path / "repo", {FLUX_CHART: unpinned, RELEASE: helmrelease("f", "bp-flux", "0.3.0")}
    )
    check = run(repo, "check")
    assert check.code == 1
    assert f"  {FLUX_CHART}: no 'flux2' dependency with a version" in check.stdout.splitlines()
    github = run(repo, "check", "--format", "github").stdout.splitlines()
    assert f"::error file={FLUX_CHART}::no 'flux2' dependency with a version" in github
