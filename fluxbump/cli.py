"""Typer CLI: parse options, call one core function, print, map errors to exit codes.

Heavy modules (httpx, git, ruamel) are imported inside the commands that need them so
``fluxbump --version`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from fluxbump import __version__
from fluxbump.errors import FluxbumpError
from fluxbump.output import emit_json, err, error, out, paint, warn

if TYPE_CHECKING:
    from fluxbump.commands.bump import BumpResult

app = typer.Typer(
    name="fluxbump",
    help="Move a GitOps monorepo to a new Flux CD release in one safe, atomic step.\n\n"
    "Exit codes: 0 success, 1 gate violation, 2 usage/config/input error, "
    "3 resolution/network error, 4 unsafe transition refused.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")

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
        help="Helm repo base URL, an index.yaml URL, a file:// URL or a local path "
        "[env FLUXBUMP_HELM_REPO; default https://fluxcd-community.github.io/helm-charts].",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Use the cached index, else the bundled snapshot; no network."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
ForceCrdsOption = Annotated[
    bool,
    typer.Option(
        "--force-unsafe-crds",
        help="Proceed although the target's CRDs stop serving an API version in use (dangerous).",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan and a unified diff; write nothing.")
]
RepoOption = Annotated[
    str,
    typer.Option(
        "--repo", help="Repository root.", show_default="current directory", metavar="DIR"
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


def _run(action: Callable[[], T], *, as_json: bool = False) -> T:
    """Run a core call; expected failures become one line on stderr and their exit code.

    With ``--json`` the failure is also one JSON document on stdout, so a script that parses
    stdout (the scheduled job) always gets one.
    """
    from fluxbump.yamlio.yamldoc import duplicate_warnings

    duplicate_warnings()  # this command's own, not what an earlier call in this process read
    try:
        result = action()
    except FluxbumpError as exc:
        _warn_duplicate_keys()
        _fail(exc.message, exc.exit_code, as_json)
    except KeyboardInterrupt:
        _fail("interrupted", 130, as_json)
    _warn_duplicate_keys()
    return result


def _warn_duplicate_keys() -> None:
    """A key twice in one mapping was read as Helm reads it (last wins): say where, once."""
    from fluxbump.yamlio.yamldoc import duplicate_warnings

    for message in duplicate_warnings():
        warn(message)


def _fail(message: str, code: int, as_json: bool) -> NoReturn:
    error(message)
    if as_json:
        emit_json({"ok": False, "error": message, "exit_code": code})
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        out(f"fluxbump {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Move a GitOps monorepo to a new Flux CD release in one safe, atomic step."""


