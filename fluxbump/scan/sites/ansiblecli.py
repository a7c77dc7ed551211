"""The Flux CLI an Ansible role downloads, its URL and release held in role variables.

andrewrothstein/ansible-flux keeps the release's download prefix in a default
(``flux_mirror: https://github.com/fluxcd/flux2/releases/download``), the release in another
(``flux_ver: 2.4.0``) and joins them in ``vars/main.yml``
(``flux_url: '{{ flux_mirror }}/v{{ flux_ver }}/{{ flux_archive }}'``): no file holds the
release's URL, so no download was found. A role's variables are its ``vars/main.yml``'s,
else its ``defaults/main.yml``'s (Ansible's precedence within a role); the release variable's
value there is a Flux CLI pin, edited where it is written. A download in a role's file whose
release is a variable of another of its files (``v{{ flux_version }}``) is followed the same way.

Such a role verifies the download against a table keyed by release
(``checksum: '{{ flux_checksums[flux_ver][flux_platform] }}'``): a release the table lacks
fails the role's next run. ``to`` moves the pin only to a release the table has
(``missing_checksums``), and otherwise refuses, nothing written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence

from fluxbump import versions
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites.kustomizeremote import variable_name
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

Read = Callable[[str], SourceFile | None]
SUBJECT = "Flux"
DOWNLOAD = "fluxcd/flux2 CLI download"
# A role's variable files, the one Ansible prefers first.
_VARIABLE_FILES = ("vars/main.yml", "vars/main.yaml", "defaults/main.yml", "defaults/main.yaml")
_ROLE_PARTS = ("defaults", "vars", "tasks")
_RELEASES = re.compile(r"^https://github\.com/fluxcd/flux2/releases/download/?$")
# ``{{ PREFIX }}/v{{ RELEASE }}/``: a release's asset under a prefix a variable holds.
_JOINED = re.compile(r"\{\{\s*(?P<prefix>\w+)\s*\}\}/v?\{\{\s*(?P<release>\w+)\s*\}\}/")
# The owner of a followed pin ends with its variable (``… ({{ flux_ver }})``).
_OWNER_VARIABLE = re.compile(r"\(\{\{ (?P<name>\w+) \}\}\)$")


def role_of(rel: str) -> str | None:
    """The role a file is part of (``roles/flux`` for ``roles/flux/vars/main.yml``; "" for
    a repository that is one role), None for a file of no role's variables or tasks."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[-2] not in _ROLE_PARTS:
        return None
    return "/".join(parts[:-2])


def follow_role_downloads(pins: list[PinSite], files: Sequence[str], read: Read) -> list[PinSite]:
    """``pins`` with each CLI download in a role's file whose release is a role variable
    set in another of its files replaced by that value, and the downloads a role joins from
    variables (``{{ prefix }}/v{{ release }}/``) added."""
    pairs = [(pin, _followed(pin, read)) for pin in pins]
    kept = [pin for pin, followed in pairs if followed is pin]
    seen = {(pin.file, pin.start) for pin in kept}
    found = [followed for pin, followed in pairs if followed is not pin]
    for pin in [*found, *_joined_downloads(files, read)]:
        if (pin.file, pin.start) not in seen:  # (one variable, two downloads: one pin)
            seen.add((pin.file, pin.start))
            kept.append(pin)
    return kept


def _followed(pin: PinSite, read: Read) -> PinSite:
    role = role_of(pin.file)
    name = variable_name(pin.value) if pin.role is Role.CLI and "{{" in pin.value else ""
    setter = _setter(role, name, read) if role is not None and name else None
    return pin if setter is None else _pin(setter, name)


