"""Warm runs (``scan/cache.py``): a second status/check takes unchanged files from the cache in
the git directory, and never a file git does not vouch for: edited (same size, mtime put
back), changed in the same second as the index (racy), untracked, or staged since."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import fluxbump.scan.cache
import fluxbump.scan.releases
from fluxbump.config import load_config
from fluxbump.scan import discover
from fluxbump.scan.cache import CACHE_FILE
from fluxbump.scan.forked import NO_FORK_ENV
from tests.support.cli_runner import run_cli
from tests.support.fixtures import commit_file, git, make_fleet, rewrite_keeping_stat

PIN_FILE = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
OLD, NEW = "version: 1.1.1", "version: 1.1.9"  # the same size: a size test cannot tell them


def status(repo: Path, *extra: str) -> dict[str, Any]:
    outcome = run_cli("status", "--json", "--offline", "-q", "--repo", str(repo), *extra)
    assert outcome.code in (0, 1), outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def release_values(document: dict[str, Any], rel: str) -> list[str]:
    return [
        s["value"] for s in document["sites"] if s["file"] == rel and s["role"] == "HelmRelease"
    ]


def cache_file(repo: Path) -> Path:
    return repo / ".git" / CACHE_FILE


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", git=True)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cluster files the HelmRelease pass reads from disk."""
    seen: list[str] = []
    original = fluxbump.scan.releases.read_raw

    def counting(root: Path | str, rel: str, *, limit: int | None = None) -> bytes:
        seen.append(rel)
        return original(root, rel, limit=limit)

    monkeypatch.setattr(fluxbump.scan.releases, "read_raw", counting)
    return seen


def test_a_warm_run_reads_no_unchanged_cluster_file(repo: Path, reads: list[str]) -> None:
    cold = status(repo)
    assert PIN_FILE in reads and cache_file(repo).is_file()
    reads.clear()
    warm = status(repo)
    assert reads == [] and warm == cold
    assert release_values(warm, PIN_FILE) == ["1.1.1"]


def test_no_cache_reads_everything_and_leaves_no_cache(repo: Path, reads: list[str]) -> None:
    status(repo, "--no-cache")
    assert PIN_FILE in reads and not cache_file(repo).exists()
    status(repo)
    reads.clear()
    status(repo, "--no-cache")
    assert PIN_FILE in reads


def test_an_edit_of_the_same_size_with_the_mtime_put_back_is_seen(
    repo: Path, reads: list[str]
) -> None:
    status(repo)
    rewrite_keeping_stat(repo / PIN_FILE, OLD, NEW)
    reads.clear()
    warm = status(repo)
    assert release_values(warm, PIN_FILE) == ["1.1.9"]
    assert reads == [PIN_FILE]  # every other file still came from the cache
    assert release_values(status(repo, "--no-cache"), PIN_FILE) == ["1.1.9"]


def test_a_change_in_the_same_second_as_the_index_is_seen(repo: Path) -> None:
    # Only mtime and size count (no ctime, no inode): what git then cannot tell apart by
    # stat alone, its racy-git rule (file not older than the index) settles by content.
    git(repo, "config", "core.checkStat", "minimal")
    git(repo, "config", "core.trustctime", "false")
    path = repo / PIN_FILE
    git(repo, "update-index", "--refresh")
    assert release_values(status(repo), PIN_FILE) == ["1.1.1"]
    rewrite_keeping_stat(path, OLD, NEW)
    stamp = path.stat().st_mtime_ns
    os.utime(repo / ".git" / "index", ns=(stamp, stamp))  # the index written in that second
    assert PIN_FILE in git(repo, "diff-files", "--name-only")  # git's own verdict
    assert release_values(status(repo), PIN_FILE) == ["1.1.9"]


