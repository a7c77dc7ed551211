"""A file size limit (``ulimit -f``, RLIMIT_FSIZE, as some CI runners and shared hosts set it):
a write past it fails with EFBIG in fluxbump and kills git with SIGXFSZ. A bump then ends in
one line naming the limit, exit 2, the repository exactly as before: no lock of a killed git."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

from tests.adversarial.harness import git_out, git_state, leftovers
from tests.support.crash_cli import SMALL, child_env, fluxbump_cmd
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
