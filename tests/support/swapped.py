"""Python code run in a child that swaps one file for a FIFO or a symlink just as the code
first opens it: another process's swap after every check by path (``lstat``) and before the
open, made deterministic. A child, so that a read waiting on the FIFO for ever ends at the
timeout instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.crash_cli import child_env

_PRELUDE = """
import builtins, io, os, sys
_target, _into = sys.argv[1], sys.argv[2]
_open, _os_open, _swapped = builtins.open, os.open, []


def _swap(path):
    if isinstance(path, int) or _swapped or os.path.abspath(os.fspath(path)) != _target:
        return
    _swapped.append(path)
    os.unlink(_target)
    os.mkfifo(_target) if _into == "fifo" else os.symlink(_into, _target)


def _swapping_open(path, *args, **kwargs):
    _swap(path)
    return _open(path, *args, **kwargs)


def _swapping_os_open(path, *args, **kwargs):
    _swap(path)
    return _os_open(path, *args, **kwargs)


builtins.open = io.open = _swapping_open
os.open = _swapping_os_open
"""


def run_swapped(
    path: Path, into: str, code: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``code`` (its ``sys.argv[3:]`` are ``args``) with ``path`` swapped at its first open
    for a FIFO (``into="fifo"``) or a symlink to ``into``; a run past 30 s (one waiting on
    the FIFO) raises ``subprocess.TimeoutExpired``."""
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE + code, os.path.realpath(path), into, *args],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


# The CLI in the child: ``fluxbump ARGS...``.
CLI = "from fluxbump.__main__ import main\nsys.argv = ['fluxbump', *sys.argv[3:]]\nmain()\n"
