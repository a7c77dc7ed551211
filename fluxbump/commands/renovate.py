"""``fluxbump renovate-config``: the Renovate snippet, in the form one Renovate release accepts.

Renovate 41.0.0 renamed the custom managers' ``fileMatch`` (regular expressions only) to
``managerFilePatterns`` (globs or ``/regex/``); releases before it refuse the new name and
releases from it on ask to migrate the old one. Renovate 39 is the last release that runs
on Node 20, which many self-hosted runners still use, so both forms are emitted.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fluxbump import versions
from fluxbump.commands.renovate_lines import operator_artifact_strings, operator_manifest_string
from fluxbump.components import FLUX_INSTALL_URL
from fluxbump.config import CI_PIPELINES, Config, load_config
from fluxbump.errors import UsageError
from fluxbump.gate.floating import floats
from fluxbump.pins import PinSite, Role
from fluxbump.scan.roles import read_once
from fluxbump.scan.sites.ansible import chart_ref_variables, is_task_pin
from fluxbump.scan.sites.fluxcli import ACTION_FILES, DOWNLOAD, IMAGE
from fluxbump.scan.sites.installscript import INSTALL_SCRIPT
from fluxbump.scan.sites.kustomizeremote import ASSET as ASSET_OWNER
from fluxbump.scan.sites.kustomizeremote import COMMAND_OWNERS, is_kustomization
from fluxbump.scan.sites.operator import ARTIFACT_OWNER, MANIFEST_OWNER
from fluxbump.scan.sources import SourceFile, glob_tokens

if TYPE_CHECKING:
    from fluxbump.scan.discover import Survey
    from fluxbump.scan.releases import Unreadable

# The owner fluxcli.py gives a ``fluxcd/flux2/action`` step's version input.
ACTION = "fluxcd/flux2/action"
# What a cloud-init template that installs Flux holds (the install.yaml release URL, or the
# kustomization of Flux's repository at a ref).
_INSTALL_URL = re.compile(FLUX_INSTALL_URL.encode())

# The first Renovate major that reads managerFilePatterns (renovatebot/renovate#34615).
MANAGER_FILE_PATTERNS_SINCE = 41
# The form printed when --renovate-version is not given: the current major.
CURRENT_RENOVATE = 42
# Time Renovate waits before proposing a Flux release: the community chart usually follows
# within days, and a release without one cannot be synced.
MINIMUM_RELEASE_AGE = "3 days"
# Files `fluxbump sync` may write besides the configured globs: HelmReleases are found by
# content anywhere (.yaml or .yml), and a moved dependency can change a Chart.lock.
_ALWAYS_WRITTEN = ("**/*.yaml", "**/*.yml", "**/Chart.lock")


def parse_renovate_version(text: str) -> int:
    """The major of ``39``, ``39.264.1`` or ``v42``; anything else exits 2."""
    match = re.fullmatch(r"v?([0-9]+)(?:\.[0-9]+){0,2}", text.strip())
    if match is None:
        raise UsageError(
            f"--renovate-version must be a Renovate release such as 39 or 42.0.0, not '{text}'"
        )
    return int(match.group(1))


def renovate_config(root: Path, major: int) -> tuple[dict[str, Any], list[str]]:
    """The snippet for the repository at ``root``, in the form Renovate ``major`` accepts,
    and a warning for each cloud-init template that could not be read (not UTF-8, UTF-16,
    too big): the snippet is still right for every other pin, and Renovate's regex manager,
    which reads a template as UTF-8 text, could not match that one either."""
    from fluxbump.render import render
    from fluxbump.scan.discover import survey

    config = load_config(root)
    tree = survey(root, config)
    upstreams = {c.upstream for c in tree.components} | {config.upstream}
    local = sorted(set(tree.charts) - upstreams)
    globs = list(config.cloudinit) or ["**/*.tftpl"]
    legacy = major < MANAGER_FILE_PATTERNS_SINCE
    text = render(
        "renovate.json",
        file_key="fileMatch" if legacy else "managerFilePatterns",
        cloudinit_patterns=json.dumps([glob_to_regex(g) for g in globs] if legacy else globs),
        cloudinit_globs=json.dumps(globs),
        file_filters=json.dumps(file_filters(config)),
        local_charts=json.dumps(local),
        upstream=config.upstream,
        minimum_release_age=MINIMUM_RELEASE_AGE,
    )
    document: dict[str, Any] = json.loads(text)
    if not local:  # an empty matcher is refused by Renovate's validator: drop the rule
        document["packageRules"] = [
            r for r in document["packageRules"] if r.get("matchDepNames") != []
        ]
    _flux_sync(document, tree)
    _add_kinds(document, tree, legacy=legacy)
    return document, [_not_read(u) for u in tree.unreadable_templates]


def _not_read(template: Unreadable) -> str:
    return (
        f"{template.file}:{template.line}: {template.reason}; not read: the config is "
        "written without it (Renovate's cloud-init manager cannot match it either)"
    )


def found_kinds(tree: Survey) -> set[str]:
    """The pin kinds of ``templates/renovate-kinds.json`` this repository has: only those
    parts are written (a repository without flux-operator charts gets no rule for them)."""
    kinds = {"operator"} if any(c.operator for c in tree.components) else set()
    kinds |= {"ansible-helm"} if _ansible_chart_pins(tree) else set()
    kinds |= {"cli-download"} if _download_pins(tree) else set()
    kinds |= {"terraform-instance"} if _terraform_instance_pins(tree) else set()
    kinds |= {"operator-manifest"} if _operator_pins(tree, MANIFEST_OWNER) else set()
    kinds |= {"operator-artifact"} if _operator_pins(tree, ARTIFACT_OWNER) else set()
    kinds |= {"timoni"} if _timoni_pins(tree) else set()
    for site in tree.release_pins():
        if floats(site):  # ``latest``, a branch: no version for Renovate to move
            continue
        if site.role is Role.CLI and site.owner.startswith(IMAGE):
            kinds.add("cli-image")
        elif site.role is Role.INSTANCE and versions.is_pin(site.value) and not _in_terraform(site):
            kinds.add("flux-instance")
        elif site.role is Role.TERRAFORM:
            kinds.add("terraform")
        elif site.role is Role.CLI and site.owner.startswith(ACTION):
            kinds.add("flux-action")
        elif site.role is Role.CLI and "aqua" in posixpath.basename(site.file):
            kinds.add("aqua")
        elif site.role is Role.FLUX_MANIFESTS and versions.is_pin(site.value):
            kinds.add("flux-manifests")
        elif (
            site.role is Role.KUSTOMIZE_REMOTE
            and site.owner.endswith(ASSET_OWNER)
            and is_kustomization(site.file)
        ):  # a kustomization.yaml's
            kinds.add("kustomize-asset")
        elif _is_command_pin(site):
            kinds.add("command-install")
    return kinds | ({"command-variable"} if _command_variable_pins(tree) else set())


def _in_terraform(site: PinSite) -> bool:
    return site.file.endswith(".tf")


def _terraform_instance_pins(tree: Survey) -> list[PinSite]:
    """The exact Flux releases a Terraform ``helm_release`` of flux-instance sets (written as
    a literal: one given as ``var.NAME`` is followed by ``fluxbump sync``, not Renovate)."""
    return [
        s
        for s in tree.release_pins()
        if s.role is Role.INSTANCE and _in_terraform(s) and versions.is_pin(s.value)
    ]


def _timoni_pins(tree: Survey) -> list[PinSite]:
    """The flux-aio module versions of Timoni bundles written as a literal (``X.Y.Z-N``, or
    ``X.Y.Z-N@sha256:…`` beside a digest, which Renovate moves with it), not as an expression."""
    return [
        s
        for s in tree.release_pins()
        if s.role is Role.TIMONI and versions.is_pin(s.value.split("@", 1)[0])
    ]


def _operator_pins(tree: Survey, owner: str) -> list[PinSite]:
    """The exact flux-operator releases of one kind outside its charts: the release manifests
    a kustomization or script applies (``MANIFEST_OWNER``), the distribution artifacts a
    FluxInstance or the flux-instance chart's values name (``ARTIFACT_OWNER``)."""
    return [s for s in tree.operator_pins() if s.owner == owner and versions.is_pin(s.value)]


