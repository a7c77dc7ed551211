"""A HelmRelease of a tracked chart with no version (Flux installs the newest chart) or a
version that is no scalar (Flux rejects it): named by status and check, refused by ``to``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, edit, git, make_fleet, snapshot
from tests.support.helm_server import HelmServer
from tests.support.layouts import write_repo

CLUSTER = "clusters/muscat.omani.works/bootstrap-kit"
RELEASE = f"{CLUSTER}/{fleet.FLUX_RELEASE_FILE.rpartition('/')[2]}"
PINNED = "      chart: bp-flux\n      version: 1.1.1\n"


# What a null version is told, like a missing one: what Flux does and the line to write.
_NULL = (
    "bp-flux with a null (empty) spec.chart.spec.version: Flux installs the newest bp-flux "
    "chart, not the one this repository pins; write 'version: 1.1.1' under spec.chart.spec"
)


def _fleet(tmp_path: Path, version_lines: str) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    edit(repo, RELEASE, PINNED, "      chart: bp-flux\n" + version_lines)
    git(repo, "commit", "-qam", "the release's version changed by hand")
    return repo


def _overlay_patch(repo: Path, version: str) -> str:
    """An overlay's patch of the release that sets only its version (line 9), committed."""
    patch = f"{CLUSTER}/flux-version.yaml"
    (repo / patch).write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: bp-flux\n"
        f"  namespace: flux-system\nspec:\n  chart:\n    spec:\n      version: {version}\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "an overlay sets the chart's version")
    return patch


def _line_of(repo: Path, rel: str, text: str) -> int:
    lines = (repo / rel).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line == text)


@pytest.mark.parametrize(
    ("version_lines", "said_at", "said"),
    [
        ("", "      chart: bp-flux", "bp-flux with no spec.chart.spec.version"),
        ("      version: [1.1.1]\n", "      version: [1.1.1]", "is a list, not a version"),
        ("      version:\n        v: 1.1.1\n", "      version:", "is a mapping, not a version"),
        ("      version:\n", "      version:", _NULL),
        ("      version: ~\n", "      version: ~", _NULL),
    ],
)
def test_a_release_without_one_version_is_named_by_status_and_check_and_refused_by_to(
    tmp_path: Path, helm_server: HelmServer, version_lines: str, said_at: str, said: str
) -> None:
    repo = _fleet(tmp_path, version_lines)
    where = f"{RELEASE}:{_line_of(repo, RELEASE, said_at)}"
    index = ("--helm-repo", helm_server.base_url)
    status = run_cli("status", "--repo", str(repo), *index)
    assert status.code == 0, status.stderr
    assert f"{where}: HelmRelease flux-system/bp-flux" in status.stdout and said in status.stdout
    check = run_cli("check", "--repo", str(repo), *index)
    assert check.code == 1, check.stdout + check.stderr
    assert f"{where}: HelmRelease flux-system/bp-flux" in check.stdout and said in check.stdout
    before = snapshot(repo)
    bumped = run_cli("to", "2.5.1", "--repo", str(repo), *index)
    assert bumped.code == 2, bumped.stdout + bumped.stderr
    assert f"{where}: HelmRelease flux-system/bp-flux" in bumped.stderr and said in bumped.stderr
    assert "Traceback" not in bumped.stderr and snapshot(repo) == before


def test_a_base_release_whose_version_a_patch_sets_is_pinned_by_the_patch(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """kustomize's base and overlay: the base names the chart, the overlay's patch pins it."""
    repo = _fleet(tmp_path, "")
    patch = _overlay_patch(repo, "1.1.1")
    index = ("--helm-repo", helm_server.base_url)
    check = run_cli("check", "--repo", str(repo), *index)
    assert check.code == 0, check.stdout + check.stderr
    assert "spec.chart.spec.version" not in check.stdout
    bumped = run_cli("to", "2.5.1", "--repo", str(repo), *index)
    assert bumped.code == 0, bumped.stdout + bumped.stderr
    assert "      version: 1.1.2\n" in (repo / patch).read_text()
    assert "      chart: bp-flux\n      sourceRef:\n" in (repo / RELEASE).read_text()


def test_a_patch_that_sets_the_version_to_null_is_named(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """A strategic merge patch deletes a key it sets to null: the release it patches has no
    version then, whatever its base pins."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    patch = _overlay_patch(repo, "~")
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 1, check.stdout + check.stderr
    assert f"{patch}:9: HelmRelease flux-system/bp-flux (patch) deploys {_NULL}" in check.stdout


def test_a_release_from_a_git_repository_has_no_version_to_pin(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """Flux ignores ``version`` for a chart from a GitRepository (or a Bucket): none missing."""
    repo = _fleet(tmp_path, "")
    edit(repo, RELEASE, "        kind: HelmRepository\n", "        kind: GitRepository\n")
    git(repo, "commit", "-qam", "the chart from git")
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout + check.stderr


def test_a_direct_flux2_release_without_a_version_is_named_and_refused(tmp_path: Path) -> None:
    """No wrapper: a HelmRelease of the community ``flux2`` chart with no version."""
    flux = "clusters/prod/flux-system/flux.yaml"
    repo = write_repo(
        tmp_path / "repo",
        {
            flux: (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                "metadata:\n  name: flux\n  namespace: flux-system\n"
                "spec:\n  interval: 1h\n  chart:\n    spec:\n      chart: flux2\n"
                "      sourceRef:\n        kind: HelmRepository\n        name: community\n"
            ),
            "terraform/cloud-init.yaml.tftpl": (
                "#cloud-config\nruncmd:\n  - kubectl apply -f https://github.com/fluxcd/flux2/"
                "releases/download/v2.4.0/install.yaml\n"
            ),
        },
    )
    said = f"{flux}:10: HelmRelease flux-system/flux deploys flux2 with no spec.chart.spec.version"
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1 and said in check.stdout, check.stdout + check.stderr
    before = snapshot(repo)
    bumped = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert bumped.code == 2 and said in bumped.stderr, bumped.stdout + bumped.stderr
    assert snapshot(repo) == before


def test_a_patch_that_names_the_chart_but_no_version_is_no_unpinned_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """A kustomize patch (no ``spec.interval``, which a HelmRelease must have) that moves the
    chart's source leaves the version to the release it patches."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    (repo / f"{CLUSTER}/flux-source.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: bp-flux\n"
        "  namespace: flux-system\nspec:\n  chart:\n    spec:\n      chart: bp-flux\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: mirror\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "an overlay moves the chart's source")
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 0, check.stdout + check.stderr
