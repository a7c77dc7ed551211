"""Build the table of the Flux release each ``fluxcd/flux`` Terraform provider release bundles.

    python -m tools.build_terraform_provider_table PROVIDER_CLONE [--out PATH]

PROVIDER_CLONE is a git clone of https://github.com/fluxcd/terraform-provider-flux. Its
``CHANGELOG.md`` says, under each ``## X.Y.Z`` heading, "This release includes flux2
[vA.B.C]"; a release whose section does not say it (1.0.0, 1.7.1) takes the
``github.com/fluxcd/flux2`` requirement of ``go.mod`` at its tag ``vX.Y.Z``. Pre-releases are
left out (a Terraform constraint admits them only by naming them). The output records the
commit read, so the table can be refreshed and compared.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tools.tables import by_release, git, write_table

SECTION = re.compile(r"^## (?P<version>[0-9]+\.[0-9]+\.[0-9]+)[ \t]*$", re.MULTILINE)
INCLUDES = re.compile(r"includes flux2 \[v(?P<flux>[0-9]+\.[0-9]+\.[0-9]+)\]")
GO_MOD = re.compile(
    r"^\s*github\.com/fluxcd/flux2(?:/v2)? v(?P<flux>[0-9]+\.[0-9]+\.[0-9]+)\s*$", re.M
)
DEFAULT_OUT = Path("fluxbump/data/terraform-provider-flux.json")
REPOSITORY = "https://github.com/fluxcd/terraform-provider-flux"


def bundled(clone: Path, commit: str) -> dict[str, str]:
    """Provider release -> the flux2 release it bundles, oldest first."""
    changelog = git(clone, "show", f"{commit}:CHANGELOG.md")
    heads = list(SECTION.finditer(changelog))
    table: dict[str, str] = {}
    for head, after in zip(heads, [*heads[1:], None], strict=True):
        body = changelog[head.end() : after.start() if after else len(changelog)]
        match = INCLUDES.search(body)
        if match is None:
            match = GO_MOD.search(git(clone, "show", f"v{head.group('version')}:go.mod"))
        if match is not None:
            table[head.group("version")] = match.group("flux")
    return by_release(table)


def main(argv: Sequence[str] | None = None) -> None:
    def build(clone: Path, commit: str) -> dict[str, object]:
        return {
            "source": f"{REPOSITORY}/blob/{commit}/CHANGELOG.md",
            "note": "provider release -> the flux2 release it bundles "
            "(tools/build_terraform_provider_table.py)",
            "bundles": bundled(clone, commit),
        }

    write_table(argv, __doc__.splitlines()[0], DEFAULT_OUT, build)


if __name__ == "__main__":
    main()
