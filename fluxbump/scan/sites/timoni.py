"""Timoni (``*.cue``): the Flux release a bundle's flux-aio module version names.

A Timoni bundle installs Flux by stefanprodan's flux-aio module (``instances: flux: module:
{url: "oci://ghcr.io/stefanprodan/modules/flux-aio", version: "2.4.0-0"}``). The module is
versioned ``X.Y.Z-N``: Flux release X.Y.Z, N the module's own revision of it. The site spans
the whole literal and its value is the release X.Y.Z, so it is compared with the other Flux
release pins as they are; ``to`` writes ``module_version`` there. Only a module whose literal
``url`` ends ``/flux-aio`` counts (the other modules, flux-helm-release among them, are not
Flux). A version that is no literal (a reference such as ``_distribution.version``, the type
``string``, an interpolation ``"\\(v)-0"``, a default ``*"2.4.0-0" | string``) is kept as
written: shown unproven at its line, never edited; so is one beside a ``digest`` (Timoni
checks that the version's digest is that one: moving the version alone would fail the apply).
A module with no version installs the newest, shown at its ``url`` as ``latest``. The fields
may be set one by one (``module: url: …`` and ``module: version: …``, Timoni's own example). CUE is edited as text; its ``//`` comments are
blanked before it is searched, so a commented-out module pins nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sources import SourceFile

SUBJECT = "Flux"
# A string (kept: a ``//`` inside one is no comment), or a comment (blanked).
_STRING_OR_COMMENT = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|//[^\n]*")
_BRACES = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|[{}]")
# The label a struct's ``{`` opens (``"flux": {``, ``module: {``), at the end of the text
# before it on its line.
_LABEL = re.compile(r"(?P<label>\"[^\"\n]*\"|[#_$A-Za-z][\w$-]*)[ \t]*:[ \t]*\Z")
# ``module: url: "…"``: one field of a module struct set alone (CUE unifies the struct).
_SHORT_MODULE = re.compile(
    r"(?<![\w$#\"-])\"?module\"?[ \t]*:[ \t]*(?=\"?(?:url|version|digest)\"?[ \t]*:)"
)
# The ``module:`` label (and the ``{`` it opens) that ends the text before a module's body.
_MODULE_LABEL = re.compile(r"\"?module\"?[ \t]*:[ \t]*\{?[ \t]*\Z")
_FIELD = r"(?:(?<=[\s,{])|^)\"?%s\"?[ \t]*:[ \t]*"
_URL = re.compile(_FIELD % "url" + r"\"(?P<url>[^\"\\\n]*)\"", re.MULTILINE)
_VERSION = re.compile(_FIELD % "version", re.MULTILINE)
_DIGEST = re.compile(_FIELD % "digest" + r"\"(?P<digest>[^\"\\\n]*)\"", re.MULTILINE)
# A plain string: no escape and so no interpolation (``\(…)``), then at most attributes
# (``@timoni(runtime:string:VERSION)``) before the field ends.
_LITERAL = re.compile(r"\"(?P<text>[^\"\\\n]*)\"[ \t]*(?:@\w+\([^)\n]*\)[ \t]*)*(?=[,}\r\n]|\Z)")
# Any other expression: to the end of its line, a comma or the struct's close (an attribute
# dropped).
_EXPRESSION = re.compile(r"(?P<text>[^,}\r\n@]*[^,}\r\n@ \t])")
_FLUX_AIO = re.compile(r"\Aoci://[^\s\"]+/flux-aio\Z")
_MODULE_VERSION = re.compile(
    r"(?P<release>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*))(?:-(?:0|[1-9]\d*))?\Z"
)
_DEFAULT = "(no version: the latest release)"


def find_timoni_pins(source: SourceFile) -> list[PinSite]:
    """The version of each flux-aio module of one ``.cue`` file: the Flux release of a literal
    ``X.Y.Z-N``, any other value as written (unproven), ``latest`` for none."""
    if not source.rel.endswith(".cue") or b"flux-aio" not in source.raw:
        return []
    source.refuse_lone_cr("CUE")  # (its scanner ends a line at LF only, a CR being space)
    text = _blank_comments(source.text)
    structs = _structs(text)
    sites = []
    for spans in _modules(text, structs):
        url = _field(_URL, text, spans)
        if url is None or not _FLUX_AIO.match(url["url"]):
            continue
        owner = _owner(text, structs, spans[0][0])
        version = _field(_VERSION, text, spans)
        if version is None:
            at = url.start("url")
            site = _site(source, at, "latest", f"{owner} {_DEFAULT}")
            sites.append(replace(site, end=at))
            continue
        site = _version_site(source, text, version.end(), owner)
        digest = _field(_DIGEST, text, spans)
        if digest is not None:  # Timoni checks the version's digest is this one: kept as is
            site = replace(site, value=f"{text[site.start : site.end]}@{digest['digest']}")
        sites.append(site)
    return sites


def _field(field: re.Pattern[str], text: str, spans: list[tuple[int, int]]) -> re.Match[str] | None:
    """The first match of a module's ``field`` in the spans of its body."""
    return next((m for start, end in spans if (m := field.search(text, start, end))), None)


