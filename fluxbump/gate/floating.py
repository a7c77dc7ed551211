"""Release pins that name no release: ``latest`` or a branch, which move on their own.

The Flux action's default (``latest``), a kustomize remote at ``ref=main`` and a script's
``kubectl apply -f …/releases/latest/download/install.yaml`` install whichever release is
newest when they run. fluxbump shows them unproven and never moves them; ``check`` and
``to`` (a dry run too) name each, so a repository that means to pin Flux sees where it does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fluxbump.pins import PinSite

# A name, not a version or a variable: ``latest``, ``main``, ``release/v2.4.x``. A ``v``
# and a digit open a version; ``$``/``{``/``<`` a value set elsewhere (said apart).
_FLOATING = re.compile(r"(?!v?\d)[A-Za-z][\w./-]*")
# A fleet of ``ref=main`` remotes: the first few are named, the rest counted.
_NAMED = 10


def floats(site: PinSite) -> bool:
    """Whether ``site`` names a branch or ``latest`` rather than a release."""
    return _FLOATING.fullmatch(site.value) is not None


def floating_warnings(pins: Iterable[PinSite]) -> list[str]:
    """A warning naming each pin that floats (the first ``_NAMED``, then a count)."""
    floating = [site for site in pins if floats(site)]
    named = [
        f"{site.where}: {site.role} {site.value} names no Flux release: fluxbump neither checks "
        "nor moves it; write the release there to have it checked"
        for site in floating[:_NAMED]
    ]
    if len(floating) > _NAMED:
        named.append(f"and {len(floating) - _NAMED} more naming no release ('fluxbump status': ??)")
    return named
