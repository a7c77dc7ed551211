"""``fluxbump demo``: the whole bump on a bundled sample fleet, offline, in a few seconds.

The fleet starts in the seed's incident state (cloud-init installs Flux v2.4.0, the wrapper
pins flux2 2.13.0 = Flux 2.3.0), so ``check`` shows the violation, ``to 2.4.0`` realigns
every pin on a new branch, and ``check`` passes afterwards. ``--keep DIR`` then puts DIR back
on ``main`` in that incident state, the state the README's examples start from, and keeps the
bump as branch ``demo/bumped`` to look at.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from fluxbump.commands.bump import BumpOptions, format_result, run_to
from fluxbump.commands.check import format_text, run_check
from fluxbump.errors import UsageError
from fluxbump.fleet import FleetSpec, write_fleet
from fluxbump.remote.index import SNAPSHOT_NAME

Emit = Callable[[str], None]
DEMO_RELEASE = "2.4.0"
KEPT_BRANCH = "demo/bumped"


def snapshot_path() -> str:
    """The bundled index snapshot as a local path (no network, no cache)."""
    return str(resources.files("fluxbump") / "data" / SNAPSHOT_NAME)


def run_demo(keep: Path | None, emit: Emit, heading: Emit) -> int:
    """Run check, to, check on a fresh sample fleet; returns the exit code (0 on success)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="fluxbump-demo-") as tmp:
            return _demo(Path(tmp) / "fleet", emit, heading)
    _refuse_keep(keep)
    code = _demo(keep, emit, heading)
    _rewind(keep, emit)
    return code


def _refuse_keep(keep: Path) -> None:
    """A --keep path the demo cannot write a fleet into: one line, exit 2."""
    try:
        keep.mkdir(parents=True, exist_ok=True)
        empty = not any(keep.iterdir())
    except FileExistsError:
        why = "not a directory"
    except OSError as exc:
        why = f"cannot create it ({(exc.strerror or type(exc).__name__).lower()})"
    else:
        if empty:
            return
        why = "directory is not empty"
    raise UsageError(f"--keep {keep}: {why}; pass a new or empty directory")


def _demo(root: Path, emit: Emit, heading: Emit) -> int:
    root.mkdir(parents=True, exist_ok=True)
    write_fleet(root, FleetSpec())
    _init_git(root, emit)
    index = snapshot_path()
    heading(f"1. fluxbump check   (sample fleet in {root}: the seed's incident state)")
    before = run_check(root, helm_repo=index, offline=True)
    for line in format_text(before):
        emit(line)
    heading(f"2. fluxbump to {DEMO_RELEASE}   (bundled index snapshot, offline)")
    result = run_to(root, DEMO_RELEASE, BumpOptions(helm_repo=index, offline=True, diff=True))
    for line in format_result(result, show_diff=True):
        emit(line)
    heading("3. fluxbump check   (after the bump)")
    after = run_check(root, helm_repo=index, offline=True)
    for line in format_text(after):
        emit(line)
    return 0 if after.report.ok and not before.report.ok else 1


def _init_git(root: Path, emit: Emit) -> None:
    """A real repository, so the demo shows the branch and commit; skipped without git."""
    if shutil.which("git") is None:
        emit("git not found: the demo writes files only")
        return
    identity = ["-c", "user.name=fluxbump demo", "-c", "user.email=demo@fluxbump.invalid"]
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "fluxbump demo"],
        ["config", "user.email", "demo@fluxbump.invalid"],
        ["config", "commit.gpgsign", "false"],
        ["add", "-A"],
        [*identity, "commit", "-q", "-m", "Sample fleet in the seed's incident state"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _rewind(root: Path, emit: Emit) -> None:
    """Back to ``main`` in the incident state (where the README's examples start); the bump's
    branch is renamed so that ``fluxbump to 2.4.0`` can be run again there."""
    if not (root / ".git").exists():
        emit(f"kept {root}: the bumped files (no git, so no way back to the incident state)")
        return
    bumped = f"fluxbump/flux-v{DEMO_RELEASE}"
    for args in (["checkout", "-q", "main"], ["branch", "-q", "-m", bumped, KEPT_BRANCH]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    emit("")
    emit(
        f"kept {root}: on branch main in the incident state (the README's examples start here); "
        f"the bump is on branch {KEPT_BRANCH} (git diff main {KEPT_BRANCH})"
    )
