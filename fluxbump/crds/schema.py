"""Schema validation of Flux objects against a release's CRDs, as the API server applies it.

A HelmRelease field the target release does not know is pruned silently by the server (or a
wrong type rejected at apply time, after the bump merged): the gate finds it first, with the
offending field's ``file:line``. Pure functions of text, data and CRDs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from fluxbump.crds.definitions import Crd, dig
from fluxbump.errors import UsageError
from fluxbump.pins import Violation
from fluxbump.yamlio import plaindata
from fluxbump.yamlio.yamldoc import compose_documents, is_mapping, is_scalar, is_sequence


class ObjectDoc(NamedTuple):
    """One YAML document to validate: where it is, its data and (optionally) its node tree.

    ``node`` is a composed ruamel node (``yamldoc.compose_documents``); when present, a
    violation points at the offending field's line instead of the object's. ``partial``: a
    kustomize patch (``scan/patchfiles.py``), whose missing required fields are the patched
    object's.
    """

    file: str
    doc_index: int
    line: int
    obj: Any
    node: Any = None
    partial: bool = False


PLACEHOLDER = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=][^}]*)?\}$"}
PLACEHOLDER_MARK = "x-fluxbump-placeholder"
# (dotted path, problem) pairs: what ``schema_errors`` finds in one object.
SchemaErrors = frozenset[tuple[str, str]]
# A string with a placeholder anywhere in it: substituted before the server sees it, so a
# constraint on the string (``^(http|https|ssh)://`` of a GitRepository's url) judges the
# substituted value, which the repository does not hold (nucstack/k8s: ``url: ${REPO}``).
SUBSTITUTED = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=][^}]*)?\}"}
_STRING_CONSTRAINTS = ("pattern", "enum", "format", "minLength", "maxLength")
NON_STRING = ("integer", "number", "boolean")


def object_docs(text: str, file: str, lines_before: int = 0) -> list[ObjectDoc]:
    """The mapping documents of a YAML file (or of one document of it, after
    ``lines_before`` lines), with data and node trees, ready to validate."""
    from ruamel.yaml.error import YAMLError

    nodes = compose_documents(text, file, lines_before)  # invalid YAML: a UsageError, once
    try:
        datas = plaindata.load_all(text, last_wins=True)  # a duplicate key: warned of, as there
    except (YAMLError, ValueError, RecursionError) as exc:
        # Composed, yet no data: a tag the safe loader has no type for, ``!!int abc``, an
        # integer of more than 4300 digits, a mapping as a key.
        raise UsageError(_no_data(file, exc)) from None
    return [
        ObjectDoc(file, i, int(node.start_mark.line) + 1, data, node)
        for i, (node, data) in enumerate(zip(nodes, datas, strict=False))
        if is_mapping(node) and isinstance(data, dict)
    ]


def _no_data(file: str, exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    # (a ValueError's own advice, ``use sys.set_int_max_str_digits()``, is no user's)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0].split(";")[0]
    return f"{file}{line}: cannot read as data: {problem}; fix the file and re-run"


# A document that may be a Flux object: only these are composed and validated.
_FLUX_API = re.compile(r"^apiVersion:[ \t]*['\"]?[a-z.]*toolkit\.fluxcd\.io/", re.MULTILINE)


def validate_files(
    texts: Mapping[str, str],
    crds: Mapping[str, Crd],
    *,
    release: str = "the target release",
    is_patch: Callable[[str], bool] = lambda rel: False,
) -> list[Violation]:
    """``validate_objects`` over whole files, each distinct Flux document validated once.

    A fleet repeats the same HelmRelease in every cluster directory: composing and validating
    each copy cost seconds per hundred clusters. A document's violations depend only on its
    text, so identical documents share them, moved to each copy's file and line. A document
    with violations in a file that ``is_patch`` (``scan/patchfiles.py``) is judged as a patch.
    """
    from fluxbump.yamlio.blockyaml import split_documents

    seen: dict[tuple[str, bool], list[Violation]] = {}

    def validated(docs: Callable[[], list[ObjectDoc]], body: str, partial: bool) -> list[Violation]:
        if (body, partial) not in seen:
            marked = [d._replace(partial=partial) for d in docs()]
            seen[body, partial] = validate_objects(marked, crds, release=release)
        return seen[body, partial]

    found: list[Violation] = []
    for rel, text in texts.items():
        segments = split_documents(text)
        # only a full parse can cut this stream: validate it whole
        parts = (
            [(text, 0)] if segments is None else [(text[s.start : s.end], s.line) for s in segments]
        )
        for body, offset in parts:
            if segments is not None and not _FLUX_API.search(body):
                continue
            docs = functools.partial(_object_docs_at, text, body, rel, offset)
            try:
                problems = validated(docs, body, False)
                if problems and is_patch(rel):
                    problems = validated(docs, body, True)
            except UsageError as exc:
                found.append(_unreadable_object(rel, exc.message))
                continue
            found += [replace(v, file=rel, line=v.line + offset) for v in problems]
    return found


def _unreadable_object(rel: str, message: str) -> Violation:
    """A Flux object that cannot be read as data (a tag with no type, an alias bomb): its own
    violation, as the API server refuses it, and every other object is still validated (one
    odd file does not end the run)."""
    from fluxbump.scan.releases import unreadable_of

    unread = unreadable_of(rel, message, frozenset())  # its file:line and reason, parsed once
    return Violation(rel, unread.line, unread.reason.removesuffix(": fix the file and re-run"))


def _object_docs_at(text: str, body: str, rel: str, offset: int) -> list[ObjectDoc]:
    """``object_docs`` of one document of ``text`` (``offset`` lines into it); one it cannot
    read is named at its line in the file (read whole for that), not in the document."""
    try:
        return object_docs(body, rel, offset)
    except UsageError:
        object_docs(text, rel)  # the same error, its line counted from the file's start
        raise


def validate_objects(
    docs: Iterable[ObjectDoc],
    crds: Mapping[str, Crd],
    *,
    release: str = "the target release",
    known: SchemaErrors = frozenset(),
) -> list[Violation]:
    """Violations of Flux objects against the target release's CRDs.

    An object whose group and kind match a CRD must use a served version and satisfy that
    version's schema as the API server applies it (unknown fields are errors: a structural
    schema would silently prune them). ``release`` names the target, e.g. "Flux 2.3.0".
    ``known``: schema errors left out (``schema_errors`` of the object before a move).
    """
    by_kind = {(c.group, c.kind): c for c in crds.values()}
    found: list[Violation] = []
    for doc in docs:
        api_version, kind = dig(doc.obj, "apiVersion"), dig(doc.obj, "kind")
        if not isinstance(api_version, str) or "/" not in api_version or not isinstance(kind, str):
            continue
        group, version = api_version.rsplit("/", 1)
        crd = by_kind.get((group, kind))
        if crd is not None:
            found.extend(_check_object(doc, crd, version, release, known))
    return found


def schema_errors(doc: ObjectDoc, schema: dict[str, Any] | None) -> SchemaErrors:
    """(dotted path, problem) of each error of ``doc`` against ``schema`` (None: none)."""
    if schema is None:
        return frozenset()
    errors = _schema_errors(doc.obj, schema, partial=doc.partial)
    return frozenset((_dotted(path), problem) for path, problem in errors)


def _check_object(
    doc: ObjectDoc, crd: Crd, version: str, release: str, known: SchemaErrors
) -> list[Violation]:
    who = f"{crd.kind} {object_name(doc.obj)}"
    api_version = f"{crd.group}/{version}"
    if version not in crd.served:
        message = (
            f"{who}: apiVersion {api_version} is not served by {release}'s CRD; "
            f"served: {', '.join(crd.served)}"
        )
        return [
            Violation(
                doc.file, doc.line, message, found=api_version, expected=", ".join(crd.served)
            )
        ]
    schema = crd.schemas.get(version)
    if schema is None:
        return []  # served/storage only (bundled catalog): nothing to validate against
    return [
        Violation(
            doc.file,
            _line_at(doc, path),
            f"{who}: {_dotted(path)}: {problem} in {api_version} of {release}",
            found=_dotted(path),
        )
        for path, problem in _schema_errors(doc.obj, schema, partial=doc.partial)
        if (_dotted(path), problem) not in known
    ]


def object_name(obj: Any) -> str:
    """``namespace/name`` of an object's data (``scan.sites.object_name``: of its node)."""
    name = dig(obj, "metadata", "name")
    namespace = dig(obj, "metadata", "namespace")
    return f"{namespace}/{name}" if namespace else str(name)


