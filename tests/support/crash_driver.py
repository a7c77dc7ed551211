"""Crash-test driver: apply + commit one change per file under a lock, then exit 0.

Usage: python tests/support/crash_driver.py ROOT REL... (new content = old with b"old" -> b"new").
Run with FLUXBUMP_CRASH_AT=<step>:<n> so the default writer SIGKILLs this process mid-way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fluxbump.write.transaction import FileChange, apply_changes, repo_lock


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    changes = []
    for rel in argv[1:]:
        old = (root / rel).read_bytes()
        changes.append(FileChange(rel, old, old.replace(b"old", b"new")))
    with repo_lock(root):
        apply_changes(root, changes).commit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