def test_an_untracked_file_with_a_pin_is_seen(repo: Path) -> None:
    status(repo)
    new = "clusters/muscat.omani.works/bootstrap-kit/04-flux-copy.yaml"
    text = (repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW)
    (repo / new).write_text(text.replace("name: flux\n", "name: flux-copy\n"), "utf-8")
    warm = status(repo)
    assert release_values(warm, new) == ["1.1.9"]
    assert warm == status(repo, "--no-cache")


def test_a_staged_change_is_seen(repo: Path) -> None:
    status(repo)
    (repo / PIN_FILE).write_text((repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW), "utf-8")
    git(repo, "add", PIN_FILE)
    assert PIN_FILE not in git(repo, "diff-files", "--name-only")  # the work tree matches the index
    assert release_values(status(repo), PIN_FILE) == ["1.1.9"]


def test_an_assume_unchanged_file_is_read_all_the_same(repo: Path) -> None:
    # git stops looking at such a file, so it cannot vouch for it.
    status(repo)
    git(repo, "update-index", "--assume-unchanged", PIN_FILE)
    (repo / PIN_FILE).write_text((repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW), "utf-8")
    assert PIN_FILE not in git(repo, "diff-files", "--name-only")
    assert release_values(status(repo), PIN_FILE) == ["1.1.9"]


