"""stdout's reader gone (``fluxbump status | head``): exit 141 without a word, as a command
SIGPIPE killed; never "unexpected error" (70) or Python's "Exception ignored" (120).

Whole processes whose stdout is a pipe with no reader left: the first write fails, whatever
the output's size (a live ``head`` would race the writes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fluxbump.pipes import EXIT_STDOUT_CLOSED
from tests.support.fixtures import CONSISTENT, init_git, make_fleet, snapshot


def run_unread(repo: Path, *args: str) -> tuple[int, str]:
    """Exit code and stderr of ``python -m fluxbump ARGS`` writing into a closed pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fluxbump", *args, "--repo", str(repo)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


def quiet(stderr: str) -> bool:
    """Nothing said but the offline warning: no error line, no traceback."""
    return all(line.startswith("warning: ") for line in stderr.splitlines())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_fleet(tmp_path / "repo", CONSISTENT)
    init_git(root)
    return root


@pytest.mark.parametrize(
    "args",
    [("status", "--offline", "--no-cache"), ("check", "--offline", "--json", "--no-cache")],
)
def test_a_reader_gone_is_a_quiet_exit_141(
    repo: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, stderr = run_unread(repo, *args)
    assert code == EXIT_STDOUT_CLOSED, stderr
    assert quiet(stderr), stderr


def test_a_kept_verdict_replayed_to_a_reader_gone_is_a_quiet_exit_141(
    repo: Path, tmp_path: Path
) -> None:
    first = subprocess.run(
        [sys.executable, "-m", "fluxbump", "status", "--offline", "--repo", str(repo)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    code, stderr = run_unread(repo, "status", "--offline")
    assert code == EXIT_STDOUT_CLOSED, stderr
    assert quiet(stderr), stderr
    again = subprocess.run(
        [sys.executable, "-m", "fluxbump", "status", "--offline", "--repo", str(repo)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (again.returncode, again.stdout) == (0, first.stdout)  # the kept verdict is whole


def test_a_bump_whose_reader_went_away_is_whole_or_not_written(repo: Path, tmp_path: Path) -> None:
    twin = make_fleet(tmp_path / "twin", CONSISTENT)
    init_git(twin)
    normal = subprocess.run(
        [sys.executable, "-m", "fluxbump", "to", "2.5.1", "--offline", "--no-git",
         "--repo", str(twin)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert normal.returncode == 0, normal.stderr
    before = snapshot(repo)
    code, stderr = run_unread(repo, "to", "2.5.1", "--offline", "--no-git")
    assert code == EXIT_STDOUT_CLOSED, stderr
    assert quiet(stderr), stderr
    # The bump prints its plan after the transaction: it is whole, exactly the twin's.
    assert snapshot(repo) == snapshot(twin) != before


def run_closed(repo: Path | None, *args: str) -> tuple[int, str]:
    """Exit code and stderr of ``python -m fluxbump ARGS`` started with stdout closed
    (``fluxbump … >&-``): Python gives it as None, and descriptor 1 is free."""
    repo_args = ("--repo", str(repo)) if repo is not None else ()
    proc = subprocess.run(
        [sys.executable, "-m", "fluxbump", *args, *repo_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),  # after the child's dup2: it starts with 1 closed
    )
    return proc.returncode, proc.stderr


def test_version_with_stdout_closed_is_a_quiet_exit_141(tmp_path: Path) -> None:
    code, stderr = run_closed(None, "--version")
    assert (code, stderr) == (EXIT_STDOUT_CLOSED, "")


def test_a_bump_started_with_stdout_closed_is_whole_and_quiet(repo: Path, tmp_path: Path) -> None:
    before = snapshot(repo)
    code, stderr = run_closed(repo, "to", "2.5.1", "--offline", "--no-git")
    assert code == EXIT_STDOUT_CLOSED, stderr
    assert quiet(stderr), stderr
    assert snapshot(repo) != before
    check = subprocess.run(
        [sys.executable, "-m", "fluxbump", "check", "--offline", "--repo", str(repo)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr  # every pin moved, together
    assert (
        "v2.5.1/install.yaml"
        in snapshot(repo)["infra/hetzner/cloudinit-control-plane.tftpl"].decode()
    )


def run_without_stderr(repo: Path, *args: str) -> tuple[int, str]:
    """Exit code and stdout of ``python -m fluxbump ARGS`` started with stderr closed."""
    proc = subprocess.run(
        [sys.executable, "-m", "fluxbump", *args, "--repo", str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(2),
    )
    return proc.returncode, proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--offline"),  # the open run keeps its verdict: the closed one replays it
        ("status", "--offline", "--no-cache"),
        ("check", "--offline", "--json", "--no-cache"),
        ("to", "9.9.9", "--offline", "--no-git"),  # exit 3: no chart; its error line is lost
    ],
)
def test_stderr_closed_loses_the_diagnostics_and_nothing_else(
    repo: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    before = snapshot(repo)
    expected = subprocess.run(
        [sys.executable, "-m", "fluxbump", *args, "--repo", str(repo)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert expected.stderr  # (so there was something to lose)
    assert run_without_stderr(repo, *args) == (expected.returncode, expected.stdout)
    assert snapshot(repo) == before
