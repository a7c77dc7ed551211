"""A journal only fluxbump can have written: in the git directory (worktrees and submodules
too), paths relative to the work tree, hostile entries refused, none trusted in the tree."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from fluxbump.write.places import JOURNAL_DIR, places
from fluxbump.write.transaction import CRASH_ENV, MANIFEST
from tests.adversarial.harness import git_out, git_state, leftovers
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run, run_here
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import HelmServer

WRAPPER_CHART = "platform/flux/chart/Chart.yaml"


def crash(root: Path, server: HelmServer, cache: Path, point: str = "rename:4") -> None:
    proc = run(fluxbump_cmd(root, server, "to", "2.4.0", "--no-git"), cache, **{CRASH_ENV: point})
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def rerun(root: Path, server: HelmServer, cache: Path) -> tuple[int, str, str]:
    """The recovering run, in-process: only the crash needs a process of its own to kill."""
    argv = ("to", "2.4.0", "--no-git", "--dry-run", "--repo", str(root), "--helm-repo")
    outcome = run_cli(*argv, server.base_url, env={"FLUXBUMP_CACHE_DIR": str(cache)})
    return outcome.code, outcome.stdout, outcome.stderr


def test_a_worktree_keeps_its_journal_in_its_own_git_directory(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    main = make_fleet(tmp_path / "main", INCIDENT, git=True, **SMALL)
    git_out(main, "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"))
    wt = tmp_path / "wt"
    before, main_before = snapshot(wt), snapshot(main)
    crash(wt, index_server, cache)
    journal = main / ".git" / "worktrees" / "wt" / JOURNAL_DIR
    assert (journal / MANIFEST).is_file()
    assert places(wt).journal == journal and places(main).journal != journal
    assert not any(JOURNAL_DIR in p for p in snapshot(wt))  # nothing in the work tree
    code, out, err = rerun(wt, index_server, cache)
    assert code == 0, err
    assert snapshot(wt) == before and snapshot(main) == main_before
    assert "restored" in out and leftovers(wt) == []


def test_a_submodule_keeps_its_journal_in_its_git_directory(
    tmp_path: Path, index_server: HelmServer
) -> None:
    cache = tmp_path / "cache"
    inner = make_fleet(tmp_path / "inner", INCIDENT, git=True, **SMALL)
    outer = tmp_path / "outer"
    outer.mkdir()
    git_out(outer, "init", "-q", "-b", "main")
    git_out(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    sub = outer / "sub"
    assert (sub / ".git").is_file()  # a gitfile, not a directory
    before = snapshot(sub)
    crash(sub, index_server, cache)
    journal = outer / ".git" / "modules" / "sub" / JOURNAL_DIR
    assert (journal / MANIFEST).is_file()
    code, _, err = rerun(sub, index_server, cache)
    assert code == 0, err
    assert snapshot(sub) == before and leftovers(sub) == []


def test_a_copied_repository_is_recovered_in_place_not_in_the_original(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """Paths are relative to the work tree: the copy's recovery writes into the copy."""
    cache = tmp_path / "cache"
    original = make_fleet(tmp_path / "a", INCIDENT, git=True, **SMALL)
    before = snapshot(original)
    crash(original, index_server, cache)
    mixed = snapshot(original)
    assert mixed != before
    copy = tmp_path / "b"
    shutil.copytree(original, copy, symlinks=True)
    code, out, err = rerun(copy, index_server, cache)
    assert code == 0, err
    assert out.count("from an interrupted run") == 4
    assert snapshot(copy) == before and leftovers(copy) == []
    assert snapshot(original) == mixed  # the original is left to its own recovery
    code, _, err = rerun(original, index_server, cache)
    assert code == 0 and snapshot(original) == before, err


def _tamper(root: Path, path: str) -> None:
    manifest = places(root).journal / MANIFEST
    data = json.loads(manifest.read_bytes())
    data["files"][0]["path"] = path
    manifest.write_text(json.dumps(data))


def _first_path(root: Path) -> str:
    data = json.loads((places(root).journal / MANIFEST).read_bytes())
    return str(data["files"][0]["path"])


