"""Kill -9 at every write and git step of a bump with git; git failures; signals in git.

After each, fluxbump runs again (or has already undone itself): the repository is either
exactly as before (files, HEAD, branch list, clean index) or exactly the finished bump (on
its branch, one commit holding the written files, a clean index); never a mix, never a stray
branch, a staged bump, or a lock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fluxbump.write.transaction import CRASH_ENV, PAUSE_ENV, PAUSE_FILE_ENV, kill_points
from tests.adversarial.harness import (
    GitState,
    bump_process,
    committed_files,
    git_out,
    git_state,
    leftovers,
)
from tests.support.crash_cli import (
    SMALL,
    child_env,
    fluxbump_cmd,
    fork_server,
    run,
    run_here,
    wait_for,
)
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import HelmServer

BRANCH = "fluxbump/flux-v2.4.0"


def assert_finished(root: Path, before: GitState, files: list[str], done: GitState) -> None:
    """The bump is complete: on its branch, one commit of exactly ``files``, clean."""
    after = git_state(root)
    assert after.branch == BRANCH and after.branches == (BRANCH, "main")
    assert git_out(root, "rev-parse", "HEAD^") == before.head
    assert committed_files(root) == sorted(files)
    assert after.clean and after.files == done.files
    assert leftovers(root) == []


def pre_commit_hook(root: Path, script: str) -> None:
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text(script)
    hook.chmod(0o755)


def assert_untouched(root: Path, before: GitState) -> None:
    assert git_state(root) == before
    assert leftovers(root) == []


def test_sigkill_at_every_write_and_git_step_then_rerun(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    control = make_fleet(tmp_path / "control", INCIDENT, git=True, **SMALL)
    before = git_state(control)
    proc = run_here(fluxbump_cmd(control, index_server, "to", "2.4.0"), cache)
    assert proc.returncode == 0, proc.stderr
    done = git_state(control)
    assert git_out(control, "rev-parse", "HEAD^") == before.head and done.clean
    files = committed_files(control)
    assert len(files) == 9

    points = kill_points(len(files), git=True)
    assert sum(p.startswith("git:") for p in points) == 7
    roots = {p: make_fleet(tmp_path / p.replace(":", "-"), INCIDENT, git=True, **SMALL)
             for p in points}  # fmt: skip
    befores = {p: git_state(roots[p]) for p in points}
    logs = tmp_path / "logs"
    logs.mkdir()

    # A whole bump with git on a fleet of its own warms the fork server: its children then
    # find GitPython, jsonschema and the write and gate modules already imported.
    warm = make_fleet(tmp_path / "warm", INCIDENT, git=True, **SMALL)
    warm_args = ["to", "2.4.0", "--repo", str(warm), "--helm-repo", index_server.base_url]

    def job(point: str, *args: str, **env: str) -> dict[str, object]:
        name = f"{point.replace(':', '-')}-{len(env)}"
        return {"id": point, "args": [*args, "--repo", str(roots[point]), "--helm-repo",
                index_server.base_url], "env": env, "out": str(logs / f"{name}.out"),
                "err": str(logs / f"{name}.err")}  # fmt: skip

    with fork_server(cache, warm_args) as server:
        killed = server.run([job(p, "to", "2.4.0", **{CRASH_ENV: p}) for p in points])
        assert all(killed[p] == -signal.SIGKILL for p in points), killed
        stray = sum(BRANCH in git_state(roots[p]).branches for p in points)
        assert stray > 0  # kills really landed between the git steps
        again = server.run([job(p, "to", "2.4.0", "--dry-run") for p in points])
    finished = 0
    for point in points:
        root = roots[point]
        assert again[point] == 0, (point, (logs / f"{point.replace(':', '-')}-0.err").read_text())
        if git_state(root).branch == BRANCH:
            assert_finished(root, befores[point], files, done)
            finished += 1
        else:
            assert git_state(root) == befores[point], point
            assert befores[point].branches == ("main",) and befores[point].clean
            assert leftovers(root) == [], point
    # From the commit on, the next run finishes the bump: git:4-7 (the commit, its record
    # written and renamed, the index update), fsync:7-9 (the record's two, the journal
    # removal's) and the six journal-remove points; every earlier kill is undone.
    assert finished == 4 + 3 + 6


@pytest.mark.parametrize(
    "name", ["index.lock", "HEAD.lock", "refs/heads/fluxbump/flux-v2.4.0.lock"]
)
def test_a_held_index_or_head_lock_is_refused_before_anything_is_written(
    tmp_path: Path, index_server: HelmServer, name: str
) -> None:
    """A HEAD.lock (a git killed while it switched branches) failed the branch step after every
    file was written, with git's message of six lines run together; so did a lock on the bump
    branch's ref (a git killed while it created that branch)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    lock = root / ".git" / name
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(b"")
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {lock} exists: another git process is running (or one was killed); wait for "
        "it or remove the lock, then re-run; nothing was written"
    )
    assert git_state(root) == before
    lock.unlink()
    assert leftovers(root) == []


