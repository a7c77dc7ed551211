"""Flux controller images a kustomization overrides (``images:`` ``newTag``/``digest``).

Air-gapped and hardened platforms (DoD-Platform-One/big-bang's ``base/flux``) apply Flux's
manifests through a kustomization whose ``images:`` entries send each controller to a mirror
at a tag of their own. Those tags, not the manifests', are what runs: after a bump of the
manifests (a regenerated ``gotk-components.yaml``, a moved ``?ref=``) the controllers stay at
the old tags, under the new release's CRDs. A controller's tag is not a Flux release, so
fluxbump does not move it; a bump names each one it leaves (``overridden_controllers``). A
patch that sets a controller's image (a FluxInstance's ``spec.kustomize.patches``, a
kustomization's ``patches``) does the same; a bump names each one that is not the target's
controller (``patched_controllers``), and ``check`` each one that is not the installed
release's (``drifted_patches``).

A component vector lists the same images as data a generator reads (gardener-landscape-kit's
``componentvector/components.yaml``: ``ociImage: {repository: ghcr.io/fluxcd/helm-controller,
tag: v1.6.3}``; an OCM component descriptor's ``imageReference: …/helm-controller:v1.6.3``):
each tag is the controller of some Flux releases (``data/flux2-controllers.json``), a pin
(``find_controller_tags``, role ``Role.CONTROLLER_IMAGE``, its subject the controller) that
``check`` compares with the installed release's controller and ``to`` moves to the target's,
when the table knows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fluxbump import versions
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, PlacedWarning, Role, yaml_site
from fluxbump.scan.controllerfiles import controller_tag, releases_of
from fluxbump.scan.sites.fluxinstance import deploys_flux_instance
from fluxbump.scan.sites.kustomizeremote import is_kustomization
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

# Flux's controller images by name, from any registry or mirror path (``ghcr.io/fluxcd/…``,
# ``registry1.dso.mil/ironbank/fluxcd/…``, ``docker.io/fluxcd/…``).
_NAME = (
    r"(?P<name>(?:source|kustomize|helm|notification|image-reflector|image-automation)"
    r"-controller|source-watcher)"
)
_CONTROLLER = re.compile(rf"(?:^|/)fluxcd/{_NAME}$")
# The same image at a tag (and maybe a digest) in a patch's text (``value: "ghcr.io/fluxcd/
# source-controller:v1.9.2@sha256:…"`` of a JSON 6902 op, ``image:`` of a strategic merge).
_PATCHED_IMAGE = re.compile(
    rf"(?<![\w./-])(?:[\w.-]+(?::\d+)?/)*fluxcd/{_NAME}:(?P<tag>v?\d+\.\d+\.\d+[\w.+-]*)"
)
_OVERRIDES = ("newTag", "digest")
# The flux-instance chart's values that become its FluxInstance's ``spec.kustomize.patches``.
_IN_VALUES = ("instance", "kustomize", "patches")
# What a file holding such an image names (the cluster pass's byte test).
NEEDED = tuple(
    f"fluxcd/{name}".encode()
    for name in ("source-controller", "kustomize-controller", "helm-controller",
                 "notification-controller", "image-reflector-controller",
                 "image-automation-controller", "source-watcher")
)  # fmt: skip
# An OCM resource's image reference (``imageReference: ghcr.io/fluxcd/helm-controller:v1.6.3``).
_REFERENCE = re.compile(
    r"^[ \t]*imageReference:[ \t]*[\"']?(?P<image>(?:[\w.-]+(?::\d+)?/)*fluxcd/[\w-]+)"
    r":(?P<tag>v?\d+\.\d+\.\d+[\w.+-]*)[\"']?[ \t]*\r?$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class ControllerOverride:
    """One ``images:`` entry that pins a Flux controller's image."""

    file: str
    line: int
    controller: str
    value: str  # its newTag (or digest)


