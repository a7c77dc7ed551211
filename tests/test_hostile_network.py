"""A hostile or broken network, against a real 127.0.0.1 server.

Index cases go through the CLI (``fluxbump resolve 2.4.0 --helm-repo …``): a bad answer is
exit 3, one clear line, no traceback; an index that cannot be fetched (refused, timed out,
5xx, cut short) is retried, then ``resolve`` (read-only) falls back to the bundled snapshot
with one warning naming why. The cache never holds a bad body (a later good response is used).
Chart-archive cases go through ``crds.fetch_chart_archive``: a ResolutionError (exit 3) and
nothing cached or extracted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump.crds.archives import ArchiveLimits, fetch_chart_archive
from fluxbump.errors import EXIT_RESOLUTION, ResolutionError
from fluxbump.remote.http import TIMEOUT_ENV
from fluxbump.remote.index import MAX_INDEX_BYTES, parse_index
from tests.adversarial.harness import git_state
from tests.support.cli_runner import Outcome, run_cli, run_process
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import Fault, HelmServer, serve

INDEX = b"""apiVersion: v1
entries:
  flux2:
    - name: flux2
      version: 2.14.1
      appVersion: 2.4.0
      urls: [https://example.invalid/flux2-2.14.1.tgz]
"""


def _alias_bomb(levels: int = 12) -> bytes:
    """A "billion laughs" index: each level lists the previous one 9 times (9**12 leaves)."""
    lines = ["apiVersion: v1", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]")
    lines.append(f"entries: {{flux2: [*l{levels - 1}]}}")
    return ("\n".join(lines) + "\n").encode()


ALIAS_BOMB = _alias_bomb()


@pytest.fixture
def server() -> Iterator[HelmServer]:
    with serve(HelmServer(routes={"/index.yaml": INDEX})) as srv:
        yield srv


def resolve(url: str, *extra: str) -> Outcome:
    return run_cli("resolve", "2.4.0", "--helm-repo", url, *extra, env={TIMEOUT_ENV: "0.3"})


def cached_files(tmp_path: Path) -> list[str]:
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def assert_exit_3(outcome: Outcome, *says: str) -> None:
    assert outcome.code == EXIT_RESOLUTION, (outcome.stdout, outcome.stderr)
    assert outcome.stdout == ""
    message = outcome.stderr.rstrip("\n")
    assert "\n" not in message and message.startswith("error: "), message
    assert "Traceback" not in message
    for fragment in says:
        assert fragment in message, message


def assert_fell_back(outcome: Outcome, tmp_path: Path, *says: str) -> None:
    """Retried, then answered from the bundled snapshot with one warning; nothing cached."""
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("Flux v2.4.0 → flux2 chart 2.14.1 (index: bundled snapshot")
    [warning] = outcome.stderr.splitlines()
    assert warning.startswith("warning: ") and "using the bundled snapshot" in warning
    for fragment in says:
        assert fragment in warning, warning
    assert [f for f in cached_files(tmp_path) if f.startswith("index-")] == []


def assert_good_response_used(server: HelmServer, tmp_path: Path) -> None:
    """The bad body was never cached: the next run fetches (200, not 304) and resolves."""
    sent = server.bodies_sent()
    outcome = resolve(server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("Flux v2.4.0 → flux2 chart 2.14.1")
    assert server.bodies_sent() == sent + 1


def test_connection_refused_falls_back_after_retries(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = resolve(f"http://127.0.0.1:{port}")
    assert_fell_back(
        outcome, tmp_path, f"http://127.0.0.1:{port}/index.yaml", "after 3 tries", "ConnectError"
    )


def test_timeout_is_retried_then_falls_back(server: HelmServer, tmp_path: Path) -> None:
    server.faults += [Fault(status=200, delay=1.0, body=INDEX) for _ in range(3)]
    # A subprocess: the server thread's own broken-pipe noise must not mix into its stderr.
    outcome = run_process("resolve", "2.4.0", "--helm-repo", server.base_url,
                          env={TIMEOUT_ENV: "0.3"})  # fmt: skip
    assert_fell_back(outcome, tmp_path, "after 3 tries", "Timeout")
    assert len(server.requests) == 3
    assert_good_response_used(server, tmp_path)


def test_5xx_then_success_is_used(server: HelmServer) -> None:
    server.faults += [Fault(status=503), Fault(status=502)]
    outcome = resolve(server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert len(server.requests) == 3


def test_5xx_every_time_falls_back(server: HelmServer, tmp_path: Path) -> None:
    server.faults += [Fault(status=500) for _ in range(3)]
    assert_fell_back(resolve(server.base_url), tmp_path, "after 3 tries (HTTP 500)")


def test_an_endless_redirect_is_a_network_failure_not_a_crash(
    server: HelmServer, tmp_path: Path
) -> None:
    """A server redirecting to itself: ``resolve`` falls back, ``to`` exits 3 having written
    nothing. Both ended in exit 70, "unexpected error (TooManyRedirects: …)"."""
    loop = Fault(status=302, body=b"", headers={"Location": "/index.yaml"})
    server.faults += [loop] * 100
    assert_fell_back(resolve(server.base_url), tmp_path, "TooManyRedirects")
    assert len(server.requests) == 21  # httpx's 20 redirects; never retried
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url)
    assert_exit_3(outcome, f"{server.url('/index.yaml')}: cannot fetch the Helm index",
                  "TooManyRedirects")  # fmt: skip
    assert git_state(repo) == before


def test_404_is_exit_3_at_once(server: HelmServer) -> None:
    outcome = resolve(server.url("/nope/index.yaml"))
    assert_exit_3(outcome, "/nope/index.yaml: HTTP 404")
    assert len(server.requests) == 1  # a 4xx is an answer, not a glitch: no retry


def chunked_cut(body: bytes) -> Fault:
    """``body`` in one chunk of HTTP/1.1 chunked framing, the connection closed before the
    last (empty) chunk that ends the message."""
    framed = f"{len(body):x}\r\n".encode() + body + b"\r\n"
    return Fault(status=200, body=framed, declare_length=False,
                 headers={"Transfer-Encoding": "chunked"})  # fmt: skip


@pytest.mark.parametrize("cut", ["content-length", "chunked"])
def test_truncated_body_is_retried_then_falls_back(
    server: HelmServer, tmp_path: Path, cut: str
) -> None:
    """Fewer bytes than Content-Length said, or chunks without their last one."""
    short = Fault(status=200, body=INDEX, truncate_to=20)
    server.faults += [short if cut == "content-length" else chunked_cut(INDEX[:20])] * 3
    assert_fell_back(resolve(server.base_url), tmp_path, "after 3 tries")
    assert_good_response_used(server, tmp_path)


def test_truncated_once_then_whole_is_used(server: HelmServer) -> None:
    server.faults.append(Fault(status=200, body=INDEX, truncate_to=20))
    assert resolve(server.base_url).code == 0


def cut_gzip(body: bytes) -> bytes:
    """``body`` up to its third line, gzip-compressed as a server sends it, the stream ending
    there: no end-of-stream block, no CRC and length trailer (a transfer cut mid-way)."""
    head = b"".join(body.splitlines(keepends=True)[:3])
    packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return packer.compress(head) + packer.flush(zlib.Z_SYNC_FLUSH)


GZIPPED = {"Content-Encoding": "gzip"}


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_a_gzip_body_cut_short_is_retried_then_falls_back_and_never_cached(
    server: HelmServer, tmp_path: Path
) -> None:
    """A gzip-encoded index whose stream stops early, its Content-Length the bytes sent:
    httpx passed on what it had inflated as the whole body ('apiVersion: v1', 'entries:',
    '  flux2:', a valid index without charts), so resolve said no chart (exit 3) and the
    cut index was cached under the server's ETag, every later run revalidating it (304)."""
    etag = '"' + hashlib.sha256(INDEX).hexdigest()[:16] + '"'  # the server's for the whole
    cut = Fault(status=200, body=cut_gzip(INDEX), headers={**GZIPPED, "ETag": etag})
    server.faults += [cut] * 3
    assert_fell_back(resolve(server.base_url), tmp_path, "after 3 tries", "gzip")
    assert len(server.requests) == 3
    assert_good_response_used(server, tmp_path)


def test_a_gzip_body_cut_short_once_then_whole_is_used(server: HelmServer) -> None:
    server.faults += [Fault(status=200, body=cut_gzip(INDEX), headers=GZIPPED),
                      Fault(status=200, body=gzip.compress(INDEX), headers=GZIPPED)]  # fmt: skip
    outcome = resolve(server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("Flux v2.4.0 → flux2 chart 2.14.1 (index: http")
    assert len(server.requests) == 2


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html><body>Sign in to continue</body></html>", "not a Helm repository index"),
        (b"entries: [unclosed\n", "index is not valid YAML"),
        (b"\xff\xfe\x00garbage\x00", "index is not UTF-8 text"),
        (b"[" * 500, "nested too deeply"),
        (ALIAS_BOMB, "index uses YAML aliases"),
        (b"apiVersion: v1\nentries: {}\nx: " + b"9" * 5000, "index is not valid YAML (Exceeds"),
        (b"apiVersion: v1\nentries: {}\nx: !!bool maybe\n", "index is not valid YAML ('maybe'"),
    ],
    ids=["html", "bad-yaml", "binary", "deep-nesting", "alias-bomb", "huge-integer", "bad-bool"],
)
def test_bad_body_is_exit_3_and_never_cached(
    server: HelmServer, tmp_path: Path, body: bytes, says: str
) -> None:
    server.faults.append(Fault(status=200, body=body))
    assert_exit_3(resolve(server.base_url), says)
    assert cached_files(tmp_path) == []
    assert_good_response_used(server, tmp_path)


