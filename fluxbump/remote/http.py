"""HTTP for every download and API call: one retry, deadline, size-cap and error policy.

The only module that imports httpx, and only inside the calls that use it, so commands that
never touch the network stay fast (tests/test_imports.py). The Helm index, chart archives,
upstream chart repositories, OCI registries and the forge API all go through ``Session``:

* **Retries.** A GET is tried ``ATTEMPTS`` times, with back-off, after a connection error, a
  timeout, a broken or truncated response, a 5xx, a 429 or a 403 with ``Retry-After``
  (GitHub's secondary rate limit); a ``Retry-After`` (seconds or a
  date) is honoured up to ``MAX_RETRY_AFTER`` seconds. Any other status is an answer, handed
  to the caller. A POST is tried once: it may have taken effect.
* **Time.** Every connect and read waits at most ``$FLUXBUMP_HTTP_TIMEOUT`` seconds, and each
  request, retries and back-off included, ends by a total deadline
  (``$FLUXBUMP_HTTP_DEADLINE``): a server dripping one byte every half second passes every
  read timeout, so a watchdog cuts its socket at the deadline.
* **Size.** A body is capped on the bytes actually read (a ``Content-Length`` over the cap is
  refused before reading; a lying one changes nothing), and a gzip body on what it inflates
  to. gzip is the only encoding asked for and is inflated here, its end checked: a stream
  cut short is a broken response, retried, and so is a body sent past its ``Content-Length``
  (the client stops at the declared length: its start would pass for the whole).
* **Redirects.** Followed for a GET (httpx's limit of 20), except from https to plain http
  off this machine: refused before it is followed.
* **Errors.** Every failure is a ``ResolutionError`` (exit 3): one line starting with the URL.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fluxbump import progress
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote import inflate

ATTEMPTS = 3
TIMEOUT_ENV = "FLUXBUMP_HTTP_TIMEOUT"
TIMEOUT_SECONDS = 15.0
DEADLINE_ENV = "FLUXBUMP_HTTP_DEADLINE"
# The 32 MiB index cap at 1 MiB/s with room for the retries; a stalled server ends far sooner.
DEADLINE_SECONDS = 120.0
# A server may ask for minutes of patience (Retry-After); a CLI run waits at most this per try.
MAX_RETRY_AFTER = 10.0
BACKOFF_SECONDS = 0.2
# The most either setting may say: a day. A larger number is a typo, and a huge one overflows
# the socket timer (an OverflowError in the middle of a download).
MAX_SECONDS = 24 * 60 * 60.0


@dataclass(frozen=True)
class Reply:
    """A complete response: final URL, status, lower-case headers, body, ``Link`` rels."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    links: Mapping[str, str] = field(default_factory=dict)  # rel -> URL (RFC 8288 paging)


def read_timeout() -> float:
    """``$FLUXBUMP_HTTP_TIMEOUT`` seconds per connect/read, else the default."""
    return _seconds(TIMEOUT_ENV, TIMEOUT_SECONDS)


def deadline() -> float:
    """``$FLUXBUMP_HTTP_DEADLINE`` seconds per request including retries, else the default."""
    return _seconds(DEADLINE_ENV, DEADLINE_SECONDS)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= MAX_SECONDS:
        raise UsageError(
            f"{name}={value!r}: expected a positive number of seconds, at most {MAX_SECONDS:.0f}"
        )
    return seconds


