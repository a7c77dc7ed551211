"""Flux installs kept as files of controller Deployments: their release told by image tags.

Two layouts keep Flux's manifests with neither the ``# Flux Version:`` header of ``flux
install --export`` nor the release label (``scan/sites/rendered.py`` names those), so no pin
says which release they install:

- neuralnetes/monorepo vendors each controller's release manifests in a file of its own
  (``flux-system/base/source-controller.yaml``, ``fluxcd/source-controller:v0.12.2``), applied
  together by the directory's ``kustomization.yaml``;
- giantswarm/flux-app's ``hack/flux-manifest.sh`` reads the release from the chart's
  ``appVersion`` (the pin ``chartkeys.py`` follows) and writes its ``install.yaml``, patched,
  into the chart's ``templates/``: moving the pin moves nothing there until it is re-run.

Each Flux release ships each controller at a release of its own (``data/flux2-controllers.json``,
read from fluxcd/flux2's ``manifests/bases`` at each tag), so the tags name the Flux releases
that ship exactly those controllers (several, where a release changed only the CLI). fluxbump
moves none of these files: it names them, with the release they hold. One file holding one
controller is not an install (flux-operator keeps each release's manifests so, as data, with
no kustomization applying them): a kustomization applying two or more is.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources

from fluxbump import versions
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, PlacedWarning
from fluxbump.scan.chartkeys import reading_script
from fluxbump.scan.sites.kustomizeremote import is_kustomization
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

TABLE_NAME = "flux2-controllers.json"
Read = Callable[[str], SourceFile | None]

_DOCUMENT = re.compile(r"(?m)^---[ \t]*\r?$")
_DEPLOYMENT = re.compile(r"(?m)^kind:[ \t]*[\"']?Deployment[\"']?[ \t]*\r?$")
# The Deployment's own name (``metadata.name``, the only two-space ``name:`` of a Deployment)
# and its container's image tag, whatever the image's name: giantswarm's templates send it
# to a mirror of their own (``'{{ .Values.images.registry }}/…:v1.6.2'``).
_NAME = re.compile(r"(?m)^  name:[ \t]*[\"']?(?P<name>[a-z-]+)[\"']?[ \t]*\r?$")
_IMAGE_TAG = re.compile(
    r"(?m)^[ \t-]*image:[ \t]*[\"']?[^\n]*?:(?P<tag>v\d+\.\d+\.\d+)[\"']?[ \t]*\r?$"
)


@lru_cache(maxsize=1)
def controller_table() -> dict[str, dict[str, str]]:
    """Flux release -> each controller it ships -> that controller's image tag."""
    text = resources.files("fluxbump").joinpath("data", TABLE_NAME).read_text("utf-8")
    releases: dict[str, dict[str, str]] = json.loads(text)["releases"]
    return releases


def controller_tag(release: str, controller: str) -> str | None:
    """The image tag of ``controller`` in Flux ``release`` (None: unknown to the table)."""
    if not versions.is_pin(release):
        return None
    return controller_table().get(versions.normalize(release), {}).get(controller)


def newest_tabled() -> str:
    """The newest Flux release the controller table knows."""
    return max(controller_table(), key=versions.sort_key)


@lru_cache(maxsize=1)
def _controllers() -> frozenset[str]:
    return frozenset(name for shipped in controller_table().values() for name in shipped)


def deployed_tags(text: str) -> dict[str, str]:
    """Each Flux controller a Deployment of ``text`` runs, and its image tag."""
    known = _controllers()
    found = {}
    for document in _DOCUMENT.split(text):
        name = _NAME.search(document) if _DEPLOYMENT.search(document) else None
        tag = _IMAGE_TAG.search(document) if name is not None else None
        if name is not None and tag is not None and name["name"] in known:
            found[name["name"]] = tag["tag"]
    return found


def releases_of(tags: Mapping[str, str]) -> list[str]:
    """The Flux releases whose ``install.yaml`` runs every one of ``tags`` at its tag."""
    return [
        release
        for release, shipped in controller_table().items()
        if all(shipped.get(name) == tag for name, tag in tags.items())
    ]


