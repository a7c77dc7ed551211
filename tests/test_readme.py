"""Every console example in README.md marked `<!-- readme-test -->` runs and prints what it shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- readme-test -->\n```console\n(.*?)```", re.DOTALL)


def examples() -> list[list[tuple[str, list[str]]]]:
    """Each marked block as (command, expected output lines) pairs."""
    blocks = []
    for body in BLOCK.findall(README.read_text("utf-8")):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line.rstrip())
        blocks.append(steps)
    return blocks


def expected_code(lines: list[str]) -> int:
    if any(x.startswith("error:") for x in lines):
        return -1  # any failure code; the message is what the example shows
    return 1 if any("violation(s)" in x or x.startswith("::error") for x in lines) else 0


def test_readme_has_tested_examples() -> None:
    assert len(examples()) >= 6


@pytest.fixture(scope="module")
def demo_kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample fleet as ``fluxbump demo --keep DIR`` leaves it: the README says the
    examples run there."""
    kept = tmp_path_factory.mktemp("readme") / "fleet"
    outcome = run_cli("demo", "--keep", str(kept))
    assert outcome.code == 0, outcome.stderr
    assert "on branch main in the incident state" in outcome.stdout
    return kept


@pytest.mark.parametrize("steps", examples(), ids=lambda s: s[0][0])
def test_readme_example(
    steps: list[tuple[str, list[str]]],
    demo_kept: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = tmp_path / "fleet"
    shutil.copytree(demo_kept, repo, symlinks=True)
    monkeypatch.chdir(repo)
    for command, shown in steps:
        argv = shlex.split(command)
        assert argv[0] == "fluxbump"
        outcome = run_cli(*argv[1:])
        printed = [x.rstrip() for x in (outcome.stdout + outcome.stderr).splitlines()]
        missing = [x for x in shown if x not in printed]
        assert not missing, f"{command}: README shows lines the command did not print: {missing}"
        want = expected_code(shown)
        assert outcome.code != 0 if want < 0 else outcome.code == want, (command, outcome.code)
        assert "Traceback" not in outcome.stderr
