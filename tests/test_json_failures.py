"""`--json` on every failure path prints exactly one JSON document on stdout (issue 23):
``ok`` false, the error message and the exit code, whatever failed (bad arguments, bad
configuration, no repository, a held lock, the network, the gate, a refusal)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

from fluxbump.write.transaction import repo_lock
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, INCIDENT, git, make_fleet
from tests.support.helm_server import HelmServer


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def incident(root: Path) -> Path:
    return make_fleet(root, INCIDENT, git=True)


def consistent(root: Path) -> Path:
    return make_fleet(root, CONSISTENT, git=True)


def committed(root: Path, rel: str, text: str) -> Path:
    repo = incident(root)
    (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", rel)
    return repo


def bad_config(root: Path) -> Path:
    return committed(root, ".fluxbump.yaml", "gate: {commands: ls}\n")


def failing_gate(root: Path) -> Path:
    return committed(root, ".fluxbump.yaml", "gate:\n  commands: ['echo no >&2; exit 3']\n")


def dirty(root: Path) -> Path:
    repo = incident(root)
    chart = repo / "platform/flux/chart/Chart.yaml"
    chart.write_text(chart.read_text() + "# local edit\n")
    return repo


def branch_exists(root: Path) -> Path:
    repo = incident(root)
    git(repo, "branch", "fluxbump/flux-v2.4.0")
    return repo


def missing(root: Path) -> Path:
    return root / "no-such-repo"


Case = tuple[Callable[[Path], Path], tuple[str, ...], int, str, bool]
# (repository, arguments ("{repo}" is the repository, "{helm}" the test's index, "{down}" a
# closed port), exit code, a phrase of the error, whether another run holds the lock)
REPO = ("--repo", "{repo}")
HELM = ("--helm-repo", "{helm}")
CASES: dict[str, Case] = {
    "missing-argument": (incident, ("to", *REPO), 2, "Missing argument 'VERSION'", False),
    "unknown-option": (incident, ("status", *REPO, "--bogus"), 2, "No such option: --bogus",
                       False),
    "unknown-command": (incident, ("bogus",), 2, "No such command 'bogus'", False),
    "bad-format": (incident, ("check", *REPO, "--format", "xml"), 2, "--format must be", False),
    "bad-config": (bad_config, ("status", *REPO), 2, "'gate.commands' must be a list", False),
    "no-repository": (missing, ("status", *REPO), 2, "no-such-repo", False),
    "lock-held": (incident, ("to", "2.4.0", *REPO, *HELM), 2, "holds the lock", True),
    "network": (incident, ("to", "2.4.0", *REPO, "--helm-repo", "{down}"), 3,
                "Connection refused", False),
    "no-chart": (incident, ("resolve", "2.5.0", "--offline"), 3, "2.5.0", False),
    "gate-failure": (failing_gate, ("to", "2.4.0", *REPO, *HELM), 1, "exited 3", False),
    "violations": (incident, ("check", *REPO, "--offline"), 1, "violation(s)", False),
    "downgrade": (consistent, ("to", "2.3.0", *REPO, *HELM), 4, "downgrade", False),
    "dirty-tree": (dirty, ("to", "2.4.0", *REPO, *HELM), 2, "uncommitted", False),
    "branch-exists": (branch_exists, ("to", "2.4.0", *REPO, *HELM), 2, "already exists", False),
    "sync-bad-config": (bad_config, ("sync", *REPO, "--offline"), 2, "'gate.commands'", False),
    "init-exists": (bad_config, ("init", *REPO), 2, ".fluxbump.yaml", False),
    "bad-install": (incident, ("ci-workflow", "--install", "fluxbump"), 2, "pinned", False),
}  # fmt: skip


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Iterator[tuple[str, Case]]:
    yield request.param, CASES[request.param]


def test_every_failure_under_json_prints_one_document(
    tmp_path: Path, helm_server: HelmServer, case: tuple[str, Case]
) -> None:
    _, (make, args, code, says, locked) = case
    repo = make(tmp_path / "repo")
    filled = [a.format(repo=repo, helm=helm_server.base_url, down=closed_port()) for a in args]
    holding = repo_lock(repo) if locked else nullcontext()
    with holding:
        outcome = run_cli(*filled, "--json", env={"FLUXBUMP_HTTP_TIMEOUT": "0.5"})
    assert outcome.code == code, (outcome.stdout, outcome.stderr)
    document = json.loads(outcome.stdout)  # exactly one document: anything else fails here
    assert document["ok"] is False
    assert document["exit_code"] == code
    assert says in document["error"], document["error"]
