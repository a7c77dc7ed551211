"""The CRD guard's history of an install that moved: a pin file deleted in the commit that
wrote today's install elsewhere (a cloud-init template moved and rewritten, a kustomize
install of Flux's manifests replaced by an OCIRepository or a HelmRelease of the chart) still
says which releases the clusters ran. The history read only the files that pin Flux today,
so the guard judged every version the old install stored "served only" and let an upgrade
drop it: the incident's failure (a CRD update rejected over ``status.storedVersions``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, git, init_git, make_fleet, snapshot, write_repo
from tests.test_direct_flux import release
from tests.test_release_pin_history import KINDS, at

FLUX_2_7 = {"flux_release": "2.7.5", "flux_chart": "2.17.2"}
MOVED = "bootstrap/flux/cloudinit.tftpl"

# Flux 2.3.0's chart stored Buckets as v1beta2; only the removed template pinned it, which the
# refusal names (no file of today shows it).
REMOVED_TEMPLATE_BUCKETS = (
    "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0, pinned by "
    f"{fleet.CLOUDINIT} before it was removed)"
)


def dry_run(repo: Path, target: str) -> Outcome:
    return run_cli("to", target, "--repo", str(repo), "--offline", "--dry-run")


def replace_files(repo: Path, gone: list[str], written: dict[str, str], message: str) -> None:
    """One commit that deletes ``gone`` and writes ``written`` (path -> text)."""
    git(repo, "rm", "-rq", *gone)
    for rel, text in written.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def assert_refused(outcome: Outcome, stored: str) -> None:
    assert outcome.code == 4, outcome.stdout + outcome.stderr
    assert stored in outcome.stderr.strip().splitlines()[-1], outcome.stderr


def kustomize_replaced_by_oci(root: Path) -> Path:
    """Flux 2.4.0 from a kustomize remote, replaced by a flux-manifests OCIRepository at 2.7.5."""
    repo = write_repo(root, at(KINDS["kustomize remote"], "2.4.0"))
    oci = at(KINDS["flux-manifests OCIRepository"], "2.7.5")
    replace_files(repo, ["bootstrap/kustomization.yaml"], oci, "Flux from OCI")
    return repo


def test_a_kustomize_install_replaced_by_an_ocirepository_keeps_its_history(
    tmp_path: Path,
) -> None:
    # 2.4.0 stored OCIRepositories as v1beta2; 2.7.5 serves it, 2.8.5 does not.
    repo = kustomize_replaced_by_oci(tmp_path / "repo")
    before = snapshot(repo)
    assert_refused(
        dry_run(repo, "2.8.5"),
        "ocirepositories.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.14.0, pinned by "
        "bootstrap/kustomization.yaml before it was removed)",
    )
    assert snapshot(repo) == before


def test_a_kustomize_install_replaced_by_a_helmrelease_of_the_chart_keeps_its_history(
    tmp_path: Path,
) -> None:
    # Flux 2.0.1 stored HelmReleases as v2beta1, which Flux 2.6.4 still serves and 2.7.5 does not.
    repo = write_repo(tmp_path / "repo", at(KINDS["kustomize remote"], "2.0.1"))
    chart = {"clusters/prod/flux-system/flux.yaml": release("2.16.4")}
    replace_files(repo, ["bootstrap/kustomization.yaml"], chart, "Flux from the chart")
    assert_refused(
        dry_run(repo, "2.7.5"), "helmreleases.helm.toolkit.fluxcd.io/v2beta1 (stored by flux2 2.9"
    )


def test_a_cloud_init_template_moved_and_rewritten_keeps_its_history(tmp_path: Path) -> None:
    # Git sees no rename (the new template shares too little with the old one): only the old
    # template ever pinned Flux 2.3.0, whose chart 2.13.0 stored Buckets as v1beta2.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    old = repo / fleet.CLOUDINIT
    old.write_text(old.read_text().replace("v2.7.5", "v2.3.0"))
    git(repo, "commit", "-qam", "Flux 2.3.0 at boot")
    rewritten = (
        "#cloud-config\nruncmd:\n  - kubectl apply -f "
        "https://github.com/fluxcd/flux2/releases/download/v2.7.5/install.yaml\n"
    )
    replace_files(repo, [fleet.CLOUDINIT], {MOVED: rewritten}, "one bootstrap template")
    assert "R" not in git(repo, "show", "-M", "--name-status", "--format=", "HEAD").split()
    assert_refused(dry_run(repo, "2.8.5"), REMOVED_TEMPLATE_BUCKETS)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # 2.7.5 still serves what 2.3.0 stored


def test_an_install_deleted_before_the_move_is_read_through_the_move(tmp_path: Path) -> None:
    # Two moves: a kustomize remote at 2.0.1, then a template at 2.4.0, then an OCIRepository:
    # the first install is found through the second (deleted in its turn).
    repo = write_repo(tmp_path / "repo", at(KINDS["kustomize remote"], "2.0.1"))
    template = {MOVED: "runcmd:\n  - kubectl apply -f https://github.com/fluxcd/flux2/releases"
                "/download/v2.4.0/install.yaml\n"}  # fmt: skip
    replace_files(repo, ["bootstrap/kustomization.yaml"], template, "Flux at boot")
    oci = at(KINDS["flux-manifests OCIRepository"], "2.6.4")
    replace_files(repo, [MOVED], oci, "Flux from OCI")
    assert_refused(dry_run(repo, "2.7.5"), "helmreleases.helm.toolkit.fluxcd.io/v2beta1 (stored")


def test_without_the_old_install_the_same_move_passes(tmp_path: Path) -> None:
    # The refusals above come from the deleted file: the same OCIRepository, never moved.
    repo = write_repo(tmp_path / "repo", at(KINDS["flux-manifests OCIRepository"], "2.7.5"))
    outcome = dry_run(repo, "2.8.5")
    assert outcome.code == 0, outcome.stderr


def test_a_shallow_clone_reads_the_history_it_has_and_says_so(tmp_path: Path) -> None:
    # actions/checkout fetches one commit: the old install is not there to read. The run
    # works on what it has and says that older releases are unknown (no traceback).
    origin = kustomize_replaced_by_oci(tmp_path / "origin")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", origin.as_uri(), str(clone)], check=True)
    for command in (["to", "2.8.5", "--dry-run"], ["resolve", "latest", "--safe"]):
        outcome = run_cli(*command, "--repo", str(clone), "--offline")
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert "Traceback" not in outcome.stderr
        assert (
            f"warning: {clone} is a shallow clone: the CRD guard read 1 commit(s) of the pin "
            "files' history, so a release installed before them is unknown; run git fetch "
            "--unshallow (actions/checkout: fetch-depth: 0)"
        ) in outcome.stderr, outcome.stderr


def test_a_regenerated_fleet_reads_the_install_kinds_first_and_says_what_it_left(
    tmp_path: Path,
) -> None:
    # A commit that regenerates the fleet deletes thousands of YAML files with the old
    # template: the template is read first, and the files past the read limit are named.
    from fluxbump.vcs.git import DELETED_READ_LIMIT

    repo = make_fleet(tmp_path / "repo", CONSISTENT, **FLUX_2_7)
    old = repo / fleet.CLOUDINIT
    old.write_text(old.read_text().replace("v2.7.5", "v2.3.0"))
    generated = [f"generated/app-{n:04}.yaml" for n in range(DELETED_READ_LIMIT + 1)]
    for rel in generated:
        (repo / rel).parent.mkdir(exist_ok=True)
        (repo / rel).write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {rel}\n")
    init_git(repo)
    rewritten = (
        "#cloud-config\nruncmd:\n  - kubectl apply -f "
        "https://github.com/fluxcd/flux2/releases/download/v2.7.5/install.yaml\n"
    )
    replace_files(repo, [fleet.CLOUDINIT, "generated"], {MOVED: rewritten}, "regenerated")
    outcome = dry_run(repo, "2.8.5")
    assert_refused(outcome, REMOVED_TEMPLATE_BUCKETS)
    assert (
        f"warning: the CRD guard read {DELETED_READ_LIMIT} versions of files deleted from the "
        "repository, not all of them: a release one of the others installed is unknown"
    ) in outcome.stderr, outcome.stderr


def test_a_repository_in_a_subdirectory_reads_no_install_deleted_outside_it(
    tmp_path: Path,
) -> None:
    # The work tree holds two repositories' files; fluxbump runs on gitops/. Another team's
    # kustomize install at 2.4.0, deleted in the same commit, never ran these clusters.
    top = tmp_path / "work"
    files = {f"other/{rel}": text for rel, text in at(KINDS["kustomize remote"], "2.4.0").items()}
    files["gitops/README.md"] = "the clusters\n"
    write_repo(top, files)
    oci = {
        f"gitops/{rel}": t for rel, t in at(KINDS["flux-manifests OCIRepository"], "2.7.5").items()
    }
    replace_files(top, ["other/bootstrap/kustomization.yaml"], oci, "Flux from OCI")
    outcome = dry_run(top / "gitops", "2.8.5")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    # The same move inside gitops/ is read, and refused.
    inside = write_repo(tmp_path / "inside", {f"gitops/{rel}": text for rel, text in
                        at(KINDS["kustomize remote"], "2.4.0").items()})  # fmt: skip
    replace_files(inside, ["gitops/bootstrap/kustomization.yaml"], oci, "Flux from OCI")
    assert_refused(dry_run(inside / "gitops", "2.8.5"), "ocirepositories.source.toolkit")
