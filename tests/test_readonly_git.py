"""A git directory the user cannot write (a shared clone, a CI cache owned by another user):
`to` refuses before it writes a work-tree file, naming the directory git would fail on; a
folder or pin file the user cannot read is named, never skipped.

As root permissions are not enforced, so the CLI runs as ``nobody`` under ``setpriv``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import CONSISTENT, INCIDENT, git, make_fleet, snapshot

ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    ROOT and SETPRIV is None, reason="as root, needs setpriv (util-linux) to run as nobody"
)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory ``nobody`` can reach (pytest's tmp_path is private to root)."""
    where = Path(tempfile.mkdtemp(prefix="fluxbump-ro-"))
    try:
        yield where
    finally:
        for path in where.rglob("*"):  # as another user than root, 0555 folders hold on
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(where, ignore_errors=True)


def as_user(where: Path, *args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m fluxbump`` as ``nobody`` when run as root (else as this user), with its
    own home, cache and state directory (outside git: ``state``, else one in its home)."""
    home = where / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache")}
    env["FLUXBUMP_STATE_DIR"] = str(state or home / "state")
    env.pop("GIT_CONFIG_GLOBAL", None)
    user = [SETPRIV or "", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    command = [*(user if ROOT else []), sys.executable, "-m", "fluxbump", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def give_away(where: Path) -> None:
    if ROOT:
        for path in [where, *where.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def read_only(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)


def inodes(root: Path) -> dict[str, int]:
    """Each work-tree file's inode: an atomic rewrite (then a restore) would change it."""
    return {rel: (root / rel).stat().st_ino for rel in snapshot(root)}


WHY = {
    "objects": "git stores the bump's commit there",
    "refs/heads": "git creates the bump's branch there",
    "logs/refs/heads": "git logs the bump's branch there",
}


@pytest.mark.parametrize("part", WHY)
def test_to_refuses_before_writing_when_git_cannot_store_the_commit(
    shared: Path, part: str
) -> None:
    """git found out in ``git add`` (objects) or ``update-ref`` (refs), after every file was
    written and the gate ran; the files were then restored (new inodes, exit 2 with git's
    three-line error)."""
    repo = make_fleet(shared / "repo", CONSISTENT, git=True)
    (shared / "home").mkdir()
    give_away(shared)
    read_only(repo / ".git" / part)
    before, files = snapshot(repo), inodes(repo)
    head = git(repo, "-c", "safe.directory=*", "rev-parse", "HEAD")
    outcome = as_user(shared, "to", "2.5.1", "--offline", "--repo", str(repo))
    assert outcome.returncode == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        f"error: .git/{part}: not writable by this user, and {WHY[part]}; make it writable, "
        "or pass --no-git; nothing was written"
    )
    assert (snapshot(repo), inodes(repo)) == (before, files)
    assert git(repo, "-c", "safe.directory=*", "branch", "--list") == "* main"
    assert git(repo, "-c", "safe.directory=*", "rev-parse", "HEAD") == head


def test_a_read_only_git_directory_is_named_with_what_to_do(shared: Path) -> None:
    """fluxbump's lock and journal live in the git directory: the first thing it writes."""
    repo = make_fleet(shared / "repo", CONSISTENT, git=True)
    (shared / "home").mkdir()
    give_away(shared)
    read_only(repo / ".git")
    before, files = snapshot(repo), inodes(repo)
    for args in (["to", "2.5.1"], ["to", "2.5.1", "--no-git"], ["sync"]):
        outcome = as_user(shared, *args, "--offline", "--repo", str(repo))
        assert outcome.returncode == 2, outcome.stdout + outcome.stderr
        assert outcome.stderr.strip().splitlines()[-1] == (
            f"error: cannot create the lock {repo}/.git/fluxbump.lock (permission denied): "
            "fluxbump keeps its lock and journal in the git directory; make it writable by "
            "this user; nothing was written"
        )
    assert (snapshot(repo), inodes(repo)) == (before, files)


def test_a_directory_this_user_cannot_list_is_named_and_the_rest_is_read(shared: Path) -> None:
    """Its files are unknown (a pin may be there): the walk skipped it without a word, as
    os.walk does, and check said consistent."""
    repo = make_fleet(shared / "repo", CONSISTENT, git=True)
    (repo / "private" / "inner").mkdir(parents=True)
    (repo / "private" / "inner" / "x.yaml").write_text("a: b\n", "utf-8")
    (shared / "home").mkdir()
    give_away(shared)
    if ROOT:  # root's, so nobody may not list it
        os.chown(repo / "private", 0, 0)
    (repo / "private").chmod(0o700 if ROOT else 0o000)
    outcome = as_user(shared, "check", "--offline", "--repo", str(repo))
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "consistent" in outcome.stdout
    assert (
        "warning: private/: cannot list it (Permission denied); its files were not read"
        in outcome.stderr.splitlines()
    ), outcome.stderr


