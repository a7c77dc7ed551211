"""Surgical edits: replace pinned scalars' text at their positions, then prove nothing else moved.

Never re-serialise a document (that reformats users' files): splice the new scalar text into
the original text, keep the quoting style, re-parse, and compare the data to the original
with only the intended paths changed (docs/ARCHITECTURE.md, "Edits are surgical").
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite
from fluxbump.yamlio import blockyaml, yamldoc
from fluxbump.yamlio.yamldoc import YamlPath

# A node libyaml composed (``yaml.nodes.Node``; its ``id`` is not in the type stubs).
Node = Any

# A plain scalar that YAML would read back as the same string (versions, tags)...
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
# ...unless it reads as a number or a keyword (``2.0`` is a float, ``on`` a bool in YAML 1.1).
_PLAIN_TYPED = re.compile(
    r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?\Z"
    r"|(?i:true|false|null|yes|no|on|off|y|n|~)\Z"
)
_VERSION_CHARS = re.compile(r"[A-Za-z0-9._+-]*\Z")


def scalar_text(raw: str, new: str) -> str:
    """The source text for ``new`` in the quoting style of the scalar's current text ``raw``."""
    properties = yamldoc.NODE_PROPERTIES.match(raw)
    if properties is not None and properties.end():
        return raw[: properties.end()] + scalar_text(raw[properties.end() :], new)
    if raw.startswith('"'):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if raw.startswith("'"):
        return "'" + new.replace("'", "''") + "'"
    if _PLAIN_TYPED.match(new) or not (_PLAIN_SAFE.match(new) or _same_plain_shape(raw, new)):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return new


def _same_plain_shape(raw: str, new: str) -> bool:
    """``${V:=1.1.1}`` -> ``${V:=1.1.2}``: the plain text changes only in version characters,
    so it stays plain (the edit's proof re-reads it and refuses anything else)."""
    start = _shared(raw, new)
    end = _shared(raw[start:][::-1], new[start:][::-1])
    changed = (raw[start : len(raw) - end], new[start : len(new) - end])
    return all(_VERSION_CHARS.match(part) for part in changed)


def _shared(a: str, b: str) -> int:
    """Length of the common prefix."""
    pairs = enumerate(zip(a, b, strict=False))  # up to the shorter one
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def splice(text: str, changes: Sequence[tuple[PinSite, str]]) -> str:
    """Replace each site's source span; YAML sites keep quoting, text sites are raw. Sites
    that share one scalar (a YAML anchor read at several paths) are one replacement."""
    distinct = {(site.start, site.end, new): (site, new) for site, new in changes}
    spans = sorted(distinct.values(), key=lambda change: change[0].start, reverse=True)
    _refuse_overlaps(spans)
    for site, new in spans:
        raw = text[site.start : site.end]
        if site.doc_index is not None and raw[:1] in ("|", ">"):
            raise UsageError(
                f"{site.where}: the version is a block scalar ('{raw.split()[0]}'), which "
                f"cannot be rewritten in place; write it on one line ({site.path[-1]}: "
                f"{site.value.strip()}) and re-run; nothing written"
            )
        if site.doc_index is not None and raw == "":
            # An empty value has no text to replace: text put where its (zero-width) mark is
            # would join the key or the next line, which the proof would refuse anyway.
            raise UsageError(
                f"{site.where}: editing the pin would change other data (the value is empty); "
                "nothing written — write the version by hand and re-run"
            )
        replacement = scalar_text(raw, new) if site.doc_index is not None else new
        text = text[: site.start] + replacement + text[site.end :]
    return text


def _refuse_overlaps(spans: Sequence[tuple[PinSite, str]]) -> None:
    for (later, _), (earlier, _) in itertools.pairwise(spans):
        if earlier.end > later.start:
            raise UsageError(f"{later.where}: two edits overlap; report this as a fluxbump bug")


# Documents already proven: (old text, new text, edited paths and values). A document's proof
# depends on its text alone (its marks only name lines in errors, and errors are not kept),
# and a fleet repeats one document in every cluster directory.
Proven = set[tuple[str, str, tuple[tuple[YamlPath, str], ...]]]


