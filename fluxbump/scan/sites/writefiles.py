"""A manifest cloud-init writes for k3s or RKE2 to apply at boot (``write_files``).

k3s (and RKE2) apply every manifest in ``/var/lib/rancher/{k3s,rke2}/server/manifests/``
at boot, and a cloud-init template often writes a ``helm.cattle.io/v1`` HelmChart there::

    write_files:
      - path: /var/lib/rancher/k3s/server/manifests/flux.yaml
        content: |
          apiVersion: helm.cattle.io/v1
          kind: HelmChart
          ...

Its helm-controller installs that chart at boot, so the HelmChart pins it exactly as one
standing in the repository does (``helmchart``). The entry's ``content`` is read as the
manifest cloud-init writes, and each site is placed at its characters in the file: ``check``
names the file's line, and ``to`` edits the version there, in place, proven on the manifest it
belongs to (``edit``). Only a literal block scalar (``|``, ``|-``, ``|+``) is read: its lines
are the file's, indented; content cloud-init decodes first (``encoding: b64``, ``gzip``) or
folds (``>``, a quoted string) is not, and one written to a k3s/RKE2 manifests directory is
named in a warning. A Terraform template's directives (``%{ if … }``) are blanked before
reading, every offset kept; a version written as a template expression is set where the
template is rendered: one variable alone (``${chart}``) is the literal the ``templatefile()``
calls pass (``templatefile.follow_written``), anything else is left as written, unproven.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite
from fluxbump.scan.sites import helmchart, object_name, scalar_span
from fluxbump.scan.sources import LINE_BREAK, SourceFile, line_end, line_start, lines
from fluxbump.yamlio import blockyaml, yamldoc

_FILES = "write_files"
# Where k3s and RKE2 take the manifests they apply at boot: content written there that is
# not read may pin a chart unseen, so it is named.
_MANIFESTS = re.compile(r"/var/lib/rancher/(?:k3s|rke2)/server/manifests/")
# A Terraform template directive (``%{ if x ~}``, ``%{ endfor }``): not YAML, blanked.
_DIRECTIVE = re.compile(r"%\{[^}\n]*\}")
# A literal block scalar's header: ``|``, chomping and an indentation indicator in any order.
_LITERAL = re.compile(r"\|(?:([1-9])?[-+]?|[-+]([1-9])?)[ \t]*(?:#[^\n]*)?\r?\Z")


@dataclass(frozen=True)
class Written:
    """One ``write_files`` entry's content: the text cloud-init writes, its span in the file,
    and the file offset each of its lines starts at (its indentation passed)."""

    item: int  # the entry's position in write_files
    start: int  # the first content line's start
    end: int  # where the block scalar ends
    text: str
    starts: tuple[int, ...]

    def at(self, offset: int) -> int:
        """The file offset of a character of ``text``."""
        line = self.text.count("\n", 0, offset)  # (a scalar's value: YAML's breaks are LF)
        return self.starts[line] + offset - (self.text.rfind("\n", 0, offset) + 1)


def may_write(raw: bytes) -> bool:
    """The byte test before a template is parsed: a ``write_files`` list that may hold a
    HelmChart, or write (encoded) to a manifests directory."""
    return b"write_files" in raw and (b"HelmChart" in raw or b"/var/lib/rancher/" in raw)


def holds_files(root: Any) -> bool:
    """A cloud-config document: a ``write_files`` list at its top."""
    return yamldoc.is_sequence(yamldoc.child(root, _FILES))


def is_written(site: PinSite) -> bool:
    """A site read from a ``write_files`` entry's content (``written_pins``)."""
    return site.doc_index is None and site.path[:1] == (_FILES,) and site.path[2:3] == ("content",)


class Read(NamedTuple):
    """What a file's ``write_files`` hold: the HelmChart pins, and a warning for each
    content k3s or RKE2 applies at boot that is not read (``_written``)."""

    sites: list[PinSite]
    unread: list[str]


def written_pins(source: SourceFile, root: Any, charts: frozenset[str]) -> list[PinSite]:
    """The HelmChart pins of ``charts`` in the ``write_files`` entries of one document of the
    file (its nodes' marks the file's), each placed at its characters in the file; unpinned
    ones too (``pins.unpinned``). Each content not read is noted as a warning."""
    found = _read(source, root, charts)
    yamldoc.note_warnings(found.unread)
    return found.sites