class Planted:
    """Unpickling this would run code (make a directory): the cache loader must refuse it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.path),))


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage", "empty", "class", "directory"],
)
def test_a_damaged_cache_is_a_cold_run(
    repo: Path, damage: str, reads: list[str], tmp_path: Path
) -> None:
    cold = status(repo, "--no-cache")
    status(repo)
    path = cache_file(repo)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "class":
        magic = data[: data.index(b"\n") + 1]
        path.write_bytes(magic + pickle.dumps(Planted(tmp_path / "planted")))
    else:
        path.unlink()
        path.mkdir()
    reads.clear()
    outcome = run_cli("status", "--json", "--offline", "-q", "--repo", str(repo))
    assert outcome.code == 0 and outcome.stderr == ""
    assert json.loads(outcome.stdout) == cold
    assert PIN_FILE in reads  # cold: read again
    assert not (tmp_path / "planted").exists()
    if damage != "directory":
        reads.clear()
        assert status(repo) == cold and reads == []  # and the rewritten cache serves again


def test_a_cache_of_another_configuration_is_not_used(repo: Path, reads: list[str]) -> None:
    status(repo)
    (repo / ".fluxbump.yaml").write_text("exclude: ['clusters/salalah.omani.works/**']\n")
    reads.clear()
    narrowed = status(repo)
    assert not any("salalah" in s["file"] for s in narrowed["sites"])
    assert PIN_FILE in reads


def test_records_kept_by_other_code_of_the_same_version_are_not_used(
    repo: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fix installed from a newer commit keeps the version number: its scanner must read
    # the files again, not serve what the old one found.
    cold = status(repo)
    monkeypatch.setattr(fluxbump.scan.cache, "package_stamp", lambda: "other code")
    reads.clear()
    assert status(repo) == cold
    assert PIN_FILE in reads


def test_check_outside_git_writes_no_cache(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "plain")
    assert run_cli("check", "--offline", "-q", "--repo", str(repo)).code == 0
    assert not any(p.name.startswith(CACHE_FILE) for p in tmp_path.rglob("*"))


def test_a_linked_worktree_keeps_its_own_cache(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", str(other))
    rewrite_keeping_stat(other / PIN_FILE, OLD, NEW)
    git(other, "add", PIN_FILE)
    assert release_values(status(other), PIN_FILE) == ["1.1.9"]
    assert release_values(status(repo), PIN_FILE) == ["1.1.1"]
    assert not cache_file(repo).samefile(other / git(other, "rev-parse", "--git-path", CACHE_FILE))
    assert release_values(status(other), PIN_FILE) == ["1.1.9"]
    shutil.rmtree(other)


@pytest.mark.parametrize("planted", ["fifo", "device", "symlink"])
def test_a_cache_that_is_not_a_regular_file_is_a_cold_run_never_a_hang(
    repo: Path, planted: str, tmp_path: Path
) -> None:
    """Something else at the cache's name: a FIFO (opening it waited for a writer: ``check``
    hung for ever), a symlink to a device that never ends, or to a file out of the git
    directory. Each is a cold run with the right answer; the cache written after it replaces
    the name (the symlink, not its target)."""
    cold = run_cli("check", "--offline", "--no-cache", "--repo", str(repo))
    path = cache_file(repo)
    outside = tmp_path / "outside"
    outside.write_bytes(b"mine\n")
    if planted == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero" if planted == "device" else outside)
    proc = subprocess.run(
        [sys.executable, "-m", "fluxbump", "check", "--offline", "--repo", str(repo)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (cold.code, cold.stdout, cold.stderr)
    assert outside.read_bytes() == b"mine\n"
    assert path.is_file() and not path.is_symlink()


# A cluster file the release scan parses (its text names bp-flux) that pins no chart of the
# repository, so no later step reads it again: its warnings are the scan's alone.
DUPLICATED = "clusters/muscat.omani.works/bootstrap-kit/09-podinfo.yaml"


def podinfo_release(top: str) -> str:
    """A HelmRelease of podinfo with the lines ``top`` at its top level, from line 7."""
    return (
        "# deployed beside bp-flux\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: podinfo\n  namespace: apps\n"
        f"{top}spec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.5.0\n"
    )


def twice(key: str) -> str:
    return (
        f"warning: {DUPLICATED}:8: key '{key}' appears twice in one mapping (also on line 7); "
        "the last one is used, as Helm and Flux do"
    )


def run(command: str, repo: Path, *extra: str) -> tuple[int, str, str]:
    outcome = run_cli(command, "--offline", "--repo", str(repo), *extra)
    return outcome.code, outcome.stdout, outcome.stderr


@pytest.mark.parametrize("command", ["check", "status"])
def test_a_warm_run_says_every_warning_the_cold_run_said(
    repo: Path, reads: list[str], command: str
) -> None:
    # A duplicate key met by the scan was said by the cold run only: the file's record did
    # not keep it, and the warm run took the file from the record, read nothing, said nothing.
    commit_file(repo, DUPLICATED, podinfo_release("a: 1\na: 2\n"))
    cold = run(command, repo)
    assert twice("a") in cold[2].splitlines()
    reads.clear()
    assert run(command, repo) == cold
    assert DUPLICATED not in reads  # (served by its record)
    cold_json = run(command, repo, "--json", "--no-cache")
    said = [w["message"] for w in json.loads(cold_json[1])["warnings"]]
    assert twice("a").removeprefix("warning: ") in said
    assert run(command, repo, "--json") == cold_json


def test_a_warm_run_says_again_that_a_written_manifest_is_not_read(repo: Path) -> None:
    # A cloud-config among the cluster files: RKE2 applies the manifests it writes at boot,
    # and content fluxbump does not decode is named as not read, warm as cold.
    user_data = "clusters/muscat.omani.works/user-data.yaml"
    text = (
        "#cloud-config\n# beside bp-flux\nwrite_files:\n"
        "- path: /var/lib/rancher/rke2/server/manifests/extra.yaml\n"
        "  encoding: b64\n  content: YXBpVmVyc2lvbjogdjEK\n"
        "- path: /var/lib/rancher/rke2/server/manifests/podinfo.yaml\n  content: |\n"
        "    apiVersion: helm.cattle.io/v1\n    kind: HelmChart\n"
        "    spec:\n      chart: podinfo\n      version: 6.5.0\n"
    )
    commit_file(repo, user_data, text)
    cold = run("check", repo)
    assert f"warning: {user_data}:6: the manifest cloud-init writes to " in cold[2]
    assert run("check", repo) == cold


def test_a_warm_run_after_a_committed_edit_says_the_edited_file_s_warning(
    repo: Path, reads: list[str]
) -> None:
    # An unchanged file before it in the walk warns too: a cold run says that one first.
    earlier = "clusters/_template/00-podinfo.yaml"
    commit_file(repo, earlier, podinfo_release("c: 1\nc: 2\n"))
    commit_file(repo, DUPLICATED, podinfo_release("a: 1\na: 2\n"))
    run("check", repo)
    commit_file(repo, DUPLICATED, podinfo_release("b: 1\nb: 2\n"))
    cold = run("check", repo, "--no-cache")
    said = cold[2].splitlines()
    assert twice("b") in said and twice("a") not in said
    reads.clear()
    for _ in ("the run that reads the edit", "the run its new record answers"):
        assert run("check", repo) == cold
    assert reads == [DUPLICATED]
    commit_file(repo, DUPLICATED, podinfo_release("b: 2\n"))
    for _ in ("read", "recalled"):
        assert f"{DUPLICATED}:8: key" not in run("check", repo)[2]


def test_a_warm_run_after_a_scan_in_two_processes_says_each_half_s_warnings(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forked child scans the second half of the cluster files: it sends each file's
    # warnings with what it found, for the records too.
    monkeypatch.delenv(NO_FORK_ENV, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(discover, "FORK_THRESHOLD", 2)
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    text = podinfo_release("a: 1\na: 2\n")
    first, last = "clusters/_template/00-podinfo.yaml", "products/catalyst/podinfo.yaml"
    commit_file(repo, first, text)
    commit_file(repo, last, text)
    cold = run("check", repo)
    said = cold[2].splitlines()
    assert forks and all(twice("a").replace(DUPLICATED, rel) in said for rel in (first, last))
    assert run("check", repo) == cold


def test_a_cache_of_the_record_shape_before_warnings_is_a_cold_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Format 2 held records of seven fields, without the file's warnings: read as today's
    # shape it would not unpack. Written by the same code stamp here, so only its format
    # number tells it apart.
    monkeypatch.setattr(fluxbump.scan.cache, "package_stamp", lambda: "one stamp")
    commit_file(repo, DUPLICATED, podinfo_release("a: 1\na: 2\n"))
    cold = run("check", repo)
    path = cache_file(repo)
    magic = b"fluxbump-scan-cache\n"
    _, _, parts = pickle.loads(path.read_bytes()[len(magic) :])
    key, entries = parts["releases"]
    old = {rel: (blob, record[:7]) for rel, (blob, record) in entries.items()}
    with monkeypatch.context() as before:
        before.setattr(fluxbump.scan.cache, "_FORMAT", 2)
        version = fluxbump.scan.cache._version_key(load_config(repo))
    body = pickle.dumps((2, version, {**parts, "releases": (key, old)}))
    path.write_bytes(magic + body)
    assert run("check", repo) == cold


@pytest.mark.parametrize("part", ["releases", "roles"])
def test_a_cache_of_this_format_whose_records_are_of_another_shape_is_a_cold_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    """Its format and version say this code wrote it, its records say otherwise (damaged
    inside, written by a tool, another build with the same stamp): replaying them ended the
    run in "unexpected error", exit 70. A cold run answers, and the cache is written again."""
    monkeypatch.setattr(fluxbump.scan.cache, "package_stamp", lambda: "one stamp")
    commit_file(repo, DUPLICATED, podinfo_release("a: 1\na: 2\n"))
    cold = run("check", repo)
    path = cache_file(repo)
    magic = b"fluxbump-scan-cache\n"
    form, version, parts = pickle.loads(path.read_bytes()[len(magic) :])
    key, entries = parts[part]
    odd = {rel: (blob, ("not", "a", "record")) for rel, (blob, _) in entries.items()}
    path.write_bytes(magic + pickle.dumps((form, version, {**parts, part: (key, odd)})))
    assert run("check", repo) == cold
    assert run("check", repo) == cold  # from the cache written again
    _, _, rewritten = pickle.loads(path.read_bytes()[len(magic) :])
    assert rewritten[part][1] != odd
