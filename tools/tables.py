"""What the table builders share: git in a clone, release order, and the command line that
writes a table with the commit it was read from."""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def git(clone: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True)
    return done.stdout


def by_release(table: dict[str, Any]) -> dict[str, Any]:
    """``table`` ordered by its ``X.Y.Z`` keys, oldest first."""
    return dict(sorted(table.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def write_table(
    argv: Sequence[str] | None,
    description: str,
    default_out: Path,
    build: Callable[[Path, str], dict[str, Any]],
) -> None:
    """``CLONE [--out PATH]``: write ``build(clone, commit at HEAD)`` as JSON to PATH."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("clone", type=Path)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    commit = git(args.clone, "rev-parse", "HEAD").strip()
    args.out.write_text(json.dumps(build(args.clone, commit), indent=1) + "\n", "utf-8")
