"""Manifests follow the API: Flux objects whose ``apiVersion`` a release does not serve.

Flux 2.7 stopped serving the ``v1beta1`` versions and 2.8 the ``v1beta2`` versions of its
CRDs; an object the repository still writes in such a version is rejected when it is next
applied. ``flux migrate -f`` rewrites such files but re-serialises them; here only the
``apiVersion`` scalar changes (a ``PinSite`` of role ``Role.API_VERSION``, spliced and proven
like every pin edit), to the version the target release stores, and each migrated object is
validated against the target's CRD schema before anything is written. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fluxbump.crds.definitions import Crd, dig
from fluxbump.crds.schema import (
    ObjectDoc,
    object_docs,
    object_name,
    schema_errors,
    validate_objects,
)
from fluxbump.crds.schema_catalog import bundled_schema
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role, Violation, yaml_site
from fluxbump.plan import Edit
from fluxbump.scan.apiversions import (
    API_VERSION_LINE,
    ApiVersions,
    api_versions,
    may_hold_resource_set,
)
from fluxbump.scan.discover import Survey
from fluxbump.scan.patchfiles import patch_files
from fluxbump.scan.sites.resourceset import generated, placed, templates
from fluxbump.scan.sources import (
    LINE_END,
    LINE_START,
    READ_LIMIT,
    SourceFile,
    read_raw,
    read_source,
    source_of,
)
from fluxbump.write.splice import splice
from fluxbump.yamlio.yamldoc import YamlPath, line_of, scalar_at, walk

# A top-level apiVersion of a Flux API group: only such files are composed (and ResourceSets).
_FLUX_API = re.compile(rf"{LINE_START}apiVersion:[ \t]*['\"]?[a-z.]*fluxcd\.io/")
# An API version as written (``v1beta2``), as the scan finds it (``scan/apiversions.py``): one
# rendered where it is applied (``<< inputs.version >>``) is not guessed.
_API_VERSION = re.compile(r"[a-z0-9]+")
# A resourcesTemplate line naming an object's Flux API version (at the top of a document of the
# template, as written, and nothing else: not a ``sourceRef``'s).
_TEMPLATE_API = re.compile(API_VERSION_LINE)
# A chart template's line naming the Flux API version of an object Helm renders: at the start
# of its line, as a document's top level is (an indented one is a field's: a sourceRef's).
_CHART_TEMPLATE_API = re.compile(rf"{LINE_START}{API_VERSION_LINE}{LINE_END}")
# A value a ResourceSet renders from its inputs; held as a placeholder when its object is
# validated, as the operator substitutes it before the API server sees it.
_INPUT = re.compile(r"<<.*?>>")


@dataclass(frozen=True)
class FluxObject:
    """One Flux object of the repository: its ``apiVersion`` scalar and its document."""

    site: PinSite  # role API_VERSION; value is the apiVersion, subject the kind
    group: str
    version: str
    doc: ObjectDoc  # a generated one's: the object under ``spec.resources``
    text: str = ""  # the whole file's text (fields Flux renamed are rewritten in it)
    at: YamlPath = ()  # where a ResourceSet generates it in the document (``spec.resources[i]``)
    templated: bool = False  # a line of a ResourceSet's resourcesTemplate: kind unknown (``""``)


def flux_objects(source: SourceFile) -> list[FluxObject]:
    """The Flux objects of one file, top-level ones and those a ResourceSet generates (a file
    that is not YAML has none: its own gate says so)."""
    if b"fluxcd.io/" not in source.raw:
        return []
    generates = may_hold_resource_set(source.raw)
    if not generates and not _FLUX_API.search(source.text):
        return []
    try:
        docs = object_docs(source.text, source.rel)
    except UsageError:
        return []
    found = []
    for top in docs:
        for at, doc in _objects_of(top) if generates else (((), top),):
            obj = _flux_object(source, doc, at)
            if obj is not None:
                found.append(obj)
        if generates:
            found += _template_lines(source, top)
    return found


def _objects_of(top: ObjectDoc) -> Iterator[tuple[YamlPath, ObjectDoc]]:
    """A document, then each object it generates if it is a ResourceSet."""
    yield (), top
    for at, node in generated(top.node):
        doc = _generated_doc(top, at, node)
        if doc is not None:
            yield at, doc


def _generated_doc(top: ObjectDoc, at: YamlPath, node: Any) -> ObjectDoc | None:
    """The object at ``at`` of a ResourceSet document, as validation sees it."""
    data: Any = top.obj
    for step in at:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None  # the data is not the node tree's shape (a duplicate key)
    if not isinstance(data, dict):
        return None
    return top._replace(line=line_of(node), obj=data, node=node)


def _as_validated(obj: FluxObject, doc: ObjectDoc) -> ObjectDoc:
    """``doc`` (``obj`` migrated) as the CRD schema judges it: in a generated object, each
    ``<< inputs.x >>`` as ``${inputs}``, which the schema admits as a value set before the API
    server sees it (``crds/schema.py``), never a guess at the value. ``metadata`` is the API
    server's to check, and names the object as written."""
    if not obj.at or not isinstance(doc.obj, dict):
        return doc
    data = {k: v if k == "metadata" else _inputs_as_placeholders(v) for k, v in doc.obj.items()}
    return doc._replace(obj=data)


