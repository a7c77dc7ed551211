"""The ``fluxbump`` command and ``python -m fluxbump``.

``fluxbump --version`` is answered here, before the CLI loads: Typer and click cost about
90 ms of imports, most of a run that prints one line (a CI step, a pre-commit hook and a
Renovate post-upgrade task each ask for it). Every other command goes to ``fluxbump.cli``.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        from fluxbump.output import print_version

        print_version()
        return
    from fluxbump.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