def controller_overrides(source: SourceFile) -> list[ControllerOverride]:
    """Each ``images:`` entry of a kustomization that sets a Flux controller's tag or digest."""
    if not is_kustomization(source.rel) or b"controller" not in source.raw:
        return []
    found = []
    for root in blockyaml.compose_all(source.text, source.rel):
        for _, entry in yamldoc.items(yamldoc.child(root, "images")):
            match = _CONTROLLER.search(yamldoc.text_of(yamldoc.child(entry, "name")) or "")
            if match is None:
                continue
            for key in _OVERRIDES:
                node = yamldoc.child(entry, key)
                value = yamldoc.text_of(node)
                if value:
                    line = yamldoc.line_of(node)
                    found.append(ControllerOverride(source.rel, line, match["name"], value))
    return found


def overridden_controllers(
    overrides: list[ControllerOverride], release: str
) -> list[PlacedWarning]:
    """A warning at each override a move of Flux to ``release`` leaves as written."""
    return [
        PlacedWarning(
            o.file,
            o.line,
            f"the kustomization runs {o.controller} at {o.value} whatever release the Flux "
            f"manifests it applies are of; fluxbump does not move it: set it to the "
            f"{o.controller} of Flux {release} (its install.yaml names each controller's tag)",
        )
        for o in overrides
    ]


def patched_controllers(source: SourceFile) -> list[ControllerOverride]:
    """Each Flux controller image at a tag that a patch sets: a FluxInstance's
    (``spec.kustomize.patches``, applied by flux-operator over the manifests of its
    ``distribution.version``; or the flux-instance chart's, ``_patches_of``) or a kustomization's (``patches``, over ``gotk-components.yaml``
    or a remote ``manifests/install``). The patched image is what runs, whatever release the
    manifests are of (devopscoop/fluxcd-template pins each controller by tag and digest so)."""
    if not may_hold_controller_tag(source.raw):
        return []
    found = []
    for root in blockyaml.compose_all(source.text, source.rel):
        for _, entry in yamldoc.items(_patches_of(source, root)):
            patch = yamldoc.child(entry, "patch")
            if not yamldoc.is_scalar(patch):  # (a ``path:`` names a file of its own)
                continue
            # The marks span the scalar's text in the file: each image's own line is named.
            for m in _PATCHED_IMAGE.finditer(
                source.text, patch.start_mark.index, patch.end_mark.index
            ):
                line = source.text.count("\n", 0, m.start()) + 1
                found.append(ControllerOverride(source.rel, line, m["name"], m["tag"]))
    return found


def _patches_of(source: SourceFile, root: Any) -> Any:
    """The patches node of one document: a FluxInstance's, a flux-instance HelmRelease's
    values' (``spec.values.instance.kustomize.patches``, which the chart writes into its
    FluxInstance), a kustomization's, or the flux-instance chart's values file's (a file of
    no kind read only as the file of a FluxInstance pin, ``image_files``); None else."""
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    if kind == "FluxInstance":
        return yamldoc.walk(root, ("spec", "kustomize", "patches"))
    if kind == "HelmRelease" and deploys_flux_instance(root):
        return yamldoc.walk(root, ("spec", "values", *_IN_VALUES))
    if is_kustomization(source.rel):
        return yamldoc.child(root, "patches")
    return yamldoc.walk(root, _IN_VALUES) if kind is None else None


def image_files(readable: Iterable[str], pins: Iterable[PinSite]) -> list[str]:
    """The files whose controller images ``controllers_of`` reads: the kustomizations among
    the readable release pin files, and the YAML files of the FluxInstance pins ``pins``
    (one a script or Terraform writes is no YAML of its file: not read)."""
    kustomizations = {rel for rel in readable if is_kustomization(rel)}
    instances = {
        s.file for s in pins if s.role is Role.INSTANCE and s.file.endswith((".yaml", ".yml"))
    }
    return sorted(kustomizations | instances)


Finder = Callable[[SourceFile], list["ControllerOverride"]]


