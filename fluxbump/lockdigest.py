"""Helm's ``Chart.lock`` digest, reproduced byte for byte (pure: data in, string out).

Helm 3.0 and later (``internal/resolver/resolver.go`` ``HashReq``, since helm/helm
c72caf6a, "Calculate digest from both Chart.lock & Chart.yaml deps") write
``digest: sha256:<hex>`` where hex is the SHA-256 of Go's ``json.Marshal`` of the pair
``[Chart.yaml dependencies, Chart.lock dependencies]``, each a list of
``chart.Dependency``. ``helm dependency build`` refuses a lock whose digest differs
("Chart.lock is out of sync with Chart.yaml"), so a bump that moves a pin must write
the digest Helm would. Helm 2's ``HashV2Req`` (``requirements.lock``) is not handled:
fluxbump edits ``Chart.lock`` only.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

# chart.Dependency's JSON fields in declaration order: Go marshals struct fields in that
# order, omitting the ``omitempty`` ones when empty (``repository`` is always written).
_FIELDS: tuple[tuple[str, bool], ...] = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
)
_STRINGS = ("name", "version", "repository", "condition", "alias")


def hash_req(requirements: Sequence[Mapping[str, Any]], locked: Sequence[Mapping[str, Any]]) -> str:
    """``sha256:<hex>`` as Helm's ``HashReq(req, lock)`` computes it."""
    pair = [[_dependency(d) for d in requirements], [_dependency(d) for d in locked]]
    return "sha256:" + hashlib.sha256(go_json(pair).encode("utf-8")).hexdigest()


def _dependency(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One dependency as Helm holds it after loading: strings sanitised, empties omitted."""
    out: dict[str, Any] = {}
    for key, omit_empty in _FIELDS:
        value = _normal(key, raw.get(key))
        if omit_empty and not value:
            continue
        out[key] = value
    return out


def _normal(key: str, value: Any) -> Any:
    if key in _STRINGS:
        return sanitize("" if value is None else str(value))
    if key == "tags":
        return [sanitize(str(t)) for t in value or ()]
    if key == "enabled":
        return value is True
    return [_sorted(v) for v in value or ()]  # import-values: strings or {child, parent}


def _sorted(value: Any) -> Any:
    """Go marshals a map with its keys sorted (struct fields keep declaration order)."""
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def sanitize(text: str) -> str:
    """Go's ``chart.sanitizeString`` (run by ``Dependency.Validate`` on load): whitespace
    becomes a space, other unprintable runes are dropped."""
    return "".join(" " if c.isspace() else c for c in text if c.isspace() or _printable(c))


def _printable(char: str) -> bool:
    return unicodedata.category(char)[0] not in "CZ" or char == " "


def go_json(value: Any) -> str:
    """``encoding/json.Marshal``: compact, map keys sorted, ``<>&`` and U+2028/9 escaped,
    other non-ASCII written as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    for char, escape in _GO_ESCAPES:
        text = text.replace(char, escape)
    return text


_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def go_time(moment: datetime) -> str:
    """``generated`` as Helm writes it: Go's RFC 3339 with trailing zeros of the fraction
    dropped and ``Z`` for UTC (``2026-02-02T02:11:19.957757+01:00``)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
