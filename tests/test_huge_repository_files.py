"""Repository files the scan reads beside the cluster files (a kustomization a Flux
Kustomization renders or patches with, a file a warm run's cache serves) are read no further
than a manifest may be, as the cluster scan reads its files (tests/test_huge_cluster_file.py):
each of gigabytes was read whole, and one larger than the memory there is ended the run
(MemoryError, exit 70)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, git, make_fleet
from tests.support.helm_server import HelmServer
from tests.support.huge import committed_once, grow_unseen, run_limited, sparse, vouched_for
from tests.test_patch_files import OVERLAY, wrapper_overlay
from tests.test_release_substitution import LISTING, LISTING_TEXT, SETTER, biohazard
from tests.test_vendored import OLD, vendored_fleet


def _no_crash(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr, run.stderr


def test_a_huge_kustomization_a_postbuild_renders_lists_nothing(tmp_path: Path) -> None:
    """``_scope`` reads the kustomization of a Kustomization's ``spec.path`` for the files it
    lists; one that cannot be read lists nothing (kustomize could not build it either)."""
    repo = biohazard(tmp_path)
    sparse(repo / LISTING, LISTING_TEXT.encode())
    checked = run_limited("check", "--offline", "--repo", str(repo))
    _no_crash(checked)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"  {LISTING}:1: larger than 8 MiB, too large to be read" in checked.stdout


def test_a_huge_kustomization_a_patch_is_listed_in_lists_no_patch(tmp_path: Path) -> None:
    """``patch_files`` reads the kustomization beside a file the schema check judges, for the
    patches it lists; one that cannot be read lists none, and the file is a whole object."""
    repo = wrapper_overlay(tmp_path / "repo", "patches:\n  - path: flux-version.yaml\n")
    sparse(repo / OVERLAY / "kustomization.yaml", b"resources:\n  - ../bootstrap-kit\n")
    checked = run_limited("check", "--offline", "--repo", str(repo))
    _no_crash(checked)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"{OVERLAY}/flux-version.yaml:6: HelmRelease flux-system/bp-flux: spec: 'interval'" in (
        checked.stdout
    )


def _flux_fleet(tmp_path: Path) -> Path:
    return make_fleet(tmp_path / "repo", clusters=("a.example",), git=True)


@pytest.mark.parametrize(
    ("fleet", "grown"),
    [
        # A Kustomization that substitutes: read again on every warm run (bytes not kept).
        (biohazard, SETTER),
        # A file of pins the cache serves, read when a later step needs it (the CRD checks).
        (_flux_fleet, "clusters/a.example/bootstrap-kit/03-flux.yaml"),
    ],
    ids=["substituting", "served"],
)
def test_a_warm_run_reads_a_file_its_cache_serves_no_further_than_a_cold_one(
    tmp_path: Path, fleet: Callable[[Path], Path], grown: str
) -> None:
    """Git vouching for a file that has grown since its blob was recorded (``grow_unseen``)
    made the warm run read the whole of it; it is named as too large, as a cold run names it."""
    repo = fleet(tmp_path)
    vouched_for(repo)
    cold = run_cli("check", "--offline", "--repo", str(repo))
    assert cold.code == 0, cold.stdout + cold.stderr
    grow_unseen(repo / grown)
    warm = run_limited("check", "--offline", "--repo", str(repo))
    _no_crash(warm)
    assert warm.returncode == 2, warm.stdout + warm.stderr
    assert f"error: {grown}: larger than 8 MiB, too large to be read" in warm.stderr


def test_a_vendored_archive_of_gigabytes_is_refused_writing_nothing(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """``to`` keeps the bytes of the archive it replaces, to restore it: one larger than any
    chart archive fluxbump takes from an index (20 MiB) was read whole."""
    repo = vendored_fleet(tmp_path / "repo")
    sparse(repo / OLD, b"\x1f\x8b")
    bumped = run_limited("to", "2.4.0", "--no-git", "--repo", str(repo),
                         "--helm-repo", helm_server.base_url)  # fmt: skip
    _no_crash(bumped)
    assert bumped.returncode == 2, bumped.stdout + bumped.stderr
    assert bumped.stderr == (
        f"error: {OLD}: larger than 20 MiB, more than a chart archive fluxbump downloads may "
        "be: remove it ('helm dependency build platform/flux/chart' vendors it again); nothing "
        "was written\n"
    )
    assert git(repo, "status", "--porcelain") == f"M {OLD}"  # (as the test made it, alone)


def test_a_pin_file_of_gigabytes_in_the_history_is_a_version_that_pinned_nothing(
    tmp_path: Path,
) -> None:
    """The CRD guard reads each past version of the pin files: one committed by mistake (a
    dump where the cloud-init template is, undone in the next commit) was read whole. It is
    skipped as a version that does not decode is: the bump says what it says without it."""
    plain = make_fleet(tmp_path / "plain", git=True)
    dumped = make_fleet(tmp_path / "dumped", git=True)
    committed_once(dumped, "infra/hetzner/cloudinit-control-plane.tftpl")
    said = [run_limited("to", "2.8.5", "--dry-run", "--offline", "--repo", str(repo))
            for repo in (plain, dumped)]  # fmt: skip
    _no_crash(said[1])
    assert said[1].returncode == said[0].returncode == 4, said[1].stdout + said[1].stderr
    assert (said[1].stdout, said[1].stderr) == (said[0].stdout, said[0].stderr)


def test_a_chart_of_gigabytes_at_head_is_named_not_read(tmp_path: Path) -> None:
    """``to`` bumps the wrapper's version once relative to HEAD, reading its Chart.yaml there:
    one committed by mistake (a dump, fixed in the work tree but not yet committed) was read
    whole. It is named, with what to do, as the work tree's own would be."""
    repo = make_fleet(tmp_path / "repo", git=True)
    committed_once(repo, "platform/flux/chart/Chart.yaml", undone=False)
    planned = run_limited("to", "2.8.5", "--dry-run", "--offline", "--repo", str(repo))
    _no_crash(planned)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert planned.stderr.endswith(
        "error: HEAD:platform/flux/chart/Chart.yaml: larger than 8 MiB, too large to be read; "
        "commit the file as it should be first, or name a revision where it is with --base\n"
    )


