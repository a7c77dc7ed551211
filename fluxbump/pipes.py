"""stdout's reader going away (``fluxbump status | head``): a quiet exit, as other tools make.

A shell reports a command that SIGPIPE killed as 128 + 13; Python ignores SIGPIPE and raises
BrokenPipeError instead, which would otherwise be an "unexpected error" (exit 70) or, at the
final flush, Python's own "Exception ignored" and exit 120. This module imports nothing but
``os`` and ``sys``: a warm run answered before the CLI loads (``verdict``) uses it too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

EXIT_STDOUT_CLOSED = 141


class StdoutClosed(BrokenPipeError):
    """stdout's reader closed the pipe: nothing more can be printed there (an OSError, so
    every handler of a failed print still catches it)."""


def drop_stdout() -> None:
    """stdout takes no more (a full disk, a closed pipe): point it at /dev/null so that the
    flush at exit cannot fail again (Python would then exit 120 with a traceback of its own)."""
    _to_devnull(sys.stdout)


def _to_devnull(stream: TextIO | None) -> None:
    """Point a standard stream's descriptor at /dev/null."""
    if stream is None:  # closed when Python started: no descriptor
        return
    with contextlib.suppress(OSError, ValueError):  # (no descriptor: a test's buffer)
        target = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target)
        os.close(devnull)


def flush_stdout() -> None:
    """Flush stdout before the process ends; its reader gone, exit 141 without a word."""
    if sys.stdout is None:  # started with stdout closed: nothing was kept to flush
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()
        raise SystemExit(EXIT_STDOUT_CLOSED) from None


def write_stdout(text: str) -> None:
    """Write to stdout; its reader gone (or stdout closed at start, which Python gives as
    None) raises StdoutClosed."""
    if sys.stdout is None:
        raise StdoutClosed("stdout is closed")
    try:
        _write(sys.stdout, text)
    except BrokenPipeError as exc:
        raise StdoutClosed(*exc.args) from exc


def write_stderr(text: str) -> None:
    """Write a diagnostic to stderr; closed, or its reader gone, it is lost and the run goes
    on: the exit code still says how it ended."""
    if sys.stderr is None:
        return
    try:
        _write(sys.stderr, text)
    except BrokenPipeError:
        _to_devnull(sys.stderr)


def _write(stream: TextIO, text: str) -> None:
    """Write ``text``; a character the stream's encoding lacks (PYTHONIOENCODING=ascii, a
    legacy locale's latin-1: "→") is written escaped (``\\u2192``), never raised after a bump
    committed. The stream encodes the whole text before it writes any of it."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