def test_bad_body_does_not_replace_a_good_cached_index(server: HelmServer, tmp_path: Path) -> None:
    assert resolve(server.base_url).code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "cache").iterdir()}
    server.faults.append(Fault(status=200, body=b"<html>captive portal</html>"))
    assert_exit_3(resolve(server.base_url), "not a Helm repository index")
    assert {p.name: p.read_bytes() for p in (tmp_path / "cache").iterdir()} == before
    offline = resolve(server.base_url, "--offline")
    assert offline.code == 0 and "using cached index" in offline.stderr


def test_alias_bomb_is_refused_before_expansion() -> None:
    """9**12 nodes if expanded: the refusal must come from the event stream, not a load."""
    import resource
    import time

    start, peak = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ResolutionError, match="aliases"):
        parse_index(ALIAS_BOMB.decode(), "bomb")
    assert time.monotonic() - start < 5
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown_kib < 64 * 1024


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip-encoded"])
def test_index_over_the_size_limit_is_exit_3(
    server: HelmServer, tmp_path: Path, gzipped: bool
) -> None:
    """Capped on the bytes inflated too: a gzip-encoded body of 33 KiB unpacks to 32 MiB."""
    big = INDEX + b"#" * (MAX_INDEX_BYTES + 1) + b"\n"
    body, headers = (gzip.compress(big), GZIPPED) if gzipped else (big, {})
    server.faults.append(Fault(status=200, body=body, headers=headers, path="/big/index.yaml"))
    repo = make_fleet(tmp_path / "fleet", INCIDENT, git=False)
    argv = ("to", "2.4.0", "--dry-run", "--no-git", "--repo", str(repo))  # never falls back
    outcome = run_cli(*argv, "--helm-repo", server.url("/big/index.yaml"))
    assert_exit_3(outcome, f"cannot fetch the Helm index: larger than {MAX_INDEX_BYTES} bytes")
    assert cached_files(tmp_path) == []


