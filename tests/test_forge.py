"""``fluxbump.remote.forge`` against a real 127.0.0.1 server speaking the GitHub and Gitea PR APIs.

The server implements the two endpoints fluxbump uses (list and create pull requests) for
both forges, records every request (method, path, query, headers, JSON body), and can be
told to fail with any status and body, including one that echoes the token back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from fluxbump.errors import EXIT_RESOLUTION, EXIT_USAGE, ResolutionError, UsageError
from fluxbump.remote.forge import (
    ForgeTarget,
    PullRequest,
    forge_for_remote,
    open_pull_request,
    token_for,
)
from tests.support.forge_server import TOKEN, ForgeServer, Reply, serve

HEAD = "fluxbump/flux-2.4.0"


@pytest.fixture
def github() -> Iterator[ForgeServer]:
    with serve(ForgeServer("github")) as server:
        yield server


@pytest.fixture
def gitea() -> Iterator[ForgeServer]:
    with serve(ForgeServer("gitea")) as server:
        yield server


def _open(server: ForgeServer, head: str = HEAD) -> PullRequest:
    return open_pull_request(
        server.target(),
        TOKEN,
        head=head,
        base="main",
        title="fluxbump: Flux v2.4.0 (flux2 chart 2.14.1)",
        body="body with $dollar and | pipe",
    )


# --- GitHub ----------------------------------------------------------------------------


def test_github_creates_a_pull_request(github: ForgeServer) -> None:
    pr = _open(github)

    assert pr == PullRequest(number=1, url=github.pulls[0]["html_url"], created=True)
    listed, created = github.requests
    assert (listed.method, listed.path) == ("GET", "/api/v3/repos/acme/gitops/pulls")
    assert listed.query["head"] == [f"acme:{HEAD}"]
    assert listed.query["state"] == ["open"]
    assert (created.method, created.path) == ("POST", "/api/v3/repos/acme/gitops/pulls")
    for request in (listed, created):
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
    assert created.headers["content-type"] == "application/json"
    assert created.body == {
        "title": "fluxbump: Flux v2.4.0 (flux2 chart 2.14.1)",
        "head": HEAD,
        "base": "main",
        "body": "body with $dollar and | pipe",
    }


def test_github_reuses_the_open_pull_request_for_the_head_branch(github: ForgeServer) -> None:
    first = _open(github)
    second = _open(github)

    assert second == PullRequest(number=first.number, url=first.url, created=False)
    assert len(github.seen("POST")) == 1
    assert len(github.seen("GET")) == 2


def test_github_ignores_closed_and_other_branches_and_forks(github: ForgeServer) -> None:
    github.add_pull(HEAD, state="closed")
    github.add_pull("renovate/flux2")
    github.add_pull(HEAD, owner="someone-else")

    pr = _open(github)

    assert pr.created is True
    assert pr.number == 4
    assert len(github.seen("POST")) == 1


# --- Gitea -----------------------------------------------------------------------------


def test_gitea_creates_a_pull_request(gitea: ForgeServer) -> None:
    gitea.add_pull("some/other-branch")

    pr = _open(gitea)

    assert pr == PullRequest(number=2, url=gitea.pulls[1]["html_url"], created=True)
    listed, created = gitea.requests
    assert (listed.method, listed.path) == ("GET", "/api/v1/repos/acme/gitops/pulls")
    assert listed.query["state"] == ["open"]
    assert (created.method, created.path) == ("POST", "/api/v1/repos/acme/gitops/pulls")
    for request in (listed, created):
        assert request.headers["authorization"] == f"token {TOKEN}"
        assert "x-github-api-version" not in request.headers
    assert created.body == {
        "title": "fluxbump: Flux v2.4.0 (flux2 chart 2.14.1)",
        "head": HEAD,
        "base": "main",
        "body": "body with $dollar and | pipe",
    }


def test_gitea_reuses_the_open_pull_request_found_by_head_ref(gitea: ForgeServer) -> None:
    first = _open(gitea)
    second = _open(gitea)

    assert second == PullRequest(number=first.number, url=first.url, created=False)
    assert len(gitea.seen("POST")) == 1


def test_gitea_pages_through_open_pull_requests(gitea: ForgeServer) -> None:
    for n in range(57):
        gitea.add_pull(f"feature/{n}")
    wanted = gitea.add_pull(HEAD)

    pr = _open(gitea)

    assert pr == PullRequest(number=wanted["number"], url=wanted["html_url"], created=False)
    # The first page as asked, the second by its Link: rel="next".
    assert [r.query.get("page") for r in gitea.seen("GET")] == [None, ["2"]]
    assert not gitea.seen("POST")


# --- failures --------------------------------------------------------------------------


def _echo(status: int, message: str) -> Reply:
    """An error body that echoes the token back, as a careless proxy or API might."""
    body = {
        "message": f"{message} (Authorization: Bearer {TOKEN})",
        "errors": [{"resource": "PullRequest", "message": f"token {TOKEN} rejected"}],
        "documentation_url": f"https://docs.example/?t={TOKEN}",
    }
    return Reply(status, json.dumps(body).encode())


@pytest.mark.parametrize("kind", ["github", "gitea"])
@pytest.mark.parametrize("status", [422, 500])
def test_create_failure_is_a_resolution_error_without_the_token(kind: str, status: int) -> None:
    with serve(ForgeServer(kind)) as server:
        server.faults["POST"] = [_echo(status, "Validation Failed")]
        with pytest.raises(ResolutionError) as caught:
            _open(server)
        assert len(server.seen("POST")) == 1  # a POST is never retried

    message = str(caught.value)
    assert TOKEN not in message
    assert TOKEN not in repr(caught.value)
    assert caught.value.exit_code == EXIT_RESOLUTION
    assert f"HTTP {status}" in message
    assert "Validation Failed" in message
    assert "***" in message
    assert "\n" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_list_failure_with_token_echo_is_scrubbed(github: ForgeServer) -> None:
    github.faults["GET"] = [_echo(401, "Bad credentials")]

    with pytest.raises(ResolutionError) as caught:
        _open(github)

    assert TOKEN not in str(caught.value)
    assert "HTTP 401: Bad credentials" in str(caught.value)
    assert not github.seen("POST")


def test_get_is_retried_on_5xx_then_succeeds(github: ForgeServer) -> None:
    github.faults["GET"] = [Reply(502, b"bad gateway")]

    pr = _open(github)

    assert pr.created is True
    assert len(github.seen("GET")) == 2


def test_get_gives_up_after_three_5xx(github: ForgeServer) -> None:
    github.faults["GET"] = [_echo(503, "unavailable") for _ in range(3)]

    with pytest.raises(ResolutionError, match="HTTP 503") as caught:
        _open(github)

    assert TOKEN not in str(caught.value)
    assert len(github.seen("GET")) == 3
    assert not github.seen("POST")


def test_non_json_success_is_a_resolution_error(gitea: ForgeServer) -> None:
    gitea.faults["GET"] = [Reply(200, f"<html>{TOKEN}</html>".encode())]

    with pytest.raises(ResolutionError, match="not JSON") as caught:
        _open(gitea)

    assert TOKEN not in str(caught.value)


def test_created_response_without_number_is_a_resolution_error(github: ForgeServer) -> None:
    github.faults["POST"] = [Reply(201, json.dumps({"html_url": TOKEN}).encode())]

    with pytest.raises(ResolutionError, match="no number") as caught:
        _open(github)

    assert TOKEN not in str(caught.value)


def test_connection_refused_is_a_resolution_error() -> None:
    with serve(ForgeServer("github")) as server:
        target = server.target()
    # the server is closed now: nothing listens on its port

    with pytest.raises(ResolutionError, match="GitHub API GET") as caught:
        open_pull_request(target, TOKEN, head=HEAD, base="main", title="t", body="b")

    assert TOKEN not in str(caught.value)


# --- where the pull request goes ------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "env", "expected"),
    [
        (
            "https://github.com/acme/gitops.git",
            {},
            ForgeTarget("github", "https://api.github.com", "acme", "gitops"),
        ),
        (
            "https://github.com/acme/gitops",
            {},
            ForgeTarget("github", "https://api.github.com", "acme", "gitops"),
        ),
        (
            "git@github.com:acme/gitops.git",
            {},
            ForgeTarget("github", "https://api.github.com", "acme", "gitops"),
        ),
        (
            "ssh://git@github.com/acme/gitops.git",
            {},
            ForgeTarget("github", "https://api.github.com", "acme", "gitops"),
        ),
        (
            "https://x-access-token:abc123@github.com/acme/gitops.git",
            {},
            ForgeTarget("github", "https://api.github.com", "acme", "gitops"),
        ),
        (  # GitHub Enterprise Server, told by env
            "https://ghe.corp.example/platform/gitops.git",
            {"FLUXBUMP_FORGE": "github"},
            ForgeTarget("github", "https://ghe.corp.example/api/v3", "platform", "gitops"),
        ),
        (  # GHE over ssh: the API is https, the ssh port is not carried over
            "ssh://git@ghe.corp.example:7999/platform/gitops.git",
            {"FLUXBUMP_FORGE": "GitHub"},
            ForgeTarget("github", "https://ghe.corp.example/api/v3", "platform", "gitops"),
        ),
        (  # GHE with an explicit API base; the kind follows from /api/v3
            "git@ghe.corp.example:platform/gitops.git",
            {"FLUXBUMP_FORGE_API": "https://ghe-api.corp.example/api/v3/"},
            ForgeTarget("github", "https://ghe-api.corp.example/api/v3", "platform", "gitops"),
        ),
        (  # self-hosted Gitea, told by env
            "https://git.example.org/acme/gitops.git",
            {"FLUXBUMP_FORGE": "gitea"},
            ForgeTarget("gitea", "https://git.example.org/api/v1", "acme", "gitops"),
        ),
        (  # Gitea on a port and under a sub-path
            "http://git.example.org:3000/gitea/acme/gitops.git",
            {"FLUXBUMP_FORGE": "gitea"},
            ForgeTarget("gitea", "http://git.example.org:3000/gitea/api/v1", "acme", "gitops"),
        ),
        (
            "git@git.example.org:acme/gitops.git",
            {"FLUXBUMP_FORGE": "gitea"},
            ForgeTarget("gitea", "https://git.example.org/api/v1", "acme", "gitops"),
        ),
        (  # a test or proxy API on loopback; the kind follows from /api/v1
            "git@git.example.org:acme/gitops.git",
            {"FLUXBUMP_FORGE_API": "http://127.0.0.1:8080/api/v1"},
            ForgeTarget("gitea", "http://127.0.0.1:8080/api/v1", "acme", "gitops"),
        ),
        (
            "https://codeberg.org/acme/gitops.git",
            {},
            ForgeTarget("gitea", "https://codeberg.org/api/v1", "acme", "gitops"),
        ),
    ],
)
def test_forge_for_remote(remote: str, env: dict[str, str], expected: ForgeTarget) -> None:
    assert forge_for_remote(remote, env) == expected


@pytest.mark.parametrize(
    ("remote", "env", "needle"),
    [
        ("https://git.example.org/acme/gitops.git", {}, "FLUXBUMP_FORGE=github|gitea"),
        ("https://github.com/acme/gitops.git", {"FLUXBUMP_FORGE": "gitlab"}, "expected one of"),
        ("https://github.com/gitops.git", {}, "owner/repository"),
        ("/srv/git/gitops.git", {}, "not a URL"),
        ("ftp://github.com/acme/gitops.git", {}, "unsupported scheme"),
        ("https://[::1/acme/gitops.git", {}, "not a URL (Invalid IPv6 URL)"),
        (
            "https://github.com/acme/gitops.git",
            {"FLUXBUMP_FORGE_API": "https://[::1/api/v3"},
            "FLUXBUMP_FORGE_API='https://[::1/api/v3': not a URL (Invalid IPv6 URL)",
        ),
        (
            "https://github.com/acme/gitops.git",
            {"FLUXBUMP_FORGE_API": "api.github.com"},
            "http(s) base URL",
        ),
    ],
)
def test_forge_for_remote_rejects(remote: str, env: dict[str, str], needle: str) -> None:
    with pytest.raises(UsageError, match=None) as caught:
        forge_for_remote(remote, env)
    assert needle in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "remote",
    [
        "https://bot:hunter2secret@git.example.org/acme/gitops.git",
        "https://bot:hunter2secret@github.com/gitops.git",
        "https://bot:hunter2secret@github.com:notaport/acme/gitops.git",
    ],
)
def test_remote_credentials_never_reach_a_message(remote: str) -> None:
    with pytest.raises(UsageError) as caught:
        forge_for_remote(remote, {})
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.parametrize(("kind", "var"), [("github", "GITHUB_TOKEN"), ("gitea", "GITEA_TOKEN")])
def test_token_for(kind: str, var: str) -> None:
    target = ForgeTarget(kind, "https://forge.example/api", "acme", "gitops")
    assert token_for(target, {var: f" {TOKEN}\n"}) == TOKEN

    for env in ({}, {var: "  "}):
        with pytest.raises(UsageError) as caught:
            token_for(target, env)
        assert f"${var}" in str(caught.value)
        assert caught.value.exit_code == EXIT_USAGE

    other = "GITEA_TOKEN" if var == "GITHUB_TOKEN" else "GITHUB_TOKEN"
    with pytest.raises(UsageError, match=var):
        token_for(target, {other: TOKEN})
