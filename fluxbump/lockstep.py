"""Lockstep pins of every other wrapper chart in the repo, checked (not moved) by ``check``.

The layout wraps every upstream chart the way it wraps Flux: the wrapper's values mirror
names its upstream dependency's version, its Blueprint mirrors its own version, umbrellas
pin it, and some upstreams (Cilium) are installed before Flux by cloud-init with
``helm install … <repo>/<chart> --version X``, which must equal the wrapper's pin so the
HelmRelease adopts the release. In real repositories these drift; ``check`` reports them
with the same lines as the Flux invariants. Charts of the Flux chain are left to the gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fluxbump import versions
from fluxbump.discover import Discovery
from fluxbump.pins import PinSite, Role, Violation
from fluxbump.sites.values import find_mirrors
from fluxbump.sources import SourceFile, read_source

# A logical shell line: physical lines joined by a trailing backslash.
_LOGICAL_LINE = re.compile(r"(?:[^\n\\]|\\(?!\r?\n)|\\\r?\n)*")
_TOKEN = re.compile(r"(?:[^\s\\]|\\(?!\r?\n))+")
_HELM_INSTALL = re.compile(r"(?:^|[\s;&|])helm\s+(?:\\\r?\n\s*)*(?:install|upgrade)\b")


def lockstep_violations(found: Discovery) -> list[Violation]:
    """Drift in wrappers outside the Flux chain: mirrors, Blueprints, umbrellas, installs."""
    return [
        *_mirror_drift(found),
        *_blueprint_drift(found),
        *_dependent_drift(found),
        *_install_drift(found),
    ]


def _outside(found: Discovery) -> list[str]:
    return sorted(name for name in found.charts if name not in found.tracked)


def _mirror_drift(found: Discovery) -> Iterator[Violation]:
    needle = found.config.values_mirror.split(".")[0].encode()
    for name in _outside(found):
        chart = found.charts[name]
        pins = {d.subject: d for d in chart.dependencies}
        source = _values(found, chart.directory, needle)
        if source is None or not pins:
            continue
        for mirror in find_mirrors(source, found.config.values_mirror, name):
            pin = pins.get(mirror.subject)
            if (
                pin is not None
                and versions.is_pin(pin.value)
                and not versions.equal(mirror.value, pin.value)
            ):
                yield _drift(
                    mirror,
                    f"values mirror of {mirror.subject} is {mirror.value}, dependency pins {pin.value}",
                    pin.value,
                )


def _values(found: Discovery, directory: str, needle: bytes) -> SourceFile | None:
    rel = f"{directory}/values.yaml" if directory else "values.yaml"
    if rel not in found.sources and not (found.root / rel).is_file():
        return None
    source = found.sources.get(rel) or read_source(found.root, rel)
    return source if needle in source.raw else None


def _blueprint_drift(found: Discovery) -> Iterator[Violation]:
    for name in _outside(found):
        chart, blueprint = found.charts[name], found.all_blueprints.get(name)
        if blueprint is None or blueprint.version is None or chart.version is None:
            continue
        if not versions.equal(blueprint.version.value, chart.version.value):
            yield _drift(
                blueprint.version,
                f"Blueprint of {name} mirrors {blueprint.version.value}, chart is {chart.version.value}",
                chart.version.value,
            )


def _dependent_drift(found: Discovery) -> Iterator[Violation]:
    """Any chart's pin on a repo chart outside the Flux chain (the gate checks the chain)."""
    for name in sorted(found.charts):
        for dep in found.charts[name].dependencies:
            target = found.charts.get(dep.subject)
            if target is None or target.version is None or dep.subject in found.tracked:
                continue
            version = target.version.value
            if _admitted(dep.value, version):
                continue
            yield _drift(
                dep, f"{name} pins {dep.subject} {dep.value}, {dep.subject} is {version}", version
            )


def _admitted(value: str, version: str) -> bool:
    if "${" in value:
        return True
    if versions.is_constraint(value):
        return versions.admits_or_false(value, version)
    return versions.equal(value, version)


def _install_drift(found: Discovery) -> Iterator[Violation]:
    """``helm install … <repo>/<chart> --version X`` must equal the wrapper's pin of <chart>."""
    pins = {
        dep.subject: (name, dep)
        for name in _outside(found)
        for dep in found.charts[name].dependencies
        if dep.subject not in found.charts and versions.is_pin(dep.value)
    }
    for rel in found.templates:
        source = found.sources.get(rel)
        if source is None or b"helm" not in source.raw:
            continue
        for site in helm_install_pins(source):
            wrapper, pin = pins.get(site.subject, ("", None))
            if pin is not None and not versions.equal(site.value, pin.value):
                yield _drift(
                    site,
                    f"cloud-init installs {site.subject} {site.value}, but {wrapper} pins "
                    f"{site.subject} {pin.value} ({pin.where}); the HelmRelease would not adopt it",
                    pin.value,
                )


def helm_install_pins(source: SourceFile) -> list[PinSite]:
    """``--version X`` / ``--version=X`` of each ``helm install|upgrade`` command, by chart."""
    sites = []
    for line in _LOGICAL_LINE.finditer(source.text):
        text = line.group(0)
        if "helm" not in text or text.lstrip().startswith("#") or not _HELM_INSTALL.search(text):
            continue
        site = _install_site(source, line.start(), list(_TOKEN.finditer(text)))
        if site is not None:
            sites.append(site)
    return sites


def _install_site(source: SourceFile, base: int, tokens: list[re.Match[str]]) -> PinSite | None:
    words = [t.group(0) for t in tokens]
    charts = [w for w in words if "/" in w and not w.startswith(("-", "/", ".")) and "://" not in w]
    for i, word in enumerate(words):
        if word.startswith("--version="):
            start = base + tokens[i].start() + len("--version=")
            value = word.removeprefix("--version=")
        elif word == "--version" and i + 1 < len(words):
            start, value = base + tokens[i + 1].start(), words[i + 1]
        else:
            continue
        if not charts:
            return None
        if source.text[start] in "'\"":
            start += 1
        value = value.strip("'\"")
        line_start = source.text.rfind("\n", 0, start) + 1
        return PinSite(
            Role.INSTALL, source.rel, source.line_at(start), start - line_start + 1, value,
            charts[0].rsplit("/", 1)[-1], "cloud-init", start, start + len(value),
        )  # fmt: skip
    return None


def _drift(site: PinSite, message: str, expected: str) -> Violation:
    return Violation(site.file, site.line, message, site.value, expected)
