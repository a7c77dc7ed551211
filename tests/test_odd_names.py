"""File names that are any bytes but "/" and NUL: one holding a newline or an escape sequence is
found like any other and printed as one escaped record (a script reading lines is not misled,
a terminal is not driven); one that is not UTF-8 leaves stdout and ``--json`` valid UTF-8."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fluxbump.config import Config, load_config
from fluxbump.output import one_line
from fluxbump.render import PrContent, PrEdit, render_pr
from fluxbump.write.transaction import CRASH_ENV
from tests.conftest import SNAPSHOT_INDEX
from tests.support.cli_runner import run_cli
from tests.support.fixtures import git, init_git
from tests.support.layouts import COMMUNITY, chart, helmrelease

NEWLINE_DIR = "clusters/a\nb"
ESCAPE_DIR = "clusters/e\x1b[2Jx"


def fleet(root: Path, dirs: dict[bytes, str]) -> Path:
    """A repository of HelmReleases deploying flux2 (no wrapper), one per directory, committed;
    the directory names are bytes (a name need not be UTF-8)."""
    for name, version in dirs.items():
        directory = os.fsencode(root) + b"/" + name
        os.makedirs(directory)
        with open(directory + b"/flux.yaml", "w", encoding="utf-8") as file:
            file.write(helmrelease("flux", "flux2", version))
    init_git(root)
    return root


def odd(root: Path) -> Path:
    """The release in a directory whose name holds an escape sequence lags the others."""
    return fleet(
        root,
        {
            os.fsencode(NEWLINE_DIR): "2.14.1",
            os.fsencode(ESCAPE_DIR): "2.13.0",
            b"clusters/c": "2.14.1",
        },
    )


def run(command: str, repo: Path, *args: str) -> tuple[int, str]:
    outcome = run_cli(command, *args, "--repo", str(repo), "--offline")
    return outcome.code, outcome.stdout


def test_a_release_under_a_directory_whose_name_holds_a_newline_is_checked(tmp_path: Path) -> None:
    repo = odd(tmp_path / "repo")
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    files = [site["file"] for site in json.loads(status.stdout)["sites"]]
    assert f"{NEWLINE_DIR}/flux.yaml" in files, status.stdout


def test_status_and_check_print_control_characters_of_a_name_escaped(tmp_path: Path) -> None:
    repo = odd(tmp_path / "repo")
    code, text = run("status", repo, "--verbose")
    assert code == 0, text
    lines = text.splitlines()
    assert any(line.startswith("HelmRelease") and "clusters/a\\nb/flux.yaml:11" in line
               for line in lines), text  # fmt: skip
    assert any("clusters/e\\x1b[2Jx/flux.yaml:11" in line for line in lines), text
    assert "\x1b" not in text and not any(line.startswith("b/flux.yaml") for line in lines)
    code, text = run("check", repo)
    assert code == 1, text
    assert "\x1b" not in text
    violations = [line for line in text.splitlines() if "deploys flux2" in line]
    assert len(violations) == 1, text
    assert violations[0].startswith("clusters/e\\x1b[2Jx/flux.yaml:11: "), text
    assert "(clusters/a\\nb/flux.yaml:11)" in violations[0], text


def test_a_bump_prints_the_plan_and_diff_headers_of_such_a_name_escaped(tmp_path: Path) -> None:
    repo = odd(tmp_path / "repo")
    code, text = run("to", repo, "2.4.0", "--no-git", "--dry-run")
    assert code == 0, text
    lines = text.splitlines()
    assert "--- a/clusters/e\\x1b[2Jx/flux.yaml" in lines, text
    assert any(line.startswith("  clusters/e\\x1b[2Jx/flux.yaml:11") for line in lines), text
    assert "\x1b" not in text


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _process(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """fluxbump as its own process whose stdout is strict UTF-8 (a locale other than C)."""
    return subprocess.run(
        [sys.executable, "-m", "fluxbump", *args, "--repo", str(repo), "--offline"],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
        check=False,
    )


def test_json_of_a_name_that_is_not_utf8_is_strict_utf8_with_the_byte_escaped(
    tmp_path: Path,
) -> None:
    repo = fleet(tmp_path / "repo", {b"clusters/d\xff": "2.13.0", b"clusters/c": "2.14.1"})
    proc = _process(repo, "check", "--json")
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout.decode("utf-8"))  # strict: no raw byte
    for text in _strings(document):
        text.encode("utf-8")  # no lone surrogate (strict parsers refuse one)
    assert [v["file"] for v in document["violations"]] == ["clusters/d\\xff/flux.yaml"]


def test_text_of_a_name_that_is_not_utf8_is_utf8_with_the_byte_escaped(tmp_path: Path) -> None:
    repo = fleet(tmp_path / "repo", {b"clusters/d\xff": "2.13.0", b"clusters/c": "2.14.1"})
    proc = _process(repo, "check")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.decode("utf-8").startswith("clusters/d\\xff/flux.yaml:11: "), proc.stdout


_ESCAPE = re.compile(r"\\(\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _read_back(line: str, escaped: bool) -> str:
    """What ``one_line`` printed, decoded by the README's rule (bytes back as surrogates)."""
    if not escaped:
        return line

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xu":
            value = int(code[1:], 16)
            return chr(0xDC00 + value) if code[0] == "x" and value >= 0x80 else chr(value)
        return {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}[code]

    return _ESCAPE.sub(one, line)


