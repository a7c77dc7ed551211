"""Kustomize patch files: part of an object, named by a kustomization beside or above them.

A file a ``kustomization.yaml`` lists under ``patchesStrategicMerge:``, or as the ``path:``
of a ``patches:`` entry, is merged into an object of that kustomization's resources: the
fields it leaves out (a HelmRelease's ``interval``, its chart's name and source) are the
patched object's, so the file is no whole object to validate
(pawelpesz/simple-eks-flux-cluster's ``observability/dev/grafana-loki-values.yaml``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fluxbump.errors import FluxbumpError
from fluxbump.scan.sites.kustomizeremote import FILE_NAMES
from fluxbump.scan.sources import read_source


def patch_files(root: Path) -> Callable[[str], bool]:
    """Whether a repository file is a patch a kustomization in its directory or one above
    lists; each directory's kustomization is looked for and read once, when asked about."""
    listed: dict[str, frozenset[str]] = {}

    def patches_of(directory: str) -> frozenset[str]:
        if directory not in listed:
            listed[directory] = _listed_patches(root, directory)
        return listed[directory]

    def is_patch(rel: str) -> bool:
        directory = rel
        while directory:
            directory = posixpath.dirname(directory)
            if rel in patches_of(directory):
                return True
        return False

    return is_patch


def _listed_patches(root: Path, directory: str) -> frozenset[str]:
    """The repository paths of the patch files the kustomization of ``directory`` lists (none
    when there is none, or it cannot be read: kustomize cannot apply it either; one larger
    than a manifest may be is not read past that)."""
    from ruamel.yaml.error import YAMLError

    from fluxbump.yamlio import plaindata

    rel = next((r for r in _names_in(directory) if (root / r).is_file()), None)
    if rel is None:
        return frozenset()
    try:
        docs = plaindata.load_all(read_source(root, rel).text, last_wins=True)
    except (FluxbumpError, YAMLError, ValueError, RecursionError):
        return frozenset()
    return frozenset(
        posixpath.normpath(posixpath.join(directory, path))
        for doc in docs
        if isinstance(doc, dict)
        for path in _patch_paths(doc)
    )


def _names_in(directory: str) -> list[str]:
    return [posixpath.join(directory, name) if directory else name for name in FILE_NAMES]


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
