"""A big Helm index is read per chart: cut into one text per chart, each parsed when first
consulted. The answers are the whole parse's, for every chart, on generated layouts, the
real snapshot and texts built to fool the cut; a text the cut cannot prove is parsed whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxbump.errors import IndexUnreadable, ResolutionError
from fluxbump.remote import index
from tests.support.cli_runner import run_cli

SNAPSHOT = Path(index.__file__).parent.parent / "data" / index.SNAPSHOT_NAME
SHARED_SNAPSHOT = Path("/work/shared/data") / index.SNAPSHOT_NAME


def whole_or_error(text: str) -> index.HelmIndex | str:
    try:
        return index._parse_whole(text, "u")
    except ResolutionError as exc:
        return exc.message


def assert_as_whole(text: str) -> index.HelmIndex | None:
    """The per-chart index of ``text`` answers as the whole parse does for every chart; where
    the whole text does not parse, a chart either reads alone or fails with its message; a
    skeleton that is no Helm index (no apiVersion) is refused as the whole parse refuses it."""
    try:
        lazy = index.per_chart_index(text, "u")
    except ResolutionError:
        assert isinstance(whole_or_error(text), str)
        return None
    if lazy is None:
        return None
    whole = whole_or_error(text)
    if isinstance(whole, str):
        for chart in lazy.entries:
            try:
                lazy.entries[chart]
            except IndexUnreadable as exc:
                assert exc.message == whole
        return lazy
    assert list(lazy.entries) == list(whole.entries)
    for chart in whole.entries:
        assert lazy.entries[chart] == whole.entries[chart], chart
        assert lazy.refused.get(chart, ()) == whole.refused.get(chart, ()), chart
    assert dict(lazy.refused) == dict(whole.refused)
    return lazy


# --- generated indexes -------------------------------------------------------------------

NAMES = ["flux2", "flux2-sync", "app", "true", "null", "1", "1.0", "a.b", "-x", "x:y", "~", "é"]
WORDS = ["2.4.0", "1.0", "text", "a: b", "it's", 'say "hi"', "#x", "[a]", "{b}", "&a", "*a",
         "!x", "- z", "? q", "", "  ", "x\\y", "%p", "@at", "a #b", "v1|2", ">x"]  # fmt: skip
# Lines a block scalar may hold: to the cut they look like the nodes it must not trust.
BLOCK_LINES = ['- "open', "key: [a,", "'quoted", "  deep: |", "plain text", "x: {", "#c", ""]


@st.composite
def scalar(draw: st.DrawFn, indent: int) -> str:
    """One value in one of YAML's styles, some of them spanning lines."""
    word = draw(st.sampled_from(WORDS))
    style = draw(st.sampled_from(["plain", "plain", "double", "single", "multi", "block", "flow"]))
    pad = " " * indent
    if style == "double":
        return json.dumps(word)
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    if style == "multi":  # a quoted scalar broken across lines, continued at any indentation
        cont = " " * draw(st.integers(0, indent + 2))
        return f'"{word} and\n{cont}{draw(st.sampled_from(WORDS)).replace(chr(34), "")}"'
    if style == "block":
        lines = draw(st.lists(st.sampled_from(BLOCK_LINES), min_size=1, max_size=3))
        deeper = pad + " " * draw(st.integers(1, 3))
        return draw(st.sampled_from(["|", ">-", "|+"])) + "".join(f"\n{deeper}{x}" for x in lines)
    if style == "flow":
        return "[" + ", ".join(json.dumps(w) for w in draw(st.lists(st.sampled_from(WORDS))))
    return word if word and word.strip() == word and word[0] not in "#&*!?%@[{-|>'\"" else "x"


