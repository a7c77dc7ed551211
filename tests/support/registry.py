"""An OCI registry and Helm index of a dependency's own repository, served on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.support.helm_server import Request, listening

TOKEN = "anonymous-pull-token"


def helm_index(chart: str, versions: tuple[str, ...]) -> bytes:
    """A minimal Helm index (JSON is YAML) listing ``versions`` of ``chart``."""
    entries = [{"name": chart, "version": v, "appVersion": v, "urls": []} for v in versions]
    return json.dumps({"apiVersion": "v1", "entries": {chart: entries}}).encode()


@dataclass
class Registry:
    """Repositories -> pages of tags. With ``token`` set, tag lists answer 401 plus a Bearer
    challenge until that token (issued by ``/token``) is presented, like ghcr.io."""

    pages: dict[str, list[list[str]]]
    token: str | None = TOKEN
    token_status: int = 200
    token_field: str = "token"
    endless: bool = False  # every page links to another one
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def token_requests(self) -> list[dict[str, list[str]]]:
        return [
            parse_qs(urlparse(r.path).query) for r in self.requests if r.path.startswith("/token")
        ]

    def tag_requests(self) -> list[Request]:
        return [r for r in self.requests if "/tags/list" in r.path]


def _registry_handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            registry.requests.append(Request("GET", self.path, headers))
            url = urlparse(self.path)
            if url.path == "/token":
                self._token()
            elif url.path.startswith("/v2/") and url.path.endswith("/tags/list"):
                name = url.path.removeprefix("/v2/").removesuffix("/tags/list")
                page = int(parse_qs(url.query).get("page", ["0"])[0])
                self._tags(name, page, headers.get("authorization"))
            else:
                self._send(404, {"errors": [{"code": "NOT_FOUND"}]})

        def _token(self) -> None:
            body = {registry.token_field: registry.token} if registry.token_status == 200 else {}
            self._send(registry.token_status, body)

        def _tags(self, name: str, page: int, authorization: str | None) -> None:
            if registry.token and authorization != f"Bearer {registry.token}":
                realm = f"http://{registry.host}/token"
                challenge = (
                    f'Bearer realm="{realm}",service="test-registry",scope="repository:{name}:pull"'
                )
                self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]}, challenge=challenge)
                return
            pages = registry.pages.get(name)
            if pages is None:
                self._send(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
                return
            tags = pages[page] if page < len(pages) else []
            link = None
            if registry.endless or page + 1 < len(pages):
                # Relative, as registries send it: the client resolves it against the request.
                link = f'</v2/{name}/tags/list?page={page + 1}>; rel="next"'
            self._send(200, {"name": name, "tags": tags}, link=link)

        def _send(
            self,
            status: int,
            body: object,
            challenge: str | None = None,
            link: str | None = None,
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if challenge:
                self.send_header("WWW-Authenticate", challenge)
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve_registry(registry: Registry) -> Iterator[Registry]:
    with listening(_registry_handler(registry)) as registry.port:
        yield registry
