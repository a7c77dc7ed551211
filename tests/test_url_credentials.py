"""A password in a URL the user passes (a private Helm repository as
``https://user:password@host``, which httpx sends as basic auth) is never printed: the warning
and error lines naming that URL mask it, as forge tokens are (``fluxbump.secrets``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, git, make_fleet, snapshot
from tests.support.helm_server import Fault, HelmServer, serve

PASSWORD = "hunter2-s3cret"


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
    ],
)
def test_a_helm_repository_url_that_is_no_url_is_refused(
    tmp_path: Path, url: str, why: str
) -> None:
    """A typo in the URL was an unexpected error (exit 70), or a network failure that fell back
    to the bundled snapshot with exit 0."""
    root = make_fleet(tmp_path / "repo", CONSISTENT)
    proc = run_cli("check", "--repo", str(root), "--helm-repo", url)
    assert (proc.code, proc.stderr) == (2, f"error: --helm-repo '{url}': not a URL ({why})\n")


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