def test_bad_timeout_setting_is_a_usage_error(server: HelmServer) -> None:
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", server.base_url,
                      env={TIMEOUT_ENV: "soon"})  # fmt: skip
    assert outcome.code == 2 and f"{TIMEOUT_ENV}='soon'" in outcome.stderr


# --- chart archives ------------------------------------------------------------------------

SMALL_LIMITS = ArchiveLimits(archive_bytes=1024 * 1024, member_bytes=256 * 1024,
                             total_bytes=1024 * 1024, members=100)  # fmt: skip


def targz(
    members: dict[str, bytes] | list[tuple[str, bytes]],
    special: list[tarfile.TarInfo] = (),  # type: ignore[assignment]
) -> bytes:
    """A .tgz of ``members`` (a list: one name may come twice), then ``special`` entries."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items() if isinstance(members, dict) else members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in special:
            tar.addfile(info)
    return buffer.getvalue()


GOOD = targz({"flux2/Chart.yaml": b"name: flux2\nversion: 1.0.0\nappVersion: 2.4.0\n"})


def link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


def chart_index(server: HelmServer, digest: str) -> str:
    return f"""apiVersion: v1
entries:
  flux2:
    - name: flux2
      version: 1.0.0
      appVersion: 2.4.0
      digest: {digest}
      urls: [{server.url("/flux2-1.0.0.tgz")}]
