"""The CRD guard's history of an install deleted on its own: a pin file removed by a commit of
its own (after today's install was added, or by a pull request's merge), or while a
HelmRelease of the chart was appended to a file that already existed, or added and deleted
since the oldest commit of the pin files' history (a template that bootstrapped a cluster). Its clusters ran what it
pinned, whatever today's layout; the history only followed a pin file the commit adding one of
today's deleted (``test_pin_history_moves.py``), so it judged every version the old install
stored "served only" and let an upgrade drop it: the incident's failure (a CRD update rejected
over ``status.storedVersions``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, git, make_fleet, snapshot, write_repo
from tests.test_direct_flux import cloud_init, release
from tests.test_pin_history_moves import (
    FLUX_2_7,
    REMOVED_TEMPLATE_BUCKETS,
    assert_refused,
    dry_run,
)
from tests.test_release_pin_history import KINDS, at

TEMPLATE = "clusters/x/flux.tftpl"
HELMRELEASE = "clusters/prod/flux-system/flux.yaml"
# Flux 2.3.0's chart (flux2 2.13.0) stored Buckets as v1beta2: 2.7.5 serves it, 2.8.5 does not.
# (pinned by the deleted template: no file of today shows it)
BUCKETS = (
    "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0, pinned by "
    f"{TEMPLATE} before it was removed)"
)


def commit(repo: Path, written: dict[str, str], message: str, gone: tuple[str, ...] = ()) -> None:
    """One commit that writes ``written`` (path -> text) and deletes ``gone``."""
    for rel, text in written.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    if gone:
        git(repo, "rm", "-q", *gone)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def template_then_chart(root: Path) -> Path:
    """Commit A installs Flux 2.3.0 at boot; commit B adds a HelmRelease of the chart at 2.17.2
    (Flux 2.7.5) beside it."""
    repo = write_repo(root, {TEMPLATE: cloud_init("v2.3.0")})
    commit(repo, {HELMRELEASE: release("2.17.2")}, "Flux from the chart")
    return repo


def test_a_template_deleted_after_the_chart_was_added_keeps_its_history(tmp_path: Path) -> None:
    repo = template_then_chart(tmp_path / "repo")
    commit(repo, {}, "the template is gone", gone=(TEMPLATE,))
    before = snapshot(repo)
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)
    assert snapshot(repo) == before
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # 2.7.5 still serves what 2.3.0 stored


def test_a_template_a_merged_pull_request_deleted_keeps_its_history(tmp_path: Path) -> None:
    # The deletion is a commit of the pull request's branch, merged with a merge commit.
    repo = template_then_chart(tmp_path / "repo")
    git(repo, "switch", "-qc", "drop-template")
    commit(repo, {}, "the template is gone", gone=(TEMPLATE,))
    git(repo, "switch", "-q", "main")
    commit(repo, {"README.md": "the clusters\n"}, "a readme")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "drop-template")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def merge_deleting_the_template(repo: Path, message: str) -> None:
    """A pull request's branch that leaves the template, merged by a merge commit that alone
    deletes it: git log shows a merge's own changes only against a parent."""
    git(repo, "switch", "-qc", "readme")
    commit(repo, {"README.md": "the clusters\n"}, "a readme")
    git(repo, "switch", "-q", "main")
    commit(repo, {"NOTES.md": "notes\n"}, "notes")
    git(repo, "merge", "-q", "--no-ff", "--no-commit", "readme")
    git(repo, "rm", "-q", TEMPLATE)
    git(repo, "commit", "-qm", message)


