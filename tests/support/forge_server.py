"""A GitHub/Gitea API served on 127.0.0.1 for the forge and scheduled-job tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fluxbump.remote.forge import (
    ForgeTarget,
    forge_for_remote,
)
from tests.support.helm_server import listening

TOKEN = "ghp_S3cr3tT0kenV4lue0123456789abcdefABCD"


PULLS = "/repos/acme/gitops/pulls"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers (Retry-After)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class ForgeServer:
    kind: str  # "github" | "gitea"
    pulls: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[Reply]] = field(default_factory=dict)  # by method, served first
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    echo_token: bool = (
        False  # put the token into each pull request's html_url, as a leaky proxy might
    )
    # The most a page holds whatever the client asks: GitHub's per_page cap, Gitea's
    # MAX_RESPONSE_ITEMS (50 unless its admin set another).
    page_cap: int = 0
    next_host: str = ""  # a Link: rel="next" on another host (a hostile or broken proxy)

    def __post_init__(self) -> None:
        self.page_cap = self.page_cap or (100 if self.kind == "github" else 50)

    @property
    def prefix(self) -> str:
        return "/api/v3" if self.kind == "github" else "/api/v1"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def env(self) -> dict[str, str]:
        name = "GITHUB_TOKEN" if self.kind == "github" else "GITEA_TOKEN"
        return {"FLUXBUMP_FORGE": self.kind, "FLUXBUMP_FORGE_API": self.api, name: TOKEN}

    def target(self) -> ForgeTarget:
        return forge_for_remote("git@example.test:acme/gitops.git", self.env())

    def add_pull(self, ref: str, owner: str = "acme", state: str = "open") -> dict[str, Any]:
        number = len(self.pulls) + 1
        pull = {
            "number": number,
            "state": state,
            "html_url": f"http://127.0.0.1:{self.port}/acme/gitops/pull/{number}"
            + (f"?access_token={TOKEN}" if self.echo_token else ""),
            "head": {"ref": ref, "repo": {"owner": {"login": owner}}},
            "base": {"ref": "main"},
        }
        self.pulls.append(pull)
        return pull

    def seen(self, method: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method]

    # -- the two endpoints -------------------------------------------------------------

    def list_pulls(self, query: dict[str, list[str]]) -> Reply:
        state = query.get("state", ["open"])[0]
        found = [p for p in self.pulls if state == "all" or p["state"] == state]
        if self.kind == "github" and "head" in query:
            owner, _, ref = query["head"][0].partition(":")
            found = [
                p
                for p in found
                if p["head"]["ref"] == ref and p["head"]["repo"]["owner"]["login"] == owner
            ]
        # Gitea has no head filter: it pages through every open pull request.
        size = "per_page" if self.kind == "github" else "limit"
        per_page = min(int(query.get(size, ["30"])[0]), self.page_cap)
        page = int(query.get("page", ["1"])[0])
        chunk = found[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(found)
        return Reply(200, json.dumps(chunk).encode(), self._next(query, page) if more else ())

    def _next(self, query: dict[str, list[str]], page: int) -> tuple[tuple[str, str], ...]:
        """The ``Link: <…>; rel="next"`` both forges send while pages remain."""
        params = {k: v[0] for k, v in query.items()} | {"page": str(page + 1)}
        host = self.next_host or f"127.0.0.1:{self.port}"
        url = f"http://{host}{self.prefix}{PULLS}?" + urlencode(params)
        return (("Link", f'<{url}>; rel="next"'),)

    def create_pull(self, body: Any) -> Reply:
        if not isinstance(body, dict) or not {"title", "head", "base"} <= body.keys():
            return Reply(422, json.dumps({"message": "Validation Failed"}).encode())
        pull = self.add_pull(body["head"])
        pull.update(title=body["title"], body=body.get("body", ""))
        pull["base"] = {"ref": body["base"]}
        return Reply(201, json.dumps(pull).encode())


def _handler(server: ForgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append(Seen(method, parts.path, query, headers, body))
            queued = server.faults.get(method)
            if queued:
                self._send(queued.pop(0))
            elif parts.path != server.prefix + PULLS:
                self._send(Reply(404, b'{"message": "Not Found"}'))
            elif method == "GET":
                self._send(server.list_pulls(query))
            else:
                self._send(server.create_pull(body))

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler


@contextmanager
def serve(server: ForgeServer) -> Iterator[ForgeServer]:
    with listening(_handler(server)) as server.port:
        yield server
