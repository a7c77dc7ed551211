"""``.fluxbump.yaml``: schema, defaults and validation. With no file the default layout applies."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fluxbump.components import FLUX
from fluxbump.errors import UsageError

CONFIG_NAME = ".fluxbump.yaml"
APP_VERSION_POLICIES = ("follow", "keep", "bump")
# A gate command may run for a day at most: a longer wait is a typo, and a huge one overflows
# the timer after the files were written.
MAX_GATE_TIMEOUT = 24 * 60 * 60


@dataclass(frozen=True)
class GateConfig:
    commands: tuple[str, ...] = ()
    timeout: int = 600


KEEP_KEYS = ("file", "value", "reason", "component")


@dataclass(frozen=True)
class KeepRule:
    """A ``keep:`` entry: the pins at ``value`` in the files ``file`` matches differ from the
    others on purpose (a transition release, a cluster kept at its last release). ``line``:
    the entry's line in the file, for the messages that name it."""

    file: str
    value: str
    reason: str
    line: int = field(default=0, compare=False)
    # Whose pins it keeps (a component's name, as 'status' lists it); None: any component's,
    # while the pins it matches are all one component's (``scan/kept.py``).
    component: str | None = None

    def matches(self, rel: str, value: str) -> bool:
        """A pin at ``value`` in ``rel`` (``v2.8.8`` and ``2.8.8`` name one release)."""
        from fluxbump.scan.sources import matches

        return value.removeprefix("v") == self.value.removeprefix("v") and matches(rel, [self.file])

    @property
    def where(self) -> str:
        return f"{CONFIG_NAME}:{self.line}" if self.line else CONFIG_NAME


@dataclass(frozen=True)
class ComponentConfig:
    """A ``components:`` entry: add or rename (wrapper and upstream), or exclude (both None)."""

    name: str
    wrapper: str | None = None
    upstream: str | None = None

    @property
    def excluded(self) -> bool:
        return self.wrapper is None


# The pipeline definitions of the other common forges and CI runners, by the names each
# documents (GitLab's ``.gitlab-ci.yml`` and its usual include folder, Gitea and Forgejo
# Actions, Azure Pipelines, Bitbucket, CircleCI, Woodpecker, Drone, Buildkite, Jenkins): a
# job's CLI image, its install script or download of the CLI is a Flux CLI pin as in a
# GitHub workflow.
CI_PIPELINES = (
    "**/.gitlab-ci.yml",
    "**/.gitlab-ci.yaml",
    "**/.gitlab/ci/**/*.yml",
    "**/.gitlab/ci/**/*.yaml",
    "**/.gitea/workflows/*.yml",
    "**/.gitea/workflows/*.yaml",
    "**/.forgejo/workflows/*.yml",
    "**/.forgejo/workflows/*.yaml",
    "**/azure-pipelines*.yml",
    "**/azure-pipelines*.yaml",
    "**/bitbucket-pipelines.yml",
    "**/.circleci/*.yml",
    "**/.circleci/*.yaml",
    "**/.woodpecker.yml",
    "**/.woodpecker.yaml",
    "**/.woodpecker/*.yml",
    "**/.woodpecker/*.yaml",
    "**/.drone.yml",
    "**/.drone.yaml",
    "**/.buildkite/*.yml",
    "**/.buildkite/*.yaml",
    "**/Jenkinsfile",
)


