"""The new bytes of every file a plan touches (pure: nothing is written), and their diff."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from fluxbump import progress
from fluxbump.pins import PinSite
from fluxbump.plan import Plan
from fluxbump.scan.sources import SourceFile
from fluxbump.write.splice import edit_yaml, splice
from fluxbump.write.transaction import FileChange

# Below this many edited files a second process costs more than it saves.
FORK_THRESHOLD = 500


def file_changes(sources: dict[str, SourceFile], plan: Plan) -> list[FileChange]:
    """The new bytes of every file the plan touches (pure: nothing is written).

    Each edit is proven by re-parsing its document; across a fleet that is thousands of
    documents, so half of them are proven in a forked child (``forked.in_two``).
    """
    from fluxbump.scan.forked import in_two

    by_file: dict[str, list[tuple[PinSite, str]]] = {}
    for edit in plan.edits:
        by_file.setdefault(edit.site.file, []).append((edit.site, edit.new))

    def edited(files: Sequence[tuple[str, list[tuple[PinSite, str]]]]) -> list[FileChange]:
        changes = []
        for rel, edits in files:
            progress.step(progress.PROVEN)
            source = sources[rel]
            is_text = any(site.doc_index is None for site, _ in edits)
            text = splice(source.text, edits) if is_text else edit_yaml(rel, source.text, edits)
            changes.append(FileChange(rel, source.raw, text.encode("utf-8")))
        return changes

    progress.step(progress.PROVEN, 0, total=len(by_file))
    parts = in_two(edited, sorted(by_file.items()), threshold=FORK_THRESHOLD, phase=progress.PROVEN)
    return [change for part in parts for change in part]


def unified_diff(change: FileChange) -> str:
    old = change.old.decode("utf-8").splitlines(keepends=True)
    new = change.new.decode("utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{change.rel}", f"b/{change.rel}"))
