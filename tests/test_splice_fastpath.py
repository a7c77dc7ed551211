"""edit_yaml's fast proof (blockyaml node trees) agrees with the ruamel proof it replaces."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite
from fluxbump.write import splice
from tests.support.data import manifest
from tests.support.splice_cases import KEYS, PLAIN, STYLE, VERSION, render, site_at

FLEET_DOC = manifest("fleet-flux-release.yaml")


def ruamel_verdict(text: str, changes: list[tuple[PinSite, str]]) -> bool:
    """The previous proof: whole-file ruamel load, old data with the edits applied."""
    new = splice.splice(text, changes)
    try:
        after = splice._load_all(new, "t.yaml")
    except UsageError:
        return False
    return bool(after == splice._expected(splice._load_all(text, "t.yaml"), changes))


def fast_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Make the ruamel fallback fail loudly, so a test proves the fast path decided."""
    calls: list[Any] = []

    def forbidden(*args: Any) -> Any:
        calls.append(args)
        raise AssertionError("ruamel fallback used")

    monkeypatch.setattr(splice, "_load_segment", forbidden)
    monkeypatch.setattr(splice, "_load_all", forbidden)
    return calls


def test_fleet_document_is_proven_without_ruamel(monkeypatch: pytest.MonkeyPatch) -> None:
    site = site_at(FLEET_DOC, ("spec", "chart", "spec", "version"), doc=1)
    mirror = site_at(FLEET_DOC, ("spec", "values", "up", "version"), doc=1)
    fast_only(monkeypatch)
    new = splice.edit_yaml("t.yaml", FLEET_DOC, [(site, "1.1.2"), (mirror, "2.15.0")])
    assert "version: 1.1.2 # pin" in new and 'version: "2.15.0"' in new


def test_plain_that_would_read_as_a_number_is_quoted_and_proven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "a: x\nversion: 1.2.3\n"
    site = site_at(text, ("version",))
    fast_only(monkeypatch)
    assert splice.edit_yaml("t.yaml", text, [(site, "2.0")]) == 'a: x\nversion: "2.0"\n'


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("a: &x 1.0.0\nb: *x\n", ("a",)),  # anchors: the fast reader gives up
        ("v: 1.0.0\n...\n", ("v",)),  # a stream it cannot cut
        ("v: |\n  1.0.0\nw: 1.0.0\n", ("w",)),  # a block scalar
    ],
)
def test_fallback_gives_the_ruamel_verdict(text: str, path: tuple[str, ...]) -> None:
    site = site_at(text, path)
    expected = ruamel_verdict(text, [(site, "2.0.0")])
    try:
        splice.edit_yaml("t.yaml", text, [(site, "2.0.0")])
        verdict = True
    except UsageError:
        verdict = False
    assert verdict == expected


def test_a_plain_edit_that_reads_as_a_date_is_refused() -> None:
    # scalar_text leaves this plain; the safe loader reads it as a date, not the string.
    text = "v: 1.0.0\n"
    site = site_at(text, ("v",))
    assert not ruamel_verdict(text, [(site, "2001-12-14")])
    with pytest.raises(UsageError, match="would change other data"):
        splice.edit_yaml("t.yaml", text, [(site, "2001-12-14")])


def test_an_edit_that_spills_into_another_document_is_refused() -> None:
    text = "a: 1\nv: 1.0.0\n---\nb: 2\n"
    site = site_at(text, ("v",))
    with pytest.raises(UsageError):
        splice.edit_yaml("t.yaml", text, [(site, "1.0.1\n---\nc: 3")])


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(
        st.tuples(KEYS, PLAIN | VERSION, STYLE), min_size=1, max_size=5, unique_by=lambda e: e[0]
    ),
    pick=st.integers(min_value=0),
    new=VERSION | PLAIN | st.sampled_from(["2.0", "1e3", "true", "2001-12-14", "a: b", "x'y"]),
    nested=st.booleans(),
    docs=st.integers(min_value=1, max_value=3),
)
def test_property_fast_and_ruamel_verdicts_agree(
    entries: list[tuple[str, str, str]], pick: int, new: str, nested: bool, docs: int
) -> None:
    indent = "  " if nested else ""
    body = "".join(f"{indent}{k}: {render(v, s)}\n" for k, v, s in entries)
    doc = f"top:\n{body}" if nested else body
    text = "---\n".join([doc] * docs)
    key = entries[pick % len(entries)][0]
    path = ("top", key) if nested else (key,)
    site = site_at(text, path, doc=docs - 1)
    expected = ruamel_verdict(text, [(site, new)])
    try:
        splice.edit_yaml("t.yaml", text, [(site, new)])
        verdict = True
    except UsageError:
        verdict = False
    assert verdict == expected


def test_a_document_repeated_in_another_file_is_proven_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fleet repeats one document behind each cluster's own header: its proof is shared,
    and only by the very same edit of the very same text."""
    proven: splice.Proven = set()
    one, two = (f"# cluster {c}\n---\nkind: A\nv: 1.0.0\n" for c in ("a", "b"))
    assert splice.edit_yaml("a.yaml", one, [(site_at(one, ("v",)), "1.0.1")], proven) == (
        one.replace("1.0.0", "1.0.1")
    )
    proofs: list[Any] = []
    real = splice._document_verified
    monkeypatch.setattr(
        splice, "_document_verified", lambda *args: proofs.append(args) or real(*args)
    )
    site = site_at(two, ("v",))
    assert splice.edit_yaml("b.yaml", two, [(site, "1.0.1")], proven) == (
        two.replace("1.0.0", "1.0.1")
    )
    assert proofs == []  # the same document, the same edit: proven by the first file
    with pytest.raises(UsageError, match="would change other data"):
        splice.edit_yaml("b.yaml", two, [(site, "2001-12-14")], proven)  # reads as a date
    assert len(proofs) == 1  # another edit of it is proven again (and refused)


SHARED: splice.Proven = set()  # every example's proofs, as one run shares them across files


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(
        st.tuples(KEYS, PLAIN | VERSION, STYLE), min_size=1, max_size=4, unique_by=lambda e: e[0]
    ),
    pick=st.integers(min_value=0),
    news=st.lists(
        VERSION | PLAIN | st.sampled_from(["2.0", "true", "2001-12-14", "a: b", "x'y"]),
        min_size=1,
        max_size=3,
    ),
)
def test_property_shared_proofs_never_change_a_verdict(
    entries: list[tuple[str, str, str]], pick: int, news: list[str]
) -> None:
    doc = "".join(f"{k}: {render(v, s)}\n" for k, v, s in entries)
    key = entries[pick % len(entries)][0]
    for i, new in enumerate(news):  # the same document in several files, edited alike or not
        text = f"# file {i}\n---\n{doc}"
        site = site_at(text, (key,))
        expected = ruamel_verdict(text, [(site, new)])
        try:
            splice.edit_yaml(f"f{i}.yaml", text, [(site, new)], SHARED)
            verdict = True
        except UsageError:
            verdict = False
        assert verdict == expected, (text, new)