def controllers_of(
    files: Iterable[str], read: Callable[[str], SourceFile | None], finders: Sequence[Finder]
) -> list[list[ControllerOverride]]:
    """What each of ``finders`` (``controller_overrides``, ``patched_controllers``) finds in
    ``files``, each file read once. A file ``read`` cannot give, or that is no YAML, gives
    none: release_pins names it, and it must never stop ``check`` or ``to``."""
    found: list[list[ControllerOverride]] = [[] for _ in finders]
    for rel in files:
        try:
            source = read(rel)
            for finder, into in zip(finders, found, strict=True):
                into += finder(source) if source is not None else []
        except UsageError:
            continue
    return found


def drifted_patches(patched: list[ControllerOverride], release: str | None) -> list[PlacedWarning]:
    """``check``: a warning at each patched image that is not the controller of the
    installed Flux ``release``, when that release is exact and the table knows its tag
    (the manifests the patch replaces are that release's; its image runs instead)."""
    warnings = []
    for p in patched:
        tag = controller_tag(release, p.controller) if release is not None else None
        if tag is None or versions.normalize(tag) == versions.normalize(p.value):
            continue
        warnings.append(
            PlacedWarning(
                p.file,
                p.line,
                f"a patch runs {p.controller} at {p.value}, but the repository installs Flux "
                f"{release}, whose {p.controller} is {tag}: set it to {tag}",
            )
        )
    return warnings


def patched_controller_warnings(
    patched: list[ControllerOverride], release: str
) -> list[PlacedWarning]:
    """A warning at each patched image that is not the controller Flux ``release`` ships."""
    warnings = []
    for p in patched:
        tag = controller_tag(release, p.controller)
        if tag is not None and versions.normalize(tag) == versions.normalize(p.value):
            continue
        wanted = (
            f"{tag}, the {p.controller} of Flux {release}"
            if tag is not None
            else f"the {p.controller} of Flux {release} (its install.yaml names each tag)"
        )
        warnings.append(
            PlacedWarning(
                p.file,
                p.line,
                f"a patch runs {p.controller} at {p.value} whatever release the Flux "
                f"manifests it patches are of; fluxbump does not move it: set it to {wanted}",
            )
        )
    return warnings


def may_hold_controller_tag(raw: bytes) -> bool:
    """The byte test of ``find_controller_tags``."""
    return any(needle in raw for needle in NEEDED)


def find_controller_tags(source: SourceFile) -> list[PinSite]:
    """The tag of each Flux controller image given as ``repository`` and ``tag`` (with no
    ``digest``, which would decide the image) or as an ``imageReference``."""
    sites = [
        source.text_site(
            Role.CONTROLLER_IMAGE, m.start("tag"), m["tag"], name, _owner(name, m["tag"])
        )
        for m in _REFERENCE.finditer(source.text)
        if (name := _controller_of(m["image"])) is not None
    ]
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        for path, node in yamldoc.mappings(root):
            name = _controller_of(yamldoc.text_of(yamldoc.child(node, "repository")) or "")
            if name is None or yamldoc.text_of(yamldoc.child(node, "digest")):
                continue
            tag = yamldoc.located(yamldoc.child(node, "tag"), index, (*path, "tag"))
            if tag is not None and tag.value:
                owner = _owner(name, tag.value)
                sites.append(
                    yaml_site(Role.CONTROLLER_IMAGE, source.rel, tag, subject=name, owner=owner)
                )
    return sorted(sites, key=lambda site: site.start)


def _controller_of(image: str) -> str | None:
    match = _CONTROLLER.search(image)
    return match["name"] if match is not None else None


def _owner(name: str, tag: str) -> str:
    """``helm-controller image of Flux 2.9.3 to 2.9.4``: the releases that ship it at ``tag``
    (what status shows in its role column)."""
    shipping = releases_of({name: tag})
    if not shipping:
        return f"{name} image of no Flux release fluxbump knows"
    span = shipping[0] if len(shipping) == 1 else f"{shipping[0]} to {shipping[-1]}"
    return f"{name} image of Flux {span}"
