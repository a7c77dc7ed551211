"""The exact end state of a repository after an adversarial run: files, HEAD, branches,
index, and fluxbump's own files."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fluxbump.write.places import TEMP_SUFFIX, places
from tests.support.crash_cli import child_env, fluxbump_cmd
from tests.support.fixtures import snapshot
from tests.support.helm_server import HelmServer


def git_out(root: Path, *args: str) -> str:
    """git's stdout without the final newline (a status line's leading space is kept)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout.rstrip("\n")


@dataclass(frozen=True)
class GitState:
    head: str
    branch: str
    branches: tuple[str, ...]
    status: str  # `git status --porcelain`: staged, unstaged and untracked, all of it
    files: dict[str, bytes]

    @property
    def clean(self) -> bool:
        return self.status == ""


def git_state(root: Path) -> GitState:
    head, branch, branches = _refs(root)
    status = git_out(root, "status", "--porcelain", "--untracked-files=all")
    return GitState(head, branch, branches, status, snapshot(root))


def _refs(root: Path) -> tuple[str, str, tuple[str, ...]]:
    """HEAD's commit, its branch and every branch, from one ``git for-each-ref`` instead of a
    git process for each (139 places take a state): on a branch, HEAD is the branch marked
    ``*`` and its commit. A detached or unborn HEAD is asked as before (and fails so)."""
    lines = git_out(root, "for-each-ref", "--format=%(HEAD) %(objectname) %(refname:short)",
                    "refs/heads").splitlines()  # fmt: skip
    rows = [(line[0], *line[2:].split(" ", 1)) for line in lines]
    current = [(oid, name) for mark, oid, name in rows if mark == "*"]
    if len(current) != 1:
        return (git_out(root, "rev-parse", "HEAD"), git_out(root, "symbolic-ref", "--short",
                "HEAD"), tuple(name for *_, name in rows))  # fmt: skip
    [(oid, name)] = current
    return oid, name, tuple(name for *_, name in rows)


def leftovers(root: Path) -> list[str]:
    """Journal, lock, temp files and git's index lock: none may survive a finished run."""
    where = places(root)
    found = [p for p in (where.journal, where.lock) if p.exists() or p.is_symlink()]
    if where.git_dir is not None and (where.git_dir / "index.lock").exists():
        found.append(where.git_dir / "index.lock")
    found += [p for p in root.rglob(f"*{TEMP_SUFFIX}") if ".git" not in p.parts]
    return [str(p) for p in found]


def committed_files(root: Path, rev: str = "HEAD") -> list[str]:
    """The paths the commit at ``rev`` changed relative to its parent."""
    return sorted(git_out(root, "diff-tree", "--no-commit-id", "--name-only", "-r", rev).split())


@contextmanager
def bump_process(
    root: Path, server: HelmServer, cache: Path, **env: str
) -> Iterator[subprocess.Popen[str]]:
    """``fluxbump to 2.4.0`` running in the background (SIGINT as from a terminal); killed
    if the test leaves it running."""
    proc = subprocess.Popen(
        fluxbump_cmd(root, server, "to", "2.4.0"),
        env=child_env(FLUXBUMP_CACHE_DIR=str(cache), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # An inherited SIG_IGN (a background shell) would make Python ignore SIGINT too.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
