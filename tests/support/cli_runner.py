"""Run the fluxbump CLI in-process (Typer's runner) and as a real subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from fluxbump.cli import app


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Invoke the Typer app in-process; stdout and stderr are kept apart."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def run_cli_at(cwd: Path, *args: str) -> Outcome:
    """``run_cli`` with ``cwd`` as the working directory (what a command without ``--repo``
    starts from), restored afterwards: a process for that alone costs more than the command."""
    with contextlib.chdir(cwd):
        return run_cli(*args)


def run_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run ``python -m fluxbump`` as a whole process, as a user or CI would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "fluxbump", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


# The console script's own entry point, then (last on stderr) the top-level modules it loaded.
_LOADED_MODULES = """
import atexit, sys
atexit.register(lambda: print(" ".join(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["fluxbump", *sys.argv[1:]]
from fluxbump.__main__ import main
main()
"""


def run_entry_point(*args: str, cwd: Path | None = None) -> tuple[Outcome, set[str]]:
    """Run ``fluxbump.__main__.main`` in a fresh interpreter: what it printed, and the
    top-level packages it imported (what a run before the CLI loads must not need)."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED_MODULES, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    stderr, _, modules = proc.stderr.rstrip("\n").rpartition("\n")
    printed = Outcome(proc.returncode, proc.stdout, stderr + "\n" if stderr else "")
    return printed, {m.split(".")[0] for m in modules.split()}
