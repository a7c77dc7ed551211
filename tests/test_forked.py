"""The forked second half of the cluster scan gives exactly what one process gives."""

from __future__ import annotations

import gc
import os
import pickle
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from fluxbump.config import Config
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.scan import discover
from fluxbump.scan.forked import NO_FORK_ENV, Ahead, _received, in_two, while_waiting
from tests.support.cli_runner import run_cli
from tests.support.wrappers import wrappers_fleet


def squares_with_pid(items: Sequence[int]) -> tuple[int, list[int]]:
    return os.getpid(), [i * i for i in items]


@pytest.fixture(autouse=True)
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the forked path: take it on a 1-CPU machine or with the
    opt-out set in the environment too (the opt-out test sets it again itself)."""
    monkeypatch.delenv(NO_FORK_ENV, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def reaped(pid: int) -> bool:
    """The child ``pid`` was waited for: it is no longer this process's child (asking about
    that pid alone, so a child some other test left running cannot make this fail)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def child_pids(record: Path) -> list[int]:
    return [int(line) for line in record.read_text().split()] if record.exists() else []


def note_child(record: Path) -> None:
    """Called inside the work function: the forked child writes down its pid."""
    with record.open("a") as out:
        out.write(f"{os.getpid()}\n")


def test_the_second_half_runs_in_a_child_and_comes_back_in_order() -> None:
    (parent, first), (child, second) = in_two(squares_with_pid, list(range(10)), threshold=2)
    assert first + second == [i * i for i in range(10)]
    assert parent == os.getpid() and child != parent
    assert reaped(child)


def test_below_the_threshold_or_when_disabled_everything_runs_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ((pid, values),) = in_two(squares_with_pid, [1, 2, 3], threshold=4)
    assert pid == os.getpid() and values == [1, 4, 9]
    monkeypatch.setenv(NO_FORK_ENV, "1")
    assert len(in_two(squares_with_pid, list(range(10)), threshold=2)) == 1


def test_an_error_in_the_child_is_raised_here_with_its_type_and_message(tmp_path: Path) -> None:
    record = tmp_path / "pids"

    def fail_on_seven(items: Sequence[int]) -> list[int]:
        if 7 in items:
            note_child(record)
            raise ResolutionError("item 7 is bad")
        return list(items)

    with pytest.raises(ResolutionError, match="item 7 is bad"):
        in_two(fail_on_seven, list(range(10)), threshold=2)
    (child,) = child_pids(record)
    assert child != os.getpid() and reaped(child)


def test_an_error_here_stops_and_reaps_the_child(tmp_path: Path) -> None:
    record = tmp_path / "pids"

    def fail_here(items: Sequence[int]) -> list[int]:
        if 0 in items:  # the parent's half fails once the child is surely running
            deadline = time.monotonic() + 10
            while not child_pids(record) and time.monotonic() < deadline:
                time.sleep(0.01)
            raise UsageError("first half failed")
        note_child(record)
        time.sleep(30)  # the parent must kill this child, not wait for it
        return list(items)

    started = time.monotonic()
    with pytest.raises(UsageError, match="first half failed"):
        in_two(fail_here, list(range(10)), threshold=2)
    assert time.monotonic() - started < 20
    (child,) = child_pids(record)
    assert reaped(child)


def test_a_forked_survey_equals_a_sequential_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    monkeypatch.setenv(NO_FORK_ENV, "1")
    sequential = discover.survey(repo, Config())
    monkeypatch.delenv(NO_FORK_ENV)
    monkeypatch.setattr(discover, "FORK_THRESHOLD", 2)
    forked = discover.survey(repo, Config())
    # (16 HelmReleases, and cloud-init's helm install of cilium: a boot install of its upstream)
    assert forked.releases == sequential.releases and len(forked.releases) == 17
    assert forked.sources == sequential.sources
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_bad_file_in_the_forked_half_is_named_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    bad = repo / "clusters/salalah.omani.works/bootstrap-kit/zz-last.yaml"
    bad.write_bytes(b"kind: HelmRelease\nchart: bp-cilium\n# caf\xe9\n")
    monkeypatch.setattr(discover, "FORK_THRESHOLD", 2)
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1  # the components it names are unproven; the others are checked
    assert (
        "  clusters/salalah.omani.works/bootstrap-kit/zz-last.yaml:3: not UTF-8 text (byte 0xe9): save it as UTF-8; "
        "cilium is unproven"
    ) in outcome.stdout.splitlines()