@pytest.mark.parametrize("hostile", ["outside", "absolute", "dir-link", "file-link", "fifo"])
def test_a_hostile_journal_entry_is_refused_and_nothing_is_written(
    tmp_path: Path, index_server: HelmServer, hostile: str
) -> None:
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    crash(root, index_server, cache)
    first = _first_path(root)
    current = (root / first).read_bytes()  # what recovery would overwrite, were it fooled
    victim = tmp_path / "victim.yaml"
    victim.write_bytes(current)  # same bytes as the "new" file: only the path check stops it
    path = {
        "outside": "../victim.yaml",
        "absolute": str(victim),
        "dir-link": "escape/victim.yaml",
        "file-link": "victim-link.yaml",
        "fifo": "pipe.yaml",
    }[hostile]
    if hostile == "dir-link":
        (root / "escape").symlink_to(tmp_path)
    if hostile == "file-link":
        (root / "victim-link.yaml").symlink_to(victim)
    if hostile == "fifo":
        os.mkfifo(root / "pipe.yaml")
    _tamper(root, path)
    tree = snapshot_with_links(root)
    code, out, err = rerun(root, index_server, cache)
    assert code == 2, (out, err)
    line = err.strip()
    assert "\n" not in line and line.startswith(f"error: {places(root).journal / MANIFEST}")
    assert "unsafe" in line and "Traceback" not in err
    assert victim.read_bytes() == current
    assert snapshot_with_links(root) == tree


