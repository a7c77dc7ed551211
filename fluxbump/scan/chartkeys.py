"""A script's release variable read from a chart's ``Chart.yaml`` with yq, followed to that key.

A chart built from a Flux release's own manifests keeps the release in its ``appVersion``
and its build script reads it there: giantswarm/flux-app's ``hack/flux-manifest.sh`` sets
``VERSION=$(yq '.appVersion' ./helm/flux-app/Chart.yaml)``, then downloads
``…/releases/download/v${VERSION}/install.yaml``. The script assigns no literal, so
``kustomizeremote.follow_file_variables`` leaves the URL unproven; the chart's key is the
pin (shown, checked and moved as the URL's release), and the chart is Flux's own.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from fluxbump.pins import READ_BY, PinSite
from fluxbump.scan.sites.chart import ChartFile
from fluxbump.scan.sites.kustomizeremote import variable_name
from fluxbump.scan.sources import LINE_START, SourceFile

# ``NAME=$(yq '.appVersion' path/Chart.yaml)`` (``yq e``/``eval``, flags such as ``-r``,
# quotes or none, after ``export``/``readonly``/``local``): a top-level key of one chart.
_YQ_READ = (
    rf"{LINE_START}[ \t]*(?:(?:export|readonly|local)[ \t]+)?{{name}}=[\"']?\$\([ \t]*yq"
    r"(?:[ \t]+(?:e|eval|-[-\w]+))*[ \t]+(?P<q>[\"']?)\.(?P<key>appVersion|version)(?P=q)"
    r"[ \t]+[\"']?(?P<path>[^\s\"'()]*Chart\.yaml)[\"']?[ \t]*\)"
)


def follow_chart_keys(
    pins: list[PinSite], read: Callable[[str], SourceFile | None], charts: Iterable[ChartFile]
) -> list[PinSite]:
    """``pins`` with each release variable its own file reads from a chart's ``appVersion``
    or ``version`` with yq replaced by that key's site; any other pin is kept as it is."""
    by_file = {chart.file: chart for chart in charts}
    followed: list[PinSite] = []
    seen: set[tuple[str, int]] = set()  # (two URLs of one variable: one key)
    for pin in pins:
        name = variable_name(pin.value)
        source = read(pin.file) if name else None
        keys = _read_keys(source, name, by_file) if source is not None else []
        owner = f"{pin.owner} (${name}{READ_BY}{pin.file})"
        for key in (k for k in keys if (k.file, k.start) not in seen):
            seen.add((key.file, key.start))
            followed.append(replace(key, role=pin.role, subject=pin.subject, owner=owner))
        followed += [] if keys else [pin]
    return followed


def reading_script(site: PinSite) -> str | None:
    """The script that reads the release from ``site``, a chart key ``follow_chart_keys``
    followed (None for any other site)."""
    head, found, script = site.owner.rpartition(READ_BY)
    return script[:-1] if found and head and script.endswith(")") else None


def _read_keys(source: SourceFile, name: str, by_file: dict[str, ChartFile]) -> list[PinSite]:
    pattern = re.compile(_YQ_READ.format(name=re.escape(name)))
    sites = []
    for read in pattern.finditer(source.text):
        chart = _chart_at(read.group("path"), source.rel, by_file)
        if chart is None:
            continue  # a chart this repository does not hold (or cannot read): unproven
        site = chart.app_version if read.group("key") == "appVersion" else chart.version
        if site is not None:
            sites.append(site)
    return sites


def _chart_at(path: str, script: str, by_file: dict[str, ChartFile]) -> ChartFile | None:
    """The chart at ``path`` as the script runs: from the repository's root (a Makefile's
    ``./hack/x.sh``), else from the script's own directory."""
    for base in ("", posixpath.dirname(script)):
        rel = posixpath.normpath(posixpath.join(base, path))
        if rel in by_file:
            return by_file[rel]
    return None