def test_a_refusal_after_a_killed_bump_was_undone_says_it_was_undone(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A bump killed with its branch made (git:3), and a git killed with it left index.lock:
    the next run undid the killed bump (its nine files restored, its branch deleted), then
    refused the lock with "nothing was written", never saying what it had undone; the run
    after that had nothing left to say it of."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache",
                 **{CRASH_ENV: "git:3"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert git_state(root).branch == BRANCH
    (root / ".git" / "index.lock").write_bytes(b"")
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: {root / '.git' / 'index.lock'} exists: another git process is running (or one "
        "was killed); wait for it or remove the lock, then re-run; nothing was written; before "
        "that, restored clusters/_template/bootstrap-kit/03-flux.yaml from an interrupted run "
        "(and 8 more files)\n"
    )
    (root / ".git" / "index.lock").unlink()
    assert_untouched(root, before)


HOOK = """#!/bin/sh
echo "pre-commit: refusing: chart versions are frozen this week" >&2
echo "see RUNBOOK.md" >&2
exit 1
"""


def test_a_refusing_pre_commit_hook_is_undone_and_its_output_reported(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    pre_commit_hook(root, HOOK)
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("error: git commit failed: ")
    assert "pre-commit: refusing: chart versions are frozen this week / see RUNBOOK.md" in line
    assert "Traceback" not in proc.stderr
    assert_untouched(root, before)


# What a formatter run by the pre-commit framework does (end-of-file-fixer, prettier): fix the
# staged files in place, then fail so that the fixes are reviewed.
FIXING_HOOK = """#!/bin/sh
git diff --cached --name-only -z | xargs -0 -I{} sh -c 'printf "# fixed\\n" >> "{}"'
echo "trailing-whitespace: Failed / files were modified by this hook" >&2
exit 1
"""


def test_a_pre_commit_hook_that_fixes_the_files_and_fails_is_undone_with_its_fixes(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Its fixes were taken for another process's edits: every file the bump wrote was left
    with the bump's edit (and the fix) in it, uncommitted, on the start branch."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    pre_commit_hook(root, FIXING_HOOK)
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "error: git commit failed: trailing-whitespace: Failed / files were modified by this hook\n"
    )
    assert_untouched(root, before)


# What lint-staged does with a formatter: fix the staged files, stage them again, succeed.
RESTAGING_HOOK = """#!/bin/sh
git diff --cached --name-only -z | xargs -0 -I{} sh -c 'printf "# fixed\\n" >> "{}"; git add "{}"'
"""
# A hook that stages whatever else is in the work tree (the user's own, unrelated work).
SWEEPING_HOOK = "#!/bin/sh\ngit add -A\n"
NOTES = "the user's own work\n"


@pytest.mark.parametrize(("hook", "named"), [(RESTAGING_HOOK, "and 6 more"),
                                             (SWEEPING_HOOK, "(notes.txt)")])  # fmt: skip
def test_a_hook_that_stages_again_is_refused_and_undone(
    tmp_path: Path, index_server: HelmServer, hook: str, named: str
) -> None:
    """The commit held what the gate never read: the hook's edits of the bump's files, or
    the user's untracked notes, committed as part of the bump (and the run said "committed")."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "notes.txt").write_text("the user's own work\n")
    pre_commit_hook(root, hook)
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("error: a git hook changed the commit ")
    assert named in line
    assert_untouched(root, before)


@pytest.mark.parametrize("hook", [SWEEPING_HOOK, RESTAGING_HOOK])
def test_a_kill_before_a_restaged_commit_is_refused_is_undone_by_the_next_run(
    tmp_path: Path, index_server: HelmServer, hook: str
) -> None:
    """Killed once the commit is recorded, before its tree was compared with the staged one:
    the run's own commit, not what it staged, so the next run undoes it, the hook's edits of
    the files with it (it finished it, with the notes or the edits in it)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "notes.txt").write_text("the user's own work\n")
    pre_commit_hook(root, hook)
    before, cache = git_state(root), tmp_path / "cache"
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), cache, **{CRASH_ENV: "git:6"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert git_state(root).branch == BRANCH  # killed with the commit made and recorded
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 0, again.stderr
    assert_untouched(root, before)


BLOCKING_HOOK = """#!/bin/sh
touch "{entered}"
i=0
while [ ! -e "{release}" ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done
exit 0
"""


def _killed_in_hook(root: Path, index_server: HelmServer, tmp_path: Path, hook: str) -> None:
    """fluxbump killed alone (the OOM killer) while its commit's ``hook`` runs: git, no longer
    fluxbump's child, commits what the hook staged once it returns, unrecorded."""
    entered, release = tmp_path / "entered", tmp_path / "release"
    blocking = BLOCKING_HOOK.format(entered=entered, release=release)
    pre_commit_hook(root, hook + blocking.removeprefix("#!/bin/sh\n"))
    start = git_out(root, "rev-parse", "HEAD")
    with bump_process(root, index_server, tmp_path / "cache") as proc:
        wait_for(entered, proc)
        proc.kill()
        proc.wait()
        release.touch()
    for _ in range(3000):
        if git_out(root, "rev-parse", "HEAD") != start:
            break
        time.sleep(0.01)
    assert git_out(root, "rev-parse", "HEAD^") == start  # committed, by git alone
    pre_commit_hook(root, "#!/bin/sh\n")


def test_a_kill_while_a_hook_restages_the_files_is_never_finished_as_the_bump(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The next run finished that commit as the bump's, with the hook's edits of its files,
    which the gate never read. The staged tree is now recorded before the commit (with the
    branch): the commit holds another, so it is refused with both ways out, and the one that
    drops it leaves the repository as before the run."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    _killed_in_hook(root, index_server, tmp_path, RESTAGING_HOOK)
    made = git_out(root, "rev-parse", "HEAD")
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), tmp_path)
    assert again.returncode == 2
    journal = root / ".git" / "fluxbump-journal"
    assert again.stderr == (
        f"error: the commit {made[:12]} on {BRANCH} holds other files than the interrupted "
        "fluxbump run staged (a git hook staged again while it committed, or the commit was "
        f"amended since): keep it by removing {journal}, or check out main and re-run to "
        f"restore the files, then delete {BRANCH}\n"
    )
    git_out(root, "checkout", "-q", "main")  # (the hook's edits stay, as local changes)
    undone = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), tmp_path)
    assert undone.returncode == 0, undone.stderr
    git_out(root, "branch", "-q", "-D", BRANCH)
    assert_untouched(root, before)