def _is_command_pin(site: PinSite) -> bool:
    """A command line's pin, or a URL a script keeps for one (sites/kustomizeremote.py)."""
    return (
        site.owner.startswith(COMMAND_OWNERS) or site.role is Role.KUSTOMIZE_REMOTE
    ) and not is_kustomization(site.file)


def _command_variable_pins(tree: Survey) -> list[PinSite]:
    """The exact command-line pins that are a variable's value (``FLUX_VERSION=2.7.2`` of
    ``v$(FLUX_VERSION)``): the command-line manager's strings match only a written release."""
    return [
        s
        for s in tree.release_pins()
        if _is_command_pin(s) and versions.is_pin(s.value) and _assigned(tree, s) is not None
    ]


def _flux_sync(document: dict[str, Any], tree: Survey) -> None:
    """The Flux group's sync follows the cloud-init install URL when there is one; else the
    chart pin Renovate moved, or (Flux pinned only outside charts) the FluxInstance, bootstrap,
    Terraform or CLI pin it moved; with no Flux component Renovate's managers move each pin,
    grouped, and nothing runs after them."""
    # (a template not read is not searched: Renovate's regex could not match its URL either)
    if any(_INSTALL_URL.search(source.raw) for source in tree.templates()):
        return
    (flux,) = (r for r in document["packageRules"] if r.get("groupName") == "Flux")
    if tree.flux() is not None:
        flux["postUpgradeTasks"]["commands"] = ["fluxbump sync"]
    else:
        del flux["postUpgradeTasks"]


