"""``Chart.lock`` beside a ``Chart.yaml``: the locked versions, the digest and ``generated``.

``helm dependency build`` refuses a lock whose digest is not Helm's hash of the chart's
dependencies and the lock's (``fluxbump.lockdigest``). A bump that moves a dependency pin
therefore rewrites the three scalars ``helm dependency update`` would: the entry's
``version``, ``digest`` and ``generated``; the rest of the file is kept byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fluxbump import lockdigest, versions
from fluxbump.pins import PinSite, Role, Violation, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

LOCK_NAME = "Chart.lock"


@dataclass(frozen=True)
class LockEntry:
    """One locked dependency: its data (for the digest) and its ``version`` site."""

    data: dict[str, Any]
    version: PinSite | None


@dataclass(frozen=True)
class ChartLock:
    """What a Chart.lock holds, with the sites of the scalars a bump rewrites."""

    file: str
    entries: tuple[LockEntry, ...]
    digest: PinSite | None
    generated: PinSite | None
    line: int  # of ``dependencies:``, where a mismatch in the list is reported


def lock_path(chart_file: str) -> str:
    """The Chart.lock beside a Chart.yaml (both repo-relative)."""
    directory = chart_file.rsplit("/", 1)[0] if "/" in chart_file else ""
    return f"{directory}/{LOCK_NAME}" if directory else LOCK_NAME


def parse_lock(source: SourceFile, owner: str) -> ChartLock:
    """A Chart.lock's entries and scalar sites (``owner``: the chart it locks)."""
    docs = blockyaml.compose_all(source.text, source.rel)
    root = docs[0] if docs else None
    deps = yamldoc.child(root, "dependencies")
    entries = []
    for index, node in yamldoc.items(deps):
        name = yamldoc.text_of(yamldoc.child(node, "name")) or ""
        path: yamldoc.YamlPath = ("dependencies", index, "version")
        scalar = yamldoc.scalar_at(root, 0, path)
        site = (
            yaml_site(Role.LOCK, source.rel, scalar, subject=name, owner=owner) if scalar else None
        )
        entries.append(LockEntry(plain(node), site))

    def own(key: str, role: Role) -> PinSite | None:
        scalar = yamldoc.scalar_at(root, 0, (key,))
        return yaml_site(role, source.rel, scalar, subject=owner, owner=owner) if scalar else None

    return ChartLock(
        source.rel,
        tuple(entries),
        own("digest", Role.LOCK_DIGEST),
        own("generated", Role.LOCK_GENERATED),
        yamldoc.line_of(deps) if deps is not None else 1,
    )


def requirements(chart: SourceFile) -> list[dict[str, Any]]:
    """A Chart.yaml's ``dependencies`` as plain data (what Helm hashes)."""
    docs = blockyaml.compose_all(chart.text, chart.rel)
    deps = yamldoc.child(docs[0] if docs else None, "dependencies")
    return [plain(node) for _, node in yamldoc.items(deps)]


def plain(node: Any) -> Any:
    """A composed node as data; ``enabled`` is Helm's only non-string scalar field."""
    if yamldoc.is_mapping(node):
        return {
            str(k.value): _scalar(str(k.value), v) if yamldoc.is_scalar(v) else plain(v)
            for k, v in node.value
        }
    if yamldoc.is_sequence(node):
        return [plain(item) for item in node.value]
    return yamldoc.text_of(node)


def _scalar(key: str, node: Any) -> Any:
    text = yamldoc.text_of(node)
    if key == "enabled":
        return text in ("true", "True", "TRUE")
    return text


@dataclass(frozen=True)
class LockedChart:
    """A chart with a Chart.lock: the lock and the chart's dependencies as data."""

    chart_file: str
    lock: ChartLock
    required: tuple[dict[str, Any], ...]

    def state(self, pins: dict[int, str] | None = None) -> LockState:
        """The lock compared with the chart, after setting dependency ``i`` to ``pins[i]``."""
        required = [dict(d) for d in self.required]
        for index, version in (pins or {}).items():
            required[index]["version"] = version
        return compare(self.lock, self.chart_file, required)


def locked_chart(chart: SourceFile, lock: SourceFile, owner: str) -> LockedChart:
    return LockedChart(chart.rel, parse_lock(lock, owner), tuple(requirements(chart)))


