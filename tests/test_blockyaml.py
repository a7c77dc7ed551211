"""The fast paths discovery takes give exactly ruamel's answers.

The per-document block reader (``sites.blockyaml``) and the cheap text filters must never
change what discovery finds: same nodes, offsets, lines and columns as ruamel's composer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fluxbump.config import Config
from fluxbump.errors import UsageError
from fluxbump.fleet import FleetSpec, write_fleet
from fluxbump.pins import Role
from fluxbump.scan.discover import discover
from fluxbump.scan.sites import helmrelease
from fluxbump.scan.sites.helmrelease import ClusterScan, _scan_document, scan_manifest
from fluxbump.scan.sources import source_of
from fluxbump.yamlio import blockyaml, yamldoc
from tests.support.data import manifest


def shape(node: Any) -> Any:
    """Everything discovery reads from a node: kind, value, and scalar positions."""
    if node is None:
        return None
    start = node.start_mark
    if yamldoc.is_scalar(node) and node.value == "" and not getattr(node, "style", None):
        # An empty value has no text: libyaml places it after its key's ":", ruamel at the
        # next token. Never a pin (a pin has a version); what it reads as is the same.
        return ("scalar", "")
    if yamldoc.is_scalar(node):
        end = node.end_mark
        return ("scalar", node.value, start.index, start.line, start.column, end.index, end.line)
    if yamldoc.is_mapping(node):
        pairs = [(shape(k), shape(v)) for k, v in node.value]
        return ("mapping", start.index, start.line, start.column, pairs)
    return ("sequence", start.index, start.line, start.column, [shape(v) for v in node.value])


def assert_same_as_ruamel(text: str) -> int:
    """Every document libyaml reads (whole stream and cut document) equals ruamel's node for
    it; returns how many cut documents it read. A document ruamel rejects is one libyaml
    must have refused too."""
    try:
        whole = yamldoc.compose_with_ruamel(text, "t.yaml")
    except UsageError:
        whole = None  # some document is invalid: compare document by document
    if whole is not None:
        assert_compose_all_agrees(text, whole)
    else:
        with pytest.raises(UsageError):
            blockyaml.compose_all(text, "t.yaml")
    segments = blockyaml.split_documents(text)
    if segments is None:
        return 0
    if whole is not None:
        assert len(segments) == len(whole), text
    fast = 0
    for segment in segments:
        node = blockyaml.read_fast(text, segment)
        if node is None:
            continue
        fast += 1
        try:
            alone = blockyaml._compose_with_ruamel(text, segment, "t.yaml")
        except UsageError:
            raise AssertionError(f"read a document ruamel rejects: {text!r}") from None
        assert shape(node) == shape(alone), text
        if whole is not None:
            assert shape(node) == shape(whole[segment.index]), text
    return fast


def assert_compose_all_agrees(text: str, whole: list[Any]) -> None:
    """``compose_all`` (what charts, Blueprints and values are read with) is ruamel's stream."""
    mixed = blockyaml.compose_all(text, "t.yaml")
    assert len(mixed) == len(whole), text
    for node, reference in zip(mixed, whole, strict=True):
        assert shape(node) == shape(reference), text


