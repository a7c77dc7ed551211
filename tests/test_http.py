"""``fluxbump.remote.http``, the one HTTP policy, against hostile servers on 127.0.0.1.

Through the CLI where a user would meet the case (``resolve --helm-repo``: exit 3, one line,
nothing cached), and through ``http.get`` for the policy's edges. No test measures time: a
stalling server drips for far longer than the deadline it is given and counts what it got
to send, so a run that waited for the whole drip fails the test.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump.errors import EXIT_RESOLUTION, ResolutionError
from fluxbump.remote import http
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import Fault, HelmServer, serve

INDEX = b"""apiVersion: v1
entries:
  flux2:
    - {name: flux2, version: 2.14.1, appVersion: 2.4.0, urls: [https://example.invalid/a.tgz]}
"""
# One byte every 50 ms: the body takes ~10 s, every single read is fast.
DRIP = 0.05
SLOW_BODY = INDEX + b"#" * 200 + b"\n"


def assert_exit_3(outcome: Outcome, says: str) -> None:
    """Exit 3 with one line on stderr naming the failure, nothing on stdout."""
    assert (outcome.code, outcome.stdout) == (EXIT_RESOLUTION, ""), outcome.stderr
    assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1
    assert says in outcome.stderr, outcome.stderr


def cached_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


@pytest.fixture
def server() -> Iterator[HelmServer]:
    with serve(HelmServer(routes={"/index.yaml": INDEX})) as srv:
        yield srv


@pytest.fixture(scope="module")
def _fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fleet(tmp_path_factory.mktemp("http") / "fleet", INCIDENT, git=False)


@pytest.fixture(autouse=True)
def _use_fleet(_fleet: Path) -> None:
    FLEET[:] = [_fleet]


FLEET: list[Path] = []


def resolve(server: HelmServer, **env: str) -> Outcome:
    """Fetch the server's index the way a bump does: read-only commands fall back to the
    bundled snapshot when the index cannot be fetched, ``to`` never does (exit 3)."""
    settings = {http.TIMEOUT_ENV: "2", **env}
    argv = ("to", "2.4.0", "--dry-run", "--no-git", "--repo", str(FLEET[0]))
    return run_cli(*argv, "--helm-repo", server.base_url, env=settings)


# --- the total deadline -------------------------------------------------------------------


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize("drip_headers", [False, True], ids=["body", "headers"])
def test_slow_drip_hits_the_deadline_and_nothing_is_cached(
    server: HelmServer, tmp_path: Path, drip_headers: bool
) -> None:
    padding = {"X-Padding": "p" * 300}  # headers alone drip for 15 s
    stall = Fault(status=200, body=SLOW_BODY, drip=DRIP, drip_headers=drip_headers, headers=padding)
    server.faults.append(stall)
    outcome = resolve(server, **{http.DEADLINE_ENV: "0.5"})
    assert 0 < stall.dripped < 100  # cut off at the deadline (~10 bytes), not waited out
    assert_exit_3(outcome, f"{server.base_url}/index.yaml: cannot fetch the Helm index")
    assert "within the 0.5 s deadline ($FLUXBUMP_HTTP_DEADLINE raises it)" in outcome.stderr
    assert len(server.requests) == 1  # the deadline is for the whole download: no retry
    assert cached_files(tmp_path) == []
    assert resolve(server).code == 0  # and the next, honest answer is used


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HelmServer, Path]]:
    """An https server on 127.0.0.1 with a throw-away certificate; yields it and the CA file."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serve(HelmServer(routes={"/index.yaml": INDEX}, tls=context)) as srv:
        yield srv, cert


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_slow_drip_over_tls_hits_the_deadline(
    tls_server: tuple[HelmServer, Path], tmp_path: Path
) -> None:
    """TLS wraps the socket in a new object: the watchdog must cut that one."""
    server, cert = tls_server
    padding = {"X-Padding": "p" * 300}
    stall = Fault(status=200, body=SLOW_BODY, drip=DRIP, drip_headers=True, headers=padding)
    server.faults.append(stall)
    env = {"SSL_CERT_FILE": str(cert), http.DEADLINE_ENV: "0.5"}
    outcome = resolve(server, **env)
    assert_exit_3(outcome, f"{server.base_url}/index.yaml: cannot fetch the Helm index")
    assert "within the 0.5 s deadline" in outcome.stderr
    assert 0 < stall.dripped < 100
    assert cached_files(tmp_path) == []
    assert resolve(server, SSL_CERT_FILE=str(cert)).code == 0  # https itself works


def test_a_retry_that_would_pass_the_deadline_is_not_waited_for(
    server: HelmServer, http_pauses: list[float]
) -> None:
    server.faults.append(Fault(status=503, headers={"Retry-After": "3600"}))
    outcome = resolve(server, **{http.DEADLINE_ENV: "5"})
    assert_exit_3(outcome, "no complete answer within the 5 s deadline")
    assert http_pauses == [] and len(server.requests) == 1


def test_bad_deadline_setting_is_a_usage_error(server: HelmServer) -> None:
    outcome = resolve(server, **{http.DEADLINE_ENV: "-1"})
    assert outcome.code == 2 and "FLUXBUMP_HTTP_DEADLINE='-1'" in outcome.stderr
    assert server.requests == []


# --- retries ---------------------------------------------------------------------------


@pytest.mark.cold_cache  # looks at the cache directory's files
@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_status_is_retried_then_one_line(
    server: HelmServer, tmp_path: Path, http_pauses: list[float], status: int
) -> None:
    server.faults += [Fault(status=status) for _ in range(3)]
    outcome = resolve(server)
    assert_exit_3(outcome, f"cannot fetch the Helm index after 3 tries (HTTP {status})")
    assert len(server.requests) == 3
    assert http_pauses == [0.4, 0.8]  # back-off between tries, none after the last
    assert cached_files(tmp_path) == []


def test_retry_after_is_honoured_up_to_the_cap(
    server: HelmServer, http_pauses: list[float]
) -> None:
    server.faults += [
        Fault(status=429, headers={"Retry-After": "2"}),
        Fault(status=429, headers={"Retry-After": "3600"}),
    ]
    outcome = resolve(server)
    assert outcome.code == 0, outcome.stderr
    assert http_pauses == [2.0, http.MAX_RETRY_AFTER]
    assert len(server.requests) == 3


def test_retry_after_as_a_date_in_the_past_waits_the_back_off(
    server: HelmServer, http_pauses: list[float]
) -> None:
    server.faults.append(
        Fault(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    assert resolve(server).code == 0
    assert http_pauses == [0.4]


def test_other_4xx_is_an_answer_not_retried(server: HelmServer, http_pauses: list[float]) -> None:
    server.faults.append(Fault(status=403, body=b"forbidden"))
    assert_exit_3(resolve(server), "index.yaml: HTTP 403 fetching the Helm index")
    assert len(server.requests) == 1 and http_pauses == []


# --- the size cap ------------------------------------------------------------------------


def test_body_without_content_length_is_capped_on_bytes_read(server: HelmServer) -> None:
    server.faults.append(Fault(status=200, body=b"x" * 5000, declare_length=False))
    with pytest.raises(ResolutionError) as caught:
        http.get(server.url("/index.yaml"), what="fetch the thing", max_bytes=1000)
    assert caught.value.exit_code == EXIT_RESOLUTION
    assert caught.value.message == (
        f"{server.url('/index.yaml')}: cannot fetch the thing: larger than 1000 bytes; refusing it"
    )
    assert len(server.requests) == 1  # an oversized answer is not retried


def test_body_at_the_cap_is_accepted(server: HelmServer) -> None:
    server.faults.append(Fault(status=200, body=b"x" * 1000, declare_length=False))
    reply = http.get(server.url("/index.yaml"), what="fetch the thing", max_bytes=1000)
    assert (reply.status, reply.body) == (200, b"x" * 1000)


# --- errors ----------------------------------------------------------------------------


def test_unsupported_scheme_is_one_line_exit_3() -> None:
    with pytest.raises(ResolutionError) as caught:
        http.get("ftp://127.0.0.1/index.yaml", what="fetch the thing", max_bytes=10)
    assert caught.value.message.startswith("ftp://127.0.0.1/index.yaml: cannot fetch the thing (")
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("http://127.9.9.9/x", True),
        ("http://[::1]:80/x", True),
        ("http://localhost/x", True),
        ("http://10.0.0.1/x", False),
        ("http://localhost.evil.example/x", False),
        ("http://127.0.0.1.nip.io/x", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert http.is_loopback(url) is loopback


# --- redirects ----------------------------------------------------------------------------


def test_a_redirect_from_https_to_plain_http_is_refused_before_it_is_followed(
    tls_server: tuple[HelmServer, Path], server: HelmServer
) -> None:
    """An https index answering 302 to ``http://192.0.2.1/…`` (a mirror's misconfiguration,
    or a way for whoever sits on that path to rewrite the index): httpx followed it in the
    clear. It is refused at the redirect, naming both ends, never retried; a redirect to
    plain http on this machine is still followed (loopback never crosses a network)."""
    tls, cert = tls_server
    away = Fault(status=302, body=b"", headers={"Location": "http://192.0.2.1/index.yaml"})
    tls.faults += [away] * 3
    env = {"SSL_CERT_FILE": str(cert), http.TIMEOUT_ENV: "0.3"}
    assert_exit_3(resolve(tls, **env),
                  f"error: {tls.base_url}/index.yaml: cannot fetch the Helm index (redirected "
                  "from https to http://192.0.2.1/index.yaml: refusing to leave TLS)")  # fmt: skip
    assert len(tls.requests) == 1
    home = Fault(status=302, body=b"", headers={"Location": server.url("/index.yaml")})
    tls.faults[:] = [home]
    assert resolve(tls, **env).code == 0
    assert [r.path for r in server.requests] == ["/index.yaml"]