def _joined_downloads(files: Sequence[str], read: Read) -> list[PinSite]:
    """The release variable of each ``{{ prefix }}/v{{ release }}/`` of a role whose prefix
    variable is a fluxcd/flux2 release download URL, at the value the role sets it to."""
    found: dict[tuple[str, int], PinSite] = {}
    for rel in files:
        role = role_of(rel)
        source = read(rel) if role is not None and rel.endswith((".yml", ".yaml")) else None
        if source is None or role is None or b"{{" not in source.raw:
            continue
        for match in _JOINED.finditer(source.text):
            prefix = _setter(role, match.group("prefix"), read)
            if prefix is None or not _RELEASES.match(prefix[1].value):
                continue
            setter = _setter(role, match.group("release"), read)
            if setter is not None:
                pin = _pin(setter, match.group("release"))
                found.setdefault((pin.file, pin.start), pin)
    return list(found.values())


def _pin(setter: tuple[str, yamldoc.Scalar], name: str) -> PinSite:
    rel, scalar = setter
    owner = f"{DOWNLOAD} ({{{{ {name} }}}})"
    return yaml_site(Role.CLI, rel, scalar, subject=SUBJECT, owner=owner)


def _setter(role: str, name: str, read: Read) -> tuple[str, yamldoc.Scalar] | None:
    """Where the role gives variable ``name`` a scalar: its file and the scalar."""
    for rel, root, index in _variable_documents(role, read):
        scalar = yamldoc.scalar_at(root, index, (name,))
        if scalar is not None:
            return rel, scalar
    return None


def _variable_documents(role: str, read: Read) -> Iterable[tuple[str, object, int]]:
    """Each document of the role's variable files, in Ansible's order (unreadable: none)."""
    for suffix in _VARIABLE_FILES:
        rel = posixpath.join(role, suffix)
        source = read(rel)
        if source is None:
            continue
        try:
            roots = blockyaml.compose_all(source.text, source.rel)
        except UsageError:  # (release_pins names an unreadable file)
            continue
        for index, root in enumerate(roots):
            yield rel, root, index


def missing_checksums(
    moved: Iterable[tuple[PinSite, str]], files: Sequence[str], read: Read
) -> list[str]:
    """One line for each moved role pin (``moved``: the site, its new value) whose role
    looks its download's checksum up in a table keyed by release that has no entry for the
    new one: moved, the role's next run fails."""
    refusals = []
    for site, new in moved:
        variable = _OWNER_VARIABLE.search(site.owner)
        role = role_of(site.file)
        if variable is None or role is None or not site.owner.startswith(DOWNLOAD):
            continue
        for table, rel, line, keys in _tables(role, variable.group("name"), files, read):
            if not any(versions.equal(key, new) for key in keys if versions.is_pin(key)):
                refusals.append(
                    f"{site.where}: moving {variable.group('name')} to {new} leaves the role's "
                    f"{table} ({rel}:{line}) with no '{new}' entry, where its download of the "
                    f"Flux CLI looks its checksum up: add the {new} checksums there, or keep "
                    "this pin (keep: in .fluxbump.yaml); nothing written"
                )
    return refusals


def _tables(
    role: str, name: str, files: Sequence[str], read: Read
) -> list[tuple[str, str, int, list[str]]]:
    """Each role variable the role indexes by variable ``name`` (``TABLE[name]``) that holds
    a mapping: its name, file, line and keys."""
    indexed = re.compile(rf"\b(?P<table>\w+)\[\s*{re.escape(name)}\s*\]")
    names: list[str] = []
    for rel in files:
        source = read(rel) if role_of(rel) == role else None
        if source is not None:
            names += [m.group("table") for m in indexed.finditer(source.text)]
    tables = []
    for table in dict.fromkeys(names):
        for rel, root, _ in _variable_documents(role, read):
            key = _key(root, table)
            if key is not None and yamldoc.is_mapping(yamldoc.child(root, table)):
                keys = yamldoc.keys(yamldoc.child(root, table))
                tables.append((table, rel, yamldoc.line_of(key), keys))
                break
    return tables


def _key(root: object, name: str) -> object | None:
    """The key node ``name`` of a mapping document (its line is the table's)."""
    pairs = getattr(root, "value", None) if yamldoc.is_mapping(root) else None
    return next((k for k, _ in pairs or [] if yamldoc.text_of(k) == name), None)
