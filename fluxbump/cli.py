"""Typer CLI: parse options, call one core function, print, map errors to exit codes.

Heavy modules (httpx, git, ruamel) are imported inside the commands that need them so
``fluxbump --version`` stays fast.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from fluxbump.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, FluxbumpError
from fluxbump.output import (
    emit_json,
    err,
    error,
    out,
    out_records,
    paint,
    print_version,
    warn,
)
from fluxbump.pipes import EXIT_STDOUT_CLOSED, StdoutClosed, drop_stdout
from fluxbump.worktree import repo_root

if TYPE_CHECKING:
    from fluxbump.commands.bump import BumpResult
    from fluxbump.commands.check import CheckResult

ENVIRONMENT = (
    ("FLUXBUMP_HELM_REPO", "Helm repo of the chart (as --helm-repo; over .fluxbump.yaml's)"),
    ("FLUXBUMP_CACHE_DIR", "where the index cache lives [default: the user cache directory]"),
    ("FLUXBUMP_FLUX_RELEASES", "flux CLI release download base (as --flux-releases)"),
    ("FLUXBUMP_HTTP_TIMEOUT", "seconds per HTTP connect/read [default: 15]"),
    ("FLUXBUMP_STATE_DIR", "journal and lock outside git [default: the user state directory]"),
    ("FLUXBUMP_HTTP_DEADLINE", "total seconds per download, retries included [default: 120]"),
    ("FLUXBUMP_OCI_PLAIN_HTTP", "comma-separated OCI registry hosts spoken to over plain HTTP"),
    ("FLUXBUMP_FORGE", "github or gitea, when the remote's host does not say (--open-pr)"),
    ("FLUXBUMP_FORGE_API", "the forge's API base URL, when not the usual place (--open-pr)"),
    ("GITHUB_TOKEN, GITEA_TOKEN", "the forge token for --open-pr (never printed)"),
    ("FLUXBUMP_NO_FORK", "set: scan in one process (no forked helper)"),
    ("FLUXBUMP_NO_CACHE", "set: status and check read every file, no kept output (as --no-cache)"),
    ("NO_COLOR", "set: no colour"),
    ("FLUXBUMP_PROGRESS_AFTER", "seconds a phase runs before a terminal shows it [1]; for tests"),
    ("FLUXBUMP_DEBUG", "1: print the traceback of an unexpected error (as --debug)"),
)


class _Commands(TyperGroup):
    """Typer's group, with one addition: a command line Click refuses (a missing argument,
    an unknown option or command) still prints one JSON document when it asked for --json,
    so a script that parses stdout gets one on every failure."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        self._wants_json = "--json" in args
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as exc:  # Click's usage errors
            self._report(exc)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            self._report(exc)
            raise

    def _report(self, exc: typer.TyperException) -> None:
        if getattr(self, "_wants_json", False):
            emit_json({"ok": False, "error": exc.format_message(), "exit_code": exc.exit_code})


