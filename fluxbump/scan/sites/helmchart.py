"""A ``HelmChart`` object: a chart at a version, installed by what reads it.

Two APIs name this kind with the same fields, ``spec.chart`` and ``spec.version``:

* k3s and RKE2's ``helm.cattle.io/v1`` HelmChart, whose helm-controller installs the chart at
  boot (a manifest in the server's ``manifests/`` directory, often written by cloud-init or
  Ansible): a bootstrap of flux2 there must be the chart the cluster's HelmRelease deploys;
* Flux's own ``source.toolkit.fluxcd.io`` HelmChart, which a HelmRelease's ``chartRef``
  may name instead of a chart template: its version is then the release's.

``spec.chart`` names the chart (``flux2``, ``repo/flux2``, ``oci://…/flux2``); with no
``version`` (or a null one) the newest chart is installed: an unpinned site
(``pins.unpinned``), a problem. A chart given as a ``.tgz`` URL is not read.
"""

from __future__ import annotations

from typing import Any

from fluxbump.pins import NO_VERSION, NULL_VERSION, PinSite, Role, yaml_site
from fluxbump.scan.sources import SourceFile
from fluxbump.yamlio import yamldoc

_APIS = ("helm.cattle.io/", "source.toolkit.fluxcd.io/")
_VERSION: yamldoc.YamlPath = ("spec", "version")


def holds_chart(root: Any, kind: str | None) -> bool:
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    return kind == "HelmChart" and api.startswith(_APIS)


def chart_pin(
    source: SourceFile, index: int, root: Any, charts: frozenset[str], owner: str
) -> PinSite | None:
    """The object's pin of one of ``charts``; an unpinned site when it has no version."""
    named = (yamldoc.text_of(yamldoc.walk(root, ("spec", "chart"))) or "").strip().rstrip("/")
    chart = named.rsplit("/", 1)[-1]
    if chart not in charts:
        return None
    node = yamldoc.walk(root, _VERSION)
    scalar = yamldoc.located(node, index, _VERSION)
    if scalar is not None and scalar.value and not yamldoc.is_null(node):
        return yaml_site(Role.HELMCHART, source.rel, scalar, subject=chart, owner=owner)
    value = NULL_VERSION if node is not None and yamldoc.is_null(node) else NO_VERSION
    at = node if node is not None else yamldoc.walk(root, ("spec", "chart"))
    mark = at.start_mark
    return PinSite(Role.HELMCHART, source.rel, mark.line + 1, mark.column + 1, value, chart,
                   owner, mark.index, mark.index, index, _VERSION)  # fmt: skip
