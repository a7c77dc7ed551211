"""The values mirror reader (``scan/sites/values.py``) composes each values text once per run.

A wrapper's values.yaml may be megabytes (vendored dashboards): one ``to`` read it six times
(survey, base revision, resurvey), about a second each at 2 MB. Unit level, by counting.
"""

from __future__ import annotations

from typing import Any

import pytest

from fluxbump.scan.sites import values
from fluxbump.scan.sources import source_of

TEXT = 'catalystBlueprint:\n  upstream: { chart: flux2, version: "2.14.1" }\nother: {}\n'


def test_a_values_text_is_composed_once_and_each_read_gets_its_own_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed: list[str] = []
    compose = values.blockyaml.compose_all

    def counting(text: str, where: str) -> list[Any]:
        composed.append(where)
        return compose(text, where)

    monkeypatch.setattr(values.blockyaml, "compose_all", counting)
    values._mirrors.cache_clear()
    source = source_of("platform/flux/chart/values.yaml", TEXT.encode())
    first = values.find_mirrors(source, "catalystBlueprint.upstream", "bp-flux")
    first.clear()  # a caller's list is its own
    again = values.find_mirrors(source, "catalystBlueprint.upstream", "bp-flux")
    assert [(s.value, s.line, s.file) for s in again] == [
        ("2.14.1", 2, "platform/flux/chart/values.yaml")
    ]
    assert composed == ["platform/flux/chart/values.yaml"]
    # another text (the file after the bump) is composed on its own
    edited = source_of(source.rel, TEXT.replace("2.14.1", "2.15.0").encode())
    assert [s.value for s in values.find_mirrors(edited, "catalystBlueprint.upstream", "x")] == [
        "2.15.0"
    ]
    assert len(composed) == 2


def test_a_remembered_text_notes_its_duplicate_key_warning_again() -> None:
    # Each command prints the warnings noted while it ran: a text composed by an earlier
    # command in this process must still be said (the CLI tests run in one process).
    values._mirrors.cache_clear()
    values.yamldoc.reading_warnings()
    twice = TEXT.replace("\nother:", '\n  upstream: { chart: flux2, version: "2.15.0" }\nother:')
    source = source_of("values.yaml", twice.encode())
    for _ in range(2):
        sites = values.find_mirrors(source, "catalystBlueprint.upstream", "bp-flux")
        assert [s.value for s in sites] == ["2.15.0"]
        (warning,) = values.yamldoc.reading_warnings()
        assert warning.startswith("values.yaml:3: key 'upstream' appears twice")
