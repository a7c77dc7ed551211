"""Recovery against a racing or hostile local environment: a journal directory swapped for a
symlink before it is removed, a work-tree file swapped for a FIFO or a symlink after it was
looked at, and a git record (git.json) naming a branch that run never created."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from fluxbump.write import recovery
from fluxbump.write.places import places
from fluxbump.write.transaction import CRASH_ENV, GIT_STATE, MANIFEST
from tests.adversarial.harness import git_out, git_state, leftovers
from tests.support.crash_cli import SMALL, fluxbump_cmd, run, run_here
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer
from tests.support.swapped import CLI, run_swapped


def killed_bump(root: Path, server: HelmServer, cache: Path, point: str = "rename:1") -> None:
    """``to 2.4.0`` with git, SIGKILLed at ``point``: a real interrupted journal."""
    proc = run(fluxbump_cmd(root, server, "to", "2.4.0"), cache, **{CRASH_ENV: point})
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _rewrite_record(root: Path, **fields: object) -> Path:
    path = places(root).journal / GIT_STATE
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))
    return path


@pytest.mark.parametrize("named", ["main", "main-moved", "release", "release-no-reflogs"])
def test_a_git_record_naming_a_branch_the_run_did_not_create_leaves_it(
    tmp_path: Path, index_server: HelmServer, named: str
) -> None:
    """A git.json naming ``main`` (the start branch: recovery deleted it, HEAD left on an
    unborn branch), ``main`` moved past the recorded start with its tip recorded as the run's
    commit (deleted, commit and reflog with it), or a branch the user made at the start
    (deleted; also where git keeps no reflogs) is refused: every branch, HEAD and file stays
    as it was, the journal is kept."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    if named == "release-no-reflogs":
        git_out(root, "config", "core.logAllRefUpdates", "false")
    start = git_out(root, "rev-parse", "HEAD")
    killed_bump(root, index_server, cache)
    fields: dict[str, object] = {"branch": "main"}
    if named == "main-moved":
        (root / "NOTES.md").write_text("the user's own work\n")
        git_out(root, "add", "NOTES.md")
        git_out(root, "commit", "-qm", "the user's own work")
        tip = git_out(root, "rev-parse", "HEAD")
        tree = git_out(root, "rev-parse", f"{start}^{{tree}}")  # "a hook staged again"
        fields = {"branch": "main", "commit": tip, "staged": tree, "steps": ["branch", "commit"]}
    if named.startswith("release"):
        git_out(root, "branch", "release")
        fields = {"branch": "release"}
    record = _rewrite_record(root, **fields)
    before = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    branch = str(fields["branch"])
    reason = {
        "main": "it is the branch that run started from",
        "release": "its reflog does not begin with fluxbump creating it from main at "
        f"{start[:12]} (it began: branch: Created from main)",
        "release-no-reflogs": "it has no reflog to show who created it and its name does not "
        "start with fluxbump/",
    }[named.removesuffix("-moved")]
    assert proc.stderr == (
        f"error: {record} names {branch} as the branch of an interrupted fluxbump run, but "
        f"{reason}: the branch, HEAD and every file are left as they are; if that record is "
        f"not this clone's, remove it and re-run to restore the files (or remove "
        f"{record.parent} to keep them)\n"
    )
    assert git_state(root) == before
    assert record.is_file()


