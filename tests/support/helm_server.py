"""A real HTTP server on 127.0.0.1 serving a Helm index (and any other files) for tests.

Each route holds a body; ETag/Last-Modified revalidation works as a real static host's
does. ``faults`` is a queue of responses served before the real one (500s, slow replies,
truncated bodies) so retry and error paths run against real sockets.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    status: int = 500
    delay: float = 0.0
    body: bytes = b"boom"
    truncate_to: int | None = None  # declare the full length, send only this many bytes
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After
    declare_length: bool = True  # False: no Content-Length, the body ends when the socket does
    declared: int | None = None  # a Content-Length of this many bytes, whatever is sent
    drip: float = 0.0  # seconds between single bytes of the body (a stalling, hostile server)
    drip_headers: bool = False  # drip the status line and headers too
    dripped: int = 0  # bytes dripped so far: a client that gave up early stops it short
    path: str | None = None  # only a request for this path meets the fault (None: any)
    before: Callable[[], object] | None = None  # run as the request arrives (another writer)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class HelmServer:
    routes: dict[str, bytes] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    tls: ssl.SSLContext | None = None  # serve https with this server context

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def bodies_sent(self) -> int:
        """How many 200 responses carried a body (304s do not)."""
        return sum(1 for r in self.requests if r.headers.get("x-served") == "200")


def _handler(server: HelmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            record = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
            server.requests.append(record)
            path = self.path.split("?")[0]
            fault = next((f for f in server.faults if f.path in (None, path)), None)
            if fault is not None:
                server.faults.remove(fault)
                self._fault(fault)
                return
            body = server.routes.get(self.path.split("?")[0])
            if body is None:
                self._send(404, b"not found")
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                record.headers["x-served"] = "304"
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            record.headers["x-served"] = "200"
            self._send(200, body, {"ETag": etag, "Last-Modified": "Wed, 15 Apr 2026 05:03:53 GMT"})

        def _fault(self, fault: Fault) -> None:
            if fault.before is not None:
                fault.before()
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drip:
                self._drip(fault)
                return
            if fault.truncate_to is not None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(fault.body)))
                self.end_headers()
                self.wfile.write(fault.body[: fault.truncate_to])
                self.wfile.flush()
                self.close_connection = True
                return
            if fault.declared is not None:
                self._lie(fault)
                return
            self._send(fault.status, fault.body, fault.headers, fault.declare_length)

        def _lie(self, fault: Fault) -> None:
            """The whole body under a Content-Length that says less (or more) of it."""
            self.send_response(fault.status)
            self.send_header("Content-Length", str(fault.declared))
            for key, value in fault.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(fault.body)
            self.wfile.flush()
            self.close_connection = True

        def _drip(self, fault: Fault) -> None:
            """One byte at a time until the client hangs up or the body is out."""
            pad = "".join(f"{key}: {value}\r\n" for key, value in fault.headers.items())
            head = f"HTTP/1.1 {fault.status} X\r\nContent-Length: {len(fault.body)}\r\n{pad}\r\n"
            if not fault.drip_headers:
                self.wfile.write(head.encode())
                head = ""
            self.close_connection = True
            try:
                for byte in head.encode() + fault.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    fault.dripped += 1
                    time.sleep(fault.drip)
            except OSError:
                return  # the client cut the connection: what a deadline does

        def _send(
            self,
            status: int,
            body: bytes,
            headers: dict[str, str] | None = None,
            declare_length: bool = True,
        ) -> None:
            self.send_response(status)
            if declare_length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.close_connection = True
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that stops reading (a size limit) is expected; a printed traceback
        would land in the output of the in-process command under test."""


@contextmanager
def listening(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """Serve ``handler`` on a free port of 127.0.0.1 for the ``with`` block; yields the port.
    Every test server (Helm repository, OCI registry, forge API) runs through this."""
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def serve(server: HelmServer) -> Iterator[HelmServer]:
    with listening(_handler(server), server.tls) as server.port:
        yield server