app = typer.Typer(
    cls=_Commands,
    name="fluxbump",
    help="Move a GitOps monorepo to a new Flux CD release in one safe, atomic step.\n\n"
    "Exit codes: 0 success, 1 gate violation, 2 usage/config/input error, "
    "3 resolution/network error, 4 unsafe transition refused, "
    f"{EXIT_INTERNAL} unexpected error (rerun with --debug for the traceback).\n\n"
    "\b\nEnvironment:\n"
    + "\n".join(f"  {name}: {what}" for name, what in ENVIRONMENT)
    + "\n\nExample: fluxbump status; fluxbump to latest --dry-run; "
    "fluxbump completion bash > ~/.local/share/bash-completion/completions/fluxbump",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")
P = ParamSpec("P")

BaseOption = Annotated[
    str | None,
    typer.Option(
        "--base",
        metavar="REV",
        help="Base revision: wrapper versions are bumped once from it, and sync finds the "
        "pins moved since it [default: HEAD].",
        show_default=False,
    ),
]
HelmRepoOption = Annotated[
    str | None,
    typer.Option(
        "--helm-repo",
        metavar="URL",
        help="Helm repo base URL, an index.yaml URL, a file:// URL or a local path. Read "
        "first of: --helm-repo, else $FLUXBUMP_HELM_REPO, else helm_repo in .fluxbump.yaml "
        "(resolve: with --safe), else https://fluxcd-community.github.io/helm-charts.",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Use the cached index, else the bundled snapshot; no network."),
]
FluxCliOption = Annotated[
    list[str] | None,
    typer.Option(
        "--flux-cli",
        metavar="PATH",
        help="A flux CLI (repeatable, one per release): the target's regenerates flux bootstrap "
        "gotk-components.yaml, the current release's proves it unedited [default: flux on PATH "
        "when it is that release, else downloaded].",
        show_default=False,
    ),
]
FluxReleasesOption = Annotated[
    str | None,
    typer.Option(
        "--flux-releases",
        metavar="URL",
        help="Release download base of the flux CLI (URL/vX.Y.Z/flux_X.Y.Z_OS_ARCH.tar.gz and "
        "its checksums) [env FLUXBUMP_FLUX_RELEASES; default "
        "https://github.com/fluxcd/flux2/releases/download].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Read every file: ignore the warm-run caches in the git directory (what each file "
        "held, the output of an --offline run; both are kept).",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No warnings on stderr (errors still show).")
]
ForceCrdsOption = Annotated[
    bool,
    typer.Option(
        "--force-unsafe-crds",
        help="Proceed although the target's CRDs stop serving an API version in use (dangerous).",
    ),
]
CrdsMigratedOption = Annotated[
    bool,
    typer.Option(
        "--crds-migrated",
        help="Record that `flux migrate` was run on every cluster deploying Flux, so the "
        "API versions the target drops are no longer stored; the CRD guard then proceeds.",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan and a unified diff; write nothing.")
]
RepoOption = Annotated[
    str | None,
    typer.Option(
        "--repo",
        help="Repository root.",
        show_default="the git work tree holding the current directory, else it",
        metavar="DIR",
    ),
]
ComponentsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--component",
        help="Only this component (repeatable); 'fluxbump status' lists them [default: all].",
        show_default=False,
        metavar="NAME",
    ),
]


def _one_component(names: list[str] | None) -> str | None:
    """``to``'s ``--component``: a version is one chart's, so a second one is refused (as a
    plain option the last would win, silently leaving the first unmoved)."""
    from fluxbump.errors import UsageError

    if names and len(set(names)) > 1:
        raise UsageError(
            f"--component given {len(names)} times ({', '.join(names)}): 'to' moves one "
            "component to one chart version; run it once per component"
        )
    return names[0] if names else None


def _run(action: Callable[[], T], *, as_json: bool = False, quiet: bool = False) -> T:
    """Run a core call; expected failures become one line on stderr and their exit code.

    With ``--json`` the failure is also one JSON document on stdout, so a script that parses
    stdout (the scheduled job) always gets one. On a terminal, without ``--json`` or
    ``--quiet``, a phase that runs over a second shows its progress on stderr meanwhile.
    """
    from fluxbump.progress import on_terminal
    from fluxbump.scan.sources import walk_warnings
    from fluxbump.yamlio.yamldoc import reading_warnings

    reading_warnings()  # this command's own, not what an earlier call in this process read
    walk_warnings()
    try:
        with on_terminal(not as_json and not quiet):
            result = action()
    except FluxbumpError as exc:
        _warn_reading_notes()
        _fail(exc.message, exc.exit_code, as_json)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED, as_json)
    _warn_reading_notes()
    return result


def _warn_reading_notes() -> None:
    """A key twice in one mapping was read as Helm reads it (last wins), cloud-init content
    was not read, a symlink out of the repository was not followed, a directory could not be
    listed: say where, once."""
    from fluxbump.scan.sources import walk_warnings
    from fluxbump.yamlio.yamldoc import reading_warnings

    for message in [*walk_warnings(), *reading_warnings()]:
        warn(message)


def _fail(message: str, code: int, as_json: bool) -> NoReturn:
    error(message)
    if as_json:
        try:
            emit_json({"ok": False, "error": message, "exit_code": code})
            sys.stdout.flush()
        except OSError:  # stdout itself failed: the line on stderr is all that can be said
            drop_stdout()
    raise typer.Exit(code)


# Set by the callback on every run (--debug, FLUXBUMP_DEBUG=1): an unexpected error's traceback.
_DEBUG = {"traceback": False}


def command(name: str | None = None) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """``app.command``, with every unexpected exception turned into one line (``_guarded``)."""

    def register(function: Callable[P, None]) -> Callable[P, None]:
        app.command(name)(_guarded(function))
        return function

    return register


def _guarded(function: Callable[P, None]) -> Callable[P, None]:
    """No traceback, ever: an exception no core call expected (a bug, MemoryError, a full
    disk while printing) is one line on stderr, exit 70, and with --json one JSON document;
    ``--debug`` adds the traceback. Exit 1 stays the gate's alone."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        as_json = kwargs.get("as_json") is True or kwargs.get("output_format") == "json"
        try:
            function(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # Typer's own exits and usage errors
        except FluxbumpError as exc:  # an expected failure raised outside ``_run``
            _fail(exc.message, exc.exit_code, as_json)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED, as_json)
        except StdoutClosed:  # ``| head``: nobody reads on; a written bump stays complete
            drop_stdout()
            raise typer.Exit(EXIT_STDOUT_CLOSED) from None
        except Exception as exc:  # MemoryError, RecursionError and OSError included
            _crash(exc, as_json)

    return run


def _crash(exc: BaseException, as_json: bool) -> NoReturn:
    if _DEBUG["traceback"]:
        import traceback

        err("".join(traceback.format_exception(exc)).rstrip("\n"))
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    # What the run did before it failed (``add_note``: the files a recovery restored).
    notes = [str(note).strip().splitlines() for note in getattr(exc, "__notes__", ())]
    said = "".join(f"; {lines[0]}" for lines in notes if lines)
    hint = "" if _DEBUG["traceback"] else "; rerun with --debug for the traceback"
    _fail(f"unexpected error ({detail}){said}{hint}", EXIT_INTERNAL, as_json)


def _version_callback(value: bool) -> None:
    if value:
        print_version()
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="FLUXBUMP_DEBUG",
            show_envvar=False,
            help=f"On an unexpected error (exit {EXIT_INTERNAL}), print its traceback too.",
        ),
    ] = False,
) -> None:
    """Move a GitOps monorepo to a new Flux CD release in one safe, atomic step."""
    _DEBUG["traceback"] = debug
    # ruamel warns on stderr about the user's YAML it reads anyway (an anchor defined twice,
    # which YAML 1.2 allows), naming its own source file: noise no user can act on.
    warnings.filterwarnings("ignore", module=r"ruamel\.yaml")


@command()
def resolve(
    release: Annotated[
        str, typer.Argument(help="Flux release (2.4.0, v2.4.0) or 'latest'.", metavar="VERSION")
    ],
    pre: Annotated[bool, typer.Option("--pre", help="Admit pre-releases for 'latest'.")] = False,
    safe: Annotated[
        bool,
        typer.Option(
            "--safe",
            help="With 'latest': the newest release the repository (--repo) can move to without "
            "dropping a CRD API version its clusters stored; newer ones are listed as blocked.",
        ),
    ] = False,
    repo: RepoOption = None,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print the Flux release and the flux2 chart version it maps to.

    Example: fluxbump resolve latest --json
    """
    from fluxbump.commands.resolve import run_resolve

    result = _run(
        lambda: run_resolve(
            release, pre=pre, helm_repo=helm_repo, offline=offline,
            safe_for=repo_root(repo) if safe else None,
        ),
        as_json=as_json,
    )  # fmt: skip
    for message in result.warnings:
        warn(message)
    if as_json:
        emit_json({"ok": True, **result.as_json()})
    else:
        out_records(result.as_lines())


def _warn_once(warnings: tuple[str, ...], *, quiet: bool) -> None:
    """Each warning once, in order; none with --quiet (a script or a hook reads the exit code)."""
    if not quiet:
        for message in dict.fromkeys(warnings):
            warn(message)


def _check_result(
    repo: str | None,
    names: tuple[str, ...],
    helm_repo: str | None,
    *,
    offline: bool,
    warm: bool,
    as_json: bool,
    quiet: bool,
) -> CheckResult:
    """What ``status`` and ``check`` report (``warm``: unless --no-cache)."""
    from fluxbump.commands.check import run_check

    return _run(
        lambda: run_check(
            repo_root(repo), helm_repo=helm_repo, offline=offline, components=names, warm=warm
        ),
        as_json=as_json,
        quiet=quiet,
    )


@command()
def status(
    repo: RepoOption = None,
    component: ComponentsOption = None,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
    no_cache: NoCacheOption = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Every pin-site, also when there are many components."
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Every component and pin-site found: role, file:line, value, expected value, ok.

    With more than three components (and no --component), one line per component. With
    --json, "ok" is true when every pin agrees. A pin 'keep' in .fluxbump.yaml names is
    listed as kept, with its reason ("kept" in --json). Example: fluxbump status --repo ~/gitops
    """
    from fluxbump.commands.check import format_status

    names = tuple(component or ())
    result = _check_result(repo, names, helm_repo, offline=offline, warm=not no_cache,
                           as_json=as_json, quiet=quiet)  # fmt: skip
    _warn_once(result.warnings, quiet=quiet)
    if as_json:
        emit_json(result.as_json())
    else:
        out_records(format_status(result, verbose=verbose or bool(names)))


@command()
def check(
    repo: RepoOption = None,
    component: ComponentsOption = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="text, json, or github (::error annotations).", metavar="FORMAT"
        ),
    ] = "text",
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    no_cache: NoCacheOption = False,
    quiet: QuietOption = False,
) -> None:
    """The gate: prove every version-pin invariant. Exit 0 consistent, 1 violations.

    A pin 'keep' in .fluxbump.yaml names is not compared (never the last pin saying which
    release is installed: that entry exits 2). Example (a pull request check): fluxbump check --format github
    """
    from fluxbump.commands.check import format_github, format_text

    if output_format not in ("text", "json", "github"):
        _fail(f"--format must be text, json or github, not '{output_format}'", 2, as_json)
    output_format = "json" if as_json else output_format
    names = tuple(component or ())
    result = _check_result(repo, names, helm_repo, offline=offline, warm=not no_cache,
                           as_json=output_format == "json", quiet=quiet)  # fmt: skip
    _warn_once(result.warnings, quiet=quiet)
    if not result.report.rows and result.report.ok:
        # A gate that proved nothing must not pass: a typo in a glob would turn CI green.
        _fail(
            "check: nothing to check: no component and no pin-site found (no chart depends on "
            "an upstream chart, no HelmRelease pins one); see 'fluxbump status'",
            2,
            output_format == "json",
        )
    if output_format == "json":
        document = result.as_json()
        if not result.report.ok:  # a failure, so it names itself like every other one
            document |= {"error": format_text(result)[-1], "exit_code": 1}
        emit_json(document)
    else:
        formatter = format_github if output_format == "github" else format_text
        out_records(formatter(result))
    raise typer.Exit(0 if result.report.ok else 1)


@command()
def to(
    release: Annotated[
        str,
        typer.Argument(
            help="Flux release (2.4.0, v2.4.0) or 'latest'; with --component, the upstream "
            "chart version, or 'latest' (the highest its repository publishes).",
            metavar="VERSION",
        ),
    ],
    repo: RepoOption = None,
    component: Annotated[
        list[str] | None,
        typer.Option(
            "--component",
            help="Move this component's upstream chart instead of Flux (see 'fluxbump status'); "
            "the version is checked against the repository its dependency names. Once: a "
            "version is one chart's.",
            show_default=False,
            metavar="NAME",
        ),
    ] = None,
    dry_run: DryRunOption = False,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Only write files: no branch, no commit.")
    ] = False,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            help="Branch to create [default: fluxbump/flux-vX.Y.Z].",
            show_default=False,
            metavar="NAME",
        ),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push", help="Push the new branch to the configured remote.")
    ] = False,
    open_pr: Annotated[
        bool,
        typer.Option(
            "--open-pr",
            help="Push and open (or reuse) a pull request; GitHub or Gitea, token from "
            "GITHUB_TOKEN / GITEA_TOKEN, API base from FLUXBUMP_FORGE_API.",
        ),
    ] = False,
    allow_downgrade: Annotated[
        bool, typer.Option("--allow-downgrade", help="Permit moving to an older version.")
    ] = False,
    allow_dirty: Annotated[
        bool,
        typer.Option(
            "--allow-dirty",
            hidden=True,  # kept so that old scripts get the refusal, not "no such option"
            help="No effect: uncommitted changes in a file the bump edits are always refused, "
            "so that they never enter its commit.",
        ),
    ] = False,
    base: BaseOption = None,
    pre: Annotated[bool, typer.Option("--pre", help="Admit pre-releases for 'latest'.")] = False,
    force_unsafe_crds: ForceCrdsOption = False,
    crds_migrated: CrdsMigratedOption = False,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    flux_cli: FluxCliOption = None,
    flux_releases: FluxReleasesOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Move every pin to a Flux release (or a component's chart version): plan, write
    atomically, gate, branch and commit.

    Exit 0 when bumped or already current, 1 gate failure (every file it wrote restored), 2 bad
    input or refused (dirty tree, existing branch), 3 index/network error, 4 downgrade or a
    CRD API version the clusters may have stored. Pins 'keep' in .fluxbump.yaml names are
    not moved (one line says which).

    Example: fluxbump to 2.4.0 --dry-run
    """
    from fluxbump.commands.bump import BumpOptions, run_to

    options = BumpOptions(
        dry_run=dry_run, no_git=no_git, branch=branch, push=push, open_pr=open_pr,
        allow_downgrade=allow_downgrade,
        allow_dirty=allow_dirty, base=base, helm_repo=helm_repo, offline=offline, pre=pre,
        force_unsafe_crds=force_unsafe_crds, crds_migrated=crds_migrated,
        flux_cli=tuple(flux_cli or ()), flux_releases=flux_releases,
    )  # fmt: skip
    _print_bump(
        _run(
            lambda: run_to(repo_root(repo), release, options, _one_component(component)),
            as_json=as_json,
            quiet=quiet,
        ),
        as_json=as_json,
        quiet=quiet,
    )


@command()
def sync(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="SOURCE",
            help="Flux's source of truth: cloud-init (the install URL) or chart. Default: for "
            "each component, the one pin that differs from --base (what Renovate moved); "
            "none moved: Flux's cloud-init.",
            show_default=False,
        ),
    ] = None,
    repo: RepoOption = None,
    component: ComponentsOption = None,
    dry_run: DryRunOption = False,
    base: BaseOption = None,
    force_unsafe_crds: ForceCrdsOption = False,
    crds_migrated: CrdsMigratedOption = False,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    flux_cli: FluxCliOption = None,
    flux_releases: FluxReleasesOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Make every pin agree with the pin Renovate moved (a post-upgrade task; never touches git).

    Exit 0 when synced or already consistent, 1 gate failure (every file it wrote restored), 2 bad
    input or a dependent's pin of a chart of this repository moved since --base (never undone),
    3 index/network error or the moved Flux release has no chart yet (wait, then re-run),
    4 unsafe CRD transition.

    Example (Renovate postUpgradeTasks): fluxbump sync --from cloud-init
    """
    from fluxbump.commands.bump import BumpOptions, run_sync

    options = BumpOptions(
        dry_run=dry_run, base=base, helm_repo=helm_repo, offline=offline,
        force_unsafe_crds=force_unsafe_crds, crds_migrated=crds_migrated,
        flux_cli=tuple(flux_cli or ()), flux_releases=flux_releases,
    )  # fmt: skip
    _print_bump(
        _run(
            lambda: run_sync(repo_root(repo), source, options, tuple(component or ())),
            as_json=as_json,
            quiet=quiet,
        ),
        as_json=as_json,
        quiet=quiet,
    )


@command()
def init(
    repo: RepoOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing .fluxbump.yaml.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write .fluxbump.yaml describing what discovery found (from templates/fluxbump.yaml).

    Example: fluxbump init --repo ~/gitops
    """
    from fluxbump.commands.init import run_init

    written = _run(lambda: run_init(repo_root(repo), force=force), as_json=as_json)
    if as_json:
        emit_json({"ok": True, "written": str(written)})
    else:
        out_records([f"wrote {written}"])


@command()
def demo(
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep",
            metavar="DIR",
            help="Write the sample fleet here and keep it (new or empty dir).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document (the demo's output in 'lines')."),
    ] = False,
) -> None:
    """Run the whole bump on a bundled sample fleet, offline: check, to 2.4.0, check.

    The fleet starts in the seed's incident state (cloud-init Flux v2.4.0, flux2 chart
    2.13.0 = Flux 2.3.0). Needs no network and no repository of your own.

    Example: fluxbump demo --keep /tmp/fleet
    """
    from fluxbump.commands.demo import run_demo

    lines: list[str] = []
    emit = lines.append if as_json else out

    def heading(text: str) -> None:
        emit("")
        emit(text if as_json else paint(f"== {text}", "1;36"))

    code = _run(lambda: run_demo(Path(keep) if keep else None, emit, heading), as_json=as_json)
    if as_json:
        emit_json({"ok": code == 0, "exit_code": code, "kept": keep, "lines": lines})
    raise typer.Exit(code)


