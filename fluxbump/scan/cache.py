"""Warm runs: what the scan found in each file, kept between runs and keyed by git's blob id.

A second ``status`` or ``check`` of an unchanged fleet need not read and parse forty thousand
files again. Git already knows which tracked files are unchanged, with its racy-timestamp rule
(``git status`` compares the content of an entry whose mtime is not older than the index):
a file is served from the cache only when git lists it in the index as a regular file
(``git ls-files --stage``), does not report it changed (``git status``), flags it neither
assume-unchanged nor skip-worktree (git would not look at it), and its blob id equals the one
stored with the entry. Every other file (untracked, modified, staged since, ignored, outside
git) is read as on a cold run. Entries are remembered only for files git vouches for, under
the blob id it gave, so a cache entry never outlives the content it was computed from.

The cache is one file in the git directory (``git rev-parse --git-path fluxbump-cache``: a
linked worktree has its own), written atomically (temp file, fsync, rename). It holds plain
data only (loaded by an unpickler that refuses every class), and is keyed by fluxbump's
version and the configuration: anything else there (corrupt, foreign, unreadable, another
version's, not a regular file, past ``MAX_CACHE`` bytes) is ignored and the run is cold, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxbump import __version__
from fluxbump.config import Config
from fluxbump.pins import PinSite, Role
from fluxbump.scan.releases import ScannedFiles, Unreadable, astuple_of
from fluxbump.scan.renovate_paths import RenovatePaths
from fluxbump.scan.roles import Roles, classify
from fluxbump.scan.sites.helmrelease import VersionPatch
from fluxbump.scan.sources import READ_LIMIT, SourceFile, read_raw, read_source
from fluxbump.verdict import NO_CACHE_ENV, package_stamp, read_own
from fluxbump.yamlio import yamldoc

CACHE_FILE = "fluxbump-cache"
# Bumped when what a record holds changes shape: an older file is then simply not used.
_FORMAT = 4  # 3: a record holds the warnings reading its file noted; 4: its chart sources
_MAGIC = b"fluxbump-scan-cache\n"
# Far above a large fleet's records; a bigger file at the cache's name is not read (or kept).
MAX_CACHE = 512 * 1024 * 1024
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
_REGULAR = ("100644", "100755")

# One part of the cache: the key it was computed under, and rel -> (blob id, record).
Entries = dict[str, tuple[str, Any]]


@dataclass
class ScanCache:
    """The blob ids git vouches for in this run, last run's records and this run's."""

    path: Path
    unchanged: dict[str, str]  # rel -> blob id of a tracked file git sees as unchanged
    version: str
    stored: dict[str, tuple[str, Entries]] = field(default_factory=dict)  # part -> (key, …)
    fresh: dict[str, tuple[str, Entries]] = field(default_factory=dict)
    dirty: bool = False
    shared: dict[Any, Any] = field(default_factory=dict)

    def forget(self) -> None:
        """Drop last run's records (they did not replay): this run computes and keeps anew."""
        self.stored, self.fresh, self.dirty = {}, {}, True

    def part(self, name: str, key: str) -> CachePart:
        """The records of one pass (``key``: what else its results depend on)."""
        stored_key, stored = self.stored.get(name, ("", {}))
        entries: Entries = {}
        self.fresh[name] = (key, entries)
        self.dirty = self.dirty or stored_key != key
        return CachePart(self, stored if stored_key == key else {}, entries)

    def _same_files(self) -> bool:
        """Every stored record of the parts this run used was used again (nothing new, no
        file gone)."""
        return all(
            len(entries) == len(self.stored.get(name, ("", {}))[1])
            for name, (_, entries) in self.fresh.items()
        )

    def whole(self, name: str, key: str, compute: Callable[[], Any]) -> Any:
        """A value computed from what ``key`` names (hashed by the caller), not per file."""
        stored_key, stored = self.stored.get(name, ("", {}))
        if stored_key == key and "" in stored:
            self.fresh[name] = (key, stored)
            return stored[""][1]
        value = compute()
        self.fresh[name] = (key, {"": ("", value)})
        self.dirty = True
        return value

    def save(self) -> None:
        """Write this run's records, when they differ from what was read (best effort)."""
        if not self.dirty and self._same_files():
            return
        # A part this run did not use (``--component`` skips the Flux API scan) is kept: each
        # of its records is still checked against git's blob id when a later run recalls it.
        parts = {**self.stored, **self.fresh}
        body = pickle.dumps((_FORMAT, self.version, parts), pickle.HIGHEST_PROTOCOL)
        if len(_MAGIC) + len(body) > MAX_CACHE:
            return  # it would not be read back
        # Per process: two runs at once each write their own temp, and the last rename wins.
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC + body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError:
            _remove(temp)  # a read-only git directory, a full disk: the next run is cold