def test_a_pin_file_this_user_cannot_read_is_named_and_to_writes_nothing(shared: Path) -> None:
    """A HelmRelease of mode 000: status and check name it (file:line, why, what it costs);
    to refuses (exit 2) before any write, the work tree and git as they were."""
    rel = "clusters/a.example/bootstrap-kit/03-flux.yaml"
    repo = make_fleet(shared / "repo", INCIDENT, git=True, clusters=("a.example",))
    (shared / "home").mkdir()
    give_away(shared)
    (repo / rel).chmod(0o000)
    before, head = snapshot(repo), git(repo, "-c", "safe.directory=*", "show-ref")
    problem = f"{rel}:1: cannot read (Permission denied); flux is unproven"
    status = as_user(shared, "status", "--offline", "--repo", str(repo))
    assert status.returncode == 0 and f"  {problem}" in status.stdout.splitlines(), status
    check = as_user(shared, "check", "--offline", "--repo", str(repo))
    assert check.returncode == 1 and f"  {problem}" in check.stdout.splitlines(), check
    to = as_user(shared, "to", "2.4.0", "--offline", "--repo", str(repo))
    assert (to.returncode, to.stdout, to.stderr) == (2, "", f"error: {problem}\n")
    assert snapshot(repo) == before
    assert git(repo, "-c", "safe.directory=*", "show-ref") == head


def test_a_read_only_reflog_folder_is_no_obstacle_when_git_keeps_no_reflogs(
    shared: Path,
) -> None:
    """With ``core.logAllRefUpdates=false`` git creates no reflog for the new branch, so the
    folder it would log it in need not be writable (``to`` refused such a clone)."""
    repo = make_fleet(shared / "repo", CONSISTENT, git=True)
    git(repo, "config", "core.logAllRefUpdates", "false")
    (shared / "home").mkdir()
    give_away(shared)
    read_only(repo / ".git" / "logs" / "refs" / "heads")
    outcome = as_user(shared, "to", "2.5.1", "--offline", "--repo", str(repo))
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    branches = git(repo, "-c", "safe.directory=*", "branch", "--list", "--format=%(refname:short)")
    assert branches.splitlines() == ["fluxbump/flux-v2.5.1", "main"]
    assert not (repo / ".git" / "logs" / "refs" / "heads" / "fluxbump").exists()


@pytest.mark.skipif(not ROOT, reason="a work tree of another owner needs root to make")
def test_a_work_tree_git_refuses_for_its_owner_is_refused_before_writing(shared: Path) -> None:
    """git refuses a repository owned by another user ("dubious ownership": a CI container's
    checkout); GitPython opens it all the same, and ``to`` wrote every file on the current
    branch, committed nothing and exited 0."""
    repo = make_fleet(shared / "repo", INCIDENT, git=True)
    (shared / "home").mkdir()
    os.chown(shared / "home", NOBODY, NOBODY)
    shared.chmod(0o755)
    for path in [repo, *repo.rglob("*")]:  # writable by nobody, owned by root
        path.chmod(0o777 if path.is_dir() else 0o666)
    before = snapshot(repo)
    outcome = as_user(shared, "to", "2.4.0", "--offline", "--repo", str(repo))
    assert outcome.returncode == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        f"error: git refuses to work in {repo} (detected dubious ownership in repository at "
        f"'{repo}'); if you trust it, run git config --global --add safe.directory {repo}, or "
        "pass --no-git to only write the files; nothing was written"
    )
    assert snapshot(repo) == before
    outcome = as_user(shared, "to", "2.4.0", "--offline", "--dry-run", "--repo", str(repo))
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr  # it writes nothing
    assert "dry run: nothing written" in outcome.stdout
    outcome = as_user(shared, "to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert snapshot(repo) != before


def test_a_state_directory_this_user_cannot_create_is_named_with_what_to_do(
    shared: Path,
) -> None:
    """Outside git the lock and journal live in the state directory: one under a home this
    user cannot reach (``sudo -u`` keeping root's HOME) ended in "unexpected error", exit 70."""
    repo = make_fleet(shared / "repo", INCIDENT)  # no git
    (shared / "home").mkdir()
    give_away(shared)
    locked = shared / "locked"
    locked.mkdir(mode=0o700)  # root's when run as root; this user's own otherwise
    if not ROOT:
        locked.chmod(0o500)
    before = snapshot(repo)
    outcome = as_user(shared, "to", "2.4.0", "--offline", "--repo", str(repo), state=locked / "s")
    assert outcome.returncode == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        f"error: cannot create {locked}/s/repos/{_state_key(repo)} (permission denied): outside "
        "git, fluxbump keeps its lock and journal there; set FLUXBUMP_STATE_DIR to a directory "
        "this user can write; nothing was written"
    )
    assert snapshot(repo) == before


def _state_key(repo: Path) -> str:
    import hashlib

    return hashlib.sha256(os.fsencode(os.path.realpath(repo))).hexdigest()[:24]


def test_a_renovate_folder_this_user_cannot_search_is_a_warning(shared: Path) -> None:
    """Whether ``.github/renovate.json`` exists cannot be told: said, and every file is read
    (the stat's PermissionError ended the run with "unexpected error", exit 70)."""
    repo = make_fleet(shared / "repo", CONSISTENT, git=True)
    (repo / ".github").mkdir()
    (repo / ".github" / "renovate.json5").write_text("{ignorePaths: ['clusters/**']}", "utf-8")
    (shared / "home").mkdir()
    give_away(shared)
    if ROOT:
        os.chown(repo / ".github", 0, 0)
    (repo / ".github").chmod(0o700 if ROOT else 0o000)
    outcome = as_user(shared, "check", "--offline", "--repo", str(repo))
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert (
        "warning: .github/renovate.json: cannot read it as Renovate configuration (Permission "
        "denied); the files its ignorePaths name are read"
    ) in outcome.stderr.splitlines(), outcome.stderr
