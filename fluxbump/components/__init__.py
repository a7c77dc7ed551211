"""Components: one upstream chart dependency of one wrapper chart, with its release rules.

Flux is the component whose release maps to a chart through ``appVersion`` and whose
cloud-init install is a release URL (``components/flux.py``). Every other wrapper is found
from the chart graph; its release is its chart version and its install pin, if any, is a
``helm install … --version X`` (``components/chart.py``). What differs between the two kinds
lives in their ``ReleaseRules``; everything else (propagation up the chart graph, the plan,
the write) is generic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fluxbump.components.chart import CHART_RULES
from fluxbump.components.flux import FLUX_RULES
from fluxbump.components.operator import OPERATOR_RULES
from fluxbump.components.rules import ReleaseRules
from fluxbump.remote.index import DEFAULT_HELM_REPO


@dataclass(frozen=True)
class Component:
    """One upstream chart dependency of one wrapper chart.

    ``release_via_app_version``: the release a user names (``fluxbump to 2.4.0``) maps to
    the chart whose ``appVersion`` is that release (Flux); otherwise release == chart version.
    ``install_pattern``: a regex whose group "version" is the cloud-init install pin (Flux's
    URL); None means the install pin, if any, is ``helm install … <repo>/<upstream> --version``.
    """

    name: str
    wrapper: str
    upstream: str
    helm_repo: str
    release_via_app_version: bool
    install_pattern: str | None
    install_required: bool = False  # Flux: a cluster cannot bootstrap without the install pin
    # flux-operator's charts: no wrapper chart; every pin of the chart is found by content
    # (``scan/sites/operator.py``) and ``helm_repo`` is the OCI repository publishing it.
    operator: bool = False
    # Flux with no chart at all: pinned only outside charts (a FluxInstance, ``flux bootstrap``
    # manifests, Terraform, CI and CLI pins); ``to`` moves those pins and nothing else.
    outside_charts: bool = False
    # ``install_pattern`` with the release a template variable (``v${flux_version}``): a regex
    # whose groups "prefix" and "name" are followed to ``templatefile()`` calls
    # (``scan/sites/templatefile.py``).
    install_variable: str | None = None

    @property
    def is_flux(self) -> bool:
        return self.release_via_app_version

    @property
    def direct(self) -> bool:
        """No wrapper chart: HelmReleases deploy the upstream chart itself, and their
        versions are its pins (a Flux layout without a ``bp-flux``). An operator chart has no
        wrapper either, but its pins are found apart (``scan/sites/operator.py``)."""
        return not self.wrapper and not self.operator

    @property
    def rules(self) -> ReleaseRules:
        """How this kind of component resolves, verifies and guards its release."""
        if self.operator:
            return OPERATOR_RULES
        return FLUX_RULES if self.release_via_app_version else CHART_RULES

    @property
    def charts(self) -> str:
        """What moves: ``wrapper -> upstream``, ``HelmRelease -> upstream`` without a wrapper,
        an operator chart's OCI repository, or Flux's pins outside charts."""
        if self.operator:
            return f"{self.helm_repo}/{self.upstream}"
        if self.outside_charts:
            return "release pins outside charts"
        return f"{self.wrapper or 'HelmRelease'} -> {self.upstream}"

    def describe(self) -> str:
        return f"{self.name} ({self.charts})"


# The release a cloud-init line installs: the release's install.yaml asset, or Flux's
# kustomization at a ref (``kubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=vX``,
# kustomize's remote URL, ``//`` before the directory and other parameters allowed).
FLUX_INSTALL_URL = (
    r"(?:https://github\.com/fluxcd/flux2/releases/download/"
    r"(?=v[0-9][0-9A-Za-z.+-]*/install\.yaml)"
    r"|(?<![\w.-])(?:https://)?github\.com/fluxcd/flux2/{1,2}manifests/install/?"
    r"\?(?:[^\s#'\"&]*&)*ref=)"
    r"(?P<version>v[0-9][0-9A-Za-z.+-]*)"
)
# The same URLs with the release a Terraform template variable: ``v${NAME}`` (the prefix in
# the URL) or ``${NAME}`` standing for the whole ``vX.Y.Z`` (``${ NAME }`` and the ``~`` strip
# markers are Terraform's template syntax too).
FLUX_INSTALL_VARIABLE = (
    r"(?:https://github\.com/fluxcd/flux2/releases/download/"
    r"(?=v?\$\{[^}\n]*\}/install\.yaml)"
    r"|(?<![\w.-])(?:https://)?github\.com/fluxcd/flux2/{1,2}manifests/install/?"
    r"\?(?:[^\s#'\"&]*&)*ref=)"
    r"(?P<prefix>v?)\$\{~?[ \t]*(?P<name>[A-Za-z_][A-Za-z0-9_-]*)[ \t]*~?\}"
    r"(?=/install\.yaml|[\s&#'\"]|\Z)"
)
# Bytes one of those URLs holds: a file without either is not searched.
_INSTALL_NEEDLES = (b"releases/download", b"manifests/install")


def may_install(raw: bytes) -> bool:
    """Whether a file may hold a ``FLUX_INSTALL_URL`` (a cheap test before the regex)."""
    return any(needle in raw for needle in _INSTALL_NEEDLES)


FLUX = Component(
    name="flux",
    wrapper="bp-flux",
    upstream="flux2",
    helm_repo=DEFAULT_HELM_REPO,
    release_via_app_version=True,
    install_pattern=FLUX_INSTALL_URL,
    install_required=True,
    install_variable=FLUX_INSTALL_VARIABLE,
)

WRAPPER_PREFIX = "bp-"
OPERATOR_REPOSITORY = "oci://ghcr.io/controlplaneio-fluxcd/charts"


def operator_chart(chart: str, repository: str | None) -> Component:
    """A flux-operator chart (``flux-operator``, ``flux-instance``) as a component of its own,
    named after the chart; ``repository``: where the repository's pins fetch it from."""
    return Component(
        chart, "", chart, repository or OPERATOR_REPOSITORY, False, None, operator=True
    )


