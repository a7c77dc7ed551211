"""Printing: human text to stdout, diagnostics to stderr, JSON documents, NO_COLOR.

Every line leaves through ``out``, ``err`` or ``emit_json``, and each scrubs forge tokens
(``fluxbump.secrets``): a forge that echoes the token cannot get it printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from fluxbump import __version__
from fluxbump.pipes import write_stderr, write_stdout
from fluxbump.secrets import scrub


def use_color(stream: Any = None) -> bool:
    """Colour only on a TTY and only when NO_COLOR is unset (https://no-color.org)."""
    target = stream or sys.stdout
    return "NO_COLOR" not in os.environ and bool(getattr(target, "isatty", lambda: False)())


# Recorders of every printed text, in order, as ("out" | "err", text): the verdict cache
# (``fluxbump.verdict``) keeps what a warm run prints again.
TAPS: list[Callable[[tuple[str, str]], object]] = []


def _print(stream: str, text: str) -> None:
    if stream == "err":
        write_stderr(text)
    else:
        write_stdout(text)  # its reader gone: StdoutClosed, a quiet exit 141
    for tap in TAPS:
        tap((stream, text))


def paint(text: str, code: str, stream: Any = None) -> str:
    return f"\033[{code}m{text}\033[0m" if use_color(stream) else text


def out(text: str = "") -> None:
    _print("out", scrub(text) + "\n")


def print_version() -> None:
    """``fluxbump --version``: printed by the CLI, and before it loads (``__main__``)."""
    out(f"fluxbump {__version__}")


def err(text: str) -> None:
    _print("err", scrub(text) + "\n")


def warn(text: str) -> None:
    err(paint("warning: ", "33", sys.stderr) + text)


def error(text: str) -> None:
    err(paint("error: ", "31", sys.stderr) + text)


def emit_json(document: Any) -> None:
    _print("out", scrub(json.dumps(document, indent=2, sort_keys=False)) + "\n")
