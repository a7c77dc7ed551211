"""``values.yaml`` provenance mirror: ``catalystBlueprint.upstream`` entries naming a chart.

The mirror is a mapping ``{chart: flux2, version: "2.14.1", repo: …}`` (often flow style),
or a list of them when a wrapper has several upstream charts.
"""

from __future__ import annotations

import functools
from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc


def find_mirrors(source: SourceFile, mirror_path: str, owner: str) -> list[PinSite]:
    """One site per upstream entry with a ``chart`` and a ``version``."""
    sites, warned = _mirrors(source.rel, source.text, mirror_path, owner)
    yamldoc.note_warnings(list(warned))  # (a duplicate key: said by every command reading it)
    return list(sites)


# A run reads one values.yaml several times (the survey, the plan's base revision, the
# post-write resurvey): a wrapper's values may be megabytes (vendored dashboards), each
# composed in seconds, so each text is composed once, with the warnings composing it noted.
@functools.lru_cache(maxsize=16)
def _mirrors(
    rel: str, text: str, mirror_path: str, owner: str
) -> tuple[tuple[PinSite, ...], tuple[str, ...]]:
    noted = yamldoc.warnings_noted()
    docs = blockyaml.compose_all(text, rel)
    warned = tuple(yamldoc.warnings_since(noted))
    base: yamldoc.YamlPath = tuple(mirror_path.split("."))
    node = yamldoc.walk(docs[0], base) if docs else None
    entries: list[tuple[yamldoc.YamlPath, Any]] = [(base, node)]
    if yamldoc.is_sequence(node):
        entries = [((*base, i), item) for i, item in yamldoc.items(node)]
    sites = []
    for path, entry in entries:
        chart = yamldoc.text_of(yamldoc.child(entry, "chart"))
        scalar = yamldoc.scalar_at(entry, 0, ("version",))
        if chart and scalar and scalar.value:
            scalar = yamldoc.Scalar(
                scalar.value, scalar.start, scalar.end, scalar.line, scalar.column, 0,
                (*path, "version"),
            )  # fmt: skip
            sites.append(yaml_site(Role.MIRROR, rel, scalar, subject=chart, owner=owner))
    return tuple(sites), warned
