"""`fluxbump to` end to end: real git repos, a local bare remote, a 127.0.0.1 Helm index."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.adversarial.harness import leftovers
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import fluxbump_cmd, run
from tests.support.fixtures import CONSISTENT, INCIDENT, edit, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer


def bump(server: HelmServer, repo: Path, *args: str) -> Outcome:
    return run_cli("to", *args, "--repo", str(repo), "--helm-repo", server.base_url)


def changed_bytes(
    before: dict[str, bytes], after: dict[str, bytes]
) -> dict[str, list[tuple[str, str]]]:
    """Per changed file, the (old, new) line pairs that differ: proves the edit is surgical."""
    out = {}
    for rel in sorted(set(before) | set(after)):
        if before.get(rel) != after.get(rel):
            old = before[rel].decode().splitlines()
            new = after[rel].decode().splitlines()
            assert len(old) == len(new), rel
            out[rel] = [(a.strip(), b.strip()) for a, b in zip(old, new, strict=True) if a != b]
    return out


def test_incident_tree_is_realigned_not_reported_current(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    assert "gate: passed" in outcome.stdout
    diff = changed_bytes(before, snapshot(repo))
    assert diff[fleet.WRAPPER_CHART] == [
        ("version: 1.1.1", "version: 1.1.2"),
        ('version: "2.13.0"', 'version: "2.14.1"'),
    ]
    assert diff[fleet.WRAPPER_VALUES] == [
        ('upstream: { chart: flux2, version: "2.13.0", repo: "https://fluxcd-community.github.io/helm-charts" }',
         'upstream: { chart: flux2, version: "2.14.1", repo: "https://fluxcd-community.github.io/helm-charts" }')
    ]  # fmt: skip
    assert diff[fleet.WRAPPER_BLUEPRINT] == [("version: 1.1.1", "version: 1.1.2")]
    assert diff[fleet.UMBRELLA_CHART] == [
        ("version: 1.1.1", "version: 1.1.2"), ('appVersion: "1.1.1"', 'appVersion: "1.1.2"'),
        ("version: 1.1.1", "version: 1.1.2"),
    ]  # fmt: skip
    assert fleet.CLOUDINIT not in diff  # already at v2.4.0
    releases = [rel for rel in diff if rel.startswith("clusters/")]
    assert len(releases) == 8  # 2 HelmReleases x (_template + 3 clusters)
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0


def test_forward_bump_moves_the_cloud_init_url_and_commits_on_a_branch(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    outcome = bump(helm_server, repo, "2.5.1")
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.5.1"
    assert git(repo, "status", "--porcelain") == ""
    text = (repo / fleet.CLOUDINIT).read_text()
    assert "releases/download/v2.5.1/install.yaml" in text
    assert "(v2.4.0)" in text  # comment mentions are never rewritten
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("Bump Flux to v2.5.1 (flux2 chart 2.15.0)")
    assert f"- {fleet.CLOUDINIT}:16: cloud-init install (cloud-init) v2.4.0 -> v2.5.1" in message
    assert git(repo, "log", "--format=%s", "main") == "initial fleet"


def test_second_run_is_a_no_op(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    assert bump(helm_server, repo, "2.4.0").code == 0
    before, head = snapshot(repo), git(repo, "rev-parse", "HEAD")
    again = bump(helm_server, repo, "2.4.0")
    assert again.code == 0
    assert "already at v2.4.0; nothing to do" in again.stdout
    assert snapshot(repo) == before and git(repo, "rev-parse", "HEAD") == head


def test_wrapper_is_bumped_once_relative_to_base_not_per_run(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    assert bump(helm_server, repo, "2.5.1", "--no-git").code == 0
    assert bump(helm_server, repo, "2.6.1", "--no-git").code == 0
    # Both bumps are relative to HEAD's 1.1.1: one patch bump, not one per run.
    assert "version: 1.1.2\n" in (repo / fleet.WRAPPER_CHART).read_text()
    assert git(repo, "status", "--porcelain", "--untracked-files=no").count("\n") + 1 == 14


def test_without_git_each_dependency_change_bumps_once(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    assert bump(helm_server, repo, "2.5.1").code == 0
    assert bump(helm_server, repo, "2.5.1").code == 0
    assert "version: 1.1.2\n" in (repo / fleet.WRAPPER_CHART).read_text()
    assert bump(helm_server, repo, "2.6.1").code == 0
    assert "version: 1.1.3\n" in (repo / fleet.WRAPPER_CHART).read_text()


def test_downgrade_is_refused_with_exit_4(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.3.0")
    assert outcome.code == 4
    assert "--allow-downgrade" in outcome.stderr
    assert snapshot(repo) == before


def test_dirty_file_the_plan_touches_is_refused(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    edit(repo, fleet.WRAPPER_VALUES, "owner: platform-team", "owner: someone")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 2
    assert f"uncommitted changes in {fleet.WRAPPER_VALUES}" in outcome.stderr
    assert snapshot(repo) == before
    allowed = bump(helm_server, repo, "2.4.0", "--allow-dirty")  # never commits their edit
    assert allowed.code == 2 and f"uncommitted changes in {fleet.WRAPPER_VALUES}" in allowed.stderr
    assert snapshot(repo) == before


def test_existing_branch_is_refused(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    git(repo, "branch", "fluxbump/flux-v2.4.0")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 2 and "already exists" in outcome.stderr
    assert snapshot(repo) == before


def test_failing_gate_command_restores_every_byte(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    (repo / ".fluxbump.yaml").write_text("gate:\n  commands: ['echo replay says no >&2; exit 3']\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "gate")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 1
    assert "exited 3" in outcome.stderr and "replay says no" in outcome.stderr
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert "fluxbump/flux-v2.4.0" not in git(repo, "branch")


def gated_fleet(root: Path, gate: str) -> Path:
    repo = make_fleet(root, INCIDENT, git=True)
    (repo / ".fluxbump.yaml").write_text(gate)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "gate")
    return repo


# A gate command that starts a writer in the background, waits until it runs, then ends as
# ``{then}`` says. The writer waits for a marker the test creates only after fluxbump
# returned: had it survived, it writes then, and the test waits for it to end instead of
# sleeping for "long enough".
LATE_WRITER = """\
{launcher} sh -c 'echo $$ > "{pid}.tmp" && mv "{pid}.tmp" "{pid}"
  while [ ! -e "{marker}" ]; do sleep 0.01; done
  echo late-write >> "{target}"' </dev/null >/dev/null 2>&1 &
