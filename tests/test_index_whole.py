"""Network data is cached only when it is known to be whole (issue 23): a body without
Content-Length that a closed socket cut between two entries still parses, and must never
answer a later offline run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import INCIDENT, make_fleet, snapshot
from tests.support.helm_server import Fault, HelmServer, serve

SNAPSHOT_INDEX = (
    Path(__file__).resolve().parent.parent / "fluxbump/data/fluxcd-community-index-2026-04-15.yaml"
)


def cut_before_chart(text: str, version: str) -> str:
    """The index up to (not including) the list item of flux2 ``version``: valid YAML."""
    lines = text.splitlines(keepends=True)
    at = lines.index(f"    version: {version}\n")
    start = max(i for i in range(at) if lines[i].startswith("  - "))
    return "".join(lines[:start])


def resolve(server: HelmServer, *extra: str) -> Outcome:
    return run_cli("resolve", "2.4.0", "--helm-repo", server.base_url, *extra)


def cached_indexes(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache").glob("index-*.yaml"))


def test_a_cut_index_without_content_length_is_never_cached(tmp_path: Path) -> None:
    whole = SNAPSHOT_INDEX.read_text("utf-8")
    cut = cut_before_chart(whole, "2.14.1")
    with serve(HelmServer()) as server:
        server.faults.append(Fault(status=200, body=cut.encode(), declare_length=False))
        online = resolve(server)
    # Served once: the cut index has no chart for 2.4.0, and it proves no absence.
    assert online.code == 3, online.stderr
    assert cached_indexes(tmp_path) == []
    offline = resolve(server, "--offline")
    assert offline.code == 0, offline.stderr
    assert "2.14.1" in offline.stdout
    assert f"offline: no cached index for {server.base_url}/index.yaml" in offline.stderr


# (with lone CRs no line but the first began with a key to re.MULTILINE's ^: 'generated:'
# was not seen after the entries, and the whole index was never cached)
@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_a_whole_index_without_content_length_is_cached(tmp_path: Path, ending: bytes) -> None:
    whole = SNAPSHOT_INDEX.read_bytes().replace(b"\n", ending)  # ``generated:`` ends it
    with serve(HelmServer()) as server:
        server.faults.append(Fault(status=200, body=whole, declare_length=False))
        online = resolve(server)
        assert online.code == 0, online.stderr
        assert len(cached_indexes(tmp_path)) == 1
        offline = resolve(server, "--offline")
    assert offline.code == 0 and "2.14.1" in offline.stdout
    assert f"offline: using cached index of {server.base_url}/index.yaml" in offline.stderr


def test_a_cut_chart_archive_is_refused_and_never_cached(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The target chart's archive ends early without Content-Length: its digest proves it cut.
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before = snapshot(repo)
    route = "/charts/flux2-2.14.1.tgz"
    archive = helm_server.routes[route]
    cut = Fault(status=200, body=archive[: len(archive) // 2], declare_length=False, path=route)
    helm_server.faults.append(cut)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 3, outcome.stderr
    assert "chart flux2 2.14.1: digest mismatch" in outcome.stderr
    assert snapshot(repo) == before
    digest = hashlib.sha256(archive).hexdigest()
    assert not (tmp_path / "cache" / "charts" / f"{digest}.tgz").exists()
    again = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert again.code == 0, again.stderr  # nothing cut was kept to answer it
    assert (tmp_path / "cache" / "charts" / f"{digest}.tgz").read_bytes() == archive


def test_an_index_sent_past_its_content_length_is_refused_and_never_cached(
    tmp_path: Path,
) -> None:
    """A server whose Content-Length says less than it sends (a length counted in characters,
    a proxy that lost count): the client stops at the declared length, and the start of the
    index, cut between two entries, parsed. It was taken for the whole index: resolve said
    2.4.0 has no chart (the cut proved its absence), and the cut was cached for later runs."""
    whole = SNAPSHOT_INDEX.read_bytes()
    cut = cut_before_chart(whole.decode("utf-8"), "2.14.1").encode()
    lie = Fault(status=200, body=whole, declared=len(cut))
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before = snapshot(repo)
    with serve(HelmServer()) as server:
        server.faults += [lie] * 3
        online = resolve(server)
        server.faults += [lie] * 3
        bump = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url)
    says = (
        f"(RemoteProtocolError: the server sent more than its Content-Length of {len(cut)} bytes)"
    )
    assert online.code == 0 and "2.14.1" in online.stdout, online.stderr
    assert f"after 3 tries {says}" in online.stderr and "bundled snapshot" in online.stderr
    assert cached_indexes(tmp_path) == []
    assert bump.code == 3 and bump.stderr.count("\n") == 1, bump.stderr
    assert bump.stderr.startswith(f"error: {server.base_url}/index.yaml: cannot fetch the Helm")
    assert says in bump.stderr and "Traceback" not in bump.stderr
    assert snapshot(repo) == before
