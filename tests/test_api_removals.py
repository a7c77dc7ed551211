"""The upgrade path across Flux API removals (issue 20), through the CLI on real git repos and
the real CRD catalog: Flux 2.7 (flux2 chart 2.17.x) stops serving every ``v1beta1``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fluxbump import fleet
from fluxbump.fleet import FleetSpec, write_fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.data import manifest
from tests.support.fixtures import (
    CONSISTENT,
    changed_lines,
    commit_file,
    git,
    init_git,
    make_fleet,
    snapshot,
)
from tests.support.forge_server import ForgeServer, serve
from tests.support.helm_server import HelmServer

FLUX_2_6 = {"flux_release": "2.6.4", "flux_chart": "2.16.4"}
FLUX_2_7 = {"flux_release": "2.7.5", "flux_chart": "2.17.2"}
CLUSTERS = (
    "clusters/muscat.omani.works/bootstrap-kit",
    "clusters/omantel.omani.works/bootstrap-kit",
    "clusters/salalah.omani.works/bootstrap-kit",
)


# Flux 2.2.3 (chart 2.12.4) stored ImageUpdateAutomations as v1beta1, which 2.7 and 2.8 drop.
STORED_V1BETA1 = (("2.2.3", "2.12.4"), ("2.6.4", "2.16.4"))
# Flux 2.3.0 (chart 2.13.0) stored Buckets and OCIRepositories as v1beta2, which 2.8 drops.
STORED_V1BETA2 = (("2.3.0", "2.13.0"), ("2.6.4", "2.16.4"))


def bump(server: HelmServer, repo: Path, *args: str) -> Outcome:
    return run_cli("to", *args, "--repo", str(repo), "--helm-repo", server.base_url)


def repo_with_history(root: Path, *releases: tuple[str, str]) -> Path:
    """A git fleet that pinned each (Flux release, flux2 chart) in turn, one commit each."""
    first, *later = releases
    make_fleet(root, CONSISTENT, git=True, flux_release=first[0], flux_chart=first[1])
    for release, chart in later:
        write_fleet(root, FleetSpec(flux_release=release, flux_chart=chart))
        git(root, "commit", "-qam", f"Flux {release}")
    return root


# --- 1. the guard tells the truth --------------------------------------------------------


def test_history_that_stored_a_dropped_version_refuses_with_the_steps(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA1)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.7.5")
    assert outcome.code == 4, outcome.stderr
    error = outcome.stderr.strip()
    assert "\n" not in error
    assert (
        "imageupdateautomations.image.toolkit.fluxcd.io/v1beta1 (stored by flux2 2.12.3)" in error
    )
    # Served by 2.6 but never stored by a pinned release: not the reason for the refusal.
    assert "alerts.notification.toolkit.fluxcd.io/v1beta1" not in error.split("; steps:")[0]
    steps = error.split("steps: ", 1)[1]
    assert all(cluster in steps for cluster in CLUSTERS)
    assert "`flux migrate --context" in steps
    assert "--crds-migrated" in steps and "--force-unsafe-crds" in steps
    assert snapshot(repo) == before
    assert git(repo, "branch", "--list", "fluxbump/*") == ""


def test_the_clusters_to_migrate_leave_out_templates_hidden_and_excluded_directories(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA1)
    # A hidden copy of a cluster, and a cluster the configuration excludes (a directory glob).
    hidden = repo / "clusters/.archive/bootstrap-kit"
    hidden.mkdir(parents=True)
    (hidden / "03-flux.yaml").write_bytes((repo / CLUSTERS[0] / "03-flux.yaml").read_bytes())
    commit_file(repo, ".fluxbump.yaml", f"exclude:\n  - {CLUSTERS[2]}\n", "exclude one")
    outcome = bump(helm_server, repo, "2.7.5")
    assert outcome.code == 4, outcome.stderr
    where = outcome.stderr.split("for each cluster deploying Flux (", 1)[1].split(")", 1)[0]
    # clusters/_template deploys Flux too (a HelmRelease of the wrapper), but is no cluster.
    assert (repo / "clusters/_template").is_dir()
    assert where == f"{CLUSTERS[0]}, {CLUSTERS[1]}"


def test_crds_migrated_records_it_and_proceeds(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA1)
    outcome = bump(helm_server, repo, "2.7.5", "--crds-migrated", "--json")
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["crds"]["migrated"] is True and report["crds"]["safe"] is True
    assert report["crds"]["history"]["charts"] == ["2.12.3", "2.12.4", "2.16.3", "2.16.4"]
    assert "--crds-migrated: recorded that stored objects were migrated" in outcome.stderr
    assert (
        "v2.7.5/install.yaml" in (repo / "infra/hetzner/cloudinit-control-plane.tftpl").read_text()
    )


def test_history_that_never_stored_the_dropped_versions_warns_and_proceeds(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_6)
    outcome = bump(helm_server, repo, "2.7.5", "--json")
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["crds"]["stored"] == []
    assert (
        "alerts.notification.toolkit.fluxcd.io/v1beta1 (served only)"
        in (report["crds"]["served_only"])
    )
    assert (
        "warning: flux2 2.16.4 (platform/flux/chart/Chart.yaml:10 and 1 more) -> flux2 2.17.2 "
        "stops serving helmreleases.helm.toolkit.fluxcd.io/v2beta1 (served only): no release this "
        "repository pinned stored it" in outcome.stderr
    )
    assert git(repo, "log", "-1", "--format=%s").startswith("Bump Flux to v2.7.5")


def test_without_git_every_served_version_counts_and_it_says_so(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **FLUX_2_6)
    outcome = bump(helm_server, repo, "2.7.5")
    assert outcome.code == 4, outcome.stderr
    assert "no git history: every served version is treated as stored" in outcome.stderr
    assert "alerts.notification.toolkit.fluxcd.io/v1beta1" in outcome.stderr


def test_crds_migrated_never_passes_a_drop_of_the_current_storage_version(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # flux2 2.13.0 does not serve buckets v1, the storage version of the running 2.14.1.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    outcome = bump(helm_server, repo, "2.3.0", "--allow-downgrade", "--crds-migrated")
    assert outcome.code == 4, outcome.stderr
    assert "buckets.source.toolkit.fluxcd.io/v1 (storage version now)" in outcome.stderr
    assert "no migration frees the current storage version" in outcome.stderr


# --- 2. manifests follow the API ---------------------------------------------------------

FLUX_OBJECTS = "clusters/omantel.omani.works/apps/flux-objects.yaml"
OBJECTS = manifest("flux-objects-flux-2-6.yaml")  # v1beta1 objects, and one v1beta2


def fleet_with_objects(root: Path, text: str = OBJECTS) -> Path:
    repo = make_fleet(root, CONSISTENT, git=True, **FLUX_2_6)
    return commit_file(repo, FLUX_OBJECTS, text, "Flux objects")


def test_to_2_7_moves_exactly_the_unserved_api_versions(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with_objects(tmp_path / "repo")
    outcome = bump(helm_server, repo, "2.7.5")
    assert outcome.code == 0, outcome.stderr
    assert changed_lines(repo, FLUX_OBJECTS) == [
        "-apiVersion: source.toolkit.fluxcd.io/v1beta1",
        "+apiVersion: source.toolkit.fluxcd.io/v1",
        "-apiVersion: kustomize.toolkit.fluxcd.io/v1beta1   # written for Flux 0.x",
        "+apiVersion: kustomize.toolkit.fluxcd.io/v1   # written for Flux 0.x",
        '-apiVersion: "notification.toolkit.fluxcd.io/v1beta1"',
        '+apiVersion: "notification.toolkit.fluxcd.io/v1beta3"',
        # Still served by 2.7 but deprecated ("v1beta2 HelmRepository is deprecated, upgrade
        # to v1", the CRD's deprecationWarning): moved in the same commit.
        "-apiVersion: source.toolkit.fluxcd.io/v1beta2",
        "+apiVersion: source.toolkit.fluxcd.io/v1",
    ]
    # Only those four lines: every other byte of the file is as it was.
    text = (repo / FLUX_OBJECTS).read_text()
    text = text.replace("/v1\nkind: HelmRepository", "/v1beta2\nkind: HelmRepository")
    assert (
        text.replace("/v1beta3", "/v1beta1")
        .replace("fluxcd.io/v1\n", "fluxcd.io/v1beta1\n")
        .replace("fluxcd.io/v1   #", "fluxcd.io/v1beta1   #")
        == OBJECTS
    )
    # Same commit as the bump: the plan lists the edits with their file:line.
    assert git(repo, "log", "-1", "--format=%s").startswith("Bump Flux to v2.7.5")
    assert f"{FLUX_OBJECTS}:3: Flux apiVersion (GitRepository flux-system/apps)" in outcome.stdout


def test_a_migration_that_would_not_validate_is_refused_naming_the_field(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # A field v1beta1 has and v1 lacks that Flux's migration notes do not rename
    # (patchesStrategicMerge is rewritten: tests/test_api_renames.py). A field every version
    # lacks is not the move's doing (tests/test_api_move_already_invalid.py).
    access = "    branch: main\n  accessFrom:\n    namespaceSelectors:\n      - matchLabels: {}\n"
    text = OBJECTS.replace("    branch: main\n", access, 1)
    repo = fleet_with_objects(tmp_path / "repo", text)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.7.5")
    assert outcome.code == 2, outcome.stderr
    assert f"error: {FLUX_OBJECTS}:13: moving GitRepository flux-system/apps from " in (
        outcome.stderr
    )
    assert "spec.accessFrom: unknown field" in outcome.stderr
    assert "nothing written" in outcome.stderr
    assert snapshot(repo) == before


def test_check_reports_api_versions_the_pinned_release_does_not_serve(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with_objects(tmp_path / "repo")
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0
    # Pin the 2.7 chart by hand (as a Renovate PR would): the v1beta1 objects are now unserved.
    write_fleet(repo, FleetSpec(flux_release="2.7.5", flux_chart="2.17.2"))
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 1
    lines = [x for x in outcome.stdout.splitlines() if "is not served by" in x]
    assert lines == [
        f"{FLUX_OBJECTS}:3: GitRepository flux-system/apps: apiVersion "
        "source.toolkit.fluxcd.io/v1beta1 is not served by Flux 2.7.5; 'fluxbump to' moves it "
        "to source.toolkit.fluxcd.io/v1",
        f"{FLUX_OBJECTS}:14: Kustomization flux-system/apps: apiVersion "
        "kustomize.toolkit.fluxcd.io/v1beta1 is not served by Flux 2.7.5; 'fluxbump to' moves "
        "it to kustomize.toolkit.fluxcd.io/v1",
        f"{FLUX_OBJECTS}:27: Alert flux-system/on-call: apiVersion "
        "notification.toolkit.fluxcd.io/v1beta1 is not served by Flux 2.7.5; 'fluxbump to' "
        "moves it to notification.toolkit.fluxcd.io/v1beta3",
    ]


# --- 3. the highest safe release ---------------------------------------------------------


def test_to_latest_takes_the_highest_safe_release_and_reports_the_blocked_one(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Nothing Flux 2.3.0 or 2.6 stored is dropped by 2.7; 2.8 drops v1beta2. The real catalog.
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA2)
    outcome = bump(helm_server, repo, "latest", "--json")
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["to"] == {"release": "2.7.5", "chart": "2.17.2"}
    assert report["applied"] is True
    blocked = report["blocked"]
    assert [b["release"] for b in blocked] == ["2.8.5", "2.8.3", "2.8.2", "2.8.1"]
    newest = blocked[0]
    assert newest["chart"] == "2.18.3"
    assert "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0)" in newest["reason"]
    assert "ocirepositories.source.toolkit.fluxcd.io/v1beta2" in newest["reason"]
    assert "`flux migrate --context" in newest["steps"] and "--crds-migrated" in newest["steps"]
    assert git(repo, "log", "-1", "--format=%s").startswith("Bump Flux to v2.7.5")


def test_to_latest_with_nothing_safe_exits_0_and_says_why(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA1)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "latest")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "no newer Flux release is safe to move to; nothing to do"
    assert lines[1].startswith("blocked: Flux v2.8.5 (chart 2.18.3) blocked: its CRDs stop ")
    assert any(x.startswith("blocked: Flux v2.7.5 (chart 2.17.2) blocked:") for x in lines)
    assert "imageupdateautomations.image.toolkit.fluxcd.io/v1beta1" in lines[1]
    assert snapshot(repo) == before


def test_to_latest_with_crds_migrated_takes_the_newest(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA2)
    outcome = bump(helm_server, repo, "latest", "--crds-migrated", "--json")
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["to"]["release"] == "2.8.5" and report["blocked"] == []


def test_resolve_latest_safe_names_the_release_and_the_blocked_ones(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA2)
    args = ("resolve", "latest", "--safe", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    outcome = run_cli(*args, "--json")
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert (report["flux"], report["chart"]) == ("2.7.5", "2.17.2")
    assert report["blocked"][0]["release"] == "2.8.5"
    assert "(stored by flux2 2.13.0)" in report["blocked"][0]["reason"]
    text = run_cli(*args)
    assert text.stdout.splitlines()[0].startswith("Flux v2.7.5 → flux2 chart 2.17.2")
    assert text.stdout.splitlines()[1].startswith("blocked: Flux v2.8.5 (chart 2.18.3) blocked:")
    # Without --safe, latest is the newest release whatever the repository stored.
    plain = run_cli("resolve", "latest", "--json", "--helm-repo", helm_server.base_url)
    assert json.loads(plain.stdout)["flux"] == "2.8.5"
    assert run_cli("resolve", "2.7.5", "--safe", "--repo", str(repo)).code == 2


def test_scheduled_job_pull_request_lists_the_blocked_release_and_its_steps(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA2)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", "https://example.test/acme/gitops.git")
    git(repo, "remote", "set-url", "--push", "origin", str(remote))
    with serve(ForgeServer("github")) as forge:
        outcome = run_cli(
            "to", "latest", "--push", "--open-pr", "--json", "--repo", str(repo),
            "--helm-repo", helm_server.base_url, env=forge.env(),
        )  # fmt: skip
        assert outcome.code == 0, outcome.stderr
        [post] = forge.seen("POST")
    body = post.body["body"]
    section = body.split("### Newer releases not taken (blocked)", 1)[1]
    assert section.lstrip().startswith("- Flux v2.8.5 (chart 2.18.3) blocked: its CRDs stop")
    assert "(stored by flux2 2.13.0)" in section and "`flux migrate --context" in section
    assert post.body["title"] == "fluxbump: Flux v2.7.5 (flux2 chart 2.17.2)"


def test_a_renamed_cloud_init_template_keeps_its_history(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Only the template ever pinned Flux 2.3.0 (chart 2.13.0 stored Buckets as v1beta2); then
    # it moved to another directory, with the pin brought to 2.7.5 in the same commit.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **FLUX_2_7)
    template = repo / fleet.CLOUDINIT
    template.write_text(template.read_text().replace("v2.7.5", "v2.3.0"))
    init_git(repo)
    moved = "infra/hetzner-fsn1/cloudinit-control-plane.tftpl"
    (repo / moved).parent.mkdir()
    git(repo, "mv", fleet.CLOUDINIT, moved)
    (repo / moved).write_text((repo / moved).read_text().replace("v2.3.0", "v2.7.5"))
    git(repo, "commit", "-qam", "move the template")
    outcome = bump(helm_server, repo, "2.8.5")
    assert outcome.code == 4, outcome.stderr
    assert "buckets.source.toolkit.fluxcd.io/v1beta2 (stored by flux2 2.13.0)" in outcome.stderr


def test_git_log_raw_tokens_name_each_version_within_the_bound() -> None:
    from fluxbump.vcs.git import _changed_blobs

    a, b, c, d = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
    tokens = [
        "1" * 40,
        f"\n:100644 100644 {c} {d} R095",  # a rename names both paths; the new one counts
        "old/Chart.yaml",
        "chart/Chart.yaml",
        "2" * 40,
        f"\n:100644 100644 {b} {c} M",
        "chart/Chart.yaml",
        "3" * 40,
        f"\n:000000 100644 {'0' * 40} {a} A",
        "chart/Chart.yaml",
        "",
    ]
    paths = {"chart/Chart.yaml": "chart/Chart.yaml"}
    assert _changed_blobs(tokens, paths, limit=5) == (
        {
            d: "chart/Chart.yaml",
            c: "chart/Chart.yaml",
            b: "chart/Chart.yaml",
            a: "chart/Chart.yaml",
        },
        3,
        "3" * 40,
    )
    blobs, commits, oldest = _changed_blobs(tokens, paths, limit=2)
    assert (set(blobs), commits) == ({b, c, d}, 3)  # the third commit is past the bound
    assert oldest == "2" * 40  # the oldest commit read, where a diff finds deleted files


def test_resolve_latest_safe_reads_the_index_the_repository_configures(tmp_path: Path) -> None:
    # As 'to latest' does: a helm_repo in .fluxbump.yaml was ignored, and --safe judged the
    # releases of another index (the default one, or its bundled snapshot).
    repo = repo_with_history(tmp_path / "repo", *STORED_V1BETA2)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "index.yaml").write_text("apiVersion: v1\nentries:\n  podinfo: []\n", "utf-8")
    (repo / ".fluxbump.yaml").write_text(f"helm_repo: {mirror}\n", "utf-8")
    outcome = run_cli("resolve", "latest", "--safe", "--repo", str(repo), "--json")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)
    # The mirror lists no flux2 chart: nothing to judge (the default index's snapshot: 2.7.5).
    assert report["flux"] is None and report["blocked"] == [], report
    assert "fluxcd-community" not in outcome.stderr, outcome.stderr
