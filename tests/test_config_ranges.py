"""Settings are range-checked when they are read (issue 18, item 9/3): a value out of range or
of the wrong type is one line naming ``.fluxbump.yaml:LINE``, exit 2, before anything is
written (an out-of-range ``gate.timeout`` used to fail after the files were written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import git_state, leftovers
from tests.support.cli_runner import run_cli, run_process
from tests.support.fixtures import CONSISTENT, init_git, make_fleet
from tests.support.helm_repo import write_flux_repo

ROOT = Path(__file__).resolve().parents[1]
GATE = "wrapper: bp-flux\ngate:\n  commands: ['true']\n  timeout: {}\n"
TIMEOUT = "'gate.timeout' must be a positive whole number of seconds, at most 86400 (a day), not"


@pytest.fixture(scope="module")
def index_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small local flux2 repository: no network, no offline warning on stderr."""
    keep = frozenset({"2.14.0", "2.14.1", "2.15.0"})
    yield str(write_flux_repo(tmp_path_factory.mktemp("repo"), keep))


def fleet_with(tmp_path: Path, config: str) -> Path:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    (repo / ".fluxbump.yaml").write_text(config)
    init_git(repo)
    return repo


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (GATE.format("100000000000000000000"), f"4: {TIMEOUT} 100000000000000000000"),
        (GATE.format("86401"), f"4: {TIMEOUT} 86401"),
        (GATE.format("0"), f"4: {TIMEOUT} 0"),
        (GATE.format("-5"), f"4: {TIMEOUT} -5"),
        (GATE.format("1.5"), f"4: {TIMEOUT} 1.5"),
        (GATE.format("'10'"), f"4: {TIMEOUT} '10'"),
        (GATE.format("true"), f"4: {TIMEOUT} True"),
        (
            "wrapper: bp-flux\ngate:\n  commands: ['']\n",
            "3: 'gate.commands' must be a list of shell commands (not empty)",
        ),
        ("gate:\n  retries: 3\n", "2: unknown key 'gate.retries' (known: commands, timeout)"),
        ("wrapper: bp-flux\n\nclusters: 3\n", "3: 'clusters' must be a list of glob strings"),
        ("wrapper: bp-flux\nremote: ''\n", "2: 'remote' must be a non-empty string"),
        ("wrapper: bp-flux\napp_version_policy: sometimes\n", "2: app_version_policy must be"),
        ("components:\n  cilium: {wrapper: x}\n", "2: components.cilium: 'components' must map"),
        ("- wrapper\n", "1: must be a mapping of settings"),
        ("wrapper: bp-flux\nhelm_repo: https:///index.yaml\n", "2: helm_repo 'https:///ind"),
        ("helm_repo: 'http://charts.example:80x/'\n", "1: helm_repo 'http://charts.example:80x/"),
        ("# mirror\nhelm_repo: ftp://charts.example/\n", "2: helm_repo 'ftp://charts.exa"),
    ],
    ids=[
        "timeout-huge", "timeout-over-a-day", "timeout-zero", "timeout-negative",
        "timeout-float", "timeout-string", "timeout-bool", "command-empty", "gate-unknown-key",
        "globs-not-a-list", "remote-empty", "policy-unknown", "component-shape", "not-a-mapping",
        "helm-repo-no-host", "helm-repo-bad-port", "helm-repo-scheme",
    ],
)  # fmt: skip
def test_a_bad_setting_names_its_line_and_nothing_is_written(
    tmp_path: Path, index_file: str, config: str, message: str
) -> None:
    repo = fleet_with(tmp_path, config)
    before = git_state(repo)
    for args in (("to", "2.5.1"), ("sync",), ("check",), ("status",)):
        outcome = run_cli(*args, "--repo", str(repo), "--helm-repo", index_file)
        assert outcome.code == 2, (args, outcome.stderr)
        [line] = outcome.stderr.splitlines()
        assert line.startswith(f"error: .fluxbump.yaml:{message}"), (args, line)
        assert git_state(repo) == before and leftovers(repo) == []


