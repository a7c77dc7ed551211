"""The CRD guard's history of an install deleted on its own: a pin file removed by a commit of
its own (after today's install was added, or by a pull request's merge), or while a
HelmRelease of the chart was appended to a file that already existed. Its clusters ran what it
pinned, whatever today's layout; the history only followed a pin file the commit adding one of
today's deleted (``test_pin_history_moves.py``), so it judged every version the old install
stored "served only" and let an upgrade drop it: the incident's failure (a CRD update rejected
over ``status.storedVersions``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, git, make_fleet, snapshot, write_repo
from tests.test_direct_flux import cloud_init, release
from tests.test_pin_history_moves import FLUX_2_7, assert_refused, dry_run
from tests.test_release_pin_history import KINDS, at

TEMPLATE = "clusters/x/flux.tftpl"
HELMRELEASE = "clusters/prod/flux-system/flux.yaml"
# Flux 2.3.0's chart (flux2 2.13.0) stored Buckets as v1beta2: 2.7.5 serves it, 2.8.5 does not.
BUCKETS = "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0)"


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


def test_a_template_deleted_by_the_merge_itself_keeps_its_history(tmp_path: Path) -> None:
    # The merge commit alone deletes it (the pull request's branch left it): git log shows a
    # merge's own changes only against a parent.
    repo = template_then_chart(tmp_path / "repo")
    git(repo, "switch", "-qc", "readme")
    commit(repo, {"README.md": "the clusters\n"}, "a readme")
    git(repo, "switch", "-q", "main")
    commit(repo, {"NOTES.md": "notes\n"}, "notes")
    git(repo, "merge", "-q", "--no-ff", "--no-commit", "readme")
    git(repo, "rm", "-q", TEMPLATE)
    git(repo, "commit", "-qm", "Merge pull request #8")
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


def test_a_wrapper_fleet_whose_template_was_deleted_on_its_own_keeps_its_history(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    old = repo / fleet.CLOUDINIT
    old.write_text(old.read_text().replace("v2.7.5", "v2.3.0"))
    git(repo, "commit", "-qam", "Flux 2.3.0 at boot")
    commit(repo, {}, "no cloud-init install", gone=(fleet.CLOUDINIT,))
    assert_refused(dry_run(repo, "2.8.5"), BUCKETS)


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