def edit_yaml(
    rel: str, text: str, changes: Sequence[tuple[PinSite, str]], proven: Proven | None = None
) -> str:
    """The new text of a YAML file; refuses unless the data changed exactly at the sites.
    ``proven``: documents proven by earlier calls, each proven once (and added to it)."""
    new_text = splice(text, changes)
    if not _verified(rel, text, new_text, changes, set() if proven is None else proven):
        first = _first_bad_site(rel, text, changes)
        raise UsageError(
            f"{first.where}: editing the pin would change other data in the file; "
            "nothing written — edit this file by hand and re-run"
        )
    return new_text


def edit_with_fields(rel: str, text: str, changes: Sequence[tuple[PinSite, str]]) -> str:
    """The new text of a YAML file where Flux API fields are rewritten too (``Role.API_FIELD``,
    proven with their apiVersion by ``crds/migrate.py``): the other edits must change the data
    exactly at their paths of that result."""
    from fluxbump.pins import Role

    fields = [(site, new) for site, new in changes if site.role is Role.API_FIELD]
    others = [(site, new) for site, new in changes if site.role is not Role.API_FIELD]
    new_text = splice(text, changes)
    if not same_data(
        _load_all(new_text, rel), _expected(_load_all(splice(text, fields), rel), others)
    ):
        first = min(others, key=lambda change: change[0].start)[0] if others else fields[0][0]
        raise UsageError(
            f"{first.where}: editing the pin would change other data in the file; "
            "nothing written — edit this file by hand and re-run"
        )
    return new_text


def proven_documents(
    rel: str, text: str, new_text: str, changes: Sequence[tuple[PinSite, str]]
) -> bool:
    """Whether ``new_text``'s data is ``text``'s with exactly the intended values set (the
    sites' documents and paths; their offsets are not read): the proof ``edit_yaml`` makes,
    for YAML that stands inside another file (a manifest cloud-init writes)."""
    return _verified(rel, text, new_text, changes, set())


def _verified(
    rel: str, text: str, new_text: str, changes: Sequence[tuple[PinSite, str]], proven: Proven
) -> bool:
    """True when the new text's data is the old data with exactly the intended values set.

    Only the edited documents are read: the others must be byte-identical (so is their
    data, as a document's data is a function of its own text once the stream is cut at bare
    ``---`` lines). An edited document is proven by libyaml's node trees when it
    reads both versions, else by ruamel; a stream ``blockyaml`` cannot cut is loaded whole.
    """
    edits = _edits_by_document(changes)
    if edits is None:
        return same_data(_load_all(new_text, rel), _expected(_load_all(text, rel), changes))
    old_segments = blockyaml.split_documents(text)
    new_segments = blockyaml.split_documents(new_text)
    if old_segments is None or new_segments is None or len(old_segments) != len(new_segments):
        return same_data(_load_all(new_text, rel), _expected(_load_all(text, rel), changes))
    if not _untouched_equal(text, new_text, old_segments, new_segments, set(edits)):
        return False  # an edit reached outside its document: never what a pin edit does
    for i, paths in edits.items():
        old, new = old_segments[i], new_segments[i]
        key = (text[old.start : old.end], new_text[new.start : new.end], tuple(paths.items()))
        if key in proven:
            continue
        if not _document_verified(rel, text, new_text, old, new, paths):
            return False
        proven.add(key)
    return True


def _edits_by_document(
    changes: Sequence[tuple[PinSite, str]],
) -> dict[int, dict[YamlPath, str]] | None:
    """doc index -> {path: new value}; None when two edits name one path (load it all)."""
    edits: dict[int, dict[YamlPath, str]] = {}
    for site, new in changes:
        assert site.doc_index is not None
        paths = edits.setdefault(site.doc_index, {})
        if site.path in paths:
            return None
        paths[site.path] = new
    return edits


def _untouched_equal(
    text: str,
    new_text: str,
    old_segments: Sequence[blockyaml.Segment],
    new_segments: Sequence[blockyaml.Segment],
    edited: set[int],
) -> bool:
    """Everything outside the edited documents (markers, comments, other documents) is equal."""
    if any(i >= len(old_segments) for i in edited):
        return False
    old_pos = new_pos = 0
    for old, new in zip(old_segments, new_segments, strict=True):
        if text[old_pos : old.start] != new_text[new_pos : new.start]:
            return False
        if old.index not in edited and text[old.start : old.end] != new_text[new.start : new.end]:
            return False
        old_pos, new_pos = old.end, new.end
    return text[old_pos:] == new_text[new_pos:]