@settings(max_examples=300, deadline=None)
@example("a\u2028b\u0085c")  # line separators a line-reader (Python's splitlines) splits at
@example("a\nb\\n\udcff")  # a newline, a literal backslash-n, a byte that is not UTF-8
@given(st.text(st.characters(codec=None, blacklist_categories=())) | st.binary().map(os.fsdecode))
def test_one_line_is_printable_utf8_and_reads_back_exactly(text: str) -> None:
    line = one_line(text)
    line.encode("utf-8")
    assert not any(unicodedata.category(c) == "Cc" for c in line), line
    assert len(f"<{line}>".splitlines()) == 1, line
    assert _read_back(line, line != text) == text


def test_a_bump_commits_a_name_that_is_not_utf8_with_the_byte_escaped_in_its_message(
    tmp_path: Path,
) -> None:
    repo = fleet(tmp_path / "repo", {b"clusters/d\xff": "2.13.0", b"clusters/c": "2.13.0"})
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stderr
    message = git(repo, "log", "-1", "--format=%B").splitlines()
    assert "- clusters/d\\xff/flux.yaml:11: HelmRelease (flux-system/flux) 2.13.0 -> 2.14.1" in (
        message
    ), message
    changed = subprocess.run(
        ["git", "show", "--name-only", "-z", "--format="], cwd=repo, capture_output=True, check=True
    ).stdout
    assert b"clusters/d\xff/flux.yaml\0" in changed


def test_a_pull_request_body_names_such_files_escaped_on_one_line() -> None:
    edits = tuple(
        PrEdit(name, 11, "HelmRelease", "flux-system/flux", "2.13.0", "2.14.1")
        for name in (os.fsdecode(b"clusters/d\xff/flux.yaml"), f"{NEWLINE_DIR}/flux.yaml")
    )
    _, body = render_pr(PrContent("2.4.0", "2.14.1", "2.3.0", "2.13.0", edits=edits))
    body.encode("utf-8")  # the forge's API takes UTF-8 JSON
    rows = body.splitlines()
    assert (
        "| `clusters/d\\xff/flux.yaml` | 11 | HelmRelease | flux-system/flux | `2.13.0` | `2.14.1` |"
        in rows
    )
    assert any(row.startswith("| `clusters/a\\nb/flux.yaml` | 11 |") for row in rows), body


@pytest.mark.parametrize(
    "directory",
    [b"platform/x\nexclude: ['**']\n#", b"platform/fl\xffux"],
    ids=["newline", "not-utf8"],
)
def test_init_names_such_a_wrapper_escaped_in_its_comments(
    tmp_path: Path, directory: bytes
) -> None:
    # The summary comment names the wrapper's file: a newline there ended the comment and
    # wrote the rest of the name as configuration; a byte not UTF-8 stopped init (exit 70).
    repo = tmp_path / "re\npo"  # init names it
    wrapper = os.fsencode(repo) + b"/" + directory + b"/chart"
    os.makedirs(wrapper)
    with open(wrapper + b"/Chart.yaml", "w", encoding="utf-8") as file:
        file.write(chart("bp-flux", "1.0.0", ("flux2", "2.13.0", COMMUNITY)))
    init_git(repo)
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text("utf-8")
    assert f"wrapper {one_line(os.fsdecode(directory))}/chart/Chart.yaml;" in text, text
    assert outcome.stdout == f"wrote {one_line(str(repo / '.fluxbump.yaml'))}\n"
    assert load_config(repo) == replace(Config(), wrapper="bp-flux", source=".fluxbump.yaml")


def test_resolve_prints_a_local_index_path_holding_a_newline_escaped(tmp_path: Path) -> None:
    index = tmp_path / "mirror\x1b\nx" / "index.yaml"
    index.parent.mkdir()
    shutil.copyfile(SNAPSHOT_INDEX, index)
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", str(index))
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.splitlines() == [
        f"Flux v2.4.0 → flux2 chart 2.14.1 (index: {tmp_path}/mirror\\x1b\\nx/index.yaml)"
    ]


def test_a_bump_killed_after_committing_a_name_that_is_not_utf8_is_finished_by_the_next_run(
    tmp_path: Path,
) -> None:
    """Killed after the commit, before its record: the next run knows the commit by the
    files it changes, which git names in bytes; a name that is not UTF-8 never matched the
    journal's paths, so the run undid the bump instead of finishing it."""
    repo = fleet(tmp_path / "repo", {b"clusters/d\xff": "2.13.0", b"clusters/c": "2.13.0"})
    start = git(repo, "rev-parse", "HEAD")
    killed = subprocess.run(
        [sys.executable, "-m", "fluxbump", "to", "2.4.0", "--repo", str(repo), "--offline"],
        capture_output=True,
        env={**os.environ, CRASH_ENV: "git:4"},
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.4.0"
    assert git(repo, "rev-parse", "HEAD^") == start
    assert git(repo, "status", "--porcelain") == ""
    changed = git(repo, "show", "--name-only", "--format=")  # (quoted: \377)
    assert len(changed.splitlines()) == 2, changed
