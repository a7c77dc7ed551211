"""The ``fluxbump`` command and ``python -m fluxbump``.

``fluxbump --version`` is answered here, before the CLI loads: Typer and click cost about
90 ms of imports, most of a run that prints one line (a CI step, a pre-commit hook and a
Renovate post-upgrade task each ask for it). So is a warm ``status``/``check --offline`` of a
repository whose state (and everything else its output depends on) matches a kept verdict
(``fluxbump.verdict``): it prints that output again without loading the CLI, the YAML parser
or the schemas. Every other command goes to ``fluxbump.cli``; a ``status``/``check`` run
there is recorded so the next one can be answered here.
"""

from __future__ import annotations

import sys

# A cold scan allocates millions of short-lived containers (a YAML node tree per candidate
# document) that reference counting frees; the cyclic collector's default (a young collection
# every 700 allocations) spent about 10% of a cold `check`'s CPU, and 14% of a `to`'s, at 1,000
# clusters re-examining them. Collecting every 50,000 keeps what only it frees (an exception's
# traceback cycle) collected, less often; the peak RSS measured the same.
GC_YOUNG_THRESHOLD = 50_000


def main() -> None:
    """Console-script entry point."""
    from fluxbump.pipes import EXIT_STDOUT_CLOSED, StdoutClosed, drop_stdout, flush_stdout

    try:
        _main(sys.argv[1:])
    except StdoutClosed:  # ``--version`` (the CLI's commands handle their own)
        drop_stdout()
        raise SystemExit(EXIT_STDOUT_CLOSED) from None
    finally:
        flush_stdout()  # now, not at exit: a reader gone (``| head``) is a quiet exit 141


def _main(argv: list[str]) -> None:
    if argv == ["--version"]:
        from fluxbump.output import print_version

        print_version()
        return
    recording = None
    if argv[:1] in (["status"], ["check"]):
        from fluxbump.verdict import answer

        recording = answer(argv)  # exits with the kept verdict, when there is one
    _collect_less_often()
    from fluxbump.cli import main as cli_main

    if recording is None:
        cli_main()
        return
    with recording:
        cli_main()


def _collect_less_often() -> None:
    import gc

    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


if __name__ == "__main__":
    main()
