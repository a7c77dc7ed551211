"""Repository files of gigabytes that take no disk, and a fluxbump child that may use 1 GiB of
address space: a read that is not bounded ends there with MemoryError (exit 70) in seconds,
where on a machine with the memory it costs gigabytes and tens of seconds."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

GIB = 1 << 30


def sparse(path: Path, head: bytes, size: int = 3 * GIB) -> None:
    """``path`` as ``head`` and then zero bytes up to ``size`` (a hole: no disk is used)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)


def _limited() -> None:  # (in the child, before it runs)
    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))


def run_limited(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m fluxbump args`` under the 1 GiB address-space limit."""
    return subprocess.run(
        [sys.executable, "-m", "fluxbump", *args],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        timeout=120,
    )