def test_a_journal_of_a_newer_fluxbump_is_left_to_it(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A journal a newer fluxbump wrote (killed, then an older one run, as a CI job pinned to
    a release can be) was refused as "unreadable or unsafe" and left to be inspected by hand,
    though that version would recover it."""
    cache = tmp_path / "cache"
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    crash(root, index_server, cache)
    manifest = places(root).journal / MANIFEST
    data = json.loads(manifest.read_bytes())
    manifest.write_text(json.dumps({**data, "version": data["version"] + 1}))
    tree = snapshot(root)
    code, out, err = rerun(root, index_server, cache)
    assert code == 2, (out, err)
    assert err == (
        f"error: {manifest} was written by a newer fluxbump (journal version "
        f"{data['version'] + 1}); run that version to recover the interrupted run; nothing was "
        "written\n"
    )
    assert snapshot(root) == tree and manifest.exists()


def snapshot_with_links(root: Path) -> dict[str, object]:
    """Files' bytes, links' targets and FIFOs by name (never opened)."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_fifo():
            found[rel] = "fifo"
        elif path.is_file():
            found[rel] = path.read_bytes()
    return found


@pytest.mark.parametrize("git", [True, False])
def test_a_journal_in_the_work_tree_is_named_and_never_trusted(
    tmp_path: Path, index_server: HelmServer, git: bool
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    planted = root / f".{JOURNAL_DIR}"
    planted.mkdir()
    target = root / WRAPPER_CHART
    (planted / MANIFEST).write_text(json.dumps([{"rel": WRAPPER_CHART, "real": str(target)}]))
    (planted / "backup.bin").write_bytes(b"owned\n")
    if git:
        make_fleet(root, INCIDENT, git=True, **SMALL)  # the journal is committed with the fleet
    before = snapshot(root)
    state = git_state(root) if git else None
    code, out, err = rerun(root, index_server, tmp_path / "cache")
    assert code == 2, (out, err)
    assert err.strip() == (
        f"error: {planted.resolve()} is a fluxbump journal inside the work tree; fluxbump never "
        "trusts one there (anyone could have committed it): inspect it, remove it, re-run"
    )
    assert snapshot(root) == before
    if state is not None:
        assert git_state(root) == state


def test_a_relative_state_dir_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Outside git the journal lives under $FLUXBUMP_STATE_DIR. A relative one named another
    directory from each working directory: a run killed in one left a journal the next run,
    started elsewhere, never saw (it bumped the half-written tree), and a later run from the
    first directory would "recover" it over the newer files. It was taken as it was, exit 0."""
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    before = snapshot(root)
    work = tmp_path / "cwd"
    work.mkdir()
    with contextlib.chdir(work):
        outcome = run_cli("to", "2.4.0", "--offline", "--no-git", "--repo", str(root),
                          env={"FLUXBUMP_STATE_DIR": "state"})  # fmt: skip
    assert outcome.code == 2, outcome.stdout
    assert outcome.stderr == (
        "error: FLUXBUMP_STATE_DIR='state' is not an absolute path; fluxbump keeps the lock and "
        "journal of a repository outside git there: give an absolute directory; nothing was "
        "written\n"
    )
    assert snapshot(root) == before and list(work.iterdir()) == []


def _killed(tmp_path: Path, server: HelmServer) -> tuple[Path, Path, Path]:
    """A git bump killed with four of its files written: its root, cache and journal."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    cache = tmp_path / "cache"
    killed = run(fluxbump_cmd(root, server, "to", "2.4.0"), cache, **{CRASH_ENV: "rename:4"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    return root, cache, places(root).journal


def _odd_entry(entry: Path, what: str) -> str:
    """The refusal of a journal entry that is no regular file."""
    return (
        f"error: {entry}: {what} in the journal of an interrupted run, where fluxbump makes "
        f"only regular files; it never reads or writes through one: inspect {entry.parent} (its "
        "backup.bin holds the contents from before that run), then remove it; nothing was "
        "written\n"
    )


def _journal_listing(journal: Path) -> dict[str, object]:
    """The journal's entries as made (links by target, FIFOs by name, never opened)."""
    found: dict[str, object] = {}
    for path in sorted(journal.iterdir()):
        if path.is_symlink():
            found[path.name] = ("link", os.readlink(path))
        elif path.is_fifo():
            found[path.name] = "fifo"
        elif path.is_dir():
            found[path.name] = "dir"
        else:
            found[path.name] = path.read_bytes()
    return found


@pytest.mark.parametrize(
    ("name", "planted"),
    [
        ("manifest.json", "link-out"),
        ("manifest.json", "fifo"),
        ("backup.bin", "link-out"),
        ("backup.bin", "link-in"),
        ("git.json", "link-out"),
        ("notes", "dir"),
        ("", "link-out"),  # the journal directory itself
    ],
)
def test_a_journal_holding_a_link_fifo_or_directory_is_never_read_through(
    tmp_path: Path, index_server: HelmServer, name: str, planted: str
) -> None:
    """A journal someone else wrote (another user, a clone tool, a restored backup) with a
    symlink for its manifest, backup or git record: recovery read through it and restored
    the files from wherever it pointed; a FIFO there made it wait for ever; a directory made
    it fail once every file was restored. It is refused, naming the entry, and nothing in the
    repository or the journal is touched."""
    root, cache, journal = _killed(tmp_path, index_server)
    entry, elsewhere = journal / name, tmp_path / "elsewhere"
    if planted == "link-out":  # the same bytes, kept outside: only the link differs
        shutil.move(entry, elsewhere)
        entry.symlink_to(elsewhere)
    elif planted == "link-in":
        shutil.move(entry, root / "kept.bin")
        entry.symlink_to(root / "kept.bin")
    elif planted == "fifo":
        entry.unlink()
        os.mkfifo(entry)
    else:
        entry.mkdir()
    tree, state = snapshot_with_links(root), git_state(root)
    listing = _journal_listing(journal)
    again = run(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 2, again.stdout
    if not name:
        assert again.stderr == (
            f"error: {journal} is not a directory fluxbump made (a symlink, or a file), so it is "
            "never read or followed: inspect it, remove it; nothing was written\n"
        )
    else:
        what = {"link-out": "a symlink", "link-in": "a symlink", "fifo": "a FIFO"}
        assert again.stderr == _odd_entry(entry, what.get(planted, "a directory"))
    assert snapshot_with_links(root) == tree and git_state(root) == state
    assert _journal_listing(journal) == listing


@pytest.mark.parametrize(
    ("name", "planted"),
    [
        ("manifest.json", "link-out"),
        ("manifest.json", "dangling"),
        ("backup.bin", "link-out"),
        ("backup.bin", "fifo"),
        ("git.json", "link-out"),
        ("git.json", "fifo"),
    ],
)
def test_a_journal_entry_swapped_after_the_check_is_never_read_through(
    tmp_path: Path, index_server: HelmServer, monkeypatch: pytest.MonkeyPatch, name: str,
    planted: str,
) -> None:  # fmt: skip
    """Someone who can write the git directory swaps an entry for a symlink (or a FIFO) just
    after recovery's look at the journal's entries: recovery read the manifest, backup and git
    record by path, through the link, and restored the files from wherever it pointed (a
    FIFO made it wait for ever; a dangling manifest link dropped the journal unrecovered).
    Every read opens the entry itself, never a link nor a FIFO: it is refused as the look
    refuses it, naming the entry, and nothing in the repository or the journal is touched."""
    from fluxbump.write import recovery

    root, cache, journal = _killed(tmp_path, index_server)
    entry, elsewhere = journal / name, tmp_path / "elsewhere"
    tree, state = snapshot_with_links(root), git_state(root)
    look = recovery._refuse_odd_entries
    swapped: list[dict[str, object]] = []

    def look_then_swap(where: Path) -> None:
        look(where)  # every entry a regular file still: then the swap
        if planted == "fifo":
            entry.unlink()
            os.mkfifo(entry)
        else:  # the same bytes kept outside (or none: dangling); only the link differs
            shutil.move(entry, elsewhere)
            entry.symlink_to(tmp_path / "gone" if planted == "dangling" else elsewhere)
        swapped.append(_journal_listing(journal))

    monkeypatch.setattr(recovery, "_refuse_odd_entries", look_then_swap)
    again = run_here(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run"), cache)
    assert again.returncode == 2, (again.stdout, again.stderr)
    what = "a FIFO" if planted == "fifo" else "a symlink"
    assert again.stderr == _odd_entry(entry, what)
    assert snapshot_with_links(root) == tree and git_state(root) == state
    assert [_journal_listing(journal)] == swapped


def _in_2_gib(cmd: list[str]) -> list[str]:
    """``python -m fluxbump …`` in a child that caps its own address space at 2 GiB: a
    read of a 4 GiB journal entry fails there, whatever memory the machine has."""
    assert cmd[1:3] == ["-m", "fluxbump"], cmd
    limit = f"resource.setrlimit(resource.RLIMIT_AS, ({2 << 30}, {2 << 30}))"
    argv = f"sys.argv = ['fluxbump', *{cmd[3:]!r}]"
    return [cmd[0], "-c", f"import resource, runpy, sys; {limit}; {argv}; "
            "runpy.run_module('fluxbump', run_name='__main__')"]  # fmt: skip


@pytest.mark.parametrize("name", ["manifest.json", "git.json"])
def test_a_journal_record_of_gigabytes_is_refused_unread(
    tmp_path: Path, index_server: HelmServer, name: str
) -> None:
    """A record far larger than any fluxbump writes (sparse here: 4 GiB costing no disk) was
    read whole, and the recovering run ended in MemoryError (or, with the memory, in a JSON
    error); it is refused unread in one line naming it, and nothing is touched."""
    from fluxbump.write.recovery import RECORD_LIMIT

    root, cache, journal = _killed(tmp_path, index_server)
    entry = journal / name
    with entry.open("ab") as record:
        record.truncate(4 << 30)
    tree, state = snapshot_with_links(root), git_state(root)

    def others() -> dict[str, bytes]:  # (the record itself is never read here either)
        return {p.name: p.read_bytes() for p in journal.iterdir() if p.name != name}

    listing = others()
    again = run(_in_2_gib(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run")), cache)
    assert again.returncode == 2, again.stdout + again.stderr
    assert again.stderr == (
        f"error: {entry}: larger than any record fluxbump writes ({RECORD_LIMIT >> 20} MiB), "
        f"so it is not read: inspect {journal} (its backup.bin holds the contents from before "
        "that run), then remove it; nothing was written\n"
    )
    assert snapshot_with_links(root) == tree and git_state(root) == state
    assert others() == listing
    assert entry.stat().st_size == 4 << 30


def test_a_backup_grown_past_its_contents_costs_only_what_it_holds(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """The backup is read no further than the manifest's contents end in it: bytes after
    them (4 GiB, sparse) were read too, and recovery ended in MemoryError."""
    root, cache, journal = _killed(tmp_path, index_server)
    assert git_out(root, "status", "--porcelain")  # (the killed run left its writes)
    with (journal / "backup.bin").open("ab") as backup:
        backup.truncate(4 << 30)
    again = run(_in_2_gib(fluxbump_cmd(root, index_server, "to", "2.4.0", "--dry-run")), cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert git_out(root, "status", "--porcelain") == ""
    assert not journal.exists()