while [ ! -e "{pid}" ]; do sleep 0.01; done
{then}
"""


class LateWriter:
    def __init__(self, tmp_path: Path, launcher: str, then: str) -> None:
        self.pid, self.marker = tmp_path / "writer.pid", tmp_path / "go"
        self.script = tmp_path / "late-writer.sh"
        target = tmp_path / "repo" / fleet.WRAPPER_CHART
        self.script.write_text(
            LATE_WRITER.format(
                launcher=launcher, pid=self.pid, marker=self.marker, target=target, then=then
            )
        )

    def release_and_wait(self) -> None:
        """Let a surviving writer write, and wait until the writer is gone."""
        writer = int(self.pid.read_text())
        self.marker.touch()
        deadline = time.monotonic() + 60
        while not _gone_or_zombie(writer) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _gone_or_zombie(writer)


def _gone_or_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"


JUNK_WRITER = f"printf '# junk\\n' >> {fleet.WRAPPER_CHART}"


@pytest.mark.parametrize(
    ("late", "gate", "says"),
    [
        # Over its timeout: killed with the background writer it started.
        (True, "gate:\n  commands: ['sh {script}']\n  timeout: 1\n",
         "ran over 1s and was killed; every file fluxbump wrote was restored"),
        # Passing, but it edited a file the bump wrote: that edit must not be committed.
        (False, f'gate:\n  commands: ["{JUNK_WRITER}"]\n',
         f"{fleet.WRAPPER_CHART}: changed by a gate command after fluxbump wrote it"),
    ],
)  # fmt: skip
def test_a_gate_command_cannot_leave_its_writes_in_the_tree(
    tmp_path: Path, helm_server: HelmServer, late: bool, gate: str, says: str
) -> None:
    writer = LateWriter(tmp_path, "", "sleep 30")
    repo = gated_fleet(tmp_path / "repo", gate.format(script=writer.script))
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 1 and says in outcome.stderr, outcome.stderr
    if late:
        writer.release_and_wait()
    assert snapshot(repo) == before
    assert "fluxbump/flux-v2.4.0" not in git(repo, "branch")


@pytest.mark.parametrize("make", ["mkfifo", "mkdir"])
def test_a_gate_command_that_puts_no_file_where_one_was_written_is_kept_and_named(
    tmp_path: Path, helm_server: HelmServer, make: str
) -> None:
    """Their FIFO hung the run for ever (read back to check the gate left the file alone),
    their directory was exit 70 with the journal and every edited file left; now it is kept
    and named, every other file restored, exit 2."""
    values = fleet.WRAPPER_VALUES
    repo = gated_fleet(
        tmp_path / "repo", f"gate:\n  commands: ['rm {values} && {make} {values}']\n"
    )
    before = snapshot(repo)
    ran = run(fluxbump_cmd(repo, helm_server, "to", "2.4.0"), tmp_path / "cache")
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert ran.stderr.startswith(f"error: {values}: changed by another process after fluxbump "
                                 "wrote it; kept that version"), ran.stderr  # fmt: skip
    assert ran.stderr.endswith("every other file was restored\n"), ran.stderr
    assert snapshot(repo) == {rel: data for rel, data in before.items() if rel != values}
    assert leftovers(repo) == [] and "fluxbump/flux-v2.4.0" not in git(repo, "branch")


def test_dry_run_writes_nothing_and_prints_a_diff(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0", "--dry-run")
    assert outcome.code == 0
    assert f"--- a/{fleet.WRAPPER_CHART}" in outcome.stdout
    assert '-    version: "2.13.0"' in outcome.stdout and '+    version: "2.14.1"' in outcome.stdout
    assert snapshot(repo) == before
    assert git(repo, "branch", "--list") == "* main"


def test_json_plan_shape(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = bump(helm_server, repo, "2.4.0", "--json", "--dry-run")
    plan = json.loads(outcome.stdout)
    assert plan["to"] == {"release": "2.4.0", "chart": "2.14.1"}
    assert plan["from"] == {"release": "2.4.0", "chart": "2.13.0"}
    assert plan["changed"] is True and plan["applied"] is False
    upstream = next(e for e in plan["edits"] if e["role"] == "upstream dependency")
    assert upstream == {
        "role": "upstream dependency", "file": fleet.WRAPPER_CHART, "line": 10, "column": 14,
        "value": "2.13.0", "subject": "flux2", "owner": "bp-flux", "old": "2.13.0", "new": "2.14.1",
    }  # fmt: skip


def test_push_reaches_a_local_bare_remote(tmp_path: Path, helm_server: HelmServer) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_fleet(tmp_path / "work", INCIDENT, git=True)
    git(repo, "remote", "add", "origin", str(remote))
    outcome = bump(helm_server, repo, "2.4.0", "--push")
    assert outcome.code == 0, outcome.stderr
    assert (
        git(remote, "log", "--format=%s", "fluxbump/flux-v2.4.0", "-1")
        == "Bump Flux to v2.4.0 (flux2 chart 2.14.1)"
    )


DECLINE = """#!/bin/sh
echo "down for maintenance" >&2
exit 1
"""


def test_a_push_that_failed_is_made_by_the_same_command_run_again(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """The first run commits, then the remote refuses the push (exit 3, the commit is on the
    local branch, left checked out); the same command again pushes that branch. It said
    "already at v2.4.0; nothing to do" and exited 0 with nothing pushed."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(DECLINE)
    hook.chmod(0o755)
    repo = make_fleet(tmp_path / "work", INCIDENT, git=True)
    git(repo, "remote", "add", "origin", str(remote))
    failed = bump(helm_server, repo, "2.4.0", "--push")
    assert failed.code == 3, failed.stderr
    assert failed.stderr == (  # why, in the remote's words; it said "failed to push some refs"
        "error: push of fluxbump/flux-v2.4.0 to origin failed: ! [remote rejected] "
        "fluxbump/flux-v2.4.0 -> fluxbump/flux-v2.4.0 (pre-receive hook declined) (remote: "
        "down for maintenance); the commit is on the local branch\n"
    )
    assert git(remote, "branch", "--list") == ""
    hook.unlink()
    files, commit = snapshot(repo), git(repo, "rev-parse", "HEAD")
    again = bump(helm_server, repo, "2.4.0", "--push")
    assert again.code == 0, again.stderr
    assert git(remote, "rev-parse", "fluxbump/flux-v2.4.0") == commit
    assert "pushed fluxbump/flux-v2.4.0 (the bump an earlier run committed)" in again.stdout
    assert snapshot(repo) == files and git(repo, "rev-parse", "HEAD") == commit
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.4.0"
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("name", ["bad name", "x..y", "fix/", "-x", "v1.lock"])
def test_a_branch_name_git_refuses_is_refused_before_anything_is_written(
    tmp_path: Path, helm_server: HelmServer, name: str
) -> None:
    """It was refused by ``git update-ref`` after every file was written and the gate ran."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before, head = snapshot(repo), git(repo, "rev-parse", "HEAD")
    outcome = bump(helm_server, repo, "2.4.0", "--branch", name)
    assert (outcome.code, outcome.stdout, outcome.stderr) == (2, "", (
        f"error: --branch '{name}': not a valid git branch name (git check-ref-format "
        "--branch says why); nothing was written\n"
    ))  # fmt: skip
    assert snapshot(repo) == before and git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "branch", "--list") == "* main"


@pytest.mark.parametrize(("existing", "branch"), [
    ("fluxbump", "fluxbump/flux-v2.4.0"), ("fluxbump/flux-v2.4.0/old", "fluxbump/flux-v2.4.0"),
])  # fmt: skip
def test_a_branch_whose_name_git_holds_as_a_folder_is_refused_before_anything_is_written(
    tmp_path: Path, helm_server: HelmServer, existing: str, branch: str
) -> None:
    """git stores branches as paths: with a branch "fluxbump" (the one that added fluxbump,
    say) "fluxbump/flux-v2.4.0" cannot exist. ``update-ref`` refused it after every file
    was written and the gate ran."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    git(repo, "branch", existing)
    before, head = snapshot(repo), git(repo, "rev-parse", "HEAD")
    outcome = bump(helm_server, repo, "2.4.0")
    assert (outcome.code, outcome.stdout, outcome.stderr) == (2, "", (
        f"error: branch {branch} cannot be created beside branch {existing} (git keeps "
        "branches as paths, and one would be the other's folder); rename that one, or pass "
        "--branch NAME; nothing was written\n"
    ))  # fmt: skip
    assert snapshot(repo) == before and git(repo, "rev-parse", "HEAD") == head