def _inputs_as_placeholders(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _inputs_as_placeholders(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_inputs_as_placeholders(item) for item in data]
    return _INPUT.sub("${inputs}", data) if isinstance(data, str) else data


def _flux_object(source: SourceFile, doc: ObjectDoc, at: YamlPath) -> FluxObject | None:
    kind = dig(doc.obj, "kind")
    scalar = scalar_at(doc.node, doc.doc_index, ("apiVersion",))
    if scalar is None or not isinstance(kind, str) or "/" not in scalar.value:
        return None
    group, version = scalar.value.rsplit("/", 1)
    if not group.endswith("fluxcd.io") or not _API_VERSION.fullmatch(version):
        return None
    site = yaml_site(Role.API_VERSION, source.rel, scalar, subject=kind, owner=_owner(kind, doc))
    [site] = placed([site], at)
    return FluxObject(site, group, version, doc, source.text, at)


def _owner(kind: str, doc: ObjectDoc) -> str:
    return f"{kind} {object_name(doc.obj)}"


def _template_lines(source: SourceFile, top: ObjectDoc) -> list[FluxObject]:
    """Each line ``apiVersion: <Flux group>/<version>`` of a ResourceSet's resourcesTemplate
    written as a literal block (``|``: its n-th line is the n-th line after the key's), found
    as written on that line of the file; a template is not YAML, so nothing else is read."""
    lines = source.text.splitlines()
    owner = f"{_owner('ResourceSet', top)} resourcesTemplate"
    found = []
    for node in templates(top.node):
        if getattr(node, "style", None) != "|":
            continue
        first = int(node.start_mark.line) + 1  # 0-based: the line after ``|``
        for offset, line in enumerate(str(node.value).split("\n")):
            match = _TEMPLATE_API.fullmatch(line)
            at = first + offset
            if match is None or at >= len(lines) or lines[at].strip() != line.strip():
                continue
            column = len(lines[at]) - len(lines[at].lstrip())
            value = f"{match[1]}/{match[2]}"
            site = PinSite(Role.API_VERSION, source.rel, at + 1, column + 1, value, "", owner, 0, 0)
            doc = top._replace(line=at + 1, obj={}, node=None)
            found.append(FluxObject(site, match[1], match[2], doc, templated=True))
    return found


def chart_template_objects(source: SourceFile) -> list[FluxObject]:
    """Each Flux object a chart's template renders, as its ``apiVersion`` line names it
    (platformcompass/wayfinder's chart writes a HelmRelease per values entry): a Go template
    is not YAML, so nothing else is read, and the kind is not known for sure."""
    found = []
    for match in _CHART_TEMPLATE_API.finditer(source.text):
        value = f"{match[1]}/{match[2]}"
        site = source.text_site(Role.API_VERSION, match.start(1), value, "", "Helm chart template")
        doc = ObjectDoc(source.rel, 0, site.line, {})
        found.append(FluxObject(site, match[1], match[2], doc, templated=True))
    return found


# (group, version, kinds named in the file) -> whether an object of that API may be unserved:
# only files naming one are composed (a fleet's thousands of HelmRelease and HelmRepository
# files in a served version cost two regex scans).
Suspect = Callable[[str, str, frozenset[str]], bool]


# (CRD name, API version) -> deprecationWarning (``definitions.deprecated_versions``).
Deprecations = Mapping[tuple[str, str], str]


def unserved_somewhere(
    *crd_sets: Mapping[str, Crd], deprecated: Deprecations | None = None
) -> Suspect:
    """Suspect an API version that a CRD of its group, of a kind the file names, does not
    serve in any of the sets (or that ``deprecated`` marks: it is moved too)."""
    by_kind: dict[tuple[str, str], list[frozenset[str]]] = {}
    for crds in crd_sets:
        for crd in crds.values():
            kept = frozenset(v for v in crd.served if (crd.name, v) not in (deprecated or {}))
            by_kind.setdefault((crd.group, crd.kind), []).append(kept)

    def suspect(group: str, version: str, kinds: frozenset[str]) -> bool:
        return any(
            version not in served for kind in kinds for served in by_kind.get((group, kind), ())
        )

    return suspect


def repository_objects(tree: Survey, suspect: Suspect) -> list[FluxObject]:
    """The Flux objects of the repository's manifests, and those its charts' templates render,
    in files that name a ``suspect`` API version; those files join ``tree.sources`` (a bump
    edits them from the text read here).
    On a warm run the API versions and kinds of unchanged files come from the cache."""
    records = tree.cache.part("api-versions", "") if tree.cache is not None else None
    found: list[FluxObject] = []
    # A fleet's files name a few dozen distinct sets of API versions: each is judged once.
    judged: dict[ApiVersions, bool] = {}
    is_patch = patch_files(tree.root)
    templates = set(tree.roles.chart_templates)
    for rel in [*tree.roles.clusters, *tree.roles.chart_templates]:
        named = records.recall(rel) if records is not None else None
        source = None
        if named is None:
            source, named = _flux_api_versions(tree, rel)
            if records is not None and named is not None:
                records.remember(rel, named)
        if not named:
            continue
        verdict = judged.get(named)
        if verdict is None:
            verdict = judged[named] = any(suspect(group, version, frozenset(kinds))
                                          for group, version, kinds in named)  # fmt: skip
        if not verdict:
            continue
        source = source or tree.sources.get(rel) or _read(tree, rel)
        if source is None:
            continue
        objects = chart_template_objects(source) if rel in templates else flux_objects(source)
        if objects:
            tree.sources.setdefault(rel, source)
            found += [_as_patch(o) for o in objects] if is_patch(rel) else objects
    return found


def _as_patch(obj: FluxObject) -> FluxObject:
    """A kustomize patch's object: validated for what it sets, not for what it leaves out."""
    return replace(obj, doc=obj.doc._replace(partial=True))


def _flux_api_versions(tree: Survey, rel: str) -> tuple[SourceFile | None, ApiVersions | None]:
    """The file's text (when read here) and its Flux API versions; None: unreadable. The
    release scan found them in the files it read; any other file is read here."""
    named = tree.api_versions.get(rel)
    if named is not None:
        return None, named
    source = tree.sources.get(rel)
    try:
        raw = source.raw if source is not None else read_raw(tree.root, rel, limit=READ_LIMIT)
        if b"fluxcd.io/" not in raw:
            return source, ()
        source = source or source_of(rel, raw)
    except UsageError:
        return None, None  # unreadable or too large to be a manifest: the scan reports it
    return source, api_versions(source.raw)


def _read(tree: Survey, rel: str) -> SourceFile | None:
    """A file's text, at most a manifest's size; None: unreadable or too large (the release
    scan names it)."""
    try:
        return read_source(tree.root, rel)
    except UsageError:
        return None


def _by_kind(crds: Mapping[str, Crd]) -> dict[tuple[str, str], Crd]:
    return {(c.group, c.kind): c for c in crds.values()}


def unserved(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd]
) -> list[tuple[FluxObject, Crd]]:
    """Objects whose CRD in ``crds`` does not serve their version (a kind it lacks is not ours
    to judge: another chart may install it)."""
    by_kind = _by_kind(crds)
    found = []
    for obj in objects:
        crd = by_kind.get((obj.group, obj.site.subject))
        if crd is not None and obj.version not in crd.served:
            found.append((obj, crd))
    return found