def test_a_day_is_the_longest_gate_timeout_accepted(tmp_path: Path, index_file: str) -> None:
    repo = fleet_with(tmp_path, GATE.format("86400"))
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", index_file)
    assert outcome.code == 0, outcome.stderr
    assert "and 1 gate command(s)" in outcome.stdout


@pytest.mark.parametrize("name", ["FLUXBUMP_HTTP_TIMEOUT", "FLUXBUMP_HTTP_DEADLINE"])
@pytest.mark.parametrize("value", ["1e308", "86401", "0", "inf", "nan"])
def test_http_seconds_out_of_range_are_one_line_exit_2(
    tmp_path: Path, name: str, value: str
) -> None:
    repo = fleet_with(tmp_path, "wrapper: bp-flux\n")
    before = git_state(repo)
    outcome = run_cli(
        "to", "2.5.1", "--repo", str(repo), "--helm-repo", "http://127.0.0.1:9/", env={name: value}
    )
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr == (
        f"error: {name}={value!r}: expected a positive number of seconds, at most 86400\n"
    )
    assert git_state(repo) == before and leftovers(repo) == []


def test_a_config_over_the_cap_is_refused_on_the_bytes_read(tmp_path: Path) -> None:
    repo = fleet_with(tmp_path, "wrapper: bp-flux\n")
    with open(repo / ".fluxbump.yaml", "ab") as handle:
        handle.truncate(64 * 1024 * 1024)  # a sparse 64 MiB: only 8 MiB + 1 byte are read
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 2
    assert outcome.stderr == "error: .fluxbump.yaml: larger than 8 MiB; not a configuration\n"


def test_a_config_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    repo = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    os.mkfifo(repo / ".fluxbump.yaml")
    # A child process: a regression fails by its timeout instead of hanging the suite.
    outcome = run_process("check", "--repo", str(repo), "--offline", env={"PYTHONPATH": str(ROOT)})
    assert outcome.code == 2
    assert outcome.stderr.startswith("error: .fluxbump.yaml: a FIFO, not a regular file")


@pytest.mark.parametrize(
    ("config", "args", "said"),
    [
        ("wrapper: bp-flux-renamed\n", ("check",), ".fluxbump.yaml:1: no Chart.yaml with 'name: bp"),
        ("# ours\nupstream: flux3\n", ("check",), "with a version (.fluxbump.yaml:2 sets 'upstream')"),
        ("cloudinit: ['boot/*.tftpl']\n", ("check",), "; change 'cloudinit' at .fluxbump.yaml:1"),
        (
            "wrapper: bp-flux\nremote: upstream\n",
            ("to", "2.5.1", "--push"),
            "no git remote 'upstream' (change 'remote' at .fluxbump.yaml:2, or git remote add",
        ),
    ],
    ids=["wrapper", "upstream", "cloudinit", "remote"],
)  # fmt: skip
def test_a_setting_that_finds_nothing_is_named_at_its_line(
    tmp_path: Path, index_file: str, config: str, args: tuple[str, ...], said: str
) -> None:
    """A configured value that names nothing in the repository was reported without its line,
    or with 'set it in .fluxbump.yaml', which sent the user to add a second one."""
    repo = fleet_with(tmp_path, config)
    before = git_state(repo)
    outcome = run_cli(*args, "--repo", str(repo), "--helm-repo", index_file)
    assert outcome.code in (1, 2), outcome.stdout + outcome.stderr
    assert said in outcome.stdout + outcome.stderr
    assert git_state(repo) == before and leftovers(repo) == []


def test_a_relative_helm_repo_is_read_from_the_repository_root(tmp_path: Path) -> None:
    """``helm_repo: helm/index.yaml`` was opened from the working directory: run from
    anywhere but the root (``--repo``, a CI step in another folder) it was "cannot read the
    Helm index", exit 3, and a file of that name there would have been read instead."""
    from tests.support.cli_runner import run_cli_at

    repo = fleet_with(tmp_path, "helm_repo: helm/index.yaml\n")
    write_flux_repo(repo / "helm", frozenset({"2.14.1", "2.15.0"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcome = run_cli_at(elsewhere, "check", "--repo", str(repo))
    assert (outcome.code, outcome.stderr) == (0, ""), outcome.stdout