def module_version(release: str) -> str:
    """The flux-aio module version ``to`` writes for Flux ``release``: revision 0, the one the
    module publishes with each Flux release (a later revision of that release is the user's
    to pick: ``to`` keeps it while the release stays)."""
    return f"{release.removeprefix('v')}-0"


def _version_site(source: SourceFile, text: str, at: int, owner: str) -> PinSite:
    """The site of a module's version expression starting at ``at``."""
    literal = _LITERAL.match(text, at)
    if literal is not None:
        written = literal["text"]
        version = _MODULE_VERSION.match(written)
        start = literal.start("text")
        value = version["release"] if version is not None else written or '""'
        return replace(_site(source, start, value, owner), end=literal.end("text"))
    expression = _EXPRESSION.match(text, at)
    value = expression["text"] if expression is not None else ""
    return _site(source, at, value or "?", owner)


def _site(source: SourceFile, start: int, value: str, owner: str) -> PinSite:
    return source.text_site(Role.TIMONI, start, value, SUBJECT, owner)


def _modules(text: str, structs: list[tuple[str, int, int]]) -> list[list[tuple[int, int]]]:
    """The body of each ``module`` struct as the spans of ``text`` it is written in, in file
    order: a ``module: {…}``, or the lines of one struct that set its fields one by one
    (``module: url: …`` and ``module: version: …``, unified by CUE as one struct)."""
    bodies = [[(start, end)] for label, start, end in structs if label == "module"]
    short: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for field in _SHORT_MODULE.finditer(text):
        around = [start for _, start, end in structs if start < field.start() < end]
        line = text.rfind("\n", 0, field.start()) + 1
        newline = text.find("\n", field.end())
        span = (field.end(), len(text) if newline < 0 else newline)
        # one struct's, and on its line the same labels before (``a: module: url: …``)
        key = (max(around, default=-1), text[line : field.start()].strip())
        short.setdefault(key, []).append(span)
    return sorted([*bodies, *short.values()])


def _owner(text: str, structs: list[tuple[str, int, int]], at: int) -> str:
    """``Timoni instance "NAME"``: the label before the module at ``at`` on its line
    (``flux: module: {``), else the struct around it names the instance."""
    line = text[text.rfind("\n", 0, at) + 1 : at]
    before = _MODULE_LABEL.sub("", line)
    named = _LABEL.search(before) if before != line else None
    around = [(start, label) for label, start, end in structs if start < at < end]
    enclosing = [label for start, label in sorted(around) if label and label != "module"]
    if named is not None:
        enclosing.append(named["label"].strip('"'))
    return f'Timoni instance "{enclosing[-1]}"' if enclosing else "Timoni module"


def _structs(text: str) -> list[tuple[str, int, int]]:
    """Each struct a label opens (``LABEL: {…}``): its label (unquoted) and its body's span."""
    found: list[tuple[str, int, int]] = []
    opened: list[tuple[str, int]] = []
    for token in _BRACES.finditer(text):
        if token.group() == "{":
            line = text.rfind("\n", 0, token.start()) + 1
            named = _LABEL.search(text, line, token.start())
            opened.append((named["label"].strip('"') if named else "", token.end()))
        elif token.group() == "}" and opened:
            label, start = opened.pop()
            found.append((label, start, token.start()))
    found += [(label, start, len(text)) for label, start in opened]  # never closed
    return found


def _blank_comments(text: str) -> str:
    """The text with each comment's characters turned to spaces (offsets and lines kept)."""

    def blank(match: re.Match[str]) -> str:
        found = match.group()
        return found if found.startswith('"') else " " * len(found)

    return _STRING_OR_COMMENT.sub(blank, text)
