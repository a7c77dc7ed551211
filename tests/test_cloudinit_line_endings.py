"""A cloud-init template saved with CR (classic Mac) or CRLF line endings is read as with LF:
its install URL is the pin, at its line, and ``to`` rewrites the version alone, every line
ending kept byte for byte. A lone CR was no line end to the template's reader: the whole file
was one line, whose first word ``#cloud-config`` made the URL a comment, and ``check`` called
the install "not a literal vX.Y.Z" (exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot

TEMPLATE = "infra/hetzner/cloudinit-control-plane.tftpl"


def fleet(root: Path, ending: str) -> Path:
    """The consistent fleet, its cloud-init template's line ends ``ending``."""
    repo = make_fleet(root, CONSISTENT)
    (repo / TEMPLATE).write_bytes((repo / TEMPLATE).read_bytes().replace(b"\n", ending.encode()))
    return repo


@pytest.mark.parametrize("ending", ["\r", "\r\n"], ids=["cr", "crlf"])
def test_a_template_with_other_line_endings_is_read_and_moved_as_with_lf(
    tmp_path: Path, ending: str
) -> None:
    lf, other = fleet(tmp_path / "lf", "\n"), fleet(tmp_path / "other", ending)
    for command in ("status", "check"):
        want = run_cli(command, "--offline", "--repo", str(lf))
        got = run_cli(command, "--offline", "--repo", str(other))
        assert (got.code, got.stdout) == (want.code, want.stdout) == (0, want.stdout)
        assert command == "check" or f"{TEMPLATE}:16 " in got.stdout
    for repo in (lf, other):
        bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
        assert bump.code == 0, bump.stdout + bump.stderr
    moved = snapshot(lf)[TEMPLATE]
    assert b"/download/v2.5.1/install.yaml" in moved
    assert snapshot(other)[TEMPLATE] == moved.replace(b"\n", ending.encode())