@dataclass(frozen=True)
class LockState:
    """A lock compared with its Chart.yaml: the new versions and the digest Helm would write."""

    lock: ChartLock
    versions: dict[int, str]  # entry index -> the version Chart.yaml now pins there
    digest: str
    mismatch: str | None  # why the lock's list is not the chart's (then nothing else holds)

    @property
    def in_step(self) -> bool:
        return self.mismatch is None and not self.versions and self._digest_ok

    @property
    def _digest_ok(self) -> bool:
        return self.lock.digest is not None and self.lock.digest.value == self.digest


def compare(lock: ChartLock, chart_file: str, required: list[dict[str, Any]]) -> LockState:
    """What ``helm dependency update`` would change in ``lock`` for these requirements.

    Helm locks one entry per dependency, in order; an exact pin locks itself, a range keeps
    the version it resolved to (fluxbump never re-resolves ranges). A repository alias
    (``@name``, ``alias:name``) is hashed as the URL Helm put in the lock.
    """
    entries = lock.entries
    names = [str(d.get("name", "")) for d in required]
    if names != [str(e.data.get("name", "")) for e in entries]:
        listed = ", ".join(_names(entries)) or "nothing"
        why = f"locks {listed} but {chart_file} depends on {', '.join(names) or 'nothing'}"
        return LockState(lock, {}, "", why)
    moved: dict[int, str] = {}
    hashed = []
    for index, (want, entry) in enumerate(zip(required, entries, strict=True)):
        pin = str(want.get("version") or "")
        locked = dict(entry.data)
        have = entry.version.value if entry.version is not None else None
        if versions.is_pin(pin) and have is not None and not versions.equal(have, pin):
            # Helm locks the version the repository's index names: a ``v`` prefix there
            # (charts.jetstack.io: ``v1.20.2`` for a pin of ``1.20.2``) stays in the lock.
            bare = pin.removeprefix("v")
            moved[index] = f"v{bare}" if have.startswith("v") else bare
            locked["version"] = moved[index]
        hashed.append(locked)
    return LockState(lock, moved, lockdigest.hash_req(_resolved(required, hashed), hashed), None)


def _names(entries: tuple[LockEntry, ...]) -> list[str]:
    return [str(e.data.get("name", "")) for e in entries]


def _resolved(required: list[dict[str, Any]], locked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Helm rewrites an aliased repository to its URL before hashing (``resolveRepoNames``)."""
    out = []
    for want, have in zip(required, locked, strict=True):
        repository = str(want.get("repository") or "")
        if repository.startswith(("@", "alias:")):
            want = {**want, "repository": have.get("repository", "")}
        out.append(want)
    return out


def edits(state: LockState, now: datetime) -> list[tuple[PinSite, str]]:
    """The scalars to rewrite so the lock is what ``helm dependency update`` writes."""
    lock = state.lock
    if state.mismatch is not None or state.in_step or lock.digest is None:
        return []
    changes = [
        (site, state.versions[i])
        for i, entry in enumerate(lock.entries)
        if i in state.versions and (site := entry.version) is not None
    ]
    changes.append((lock.digest, state.digest))
    if lock.generated is not None:
        changes.append((lock.generated, lockdigest.go_time(now)))
    return changes


def violations(state: LockState, chart_file: str) -> list[Violation]:
    """Why ``helm dependency build`` would refuse this lock, each at the lock's line."""
    lock = state.lock
    if state.mismatch is not None:
        return [Violation(lock.file, lock.line, state.mismatch)]
    found = []
    for index, pin in state.versions.items():
        site = lock.entries[index].version
        assert site is not None
        found.append(
            Violation(
                site.file,
                site.line,
                f"locks {site.subject} {site.value} but {chart_file} pins {pin}; "
                "run 'fluxbump sync' (or 'helm dependency update')",
                site.value,
                pin,
            )
        )
    if not found and lock.digest is not None and lock.digest.value != state.digest:
        found.append(
            Violation(
                lock.file,
                lock.digest.line,
                f"digest does not match the dependencies of {chart_file} (helm dependency "
                "build would refuse it); run 'helm dependency update'",
            )
        )
    if lock.digest is None:
        found.append(Violation(lock.file, 1, "no 'digest'; run 'helm dependency update'"))
    return found