@dataclass
class CachePart:
    cache: ScanCache
    stored: Entries
    entries: Entries

    def recall(self, rel: str) -> Any | None:
        """The record of ``rel`` when git vouches that it holds what it held then."""
        blob = self.cache.unchanged.get(rel)
        hit = self.stored.get(rel)
        if blob is None or hit is None or hit[0] != blob:
            return None
        self.entries[rel] = hit
        return hit[1]

    def recall_all(self, files: Sequence[str]) -> dict[str, Any]:
        """``recall`` of many files at once (a fleet has tens of thousands)."""
        unchanged, stored, entries = self.cache.unchanged, self.stored, self.entries
        found: dict[str, Any] = {}
        for rel in files:
            hit = stored.get(rel)
            if hit is not None and unchanged.get(rel) == hit[0]:
                entries[rel] = hit
                found[rel] = hit[1]
        return found

    def remember(self, rel: str, record: Any) -> None:
        """Keep ``record`` for the next run, if git vouches for the file's content."""
        blob = self.cache.unchanged.get(rel)
        if blob is not None:
            if isinstance(record, tuple):  # equal records are one object, pickled once
                record = self.cache.shared.setdefault(record, record)
            self.entries[rel] = (blob, record)
            self.cache.dirty = True


def open_cache(root: Path, config: Config) -> ScanCache | None:
    """The cache of the git work tree at ``root``; None (a cold run) outside git, below its
    top, or with FLUXBUMP_NO_CACHE set."""
    if os.environ.get(NO_CACHE_ENV):
        return None
    located = _locate(root)
    if located is None:
        return None
    unchanged = _unchanged_files(root)
    if unchanged is None:
        return None
    version = _version_key(config)
    return ScanCache(located, unchanged, version, stored=_load(located, version))


