"""Progress on a terminal, for phases that take more than about a second.

The core reports what it does through ``step`` (files scanned, edits proven, files written,
network fetches) and never imports a UI: until the CLI installs a reporter (``on_terminal``:
stderr is a terminal, no ``--json``, no ``--quiet``) each call is a no-op. The reporter draws
with rich (imported only once a phase has run long enough to be shown) and erases its lines
when the command ends, so a terminal keeps only what the command printed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, Protocol

SCANNED = "files scanned"
PROVEN = "edits proven"
WRITTEN = "files written"
FETCHED = "network fetches"

# Seconds a phase runs before it is shown. For tests (a pty run must show progress without
# waiting): FLUXBUMP_PROGRESS_AFTER=0 shows every phase at once.
AFTER_ENV = "FLUXBUMP_PROGRESS_AFTER"
AFTER_SECONDS = 1.0


class Reporter(Protocol):
    def advance(self, phase: str, count: int, total: int | None) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def advance(self, phase: str, count: int, total: int | None) -> None:
        pass

    def close(self) -> None:
        pass


_SILENT = _Silent()
_reporter: list[Reporter] = [_SILENT]


def step(phase: str, count: int = 1, total: int | None = None) -> None:
    """``count`` more items of ``phase`` done (0 with ``total``: the phase's size is known)."""
    _reporter[0].advance(phase, count, total)


def silence() -> None:
    """Report nothing from here on: a forked worker's parent owns the terminal's display."""
    _reporter[0] = _SILENT


@contextlib.contextmanager
def on_terminal(wanted: bool) -> Iterator[None]:
    """Show progress for the block's phases when ``wanted`` and stderr is a terminal."""
    if not wanted or not _is_terminal(sys.stderr):
        yield
        return
    reporter = _Bars(_after())
    _reporter[0] = reporter
    try:
        yield
    finally:
        _reporter[0] = _SILENT
        reporter.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed by the caller
        return False


def _after() -> float:
    try:
        return max(0.0, float(os.environ.get(AFTER_ENV, AFTER_SECONDS)))
    except ValueError:
        return AFTER_SECONDS


class _Phase:
    __slots__ = ("done", "started", "task", "total")

    def __init__(self, total: int | None) -> None:
        self.started = time.monotonic()
        self.done = 0
        self.total = total
        self.task: Any = None  # rich's task id, once shown


class _Bars:
    """One rich progress line per phase that ran longer than ``after`` seconds."""

    def __init__(self, after: float) -> None:
        self.after = after
        self.phases: dict[str, _Phase] = {}
        self.progress: Any = None

    def advance(self, phase: str, count: int, total: int | None) -> None:
        state = self.phases.get(phase)
        if state is None:
            state = self.phases[phase] = _Phase(total)
        state.done += count
        if total is not None:
            state.total = total
        if state.task is None:
            if time.monotonic() - state.started < self.after:
                return
            state.task = self._bars().add_task(phase, total=state.total)
        self.progress.update(state.task, completed=state.done, total=state.total)

    def _bars(self) -> Any:
        if self.progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            console = Console(file=sys.stderr)
            # stdout is the command's (JSON, reports): only stderr lines go above the bars.
            self.progress = Progress(
                *columns, console=console, transient=True, redirect_stdout=False
            )
            self.progress.start()
        return self.progress

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