def _schema_errors(
    obj: Any, schema: dict[str, Any], *, partial: bool = False
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, problem) per error; unknown fields get one entry each, at their own path.
    ``partial``: a patch, which may leave out any required field (the patched object has it)."""
    from jsonschema import Draft4Validator

    # Draft 4 is the dialect OpenAPI 3.0 (and so openAPIV3Schema) is built on: boolean
    # exclusiveMinimum/Maximum mean what they meant there.
    validator = Draft4Validator(kubernetes_schema(schema))
    found: list[tuple[tuple[str | int, ...], str]] = []
    for error in sorted(
        validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = tuple(error.absolute_path)
        if partial and error.validator == "required":
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            found.extend(
                ((*path, key), "unknown field") for key in error.instance if key not in known
            )
        else:
            found.append((path, _problem(error)))
    return found


def _problem(error: Any) -> str:
    if error.validator == "anyOf" and error.schema.get(PLACEHOLDER_MARK):
        # Report why the value fails the real schema, not the placeholder alternative.
        inner = [e for e in error.context or () if e.schema_path and e.schema_path[0] == 0]
        if inner:
            return str(inner[0].message)
    return str(error.message)


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(object)"


def _line_at(doc: ObjectDoc, path: Sequence[str | int]) -> int:
    """The line of the key (or item) at ``path`` in the node tree; the object's line if unknown."""
    node, line = doc.node, doc.line
    for step in path:
        node, step_line = _step(node, step)
        if node is None:
            return line if step_line is None else step_line
        line = step_line if step_line is not None else line
    return line


