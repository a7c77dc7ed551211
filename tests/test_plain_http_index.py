"""A Helm index fetched over plain http from another machine can be rewritten by anyone on the
path, and with it the chart a bump pins: Helm allows it, so fluxbump does too, with one
warning naming the URL. The other machine is reached through a proxy on 127.0.0.1 (as a
corporate proxy forwards plain http), so no test leaves this machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.remote import index
from tests.adversarial.harness import git_state
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

HOST = "http://charts.example.test"
WARNING = (
    f"warning: {HOST}/index.yaml: the Helm index is fetched over plain http: anyone on the "
    "network path can change it, and so the chart versions pinned; use an https:// URL"
)


def _proxy() -> HelmServer:
    """A forward proxy holding the flux2 repository of ``HOST`` (its requests name the URL)."""
    routes = flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1"}))
    return HelmServer(routes={HOST + path: body for path, body in routes.items()})


def test_an_index_over_plain_http_is_used_with_one_warning(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(_proxy()) as proxy:
        env = {"HTTP_PROXY": proxy.base_url, "NO_PROXY": ""}
        status = run_cli("status", "--json", "--repo", str(repo), "--helm-repo", HOST, env=env)
        moved = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", HOST, env=env)
        assert f"{HOST}/index.yaml" in [r.path for r in proxy.requests]
    assert status.code == 0, status.stderr
    json.loads(status.stdout)  # (stdout stays one JSON document)
    assert status.stderr.splitlines().count(WARNING) == 1, status.stderr
    assert moved.code == 0, moved.stderr
    assert "committed" in moved.stdout
    assert moved.stderr.splitlines().count(WARNING) == 1, moved.stderr
    # The copy cached from it came over the same path.
    offline = run_cli("resolve", "2.4.0", "--offline", "--helm-repo", HOST)
    assert offline.code == 0, offline.stderr
    assert offline.stderr.splitlines().count(WARNING) == 1, offline.stderr


def test_an_index_over_plain_http_on_this_machine_is_not_warned_about(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    routes = flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1"}))
    with serve(HelmServer(routes=dict(routes))) as server:
        status = run_cli("status", "--repo", str(repo), "--helm-repo", server.base_url)
    assert status.code == 0, status.stderr
    assert "plain http" not in status.stderr
    assert git_state(repo) == before


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://charts.example.test/index.yaml", True),
        ("HTTP://10.0.0.1/charts/index.yaml", True),
        ("https://charts.example.test/index.yaml", False),
        ("http://127.0.0.1:8080/index.yaml", False),
        ("http://localhost/index.yaml", False),
        ("http://[::1]/index.yaml", False),
    ],
)
def test_only_plain_http_to_another_machine_is_warned_about(url: str, warned: bool) -> None:
    assert bool(index.plain_http(url)) is warned
