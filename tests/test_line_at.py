"""``SourceFile.line_at``: the line of any offset, in linear time over a file's matches."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.components import FLUX_INSTALL_URL
from fluxbump.scan.sites.cloudinit import find_install_pins
from fluxbump.scan.sources import SourceFile, lines, lines_kept


class CountingText(str):
    """A text that adds up the characters its ``count``, ``find`` and ``rfind`` calls may scan
    and its slices copy."""

    scanned = 0

    def _span(self, start: int | None, end: int | None) -> int:
        low = 0 if start is None else start
        return max(0, (len(self) if end is None else end) - low)

    def count(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        CountingText.scanned += self._span(start, end)
        return str.count(self, sub, start, end)

    def find(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        found = str.find(self, sub, start, end)
        CountingText.scanned += self._span(start, end if found < 0 else found)
        return found

    def rfind(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        found = str.rfind(self, sub, start, end)
        CountingText.scanned += self._span(found if found >= 0 else start, end)
        return found

    def __getitem__(self, key: Any) -> str:  # type: ignore[override]
        part = str.__getitem__(self, key)
        CountingText.scanned += len(part)
        return part


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab\n\r", max_size=200),
    st.lists(st.integers(min_value=0, max_value=200), max_size=20),
)
def test_every_offset_asked_in_any_order_gets_its_line(text: str, offsets: list[int]) -> None:
    source = SourceFile("f", text.encode(), text)
    for offset in offsets:
        offset = min(offset, len(text))
        # the line breaks begun before the offset, as YAML 1.2 reads them (CRLF, CR, LF)
        assert source.line_at(offset) == len(re.findall(r"\r\n?|\n", text[:offset])) + 1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r\x85\u2028", max_size=60), st.integers(min_value=0, max_value=60))
def test_a_line_starts_and_ends_at_a_yaml_line_break(text: str, offset: int) -> None:
    """CR, LF and CRLF end a line; U+0085 and U+2028 (str.splitlines breaks) do not."""
    offset = min(offset, len(text))
    if text[offset - 1 : offset + 1] == "\r\n":
        offset -= 1  # (no site starts inside a line break)
    source = SourceFile("f", text.encode(), text)
    start, end = source.line_start(offset), source.line_end(offset)
    lines = re.split(r"\r\n?|\n", text)
    assert text[start:end] == lines[source.line_at(offset) - 1]
    assert start <= offset <= end


def test_many_matches_in_one_file_scan_it_about_once() -> None:
    url = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
    text = CountingText("".join(f"  - kubectl apply -f {url}\n" for _ in range(2000)))
    source = SourceFile("t.tftpl", text.encode(), text)
    CountingText.scanned = 0
    sites, _ = find_install_pins(source, FLUX_INSTALL_URL, "flux2")
    assert [s.line for s in sites] == list(range(1, 2001))
    assert CountingText.scanned <= 4 * len(text)  # from the start each time: ~1,000x the text


def test_many_urls_on_one_long_line_read_the_line_about_once() -> None:
    url = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
    line = "runcmd: " + " ".join(f"kubectl apply -f {url};" for _ in range(2000))
    text = CountingText(f"# {url}\n{line}\n")
    source = SourceFile("t.tftpl", text.encode(), text)
    CountingText.scanned = 0
    sites, mentions = find_install_pins(source, FLUX_INSTALL_URL, "flux2")
    assert len(sites) == 2000 and {s.line for s in sites} == {2} and len(mentions) == 1
    assert sites[1].column - sites[0].column == len(f"kubectl apply -f {url}; ")
    assert CountingText.scanned <= 4 * len(text)  # once per URL: ~2,000x the line


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r\x0c\x1e\x85\u2028", max_size=60))
def test_lines_split_where_line_at_counts(text: str) -> None:
    """``lines`` and ``lines_kept`` split where ``line_at`` numbers (not str.splitlines)."""
    kept = lines_kept(text)
    assert "".join(kept) == text
    source = SourceFile("f", text.encode(), text)
    assert len(lines(text)) == source.line_at(len(text)) == len(kept) + (text[-1:] in "\r\n")
