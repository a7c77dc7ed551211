"""Components: an upstream chart wrapped by a wrapper chart, with its release<->chart mapping.

Flux is the first component. Its names live here (and in the default configuration
template), nowhere else: the propagation up the chart graph is generic.
"""

from __future__ import annotations

from dataclasses import dataclass

from fluxbump.index import DEFAULT_HELM_REPO


@dataclass(frozen=True)
class Component:
    """One upstream chart dependency of one wrapper chart.

    ``release_via_app_version``: the release a user names (``fluxbump to 2.4.0``) maps to
    the chart whose ``appVersion`` is that release (Flux); otherwise release == chart version.
    """

    name: str
    wrapper: str
    upstream: str
    helm_repo: str
    release_via_app_version: bool
    # Text-template install pin: a regex whose group "version" is the pinned release.
    install_pattern: str | None


FLUX_INSTALL_URL = (
    r"https://github\.com/fluxcd/flux2/releases/download/"
    r"(?P<version>v[0-9][0-9A-Za-z.+-]*)/install\.yaml"
)

FLUX = Component(
    name="flux",
    wrapper="bp-flux",
    upstream="flux2",
    helm_repo=DEFAULT_HELM_REPO,
    release_via_app_version=True,
    install_pattern=FLUX_INSTALL_URL,
)
