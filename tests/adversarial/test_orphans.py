"""What a killed run's children do after it: a git commit still running (its hook slow) when
the user runs fluxbump again, a run that recovered and is then stopped or fails to push."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fluxbump.write.places import places
from fluxbump.write.transaction import CRASH_ENV, MANIFEST, PAUSE_ENV, PAUSE_FILE_ENV
from tests.adversarial.harness import (
    GitState,
    bump_process,
    committed_files,
    git_out,
    git_state,
    leftovers,
)
from tests.support.crash_cli import SMALL, fluxbump_cmd, run, run_here, wait_for
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

BRANCH = "fluxbump/flux-v2.4.0"

SLOW_HOOK = """#!/bin/sh
echo $PPID > "{git_pid}"
touch "{entered}"
i=0
while [ ! -e "{release}" ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done
exit {verdict}
"""


def _gone(pid: int, limit: float = 30.0) -> None:
    """Wait until the orphan ``pid`` has ended (a zombie no one reaps yet has)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state == "Z":
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} still runs")


@pytest.mark.parametrize("verdict", [0, 1])
def test_a_rerun_while_the_killed_runs_git_commit_still_runs_never_mixes_with_it(
    tmp_path: Path, index_server: HelmServer, verdict: int
) -> None:
    """fluxbump killed alone while its commit's commit-msg hook runs, and run again at once:
    the re-run restored the files and checked out main again, then the orphaned git commit
    finished, on main: HEAD held the bump, the work tree and index the old files. The lock
    is now held by the commands a run starts: the re-run refuses while the orphan runs, and
    the run after it finishes the bump (the hook passed) or undoes it (it failed)."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    entered, release, git_pid = tmp_path / "entered", tmp_path / "release", tmp_path / "git.pid"
    hook = root / ".git" / "hooks" / "commit-msg"
    hook.write_text(SLOW_HOOK.format(entered=entered, release=release, git_pid=git_pid,
                                     verdict=verdict))  # fmt: skip
    hook.chmod(0o755)
    before, cache = git_state(root), tmp_path / "cache"
    with bump_process(root, index_server, cache) as proc:
        wait_for(entered, proc)
        proc.kill()  # fluxbump alone: its git commit runs on, its hook waiting
        proc.wait()
    written = git_state(root)
    lock = places(root).lock
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 2, again.stdout
    assert again.stderr == (
        f"error: the lock {lock} is still held by a command that fluxbump run {proc.pid}, since "
        "ended, started (its git commit's hooks, or a gate command): wait for it to end, then "
        "re-run (it recovers that run); if it runs on (a daemon), remove the lock; nothing was "
        "written\n"
    )
    assert git_state(root) == written and (places(root).journal / MANIFEST).is_file()
    release.touch()
    _gone(int(git_pid.read_text()))
    hook.unlink()
    last = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert last.returncode == 0, last.stderr
    after = git_state(root)
    if verdict == 0:  # committed by the orphan: finished, one commit on the run's branch
        assert "finished an interrupted bump" in last.stdout
        assert (after.branch, after.branches, after.status) == (BRANCH, (BRANCH, "main"), "")
        assert git_out(root, "rev-parse", "HEAD^") == before.head
        assert after.files == written.files and len(committed_files(root)) == 9
    else:  # refused by the hook: all as before the run
        assert after == before
    assert leftovers(root) == []


def _killed_mid_write(root: Path, server: HelmServer, cache: Path) -> GitState:
    """A bump killed with four of its nine files written: the next run restores them."""
    before = git_state(root)
    killed = run(fluxbump_cmd(root, server, "to", "2.4.0"), cache, **{CRASH_ENV: "rename:4"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    return before


RESTORED = (
    "before that, restored clusters/_template/bootstrap-kit/03-flux.yaml from an interrupted "
    "run (and 3 more files)"
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_run_that_recovered_then_was_interrupted_says_what_it_restored(
    tmp_path: Path, index_server: HelmServer, sig: signal.Signals
) -> None:
    """Ctrl-C after the recovery (while the run writes its own bump): "interrupted" was all
    it said, never that it had restored the killed run's nine files."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    cache, release = tmp_path / "cache", tmp_path / "release"
    before = _killed_mid_write(root, index_server, cache)
    seam = {PAUSE_ENV: "journal:1", PAUSE_FILE_ENV: str(release)}  # its own journal, after
    with bump_process(root, index_server, cache, **seam) as proc:
        wait_for(Path(f"{release}.paused"), proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == f"error: interrupted; {RESTORED}\n"
    assert git_state(root) == before and leftovers(root) == []


def test_a_run_that_recovered_then_failed_to_push_says_what_it_restored(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The push comes after the lock is released: its failure said nothing of the recovery."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    remote, cache = tmp_path / "remote.git", tmp_path / "cache"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch creation is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    git_out(root, "remote", "add", "origin", str(remote))
    before = _killed_mid_write(root, index_server, cache)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--push"), cache)
    assert proc.returncode == 3, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"error: push of {BRANCH} to origin failed: ")
    assert line.endswith(f"; the commit is on the local branch; {RESTORED}")
    after = git_state(root)  # the bump, committed once on its branch; nothing pushed
    assert (after.branch, after.branches, after.status) == (BRANCH, (BRANCH, "main"), "")
    assert git_out(root, "rev-parse", "HEAD^") == before.head and len(committed_files(root)) == 9
    assert git_out(remote, "branch", "--list") == "" and leftovers(root) == []


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_run_that_recovered_then_failed_unexpectedly_says_what_it_restored(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    """An unexpected error (exit 70: a bug, MemoryError) after the recovery, here in the gate
    of the run's own bump: its one line said nothing of the killed run's files it had
    restored. The line (and --json's error) says it, the bump is rolled back, and the
    repository is as it was before the killed run."""
    import fluxbump.commands.bump

    def explode(*args: object, **kwargs: object) -> object:
        raise RecursionError("deep")

    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    cache = tmp_path / "cache"
    before = _killed_mid_write(root, index_server, cache)
    monkeypatch.setattr(fluxbump.commands.bump, "run_gate", explode)
    flags = ("--json",) if as_json else ()
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", *flags), cache)
    assert proc.returncode == 70, proc.stderr
    said = (
        f"unexpected error (RecursionError: deep); {RESTORED}; rerun with --debug for the traceback"
    )
    assert proc.stderr == f"error: {said}\n"
    if as_json:
        assert json.loads(proc.stdout) == {"ok": False, "error": said, "exit_code": 70}
    assert git_state(root) == before and leftovers(root) == []


SLOW_GATE = """#!/bin/sh
echo $$ > "{pid}"
touch "{entered}"
i=0
while [ ! -e "{release}" ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done
printf '# checked\\n' >> {chart}
"""
CHART = "platform/flux/chart/Chart.yaml"


def test_a_gate_command_outliving_a_killed_run_never_edits_after_the_recovery(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """fluxbump killed alone while a gate command runs (it edits a written file when done),
    and run again at once: the re-run restored every file, then the orphaned command edited
    one, silently, the journal gone. The re-run now waits for it (refused while it runs), and
    the run after it names the file the command changed, keeping both it and the journal."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    entered, release, pid = tmp_path / "entered", tmp_path / "release", tmp_path / "gate.pid"
    script = tmp_path / "gate.sh"
    script.write_text(SLOW_GATE.format(pid=pid, entered=entered, release=release, chart=CHART))
    (root / ".fluxbump.yaml").write_text(f"wrapper: bp-flux\ngate:\n  commands: ['sh {script}']\n")
    git_out(root, "add", ".fluxbump.yaml")
    git_out(root, "commit", "-qm", "gate")
    cache = tmp_path / "cache"
    with bump_process(root, index_server, cache) as proc:
        wait_for(entered, proc)
        proc.kill()
        proc.wait()
    written = git_state(root)
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 2 and "is still held by a command that fluxbump run" in again.stderr
    assert git_state(root) == written
    release.touch()
    _gone(int(pid.read_text()))
    last = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    journal = places(root).journal
    assert last.returncode == 2, last.stdout
    assert last.stderr == (
        f"error: {CHART} changed after an interrupted fluxbump run; its content from before "
        f"that run is in {journal / 'backup.bin'}; restore it by hand, then remove {journal}\n"
    )
    after = git_state(root)
    assert after.files == {**written.files, CHART: written.files[CHART] + b"# checked\n"}
    assert (journal / MANIFEST).is_file()
