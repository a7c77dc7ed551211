"""Byte-compare what two fluxbump installs print for status and check on the same repositories.

A performance change must not change output: run the baseline's interpreter (A) and the
change's (B) on every tests/realworld snapshot (each copied into a fresh git repository) and on
any repository given, cold and offline, and compare stdout, stderr and the exit code.

    python tools/same_output.py /path/to/main/.venv/bin/python .venv/bin/python [REPO ...]

Exit 0 when every output is byte-equal, 1 when one differs (each difference is named).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "tests" / "realworld"
COMMANDS = (
    ("status",),
    ("status", "--json"),
    ("status", "--verbose"),
    ("check",),
    ("check", "--json"),
    ("check", "--component", "flux", "--json"),
    ("status", "--component", "flux"),
)


def snapshot_repos(into: Path) -> list[Path]:
    """Each snapshot copied and committed: fluxbump runs on a git work tree."""
    repos = []
    for source in sorted(p for p in SNAPSHOTS.iterdir() if (p / "SOURCE.md").is_file()):
        repo = into / source.name
        shutil.copytree(source, repo)
        for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "snapshot", "--no-gpg-sign")):
            identity = ("-c", "user.name=same-output", "-c", "user.email=same-output@invalid")
            subprocess.run(["git", *identity, *args], cwd=repo, check=True)
        repos.append(repo)
    return repos


def output(python: str, repo: Path, args: tuple[str, ...]) -> tuple[bytes, bytes, int]:
    env = {**os.environ, "FLUXBUMP_NO_CACHE": "1"}
    command = [python, "-m", "fluxbump", *args, "--offline", "--no-cache", "--repo", str(repo)]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False)
    return done.stdout, done.stderr, done.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[4].strip(), file=sys.stderr)
        return 2
    # Absolute (each run's directory is the repository), not resolved (a venv's python is a link).
    baseline, change = (os.path.abspath(python) for python in argv[:2])
    given = argv[2:]
    differ = 0
    with tempfile.TemporaryDirectory() as scratch:
        for repo in [*snapshot_repos(Path(scratch)), *map(Path, given)]:
            for args in COMMANDS:
                same = output(baseline, repo, args) == output(change, repo, args)
                differ += not same
                print(f"{'same' if same else 'DIFFERS'}  {repo.name}  {' '.join(args)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