def test_a_kill_while_a_hook_stages_other_files_is_refused_not_finished(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A commit holding more than the run's files (the user's notes) is no commit of the run's
    it can tell from the user's: neither finished nor undone. It was refused as "HEAD moved to
    commits the run did not make", as if someone else's, and its way out (check out main) git
    refused (the untracked notes are the commit's); it names them now, and a way that works."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / "notes.txt").write_text(NOTES)
    _killed_in_hook(root, index_server, tmp_path, SWEEPING_HOOK)
    made = git_out(root, "rev-parse", "HEAD")
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), tmp_path)
    assert again.returncode == 2
    journal = root / ".git" / "fluxbump-journal"
    assert again.stderr == (
        f"error: the commit {made[:12]} on {BRANCH} holds the interrupted fluxbump run's files "
        "and others it did not write (notes.txt: staged by a git hook while it committed, or "
        "committed by hand since), so fluxbump can neither finish nor undo it: keep it by "
        f"removing {journal}, then run git reset (the index may still hold the files the run "
        "began with)\n"
    )
    assert git_out(root, "rev-parse", "HEAD") == made and (root / "notes.txt").exists()
    shutil.rmtree(journal)  # the way out it names
    git_out(root, "reset", "-q")
    after = git_state(root)
    assert (after.head, after.branch, after.status) == (made, BRANCH, "")
    assert (root / "notes.txt").read_text() == NOTES and leftovers(root) == []
    kept = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), tmp_path)
    assert kept.returncode == 0 and "already at v2.4.0; nothing to do" in kept.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_git_commits_is_undone_after_git_finishes(
    tmp_path: Path, index_server: HelmServer, sig: signal.Signals
) -> None:
    """The signal reaches fluxbump (not git) mid-commit: git completes, then all is undone."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    entered, release = tmp_path / "entered", tmp_path / "release"
    pre_commit_hook(root, BLOCKING_HOOK.format(entered=entered, release=release))
    before = git_state(root)
    with bump_process(root, index_server, tmp_path / "cache") as proc:
        wait_for(entered, proc)
        proc.send_signal(sig)
        release.touch()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert_untouched(root, before)


@pytest.mark.parametrize("point", ["git:1", "git:4", "git:7"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_between_git_steps_is_undone(
    tmp_path: Path, index_server: HelmServer, point: str, sig: signal.Signals
) -> None:
    """After the branch, after the commit, after the index update: all undone, exit 130."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    release = tmp_path / "release"
    seam = {PAUSE_ENV: point, PAUSE_FILE_ENV: str(release)}
    with bump_process(root, index_server, tmp_path / "cache", **seam) as proc:
        wait_for(Path(f"{release}.paused"), proc)
        assert BRANCH in git_state(root).branches  # really mid-git
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert_untouched(root, before)