def _add_kinds(document: dict[str, Any], tree: Survey, *, legacy: bool) -> None:
    """The custom managers and rules of the kinds found; rules go before the Flux group
    rule, which stays last (Renovate applies the last matching rule's options), and the
    names of Renovate's own deps of a kind join that rule's."""
    from fluxbump.render import render

    def patterns(globs: Iterable[str]) -> str:
        listed = list(globs)
        return json.dumps([glob_to_regex(g) for g in listed] if legacy else listed)

    def files(sites: Iterable[PinSite]) -> str:
        paths = _unique(sorted(s.file for s in sites))
        return json.dumps([glob_to_regex(p) for p in paths] if legacy else _as_globs(paths))

    config = tree.config
    flux = tree.flux()
    downloads, charts = _download_pins(tree), _ansible_chart_pins(tree)
    variables = _command_variable_pins(tree)
    workflows = [g for g in config.release_pins if "/workflows/" in g or g.endswith(ACTION_FILES)]
    parts: dict[str, dict[str, list[Any]]] = json.loads(
        render(
            "renovate-kinds.json",
            file_key="fileMatch" if legacy else "managerFilePatterns",
            instance_patterns=patterns(config.clusters),
            terraform_patterns=patterns(g for g in config.release_pins if g.endswith(".tf")),
            workflow_patterns=patterns(workflows),
            aqua_patterns=patterns(g for g in config.release_pins if "aqua" in g),
            kustomization_patterns=patterns(g for g in config.release_pins if is_kustomization(g)),
            command_patterns=patterns(g for g in config.release_pins if _holds_commands(g)),
            file_filters=json.dumps(file_filters(config)),
            download_patterns=files(downloads),
            download_strings=json.dumps(_download_strings(tree, downloads)),
            command_variable_patterns=files(variables),
            command_variable_strings=json.dumps(_variable_strings(tree, variables)),
            ansible_helm_patterns=files(charts),
            terraform_instance_patterns=files(_terraform_instance_pins(tree)),
            operator_manifest_patterns=files(_operator_pins(tree, MANIFEST_OWNER)),
            operator_artifact_patterns=files(_operator_pins(tree, ARTIFACT_OWNER)),
            timoni_patterns=files(_timoni_pins(tree)),
            operator_manifest_strings=json.dumps([operator_manifest_string()]),
            operator_artifact_strings=json.dumps(operator_artifact_strings()),
            ansible_helm_strings=json.dumps(_ansible_chart_strings(tree, charts)),
            upstream=flux.upstream if flux is not None else config.upstream,
            helm_repo=flux.helm_repo if flux is not None else "",
        )
    )
    (group,) = (r for r in document["packageRules"] if r.get("groupName") == "Flux")
    for kind in sorted(found_kinds(tree)):
        document["customManagers"] += parts[kind].get("customManagers", [])
        rules = parts[kind].get("packageRules", [])
        document["packageRules"][-1:-1] = rules
        group["matchDepNames"] += parts[kind].get("fluxDepNames", [])