def test_a_template_deleted_by_the_merge_itself_keeps_its_history(tmp_path: Path) -> None:
    repo = template_then_chart(tmp_path / "repo")
    merge_deleting_the_template(repo, "Merge pull request #8")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_wrapper_fleet_whose_template_was_deleted_on_its_own_keeps_its_history(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    old = repo / fleet.CLOUDINIT
    old.write_text(old.read_text().replace("v2.7.5", "v2.3.0"))
    git(repo, "commit", "-qam", "Flux 2.3.0 at boot")
    commit(repo, {}, "no cloud-init install", gone=(fleet.CLOUDINIT,))
    assert_refused(dry_run(repo, "2.8.5"), REMOVED_TEMPLATE_BUCKETS)


@pytest.mark.parametrize("separate", [False, True], ids=["same commit", "separate commit"])
def test_a_helmrelease_appended_while_the_kustomize_install_is_deleted_keeps_its_history(
    tmp_path: Path, separate: bool
) -> None:
    # Flux 2.0.1 stored HelmReleases as v2beta1, which Flux 2.6.4 still serves and 2.7.5 does
    # not. The HelmRelease joins a file that held other objects: no pin file was added.
    infra, kustomize = "clusters/prod/infra.yaml", "bootstrap/kustomization.yaml"
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n---\n"
    repo = write_repo(tmp_path / "repo", {**at(KINDS["kustomize remote"], "2.0.1"),
                                           infra: namespace})  # fmt: skip
    appended = {infra: namespace + release("2.16.4")}
    if separate:
        commit(repo, appended, "Flux from the chart")
        commit(repo, {}, "no kustomize install", gone=(kustomize,))
    else:
        commit(repo, appended, "Flux from the chart", gone=(kustomize,))
    assert_refused(
        dry_run(repo, "2.7.5"), "helmreleases.helm.toolkit.fluxcd.io/v2beta1 (stored by flux2 2.9"
    )


def test_a_deleted_file_that_pinned_nothing_changes_nothing(tmp_path: Path) -> None:
    # The refusals above come from the deleted pins: a deleted template of another tool, and
    # a deleted YAML file naming flux2 outside any pin, leave the same upgrade allowed.
    repo = write_repo(tmp_path / "repo", {
        "clusters/x/other.tftpl": "#cloud-config\nruncmd:\n  - echo v2.3.0\n",
        "docs/flux2.yaml": "note: flux2 2.13.0 was tried once\n",
        HELMRELEASE: release("2.17.2"),
    })  # fmt: skip
    commit(repo, {}, "cleanup", gone=("clusters/x/other.tftpl", "docs/flux2.yaml"))
    outcome = dry_run(repo, "2.8.5")
    assert outcome.code == 0, outcome.stdout + outcome.stderr


def test_a_shallow_clone_of_a_deleted_install_warns_and_works(tmp_path: Path) -> None:
    # actions/checkout fetches one commit: the deleted template is not there to read, and the
    # run says older releases are unknown (no traceback). Two commits hold it (its last
    # version, in the commit that added the HelmRelease): refused.
    origin = template_then_chart(tmp_path / "origin")
    commit(origin, {}, "the template is gone", gone=(TEMPLATE,))
    for depth, code in ((1, 0), (2, 4)):
        clone = tmp_path / f"clone-{depth}"
        subprocess.run(["git", "clone", "-q", f"--depth={depth}", origin.as_uri(), str(clone)],
                       check=True)  # fmt: skip
        outcome = dry_run(clone, "2.8.5")
        assert outcome.code == code, outcome.stdout + outcome.stderr
        assert "Traceback" not in outcome.stderr
        assert f"warning: {clone} is a shallow clone" in outcome.stderr, outcome.stderr


def chart_then_short_lived_template(root: Path, start: str) -> Path:
    """Commit A deploys Flux 2.7.5 (a HelmRelease of the chart at 2.17.2, or the wrapper
    fleet), commit B adds a template installing Flux 2.3.0 at boot, commit C deletes it: a
    file in neither the oldest commit the pin files' history reads nor HEAD."""
    if start == "wrapper":
        repo = make_fleet(root, CONSISTENT, git=True, **FLUX_2_7)
    else:
        repo = write_repo(root, {HELMRELEASE: release("2.17.2")})
    commit(repo, {TEMPLATE: cloud_init("v2.3.0")}, "boot Flux 2.3.0 on cluster x")
    commit(repo, {}, "cluster x bootstraps from the chart now", gone=(TEMPLATE,))
    return repo


@pytest.mark.parametrize("start", ["helmrelease", "wrapper"])
def test_a_template_added_and_deleted_after_the_chart_keeps_its_history(
    tmp_path: Path, start: str
) -> None:
    # A cluster bootstrapped by commit B may still store what Flux 2.3.0 stored.
    repo = chart_then_short_lived_template(tmp_path / "repo", start)
    before = snapshot(repo)
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)
    assert snapshot(repo) == before


def later_commits(repo: Path, count: int) -> None:
    """``count`` commits on top of HEAD changing nothing (one ``git fast-import``: a process
    a commit cost seconds), each a second newer than the last."""
    head = git(repo, "rev-parse", "HEAD")
    now = int(git(repo, "log", "-1", "--format=%ct"))
    stream = "".join(
        f"commit refs/heads/main\ncommitter t <t@fluxbump.invalid> {now + n} +0000\n"
        f"data 7\nlater {n % 10}\n" + (f"from {head}\n" if n == 1 else "") + "\n"
        for n in range(1, count + 1)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream.encode(), check=True)


