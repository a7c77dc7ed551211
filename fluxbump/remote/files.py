"""Local files that stand in for a download (a ``--helm-repo`` path, a chart a local index
names): regular files only, read with the same size caps as HTTP.

A path can name a device (``/dev/zero`` never ends, ``/dev/tty`` blocks) or a FIFO (opening
it waits for a writer), and ``stat`` sizes say nothing about either. The file is opened
without blocking, checked to be regular on the open descriptor (no swap between check and
read), and read at most one byte past the cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fluxbump.errors import ResolutionError

# Opening a FIFO for reading without O_NONBLOCK waits for a writer; a tty must not become ours.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)


def read_regular(path: Path, *, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file (symlinks followed), at most ``max_bytes``; else exit 3."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ResolutionError(f"{path}: cannot {what} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ResolutionError(
                f"{path}: cannot {what}: not a regular file (devices, FIFOs and directories "
                "are never read)"
            )
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ResolutionError(f"{path}: cannot {what} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ResolutionError(f"{path}: cannot {what}: larger than {max_bytes} bytes; refusing it")
    return data
