"""``renovate-config`` for flux-operator's distribution artifact
(``distribution.artifact: oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v0.58.1``):
``check`` compares its tag with the operator's charts, but no manager of the snippet read it, so
Renovate's pull request moved the charts, left the artifact, and ``check`` failed on it. The
snippet now gives it a ``docker`` regex manager in the ``flux-operator`` group, only where a
repository pins one. Each config is what the recorded schema of Renovate 39 and 42 accepts; the
manager, read as Renovate reads it (tests/support/renovate_regex.py), finds exactly the
artifacts fluxbump reads, on any lines.
"""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fluxbump.scan.sites.operator import manifests_artifacts
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.renovate_regex import updated, values
from tests.test_operator_artifact import APP, ARTIFACT, INSTANCE, RELEASE, repository
from tests.test_renovate import SCHEMAS, _release, generated, problems

DEP = "ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"


def artifact_managers(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in config["customManagers"] if m.get("depNameTemplate") == DEP]


def test_an_artifact_pin_gets_a_docker_manager_in_the_flux_operator_group(
    tmp_path: Path,
) -> None:
    config = generated(repository(tmp_path, INSTANCE))
    (manager,) = artifact_managers(config)
    assert manager["datasourceTemplate"] == "docker"
    assert manager["managerFilePatterns"] == [RELEASE]
    assert values(manager, INSTANCE) == ["v0.58.1"]  # (not the commented v0.40.0)
    (group,) = [r for r in config["packageRules"] if r.get("groupName") == "flux-operator"]
    assert DEP in group["matchDepNames"]
    assert {"flux-operator", "flux-instance"} <= set(group["matchDepNames"])


