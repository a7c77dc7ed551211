"""Real snapshots with a few of their files damaged (cut short, bytes spliced in, a line
repeated, lines shuffled): whatever fluxbump makes of them, it answers with a documented exit
code, one line per error, never an internal error, and a ``to --dry-run`` writes nothing.

The damage is drawn from a fixed seed per case, so a failure names a repeatable tree.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, snapshot

SNAPSHOTS = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in SNAPSHOTS.iterdir() if (p / "SOURCE.md").is_file())
# The kinds of file fluxbump's readers parse (YAML, HCL, shell, Nix, CUE, JSON, templates).
READ = (".sh", ".bash", ".hcl", ".tf", ".yml", ".yaml", ".nix", ".cue", ".tftpl", ".json")
SPLICED = (b"{", b"}", b"[", b"'", b'"', b"\t", b"\r", b"${", b"{{", b"<<EOF\n", b"\x00",
           b"\xff\xfe", b": &a", b"*a", b"! ", b"---\n", b"\xc3")  # fmt: skip
DOCUMENTED = {0, 1, 2, 3, 4}
CASES = 12


def _damage(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    lines = data.splitlines(keepends=True)
    match rng.randrange(4):
        case 0:
            return data[:at]
        case 1:
            return data[:at] + rng.choice(SPLICED) + data[at:]
        case 2 if lines:
            i = rng.randrange(len(lines))
            return b"".join([*lines[:i], lines[i] * rng.randrange(2, 4), *lines[i + 1 :]])
        case _:
            rng.shuffle(lines)
            return b"".join(lines)


@pytest.mark.parametrize("seed", range(CASES))
def test_a_damaged_snapshot_gets_documented_answers_and_a_dry_run_writes_nothing(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    name = NAMES[rng.randrange(len(NAMES))]
    repo = tmp_path / name
    shutil.copytree(SNAPSHOTS / name, repo)
    readable = sorted(p for p in repo.rglob("*") if p.is_file() and p.name.endswith(READ))
    for path in rng.sample(readable, min(len(readable), 4)):
        path.write_bytes(_damage(path.read_bytes(), rng))
    init_git(repo)
    env = {"FLUXBUMP_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    before = snapshot(repo)
    for command in (("status",), ("check",), ("to", "2.5.1", "--dry-run")):
        done = run_cli(*command, "--offline", "--repo", str(repo), env=env)
        said = f"{name} (seed {seed}) {' '.join(command)}: exit {done.code}\n{done.stderr}"
        assert done.code in DOCUMENTED, said
        assert "unexpected error" not in done.stderr and "Traceback" not in done.stderr, said
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) <= 1, said
        assert snapshot(repo) == before, said
