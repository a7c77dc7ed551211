"""Read-only commands without --offline: an index that cannot be fetched falls back to the
cache, then the bundled snapshot, with one warning; what that data cannot know is unproven."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.remote.http import TIMEOUT_ENV
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, make_fleet
from tests.support.helm_server import Fault, HelmServer, serve

SNAPSHOT_INDEX = (
    Path(__file__).resolve().parent.parent / "fluxbump/data/fluxcd-community-index-2026-04-15.yaml"
)
# The bundled snapshot's newest flux2 chart is 2.18.3 (Flux 2.8.5): these came later.
NEWER = {"flux_release": "2.9.0", "flux_chart": "2.19.0"}


@pytest.fixture
def down() -> str:
    """The URL of a Helm repository nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def failing() -> Iterator[HelmServer]:
    """A Helm repository that answers every request with HTTP 500."""
    with serve(HelmServer(routes={"/index.yaml": SNAPSHOT_INDEX.read_bytes()})) as server:
        server.faults += [Fault(status=500) for _ in range(30)]
        yield server


def cli(*args: str) -> Outcome:
    return run_cli(*args, env={TIMEOUT_ENV: "0.5"})


def warnings(outcome: Outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if line.startswith("warning: ")]


def test_check_with_the_repository_down_uses_the_snapshot_with_one_warning(
    tmp_path: Path, down: str
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    outcome = cli("check", "--repo", str(repo), "--helm-repo", down)
    assert outcome.code == 0, outcome.stderr
    # One warning about the index (the CRD schema check says apart that it had no archive).
    assert [w for w in warnings(outcome) if "index" in w] == [
        f"warning: {down}/index.yaml: cannot fetch the Helm index after 3 tries (ConnectError: "
        f"[Errno 111] Connection refused): no cached index for {down}/index.yaml; using the "
        "bundled snapshot of 2026-04-15 (releases after that date are unknown)"
    ]
    assert outcome.stdout.splitlines()[-1].startswith("check: consistent — ")


def test_a_release_newer_than_the_snapshot_is_unproven_not_a_violation(
    tmp_path: Path, failing: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **NEWER)
    outcome = cli("check", "--repo", str(repo), "--helm-repo", failing.base_url)
    assert outcome.code == 0, outcome.stdout
    assert "run 'fluxbump to" not in outcome.stdout
    [warning] = [w for w in warnings(outcome) if "index" in w]
    assert "HTTP 500" in warning
    summary = outcome.stdout.splitlines()[-1]
    assert summary.startswith("check: consistent — ")
    assert summary.endswith(
        f"1 cannot be proven: {fleet.WRAPPER_CHART}:10 (flux2 2.19.0 is not in bundled snapshot "
        "2026-04-15, which may predate it)"
    )


def test_status_marks_the_unknown_chart_unproven(tmp_path: Path, failing: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **NEWER)
    outcome = cli("status", "--json", "--repo", str(repo), "--helm-repo", failing.base_url)
    assert outcome.code == 0, outcome.stderr
    rows = [r for r in json.loads(outcome.stdout)["sites"] if r["role"] == "upstream dependency"]
    assert [(r["value"], r["ok"], r["proven"]) for r in rows] == [("2.19.0", True, False)]
    assert "bundled snapshot 2026-04-15" in rows[0]["unproven"]


def test_offline_says_the_same_instead_of_wrong_advice(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **NEWER)
    outcome = cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout
    assert "run 'fluxbump to" not in outcome.stdout
    assert "1 cannot be proven" in outcome.stdout


def test_a_real_violation_is_still_one_when_the_snapshot_knows_the_chart(
    tmp_path: Path, down: str
) -> None:
    # flux2 2.13.0 is in the snapshot (appVersion 2.3.0): cloud-init's v2.4.0 disagrees.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, flux_chart="2.13.0")
    outcome = cli("check", "--repo", str(repo), "--helm-repo", down)
    assert outcome.code == 1
    assert "flux2 2.13.0 carries appVersion 2.3.0" in outcome.stdout


def test_the_cache_serves_before_the_snapshot(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    assert cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0
    helm_server.faults += [Fault(status=500) for _ in range(3)]
    outcome = cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    [warning] = warnings(outcome)
    assert (
        f"HTTP 500): using cached index of {helm_server.base_url}/index.yaml (fetched " in warning
    )


def test_resolve_falls_back_and_names_a_release_the_snapshot_may_not_know(down: str) -> None:
    known = cli("resolve", "2.4.0", "--helm-repo", down)
    assert known.code == 0, known.stderr
    assert known.stdout.startswith("Flux v2.4.0 → flux2 chart 2.14.1 (index: bundled snapshot")
    newer = cli("resolve", "2.9.0", "--helm-repo", down)
    assert newer.code == 3
    assert (
        "bundled snapshot 2026-04-15 may predate it: cannot be proven without the live index"
        in newer.stderr
    )


def test_a_bump_never_falls_back(tmp_path: Path, down: str) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    outcome = cli("to", "2.4.0", "--dry-run", "--repo", str(repo), "--helm-repo", down)
    assert outcome.code == 3
    assert "cannot fetch the Helm index after 3 tries" in outcome.stderr


def test_an_index_generated_before_the_cached_copy_is_used_and_said(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """A mirror gone stale, or a repository rolled back, served an older index than the one
    cached from it: `resolve latest` named an older release, and `to latest` found nothing to
    do, without a word. It is still what the server serves (used, and cached), but said."""
    newer = helm_server.routes["/index.yaml"]
    first = cli("resolve", "latest", "--helm-repo", helm_server.base_url)
    assert first.code == 0 and warnings(first) == [], first.stderr
    older = newer.replace(
        b'"generated": "2026-04-15T05:03:54', b'"generated": "2026-03-01T10:00:00'
    )
    assert older != newer
    helm_server.routes["/index.yaml"] = older
    stale = cli("resolve", "latest", "--helm-repo", helm_server.base_url)
    assert stale.code == 0, stale.stderr
    assert warnings(stale) == [
        f"warning: {helm_server.base_url}/index.yaml: the index served was generated at "
        "2026-03-01 10:00:00 UTC, before the copy cached from it earlier (2026-04-15 05:03:54 "
        "UTC): a stale mirror or a rolled-back repository; releases published since may be "
        "missing from it"
    ]
    again = cli("resolve", "latest", "--helm-repo", helm_server.base_url)  # (304: the same)
    assert again.code == 0 and warnings(again) == [], again.stderr