def test_a_short_lived_template_older_than_the_newest_200_commits_keeps_its_history(
    tmp_path: Path,
) -> None:
    # The walk of deleted files read the newest 200 commits only: the template's were older
    # (while newer than the HelmRelease, the oldest commit the history reads), and the
    # upgrade that drops what Flux 2.3.0 stored passed.
    from fluxbump.vcs.git import WALKED_COMMITS

    repo = chart_then_short_lived_template(tmp_path / "repo", "helmrelease")
    later_commits(repo, WALKED_COMMITS)
    outcome = dry_run(repo, "2.8.5")
    assert_refused(outcome, BUCKETS)
    assert "the CRD guard read" not in outcome.stderr, outcome.stderr  # (it read them all)


def test_the_walk_reaches_back_as_far_as_a_renamed_pin_file_is_read(tmp_path: Path) -> None:
    # Today's HelmRelease was renamed 200 commits after the template came and went: its
    # history is read back through the rename, but the walk counted the commits since the
    # rename only.
    from fluxbump.vcs.git import WALKED_COMMITS

    before = "clusters/prod/flux.yaml"
    repo = write_repo(tmp_path / "repo", {before: release("2.17.2")})
    commit(repo, {TEMPLATE: cloud_init("v2.3.0")}, "boot Flux 2.3.0 on cluster x")
    commit(repo, {}, "cluster x bootstraps from the chart now", gone=(TEMPLATE,))
    later_commits(repo, WALKED_COMMITS)
    (repo / HELMRELEASE).parent.mkdir(parents=True)
    git(repo, "mv", before, HELMRELEASE)
    commit(repo, {}, "Flux under flux-system/")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_short_lived_template_past_the_walk_makes_the_history_bounded(tmp_path: Path) -> None:
    # More commits since the oldest one the history reads than the walk reads: older pins are
    # unknown, as past the history's own bound (--json's history.bounded; a refusal says so).
    # Not a warning: every run of a repository whose pin files are older than its newest
    # WALK_LIMIT commits printed one.
    from fluxbump.vcs.git import WALK_LIMIT

    repo = chart_then_short_lived_template(tmp_path / "repo", "helmrelease")
    later_commits(repo, WALK_LIMIT)
    outcome = run_cli("to", "2.8.5", "--dry-run", "--offline", "--json", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert json.loads(outcome.stdout)["crds"]["history"]["bounded"] is True
    assert "CRD guard" not in outcome.stderr, outcome.stderr


def test_check_names_what_a_short_lived_template_stored(tmp_path: Path) -> None:
    # The wrapper's chart moved to 2.18.3 (Flux 2.8.3) while cloud-init still installs 2.7.5:
    # check judges the drop against the pin history, and the deleted template stored it.
    repo = chart_then_short_lived_template(tmp_path / "repo", "wrapper")
    for rel in (fleet.WRAPPER_CHART, fleet.WRAPPER_VALUES):
        path = repo / rel
        path.write_text(path.read_text("utf-8").replace("2.17.2", "2.18.3"), "utf-8")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"CRDs stop serving {BUCKETS}" in check.stdout, check.stdout


def test_a_template_added_and_deleted_on_a_merged_branch_keeps_its_history(
    tmp_path: Path,
) -> None:
    # Both commits are on the pull request's branch, and the merge commit deletes nothing.
    repo = write_repo(tmp_path / "repo", {HELMRELEASE: release("2.17.2")})
    git(repo, "switch", "-qc", "try-boot-install")
    commit(repo, {TEMPLATE: cloud_init("v2.3.0")}, "boot Flux 2.3.0 on cluster x")
    commit(repo, {}, "back to the chart", gone=(TEMPLATE,))
    git(repo, "switch", "-q", "main")
    commit(repo, {"README.md": "the clusters\n"}, "a readme")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #9", "try-boot-install")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_template_added_after_the_chart_and_deleted_by_a_merge_keeps_its_history(
    tmp_path: Path,
) -> None:
    repo = write_repo(tmp_path / "repo", {HELMRELEASE: release("2.17.2")})
    commit(repo, {TEMPLATE: cloud_init("v2.3.0")}, "boot Flux 2.3.0 on cluster x")
    merge_deleting_the_template(repo, "Merge pull request #10")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_template_deleted_before_the_chart_was_added_keeps_its_history(tmp_path: Path) -> None:
    # Cluster x was bootstrapped by the template, which was deleted a commit before today's
    # HelmRelease was added: the oldest commit of the pin files' history holds neither.
    repo = write_repo(tmp_path / "repo", {TEMPLATE: cloud_init("v2.3.0")})
    commit(repo, {}, "no boot install", gone=(TEMPLATE,))
    commit(repo, {HELMRELEASE: release("2.17.2")}, "Flux from the chart")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


