"""Chart archives: fetched (cache, network or a local file) and read in memory, never extracted.

``fetch_chart_archive`` is the only part of ``fluxbump.crds`` that touches the network or the
disk: it verifies the index's sha256 digest and refuses an unsafe archive before caching it,
so a tampered or hostile download never poisons later runs. ``chart_members`` is a pure,
bounded reader of a .tgz (gzip bombs, links, ``..`` paths and oversized members refused).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tarfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse, urlsplit, urlunsplit

from fluxbump.errors import ResolutionError
from fluxbump.remote import files, http, inflate
from fluxbump.remote.index import Cache, ChartEntry, HelmIndex
from fluxbump.verdict import note_read

MIB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on a chart archive; a real flux2 chart is ~150 KiB packed, ~1 MiB unpacked."""

    archive_bytes: int = 20 * MIB
    member_bytes: int = 8 * MIB
    total_bytes: int = 32 * MIB
    members: int = 5000


DEFAULT_LIMITS = ArchiveLimits()


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
    url = _chart_url(index, entry.urls[0], label)
    source = http.shown(url)  # (its query, the index's, may carry a token: never printed)
    digest = _normal_digest(entry.digest, label)
    path = _cache_path(digest, url)
    cached = _read_cached(path, digest)
    if cached is not None:
        # The digest proves the bytes, not the entry's other fields: check them on every read.
        _refuse_mislabelled(chart_members(cached, source, limits), chart, entry, index.url, source)
        return cached
    if offline:
        raise ResolutionError(
            f"offline: {label} is not in the chart cache ({path}); run once without --offline"
        )
    body = _download(url, label, limits)
    _verify_digest(body, digest, label, source)
    members = chart_members(body, source, limits)  # refuse unsafe archives before caching
    _refuse_mislabelled(members, chart, entry, index.url, source)
    _write_cached(path, body)
    return body


def _refuse_mislabelled(
    members: dict[str, bytes], chart: str, entry: ChartEntry, index_url: str, url: str
) -> None:
    """The archive's own Chart.yaml must agree with its index entry: Helm deploys the
    appVersion the chart declares, while fluxbump maps a Flux release to a chart by the
    index's; an entry rewritten by a mirror would pin a chart shipping another release.
    The name is the chart looked up (the index's key): an entry's own ``name`` is the
    index's word too, and a lying one named the other chart it served, or none."""
    label = f"chart {chart} {entry.version}"
    declared = _chart_yaml(members, label, url)
    listed_fields = (("name", chart), ("version", entry.version),
                     ("appVersion", entry.app_version))  # fmt: skip
    for key, listed in listed_fields:
        found = declared.get(key)
        if not listed or _agree(key, found, listed):
            continue
        said = "no " + key if found is None else f"{key} {found}"
        raise ResolutionError(
            f"{url}: {label} declares {said} in its Chart.yaml, but the Helm index "
            f"{index_url} lists it with {listed}; one of them was altered (a mirror or proxy "
            "rewrote it?): refusing the chart"
        )


def _chart_yaml(members: dict[str, bytes], label: str, url: str) -> dict[str, Any]:
    """The data of the one Chart.yaml Helm reads from the archive, naming the chart and its
    version as Helm requires of every chart it loads; else exit 3."""
    # (at most one: ``chart_members`` refuses two members Helm reads as one file)
    tops = [name for name in members if _helm_name(name) == "Chart.yaml"]
    declared = _declared(members[tops[0]]) if tops else None
    if declared is None:
        raise ResolutionError(
            f"{url}: {label} has no readable Chart.yaml at its top, so it is no chart Helm "
            "installs (a mirror or proxy served something else?): refusing it"
        )
    missing = [key for key in ("name", "version") if declared.get(key) in (None, "")]
    if missing:
        raise ResolutionError(
            f"{url}: {label}'s Chart.yaml declares no {' and no '.join(missing)}, which Helm "
            "requires of every chart it loads, so it is no chart Helm installs (a mirror or "
            "proxy served something else?): refusing it"
        )
    return declared


def _agree(key: str, found: object, listed: str) -> bool:
    """A Chart.yaml value and the index's are the same (absent: they differ); a version's
    ``v`` prefix aside, never a name's (``vflux2`` is another chart)."""
    if found is None:
        return False
    if key == "name":
        return str(found) == listed
    return str(found).removeprefix("v") == listed.removeprefix("v")


def _helm_name(member: str) -> str:
    """The path Helm loads an archive member as: its first folder dropped, whatever its
    name, and the rest cleaned (``flux2/./Chart.yaml`` is ``Chart.yaml`` too)."""
    parts = member.replace("\\", "/").split("/")
    return posixpath.normpath("/".join(parts[1:])) if len(parts) > 1 else ""