def unserved_templated(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd]
) -> list[tuple[FluxObject, str]]:
    """Template lines whose version no CRD of their group in ``crds`` serves, whatever the
    kind (which a template does not say for sure), each with the version to write: the one
    the group's CRDs store, or how to find it when they store several."""
    served: dict[str, set[str]] = {}
    stored: dict[str, set[str]] = {}
    for crd in crds.values():
        served.setdefault(crd.group, set()).update(crd.served)
        stored.setdefault(crd.group, set()).add(crd.storage)
    found = []
    for obj in objects:
        if obj.templated and obj.group in served and obj.version not in served[obj.group]:
            versions = sorted(stored[obj.group])
            write = f"{obj.group}/{versions[0]}" if len(versions) == 1 else "its kind's version"
            found.append((obj, write))
    return found


def migration_edits(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd], release: str
) -> list[Edit]:
    """An edit of each unserved object's ``apiVersion`` to the version ``crds`` store, and of
    the fields Flux renamed between the two (``crds/renames.py``); refused (``UsageError``,
    nothing written) when a rename cannot be done exactly, the migrated object does not
    validate against that version's schema, or a ResourceSet's template names a version the
    target does not serve (a template is never rewritten)."""
    templated = unserved_templated(objects, crds)
    if templated:
        obj, write = templated[0]
        raise UsageError(
            f"{obj.site.where}: {obj.site.owner}: apiVersion {obj.site.value} is not served by "
            f"{release}, and a template is not rewritten: write {write} there by hand, then "
            "re-run; nothing written"
        )
    edits = []
    for obj, crd in unserved(objects, crds):
        new = f"{obj.group}/{crd.storage}"
        fields, migrated = _renamed(obj, crd, new)
        invalid = _invalid_after_move(obj, crd, migrated, crds, release)
        if invalid is not None:
            first, made = invalid
            why, fix = (
                ("leaves it invalid", "rewrite it by hand as Flux's migration notes say")
                if made
                else ("keeps it invalid, as it is as written", "correct that value")
            )
            raise UsageError(
                f"{first.file}:{first.line}: moving {obj.site.owner} from {obj.site.value} to "
                f"{new} {why}: {first.message}; {fix}, then re-run; nothing written"
            )
        edits += [Edit(obj.site, new), *fields]
    return edits