def _step(node: Any, step: str | int) -> tuple[Any, int | None]:
    if isinstance(step, int) and is_sequence(node) and step < len(node.value):
        item = node.value[step]
        return item, int(item.start_mark.line) + 1
    if isinstance(step, str) and is_mapping(node):
        for key, value in node.value:
            if is_scalar(key) and key.value == step:
                return value, int(key.start_mark.line) + 1
    return None, None


def kubernetes_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A jsonschema-ready copy of an openAPIV3Schema that behaves like the API server.

    * ``properties`` without ``x-kubernetes-preserve-unknown-fields`` -> unknown fields are
      errors (the server prunes them silently, so a field the release lacks is lost).
    * integer/number/boolean also accept a whole ``${VAR}`` placeholder (Flux post-build
      substitution replaces it before the server sees it), and a constrained string one
      holding a placeholder anywhere.
    * ``nullable: true`` allows null; ``metadata`` is only checked to be an object (the
      server validates it itself, and CRD schemas do not describe it).
    """
    converted = _convert(schema)
    if isinstance(converted.get("properties"), dict) and "metadata" in converted["properties"]:
        converted["properties"]["metadata"] = {"type": "object"}
    return converted


def _convert(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {
            k: _convert(v) if isinstance(v, dict) else v for k, v in out["properties"].items()
        }
        if out.get("x-kubernetes-preserve-unknown-fields") is not True:
            out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _convert(out[key])
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if _types(out) & set(NON_STRING) and "string" not in _types(out):
        return {"anyOf": [out, PLACEHOLDER], PLACEHOLDER_MARK: True}
    if "string" in _types(out) and any(key in out for key in _STRING_CONSTRAINTS):
        return {"anyOf": [out, SUBSTITUTED], PLACEHOLDER_MARK: True}
    return out


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return (
        {kind}
        if isinstance(kind, str)
        else {str(k) for k in kind}
        if isinstance(kind, list)
        else set()
    )
