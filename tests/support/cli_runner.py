"""Run the fluxbump CLI in-process (Typer's runner) and as a real subprocess."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from fluxbump.cli import app


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Invoke the Typer app in-process, as Typer's ``CliRunner.invoke`` does, on the click
    command built once; stdout and stderr are kept apart."""
    command = _command()
    code = 0
    with CliRunner().isolation(env=env) as (stdout, stderr, _):
        try:
            command.main(args=list(args), prog_name=command.name or "root")
        except SystemExit as exc:
            if isinstance(exc.code, int) or exc.code is None:
                code = exc.code or 0
            else:  # SystemExit("message"): the message on stdout, exit 1
                sys.stdout.write(f"{exc.code}\n")
                code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            printed = stdout.getvalue().decode(), stderr.getvalue().decode()
    return Outcome(code, *printed)


@functools.cache
def _command() -> Any:
    """The click command Typer builds from the app. ``CliRunner.invoke`` built it anew for
    every run, reading each command's signature with ``typing.get_type_hints``: 17% of the
    CPU of the in-process CLI tests."""
    return typer.main.get_command(app)


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


def run_main(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Run ``fluxbump.__main__.main`` in this process as ``run_process`` runs it in a child:
    the same argv, environment and working directory, stdout and stderr files that are no
    terminal, with the encoding and error handler a child's pipes get, read back as
    ``run_process`` reads them. What the verdict cache keys a run by is then what the child's
    run would be keyed by, so a verdict this run keeps is served to a child (and the reverse),
    without paying a child's start-up and the CLI's imports for every cold run."""
    from fluxbump.__main__ import main

    code = 0
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(2)]
        streams = [
            io.TextIOWrapper(file, encoding=encoding, errors=errors, write_through=True)
            for file, (encoding, errors) in zip(files, _child_stdio(), strict=True)
        ]
        stack.enter_context(_process_state(["fluxbump", *args], env or {}, *streams))
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        printed = [_as_run_reads(stream) for stream in streams]
    return Outcome(code, *printed)


_STDIO_FACTS = """
import json, sys
print(json.dumps([[stream.encoding, stream.errors] for stream in (sys.stdout, sys.stderr)]))
"""


@functools.cache
def _child_stdio() -> list[tuple[str, str]]:
    """The encoding and error handler of a child's stdout and stderr when they are pipes."""
    proc = subprocess.run(
        [sys.executable, "-c", _STDIO_FACTS], capture_output=True, text=True, check=True
    )
    return [(encoding, errors) for encoding, errors in json.loads(proc.stdout)]


@contextlib.contextmanager
def _process_state(
    argv: list[str], env: dict[str, str], stdout: io.TextIOWrapper, stderr: io.TextIOWrapper
) -> Iterator[None]:
    """``argv``, ``env`` over this environment and the two streams, put back afterwards."""
    saved_env, saved = dict(os.environ), (sys.argv, sys.stdout, sys.stderr)
    os.environ.update(env)
    sys.argv, sys.stdout, sys.stderr = argv, stdout, stderr
    try:
        yield
    finally:
        sys.argv, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)


def _as_run_reads(stream: io.TextIOWrapper) -> str:
    """What the stream holds, decoded as ``subprocess.run(text=True)`` decodes a child's
    output (the locale's encoding, universal newlines)."""
    stream.flush()
    file = stream.detach()
    file.seek(0)
    return io.TextIOWrapper(io.BytesIO(file.read())).read()


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


def role_rows(repo: Path, role: str) -> list[tuple[str, str, str, bool]]:
    """``status --offline --json`` sites of one role: (file:line, value, owner, proven)."""
    import json

    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [
        (f"{s['file']}:{s['line']}", s["value"], s["owner"], s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == role
    ]
