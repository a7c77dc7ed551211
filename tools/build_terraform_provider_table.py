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

import argparse
import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

SECTION = re.compile(r"^## (?P<version>[0-9]+\.[0-9]+\.[0-9]+)[ \t]*$", re.MULTILINE)
INCLUDES = re.compile(r"includes flux2 \[v(?P<flux>[0-9]+\.[0-9]+\.[0-9]+)\]")
GO_MOD = re.compile(
    r"^\s*github\.com/fluxcd/flux2(?:/v2)? v(?P<flux>[0-9]+\.[0-9]+\.[0-9]+)\s*$", re.M
)
DEFAULT_OUT = Path("fluxbump/data/terraform-provider-flux.json")
REPOSITORY = "https://github.com/fluxcd/terraform-provider-flux"


def git(clone: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True)
    return done.stdout


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
    return dict(sorted(table.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    commit = git(args.clone, "rev-parse", "HEAD").strip()
    data = {
        "source": f"{REPOSITORY}/blob/{commit}/CHANGELOG.md",
        "note": "provider release -> the flux2 release it bundles (tools/build_terraform_provider_table.py)",
        "bundles": bundled(args.clone, commit),
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