@dataclass(frozen=True)
class Config:
    """Names, paths and policies; every field has the default layout's value."""

    wrapper: str = FLUX.wrapper
    upstream: str = FLUX.upstream
    helm_repo: str | None = None
    # Any Terraform template; the byte filter keeps this cheap (the default layout puts them under infra/).
    cloudinit: tuple[str, ...] = ("**/*.tftpl",)
    charts: tuple[str, ...] = ("**/Chart.yaml",)
    blueprints: tuple[str, ...] = ("**/blueprint.yaml",)
    # HelmReleases and Kustomizations are found by content in every YAML file: real repos
    # keep them under clusters/, kubernetes/apps/, apps/, infrastructure/, ...
    clusters: tuple[str, ...] = ("**/*.yaml", "**/*.yml")
    # Files that pin the Flux release outside the cluster: CI, CLI tool versions, Terraform.
    release_pins: tuple[str, ...] = (
        "**/.github/workflows/*.yml",
        "**/.github/workflows/*.yaml",
        "**/action.yml",  # composite actions (.github/actions/<name>/action.yml) run steps too
        "**/action.yaml",
        *CI_PIPELINES,
        "**/.tool-versions",
        "**/mise.toml",
        "**/.mise.toml",
        "**/mise.*.toml",
        "**/.mise.*.toml",
        "**/.config/mise.toml",
        "**/.config/mise/config.toml",
        "**/aqua.yaml",
        "**/aqua.yml",
        "**/.aqua.yaml",
        "**/devcontainer.json",  # a Dev Container's Flux CLI feature
        "**/.devcontainer.json",
        "**/*.tf",
        "**/*.tfvars",  # the value of a Flux version given as ``var.NAME``
        "**/*.hcl",  # ... or as the ``inputs`` of a terragrunt.hcl, or of the root.hcl it includes
        "**/*.cue",  # Timoni bundles: the flux-aio module's version
        "**/gotk-components.yaml",
        "**/kustomization.yaml",  # a remote fluxcd/flux2 resource installs a release
        "**/kustomization.yml",
        "**/Kustomization",
        "**/*.sh",  # bootstrap scripts: ``helm install`` of flux-operator's charts
        "**/*.bash",  # the same, named for bash (justingarfield/home-ops's flux-validate.bash)
        # Taskfiles (and their includes) and Makefiles: ``kubectl apply -k`` of Flux's manifests
        "**/Taskfile*.yml",
        "**/Taskfile*.yaml",
        "**/.taskfiles/**/*.yml",
        "**/.taskfiles/**/*.yaml",
        "**/Makefile",
        "**/*.mk",  # a Makefile's includes (gardener-landscape-kit's hack/tools.mk)
        "**/*.yaml.gotmpl",  # helmfile templates (helmfile.yaml.gotmpl): the same charts
        "**/*.yml.gotmpl",
        # Container builds: the Flux CLI's image (``FROM ghcr.io/fluxcd/flux-cli:v2.4.0``)
        "**/Dockerfile",
        "**/Dockerfile.*",
        "**/*.Dockerfile",
        "**/*.dockerfile",  # as Renovate's dockerfile manager names them (gitops.dockerfile)
        "**/Containerfile",
        # Nix (flake.nix, shell.nix): a ``fetchurl`` of the Flux CLI's release asset
        "**/*.nix",
        # Ansible roles and inventories: a download of the Flux CLI (its version a variable)
        "**/defaults/*.yml",
        "**/defaults/*.yaml",
        "**/vars/*.yml",
        "**/vars/*.yaml",
        "**/tasks/*.yml",
        "**/tasks/*.yaml",
        "**/group_vars/**/*.yml",
        "**/group_vars/**/*.yaml",
    )
    exclude: tuple[str, ...] = ()
    values_mirror: str = "catalystBlueprint.upstream"
    app_version_policy: str = "follow"
    remote: str = "origin"
    gate: GateConfig = field(default_factory=GateConfig)
    components: tuple[ComponentConfig, ...] = ()
    # Files the repository's Renovate configuration keeps Renovate out of are not read either
    # (``scan/renovate_paths.py``); false reads them.
    follow_renovate_paths: bool = True
    keep: tuple[KeepRule, ...] = ()  # pins kept on purpose (``scan/kept.py``)
    source: str = "defaults"  # where this configuration came from (for messages)
    # The file's text, for the line of a setting a message names (looked up only then); out
    # of repr, which keys the scan cache, so a comment added to the file keeps the cache.
    text: str = field(default="", compare=False, repr=False)

    def where(self, *path: str) -> str | None:
        """``.fluxbump.yaml:LINE`` of the setting at ``path`` (its deepest key the file has),
        None when the file does not set its first key."""
        if not self.text or _key_node(_compose(self.text), path[0]) is None:
            return None
        return f"{CONFIG_NAME}:{_line_of(self.text, path)}"

    def advice(self, key: str) -> str:
        """How a user changes ``key``: at the line that sets it (a message that said 'set it
        in .fluxbump.yaml' of a value set there sent them to add a second one), else set it."""
        where = self.where(key)
        return f"set '{key}' in {CONFIG_NAME}" if where is None else f"change '{key}' at {where}"


_LIST_KEYS = {"cloudinit", "charts", "blueprints", "clusters", "release_pins", "exclude"}
_STR_KEYS = {"wrapper", "upstream", "helm_repo", "values_mirror", "app_version_policy", "remote"}
_BOOL_KEYS = {"follow_renovate_paths"}


class _Invalid(UsageError):
    """A setting out of range or of the wrong type, at a key path (its line is looked up)."""

    def __init__(self, path: tuple[str, ...], problem: str) -> None:
        super().__init__(f"{CONFIG_NAME}: {problem}")
        self.path = path
        self.problem = problem


