"""Flux post-build substitution: a HelmRelease version written as ``${VAR}`` is pinned where a
Kustomization's ``postBuild.substitute`` sets VAR, or by the placeholder's own default."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from fluxbump.errors import NotRegularFile, UsageError
from fluxbump.pins import PinSite
from fluxbump.scan.sites import object_name
from fluxbump.scan.sites.helmrelease import substitute_sites
from fluxbump.scan.sites.kustomizeremote import FILE_NAMES as KUSTOMIZATION_FILES
from fluxbump.scan.sources import SourceFile, read_source, source_of
from fluxbump.yamlio import yamldoc

# Flux post-build substitution (envsubst): ``${VAR}``, or with a default for an unset VAR,
# ``${VAR:=1.2.3}``, ``${VAR:-1.2.3}`` (and ``=``/``-`` without the colon).
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}\Z")


@dataclass(frozen=True)
class Placeholder:
    """A version written as a substitution variable, and the default it falls back to."""

    variable: str
    operator: str  # ":=", ":-", "=", "-", or "" (no default)
    default: str | None

    def with_default(self, value: str) -> str:
        """The same placeholder text with another default."""
        return f"${{{self.variable}{self.operator}{value}}}"


def placeholder(value: str) -> Placeholder | None:
    """``${BP_FLUX_VERSION:=1.1.1}`` -> its variable and default; None for anything else."""
    match = PLACEHOLDER.match(value)
    if match is None:
        return None
    return Placeholder(match.group(1), match.group(2) or "", match.group(3))


def placeholder_variable(value: str) -> str | None:
    """``${BP_FLUX_VERSION}`` (with or without a default) -> ``BP_FLUX_VERSION``."""
    held = placeholder(value)
    return held.variable if held is not None else None


def default_pin(site: PinSite, setters: Setters) -> Placeholder | None:
    """The placeholder whose default is in effect: it has one and no Kustomization of this
    repo sets its variable for the site's file, nor may set it from a ConfigMap or Secret
    (``substituteFrom``). That default is then the pin, moved and proven like one."""
    held = placeholder(site.value)
    if held is None or held.default is None or setters.of(held.variable, site.file):
        return None
    return None if setters.sourced_for(site.file) else held


def unsettled(value: str, file: str, setters: Setters) -> str | None:
    """Why a version written as ``${VAR}`` in ``file`` is neither a Kustomization's value nor
    its default: a Kustomization rendering the file may take VAR from a ConfigMap or Secret
    (``substituteFrom``), which fluxbump does not read. None when that is not so."""
    variable = placeholder_variable(value)
    sourced = setters.sourced_for(file)
    if variable is None or not sourced or setters.of(variable, file):
        return None
    named = ", ".join(f"{s.kind} {s.name} ({s.where})" for s in sourced)
    owners = ", ".join(sorted({s.owner for s in sourced}))
    return (
        f"{value} may be set by {named}, which Kustomization {owners} substitutes from and "
        f"fluxbump does not read: set {variable} in its postBuild.substitute, or write the "
        "version here, to pin it"
    )


def substitutions(
    root: Path,
    sources: dict[str, SourceFile],
    releases: list[PinSite],
    files: list[tuple[str, bytes]],
    setters: Setters,
) -> list[PinSite]:
    """Kustomization ``postBuild.substitute`` values that set a HelmRelease's version variable.

    A HelmRelease pinned as ``${VAR}`` is really pinned where VAR is set; that value is the
    pin-site, so the bump moves it and the gate proves it. Each is added to ``setters`` and
    returned; a file read here joins ``sources`` (a bump edits it from that text).
    """
    _read_sourced(root, sources, files, setters)
    return _read_setters(root, sources, _wanted(releases), files, setters)


def _wanted(pins: list[PinSite]) -> dict[str, str]:
    """Each variable a pin is written as (``${VAR}``) -> the subject of the first such pin."""
    wanted: dict[str, str] = {}
    for site in pins:
        variable = placeholder_variable(site.value)
        if variable is not None:
            wanted.setdefault(variable, site.subject)
    return wanted


def _read_setters(
    root: Path,
    sources: dict[str, SourceFile],
    wanted: dict[str, str],
    files: list[tuple[str, bytes]],
    setters: Setters,
) -> list[PinSite]:
    """The ``postBuild.substitute`` values of ``files`` that set a ``wanted`` variable, each
    added to ``setters`` with what its Kustomization renders; a file read joins ``sources``
    (a bump edits it from that text)."""
    found: list[PinSite] = []
    for rel, raw in files:
        if not wanted or not any(v.encode() in raw for v in wanted):
            continue
        source = sources.get(rel) or source_of(rel, raw)
        sources[rel] = source
        for site, path in substitute_sites(source, wanted):
            setters.add(str(site.path[-1]), site, _scope(root, path))
            found.append(site)
    return found


def _read_sourced(
    root: Path, sources: dict[str, SourceFile], files: list[tuple[str, bytes]], setters: Setters
) -> None:
    """Each ``postBuild.substituteFrom`` entry of ``files``' Kustomizations, added to
    ``setters`` with what its Kustomization renders; a file read joins ``sources``."""
    for rel, raw in files:
        if b"substituteFrom" not in raw:
            continue
        source = sources.get(rel) or source_of(rel, raw)
        sources[rel] = source
        for entry, path in substitute_from(source):
            setters.sourced.append((entry, _scope(root, path)))


def substitute_from(source: SourceFile) -> list[tuple[SubstituteFrom, str]]:
    """The ConfigMaps and Secrets the Flux Kustomizations of ``source`` substitute from, each
    with its Kustomization's ``spec.path``."""
    try:
        documents = yamldoc.compose_documents(source.text, source.rel)
    except UsageError:  # not YAML: the cluster scan names it unreadable
        return []
    found = []
    for root in documents:
        if yamldoc.text_of(yamldoc.child(root, "kind")) != "Kustomization":
            continue
        entries = yamldoc.walk(root, ("spec", "postBuild", "substituteFrom"))
        if not yamldoc.is_sequence(entries):
            continue
        path = yamldoc.text_of(yamldoc.walk(root, ("spec", "path"))) or ""
        for _, entry in yamldoc.items(entries):
            kind = yamldoc.text_of(yamldoc.child(entry, "kind")) or "ConfigMap"
            name = yamldoc.text_of(yamldoc.child(entry, "name")) or "?"
            line = yamldoc.line_of(entry)
            found.append((SubstituteFrom(kind, name, object_name(root), source.rel, line), path))
    return found