"""


@pytest.fixture
def chart_server() -> Iterator[HelmServer]:
    with serve(HelmServer(routes={"/flux2-1.0.0.tgz": GOOD})) as srv:
        yield srv


def fetch(server: HelmServer, body: bytes) -> bytes:
    """Serve ``body`` with an index whose digest matches it; fetch it through crds."""
    server.routes["/flux2-1.0.0.tgz"] = body
    index = parse_index(chart_index(server, hashlib.sha256(body).hexdigest()), server.base_url)
    return fetch_chart_archive(index, "flux2", "1.0.0", offline=False, limits=SMALL_LIMITS)


GZIP_BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB from ~64 KiB


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (targz({"flux2/../../etc/cron.d/x": b"* * * * * root sh\n"}), "'..' path component"),
        (targz({"/etc/passwd": b"root::0:0::/:/bin/sh\n"}), "absolute path"),
        (targz({}, [link("flux2/templates/x.yaml", "/etc/shadow")]), "link"),
        (GZIP_BOMB, "unpacks to more than"),
        (b"\x1f\x8b not really gzip", "not a gzip archive"),
    ],
    ids=["dot-dot", "absolute", "symlink", "gzip-bomb", "garbage"],
)
def test_unsafe_archive_is_refused_and_not_cached(
    chart_server: HelmServer, tmp_path: Path, body: bytes, says: str
) -> None:
    with pytest.raises(ResolutionError, match=says) as info:
        fetch(chart_server, body)
    assert info.value.exit_code == EXIT_RESOLUTION
    assert cached_files(tmp_path) == []
    assert not any(tmp_path.rglob("passwd")) and not any(tmp_path.rglob("shadow"))
    assert fetch(chart_server, GOOD) == GOOD  # the cache was not poisoned


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_wrong_digest_is_refused_and_a_later_good_body_is_used(
    chart_server: HelmServer, tmp_path: Path
) -> None:
    index = parse_index(chart_index(chart_server, hashlib.sha256(GOOD).hexdigest()), "x")
    chart_server.routes["/flux2-1.0.0.tgz"] = targz({"flux2/Chart.yaml": b"name: evil\n"})
    with pytest.raises(ResolutionError, match="digest mismatch") as info:
        fetch_chart_archive(index, "flux2", "1.0.0", offline=False, limits=SMALL_LIMITS)
    assert info.value.exit_code == EXIT_RESOLUTION
    assert cached_files(tmp_path) == []
    chart_server.routes["/flux2-1.0.0.tgz"] = GOOD
    assert fetch_chart_archive(index, "flux2", "1.0.0", offline=False, limits=SMALL_LIMITS) == GOOD
    assert cached_files(tmp_path) == [f"{hashlib.sha256(GOOD).hexdigest()}.tgz"]


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_archive_over_the_size_limit_is_refused(chart_server: HelmServer, tmp_path: Path) -> None:
    big = GOOD + b"\0" * SMALL_LIMITS.archive_bytes
    with pytest.raises(ResolutionError, match="larger than"):
        fetch(chart_server, big)
    assert cached_files(tmp_path) == []


def test_an_index_whose_app_version_the_archive_contradicts_is_refused_by_to(
    tmp_path: Path,
) -> None:
    """The index says flux2 2.14.1 ships Flux 2.5.0; the chart it serves (digest matching)
    declares appVersion 2.4.0 in its Chart.yaml, which is what Helm deploys. ``to 2.5.0``
    wrote cloud-init 2.5.0 beside chart 2.14.1 and its gate passed: the incident itself."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    for entry in index["entries"]["flux2"]:
        if entry["version"] == "2.14.1":
            entry["appVersion"] = "2.5.0"
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes)) as srv:
        outcome = run_cli("to", "2.5.0", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert outcome.code == EXIT_RESOLUTION, outcome.stdout
    assert outcome.stderr == (
        f"error: {srv.url('/charts/flux2-2.14.1.tgz')}: chart flux2 2.14.1 declares appVersion "
        f"2.4.0 in its Chart.yaml, but the Helm index {srv.base_url}/index.yaml lists it with "
        "2.5.0; one of them was altered (a mirror or proxy rewrote it?): refusing the chart\n"
    )
    assert git_state(repo) == before


def routes_serving(version: str, app_version: str, body: bytes) -> dict[str, bytes]:
    """A local flux2 repository whose chart ``version`` (listed, or added) is ``body``, its
    index entry's digest matching it."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    entry = next((e for e in charts if e["version"] == version), None)
    if entry is None:
        entry = {**charts[0], "version": version, "urls": [f"charts/flux2-{version}.tgz"]}
        charts.insert(0, entry)
    entry.update(appVersion=app_version, digest=hashlib.sha256(body).hexdigest())
    routes["/index.yaml"] = json.dumps(index).encode()
    routes["/" + entry["urls"][0]] = body
    return routes


def assert_to_refused(tmp_path: Path, routes: dict[str, bytes], release: str, *says: str) -> None:
    """``to release`` against ``routes`` served on 127.0.0.1: exit 3, one line saying each of
    ``says`` (``{base}`` in them is the server's URL), the repository and git as they were."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes)) as srv:
        outcome = run_cli("to", release, "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, *(said.format(base=srv.base_url) for said in says))
    assert git_state(repo) == before


def flux2_crds() -> bytes:
    """The CRDs of the local repository's flux2 2.15.0 chart (tests/support/helm_repo)."""
    charts = flux_repo_routes(keep=frozenset({"2.15.0"}))
    with tarfile.open(fileobj=io.BytesIO(charts["/charts/flux2-2.15.0.tgz"])) as tar:
        return tar.extractfile("flux2/templates/crds.yaml").read()  # type: ignore[union-attr]


def new_release_routes(release: str, crds: bytes | None = None) -> tuple[dict[str, bytes], str]:
    """The local flux2 repository with a chart ``release`` carrying Flux ``release``, one the
    bundled CRD catalog does not know (its archive is read before any write), holding
    ``crds`` (else 2.15.0's); and its archive's path."""
    chart = f"apiVersion: v2\nname: flux2\nversion: {release}\nappVersion: {release}\n"
    files = {"flux2/Chart.yaml": chart.encode(), "flux2/templates/crds.yaml": crds or flux2_crds()}
    return routes_serving(release, release, targz(files)), f"/charts/flux2-{release}.tgz"


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize(
    "chart_yaml",
    [None, b"- name: flux2\n", b"name: [flux2\n"],
    ids=["absent", "not-a-mapping", "not-yaml"],
)
def test_an_archive_without_a_readable_chart_yaml_is_refused_by_to(
    tmp_path: Path, chart_yaml: bytes | None
) -> None:
    """The index's flux2 2.15.0 entry names an archive whose digest matches but which holds
    no readable Chart.yaml at its top: Helm refuses to install it ("Chart.yaml file is
    missing"), so it is no chart 2.15.0. ``to 2.5.1`` pinned it and committed, exit 0."""
    crds = {"flux2/templates/crds.yaml": b"kind: ConfigMap\n"}
    body = targz(crds if chart_yaml is None else {"flux2/Chart.yaml": chart_yaml, **crds})
    assert_to_refused(tmp_path, routes_serving("2.15.0", "2.5.1", body), "2.5.1",
                      "{base}/charts/flux2-2.15.0.tgz: chart flux2 2.15.0 has no readable "
                      "Chart.yaml at its top")  # fmt: skip
    assert [name for name in cached_files(tmp_path) if name.endswith(".tgz")] == []


def test_a_new_chart_whose_crd_cannot_be_read_is_refused_not_called_a_removal(
    tmp_path: Path,
) -> None:
    """A chart release the bundled catalog does not know (2.99.0) whose first CRD document
    is not YAML: the guard read the other CRDs and called the unread one removed, exit 4,
    advising --force-unsafe-crds, which would install the broken chart. It is named, exit 3."""
    broken = flux2_crds().replace(b"metadata:", b"metadata: [oops", 1)
    routes, _ = new_release_routes("2.99.0", broken)
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes)) as srv:
        outcome = run_cli("to", "2.99.0", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, "error: flux2-2.99.0.tgz:flux2/templates/crds.yaml document 1: "
                  "skipped, not YAML", "cannot tell which API versions flux2 2.99.0 serves")  # fmt: skip
    assert git_state(repo) == before


def test_an_archive_of_another_chart_is_refused_by_to(tmp_path: Path) -> None:
    """The index's flux2 2.15.0 names, digest matching, an archive of another chart
    (ingress-nginx, same version and appVersion): Helm would deploy that chart as Flux.
    ``to 2.5.1`` pinned it and committed, exit 0."""
    chart = b"apiVersion: v2\nname: ingress-nginx\nversion: 2.15.0\nappVersion: 2.5.1\n"
    body = targz({"ingress-nginx/Chart.yaml": chart})
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes_serving("2.15.0", "2.5.1", body))) as srv:
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, "chart flux2 2.15.0 declares name ingress-nginx in its Chart.yaml, "
                  f"but the Helm index {srv.base_url}/index.yaml lists it with flux2")  # fmt: skip
    assert git_state(repo) == before


