"""Repository files of gigabytes that take no disk, and a fluxbump child that may use 1 GiB of
address space: a read that is not bounded ends there with MemoryError (exit 70) in seconds,
where on a machine with the memory it costs gigabytes and tens of seconds."""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import zlib
from functools import cache
from pathlib import Path

from tests.support.fixtures import git

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


def vouched_for(repo: Path) -> None:
    """Git's index keeps a file's size modulo 4 GiB, and with ``core.checkStat=minimal`` (no
    inode or ctime) a file grown by 4 GiB with its mtime put back is one ``git status`` calls
    unchanged: the warm run's cache then serves it as the blob it recorded, as it does a file
    replaced between ``git status`` and its read. The files' mtimes are set into the past
    first, so that no entry is racily clean (git would hash its content)."""
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            os.utime(path, (1_600_000_000, 1_600_000_000))
    git(repo, "update-index", "--refresh")
    git(repo, "config", "core.checkStat", "minimal")
    git(repo, "config", "core.trustCtime", "false")


def grow_unseen(path: Path) -> None:
    """``path`` 4 GiB longer (a hole), its mtime as it was: ``vouched_for`` git sees no change."""
    before = path.stat()
    with open(path, "r+b") as handle:
        handle.truncate(before.st_size + 4 * GIB)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert git(path.parent, "status", "--porcelain", "--", path.name) == ""


@cache
def _loose_blob(head: bytes, size: int) -> tuple[str, bytes]:
    """The id and loose-object file of a blob of ``size`` bytes, ``head`` then zeros: made
    here in about a second, where ``git hash-object`` takes ~13 s a GiB (made once a process).

    Deflating the zeros was most of the cost (~3 s of ~4): they are deflated 8 MiB at a time
    from a fresh start, once, and that piece repeated. Each piece ends on a full flush (byte
    aligned, nothing referring back past its start), so the pieces joined are one valid zlib
    stream of the whole; the sha1 and the zlib checksum still read every byte."""
    header = b"blob %d\0" % size
    zeros, left = memoryview(bytes(8 << 20)), size - len(head)
    whole, rest = divmod(left, len(zeros))
    digest, adler = hashlib.sha1(header + head), zlib.adler32(header + head)
    for piece in (*(zeros for _ in range(whole)), zeros[:rest]):
        digest.update(piece)
        adler = zlib.adler32(piece, adler)
    packed = [b"\x78\x01", _deflated(header + head, zlib.Z_FULL_FLUSH)]
    packed += [_deflated(zeros, zlib.Z_FULL_FLUSH)] * whole
    packed += [_deflated(zeros[:rest], zlib.Z_FINISH), adler.to_bytes(4, "big")]
    return digest.hexdigest(), b"".join(packed)


def _deflated(data: bytes | memoryview, end: int) -> bytes:
    """``data`` as raw deflate blocks from a fresh start, ended by ``end`` (a flush mode)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(end)


def committed_once(repo: Path, rel: str, *, undone: bool = True) -> None:
    """A commit of ``rel`` as a blob of 800 MiB (its text, then zeros: a dump committed by
    mistake), and one of it as it was (``undone``); the work tree is not touched."""
    sha, packed = _loose_blob((repo / rel).read_bytes(), 800 << 20)
    loose = repo / ".git" / "objects" / sha[:2] / sha[2:]
    loose.parent.mkdir(exist_ok=True)
    loose.write_bytes(packed)
    before = git(repo, "rev-parse", f"HEAD:{rel}")
    for blob, message in ((sha, "a dump, by mistake"), (before, "the dump undone"))[: 1 + undone]:
        git(repo, "update-index", "--cacheinfo", f"100644,{blob},{rel}")
        git(repo, "commit", "-qm", message)
