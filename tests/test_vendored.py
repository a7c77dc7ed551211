"""Vendored ``charts/<name>-<version>.tgz``: reported by check when its pin moved away;
replaced by ``to`` with the digest-verified archive when the index is reachable (issue 16)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.write.transaction import CRASH_ENV
from tests.support.cli_runner import run_cli
from tests.support.crash_cli import fluxbump_cmd, run
from tests.support.fixtures import CONSISTENT, INCIDENT, git, init_git, make_fleet, snapshot
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

ARCHIVES = "platform/flux/chart/charts"


def vendor(repo: Path, *names: str) -> None:
    (repo / ARCHIVES).mkdir(parents=True, exist_ok=True)
    for name in names:
        (repo / ARCHIVES / name).write_bytes(b"\x1f\x8b not read: only the name is compared")


def test_an_archive_of_another_version_is_stale(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    vendor(repo, "flux2-2.13.0.tgz")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert (
        f"{fleet.WRAPPER_CHART}:10: vendored charts/flux2-2.13.0.tgz is not flux2 2.14.1, the "
        "version pinned here; run 'helm dependency build platform/flux/chart'"
    ) in outcome.stdout


def test_the_pinned_archive_is_not_stale(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    vendor(repo, "flux2-2.14.1.tgz", "flux2-extras-1.0.0.tgz")  # another chart's name prefix
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout


def test_to_names_the_archive_it_leaves_and_check_reports_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    vendor(repo, "flux2-2.13.0.tgz")
    bumped = run_cli("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert bumped.code == 0, bumped.stderr
    assert "vendored charts/flux2-2.13.0.tgz is not flux2 2.14.1" in bumped.stderr
    assert (repo / ARCHIVES / "flux2-2.13.0.tgz").exists()  # not downloaded: left for helm
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1


# --- online: the archive is replaced by the digest-verified download ---------------------

FLUX_REPO = "https://fluxcd-community.github.io/helm-charts"
LOCK = "platform/flux/chart/Chart.lock"
OLD, NEW = f"{ARCHIVES}/flux2-2.13.0.tgz", f"{ARCHIVES}/flux2-2.14.1.tgz"


def _lock(version: str) -> str:
    """The wrapper's Chart.lock as Helm writes it; its digest computed here by hand."""
    dep = f'{{"name":"flux2","version":"{version}","repository":"{FLUX_REPO}"}}'
    digest = hashlib.sha256(f"[[{dep}],[{dep}]]".encode()).hexdigest()
    return (
        f"dependencies:\n- name: flux2\n  repository: {FLUX_REPO}\n  version: {version}\n"
        f'digest: sha256:{digest}\ngenerated: "2024-06-03T10:00:00.5+02:00"\n'
    )


def vendored_fleet(root: Path, config: str = "") -> Path:
    """The incident fleet (flux2 2.13.0) with that archive vendored, as Helm served it."""
    repo = make_fleet(root, INCIDENT)
    if config:
        (repo / ".fluxbump.yaml").write_text(config)
    (repo / ARCHIVES).mkdir(parents=True)
    (repo / OLD).write_bytes(flux_repo_routes()["/charts/flux2-2.13.0.tgz"])
    (repo / LOCK).write_text(_lock("2.13.0"))
    init_git(repo)
    return repo


