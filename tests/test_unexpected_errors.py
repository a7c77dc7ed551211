"""No traceback, ever (issue 18, item 9): an exception no core call expected is one line on
stderr, exit 70 (never 1, the gate's code), a hint to rerun with --debug, and under --json one
JSON document; --debug or FLUXBUMP_DEBUG=1 prints the traceback."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fluxbump.errors import EXIT_INTERNAL
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import child_env
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot

HINT = "; rerun with --debug for the traceback"
FULL = "unexpected error (OSError: [Errno 28] No space left on device)"


def to_full_disk(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A real ENOSPC outside the transaction: stdout is /dev/full (a full disk)."""
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "fluxbump", *args],
            stdout=full, stderr=subprocess.PIPE, text=True, env=child_env(**env), timeout=120,
        )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_a_full_disk_while_printing_is_one_line_and_exit_70(
    repo: Path, json_flag: tuple[str, ...]
) -> None:
    proc = to_full_disk("status", "-v", "-q", "--offline", "--repo", str(repo), *json_flag)
    assert proc.returncode == EXIT_INTERNAL == 70
    assert proc.stderr == f"error: {FULL}{HINT}\n"


@pytest.mark.parametrize(
    ("flag", "env"), [(("--debug",), {}), ((), {"FLUXBUMP_DEBUG": "1"})], ids=["flag", "env"]
)
def test_debug_prints_the_traceback_and_the_same_line(
    repo: Path, flag: tuple[str, ...], env: dict[str, str]
) -> None:
    proc = to_full_disk(*flag, "status", "-v", "-q", "--offline", "--repo", str(repo), **env)
    assert proc.returncode == 70
    lines = proc.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "OSError: [Errno 28] No space left on device" in lines[-2]
    assert lines[-1] == f"error: {FULL}"


def exploding(exc: BaseException) -> object:
    def explode(*args: object, **kwargs: object) -> object:
        raise exc

    return explode


def test_a_memory_error_in_a_command_is_one_line_and_exit_70(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fluxbump.commands.check

    monkeypatch.setattr(fluxbump.commands.check, "run_check", exploding(MemoryError()))
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert (outcome.code, outcome.stdout) == (70, "")
    assert outcome.stderr == f"error: unexpected error (MemoryError){HINT}\n"
    as_json = run_cli("check", "--format", "json", "--repo", str(repo), "--offline")
    assert as_json.code == 70
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "error": f"unexpected error (MemoryError){HINT}",
        "exit_code": 70,
    }


def test_an_unexpected_error_in_a_bump_writes_nothing_and_is_one_json_document(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fluxbump.commands.bump

    before = snapshot(repo)
    full = OSError(errno.ENOSPC, "No space left on device", "/var/cache/fluxbump/index.yaml")
    monkeypatch.setattr(fluxbump.commands.bump, "load_index", exploding(full))
    outcome = run_cli("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 70
    message = (
        "unexpected error (OSError: [Errno 28] No space left on device: "
        f"'/var/cache/fluxbump/index.yaml'){HINT}"
    )
    assert outcome.stderr == f"error: {message}\n"
    assert json.loads(outcome.stdout) == {"ok": False, "error": message, "exit_code": 70}
    assert snapshot(repo) == before


def test_the_help_and_the_readme_document_exit_70() -> None:
    help_text = run_cli("--help").stdout
    assert "70 unexpected error (rerun with --debug for the traceback)" in " ".join(
        help_text.split()
    )
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert "| 70 | an unexpected error" in readme


def test_an_unexpected_error_after_writing_restores_every_file_then_exits_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fluxbump.commands.bump
    from tests.adversarial.harness import git_state, leftovers

    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    monkeypatch.setattr(fluxbump.commands.bump, "run_gate", exploding(RecursionError("deep")))
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline")
    assert outcome.code == 70
    assert (
        outcome.stderr.splitlines()[-1] == f"error: unexpected error (RecursionError: deep){HINT}"
    )
    assert "Traceback" not in outcome.stderr
    assert git_state(repo) == before and leftovers(repo) == []