def _gated(tmp_path: Path, command: str) -> Path:
    """The incident fleet whose gate runs ``command`` (committed: a run with git reads it)."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    (repo / ".fluxbump.yaml").write_text(f"wrapper: bp-flux\ngate:\n  commands: ['{command}']\n")
    git(repo, "add", ".fluxbump.yaml")
    git(repo, "commit", "-qm", "gate")
    return repo


def _files(repo: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_a_gate_command_that_makes_a_written_file_huge_is_undone(tmp_path: Path) -> None:
    """The rollback read the file whole to tell whether it held the command's edit: MemoryError,
    exit 70, the journal left, and every later run ended so while recovering it. The file is
    compared no further than the bytes it should hold, and the command's edit (its stamp) is
    restored over as the run's own."""
    repo = _gated(tmp_path, f"truncate -s 3G {fleet.WRAPPER_CHART}")
    chart = repo / fleet.WRAPPER_CHART
    before = _files(repo)
    bumped = run_limited("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    _no_crash(bumped)
    assert bumped.returncode == 1, bumped.stderr
    assert f"{fleet.WRAPPER_CHART}: changed by a gate command after fluxbump wrote it" in (
        bumped.stderr
    )
    assert chart.stat().st_size < 1 << 20
    assert _files(repo) == before
    assert not (repo / ".git" / "fluxbump-journal").exists()


def test_a_run_killed_after_its_gate_command_made_a_file_huge_is_recoverable(
    tmp_path: Path,
) -> None:
    """The next run read the file whole to judge the journal: MemoryError, exit 70, on every
    run after. Its digest is read in blocks: the file is named as changed since, and the
    way out works."""
    command = f"truncate -s 3G {fleet.WRAPPER_CHART}; kill -9 $PPID"
    repo = _gated(tmp_path, command)
    killed = run_limited("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert killed.returncode == -9, killed.stderr
    again = run_limited("to", "2.4.0", "--offline", "--no-git", "--dry-run", "--repo", str(repo))
    _no_crash(again)
    journal = repo / ".git" / "fluxbump-journal"
    assert again.returncode == 2
    assert again.stderr == (
        f"error: {fleet.WRAPPER_CHART} changed after an interrupted fluxbump run; its content "
        f"from before that run is in {journal}/backup.bin; restore it by hand, then remove "
        f"{journal}\n"
    )
