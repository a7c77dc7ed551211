"""A document whose aliases expand to billions of nodes ("billion laughs"): no reader walks
the expansion. A composed document past the bounds is refused at its line, as Flux refuses
it; the edit's proof compares each shared node once (its ruamel path reads without bounds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, Role
from fluxbump.write.splice import edit_yaml
from fluxbump.yamlio.yamldoc import compose_documents, compose_with_ruamel, scalar_at
from tests.support.cli_runner import run_process
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot

# 9 ** 12 leaves: expanded, about 2.8e11 nodes; as composed, 12 shared lists of nine items.
_LEVELS = 12


def bomb(indent: str) -> str:
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, _LEVELS):
        items = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"{indent}l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def bombed_fleet(tmp_path: Path) -> tuple[Path, str]:
    """The consistent fleet, its Flux HelmRelease's values a bomb; and what names it."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    rel = f"clusters/_template/{fleet.FLUX_RELEASE_FILE}"
    text = (repo / rel).read_text()
    assert "  values:\n" in text
    (repo / rel).write_text(text.replace("  values:\n", "  values:\n" + bomb("    "), 1))
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x == "kind: HelmRelease") - 1
    says = (
        f"{rel}:{line}: YAML aliases expand this document to more than 1,000,000 nodes; "
        "Kubernetes and Flux refuse it (excessive aliasing): fix the file and re-run; "
        "flux is unproven"
    )
    return repo, says


def test_a_flux_object_whose_aliases_explode_is_named_not_walked(tmp_path: Path) -> None:
    # Flux's YAML decoder refuses such a document ("excessive aliasing"); validating it
    # against the CRD schemas walked the expansion: check and to never finished.
    repo, says = bombed_fleet(tmp_path)
    check = run_process("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    # read as an unreadable manifest is: the release it may pin leaves Flux unproven
    assert f"  {says}" in check.stdout.splitlines()


def test_to_refuses_a_release_whose_aliases_explode_before_writing(tmp_path: Path) -> None:
    # The scan read the document without the bound: to moved its pin, and the gate refused
    # it after writing (exit 1, every file restored).
    repo, says = bombed_fleet(tmp_path)
    before = snapshot(repo)
    bump = run_process("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert bump.stderr.strip().splitlines()[-1] == f"error: {says}"
    assert snapshot(repo) == before


def test_aliases_that_expand_within_bounds_are_read() -> None:
    # Three levels of nine: 820 nodes for 40 written; a self-reference counts once.
    for text in ("a: &a [*a]\n", bomb("")[: bomb("").index("l3:")]):
        assert compose_documents(text, "t.yaml")
    with pytest.raises(UsageError, match=r"t\.yaml:1: YAML aliases expand"):
        compose_documents(bomb(""), "t.yaml")


def test_the_ruamel_proof_walks_a_bomb_once_too() -> None:
    # An anchor defined twice: YAML 1.2 allows it, libyaml refuses it, so ruamel's data decides.
    text = "twice: &t 1\nagain: &t 2\n" + bomb("") + "version: 1.2.3\n"
    scalar = scalar_at(compose_with_ruamel(text, "t.yaml")[0], 0, ("version",))
    assert scalar is not None
    site = PinSite(Role.CHART_VERSION, "t.yaml", scalar.line, scalar.column, scalar.value,
                   "c", "o", scalar.start, scalar.end, 0, ("version",))  # fmt: skip
    new = edit_yaml("t.yaml", text, [(site, "1.2.4")])
    assert new == text.replace("version: 1.2.3", "version: 1.2.4")
