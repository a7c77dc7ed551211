"""Jinja templates (``*.j2``) that pin Flux: each pin named with its file:line, never moved.

A template such as onedr0p/cluster-template's ``kubernetes/flux/config/flux.yaml.j2``
(makejinja) renders a file of the repository: a bump that moves the rendered file and not
the template is undone by the next render, and a template left behind at an older release
says so to no one. Its text is not what Flux or kustomize read, so it is no pin-site; the
scan of the file it renders (its name without ``.j2``) finds which of its lines pin Flux,
and each is said as a warning for a human to move. Plain Jinja's statement and comment lines
(``{% if %}``) are emptied first; makejinja's ``#% if %#`` are YAML comments already. A
template that is no YAML so is read again with its Jinja inside lines emptied too
(``name: {{ cluster }}-flux``); one no YAML even then is named where it names a Flux release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from fluxbump.config import CONFIG_NAME
from fluxbump.errors import NotRegularFile, UsageError
from fluxbump.pins import PinSite, PlacedWarning
from fluxbump.scan.sources import (
    LINE_END,
    LINE_START,
    READ_LIMIT,
    SourceFile,
    lines,
    read_raw,
    source_of,
)

# makejinja's and Ansible's ``.j2``, copier's ``.jinja``, and ``.jinja2``.
SUFFIXES = (".j2", ".jinja", ".jinja2")
# A Jinja statement or comment alone on its line (``{% if x %}``, ``{%- endif %}``, ``{# … #}``);
# a line ends at CR, LF or CRLF, to Jinja's lexer as to YAML.
_STATEMENT_LINE = re.compile(
    LINE_START.encode() + rb"[ \t]*(?:\{%[^\r\n]*%\}|\{#[^\r\n]*#\})[ \t]*" + LINE_END.encode()
)


def rendered_names(files: Iterable[str]) -> dict[str, str]:
    """Each Jinja template's rendered path (``a/flux.yaml`` for ``a/flux.yaml.j2``) to the
    template's own path."""
    found = {}
    for rel in files:
        if not rel.endswith(SUFFIXES):  # (one C call: a fleet has tens of thousands of files)
            continue
        name = rel[rel.rfind("/") + 1 :]
        suffix = next((s for s in SUFFIXES if name.endswith(s) and name != s), None)
        if suffix is not None:
            found[rel[: -len(suffix)]] = rel
    return found


# Jinja inside a line: an expression (``{{ cluster }}-flux``), a statement or a comment.
_EXPRESSION = re.compile(rb"\{\{[^\r\n]*?\}\}")
_INLINE = re.compile(rb"\{%[^\r\n]*?%\}|\{#[^\r\n]*?#\}")
# What an expression is read as: a plain scalar, no release.
_PLACEHOLDER = b"JINJA"
# A line that names Flux and a release (``…/fluxcd/flux2/…?ref=v2.3.0``, ``flux-cli:v2.3.0``).
_FLUX_RELEASE = re.compile(r"(?i)flux.*?(?<![\w.])(v?\d+\.\d+\.\d+)(?![\w.])")


def template_sources(root: Path, template: str, rendered: str) -> tuple[SourceFile, ...]:
    """The template's text under its rendered name, each statement or comment line emptied;
    then the same with the Jinja inside lines emptied too, the expressions made plain
    scalars (read when the first is no YAML). Nothing when it cannot name Flux (no ``flux`` in
    it) or cannot be read as text: a template is not ours to judge."""
    try:
        raw = read_raw(root, template, limit=READ_LIMIT)
        if re.search(rb"(?i)flux", raw) is None:
            return ()
        emptied = _without_statements(raw)
        plain = _INLINE.sub(b"", _EXPRESSION.sub(_PLACEHOLDER, emptied))
        return source_of(rendered, emptied), source_of(rendered, plain)
    except (UsageError, NotRegularFile):
        return ()


def _without_statements(raw: bytes) -> bytes:
    """The template with each statement or comment line emptied, which is no YAML but
    renders to nothing or to the lines around it: every other line keeps its number."""
    return _STATEMENT_LINE.sub(b"", raw)


def unread_note(template: str, source: SourceFile, problem: str) -> PlacedWarning | None:
    """The warning for a template that is no YAML even with its Jinja emptied (``problem``:
    the parse's error), at its first line naming a Flux release; None when none does."""
    found = next(
        ((n, m) for n, m in enumerate(map(_FLUX_RELEASE.search, lines(source.text)), 1) if m), None
    )
    if found is None:
        return None
    number, match = found
    # the parser's own words, without the rendered name and line it gives (its line may be
    # past the end, where a mapping was left open)
    why = problem.split("invalid YAML: ", 1)[-1].removesuffix("; fix the file and re-run")
    return PlacedWarning(
        template,
        number,
        f"this Jinja template names Flux {match.group(1)} here, but is no YAML with its Jinja "
        f"emptied ({why}), so fluxbump cannot tell what it pins, nor check or move it: check "
        f"it by hand when Flux moves, or list it under exclude: in {CONFIG_NAME} if nothing "
        "renders it",
    )


def template_note(template: str, site: PinSite) -> PlacedWarning:
    """The warning for one pin of a template (``site`` found in its rendered name); placed,
    so ``--json`` gives its file and line."""
    return PlacedWarning(
        template,
        site.line,
        f"this Jinja template pins {site.role.value} {site.value}, which fluxbump does not "
        "check or move, and a render from it puts that release back: move it by hand, or list "
        f"it under exclude: in {CONFIG_NAME} if nothing renders it",
    )