def _invalid_after_move(
    obj: FluxObject, crd: Crd, migrated: ObjectDoc, crds: Mapping[str, Crd], release: str
) -> tuple[Violation, bool] | None:
    """The first problem of ``migrated`` (``obj`` moved to the version ``crd`` stores), and
    whether the move makes it: one the object has as written, in its own version's schema
    (aws-samples' ``url: REPO_PREFIX/…``, a placeholder its setup replaces), is no case for
    Flux's migration notes, though the moved object is refused all the same. None: valid."""
    problems = validate_objects([migrated], crds, release=release)
    if not problems:
        return None
    schema = crd.schemas.get(obj.version) or bundled_schema(crd.group, crd.kind, obj.version)
    written = schema_errors(_as_validated(obj, obj.doc), schema)
    made = validate_objects([migrated], crds, release=release, known=written)
    return (made[0], True) if made else (problems[0], False)


def _renamed(obj: FluxObject, crd: Crd, new: str) -> tuple[list[Edit], ObjectDoc]:
    """The field edits of one object moving to ``new``, and the object as they leave it,
    proven: the new document's data is the old data with exactly Flux's renames applied."""
    from fluxbump.crds import renames

    try:
        rewrites, transforms = renames.renamed_fields(
            obj.text, obj.doc.node, obj.group, obj.site.subject, crd.schemas.get(crd.storage)
        )
    except renames.Refused as exc:
        raise renames.refusal(obj.site.file, str(exc), obj.site.owner) from None
    moved = {**obj.doc.obj, "apiVersion": new}
    if not rewrites:
        return [], _as_validated(obj, obj.doc._replace(obj=moved))
    fields = [
        Edit(
            PinSite(
                Role.API_FIELD,
                obj.site.file,
                r.line,
                r.column,
                r.old,
                obj.site.subject,
                obj.site.owner,
                r.start,
                r.end,
            ),
            r.new,
            r.new_text,
        )
        for r in rewrites
    ]
    text = splice(obj.text, [(obj.site, new), *((e.site, e.text or "") for e in fields)])
    docs = object_docs(text, obj.site.file)
    top = next((d for d in docs if d.doc_index == obj.doc.doc_index), None)
    after = _generated_doc(top, obj.at, walk(top.node, obj.at)) if top and obj.at else top
    if after is None or after.obj != renames.expected(moved, transforms):
        raise UsageError(
            f"{obj.site.where}: moving {obj.site.owner} to {new} would change more than the "
            "fields Flux renamed; rewrite it by hand as Flux's migration notes say, then "
            "re-run; nothing written"
        )
    return fields, _as_validated(obj, after._replace(line=obj.doc.line, partial=obj.doc.partial))