def _git(root: Path, *args: str) -> bytes | None:
    try:
        proc = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=root,
            capture_output=True,
            check=False,
            env={**os.environ, **_GIT_ENV},
        )
    except (OSError, ValueError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _locate(root: Path) -> Path | None:
    """The cache file's path, when ``root`` is the top of a git work tree."""
    out = _git(root, "rev-parse", "--show-toplevel", "--git-path", CACHE_FILE)
    lines = os.fsdecode(out).splitlines() if out is not None else []
    if len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(root):
        return None  # a subdirectory: git's paths would not be the scan's
    return root / lines[1]


# One ``git ls-files --stage -v -z`` record: tag, mode, blob id, stage, path. Tag ``H`` is a
# plain cached entry (``h``: assume-unchanged, ``S``: skip-worktree, which git does not check).
_STAGED = re.compile(r"(\S) (\d+) ([0-9a-f]+) (\d)\t([^\0]*)\0")


def _unchanged_files(root: Path) -> dict[str, str] | None:
    """rel -> blob id of each tracked regular file whose work-tree copy git finds unchanged."""
    listed = _git(root, "ls-files", "--stage", "-v", "-z")
    # ``git status`` (not ``diff-files``): a file whose stat data is stale (a copied or
    # touched tree) is compared by content, as ``git status`` does, instead of counting as
    # changed; --no-optional-locks keeps it from writing the refreshed index.
    changed = _git(root, "status", "--porcelain=v2", "-z", "--untracked-files=no",
                   "--no-renames", "--ignore-submodules=all")  # fmt: skip
    if listed is None or changed is None:
        return None
    entries = _STAGED.findall(os.fsdecode(listed))
    unchanged = {
        rel: blob
        for tag, mode, blob, stage, rel in entries
        if tag == "H" and mode in _REGULAR and stage == "0"  # not a symlink, not a gitlink
    }
    unmerged = (rel for _, _, _, stage, rel in entries if stage != "0")
    for rel in (*unmerged, *_status_paths(os.fsdecode(changed))):
        unchanged.pop(rel, None)
    return unchanged


# Fields before the path of a ``git status --porcelain=v2`` record: "1" changed, "u" unmerged.
_FIELDS_BEFORE_PATH = {"1": 8, "u": 10}


def _status_paths(out: str) -> list[str]:
    """The paths ``git status --porcelain=v2 -z --no-renames`` lists (staged or not)."""
    paths = []
    for record in out.split("\0"):
        skip = _FIELDS_BEFORE_PATH.get(record[:1])
        if skip is not None and record[1:2] == " ":
            paths.append(record.split(" ", skip)[-1])
    return paths


def _version_key(config: Config) -> str:
    """What every record depends on besides its file: fluxbump's code (a reinstall or an
    edited checkout of the same version scans differently) and the configuration."""
    text = f"{__version__}\0{package_stamp()}\0{_FORMAT}\0{config!r}"
    return hashlib.sha256(text.encode()).hexdigest()


class _PlainData(pickle.Unpickler):
    """Tuples, lists, dicts, strings, bytes and numbers only: a planted file runs nothing."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name}: not plain data")


def _load(path: Path, version: str) -> dict[str, tuple[str, Entries]]:
    """Last run's records; anything unexpected is no cache at all."""
    try:
        data = read_own(os.fspath(path), MAX_CACHE)
        if data is None or not data.startswith(_MAGIC):
            return {}
        loaded = _PlainData(io.BytesIO(data[len(_MAGIC) :])).load()
        form, stored_version, parts = loaded
        if form != _FORMAT or stored_version != version or not isinstance(parts, dict):
            return {}
        return {
            str(name): (key, entries)
            for name, (key, entries) in parts.items()
            if isinstance(key, str) and isinstance(entries, dict)
        }
    except Exception:  # truncated, garbage, another layout: a cold run, never an error
        return {}


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class LazySource(SourceFile):
    """A file served from the cache: read only if a later step needs its text (a CRD schema
    check, an edit), which on a warm ``check`` is a few files of thousands. It is read as a
    cold run reads it (``read_source``): git vouched for its blob, but the file may have
    grown since (or git's index, which keeps a size modulo 4 GiB, missed it), and one of
    gigabytes is named as too large, not read whole."""

    def __init__(self, root: str, rel: str) -> None:  # no dataclass __init__: nothing read
        object.__setattr__(self, "rel", rel)
        object.__setattr__(self, "_root", root)

    @property
    def raw(self) -> bytes:
        return self._loaded().raw

    @property
    def text(self) -> str:
        return self._loaded().text

    def _loaded(self) -> SourceFile:
        loaded: SourceFile | None = self.__dict__.get("_source")
        if loaded is None:
            loaded = read_source(Path(self.__dict__["_root"]), self.rel)
            object.__setattr__(self, "_source", loaded)
        return loaded


def cached_roles(
    cache: ScanCache, files: Sequence[str], config: Config, renovate: RenovatePaths | None
) -> Roles:
    """``classify`` of the walked files: the same list as last run gives last run's roles
    (tens of thousands of paths against a dozen globs cost more than the rest of a warm run)."""
    listed = "\0".join([*files, "\1", *((renovate.file, *renovate.ignore) if renovate else ())])
    key = hashlib.sha256(listed.encode("utf-8", "surrogateescape")).hexdigest()

    def plain() -> tuple[Any, ...]:
        roles = classify(files, config, renovate)
        return (tuple(roles.charts), tuple(roles.cloudinit), tuple(roles.blueprints),
                tuple(roles.clusters), tuple(sorted(roles.locks)), tuple(roles.release_pins),
                tuple(roles.renovate_skipped), tuple(roles.chart_templates))  # fmt: skip

    listed_roles = cache.whole("roles", key, plain)
    charts, cloudinit, blueprints, clusters, locks, release_pins, skipped, templates = listed_roles
    return Roles(list(charts), list(cloudinit), list(blueprints), list(clusters), set(locks),
                 list(release_pins), list(skipped), list(templates))  # fmt: skip


# What the cluster-file pass found in one file, as plain data: (candidate, holds a
# FluxInstance, substituting, holds a chart source, sites, patches, unreadable, instances,
# warnings said reading it).
Record = tuple[
    bool, bool, bool, bool, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...],
    tuple[Any, ...], tuple[str, ...],
]  # fmt: skip


def scan_key(
    names: frozenset[str], known: frozenset[str], boot: Mapping[str, frozenset[str]]
) -> str:
    """The cluster pass's records also depend on which charts it looked for (``boot``: in
    HelmCharts only, and whom an unread one is blamed on; none keeps the key a scan without
    them had)."""
    text = "\0".join(sorted(names)) + "\1" + "\0".join(sorted(known))
    for chart, blamed in sorted(boot.items()):
        text += f"\2{chart}\3" + "\0".join(sorted(blamed))
    return hashlib.sha256(text.encode()).hexdigest()


