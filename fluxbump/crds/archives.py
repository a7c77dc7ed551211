"""Flux CRDs of a chart release: fetch the chart, read its CRDs, guard version drops, validate.

Why this exists: a wrapper chart once pulled a ``flux2`` chart whose CRDs (Flux 2.3.0) no
longer served ``buckets.source.toolkit.fluxcd.io/v1``, which the running Flux 2.4.0 had
stored. The API server rejected the CRD update (``status.storedVersions[0]: Invalid value:
"v1": must appear in spec.versions``), Helm rolled back and deleted every Flux controller.

Layout: ``fetch_chart_archive`` is the only part that touches the network or the disk;
everything else (reading archives, the bundled catalog, drop detection, schema validation)
is a pure function of its inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urljoin, urlparse

from fluxbump.errors import ResolutionError, UnsafeTransitionError
from fluxbump.pins import Violation
from fluxbump.remote import http
from fluxbump.remote.index import Cache, HelmIndex
from fluxbump.yamlio.yamldoc import compose_documents, is_mapping, is_scalar, is_sequence

CATALOG_NAME = "flux2-crd-versions.json"
MIB = 1024 * 1024
WAY_OUT = (
    "migrate stored objects first (e.g. `flux migrate`), then bump; --force-unsafe-crds overrides"
)


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on a chart archive; a real flux2 chart is ~150 KiB packed, ~1 MiB unpacked."""

    archive_bytes: int = 20 * MIB
    member_bytes: int = 8 * MIB
    total_bytes: int = 32 * MIB
    members: int = 5000


DEFAULT_LIMITS = ArchiveLimits()


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


@dataclass(frozen=True)
class Drop:
    """An API version the current release serves and the target does not."""

    crd: str
    version: str
    stored: bool  # the current storage version: objects are certainly stored as it
    crd_removed: bool  # the target has no such CRD at all

    def describe(self) -> str:
        notes = [
            n
            for n, on in (("storage version now", self.stored), ("CRD removed", self.crd_removed))
            if on
        ]
        return f"{self.crd}/{self.version}" + (f" ({', '.join(notes)})" if notes else "")


class ObjectDoc(NamedTuple):
    """One YAML document to validate: where it is, its data and (optionally) its node tree.

    ``node`` is a composed ruamel node (``yamldoc.compose_documents``); when present, a
    violation points at the offending field's line instead of the object's.
    """

    file: str
    doc_index: int
    line: int
    obj: Any
    node: Any = None


# --- 1. fetching (network and disk) ----------------------------------------------------


