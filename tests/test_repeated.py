"""A cluster file whose body an earlier file of the same scan had is answered from what that
file yielded (``scan/repeated.py``): the answer must be what scanning it alone gives."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxbump.scan.releases import ScannedFiles, _may_hold_release_pins, scan_files
from fluxbump.scan.sites.fluxcli import may_hold_written_cli_pin
from fluxbump.scan.sites.fluxinstance import may_hold_instance
from fluxbump.scan.sites.fluxmanifests import may_hold_flux_manifests
from fluxbump.scan.sites.operator import may_hold_operator_chart
from fluxbump.scan.sources import as_utf8
from fluxbump.yamlio import yamldoc

NAMES = frozenset({"bp-kyverno", "bp-flux"})

BODY = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bp-kyverno
  namespace: kyverno
spec:
  dependsOn:
    - name: bp-flux
  chart:
    spec:
      chart: bp-kyverno
      version: 1.6.1
"""
# Names bp-flux only as a dependsOn entry: no pin, not a candidate.
WAITING = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  dependsOn:
    - name: bp-flux
  chart:
    spec:
      chart: app
      version: 1.0.0
"""


def write(root: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return list(files)


def together(root: Path, rels: list[str]) -> ScannedFiles:
    return scan_files(str(root), {}, NAMES, rels)


def alone(root: Path, rels: list[str]) -> ScannedFiles:
    """Each file scanned by its own call: nothing met before can answer it."""
    out = ScannedFiles()
    for rel in rels:
        one = scan_files(str(root), {}, NAMES, [rel])
        out.sources.update(one.sources)
        out.sites += one.sites
        out.patches += one.patches
        out.unreadable += one.unreadable
        out.api_versions.update(one.api_versions)
        out.substituting += one.substituting
        out.instances += one.instances
    return out


def assert_same(root: Path, rels: list[str]) -> ScannedFiles:
    got, expected = together(root, rels), alone(root, rels)
    assert got.sites == expected.sites
    assert got.patches == expected.patches
    assert got.unreadable == expected.unreadable
    assert got.api_versions == expected.api_versions
    assert got.substituting == expected.substituting
    assert got.instances == expected.instances
    assert list(got.sources) == list(expected.sources)
    assert all(got.sources[rel] == expected.sources[rel] for rel in got.sources)
    return got


def test_identical_files_give_the_same_sites_each_with_its_own_path(tmp_path: Path) -> None:
    rels = write(tmp_path, {f"clusters/c{i}/kyverno.yaml": BODY for i in range(3)})
    got = assert_same(tmp_path, rels)
    assert [s.file for s in got.sites] == rels
    assert {(s.line, s.start, s.value) for s in got.sites} == {(13, BODY.index("1.6.1"), "1.6.1")}


def test_files_differing_in_a_comment_header_give_sites_at_their_own_lines(
    tmp_path: Path,
) -> None:
    headers = ["", "# cluster c1\n", "# The kyverno wrapper for cluster c22.\n#\n\n"]
    rels = write(tmp_path, {f"clusters/c{i}/kyverno.yaml": h + BODY for i, h in enumerate(headers)})
    got = assert_same(tmp_path, rels)
    assert [s.line for s in got.sites] == [13, 14, 16]
    texts = [(tmp_path / rel).read_text() for rel in rels]
    assert all(t[s.start : s.end] == "1.6.1" for t, s in zip(texts, got.sites, strict=True))


def test_a_file_differing_by_one_byte_is_scanned_anew(tmp_path: Path) -> None:
    changed = BODY.replace("1.6.1", "1.6.2")
    rels = write(tmp_path, {"a/kyverno.yaml": BODY, "b/kyverno.yaml": changed})
    got = assert_same(tmp_path, rels)
    assert [s.value for s in got.sites] == ["1.6.1", "1.6.2"]


def test_a_header_naming_a_chart_or_kind_is_read_with_the_file(tmp_path: Path) -> None:
    # The dependsOn entry alone is no pin; a header naming the chart makes the file a
    # candidate (the byte test counts every mention), so its answer is not the first file's.
    rels = write(
        tmp_path,
        {
            "a/app.yaml": WAITING,
            "b/app.yaml": "# waits for bp-flux\n" + WAITING,
            "c/app.yaml": "# a HelmRelease\n" + WAITING,
            "d/app.yaml": "# waits for bp-\\x66lux\n" + WAITING,  # as an escape spells it
        },
    )
    got = assert_same(tmp_path, rels)
    assert list(got.sources) == ["b/app.yaml", "d/app.yaml"]


def test_a_file_that_fails_or_warns_is_reported_at_each_path(tmp_path: Path) -> None:
    broken = BODY.replace("  namespace: kyverno\n", "  namespace: [kyverno\n")
    twice = BODY.replace("  namespace: kyverno\n", "  namespace: kyverno\n  namespace: x\n")
    files = {"a/broken.yaml": broken, "b/broken.yaml": "# b\n" + broken}
    files |= {"a/twice.yaml": twice, "b/twice.yaml": "# b\n" + twice}
    rels = write(tmp_path, files)
    yamldoc.reading_warnings()
    got = together(tmp_path, rels)
    warned = yamldoc.reading_warnings()
    assert [u.file for u in got.unreadable] == ["a/broken.yaml", "b/broken.yaml"]
    assert [u.line for u in got.unreadable] == [7, 8]
    assert [w.partition(":")[0] for w in warned] == ["a/twice.yaml", "b/twice.yaml"]
    assert_same(tmp_path, rels)


def test_a_forked_half_sends_the_copies_body_once_and_the_parent_gets_each_file(
    tmp_path: Path,
) -> None:
    big = BODY + "".join(f"  # filler line {i}\n" for i in range(200))
    rels = write(tmp_path, {f"clusters/c{i}/kyverno.yaml": f"# c{i}\n" + big for i in range(20)})
    got = together(tmp_path, rels)
    payload = pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(payload) < 5 * len(big.encode())  # (the first file and the body; not 20x)
    received = pickle.loads(payload)
    assert list(received.sources) == rels
    for rel in rels:
        assert received.sources[rel] == alone(tmp_path, [rel]).sources[rel]
        assert received.sources[rel].raw == (tmp_path / rel).read_bytes()
    assert received.sites == got.sites


# Header lines a fleet's renderer might write, and ones that name what the scan looks for.
HEADER_LINES = st.sampled_from(
    [
        "# cluster c1",
        "# The bp-kyverno wrapper for ${CLUSTER_NAME}.",
        "# waits for bp-flux",
        "# a HelmRelease",
        "# {{ .Values.x }}",
        "# bp-\\x66lux",
        "# fluxcd/flux2 distribution, postBuild",
        "# see postBuild",
        "# flux-operator",
        "#",
        "",
    ]
)
SUBSTITUTING = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  postBuild:
    substitute:
      KYVERNO_VERSION: 1.6.1
"""
INSTANCE = """---
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
spec:
  distribution:
    version: 2.4.0
"""
BODIES = st.sampled_from(
    [BODY, WAITING, BODY.replace("1.6.1", "1.6.2"), WAITING + BODY, SUBSTITUTING, INSTANCE]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(HEADER_LINES, max_size=3), BODIES), min_size=2, max_size=6))
