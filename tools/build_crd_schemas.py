"""Build the bundled catalog of Flux CRD schemas, one entry per released ``flux2`` chart.

    python -m tools.build_crd_schemas CHARTS_CLONE [--out fluxbump/data/flux2-crd-schemas.json.gz]

CHARTS_CLONE is a git clone of https://github.com/fluxcd-community/helm-charts with its tags.
For every tag ``flux2-X.Y.Z`` (X >= 2) it reads the CRD templates the chart archive packages
(``charts/flux2/templates/*.crds.yaml`` and ``charts/flux2/crds/``) at that tag, parses them
with the same reader fluxbump applies to a downloaded archive (``fluxbump.crds.archives``),
and writes each CRD's served and storage versions and per-version ``openAPIV3Schema``.
Descriptions are dropped (no validation meaning), each distinct schema is stored once, by
content hash (schemas repeat across releases), and the file is gzip-compressed: ``check --offline`` validates HelmReleases against the
pinned release with no network (the chart archive itself is not needed).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fluxbump.crds.definitions import Crd, crds_in_text

TAG = re.compile(r"flux2-(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\Z")
CHART_DIR = "charts/flux2"
DEFAULT_OUT = Path("fluxbump/data/flux2-crd-schemas.json.gz")


def git(clone: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True)
    return done.stdout


def chart_versions(clone: Path) -> list[str]:
    """Released flux2 chart versions (2.0.0 and later: the API versions in use today)."""
    found = [
        m["version"] for t in git(clone, "tag", "-l", "flux2-*").split() if (m := TAG.match(t))
    ]
    ordered = sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))
    return [v for v in ordered if int(v.split(".")[0]) >= 2]


def crds_at(clone: Path, version: str) -> dict[str, Crd]:
    """The CRDs the chart packages at its release tag."""
    tag = f"flux2-{version}"
    names = git(clone, "ls-tree", "-r", "--name-only", tag, CHART_DIR).split("\n")
    crds: dict[str, Crd] = {}
    notes: list[str] = []
    for name in sorted(n for n in names if n.endswith((".yaml", ".yml"))):
        if not (name.endswith(".crds.yaml") or "/crds/" in name):
            continue
        text = git(clone, "show", f"{tag}:{name}")
        for crd in crds_in_text(text, f"{tag}:{name}", notes):
            crds[crd.name] = crd
    if notes:
        raise SystemExit(f"{tag}: {'; '.join(notes)}")
    return crds


def without_descriptions(node: Any, *, field_names: bool = False) -> Any:
    """The schema without its ``description`` texts (half the catalog's size, no validation
    meaning). In a ``properties`` map the keys are field names: a field called
    ``description`` is kept."""
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: without_descriptions(value, field_names=key == "properties" and not field_names)
        for key, value in node.items()
        if field_names or not (key == "description" and isinstance(value, str))
    }


def digest(schema: dict[str, Any]) -> str:
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def build(clone: Path) -> dict[str, Any]:
    schemas: dict[str, dict[str, Any]] = {}
    charts: dict[str, Any] = {}
    for version in chart_versions(clone):
        entry: dict[str, Any] = {}
        for name, crd in sorted(crds_at(clone, version).items()):
            refs = {}
            for api_version, full in sorted(crd.schemas.items()):
                schema = without_descriptions(full)
                key = digest(schema)
                schemas[key] = schema
                refs[api_version] = key
            entry[name] = {"group": crd.group, "kind": crd.kind, "served": list(crd.served),
                           "storage": crd.storage, "schemas": refs}  # fmt: skip
        charts[version] = entry
    return {"format": 1, "source": "fluxcd-community/helm-charts tags flux2-*",
            "charts": charts, "schemas": schemas}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_crd_schemas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("clone", type=Path, help="git clone of fluxcd-community/helm-charts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    catalog = build(args.clone)
    body = json.dumps(catalog, sort_keys=True, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same input gives the same bytes (a rebuild shows no diff).
    args.out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    print(f"{len(catalog['charts'])} chart versions, {len(catalog['schemas'])} distinct schemas, "
          f"{len(body)} bytes of JSON, {args.out.stat().st_size} bytes gzip -> {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
