"""flux-operator: the Flux release a ``FluxInstance`` asks the operator to install.

``FluxInstance`` (``fluxcd.controlplane.io/*``) ``spec.distribution.version``, and the same
value in a HelmRelease of the ``flux-instance`` chart (``spec.values.instance.distribution.
version``). The operator reads either as a semver range (``2.x``, ``2.4.x``) or an exact
release: a range is checked to admit the target and never rewritten.
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import blockyaml, yamldoc

_API_GROUP = "fluxcd.controlplane.io/"
_CHART = "flux-instance"
_VALUES_PATH = ("spec", "values", "instance", "distribution", "version")


def may_hold_instance(raw: bytes) -> bool:
    """The byte test run on every cluster file before any parse."""
    return b"distribution" in raw and (b"FluxInstance" in raw or b"instance:" in raw)


def find_flux_instance(source: SourceFile) -> list[PinSite]:
    """Each FluxInstance's distribution version, and each flux-instance HelmRelease's."""
    sites = []
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        kind = yamldoc.text_of(yamldoc.child(root, "kind"))
        api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
        if kind == "FluxInstance" and api.startswith(_API_GROUP):
            path: yamldoc.YamlPath = ("spec", "distribution", "version")
            owner = f"FluxInstance {object_name(root)}"
        elif kind == "HelmRelease" and _deploys_flux_instance(root):
            path, owner = _VALUES_PATH, f"{object_name(root)} values"
        else:
            continue
        scalar = yamldoc.scalar_at(root, index, path)
        if scalar is not None and scalar.value:
            sites.append(yaml_site(Role.INSTANCE, source.rel, scalar, subject="Flux", owner=owner))
    return sites


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
