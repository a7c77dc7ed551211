"""The CRDs a repository applies itself, when no pin says which Flux release installs them.

neuralnetes/monorepo vendors Flux v0.x's manifests split per controller (no release header):
no pin names the release, so ``to 2.6.4`` took 2.6.4 for the installed one and moved 168
Kustomizations to ``kustomize.toolkit.fluxcd.io/v1``, which those CRDs do not serve; after the
push the old Flux rejects every one. Where nothing names the release, the repository's own CRDs
are what its clusters serve: no object moves past them. Only then are they read, from the
manifests that define a CRD of a group an object moves in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from fluxbump.crds.definitions import Crd, crds_in_text
from fluxbump.crds.safest import installed_release
from fluxbump.errors import UnsafeTransitionError, UsageError
from fluxbump.gate.invariants import ranged_install
from fluxbump.pins import Role
from fluxbump.plan import Edit
from fluxbump.remote.index import HelmIndex
from fluxbump.scan.discover import Discovery, Survey
from fluxbump.scan.sources import READ_LIMIT, read_raw


def repository_crds(tree: Survey, groups: Iterable[str]) -> dict[tuple[str, str], list[Crd]]:
    """(group, kind) -> each CRD of those ``groups`` the repository's manifests define (two
    installs kept here may differ), its ``source`` the file:line of its ``metadata.name``."""
    wanted = [group.encode() for group in groups]
    found: dict[tuple[str, str], list[Crd]] = {}
    for rel in tree.roles.clusters:
        source = tree.sources.get(rel)
        try:
            raw = source.raw if source is not None else read_raw(tree.root, rel, limit=READ_LIMIT)
        except UsageError:
            continue  # unreadable or too large to be a manifest: the scan reports it
        if b"CustomResourceDefinition" not in raw or not any(g in raw for g in wanted):
            continue
        text = raw.decode("utf-8", errors="replace")
        for crd in crds_in_text(text, rel, []):
            where = f"{rel}:{_name_line(text, crd.name)}"
            found.setdefault((crd.group, crd.kind), []).append(replace(crd, source=where))
    return found


def _name_line(text: str, name: str) -> int:
    """The line of the first ``name: <name>`` (a CRD's metadata.name); 1 when none is."""
    match = re.search(rf"^[ \t]*name:[ \t]*['\"]?{re.escape(name)}['\"]?[ \t]*\r?$", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _moved_past(tree: Survey, edits: list[Edit], release: str) -> str | None:
    """Why apiVersion ``edits`` are unsafe: one moves an object to a version the repository's
    own CRD of its kind does not serve (with no release pinned, those CRDs are what the
    clusters run); None: none does."""
    moves = [e for e in edits if e.site.role is Role.API_VERSION and "/" in e.new]
    if not moves:
        return None
    here = repository_crds(tree, {e.new.rpartition("/")[0] for e in moves})
    past = []
    for edit in moves:
        group, _, version = edit.new.rpartition("/")
        crds = here.get((group, edit.site.subject), [])
        short = next((crd for crd in crds if version not in crd.served), None)
        if short is not None:
            past.append((edit, short))
    if not past:
        return None
    edit, crd = past[0]
    served = ", ".join(crd.served) or "no version"
    others = len(past) - 1
    more = f", and {others} more object{'s' if others > 1 else ''}," if others else ""
    them = "them" if others else "it"
    return (
        f"{crd.source}: this repository's CRD {crd.name} serves only {served} "
        f"and no pin names the Flux release installing it, so moving {edit.site.owner} "
        f"({edit.site.where}) to {edit.new} ({release}){more} would have the API server "
        f"reject {them}: upgrade that install first, or pin its release, then re-run"
    )


def refuse_past_repository_crds(
    tree: Survey,
    found: Discovery,
    index: HelmIndex,
    edits: list[Edit],
    release: str,
    *,
    force: bool,
) -> list[str]:
    """Refuse (exit 4) apiVersion ``edits`` past the repository's own CRDs when no pin (not
    even a FluxInstance range) says which release the clusters run: the target is then no
    installed release, and those CRDs are what the clusters serve. Forced, it is said."""
    if not edits or installed_release(found, index) or ranged_install(found, index):
        return []
    past = _moved_past(tree, edits, release)
    if past is None:
        return []
    if not force:
        raise UnsafeTransitionError(f"{past}; --force-unsafe-crds overrides; nothing written")
    return [f"--force-unsafe-crds: {past}"]
