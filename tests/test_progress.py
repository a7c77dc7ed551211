"""Progress on stderr: only on a terminal, never with --json or --quiet, never elsewhere.

The CLI runs as a whole process with its stderr on a pseudo-terminal (``os.openpty``), as a
user's shell gives it. ``FLUXBUMP_PROGRESS_AFTER=0`` (documented as for tests) shows every
phase at once, so no assertion depends on how long a phase takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fluxbump import progress
from fluxbump.progress import AFTER_ENV
from tests.support.cli_runner import run_process
from tests.support.fixtures import CONSISTENT, make_fleet
from tests.support.helm_server import HelmServer

CLUSTERS = tuple(f"c{i}.example" for i in range(3))
NOW = {AFTER_ENV: "0"}


def on_pty(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``python -m fluxbump`` with stderr on a pty; (exit code, stdout, stderr bytes)."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluxbump", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100", **env},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer of the pty has closed it
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    code = proc.wait(timeout=120)
    return code, stdout, b"".join(chunks).decode("utf-8", "replace")


def fleet(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", CONSISTENT, clusters=CLUSTERS)


def test_a_terminal_shows_the_scan_and_the_writes(tmp_path: Path, helm_server: HelmServer) -> None:
    root = fleet(tmp_path)
    repo = ("--repo", str(root), "--helm-repo", helm_server.base_url)
    code, stdout, stderr = on_pty("check", *repo, env=NOW)
    assert code == 0, stdout + stderr
    assert progress.SCANNED in stderr and progress.FETCHED in stderr
    assert "consistent" in stdout and progress.SCANNED not in stdout
    code, stdout, stderr = on_pty("to", "2.5.1", "--no-git", *repo, env=NOW)
    assert code == 0, stdout + stderr
    assert progress.PROVEN in stderr and progress.WRITTEN in stderr


def test_json_on_a_terminal_is_one_document_and_no_progress(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    root = fleet(tmp_path)
    args = ("check", "--json", "--repo", str(root), "--helm-repo", helm_server.base_url)
    code, stdout, stderr = on_pty(*args, env=NOW)
    assert code == 0
    assert json.loads(stdout)["ok"] is True
    assert stderr == ""


def test_quiet_on_a_terminal_shows_no_progress(tmp_path: Path, helm_server: HelmServer) -> None:
    root = fleet(tmp_path)
    args = ("status", "-q", "--repo", str(root), "--helm-repo", helm_server.base_url)
    code, _, stderr = on_pty(*args, env=NOW)
    assert code == 0
    assert stderr == ""


def test_stderr_that_is_not_a_terminal_is_unchanged(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """Piped or redirected, stderr holds exactly what it held before progress existed."""
    root = fleet(tmp_path)
    args = ("check", "--offline", "--repo", str(root))
    shown = run_process(*args, env=NOW)
    default = run_process(*args, env={AFTER_ENV: "1000"})
    assert shown.code == default.code == 0
    assert shown.stderr == default.stderr
    assert shown.stderr.startswith("warning: offline: no cached index")
    assert shown.stderr.count("\n") == 1


def test_the_core_reports_nowhere_without_a_terminal() -> None:
    """The core's calls are no-ops until the CLI installs a reporter (no rich imported)."""
    code = (
        "import sys; from fluxbump import progress; progress.step(progress.SCANNED, 5); "
        "print('rich' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (proc.stdout, proc.stderr) == ("False\n", "")


def test_a_kept_verdict_is_not_served_across_terminals_and_keeps_no_bars(tmp_path: Path) -> None:
    """The verdict cache keys whether stderr is a terminal: a run off one does not answer a run
    on one (which shows progress), and what it keeps from a terminal is the text, not the bars."""
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=CLUSTERS, git=True)
    args = ("check", "--offline", "--repo", str(root))
    piped = run_process(*args, env=NOW)
    assert piped.code == 0 and progress.SCANNED not in piped.stderr
    (root / ".git" / "fluxbump-cache").unlink()  # so a cold run scans files, and shows it
    code, stdout, stderr = on_pty(*args, env=NOW)
    assert code == 0 and stdout == piped.stdout
    assert progress.SCANNED in stderr  # a cold run: the piped run's verdict was not served
    code, warm_stdout, warm_stderr = on_pty(*args, env=NOW)
    assert code == 0 and warm_stdout == stdout
    assert progress.SCANNED not in warm_stderr  # served: the text again, no stale bars
    assert "bundled snapshot" in warm_stderr
