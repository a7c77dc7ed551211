"""The scan's Flux API versions of a file (``scan/apiversions.py``) against the line-anchored
patterns ``crds/migrate.py`` applied to the decoded text before: the same answer, in order."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.config import Config
from fluxbump.fleet import FleetSpec, write_fleet
from fluxbump.scan.apiversions import api_versions
from fluxbump.scan.discover import survey
from fluxbump.scan.sources import MAX_FILE_BYTES

# The patterns as migrate.py had them over the decoded text, a line ending at CR, LF or CRLF
# as YAML's do (§5.4): ``^`` and ``$`` in MULTILINE mode know LF only.
_START, _END = r"(?:(?<=\A)|(?<=[\r\n]))", r"(?=\r|\n|\Z)"
_API = re.compile(
    _START
    + r"apiVersion:[ \t]*['\"]?([a-z.]*fluxcd\.io)/([a-z0-9]+)['\"]?[ \t]*(?:#[^\r\n]*)?"
    + _END
)
_KIND = re.compile(_START + r"kind:[ \t]*['\"]?([A-Za-z0-9]+)")


def reference(raw: bytes) -> tuple[tuple[str, str, tuple[str, ...]], ...] | None:
    if b"fluxcd.io/" not in raw:
        return ()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    kinds = tuple(sorted(set(_KIND.findall(text))))
    return tuple((group, version, kinds) for group, version in _API.findall(text))


LINES = st.sampled_from(
    [
        "apiVersion: helm.toolkit.fluxcd.io/v2",
        "apiVersion: 'source.toolkit.fluxcd.io/v1beta2' # old",
        'apiVersion: "image.toolkit.fluxcd.io/v1beta1"\r',
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "  apiVersion: helm.toolkit.fluxcd.io/v2beta1",
        "apiVersion:\thelm.toolkit.fluxcd.io/v2 \t",
        "kind: HelmRelease",
        "kind: 'OCIRepository'",
        "  kind: Nested",
        "kind:Kustomization\r",
        "---",
        "# apiVersion: helm.toolkit.fluxcd.io/v2beta1",
        "metadata: {name: é}",
        "\ufeffapiVersion: helm.toolkit.fluxcd.io/v2",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_the_scan_finds_what_the_line_patterns_found(
    lines: list[str], eol: str, final_eol: bool
) -> None:
    raw = (eol.join(lines) + (eol if final_eol else "")).encode()
    assert api_versions(raw) == reference(raw)


def test_the_first_line_counts_and_kinds_are_sorted_once() -> None:
    raw = b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n---\n" + (
        b"apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: HelmRepository\n"
    )
    kinds = ("HelmRelease", "HelmRepository")
    assert api_versions(raw) == (
        ("helm.toolkit.fluxcd.io", "v2", kinds),
        ("source.toolkit.fluxcd.io", "v1beta2", kinds),
    )


def test_a_file_fluxbump_cannot_read_is_left_to_the_check() -> None:
    assert api_versions(b"apiVersion: helm.toolkit.fluxcd.io/v2\n# \xff\n") is None
    assert api_versions(b"apiVersion: helm.toolkit.fluxcd.io/v2\n" + b"#" * MAX_FILE_BYTES) is None
    assert api_versions(b"\xff no flux api here") == ()


def test_the_survey_hands_the_check_every_cluster_file_s_versions_and_only_for_flux(
    tmp_path: Path,
) -> None:
    """A survey answers for each cluster file as ``api_versions`` of its bytes; narrowed to a
    component other than Flux (whose check never reads them) it finds none."""
    write_fleet(tmp_path, FleetSpec(clusters=("a.example", "b.example"), wrappers=2))
    config = Config()
    whole = survey(tmp_path, config)
    assert whole.api_versions and whole.roles.clusters
    for rel in whole.roles.clusters:
        assert whole.api_versions[rel] == api_versions((tmp_path / rel).read_bytes()), rel
    other = next(c.name for c in whole.components if not c.is_flux)
    assert survey(tmp_path, config, (other,)).api_versions == {}
    assert survey(tmp_path, config, ("flux",)).api_versions == whole.api_versions
