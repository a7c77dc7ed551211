"""Only regular files inside the repository are read (issue 18, item 10): a FIFO, a socket, or
a symlink inside the repository to one, under a scanned path, is refused by every command with
one line naming it, exit 2, and nothing written; a FIFO never hangs the run. A symlink out of
the repository (to a file, a device, a FIFO) is never followed: named once, and the run goes on."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.cli_runner import Outcome, run_cli
from tests.support.crash_cli import SMALL, fluxbump_cmd, run
from tests.support.fixtures import INCIDENT, git, make_fleet
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


# A pin of the wrapper: followed, a bump would edit it.
OUTSIDE_RELEASE = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n"
    "spec:\n  chart:\n    spec:\n      chart: bp-flux\n      version: 0.0.1\n"
)


def to_outside_file(path: Path, tmp: Path) -> Iterator[str]:
    outside = tmp / "outside.yaml"
    outside.write_text(OUTSIDE_RELEASE)
    path.symlink_to(outside)
    yield f"a symlink to {outside}, outside the repository"


def to_inside_fifo(path: Path, tmp: Path) -> Iterator[str]:
    root = next(p for p in path.parents if (p / ".git").exists())
    os.mkfifo(root / "pipe")  # a name no glob reads: only the link to it is scanned
    path.symlink_to(root / "pipe")
    yield f"a symlink to {os.path.realpath(root / 'pipe')}, a FIFO, not a regular file"


KINDS: dict[str, Callable[[Path, Path], Iterator[str]]] = {
    "fifo": fifo,
    "socket": unix_socket,
    "link-to-fifo-inside": to_inside_fifo,
}
# Links out of the repository: what they name is no content of it (git stores the link).
OUTSIDE: dict[str, Callable[[Path, Path], Iterator[str]]] = {
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


@pytest.mark.parametrize(
    ("rel", "kind"), [(MANIFEST, k) for k in OUTSIDE] + [(CHART, "link-out-of-repo")]
)
def test_a_symlink_out_of_the_repository_is_named_once_and_never_followed(
    tmp_path: Path, index_server: HelmServer, kind: str, rel: str
) -> None:
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    next(OUTSIDE[kind](root / rel, tmp_path))
    target = os.path.realpath(root / rel)
    said = (
        f"warning: {rel}: a symlink to {target}, outside the repository; not followed (git "
        "stores the link, not what it names)"
    )
    outside = Path(target).read_bytes() if kind == "link-out-of-repo" else None
    bump = (("to", "2.4.0"),) if kind == "link-out-of-repo" else ()  # its target holds a pin
    for args in (("status",), ("check",), *bump):
        outcome = run_cli(*fluxbump_cmd(root, index_server, *args)[3:])
        assert outcome.code == (1 if args == ("check",) else 0), (args, outcome.stderr)
        assert [line for line in outcome.stderr.splitlines() if "symlink" in line] == [said]
    assert os.readlink(root / rel) == target or os.path.realpath(root / rel) == target
    assert (root / rel).is_symlink() and leftovers(root) == []
    if outside is not None:
        assert Path(target).read_bytes() == outside


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


def test_a_config_linked_out_of_the_repository_is_still_refused(tmp_path: Path) -> None:
    """``.fluxbump.yaml`` steers the whole run: one out of the repository is refused, not skipped."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (tmp_path / "config.yaml").write_text("wrapper: bp-flux\n")
    (root / ".fluxbump.yaml").symlink_to(tmp_path / "config.yaml")
    outcome = run_cli("check", "--repo", str(root), "--offline")
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr == (
        f"error: .fluxbump.yaml: a symlink to {os.path.realpath(tmp_path / 'config.yaml')}, "
        "outside the repository; fluxbump reads only files inside it: replace the link with the "
        "file; nothing was written\n"
    )  # (not "add it to 'exclude' in .fluxbump.yaml": the file itself, read before its exclude)


def test_an_empty_pin_file_and_directories_named_like_yaml_files_change_nothing(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A manifest emptied to 0 bytes holds no pin; a directory named ``x.yaml`` under the
    clusters glob, or ``Chart.yaml`` under the charts glob, is no file: every command reads
    the rest as it would without them, and the bump leaves all three as they were."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    (root / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).write_bytes(b"")
    for folder in ("clusters/a.example/dir.yaml", CHART):
        (root / folder).mkdir(parents=True)
        (root / folder / "inside.txt").write_text("not yaml\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "odd names")
    plain = make_fleet(tmp_path / "plain", INCIDENT, git=True, **SMALL)
    for args in (("status",), ("check",)):
        odd, usual = (run_cli(*fluxbump_cmd(r, index_server, *args)[3:]) for r in (root, plain))
        assert odd == usual, args
    outcome = run_cli(*fluxbump_cmd(root, index_server, "to", "2.4.0")[3:])
    assert outcome.code == 0 and outcome.stderr == "", outcome.stderr
    assert (root / MANIFEST).read_bytes() == b""
    assert (root / CHART / "inside.txt").read_text() == "not yaml\n"
    assert git(root, "status", "--porcelain") == "" and leftovers(root) == []


def test_a_directory_symlink_out_of_the_repository_is_named_once_and_never_followed(
    tmp_path: Path, index_server: HelmServer
) -> None:
    """A folder of the clusters glob linked out of the repository, holding a HelmRelease of
    the wrapper at 0.0.1: never followed, as a file linked out is not, but it was not named
    either, so its stale pin went unsaid by status, check and to."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "release.yaml").write_text(OUTSIDE_RELEASE)
    link = "clusters/a.example/linked"
    (root / link).symlink_to(outside, target_is_directory=True)
    said = (
        f"warning: {link}: a symlink to {outside}, outside the repository; not followed (git "
        "stores the link, not what it names)"
    )
    for args in (("status",), ("check",), ("to", "2.4.0")):
        outcome = run_cli(*fluxbump_cmd(root, index_server, *args)[3:])
        assert outcome.code == (1 if args == ("check",) else 0), (args, outcome.stderr)
        assert [line for line in outcome.stderr.splitlines() if "symlink" in line] == [said]
    assert b"version: 0.0.1" in (outside / "release.yaml").read_bytes()
    assert (root / link).is_symlink() and leftovers(root) == []
