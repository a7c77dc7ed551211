"""Build the table of the controller releases each Flux release installs.

    python -m tools.build_flux_controller_table FLUX2_CLONE [--out PATH]

FLUX2_CLONE is a git clone of https://github.com/fluxcd/flux2 with its tags. At each release
tag ``vX.Y.Z``, ``manifests/bases/<controller>/kustomization.yaml`` names the controller's
release it builds the install from (``…/releases/download/v1.6.2/…``, before that
``…/archive/v0.5.2.zip//…`` or ``…?ref=v0.0.6``): that is the tag of the controller's image in
the release's ``install.yaml``. Pre-releases are left out. The output records the commit read.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tools.tables import by_release, git, write_table

RELEASE_TAG = re.compile(r"v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)")
RESOURCE = re.compile(r"(?:/download/|/archive/|\?ref=)(?P<tag>v[0-9]+\.[0-9]+\.[0-9]+)\b")
DEFAULT_OUT = Path("fluxbump/data/flux2-controllers.json")
REPOSITORY = "https://github.com/fluxcd/flux2"


def controllers_at(clone: Path, tag: str) -> dict[str, str]:
    """Each controller base of the release ``tag`` and the controller release it builds."""
    bases = git(clone, "ls-tree", "--name-only", f"{tag}:manifests/bases").split()
    found = {}
    for base in bases:
        try:
            text = git(clone, "show", f"{tag}:manifests/bases/{base}/kustomization.yaml")
        except subprocess.CalledProcessError:
            continue  # (a base that is no controller: rbac, policies)
        match = RESOURCE.search(text)
        if match is not None:
            found[base] = match.group("tag")
    return dict(sorted(found.items()))


def table(clone: Path) -> dict[str, dict[str, str]]:
    """Flux release -> controller -> its image tag, oldest release first."""
    tags = [t for t in git(clone, "tag", "--list", "v*").split() if RELEASE_TAG.fullmatch(t)]
    releases = by_release({tag[1:]: controllers_at(clone, tag) for tag in tags})
    return {release: controllers for release, controllers in releases.items() if controllers}


def main(argv: Sequence[str] | None = None) -> None:
    def build(clone: Path, commit: str) -> dict[str, object]:
        return {
            "source": f"{REPOSITORY}/tree/{commit}/manifests/bases",
            "note": "Flux release -> each controller's image tag "
            "(tools/build_flux_controller_table.py)",
            "releases": table(clone),
        }

    write_table(argv, __doc__.splitlines()[0], DEFAULT_OUT, build)


if __name__ == "__main__":
    main()
