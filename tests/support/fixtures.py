"""One factory for test repositories: a generated Catalyst-layout fleet, optionally a git repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

from fluxbump.fleet import FleetSpec, write_fleet

CONSISTENT = FleetSpec(flux_release="2.4.0", flux_chart="2.14.1")
INCIDENT = FleetSpec()  # cloud-init v2.4.0, flux2 2.13.0 (appVersion 2.3.0)


def make_fleet(
    root: Path, spec: FleetSpec = CONSISTENT, *, git: bool = False, **changes: object
) -> Path:
    """Write a fleet under ``root`` (``changes`` override FleetSpec fields); optionally commit it."""
    spec = replace(spec, **changes)  # type: ignore[arg-type]
    if not root.exists() or not any(root.iterdir()):
        # A copy of a fleet made once per process: the crash tests make dozens of the same
        # committed fleet, and copying is ~7x cheaper than writing it and running git six times.
        shutil.copytree(_made_once(spec, git), root, symlinks=True, dirs_exist_ok=True)
        return root
    root.mkdir(parents=True, exist_ok=True)
    write_fleet(root, spec)
    if git:
        init_git(root)
    return root


# Where the fleets made once are kept: a directory of the pytest session (set by
# tests/conftest.py), which pytest removes with its old base directories. A directory of
# their own in /tmp, removed at exit, was left behind by every worker that died or was killed.
_store: list[Path] = []


def keep_fleets_in(directory: Path) -> None:
    """Make the fleets ``make_fleet`` copies under ``directory`` (one per pytest session)."""
    _store[:] = [directory]


@cache
def _made_once(spec: FleetSpec, git: bool) -> Path:
    assert _store, "keep_fleets_in() names the session's directory first (tests/conftest.py)"
    made = Path(tempfile.mkdtemp(prefix="fleet-", dir=_store[0])) / "repo"
    made.mkdir()
    write_fleet(made, spec)
    if git:
        init_git(made)
    return made


def commit_file(repo: Path, rel: str, text: str, message: str = "add a file") -> Path:
    """Write ``rel`` (bytes exactly as ``text``, no newline translation) and commit it."""
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_bytes(text.encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return repo


def changed_lines(repo: Path, rel: str | None = None, *, since: str | None = "HEAD~1") -> list[str]:
    """The lines removed (``-``) and added (``+``) in ``rel`` (None: in every file) since
    ``since`` (the commit before the last; None: those not staged, as a ``--no-git`` run
    leaves them), in diff order."""
    base = (since,) if since is not None else ()
    diff = git(repo, "diff", "-U0", *base, *(("--", rel) if rel is not None else ()))
    return [x for x in diff.splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---")]


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


# What ``git config`` sets in a test repository, written at once: a git process a setting
# cost ~2 ms each time a test made a repository (about a third of making it).
_TEST_CONFIG = """[user]
\temail = test@fluxbump.invalid
\tname = fluxbump test
[commit]
\tgpgsign = false
"""


def init_git(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    with (root / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write(_TEST_CONFIG)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial fleet")


def write_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository at ``root`` holding ``files`` (path -> text), committed."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    init_git(root)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes (outside .git), to prove a tree did or did not change."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Change one exact snippet of a file (the snippet must be present)."""
    path = root / rel
    text = path.read_text("utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def rewrite_keeping_stat(path: Path, old: str, new: str) -> None:
    """Change the text in place (same size) and put the mtime back as it was."""
    before = path.stat()
    text = path.read_text("utf-8")
    assert old in text and len(old) == len(new)
    path.write_text(text.replace(old, new, 1), "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