@pytest.mark.parametrize(
    ("entry_name", "chart_yaml", "says"),
    [
        ("ingress-nginx", b"name: ingress-nginx\nversion: 2.15.0\nappVersion: 2.5.1\n",
         "declares name ingress-nginx in its Chart.yaml, but the Helm index "
         "{base}/index.yaml lists it with flux2"),
        (None, b"name: ingress-nginx\nversion: 2.15.0\nappVersion: 2.5.1\n",
         "declares name ingress-nginx in its Chart.yaml, but the Helm index "
         "{base}/index.yaml lists it with flux2"),
        ("flux2", b"name: flux2\nversion: 2.15.0\n",
         "declares no appVersion in its Chart.yaml, but the Helm index {base}/index.yaml "
         "lists it with 2.5.1"),
        ("flux2", b"appVersion: 2.5.1\n",
         "chart flux2 2.15.0's Chart.yaml declares no name and no version, which Helm requires "
         "of every chart it loads, so it is no chart Helm installs"),
        ("flux2", b"name: flux2\nversion: ''\nappVersion: 2.5.1\n",
         "chart flux2 2.15.0's Chart.yaml declares no version, which Helm requires"),
    ],
    ids=["entry-named-as-the-other-chart", "entry-unnamed", "no-app-version", "no-name-version",
         "empty-version"],
)  # fmt: skip
def test_an_archive_the_flux2_entry_serves_must_be_a_flux2_chart_helm_loads(
    tmp_path: Path, entry_name: str | None, chart_yaml: bytes, says: str
) -> None:
    """The index's ``flux2`` entry 2.15.0 serves, digest matching, an archive whose Chart.yaml
    is no flux2 chart of that appVersion: the entry names the other chart it serves (or no
    chart at all), so the name check, made against the entry's own name, passed; or the
    Chart.yaml declares no appVersion, or no name or version (Helm refuses to load such a
    chart). ``to 2.5.1`` pinned each and committed, exit 0. Each is exit 3, nothing written."""
    body = targz({"chart/Chart.yaml": b"apiVersion: v2\n" + chart_yaml})
    routes = routes_serving("2.15.0", "2.5.1", body)
    index = json.loads(routes["/index.yaml"])
    entry = next(e for e in index["entries"]["flux2"] if e["version"] == "2.15.0")
    del entry["name"]
    if entry_name is not None:
        entry["name"] = entry_name
    routes["/index.yaml"] = json.dumps(index).encode()
    assert_to_refused(tmp_path, routes, "2.5.1", "error: {base}/charts/flux2-2.15.0.tgz: ", says)


