"""Printing: human text to stdout, diagnostics to stderr, JSON documents, NO_COLOR.

Every line leaves through ``out``, ``err`` or ``emit_json``, and each scrubs forge tokens
(``fluxbump.secrets``): a forge that echoes the token cannot get it printed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
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


# A file name is any bytes but "/" and NUL. A control character in one (a newline, an ESC
# sequence) printed raw splits a record in two for a script reading lines, or drives the
# terminal; a byte that is not UTF-8 reaches Python as a lone surrogate (PEP 383), which a
# strict UTF-8 stdout cannot encode and JSON cannot carry.
# (U+2028 and U+2029 end a line for Python's ``splitlines`` and for JavaScript.)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ESCAPED = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` as one printable record: a text holding a control character or a byte that is
    not UTF-8 has them written as Python-style escapes (``\\n``, ``\\x1b``, ``\\xff`` for a
    byte, ``\\u0085`` for a C1 control) and its backslashes doubled, so it reads back exactly;
    any other text is unchanged."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return _ESCAPED.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # the byte surrogateescape kept
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


class Verbatim(str):
    """A record printed as it is (a diff: file content, several lines)."""


def out_records(lines: Iterable[str]) -> None:
    """Print each record of a report on its own line (``one_line``), ``Verbatim`` ones as is."""
    for line in lines:
        out(line if isinstance(line, Verbatim) else one_line(line))


def print_version() -> None:
    """``fluxbump --version``: printed by the CLI, and before it loads (``__main__``)."""
    out(f"fluxbump {__version__}")


def err(text: str) -> None:
    _print("err", scrub(text) + "\n")


def warn(text: str) -> None:
    err(paint("warning: ", "33", sys.stderr) + one_line(text))


def error(text: str) -> None:
    err(paint("error: ", "31", sys.stderr) + one_line(text))


def emit_json(document: Any) -> None:
    text = json.dumps(document, indent=2, sort_keys=False)
    if "\\ud" in text:  # a surrogate, escaped (the rest is ASCII): maybe a lone one
        text = json.dumps(_utf8(document), indent=2, sort_keys=False)
    _print("out", scrub(text) + "\n")


def _utf8(value: Any) -> Any:
    """The document with every string that is not valid UTF-8 (a file name's byte kept as a
    lone surrogate, which strict JSON parsers reject) written as ``one_line`` writes it. Only
    a document whose JSON holds a surrogate is walked: a fleet's has ~0.5 million strings."""
    if isinstance(value, str):
        return one_line(value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8(v) for v in value]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
