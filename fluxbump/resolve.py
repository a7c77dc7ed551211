"""Flux release <-> community chart version, through the index entries' ``appVersion``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import semver

from fluxbump import versions
from fluxbump.errors import ResolutionError
from fluxbump.remote.index import ChartEntry, HelmIndex


@dataclass(frozen=True)
class Resolution:
    """A release and the chart version it maps to (the highest carrying that appVersion)."""

    release: str
    chart: str
    chart_name: str
    index: str
    candidates: tuple[str, ...]


def releases(index: HelmIndex, chart_name: str) -> dict[str, list[ChartEntry]]:
    """appVersion (normalised) -> chart entries carrying it; an entry whose version or
    appVersion is no SemVer is skipped (Helm skips an entry whose version is none)."""
    by_release: dict[str, list[ChartEntry]] = {}
    for entry in index.versions_of(chart_name):
        app, chart = versions.try_parse(entry.app_version), versions.try_parse(entry.version)
        if app is None or chart is None:
            continue
        by_release.setdefault(str(app.replace(build=None)), []).append(entry)
    return by_release


def resolve_chart_version(
    index: HelmIndex, release: str, chart_name: str, pre: bool = False
) -> Resolution:
    """Map ``2.4.0``/``v2.4.0``/``latest`` to the highest chart version with that appVersion
    (a stable one, unless ``pre`` or none is: ``_chosen``)."""
    by_release = releases(index, chart_name)
    if not by_release:
        raise ResolutionError(f"{index.url}: no '{chart_name}' chart in the index")
    wanted = _latest(by_release, pre) if release == "latest" else versions.normalize(release)
    entries = by_release.get(wanted)
    if not entries:
        left_out = index.refused.get(chart_name, ())
        why = f" (the index's entries left out: {'; '.join(left_out)})" if left_out else ""
        raise ResolutionError(_no_chart_message(by_release, wanted, chart_name) + why)
    ordered = sorted((e.version for e in entries), key=versions.sort_key, reverse=True)
    return Resolution(wanted, _chosen(ordered, pre), chart_name, index.url, tuple(ordered))


def _chosen(ordered: list[str], pre: bool) -> str:
    """The highest of the chart versions carrying a release; a pre-release chart (2.16.0-rc.1
    beside 2.15.0, both Flux 2.5.1) only with ``pre`` or when no stable one carries it, as
    ``latest`` admits a pre-release release and every other component a pre-release chart."""
    if pre:
        return ordered[0]
    return next((v for v in ordered if not versions.parse(v).prerelease), ordered[0])


def newest_admitted(index: HelmIndex, chart_name: str, ranges: Sequence[str]) -> Resolution | None:
    """The newest release every one of ``ranges`` admits (a FluxInstance's ``2.x``: the
    operator installs it), with its highest chart; None when the index has none."""
    by_release = releases(index, chart_name)
    admitted = [r for r in by_release if all(versions.admits_or_false(c, r) for c in ranges)]
    if not admitted:
        return None
    return resolve_chart_version(index, max(admitted, key=versions.sort_key), chart_name)


def carried_around(
    index: HelmIndex, chart_name: str, release: str
) -> tuple[Resolution | None, Resolution | None]:
    """The newest stable release below ``release`` that a chart carries and the first above
    it, each with its highest chart (None where there is none): what judges a release the
    chart skipped (2.5.0) or has not followed yet."""
    target = versions.parse(release)
    stable = [r for r in releases(index, chart_name) if not versions.parse(r).prerelease]
    below = [r for r in stable if versions.parse(r).compare(target) < 0]
    above = [r for r in stable if versions.parse(r).compare(target) > 0]
    return (
        resolve_chart_version(index, max(below, key=versions.sort_key), chart_name)
        if below
        else None,
        resolve_chart_version(index, min(above, key=versions.sort_key), chart_name)
        if above
        else None,
    )


def carried_below(index: HelmIndex, chart_name: str, release: str) -> Resolution | None:
    """``carried_around``'s release below: Flux removes an API version for good, so what it
    no longer serves, ``release`` (which no chart carries) does not serve either."""
    return carried_around(index, chart_name, release)[0]


def same_minor_chart(index: HelmIndex, chart_name: str, release: str) -> Resolution | None:
    """The stable release of ``release``'s own minor line nearest to it that a chart carries
    (the one below on a tie), with its highest chart; None when the chart carries none of that
    line, or ``release`` is a pre-release. What judges the CRDs of a release the chart skipped
    (2.5.0, 2.7.0): Flux adds and removes API versions only in minor releases (every patch
    release of a minor line in the bundled catalog, flux2-crd-versions.json, serves and stores
    the same ones), while a release below, of an older line, may still serve what it no longer
    does (2.6.4 serves the ImagePolicy v1beta1 that 2.7.0 removed)."""
    target = versions.parse(release)
    if target.prerelease:  # (2.0.0-rc.1 may differ from the line it precedes: not judged so)
        return None

    def distance(r: str) -> tuple[int, bool]:
        return abs(versions.parse(r).patch - target.patch), versions.parse(r).compare(target) > 0

    line = [
        r
        for r in releases(index, chart_name)
        if _same_line(r, release) and not versions.parse(r).prerelease
    ]
    return resolve_chart_version(index, min(line, key=distance), chart_name) if line else None


def crd_stand_in(index: HelmIndex, chart_name: str, release: str) -> Resolution | None:
    """The release whose chart's CRDs judge ``release``, which no chart carries: the nearest
    of its own minor line (``same_minor_chart``), else the newest below it (``carried_below``:
    a release past every chart of the index, or a pre-release)."""
    return same_minor_chart(index, chart_name, release) or carried_below(index, chart_name, release)


def stand_in_said(stand_in: Resolution, release: str) -> str:
    """Which chart's CRD data stood in for ``release``'s, and why that one (for a warning)."""
    why = (
        "the nearest release of its minor line a chart carries: Flux changes its API versions "
        "only in minor releases"
        if _same_line(stand_in.release, release)
        else "the newest release below it a chart carries: what that no longer serves, "
        f"{release} does not serve either"
    )
    return f"the CRDs of {stand_in.chart_name} {stand_in.chart} (Flux {stand_in.release}, {why})"


def _same_line(one: str, other: str) -> bool:
    a, b = versions.parse(one), versions.parse(other)
    return (a.major, a.minor) == (b.major, b.minor)


def _latest(by_release: dict[str, list[ChartEntry]], pre: bool) -> str:
    eligible = [r for r in by_release if pre or not versions.parse(r).prerelease]
    if not eligible:
        raise ResolutionError("the index has no stable release; use --pre to admit pre-releases")
    return max(eligible, key=versions.sort_key)


def _no_chart_message(by_release: dict[str, list[ChartEntry]], wanted: str, chart: str) -> str:
    target = versions.parse(wanted)
    ordered = sorted(by_release, key=versions.sort_key)
    below = [r for r in ordered if versions.parse(r).compare(target) < 0]
    above = [r for r in ordered if versions.parse(r).compare(target) > 0]
    head = f"Flux release {wanted} has no '{chart}' chart in the index"
    meant = None if above else _release_of_chart(by_release, wanted)
    if meant is not None and below and _next_after(target, versions.parse(below[-1])):
        # Flux 2.9.0 is also chart 2.9.0 of Flux 2.0.0: a release just past an index that
        # does not list it yet is the likelier meaning, and the chart's the other one.
        return (
            f"{head}, whose newest release is {below[-1]}: a Flux {wanted} newer than the index "
            f"has no chart in it yet; {wanted} is also the '{chart}' chart of Flux {meant} "
            f"(to mean that chart, give the release, {meant})"
        )
    if meant is not None:
        return f"{head}: {wanted} is the '{chart}' chart of Flux {meant}; give the release, {meant}"
    nearest = [
        f"{r} -> {max((e.version for e in by_release[r]), key=versions.sort_key)}"
        for r in (below[-1:] + above[:1])
    ]
    hint = f"; nearest releases with a chart: {', '.join(nearest)}" if nearest else ""
    return f"{head}{hint}"


def _next_after(wanted: semver.Version, newest: semver.Version) -> bool:
    """Whether ``wanted`` is at most the next minor release after ``newest``."""
    return wanted.major == newest.major and wanted.minor <= newest.minor + 1


def _release_of_chart(by_release: dict[str, list[ChartEntry]], version: str) -> str | None:
    """The release whose chart has ``version``. Asked only of a version above every release:
    it was meant as the chart (Renovate and a wrapper's Chart.yaml show chart versions); one
    below a release may be a release the index lacks, and is not second-guessed."""
    for release, entries in by_release.items():
        if any(versions.equal(e.version, version) for e in entries):
            return release
    return None


def app_version_of(index: HelmIndex, chart_name: str, chart_version: str) -> str | None:
    """The appVersion the index records for one chart version, or None if it is unknown."""
    entry = index.find(chart_name, chart_version.removeprefix("v")) or index.find(
        chart_name, chart_version
    )
    return entry.app_version if entry else None


def beyond_index(index: HelmIndex, chart_name: str, version: str, *, app: bool = False) -> bool:
    """True when ``version`` (a chart version, or with ``app`` an appVersion) sorts above
    every one the index holds for the chart: an index older than it cannot know it. The
    releases are those of ``releases``: an entry whose chart version is no SemVer (a
    mirror's ``latest``) is one Helm skips, and its appVersion no release the index knows."""
    wanted = versions.try_parse(version.removeprefix("v"))
    if wanted is None:
        return False
    known = (
        releases(index, chart_name) if app else [e.version for e in index.versions_of(chart_name)]
    )
    parsed = [v for v in (versions.try_parse(k.removeprefix("v")) for k in known) if v is not None]
    return all(wanted.compare(v) > 0 for v in parsed)