def test_a_duplicate_key_in_the_forked_half_is_warned_of_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The warning is noted where the file is read: in the child, for the second half.
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    last = repo / "clusters/salalah.omani.works/bootstrap-kit/zz-last.yaml"
    last.write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n"
        "spec:\n  interval: 9m\n  interval: 15m\n  chart:\n    spec:\n      chart: bp-cilium\n"
        "      version: 1.0.0\n",
        "utf-8",
    )
    outcomes = []
    for threshold in (2, 10**9):
        monkeypatch.setattr(discover, "FORK_THRESHOLD", threshold)
        outcomes.append(run_cli("status", "--repo", str(repo), "--offline"))
    warning = (
        "warning: clusters/salalah.omani.works/bootstrap-kit/zz-last.yaml:7: key 'interval' "
        "appears twice in one mapping (also on line 6); the last one is used, as Helm and Flux do"
    )
    assert warning in outcomes[1].stderr.splitlines()
    assert outcomes[0] == outcomes[1]


def test_a_bump_with_forked_edits_writes_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluxbump.commands import bump
    from fluxbump.scan import forked
    from fluxbump.write import changes
    from tests.support.fixtures import snapshot

    events: list[str] = []  # the index is loaded while the scan's child sends its half
    load_index, received = bump.load_index, forked._received
    monkeypatch.setattr(
        bump, "load_index", lambda *a, **k: events.append("index") or load_index(*a, **k)
    )
    monkeypatch.setattr(forked, "_received", lambda p: events.append("received") or received(p))
    trees = []
    for name, threshold in (("forked", 1), ("sequential", 10**9)):
        repo = wrappers_fleet(tmp_path / name, git=False)
        monkeypatch.setattr(changes, "FORK_THRESHOLD", threshold)
        monkeypatch.setattr(discover, "FORK_THRESHOLD", threshold)
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
        assert outcome.code == 0, outcome.stderr
        assert "plan: 17 edit(s) in 14 file(s)" in outcome.stdout
        trees.append(snapshot(repo))
    assert trees[0] == trees[1]
    # forked: the index between the survey's own half and the child's, then the edits' child
    assert events == ["index", "received", "received", "index"]


def test_an_error_here_leaves_no_descriptor_open() -> None:
    def fail_here(items: Sequence[int]) -> list[int]:
        if 0 in items:
            raise UsageError("first half failed")
        return list(items)

    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(UsageError):
            in_two(fail_here, list(range(10)), threshold=2)
    assert len(os.listdir("/proc/self/fd")) == before


def test_scanned_files_cross_the_pipe_whole() -> None:
    """A child's scan is pickled as tuples and the text decoded again from the bytes: every
    field of every site and file arrives as it was sent (a field left out would not)."""
    import pickle
    from dataclasses import fields, replace

    from fluxbump.pins import PinSite, Role
    from fluxbump.scan.releases import ScannedFiles, Unreadable
    from fluxbump.scan.sites.helmrelease import VersionPatch
    from fluxbump.scan.sources import source_of

    raw = "\ufeffkind: HelmRelease # é\r\n".encode()
    site = PinSite(Role.OCI_TAG, "a.yaml", 3, 7, "1.2.3", "bp-x", "ns/x", 40, 45, 2,
                   ("spec", "ref", "tag"))  # fmt: skip
    sent = ScannedFiles(
        sources={"a.yaml": source_of("a.yaml", raw)},
        sites=[site],
        substituting=[("b.yaml", b"postBuild")],
        unreadable=[Unreadable("c.yaml", 2, "bad", frozenset({"bp-x"}))],
        patches=[VersionPatch("ns", "x", replace(site, subject=""))],
        instances=[replace(site, file="d.yaml", role=Role.HELMRELEASE)],
        instance_sources={"d.yaml": source_of("d.yaml", b"kind: FluxInstance\n")},
        api_versions={"e.yaml": (("helm.toolkit.fluxcd.io", "v2", ("HelmRelease",)),)},
        warnings=[("f.yaml", ("f.yaml:2: key 'a' appears twice in one mapping",))],
        chart_sources=["g.yaml"],
    )
    # Every field is filled above with a value that is not its default, so a field that
    # ``__getstate__`` leaves out comes back empty and the comparison fails.
    assert all(getattr(sent, f.name) for f in fields(ScannedFiles))
    received = pickle.loads(pickle.dumps(sent))
    assert received == sent
    assert received.sources["a.yaml"].text == raw.decode("utf-8")


def test_a_site_moved_or_rebuilt_from_its_fields_equals_one_built_whole() -> None:
    """``PinSite.moved`` and ``site_of`` skip the dataclass ``__init__``: what they build must
    equal, hash and print as the site ``__init__`` builds."""
    from dataclasses import replace

    from fluxbump.pins import PinSite, Role, site_of
    from fluxbump.scan.releases import astuple_of

    site = PinSite(Role.HELMRELEASE, "a.yaml", 3, 7, "1.2.3", "bp-x", "ns/x", 40, 45, 2,
                   ("spec", "chart", "spec", "version"))  # fmt: skip
    moved = site.moved("b.yaml", 2, 100)
    expected = replace(site, file="b.yaml", line=5, start=140, end=145)
    assert moved == expected and hash(moved) == hash(expected) and repr(moved) == repr(expected)
    assert site.file == "a.yaml" and site.start == 40  # the original is left as it was
    rebuilt = site_of(astuple_of(site))
    assert rebuilt == site and hash(rebuilt) == hash(site) and repr(rebuilt) == repr(site)


