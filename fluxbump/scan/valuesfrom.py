"""A flux-instance HelmRelease's ``valuesFrom``, followed to the file kustomize makes it of.

Home-ops repositories keep the FluxInstance's values in a file (``helm/values.yaml``, which
the bootstrap helmfile reads too) and let the app's ``kustomization.yaml`` generate the
ConfigMap the HelmRelease names (``configMapGenerator``, ``files: [values.yaml=./helm/
values.yaml]``). Flux merges the ``valuesFrom`` sources in order, then ``spec.values``, so
the release the operator installs is the last ``instance.distribution.version`` those files
set (the chart's ``2.x`` when none does). A source this repository does not generate so (a
Secret from elsewhere, a ``targetPath``) may set it, and then it stays unproven.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites.fluxinstance import CHART_DEFAULT, IN_VALUES, VALUES_FROM, VALUES_PATH
from fluxbump.scan.sites.kustomizeremote import FILE_NAMES as KUSTOMIZATION_FILES
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

# A repository file's source, None when there is none (or it cannot be read).
Read = Callable[[str], SourceFile | None]

_GENERATORS = {"ConfigMap": "configMapGenerator", "Secret": "secretGenerator"}
# Flux reads this key of the ConfigMap or Secret when ``valuesKey`` names none.
_DEFAULT_KEY = "values.yaml"


@dataclass(frozen=True)
class _Source:
    """One ``valuesFrom`` entry as Flux reads it."""

    kind: str
    name: str
    key: str
    whole: bool  # no ``targetPath``: the key's content is merged as values


def follow_values_from(sites: Sequence[PinSite], read: Read) -> list[PinSite]:
    """``sites`` with each flux-instance release shown as ``valuesFrom`` replaced by what
    its sources set, where this repository generates every one that may set it."""
    followed: list[PinSite] = []
    seen: set[tuple[str, int]] = set()
    for site in sites:
        for pin in _followed(site, read) if _from_values(site) else [site]:
            if (pin.file, pin.start) not in seen:  # (one file, two releases' values)
                seen.add((pin.file, pin.start))
                followed.append(pin)
    return followed


def _from_values(site: PinSite) -> bool:
    # (a release a ResourceSet generates too: its path in the document leads there)
    at = site.path[-len(VALUES_PATH) :]
    return site.role is Role.INSTANCE and site.value == VALUES_FROM and at == VALUES_PATH


def _followed(site: PinSite, read: Read) -> list[PinSite]:
    document = _document(read(site.file), site.doc_index)
    at = site.path[: -len(VALUES_PATH)]
    release = yamldoc.walk(document, at) if document is not None else None
    kustomization = _kustomization_of(site.file, read)
    if release is None or kustomization is None:
        return [site]
    owner = site.owner.rpartition(" (")[0]
    for entry in reversed(list(_entries(release))):  # the last source that sets it wins
        values = _generated_file(kustomization, posixpath.basename(site.file), entry)
        given = _document(read(values), 0) if values is not None and entry.whole else None
        if values is None or given is None:
            return [site]  # a source this repository does not hold: it may set it
        found = yamldoc.scalar_at(given, 0, IN_VALUES)
        if found is not None:
            named = f"{owner} ({entry.kind} {entry.name})"
            return [yaml_site(Role.INSTANCE, values, found, subject="Flux", owner=named)]
    return [replace(site, value=CHART_DEFAULT, owner=f"{owner} (chart default)")]


def _document(source: SourceFile | None, index: int | None) -> Any:
    if source is None or index is None:
        return None
    try:
        documents = blockyaml.compose_all(source.text, source.rel)
    except UsageError:
        return None
    return documents[index] if index < len(documents) else None


def _entries(release: Any) -> Iterator[_Source]:
    for _, entry in yamldoc.items(yamldoc.walk(release, ("spec", "valuesFrom"))):
        yield _Source(
            kind=yamldoc.text_of(yamldoc.child(entry, "kind")) or "",
            name=yamldoc.text_of(yamldoc.child(entry, "name")) or "",
            key=yamldoc.text_of(yamldoc.child(entry, "valuesKey")) or _DEFAULT_KEY,
            whole=yamldoc.child(entry, "targetPath") is None,
        )


@dataclass(frozen=True)
class _Kustomization:
    directory: str
    root: Any


def _kustomization_of(rel: str, read: Read) -> _Kustomization | None:
    """The kustomization beside the release's file (kustomize reads the one of its directory)."""
    directory = posixpath.dirname(rel)
    for name in KUSTOMIZATION_FILES:
        root = _document(read(posixpath.join(directory, name)), 0)
        if root is not None:
            return _Kustomization(directory, root)
    return None


def _generated_file(kustomization: _Kustomization, release: str, source: _Source) -> str | None:
    """The repository file kustomize makes ``source``'s key of, when the kustomization
    that generates it also holds the release (its ``resources``); None otherwise."""
    resources = yamldoc.walk(kustomization.root, ("resources",))
    listed = {posixpath.normpath(yamldoc.text_of(n) or "") for _, n in yamldoc.items(resources)}
    generator = _GENERATORS.get(source.kind)
    if release not in listed or generator is None:
        return None
    for _, entry in yamldoc.items(yamldoc.walk(kustomization.root, (generator,))):
        if yamldoc.text_of(yamldoc.child(entry, "name")) != source.name:
            continue
        for _, item in yamldoc.items(yamldoc.child(entry, "files")):
            key, _, path = (yamldoc.text_of(item) or "").rpartition("=")
            if (key or posixpath.basename(path)) == source.key:
                return _inside(kustomization.directory, path)
    return None


def _inside(directory: str, path: str) -> str | None:
    """``path`` of a kustomization in ``directory``, if kustomize reads it: its load
    restrictor refuses a file outside the kustomization's own directory tree."""
    relative = posixpath.normpath(path)
    if relative.startswith("../") or relative == ".." or posixpath.isabs(relative):
        return None
    return posixpath.join(directory, relative) if directory else relative


def is_followed(site: PinSite) -> bool:
    """A release pin read in a values file a ``valuesFrom`` source is generated of."""
    return site.role is Role.INSTANCE and site.path == IN_VALUES


def version_like(site: PinSite, source: SourceFile) -> list[PinSite]:
    """The version a values file sets, re-read (its text at the base revision, for ``sync``)
    as the pin ``site`` it gave."""
    values = _document(source, 0)
    found = yamldoc.scalar_at(values, 0, IN_VALUES) if values is not None else None
    if found is None:
        return []
    return [yaml_site(site.role, site.file, found, subject=site.subject, owner=site.owner)]