# A release or chart version a regex manager reads (a ``v`` prefix kept in currentValue).
_VERSION = r"[\"']?(?<currentValue>v?[0-9]+\.[0-9]+\.[0-9]+)"
# The text before a pin's value on its line when the pin is a variable's value: YAML
# ``name: "``, shell ``export NAME=``, Makefile ``NAME ?= ``.
_ASSIGNED = re.compile(
    r"[ \t]*(?:-[ \t]+)?(?:(?:export|ARG|ENV)[ \t]+)?(?P<name>[A-Za-z_][\w-]*)[ \t]*"
    r"(?::=|\?=|[:=])[ \t]*[\"']?"
)
# The asset of the CLI at a literal release (its name repeats it: Renovate's regex manager
# replaces every currentValue of the match, so both move), on a line that is no comment
# (the manager reads every file of the kind: a role's commented URL documents a release).
_ASSET_AT = (
    r"(?:^|\n)[^#\n]*?github\.com/fluxcd/flux2/releases/download/"
    r"v(?<currentValue>[0-9]+\.[0-9]+\.[0-9]+)"
    r"/flux_(?:[0-9]+\.[0-9]+\.[0-9]+_)?"
)


# Flux's install script given a literal release (the script takes it without the "v").
_SCRIPT_AT = (
    r"(?:^|\n)[^#\n]*?(?:fluxcd\.io/install\.sh|fluxcd/flux2/[^/\s]+/install/flux\.sh)"
    r"[^\n|]*\|[^\n]*?FLUX_VERSION=[\"']?(?<currentValue>[0-9]+\.[0-9]+\.[0-9]+)"
)


def _download_pins(tree: Survey) -> list[PinSite]:
    """The release pins of Flux CLI downloads (and install script runs) Renovate can read:
    exact versions."""
    return [
        s
        for s in tree.release_pins()
        if s.role is Role.CLI
        and s.owner.startswith((DOWNLOAD, INSTALL_SCRIPT))
        and versions.is_pin(s.value)
    ]


def _ansible_chart_pins(tree: Survey) -> list[PinSite]:
    """The Flux chart pins of Ansible ``kubernetes.core.helm`` tasks (ansible.py), exact."""
    return [s for s in tree.releases if is_task_pin(s) and versions.is_pin(s.value)]


def _assigned(tree: Survey, site: PinSite) -> str | None:
    """The variable whose value ``site`` is (None: the pin is not a variable's value)."""
    source = read_once(tree.sources, tree.root, site.file)
    match = _ASSIGNED.fullmatch(source.line_before(site.start))
    return match.group("name") if match is not None else None


def _assignment(name: str) -> str:
    """A regex of the line that gives variable ``name`` an exact version. No lookaround or
    back-reference: Renovate compiles matchStrings with RE2 when it is installed."""
    return (
        rf"(?:^|\n)[ \t]*(?:-[ \t]+)?(?:(?:export|ARG|ENV)[ \t]+)?{_escape(name)}[ \t]*"
        rf"(?::=|\?=|[:=])[ \t]*{_VERSION}"
    )


def _download_strings(tree: Survey, sites: Iterable[PinSite]) -> list[str]:
    """The matchStrings of the CLI downloads found: each variable that holds the release,
    and the asset URL when a literal release is written in it."""
    return _unique(_download_string(tree, s) for s in sites)


def _download_string(tree: Survey, site: PinSite) -> str:
    name = _assigned(tree, site)
    if name is not None:
        return _assignment(name)
    return _SCRIPT_AT if site.owner.startswith(INSTALL_SCRIPT) else _ASSET_AT


def _variable_strings(tree: Survey, sites: Iterable[PinSite]) -> list[str]:
    """The matchStrings of the variables that hold a command line's release."""
    return _unique(_assignment(n) for s in sites if (n := _assigned(tree, s)) is not None)