def _declared(data: bytes) -> dict[str, Any] | None:
    """A Chart.yaml's data (None when unreadable or not a mapping: Helm refuses it)."""
    from ruamel.yaml.error import YAMLError

    from fluxbump.yamlio import plaindata

    try:
        doc = plaindata.load(data.decode("utf-8", errors="replace"))
    except (YAMLError, RecursionError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _chart_url(index: HelmIndex, listed: str, label: str) -> str:
    """An entry's URL made absolute and checked (``refuse_unsafe_source``). One that does not
    parse as a URL (``https://[oops``, a port that is no number) is the index's error: urllib
    raised ValueError, an exit 70 inside the post-write gate."""
    try:
        url = resolve_chart_url(index.url, listed, index.query)
        refuse_unsafe_source(index.url, url, label)
    except ValueError as exc:
        raise ResolutionError(
            f"{label}: the index {index.url} names {listed}, which is no URL ({exc}); refusing it"
        ) from None
    return url


def resolve_chart_url(index_url: str, url: str, query: str = "") -> str:
    """An index ``urls`` item made absolute: relative to the index's directory (URL or path).
    A relative one on the index's own host gets the ``query`` of the index's URL, as Helm
    gives it (a repository whose token or signature is a query asks it of its charts too);
    one naming another host (``//other/x.tgz``) never does."""
    if urlparse(url).scheme in ("http", "https", "file"):
        return url
    if urlparse(index_url).scheme in ("http", "https", "file"):
        joined = urljoin(index_url, url)  # "…/repo/index.yaml" + "x.tgz" -> "…/repo/x.tgz"
        if not query or _origin(joined) != _origin(index_url):
            return joined
        return urlunsplit(urlsplit(joined)._replace(query=query))
    if Path(url).is_absolute():
        return url
    if not index_url.endswith((".yaml", ".yml")):
        # e.g. the bundled snapshot: there is no directory to resolve against, and guessing
        # the working directory would read whatever file happens to be there.
        raise ResolutionError(f"chart URL '{url}' is relative and {index_url} is not a file")
    return str(Path(index_url).parent / url)


def refuse_unsafe_source(index_url: str, url: str, label: str) -> None:
    """Fetch a chart only from where the index's own origin makes sense (exit 3 otherwise).

    An index is data from the network: its ``urls`` must not make fluxbump read this
    machine's files (``file:///dev/zero``, ``/etc/shadow``) or leave TLS. So a remote index
    may name ``https://`` charts, ``http://`` ones on loopback or on the very origin the user
    gave as the repository (over http already), and no local paths; a local index, which the
    user named, may also name local files. (The bundled snapshot is local and names only
    ``https://`` charts.)
    """
    scheme = urlparse(url).scheme
    remote_index = urlparse(index_url).scheme in ("http", "https")
    if scheme == "https":
        return
    if scheme == "http" and (http.is_loopback(url) or _origin(url) == _origin(index_url)):
        return
    if scheme in ("", "file") and not remote_index:
        return
    raise ResolutionError(
        f"{label}: the index {index_url} names {url}; refusing it (a remote index may name "
        "https:// charts, http:// only on loopback or its own origin, local files never)"
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlparse(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


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
        note_read(path, None)  # offline, its absence is in the output: a verdict keeps it
        return None
    note_read(path, body)
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
    return files.read_regular(local, what=f"read {label}", max_bytes=limits.archive_bytes)


def _http_get(url: str, label: str, limits: ArchiveLimits) -> bytes:
    reply = http.get(url, what=f"download {label}", max_bytes=limits.archive_bytes)
    if reply.status != 200:
        raise ResolutionError(f"{label}: HTTP {reply.status} fetching {http.shown(url)}")
    return reply.body


# --- reading an archive (pure, in memory) ---------------------------------------------


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
    try:
        return inflate.gunzip(archive, limit)
    except inflate.TooLarge:
        raise ResolutionError(
            f"{source}: archive unpacks to more than {limit} bytes; refusing it"
        ) from None
    except inflate.Truncated:
        raise ResolutionError(f"{source}: truncated gzip archive") from None
    except inflate.NotGzip as exc:
        raise ResolutionError(f"{source}: not a gzip archive ({exc})") from None


def _safe_members(tar: tarfile.TarFile, source: str, limits: ArchiveLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    read_as: dict[str, str] = {}  # the file Helm reads each member as -> that member
    for count, member in enumerate(tar, start=1):
        if count > limits.members:
            raise ResolutionError(f"{source}: archive has more than {limits.members} members")
        problem = _member_problem(member, limits)
        if problem:
            raise ResolutionError(
                f"{source}: unsafe archive member '{member.name}' ({problem}); refusing the chart"
            )
        if member.isreg():
            _refuse_read_twice(read_as, member.name, source)
            files[member.name] = _read_member(tar, member, source, limits.member_bytes)
    return files


def _refuse_read_twice(read_as: dict[str, str], name: str, source: str) -> None:
    """Two members that are one file to Helm (the same path twice, ``flux2/./Chart.yaml``
    beside ``flux2/Chart.yaml``, ``other/templates/crds.yaml`` beside ``flux2/…``): Helm
    keeps the last it reads, ``tar -x`` too, others the first, and fluxbump read the CRDs of
    whichever sorted last. ``helm package`` writes each file once: no chart holds both."""
    key = _helm_name(name) or name  # (a file at the top, as in the flux CLI's archive)
    if key in read_as:
        raise ResolutionError(
            f"{source}: archive members '{read_as[key]}' and '{name}' are one file to Helm "
            f"('{key}'): refusing an archive whose chart depends on which one is read last"
        )
    read_as[key] = name


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
