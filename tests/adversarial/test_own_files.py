"""fluxbump's own files (temp, lock) never follow a link and have bounded names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fluxbump.write.places import places, temp_for
from tests.adversarial.harness import committed_files, git_out, git_state, leftovers
from tests.support.crash_cli import fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

WRAPPER_CHART = "platform/flux/chart/Chart.yaml"
SMALL = {"clusters": ("a.example",)}


def test_a_committed_symlink_named_like_a_temp_file_is_refused(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    victim = tmp_path / "victim"
    victim.write_bytes(b"outside the repository\n")
    temp = temp_for(root / WRAPPER_CHART)
    temp.symlink_to(victim)
    make_fleet(root, INCIDENT, git=True, **SMALL)  # committed, link included
    before = git_state(root)
    proc = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    # The link, out of the repository, is not scanned (named once); its name still stops the write.
    warning, refusal = proc.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {WRAPPER_CHART.rpartition('/')[0]}/{temp.name}: a symlink")
    assert refusal == (
        f"error: {WRAPPER_CHART}: {temp.name}, the name of fluxbump's temp file for it, already "
        "exists beside it; fluxbump never writes through it: remove it, re-run; nothing was "
        "written"
    )
    assert victim.read_bytes() == b"outside the repository\n"
    assert git_state(root) == before and temp.is_symlink()


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_symlinked_lock_is_refused_and_its_target_never_truncated(
    tmp_path: Path, index_server: HelmServer, dry_run: bool
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    lock = places(root).lock
    lock.symlink_to(victim)
    before = git_state(root)
    args = ("to", "2.4.0", *(["--dry-run"] if dry_run else []))
    proc = run(fluxbump_cmd(root, index_server, *args), tmp_path / "cache")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"error: the lock {lock} is a symlink; fluxbump never follows one there: remove it and "
        "re-run; nothing was written"
    )
    assert victim.read_bytes() == b"precious\n" and lock.is_symlink()
    assert git_state(root) == before


def test_a_pin_file_with_a_250_byte_name_is_bumped_and_committed(
    tmp_path: Path, index_server: HelmServer
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, **SMALL)
    kit = root / "clusters/a.example/bootstrap-kit"
    long_name = "f" * 245 + ".yaml"
    assert len(long_name.encode()) == 250
    shutil.move(kit / "03-flux.yaml", kit / long_name)
    make_fleet(root, INCIDENT, git=True, clusters=())
    proc = run(fluxbump_cmd(root, index_server, "to", "2.4.0"), tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert f"clusters/a.example/bootstrap-kit/{long_name}" in committed_files(root)
    assert "version: 1.1.2" in (kit / long_name).read_text()
    assert git_state(root).clean and leftovers(root) == []
    assert git_out(root, "symbolic-ref", "--short", "HEAD") == "fluxbump/flux-v2.4.0"
