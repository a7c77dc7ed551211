"""A password in a URL the user passes (a private Helm repository as
``https://user:password@host``, which httpx sends as basic auth) is never printed: the warning
and error lines naming that URL mask it, as forge tokens are (``fluxbump.secrets``). So is a
token given as the user name (``https://<token>@host``) or as the query, which goes with the
index and its charts as Helm sends it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.crds.archives import resolve_chart_url
from fluxbump.errors import EXIT_RESOLUTION
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, git, make_fleet, snapshot
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import Fault, HelmServer, serve

PASSWORD = "hunter2-s3cret"
TOKEN = "s3cr3t-T0KEN-value"


def private(server: HelmServer, path: str) -> str:
    return server.base_url.replace("://", f"://ci-bot:{PASSWORD}@") + path


def test_a_password_in_the_helm_repository_url_is_masked_in_errors(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", CONSISTENT)
    url = private(helm_server, "/missing")
    for flags in ((), ("--json",)):
        proc = run_cli("status", *flags, "--repo", str(root), "--helm-repo", url)
        assert proc.code == 3, proc.stderr
        printed = proc.stdout + proc.stderr
        assert PASSWORD not in printed
        assert "ci-bot:***@127.0.0.1" in printed
    assert "ci-bot:***@" in json.loads(proc.stdout)["error"]


def test_a_password_in_the_helm_repository_url_stays_out_of_the_commit(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """The commit message names the index the bump resolved against: it carried the password
    into the history (and the pull request's body) for every clone to read."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    proc = run_cli("to", "2.4.0", "--repo", str(root), "--helm-repo", private(helm_server, ""))
    assert proc.code == 0, proc.stderr
    message = git(root, "log", "-1", "--format=%B")
    assert PASSWORD not in message
    assert f"index: {private(helm_server, '/index.yaml').replace(PASSWORD, '***')})" in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "Invalid IPv6 URL"),  # ValueError from urlparse: exit 70
        ("http://charts.example:80x/", "Port could not be cast to integer value as '80x'"),
        ("https:///index.yaml", "no host"),
        # urllib dropped the newline (another URL was asked); httpx refused the ESC when
        # asked, a network failure: each fell back to the bundled snapshot, exit 0
        ("https://charts.example/a\nb", "it holds a control character, U+000A"),
        ("https://charts.example/\x1b[0m", "it holds a control character, U+001B"),
    ],
)
def test_a_helm_repository_url_that_is_no_url_is_refused(
    tmp_path: Path, url: str, why: str
) -> None:
    """A typo in the URL was an unexpected error (exit 70), or a network failure that fell back
    to the bundled snapshot with exit 0."""
    root = make_fleet(tmp_path / "repo", CONSISTENT)
    proc = run_cli("check", "--repo", str(root), "--helm-repo", url)
    shown = url.replace("\n", "\\n").replace("\x1b", "\\x1b")  # (as one_line prints it)
    assert (proc.code, proc.stderr) == (2, f"error: --helm-repo '{shown}': not a URL ({why})\n")


def test_a_helm_repository_path_too_long_for_the_file_system_is_named() -> None:
    """A path (a mangled ``helm_repo``) longer than a file name may be: asking whether it is a
    directory raised ENAMETOOLONG, exit 70. Reading it is exit 3 naming it."""
    path = "charts-" + "x" * 5000
    proc = run_cli("resolve", "2.4.0", "--helm-repo", path)
    assert (proc.code, proc.stderr) == (
        EXIT_RESOLUTION,
        f"error: {path}: cannot read the Helm index (File name too long)\n",
    )


def test_a_helm_repository_url_that_is_no_url_is_named_where_it_was_set(tmp_path: Path) -> None:
    """Set in ``.fluxbump.yaml`` or ``$FLUXBUMP_HELM_REPO``, it was reported as the
    ``--helm-repo`` option's: the user looked for a flag they never passed."""
    root = make_fleet(tmp_path / "repo", CONSISTENT)
    env = {"FLUXBUMP_HELM_REPO": "https:///index.yaml"}
    proc = run_cli("check", "--repo", str(root), env=env)
    assert (proc.code, proc.stderr) == (
        2,
        "error: $FLUXBUMP_HELM_REPO 'https:///index.yaml': not a URL (no host)\n",
    )
    (root / ".fluxbump.yaml").write_text("# the chart mirror\nhelm_repo: ftp://charts.example\n")
    proc = run_cli("check", "--repo", str(root))
    assert (proc.code, proc.stderr) == (
        2,
        "error: .fluxbump.yaml:2: helm_repo 'ftp://charts.example': unsupported scheme 'ftp'\n",
    )


def test_a_forge_api_url_that_is_no_url_is_refused_before_writing(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """``--open-pr`` with FLUXBUMP_FORGE_API=https://[::1: ValueError, exit 70."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    git(root, "remote", "add", "origin", "https://github.com/acme/gitops.git")
    before = snapshot(root)
    env = {"FLUXBUMP_FORGE_API": "https://[::1", "GITHUB_TOKEN": "t0ken-for-the-test"}
    args = ("to", "2.4.0", "--open-pr", "--repo", str(root), "--helm-repo", helm_server.base_url)
    proc = run_cli(*args, env=env)
    assert (proc.code, proc.stderr) == (
        2,
        "error: $FLUXBUMP_FORGE_API='https://[::1': not a URL (Invalid IPv6 URL)\n",
    )
    assert snapshot(root) == before


def test_a_redirect_to_another_host_never_carries_the_repositorys_password() -> None:
    """The repository answers 302 to another origin (``localhost`` is not ``127.0.0.1`` to
    a browser or httpx): the index is read there without the basic auth the user gave."""
    index = b"apiVersion: v1\nentries:\n  flux2:\n  - {name: flux2, version: 2.14.1, appVersion: 2.4.0}\n"
    with (
        serve(HelmServer(routes={"/index.yaml": index})) as other,
        serve(HelmServer(routes={"/index.yaml": index})) as repo,
    ):
        away = f"http://localhost:{other.port}/index.yaml"
        repo.faults.append(Fault(status=302, body=b"", headers={"Location": away}))
        outcome = run_cli("resolve", "2.4.0", "--helm-repo", private(repo, ""))
    assert outcome.code == 0, outcome.stderr
    [asked] = repo.requests
    assert asked.headers["authorization"].startswith("Basic ")  # sent where the user named
    assert [(r.path, r.headers.get("authorization")) for r in other.requests] == [
        ("/index.yaml", None)
    ]
    assert PASSWORD not in outcome.stdout + outcome.stderr


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
    message = git(repo, "log", "-1", "--format=%B")
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