def test_outside_git_works_as_no_git_and_says_so(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0
    assert "not in a git repository" in outcome.stdout
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0


@pytest.mark.parametrize("bad", ["2.4", "v2.4.0; rm -rf /", "../2.4.0", "", "2.4.0\n"])
def test_bad_release_text_is_exit_2(tmp_path: Path, helm_server: HelmServer, bad: str) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, bad)
    assert outcome.code == 2 and "is not a Flux release" in outcome.stderr
    assert snapshot(repo) == before


def test_release_without_chart_is_exit_3(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    outcome = bump(helm_server, repo, "2.5.0")
    assert outcome.code == 3 and "nearest releases" in outcome.stderr


def test_a_chart_version_given_for_a_release_names_the_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The wrapper's Chart.yaml and Renovate show flux2 chart versions (2.15.0), above every
    # Flux release: the message names the release that chart ships, not the nearest releases.
    repo = make_fleet(tmp_path / "repo", git=True)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.15.0")
    assert outcome.code == 3
    assert outcome.stderr.splitlines()[-1] == (
        "error: Flux release 2.15.0 has no 'flux2' chart in the index: 2.15.0 is the 'flux2' "
        "chart of Flux 2.5.1; give the release, 2.5.1"
    )
    assert snapshot(repo) == before


def test_detached_head_is_refused(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    git(repo, "checkout", "-q", "--detach")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 2 and "detached HEAD" in outcome.stderr
    assert snapshot(repo) == before


def test_repository_mid_merge_is_refused(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    (repo / ".git" / "MERGE_HEAD").write_text(git(repo, "rev-parse", "HEAD") + "\n")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 2 and "in the middle of a merge" in outcome.stderr
    assert snapshot(repo) == before


def test_json_failure_is_one_json_document_on_stdout(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    git(repo, "branch", "fluxbump/flux-v2.4.0")
    outcome = bump(helm_server, repo, "2.4.0", "--json")
    document = json.loads(outcome.stdout)
    assert outcome.code == 2
    assert document == {"ok": False, "error": document["error"], "exit_code": 2}
    assert "already exists" in document["error"] and "already exists" in outcome.stderr


def test_umbrella_range_that_admits_the_new_wrapper_is_kept(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    edit(repo, fleet.UMBRELLA_CHART, "    version: 1.1.1\n", "    version: ~1.1.0\n")
    git(repo, "commit", "-qam", "range")
    assert (
        run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).stdout.count(
            "range"
        )
        == 0
    )
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    diff = changed_bytes(before, snapshot(repo))
    # The range admits 1.1.2: the umbrella is neither edited nor bumped, nor its releases.
    assert fleet.UMBRELLA_CHART not in diff and fleet.UMBRELLA_BLUEPRINT not in diff
    assert not any(rel.endswith(fleet.UMBRELLA_RELEASE_FILE) for rel in diff)
    assert diff[fleet.WRAPPER_CHART][0] == ("version: 1.1.1", "version: 1.1.2")


def test_range_that_would_not_admit_the_plan_is_refused_before_writing(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, constraint="<=1.1.1")
    before = snapshot(repo)
    for args in (("--dry-run",), ()):
        outcome = bump(helm_server, repo, "2.4.0", *args)
        assert outcome.code == 1, outcome.stderr
        assert (
            f"{fleet.UMBRELLA_BLUEPRINT}:10: bp-catalyst-platform requires bp-flux <=1.1.1"
            in outcome.stderr
        )
        assert "widen the range first; nothing written" in outcome.stderr
    assert snapshot(repo) == before


def test_wrapper_app_version_recording_the_flux_release_moves_with_it(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    edit(repo, fleet.WRAPPER_CHART, "version: 1.1.1\n", 'version: 1.1.1\nappVersion: "2.3.0"\n')
    git(repo, "commit", "-qam", "appVersion records the shipped Flux release")
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    assert 'appVersion: "2.4.0"\n' in (repo / fleet.WRAPPER_CHART).read_text()


def test_rejected_push_says_why_and_keeps_the_local_commit(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    other = make_fleet(tmp_path / "other", CONSISTENT, git=True)
    git(other, "push", "-q", str(remote), "main:fluxbump/flux-v2.4.0")  # unrelated history
    repo = make_fleet(tmp_path / "work", INCIDENT, git=True)
    git(repo, "remote", "add", "origin", str(remote))
    outcome = bump(helm_server, repo, "2.4.0", "--push")
    assert outcome.code == 3
    # The remote branch is read before pushing: history that is not fluxbump's is left alone.
    assert "not only fluxbump's commits" in outcome.stderr
    assert "the commit is on the local branch" in outcome.stderr
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/flux-v2.4.0"


def first_cluster(repo: Path) -> str:
    return next(p.name for p in sorted((repo / "clusters").iterdir()) if p.name != "_template")


def test_a_pin_file_linked_out_of_the_repo_is_not_followed_and_never_written(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """git stores the link, not what it names: the file out there is no pin of this repo."""
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    rel = f"clusters/{first_cluster(repo)}/bootstrap-kit/03-flux.yaml"
    outside = tmp_path / "outside.yaml"
    (repo / rel).rename(outside)
    (repo / rel).symlink_to(outside)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fleet")
    outside_before = outside.read_bytes()
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    assert f"{rel}: a symlink to {outside}, outside the repository; not followed" in outcome.stderr
    assert outside.read_bytes() == outside_before and (repo / rel).is_symlink()
    assert rel not in git(repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()


def test_a_cluster_file_linked_to_the_template_is_bumped_once(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    rel = f"clusters/{first_cluster(repo)}/bootstrap-kit/03-flux.yaml"
    (repo / rel).unlink()
    (repo / rel).symlink_to("../../_template/bootstrap-kit/03-flux.yaml")
    outcome = bump(helm_server, repo, "2.4.0", "--no-git")
    assert outcome.code == 0, outcome.stderr
    assert (repo / rel).is_symlink()
    template = (repo / "clusters/_template/bootstrap-kit/03-flux.yaml").read_text()
    assert "version: 1.1.2" in template
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0


def test_a_link_to_the_repository_root_is_inside_it_and_not_named(tmp_path: Path) -> None:
    """A directory linked to the root (``clusters/prod/all -> ../..``) is the repository:
    not walked again (its files are found where they are), and no link out of it."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / "clusters/all").symlink_to("..")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "symlink" not in outcome.stderr


def test_push_without_the_remote_is_refused_before_any_write(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True)
    before, head = snapshot(repo), git(repo, "rev-parse", "HEAD")
    outcome = bump(helm_server, repo, "2.4.0", "--push")
    assert outcome.code == 2
    assert "--push: no git remote 'origin'" in outcome.stderr
    assert "nothing was written" in outcome.stderr
    assert snapshot(repo) == before and git(repo, "rev-parse", "HEAD") == head
    assert "fluxbump/flux-v2.4.0" not in git(repo, "branch", "--list")
    refused = bump(helm_server, repo, "2.4.0", "--push", "--no-git")
    assert refused.code == 2 and "drop --no-git" in refused.stderr
    assert snapshot(repo) == before


def test_a_pin_file_linked_to_another_file_of_the_repo_is_committed_where_it_lives(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    rel = f"clusters/{first_cluster(repo)}/bootstrap-kit/03-flux.yaml"
    (repo / "shared").mkdir()
    (repo / rel).rename(repo / "shared/flux.yaml")
    (repo / rel).symlink_to("../../../shared/flux.yaml")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fleet")
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "status", "--porcelain") == ""  # nothing written was left out
    assert "version: 1.1.2" in git(repo, "show", "HEAD:shared/flux.yaml")
    assert "shared/flux.yaml" in git(repo, "show", "--name-only", "--format=", "HEAD")


def test_what_a_passing_gate_command_leaves_running_is_killed(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    writer = LateWriter(tmp_path, "", "exit 0")
    repo = gated_fleet(tmp_path / "repo", f"gate:\n  commands: ['sh {writer.script}']\n")
    outcome = bump(helm_server, repo, "2.4.0")
    assert outcome.code == 0, outcome.stderr
    writer.release_and_wait()
    assert "late-write" not in (repo / fleet.WRAPPER_CHART).read_text()
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("code", [0, 1])
def test_a_gate_command_that_leaves_its_session_cannot_write_later(
    tmp_path: Path, helm_server: HelmServer, code: int
) -> None:
    # `setsid cmd &` leaves the gate command's process group and session (issue 23).
    writer = LateWriter(tmp_path, "setsid", f"exit {code}")
    target = tmp_path / "repo" / fleet.WRAPPER_CHART
    repo = gated_fleet(tmp_path / "repo", f"gate:\n  commands: ['sh {writer.script}']\n")
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.4.0")
    writer.release_and_wait()
    if code == 1:
        assert outcome.code == 1 and "exited 1" in outcome.stderr, outcome.stderr
        assert snapshot(repo) == before
        assert "fluxbump/flux-v2.4.0" not in git(repo, "branch")
    else:
        assert outcome.code == 0, outcome.stderr
        assert "late-write" not in target.read_text()
        assert git(repo, "status", "--porcelain") == ""
