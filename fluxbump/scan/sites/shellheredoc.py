"""YAML a shell script writes in a heredoc: the objects a bootstrap script applies before Flux
runs (``kubectl apply -f - <<EOF`` of a ``FluxInstance``, as flux-operator's own guide
bootstraps a cluster) or the values it installs a chart with (``cat > values.yaml <<EOF``).

Each body is read as the YAML the shell passes on, and a pin found in it is placed in the
script, where it is edited as text. The shell expands ``$NAME`` in an unquoted body, so a value
written so is what the script assigns (``kustomizeremote.follow_file_variables``), or stays as
written (unproven).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import replace

from fluxbump.pins import PinSite
from fluxbump.scan.sites import scalar_span
from fluxbump.scan.sites.kustomizeremote import COMMENT
from fluxbump.scan.sources import SourceFile

# The files read so: shell scripts (the ``release_pins`` globs ``**/*.sh``, ``**/*.bash``).
SCRIPTS = (".sh", ".bash")

# A heredoc's opener: ``<<TAG``, ``<<-TAG``, ``<< 'TAG'``, ``<<"TAG"`` (not a here-string,
# ``<<<``, nor a shift, ``$((1 << n))``: that closes no body, so it is no heredoc).
_OPENER = re.compile(
    r"(?<![<\w])<<(?P<dash>-?)[ \t]*(?P<quote>['\"]?)(?P<tag>[A-Za-z_]\w*)(?P=quote)"
)
# Indentation ``<<-`` strips (tabs), made spaces one for one: YAML allows no tab there.
_TABS = re.compile(r"^\t+", re.MULTILINE)


def yaml_bodies(source: SourceFile) -> Iterator[tuple[int, SourceFile, bool]]:
    """Each heredoc body of a shell script, with where it starts in the script, as a source
    of its own (the script's path; its offsets the body's), and whether the shell expands
    ``$NAME`` in it (not when its tag is quoted). A heredoc opened in a comment, or never
    closed, is none."""
    if not source.rel.endswith(SCRIPTS) or b"<<" not in source.raw:
        return
    text, at = source.text, 0
    closers = _closers(text)
    for opener in _OPENER.finditer(text):
        tag = opener["tag"]
        if opener.start() < at or tag not in closers:  # (in a body; or a shift, ``1 << n``)
            continue
        body = text.find("\n", opener.end()) + 1
        close = _closing(closers[tag], body, bool(opener["dash"])) if body else None
        if close is None:
            continue
        at = close[1]
        if COMMENT.search(source.line_before(opener.start())) is not None:
            continue
        written = text[body : close[0]]
        if opener["dash"]:
            written = _TABS.sub(lambda m: " " * len(m.group(0)), written)
        expands = not opener["quote"]
        yield body, SourceFile(source.rel, written.encode("utf-8"), written), expands


# A line that may close a heredoc: a word alone (after tabs, which only ``<<-`` allows).
_CLOSER = re.compile(r"^(?P<tabs>\t*)(?P<tag>[A-Za-z_]\w*)[ \t]*\r?$", re.MULTILINE)
# (start, end, indented by tabs) of each such line
Closer = tuple[int, int, bool]


def _closers(text: str) -> dict[str, list[Closer]]:
    """Every line that may close a heredoc, by its word, in order: found in one pass, not
    searched for from each opener (a script may write thousands of shifts)."""
    found: dict[str, list[Closer]] = {}
    for line in _CLOSER.finditer(text):
        found.setdefault(line["tag"], []).append((line.start(), line.end(), bool(line["tabs"])))
    return found


def _closing(closers: list[Closer], body: int, dash: bool) -> Closer | None:
    """The first of a tag's ``closers`` at or after ``body`` that closes it (one indented by
    tabs closes a ``<<-`` heredoc only)."""
    at = bisect.bisect_left(closers, (body, 0, False))
    return next((c for c in itertools.islice(closers, at, None) if dash or not c[2]), None)


def placed(script: SourceFile, offset: int, site: PinSite) -> PinSite:
    """A site of a heredoc body (``offset``: where the body starts in ``script``) as one of
    the script: the scalar's characters, between its quotes, spliced as text there."""
    start, end = scalar_span(script.text, offset + site.start, offset + site.end)
    column = start - script.line_start(start) + 1
    return replace(site, file=script.rel, line=script.line_at(start), column=column,
                   start=start, end=end, doc_index=None)  # fmt: skip
