"""CustomResourceDefinitions of a chart release: read from its archive, or from the bundled
catalog of real flux2 releases when the archive cannot be had (offline, no cache).

Why this exists: a wrapper chart once pulled a ``flux2`` chart whose CRDs (Flux 2.3.0) no
longer served ``buckets.source.toolkit.fluxcd.io/v1``, which the running Flux 2.4.0 had
stored; which versions each CRD serves and stores is what the guard compares. Pure functions
of their inputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from fluxbump.crds.archives import DEFAULT_LIMITS, ArchiveLimits, chart_members
from fluxbump.yamlio import plaindata

CATALOG_NAME = "flux2-crd-versions.json"


@dataclass(frozen=True)
class CrdVersions:
    """Which API versions a CRD serves and which one it stores, in one release."""

    name: str
    served: tuple[str, ...]
    storage: str


@dataclass(frozen=True)
class Crd(CrdVersions):
    """A CRD read from a chart: its identity, versions and per-version openAPIV3Schema."""

    group: str = ""
    kind: str = ""
    schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    source: str = ""

    def versions(self) -> CrdVersions:
        return CrdVersions(self.name, self.served, self.storage)


def read_crds(
    archive: bytes,
    source: str,
    *,
    notes: list[str] | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> dict[str, Crd]:
    """Every CustomResourceDefinition in a chart's YAML files, by CRD name.

    Helm templates are not YAML: template-only lines are dropped and inline ``{{ … }}``
    replaced before parsing. A document that still fails to parse is skipped with a note
    appended to ``notes`` (a chart may hold templates we cannot read; that is not fatal).
    """
    sink = notes if notes is not None else []
    crds: dict[str, Crd] = {}
    for name, data in sorted(chart_members(archive, source, limits).items()):
        if name.endswith((".yaml", ".yml")) and b"CustomResourceDefinition" in data:
            where = f"{source}:{name}"
            for crd in crds_in_text(data.decode("utf-8", errors="replace"), where, sink):
                crds[crd.name] = crd
    return crds


TEMPLATE_LINE = re.compile(r"^\s*(\{\{.*?\}\}\s*)+$")
TEMPLATE_INLINE = re.compile(r"\{\{.*?\}\}")
DOC_SPLIT = re.compile(r"^---[ \t]*$", re.MULTILINE)
CRD_KIND = re.compile(r"^kind:\s*['\"]?CustomResourceDefinition", re.MULTILINE)


def detemplate(text: str) -> str:
    """Text with template-only lines removed and inline actions replaced by a plain word."""
    kept = (line for line in text.splitlines() if not TEMPLATE_LINE.match(line))
    return "\n".join(TEMPLATE_INLINE.sub("TEMPLATED", line) for line in kept) + "\n"


def crds_in_text(text: str, where: str, notes: list[str]) -> Iterator[Crd]:
    for number, chunk in enumerate(DOC_SPLIT.split(detemplate(text)), start=1):
        if not CRD_KIND.search(chunk):
            continue
        doc = _load_plain(chunk, f"{where} document {number}", notes)
        crd = _crd_from_doc(doc, where, notes) if doc is not None else None
        if crd is not None:
            yield crd


def _load_plain(chunk: str, where: str, notes: list[str]) -> Any:
    from ruamel.yaml.error import YAMLError

    try:
        doc = plaindata.load(chunk)
    except (YAMLError, RecursionError, ValueError) as exc:  # (``!!int x``, 4300+ digits)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        notes.append(f"{where}: skipped, not YAML after removing template lines ({first})")
        return None
    if _shares_nodes(doc):
        # CRDs never use anchors; refusing shared nodes defuses alias bombs in later walks.
        notes.append(f"{where}: skipped, uses YAML aliases")
        return None
    return doc


def _shares_nodes(root: Any) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            if id(node) in seen:
                return True
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)
    return False


def _crd_from_doc(doc: Any, where: str, notes: list[str]) -> Crd | None:
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        return None
    name = dig(doc, "metadata", "name")
    spec = doc.get("spec")
    versions = spec.get("versions") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not isinstance(versions, list):
        notes.append(f"{where}: skipped a CRD without metadata.name or spec.versions")
        return None
    entries = [v for v in versions if isinstance(v, dict) and isinstance(v.get("name"), str)]
    storage = [str(v["name"]) for v in entries if v.get("storage") is True]
    return Crd(
        name=name,
        served=tuple(str(v["name"]) for v in entries if v.get("served") is True),
        storage=storage[0] if storage else "",
        group=str(dig(doc, "spec", "group") or ""),
        kind=str(dig(doc, "spec", "names", "kind") or ""),
        schemas={
            str(v["name"]): s
            for v in entries
            if isinstance(s := dig(v, "schema", "openAPIV3Schema"), dict)
        },
        source=where,
    )


def dig(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


# --- the bundled catalog -----------------------------------------------------------------


@cache
def _catalog() -> dict[str, Any]:
    text = resources.files("fluxbump").joinpath("data", CATALOG_NAME).read_text("utf-8")
    data = json.loads(text)
    return data if isinstance(data, dict) else {}


def crd_catalog_offline(chart_version: str) -> dict[str, CrdVersions] | None:
    """Served/storage versions per CRD of a flux2 chart release, from the bundled catalog.

    For when the archive cannot be fetched (offline, no cache): enough for the drop guard,
    not for schema validation. None when the catalog does not know the release.
    """
    release = _catalog().get(chart_version.removeprefix("v"))
    crds = release.get("crds") if isinstance(release, dict) else None
    if not isinstance(crds, dict):
        return None
    return {
        name: CrdVersions(
            name, tuple(str(v) for v in info.get("served", ())), str(info.get("storage", ""))
        )
        for name, info in crds.items()
        if isinstance(info, dict)
    }


def catalog_app_version(chart_version: str) -> str | None:
    """The Flux version (chart appVersion) the catalog records for a flux2 chart release."""
    release = _catalog().get(chart_version.removeprefix("v"))
    return (
        str(release["appVersion"])
        if isinstance(release, dict) and "appVersion" in release
        else None
    )


def catalog_releases() -> dict[str, list[str]]:
    """Flux version (appVersion) -> the flux2 chart versions the catalog records for it."""
    found: dict[str, list[str]] = {}
    for chart, release in _catalog().items():
        if isinstance(release, dict) and "appVersion" in release:
            found.setdefault(str(release["appVersion"]), []).append(chart)
    return found


# --- deprecated versions (tools/build_crd_deprecations.py) -----------------------------------

DEPRECATIONS_NAME = "flux2-crd-deprecations.json"


@cache
def _deprecations() -> dict[str, Any]:
    text = resources.files("fluxbump").joinpath("data", DEPRECATIONS_NAME).read_text("utf-8")
    data = json.loads(text)
    return data if isinstance(data, dict) else {}


def deprecated_versions(chart_version: str) -> dict[tuple[str, str], str]:
    """(CRD name, API version) -> the ``deprecationWarning`` of each version a flux2 chart
    release serves but marks ``deprecated: true``; empty when the catalog does not know it."""
    data = _deprecations()
    key = data.get("charts", {}).get(chart_version.removeprefix("v"))
    found = data.get("sets", {}).get(key, {}) if isinstance(key, str) else {}
    return {
        (name, version): str(text)
        for crd_version, text in found.items()
        for name, _, version in [crd_version.rpartition("/")]
    }