def test_any_headers_over_any_bodies_answer_as_each_file_alone(
    files: list[tuple[list[str], str]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        texts = {f"c{i}/app.yaml": "".join(f"{line}\n" for line in header) + body
                 for i, (header, body) in enumerate(files)}  # fmt: skip
        assert_same(root, write(root, texts))


# Pieces of what each release-pin test looks for, and near misses of them.
NEEDLE_PIECES = st.sampled_from(
    [
        "distribution", "FluxInstance", "instance:", "flux-instance", "flux-operator",
        "fluxcd/flux", "fluxcd/flux2", "github.com/fluxcd/flux2/releases/download/v2.4.0/",
        "fluxcd/flux-cli:v2.4.0", "fluxcd.io/install.sh", "fluxcd/flux2/main/install/flux.sh",
        "flux", "fluxcd", "cd/", "-instance", "-operator", ".io/install", "\n", " ", "kind: ",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(NEEDLE_PIECES, max_size=6), st.booleans())
def test_the_release_needles_answer_as_the_tests_they_stand_for(
    pieces: list[str], wide: bool
) -> None:
    text = "".join(pieces)
    raw = text.encode("utf-16") if wide else text.encode()
    spelled = as_utf8(raw)
    expected = (
        may_hold_instance(spelled)
        or may_hold_operator_chart(spelled)
        or may_hold_flux_manifests(spelled)
        or may_hold_written_cli_pin(spelled)
    )
    assert _may_hold_release_pins(raw) == expected


@pytest.mark.parametrize(
    "word",
    ["postBuild", "distribution", "flux-instance", "flux-operator", "fluxcd/flux2",
     "fluxcd.io/install.sh", "HelmChart", "bp-flux", "nothing"],
)  # fmt: skip
@pytest.mark.parametrize("body", [BODY, WAITING, SUBSTITUTING, INSTANCE])
def test_a_copy_whose_header_holds_what_a_test_looks_for_answers_as_alone(
    tmp_path: Path, word: str, body: str
) -> None:
    rels = write(tmp_path, {"a/app.yaml": "# c1\n" + body, "b/app.yaml": f"# {word}\n" + body})
    assert_same(tmp_path, rels)
