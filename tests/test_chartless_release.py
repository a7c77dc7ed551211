"""A Flux pinned only by FluxInstances (flux-operator installs it) and CLI pins (they install
nothing) moves to a release no community ``flux2`` chart carries: the chart skipped 2.5.0 and
follows every release by days, and such a repository pins no chart. What stays unknown (the
release's CRDs) is said; online, the release download base must publish the release. A layout
that applies Flux's manifests itself still needs a chart of the release's minor line (else
refused, exit 3: ``test_stand_in_release``)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import changed_lines, edit, init_git, snapshot
from tests.support.flux_release import release_routes
from tests.support.helm_server import HelmServer, serve
from tests.test_release_pins import GOTK, OPERATOR, TOOL_VERSIONS, operator_only
from tests.test_terraform_provider import FLUX_MANIFESTS

INSTANCE = "clusters/prod/flux-instance.yaml"


def assert_moved_to(repo: Path, release: str) -> None:
    """The exact pins moved; the flux-instance values' range (2.x) and podinfo's stayed."""
    tools = TOOL_VERSIONS.replace("2.4.0", release)
    assert (repo / ".tool-versions").read_text("utf-8") == tools
    moved = OPERATOR.replace('version: "2.4.0" # exact', f'version: "{release}" # exact')
    assert (repo / INSTANCE).read_text("utf-8") == moved


def test_to_a_release_the_chart_skipped_moves_a_flux_instance_and_says_what_is_unchecked(
    tmp_path: Path,
) -> None:
    repo = operator_only(tmp_path)
    moved = run_cli("to", "2.5.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert_moved_to(repo, "2.5.0")
    assert "Flux v2.5.0 → no flux2 chart" in moved.stdout
    assert (
        "warning: no flux2 chart carries Flux 2.5.0: the CRDs of flux2 2.15.0 (Flux 2.5.1, the "
        "nearest release of its minor line a chart carries: Flux changes its API versions only "
        "in minor releases) stand in for its own" in moved.stderr
    )
    assert "Flux 2.5.0: not checked to be a published release (--offline)" in moved.stderr
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_sync_follows_a_flux_instance_renovate_moved_past_every_chart(tmp_path: Path) -> None:
    # Renovate proposes Flux 2.9.0 the day it is tagged; the snapshot's newest chart is 2.8.5's.
    repo = operator_only(tmp_path)
    edit(repo, INSTANCE, '"2.4.0" # exact', '"2.9.0" # exact')
    synced = run_cli("sync", "--repo", str(repo), "--offline")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert_moved_to(repo, "2.9.0")
    assert "no flux2 chart carries Flux 2.9.0" in synced.stderr


def test_online_the_release_must_be_published(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = operator_only(tmp_path)
    with serve(HelmServer(routes=release_routes("2.5.0"))) as releases:
        online = ("--helm-repo", helm_server.base_url, "--flux-releases", releases.base_url)
        before = snapshot(repo)
        typo = run_cli("to", "2.5.9", "--repo", str(repo), "--no-git", *online)
        assert typo.code == 3, typo.stdout + typo.stderr
        assert f"Flux release 2.5.9: no chart carries it and {releases.base_url}/v2.5.9/" in (
            typo.stderr
        )
        assert "does not publish it (HTTP 404" in typo.stderr
        assert snapshot(repo) == before
        moved = run_cli("to", "2.5.0", "--repo", str(repo), "--no-git", *online)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert_moved_to(repo, "2.5.0")
    assert "published release" not in moved.stderr


def test_a_bootstrap_layout_still_needs_a_chart_of_its_targets_line(tmp_path: Path) -> None:
    # ``flux bootstrap`` applies the CRDs as they are: the guard needs CRDs of the target's
    # minor line (``test_stand_in_release``); the index has none of the 2.9 line.
    repo = operator_only(tmp_path)
    system = repo / "clusters/prod/flux-system"
    system.mkdir()
    (system / "gotk-components.yaml").write_text(GOTK, "utf-8")
    before = snapshot(repo)
    refused = run_cli("to", "2.9.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 3, refused.stdout + refused.stderr
    assert "Flux release 2.9.0 has no 'flux2' chart in the index" in refused.stderr
    assert "by a chart of Flux 2.9.0's minor line, and none carries one" in refused.stderr
    assert snapshot(repo) == before


def test_a_repository_pinning_only_the_flux_cli_moves_it_to_a_release_without_a_chart(
    tmp_path: Path,
) -> None:
    # chezmoidotsh/arcane pins Flux only in its mise/asdf tools: no chart was ever its.
    repo = tmp_path / "cli"
    repo.mkdir()
    (repo / ".tool-versions").write_text(TOOL_VERSIONS, "utf-8")
    init_git(repo)
    moved = run_cli("to", "2.5.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == TOOL_VERSIONS.replace("2.4.0", "2.5.0")
    assert "no flux2 chart carries Flux 2.5.0" in moved.stderr


REMOVED_API = """\
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: podinfo
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.5.0
      sourceRef:
        kind: HelmRepository
        name: podinfo