def _killed_then_committed_on(root: Path, server: HelmServer, cache: Path, point: str) -> str:
    """A bump SIGKILLed at ``point`` (its branch checked out), then a commit of the user's
    own on that branch, as made by someone who did not notice the crash; its sha."""
    killed = run(fluxbump_cmd(root, server, "to", "2.4.0"), cache, **{CRASH_ENV: point})
    assert killed.returncode == -signal.SIGKILL
    assert git_state(root).branch == BRANCH
    (root / "NOTES.md").write_text("my own work\n")
    git_out(root, "add", "NOTES.md")
    git_out(root, "commit", "-qm", "my own work")
    return git_out(root, "rev-parse", "HEAD")


def assert_refused_as_moved(root: Path, proc: subprocess.CompletedProcess[str], head: str) -> None:
    journal = root / ".git" / "fluxbump-journal"
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "error: HEAD moved to commits an interrupted fluxbump run did not make; undoing that "
        f"run would restore files under them: check out main (at {head[:12]}, where it "
        f"began) and re-run to undo it, or remove {journal} to keep the files as they are\n"
    )
    assert journal.is_dir()


def assert_undone_on_main_keeping_the_branch(
    root: Path, server: HelmServer, tmp_path: Path, start: GitState, tip: str
) -> None:
    """The next run (``--dry-run`` recovers too) leaves main as it started, clean, with the
    bump branch still at ``tip`` and nothing of fluxbump's left."""
    proc = run_here(fluxbump_cmd(root, server, "to", "2.4.0", "--dry-run"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    after = git_state(root)
    assert (after.head, after.branch, after.files, after.status) == (
        start.head, "main", start.files, "",
    )  # fmt: skip
    assert git_out(root, "rev-parse", f"refs/heads/{BRANCH}") == tip
    assert leftovers(root) == []


def test_a_commit_made_after_a_finished_bump_was_killed_is_kept_and_checked_out(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Killed after its commit (git:7): the user's commit on top is the branch's; recovery
    finishes by dropping the journal, and never moves HEAD off it or restores a file."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    mine = _killed_then_committed_on(root, index_server, tmp_path / "cache", "git:7")
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "finished an interrupted bump" in proc.stdout
    assert "Flux v2.4.0 → flux2 chart 2.14.1: already at v2.4.0; nothing to do" in proc.stdout
    assert git_state(root) == before and before.clean
    assert git_out(root, "rev-parse", f"refs/heads/{BRANCH}") == mine
    assert leftovers(root) == []


def test_a_commit_made_on_the_branch_of_a_bump_killed_before_its_commit_is_refused(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Killed before its commit (git:2): the branch's only commit is the user's (its parent
    is the start, as the bump's would be); recovery neither calls it the bump's commit nor
    moves HEAD off it. Checking out the start branch, as told, then undoes the run alone."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    start = git_state(root)
    mine = _killed_then_committed_on(root, index_server, tmp_path / "cache", "git:2")
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert_refused_as_moved(root, proc, start.head)
    assert git_state(root) == before

    git_out(root, "checkout", "-q", "main")  # the bump's files come along, uncommitted
    assert_undone_on_main_keeping_the_branch(root, index_server, tmp_path, start, mine)


def test_the_files_of_a_killed_bump_committed_by_hand_are_never_restored_under_the_commit(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Killed after writing every file, before any git step; the user commits what it wrote
    (`git commit -a`). The next run restored the old bytes under that commit, then refused
    the "uncommitted changes" it had just made, saying "nothing was written"."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    start = git_state(root)
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache",
                 **{CRASH_ENV: "fsync:4"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL and git_state(root).branch == "main"
    git_out(root, "commit", "-qam", "bump Flux (by hand, after the crash)")
    before = git_state(root)
    assert before.clean and before.files != start.files
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert_refused_as_moved(root, proc, start.head)
    assert git_state(root) == before
    shutil.rmtree(root / ".git" / "fluxbump-journal")  # keep them, as the error says
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "already at v2.4.0; nothing to do" in proc.stdout
    assert git_state(root) == before and leftovers(root) == []


@pytest.mark.parametrize("command", [("to", "2.4.0", "--no-git"), ("sync", "--from", "cloud-init")])
def test_files_a_killed_run_without_git_wrote_and_the_user_committed_are_never_restored(
    tmp_path: Path, index_server: HelmServer, command: tuple[str, ...]
) -> None:
    """A run that takes no git step (--no-git, sync) in a git work tree, killed after its
    writes; the user commits what it wrote. The next run restored the old bytes under that
    commit: the journal did not say where HEAD was."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    start = git_state(root)
    killed = run(fluxbump_cmd(root, index_server, *command), tmp_path / "cache",
                 **{CRASH_ENV: "fsync:4"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    git_out(root, "commit", "-qam", "the synced pins (committed after the crash)")
    before = git_state(root)
    assert before.clean and before.files != start.files
    proc = run_here(fluxbump_cmd(root, index_server, *command), tmp_path / "cache")
    assert_refused_as_moved(root, proc, start.head)
    assert git_state(root) == before


@pytest.mark.parametrize("command", [("to", "2.4.0"), ("to", "2.4.0", "--no-git")])
def test_commits_since_a_kill_that_touch_none_of_its_files_do_not_stop_the_undo(
    tmp_path: Path, index_server: HelmServer, command: tuple[str, ...]
) -> None:
    """Killed after its writes; then ``git pull`` brings a commit that touches none of the
    run's files (HEAD moved, the written files come along). Restoring them is what the tree
    was before the crash: the next run undoes that run and bumps, on top of the new commit."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed = run(fluxbump_cmd(root, index_server, *command), tmp_path / "cache",
                 **{CRASH_ENV: "fsync:4"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    (root / "NOTES.md").write_text("from a colleague\n")
    git_out(root, "add", "NOTES.md")
    git_out(root, "commit", "-qm", "a colleague's commit, pulled")
    pulled = git_out(root, "rev-parse", "HEAD")
    proc = run_here(fluxbump_cmd(root, index_server, *command), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "restored platform/flux/chart/Chart.yaml from an interrupted run" in proc.stdout
    assert "chart version (bp-flux) 1.1.1 -> 1.1.2" in proc.stdout
    assert git_out(root, "rev-parse", "HEAD~1" if "--no-git" not in command else "HEAD") == pulled
    assert leftovers(root) == []


def test_an_index_lock_taken_while_git_commits_ends_restored_and_says_so(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Another git process takes the index lock after fluxbump's check, while it commits: the
    index update fails, every file is restored, and undoing the git steps fails on the same
    lock. The one line says the files were restored and what finishes the rest; with the lock
    gone, the next run does, then bumps."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    before = git_state(root)
    lock, release = root / ".git" / "index.lock", tmp_path / "release"
    seam = {PAUSE_ENV: "git:4", PAUSE_FILE_ENV: str(release)}
    with bump_process(root, index_server, tmp_path / "cache", **seam) as proc:
        wait_for(Path(f"{release}.paused"), proc)
        lock.write_bytes(b"")
        release.touch()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    [line] = err.splitlines()
    assert line.startswith(
        "error: every file was restored, but undoing its git steps failed (git update-index failed: "
        f"fatal: Unable to create '{lock}': File exists."
    )
    assert line.endswith("); the next 'fluxbump to' or 'fluxbump sync' finishes undoing them")
    lock.unlink()
    after = git_state(root)
    assert (after.head, after.branch, after.branches, after.files, after.status) == (
        before.head, "main", ("main",), before.files, "",
    )  # fmt: skip
    proc2 = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc2.returncode == 0, proc2.stderr
    assert git_state(root).branch == BRANCH and leftovers(root) == []


SLOW_RECEIVE = """#!/bin/sh
touch "{entered}"
sleep 30
"""


def test_a_bump_killed_while_it_pushes_is_pushed_by_the_same_command_again(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """SIGKILL to the whole process group (fluxbump, git push) while the remote receives:
    the bump is committed on its branch, nothing left to recover, the remote has no branch;
    the same command run again pushes that very commit."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    remote, entered = tmp_path / "remote.git", tmp_path / "entered"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(SLOW_RECEIVE.format(entered=entered))
    hook.chmod(0o755)
    git_out(root, "remote", "add", "origin", str(remote))
    cmd = fluxbump_cmd(root, index_server, "to", "2.4.0", "--push")
    proc = subprocess.Popen(cmd, env=child_env(FLUXBUMP_CACHE_DIR=str(tmp_path / "cache")),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        wait_for(entered, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    hook.unlink()
    done = git_state(root)
    assert done.branch == BRANCH and done.clean and leftovers(root) == []
    assert git_out(remote, "branch", "--list") == ""
    again = run_here(cmd, tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert git_out(remote, "rev-parse", BRANCH) == done.head
    assert git_state(root) == done and leftovers(root) == []


def test_a_finished_bump_whose_commit_was_reworded_after_the_kill_is_kept(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Killed after its commit (git:7); the user rewords it (``git commit --amend``): the
    recorded commit is gone from the branch, but the branch's commit is still exactly the
    run's files on the start. Recovery finishes, keeping the reworded commit."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache",
                 **{CRASH_ENV: "git:7"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    git_out(root, "commit", "-q", "--amend", "-m", "Flux 2.4.0 (reworded)")
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "finished an interrupted bump" in proc.stdout
    assert git_state(root) == before and leftovers(root) == []


def test_a_finished_bump_left_for_the_start_branch_keeps_its_branch(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Killed after its commit (git:7): to the user the bump looks done; they go back to
    main (and may have pushed the branch by hand). The next run has nothing to restore and
    deleted that branch, commit and all, without a word; it is now kept."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    start = git_state(root)
    killed = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache",
                 **{CRASH_ENV: "git:7"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    bump = git_out(root, "rev-parse", "HEAD")
    git_out(root, "checkout", "-q", "main")
    assert_undone_on_main_keeping_the_branch(root, index_server, tmp_path, start, bump)


def test_no_git_identity_is_refused_before_anything_is_written(
    tmp_path: Path, index_server: HelmServer
) -> None:
    # A fresh CI runner has no user.name/user.email: `git commit` refused only after every
    # file was written and the gate ran (the files were restored, with git's own lines).
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    for key in ("user.name", "user.email"):
        subprocess.run(["git", "config", "--unset", key], cwd=root, check=True)
    # Never guess one from the host name (it may or may not have a domain).
    subprocess.run(["git", "config", "user.useConfigOnly", "true"], cwd=root, check=True)
    before, files = git_state(root), snapshot(root)
    no_global = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = run_here(
        fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache", **no_global
    )
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip().splitlines() == [
        "error: git cannot commit here: no email was given and auto-detection is disabled; "
        "set git config user.name and user.email (in CI: git config --global …), or pass "
        "--no-git; nothing was written"
    ]
    assert git_state(root) == before and snapshot(root) == files
    assert leftovers(root) == []
    done = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--no-git"), tmp_path / "cache",
               **no_global)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("extra", [(), ("--no-git",)], ids=["branch", "no-git"])
def test_a_journal_whose_start_commit_is_not_in_the_repository_says_so(
    tmp_path: Path, index_server: HelmServer, extra: tuple[str, ...]
) -> None:
    """A git record naming a start commit this repository lacks (history rewritten, or a
    journal copied from another clone) was refused with "check out main (at 000000000000,
    where it began)": a commit that cannot be checked out."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    args = ("to", "2.4.0", *extra)
    killed = run(fluxbump_cmd(root, index_server, *args), tmp_path / "cache",
                 **{CRASH_ENV: "rename:1"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    journal = root / ".git" / "fluxbump-journal"
    record = json.loads((journal / "git.json").read_text())
    record["head0"] = "0" * 40
    (journal / "git.json").write_text(json.dumps(record))
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, *args), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"error: {journal} records that an interrupted fluxbump run began at commit "
        "000000000000, which is not in this repository (its history was rewritten, or the "
        "record is damaged), so fluxbump cannot tell whether commits since hold what that "
        f"run wrote: see git status, then remove {journal} to keep the files as they are\n"
    )
    assert "000000000000, where it began" not in proc.stderr
    assert git_state(root) == before and journal.is_dir()