TRICKY = [
    "\ufeffkind: HelmRelease\r\nspec:\r\n  chart:\r\n    spec:\r\n      chart: bp-flux\r\n"
    '      version: "1.0"  # c\r\n',
    "\ufeff  kind: x\n  b: y\n",
    "# h\n---\n---\na: 1\n--- # x\nb:\n- x\n- y: 1\n  z: 'q'\n-   - n\n    - m\nc: d\n",
    "top:\n  - name: a\n    list:\n    - 1\n    - 2\n  -\n    k: v\nz: ${X}\n",
    'a: b # c\nd: "e # f" # g\ne: http://x:80/y\nf: a#b\ng: né — ü\n',
    "a:\n  b: 1\n  c:\n    - d: 2\n      e: 3\n",
    "k: v\n# comment\n  # indented comment\nk2: v2   \n",
    "a: 1\n---\n",
    "a:\n  - x\n  b: 1\n",
    "a: 1\n b: 2\n",
    "k: a\n  continued\n",
    "k: 'it''s'\n",
    'k: "a\\"b"\n',
    "k: v\nk: w\n",
    "k:\n",
    "a: {b: 1}\n---\nc: |\n  x\n---\nd: [1]\n---\ne: &x 1\nf: *x\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n...\n---\nb: 2\n",
    "a: 1\r\n---\r\nb: 2\rc: 3\n",
    "a:\tb\n",
    "\t# header\n---\nkind: HelmRelease\nx: bp-flux\n",  # ruamel rejects the header's tab
    "a: 1\n---\t\nb: 2\n",  # and a tab on a marker line
    "a: 1\n---\t# c\nb: 2\n",
    "a: 1\n----\nb: 2\n---x\n---",  # no marker but the last (at the end, no line break)
    "a: 1\n--- \nb: 2\n  # c\n---\r\n# only a comment",
    "a: \x01\n---\nb: 2\n",  # control characters: ruamel rejects or counts them its way
    "a: 1\n---\nb: \x7f\x0c\n",
    "\ufeff%YAML 1.2\n---\nname: x\n",  # a directive right after the BOM
    '"q": 1\n',
    "- a\n- b: c\n",
    "up: { chart: flux2, version: \"2.14.1\", repo: 'https://x' }  # c\nn: [a, [b, {c: d}]]\n",
    "a: {b: 1,}\nc: {d}\ne: [a: b]\nf: {url: http://x}\ng: {}\nh: {a: 1, a: 2}\n",
    "a: {b: 1\n  , c: 2}\n",
    "a: [b, c] x\n",
    "a: {b: c #d}\n",
    "a: 1\n&metadata:\n  b: 2\n",  # ruamel rejects a colon in an anchor's name
    "kind: HelmRelease\nx: &a?b bp-flux\n",  # libyaml ends an anchor's name at '?', ruamel not
    "a: |#c\n  x\n",  # and a block scalar's header running into a comment
    "# c\n!:!---\nkind: HelmRelease\n",  # and a '!' inside a tag's suffix (the property found it)
    "kind: HelmRelease\nx: bp-flux\ny: " + "[" * 500 + "\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_block_reader_matches_ruamel_on_tricky_yaml(text: str) -> None:
    assert_same_as_ruamel(text)


def test_block_reader_reads_every_fleet_document_itself(tmp_path: Path) -> None:
    write_fleet(tmp_path, FleetSpec(clusters=("a.example",), filler_files=3))
    for path in sorted(tmp_path.rglob("*.yaml")):
        text = path.read_text("utf-8")
        assert assert_same_as_ruamel(text) == len(blockyaml.split_documents(text) or []), path


# Characters that change YAML structure, inserted anywhere into a real fleet document.
_NOISE = st.text(alphabet=list(" -:#'\"\n\r\t{}[]&*!|>%?,.\ufeff\x85é12ab"), max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_block_reader_matches_ruamel_on_mutated_manifests(data: st.DataObject) -> None:
    text = FLUX_FILE
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(_NOISE) + text[at:]
    # ruamel takes a flow indicator into a tag ('{kind: !Repo, name: x}' is its tag '!Repo,'),
    # which YAML 1.2 forbids and libyaml does not do: ruamel is no oracle for that text.
    assume(not _TAG_THEN_FLOW_INDICATOR.search(text))
    # ruamel reads a '---' line after a block scalar at the top level ('| # c' then '---') as
    # the scalar's text; YAML 1.2 and libyaml end the document there: no oracle either.
    assume(not _ROOT_BLOCK_SCALAR.search(text))
    assert_same_as_ruamel(text)


_TAG_THEN_FLOW_INDICATOR = re.compile(r"![^\s]*[,\[\]{}]")
# (indented too: ' |' at the top level is the same root scalar, and ruamel the same oracle)
_ROOT_BLOCK_SCALAR = re.compile(r"(?m)^[ \t]*(?:---[ \t]+)?[|>]")


def test_a_document_marker_ends_a_top_level_block_scalar_as_yaml_1_2_says() -> None:
    # The oracle of the property above reads the '---' into the scalar (one document), and
    # a comment line after an indented one into its text.
    for text in ("| # c\n---\na: 1\n", " | # c\n---\na: 1\n"):
        assert len(yamldoc.compose_with_ruamel(text, "t.yaml")) == 1
        docs = blockyaml.compose_all(text, "t.yaml")
        assert len(docs) == 2 and docs[0].value == ""
        assert yamldoc.keys(docs[1]) == ["a"]
    text = " |\n# c\n---\na: 1\n"
    assert yamldoc.compose_with_ruamel(text, "t.yaml")[0].value == "# c\n"
    assert blockyaml.compose_all(text, "t.yaml")[0].value == ""  # as libyaml reads it


def test_a_tag_before_a_flow_indicator_is_read_as_yaml_1_2_says_not_as_ruamel_does() -> None:
    node = yamldoc.compose_with_ruamel  # the oracle of the property above refuses this text
    with pytest.raises(UsageError):
        node("a: {kind: !HelmRepository, name: openova}\n", "t.yaml")
    import yaml

    composed = yaml.compose("a: {kind: !HelmRepository, name: openova}\n", Loader=yaml.CSafeLoader)
    ((_, flow),) = composed.value
    assert [(k.value, v.tag, v.value) for k, v in flow.value] == [
        ("kind", "!HelmRepository", ""), ("name", "tag:yaml.org,2002:str", "openova")
    ]  # fmt: skip


_SCALAR = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.$~+=(][A-Za-z0-9_.$~+=(){}: #'\"-]{0,8}", fullmatch=True),
    st.from_regex(r"\"[a-z #:'\\]{0,6}\"", fullmatch=True),
    st.from_regex(r"'[a-z #:\"']{0,6}'", fullmatch=True),
    st.from_regex(r"[{\[][a-z0-9 ,:'\"{}\[\]#]{0,12}[}\]]", fullmatch=True),
)
_KEY = st.from_regex(r"[a-z][a-z0-9_./-]{0,6}", fullmatch=True)


def _render(value: Any, indent: int, step: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, str):
                out.append(f"{pad}{key}: {child}")
            else:
                out.append(f"{pad}{key}:")
                _render(child, indent + step, step, out)
    else:
        for child in value:
            if isinstance(child, str):
                out.append(f"{pad}- {child}")
            else:
                out.append(f"{pad}-")
                _render(child, indent + step, step, out)


_TREE = st.recursive(
    st.dictionaries(_KEY, _SCALAR, min_size=1, max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(_KEY, st.one_of(_SCALAR, inner), min_size=1, max_size=3),
        st.lists(st.one_of(_SCALAR, inner), min_size=1, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(tree=_TREE, step=st.sampled_from([1, 2, 4]), docs=st.integers(1, 3))
def test_block_reader_matches_ruamel_on_generated_block_yaml(
    tree: Any, step: int, docs: int
) -> None:
    lines: list[str] = ["# header"]
    for _ in range(docs):
        lines.append("---")
        _render(tree if isinstance(tree, dict) else {"root": tree}, 0, step, lines)
    assert_same_as_ruamel("\n".join(lines) + "\n")


# --- the cheap filters never drop a pin-site --------------------------------------------------

FLUX_FILE = manifest("flux-release-with-namespace.yaml")

PIN_SPELLINGS = {
    "plain.yaml": "kind: HelmRelease\nmetadata: {name: a}\nspec:\n  chart:\n    spec:\n"
    "      chart: bp-flux\n      version: 1.1.1\n",
    "double.yaml": '# c\n---\nkind: HelmRelease\nmetadata:\n  name: b\nspec:\n  chart:\n    spec:\n      chart: "bp-flux"\n      version: "1.1.1"\n',
    "single.yaml": "kind: HelmRelease\r\nmetadata:\r\n  name: c\r\nspec:\r\n  chart:\r\n"
    "    spec:\r\n      chart: 'bp-flux'\r\n      version: '1.1.1'\r\n",
    "flow.yaml": "---\nkind: Namespace\n---\nkind: HelmRelease\nmetadata: {name: d}\n"
    "spec: {chart: {spec: {chart: bp-flux, version: 1.1.1}}}\n",
    "escaped.yaml": 'kind: "Helm\\x52elease"\nmetadata: {name: e}\nspec:\n  chart:\n    spec:\n'
    '      chart: "bp\\x2dflux"\n      version: 1.1.1\n',
    "oci.yaml": "---\nkind: OCIRepository\nmetadata: {name: f, namespace: x}\n"
    "spec:\n  url: oci://ghcr.io/openova/charts/bp-flux\n  ref:\n    tag: 1.1.1\n",
    "bom.yaml": "\ufeffkind: HelmRelease\nmetadata:\n  name: g\nspec:\n  chart:\n    spec:\n"
    "      chart: bp-flux\n      version: 1.1.1\n",
    "flux.yaml": FLUX_FILE,
}


def whole_file_sites(text: str, rel: str) -> list[tuple[Any, ...]]:
    """What discovery found before documents were split: every document composed by ruamel."""
    scan = ClusterScan([], [])
    source = source_of(rel, text.encode("utf-8"))
    names = frozenset({"bp-flux", "bp-catalyst-platform"})
    for index, root in enumerate(yamldoc.compose_documents(text, rel)):
        _scan_document(source, index, root, names, scan)
    sites = scan.sites + [r.tag for r in scan.oci_repositories if r.tag and r.chart in names]
    return sorted((s.line, s.column, s.start, s.end, s.doc_index, s.value) for s in sites)


def test_every_pin_spelling_is_found_where_ruamel_finds_it(tmp_path: Path) -> None:
    write_fleet(tmp_path, FleetSpec(clusters=()))
    for name, text in PIN_SPELLINGS.items():
        (tmp_path / "clusters/_template" / name).write_bytes(text.encode("utf-8"))
    found = discover(tmp_path, Config())
    for name, text in PIN_SPELLINGS.items():
        rel = f"clusters/_template/{name}"
        sites = [s for s in found.releases if s.file == rel]
        got = sorted((s.line, s.column, s.start, s.end, s.doc_index, s.value) for s in sites)
        assert got == whole_file_sites(text, rel), name
        assert len(got) == 1, name
    roles = {s.role for s in found.releases}
    assert roles == {Role.HELMRELEASE, Role.OCI_TAG}


def test_depends_on_passes_the_filter_but_is_not_a_pin() -> None:
    text = "kind: HelmRelease\nspec:\n  dependsOn:\n    - name: bp-flux\n  chart:\n    spec:\n"
    text += "      chart: other\n      version: 1.0.0\n"
    scan = scan_manifest(source_of("x.yaml", text.encode()), frozenset({"bp-flux"}))
    assert scan.sites == []


# One document of each kind the scan reads, as a fleet repeats them in every cluster.
_REPEATED = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: bp-flux\n"
    "  namespace: flux-system\nspec:\n  chart:\n    spec:\n      chart: bp-flux\n"
    '      version: "1.1.1"\n---\nkind: OCIRepository\nmetadata:\n  name: bp-flux\nspec:\n'
    "  url: oci://r.example/charts/bp-flux\n  ref:\n    tag: 1.1.1\n---\nkind: HelmRelease\n"
    "metadata:\n  name: flux\nspec:\n  chart:\n    spec:\n      version: 1.1.1\n---\n"
    "kind: Kustomization\nmetadata:\n  name: k\nspec:\n  patches:\n    - target:\n"
    "        kind: HelmRelease\n        name: flux\n      patch: |\n        - op: replace\n"
    "          path: /spec/chart/spec/version\n          value: 1.1.1\n"
)


def _scan_afresh(rel: str, text: str, charts: frozenset[str]) -> ClusterScan:
    helmrelease._memo.clear()
    return scan_manifest(source_of(rel, text.encode()), charts)


@pytest.mark.parametrize(
    ("header", "new_texts"),
    [("", 0), ("# c0\n---\n", 0), ("# a longer header\n#\n---\n", 0), ("\ufeff", 1)],
)
def test_a_repeated_document_is_found_where_a_fresh_scan_finds_it(
    header: str, new_texts: int
) -> None:
    """The scan remembers what a document's text yields; met again in another file, at
    another offset and line, it must give exactly what scanning that file afresh gives."""
    charts = frozenset({"bp-flux", "flux"})
    first = _scan_afresh("a.yaml", "# first\n---\n" + _REPEATED, charts)
    assert (len(first.sites), len(first.oci_repositories), len(first.patches)) == (1, 1, 2)
    # Remembered: every document (libyaml reads the Kustomization's literal block too).
    assert len(helmrelease._memo) == 4
    again = scan_manifest(source_of("b.yaml", (header + _REPEATED).encode()), charts)
    assert len(helmrelease._memo) == 4 + new_texts  # a BOM makes the first text another
    assert again == _scan_afresh("b.yaml", header + _REPEATED, charts)
    assert {s.file for s in again.sites} == {"b.yaml"}


def test_a_document_with_a_duplicate_key_is_not_remembered() -> None:
    """Its warning names the file and line: each file that holds it must warn on its own."""
    text = "kind: HelmRelease\nspec:\n  chart:\n    spec:\n      chart: bp-flux\n"
    text += "      version: 0.9.0\n      version: &v 1.0.0\n"
    yamldoc.reading_warnings()
    scan = _scan_afresh("x.yaml", text, frozenset({"bp-flux"}))
    assert [s.value for s in scan.sites] == ["1.0.0"]
    assert helmrelease._memo == {}
    again = scan_manifest(source_of("y.yaml", text.encode()), frozenset({"bp-flux"}))
    assert [(s.file, s.line) for s in again.sites] == [("y.yaml", 7)]
    warned = yamldoc.reading_warnings()
    assert [w.split(":")[:2] for w in warned] == [["x.yaml", "7"], ["y.yaml", "7"]]


@pytest.mark.parametrize("text", TRICKY)
def test_pure_pyyaml_gives_the_same_trees(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml's C extension PyYAML's own composer is used: same nodes and marks
    (it counts a byte-order mark that libyaml skips, so no offset is moved for it)."""
    import yaml

    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    monkeypatch.setattr(yaml.cyaml, "CParser", None)  # any use of the C parser fails loudly
    assert_same_as_ruamel(text)


_HEADER_LINE = st.sampled_from(["", "#", "# cluster c0001.sovereign.example", "#---", "# -- x"])
_STREAM_PART = st.sampled_from([
    "---\n", "---", "--- # c\n", "--- |\n", "----\n", "---x\n", "...\n", "%YAML 1.2\n",
    "a: 1\n", "kind: HelmRelease\n", "# note\n", "\n", "\tb: 2\n", "c: 3\r\n", "d: 4\r",
    "e: é\n", "| x\n", "\ufeff", "- f\n",
])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_HEADER_LINE, min_size=1, max_size=3),
    st.lists(_HEADER_LINE, min_size=1, max_size=4),
    st.lists(_STREAM_PART, min_size=1, max_size=6),
)
def test_a_file_cut_like_another_after_its_header_is_cut_as_a_fresh_file_is(
    first: list[str], second: list[str], parts: list[str]
) -> None:
    # Fleet files differ in their comment header only: the second is cut from what the first
    # was, moved by the header's length and lines, and must equal cutting it afresh.
    body = "".join(parts)
    blockyaml._memo.clear()
    for header in (first, second, second):
        text = "".join(line + "\n" for line in header) + body
        assert blockyaml.split_documents(text) == blockyaml._split(text), text