@pytest.mark.parametrize("urls", [[None], [123], [""]], ids=["null", "number", "empty"])
def test_an_entry_whose_urls_are_no_text_names_no_download(
    tmp_path: Path, urls: list[object]
) -> None:
    """``urls: [null]`` was fetched as ``<repository>/None``: exit 3 on an HTTP 404 that
    did not say the index names no URL."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    next(e for e in index["entries"]["flux2"] if e["version"] == "2.15.0")["urls"] = urls
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes)) as srv:
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, "chart flux2 2.15.0: the index lists no download URL")
    assert git_state(repo) == before


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://[oops/flux2-2.15.0.tgz", "Invalid IPv6 URL"),
        ("http://example.invalid:eighty/flux2-2.15.0.tgz", "Port could not be cast"),
    ],
    ids=["bracket", "port"],
)
def test_an_entry_whose_url_does_not_parse_is_the_index_s_error(
    tmp_path: Path, url: str, why: str
) -> None:
    """The index names a chart URL urllib cannot split (an unclosed ``[``, a port that is no
    number): ``to 2.5.1`` wrote every pin, then its gate, fetching the archive to validate
    the Flux objects, ended in exit 70 (ValueError). It is exit 3 naming the URL."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    next(e for e in index["entries"]["flux2"] if e["version"] == "2.15.0")["urls"] = [url]
    routes["/index.yaml"] = json.dumps(index).encode()
    assert_to_refused(tmp_path, routes, "2.5.1", "error: chart flux2 2.15.0: the index "
                      f"{{base}}/index.yaml names {url}, which is no URL ({why}")  # fmt: skip


@pytest.mark.parametrize("where", ["/index.yaml", "/charts/flux2-2.14.1.tgz"])
def test_a_redirect_to_a_local_file_is_never_followed(tmp_path: Path, where: str) -> None:
    """The index, or a chart archive it names, answers 302 to ``file:///etc/passwd``: ``to``
    exits 3 naming the URL, reads no file, writes nothing."""
    to_file = Fault(status=302, body=b"", headers={"Location": "file:///etc/passwd"}, path=where)
    routes = flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"}))
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=dict(routes), faults=[to_file])) as srv:
        outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, f"error: {srv.url(where)}: cannot ", "unsupported protocol 'file://'")
    assert git_state(repo) == before


