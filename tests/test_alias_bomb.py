"""A document whose aliases expand to billions of nodes ("billion laughs") in a file that holds
a pin: proving the edit walks each shared node once, so `to` answers at once instead of
walking the expansion for hours."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from fluxbump.write.splice import edit_yaml
from tests.support.cli_runner import run_process
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot
from tests.support.splice_cases import site_at

# 9 ** 12 leaves: expanded, about 2.8e11 nodes; as composed, 12 shared lists of nine items.
_LEVELS = 12


def bomb(indent: str) -> str:
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, _LEVELS):
        items = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"{indent}l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_to_moves_a_release_whose_values_hold_an_alias_bomb(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    release = repo / "clusters/_template" / fleet.FLUX_RELEASE_FILE
    text = release.read_text()
    assert "  values:\n" in text
    release.write_text(text.replace("  values:\n", "  values:\n" + bomb("    "), 1))
    before = snapshot(repo)
    outcome = run_process("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    after = snapshot(repo)
    rel = f"clusters/_template/{fleet.FLUX_RELEASE_FILE}"
    old, new = before[rel].decode().splitlines(), after[rel].decode().splitlines()
    changed = [(a.strip(), b.strip()) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [("version: 1.1.1", "version: 1.1.2")]


def test_the_ruamel_proof_walks_a_bomb_once_too() -> None:
    # An anchor defined twice: YAML 1.2 allows it, libyaml refuses it, so ruamel's data decides.
    text = "twice: &t 1\nagain: &t 2\n" + bomb("") + "version: 1.2.3\n"
    new = edit_yaml("t.yaml", text, [(site_at(text, ("version",)), "1.2.4")])
    assert new == text.replace("version: 1.2.3", "version: 1.2.4")