def test_an_artifact_at_latest_or_by_digest_gets_no_manager(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    for tail in (":latest", f":v0.58.1@{digest}"):
        repo = repository(tmp_path / tail[1:4], INSTANCE.replace(":v0.58.1", tail))
        config = generated(repo)
        assert artifact_managers(config) == []
        (group,) = [r for r in config["packageRules"] if r.get("groupName") == "flux-operator"]
        assert "flux-operator" in group["matchDepNames"]  # (the charts still have theirs)


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_artifact_manager_is_what_each_release_accepts(tmp_path: Path, schema: Path) -> None:
    config = generated(repository(tmp_path, INSTANCE), "--renovate-version", _release(schema))
    (manager,) = artifact_managers(config)
    assert problems(schema, config) == []
    if "fileMatch" in manager:  # Renovate 40 and older: regexes of the paths
        (pattern,) = manager["fileMatch"]
        assert re.search(pattern, RELEASE) and not re.search(pattern, f"x/{RELEASE}")


def test_renovate_s_pull_request_moves_the_artifact_with_the_charts_and_passes_check(
    tmp_path: Path,
) -> None:
    """As Renovate's flux-operator group PR: its flux manager moves both OCIRepository tags
    to 0.59.0 and the snippet's manager the artifact; ``check`` passes on the result."""
    repo = repository(tmp_path, INSTANCE)
    (manager,) = artifact_managers(generated(repo))
    for chart in ("flux-operator", "flux-instance"):
        oci = repo / APP.format(chart, "ocirepository")
        oci.write_text(oci.read_text("utf-8").replace("tag: 0.58.1", "tag: 0.59.0"), "utf-8")
    (release,) = manager["managerFilePatterns"]
    moved = updated(manager, (repo / release).read_text("utf-8"), "v0.59.0")
    assert moved == INSTANCE.replace(":v0.58.1", ":v0.59.0")
    (repo / release).write_text(moved, "utf-8")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr


# Lines naming the artifact (``{a}``, without its tag), and the pin fluxbump reads on each.
ARTIFACT_LINES = {
    "artifact: {a}:v0.1.0": "v0.1.0",
    'artifact: "{a}:v0.2.0"': "v0.2.0",
    "artifact: '{a}:v0.3.0' # the operator's": "v0.3.0",
    "instance: {{distribution: {{artifact: {a}:v0.4.0, version: 2.x}}}}": "v0.4.0",
    '{{"distribution": {{"artifact": "{a}:v0.5.0"}}}}': "v0.5.0",
    "--set instance.distribution.artifact={a}:v0.6.0 \\": "v0.6.0",
    "artifact: {a}:0.7.0": "0.7.0",
    "artifact: {a}:v0.8.0-rc.1": "v0.8.0-rc.1",
    "artifact: {a}:v0.9.0\r": "v0.9.0",  # (CRLF)
    "# artifact: {a}:v0.10.0": None,
    "  // artifact: {a}:v0.11.0": None,
    "artifact: {a}:latest": None,
    "artifact: {a}:v0.13.0@sha256:" + "b" * 64: None,
    "artifact: {a}:v0.14.0.1": None,
    "artifact: {a}:v0.15.0_x": None,
    "artifact: {a}": None,
    "artifact: oci://ghcr.io/fluxcd/flux-manifests:v2.4.0": None,
}


def fluxbump_reads(text: str) -> list[str]:
    return [s.value for s in manifests_artifacts(SourceFile("values.yaml", text.encode(), text))]


@functools.cache
def generated_manager() -> dict[str, Any]:
    """The manager as ``renovate-config`` writes it (made once: hypothesis asks often)."""
    with tempfile.TemporaryDirectory() as tmp:
        (manager,) = artifact_managers(generated(repository(Path(tmp), INSTANCE)))
    return manager


def test_the_artifact_manager_reads_the_lines_fluxbump_reads() -> None:
    manager = generated_manager()
    for line, pin in ARTIFACT_LINES.items():
        text = f"spec:\n  {line.format(a=ARTIFACT)}\nnext: line\n"
        expected = [pin] if pin is not None else []
        assert fluxbump_reads(text) == expected, line
        assert values(manager, text) == expected, line
        assert values(manager, text.rstrip("\n")) == expected, line  # (at the text's end)


def test_artifacts_on_adjacent_lines_and_on_one_line_are_each_read() -> None:
    """A tag ending its line is read up to the line break: with one string over the whole
    file, that break could not also start the next line's match."""
    pins = [f"{ARTIFACT}:v0.{i}.0" for i in range(5)]
    # (a comment first: a line string matching no text there read it 10,000 times, and no pin)
    text = f"# {pins[0]}\n{pins[0]}\n  - {pins[1]}\r\n{pins[2]}\n[{pins[3]}, {pins[4]}]"
    expected = [f"v0.{i}.0" for i in range(5)]
    assert fluxbump_reads(text) == expected
    assert values(generated_manager(), text) == expected


_TOKENS = ["#", "//", "/", " ", "\t", "-", "x", '"', "'", ":", "{", "}", ",", "@", ".", "_",
           "sha256", "latest", "v", "0", "1.2", "-rc", "oci://", "oci://h/", "\r", "\n",
           ARTIFACT + ":v0.1.0"]  # fmt: skip
_LINE = st.tuples(
    st.lists(st.sampled_from(_TOKENS), max_size=6), st.lists(st.sampled_from(_TOKENS), max_size=4)
)


@settings(max_examples=300, deadline=None)
@example([(["  ", "#"], [".", "1"])], "a: b\n")
@example([(["oci://x", "/"], ["@", "sha256"])], "")
@example([([], []), ([], [])], "# c\n")
@given(st.lists(_LINE, min_size=1, max_size=3), st.sampled_from(["", "a: b\n", "# c\n", "\n"]))
def test_the_artifact_manager_and_fluxbump_agree_on_any_lines(
    lines: list[tuple[list[str], list[str]]], head: str
) -> None:
    body = "\n".join("".join(before) + ARTIFACT + ":v0.58.1" + "".join(after)
                     for before, after in lines)  # fmt: skip
    text = head + body + "\nc: d\n"
    assert values(generated_manager(), text) == fluxbump_reads(text)