@app.command()
def resolve(
    release: Annotated[
        str, typer.Argument(help="Flux release (2.4.0, v2.4.0) or 'latest'.", metavar="VERSION")
    ],
    pre: Annotated[bool, typer.Option("--pre", help="Admit pre-releases for 'latest'.")] = False,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print the Flux release and the flux2 chart version it maps to."""
    from fluxbump.commands.resolve import run_resolve

    result = _run(
        lambda: run_resolve(release, pre=pre, helm_repo=helm_repo, offline=offline), as_json=as_json
    )
    for message in result.warnings:
        warn(message)
    if as_json:
        emit_json(result.as_json())
    else:
        out(result.as_text())


@app.command()
def status(
    repo: RepoOption = ".",
    component: ComponentsOption = None,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Every pin-site, also when there are many components."
        ),
    ] = False,
) -> None:
    """Every component and pin-site found: role, file:line, value, expected value, ok.

    With more than three components (and no --component), one line per component."""
    from fluxbump.commands.check import format_status, run_check

    names = tuple(component or ())
    result = _run(
        lambda: run_check(Path(repo), helm_repo=helm_repo, offline=offline, components=names),
        as_json=as_json,
    )
    for message in dict.fromkeys(result.warnings):  # each warning once, in order
        warn(message)
    if as_json:
        emit_json(result.as_json())
    else:
        for line in format_status(result, verbose=verbose or bool(names)):
            out(line)


@app.command()
def check(
    repo: RepoOption = ".",
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
) -> None:
    """The gate: prove every version-pin invariant. Exit 0 consistent, 1 violations."""
    from fluxbump.commands.check import format_github, format_text, run_check

    if output_format not in ("text", "json", "github"):
        _fail(f"--format must be text, json or github, not '{output_format}'", 2, as_json)
    output_format = "json" if as_json else output_format
    names = tuple(component or ())
    result = _run(
        lambda: run_check(Path(repo), helm_repo=helm_repo, offline=offline, components=names),
        as_json=output_format == "json",
    )
    for message in dict.fromkeys(result.warnings):  # each warning once, in order
        warn(message)
    if not result.report.rows and result.report.ok:
        # A gate that proved nothing must not pass: a typo in a glob would turn CI green.
        _fail(
            "check: nothing to check: no component and no pin-site found (no chart depends on "
            "an upstream chart, no HelmRelease pins one); see 'fluxbump status'",
            2,
            output_format == "json",
        )
    if output_format == "json":
        emit_json(result.as_json())
    else:
        formatter = format_github if output_format == "github" else format_text
        for line in formatter(result):
            out(line)
    raise typer.Exit(0 if result.report.ok else 1)


@app.command()
def to(
    release: Annotated[
        str,
        typer.Argument(
            help="Flux release (2.4.0, v2.4.0) or 'latest'; with --component, the upstream "
            "chart version, or 'latest' (the highest its repository publishes).",
            metavar="VERSION",
        ),
    ],
    repo: RepoOption = ".",
    component: Annotated[
        str | None,
        typer.Option(
            "--component",
            help="Move this component's upstream chart instead of Flux (see 'fluxbump status'); "
            "the version is checked against the repository its dependency names.",
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
        typer.Option("--allow-dirty", help="Permit uncommitted changes in files the bump edits."),
    ] = False,
    base: BaseOption = None,
    pre: Annotated[bool, typer.Option("--pre", help="Admit pre-releases for 'latest'.")] = False,
    force_unsafe_crds: ForceCrdsOption = False,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Move every pin to a Flux release (or a component's chart version): plan, write
    atomically, gate, branch and commit.

    Exit 0 when bumped or already current, 1 gate failure (every file it wrote restored), 2 bad
    input or refused (dirty tree, existing branch), 3 index/network error, 4 downgrade.
    """
    from fluxbump.commands.bump import BumpOptions, run_to

    options = BumpOptions(
        dry_run=dry_run, no_git=no_git, branch=branch, push=push, open_pr=open_pr,
        allow_downgrade=allow_downgrade,
        allow_dirty=allow_dirty, base=base, helm_repo=helm_repo, offline=offline, pre=pre,
        force_unsafe_crds=force_unsafe_crds,
    )  # fmt: skip
    _print_bump(
        _run(lambda: run_to(Path(repo), release, options, component), as_json=as_json),
        as_json=as_json,
    )


@app.command()
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
    repo: RepoOption = ".",
    component: ComponentsOption = None,
    dry_run: DryRunOption = False,
    base: BaseOption = None,
    force_unsafe_crds: ForceCrdsOption = False,
    helm_repo: HelmRepoOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make every pin agree with the pin Renovate moved (a post-upgrade task; never touches git).

    Exit 0 when synced or already consistent, 1 gate failure (every file it wrote restored), 2 bad
    input, 3 index/network error, 4 unsafe CRD transition.
    """
    from fluxbump.commands.bump import BumpOptions, run_sync

    options = BumpOptions(
        dry_run=dry_run, base=base, helm_repo=helm_repo, offline=offline,
        force_unsafe_crds=force_unsafe_crds,
    )  # fmt: skip
    _print_bump(
        _run(
            lambda: run_sync(Path(repo), source, options, tuple(component or ())), as_json=as_json
        ),
        as_json=as_json,
    )


@app.command()
def init(
    repo: RepoOption = ".",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing .fluxbump.yaml.")
    ] = False,
) -> None:
    """Write .fluxbump.yaml describing what discovery found (from templates/fluxbump.yaml)."""
    from fluxbump.commands.init import run_init

    written = _run(lambda: run_init(Path(repo), force=force))
    out(f"wrote {written}")


@app.command()
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
) -> None:
    """Run the whole bump on a bundled sample fleet, offline: check, to 2.4.0, check.

    The fleet starts in the seed's incident state (cloud-init Flux v2.4.0, flux2 chart
    2.13.0 = Flux 2.3.0). Needs no network and no repository of your own.
    """
    from fluxbump.commands.demo import run_demo

    def heading(text: str) -> None:
        out("")
        out(paint(f"== {text}", "1;36"))

    code = _run(lambda: run_demo(Path(keep) if keep else None, out, heading))
    raise typer.Exit(code)


@app.command("renovate-config")
def renovate_config(repo: RepoOption = ".") -> None:
    """Print a Renovate config snippet (JSON on stdout) that runs `fluxbump sync` after a bump.

    The note for the self-hosted Renovate admin (the allowedCommands line) goes to stderr.
    """
    from fluxbump.config import load_config
    from fluxbump.render import render

    config = _run(lambda: load_config(Path(repo)))
    glob = config.cloudinit[0] if config.cloudinit else "**/*.tftpl"
    out(render("renovate.json", cloudinit_glob=glob).rstrip("\n"))
    err(render("renovate-admin.txt", cloudinit_glob=glob).rstrip("\n"))


@app.command("ci-workflow")
def ci_workflow() -> None:
    """Print a scheduled GitHub Actions workflow running `fluxbump to latest --push --open-pr`."""
    from fluxbump.render import render

    out(render("ci-workflow.yaml").rstrip("\n"))


def _print_bump(result: BumpResult, *, as_json: bool) -> None:
    """Warnings to stderr; the JSON document or the human report to stdout."""
    from fluxbump.commands.bump import format_result

    for message in result.warnings:
        warn(message)
    if as_json:
        emit_json(result.as_json())
        return
    for line in format_result(result, show_diff=result.dry_run):
        out(line)


def main() -> None:
    """Console-script entry point."""
    app()
