"""Only regular files inside the repository are read (issue 18, item 10): a FIFO, a socket, a
symlink to a device or out of the repository under a scanned path is refused by every
command with one line naming it, exit 2, and nothing written; a FIFO never hangs the run."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer

MANIFEST = "clusters/a.example/extra.yaml"  # matched by the clusters glob (**/*.yaml)
CHART = "platform/extra/Chart.yaml"  # matched by the charts glob: read whole, capped
COMMANDS = (("status",), ("check",), ("to", "2.4.0"), ("sync",), ("init",))


def fifo(path: Path, tmp: Path) -> Iterator[str]:
    os.mkfifo(path)
    yield "a FIFO, not a regular file"


def unix_socket(path: Path, tmp: Path) -> Iterator[str]:
    # A relative bind: the full path may exceed the 108 bytes of sun_path.
    here = os.getcwd()
    os.chdir(path.parent)
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path.name)
    finally:
        os.chdir(here)
    try:
        yield "a socket, not a regular file"
    finally:
        server.close()


def to_device(device: str) -> Callable[[Path, Path], Iterator[str]]:
    def make(path: Path, tmp: Path) -> Iterator[str]:
        path.symlink_to(device)
        yield f"a symlink to {device}, a character device, not a regular file"

    return make


def to_outside_fifo(path: Path, tmp: Path) -> Iterator[str]:
    os.mkfifo(tmp / "pipe")
    path.symlink_to(tmp / "pipe")
    yield f"a symlink to {tmp / 'pipe'}, a FIFO, not a regular file"


def to_outside_file(path: Path, tmp: Path) -> Iterator[str]:
    outside = tmp / "outside.yaml"
    outside.write_text("apiVersion: v1\nkind: ConfigMap\n")
    path.symlink_to(outside)
    yield f"a symlink to {outside}, outside the repository"


KINDS: dict[str, Callable[[Path, Path], Iterator[str]]] = {
    "fifo": fifo,
    "socket": unix_socket,
    "dev-zero": to_device("/dev/zero"),
    "dev-urandom": to_device("/dev/urandom"),
    "link-to-fifo": to_outside_fifo,
    "link-out-of-repo": to_outside_file,
}


def invoke(
    root: Path, server: HelmServer, tmp: Path, hangs: bool, args: tuple[str, ...]
) -> Outcome:
    cmd = fluxbump_cmd(root, server, *args)
    if args == ("init",):
        cmd = cmd[: cmd.index("--helm-repo")]  # init reads no index
    if hangs:  # a child process, so that a regression fails (timeout) instead of hanging pytest
        proc = run(cmd, tmp / "cache")
        return Outcome(proc.returncode, proc.stdout, proc.stderr)
    return run_cli(*cmd[3:])


@pytest.mark.parametrize("rel", [MANIFEST, CHART], ids=["manifest", "chart"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_special_file_is_refused_by_every_command_and_nothing_is_written(
    tmp_path: Path, index_server: HelmServer, kind: str, rel: str
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    made = KINDS[kind](root / rel, tmp_path)
    says = next(made)
    before = git_state(root)
    for args in COMMANDS:
        outcome = invoke(root, index_server, tmp_path, "fifo" in kind, args)
        assert outcome.code == 2, (args, outcome.stdout, outcome.stderr)
        assert outcome.stderr.splitlines() == [outcome.stderr.rstrip("\n")], outcome.stderr
        assert outcome.stderr.startswith(f"error: {rel}: {says}"), (args, outcome.stderr)
        assert "nothing was written" in outcome.stderr
        assert git_state(root) == before, args
        assert leftovers(root) == [], args
        assert not (root / ".fluxbump.yaml").exists()
    made.close()


def test_a_capped_file_is_cut_at_the_bytes_read_not_its_size(tmp_path: Path) -> None:
    """The 8 MiB cap of a chart counts the bytes read, one past the cap at most."""
    from fluxbump.scan import sources

    root = tmp_path / "repo"
    root.mkdir()
    (root / "big").write_bytes(b"a" * (sources.MAX_FILE_BYTES + 100))
    raw = sources.read_raw(root, "big", limit=sources.MAX_FILE_BYTES + 1)
    assert len(raw) == sources.MAX_FILE_BYTES + 1
    with pytest.raises(sources.UsageError, match="big: larger than 8 MiB"):
        sources.read_source(root, "big")