def settled_release_pins(
    root: Path,
    sources: dict[str, SourceFile],
    pins: list[PinSite],
    files: list[tuple[str, bytes]],
    placed: Callable[[PinSite], bool] = lambda _: True,
) -> list[PinSite]:
    """Flux release pins written as ``${VAR}`` (an OCIRepository's ``tag``), each replaced by
    the ``postBuild.substitute`` values that set VAR for its file: those are what the cluster
    installs, so they are compared and moved as the release (a bump moved the CLI and left
    them). One no Kustomization of this repo sets is its default's version (``default_site``),
    as a HelmRelease's is, or without a default stays as it is (unproven), as does one a
    Kustomization may take from a ConfigMap or Secret. ``placed``: the pins Flux's
    post-build substitution renders (the others keep their text)."""
    wanted = _wanted([p for p in pins if placed(p)])
    if not wanted:
        return pins
    setters = Setters()
    _read_sourced(root, sources, files, setters)
    _read_setters(root, sources, wanted, files, setters)
    settled: dict[tuple[str, int], PinSite] = {}
    for pin in pins:
        for site in _settled(pin, setters, sources) if placed(pin) else [pin]:
            settled.setdefault((site.file, site.start), replace(site, role=pin.role))
    return list(settled.values())


def _settled(pin: PinSite, setters: Setters, sources: dict[str, SourceFile]) -> list[PinSite]:
    """What one release pin installs: the values that set its variable, else its default."""
    variable = placeholder_variable(pin.value)
    found = setters.of(variable, pin.file) if variable is not None else []
    if found:
        return [replace(s, owner=f"{pin.owner} via {s.owner} postBuild") for s in found]
    source = sources.get(pin.file)
    if variable is not None and setters.sourced_for(pin.file):  # set where we do not look
        return [pin]
    return [(default_site(pin, source.text) if source is not None else None) or pin]


# Where a Flux Kustomization sets a variable for what it renders (``substitute_sites``).
_SUBSTITUTE = ("spec", "postBuild", "substitute")


def substituted_like(site: PinSite, source: SourceFile) -> list[PinSite] | None:
    """For a release pin ``_settled`` made of a ``postBuild.substitute`` value: that value in
    ``source`` (another revision of its file), set by the same Kustomization for the same
    variable. None for any other pin."""
    if len(site.path) != 4 or site.path[:3] != _SUBSTITUTE:
        return None
    variable = str(site.path[-1])
    then = substitute_sites(source, {variable: site.subject})
    return [s for s, _ in then if site.owner.endswith(f" via {s.owner} postBuild")]