def generic(wrapper: str, upstream: str, repository: str, *, only: bool) -> Component:
    """A wrapper's upstream dependency as a component.

    Named after the wrapper without its ``bp-`` prefix when it wraps one upstream chart
    (``bp-cilium`` -> ``cilium``), after the upstream chart when it wraps several.
    """
    name = wrapper.removeprefix(WRAPPER_PREFIX) if only else upstream
    return Component(name, wrapper, upstream, repository, False, None)


def is_external(repository: str) -> bool:
    """A dependency fetched from a chart repository: not a ``file://`` path in this repo, and
    not one with no ``repository`` at all, which Helm's resolver takes from the chart's own
    ``charts/`` directory (a "local chart subfolder": the chart's files, never an upstream
    a bump could fetch; a repository alias such as ``@stable`` is a repository)."""
    return bool(repository) and not repository.startswith("file://")


def unique_names(components: Sequence[Component]) -> list[Component]:
    """Two components with one name are told apart as ``wrapper/upstream``; Flux keeps its
    name (branches and ``--component flux`` use it)."""
    from dataclasses import replace

    counts: dict[str, int] = {}
    for component in components:
        counts[component.name] = counts.get(component.name, 0) + 1
    return [
        replace(c, name=f"{c.wrapper}/{c.upstream}") if counts[c.name] > 1 and not c.is_flux else c
        for c in components
    ]


def select(components: Sequence[Component], names: Sequence[str]) -> list[Component]:
    """The components ``--component`` names, in discovery order; unknown names exit 2."""
    from fluxbump.errors import UsageError

    if not names:
        return list(components)
    known: Mapping[str, Component] = {c.name: c for c in components}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known) or "none"
        raise UsageError(
            f"--component {unknown[0]}: no such component (found: {listed}); "
            "see 'fluxbump status' or add it under 'components' in .fluxbump.yaml"
        )
    return [c for c in components if c.name in names]