def _document_verified(
    rel: str,
    text: str,
    new_text: str,
    old_segment: blockyaml.Segment,
    new_segment: blockyaml.Segment,
    paths: dict[YamlPath, str],
) -> bool:
    old_root = blockyaml.read_fast(text, old_segment)
    new_root = blockyaml.read_fast(new_text, new_segment) if old_root is not None else None
    if old_root is not None and new_root is not None and _tree_proves(old_root, new_root, paths):
        return True
    # libyaml refused a version, or its trees could not prove it: ruamel decides, on this
    # document only.
    old_data = _load_segment(text, old_segment, rel)
    for path, new in paths.items():
        _assign(old_data, path, new)
    return same_data(_load_segment(new_text, new_segment, rel), old_data)


def _tree_proves(old: Node, new: Node, paths: dict[YamlPath, str]) -> bool:
    tree = _TreeCheck(paths)
    try:
        return tree.same(old, new, ()) and tree.visited == set(paths)
    except RecursionError:  # an alias inside its own anchor, or deep nesting: ruamel decides
        return False


class _TreeCheck:
    """Compares libyaml's trees of a document before and after the edit.

    Composed nodes hold each scalar's value, style and tag, not resolved data, so equal
    values, styles and tags imply equal data; at an edited path the new node must be a scalar
    that reads as the new string. Any doubt answers False and leaves the decision to ruamel:
    this check can only accept.
    """

    def __init__(self, paths: dict[YamlPath, str]) -> None:
        self.paths = paths
        self.visited: set[YamlPath] = set()
        # Node pairs compared where no intended path can match: an alias is the anchor's node
        # object again, so a "billion laughs" document is walked once per shared node, not
        # once per expanded one. A pair is assumed equal while it is compared: a difference
        # found anywhere answers False for the whole proof.
        self.compared: set[tuple[int, int]] = set()

    def same(self, old: Node, new: Node, path: YamlPath) -> bool:
        if path in self.paths:
            self.visited.add(path)
            return self.edited(old, new, self.paths[path])
        if self.paths and not any(p[: len(path)] == path for p in self.paths):
            return self.outside(old, new)
        if not self.paths:
            if (id(old), id(new)) in self.compared:
                return True
            self.compared.add((id(old), id(new)))
        if old.id != new.id or old.tag != new.tag:
            return False
        if old.id == "scalar":
            return bool(old.value == new.value) and _style(old) == _style(new)
        if len(old.value) != len(new.value):
            return False
        if old.id == "sequence":
            pairs = zip(old.value, new.value, strict=True)
            return all(self.same(a, b, (*path, i)) for i, (a, b) in enumerate(pairs))
        return all(self.entry(a, b, path) for a, b in zip(old.value, new.value, strict=True))

    def entry(self, old: _Pair, new: _Pair, path: YamlPath) -> bool:
        """One mapping entry; a key is never a pin (pins are values), so keys must be equal."""
        if not self.outside(old[0], new[0]):
            return False
        step = self.key_step(old[0])
        if step is None:  # not a string key: no intended path can go through it
            return self.outside(old[1], new[1])
        return self.same(old[1], new[1], (*path, step))

    def outside(self, old: Node, new: Node) -> bool:
        """Equal, compared where no intended path can match."""
        paths, self.paths = self.paths, {}
        try:
            return self.same(old, new, ())
        finally:
            self.paths = paths

    def edited(self, old: Node, new: Node, value: str) -> bool:
        """The new scalar reads as ``value``: quoting kept, or plain turned double-quoted."""
        if new.id != "scalar" or new.value != value or new.tag != _STR:
            return False
        before = _style(old) if old.id == "scalar" else ""
        after = _style(new)
        if after == "":
            return before == "" and _reads_as_string(value)
        return after == before or (before == "" and after == '"')

    def key_step(self, key: Node) -> str | None:
        """The path step a key stands for, when it is a string key."""
        if key.id != "scalar":
            return None
        if _style(key) or _reads_as_string(key.value):
            return str(key.value)
        return None


