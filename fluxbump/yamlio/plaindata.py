"""Plain YAML data (dicts, lists, scalars) exactly as ruamel.yaml's safe loader gives it,
parsed by libyaml when that cannot change the answer.

Why: ruamel's pure-Python loader took 3.2 s for the 370 KB of CRDs in a real flux2 chart,
which every ``to`` and online ``check`` reads, and libyaml (PyYAML's C parser) 0.23 s. The
parse is libyaml's; which plain scalar is a bool, int, float or null is decided by ruamel's
own YAML 1.2 table, and numbers are converted as its constructor converts them. Anything
this does not cover (a duplicate or merge key, a timestamp, another tag, a text libyaml may
read otherwise, an error) is handed to ruamel whole: its data and its errors, as before.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fluxbump.yamlio.yamldoc import libyaml_may_differ


class _Fallback(Exception):
    """This text is ruamel's to read."""


def load(text: str) -> Any:
    """The single document's data (None for an empty stream), as ``YAML(typ="safe").load``."""
    docs = _with_libyaml(text)
    if docs is not None and len(docs) <= 1:
        return docs[0] if docs else None
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _constructor(last_wins=False)
    return yaml.load(text)


def load_all(text: str, *, last_wins: bool = False) -> list[Any]:
    """Every document's data, as ``YAML(typ="safe").load_all``. ``last_wins``: a key given
    twice in one mapping takes its last value, as Helm and Flux read it (and as
    ``yamldoc.compose_documents`` warns it does), where ruamel refuses it."""
    docs = _with_libyaml(text, last_wins)
    if docs is not None:
        return docs
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _constructor(last_wins)
    return list(yaml.load_all(text))


@functools.cache
def _constructor(last_wins: bool) -> type:
    """ruamel's safe constructor; ``last_wins``: a key met again is assigned again (its last
    value stays). A scalar that does not read as its type (``!!int abc``, ``!!bool maybe``,
    an integer of 4300+ digits) is a ConstructorError at its line, as every other error: the
    bool constructor let a KeyError out (a crash), the numbers a ValueError without a line."""
    from ruamel.yaml.constructor import ConstructorError, SafeConstructor

    class Constructor(SafeConstructor):
        def check_mapping_key(self, *args: Any) -> bool:
            return True if last_wins else bool(super().check_mapping_key(*args))

    def checked(construct: Any, what: str) -> Any:
        def read(self: Any, node: Any) -> Any:
            try:
                return construct(self, node)
            except KeyError:  # (the bool table has no such word)
                problem = f"{str(node.value)[:40]!r} is not a {what}"
            except ValueError as exc:  # (its advice, set_int_max_str_digits(), is no user's)
                problem = str(exc).strip().splitlines()[0].split(";")[0][:200]
            raise ConstructorError(None, None, problem, node.start_mark)

        return read

    for tag, what in (("bool", "boolean"), ("int", "integer"), ("float", "number")):
        uri = f"tag:yaml.org,2002:{tag}"
        Constructor.add_constructor(uri, checked(SafeConstructor.yaml_constructors[uri], what))
    return Constructor


def _with_libyaml(text: str, last_wins: bool = False) -> list[Any] | None:
    """The documents' data from libyaml, or None when ruamel must decide."""
    import yaml

    if (
        not yaml.__with_libyaml__
        or libyaml_may_differ(text)
        or ("%YAML" in text and _DIRECTIVE.search(text))  # (the test first: ~10x faster)
        or ("!" in text and _BARE_TAG.search(text))
    ):
        return None  # PyYAML's pure parser is no faster than ruamel's
    try:
        loader = _last_wins_loader() if last_wins else _loader()
        return list(yaml.load_all(text, Loader=loader))
    except (_Fallback, yaml.YAMLError, UnicodeError, RecursionError, TypeError, ValueError):
        return None


def prepare() -> None:
    """Build the libyaml loader now (it imports ruamel's resolver table), so a later load
    does not pay for it (``check`` does this while it waits for its scan's child)."""
    import yaml

    if yaml.__with_libyaml__:
        _loader()


@functools.cache
def _last_wins_loader() -> type:
    class LastWinsLoader(_loader()):  # type: ignore[misc]
        last_wins = True  # a key met again replaces its value in the dict: the last stays

    return LastWinsLoader


@functools.cache
def _loader() -> type:
    from ruamel.yaml.resolver import implicit_resolvers
    from yaml.constructor import BaseConstructor, SafeConstructor
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
    from yaml.resolver import BaseResolver

    class Resolver12(BaseResolver):
        yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML copies it on write)

    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:  # ruamel's own table: its bools, ints, floats and nulls
            Resolver12.add_implicit_resolver(tag, regexp, first)

    class Constructor12(BaseConstructor):
        last_wins = False

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            if any(key.tag == _MERGE for key, _ in node.value):
                raise _Fallback  # merge keys: ruamel's rules for what they override
            mapping: dict[Any, Any] = BaseConstructor.construct_mapping(self, node, deep)
            if len(mapping) != len(node.value) and not self.last_wins:
                raise _Fallback  # a duplicate key, which ruamel refuses with its own message
            return mapping

    typed: dict[str | None, Any] = {
        _NULL: lambda self, node: _checked(self, node, None),
        _BOOL: lambda self, node: _checked(self, node, _BOOLS.get(node.value)),
        _INT: lambda self, node: _checked(self, node, _int12(node.value)),
        _FLOAT: lambda self, node: _checked(self, node, _float12(node.value)),
        _STR: SafeConstructor.construct_yaml_str,
        _SEQ: SafeConstructor.construct_yaml_seq,
        _MAP: SafeConstructor.construct_yaml_map,
        None: _refuse,  # timestamps, binary, sets, any other tag
    }
    for typed_tag, construct in typed.items():
        Constructor12.add_constructor(typed_tag, construct)

    class Loader(CParser, Constructor12, Resolver12):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Constructor12.__init__(self)
            Resolver12.__init__(self)

    return Loader


# A %YAML directive: ruamel types that document by the version it names (1.1's yes, 010,
# 1:20), and the table below is 1.2's, so such a stream is ruamel's to read.
_DIRECTIVE = re.compile(r"^\ufeff?%YAML", re.MULTILINE)
# The non-specific tag alone (``key: !``): ruamel reads the empty node as null, libyaml as ''.
_BARE_TAG = re.compile(r"(?<![^\s\[{,\ufeff])!(?![^\s,\]}])")
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_BOOLS = {word: word[0] in "tT" for word in ("true", "True", "TRUE", "false", "False", "FALSE")}


def _checked(loader: Any, node: Any, value: Any) -> Any:
    """``value`` for a plain scalar ruamel's table typed; an explicitly tagged one (``!!int
    x``), whose conversion is the constructor's own business, is ruamel's to read."""
    tag = loader.resolve(type(node), node.value, (True, False))
    if tag != node.tag or (value is None and node.tag != _NULL):
        raise _Fallback
    return value


def _int12(text: str) -> int | None:
    """ruamel's YAML 1.2 integer: underscores dropped, 0b/0o/0x prefixes, a leading 0 decimal."""
    digits = text.replace("_", "")
    sign = -1 if digits[:1] == "-" else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float12(text: str) -> float:
    """ruamel's YAML 1.2 float: underscores dropped, ``.inf``/``.nan`` in any case."""
    digits = text.replace("_", "").lower()
    sign = -1 if digits[:1] == "-" else 1
    digits = digits.lstrip("+-")
    if digits in (".inf", ".nan"):
        return sign * float(digits[1:])
    return sign * float(digits)


def _refuse(loader: Any, node: Any) -> Any:
    raise _Fallback
