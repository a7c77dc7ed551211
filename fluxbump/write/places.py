"""Where fluxbump keeps its own files (journal, lock, temps), and how it creates them.

The journal can restore any file it names, so only fluxbump may be able to write one: it lives
in the git directory (``git rev-parse --absolute-git-dir``: a worktree's or submodule's own
one), which no commit can reach, or, outside git, in a per-user state directory keyed by the
repository's real path. A journal inside the work tree may have been committed by anyone, so
it is named and refused, never read.

Every own file is created with ``O_EXCL|O_NOFOLLOW`` (a planted symlink or file makes the run
stop; it is never followed or truncated) and has a bounded, hash-based name, so a 250-byte pin
file name cannot make its temp name too long.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fluxbump.errors import UsageError

JOURNAL_DIR = "fluxbump-journal"
LOCK_FILE = "fluxbump.lock"
TEMP_SUFFIX = ".fluxbump-tmp"
STATE_ENV = "FLUXBUMP_STATE_DIR"
# Where versions before 0.2 kept the journal of a repository without a .git directory.
WORK_TREE_JOURNAL = f".{JOURNAL_DIR}"
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Places:
    """``base``: journal paths are relative to it (the work tree top, or the root outside
    git); ``state``: the private directory holding the journal and the lock."""

    base: Path
    state: Path
    git_dir: Path | None

    @property
    def journal(self) -> Path:
        return self.state / JOURNAL_DIR

    @property
    def lock(self) -> Path:
        return self.state / LOCK_FILE


def places(root: Path) -> Places:
    """The journal's and lock's directory for the repository at ``root``."""
    real = Path(os.path.realpath(root))
    found = _git_dirs(real)
    if found is not None:
        git_dir, top = found
        return Places(top, git_dir, git_dir)
    key = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return Places(real, _state_home() / "repos" / key, None)


def ensure_state(where: Places) -> None:
    """Outside git the state directory is ours to create (private to the user)."""
    if where.git_dir is None:
        try:
            where.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:  # (an unset HOME of another user: sudo -u without -H)
            why = exc.strerror or type(exc).__name__
            raise UsageError(
                f"cannot create {where.state} ({why[:1].lower() + why[1:]}): outside git, "
                f"fluxbump keeps its lock and journal there; set {STATE_ENV} to a directory "
                "this user can write; nothing was written"
            ) from None


def _git_dirs(real: Path) -> tuple[Path, Path] | None:
    """(git directory, work tree top) of the work tree holding ``real``; None outside git."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir", "--show-toplevel"],
            cwd=real,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, ValueError):
        return None
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != 2:
        return None  # not a repository, or a bare one (no work tree)
    return Path(os.path.realpath(lines[0])), Path(os.path.realpath(lines[1]))


def _state_home() -> Path:
    configured = os.environ.get(STATE_ENV)
    if configured:
        if not os.path.isabs(configured):
            # Relative, it names another directory from each working directory: a run from
            # elsewhere would miss an interrupted run's journal, which a later run from here
            # would then "recover" over newer contents.
            raise UsageError(
                f"{STATE_ENV}='{configured}' is not an absolute path; fluxbump keeps the lock "
                "and journal of a repository outside git there: give an absolute directory; "
                "nothing was written"
            )
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_state_dir("fluxbump"))


def refuse_work_tree_journal(root: Path, where: Places) -> None:
    """A journal inside the work tree may come from a commit: name it, never trust it."""
    for top in dict.fromkeys((Path(os.path.realpath(root)), where.base)):
        planted = top / WORK_TREE_JOURNAL
        if os.path.lexists(planted):
            raise UsageError(
                f"{planted} is a fluxbump journal inside the work tree; fluxbump never trusts "
                "one there (anyone could have committed it): inspect it, remove it, re-run"
            )


def temp_for(real: Path) -> Path:
    """The temp file beside ``real``: hidden, bounded length, the same for every run."""
    digest = hashlib.sha256(os.fsencode(real.name)).hexdigest()[:16]
    return real.with_name(f".{digest}{TEMP_SUFFIX}")


def create_exclusive(path: Path) -> int:
    """A new file at ``path``, mode 0600: never an existing one, never through a symlink."""
    return os.open(path, CREATE, 0o600)
