"""Sort the walked files into the roles whose configured globs they match, and read each once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fluxbump.config import Config
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


def classify(files: Iterable[str], config: Config) -> Roles:
    exclude, charts = Globs(config.exclude), Globs(config.charts)
    cloudinit, blueprints = Globs(config.cloudinit), Globs(config.blueprints)
    clusters, release_pins = Globs(config.clusters), Globs(config.release_pins)
    roles = Roles()
    files = list(files)
    # A chart's templates/ are Go templates Helm renders, not manifests of the repository.
    rendered = tuple(rel[: -len("Chart.yaml")] + "templates/" for rel in files
                     if rel == "Chart.yaml" or rel.endswith("/Chart.yaml"))  # fmt: skip
    for rel in files:
        if exclude.match(rel) or (rendered and rel.startswith(rendered)):
            continue
        if rel.endswith("Chart.yaml") and charts.match(rel):
            roles.charts.append(rel)
        elif rel.endswith("Chart.lock"):
            roles.locks.add(rel)
        if cloudinit.match(rel):
            roles.cloudinit.append(rel)
        if blueprints.match(rel):
            roles.blueprints.append(rel)
        if clusters.match(rel):
            roles.clusters.append(rel)
        if release_pins.match(rel):
            roles.release_pins.append(rel)
    return roles


def read_once(sources: dict[str, SourceFile], root: Path, rel: str) -> SourceFile:
    """A file's source, read on first use and kept in ``sources`` for the rest of the run."""
    if rel not in sources:
        sources[rel] = read_source(root, rel)
    return sources[rel]