def template_pins(source: SourceFile, charts: frozenset[str]) -> Read:
    """What the ``write_files`` of a Terraform template (``*.tftpl``) hold: its YAML read
    with each directive blanked; a template that is no YAML even so holds none."""
    if not may_write(source.raw):
        return Read([], [])
    blanked = SourceFile(source.rel, source.raw, blank_directives(source.text))
    try:
        documents = blockyaml.compose_all(blanked.text, source.rel)
    except UsageError:
        return Read([], [])
    found = [_read(blanked, root, charts) for root in documents if holds_files(root)]
    sites = [_as_written(site, source.text) for read in found for site in read.sites]
    return Read(sites, [message for read in found for message in read.unread])


def _read(source: SourceFile, root: Any, charts: frozenset[str]) -> Read:
    found = Read([], [])
    for item, entry in yamldoc.items(yamldoc.child(root, _FILES)):
        written = _written(source, item, entry)
        if isinstance(written, Written):
            found.sites.extend(_chart_pins(source, written, charts))
        elif written is not None:
            found.unread.append(written)
    return found


def blank_directives(text: str) -> str:
    """``text`` with each Terraform template directive (``%{ … }``) blanked, offsets kept."""
    return _DIRECTIVE.sub(lambda m: " " * len(m.group(0)), text) if "%{" in text else text


def _as_written(site: PinSite, text: str) -> PinSite:
    """A site read from blanked text, as the file writes it: with the directives it touches
    (``%{ if lts }2.12.4%{ else }2.13.0%{ endif }``), which the gate shows unproven and no
    edit touches."""
    start, end = site.start, site.end
    for directive in _DIRECTIVE.finditer(text, line_start(text, start), line_end(text, end)):
        if directive.start() <= end and directive.end() >= start:  # (in order: each extends)
            start, end = min(start, directive.start()), max(end, directive.end())
    if (start, end) == (site.start, site.end):
        return site
    column = site.column - (site.start - start)
    return replace(site, value=text[start:end], start=start, end=end, column=column)


def _written(source: SourceFile, item: int, entry: Any) -> Written | str | None:
    """An entry's content when fluxbump can read it as the text cloud-init writes; else, when
    k3s or RKE2 apply it at boot and it may hold a HelmChart, the warning that says so."""
    content = yamldoc.child(entry, "content")
    if not yamldoc.is_scalar(content):
        return None
    encoding = (yamldoc.text_of(yamldoc.child(entry, "encoding")) or "").strip().lower()
    if encoding not in ("", "text/plain"):  # (what it holds is unknown until decoded)
        why = f"it is written with 'encoding: {encoding}', which fluxbump does not decode"
    elif getattr(content, "style", None) != "|":
        why = "its content is not a literal block scalar ('content: |')"
        if "HelmChart" not in str(content.value):
            return None
    else:
        found = _literal_block(source.text, item, content)
        if found is not None or "HelmChart" not in str(content.value):
            return found
        why = "its block's indentation is not one fluxbump follows"
    target = yamldoc.text_of(yamldoc.child(entry, "path")) or ""
    if not _MANIFESTS.search(target):
        return None
    return (
        f"{source.rel}:{yamldoc.line_of(content)}: the manifest cloud-init writes to {target} "
        f"is not read: {why}; a HelmChart there is not checked or moved"
    )


def _literal_block(text: str, item: int, node: Any) -> Written | None:
    """A literal block scalar's lines as the file holds them; None when a line is not the
    file's line with the block's indentation cut (tabs, an indicator fluxbump cannot place)."""
    header_break = LINE_BREAK.search(text, node.start_mark.index)
    if header_break is None:
        return None
    header_end = header_break.start()
    header = _LITERAL.search(text, node.start_mark.index, header_end)
    if header is None or header.group(1) or header.group(2):
        return None  # (an explicit indentation indicator: rare, and not followed)
    rows = str(node.value).split("\n")
    first = header_break.end()
    indent = _indentation(text, first, node.end_mark.index)
    starts, at = [], first
    for line in rows:
        found = LINE_BREAK.search(text, at)  # (a line ends at CR, LF or CRLF: YAML's breaks)
        end, after = (found.start(), found.end()) if found else (len(text), len(text) + 1)
        row = text[at:end]
        if line and (row[:indent].strip(" ") or row[indent:] != line):
            return None
        starts.append(min(at + indent, end))
        at = after
    return Written(item, first, node.end_mark.index, str(node.value), tuple(starts))