def deprecated_use(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd], deprecated: Deprecations
) -> list[tuple[FluxObject, Crd, str]]:
    """Objects in a version their CRD still serves but ``deprecated`` marks, with the
    warning the API server prints for it."""
    by_kind = _by_kind(crds)
    found = []
    for obj in objects:
        crd = by_kind.get((obj.group, obj.site.subject))
        if crd is not None and obj.version in crd.served and obj.version != crd.storage:
            warning = deprecated.get((crd.name, obj.version))
            if warning is not None:
                found.append((obj, crd, warning))
    return found


def deprecation_edits(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd], release: str, deprecated: Deprecations
) -> tuple[list[Edit], list[str]]:
    """Edits moving each object in a version the target deprecates to the version it stores
    (with Flux's renames), and a warning for each one left as it is because that move would
    not be exact or valid (it is still served: a deprecation is no reason to stop a bump)."""
    edits: list[Edit] = []
    warnings: list[str] = []
    for obj, crd, warning in deprecated_use(objects, crds, deprecated):
        new = f"{obj.group}/{crd.storage}"
        try:
            fields, migrated = _renamed(obj, crd, new)
        except UsageError as exc:
            why = exc.message.removeprefix(f"{obj.site.where}: ")  # (named once, first)
            warnings.append(
                f"{obj.site.where}: {obj.site.value} left as it is ({warning}): "
                f"{why.removesuffix('; nothing written')}"
            )
            continue
        invalid = _invalid_after_move(obj, crd, migrated, crds, release)
        if invalid is not None:
            first, made = invalid
            why = "leaves it invalid" if made else "keeps it invalid, as it is as written"
            warnings.append(
                f"{obj.site.where}: {obj.site.value} left as it is ({warning}): moving it to "
                f"{new} {why}: {first.message}"
            )
            continue
        edits += [Edit(obj.site, new), *fields]
    return edits, warnings


def deprecation_warnings(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd], release: str, deprecated: Deprecations
) -> list[str]:
    """For ``status``/``check``: each object in an API version the pinned release deprecates
    (a warning, not a violation: it is still served). Past ``_SHOWN`` objects of one API
    version the rest are counted in one line: a repository of a hundred such objects got the
    same warning a hundred times (openova-io/openova)."""
    said: list[str] = []
    uses: dict[str, int] = {}  # objects seen per API version
    for obj, crd, warning in deprecated_use(objects, crds, deprecated):
        uses[obj.site.value] = uses.get(obj.site.value, 0) + 1
        if uses[obj.site.value] <= _SHOWN:
            said.append(
                f"{obj.site.where}: {obj.site.owner}: apiVersion {obj.site.value} is deprecated "
                f"by {release} ({warning}); 'fluxbump to' moves it to {obj.group}/{crd.storage}"
            )
    more = {version: count - _SHOWN for version, count in uses.items() if count > _SHOWN}
    return said + [
        f"{count} more object(s) in apiVersion {version} deprecated by {release}; "
        "'fluxbump to --dry-run' lists each move"
        for version, count in more.items()
    ]


_SHOWN = 3  # deprecated objects of one API version named one by one


def unserved_violations(
    objects: Iterable[FluxObject], crds: Mapping[str, Crd], release: str
) -> list[Violation]:
    """For ``status``/``check``: each object whose apiVersion the pinned release does not serve."""
    return [
        Violation(
            obj.site.file,
            obj.site.line,
            f"{obj.site.owner}: apiVersion {obj.site.value} is not served by {release}; "
            f"'fluxbump to' moves it to {obj.group}/{crd.storage}",
            found=obj.site.value,
            expected=f"{obj.group}/{crd.storage}",
        )
        for obj, crd in unserved(objects, crds)
    ] + [
        Violation(
            obj.site.file,
            obj.site.line,
            f"{obj.site.owner}: apiVersion {obj.site.value} is not served by {release}; "
            f"a template is not rewritten: write {write} there by hand",
            found=obj.site.value,
            expected=write,
        )
        for obj, write in unserved_templated(objects, crds)
    ]
