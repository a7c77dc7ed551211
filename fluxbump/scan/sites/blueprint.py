"""``blueprint.yaml`` (``kind: Blueprint``): the version mirror and semver constraints."""

from __future__ import annotations

from dataclasses import dataclass, field

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc


@dataclass(frozen=True)
class BlueprintFile:
    name: str
    file: str
    version: PinSite | None
    constraints: list[PinSite] = field(default_factory=list)


def parse_blueprint(source: SourceFile) -> BlueprintFile | None:
    """The Blueprint in a file, or None when the file holds no ``kind: Blueprint``."""
    docs = blockyaml.compose_all(source.text, source.rel)
    for index, root in enumerate(docs):
        if yamldoc.text_of(yamldoc.child(root, "kind")) != "Blueprint":
            continue
        name = yamldoc.text_of(yamldoc.walk(root, ("metadata", "name"))) or ""
        scalar = yamldoc.scalar_at(root, index, ("spec", "version"))
        version = (
            yaml_site(Role.BLUEPRINT, source.rel, scalar, subject=name, owner=name)
            if scalar
            else None
        )
        return BlueprintFile(name, source.rel, version, _constraints(root, index, source, name))
    return None


def _constraints(root: object, index: int, source: SourceFile, owner: str) -> list[PinSite]:
    sites = []
    for prefix in (("spec", "depends"), ("depends",)):
        for i, entry in yamldoc.items(yamldoc.walk(root, prefix)):
            target = yamldoc.text_of(yamldoc.child(entry, "blueprint"))
            scalar = yamldoc.scalar_at(root, index, (*prefix, i, "version"))
            if target and scalar:
                sites.append(
                    yaml_site(Role.CONSTRAINT, source.rel, scalar, subject=target, owner=owner)
                )
    return sites