@st.composite
def entry(draw: st.DrawFn, name: str, dash: str, indent: int) -> str:
    """One chart version: ``- key: value`` lines at ``indent``."""
    keys = draw(st.permutations(["version", "appVersion", "name", "digest", "urls", "note"]))
    lines = []
    for key in keys[: draw(st.integers(1, len(keys)))]:
        if key == "urls" and draw(st.booleans()):
            lines.append(f"urls:\n{' ' * indent}- https://x.test/{name}.tgz")
        elif key == "name":
            lines.append(f"name: {json.dumps(name)}")
        else:
            value = draw(scalar(indent))
            closes = "]" if value.startswith("[") and draw(st.booleans()) else ""
            lines.append(f"{key}: {value}{closes}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(f"# note {draw(st.sampled_from(WORDS))}")
    pad = " " * indent
    return dash + f"\n{pad}".join(lines)


@st.composite
def index_text(draw: st.DrawFn) -> str:
    """A block-style index in a random layout, sometimes with what Helm never writes."""
    n = draw(st.integers(1, 4))
    indentless = draw(st.booleans())
    seq = n if indentless else n + 2
    charts = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5))
    body = []
    for chart in charts:
        key = draw(st.sampled_from([chart, json.dumps(chart), f"'{chart}'"]))
        comment = draw(st.sampled_from(["", "  # c", " #c"]))
        body.append(f"{' ' * n}{key}:{comment}")
        for _ in range(draw(st.integers(0, 3))):
            item = draw(entry(chart, "- ", seq + 2))
            body.append(" " * seq + item)
        if draw(st.integers(0, 5)) == 0:
            body.append(" " * draw(st.integers(0, n + 3)) + "# between charts")
    head = draw(st.sampled_from(["apiVersion: v1\n", "", "serverInfo: {}\napiVersion: v1\n"]))
    tail = draw(st.sampled_from(['generated: "2026-04-15"\n', "", "apiVersion: v1\n"]))
    text = head + "entries:\n" + "\n".join(body) + "\n" + tail
    return draw(mutated(text))


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text, or the text with one character inserted or removed anywhere."""
    kind = draw(st.sampled_from(["same", "same", "insert", "delete", "prefix"]))
    at = draw(st.integers(0, len(text)))
    if kind == "insert":
        return text[:at] + draw(st.sampled_from(list("\"':[]{}#-\n &*!|>\t\r"))) + text[at:]
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    if kind == "prefix":
        return draw(st.sampled_from(["---\n", "\ufeff", "%YAML 1.2\n---\n", "# c\n"])) + text
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_text())
def test_each_chart_read_alone_answers_as_the_whole_parse(text: str) -> None:
    assert_as_whole(text)


def test_the_generated_layouts_are_mostly_cut() -> None:
    """The property above must test the cut, not only its refusals: a fixed layout with
    quoted keys, comments, block scalars and multi-line plain text is cut."""
    text = (
        "apiVersion: v1\nentries:\n  flux2:  # the chart\n  - name: flux2\n    version: 2.1.0\n"
        '    created: "2024-01-01"\n    description: |\n      - "open\n      key: [a,\n'
        "    note: plain text that\n      goes on\n# a comment at column 0\n  2:\n"
        '    - version: "1"\n      appVersion: 2.0.0\n  true:\ngenerated: x\n'
    )
    lazy = assert_as_whole(text)
    assert lazy is not None
    assert list(lazy.entries) == ["flux2", "2", "True"]  # (as YAML types them)
    assert lazy.entries["flux2"][0].version == "2.1.0"


# --- texts built to fool the cut ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # A double-quoted scalar running over a line shaped like a chart key (libyaml does
        # not ask its continuation lines for indentation): there is no chart 'b'.
        'entries:\n  a:\n  - version: "1.0 and\n  b:\n  - version: 2.0"\n    name: a\n',
        # The same with a single-quoted scalar, and with a flow sequence.
        "entries:\n  a:\n  - version: '1.0\n  b:\n  - x'\n",
        "entries:\n  a:\n  - urls: [x,\n  b: y]\n    version: '1'\n",
        # An anchor in one chart, its alias in another.
        "entries:\n  a:\n  - &e {version: '1'}\n  b:\n  - *e\n",
        # A document marker, a tag, a BOM, CRLF, a tab, a JSON index, a key with its value.
        "entries:\n  a:\n  - version: '1'\n---\nentries: {}\n",
        "entries:\n  a:\n  - version: !!str 1\n  b: []\n",
        "\ufeffentries:\n  a:\n  - version: '1'\n",
        "entries:\r\n  a:\r\n  - version: '1'\r\n",
        "entries:\r  a:\r  - version: '1'\r",  # (lone CRs: the cut's lines end at LF alone)
        "entries:\n  a:\n  - version:\t'1'\n",
        '{"entries": {"a": [{"version": "1"}]}}',
        "entries:\n  a: [{version: '1'}]\n  b:\n  - version: '2'\n",
        # Odd indentation: a line left of the charts' keys.
        "entries:\n   a:\n   - version: '1'\n  b:\n  - version: '2'\n",
        # The same chart twice (YAML refuses it; the whole parse says where).
        "entries:\n  a:\n  - version: '1'\n  a:\n  - version: '2'\n",
        # An 'entries' key twice.
        "entries:\n  a:\n  - version: '1'\nentries:\n  b:\n  - version: '2'\n",
    ],
)
def test_a_text_the_cut_cannot_prove_is_parsed_whole(text: str) -> None:
    assert index.per_chart_index(text, "u") is None
    assert isinstance(whole_or_error(text), (str, index.HelmIndex))


def test_a_block_scalar_holding_key_like_lines_is_cut_and_read_as_text() -> None:
    text = (
        "apiVersion: v1\nentries:\n  a:\n  - description: |\n      \"open\n  b:\n  - version: '2'\n"
        "    annotations:\n      changes: >-\n        - [x,\n        y: 'z\n"
        "  c:\n  - |\n    free text\n"
    )
    lazy = assert_as_whole(text)
    assert lazy is not None and list(lazy.entries) == ["a", "b", "c"]


# --- real indexes ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SNAPSHOT, SHARED_SNAPSHOT], ids=["bundled", "shared"])
def test_the_real_snapshot_is_cut_and_read_as_the_whole_parse(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")  # (the shared copy: the lead's machine)
    lazy = assert_as_whole(path.read_text("utf-8"))
    assert lazy is not None and set(lazy.entries) >= {"flux2", "flux2-sync"}


# --- a big index, end to end -------------------------------------------------------------


def big_index(snapshot: str) -> str:
    """The real snapshot behind enough other charts to pass ``LAZY_MIN_CHARS`` (~5 MB)."""
    head, charts = snapshot.split("entries:\n", 1)
    entry = (
        '  - apiVersion: v2\n    appVersion: 9.0.{i}\n    created: "2024-01-01T00:00:00Z"\n'
        "    digest: {i:064d}\n    name: {name}\n    urls:\n"
        "    - https://example.invalid/{name}-1.0.{i}.tgz\n    version: 1.0.{i}\n"
    )
    noise = [
        f"  app{c}:\n" + "".join(entry.format(i=i, name=f"app{c}") for i in range(100))
        for c in range(200)
    ]
    text = head + "entries:\n" + "".join(noise) + charts
    assert len(text) >= index.LAZY_MIN_CHARS
    return text


def test_a_big_index_parses_only_the_charts_consulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index.yaml"
    path.write_text(big_index(SNAPSHOT.read_text("utf-8")), "utf-8")
    parsed: list[int] = []
    safe_load = index._safe_load

    def counted(text: str, url: str) -> object:
        parsed.append(len(text) - text.count("\n"))  # (the skeleton is its lines, blank)
        return safe_load(text, url)

    monkeypatch.setattr(index, "_safe_load", counted)
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", str(path), "--json")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["candidates"] == ["2.14.1", "2.14.0"]
    flux2 = SNAPSHOT.read_text("utf-8").split("\n  flux2:\n")[1].split("\n  flux2-")[0]
    assert sum(parsed) < len(flux2) + 1000, parsed  # the skeleton and flux2, never all of it


def test_a_syntax_error_in_a_chart_never_consulted_goes_unreported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Helm, loading the whole file, would refuse this index; fluxbump reads the charts it
    consults exactly and does not parse the rest to find the error. (Any size is read per
    chart here: a whole parse of a broken 5 MB text, ruamel's to explain, takes ~15 s.)"""
    monkeypatch.setattr(index, "LAZY_MIN_CHARS", 0)
    snapshot = SNAPSHOT.read_text("utf-8")
    path = tmp_path / "index.yaml"
    path.write_text(snapshot.replace("\n  flux2-sync:\n", "\n  flux2-sync:\n  - a: b: c\n"))
    with pytest.raises(ResolutionError):
        index._parse_whole(path.read_text(), str(path))  # (what the index was refused for)
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", str(path), "--json")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["candidates"] == ["2.14.1", "2.14.0"]


def test_a_syntax_error_in_a_chart_consulted_is_the_whole_parse_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "LAZY_MIN_CHARS", 0)
    snapshot = SNAPSHOT.read_text("utf-8")
    path = tmp_path / "index.yaml"
    path.write_text(snapshot.replace("\n  flux2:\n  - ", "\n  flux2:\n  - a: b: c\n  - ", 1))
    with pytest.raises(ResolutionError) as whole:
        index._parse_whole(path.read_text(), str(path))  # the message a whole parse gives
    outcome = run_cli("resolve", "2.4.0", "--helm-repo", str(path))
    assert outcome.code == 3, outcome.stderr
    assert outcome.stderr == f"error: {whole.value.message}\n"
