"""Flux post-build substitution: a HelmRelease version written as ``${VAR}`` is pinned where a
Kustomization's ``postBuild.substitute`` sets VAR, or by the placeholder's own default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fluxbump.pins import PinSite
from fluxbump.scan.sites.helmrelease import substitute_sites
from fluxbump.scan.sources import SourceFile, source_of

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
    repo sets its variable for the site's file. That default is then the pin, moved and
    proven like one."""
    held = placeholder(site.value)
    if held is None or held.default is None or setters.of(held.variable, site.file):
        return None
    return held


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
    wanted: dict[str, str] = {}
    found: list[PinSite] = []
    for site in releases:
        variable = placeholder_variable(site.value)
        if variable is not None:
            wanted.setdefault(variable, site.subject)
    for rel, raw in files:
        if not wanted or not any(v.encode() in raw for v in wanted):
            continue
        source = sources.get(rel) or source_of(rel, raw)
        sources[rel] = source
        for site, path in substitute_sites(source, wanted):
            setters.add(str(site.path[-1]), site, _scope(root, path))
            found.append(site)
    return found


def _scope(root: Path, path: str) -> str:
    """The directory a Kustomization's ``spec.path`` renders, relative to the repo; "" (every
    file) when it names no directory of this repo (another source, or none)."""
    rel = path.strip().removeprefix("./").strip("/")
    return rel if rel and (root / rel).is_dir() else ""


@dataclass
class Setters:
    """Flux post-build substitution: variable -> the Kustomization values that set it, and
    which files each of them renders (its ``spec.path``)."""

    by_variable: dict[str, list[PinSite]] = field(default_factory=dict)
    scopes: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, start) -> dir

    def add(self, variable: str, site: PinSite, scope: str) -> None:
        self.by_variable.setdefault(variable, []).append(site)
        self.scopes[(site.file, site.start)] = scope

    def of(self, variable: str, file: str) -> list[PinSite]:
        """The values that set ``variable`` for the manifests of ``file``."""
        return [s for s in self.by_variable.get(variable, []) if self._covers(s, file)]

    def _covers(self, site: PinSite, file: str) -> bool:
        scope = self.scopes.get((site.file, site.start), "")
        return not scope or file.startswith(scope + "/")