# A template whose release comes from a Terraform variable pins nothing fluxbump can read.
UNPINNED = cloud_init("v${flux_version}")


@pytest.mark.parametrize(
    "versions",
    [(UNPINNED, cloud_init("v2.3.0")), (cloud_init("v2.3.0"), UNPINNED)],
    ids=["pinned later", "pinned first"],
)
@pytest.mark.parametrize("held", [True, False], ids=["held by the oldest commit", "added later"])
def test_a_deleted_template_is_picked_by_any_version_that_pinned(
    tmp_path: Path, versions: tuple[str, str], held: bool
) -> None:
    # Whether a deleted file is read as a pin file was decided by one version of it: the one
    # the oldest commit read held (or the last). A template that pinned Flux 2.3.0 only in
    # the other version was never read, though the clusters it bootstrapped ran 2.3.0.
    first, then = versions
    files = {HELMRELEASE: release("2.17.2")}
    repo = write_repo(tmp_path / "repo", {**files, TEMPLATE: first} if held else files)
    if not held:
        commit(repo, {TEMPLATE: first}, "boot Flux on cluster x")
    commit(repo, {TEMPLATE: then}, "the boot install changed")
    commit(repo, {}, "the template is gone", gone=(TEMPLATE,))
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


@pytest.mark.parametrize(
    "then",
    [None, UNPINNED, cloud_init("v2.7.5")],
    ids=["moved as it was", "moved and unpinned", "moved and pinned to 2.7.5"],
)
def test_a_template_renamed_then_deleted_is_named_where_it_pinned(
    tmp_path: Path, then: str | None
) -> None:
    # git mv, then a later commit deletes the new path: the versions under the old path were
    # no versions of the deleted file, so with the moved one unpinned the upgrade that drops
    # what Flux 2.3.0 stored passed, and otherwise the refusal named the path that never
    # pinned 2.3.0.
    moved = "bootstrap/x/flux.tftpl"
    repo = write_repo(tmp_path / "repo", {HELMRELEASE: release("2.17.2")})
    commit(repo, {TEMPLATE: cloud_init("v2.3.0")}, "boot Flux 2.3.0 on cluster x")
    (repo / moved).parent.mkdir(parents=True)
    git(repo, "mv", TEMPLATE, moved)
    commit(repo, {moved: then} if then is not None else {}, "the boot template moves")
    assert git(repo, "show", "-M", "--name-status", "--format=", "HEAD").startswith("R")
    commit(repo, {}, "cluster x bootstraps from the chart now", gone=(moved,))
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_shallow_clone_holding_the_short_lived_template_refuses(tmp_path: Path) -> None:
    # Depth 2 holds the commit that deleted the template and the one that added it.
    origin = chart_then_short_lived_template(tmp_path / "origin", "helmrelease")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=2", origin.as_uri(), str(clone)], check=True)
    outcome = dry_run(clone, "2.8.5")
    assert_refused(outcome, BUCKETS)
    assert f"warning: {clone} is a shallow clone" in outcome.stderr, outcome.stderr


def test_a_repository_moved_whole_recently_reads_no_deleted_file(tmp_path: Path) -> None:
    # Every file of apps/ moved under k8s/ in one of the newest commits: git sees renames, not
    # 1,100 deleted files to read (more than the 1,000 read, which a warning would say).
    apps = {f"apps/a{n:04}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a{n}\n"
            for n in range(1100)}  # fmt: skip
    repo = write_repo(tmp_path / "repo", {HELMRELEASE: release("2.17.2"), **apps})
    (repo / "k8s").mkdir()
    git(repo, "mv", "apps", "k8s/apps")
    git(repo, "commit", "-qm", "apps under k8s/")
    outcome = dry_run(repo, "2.8.5")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "deleted from the repository" not in outcome.stderr, outcome.stderr
