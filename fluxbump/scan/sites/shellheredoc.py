"""YAML a shell script writes in a heredoc: the objects a bootstrap script applies before Flux
runs (``kubectl apply -f - <<EOF`` of a ``FluxInstance``, as flux-operator's own guide
bootstraps a cluster) or the values it installs a chart with (``cat > values.yaml <<EOF``).

Each body is read as the YAML the shell passes on, and a pin found in it is placed in the
script, where it is edited as text. The shell expands ``$NAME`` in an unquoted body, so a value
written so is what the script assigns (``kustomizeremote.follow_file_variables``), or stays as
written (unproven).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from fluxbump.pins import PinSite
from fluxbump.scan.sites import scalar_span
from fluxbump.scan.sites.kustomizeremote import COMMENT
from fluxbump.scan.sources import SourceFile

# The files read so: shell scripts (the ``release_pins`` glob ``**/*.sh``).
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
    while (opener := _OPENER.search(text, at)) is not None:
        body = text.find("\n", opener.end()) + 1
        close = _closing(opener).search(text, body) if body else None
        if close is None:
            at = opener.end()
            continue
        at = close.end()
        if COMMENT.search(source.line_before(opener.start())) is not None:
            continue
        written = text[body : close.start()]
        if opener["dash"]:
            written = _TABS.sub(lambda m: " " * len(m.group(0)), written)
        expands = not opener["quote"]
        yield body, SourceFile(source.rel, written.encode("utf-8"), written), expands


def _closing(opener: re.Match[str]) -> re.Pattern[str]:
    """The line that ends the body ``opener`` starts: its tag alone (after tabs, for ``<<-``)."""
    indent = r"\t*" if opener["dash"] else ""
    return re.compile(rf"^{indent}{re.escape(opener['tag'])}[ \t]*\r?$", re.MULTILINE)


def placed(script: SourceFile, offset: int, site: PinSite) -> PinSite:
    """A site of a heredoc body (``offset``: where the body starts in ``script``) as one of
    the script: the scalar's characters, between its quotes, spliced as text there."""
    start, end = scalar_span(script.text, offset + site.start, offset + site.end)
    column = start - script.line_start(start) + 1
    return replace(site, file=script.rel, line=script.line_at(start), column=column,
                   start=start, end=end, doc_index=None)  # fmt: skip
