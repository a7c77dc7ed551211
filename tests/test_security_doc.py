"""SECURITY.md states only what is tested (issue 18): every claim under "What fluxbump
verifies" names a test file, and every test file and test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "SECURITY.md").read_text("utf-8")


def claims() -> list[str]:
    section = TEXT.split("## What fluxbump verifies", 1)[1].split("\n## ", 1)[0]
    return ["- **" + c for c in section.split("\n- **")[1:]]


def defined_tests() -> set[str]:
    return {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text("utf-8"), re.MULTILINE)
    }


def test_every_claim_names_a_test_file() -> None:
    found = claims()
    assert len(found) >= 15
    for claim in found:
        assert re.search(r"tests/[\w/]+\.py", claim), claim.splitlines()[0]


def test_every_named_test_file_and_test_exists() -> None:
    files = set(re.findall(r"tests/[\w/]+\.py", TEXT))
    assert files and all((ROOT / f).is_file() for f in files), sorted(files)
    named = set(re.findall(r"\b(test_\w+)\b", TEXT)) - {Path(f).stem for f in files}
    assert named and named <= defined_tests(), sorted(named - defined_tests())