def load_config(root: Path) -> Config:
    """Read ``.fluxbump.yaml`` at the repo root if present; unknown keys, wrong types and
    values out of range exit 2 naming ``.fluxbump.yaml:LINE``, before anything is written."""
    from fluxbump.scan.sources import MAX_FILE_BYTES, READ_LIMIT, decode, read_raw

    if not os.path.lexists(root / CONFIG_NAME):
        return Config()
    # A regular file only (a FIFO or device is refused), read one byte past the cap at most.
    raw = read_raw(root, CONFIG_NAME, limit=READ_LIMIT)
    if len(raw) > MAX_FILE_BYTES:
        raise UsageError(
            f"{CONFIG_NAME}: larger than {MAX_FILE_BYTES // 2**20} MiB; not a configuration"
        )
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from fluxbump.yamlio import plaindata

    text = decode(raw, CONFIG_NAME)  # (UTF-16, a byte not UTF-8: named as in a pin file)
    try:
        data = plaindata.load(text)  # (a scalar unfit for its tag: an error at its line)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(f"{CONFIG_NAME}{line}: cannot read configuration ({problem})") from None
    except (YAMLError, OSError, ValueError) as exc:  # (``!!int x``)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"{CONFIG_NAME}{_line_at(text, exc)}"
        raise UsageError(f"{where}: cannot read configuration ({first})") from None
    except RecursionError:
        raise UsageError(f"{CONFIG_NAME}: cannot read configuration (nested too deeply)") from None
    try:
        config = parse_config(data or {})
    except _Invalid as exc:
        raise UsageError(f"{CONFIG_NAME}:{_line_of(text, exc.path)}: {exc.problem}") from None
    keep = tuple(replace(r, line=_item_line(text, "keep", i)) for i, r in enumerate(config.keep))
    return replace(config, text=text, helm_repo=_from_root(root, config.helm_repo), keep=keep)


def _from_root(root: Path, helm_repo: str | None) -> str | None:
    """A relative local path in ``helm_repo`` names a file of the repository: read from its
    root, as every other path of this file is (from the working directory, a run from another
    folder could not find it, or read another file of that name)."""
    from urllib.parse import urlparse

    if helm_repo is None or urlparse(helm_repo).scheme or os.path.isabs(helm_repo):
        return helm_repo
    return str(root / helm_repo)


def _line_at(text: str, exc: Exception) -> str:
    """``:LINE`` of a character YAML forbids (a NUL: ruamel's ReaderError holds its index in
    the text), else nothing."""
    position = getattr(exc, "position", None)
    if not isinstance(position, int):
        return ""
    line = text[:position].count("\n") + 1
    return f":{line}"


def _line_of(text: str, path: tuple[str, ...]) -> int:
    """The line of the deepest key of ``path`` found in the text (1: the document itself)."""
    node, line = _compose(text), 1
    for key in path:
        found = _key_node(node, key)
        if found is None:
            break
        key_node, node = found
        line = key_node.start_mark.line + 1
    return line


def _item_line(text: str, key: str, at: int) -> int:
    """The line of the ``at``-th entry of the list ``key``."""
    found = _key_node(_compose(text), key)
    return int(found[1].value[at].start_mark.line) + 1 if found is not None else 1


def _compose(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).compose(text)


def _key_node(node: Any, key: str) -> tuple[Any, Any] | None:
    """The (key, value) nodes of ``key`` in a mapping node, None when it has no such key."""
    pairs = node.value if getattr(node, "id", "") == "mapping" else []
    found = [(k, v) for k, v in pairs if getattr(k, "value", None) == key]
    return found[-1] if found else None  # the last of a duplicated key is the one read


