"""Where a chart archive may come from, and which local files are ever read (issue 18 item 4).

A remote index is data from the network: its ``urls`` must not make fluxbump read this
machine's files or leave TLS. Local files (a ``--helm-repo`` path, a chart a local index
names) must be regular files: ``/dev/zero`` never ends and a FIFO blocks its reader.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump.crds.archives import fetch_chart_archive, refuse_unsafe_source
from fluxbump.errors import EXIT_RESOLUTION, ResolutionError
from fluxbump.remote import files
from fluxbump.remote.index import HelmIndex, parse_index
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet
from tests.support.helm_repo import chart_archive, flux_repo_routes
from tests.support.helm_server import HelmServer, serve

PINNED = CONSISTENT.flux_chart  # the chart `check` validates HelmReleases against


def index_naming(base: str, url: str, digest: str = "") -> HelmIndex:
    text = (
        "apiVersion: v1\nentries:\n  flux2:\n"
        f"    - {{name: flux2, version: 1.0.0, appVersion: 2.4.0, digest: '{digest}', urls: ['{url}']}}\n"
    )
    return parse_index(text, base)


def refused(index: HelmIndex) -> ResolutionError:
    with pytest.raises(ResolutionError) as caught:
        fetch_chart_archive(index, "flux2", "1.0.0", offline=False)
    assert caught.value.exit_code == EXIT_RESOLUTION
    assert "\n" not in caught.value.message
    return caught.value


@pytest.fixture
def server() -> Iterator[HelmServer]:
    with serve(HelmServer()) as srv:
        yield srv


# --- a remote index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["file:///dev/zero", "FILE://localhost/etc/shadow", "http://example.invalid/flux2.tgz"],
    ids=["file-url", "file-url-with-host", "plain-http-elsewhere"],
)
def test_remote_index_cannot_name_local_files_or_plain_http(server: HelmServer, url: str) -> None:
    error = refused(index_naming(server.url("/index.yaml"), url))
    assert f"names {url}; refusing it" in error.message
    assert server.requests == []  # nothing fetched, nothing read


def test_relative_urls_of_a_remote_index_stay_on_its_server(server: HelmServer) -> None:
    """``../../etc/passwd`` is a URL on the index's own origin, never a local path."""
    error = refused(index_naming(server.url("/repo/index.yaml"), "../../etc/passwd"))
    assert error.message == f"chart flux2 1.0.0: HTTP 404 fetching {server.url('/etc/passwd')}"
    assert [r.path for r in server.requests] == ["/etc/passwd"]


def test_check_against_a_remote_index_naming_dev_zero_is_exit_3(
    tmp_path: Path, server: HelmServer
) -> None:
    routes = dict(flux_repo_routes())
    index = json.loads(routes["/index.yaml"])
    [entry] = [e for e in index["entries"]["flux2"] if str(e["version"]) == PINNED]
    entry["urls"], entry["digest"] = ["file:///dev/zero"], ""
    server.routes = {**routes, "/index.yaml": json.dumps(index).encode()}
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url)
    assert outcome.code == EXIT_RESOLUTION, outcome.stdout + outcome.stderr
    assert outcome.stderr.count("\n") == 1
    assert outcome.stderr.startswith(
        f"error: chart flux2 {PINNED}: the index {server.base_url}/index.yaml names "
        "file:///dev/zero; refusing it"
    )


@pytest.mark.parametrize(
    ("index_url", "chart_url"),
    [
        ("https://charts.example/index.yaml", "https://cdn.example/flux2.tgz"),
        ("https://charts.example/index.yaml", "http://127.0.0.1:8080/flux2.tgz"),
        ("http://charts.example:8080/index.yaml", "http://charts.example:8080/c/flux2.tgz"),
        ("/srv/repo/index.yaml", "/srv/repo/flux2.tgz"),
        ("/srv/repo/index.yaml", "file:///srv/repo/flux2.tgz"),
    ],
)
def test_allowed_sources(index_url: str, chart_url: str) -> None:
    refuse_unsafe_source(index_url, chart_url, "chart flux2 1.0.0")


@pytest.mark.parametrize(
    ("index_url", "chart_url"),
    [
        ("https://charts.example/index.yaml", "http://charts.example/flux2.tgz"),  # downgrade
        ("http://charts.example:8080/index.yaml", "http://charts.example:9090/flux2.tgz"),
        ("https://charts.example/index.yaml", "ftp://charts.example/flux2.tgz"),
        ("bundled snapshot 2026-04-15", "ftp://charts.example/flux2.tgz"),
    ],
)
def test_refused_sources(index_url: str, chart_url: str) -> None:
    with pytest.raises(ResolutionError, match="refusing it"):
        refuse_unsafe_source(index_url, chart_url, "chart flux2 1.0.0")


# --- local files: regular only, bounded ------------------------------------------------


def test_local_index_naming_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "flux2-1.0.0.tgz"
    os.mkfifo(fifo)  # opening it for reading without a writer would block forever
    error = refused(index_naming(str(tmp_path / "index.yaml"), "flux2-1.0.0.tgz"))
    assert error.message == (
        f"{fifo}: cannot read chart flux2 1.0.0: not a regular file "
        "(devices, FIFOs and directories are never read)"
    )


def test_local_index_naming_a_device_is_refused(tmp_path: Path) -> None:
    error = refused(index_naming(str(tmp_path / "index.yaml"), "file:///dev/zero"))
    assert error.message.startswith("/dev/zero: cannot read chart flux2 1.0.0: not a regular file")


def test_local_index_naming_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    body = chart_archive("1.0.0", "2.4.0", {})
    (tmp_path / "real.tgz").write_bytes(body)
    (tmp_path / "flux2-1.0.0.tgz").symlink_to(tmp_path / "real.tgz")
    digest = hashlib.sha256(body).hexdigest()
    index = index_naming(str(tmp_path / "index.yaml"), "flux2-1.0.0.tgz", digest)
    assert fetch_chart_archive(index, "flux2", "1.0.0", offline=False) == body


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_helm_repo_that_is_not_a_regular_file_is_exit_3(tmp_path: Path, kind: str) -> None:
    target = Path("/dev/zero") if kind == "device" else tmp_path / "index.yaml"
    if kind == "fifo":
        os.mkfifo(target)
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", str(target))
    assert outcome.code == EXIT_RESOLUTION, outcome.stderr
    assert outcome.stderr == (
        f"error: {target}: cannot read the Helm index: not a regular file "
        "(devices, FIFOs and directories are never read)\n"
    )


def test_local_index_over_the_cap_is_refused_on_bytes_read(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ResolutionError, match="larger than 1024 bytes; refusing it"):
        files.read_regular(big, what="read it", max_bytes=1024)
    assert files.read_regular(big, what="read it", max_bytes=2048) == b"x" * 2048