def fetch_chart_archive(
    index: HelmIndex,
    chart: str,
    version: str,
    *,
    offline: bool,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> bytes:
    """The chart's .tgz bytes, digest-verified and structurally safe, from cache or network.

    The cache is keyed by the index digest, so a cached archive is re-verified on read and
    a second run for the same release makes no request. ``offline`` uses the cache only.
    """
    entry = index.find(chart, version)
    if entry is None:
        raise ResolutionError(f"chart {chart} {version} is not in the Helm index {index.url}")
    if not entry.urls:
        raise ResolutionError(f"chart {chart} {version}: the index lists no download URL")
    label = f"chart {chart} {version}"
    url = resolve_chart_url(index.url, entry.urls[0])
    digest = _normal_digest(entry.digest, label)
    path = _cache_path(digest, url)
    cached = _read_cached(path, digest)
    if cached is not None:
        return cached
    if offline:
        raise ResolutionError(
            f"offline: {label} is not in the chart cache ({path}); run once without --offline"
        )
    body = _download(url, label, limits)
    _verify_digest(body, digest, label, url)
    chart_members(body, url, limits)  # refuse unsafe archives before caching: never poison it
    _write_cached(path, body)
    return body


def resolve_chart_url(index_url: str, url: str) -> str:
    """An index ``urls`` item made absolute: relative to the index's directory (URL or path)."""
    if urlparse(url).scheme in ("http", "https", "file"):
        return url
    if urlparse(index_url).scheme in ("http", "https", "file"):
        return urljoin(index_url, url)  # "…/repo/index.yaml" + "x.tgz" -> "…/repo/x.tgz"
    if Path(url).is_absolute():
        return url
    if not index_url.endswith((".yaml", ".yml")):
        # e.g. the bundled snapshot: there is no directory to resolve against, and guessing
        # the working directory would read whatever file happens to be there.
        raise ResolutionError(f"chart URL '{url}' is relative and {index_url} is not a file")
    return str(Path(index_url).parent / url)


def _normal_digest(digest: str, label: str) -> str:
    """Lower-case hex sha256, or "" when the index gives none (Helm allows that).

    A digest that is present but not sha256 is refused: skipping verification because the
    field is odd would let a tampered index turn the check off.
    """
    value = digest.strip().lower().removeprefix("sha256:")
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ResolutionError(f"{label}: index digest '{digest}' is not a sha256 digest")
    return value


def _cache_path(digest: str, url: str) -> Path:
    # Content-addressed when the index gives a digest; otherwise keyed by URL (unverifiable).
    name = digest or "url-" + hashlib.sha256(url.encode()).hexdigest()[:32]
    return Cache.directory() / "charts" / f"{name}.tgz"


def _read_cached(path: Path, digest: str) -> bytes | None:
    try:
        body = path.read_bytes()
    except OSError:
        return None
    if digest and hashlib.sha256(body).hexdigest() != digest:
        return None  # a corrupt or tampered cache entry is ignored, then overwritten
    return body


def _write_cached(path: Path, body: bytes) -> None:
    """Write atomically; a cache failure never fails a run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)
    except OSError:
        pass


def _verify_digest(body: bytes, digest: str, label: str, url: str) -> None:
    actual = hashlib.sha256(body).hexdigest()
    if digest and actual != digest:
        raise ResolutionError(
            f"{label}: digest mismatch for {url}: the index says sha256 {digest}, "
            f"the download is sha256 {actual}; refusing it"
        )


def _download(url: str, label: str, limits: ArchiveLimits) -> bytes:
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return _http_get(url, label, limits)
    local = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
    try:
        if local.stat().st_size > limits.archive_bytes:
            raise ResolutionError(f"{label}: {local} is larger than {limits.archive_bytes} bytes")
        return local.read_bytes()
    except OSError as exc:
        raise ResolutionError(f"{label}: cannot read {local} ({exc.strerror or exc})") from None


def _http_get(url: str, label: str, limits: ArchiveLimits) -> bytes:
    reply = http.get(url, what=f"download {label}", max_bytes=limits.archive_bytes)
    if reply.status != 200:
        raise ResolutionError(f"{label}: HTTP {reply.status} fetching {url}")
    return reply.body


# --- 2. reading an archive (pure, in memory) -------------------------------------------


def chart_members(
    archive: bytes, source: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> dict[str, bytes]:
    """Regular files of a chart .tgz, read in memory; any unsafe member refuses the archive.

    Nothing is ever extracted. Decompression is bounded before tarfile sees a byte, so a
    gzip bomb costs at most ``total_bytes`` of memory.
    """
    if len(archive) > limits.archive_bytes:
        raise ResolutionError(f"{source}: archive larger than {limits.archive_bytes} bytes")
    tar_bytes = _gunzip_bounded(archive, source, limits.total_bytes)
    try:
        with tarfile.open(fileobj=BytesIO(tar_bytes), mode="r:") as tar:
            return _safe_members(tar, source, limits)
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise ResolutionError(f"{source}: not a valid chart archive ({exc})") from None


def _gunzip_bounded(archive: bytes, source: str, limit: int) -> bytes:
    out = bytearray()
    data = archive
    try:
        while data:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip only
            out += inflater.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise ResolutionError(
                    f"{source}: archive unpacks to more than {limit} bytes; refusing it"
                )
            if not inflater.eof:
                raise ResolutionError(f"{source}: truncated gzip archive")
            data = inflater.unused_data  # concatenated gzip members are valid gzip
    except zlib.error as exc:
        raise ResolutionError(f"{source}: not a gzip archive ({exc})") from None
    return bytes(out)


def _safe_members(tar: tarfile.TarFile, source: str, limits: ArchiveLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for count, member in enumerate(tar, start=1):
        if count > limits.members:
            raise ResolutionError(f"{source}: archive has more than {limits.members} members")
        problem = _member_problem(member, limits)
        if problem:
            raise ResolutionError(
                f"{source}: unsafe archive member '{member.name}' ({problem}); refusing the chart"
            )
        if member.isreg():
            files[member.name] = _read_member(tar, member, source, limits.member_bytes)
    return files


def _member_problem(member: tarfile.TarInfo, limits: ArchiveLimits) -> str:
    name = member.name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in name.split("/"):
        return "'..' path component"
    if member.issym() or member.islnk():
        return "link"
    if not (member.isreg() or member.isdir()):
        return "not a regular file or directory"
    if member.size > limits.member_bytes:
        return f"larger than {limits.member_bytes} bytes"
    return ""


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, source: str, limit: int) -> bytes:
    handle = tar.extractfile(member)
    data = (
        handle.read(limit + 1) if handle is not None else b""
    )  # bounded, whatever the header says
    if len(data) > limit:
        raise ResolutionError(f"{source}: archive member '{member.name}' larger than {limit} bytes")
    return data


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
            for crd in _crds_in_text(data.decode("utf-8", errors="replace"), where, sink):
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


def _crds_in_text(text: str, where: str, notes: list[str]) -> Iterator[Crd]:
    for number, chunk in enumerate(DOC_SPLIT.split(detemplate(text)), start=1):
        if not CRD_KIND.search(chunk):
            continue
        doc = _load_plain(chunk, f"{where} document {number}", notes)
        crd = _crd_from_doc(doc, where, notes) if doc is not None else None
        if crd is not None:
            yield crd


def _load_plain(chunk: str, where: str, notes: list[str]) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        doc = YAML(typ="safe", pure=True).load(chunk)
    except (YAMLError, RecursionError) as exc:
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
    name = _dig(doc, "metadata", "name")
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
        group=str(_dig(doc, "spec", "group") or ""),
        kind=str(_dig(doc, "spec", "names", "kind") or ""),
        schemas={
            str(v["name"]): s
            for v in entries
            if isinstance(s := _dig(v, "schema", "openAPIV3Schema"), dict)
        },
        source=where,
    )


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


# --- 3. the bundled catalog --------------------------------------------------------------


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


# --- 4. the version-drop guard -----------------------------------------------------------


def dropped_versions(
    current: Mapping[str, CrdVersions], target: Mapping[str, CrdVersions]
) -> list[Drop]:
    """Each API version a current CRD serves that the target release does not serve.

    Any served version may appear in ``status.storedVersions`` (the current storage version
    certainly does); the API server rejects a CRD update that drops one, which is the
    incident this guards against. A CRD missing from the target drops every version.
    """
    drops: list[Drop] = []
    for name, now in sorted(current.items()):
        then = target.get(name)
        kept = set(then.served) if then is not None else set()
        drops.extend(
            Drop(name, version, stored=version == now.storage, crd_removed=then is None)
            for version in now.served
            if version not in kept
        )
    return drops


def guard_transition(
    current_chart: str, target_chart: str, drops: Sequence[Drop], *, force: bool
) -> list[str]:
    """Refuse a transition that drops served CRD versions (exit 4); forced, warn instead."""
    if not drops:
        return []
    listed = ", ".join(d.describe() for d in drops)
    if not force:
        raise UnsafeTransitionError(
            f"{current_chart} -> {target_chart} stops serving CRD API versions in use now: "
            f"{listed}; the API server would reject the CRD update and Helm's rollback removes "
            f"the Flux controllers; {WAY_OUT}"
        )
    return [
        f"--force-unsafe-crds: {current_chart} -> {target_chart} stops serving {d.describe()}; "
        f"objects stored as {d.version} must be migrated or the CRD update is rejected"
        for d in drops
    ]


# --- 5. schema validation ------------------------------------------------------------------

PLACEHOLDER = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=][^}]*)?\}$"}
PLACEHOLDER_MARK = "x-fluxbump-placeholder"
NON_STRING = ("integer", "number", "boolean")


def object_docs(text: str, file: str) -> list[ObjectDoc]:
    """The mapping documents of a YAML file, with data and node trees, ready to validate."""
    from ruamel.yaml import YAML

    nodes = compose_documents(text, file)  # invalid YAML is a UsageError here, once
    datas = list(YAML(typ="safe", pure=True).load_all(text))
    return [
        ObjectDoc(file, i, int(node.start_mark.line) + 1, data, node)
        for i, (node, data) in enumerate(zip(nodes, datas, strict=False))
        if is_mapping(node) and isinstance(data, dict)
    ]


def validate_objects(
    docs: Iterable[ObjectDoc], crds: Mapping[str, Crd], *, release: str = "the target release"
) -> list[Violation]:
    """Violations of Flux objects against the target release's CRDs.

    An object whose group and kind match a CRD must use a served version and satisfy that
    version's schema as the API server applies it (unknown fields are errors: a structural
    schema would silently prune them). ``release`` names the target, e.g. "Flux 2.3.0".
    """
    by_kind = {(c.group, c.kind): c for c in crds.values()}
    found: list[Violation] = []
    for doc in docs:
        api_version, kind = _dig(doc.obj, "apiVersion"), _dig(doc.obj, "kind")
        if not isinstance(api_version, str) or "/" not in api_version or not isinstance(kind, str):
            continue
        group, version = api_version.rsplit("/", 1)
        crd = by_kind.get((group, kind))
        if crd is not None:
            found.extend(_check_object(doc, crd, version, release))
    return found


def _check_object(doc: ObjectDoc, crd: Crd, version: str, release: str) -> list[Violation]:
    who = f"{crd.kind} {_object_name(doc.obj)}"
    api_version = f"{crd.group}/{version}"
    if version not in crd.served:
        message = (
            f"{who}: apiVersion {api_version} is not served by {release}'s CRD; "
            f"served: {', '.join(crd.served)}"
        )
        return [
            Violation(
                doc.file, doc.line, message, found=api_version, expected=", ".join(crd.served)
            )
        ]
    schema = crd.schemas.get(version)
    if schema is None:
        return []  # served/storage only (bundled catalog): nothing to validate against
    return [
        Violation(
            doc.file,
            _line_at(doc, path),
            f"{who}: {_dotted(path)}: {problem} in {api_version} of {release}",
            found=_dotted(path),
        )
        for path, problem in _schema_errors(doc.obj, schema)
    ]


def _object_name(obj: Any) -> str:
    name = _dig(obj, "metadata", "name")
    namespace = _dig(obj, "metadata", "namespace")
    return f"{namespace}/{name}" if namespace else str(name)


def _schema_errors(obj: Any, schema: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, problem) per error; unknown fields get one entry each, at their own path."""
    from jsonschema import Draft4Validator

    # Draft 4 is the dialect OpenAPI 3.0 (and so openAPIV3Schema) is built on: boolean
    # exclusiveMinimum/Maximum mean what they meant there.
    validator = Draft4Validator(kubernetes_schema(schema))
    found: list[tuple[tuple[str | int, ...], str]] = []
    for error in sorted(
        validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            found.extend(
                ((*path, key), "unknown field") for key in error.instance if key not in known
            )
        else:
            found.append((path, _problem(error)))
    return found


def _problem(error: Any) -> str:
    if error.validator == "anyOf" and error.schema.get(PLACEHOLDER_MARK):
        # Report why the value fails the real schema, not the placeholder alternative.
        inner = [e for e in error.context or () if e.schema_path and e.schema_path[0] == 0]
        if inner:
            return str(inner[0].message)
    return str(error.message)


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(object)"


def _line_at(doc: ObjectDoc, path: Sequence[str | int]) -> int:
    """The line of the key (or item) at ``path`` in the node tree; the object's line if unknown."""
    node, line = doc.node, doc.line
    for step in path:
        node, step_line = _step(node, step)
        if node is None:
            return line if step_line is None else step_line
        line = step_line if step_line is not None else line
    return line


def _step(node: Any, step: str | int) -> tuple[Any, int | None]:
    if isinstance(step, int) and is_sequence(node) and step < len(node.value):
        item = node.value[step]
        return item, int(item.start_mark.line) + 1
    if isinstance(step, str) and is_mapping(node):
        for key, value in node.value:
            if is_scalar(key) and key.value == step:
                return value, int(key.start_mark.line) + 1
    return None, None


def kubernetes_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A jsonschema-ready copy of an openAPIV3Schema that behaves like the API server.

    * ``properties`` without ``x-kubernetes-preserve-unknown-fields`` -> unknown fields are
      errors (the server prunes them silently, so a field the release lacks is lost).
    * integer/number/boolean also accept a whole ``${VAR}`` placeholder (Flux post-build
      substitution replaces it before the server sees it).
    * ``nullable: true`` allows null; ``metadata`` is only checked to be an object (the
      server validates it itself, and CRD schemas do not describe it).
    """
    converted = _convert(schema)
    if isinstance(converted.get("properties"), dict) and "metadata" in converted["properties"]:
        converted["properties"]["metadata"] = {"type": "object"}
    return converted


def _convert(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {
            k: _convert(v) if isinstance(v, dict) else v for k, v in out["properties"].items()
        }
        if out.get("x-kubernetes-preserve-unknown-fields") is not True:
            out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _convert(out[key])
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if _types(out) & set(NON_STRING) and "string" not in _types(out):
        return {"anyOf": [out, PLACEHOLDER], PLACEHOLDER_MARK: True}
    return out


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return (
        {kind}
        if isinstance(kind, str)
        else {str(k) for k in kind}
        if isinstance(kind, list)
        else set()
    )
