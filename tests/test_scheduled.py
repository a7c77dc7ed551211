"""The scheduled job: `to latest --push --open-pr --json` against a local forge and bare remote."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fluxbump.remote.forge import MAX_LIST_PAGES
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, git, make_fleet, snapshot
from tests.support.forge_server import TOKEN, ForgeServer, Reply, serve
from tests.support.helm_server import HelmServer


@pytest.fixture
def github() -> Iterator[ForgeServer]:
    with serve(ForgeServer("github")) as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    # Flux 2.8.1 -> latest (2.8.5 in the snapshot) drops no CRD version.
    work = make_fleet(
        tmp_path / "repo", CONSISTENT, git=True, flux_release="2.8.1", flux_chart="2.18.0"
    )
    # The forge is named by the fetch URL; pushes go to the local bare repository.
    git(work, "remote", "add", "origin", "https://example.test/acme/gitops.git")
    git(work, "remote", "set-url", "--push", "origin", str(remote))
    return work


def scheduled(server: HelmServer, forge: ForgeServer, repo: Path, **env: str) -> Outcome:
    return run_cli(
        "to", "latest", "--push", "--open-pr", "--json", "--repo", str(repo),
        "--helm-repo", server.base_url, env={**forge.env(), **env},
    )  # fmt: skip


def test_scheduled_job_bumps_pushes_and_opens_a_pr(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["changed"] is True and result["pushed"] is True
    branch = result["branch"]
    assert branch == f"fluxbump/flux-v{result['to']['release']}"
    assert result["pr_url"].endswith("/acme/gitops/pull/1")
    [post] = github.seen("POST")
    assert post.path == "/api/v3/repos/acme/gitops/pulls"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.body["head"] == branch and post.body["base"] == "main"
    assert (
        post.body["title"]
        == f"fluxbump: Flux v{result['to']['release']} (flux2 chart {result['to']['chart']})"
    )
    assert "platform/flux/chart/Chart.yaml" in post.body["body"]
    assert "no CRD API version dropped" in post.body["body"]
    assert result["crds"]["safe"] is True and result["crds"]["target"] == result["to"]["chart"]
    remote = repo.parent / "remote.git"
    assert git(remote, "rev-parse", branch) == git(repo, "rev-parse", "HEAD")
    assert TOKEN not in outcome.stdout + outcome.stderr


def by_hand(server: HelmServer, forge: ForgeServer, repo: Path) -> Outcome:
    """``to 2.8.5 --push --open-pr``: a named release, as a person runs it."""
    return run_cli(
        "to", "2.8.5", "--push", "--open-pr", "--json", "--repo", str(repo),
        "--helm-repo", server.base_url, env=forge.env(),
    )  # fmt: skip


def test_the_same_command_again_on_its_branch_finds_its_pr(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """Run again where the first left the repository (on its branch, pushed, its PR open):
    nothing to push, the PR is found and named, exit 0."""
    first = json.loads(by_hand(helm_server, github, repo).stdout)
    before = snapshot(repo), git(repo, "rev-parse", "HEAD")
    outcome = by_hand(helm_server, github, repo)
    assert outcome.code == 0, outcome.stdout
    result = json.loads(outcome.stdout)
    assert result["changed"] is False and result["pushed"] is False
    assert result["branch"] == first["branch"] and result["pr_url"] == first["pr_url"]
    assert len(github.seen("POST")) == 1
    assert (snapshot(repo), git(repo, "rev-parse", "HEAD")) == before


def pr_refused(server: HelmServer, forge: ForgeServer, repo: Path) -> str:
    """``by_hand`` with the forge refusing the PR (exit 3, pushed): the branch left checked out."""
    forge.faults["POST"] = [Reply(502, b"bad gateway")]
    assert by_hand(server, forge, repo).code == 3
    return git(repo, "branch", "--show-current")


def test_the_same_command_again_on_its_branch_without_its_pr_opens_it(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """The first run pushed, then the forge refused the PR (exit 3). Run again on that
    branch, nothing is planned: the PR is opened against the branch the bump started from,
    its body the bump's commit message (it lists every change). It said "open it by hand",
    exit 2."""
    branch = pr_refused(helm_server, github, repo)
    before = snapshot(repo), git(repo, "rev-parse", "HEAD")
    outcome = by_hand(helm_server, github, repo)
    assert outcome.code == 0, outcome.stdout
    result = json.loads(outcome.stdout)
    refused, post = github.seen("POST")
    assert post.body["head"] == branch and post.body["base"] == "main"
    assert post.body["title"] == refused.body["title"]
    message = git(repo, "log", "-1", "--format=%B")
    assert message in post.body["body"]
    assert "platform/flux/chart/Chart.yaml" in post.body["body"]
    assert result["pr_url"] == github.pulls[0]["html_url"]
    assert f"opened pull request #1: {result['pr_url']}" in result["notes"]
    assert (snapshot(repo), git(repo, "rev-parse", "HEAD")) == before


def test_the_same_command_from_main_after_a_refused_pr_says_how_to_finish(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """Run from the branch the bump started from, the existing bump branch is refused (a bump
    is never committed twice); the message says how to publish it, and that works."""
    branch = pr_refused(helm_server, github, repo)
    git(repo, "checkout", "-q", "main")
    outcome = by_hand(helm_server, github, repo)
    assert outcome.code == 2, outcome.stdout
    assert json.loads(outcome.stdout)["error"] == (
        f"branch {branch} already exists; delete it, or pass --branch NAME (to publish the "
        f"bump it holds, git checkout {branch} and run this command again)"
    )
    git(repo, "checkout", "-q", branch)
    again = by_hand(helm_server, github, repo)
    assert again.code == 0, again.stdout
    assert json.loads(again.stdout)["pr_url"] == github.pulls[0]["html_url"]


def reviewer_commit(repo: Path) -> None:
    (repo / "NOTES.md").write_text("a reviewer's note\n", "utf-8")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "a reviewer's note")


EARLIER = "{branch} holds the bump an earlier run committed, but"
NO_RESUMED_PR: dict[str, tuple[Callable[[Path], object], str]] = {
    # Two branches sit where the bump branch started: the PR's base is the user's choice.
    "two-branches": (
        lambda repo: git(repo, "branch", "release-2", "main"),
        f"{EARLIER} it started where main and release-2 both are, so the pull request's base "
        "is not known",
    ),
    "start-deleted": (
        lambda repo: git(repo, "branch", "-D", "main"),
        f"{EARLIER} no local branch it started from is left to be the pull request's base",
    ),
    # A person committed on the bump branch: its commit messages would not describe it.
    "not-ours": (
        reviewer_commit,
        "{branch} holds commits since main that fluxbump did not write, so this run cannot "
        "describe them in a new pull request",
    ),
}


@pytest.mark.parametrize("case", NO_RESUMED_PR, ids=list(NO_RESUMED_PR))
def test_a_resumed_pr_it_cannot_base_or_describe_says_to_open_it_by_hand(
    repo: Path, helm_server: HelmServer, github: ForgeServer, case: str
) -> None:
    """No guess at the base or body of the PR a failed run did not open: exit 2, none opened."""
    branch = pr_refused(helm_server, github, repo)
    change, why = NO_RESUMED_PR[case]
    change(repo)
    outcome = by_hand(helm_server, github, repo)
    assert outcome.code == 2, outcome.stdout
    assert json.loads(outcome.stdout)["error"] == (
        f"--open-pr: {why.format(branch=branch)}: open it from {branch} by hand"
    )
    assert github.pulls == []


def test_rerun_with_the_branch_and_pr_in_place_does_nothing_and_says_where(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    first = json.loads(scheduled(helm_server, github, repo).stdout)
    git(repo, "checkout", "-q", "main")
    before = snapshot(repo)
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["changed"] is False
    assert result["branch"] == first["branch"] and result["pr_url"] == first["pr_url"]
    assert any("already exists on branch" in n for n in result["notes"])
    assert len(github.seen("POST")) == 1
    assert snapshot(repo) == before


def test_nothing_to_do_is_exit_0_and_changed_false(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    assert scheduled(helm_server, github, repo).code == 0
    outcome = scheduled(helm_server, github, repo)  # now on the bump branch: already current
    result = json.loads(outcome.stdout)
    assert outcome.code == 0 and result["changed"] is False
    assert not github.seen("POST")[1:]


def test_missing_token_is_refused_before_anything_is_written(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    before = snapshot(repo)
    outcome = scheduled(helm_server, github, repo, GITHUB_TOKEN="")
    assert outcome.code == 2 and "GITHUB_TOKEN" in outcome.stderr
    assert snapshot(repo) == before
    assert git(repo, "branch", "--list") == "* main"


# --- a forge that echoes the token (issue 18 item 6) --------------------------------------


def test_token_echoed_in_the_pr_url_is_never_printed(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    github.echo_token = True
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 0, outcome.stderr
    assert TOKEN not in outcome.stdout + outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["pr_url"].endswith("/acme/gitops/pull/1?access_token=***")
    assert any(n.endswith("/pull/1?access_token=***") for n in result["notes"])


def test_token_echoed_in_the_pr_url_is_scrubbed_from_the_text_report(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    github.echo_token = True
    outcome = run_cli(
        "to", "latest", "--push", "--open-pr", "--repo", str(repo),
        "--helm-repo", helm_server.base_url, env=github.env(),
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert TOKEN not in outcome.stdout + outcome.stderr
    assert "opened pull request #1: " in outcome.stdout
    assert "/acme/gitops/pull/1?access_token=***" in outcome.stdout


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_token_echoed_in_an_api_error_is_never_printed(
    repo: Path, helm_server: HelmServer, github: ForgeServer, as_json: bool
) -> None:
    echo = {"message": f"Validation Failed for Bearer {TOKEN}", "url": f"https://x/?t={TOKEN}"}
    github.faults["POST"] = [Reply(422, json.dumps(echo).encode())]
    args = ["to", "latest", "--push", "--open-pr", "--repo", str(repo),
            "--helm-repo", helm_server.base_url, *(["--json"] if as_json else [])]  # fmt: skip
    outcome = run_cli(*args, env=github.env())
    assert outcome.code == 3
    assert TOKEN not in outcome.stdout + outcome.stderr
    assert "HTTP 422: Validation Failed for Bearer ***" in outcome.stderr
    if as_json:
        assert json.loads(outcome.stdout)["exit_code"] == 3


def fresh_clone(repo: Path, where: Path) -> Path:
    """What CI does: a new clone of the remote (no local bump branch), named like the original."""
    remote = repo.parent / "remote.git"
    if not git(remote, "branch", "--list", "main"):
        git(repo, "push", "-q", str(remote), "main:main")
    subprocess.run(["git", "clone", "-q", "-b", "main", str(remote), str(where)], check=True)
    for args in (
        ("config", "user.email", "ci@fluxbump.invalid"),
        ("config", "user.name", "ci"),
        ("config", "commit.gpgsign", "false"),
        ("remote", "set-url", "origin", "https://example.test/acme/gitops.git"),
        ("remote", "set-url", "--push", "origin", str(remote)),
    ):
        git(where, *args)
    return where


def test_rerun_from_a_fresh_clone_with_the_pr_open_is_exit_0_and_no_second_pr(
    repo: Path, helm_server: HelmServer, github: ForgeServer, tmp_path: Path
) -> None:
    first = json.loads(scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci1")).stdout)
    assert first["pushed"] is True
    remote = repo.parent / "remote.git"
    tip = git(remote, "rev-parse", first["branch"])
    outcome = scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci2"))
    assert outcome.code == 0, outcome.stderr  # was exit 3: non-fast-forward
    result = json.loads(outcome.stdout)
    assert result["ok"] is True and result["pushed"] is False
    assert result["pr_url"] == first["pr_url"]
    assert any("already has this bump" in n for n in result["notes"])
    assert len(github.seen("POST")) == 1  # the open PR was found, not opened again
    assert git(remote, "rev-parse", first["branch"]) == tip  # nothing rewritten
    assert git(tmp_path / "ci2", "rev-parse", "HEAD") == tip  # no stray second commit


def test_rerun_after_main_moved_updates_its_own_branch_by_force_with_lease(
    repo: Path, helm_server: HelmServer, github: ForgeServer, tmp_path: Path
) -> None:
    first = json.loads(scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci1")).stdout)
    remote = repo.parent / "remote.git"
    (repo / "NOTES.md").write_text("main moved on\n", "utf-8")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "main moved on")
    git(repo, "push", "-q", str(remote), "main:main")
    outcome = scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci2"))
    assert outcome.code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["pushed"] is True and any("force-with-lease" in n for n in result["notes"])
    assert git(remote, "rev-parse", first["branch"]) == git(tmp_path / "ci2", "rev-parse", "HEAD")
    assert "NOTES.md" in git(remote, "ls-tree", "--name-only", first["branch"])
    assert len(github.seen("POST")) == 1


def test_a_branch_someone_else_committed_to_is_not_overwritten(
    repo: Path, helm_server: HelmServer, github: ForgeServer, tmp_path: Path
) -> None:
    first = json.loads(scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci1")).stdout)
    remote = repo.parent / "remote.git"
    human = fresh_clone(repo, tmp_path / "human")
    git(human, "checkout", "-q", first["branch"])
    (human / "TWEAK.md").write_text("a reviewer's change\n", "utf-8")
    git(human, "add", "TWEAK.md")
    git(human, "commit", "-q", "-m", "reviewer tweak")
    git(human, "push", "-q", str(remote), first["branch"])
    tip = git(remote, "rev-parse", first["branch"])
    outcome = scheduled(helm_server, github, fresh_clone(repo, tmp_path / "ci2"))
    assert outcome.code == 3
    assert "not only fluxbump's commits" in outcome.stderr
    assert git(remote, "rev-parse", first["branch"]) == tip


DECLINE = "#!/bin/sh\necho 'down for maintenance' >&2\nexit 1\n"


@pytest.mark.parametrize("open_pr", [False, True], ids=["push", "push-open-pr"])
def test_to_latest_again_on_its_branch_after_a_failed_push_pushes_it(
    repo: Path, helm_server: HelmServer, github: ForgeServer, open_pr: bool
) -> None:
    """The remote refuses the first push (exit 3; the commit is on the bump branch, left
    checked out). The same `to latest` again found nothing newer than the branch's release
    and said "nothing to do", exit 0, nothing pushed: the retry never published the bump."""
    remote = repo.parent / "remote.git"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(DECLINE)
    hook.chmod(0o755)
    args = ["to", "latest", "--push", *(["--open-pr"] if open_pr else []), "--json",
            "--repo", str(repo), "--helm-repo", helm_server.base_url]  # fmt: skip
    failed = run_cli(*args, env=github.env())
    assert failed.code == 3, failed.stdout
    branch = git(repo, "branch", "--show-current")
    files, commit = snapshot(repo), git(repo, "rev-parse", "HEAD")
    assert branch.startswith("fluxbump/flux-v") and git(remote, "branch", "--list") == ""
    hook.unlink()
    again = run_cli(*args, env=github.env())
    result = json.loads(again.stdout)
    assert git(remote, "rev-parse", branch) == commit
    assert (snapshot(repo), git(repo, "rev-parse", "HEAD")) == (files, commit)
    if not open_pr:
        assert again.code == 0, again.stdout
        assert result["pushed"] is True and result["branch"] == branch
        assert f"pushed {branch} (the bump an earlier run committed)" in result["notes"]
        return
    # Pushed, and the pull request no run had opened is opened (it said: open it by hand).
    assert again.code == 0, again.stdout
    assert result["pushed"] is True and result["pr_url"] == github.pulls[0]["html_url"]
    assert [p["head"]["ref"] for p in github.pulls] == [branch]
    assert github.pulls[0]["base"] == {"ref": "main"}


def test_a_secondary_rate_limit_on_the_pr_lookup_is_waited_out(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """GitHub's secondary rate limit is a 403 with Retry-After ("wait that many seconds").
    It was taken as a refusal: the bump was pushed, the job exited 3 with no pull request."""
    limited = b'{"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}'
    github.faults["GET"] = [Reply(403, limited, (("Retry-After", "1"),))]
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 0, outcome.stdout
    result = json.loads(outcome.stdout)
    assert result["pushed"] is True and result["pr_url"].endswith("/acme/gitops/pull/1")
    assert [r.method for r in github.requests] == ["GET", "GET", "POST", "GET"]


def test_a_403_without_retry_after_is_a_refusal_not_retried(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    github.faults["GET"] = [Reply(403, b'{"message": "Resource not accessible by integration"}')]
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 3
    assert "HTTP 403: Resource not accessible by integration" in json.loads(outcome.stdout)["error"]
    assert [r.method for r in github.requests] == ["GET"]


@pytest.fixture(params=["github", "gitea"])
def forge(request: pytest.FixtureRequest) -> Iterator[ForgeServer]:
    with serve(ForgeServer(request.param)) as server:
        yield server


def test_an_open_pr_of_an_older_bump_is_named_superseded_not_closed(
    repo: Path, helm_server: HelmServer, forge: ForgeServer
) -> None:
    """The job opened the PR of fluxbump/flux-v2.8.5 while fluxbump/flux-v2.8.3's was open
    and said nothing. Only an older bump of this repository's own branches is named."""
    forge.add_pull("fluxbump/flux-v2.8.3")  # #1: older, open: superseded
    forge.add_pull("fluxbump/flux-v2.8.10")  # #2: newer (2.8.10 > 2.8.5, not by text)
    forge.add_pull("fluxbump/flux-v2.8.2", owner="someone")  # #3: a fork's branch
    forge.add_pull("fluxbump/flux-v2.8.4", state="closed")  # #4: closed
    forge.add_pull("renovate/flux-2.x")  # #5: not a bump branch
    outcome = scheduled(helm_server, forge, repo)
    assert outcome.code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["pr_url"].endswith("/acme/gitops/pull/6")
    superseded = [n for n in result["notes"] if "superseded" in n]
    assert superseded == [
        "pull request #1 (fluxbump/flux-v2.8.3) is superseded by this one; close it"
    ]
    assert [p["state"] for p in forge.pulls[:5]] == ["open", "open", "open", "closed", "open"]
    # The search for this run's PR, then one list call for the superseded ones.
    assert len(forge.seen("POST")) == 1 and len(forge.seen("GET")) == 2
    git(repo, "checkout", "-q", "main")  # the text report, from the run that finds its PR
    text = run_cli(
        "to", "latest", "--push", "--open-pr", "--repo", str(repo),
        "--helm-repo", helm_server.base_url, env=forge.env(),
    )  # fmt: skip
    assert text.code == 0, text.stderr
    assert "pull request #1 (fluxbump/flux-v2.8.3) is superseded by this one; close it" in (
        text.stdout.splitlines()
    )


