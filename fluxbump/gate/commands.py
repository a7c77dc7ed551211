"""The configured gate commands (``gate.commands``), each in its own session.

A command that passes may leave children behind, even in another session; they are killed
(``escapees``) so that nothing writes into the tree after the bump's files were restored or
committed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from pathlib import Path

from fluxbump.errors import GateFailure
from fluxbump.gate import escapees
from fluxbump.write.transaction import held_lock

# What a failed gate restores: the files this run wrote (not what a gate command wrote).
RESTORED = "every file fluxbump wrote was restored"


def run_gate_command(root: Path, command: str, timeout: int) -> None:
    """Run one configured command in its own session: when it ends (or runs over its timeout)
    everything it started is killed, even what left its group with ``setsid``, so nothing it
    started can write into the tree after the restore."""
    token = secrets.token_hex(16)
    with escapees.adopting_orphans():
        spared = escapees.children()
        proc = subprocess.Popen(
            command, shell=True, cwd=root, text=True, start_new_session=True,
            env={**os.environ, escapees.TOKEN_VARIABLE: token},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=held_lock(),  # one outliving a killed run keeps the next one waiting
        )  # fmt: skip
        try:
            output, _ = proc.communicate(timeout=timeout)
        except BaseException as exc:
            _kill_all(proc, token, spared)
            proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise GateFailure(
                    f"gate command '{command}' ran over {timeout}s and was killed; {RESTORED}"
                ) from None
            raise
        _kill_all(proc, token, spared)  # what it left running must not write later
    if proc.returncode != 0:
        tail = " | ".join(output.strip().splitlines()[-5:])
        raise GateFailure(
            f"gate command '{command}' exited {proc.returncode}; {RESTORED}"
            + (f": {tail}" if tail else "")
        )


def _kill_all(proc: subprocess.Popen[str], token: str, spared: set[int]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    escapees.kill_everything_started(proc.pid, token, spared)