_STR = "tag:yaml.org,2002:str"
_Pair = tuple[Node, Node]


def _style(node: Node) -> str:
    """A scalar's style: its quote (or block indicator), "" when plain."""
    return str(getattr(node, "style", None) or "")


@functools.cache
def _string_resolver() -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).resolver


def _reads_as_string(plain: str) -> bool:
    """Whether the safe loader reads this plain scalar as a string (not int, date, bool...)."""
    from ruamel.yaml.nodes import ScalarNode

    tag = _string_resolver().resolve(ScalarNode, plain, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def _expected(data: list[Any], changes: Sequence[tuple[PinSite, str]]) -> list[Any]:
    for site, new in changes:
        assert site.doc_index is not None
        _assign(data[site.doc_index], site.path, new)
    return data


def _load_segment(text: str, segment: blockyaml.Segment, rel: str) -> Any:
    """One document's data; newlines in front keep ruamel's error lines those of the file."""
    docs = _load_all("\n" * segment.line + text[segment.start : segment.end], rel)
    return docs[0] if docs else None


def _first_bad_site(rel: str, text: str, changes: Sequence[tuple[PinSite, str]]) -> PinSite:
    """The site whose edit alone changes other data (so the message names the right line)."""
    ordered = sorted(changes, key=lambda change: change[0].start)
    original = _load_all(text, rel)
    for site, new in ordered:
        expected = _load_all(text, rel)
        assert site.doc_index is not None
        _assign(expected[site.doc_index], site.path, new)
        try:
            alone = _load_all(splice(text, [(site, new)]), rel)
        except UsageError:
            return site
        if not same_data(alone, expected) and not same_data(expected, original):
            return site
    return ordered[0][0]


def _load_all(text: str, rel: str) -> list[Any]:
    """The data of every document, read as yamldoc reads it (a duplicate key: the last)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        nodes = yamldoc.compose_with_ruamel(text, rel)  # its constructor takes its nodes
    except UsageError as exc:
        raise UsageError(
            f"{rel}: YAML no longer parses after the edit ({exc.message}); nothing written"
        ) from None
    constructor = YAML(typ="safe", pure=True).constructor
    try:
        return [constructor.construct_document(node) for node in nodes]
    except YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UsageError(
            f"{rel}: YAML no longer parses after the edit ({first}); nothing written"
        ) from None
    except (ValueError, KeyError) as exc:  # ``!!int 2.15.0``, ``!!bool maybe``
        raise UsageError(_unfit_scalar(rel, nodes, exc)) from None


def _unfit_scalar(rel: str, nodes: list[Any], exc: Exception) -> str:
    """The message for a scalar ruamel's constructor cannot read as its explicit tag says
    (Helm refuses such a file too), at the first such scalar's line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    constructor = YAML(typ="safe", pure=True).constructor
    lines = []
    for node in yamldoc.each_node(nodes, keys=True):
        if yamldoc.is_scalar(node):
            try:
                constructor.construct_object(node)
            except (ValueError, KeyError):
                lines.append(yamldoc.line_of(node))
            except YAMLError:  # (a tag without a constructor: not this problem)
                continue
    where = f"{rel}:{min(lines)}" if lines else rel
    return (
        f"{where}: a YAML scalar does not read as its tag says ({exc}); nothing written — "
        "remove the tag (a version is a string) and re-run"
    )


def same_data(old: Any, new: Any) -> bool:
    """Equal YAML data (mappings, sequences, scalars of the same type), each pair of shared
    nodes compared once: a document's aliases may expand to billions of nodes ("billion
    laughs"), which ``==`` would walk, as it walks a shared node again at every alias."""
    assumed: set[tuple[int, int]] = set()

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, dict) and isinstance(b, dict):
            if (id(a), id(b)) in assumed:
                return True  # equal unless a difference is found elsewhere, which answers False
            assumed.add((id(a), id(b)))
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            if (id(a), id(b)) in assumed:
                return True
            assumed.add((id(a), id(b)))
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        # The type too: 1 == True == 1.0 in Python, not in YAML; NaN is read as itself.
        return type(a) is type(b) and (bool(a == b) or (a != a and b != b))

    return same(old, new)


def _assign(data: Any, path: YamlPath, value: str) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value
