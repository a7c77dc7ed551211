"""A file size limit (``ulimit -f``, RLIMIT_FSIZE, as some CI runners and shared hosts set it):
a write past it fails with EFBIG in fluxbump and kills git with SIGXFSZ. A bump then ends in
one line naming the limit, exit 2, the repository exactly as before: no lock of a killed git."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from fluxbump.write.places import places
from fluxbump.write.transaction import BACKUP, CRASH_ENV, MANIFEST
from tests.adversarial.harness import git_out, git_state, leftovers
from tests.support.crash_cli import SMALL, child_env, fluxbump_cmd, run, run_here
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

LIMIT = 16 * 1024  # room for fluxbump's own journal, not for git's index of 400 more files


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_git_the_file_size_limit_kills_leaves_no_index_lock(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The dirty-file check's ``git status`` refreshed git's index as it went: killed writing
    it, git left .git/index.lock, and every git command after failed until it was removed."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "docs").mkdir()
    for i in range(400):
        (root / "docs" / f"note-{i:03}.md").write_text(f"{i}\n")
    git_out(root, "add", "-A")
    git_out(root, "commit", "-qm", "docs")
    assert (root / ".git" / "index").stat().st_size > 2 * LIMIT
    (root / "README.md").touch()  # a stat change: git status would refresh the index
    before = git_state(root)
    proc = subprocess.run(
        fluxbump_cmd(root, index_server, "to", "2.4.0"),
        env=child_env(FLUXBUMP_CACHE_DIR=str(tmp_path / "cache")),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_file_size,
    )
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert "killed by SIGXFSZ (a file passed the file size limit: raise ulimit -f)" in line, line
    assert git_state(root) == before and leftovers(root) == []


def _limited(limit: int) -> Callable[[], None]:
    """A child's file size limit, SIGXFSZ ignored as Python does: fluxbump sees EFBIG."""

    def limit_it() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return limit_it


def _bump(root: Path, server: HelmServer, cache: Path, limit: int, *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        fluxbump_cmd(root, server, "to", "2.4.0", *args),
        env=child_env(FLUXBUMP_CACHE_DIR=str(cache)),
        capture_output=True, text=True, timeout=60, preexec_fn=_limited(limit),
    )  # fmt: skip
    return proc.returncode, proc.stderr


def test_a_journal_past_the_file_size_limit_says_to_raise_it(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The backup of every old content is fluxbump's largest write: past the limit, the bump
    ended in "file too large", never saying that a limit, not the file, was the cause."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    code, err = _bump(root, index_server, tmp_path / "cache", 2048)
    assert code == 2, err
    assert err == (
        f"error: {places(root).journal}: cannot write: file too large (a file passed the file "
        "size limit: raise ulimit -f); every file was restored\n"
    )
    assert git_state(root) == before and leftovers(root) == []


def test_a_recovery_past_the_file_size_limit_leaves_no_temp_and_finishes_once_raised(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A bump killed half-way, then run again under a limit below its largest old file: the
    restore's temps of the smaller files were left in the work tree (untracked, where a
    ``git add -A`` commits them, and each named as in the way by the next bump), and the line
    said "inspect it by hand", when raising the limit and running again finishes it."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    cache = tmp_path / "cache"
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), cache, **{CRASH_ENV: "rename:5"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    journal = places(root).journal
    largest = max(f["size"] for f in json.loads((journal / MANIFEST).read_bytes())["files"])
    half = git_state(root)  # (the killed run's temps of the files it had not renamed too)
    edited = "\n".join(line for line in half.status.splitlines() if line.startswith(" M "))
    code, err = _bump(root, index_server, cache, largest - 1, "--dry-run")
    assert code == 2, err
    assert err == (
        f"error: cannot recover the interrupted run in {journal}: file too large (a file passed "
        "the file size limit: raise ulimit -f); once that is fixed, re-run fluxbump to finish "
        f"recovering it (or inspect it by hand: {BACKUP} holds the contents from before that "
        "run)\n"
    )
    after = git_state(root)
    assert after.status == edited and leftovers(root) == [str(journal)]
    assert after.files == {k: v for k, v in half.files.items() if k in after.files}
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 0, again.stderr
    assert git_state(root) == before and leftovers(root) == []