def _held(tags: Mapping[str, str]) -> str:
    """``Flux 2.6.4's manifests`` (``Flux 2.8.3 or 2.8.4's``: the same tags), as tags tell."""
    releases = releases_of(tags)
    if not releases:
        return "manifests of no Flux release fluxbump knows"
    return f"Flux {' or '.join(releases)}'s manifests"


def _tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{name} {tag}" for name, tag in sorted(tags.items()))


def vendored_installs(kustomizations: Iterable[str], read: Read) -> list[PlacedWarning]:
    """A warning at each kustomization applying two or more files of one Flux controller's
    Deployment each: an install no pin names the release of."""
    warnings = []
    for rel in kustomizations:
        source = read(rel) if is_kustomization(rel) else None
        if source is None or b"controller" not in source.raw:
            continue
        line, files = _local_resources(source)
        tags: dict[str, str] = {}
        for path in files:
            resource = read(path)
            held = deployed_tags(resource.text) if resource is not None else {}
            tags.update(held if len(held) == 1 else {})
        if len(tags) < 2:
            continue
        folder = posixpath.dirname(rel) or "."
        warnings.append(
            PlacedWarning(
                rel,
                line,
                f"{folder}/ holds {_held(tags)}, one file per controller ({_tags_text(tags)}), "
                "with no '# Flux Version:' header or release label, which fluxbump does not "
                "read, check or move: replace them with the manifests of the release Flux "
                "moves to (each controller's release assets), or list them under exclude: in "
                ".fluxbump.yaml if they install no cluster of this repository",
            )
        )
    return warnings


def _local_resources(source: SourceFile) -> tuple[int, list[str]]:
    """The line of the kustomization's ``resources:`` and the repository files it lists."""
    folder = posixpath.dirname(source.rel)
    try:
        roots = blockyaml.compose_all(source.text, source.rel)
    except UsageError:  # unreadable: release_pins names it
        return 0, []
    for root in roots:
        node = yamldoc.child(root, "resources")
        entries = [yamldoc.text_of(entry) or "" for _, entry in yamldoc.items(node)]
        local = [e for e in entries if e.endswith((".yaml", ".yml")) and ":" not in e]
        files = [posixpath.normpath(posixpath.join(folder, e)) for e in local]
        files = [f for f in files if not f.startswith("../")]  # (outside the repository)
        if files:
            return yamldoc.line_of(node), files
    return 0, []


def stale_generated(
    moved: Iterable[tuple[PinSite, str]], templates: Iterable[str], read: Read
) -> list[PlacedWarning]:
    """A warning at each chart key a script reads the release from (``moved``: the site and
    the release it pins now) whose chart's templates run controllers of another release."""
    templates = list(templates)
    warnings = []
    for site, release in moved:
        script = reading_script(site)
        if script is None:
            continue
        chart = posixpath.join(posixpath.dirname(site.file), "templates", "")
        tags, folders = _generated_tags([t for t in templates if t.startswith(chart)], read)
        if not tags or _holds(tags, release):
            continue
        where = "/, ".join(sorted(folders)) + "/"
        warnings.append(
            PlacedWarning(
                site.file,
                site.line,
                f"{where} holds {_held(tags)} ({_tags_text(tags)}), which {script} generates "
                f"from this key, now {release}: re-run {script} to regenerate them",
            )
        )
    return warnings


def _generated_tags(files: Iterable[str], read: Read) -> tuple[dict[str, str], set[str]]:
    """The controllers' tags of ``files`` and the folders holding them."""
    tags: dict[str, str] = {}
    folders = set()
    for rel in files:
        source = read(rel)
        held = deployed_tags(source.text) if source is not None else {}
        tags.update(held)
        folders |= {posixpath.dirname(rel)} if held else set()
    return tags, folders


def _holds(tags: Mapping[str, str], release: str) -> bool:
    """Whether the controllers at ``tags`` may be those of ``release``: they are, or the
    release is none the table knows (a placeholder, a release newer than the table)."""
    shipped = (
        controller_table().get(versions.normalize(release)) if versions.is_pin(release) else None
    )
    return shipped is None or all(shipped.get(name) == tag for name, tag in tags.items())
