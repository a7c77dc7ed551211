"""Where a command runs: without ``--repo``, the git work tree holding the current directory.

Run from ``clusters/prod``, the repository is still the work tree's top, as it is for git:
taking the subdirectory as the repository would miss the charts and templates outside it
and report false violations. Found by walking up for ``.git`` (a directory, or the file a
linked work tree or submodule has), so the fast path never imports GitPython or runs git.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root(option: str | None) -> Path:
    """``--repo`` as given; else the work-tree top above the current directory; else it."""
    if option is not None:
        return Path(option)
    here = Path(os.getcwd())
    top = work_tree_top(here)
    # At the top (or outside git) it stays ".", so messages name paths as the user sees them.
    return top if top is not None and top != here else Path(".")


def work_tree_top(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` that holds ``.git``, or None."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None
