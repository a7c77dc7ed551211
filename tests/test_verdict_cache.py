"""The verdict cache (``fluxbump/verdict.py``): a warm ``status``/``check --offline`` is answered
before the CLI loads, byte for byte what the cold run printed, and never when anything its
output depends on changed: a tracked file (same size, mtime put back; in the index's second),
an untracked or staged file, the configuration, an option, the environment, the Helm index,
a pending journal. Every warm run here is a whole process (``served``: the CLI never loaded);
a cold run is ``fluxbump.__main__`` in this process (``run_main``: keyed as a child's run is,
so its verdict is what a child keeps), a few of them whole processes too."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fluxbump.remote.index import DEFAULT_HELM_REPO, Cache, index_url
from fluxbump.verdict import VERDICT_DIR
from tests.support.cli_runner import Outcome, run_entry_point, run_main, run_process
from tests.support.fixtures import git, init_git, make_fleet, rewrite_keeping_stat
from tests.support.helm_repo import flux_repo_routes, write_flux_repo
from tests.support.helm_server import HelmServer

PIN_FILE = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
OLD, NEW = "version: 1.1.1", "version: 1.1.9"  # the same size: a size test cannot tell them
CLI = {"typer", "click", "ruamel", "jsonschema"}
REALWORLD = Path(__file__).resolve().parent / "realworld"
SNAPSHOTS = sorted(p.name for p in REALWORLD.iterdir() if (p / "SOURCE.md").is_file())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", git=True)


def run(repo: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
    return run_main(*args, "--offline", "--repo", str(repo), env=env)


def served(repo: Path, *args: str) -> Outcome:
    """A run that must be answered from a kept verdict: the CLI never loaded."""
    printed, modules = run_entry_point(*args, "--offline", "--repo", str(repo))
    assert modules & CLI == set(), printed.stderr
    return printed


def verdicts(repo: Path) -> list[Path]:
    store = repo / ".git" / VERDICT_DIR
    return sorted(store.glob("*.v")) if store.is_dir() else []


def warm_then(repo: Path, *args: str) -> Outcome:
    """A cold run that keeps its verdict, and the warm run it serves."""
    cold = run(repo, *args)
    warm = served(repo, *args)
    assert warm == cold
    return cold


def test_a_warm_check_prints_the_cold_bytes_without_loading_the_cli(repo: Path) -> None:
    cold, modules = run_entry_point("check", "--offline", "--repo", str(repo))
    assert cold.code == 0 and "typer" in modules and len(verdicts(repo)) == 1
    assert "consistent" in cold.stdout and "bundled snapshot" in cold.stderr
    assert served(repo, "check") == cold
    assert run(repo, "check", "--no-cache") == cold  # and it is what a cold run prints


def test_an_edit_of_the_same_size_with_the_mtime_put_back_is_seen(repo: Path) -> None:
    assert warm_then(repo, "check").code == 0
    rewrite_keeping_stat(repo / PIN_FILE, OLD, NEW)
    after = run(repo, "check")
    assert after.code == 1 and PIN_FILE in after.stdout
    assert after == run(repo, "check", "--no-cache")


def test_a_change_in_the_same_second_as_the_index_is_seen(repo: Path) -> None:
    # Only mtime and size count (no ctime, no inode): what git then cannot tell apart by
    # stat alone, its racy-git rule (file not older than the index) settles by content.
    git(repo, "config", "core.checkStat", "minimal")
    git(repo, "config", "core.trustctime", "false")
    git(repo, "update-index", "--refresh")
    assert warm_then(repo, "check").code == 0
    path = repo / PIN_FILE
    rewrite_keeping_stat(path, OLD, NEW)
    stamp = path.stat().st_mtime_ns
    os.utime(repo / ".git" / "index", ns=(stamp, stamp))  # the index written in that second
    assert PIN_FILE in git(repo, "diff-files", "--name-only")  # git's own verdict
    assert run(repo, "check").code == 1


def test_an_untracked_file_with_a_pin_is_seen(repo: Path) -> None:
    assert warm_then(repo, "check").code == 0
    new = "clusters/muscat.omani.works/bootstrap-kit/04-flux-copy.yaml"
    text = (repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW)
    (repo / new).write_text(text.replace("name: bp-flux\n", "name: bp-flux-copy\n"), "utf-8")
    after = run(repo, "check")
    assert after.code == 1 and new in after.stdout
    assert served(repo, "check") == after  # a dirty tree is keyed by its bytes: warm again


def test_a_staged_change_is_seen(repo: Path) -> None:
    assert warm_then(repo, "status", "--json").code == 0
    (repo / PIN_FILE).write_text((repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW), "utf-8")
    git(repo, "add", PIN_FILE)
    assert PIN_FILE not in git(repo, "diff-files", "--name-only")  # the work tree matches the index
    after = run(repo, "status", "--json")
    values = [s["value"] for s in json.loads(after.stdout)["sites"] if s["file"] == PIN_FILE]
    assert values == ["1.1.9"]


def test_an_assume_unchanged_file_is_keyed_by_its_bytes(repo: Path) -> None:
    git(repo, "update-index", "--assume-unchanged", PIN_FILE)
    assert warm_then(repo, "check").code == 0
    (repo / PIN_FILE).write_text((repo / PIN_FILE).read_text("utf-8").replace(OLD, NEW), "utf-8")
    assert PIN_FILE not in git(repo, "diff-files", "--name-only")  # git no longer looks
    assert run(repo, "check").code == 1


def test_an_edited_configuration_is_seen(repo: Path) -> None:
    whole = warm_then(repo, "status", "--json")
    (repo / ".fluxbump.yaml").write_text("exclude: ['clusters/salalah.omani.works/**']\n")
    narrowed = run(repo, "status", "--json")
    files = {s["file"] for s in json.loads(narrowed.stdout)["sites"]}
    assert not any("salalah" in f for f in files)
    assert any("salalah" in s["file"] for s in json.loads(whole.stdout)["sites"])


COMMAND_LINES = [
    ("check",), ("check", "--json"), ("check", "--format", "github"), ("status",),
    ("status", "--json"), ("status", "--component", "flux"), ("check", "-q"),
]  # fmt: skip


@pytest.mark.parametrize("args", COMMAND_LINES)
def test_each_command_line_gets_its_own_verdict(repo: Path, args: tuple[str, ...]) -> None:
    # Another command line's verdict is kept first: served to this one, it would differ.
    other = ("check",) if args[0] == "status" or "--json" in args else ("status", "--json")
    kept = warm_then(repo, *other)
    cold = run(repo, *args, "--no-cache")
    assert cold != kept
    assert run(repo, *args) == cold
    assert served(repo, *args) == cold


def test_a_changed_environment_is_seen(repo: Path, tmp_path: Path) -> None:
    assert "bundled snapshot" in warm_then(repo, "check").stderr
    index = write_flux_repo(tmp_path / "helm")
    moved = run(repo, "check", env={"FLUXBUMP_HELM_REPO": str(index)})
    assert "bundled snapshot" not in moved.stderr
    assert moved == run(repo, "check", "--no-cache", env={"FLUXBUMP_HELM_REPO": str(index)})


def test_a_replaced_helm_index_file_is_seen(repo: Path, tmp_path: Path) -> None:
    index = write_flux_repo(tmp_path / "helm")
    assert warm_then(repo, "check", "--helm-repo", str(index)).code == 0
    document = json.loads(index.read_bytes())
    del document["entries"]["flux2"]  # the pinned chart is no longer published there
    index.write_text(json.dumps(document), "utf-8")
    after = run(repo, "check", "--helm-repo", str(index))
    assert after.code == 1
    assert after == run(repo, "check", "--helm-repo", str(index), "--no-cache")


def test_a_helm_index_file_replaced_by_a_fifo_is_a_miss_not_a_hang(
    repo: Path, tmp_path: Path
) -> None:
    # A file the kept verdict read outside the repository is read again to prove it unchanged:
    # a FIFO now at its name blocked that open for ever (the run never answered).
    index = write_flux_repo(tmp_path / "helm")
    assert warm_then(repo, "check", "--helm-repo", str(index)).code == 0
    index.unlink()
    os.mkfifo(index)
    after = run(repo, "check", "--helm-repo", str(index))  # (a hang: killed at 120 s)
    assert after.code == 3 and f"{index}: cannot read the Helm index: not a regular file" in (
        after.stderr
    )


@pytest.mark.cold_cache  # it writes the cached index itself
def test_a_replaced_cached_index_is_seen(repo: Path) -> None:
    cache = Cache.for_url(index_url(DEFAULT_HELM_REPO))
    cache.body_path.parent.mkdir(parents=True)
    cache.body_path.write_bytes(flux_repo_routes()["/index.yaml"])
    cache.meta_path.write_text(json.dumps({"fetched_at": "1776211200"}), "utf-8")
    before = warm_then(repo, "check")
    assert "using cached index" in before.stderr and "cannot be proven" not in before.stdout
    document = json.loads(cache.body_path.read_bytes())
    del document["entries"]["flux2"]
    cache.body_path.write_text(json.dumps(document), "utf-8")  # the meta file is unchanged
    after = run(repo, "check")
    assert "cannot be proven" in after.stdout  # a cached index may lack what was published
    assert after == run(repo, "check", "--no-cache")


def test_a_journal_left_since_is_seen(repo: Path) -> None:
    assert "interrupted" not in warm_then(repo, "check").stderr
    (repo / ".git" / "fluxbump-journal").mkdir()
    assert "an interrupted fluxbump run left a journal" in run(repo, "check").stderr


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "grown", "directory"])
def test_a_damaged_verdict_is_a_cold_run(repo: Path, damage: str) -> None:
    cold = warm_then(repo, "status", "--json")
    (path,) = verdicts(repo)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) - 10])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "grown":
        path.write_bytes(data + b"{}")
    else:
        path.unlink()
        path.mkdir()
    again, modules = run_entry_point("status", "--json", "--offline", "--repo", str(repo))
    assert again == cold and "typer" in modules  # the CLI ran
    if damage != "directory":
        assert served(repo, "status", "--json") == cold  # and its verdict serves again


def test_only_offline_runs_are_kept_and_no_cache_bypasses(
    repo: Path, helm_server: HelmServer
) -> None:
    online = run_process("check", "--helm-repo", helm_server.base_url, "--repo", str(repo))
    assert online.code == 0 and verdicts(repo) == []
    run(repo, "check", "--no-cache")
    run(repo, "check", env={"FLUXBUMP_NO_CACHE": "1"})
    assert verdicts(repo) == []
    for _ in range(6):  # only the newest few are kept
        (repo / "notes.txt").write_text(f"{len(verdicts(repo))}\n{os.urandom(8).hex()}")
        run(repo, "check")
    assert len(verdicts(repo)) == 4


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_warm_equals_cold_on_every_realworld_snapshot(name: str, tmp_path: Path) -> None:
    repo = tmp_path / name
    shutil.copytree(REALWORLD / name, repo)
    init_git(repo)
    for args in (("check",), ("status", "--json")):
        cold = run(repo, *args, "--no-cache")
        assert run(repo, *args) == cold
        assert served(repo, *args) == cold


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (["check", "--offline"], True),
        (["status", "--offline", "--json", "--component", "flux", "-v"], True),
        (["check", "--offline", "--format=github", "--repo=."], True),
        (["check"], False),  # online: the index is the network's
        (["check", "--component", "--offline"], False),  # a value, not the option
        (["check", "--offline", "--no-cache"], False),
        (["check", "--offline", "--help"], False),
        (["check", "--offline", "-v"], False),  # not an option of check: the CLI says so
        (["check", "--offline", "--repo"], False),
        (["to", "2.5.1", "--offline"], False),
    ],
)
def test_only_command_lines_whose_output_the_key_covers_are_kept(
    argv: list[str], kept: bool, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluxbump.verdict import answer

    monkeypatch.chdir(repo)
    assert (answer(argv) is not None) is kept


def test_a_verdict_directory_that_is_a_symlink_out_of_git_is_never_written(
    repo: Path, tmp_path: Path
) -> None:
    """``.git/fluxbump-verdicts`` a symlink to a directory of the user's: the verdict was
    written there, and pruning the "oldest" deleted the user's own ``*.v`` files (Verilog
    sources, say) past the newest four. Such a store is not used: the run is cold, right."""
    outside = tmp_path / "rtl"
    outside.mkdir()
    mine = {f"{name}.v": f"module {name};\n" for name in ("alu", "cpu", "fifo", "top", "uart")}
    for name, text in mine.items():
        (outside / name).write_text(text)
    (repo / ".git" / VERDICT_DIR).symlink_to(outside)
    cold = run(repo, "check")
    again, modules = run_entry_point("check", "--offline", "--repo", str(repo))
    assert again == cold and "typer" in modules  # nothing was kept: the CLI ran
    assert {p.name: p.read_text() for p in outside.iterdir()} == mine
