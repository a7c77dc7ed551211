"""How a git command fluxbump runs meets SIGINT, SIGTERM and SIGHUP: git and its hooks see
them as any process does (neither blocked nor ignored by fluxbump), while fluxbump itself
takes one only after git is done. Real git, real signals to this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fluxbump.vcs.steps import run_git
from fluxbump.write.transaction import signals_deferred

HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _mask_bits(status: str, field: str) -> int:
    line = next(line for line in status.splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1], 16)


def _bit(sig: signal.Signals) -> int:
    return 1 << (sig - 1)


def _hook_status(root: Path) -> str:
    """/proc/self/status of a hook git runs (``git hook run``: no shell between, which
    would clear the mask it inherits): git gives its hooks its own mask and ignored signals."""
    hooks = root / "probe-hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / "pre-commit"
    hook.write_text(f"#!{sys.executable}\nprint(open('/proc/self/status').read())\n")
    hook.chmod(0o755)
    proc = run_git(root, ["-c", f"core.hooksPath={hooks}", "hook", "run", "pre-commit"])
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.decode()  # (git sends a hook's output to its stderr)


def _alias_status(root: Path) -> str:
    """/proc/self/status of a program git's alias starts through the shell: signals ignored
    reach it as ignored (a hook runner may install its own handlers first)."""
    proc = run_git(root, ["-c", "alias.probe=!cat /proc/self/status", "probe"])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


@contextmanager
def _ignoring(sig: signal.Signals) -> Iterator[None]:
    previous = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(sig, previous)


def test_git_and_its_hooks_see_the_signals_neither_blocked_nor_ignored(root: Path) -> None:
    status = _hook_status(root)
    for sig in HELD:
        assert not (_mask_bits(status, "SigBlk") | _mask_bits(status, "SigIgn")) & _bit(sig), sig


def test_git_sees_the_signals_unblocked_while_fluxbump_defers_them(root: Path) -> None:
    """Restoring files defers the signals in fluxbump; a git step inside must not inherit that."""
    with signals_deferred():
        status = _hook_status(root)
        still_blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert set(HELD) <= still_blocked  # fluxbump's own mask is as the block left it
    for sig in HELD:
        assert not _mask_bits(status, "SigBlk") & _bit(sig), sig


def test_a_signal_ignored_by_the_user_stays_ignored_for_git(root: Path) -> None:
    """``nohup fluxbump …``: git, too, survives the terminal closing."""
    with _ignoring(signal.SIGHUP):
        status = _alias_status(root)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    assert _mask_bits(status, "SigIgn") & _bit(signal.SIGHUP)


def test_a_signal_during_git_is_delivered_only_after_git_finishes(root: Path) -> None:
    finished = root / "finished"
    script = f"!kill -INT {os.getpid()}; sleep 0.3; touch {finished}"
    with pytest.raises(KeyboardInterrupt):
        run_git(root, ["-c", f"alias.late={script}", "late"])
    assert finished.exists()  # git ran to its end before fluxbump took the signal
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_during_git_while_deferred_stays_pending_until_the_block_ends(root: Path) -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _: received.append(signum))
    try:
        with signals_deferred():
            run_git(root, ["-c", f"alias.term=!kill -TERM {os.getpid()}", "term"])
            assert received == []  # neither during git nor after it, inside the block
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
