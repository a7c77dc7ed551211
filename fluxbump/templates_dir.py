"""Where the files of ``templates/`` are at run time.

In a built wheel they are package data (``fluxbump/templates``); in a source checkout
they sit beside the package at the top level, where the design keeps them.
"""

from __future__ import annotations

from pathlib import Path

from fluxbump.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent


def template_path(name: str) -> Path:
    """Path of one template file, from the installed package or the checkout."""
    for base in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        candidate = base / name
        if candidate.is_file():
            return candidate
    raise UsageError(f"template '{name}' is missing from this installation of fluxbump")


def read_template(name: str) -> str:
    return template_path(name).read_text(encoding="utf-8")
