"""Vendored dependencies: ``charts/<name>-<version>.tgz`` (or the chart unpacked in
``charts/<name>/``) beside a Chart.yaml.

Helm installs what ``charts/`` holds, not what Chart.yaml pins: an archive or unpacked copy
left at the old version after its pin moved deploys the old chart. ``check`` reports one that
no longer matches its pin; ``to``/``sync`` replace an archive with the digest-verified one
when the index lists the new version and is reachable (``commands/bump.py``), else say which
to rebuild (an unpacked copy is always left to the user: fluxbump never deletes a directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from fluxbump import versions
from fluxbump.errors import FluxbumpError
from fluxbump.pins import PinSite, Violation
from fluxbump.scan.sites.chart import ChartFile, parse_chart
from fluxbump.scan.sources import read_source


def vendored(root: Path, chart: ChartFile) -> list[str]:
    """File names in the chart's ``charts/`` (the repository walk skips that directory)."""
    try:
        return sorted(os.listdir(root / chart.vendored_folder))
    except OSError:  # none (the usual case), or unreadable: nothing vendored to compare
        return []


def stale_names(dep: PinSite, names: list[str]) -> list[str]:
    """The archives of an exact dependency pin (``names`` in ``charts/``) when none holds
    the pinned version: what ``helm dependency build`` would replace."""
    held = sorted((v, n) for n in names if (v := _version_in(n, dep.subject)) is not None)
    if not versions.is_pin(dep.value) or any(versions.equal(v, dep.value) for v, _ in held):
        return []
    return [name for _, name in held]


def stale_archives(chart: ChartFile, names: list[str]) -> list[Violation]:
    """Each exact dependency pin whose vendored archive (``names`` in ``charts/``) holds
    another version."""
    found = []
    for dep in chart.dependencies:
        held_versions = sorted(
            v for n in stale_names(dep, names) if (v := _version_in(n, dep.subject))
        )
        if held_versions:
            held = ", ".join(f"charts/{dep.subject}-{v}.tgz" for v in held_versions)
            found.append(
                Violation(
                    dep.file,
                    dep.line,
                    f"vendored {held} is not {dep.subject} {dep.value}, the version pinned here; "
                    f"run 'helm dependency build {chart.directory or '.'}'",
                    ", ".join(held_versions),
                    dep.value,
                )
            )
    return found


def stale_unpacked(root: Path, chart: ChartFile, names: list[str]) -> list[Violation]:
    """Each exact dependency pin whose unpacked copy (``charts/<name>/Chart.yaml``, as
    ``helm pull --untar`` or a hand-vendored chart leaves it) declares another version."""
    folder = chart.vendored_folder
    found = []
    for dep in chart.dependencies:
        if dep.subject not in names or not versions.is_pin(dep.value):
            continue
        held = _unpacked_version(root, f"{folder}/{dep.subject}/Chart.yaml")
        if held is not None and not versions.equal(held, dep.value):
            found.append(
                Violation(
                    dep.file,
                    dep.line,
                    f"vendored {folder}/{dep.subject}/ (unpacked) holds {dep.subject} {held}, "
                    f"not {dep.value}, the version pinned here, and Helm installs that "
                    f"directory: remove it and run 'helm dependency build {chart.directory or '.'}'",
                    held,
                    dep.value,
                )
            )
    return found


def _unpacked_version(root: Path, rel: str) -> str | None:
    """The ``version`` an unpacked chart declares; None when there is no readable chart (a
    directory of something else, a link out of the repository: nothing to compare)."""
    try:
        chart = parse_chart(read_source(root, rel))
    except (FluxbumpError, OSError):
        return None
    return chart.version.value if chart is not None and chart.version is not None else None


def _version_in(archive: str, chart: str) -> str | None:
    """``flux2-2.13.0.tgz`` -> ``2.13.0`` for chart ``flux2`` (Helm's package name)."""
    if not (archive.startswith(f"{chart}-") and archive.endswith(".tgz")):
        return None
    version = archive[len(chart) + 1 : -len(".tgz")]
    return version if versions.is_pin(version) else None
