"""A pinned scalar whose node properties (an anchor ``&v``, a tag ``!!str``) stand apart from
its text: on the line before it, or with a comment between. An edit changes the text only.
Before, the YAML splice took a comment after the properties for the scalar's text (the comment
and the line break were replaced by the new version, unquoted), and a Terraform heredoc's
site began at the anchor when a line break followed it (the anchor went with the old text)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.scan.sites import scalar_span
from fluxbump.write.splice import edit_yaml, scalar_text
from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines
from tests.support.splice_cases import KEYS, STYLE, VERSION, render, site_at
from tests.test_release_pins import OPERATOR, operator_only
from tests.test_terraform_heredoc_instance import KUBECTL, repo_with
from tests.test_terraform_instance import MAIN

INSTANCE = "clusters/prod/flux-instance.yaml"


def version_line(written: str, indent: str) -> list[str]:
    """The diff of the line holding the version (the key's own, when on one line)."""
    line = written.splitlines()[-1]
    line = line if line.startswith(" ") else f"{indent}version: {line}"
    return [f"-{line}", f"+{line.replace('2.4.0', '2.5.1')}"]


# Where a pinned version is written: how to build a repository around ``written``, the file
# and the indentation of its ``version:`` key.
LAYOUTS: dict[str, tuple[Callable[[Path, str], Path], str, str]] = {
    "FluxInstance": (
        lambda tmp, written: operator_only(tmp, OPERATOR.replace('"2.4.0" # exact', written)),
        INSTANCE,
        "    ",
    ),
    "heredoc": (
        lambda tmp, written: repo_with(tmp, KUBECTL.replace('"{version}" # the release', written)),
        MAIN,
        "        ",
    ),
}


@pytest.mark.parametrize(
    ("layout", "written"),
    [
        ("FluxInstance", '&v # exact\n      "2.4.0"'),
        ("FluxInstance", '&v\n      "2.4.0"'),
        ("FluxInstance", "!!str # a tag\n      # and a comment line\n      2.4.0"),
        ("FluxInstance", '&v !!str "2.4.0"'),
        ("heredoc", '&v\n          "2.4.0"'),
        ("heredoc", "!!str # the release\n          2.4.0"),
        ("heredoc", '&v "2.4.0"'),
    ],
)
def test_a_version_apart_from_its_properties_moves_alone(
    tmp_path: Path, layout: str, written: str
) -> None:
    build, rel, indent = LAYOUTS[layout]
    repo = build(tmp_path, written)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, rel, since=None) == version_line(written, indent)


def test_the_text_starts_after_every_property_blank_and_comment() -> None:
    text = 'version: &v !!str # pinned\n  # by hand\n  "2.4.0" # after'
    start = text.index("&")
    assert scalar_span(text, start, text.index(" # after")) == (
        text.index("2.4.0"),
        text.index("2.4.0") + 5,
    )
    raw = text[start : text.index(" # after")]
    assert scalar_text(raw, "2.5.1") == raw.replace("2.4.0", "2.5.1")


# What may stand between a key and its scalar's text: node properties, each followed by
# blanks, a comment, or a line break and the deeper indentation the text then needs.
PROPERTIES = st.sampled_from(
    ["", "&a{i} ", "!!str ", "&a{i} !!str ", "&a{i}\n  ", "!!str # c\n  ",
     "&a{i} # c\n  # d\n  ", "&a{i}  # c é\n\n  "]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(
        st.tuples(KEYS, VERSION, STYLE, PROPERTIES),
        min_size=1,
        max_size=5,
        unique_by=lambda e: e[0],
    ),
    pick=st.integers(min_value=0),
    new=VERSION,
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_property_only_the_text_after_the_properties_changes(
    entries: list[tuple[str, str, str, str]], pick: int, new: str, newline: str
) -> None:
    lines = [
        f"{key}: {properties.format(i=i)}{render(value, style)}".replace("\n", newline)
        for i, (key, value, style, properties) in enumerate(entries)
    ]
    text = newline.join(lines) + newline
    at = pick % len(entries)
    key, value, style, _ = entries[at]
    before = len(newline.join(lines[:at])) + (len(newline) if at else 0)
    start = before + lines[at].rindex(render(value, style))
    edited = edit_yaml("t.yaml", text, [(site_at(text, (key,)), new)])
    assert edited == text[:start] + render(new, style) + text[start + len(render(value, style)) :]
