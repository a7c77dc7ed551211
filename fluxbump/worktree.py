"""Where a command runs: without ``--repo``, the git work tree holding the current directory.

Run from ``clusters/prod``, the repository is still the work tree's top, as it is for git:
taking the subdirectory as the repository would miss the charts and templates outside it
and report false violations. Found by walking up for ``.git`` (a directory, or the file a
linked work tree or submodule has), so the fast path never imports GitPython or runs git.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # mypy takes it as true; ``typing`` is not imported before the CLI
if TYPE_CHECKING:
    from pathlib import Path


def repo_root(option: str | None) -> Path:
    """``--repo`` as given; else the work-tree top above the current directory; else it."""
    from pathlib import Path

    return Path(root_text(option))


def root_text(option: str | None) -> str:
    """``repo_root`` as text, for the verdict cache's path before the CLI (and pathlib) loads."""
    if option is not None:
        return option
    here = os.getcwd()
    top = work_tree_top(here)
    # At the top (or outside git) it stays ".", so messages name paths as the user sees them.
    return top if top is not None and top != here else "."


def work_tree_top(start: str) -> str | None:
    """The nearest directory at or above ``start`` that holds ``.git``, or None."""
    directory = start
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
