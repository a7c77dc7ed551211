"""The surgical editor: only the pinned scalar's bytes change, whatever surrounds them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.errors import UsageError
from fluxbump.write.splice import edit_yaml, scalar_text
from fluxbump.yamlio.yamldoc import YamlPath
from tests.support.splice_cases import KEYS, PLAIN, STYLE, VERSION, render, site_at

TRICKY = [
    ("double quotes", 'version: "1.2.3"\n', ("version",), 'version: "1.2.4"\n'),
    ("single quotes", "version: '1.2.3'\n", ("version",), "version: '1.2.4'\n"),
    ("plain", "version: 1.2.3\n", ("version",), "version: 1.2.4\n"),
    (
        "flow mapping",
        'up: { chart: flux2, version: "1.2.3", repo: "https://x" }\n',
        ("up", "version"),
        'up: { chart: flux2, version: "1.2.4", repo: "https://x" }\n',
    ),
    (
        "comment on the same line",
        "version: 1.2.3  # keep 1.2.3 here\n",
        ("version",),
        "version: 1.2.4  # keep 1.2.3 here\n",
    ),
    (
        "CRLF",
        "a: 1\r\nversion: 1.2.3\r\nb: 2\r\n",
        ("version",),
        "a: 1\r\nversion: 1.2.4\r\nb: 2\r\n",
    ),
    ("BOM", "\ufeffversion: 1.2.3\n", ("version",), "\ufeffversion: 1.2.4\n"),
    (
        "tab in comment, non-ASCII before",
        "# né\tété — ü\nname: Ωmega\nversion: 1.2.3\n",
        ("version",),
        "# né\tété — ü\nname: Ωmega\nversion: 1.2.4\n",
    ),
    (
        "sequence item",
        "dependencies:\n  - name: flux2\n    version: 1.2.3 # pin\n",
        ("dependencies", 0, "version"),
        "dependencies:\n  - name: flux2\n    version: 1.2.4 # pin\n",
    ),
]


@pytest.mark.parametrize(("name", "text", "path", "expected"), TRICKY, ids=[t[0] for t in TRICKY])
def test_edit_changes_only_the_scalar_bytes(
    name: str, text: str, path: YamlPath, expected: str
) -> None:
    assert edit_yaml("t.yaml", text, [(site_at(text, path), "1.2.4")]) == expected


def test_edit_in_second_document_of_a_stream() -> None:
    text = "# head\n---\nkind: A\nversion: 1.0.0\n---\nkind: B\nversion: 1.0.0 # same\n"
    new = edit_yaml("t.yaml", text, [(site_at(text, ("version",), doc=1), "1.0.1")])
    assert new == "# head\n---\nkind: A\nversion: 1.0.0\n---\nkind: B\nversion: 1.0.1 # same\n"


def test_placeholders_and_markers_survive() -> None:
    text = "---\nname: ${CLUSTER}\nversion: 1.0.0\n...\n"
    new = edit_yaml("t.yaml", text, [(site_at(text, ("version",)), "2.0.0")])
    assert new == "---\nname: ${CLUSTER}\nversion: 2.0.0\n...\n"


def test_edit_that_would_change_the_type_is_quoted() -> None:
    assert scalar_text("1.2.3", "2.0") == '"2.0"'
    assert scalar_text("1.2.3", "2.0.1") == "2.0.1"


def test_edit_that_changes_other_data_is_refused() -> None:
    text = "a: &x 1.0.0\nb: *x\n"
    site = site_at(text, ("a",))
    # Changing an anchored scalar also changes its alias: more than the pin moves.
    with pytest.raises(UsageError, match="would change other data"):
        edit_yaml("t.yaml", text, [(site, "2.0.0")])


COMMENT = st.sampled_from(["", "  # c", " #\tnote é"])


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(
        st.tuples(KEYS, PLAIN | VERSION, STYLE, COMMENT),
        min_size=1,
        max_size=6,
        unique_by=lambda e: e[0],
    ),
    pick=st.integers(min_value=0),
    newline=st.sampled_from(["\n", "\r\n"]),
    new=VERSION,
    flow=st.booleans(),
)
def test_property_edit_is_byte_minimal_and_reparses(
    entries: list[tuple[str, str, str, str]], pick: int, newline: str, new: str, flow: bool
) -> None:
    if flow:
        body = ", ".join(f"{k}: {render(v, s)}" for k, v, s, _ in entries)
        text = f"# top{newline}m: {{ {body} }}{newline}"
        prefix: YamlPath = ("m",)
    else:
        text = "".join(f"{k}: {render(v, s)}{c}{newline}" for k, v, s, c in entries)
        prefix = ()
    key, _, style, _ = entries[pick % len(entries)]
    site = site_at(text, (*prefix, key))
    edited = edit_yaml("t.yaml", text, [(site, new)])
    replacement = render(new, style)
    assert edited == text[: site.start] + replacement + text[site.end :]
