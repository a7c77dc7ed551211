"""Sort the walked files into the roles whose configured globs they match, and read each once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fluxbump.config import Config
from fluxbump.scan.renovate_paths import RenovatePaths
from fluxbump.scan.sources import Globs, SourceFile, read_source


@dataclass
class Roles:
    """The walked files, by the configured globs they match (a file may have several roles)."""

    charts: list[str] = field(default_factory=list)
    cloudinit: list[str] = field(default_factory=list)
    blueprints: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    locks: set[str] = field(default_factory=set)  # every Chart.lock (Helm's, beside a chart)
    release_pins: list[str] = field(default_factory=list)  # CI, CLI and Terraform Flux pins
    renovate_skipped: list[str] = field(default_factory=list)  # ``renovate_paths.py``
    # Files of a chart's templates/ Helm renders into manifests (``crds/migrate.py`` reads
    # the Flux API versions they write, never anything else).
    chart_templates: list[str] = field(default_factory=list)


# What Helm renders of a chart's templates/ (``_helpers.tpl`` holds named templates another
# file includes, such as a HelmRelease a ``range`` writes once per entry of the values).
_RENDERED = (".yaml", ".yml", ".tpl")


def classify(files: Iterable[str], config: Config, renovate: RenovatePaths | None = None) -> Roles:
    """``renovate``: the paths Renovate is kept out of, left unread (``renovate_skipped``)."""
    globs = tuple(
        Globs(patterns)
        for patterns in (config.exclude, config.charts, config.cloudinit, config.blueprints,
                         config.clusters, config.release_pins)
    )  # fmt: skip
    roles = Roles()
    files = list(files)
    # A chart's templates/ are Go templates Helm renders, not manifests of the repository.
    rendered = tuple(rel[: -len("Chart.yaml")] + "templates/" for rel in files
                     if rel == "Chart.yaml" or rel.endswith("/Chart.yaml"))  # fmt: skip
    # The ``**/NAME`` globs (most, by default) answer by a file's name: a fleet has tens of
    # thousands of paths but a few dozen names, each answered once; only the other globs
    # (``**/.github/workflows/*.yml``) test each path.
    by_name: dict[str, tuple[bool, ...]] = {}
    by_path = [(at, g) for at, g in enumerate(globs) if g.regex is not None]
    for rel in files:
        if "\n" in rel:
            found = tuple(g.match(rel) for g in globs)
        else:
            name = rel[rel.rfind("/") + 1 :]
            known = by_name.get(name)
            if known is None:
                known = by_name[name] = tuple(g.match_name(name) for g in globs)
            found = known
            for at, g in by_path:
                if not found[at] and g.match_path(rel):
                    found = (*found[:at], True, *found[at + 1 :])
        excluded, chart, cloudinit, blueprint, cluster, release_pin = found
        if excluded:
            continue
        if rendered and rel.startswith(rendered):
            if rel.endswith(_RENDERED):
                roles.chart_templates.append(rel)
            continue
        if renovate is not None and any(found[1:]) and renovate.skips(rel):
            roles.renovate_skipped.append(rel)
            continue
        if chart and rel.endswith("Chart.yaml"):
            roles.charts.append(rel)
        elif rel.endswith("Chart.lock"):
            roles.locks.add(rel)
        if cloudinit:
            roles.cloudinit.append(rel)
        if blueprint:
            roles.blueprints.append(rel)
        if cluster:
            roles.clusters.append(rel)
        if release_pin:
            roles.release_pins.append(rel)
    return roles


def read_once(sources: dict[str, SourceFile], root: Path, rel: str) -> SourceFile:
    """A file's source, read on first use and kept in ``sources`` for the rest of the run."""
    if rel not in sources:
        sources[rel] = read_source(root, rel)
    return sources[rel]
