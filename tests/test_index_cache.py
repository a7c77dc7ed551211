"""The parsed-index sidecar: a repeat load skips the YAML parse; a bad sidecar is never trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.errors import ResolutionError
from fluxbump.remote import index

# The sidecars are what these tests count: none made beforehand.
pytestmark = pytest.mark.cold_cache

TEXT = """apiVersion: v1
entries:
  flux2:
    - name: flux2
      version: 2.14.1
      appVersion: 2.4.0
      urls: [https://example.test/flux2-2.14.1.tgz]
      digest: abc
    - name: flux2
      version: 2.13.0
      appVersion: 2.3.0
"""


def sidecars(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"{index.PARSED_PREFIX}*.json"))


def no_yaml_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(text: str, url: str) -> index.HelmIndex:
        raise AssertionError("parsed the YAML again")

    monkeypatch.setattr(index, "parse_index", forbidden)


def test_second_load_uses_the_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = index.load_parsed(TEXT, "u")
    assert len(sidecars(tmp_path / "cache")) == 1
    no_yaml_parse(monkeypatch)
    second = index.load_parsed(TEXT, "other url")
    assert second.entries == first.entries and second.url == "other url"
    assert second.find("flux2", "2.14.1") == index.ChartEntry(
        "flux2", "2.14.1", "2.4.0", ("https://example.test/flux2-2.14.1.tgz",), "abc"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"format": 1, "sha256": "x", "entries": {}}',  # another text's digest
        b'{"format": 99}',
        b"SHAPE",  # right digest, rows of the wrong shape
    ],
)
def test_a_bad_sidecar_is_parsed_anew_and_rewritten(tmp_path: Path, body: bytes) -> None:
    expected = index.load_parsed(TEXT, "u")
    (sidecar,) = sidecars(tmp_path / "cache")
    if body == b"SHAPE":
        data = json.loads(sidecar.read_bytes())
        data["entries"]["flux2"][0] = ["flux2", 2, "2.4.0", [], "abc"]
        body = json.dumps(data).encode()
    sidecar.write_bytes(body)
    assert index.load_parsed(TEXT, "u").entries == expected.entries
    assert json.loads(sidecar.read_bytes())["entries"]["flux2"][0][1] == "2.14.1"


def test_invalid_text_is_refused_and_leaves_no_sidecar(tmp_path: Path) -> None:
    with pytest.raises(ResolutionError):
        index.load_parsed("<html>captive portal</html>", "u")
    assert sidecars(tmp_path / "cache") == []


def test_old_sidecars_are_pruned(tmp_path: Path) -> None:
    for i in range(index.PARSED_KEEP + 3):
        index.load_parsed(TEXT + f"# {i}\n", "u")
    assert len(sidecars(tmp_path / "cache")) == index.PARSED_KEEP


def test_bundled_snapshot_repeat_load_is_equal(monkeypatch: pytest.MonkeyPatch) -> None:
    first = index.bundled_snapshot()
    no_yaml_parse(monkeypatch)
    assert index.bundled_snapshot() == first


@pytest.mark.parametrize(
    ("text", "generated"),
    [
        ('apiVersion: v1\nentries: {}\ngenerated: "2026-04-15T05:03:54.119288482Z"\n',
         "2026-04-15T05:03:54"),
        ("apiVersion: v1\nentries:\n  a:\n  - generated: 2020-01-01T00:00:00Z\n", ""),
        ('{"entries": {"a": [{"generated": "2020-01-01T00:00:00Z"}]},\n'
         ' "generated": "2026-04-15T05:03:54Z"}', "2026-04-15T05:03:54"),
        ("entries: {}\n", ""),
    ],
)  # fmt: skip
def test_the_time_an_index_was_generated_is_its_top_level_key(text: str, generated: str) -> None:
    assert index._generated(text) == generated