def _ansible_chart_strings(tree: Survey, sites: Iterable[PinSite]) -> list[str]:
    """The matchStrings of the Ansible chart pins found: the role variable named by
    ``chart_version``, or ``chart_version`` itself beside a ``chart_ref`` of the chart, or of
    the role variable set to it (before or after it, in the same task: lines not opening
    another list item)."""
    flux = tree.flux()
    upstream = flux.upstream if flux is not None else tree.config.upstream
    named = rf"(?:[^\s\"'#]*/)?{_escape(upstream)}"
    # a chart_ref written as the role variable the scan followed to the chart, by its name
    # only (another task's ``{{ other_chart }}`` beside its own chart_version is not Flux)
    variables = _chart_ref_variables(tree, upstream, sites)
    named += "".join(rf"|\{{\{{[ \t]*{_escape(n)}[ \t]*\}}\}}" for n in variables)
    ref = rf"chart_ref:[ \t]*[\"']?(?:{named})[\"']?[ \t]*\r?\n"
    task_lines = r"(?:[ \t]+[^\s-][^\n]*\n)*?"
    version = rf"chart_version:[ \t]*{_VERSION}"
    strings = []
    for site in sites:
        name = _assigned(tree, site)
        if name is None:
            continue
        if name == "chart_version":
            strings += [
                rf"{ref}{task_lines}[ \t]+{version}",
                rf"{version}[\"']?[ \t]*\r?\n{task_lines}[ \t]+{ref}",
            ]
        else:
            strings.append(_assignment(name))
    return _unique(strings)


def _chart_ref_variables(tree: Survey, chart: str, sites: Iterable[PinSite]) -> list[str]:
    """The role variables the tasks of the literal ``chart_version`` pins name their
    ``chart_ref`` by (``ansible.chart_ref_variables``), read as the survey read them."""
    listed = set(tree.readable_release_pin_files())

    def read(rel: str) -> SourceFile | None:
        return read_once(tree.sources, tree.root, rel) if rel in listed else None

    files = _unique(s.file for s in sites if _assigned(tree, s) == "chart_version")
    return _unique(
        name
        for rel in files
        if (source := read(rel)) is not None
        for name in chart_ref_variables(source, chart, read)
    )


# Characters a glob (minimatch) reads as a pattern; a path holding one is written as a
# ``/regex/`` instead.
_GLOB_SPECIAL = re.compile(r"[*?\[\]{}()!+@\\]")


def _as_globs(paths: Iterable[str]) -> list[str]:
    """managerFilePatterns naming exactly these files."""
    return [f"/{glob_to_regex(p)}/" if _GLOB_SPECIAL.search(p) else p for p in paths]


def _holds_commands(glob: str) -> bool:
    """A ``release_pins`` glob of files with command lines: scripts, Taskfiles, Makefiles and
    CI workflows and pipelines (not kustomizations, Terraform, tool versions or generated
    manifests)."""
    name = glob.rsplit("/", 1)[-1]
    commands = name.endswith((".sh", ".bash", ".mk")) or "askfile" in glob or name == "Makefile"
    return commands or "/workflows/" in glob or glob in CI_PIPELINES


def file_filters(config: Config) -> list[str]:
    """Every file `fluxbump sync` may write, so Renovate commits all of them."""
    return _unique(
        [*_ALWAYS_WRITTEN, *config.cloudinit, *config.charts, *config.blueprints,
         *config.clusters, *config.release_pins]
    )  # fmt: skip


def glob_to_regex(glob: str) -> str:
    """A repository glob as the regex ``fileMatch`` wants, matching what fluxbump matches:
    its parts joined as written (JavaScript has no atomic groups, and Renovate matches it
    against its own file list)."""
    return "^" + "".join(regex for _, regex in glob_tokens(glob, _escape)) + "$"


def _escape(text: str) -> str:
    """Escape only what is special: re.escape's ``\\-`` is a syntax error in a JavaScript
    unicode-mode regex, which Renovate uses when RE2 is not installed."""
    return re.sub(r"([.^$+(){}\[\]|\\])", r"\\\1", text)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
