"""The configured gate commands (``gate.commands``), each in its own process group.

A command that passes may leave children behind; they are killed so that nothing writes into
the tree after the bump's files were restored or committed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from fluxbump.errors import GateFailure

# What a failed gate restores: the files this run wrote (not what a gate command wrote).
RESTORED = "every file fluxbump wrote was restored"


def run_gate_command(root: Path, command: str, timeout: int) -> None:
    """Run one configured command in its own process group: on timeout the whole group is
    killed, so nothing it started can write into the tree after the restore."""
    proc = subprocess.Popen(
        command, shell=True, cwd=root, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout)
    except BaseException as exc:
        _kill_group(proc.pid)
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise GateFailure(
                f"gate command '{command}' ran over {timeout}s and was killed; {RESTORED}"
            ) from None
        raise
    _kill_group(proc.pid)  # what it left running in the background must not write later
    if proc.returncode != 0:
        tail = " | ".join(output.strip().splitlines()[-5:])
        raise GateFailure(
            f"gate command '{command}' exited {proc.returncode}; {RESTORED}"
            + (f": {tail}" if tail else "")
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
