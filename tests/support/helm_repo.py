"""A local flux2 Helm repository: the real index snapshot, with chart archives served here.

Each flux2 2.x chart gets a small archive whose CRDs serve and store exactly the API versions
of the real release (from the bundled catalog), so no test ever reaches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_INDEX = ROOT / "fluxbump" / "data" / "fluxcd-community-index-2026-04-15.yaml"
CATALOG = ROOT / "fluxbump" / "data" / "flux2-crd-versions.json"
PERMISSIVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd_document(
    name: str, kinds: dict[str, str], info: dict[str, Any], schemas: dict[str, Any]
) -> str:
    # Most chart versions share their CRDs' versions: dumping each distinct one once
    # (through JSON keys) saves ~600 YAML dumps per repository built.
    kind = kinds.get(name, name.split(".", 1)[0])
    schema = schemas.get(name, PERMISSIVE)
    return _crd_yaml(
        name, kind, json.dumps(info, sort_keys=True), json.dumps(schema, sort_keys=True)
    )


@cache
def _crd_yaml(name: str, kind: str, info_json: str, schema_json: str) -> str:
    plural, group = name.split(".", 1)
    info = json.loads(info_json)
    versions = [
        {
            "name": v,
            "served": True,
            "storage": v == info["storage"],
            # A fresh copy per version: shared objects would be dumped as YAML aliases.
            "schema": {"openAPIV3Schema": json.loads(schema_json)},
        }
        for v in info["served"]
    ]
    spec = {"group": group, "names": {"kind": kind, "plural": plural}, "versions": versions}
    doc = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": name}, "spec": spec}  # fmt: skip
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(doc, buffer)
    return buffer.getvalue()


KINDS = {"helmreleases.helm.toolkit.fluxcd.io": "HelmRelease"}


def chart_archive(
    version: str, app_version: str, crds: dict[str, Any], schemas: dict[str, Any] | None = None
) -> bytes:
    """A flux2-like chart .tgz with the given CRDs inside a Helm template wrapper."""
    docs = "---\n".join(
        crd_document(n, KINDS, info, schemas or {}) for n, info in sorted(crds.items())
    )
    members = {
        "flux2/Chart.yaml": f"apiVersion: v2\nname: flux2\nversion: {version}\nappVersion: {app_version}\n",
        "flux2/templates/crds.yaml": "{{- if .Values.installCRDs }}\n" + docs + "{{- end }}\n",
    }
    out = io.BytesIO()
    # gzip's header would carry the time: the same chart must give the same bytes (and so the
    # same index text, whose parsed sidecar conftest makes once per worker).
    with (
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@lru_cache(maxsize=1)
def _snapshot() -> str:
    return json.dumps(
        YAML(typ="safe", pure=True).load(SNAPSHOT_INDEX.read_text("utf-8")), default=str
    )


@lru_cache(maxsize=8)
def flux_repo_routes(
    overrides: tuple[tuple[str, bytes], ...] = (), keep: frozenset[str] | None = None
) -> dict[str, bytes]:
    """``/index.yaml`` (JSON, a YAML subset) plus ``/charts/flux2-X.tgz`` for every 2.x chart.

    ``keep`` limits the index to those chart versions (a small index keeps subprocesses fast);
    ``overrides`` replaces the archive of some versions (e.g. one with a stricter schema).
    """
    index = json.loads(_snapshot())
    catalog = json.loads(CATALOG.read_text("utf-8"))
    archives = dict(overrides)
    routes: dict[str, bytes] = {}
    if keep is not None:
        index["entries"] = {
            "flux2": [e for e in index["entries"]["flux2"] if str(e["version"]) in keep]
        }
    for entry in index["entries"]["flux2"]:
        version = str(entry["version"])
        if version not in catalog and version not in archives:
            continue
        body = archives.get(version) or chart_archive(
            version, catalog[version]["appVersion"], catalog[version]["crds"]
        )
        entry["urls"] = [f"charts/flux2-{version}.tgz"]
        entry["digest"] = hashlib.sha256(body).hexdigest()
        routes[f"/charts/flux2-{version}.tgz"] = body
    routes["/index.yaml"] = json.dumps(index, default=str).encode()
    return routes


def write_flux_repo(directory: Path, keep: frozenset[str] | None = None) -> Path:
    """The same repository as files (``index.yaml`` and ``charts/``); returns the index path."""
    for route, body in flux_repo_routes(keep=keep).items():
        path = directory / route.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return directory / "index.yaml"