def parse_config(data: Any) -> Config:
    """Validate a loaded mapping into a Config."""
    if not isinstance(data, dict):
        raise _Invalid((), "must be a mapping of settings")
    known = {f.name for f in fields(Config)} - {"source", "text"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise _Invalid((str(key),), f"unknown key '{key}' (known: {', '.join(sorted(known))})")
        values[key] = _coerce(str(key), value)
    config = replace(Config(), **values, source=CONFIG_NAME)
    if config.app_version_policy not in APP_VERSION_POLICIES:
        raise _Invalid(
            ("app_version_policy",),
            f"app_version_policy must be one of {', '.join(APP_VERSION_POLICIES)}",
        )
    return config


def _coerce(key: str, value: Any) -> Any:
    if key in _LIST_KEYS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Invalid((key,), f"'{key}' must be a list of glob strings")
        for glob in value:
            _refuse_glob(key, glob)
        return tuple(value)
    if key in _STR_KEYS:
        if not isinstance(value, str) or not value:
            raise _Invalid((key,), f"'{key}' must be a non-empty string")
        if key == "helm_repo":
            _check_helm_repo(value)
        return value
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise _Invalid((key,), f"'{key}' must be true or false")
        return value
    if key == "components":
        return _components(value)
    if key == "keep":
        return _keep(value)
    return _gate(value)


def _check_helm_repo(value: str) -> None:
    """A ``helm_repo`` that is no URL is this file's error, named at its line, before any
    command reads it (it was reported as the ``--helm-repo`` option's)."""
    from fluxbump.remote.index import repo_problem

    problem = repo_problem(value)
    if problem is not None:
        raise _Invalid(("helm_repo",), f"helm_repo '{value}': {problem}")


def _refuse_glob(key: str, glob: str) -> None:
    """A glob is matched against paths from the repository root: one that starts at ``/`` or
    climbs out with ``..`` matches nothing, and what it was meant to list went unread. One
    whose ``**`` inside a name leaves more than one run to try at every split (``a**/b**/c``)
    takes a time that grows as a path's length cubed, or worse: a hostile path hangs it."""
    from fluxbump.scan.sources import free_runs

    if glob.startswith("/") or ".." in glob.split("/"):
        raise _Invalid(
            (key,),
            f"'{key}': '{glob}' leaves the repository; globs are relative to its root (no "
            "'..', no leading '/'): write the path from the repository root",
        )
    if free_runs(glob) > 1:
        raise _Invalid(
            (key,),
            f"'{key}': '{glob}' has more '**' inside names than fluxbump matches in bounded "
            "time; write '**' as a whole path segment ('dir/**/name.yaml')",
        )


def _components(value: Any) -> tuple[ComponentConfig, ...]:
    """``name: {wrapper: W, upstream: U}`` adds or renames; ``name: false`` excludes."""
    shape = "'components' must map a name to {wrapper: CHART, upstream: DEPENDENCY} or false"
    if not isinstance(value, dict):
        raise _Invalid(("components",), shape)
    entries = []
    for name, entry in value.items():
        if entry is False:
            entries.append(ComponentConfig(str(name)))
            continue
        if (
            not isinstance(entry, dict)
            or set(entry) != {"wrapper", "upstream"}
            or not all(isinstance(v, str) and v for v in entry.values())
        ):
            raise _Invalid(("components", str(name)), f"components.{name}: {shape}")
        entries.append(ComponentConfig(str(name), entry["wrapper"], entry["upstream"]))
    return tuple(entries)


def _keep(value: Any) -> tuple[KeepRule, ...]:
    """``- {file: GLOB, value: VERSION, reason: TEXT, component: NAME}`` (``component``
    optional), as text (a version YAML reads as a number, ``2.8``, must be quoted). The reason
    is required: a pin kept without one is the next reader's mystery, and status and to print
    it."""
    shape = (
        "'keep' must be a list of {file: GLOB, value: VERSION, reason: TEXT} and optionally "
        "component: NAME (each a quoted string)"
    )
    if not isinstance(value, list):
        raise _Invalid(("keep",), shape)
    rules = []
    for number, entry in enumerate(value, 1):
        if (
            not isinstance(entry, dict)
            or not {"file", "value", "reason"} <= set(entry) <= {*KEEP_KEYS}
            or not all(isinstance(v, str) and v.strip() for v in entry.values())
        ):
            raise _Invalid(("keep",), f"keep entry {number}: {shape}")
        _refuse_glob("keep", entry["file"])
        component = entry.get("component")
        rules.append(
            KeepRule(
                entry["file"], entry["value"].strip(), entry["reason"].strip(),
                component=component.strip() if component is not None else None,
            )
        )  # fmt: skip
    return tuple(rules)


def _gate(value: Any) -> GateConfig:
    if not isinstance(value, dict):
        raise _Invalid(("gate",), "'gate' must be a mapping with 'commands' and 'timeout'")
    for key in value:
        if key not in ("commands", "timeout"):
            raise _Invalid(
                ("gate", str(key)), f"unknown key 'gate.{key}' (known: commands, timeout)"
            )
    commands = value.get("commands", [])
    if not isinstance(commands, list) or not all(
        isinstance(c, str) and c.strip() for c in commands
    ):
        raise _Invalid(
            ("gate", "commands"), "'gate.commands' must be a list of shell commands (not empty)"
        )
    timeout = value.get("timeout", 600)
    if (
        not isinstance(timeout, int)
        or isinstance(timeout, bool)
        or not 0 < timeout <= MAX_GATE_TIMEOUT
    ):
        raise _Invalid(
            ("gate", "timeout"),
            f"'gate.timeout' must be a positive whole number of seconds, at most "
            f"{MAX_GATE_TIMEOUT} (a day), not {timeout!r}",
        )
    return GateConfig(tuple(commands), timeout)