def test_to_online_replaces_the_archive_with_the_verified_download(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = vendored_fleet(tmp_path / "repo")
    bumped = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert bumped.code == 0, bumped.stdout + bumped.stderr
    assert not (repo / OLD).exists()
    assert (repo / NEW).read_bytes() == flux_repo_routes()["/charts/flux2-2.14.1.tgz"]
    assert (repo / LOCK).read_text().split("generated:")[0] == _lock("2.14.1").split("generated:")[
        0
    ]
    assert "vendored" not in bumped.stderr  # nothing left to rebuild
    committed = git(repo, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert f"D\t{OLD}" in committed and f"A\t{NEW}" in committed and f"M\t{LOCK}" in committed
    assert git(repo, "status", "--porcelain") == ""
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_an_archive_whose_digest_differs_from_the_index_exits_3_writing_nothing(
    tmp_path: Path,
) -> None:
    routes = dict(flux_repo_routes())
    routes["/charts/flux2-2.14.1.tgz"] = routes["/charts/flux2-2.13.0.tgz"]  # not what it lists
    repo = vendored_fleet(tmp_path / "repo")
    before = snapshot(repo)
    with serve(HelmServer(routes=routes)) as server:
        bumped = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", server.base_url)
    assert bumped.code == 3, bumped.stdout + bumped.stderr
    assert "flux2 2.14.1" in bumped.stderr and "sha256" in bumped.stderr
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_a_run_killed_after_removing_the_old_archive_is_rolled_back(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = vendored_fleet(tmp_path / "repo")
    before = snapshot(repo)
    planned = run_cli("to", "2.4.0", "--no-git", "--dry-run", "--json", "--repo", str(repo),
                      "--helm-repo", helm_server.base_url)  # fmt: skip
    renames = len(json.loads(planned.stdout)["files"]) + 2  # the new archive, the old one's removal
    cache = tmp_path / "cache"
    killed = run(fluxbump_cmd(repo, helm_server, "to", "2.4.0", "--no-git"), cache,
                 **{CRASH_ENV: f"rename:{renames}"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (repo / OLD).exists() and (repo / NEW).exists()  # both steps were taken
    again = run_cli("to", "2.4.0", "--no-git", "--dry-run", "--repo", str(repo),
                    "--helm-repo", helm_server.base_url)  # fmt: skip
    assert again.code == 0, again.stderr
    assert f"restored {OLD} from an interrupted run" in again.stdout
    assert snapshot(repo) == before


def test_a_failing_gate_restores_the_old_archive_and_removes_the_new_one(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = vendored_fleet(tmp_path / "repo", "gate:\n  commands:\n    - 'false'\n")
    before = snapshot(repo)
    bumped = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert bumped.code == 1, bumped.stdout + bumped.stderr
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""


# --- an unpacked copy in charts/<name>/ ------------------------------------------------------


def unpack(repo: Path, version: str) -> None:
    copy = repo / ARCHIVES / "flux2"
    copy.mkdir(parents=True, exist_ok=True)
    (copy / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: flux2\nversion: {version}\nappVersion: 2.3.0\n", "utf-8"
    )
    (copy / "values.yaml").write_text("cli:\n  image: ghcr.io/fluxcd/flux-cli\n", "utf-8")


def test_an_unpacked_copy_of_another_version_is_stale_and_the_pinned_one_is_not(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    unpack(repo, "2.13.0")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert (
        f"{fleet.WRAPPER_CHART}:10: vendored platform/flux/chart/charts/flux2/ (unpacked) holds "
        "flux2 2.13.0, not 2.14.1, the version pinned here, and Helm installs that directory: "
        "remove it and run 'helm dependency build platform/flux/chart'"
    ) in outcome.stdout
    unpack(repo, "2.14.1")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_to_names_the_unpacked_copy_it_leaves_and_never_deletes_it(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    unpack(repo, "2.13.0")
    before = (repo / ARCHIVES / "flux2" / "Chart.yaml").read_bytes()
    bumped = run_cli("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert bumped.code == 0, bumped.stderr
    assert "charts/flux2/ (unpacked) holds flux2 2.13.0, not 2.14.1" in bumped.stderr
    assert (repo / ARCHIVES / "flux2" / "Chart.yaml").read_bytes() == before
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "kind"), [(_fifo, "a FIFO"), (Path.mkdir, "a directory")], ids=["fifo", "directory"]
)
def test_an_archive_that_is_no_regular_file_is_refused_writing_nothing(
    tmp_path: Path, helm_server: HelmServer, make: Callable[[Path], None], kind: str
) -> None:
    """A FIFO named as the stale archive hung to for ever (its old bytes were read to keep
    them); a directory so named was IsADirectoryError, exit 70."""
    repo = vendored_fleet(tmp_path / "repo")
    (repo / OLD).unlink()
    make(repo / OLD)
    before = snapshot(repo)
    bumped = run(fluxbump_cmd(repo, helm_server, "to", "2.4.0", "--no-git"), tmp_path / "cache")
    assert bumped.returncode == 2, bumped.stdout + bumped.stderr
    assert bumped.stderr.startswith(f"error: {OLD}: {kind}, not a regular file"), bumped.stderr
    assert "'helm dependency build platform/flux/chart' vendors it again" in bumped.stderr
    assert "exclude" not in bumped.stderr  # (it does not govern a chart's charts/)
    assert snapshot(repo) == before and (repo / OLD).exists()


def test_an_archive_linked_out_of_the_repository_is_refused_saying_what_applies(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """'exclude' does not govern a chart's vendored archives (the scan never walks a chart's
    charts/; they are read because the chart is): the message advised it all the same."""
    repo = vendored_fleet(tmp_path / "repo")
    outside = tmp_path / "elsewhere.tgz"
    outside.write_bytes((repo / OLD).read_bytes())
    (repo / OLD).unlink()
    (repo / OLD).symlink_to(outside)
    before = snapshot(repo)
    bumped = run_cli("to", "2.4.0", "--no-git", "--repo", str(repo),
                     "--helm-repo", helm_server.base_url)  # fmt: skip
    assert bumped.code == 2, bumped.stdout + bumped.stderr
    assert bumped.stderr == (
        f"error: {OLD}: a symlink to {outside}, outside the repository; fluxbump reads only "
        "files inside it: replace it with the archive itself, or remove it ('helm dependency "
        "build platform/flux/chart' vendors it again); nothing was written\n"
    )
    assert snapshot(repo) == before