def _indentation(text: str, start: int, end: int) -> int:
    """The indentation of a block scalar's first line that is not blank."""
    for line in lines(text[start:end]):
        if line.strip():
            return len(line) - len(line.lstrip(" "))
    return 0


def _chart_pins(source: SourceFile, written: Written, charts: frozenset[str]) -> list[PinSite]:
    """The HelmChart pins of one content, each in the file (a content that is not YAML
    holds none: cloud-init writes any text)."""
    inner = SourceFile(source.rel, written.text.encode("utf-8"), written.text)
    try:
        documents = blockyaml.compose_all(inner.text, source.rel)
    except UsageError:
        return []
    sites = []
    for index, root in enumerate(documents):
        kind = yamldoc.text_of(yamldoc.child(root, "kind"))
        if not helmchart.holds_chart(root, kind):
            continue
        site = helmchart.chart_pin(inner, index, root, charts, object_name(root))
        if site is not None:
            sites.append(_placed(source, written, site))
    return sites


def _placed(source: SourceFile, written: Written, site: PinSite) -> PinSite:
    """A site of the content as one of the file: edited as text after its anchor or tag and
    between a quoted scalar's quotes (``edit`` proves the manifest), its path through the
    entry's content."""
    text = source.text
    start, end = scalar_span(text, written.at(site.start), written.at(site.end))
    path = (_FILES, written.item, "content", site.doc_index or 0, *site.path)
    column = start - source.line_start(start) + 1
    return replace(site, line=source.line_at(start), column=column, start=start, end=end,
                   doc_index=None, path=path)  # fmt: skip


def edit(rel: str, text: str, changes: Sequence[tuple[PinSite, str]]) -> str:
    """The new text of a file some of whose edits are in ``write_files`` contents: every
    edit spliced as text, and each edited content proven as a YAML file's edit is (its data
    changed exactly at the edited paths), everything outside the contents as it was."""
    from fluxbump.write.splice import proven_documents, splice

    mine = [(site, new) for site, new in changes if is_written(site)]
    base = splice(text, [(site, new) for site, new in changes if not is_written(site)])
    new_text = splice(text, changes)
    before, first, after = _contents(rel, text), _contents(rel, base), _contents(rel, new_text)
    if before is None or first is None or after is None:
        raise _refused(mine)
    if len(before) != len(first) or not _same_around(base, first, new_text, after):
        raise _refused(mine)
    for old, once, now in zip(before, first, after, strict=True):
        inside = [(_inner(site), new) for site, new in mine if old.start <= site.start < old.end]
        if not inside and once.text != now.text:
            raise _refused(mine)
        if inside and not proven_documents(rel, once.text, now.text, inside):
            raise _refused(mine)
    return new_text


def _refused(mine: Sequence[tuple[PinSite, str]]) -> UsageError:
    first = min(site.start for site, _ in mine)
    where = next(site.where for site, _ in mine if site.start == first)
    return UsageError(
        f"{where}: editing the pin would change other data in the file; nothing written — "
        "edit this file by hand and re-run"
    )


def _inner(site: PinSite) -> PinSite:
    """The site as one of the content's own YAML (its document and path there)."""
    index = site.path[3]
    assert isinstance(index, int)
    return replace(site, doc_index=index, path=site.path[4:])


def _contents(rel: str, text: str) -> list[Written] | None:
    """Every literal ``write_files`` content of a file, in order; None when the file (its
    directives blanked) is no YAML."""
    blanked = blank_directives(text)
    try:
        documents = blockyaml.compose_all(blanked, rel)
    except UsageError:
        return None
    return list(_each_content(blanked, documents))


def _each_content(text: str, documents: Sequence[Any]) -> Iterator[Written]:
    for root in documents:
        if not holds_files(root):
            continue
        for item, entry in yamldoc.items(yamldoc.child(root, _FILES)):
            content = yamldoc.child(entry, "content")
            if yamldoc.is_scalar(content) and getattr(content, "style", None) == "|":
                found = _literal_block(text, item, content)
                if found is not None:
                    yield found


def _same_around(old: str, before: list[Written], new: str, after: list[Written]) -> bool:
    """Whether two texts hold the same contents' spans with equal text between them."""
    if len(before) != len(after):
        return False
    old_at = new_at = 0
    for a, b in zip(before, after, strict=True):
        if old[old_at : a.start] != new[new_at : b.start]:
            return False
        old_at, new_at = a.end, b.end
    return old[old_at:] == new[new_at:]
