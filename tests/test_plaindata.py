"""``plaindata`` reads YAML data with libyaml and gives what ruamel's safe loader gives: the
same values and types, and ruamel's own errors for what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from fluxbump.crds import definitions
from fluxbump.crds.archives import chart_members
from fluxbump.yamlio import plaindata
from tests.support.helm_repo import flux_repo_routes


def ruamel_all(text: str) -> str:
    outcome = _outcome(lambda: list(YAML(typ="safe", pure=True).load_all(text)))
    # A scalar its resolver types but cannot construct ('._' resolves as a float): ruamel lets
    # the ValueError (a KeyError for a bool) out; plaindata names it at its line (fb0969d).
    return "ConstructorError" if outcome in ("ValueError", "KeyError") else outcome


def ours_all(text: str) -> str:
    return _outcome(lambda: plaindata.load_all(text))


def _outcome(read: Any) -> str:
    """The data's repr with types (nan != nan, 1 == 1.0 == True), or the error's type."""
    try:
        return repr(_typed(read()))
    except Exception as exc:  # the error's type is the answer
        return type(exc).__name__


def _typed(data: Any) -> Any:
    if isinstance(data, dict):
        return {repr(_typed(k)): _typed(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_typed(v) for v in data]
    return (type(data).__name__, data)


def crd_documents() -> list[str]:
    """Every distinct CRD document of the flux2 charts the test Helm repository serves."""
    chunks: list[str] = []
    for name, archive in flux_repo_routes().items():
        if not name.endswith(".tgz"):
            continue
        for data in chart_members(archive, name).values():
            text = definitions.detemplate(data.decode("utf-8"))
            chunks += [
                c for c in definitions.DOC_SPLIT.split(text) if definitions.CRD_KIND.search(c)
            ]
    return sorted(set(chunks))  # releases share most CRDs: ruamel reads each once


def test_crds_are_read_by_libyaml_as_ruamel_reads_them() -> None:
    chunks = crd_documents()
    assert len(chunks) > 40
    assert all(plaindata._with_libyaml(c) is not None for c in chunks)  # the fast path
    assert [ours_all(c) for c in chunks] == [ruamel_all(c) for c in chunks]


@pytest.mark.parametrize(
    "text",
    [
        "a: 010\nb: 0o10\nc: 1_000\nd: 1e3\ne: .5\nf: 0x_1f\ng: -.INF\nh: .NaN\ni: 0b101\n",
        "a: ~\nb:\nc: null\nd: Null\ne: NULL\nf: ''\n",
        "a: true\nb: True\nc: FALSE\nd: yes\ne: on\nf: tRue\n",
        "- !!int 12\n- !!float 1\n- !!str 12\n- !!null ''\n- !!bool yes\n- !!int 0o7\n",
        "a: 2001-01-01\nb: 2001-12-14t21:59:43.10-05:00\n",  # timestamps: ruamel's
        "a: 1\na: 2\n",  # a duplicate key: ruamel's error
        "b: &x {k: 1}\na:\n  <<: *x\n  k: 2\n",  # a merge key: ruamel's rules
        "a: =\n",  # ruamel's value tag, which its safe loader cannot construct
        "a: !!binary aGVsbG8=\nb: !!set {x}\n",
        "---\na: 1\n---\nb: [1, 2.5, {c: d}]\n",
        "a: [1\n",  # invalid
        "a:\tb\n",  # a tab, which libyaml reads and ruamel may not
        # a %YAML 1.1 directive: ruamel reads that document with YAML 1.1's types
        "%YAML 1.1\n---\na: yes\nb: 010\nc: 1:20\n",
        "a: 1\n...\n%YAML 1.1\n---\nb: on\n",
        "a: &x?y z\n",  # libyaml ends an anchor's name at '?', ruamel does not
        "a: !\nb:\n- ! # c\n",  # the non-specific tag on nothing: ruamel's null, libyaml's ''
        "\ufeff!\n",
        "",
    ],
)
def test_edge_cases_read_as_ruamel_reads_them(text: str) -> None:
    assert ours_all(text) == ruamel_all(text)


def test_one_document_is_read_as_ruamel_reads_one() -> None:
    assert plaindata.load("a: 1\n") == {"a": 1}
    assert plaindata.load("") is None
    with pytest.raises(Exception) as ours:
        plaindata.load("a: 1\n---\nb: 2\n")
    with pytest.raises(Exception) as theirs:
        YAML(typ="safe", pure=True).load("a: 1\n---\nb: 2\n")
    assert type(ours.value) is type(theirs.value)


# Plain scalars made of the characters that decide YAML 1.2 types, in block and flow places.
_SCALAR = st.text(alphabet="0123456789+-._xobeEinfaINFtrulsTRUESnN~:", min_size=0, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCALAR, min_size=1, max_size=6))
def test_any_plain_scalar_is_typed_as_ruamel_types_it(scalars: list[str]) -> None:
    block = "".join(f"k{i}: {s}\n" for i, s in enumerate(scalars))
    flow = "- [" + ", ".join(scalars) + "]\n"
    for text in (block, flow):
        assert ours_all(text) == ruamel_all(text), text


def test_prepare_builds_the_loader_a_load_then_uses() -> None:
    """``check`` builds the loader while its scan's child sends its half: the load after it
    must use that loader, not build another."""
    import yaml

    plaindata._loader.cache_clear()
    plaindata.prepare()
    built = 1 if yaml.__with_libyaml__ else 0  # (without libyaml, ruamel loads everything)
    assert plaindata._loader.cache_info().currsize == built
    assert plaindata.load_all("a: 1\n---\nb: [x]\n") == [{"a": 1}, {"b": ["x"]}]
    assert plaindata._loader.cache_info().hits >= built


def test_last_wins_reads_a_key_given_twice_as_its_last_value() -> None:
    text = "a: 1\nb: {c: 1, c: 2}\na: 2\n"
    assert plaindata._with_libyaml(text, last_wins=True) is not None
    for read in (text, "%YAML 1.2\n---\n" + text):  # libyaml's, and ruamel's (a directive)
        assert plaindata.load_all(read, last_wins=True) == [{"a": 2, "b": {"c": 2}}]
        assert ours_all(read) == ruamel_all(read) == "DuplicateKeyError"  # as before, unasked


def test_a_plain_scalar_typed_but_unconstructible_is_named_as_ruamel_fails_on_it() -> None:
    # '._' resolves as a float and float('._') fails: hypothesis found the property above
    # failing at random on it (ours: ConstructorError at its line; ruamel's: ValueError).
    assert ours_all("k0: ._\n") == ruamel_all("k0: ._\n") == "ConstructorError"