@command("renovate-config")
def renovate_config(
    repo: RepoOption = None,
    renovate_version: Annotated[
        str | None,
        typer.Option(
            "--renovate-version",
            metavar="VERSION",
            help="The Renovate release that reads the config: 40 or older get fileMatch "
            "(regex), 41 and newer managerFilePatterns (glob) [default: 42].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print a Renovate config snippet (JSON on stdout) that runs `fluxbump sync` after a bump.

    The note for the self-hosted Renovate admin (the allowedCommands line) goes to stderr.

    Example: fluxbump renovate-config --renovate-version 39 > renovate.json
    """
    from fluxbump.commands.renovate import CURRENT_RENOVATE, parse_renovate_version
    from fluxbump.commands.renovate import renovate_config as build
    from fluxbump.config import load_config
    from fluxbump.render import render

    release = str(CURRENT_RENOVATE) if renovate_version is None else renovate_version
    major = _run(lambda: parse_renovate_version(release))
    root = repo_root(repo)
    document, unread = _run(lambda: build(root, major))
    emit_json(document)
    for message in unread:
        warn(message)
    config = _run(lambda: load_config(root))
    glob = config.cloudinit[0] if config.cloudinit else "**/*.tftpl"
    err(render("renovate-admin.txt", cloudinit_glob=glob).rstrip("\n"))


@command("ci-workflow")
def ci_workflow(
    install: Annotated[
        str | None,
        typer.Option(
            "--install",
            metavar="REQUIREMENT",
            help="What the workflow pip-installs: fluxbump==X.Y.Z or 'fluxbump @ git+URL@COMMIT' "
            "(pinned) [default: this fluxbump, when installed from a git URL at a commit].",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print a GitHub Actions workflow: a weekly `fluxbump to latest --push --open-pr` job and
    a `fluxbump check --format github` gate on every pull request.

    Actions are pinned by commit. Save it as .github/workflows/fluxbump.yml.

    Example: fluxbump ci-workflow --install 'fluxbump @ git+https://HOST/OWNER/fluxbump@COMMIT'
    """
    from fluxbump.commands.workflow import WORKFLOW_PATH, install_spec, render_workflow

    spec = _run(lambda: install_spec(install), as_json=as_json)
    text = render_workflow(spec)
    if as_json:
        emit_json({"ok": True, "path": WORKFLOW_PATH, "install": spec, "workflow": text + "\n"})
    else:
        out(text)


@command()
def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script for SHELL.

    Example: fluxbump completion bash > ~/.local/share/bash-completion/completions/fluxbump
    (zsh: fluxbump completion zsh > "${fpath[1]}/_fluxbump"; fish: fluxbump completion fish >
    ~/.config/fish/completions/fluxbump.fish)
    """
    # Typer's own scripts (what --show-completion would print): they speak the protocol its
    # completion classes answer on every run through $_FLUXBUMP_COMPLETE.
    from typer._completion_shared import get_completion_script

    if shell not in SHELLS:
        _fail(f"completion: SHELL must be one of {', '.join(SHELLS)}, not '{shell}'", 2, False)
    out(get_completion_script(prog_name="fluxbump", complete_var=COMPLETE_VAR, shell=shell))


SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_FLUXBUMP_COMPLETE"


def _print_bump(result: BumpResult, *, as_json: bool, quiet: bool = False) -> None:
    """Warnings to stderr (each once; none with --quiet); JSON or the human report to stdout."""
    from fluxbump.commands.bump import format_result

    _warn_once(tuple(result.warnings), quiet=quiet)
    if as_json:
        emit_json(result.as_json())
        return
    out_records(format_result(result, show_diff=result.dry_run))


def main() -> None:
    """Console-script entry point."""
    if COMPLETE_VAR in os.environ:  # a shell asks for completions (``fluxbump completion``)
        from typer._completion_classes import completion_init

        completion_init()  # add_completion=False leaves Typer's shell classes unregistered
    app()