def test_a_bump_killed_on_its_branch_is_undone_where_git_keeps_no_reflogs(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """With ``core.logAllRefUpdates=false`` the run's branch has no reflog to prove it made
    it; its name (``fluxbump/…``, which no start branch has) does, and the undo deletes it."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    git_out(root, "config", "core.logAllRefUpdates", "false")
    before = git_state(root)
    killed_bump(root, index_server, cache, "git:2")  # the branch made and checked out
    assert git_state(root).branches == ("fluxbump/flux-v2.4.0", "main")
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert proc.returncode == 0, proc.stderr
    assert git_state(root) == before and leftovers(root) == []


def test_a_journal_swapped_for_a_symlink_before_its_removal_removes_nothing_through_it(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed before its manifest (journal:2), the run leaves a journal recovery only removes.
    Swapped for a symlink to another directory after recovery checked it, the removal by
    path unlinked that directory's files; the descriptor it now removes through refuses."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed_bump(root, index_server, cache, "journal:2")
    journal = places(root).journal
    kept = sorted(os.listdir(journal))
    victim, aside = tmp_path / "victim", tmp_path / "aside"
    victim.mkdir()
    (victim / "canary.txt").write_text("someone else's file\n")
    checked = recovery._refuse_odd_entries

    def checked_then_swapped(path: Path) -> None:
        checked(path)
        journal.rename(aside)
        journal.symlink_to(victim)

    monkeypatch.setattr(recovery, "_refuse_odd_entries", checked_then_swapped)
    tree = git_state(root)
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert (victim / "canary.txt").read_text() == "someone else's file\n"
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr == (
        f"error: {journal} was replaced by a symlink or a file (by another process) while "
        "fluxbump was removing it; nothing was removed through it: inspect it, then remove "
        "it by hand\n"
    )
    assert os.readlink(journal) == str(victim) and sorted(os.listdir(aside)) == kept
    assert git_state(root) == tree


@pytest.mark.parametrize("into", ["fifo", "link"])
def test_a_file_swapped_after_recovery_looked_at_it_is_refused_unread(
    tmp_path: Path, index_server: HelmServer, into: str
) -> None:
    """A file the journal names, swapped for a FIFO just after recovery checked it, hung the
    run for ever on opening it; swapped for a symlink, the file it points to was read as the
    run's and the link replaced by the restored file. Recovery now checks the descriptor it
    reads: refused, naming the file, which is left as it is."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed_bump(root, index_server, cache)
    manifest = json.loads((places(root).journal / "manifest.json").read_text())
    first = manifest["files"][0]["path"]  # renamed before the kill: holds the run's bytes
    outside = tmp_path / "outside.yaml"
    outside.write_bytes((root / first).read_bytes())
    before = git_state(root)
    argv = ("to", "2.4.0", "--dry-run", "--repo", str(root), "--helm-repo", index_server.base_url)
    target = "fifo" if into == "fifo" else str(outside)
    proc = run_swapped(root / first, target, CLI, *argv, FLUXBUMP_CACHE_DIR=str(cache))
    what = "a FIFO" if into == "fifo" else "a symlink"
    assert (root / first).is_fifo() if into == "fifo" else (root / first).is_symlink()
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr == (
        f"error: {first}: named by the journal but {what} now, not a regular file; refusing "
        "to restore through it: inspect it by hand\n"
    )
    assert outside.read_bytes() == before.files[first]
    assert {k: v for k, v in git_state(root).files.items() if k != first} == {
        k: v for k, v in before.files.items() if k != first
    }


@pytest.mark.parametrize("point", ["rename:1", "git:6"], ids=["undone", "finished"])
def test_a_git_record_naming_a_file_the_run_did_not_write_leaves_its_staged_change(
    tmp_path: Path, index_server: HelmServer, point: str
) -> None:
    """The git record's ``paths`` (the files the run staged) are those whose index entries
    recovery sets to HEAD's. One more, in a record another hand wrote, had the user's staged
    change to a file the run never wrote reset, by the undo (killed before its commit; the
    record claiming one) and the finish (killed after it) alike. Only the manifest's files
    are the run's: the record is refused, naming it and that file, and the index, refs,
    files and journal stay as they are."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed_bump(root, index_server, cache, point)
    journal = places(root).journal
    written = [entry["path"] for entry in json.loads((journal / MANIFEST).read_text())["files"]]
    foreign = "README.md"  # tracked, never a pin-site
    assert foreign not in written and git_out(root, "ls-files", foreign) == foreign
    (root / foreign).write_text("the user's staged change\n")
    git_out(root, "add", foreign)
    staged = git_out(root, "diff", "--cached", "--", foreign)
    recorded = json.loads((journal / GIT_STATE).read_text())
    forged = {"steps": ["branch", "commit"]} if point == "rename:1" else {}
    record = _rewrite_record(root, paths=[*recorded["paths"], foreign], **forged)
    before, entries = git_state(root), sorted(os.listdir(journal))
    proc = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert git_out(root, "diff", "--cached", "--", foreign) == staged
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr == (
        f"error: {record} names {foreign} as a file the interrupted fluxbump run staged, but "
        "its manifest does not list it as written by that run, so recovery would reset its "
        "index entry (a change staged to it would be lost): the index, branches and every "
        "file are left as they are; if that record is not this clone's, remove it and re-run "
        f"to restore the files (or remove {journal} to keep them)\n"
    )
    assert git_state(root) == before and sorted(os.listdir(journal)) == entries


@pytest.mark.parametrize("into", ["fifo", "link"])
@pytest.mark.parametrize("name", [MANIFEST, GIT_STATE])
def test_a_journal_record_swapped_as_recovery_opens_it_is_refused_promptly(
    tmp_path: Path, index_server: HelmServer, name: str, into: str
) -> None:
    """The manifest or git record swapped for a FIFO (whose open by path waited for ever) or a
    symlink (read through) at the moment recovery opens it, after its look at the journal's
    entries: the CLI, in a child that a hang ends at a timeout, refuses it in one line naming
    it (exit 2), and the repository and the journal's other entries are left as they are."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    killed_bump(root, index_server, cache)
    journal = places(root).journal
    entry, outside = journal / name, tmp_path / name
    outside.write_bytes(entry.read_bytes())  # the same record: only the link differs
    kept = {p.name: p.read_bytes() for p in journal.iterdir() if p.name != name}
    before = git_state(root)
    argv = ("to", "2.4.0", "--dry-run", "--repo", str(root), "--helm-repo", index_server.base_url)
    target = "fifo" if into == "fifo" else str(outside)
    proc = run_swapped(entry, target, CLI, *argv, FLUXBUMP_CACHE_DIR=str(cache))
    assert entry.is_fifo() if into == "fifo" else entry.is_symlink()
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    what = "a FIFO" if into == "fifo" else "a symlink"
    assert proc.stderr == (
        f"error: {entry}: {what} in the journal of an interrupted run, where fluxbump makes "
        f"only regular files; it never reads or writes through one: inspect {journal} (its "
        "backup.bin holds the contents from before that run), then remove it; nothing was "
        "written\n"
    )
    assert git_state(root) == before
    assert {p.name: p.read_bytes() for p in journal.iterdir() if p.name != name} == kept