def cached_scan(
    part: CachePart,
    root: str,
    files: Sequence[str],
    scan: Callable[[Sequence[str]], list[ScannedFiles]],
) -> ScannedFiles:
    """``scan`` of the files the cache cannot answer for, and the records of the rest,
    joined in file order (as one pass over ``files`` would have found them)."""
    records = part.recall_all(files)
    missed = [rel for rel in files if rel not in records]
    scanned = ScannedFiles()
    noted = yamldoc.warnings_noted()
    for piece in scan(missed) if missed else []:
        _merge(scanned, piece)
    # Noted again by ``_replay`` in file order among the recalled files' (the order a cold
    # run says them in): each was noted reading one of ``missed``, whose record holds it.
    read = yamldoc.withdraw_warnings_since(noted) if scanned.warnings else []
    for rel, record in _records_of(scanned, missed).items():
        part.remember(rel, record)
        records[rel] = record
    substituting = dict(scanned.substituting)
    out = ScannedFiles(api_versions=scanned.api_versions)  # of the files read: not kept
    for rel in files:
        _replay(out, rel, records[rel], scanned, substituting, root)
    # Those replayed above keep their place (noting one again changes nothing); one noted
    # while scanning that no file's record holds is not lost.
    yamldoc.note_warnings(read)
    return out


def _merge(into: ScannedFiles, piece: ScannedFiles) -> None:
    into.sources.update(piece.sources)
    into.sites += piece.sites
    into.substituting += piece.substituting
    into.patches += piece.patches
    into.unreadable += piece.unreadable
    into.instances += piece.instances
    into.instance_sources.update(piece.instance_sources)
    into.api_versions.update(piece.api_versions)
    into.warnings += piece.warnings
    into.chart_sources += piece.chart_sources


def _records_of(scanned: ScannedFiles, files: Sequence[str]) -> dict[str, Record]:
    """Each file's share of one pass's results (tuples throughout: the record is hashable,
    so the empty one most files have is one object in the cache)."""
    shared: dict[Any, Any] = {}
    lists: dict[str, tuple[list[Any], list[Any], list[Any], list[Any]]] = {
        rel: ([], [], [], []) for rel in files
    }
    for site in scanned.sites:
        lists[site.file][0].append(_site_out(site, shared))
    for patch in scanned.patches:
        fields = _site_out(patch.site, shared)
        lists[patch.site.file][1].append((patch.namespace, patch.name, fields))
    for bad in scanned.unreadable:
        lists[bad.file][2].append((bad.line, bad.reason, tuple(sorted(bad.charts))))
    for site in scanned.instances:
        lists[site.file][3].append(_site_out(site, shared))
    substituting = {rel for rel, _ in scanned.substituting}
    sourced = set(scanned.chart_sources)
    flags = {rel: (rel in scanned.sources, rel in scanned.instance_sources, rel in substituting,
                   rel in sourced)
             for rel in files}  # fmt: skip
    warned = dict(scanned.warnings)
    return {
        rel: (*flags[rel], tuple(sites), tuple(patches), tuple(bad), tuple(instances),
              warned.get(rel, ()))
        for rel, (sites, patches, bad, instances) in lists.items()
    }  # fmt: skip


def _replay(
    out: ScannedFiles,
    rel: str,
    record: Record,
    scanned: ScannedFiles,
    substituting: dict[str, bytes],
    root: str,
) -> None:
    candidate, instance, substitutes, source, sites, patches, unreadable, instances, warned = record
    if sites:
        out.sites += [_site_in(fields) for fields in sites]
    if warned:
        yamldoc.note_warnings(warned)  # said as reading the file said it, read or not
    if source:
        out.chart_sources.append(rel)
    if not (candidate or instance or substitutes or patches or unreadable or instances):
        return  # most files of a fleet: nothing else to add
    if candidate:
        out.sources[rel] = scanned.sources.get(rel) or LazySource(root, rel)
    if instance:
        out.instance_sources[rel] = scanned.instance_sources.get(rel) or LazySource(root, rel)
    if substitutes:
        raw = substituting.get(rel)
        # (read as the scan reads it: a cold run kept no more of a larger file)
        raw = raw if raw is not None else read_raw(root, rel, limit=READ_LIMIT)
        out.substituting.append((rel, raw))
    out.patches += [VersionPatch(ns, name, _site_in(site)) for ns, name, site in patches]
    out.unreadable += [Unreadable(rel, line, why, frozenset(c)) for line, why, c in unreadable]
    out.instances += [_site_in(fields) for fields in instances]


def _site_out(site: PinSite, shared: dict[Any, Any]) -> tuple[Any, ...]:
    """A site as plain data (the role by value: the file holds no classes). Equal values are
    one object (``shared``): the pickle then writes each once and loading is cheap."""
    fields = astuple_of(site)
    return tuple(shared.setdefault(f, f) if i != 1 else f
                 for i, f in enumerate((str(site.role.value), *fields[1:])))  # fmt: skip


_ROLES = {role.value: role for role in Role}


def _site_in(fields: Sequence[Any]) -> PinSite:
    return PinSite(_ROLES[fields[0]], *fields[1:])
