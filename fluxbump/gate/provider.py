"""The ``fluxcd/flux`` Terraform provider constraint against the Flux release being installed.

A ``flux_bootstrap_git`` resource installs the release its ``version`` names with the code of
the provider Terraform selected, and each provider release is built against one Flux release
(``data/terraform-provider-flux.json``, from the provider's CHANGELOG): a constraint whose
newest admitted provider bundles an older Flux minor line than the target cannot install the
target's API changes. fluxbump never moves the constraint (a provider upgrade is the
Terraform user's change, with its own lock file); it warns with file:line. A constraint it
cannot read, or one that admits providers newer than the table knows, is not reported.
"""

from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from importlib import resources

from fluxbump import versions
from fluxbump.pins import PlacedWarning
from fluxbump.scan.sites.terraform import PlacedBlock, ProviderConstraint

TABLE_NAME = "terraform-provider-flux.json"
_CLAUSE = re.compile(
    r"\A\s*(?P<op>~>|>=|<=|!=|=|>|<)?\s*v?(?P<version>[0-9]+(?:\.[0-9]+){0,2})\s*\Z"
)
_UPPER = {"<", "<=", "=", "~>"}
Version = tuple[int, int, int]


@lru_cache(maxsize=1)
def provider_table() -> dict[Version, str]:
    """Provider release -> the Flux release it bundles."""
    text = resources.files("fluxbump").joinpath("data", TABLE_NAME).read_text("utf-8")
    return {_triple(p): flux for p, flux in json.loads(text)["bundles"].items()}


def provider_warnings(
    constraints: list[ProviderConstraint], release: str | None
) -> list[PlacedWarning]:
    """One line per constraint known not to admit a provider that installs ``release``."""
    if release is None or not versions.is_pin(release):
        return []
    parsed = versions.parse(release)
    # A pre-release (2.0.0-rc.1) is of its minor line, which is all the table is compared by.
    target = (parsed.major, parsed.minor, parsed.patch)
    name = versions.normalize(release)
    return [w for c in constraints if (w := _warning(c, target, name)) is not None]


def _warning(constraint: ProviderConstraint, target: Version, name: str) -> PlacedWarning | None:
    clauses = _clauses(constraint.value)
    if clauses is None or not any(op in _UPPER for op, _, _ in clauses):
        return None  # unreadable, or unbounded: a future provider may be admitted
    table = provider_table()
    newest = max(table)
    beyond = [(newest[0], newest[1], newest[2] + 1), (newest[0], newest[1] + 1, 0)]
    if any(_admits(clauses, v) for v in beyond):
        return None  # admits providers newer than the table knows
    admitted = [p for p in table if _admits(clauses, p)]
    if not admitted:
        return None
    provider = max(admitted)
    bundled = _triple(table[provider])
    if bundled[:2] >= target[:2]:
        return None
    needed = min((p for p, f in table.items() if _triple(f)[:2] >= target[:2]), default=None)
    fix = (
        f"widen it to admit provider {'.'.join(map(str, needed))} or later"
        if needed is not None
        else "no provider release known to fluxbump installs it"
    )
    return PlacedWarning(
        constraint.file,
        constraint.line,
        f"the fluxcd/flux provider constraint {constraint.value} admits "
        f"provider {'.'.join(map(str, provider))} at most, which bundles Flux {table[provider]}, "
        f"not Flux {name}; {fix} (fluxbump does not move provider constraints)",
    )


def unversioned_warnings(
    blocks: list[PlacedBlock], constraints: list[ProviderConstraint]
) -> list[PlacedWarning]:
    """One line per Flux provider block with no ``version``: it installs the release its
    provider bundles, named when its module's constraint admits one provider the table
    knows (tabulat/tf-flux pins provider 1.5.0 and no version: Flux 2.5.0, pinned nowhere)."""
    return [PlacedWarning(b.file, b.line, _unversioned(b, constraints)) for b in blocks]


def _unversioned(block: PlacedBlock, constraints: list[ProviderConstraint]) -> str:
    module = posixpath.dirname(block.file)
    exact = [
        (c, clauses[0][1])
        for c in constraints
        if posixpath.dirname(c.file) == module
        and (clauses := _clauses(c.value)) is not None
        and [(op, written) for op, _, written in clauses] == [("=", 3)]
    ]
    bundled = [(c, provider_table()[p]) for c, p in exact if p in provider_table()]
    release, known = "X.Y.Z", ""
    if len({flux for _, flux in bundled}) == 1:
        constraint, release = bundled[0]
        known = f" (Flux {release} for provider {constraint.value}, {constraint.where})"
    if block.embedded:  # a version there would have no effect: the provider chooses
        return (
            f"{block.owner} applies the Flux manifests its fluxcd/flux provider embeds "
            f"(embedded_manifests){known}, which fluxbump neither checks nor moves; the "
            "provider's version constraint chooses the release"
        )
    return (
        f"{block.owner} sets no version: it installs the Flux release its fluxcd/flux provider "
        f"bundles{known}, which fluxbump neither checks nor moves; write "
        f'version = "v{release}" in it to pin the release there'
    )


def _clauses(text: str) -> list[tuple[str, Version, int]] | None:
    """Terraform's comma-separated constraint: (operator, version, segments written)."""
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.match(part)
        if match is None:
            return None  # a pre-release or anything else: not read
        written = match["version"].split(".")
        clauses.append((match["op"] or "=", _triple(match["version"]), len(written)))
    return clauses


def _admits(clauses: list[tuple[str, Version, int]], version: Version) -> bool:
    return all(_holds(op, bound, written, version) for op, bound, written in clauses)


def _holds(op: str, bound: Version, written: int, version: Version) -> bool:
    if op == "~>":  # the last written segment may grow: ~> 1.2 is >= 1.2, < 2.0
        if written == 1:
            return bound <= version < (bound[0] + 1, 0, 0)
        ceiling = (bound[0] + 1, 0, 0) if written == 2 else (bound[0], bound[1] + 1, 0)
        return bound <= version < ceiling
    return {
        "=": version == bound, "!=": version != bound, ">": version > bound,
        ">=": version >= bound, "<": version < bound, "<=": version <= bound,
    }[op]  # fmt: skip


def _triple(text: str) -> Version:
    parts = [int(p) for p in text.split(".")]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]