@pytest.mark.parametrize("second", ["flux2/./Chart.yaml", "other/Chart.yaml", "flux2/Chart.yaml"])
def test_an_archive_with_a_second_chart_yaml_helm_would_read_is_refused_by_to(
    tmp_path: Path, second: str
) -> None:
    """Helm loads each member as its path without the first folder, whatever that folder's
    name, and the last Chart.yaml it meets is the chart's. An archive holding flux2/Chart.yaml
    as the index lists it, then another Chart.yaml to Helm declaring appVersion 2.4.0: the
    check read the first, and ``to 2.5.1`` pinned a chart that deploys Flux 2.4.0, exit 0.
    The same path listed twice (``flux2/Chart.yaml`` again) was read as one member, the
    last: what Helm reads, but not what a reader taking the first does; refused alike."""
    listed = b"apiVersion: v2\nname: flux2\nversion: 2.15.0\nappVersion: 2.5.1\n"
    body = targz([("flux2/Chart.yaml", listed), (second, listed.replace(b"2.5.1", b"2.4.0"))])
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes_serving("2.15.0", "2.5.1", body))) as srv:
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, f"{srv.url('/charts/flux2-2.15.0.tgz')}: archive members "
                  f"'flux2/Chart.yaml' and '{second}' are one file to Helm ('Chart.yaml'): "
                  "refusing an archive whose chart depends on which one is read last")  # fmt: skip
    assert git_state(repo) == before


