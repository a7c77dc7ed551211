"""The pin history of a repository from its git log (``crds/history.py`` reads it, purely):
which flux2 releases its clusters may have run, for ``resolve --safe`` and ``check``."""

from __future__ import annotations

from pathlib import Path

from fluxbump.crds.history import PinHistory
from fluxbump.remote.index import HelmIndex
from fluxbump.scan.discover import Discovery


def repository_pin_history(root: Path, found: Discovery, index: HelmIndex) -> PinHistory | None:
    """The releases the pin files' git history pinned; None outside git or before a commit."""
    from fluxbump.crds.guard import charts_of_release
    from fluxbump.crds.history import HISTORY_LIMIT, MovedInstall, pin_files, pin_history
    from fluxbump.vcs import git
    from fluxbump.yamlio.yamldoc import note_warnings

    try:
        repo = git.open_repo(root)
    except git.GitUnusable as exc:  # status and check read the files all the same
        note_warnings(
            [
                f"{exc.top} is a git work tree, but {exc.why}: its pin history is not read, so "
                f"every served CRD version counts as stored{exc.read_remedy}"
            ]
        )
        return None
    if repo is None or not git.has_head(repo):
        return None
    past = git.past_versions(
        repo, pin_files(found), limit=HISTORY_LIMIT, deleted=MovedInstall(found)
    )
    if past is None:  # (git could not read it: said)
        return None
    return pin_history(found, past, charts_of_release(index, found.component.upstream))