def default_site(pin: PinSite, text: str) -> PinSite | None:
    """The default of a release pin written ``${FLUXCD_VERSION:=v2.6.0}`` that nothing sets: the
    version Flux installs, as a pin of its own whose text is that default alone, so ``to``
    rewrites it inside the placeholder and the gate compares it. None when the pin has no
    default, or its text is not the placeholder as written (a quoted scalar's escapes)."""
    held = placeholder(pin.value)
    if held is None or not held.default:
        return None
    at = text.find(held.with_default(held.default), pin.start, pin.end)
    if at < 0:
        return None
    start = at + len(f"${{{held.variable}{held.operator}")
    owner = f"{pin.owner} (default of ${{{held.variable}}}, which nothing here sets)"
    return replace(
        pin, value=held.default, owner=owner, start=start, end=start + len(held.default),
        column=pin.column + start - pin.start, doc_index=None, path=(),
    )  # fmt: skip


def _scope(root: Path, path: str) -> tuple[str, ...]:
    """What a Kustomization's ``spec.path`` renders, relative to the repo: its directory and
    the files and directories outside it that its ``kustomization.yaml`` lists (``resources:
    [../../bootstrap/flux/install.yaml]``, JJGadgets/Biohazard's); () (every file) when it
    names no directory of this repo (another source, or none)."""
    rel = path.strip().removeprefix("./").strip("/")
    if not rel or not (root / rel).is_dir():
        return ()
    reached = {rel}
    _listed(root, rel, reached)
    return tuple(sorted(reached))


def _listed(root: Path, directory: str, reached: set[str]) -> None:
    """Add the local ``resources`` (and ``components``) a directory's kustomization lists,
    following the directories among them; a file that cannot be read (or is too large to be
    a kustomization: read no further than a manifest may be) lists nothing."""
    from fluxbump.yamlio import plaindata

    for name in KUSTOMIZATION_FILES:
        try:
            data = plaindata.load(read_source(root, f"{directory}/{name}").text)
        except (OSError, UsageError, NotRegularFile, ValueError, RecursionError):
            continue
        entries = [*_strings(data, "resources"), *_strings(data, "components")]
        for entry in entries:
            target = os.path.normpath(os.path.join(directory, entry))
            outside = os.path.isabs(entry) or target.startswith("..")
            if "://" in entry or outside or target in reached:
                continue  # a remote resource, or one outside the repository
            if (root / target).is_dir():
                reached.add(target)
                _listed(root, target, reached)
            elif (root / target).is_file():
                reached.add(target)
        return


def _strings(data: object, key: str) -> list[str]:
    listed = data.get(key) if isinstance(data, dict) else None
    return [e for e in listed if isinstance(e, str)] if isinstance(listed, list) else []


@dataclass(frozen=True)
class SubstituteFrom:
    """A ConfigMap or Secret a Kustomization's ``postBuild.substituteFrom`` names: it may set
    any variable of what the Kustomization renders, where fluxbump does not look (its
    ``substitute`` values take precedence, as kustomize-controller reads them last)."""

    kind: str
    name: str
    owner: str  # the Kustomization, ``namespace/name``
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Setters:
    """Flux post-build substitution: variable -> the Kustomization values that set it, and
    which files each of them renders (its ``spec.path``)."""

    by_variable: dict[str, list[PinSite]] = field(default_factory=dict)
    # (file, start) -> the paths it renders (directories or files; none: every file)
    scopes: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    # ``substituteFrom`` entries, each with the paths its Kustomization renders
    sourced: list[tuple[SubstituteFrom, tuple[str, ...]]] = field(default_factory=list)

    def add(self, variable: str, site: PinSite, scope: tuple[str, ...]) -> None:
        self.by_variable.setdefault(variable, []).append(site)
        self.scopes[(site.file, site.start)] = scope

    def of(self, variable: str, file: str) -> list[PinSite]:
        """The values that set ``variable`` for the manifests of ``file``."""
        return [s for s in self.by_variable.get(variable, []) if self._covers(s, file)]

    def sourced_for(self, file: str) -> list[SubstituteFrom]:
        """The ConfigMaps and Secrets that may set a variable of ``file``'s manifests."""
        return [entry for entry, scope in self.sourced if _in_scope(scope, file)]

    def _covers(self, site: PinSite, file: str) -> bool:
        return _in_scope(self.scopes.get((site.file, site.start), ()), file)


def _in_scope(scope: tuple[str, ...], file: str) -> bool:
    """Whether a Kustomization rendering ``scope`` (none: every file) renders ``file``."""
    return not scope or any(file == p or file.startswith(p + "/") for p in scope)
