"""A stdout or stderr that cannot encode every character fluxbump prints (a legacy locale such
as en_US.ISO-8859-1, PYTHONIOENCODING=ascii, a Windows pipe in cp1252): a character it lacks
is printed escaped, never an "unexpected error" after the bump committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.crash_cli import SMALL, child_env, fluxbump_cmd
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_server import HelmServer


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_bump_prints_what_its_stdout_cannot_encode_escaped(
    tmp_path: Path, index_server: HelmServer, encoding: str
) -> None:
    """The arrow of "Flux v2.4.0 → flux2 chart" failed to encode after the commit: exit 70."""
    root = make_fleet(tmp_path / "repo", INCIDENT, git=True, **SMALL)
    proc = subprocess.run(
        fluxbump_cmd(root, index_server, "to", "2.4.0"),
        env=child_env(FLUXBUMP_CACHE_DIR=str(tmp_path / "cache"), PYTHONIOENCODING=encoding),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Flux v2.4.0 \\u2192 flux2 chart 2.14.1 (chart was 2.13.0)\n" in proc.stdout
    assert proc.stdout.decode(encoding)  # nothing but what the encoding holds
    state = git_state(root)
    assert state.branch == "fluxbump/flux-v2.4.0" and state.clean and leftovers(root) == []
