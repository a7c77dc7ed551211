"""Kustomize patch files: part of an object, named by a kustomization beside or above them.

A file a ``kustomization.yaml`` lists under ``patchesStrategicMerge:``, or as the ``path:``
of a ``patches:`` entry, is merged into an object of that kustomization's resources: the
fields it leaves out (a HelmRelease's ``interval``, its chart's name and source) are the
patched object's, so the file is no whole object to validate
(pawelpesz/simple-eks-flux-cluster's ``observability/dev/grafana-loki-values.yaml``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fluxbump.errors import FluxbumpError
from fluxbump.scan.sites.kustomizeremote import FILE_NAMES
from fluxbump.scan.sources import read_raw, source_of


def patch_files(root: Path, walked: Iterable[str]) -> Callable[[str], bool]:
    """Whether a repository file is a patch a walked kustomization lists; the walk is looked
    through on the first question only (most runs ask none), and each kustomization is read
    once, when a file in or below its directory is asked about."""
    kustomizations: dict[str, str] = {}
    listed: dict[str, frozenset[str]] = {}

    def patches_of(directory: str) -> frozenset[str]:
        if not listed:
            kustomizations.update((posixpath.dirname(rel), rel) for rel in walked
                                  if posixpath.basename(rel) in FILE_NAMES)  # fmt: skip
        if directory not in listed:
            rel = kustomizations.get(directory)
            listed[directory] = _listed_patches(root, rel) if rel is not None else frozenset()
        return listed[directory]

    def is_patch(rel: str) -> bool:
        directory = rel
        while directory:
            directory = posixpath.dirname(directory)
            if rel in patches_of(directory):
                return True
        return False

    return is_patch


def _listed_patches(root: Path, rel: str) -> frozenset[str]:
    """The repository paths of the patch files one kustomization lists (none when it cannot
    be read: kustomize cannot apply it either, and the scan names such a file)."""
    from ruamel.yaml.error import YAMLError

    from fluxbump.yamlio import plaindata

    try:
        docs = plaindata.load_all(source_of(rel, read_raw(root, rel)).text, last_wins=True)
    except (FluxbumpError, YAMLError, ValueError, RecursionError):
        return frozenset()
    directory = posixpath.dirname(rel)
    return frozenset(
        posixpath.normpath(posixpath.join(directory, path))
        for doc in docs
        if isinstance(doc, dict)
        for path in _patch_paths(doc)
    )


def _patch_paths(kustomization: dict[str, Any]) -> list[str]:
    """The file paths among a kustomization's patches (an inline patch is text, not a path)."""
    strategic = kustomization.get("patchesStrategicMerge")
    patches = kustomization.get("patches")
    paths = [p for p in strategic if isinstance(p, str)] if isinstance(strategic, list) else []
    if isinstance(patches, list):
        paths += [
            p["path"] for p in patches if isinstance(p, dict) and isinstance(p.get("path"), str)
        ]
    return [p for p in paths if p and "\n" not in p]
