"""Find and kill everything a gate command started, even what left its process group.

``setsid cmd &`` puts a process in a new session and group, so killing the gate command's group
misses it, and once its shell exits it is no longer a descendant either. Without cgroups, three
marks still find it: the environment variable it inherited (a token unique to this run), its
ancestry (while fluxbump is its subreaper, an orphan is re-parented to fluxbump, not to init),
and the group or session id of the gate command itself. Linux only (``/proc``); elsewhere only
the process group is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Set (not read) by fluxbump on every gate command; its value is unique per command run.
TOKEN_VARIABLE = "FLUXBUMP_GATE_RUN"
PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36
# A process that forks as fast as it is killed is chased this many rounds, then left.
MAX_ROUNDS = 50
DEATH_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Process:
    pid: int
    state: str
    ppid: int
    pgrp: int
    session: int


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """While inside, orphans of fluxbump's descendants are re-parented to fluxbump."""
    libc = _libc()
    if libc is None or libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        yield
        return
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def children() -> set[int]:
    """fluxbump's own children now (before a gate command starts: not to be killed)."""
    me = os.getpid()
    return {p.pid for p in _table().values() if p.ppid == me}


def kill_everything_started(leader: int, token: str, spared: set[int]) -> None:
    """SIGKILL every live process the gate command ``leader`` started, round after round until
    none is left, and wait until each is dead so that none writes after this returns."""
    for _ in range(MAX_ROUNDS):
        table = _table()
        _reap_adopted(table, leader, spared)
        victims = [p for p in table.values() if _started_by(p, leader, token, spared, table)]
        if not victims:
            return
        for p in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p.pid, signal.SIGKILL)
        for p in victims:
            _await_death(p.pid, leader)


def _reap_adopted(table: dict[int, Process], leader: int, spared: set[int]) -> None:
    """Zombies re-parented to fluxbump are reaped here: nothing else waits for them."""
    me = os.getpid()
    for p in table.values():
        if p.state == "Z" and p.ppid == me and p.pid != leader and p.pid not in spared:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(p.pid, os.WNOHANG)


def _started_by(
    p: Process, leader: int, token: str, spared: set[int], table: dict[int, Process]
) -> bool:
    me = os.getpid()
    if p.pid in (me, leader) or p.state == "Z":
        return False  # the leader itself is reaped by its Popen
    if p.pgrp == leader or p.session == leader or _descends(p, leader, table):
        return True
    if p.ppid == me and p.pid not in spared:
        return True  # an orphan adopted while fluxbump was subreaper
    return _carries(p.pid, token)


def _descends(p: Process, ancestor: int, table: dict[int, Process]) -> bool:
    seen: set[int] = set()
    current = p
    while current.ppid != ancestor:
        if current.ppid in seen or current.ppid not in table:
            return False
        seen.add(current.pid)
        current = table[current.ppid]
    return True


def _carries(pid: int, token: str) -> bool:
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"{TOKEN_VARIABLE}={token}".encode() in environ.split(b"\0")


def _await_death(pid: int, leader: int) -> None:
    """Reap an adopted child; poll any other process until it is gone or a zombie."""
    deadline = time.monotonic() + DEATH_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = _read(pid)
        if current is None or current.state == "Z":
            if current is not None and current.ppid == os.getpid() and pid != leader:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            return
        time.sleep(0.001)  # SIGKILL is pending; the kernel finishes it within a syscall


def _table() -> dict[int, Process]:
    table: dict[int, Process] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(PROC):
            if entry.name.isdigit() and (p := _read(int(entry.name))) is not None:
                table[p.pid] = p
    return table


def _read(pid: int) -> Process | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text("utf-8", "replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 4:
        return None
    return Process(pid, fields[0], int(fields[1]), int(fields[2]), int(fields[3]))


def _libc() -> ctypes.CDLL | None:
    if not PROC.is_dir():
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
