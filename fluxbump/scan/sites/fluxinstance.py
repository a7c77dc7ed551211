"""flux-operator: the Flux release a ``FluxInstance`` asks the operator to install.

``FluxInstance`` (``fluxcd.controlplane.io/*``) ``spec.distribution.version``, and the same
value in a HelmRelease of the ``flux-instance`` chart (``spec.values.instance.distribution.
version``). The operator reads either as a semver range (``2.x``, ``2.4.x``) or an exact
release: a range is checked to admit the target and never rewritten. A flux-instance
HelmRelease that sets no version gets the chart's default, ``2.x`` (its values.yaml): the
newest Flux 2.x of the operator's distribution artifact, shown at the values that leave it
out; with ``valuesFrom`` the version may be set there, so it is shown so here, and followed to
the files kustomize generates those sources of by ``scan/valuesfrom.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sites import resourceset
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

_CHART = "flux-instance"
VALUES_PATH = ("spec", "values", "instance", "distribution", "version")
# flux-instance's values.yaml: ``instance.distribution.version: "2.x"``.
CHART_DEFAULT = "2.x"
VALUES_FROM = "valuesFrom"


def may_hold_instance(raw: bytes) -> bool:
    """The byte test run on every cluster file before any parse."""
    by_value = b"distribution" in raw and (b"FluxInstance" in raw or b"instance:" in raw)
    return by_value or b"flux-instance" in raw  # (a release of the chart's default)


def find_flux_instance(source: SourceFile) -> list[PinSite]:
    """Each FluxInstance's distribution version, and each flux-instance HelmRelease's."""
    sites = []
    for index, root, at in resourceset.objects(blockyaml.compose_all(source.text, source.rel)):
        sites += resourceset.placed(_object_pins(source, index, root), at)
    return sites


def _object_pins(source: SourceFile, index: int, root: Any) -> list[PinSite]:
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    if kind == "FluxInstance" and api.startswith(resourceset.API_GROUP):
        path: yamldoc.YamlPath = ("spec", "distribution", "version")
        owner = f"FluxInstance {object_name(root)}"
    elif kind == "HelmRelease" and _deploys_flux_instance(root):
        path, owner = VALUES_PATH, f"{object_name(root)} values"
    else:
        return []
    scalar = yamldoc.scalar_at(root, index, path)
    if scalar is not None and scalar.value:
        return [yaml_site(Role.INSTANCE, source.rel, scalar, subject="Flux", owner=owner)]
    if kind == "HelmRelease" and yamldoc.walk(root, path) is None:
        return [_chart_default(source, root, index, owner)]
    return []


def _chart_default(source: SourceFile, root: Any, index: int, owner: str) -> PinSite:
    """The version a flux-instance release that sets none installs, at the key of the
    deepest values it gives on the way to it (``distribution:``, ``instance:``, ``values:``),
    else at its chart's; never edited (a range, or unproven)."""
    key = None
    for depth in range(2, len(VALUES_PATH)):
        found = _key_node(yamldoc.walk(root, VALUES_PATH[: depth - 1]), VALUES_PATH[depth - 1])
        key = found or key
        if found is None:
            break
    key = key or _key_node(yamldoc.child(root, "spec"), "chartRef")
    key = key or _key_node(yamldoc.child(root, "spec"), "chart")
    given = yamldoc.child(yamldoc.child(root, "spec"), VALUES_FROM) is not None
    value, why = (VALUES_FROM, VALUES_FROM) if given else (CHART_DEFAULT, "chart default")
    scalar = yamldoc.located(key, index, VALUES_PATH)
    assert scalar is not None  # (a HelmRelease of the chart names it under spec)
    at = replace(scalar, value=value, end=scalar.start)  # nothing to splice: never moved
    return yaml_site(Role.INSTANCE, source.rel, at, subject="Flux", owner=f"{owner} ({why})")


def _key_node(mapping: Any, key: str) -> Any:
    """The key node of ``key`` in a mapping node (where its line is), or None."""
    if not yamldoc.is_mapping(mapping):
        return None
    return next((k for k, _ in mapping.value if yamldoc.text_of(k) == key), None)


def _deploys_flux_instance(root: Any) -> bool:
    """A HelmRelease of the chart by name, or by a ``chartRef`` to a source named after it
    (an OCIRepository of ``oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance``)."""
    chart = yamldoc.text_of(yamldoc.walk(root, ("spec", "chart", "spec", "chart"))) or ""
    ref = yamldoc.text_of(yamldoc.walk(root, ("spec", "chartRef", "name"))) or ""
    return chart.rsplit("/", 1)[-1] == _CHART or _CHART in ref


def object_name(root: Any) -> str:
    namespace = yamldoc.text_of(yamldoc.walk(root, ("metadata", "namespace")))
    name = yamldoc.text_of(yamldoc.walk(root, ("metadata", "name"))) or "?"
    return f"{namespace}/{name}" if namespace else name
