"""Running fluxbump in a child process to kill it at a chosen point: the shared harness of the crash tests."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from fluxbump.write.transaction import (
    CRASH_ENV,
    PAUSE_ENV,
    PAUSE_FILE_ENV,
)
from tests.support.cli_runner import run_main
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

REPO = Path(__file__).resolve().parents[2]


SMALL = {"clusters": ("a.example",)}


# The flux2 versions these tests need; a small index keeps each subprocess fast.
KEEP = {"2.13.0", "2.14.0", "2.14.1", "2.15.0"}


@pytest.fixture(scope="module")
def index_server() -> Iterator[HelmServer]:
    # A small index keeps each subprocess fast; archives are served here too.
    with serve(HelmServer(routes=dict(flux_repo_routes(keep=frozenset(KEEP))))) as server:
        yield server


@pytest.fixture(autouse=True)
def no_seams(monkeypatch: pytest.MonkeyPatch) -> None:
    """An inherited seam would SIGKILL or pause pytest itself."""
    for name in (CRASH_ENV, PAUSE_ENV, PAUSE_FILE_ENV):
        monkeypatch.delenv(name, raising=False)


def fluxbump_cmd(repo: Path, server: HelmServer, *args: str) -> list[str]:
    return [sys.executable, "-m", "fluxbump", *args, "--repo", str(repo),
            "--helm-repo", server.base_url]  # fmt: skip


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, PAUSE_ENV)}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def run(cmd: list[str], cache: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = child_env(FLUXBUMP_CACHE_DIR=str(cache), **extra)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def run_here(cmd: list[str], cache: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """``run``'s command line as ``python -m fluxbump``'s ``main`` in this process
    (``run_main``), for a run no seam kills or pauses: the run after a crash that finishes or
    undoes it, a refusal. What is proven is in the repository and the journal a killed child
    left; a child's start-up and imports would be most of such a run's cost."""
    assert cmd[:3] == [sys.executable, "-m", "fluxbump"], cmd
    assert not {CRASH_ENV, PAUSE_ENV, PAUSE_FILE_ENV} & extra.keys(), "a seam needs a child"
    done = run_main(*cmd[3:], env={"FLUXBUMP_CACHE_DIR": str(cache), **extra})
    return subprocess.CompletedProcess(cmd, done.code, done.stdout, done.stderr)


# One interpreter imports fluxbump once, then forks a child per run: each child is a real
# process running the real CLI (``fluxbump.cli.main`` with its argv and environment), killed
# for real, without paying interpreter start-up 73 times. A few runs below also go through
# ``python -m fluxbump`` itself, so the console entry point is covered too. Each line it reads
# is a batch of runs, answered by a line of their exit statuses once every child has ended, so
# the runs after a kill (and the test's look at what the kill left) need no second server.
FORK_SERVER = """
import contextlib, io, json, os, sys, traceback
import fluxbump.cli, fluxbump.gate.invariants, fluxbump.write.transaction
limit = int(sys.argv[1])
sys.argv = ["fluxbump", *json.loads(sys.argv[2])]  # a whole run, to warm every lazy import
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    fluxbump.cli.main()
sys.stdout.flush()  # nothing buffered here for a child to write into its own output
def run_batch(jobs):
    running, results = {}, {}
    def reap():
        pid, status = os.wait()
        results[running.pop(pid)] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else (
            os.WEXITSTATUS(status))
    for job in jobs:
        while len(running) >= limit:
            reap()
        pid = os.fork()
        if pid == 0:
            code = 98
            try:
                os.environ.update(job["env"])
                for fd, name in ((1, job["out"]), (2, job["err"])):
                    os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
                sys.argv = ["fluxbump", *job["args"]]
                try:
                    fluxbump.cli.main()
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException:
                traceback.print_exc()
                code = 99
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        running[pid] = job["id"]
    while running:
        reap()
    return results
for line in sys.stdin:
    print(json.dumps(run_batch(json.loads(line))), flush=True)
"""


class ForkServer:
    """The warm interpreter of ``FORK_SERVER``: ``run`` forks a child per job and waits for
    them all; id -> exit status (minus the signal that killed it)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc

    def run(self, jobs: list[dict[str, object]], timeout: float = 120.0) -> dict[str, int]:
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(jobs) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        assert line, f"the fork server gave no answer within {timeout}s (exit {proc.poll()})"
        results: dict[str, int] = json.loads(line)
        return results


@contextlib.contextmanager
def fork_server(cache: Path, warm: list[str]) -> Iterator[ForkServer]:
    """A fork server warmed up by the run ``warm``, its index cache ``cache``; its own errors
    (the children's go to their files) are shown if it ends badly."""
    limit = 2 * (os.cpu_count() or 2)  # fsync waits overlap
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, str(limit), json.dumps(warm)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True,
            env=child_env(FLUXBUMP_CACHE_DIR=str(cache)),
        )  # fmt: skip
        try:
            yield ForkServer(proc)
            assert proc.stdin is not None
            proc.stdin.close()
            assert proc.wait(timeout=60) == 0, _read(errors)
        finally:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


def _read(file: IO[str]) -> str:
    file.seek(0)
    return file.read()


def wait_for(path: Path, proc: subprocess.Popen[str], limit: float = 30.0) -> None:
    """Bounded polling for the file the paused process creates."""
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"process exited {proc.returncode} before pausing: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} did not appear within {limit}s")
        time.sleep(0.01)
