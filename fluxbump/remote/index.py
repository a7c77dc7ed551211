"""Helm repository index: locate, fetch (with an ETag cache), bundled snapshot, parse.

HTTP lives in ``fetch_index``; parsing (``parse_index``) is a pure function of text so it is
tested without a server.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse, urlsplit, urlunsplit

from fluxbump import versions
from fluxbump.errors import IndexUnreadable, ResolutionError, UsageError
from fluxbump.remote import files, http
from fluxbump.verdict import note_read

if TYPE_CHECKING:
    from fluxbump.remote.indexcut import IndexCut

DEFAULT_HELM_REPO = "https://fluxcd-community.github.io/helm-charts"
HELM_REPO_ENV = "FLUXBUMP_HELM_REPO"
CACHE_ENV = "FLUXBUMP_CACHE_DIR"
SNAPSHOT_NAME = "fluxcd-community-index-2026-04-15.yaml"
SNAPSHOT_DATE = "2026-04-15"
MAX_INDEX_BYTES = 32 * 1024 * 1024
FETCH_INDEX = "fetch the Helm index"
# Parsed-index sidecars (see ``load_parsed``): name prefix, format version, how many to keep.
PARSED_PREFIX = "parsed-"
# 2: with the entries refused (``HelmIndex.refused``); 3: a version once; 4: only an index
# with an apiVersion (a sidecar of one without would serve it unchecked)
PARSED_FORMAT = 4
PARSED_KEEP = 8
# From this size on, an index is read per chart when it can be cut (``_lazy_index``): the
# whole parse costs seconds (43-60 s and ~940 MB at 25 MB), once per text for a fetched
# index (then its sidecar serves), every run for a local file. Below it, the whole parse
# once and a sidecar (~8 ms a run for 1 MB) beat cutting the text each run (~30 ms).
LAZY_MIN_CHARS = 4 * 1024 * 1024
# A key at column 0 of a block-style index (``entries:``, ``generated:``).
_TOP_LEVEL_KEY = re.compile(r"^[\"']?([A-Za-z_][\w.-]*)[\"']?[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class ChartEntry:
    """One chart version in a Helm repository index."""

    name: str
    version: str
    app_version: str
    urls: tuple[str, ...]
    digest: str


@dataclass(frozen=True)
class HelmIndex:
    """A parsed index: chart name -> its versions, plus where it came from."""

    url: str
    entries: Mapping[str, tuple[ChartEntry, ...]]
    # False for a cached copy or the bundled snapshot: a chart missing from it may have been
    # published since, so its absence proves nothing (the gate marks such pins unproven).
    complete: bool = True
    # The charts a command looked up: a warning about where the index came from matters
    # only when a result depended on it (``IndexLoad.used_warnings``).
    consulted: set[str] = dataclasses.field(
        default_factory=set, init=False, compare=False, repr=False
    )
    # chart -> why each of its entries was left out (``_chart_entries``), said once consulted
    refused: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # The query of the index URL the user gave (``url`` names it without: it may carry a
    # token), sent again with the chart URLs relative to it, as Helm sends it.
    query: str = ""

    def versions_of(self, chart: str) -> tuple[ChartEntry, ...]:
        self.consulted.add(chart)
        return self.entries.get(chart, ())

    def find(self, chart: str, version: str) -> ChartEntry | None:
        return next((e for e in self.versions_of(chart) if e.version == version), None)


class IndexUnreachable(ResolutionError):
    """The index could not be fetched (network, HTTP status): a cached copy may serve."""


@dataclass(frozen=True)
class IndexLoad:
    """The outcome of loading an index: the index and any warnings for stderr."""

    index: HelmIndex
    warnings: tuple[str, ...] = ()

    def used_warnings(self) -> tuple[str, ...]:
        """The warnings, when a result so far depended on the index: a run that never looked
        a chart up (no Flux component, nothing resolved) has nothing to be warned about."""
        index = self.index
        refused = [f"{index.url}: {why}" for chart in sorted(index.consulted)
                   for why in index.refused.get(chart, ())]  # fmt: skip
        return (*(self.warnings if index.consulted else ()), *refused)


# --- locating ------------------------------------------------------------------------


# Who may name the Helm repo, first to last: the usual CLI order (a flag over the environment
# over a configuration file), so a job exporting the variable for a mirror is not overruled by
# a repository's own setting (the --helm-repo help and README's options say it too).
CONFIG_HELM_REPO = "helm_repo in .fluxbump.yaml"


def choose_repo(option: str | None, configured: str | None = None) -> tuple[str, str]:
    """The Helm repo to use and who named it: ``--helm-repo``, else ``$FLUXBUMP_HELM_REPO``,
    else ``configured`` (``helm_repo`` in ``.fluxbump.yaml``, checked as it is read), else
    the default."""
    if option:
        return option, "--helm-repo"
    from_env = os.environ.get(HELM_REPO_ENV)
    if from_env:
        return from_env, f"${HELM_REPO_ENV}"
    if configured:
        return configured, CONFIG_HELM_REPO
    return DEFAULT_HELM_REPO, "--helm-repo"


def repo_problem(repo: str) -> str | None:
    """Why a Helm repo spec is no URL or path fluxbump reads, else None. A typo here is no
    network failure: it would fall back to a snapshot, exit 0."""
    try:
        parsed = urlparse(repo)
        if parsed.scheme in ("http", "https"):
            parsed.port  # noqa: B018 (raises ValueError for a port that is no number)
            return _control_character(repo) or (None if parsed.hostname else "not a URL (no host)")
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parsed.scheme and parsed.scheme != "file" and len(parsed.scheme) > 1:
        return f"unsupported scheme '{parsed.scheme}'"  # (one letter: a Windows drive)
    return None


def _control_character(url: str) -> str | None:
    """A control character in a URL: urllib drops a newline or tab (another URL than the
    one written is asked), httpx refuses the others when asked, a network failure that fell
    back to the bundled snapshot."""
    found = next((c for c in url if ord(c) < 0x20 or ord(c) == 0x7F), None)
    return (
        None if found is None else f"not a URL (it holds a control character, U+{ord(found):04X})"
    )


def local_path(repo: str, named: str = "--helm-repo") -> Path | None:
    """The local file a repo spec names (``file://`` URL or a path), or None for HTTP;
    ``named`` says where the spec came from when it is neither."""
    problem = repo_problem(repo)
    if problem is not None:
        raise UsageError(f"{named} '{repo}': {problem}")
    parsed = urlparse(repo)
    if parsed.scheme in ("http", "https"):
        return None
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(repo)
    try:
        return path / "index.yaml" if path.is_dir() else path
    except OSError:  # (a name too long for the file system: reading it names the error)
        return path


def index_url(repo: str) -> str:
    """``…/helm-charts`` -> ``…/helm-charts/index.yaml``; a full ``index.yaml`` URL is kept.
    A query (a token, a signature) stays the URL's query, as Helm keeps it: appended to the
    whole text, ``index.yaml`` became part of the query's last value."""
    parts = urlsplit(repo)
    if parts.path.rstrip("/").endswith((".yaml", ".yml")):
        return repo
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/index.yaml"))


# --- parsing ---------------------------------------------------------------------------


def parse_index(text: str, url: str) -> HelmIndex:
    """Parse index text with a safe loader; reject anything that is not a Helm index. A big
    one is read per chart (``_lazy_index``) when it can be cut exactly."""
    return _lazy_index(text, url) or _parse_whole(text, url)


def _parse_whole(text: str, url: str) -> HelmIndex:
    """Every chart of the index, parsed now; its errors are the index's errors."""
    data = _safe_load(text, url)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ResolutionError(f"{url}: not a Helm repository index (no 'entries' mapping)")
    _require_api_version(data, url)
    read = {str(k): _chart_entries(str(k), v) for k, v in entries.items()}
    return HelmIndex(
        url=url,
        entries={chart: kept for chart, (kept, _) in read.items()},
        refused={chart: why for chart, (_, why) in read.items() if why},
    )


def _require_api_version(data: dict[Any, Any], url: str) -> None:
    """Helm refuses an index without ``apiVersion`` ("no API version specified"), whatever
    its entries: a server answering with some other YAML that happens to hold ``entries``
    (an error page, a hand-made file) is no Helm repository, and its charts must not move pins."""
    if not isinstance(data.get("apiVersion"), str) or not data["apiVersion"]:
        raise ResolutionError(
            f"{url}: not a Helm repository index (no 'apiVersion'): Helm refuses it too "
            "(no API version specified); fix the repository's index or use another"
        )


def _lazy_index(text: str, url: str) -> HelmIndex | None:
    """``per_chart_index`` for an index of ``LAZY_MIN_CHARS`` or more, else None."""
    return per_chart_index(text, url) if len(text) >= LAZY_MIN_CHARS else None


def per_chart_index(text: str, url: str) -> HelmIndex | None:
    """The index with each chart parsed when first consulted (``indexcut``), or None when
    the text cannot be cut exactly or its skeleton is no index: the whole parse decides.

    A chart never consulted is never parsed, so a syntax error inside it goes unreported,
    where Helm, which loads the whole file, would refuse the index: finding it costs the
    whole parse this avoids, and the charts consulted read exactly as in the whole parse."""
    from fluxbump.remote.indexcut import cut_index  # (its patterns: only for a big index)

    cut = cut_index(text)
    if cut is None:
        return None
    try:
        data = _safe_load(cut.skeleton, url)
    except ResolutionError:
        return None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not _skeleton_entries(entries, cut):
        return None
    _require_api_version(data, url)
    spans = {str(k): span for k, span in zip(entries, cut.spans, strict=True)}
    charts = ChartTexts(text, url, spans)  # (``str(k)``: as ``_parse_whole`` names them)
    return HelmIndex(url=url, entries=charts, refused=charts.refused())


def _skeleton_entries(entries: dict[Any, Any], cut: IndexCut) -> bool:
    """Whether the skeleton's entries are the cut's charts, one per key line, each with its
    value below it (blanked, so null): a value on the key's own line was not cut."""
    return len(entries) == len(cut.spans) and all(v is None for v in entries.values())


class ChartTexts(Mapping[str, tuple[ChartEntry, ...]]):
    """A cut index's charts by name, each parsed from its own text when first looked up."""

    def __init__(self, text: str, url: str, spans: dict[str, tuple[int, int]]) -> None:
        self._text, self._url, self._spans = text, url, spans
        self._read: dict[str, tuple[tuple[ChartEntry, ...], tuple[str, ...]]] = {}

    def __getitem__(self, chart: str) -> tuple[ChartEntry, ...]:
        return self.read(chart)[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __contains__(self, chart: object) -> bool:
        return chart in self._spans

    def read(self, chart: str) -> tuple[tuple[ChartEntry, ...], tuple[str, ...]]:
        """The chart's entries and why any was left out; KeyError for a chart not listed."""
        if chart not in self._read:
            start, end = self._spans[chart]
            self._read[chart] = self._parse(chart, self._text[start:end])
        return self._read[chart]

    def refused(self) -> Mapping[str, tuple[str, ...]]:
        return _RefusedEntries(self)

    def _parse(self, chart: str, text: str) -> tuple[tuple[ChartEntry, ...], tuple[str, ...]]:
        try:
            return _chart_entries(chart, _safe_load(text, self._url))
        except ResolutionError:
            pass
        # The chart's text does not parse alone: the whole text's parse names the line and
        # the reason, as before the cut (and, should it parse, answers).
        try:
            whole = _parse_whole(self._text, self._url)
        except ResolutionError as exc:
            raise IndexUnreadable(exc.message) from None
        return whole.entries.get(chart, ()), whole.refused.get(chart, ())


class _RefusedEntries(Mapping[str, tuple[str, ...]]):
    """``HelmIndex.refused`` of a cut index: a chart's refusals are known once it is parsed."""

    def __init__(self, charts: ChartTexts) -> None:
        self._charts = charts

    def __getitem__(self, chart: str) -> tuple[str, ...]:
        why = self._charts.read(chart)[1]
        if not why:
            raise KeyError(chart)
        return why

    def __iter__(self) -> Iterator[str]:
        return (chart for chart in self._charts if self._charts.read(chart)[1])

    def __len__(self) -> int:
        return sum(1 for _ in self)


# --- parsed-index sidecars ------------------------------------------------------------


def load_parsed(text: str, url: str) -> HelmIndex:
    """``parse_index``, remembered: the entries of every index text parsed before are kept
    as JSON in the cache directory, keyed by the text's sha256.

    The pure-Python YAML parse of an index costs far more than a whole ``status`` of a small
    repo; hashing the text and loading JSON with the C decoder costs a few milliseconds. The
    first parse of any text still goes through ``parse_index`` (its alias and size checks),
    and a sidecar is only trusted after a strict shape check: a damaged one is parsed anew
    and rewritten. The key is the text's digest, so a changed index can never hit a stale one.
    """
    lazy = _lazy_index(text, url)
    if lazy is not None:
        return lazy  # (a sidecar holds every chart: its JSON too grows with the index)
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = Cache.directory() / f"{PARSED_PREFIX}{key}.json"
    parsed = _read_parsed(path, key)
    if parsed is not None:
        return HelmIndex(url=url, entries=parsed[0], refused=parsed[1])
    index = _parse_whole(text, url)
    _write_parsed(path, key, index)
    return index


def _read_parsed(
    path: Path, key: str
) -> tuple[dict[str, tuple[ChartEntry, ...]], dict[str, tuple[str, ...]]] | None:
    """A sidecar's entries and refused entries; None when it is missing, damaged or stale."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != PARSED_FORMAT:
        return None
    if data.get("sha256") != key or not isinstance(data.get("entries"), dict):
        return None
    try:
        entries = {_text(c): _entries_from_json(rows) for c, rows in data["entries"].items()}
        refused = data.get("refused")
        if not isinstance(refused, dict):
            raise TypeError("no refused mapping")
        return entries, {_text(c): _texts(why) for c, why in refused.items()}
    except (TypeError, ValueError):
        return None


def _texts(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise TypeError(f"{values!r} is not a list")
    return tuple(_text(value) for value in values)


def _entries_from_json(rows: object) -> tuple[ChartEntry, ...]:
    """Rows of ``[name, version, appVersion, [urls], digest]``; any other shape raises."""
    if not isinstance(rows, list):
        raise TypeError("not a list of rows")
    found = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 5 or not isinstance(row[3], list):
            raise TypeError("not a row")
        name, version, app_version, urls, digest = row
        urls_text = tuple(_text(u) for u in urls)
        entry = ChartEntry(
            _text(name), _text(version), _text(app_version), urls_text, _text(digest)
        )
        found.append(entry)
    return tuple(found)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _write_parsed(path: Path, key: str, index: HelmIndex) -> None:
    """Write the sidecar atomically and keep only the newest few; a failure never fails a run."""
    entries = {
        chart: [[e.name, e.version, e.app_version, list(e.urls), e.digest] for e in versions]
        for chart, versions in index.entries.items()
    }
    refused = {chart: list(why) for chart, why in index.refused.items()}
    body = json.dumps(
        {"format": PARSED_FORMAT, "sha256": key, "entries": entries, "refused": refused}
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, body)
        _prune_parsed(path.parent)
    except OSError:
        pass


def _prune_parsed(directory: Path) -> None:
    """Each distinct index text leaves a sidecar; keep the newest PARSED_KEEP of them."""
    sidecars = sorted(
        directory.glob(f"{PARSED_PREFIX}*.json"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for stale in sidecars[PARSED_KEEP:]:
        stale.unlink(missing_ok=True)


def _safe_load(text: str, url: str) -> Any:
    from ruamel.yaml.error import YAMLError

    from fluxbump.yamlio import plaindata

    if "&" in text and "*" in text and _has_alias(text):
        # Helm never writes anchors; refusing them defuses alias ("billion laughs") bombs.
        raise ResolutionError(f"{url}: index uses YAML aliases, which Helm never writes")
    try:
        return plaindata.load(text)
    except (YAMLError, ValueError) as exc:  # (ValueError: an integer over Python's 4300 digits)
        raise ResolutionError(f"{url}: index is not valid YAML ({_first_line(exc)})") from None
    except RecursionError:
        raise ResolutionError(f"{url}: index is nested too deeply to be a Helm index") from None


def _has_alias(text: str) -> bool:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent

    try:
        return any(isinstance(e, AliasEvent) for e in YAML(typ="safe", pure=True).parse(text))
    except YAMLError:
        return False


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _urls(urls: object) -> tuple[str, ...]:
    """The entry's download URLs that are text: a ``null`` or number there named no URL
    (fetched as ``…/None``, a 404 that said nothing of the index)."""
    if not isinstance(urls, list):
        return ()
    return tuple(url for url in urls if isinstance(url, str) and url)


def _chart_entries(chart: str, raw: object) -> tuple[tuple[ChartEntry, ...], tuple[str, ...]]:
    """A chart's entries, and why each entry left out was (its version is no string)."""
    if not isinstance(raw, list):
        return (), ()
    found, refused = [], []
    for item in raw:
        if not isinstance(item, dict) or "version" not in item:
            continue
        why = _not_text(chart, item, "version") or _not_text(chart, item, "appVersion")
        if why:
            refused.append(why)
            continue
        urls = item.get("urls") or ()
        found.append(
            ChartEntry(
                name=str(item.get("name", "")),
                version=item["version"],
                app_version=item.get("appVersion") or "",
                urls=_urls(urls),
                digest=str(item.get("digest", "")),
            )
        )
    kept, disagreeing = _one_per_version(chart, found)
    return kept, (*refused, *disagreeing)


def _one_per_version(
    chart: str, found: list[ChartEntry]
) -> tuple[tuple[ChartEntry, ...], tuple[str, ...]]:
    """Each version once, and why the versions left out were. ``helm repo index`` never
    lists a version twice; a lying or hand-merged index whose entries of one version
    disagree on appVersion or digest names no one chart (Helm may install either, while
    fluxbump would map the release by one and verify the archive by the other): all are
    left out. Identical repeats are one entry."""
    by_version: dict[str, list[ChartEntry]] = {}
    for entry in found:
        by_version.setdefault(_helm_version(entry.version), []).append(entry)
    kept, refused = [], []
    for entries in by_version.values():
        why = _disagreement(chart, entries)
        if why:
            refused.append(why)
        else:
            kept.append(entries[0])
    return tuple(kept), tuple(refused)


def _helm_version(version: str) -> str:
    """The version as Helm matches a pin to it: SemVer equality, so ``v2.14.1`` and
    ``2.14.1+mirror`` are 2.14.1 (build metadata has no precedence); else the text."""
    parsed = versions.try_parse(version)
    return str(parsed.replace(build=None)) if parsed is not None else version


def _disagreement(chart: str, entries: list[ChartEntry]) -> str:
    spelled = " and ".join(dict.fromkeys(e.version for e in entries))
    for field in ("appVersion", "digest"):
        values = list(dict.fromkeys(e.app_version if field == "appVersion" else e.digest
                                    for e in entries))  # fmt: skip
        if len(values) > 1:
            return (
                f"the '{chart}' entries of version {spelled} disagree ({field} "
                f"{' and '.join(values)}): Helm may install either, so each is left out"
            )
    return ""


def _not_text(chart: str, item: dict[Any, Any], key: str) -> str:
    """Why an entry's version (or appVersion, when given) cannot be read, or "". Helm writes
    them quoted; a plain ``2.10`` in a hand-made or lying index is the YAML number 2.1, and
    its text back (``str``) names a chart version nobody published."""
    if isinstance(item.get(key), str) or (key == "appVersion" and item.get(key) is None):
        return ""  # (an empty or absent appVersion is Helm's "none")
    value, kind = item.get(key), _yaml_kind(item.get(key))
    if kind == "number":
        return (
            f"a '{chart}' entry's {key} is the YAML number {value!r}, not a string (unquoted, "
            f"2.10 reads as 2.1; Helm writes it quoted): the entry is left out; quote its {key}"
        )
    return f"a '{chart}' entry's {key} is a YAML {kind}, not a string: the entry is left out"


def _yaml_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "collection"


# --- loading ---------------------------------------------------------------------------


def load_index(
    repo_option: str | None,
    offline: bool = False,
    fallback: bool = False,
    configured: str | None = None,
) -> IndexLoad:
    """Load the index named by ``--helm-repo``/env/``configured``/default (``choose_repo``),
    from disk, cache or network.

    ``fallback`` (read-only commands): an index that cannot be fetched is served from the
    cache, else the bundled snapshot, with one warning; a bump never falls back (it would
    move pins on data that may be stale).
    """
    repo, named = choose_repo(repo_option, configured)
    path = local_path(repo, named)
    if path is not None:
        # A local index is read as given, never cached (the demo relies on that).
        return IndexLoad(parse_index(_read_local(path), str(path)))
    url = index_url(repo)
    if offline:
        return _load_offline(url)
    if not fallback:
        return fetch_index(url)
    try:
        return fetch_index(url)
    except IndexUnreachable as exc:
        return _load_offline(url, because=exc.message)


def _read_local(path: Path) -> str:
    data = files.read_regular(path, what="read the Helm index", max_bytes=MAX_INDEX_BYTES)
    note_read(path, data)  # a warm verdict is served only while the file holds these bytes
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ResolutionError(f"{path}: index is not UTF-8 text") from None


def bundled_snapshot() -> HelmIndex:
    """The fluxcd-community index snapshot shipped inside the package."""
    text = resources.files("fluxbump").joinpath("data", SNAPSHOT_NAME).read_text("utf-8")
    return load_parsed(text, f"bundled snapshot {SNAPSHOT_DATE}")


def _load_offline(url: str, because: str = "offline") -> IndexLoad:
    """The cached index, else the bundled snapshot; ``because`` starts the one warning."""
    cached = Cache.for_url(url).read()
    shown = http.shown(url)
    if cached is not None:
        index = _with_query(load_parsed(cached[0], shown), url)
        fetched = _fetched_on(cached[1])
        return IndexLoad(
            dataclasses.replace(index, complete=False),
            (f"{because}: using cached index of {shown}{fetched}", *plain_http(url)),
        )
    warning = (
        f"{because}: no cached index for {shown}; using the bundled snapshot of "
        f"{SNAPSHOT_DATE} (releases after that date are unknown)"
    )
    return IndexLoad(dataclasses.replace(bundled_snapshot(), complete=False), (warning,))


def _fetched_on(meta: dict[str, str]) -> str:
    """`` (fetched 2026-04-15)`` from the cache's record, or nothing when it has none."""
    stamp = meta.get("fetched_at", "")
    if not stamp.isdigit():
        return ""
    return f" (fetched {time.strftime('%Y-%m-%d', time.gmtime(int(stamp)))})"


# --- cache -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cache:
    """One cached index body plus its validators (ETag, Last-Modified), keyed by URL."""

    body_path: Path
    meta_path: Path

    @staticmethod
    def directory() -> Path:
        configured = os.environ.get(CACHE_ENV)
        if configured:
            return Path(configured)
        import platformdirs

        return Path(platformdirs.user_cache_dir("fluxbump"))

    @classmethod
    def for_url(cls, url: str) -> Cache:
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        base = cls.directory()
        return cls(base / f"index-{key}.yaml", base / f"index-{key}.json")

    def read(self) -> tuple[str, dict[str, str]] | None:
        try:
            meta = json.loads(_read_text(self.meta_path))
            return _read_text(self.body_path), {str(k): str(v) for k, v in meta.items()}
        except (OSError, ValueError):
            return None

    def write(self, body: str, meta: dict[str, str]) -> None:
        """Write body then meta, each atomically; a cache failure never fails a run."""
        try:
            self.body_path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.body_path, body)
            _atomic_write(self.meta_path, json.dumps(meta))
        except OSError:
            pass


def _read_text(path: Path) -> str:
    """A cache file's text; what was read (or that nothing could be) keys a warm verdict."""
    try:
        text = path.read_text("utf-8")
    except (OSError, ValueError):
        note_read(path, None)
        raise
    note_read(path, text)
    return text


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


# --- HTTP ------------------------------------------------------------------------------


def fetch_index(url: str) -> IndexLoad:
    """GET the index, revalidating a cached copy (If-None-Match / If-Modified-Since); a
    warning when it was generated before the cached copy (``_older_than_cached``)."""
    cache = Cache.for_url(url)
    cached = cache.read()
    headers = _validators(cached[1]) if cached else {}
    try:
        reply = http.get(url, what=FETCH_INDEX, max_bytes=MAX_INDEX_BYTES, headers=headers)
    except ResolutionError as exc:  # no answer (network, 5xx, deadline): a cached copy may serve
        raise IndexUnreachable(exc.message) from None
    shown = http.shown(url)
    if reply.status == 304 and cached is not None:
        return IndexLoad(_with_query(load_parsed(cached[0], shown), url), plain_http(url))
    text = index_text(reply, shown)
    index = _with_query(load_parsed(text, shown), url)  # validated before caching: never poison it
    said = (*plain_http(url), *_older_than_cached(text, cached[0] if cached else "", shown))
    if not proven_whole(reply, text):
        # A cut body may still parse (cut between entries): used once, as an index that
        # cannot prove absence, but never cached to answer later offline runs.
        return IndexLoad(dataclasses.replace(index, complete=False), said)
    cache.write(text, _meta(reply, shown))
    return IndexLoad(index, said)


def plain_http(url: str) -> tuple[str, ...]:
    """A warning for an index read over plain http from another machine. Helm allows it, but
    anyone on the path can rewrite the index, and with it the chart version and digest a bump
    pins: the run goes on, said once. Loopback never crosses a network."""
    if urlsplit(url).scheme != "http" or http.is_loopback(url):
        return ()
    return (
        f"{http.shown(url)}: the Helm index is fetched over plain http: anyone on the network "
        "path can change it, and so the chart versions pinned; use an https:// URL",
    )


# Helm's ``generated:`` time, to the second (it writes RFC 3339 in UTC, with nanoseconds).
_GENERATED = re.compile(
    r"^[\"']?generated[\"']?[ \t]*:[ \t]*[\"']?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", re.MULTILINE
)


def _older_than_cached(text: str, cached: str, url: str) -> tuple[str, ...]:
    """A warning when the index served was generated before the copy cached from the same
    URL: a stale mirror or a repository rolled back, whose releases may be fewer (``to
    latest`` then finds nothing to do, silently). It is used as served (the server is the
    source of truth), and cached."""
    served, kept = _generated(text), _generated(cached)
    if not served or not kept or served >= kept:
        return ()
    return (
        f"{url}: the index served was generated at {served.replace('T', ' ')} UTC, before "
        f"the copy cached from it earlier ({kept.replace('T', ' ')} UTC): a stale mirror or "
        "a rolled-back repository; releases published since may be missing from it",
    )


# The same in an index written as JSON, where the last one is taken: a tool writing JSON
# (json.dumps of Helm's map) puts the top-level key after the entries, as Helm does.
_GENERATED_JSON = re.compile(r'"generated"[ \t\r\n]*:[ \t\r\n]*"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')


def _generated(text: str) -> str:
    """The index's ``generated`` time to the second, "" when it names none."""
    found = _GENERATED.search(text)
    if found is not None:
        return found.group(1)
    if not text.lstrip().startswith("{"):
        return ""
    times = _GENERATED_JSON.findall(text)
    return times[-1] if times else ""


def _with_query(index: HelmIndex, url: str) -> HelmIndex:
    """``index`` (named by ``url`` without its query) keeping that query for its charts."""
    query = urlsplit(url).query
    return dataclasses.replace(index, query=query) if query else index


def proven_whole(reply: http.Reply, text: str) -> bool:
    """Whether the body is known to be all of it: its length was declared (or it was chunked,
    whose last chunk marks the end), else its text shows the end of the index. A body that
    ends when the socket does may have been cut anywhere."""
    if reply.headers.get("content-length", "").isdigit():
        return True
    if "chunked" in reply.headers.get("transfer-encoding", "").lower():
        return True
    if text.lstrip().startswith(("{", "[")):
        return True  # flow style (JSON): a cut one does not parse
    # Block style: Helm writes ``generated:`` after ``entries:``; a top-level key after the
    # entries proves they were not cut short.
    from fluxbump.scan.sources import cr_as_lf  # (sources' config imports resolve, this)

    keys = [m.group(1) for m in _TOP_LEVEL_KEY.finditer(cr_as_lf(text))]
    return "entries" in keys and keys[-1] != "entries"


def index_text(reply: http.Reply, url: str) -> str:
    """The text of a 200 answer to an index GET; any other status or non-UTF-8 is exit 3."""
    if reply.status != 200:
        raise ResolutionError(f"{url}: HTTP {reply.status} fetching the Helm index")
    try:
        return reply.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ResolutionError(f"{url}: index is not UTF-8 text") from None


def _validators(meta: dict[str, str]) -> dict[str, str]:
    headers = {}
    if meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    return headers


def _meta(reply: http.Reply, url: str) -> dict[str, str]:
    return {
        "url": url,
        "etag": reply.headers.get("etag", ""),
        "last_modified": reply.headers.get("last-modified", ""),
        "fetched_at": str(int(time.time())),
    }


def describe(entry: ChartEntry) -> dict[str, Any]:
    """A JSON-ready view of an index entry."""
    return dataclasses.asdict(entry)