"""


def with_manifest(tmp_path: Path, name: str, text: str) -> Path:
    """The operator layout with one more manifest, ``clusters/prod/<name>``."""
    repo = operator_only(tmp_path)
    (repo / "clusters/prod" / name).write_text(text, "utf-8")
    init_git(repo)
    return repo


def with_removed_api(tmp_path: Path) -> Path:
    """The operator layout with a HelmRelease in v2beta1, which Flux 2.8.5 no longer serves."""
    return with_manifest(tmp_path, "podinfo.yaml", REMOVED_API)


def test_objects_move_off_what_the_release_below_no_longer_serves(tmp_path: Path) -> None:
    # Flux removes an API version for good: 2.9.0 (past every chart) does not serve what
    # 2.8.5 stopped serving, so the object moves with the bump, as for a release with a chart.
    repo = with_removed_api(tmp_path)
    moved = run_cli("to", "2.9.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "clusters/prod/podinfo.yaml").read_text("utf-8") == REMOVED_API.replace(
        "v2beta1", "v2"
    )
    assert (
        "the CRDs of flux2 2.18.3 (Flux 2.8.5, the newest release below it a chart carries: "
        "what that no longer serves, 2.9.0 does not serve either) stand in for its own; Flux "
        "objects are moved off the API versions they do not serve" in moved.stderr
    )


def check_at(repo: Path, release: str) -> Outcome:
    """``check`` once the FluxInstance and the CLI pin name ``release`` (as Renovate moves them)."""
    edit(repo, INSTANCE, '"2.4.0" # exact', f'"{release}" # exact')
    edit(repo, ".tool-versions", "2.4.0", release)
    return run_cli("check", "--repo", str(repo), "--offline")


def test_check_judges_a_release_without_a_chart_by_the_release_below(tmp_path: Path) -> None:
    check = check_at(with_removed_api(tmp_path), "2.9.0")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "clusters/prod/podinfo.yaml:1: HelmRelease podinfo: apiVersion "
        "helm.toolkit.fluxcd.io/v2beta1 is not served by Flux 2.8.5" in check.stdout
    )
    assert "Flux 2.8.5: the newest release below Flux 2.9.0 a chart carries" in check.stderr


def test_to_latest_past_every_chart_is_nothing_to_do_not_a_downgrade(tmp_path: Path) -> None:
    # The weekly 'to latest' job after Renovate moved the FluxInstance past the index's newest
    # release: it exited 4, "Flux 2.8.5 is older than the installed 2.9.0: refusing a downgrade".
    repo = operator_only(tmp_path)
    edit(repo, INSTANCE, '"2.4.0" # exact', '"2.9.0" # exact')
    edit(repo, ".tool-versions", "2.4.0", "2.9.0")
    before = snapshot(repo)
    latest = run_cli("to", "latest", "--repo", str(repo), "--offline", "--no-git")
    assert latest.code == 0, latest.stdout + latest.stderr
    assert latest.stdout.splitlines()[0].endswith("nothing to do")
    assert snapshot(repo) == before


OCI_V1 = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 10m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: 6.5.0
"""


def ranged_only(tmp_path: Path) -> Path:
    """The operator layout whose FluxInstance says '2.x' (onedr0p's): the operator runs the
    newest release it admits (2.8.5 in the bundled index), which serves OCIRepository v1."""
    repo = operator_only(tmp_path)
    edit(repo, INSTANCE, '"2.4.0" # exact', '"2.x"')
    (repo / "clusters/prod/podinfo.yaml").write_text(OCI_V1, "utf-8")
    init_git(repo)
    return repo


def test_to_a_release_below_what_a_flux_instance_range_runs_is_refused(tmp_path: Path) -> None:
    # It "moved" OCIRepositories back to v1beta2 for 2.5.0 (judged by 2.4.0) and exited 0,
    # though the operator keeps running 2.8.5, which no longer serves v1beta2: 'check' then
    # failed on the bump's own commit.
    repo = ranged_only(tmp_path)
    before = snapshot(repo)
    for extra in ((), ("--allow-downgrade",)):
        refused = run_cli("to", "2.5.0", "--repo", str(repo), "--offline", *extra)
        assert refused.code == 2, refused.stdout + refused.stderr
        assert (
            "error: Flux 2.5.0 is older than 2.8.5, the newest release the FluxInstance range 2.x "
            f"({INSTANCE}:8) admits, which the operator installs: fluxbump never rewrites a "
            "range; write '2.5.0' there to run Flux 2.5.0; nothing written" in refused.stderr
        )
        assert snapshot(repo) == before
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "clusters/prod/podinfo.yaml").read_text("utf-8") == OCI_V1
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