def is_loopback(url: str) -> bool:
    """Whether a URL's host is this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown(url: str) -> str:
    """An HTTP URL as messages name it: without its query, which may carry anything (a
    repository's token, a signed URL's signature). Any other text is returned whole."""
    if not url.lower().startswith(("http://", "https://")):
        return url
    return url.split("?", 1)[0]


def get(url: str, *, what: str, max_bytes: int, headers: Mapping[str, str] | None = None) -> Reply:
    """One GET in its own session (see ``Session.get``)."""
    with Session() as session:
        return session.get(url, what=what, max_bytes=max_bytes, headers=headers)


def _tls_context() -> Any:
    """The TLS context httpx builds for ``verify=True`` with ``trust_env`` ($SSL_CERT_FILE,
    else $SSL_CERT_DIR, else certifi's bundle), built once per process and setting: loading a
    CA bundle took ~25 ms, and one run opens several sessions (index, chart archive, release
    asset, forge API)."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context_for(cert_file: str | None, cert_dir: str | None) -> Any:
    import httpx

    return httpx.create_ssl_context(trust_env=True)  # reads the settings that key this cache


class Session:
    """A connection pool for related requests (tag-list pages, forge calls), one policy."""

    def __init__(self, *, base_url: str = "", headers: Mapping[str, str] | None = None) -> None:
        import httpx

        self._base_url = base_url
        self._client = httpx.Client(
            base_url=base_url,
            # gzip alone, inflated by ``_decoded`` (which sees a cut stream); none other is asked.
            headers={"Accept-Encoding": "gzip", **(headers or {})},
            timeout=read_timeout(),
            trust_env=True,
            verify=_tls_context(),
            event_hooks={"response": [_refuse_downgrade]},
        )
        self._sockets: list[socket.socket] = []
        self._wires: list[_Wire] = []

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        what: str,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Reply:
        """GET ``url`` (redirects followed) under the retry/deadline/size policy.

        ``what`` completes "cannot …" in messages, e.g. "fetch the Helm index".
        """
        where = self._where(url)
        request = _Request("GET", url, what, max_bytes, dict(headers or {}), params, None, where)
        return self._send(request)

    def post_json(
        self, url: str, payload: Mapping[str, str], *, what: str, max_bytes: int
    ) -> Reply:
        """POST a JSON body once (never retried, redirects not followed)."""
        return self._send(
            _Request("POST", url, what, max_bytes, {}, None, payload, self._where(url))
        )

    def _where(self, url: str) -> str:
        return shown(url if "://" in url else self._base_url.rstrip("/") + url)

    def _send(self, request: _Request) -> Reply:
        import httpx

        progress.step(progress.FETCHED)
        attempts = ATTEMPTS if request.method == "GET" else 1
        with _Watchdog(deadline(), self._sockets) as watchdog:
            for attempt in range(1, attempts + 1):
                try:
                    reply = self._once(request, watchdog)
                except (httpx.UnsupportedProtocol, httpx.TooManyRedirects) as exc:
                    raise request.failure(_why(exc)) from None  # a retry would do the same
                except _Downgrade as exc:
                    left = f"redirected from https to {exc}: refusing to leave TLS"
                    raise request.failure(left) from None
                except (httpx.TransportError, httpx.DecodingError) as exc:
                    watchdog.check(request)  # a socket cut by the watchdog is the deadline
                    if attempt == attempts:
                        raise request.failure(_why(exc), attempts) from None
                    watchdog.pause(_backoff(attempt), request)
                    continue
                except httpx.InvalidURL as exc:
                    raise request.failure(_why(exc)) from None
                if not _transient(reply) or attempts == 1:
                    return reply
                if attempt == attempts:
                    raise request.failure(f"HTTP {reply.status}", attempts)
                watchdog.pause(_retry_after(reply, attempt), request)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, request: _Request, watchdog: _Watchdog) -> Reply:
        """One try: stream the body, counting the bytes read against the cap."""
        with self._client.stream(
            request.method,
            request.url,
            headers=request.headers,
            params=request.params,
            json=request.payload,
            follow_redirects=request.method == "GET",
            extensions={"trace": self._trace},
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > request.max_bytes:
                raise request.too_big()
            chunks, size = [], 0
            for chunk in response.iter_raw():  # as sent: ``_decoded`` undoes the encoding
                watchdog.check(request)
                size += len(chunk)
                if size > request.max_bytes:
                    raise request.too_big()
                chunks.append(chunk)
            watchdog.check(request)  # a cut socket can look like the end of a body
            _refuse_past_length(response, size)
            encoding = response.headers.get("content-encoding", "")
            return Reply(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=_decoded(b"".join(chunks), encoding, request),
                links={str(rel): link["url"] for rel, link in response.links.items()},
            )

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """Remember each new connection's socket, for the watchdog to cut, and count what it
        reads (``_Wire``), from each request on."""
        # TLS wraps the TCP socket in a new object that owns the descriptor: keep that one too.
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._sockets.append(sock)
            if stream is not None:
                stream.read = _Wire(stream.read, self._wires)
        elif event.endswith(".send_request_headers.started"):
            for wire in self._wires:  # (one request at a time: the idle ones read nothing)
                wire.restart()


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    what: str
    max_bytes: int
    headers: dict[str, str]
    params: Mapping[str, str | int] | None
    payload: Mapping[str, str] | None
    where: str  # the absolute URL for messages, without the query (it may carry anything)

    def failure(self, detail: str, attempts: int = 1) -> ResolutionError:
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return ResolutionError(f"{self.where}: cannot {self.what}{tries} ({detail})")

    def too_big(self) -> ResolutionError:
        return ResolutionError(
            f"{self.where}: cannot {self.what}: larger than {self.max_bytes} bytes; refusing it"
        )

    def late(self, seconds: float) -> ResolutionError:
        return ResolutionError(
            f"{self.where}: cannot {self.what}: no complete answer within the {seconds:g} s "
            f"deadline (${DEADLINE_ENV} raises it)"
        )


class _Watchdog:
    """The total deadline of one request: checked between reads, enforced by a timer that
    shuts the connections down (a read that keeps receiving single bytes never times out)."""

    def __init__(self, seconds: float, sockets: list[socket.socket]) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.fired = False
        self._sockets = sockets
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def _cut(self) -> None:
        self.fired = True
        for sock in list(self._sockets):
            with contextlib.suppress(OSError, ValueError):  # already closed: nothing to cut
                _shutdown(sock.fileno())

    def check(self, request: _Request) -> None:
        if self.fired or time.monotonic() >= self.ends:
            raise request.late(self.seconds)

    def pause(self, seconds: float, request: _Request) -> None:
        """Wait before the next try, unless that would pass the deadline."""
        if time.monotonic() + seconds >= self.ends:
            raise request.late(self.seconds)
        _pause(seconds)


class _Downgrade(Exception):
    """A redirect from https to plain http off this machine; the message is its target."""


def _refuse_downgrade(response: Any) -> None:
    """Stop at a redirect from https to plain http (loopback aside), before it is followed:
    what the user named over TLS would come in the clear, for anyone on the path to rewrite
    (an index's appVersion and digest are what map a release to a chart)."""
    import httpx

    location = response.headers.get("location")
    if location is None or not response.is_redirect or response.url.scheme != "https":
        return
    try:
        target = response.url.join(location)
    except httpx.InvalidURL:
        return  # httpx refuses it next, as for any request
    if target.scheme == "http" and not is_loopback(str(target)):
        raise _Downgrade(str(target))


def _shutdown(fd: int) -> None:
    """shutdown(2) on a descriptor, leaving the socket objects (and a TLS layer over them)
    untouched: the blocked read sees the end of the stream and fails in the reading thread."""
    if fd < 0:
        return
    raw = socket.socket(fileno=fd)
    try:
        raw.shutdown(socket.SHUT_RDWR)
    finally:
        raw.detach()


class _Wire:
    """A connection's reads (its stream's ``read``), counted from its current request on: the
    response head's first bytes are kept to find where the body starts on the wire."""

    def __init__(self, read: Callable[..., bytes], wires: list[_Wire]) -> None:
        self._read = read
        self.head = bytearray()
        self.total = 0
        wires.append(self)

    def __call__(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._read(max_bytes, timeout)
        self.head += data[: _HEAD_BYTES - len(self.head)]
        self.total += len(data)
        return data

    def restart(self) -> None:
        self.head.clear()
        self.total = 0

    def body_bytes(self) -> int | None:
        """The bytes read after the final response's head (None: its end not among them)."""
        at = 0
        while (end := _head_end(self.head, at)) is not None:
            if not _INFORMATIONAL.match(self.head, at):  # (a 100 Continue comes before it)
                return self.total - end
            at = end
        return None


# Kept of a response's first reads to find its head's end: h11 refuses a longer head.
_HEAD_BYTES = 128 * 1024
_INFORMATIONAL = re.compile(rb"HTTP/1\.[01] 1[0-9][0-9]\b")


def _head_end(data: bytearray, at: int) -> int | None:
    """Where the body starts after the response head that begins at ``at``."""
    ends = [i + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (i := data.find(mark, at)) >= 0]
    return min(ends) if ends else None


def _refuse_past_length(response: Any, size: int) -> None:
    """A body sent past its Content-Length is a broken response (tried again): the client
    stops at the declared length, so a server that counts characters for bytes, or a proxy
    that lost count, handed on the start of the body as the whole of it (half an index that
    still parsed was cached as the whole). Only bytes already read are seen."""
    import httpx

    declared = response.headers.get("content-length", "")
    if not declared.isdigit() or "transfer-encoding" in response.headers:
        return  # (chunked framing on the wire is no body byte)
    wire = getattr(response.extensions.get("network_stream"), "read", None)
    sent = wire.body_bytes() if isinstance(wire, _Wire) else None
    if sent is not None and sent > size:
        raise httpx.RemoteProtocolError(
            f"the server sent more than its Content-Length of {declared} bytes"
        )


def _decoded(raw: bytes, encoding: str, request: _Request) -> bytes:
    """The body without its Content-Encoding, capped like the bytes read. gzip is inflated
    here, not by httpx: its decoder ends quietly where a cut stream stops, and half an index
    that still parsed was taken for the whole, cached, and revalidated (304) ever after. A
    cut stream is a broken response, tried again like a short one."""
    import httpx

    coding = encoding.strip().lower()
    if coding in ("", "identity") or not raw:  # (a 304 or HEAD carries the header, no body)
        return raw
    if coding not in ("gzip", "x-gzip"):
        raise request.failure(
            f"Content-Encoding {encoding!r}, which was not asked for: fluxbump accepts gzip or no "
            "encoding; make the server, or a proxy on the way, honour Accept-Encoding: gzip"
        )
    try:
        return inflate.gunzip(raw, request.max_bytes)
    except inflate.TooLarge:
        raise request.too_big() from None
    except (inflate.Truncated, inflate.NotGzip) as exc:
        raise httpx.DecodingError(f"gzip body: {exc}") from None


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _transient(reply: Reply) -> bool:
    """Worth another try: the server is overloaded, restarting or rate-limiting. GitHub's
    secondary rate limit is a 403 with ``Retry-After``; a 403 without it is a refusal."""
    status = reply.status
    return status >= 500 or status == 429 or (status == 403 and "retry-after" in reply.headers)


def _backoff(attempt: int) -> float:
    return float(BACKOFF_SECONDS * 2**attempt)


def _retry_after(reply: Reply, attempt: int) -> float:
    """The server's ``Retry-After`` (capped), else the back-off."""
    import email.utils

    value = reply.headers.get("retry-after", "").strip()
    wanted = 0.0
    if value.isdigit():
        wanted = float(value)
    elif value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            wanted = when.timestamp() - time.time()
        except (TypeError, ValueError):
            wanted = 0.0
    return min(max(wanted, _backoff(attempt)), MAX_RETRY_AFTER)


def _why(exc: Exception) -> str:
    """One line naming the failure: the class, and its first line of message if any."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
