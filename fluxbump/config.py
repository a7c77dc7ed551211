"""``.fluxbump.yaml``: schema, defaults and validation. With no file the default layout applies."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fluxbump.components import FLUX
from fluxbump.errors import UsageError

CONFIG_NAME = ".fluxbump.yaml"
APP_VERSION_POLICIES = ("follow", "keep", "bump")


@dataclass(frozen=True)
class GateConfig:
    commands: tuple[str, ...] = ()
    timeout: int = 600


@dataclass(frozen=True)
class ComponentConfig:
    """A ``components:`` entry: add or rename (wrapper and upstream), or exclude (both None)."""

    name: str
    wrapper: str | None = None
    upstream: str | None = None

    @property
    def excluded(self) -> bool:
        return self.wrapper is None


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
        "**/*.tf",
        "**/gotk-components.yaml",
    )
    exclude: tuple[str, ...] = ()
    values_mirror: str = "catalystBlueprint.upstream"
    app_version_policy: str = "follow"
    remote: str = "origin"
    gate: GateConfig = field(default_factory=GateConfig)
    components: tuple[ComponentConfig, ...] = ()
    source: str = "defaults"  # where this configuration came from (for messages)


_LIST_KEYS = {"cloudinit", "charts", "blueprints", "clusters", "release_pins", "exclude"}
_STR_KEYS = {"wrapper", "upstream", "helm_repo", "values_mirror", "app_version_policy", "remote"}


def load_config(root: Path) -> Config:
    """Read ``.fluxbump.yaml`` at the repo root if present; unknown keys or wrong types exit 2."""
    path = root / CONFIG_NAME
    if not path.is_file():
        return Config()
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(path.read_text("utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(f"{CONFIG_NAME}{line}: cannot read configuration ({problem})") from None
    except (YAMLError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{CONFIG_NAME}: cannot read configuration ({first})") from None
    except RecursionError:
        raise UsageError(f"{CONFIG_NAME}: cannot read configuration (nested too deeply)") from None
    return parse_config(data or {})


def parse_config(data: Any) -> Config:
    """Validate a loaded mapping into a Config."""
    if not isinstance(data, dict):
        raise UsageError(f"{CONFIG_NAME}: must be a mapping of settings")
    known = {f.name for f in fields(Config)} - {"source"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise UsageError(
                f"{CONFIG_NAME}: unknown key '{key}' (known: {', '.join(sorted(known))})"
            )
        values[key] = _coerce(str(key), value)
    config = replace(Config(), **values, source=CONFIG_NAME)
    if config.app_version_policy not in APP_VERSION_POLICIES:
        raise UsageError(
            f"{CONFIG_NAME}: app_version_policy must be one of {', '.join(APP_VERSION_POLICIES)}"
        )
    return config


def _coerce(key: str, value: Any) -> Any:
    if key in _LIST_KEYS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{CONFIG_NAME}: '{key}' must be a list of glob strings")
        return tuple(value)
    if key in _STR_KEYS:
        if not isinstance(value, str) or not value:
            raise UsageError(f"{CONFIG_NAME}: '{key}' must be a non-empty string")
        return value
    if key == "components":
        return _components(value)
    return _gate(value)


def _components(value: Any) -> tuple[ComponentConfig, ...]:
    """``name: {wrapper: W, upstream: U}`` adds or renames; ``name: false`` excludes."""
    shape = "'components' must map a name to {wrapper: CHART, upstream: DEPENDENCY} or false"
    if not isinstance(value, dict):
        raise UsageError(f"{CONFIG_NAME}: {shape}")
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
            raise UsageError(f"{CONFIG_NAME}: components.{name}: {shape}")
        entries.append(ComponentConfig(str(name), entry["wrapper"], entry["upstream"]))
    return tuple(entries)


def _gate(value: Any) -> GateConfig:
    if not isinstance(value, dict):
        raise UsageError(f"{CONFIG_NAME}: 'gate' must be a mapping with 'commands' and 'timeout'")
    for key in value:
        if key not in ("commands", "timeout"):
            raise UsageError(f"{CONFIG_NAME}: unknown key 'gate.{key}' (known: commands, timeout)")
    commands = value.get("commands", [])
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise UsageError(f"{CONFIG_NAME}: 'gate.commands' must be a list of shell commands")
    timeout = value.get("timeout", 600)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise UsageError(f"{CONFIG_NAME}: 'gate.timeout' must be a positive number of seconds")
    return GateConfig(tuple(commands), timeout)