# kubebn/talos-proxmox-kaas's shape: its Kustomizations in the v1 that 2.0.0-rc.1 introduced.
PRE_RELEASE = FLUX_MANIFESTS.replace("/v1beta2\nkind: Kustomization", "/v1\nkind: Kustomization")
PRE_RELEASE += """\
---
apiVersion: source.toolkit.fluxcd.io/v1alpha1
kind: GitRepository
metadata:
  name: removed-long-ago
  namespace: flux-system
spec:
  interval: 10m
  url: https://example.com/repo
"""


def test_check_does_not_judge_an_api_version_the_release_may_have_introduced(
    tmp_path: Path,
) -> None:
    """kubebn/talos-proxmox-kaas installs Flux v2.0.0-rc.1 (no chart carries it) and writes
    its Kustomizations in kustomize.toolkit.fluxcd.io/v1, which 2.0.0-rc.1 introduced: judged
    by 0.41.1 alone, each was a violation telling 'to' to move it back to v1beta2. What 2.0.0,
    the release above, serves too is unknown, not a violation; what neither serves still is."""
    repo = tmp_path / "prerelease"
    (repo / "kubernetes").mkdir(parents=True)
    (repo / "kubernetes/flux.yaml").write_text(PRE_RELEASE, "utf-8")
    init_git(repo)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    violations = [line for line in check.stdout.splitlines() if "is not served by" in line]
    assert violations == [
        "kubernetes/flux.yaml:25: GitRepository flux-system/removed-long-ago: apiVersion "
        "source.toolkit.fluxcd.io/v1alpha1 is not served by Flux 0.41.1; 'fluxbump to' moves "
        "it to source.toolkit.fluxcd.io/v1beta2"
    ]
    why = "Flux 0.41.1: the newest release below Flux 2.0.0-rc.1 a chart carries"
    assert why in check.stderr


IMAGE_POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImagePolicy
metadata:
  name: podinfo
spec:
  imageRepositoryRef:
    name: podinfo
  policy:
    semver:
      range: 6.5.x
"""


def with_image_policy(tmp_path: Path) -> Path:
    """The operator layout with an ImagePolicy in v1beta1: Flux 2.6 serves it, 2.7 does not
    (the image APIs went GA in 2.7.0 and their v1beta1 was removed)."""
    return with_manifest(tmp_path, "image-policy.yaml", IMAGE_POLICY)


def test_a_release_the_chart_skipped_moves_objects_by_its_own_minor_line(tmp_path: Path) -> None:
    # No chart carries 2.7.0 (the chart went from 2.6.4 to 2.7.2). Judged by 2.6.4, the release
    # below, the ImagePolicy stayed in v1beta1, which 2.7.0 does not serve: applied after the
    # bump, the API server rejects it. 2.7.2, of 2.7.0's own line, serves what 2.7.0 serves.
    repo = with_image_policy(tmp_path)
    moved = run_cli("to", "2.7.0", "--repo", str(repo), "--offline")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (
        "warning: no flux2 chart carries Flux 2.7.0: the CRDs of flux2 2.17.1 (Flux 2.7.2, the "
        "nearest release of its minor line a chart carries: Flux changes its API versions only "
        "in minor releases) stand in for its own; Flux objects are moved off the API versions "
        "they do not serve" in moved.stderr
    )
    assert changed_lines(repo) == [
        "-flux2 2.4.0 # pinned",
        "+flux2 2.7.0 # pinned",
        '-    version: "2.4.0" # exact',
        '+    version: "2.7.0" # exact',
        "-apiVersion: image.toolkit.fluxcd.io/v1beta1",
        "+apiVersion: image.toolkit.fluxcd.io/v1",
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_check_judges_a_release_the_chart_skipped_by_its_own_minor_line(tmp_path: Path) -> None:
    check = check_at(with_image_policy(tmp_path), "2.7.0")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "clusters/prod/image-policy.yaml:1: ImagePolicy podinfo: apiVersion "
        "image.toolkit.fluxcd.io/v1beta1 is not served by Flux 2.7.2" in check.stdout
    )
    assert "none carries Flux 2.7.0: judged by the CRDs of flux2 2.17.1 (Flux 2.7.2" in (
        check.stderr
    )
