"""A Helm repository whose URL carries its credential: a token as the query (a signed or
token-checked URL) or as the user name (``https://<token>@host``). It is fetched as Helm
fetches it, index and charts, and the credential is never printed nor committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fluxbump.crds.archives import resolve_chart_url
from fluxbump.errors import EXIT_RESOLUTION
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

TOKEN = "s3cr3t-T0KEN-value"


def _repository_under(prefix: str) -> dict[str, bytes]:
    """The local flux2 repository served under ``prefix`` (its chart URLs are relative)."""
    routes = flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"}))
    return {prefix + path: body for path, body in routes.items()}


def test_a_repository_whose_token_is_its_query_is_fetched_as_helm_fetches_it(
    tmp_path: Path,
) -> None:
    """``--helm-repo https://host/repo?token=…``: ``index.yaml`` was appended to the whole
    text, so the index was asked as ``/repo?token=…/index.yaml`` (the token's value broken, a
    404 here), never found. Helm asks ``/repo/index.yaml?token=…`` and the charts the index
    names relative to it with the same query; fluxbump now does, and prints neither the
    token nor commits it (the message names the index's URL without its query)."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(HelmServer(routes=_repository_under("/repo"))) as srv:
        helm_repo = f"{srv.url('/repo')}?token={TOKEN}"
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_repo)
        asked = [request.path for request in srv.requests]
    assert outcome.code == 0, outcome.stderr
    assert asked[0] == f"/repo/index.yaml?token={TOKEN}"
    assert f"/repo/charts/flux2-2.15.0.tgz?token={TOKEN}" in asked
    assert TOKEN not in outcome.stdout + outcome.stderr
    message = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%B"],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert f"index: {srv.url('/repo/index.yaml')})" in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("spelled", "named"),
    [
        ("http://{token}@127.0.0.1:{port}/missing", "http://***@127.0.0.1:{port}/missing"),
        ("http://127.0.0.1:{port}/missing?token={token}", "http://127.0.0.1:{port}/missing"),
    ],
    ids=["token-as-user", "token-as-query"],
)
def test_a_credential_in_the_repository_url_is_never_printed(spelled: str, named: str) -> None:
    """A repository answering 404: the message named the URL with its token (as the user
    name, which the scrub of ``user:password`` left alone; or inside the query)."""
    with serve(HelmServer(routes={})) as srv:
        helm_repo = spelled.format(token=TOKEN, port=srv.port)
        outcome = run_cli("resolve", "2.4.0", "--helm-repo", helm_repo)
    assert outcome.code == EXIT_RESOLUTION, outcome.stdout
    where = named.format(port=srv.port)
    assert outcome.stderr == f"error: {where}/index.yaml: HTTP 404 fetching the Helm index\n"


def test_the_query_goes_with_chart_urls_on_the_index_s_host_only() -> None:
    """A chart URL relative to the index gets its query, as Helm gives it; one naming another
    host (``//other/…``, relative to the scheme alone) or absolute never carries the token."""
    index = "https://charts.example/repo/index.yaml"
    query = f"token={TOKEN}"
    assert (
        resolve_chart_url(index, "c/a.tgz", query) == f"https://charts.example/repo/c/a.tgz?{query}"
    )
    assert resolve_chart_url(index, "//other.example/a.tgz", query) == "https://other.example/a.tgz"
    assert resolve_chart_url(index, "https://other.example/a.tgz", query) == (
        "https://other.example/a.tgz"
    )
