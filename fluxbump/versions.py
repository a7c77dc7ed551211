"""SemVer 2.0 ordering (Helm's) and Masterminds-style constraints such as ``^1.0``.

``packaging.Version`` is PEP 440 and orders ``2.0.0-rc.3`` wrongly for Helm, so the
``semver`` library does precedence; the constraint grammar Helm uses is small enough to
evaluate here on top of it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import semver

from fluxbump.errors import UsageError

# A pinned version: X.Y.Z with optional pre-release and build metadata, optional "v". It
# ends at ``\Z``: ``$`` also matches before a final newline, so "2.16.0\n" (an index entry,
# a pin, an argument) passed as a pin and semver's own parse then raised (exit 70).
_PIN = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z"
)


# The gate asks these of every pin-site, and a fleet's tens of thousands of pins hold a few
# dozen distinct texts: pure functions of a string, so their answers are remembered.
@lru_cache(maxsize=4096)
def is_pin(text: str) -> bool:
    """True when ``text`` is one exact SemVer version (optionally ``v``-prefixed)."""
    return _PIN.match(text) is not None


def parse(text: str) -> semver.Version:
    """Parse an exact version, ``v`` prefix allowed; raise UsageError otherwise."""
    if len(text) > 128 or not is_pin(text):
        raise UsageError(f"'{text}' is not a version (expected X.Y.Z, e.g. 2.4.0)")
    return semver.Version.parse(text.removeprefix("v"))


def try_parse(text: str) -> semver.Version | None:
    """Parse an exact version, or return None."""
    return semver.Version.parse(text.removeprefix("v")) if is_pin(text) else None


def sort_key(text: str) -> semver.Version:
    """Key for sorting version strings by SemVer precedence (build metadata ignored)."""
    version = parse(text)
    return version.replace(build=None)


def normalize(text: str) -> str:
    """Canonical text of a version: no ``v`` prefix."""
    return str(parse(text))


def bump_patch(text: str) -> str:
    """Next patch release, keeping a ``v`` prefix if the input had one."""
    prefix = "v" if text.startswith("v") else ""
    return prefix + str(parse(text).bump_patch())


def equal(a: str, b: str) -> bool:
    """Two version texts name the same release (``v2.4.0`` == ``2.4.0``)."""
    if a == b:  # the common case, and true whether or not the text parses
        return True
    va, vb = try_parse(a), try_parse(b)
    if va is None or vb is None:
        return a == b
    return va.compare(vb) == 0 and va.build == vb.build


# --- Helm (Masterminds) constraints --------------------------------------------------

_COMPARATOR = re.compile(
    r"^(\^|~>|~|>=|<=|!=|=>|=<|>|<|=)?\s*v?([0-9xX*]+(?:\.[0-9xX*]+){0,2})"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")


def _partial(text: str) -> tuple[list[int | None], str]:
    """Split '1.2' / '1.x' / '1.2.3' into numbers with None for wildcards."""
    parts: list[int | None] = []
    for piece in text.split("."):
        parts.append(None if piece in ("x", "X", "*") else int(piece))
    while len(parts) < 3:
        parts.append(None)
    return parts, text


def _floor(parts: list[int | None], pre: str) -> semver.Version:
    nums = [p if p is not None else 0 for p in parts]
    return semver.Version(nums[0], nums[1], nums[2], pre.lstrip("-") or None)


def _comparator_bounds(
    op: str, parts: list[int | None], pre: str
) -> list[tuple[str, semver.Version]]:
    """Translate one comparator into (operator, version) bounds."""
    major, minor, patch = parts
    low = _floor(parts, pre)
    if op == "^":
        if major is None:
            return [(">=", semver.Version(0, 0, 0))]
        if major > 0 or minor is None:
            return [(">=", low), ("<", semver.Version(major + 1, 0, 0))]
        if minor > 0 or patch is None:
            return [(">=", low), ("<", semver.Version(0, minor + 1, 0))]
        return [(">=", low), ("<", semver.Version(0, 0, patch + 1))]
    if op in ("~", "~>"):
        if major is None:
            return [(">=", semver.Version(0, 0, 0))]
        if minor is None:
            return [(">=", low), ("<", semver.Version(major + 1, 0, 0))]
        return [(">=", low), ("<", semver.Version(major, minor + 1, 0))]
    normalized = {"=>": ">=", "=<": "<=", "": "=", "=": "="}.get(op, op)
    partial = _partial_range(normalized, parts) if None in parts else None
    return partial if partial is not None else [(normalized, low)]


def _partial_range(op: str, parts: list[int | None]) -> list[tuple[str, semver.Version]] | None:
    """A comparator on a partial version as Masterminds semver v3 reads it: against the whole
    range the version names ("1.2" is 1.2.x, from 1.2.0 up to 1.3.0). None: read it as x.0."""
    whole = _wildcard_bounds(parts)
    end = whole[-1][1]
    major, minor, _ = parts
    by_operator: dict[str, list[tuple[str, semver.Version]]] = {
        "=": whole,
        "<=": [("<", end)],  # "<=1.2" admits all of 1.2.x
        ">": [(">=", end)],  # ">1.2" is above all of 1.2.x (1.2.1 is not > 1.2)
    }
    if major is not None:  # "!=4.1" excludes all of 4.1.x, "!=4" all of 4.x
        granularity = "!=major" if minor is None else "!=minor"
        by_operator["!="] = [(granularity, semver.Version(major, minor or 0, 0))]
    return by_operator.get(op)


def _wildcard_bounds(parts: list[int | None]) -> list[tuple[str, semver.Version]]:
    major, minor, _ = parts
    if major is None:
        return [(">=", semver.Version(0, 0, 0))]
    if minor is None:
        return [(">=", semver.Version(major, 0, 0)), ("<", semver.Version(major + 1, 0, 0))]
    return [(">=", semver.Version(major, minor, 0)), ("<", semver.Version(major, minor + 1, 0))]


def _holds(version: semver.Version, op: str, bound: semver.Version) -> bool:
    cmp = version.compare(bound)
    return {
        "=": cmp == 0,
        "!=": cmp != 0,
        ">": cmp > 0,
        ">=": cmp >= 0,
        "<": cmp < 0,
        "<=": cmp <= 0,
        "!=major": version.major != bound.major,
        "!=minor": (version.major, version.minor) != (bound.major, bound.minor),
    }[op]


def _and_group(group: str) -> list[tuple[str, semver.Version]]:
    hyphen = _HYPHEN.match(group)
    if hyphen:
        low = _comparator_bounds(">=", *_split(hyphen.group(1)))
        high = _comparator_bounds("<=", *_split(hyphen.group(2)))
        return low + high
    bounds: list[tuple[str, semver.Version]] = []
    tokens = re.findall(r"(?:\^|~>|~|>=|<=|!=|=>|=<|>|<|=)?\s*[^\s,<>=!~^]+", group)
    if not tokens or re.sub(r"[\s,]", "", group) != "".join(re.sub(r"\s", "", t) for t in tokens):
        raise UsageError(f"'{group}' is not a Helm version constraint")
    for token in tokens:
        match = _COMPARATOR.match(token.strip())
        if match is None:
            raise UsageError(f"'{group}' is not a Helm version constraint")
        parts, _ = _partial(match.group(2))
        bounds += _comparator_bounds(match.group(1) or "", parts, match.group(3) or "")
    return bounds


def _split(text: str) -> tuple[list[int | None], str]:
    match = _COMPARATOR.match(text)
    if match is None or match.group(1):
        raise UsageError(f"'{text}' is not a version in a hyphen range")
    parts, _ = _partial(match.group(2))
    return parts, match.group(3) or ""


@lru_cache(maxsize=4096)
def is_constraint(text: str) -> bool:
    """True when ``text`` parses as a Helm constraint and is not one exact pin."""
    if is_pin(text):
        return False
    try:
        for group in text.split("||"):
            _and_group(group)
    except (UsageError, ValueError):
        return False
    return True


def admits(constraint: str, version: str) -> bool:
    """Whether the Helm constraint (``^1.0``, ``>= 1.2, < 2``, ``1.x``) admits ``version``.

    As in Masterminds semver, a pre-release only satisfies a constraint that itself
    names a pre-release.
    """
    target = _chart_version(version).replace(build=None)
    for group in constraint.split("||"):
        bounds = _and_group(group)
        if target.prerelease and not any(b.prerelease for _, b in bounds):
            continue
        if all(_holds(target, op, bound) for op, bound in bounds):
            return True
    return False


# A chart version of one or two parts (``version: "1.10"`` in Chart.yaml), which Helm reads as
# its Masterminds library does: the missing parts are 0 (1.10.0).
_SHORT = re.compile(r"v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?")


def _chart_version(text: str) -> semver.Version:
    """``parse``, with a short version completed as Helm completes it."""
    short = _SHORT.fullmatch(text) if len(text) <= 32 else None
    if short is None:
        return parse(text)
    return semver.Version(int(short[1]), int(short[2] or 0), 0)


def admits_or_false(constraint: str, version: str) -> bool:
    """``admits``, with an unparsable range admitting nothing (the gate reports it)."""
    try:
        return admits(constraint, version)
    except (UsageError, ValueError):
        return False
