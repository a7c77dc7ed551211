"""Flux CRD schemas of every released ``flux2`` chart, bundled with fluxbump.

``check --offline`` (the pre-commit hook, most CI gates) cannot download the pinned chart's
archive, yet the incident's second follow-up was a HelmRelease field the target release's
schema lacks. The catalog (built by ``tools/build_crd_schemas.py`` from the chart's CRD
templates at each release tag; each distinct schema stored once) answers without network.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any

from fluxbump import versions
from fluxbump.crds.definitions import Crd

SCHEMA_CATALOG_NAME = "flux2-crd-schemas.json.gz"


@cache
def _catalog() -> dict[str, Any]:
    packed = resources.files("fluxbump").joinpath("data", SCHEMA_CATALOG_NAME).read_bytes()
    data = json.loads(gzip.decompress(packed))
    return data if isinstance(data, dict) else {}


def bundled_crds(chart_version: str) -> dict[str, Crd] | None:
    """The CRDs of ``flux2`` ``chart_version`` with their schemas; None when not bundled."""
    catalog = _catalog()
    release = catalog.get("charts", {}).get(chart_version.removeprefix("v"))
    if not isinstance(release, dict):
        return None
    schemas = catalog.get("schemas", {})
    return {
        name: Crd(
            name=name,
            served=tuple(info["served"]),
            storage=info["storage"],
            group=info["group"],
            kind=info["kind"],
            schemas={v: schemas[key] for v, key in info["schemas"].items()},
            source=f"bundled {SCHEMA_CATALOG_NAME}",
        )
        for name, info in release.items()
    }


@cache
def bundled_schema(group: str, kind: str, version: str) -> dict[str, Any] | None:
    """The schema of ``group/version`` ``kind`` in the newest bundled release that has one
    (a version a target no longer serves is judged by the last release that served it)."""
    catalog = _catalog()
    charts = catalog.get("charts", {})
    for chart in sorted(charts, key=versions.sort_key, reverse=True):
        for info in charts[chart].values():
            key = info["schemas"].get(version)
            if info["group"] == group and info["kind"] == kind and key is not None:
                schema = catalog.get("schemas", {}).get(key)
                return schema if isinstance(schema, dict) else None
    return None