def test_a_crd_template_helm_would_read_from_another_member_is_refused(tmp_path: Path) -> None:
    """A new chart (2.99.0, which the bundled catalog does not know, so its CRDs are read from
    the archive) holding ``flux2/templates/crds.yaml`` and, after it, a decoy that Helm reads
    as the same template (``a/templates/crds.yaml``, no CRD in it): Helm renders the one it
    meets last, the decoy, so installs none of the CRDs, while fluxbump read them from the
    first and ``to 2.99.0`` judged and pinned the chart, exit 0. Exit 3, nothing written."""
    routes, archive = new_release_routes("2.99.0")
    with tarfile.open(fileobj=io.BytesIO(routes[archive])) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar if m.isreg()]  # type: ignore[union-attr]
    body = targz([*members, ("a/templates/crds.yaml", b"kind: ConfigMap\n")])
    assert_to_refused(tmp_path, routes_serving("2.99.0", "2.99.0", body), "2.99.0",
                      f"{{base}}{archive}: archive members 'flux2/templates/crds.yaml' and "
                      "'a/templates/crds.yaml' are one file to Helm ('templates/crds.yaml')")  # fmt: skip


CHART_2_15_0 = {
    "flux2/Chart.yaml": b"apiVersion: v2\nname: flux2\nversion: 2.15.0\nappVersion: 2.5.1\n"
}


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (targz({**CHART_2_15_0, "flux2/../../x.yaml": b"a: b\n"}), "'..' path component"),
        (targz({**CHART_2_15_0, "/tmp/x.yaml": b"a: b\n"}), "absolute path"),
        (targz(CHART_2_15_0, [link("flux2/templates/x.yaml", "/etc/shadow")]), "link"),
        (gzip.compress(b"\0" * (40 * 1024 * 1024)), "unpacks to more than"),
    ],
    ids=["dot-dot", "absolute", "symlink", "gzip-bomb"],
)
def test_an_unsafe_archive_the_index_names_is_refused_by_to(
    tmp_path: Path, body: bytes, says: str
) -> None:
    """What the archive reader refuses (above) ends ``to`` the same way: exit 3 naming the
    archive, nothing extracted or cached, the repository and git as they were."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=routes_serving("2.15.0", "2.5.1", body))) as srv:
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert_exit_3(outcome, f"error: {srv.url('/charts/flux2-2.15.0.tgz')}: ", says)
    assert git_state(repo) == before
    assert [name for name in cached_files(tmp_path) if name.endswith(".tgz")] == []
    assert not any(tmp_path.rglob("x.yaml"))


@pytest.mark.parametrize("coding", ["br", "deflate", "zstd", "gzip, br"])
def test_an_encoding_not_asked_for_is_named_with_what_to_do(
    server: HelmServer, tmp_path: Path, coding: str
) -> None:
    """fluxbump asks for gzip alone: a server (or a proxy) answering in another encoding is
    exit 3 at once, one line naming the encoding and what to do; resolve falls back."""
    said = (
        f"(Content-Encoding '{coding}', which was not asked for: fluxbump accepts gzip or no "
        "encoding; make the server, or a proxy on the way, honour Accept-Encoding: gzip)"
    )
    odd = Fault(status=200, body=b"\x8b\x00not gzip", headers={"Content-Encoding": coding})
    server.faults.append(odd)
    assert_fell_back(resolve(server.base_url), tmp_path, said)
    assert len(server.requests) == 1  # an answer, not a glitch: not tried again
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    server.faults.append(odd)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url)
    assert_exit_3(outcome, f"{server.url('/index.yaml')}: cannot fetch the Helm index {said}")
    assert git_state(repo) == before