def test_both_halves_are_left_out_of_later_collections_and_collecting_resumes() -> None:
    """The halves live to the end of a run: frozen, a full collection does not walk them
    again; the collector is paused only while the child's half is unpickled."""
    assert gc.isenabled()
    (_, first), (_, second) = in_two(squares_with_pid, list(range(10)), threshold=2)
    assert gc.isenabled()
    tracked = {id(o) for o in gc.get_objects()}
    assert id(first) not in tracked and id(second) not in tracked
    gc.unfreeze()  # (the rest of this test process is collected as before)
    gc.disable()
    try:
        in_two(squares_with_pid, list(range(10)), threshold=2)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_childs_half_is_frozen_before_collecting_resumes() -> None:
    """Unpickled with the collector paused, the child's objects must not be left in the
    young generation when it resumes: the next allocation would walk them all."""
    payload = pickle.dumps((True, [[i] for i in range(20_000)], []))
    try:
        received = _received(payload)
        assert gc.get_count()[0] < 1_000  # (the 20,000 lists were counted, then frozen)
        assert len(received) == 20_000
    finally:
        gc.unfreeze()


def test_work_ahead_runs_here_once_between_this_half_and_the_childs() -> None:
    """The scan's idle moment (the child pickling its half) does what the command needs
    next: once, in this process, after this half; its result is not computed again."""
    events: list[tuple[str, int]] = []

    def half(items: Sequence[int]) -> list[int]:
        events.append(("half", os.getpid()))
        return list(items)

    def index() -> str:
        events.append(("ahead", os.getpid()))
        return "loaded"

    ahead = Ahead(index)
    with while_waiting(ahead):
        in_two(half, list(range(10)), threshold=2)
    assert events == [("half", os.getpid()), ("ahead", os.getpid())]
    assert ahead.result() == "loaded" and len(events) == 2
    in_two(half, list(range(10)), threshold=2)  # outside the block: nothing is run ahead
    assert len(events) == 3


def test_work_ahead_unrun_is_done_when_asked_and_its_error_is_raised_there() -> None:
    def unreachable() -> str:
        raise ResolutionError("index unreachable")

    asked = Ahead(unreachable)
    with while_waiting(asked):
        in_two(lambda items: list(items), [1], threshold=2)  # no child: nothing waits
    with pytest.raises(ResolutionError, match="index unreachable"):
        asked.result()
    with while_waiting(failing := Ahead(unreachable)):
        in_two(lambda items: list(items), list(range(10)), threshold=2)  # no raise here
    with pytest.raises(ResolutionError, match="index unreachable"):
        failing.result()


def test_a_child_killed_while_it_sends_is_one_usage_error() -> None:
    import signal

    def die_mid_send(items: Sequence[int]) -> list[int]:
        if 9 in items:  # the child: its pipe writes half the payload, then the child is killed

            class HalfThenKilled:
                def __init__(self, fd: int, mode: str) -> None:
                    self.fd = fd

                def __enter__(self) -> HalfThenKilled:
                    return self

                def __exit__(self, *exc: object) -> None:
                    pass

                def write(self, data: bytes) -> None:
                    os.write(self.fd, data[: len(data) // 2])
                    os.kill(os.getpid(), signal.SIGKILL)

            os.fdopen = HalfThenKilled  # type: ignore[assignment]  # (the child's memory only)
        return list(range(1000))

    with pytest.raises(UsageError, match=r"unreadable result .*re-run with FLUXBUMP_NO_FORK=1"):
        in_two(die_mid_send, list(range(10)), threshold=2)


class _TwoArgError(Exception):
    """Pickles (as its one formatted argument) but does not unpickle: ``__init__`` takes two."""

    def __init__(self, file: str, line: int) -> None:
        super().__init__(f"{file}:{line}: bad")


def test_an_error_in_the_child_that_does_not_unpickle_keeps_its_message() -> None:
    def fail_in_child(items: Sequence[int]) -> list[int]:
        if 9 in items:
            raise _TwoArgError("a.yaml", 3)
        return list(items)

    with pytest.raises(UsageError, match=r"^_TwoArgError: a\.yaml:3: bad$"):
        in_two(fail_in_child, list(range(10)), threshold=2)