def test_a_forge_error_naming_superseded_prs_is_a_warning_not_a_failure(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    refused = Reply(403, b'{"message": "Resource not accessible by integration"}')
    github.faults["GET"] = [Reply(200, b"[]"), refused]  # the PR search, then the lookup
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 0, outcome.stdout
    result = json.loads(outcome.stdout)
    assert result["pushed"] is True and result["pr_url"].endswith("/acme/gitops/pull/1")
    [warning] = [w["message"] for w in result["warnings"] if "superseded" in w["message"]]
    assert warning.startswith("could not look for superseded bump pull requests: ")
    assert "HTTP 403: Resource not accessible by integration" in warning
    assert [r.method for r in github.requests] == ["GET", "POST", "GET"]


def test_a_rerun_on_its_branch_that_finds_its_pr_names_the_superseded_one_too(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    github.add_pull("fluxbump/flux-v2.8.3")
    assert by_hand(helm_server, github, repo).code == 0
    outcome = by_hand(helm_server, github, repo)  # on its branch: nothing planned, PR found
    assert outcome.code == 0, outcome.stdout
    notes = json.loads(outcome.stdout)["notes"]
    assert "found existing pull request #2: " + github.pulls[1]["html_url"] in notes
    assert "pull request #1 (fluxbump/flux-v2.8.3) is superseded by this one; close it" in notes


def others(forge: ForgeServer, count: int) -> None:
    """``count`` open pull requests of other branches (Renovate's), listed before the rest."""
    for n in range(count):
        forge.add_pull(f"renovate/dep-{n}")


def superseded_notes(outcome: Outcome) -> list[str]:
    assert outcome.code == 0, outcome.stdout
    return [n for n in json.loads(outcome.stdout)["notes"] if "superseded" in n]


def test_an_older_bump_pr_on_the_second_page_is_named_superseded(
    repo: Path, helm_server: HelmServer, forge: ForgeServer
) -> None:
    """A full first page of other open pull requests (100 on GitHub, 50 on Gitea) hid the
    older bump's: only one page was read. Every page is followed by its Link: rel="next"."""
    others(forge, forge.page_cap)
    older = forge.add_pull("fluxbump/flux-v2.8.3")["number"]
    outcome = scheduled(helm_server, forge, repo)
    assert superseded_notes(outcome) == [
        f"pull request #{older} (fluxbump/flux-v2.8.3) is superseded by this one; close it"
    ]
    assert not [w for w in json.loads(outcome.stdout)["warnings"] if "pull request" in w["message"]]


def test_a_superseded_lookup_cut_by_the_page_bound_says_so(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """A list longer than the bound is read to the bound, and the run says it stopped there."""
    github.page_cap = 1
    others(github, MAX_LIST_PAGES)
    github.add_pull("fluxbump/flux-v2.8.3")  # on the page after the last one read
    outcome = scheduled(helm_server, github, repo)
    assert superseded_notes(outcome) == []
    warnings = [w["message"] for w in json.loads(outcome.stdout)["warnings"]]
    assert (
        f"looked for superseded bump pull requests in the first {MAX_LIST_PAGES} pages of "
        f"open pull requests only ({MAX_LIST_PAGES} of them); an older bump's beyond them "
        "is not named"
    ) in warnings
    lists = [r for r in github.seen("GET") if "head" not in r.query]
    assert len(lists) == MAX_LIST_PAGES


def test_a_next_page_on_another_host_is_read_from_the_api_s_own(
    repo: Path, helm_server: HelmServer, forge: ForgeServer
) -> None:
    """The token goes to the API's own host only. Gitea writes its links with its ROOT_URL,
    which need not be where the API is reached: the next page's query is asked there."""
    forge.next_host = f"localhost:{forge.port}"  # the same server by another name
    others(forge, forge.page_cap)
    older = forge.add_pull("fluxbump/flux-v2.8.3")["number"]
    outcome = scheduled(helm_server, forge, repo)
    assert superseded_notes(outcome) == [
        f"pull request #{older} (fluxbump/flux-v2.8.3) is superseded by this one; close it"
    ]
    assert {r.headers["host"] for r in forge.requests} == {f"127.0.0.1:{forge.port}"}


def test_a_gitea_capping_pages_below_50_still_finds_the_open_pr(
    repo: Path, helm_server: HelmServer, tmp_path: Path
) -> None:
    """A Gitea whose MAX_RESPONSE_ITEMS is 10 answers 10 of the 50 asked: the search for the
    branch's open pull request stopped at that short first page and opened a second one."""
    with serve(ForgeServer("gitea", page_cap=10)) as gitea:
        others(gitea, 11)
        first = json.loads(
            scheduled(helm_server, gitea, fresh_clone(repo, tmp_path / "ci1")).stdout
        )
        assert first["pr_url"].endswith("/pull/12")
        outcome = scheduled(helm_server, gitea, fresh_clone(repo, tmp_path / "ci2"))
        assert outcome.code == 0, outcome.stdout
        assert json.loads(outcome.stdout)["pr_url"] == first["pr_url"]
        assert len(gitea.seen("POST")) == 1


def test_open_pr_from_an_earlier_bumps_branch_is_refused_not_stacked(
    repo: Path, helm_server: HelmServer, github: ForgeServer
) -> None:
    """On fluxbump/flux-v2.8.3 (checked out to review it), ``to latest --open-pr`` branched
    from it and opened its pull request against it: closing 2.8.3's as superseded closed
    that one's base. Refused before writing, with what to check out."""
    older = run_cli(
        "to", "2.8.3", "--push", "--open-pr", "--repo", str(repo),
        "--helm-repo", helm_server.base_url, env=github.env(),
    )  # fmt: skip
    assert older.code == 0, older.stdout + older.stderr
    assert git(repo, "branch", "--show-current") == "fluxbump/flux-v2.8.3"
    before = snapshot(repo), git(repo, "rev-parse", "HEAD"), git(repo, "branch", "--list")
    outcome = scheduled(helm_server, github, repo)
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert json.loads(outcome.stdout)["error"] == (
        "--open-pr: this checkout is on fluxbump/flux-v2.8.3, an earlier bump's branch: the pull "
        "request would target it; git checkout the branch that bump started from (main, say) "
        "and re-run; nothing was written"
    )
    assert (snapshot(repo), git(repo, "rev-parse", "HEAD"), git(repo, "branch", "--list")) == (
        before
    )
    assert len(github.seen("POST")) == 1  # 2.8.3's own
    git(repo, "checkout", "-q", "main")
    assert scheduled(helm_server, github, repo).code == 0
