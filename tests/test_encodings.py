"""Pin files saved in another encoding than plain UTF-8: a UTF-8 byte-order mark is read and
kept byte-exact by a bump; UTF-16 (PowerShell 5's default) is never silently skipped: a file
that may hold a pin is named as not read (its component unproven), and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump.fleet import CLOUDINIT
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, init_git, make_fleet, snapshot
from tests.support.layouts import write_repo

PINS = {
    ".tool-versions": "flux2 2.4.0\nkubectl 1.30.0\n",
    ".github/workflows/e2e.yaml": (
        "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: fluxcd/flux2/action@main\n        with:\n          version: 2.4.0\n"
    ),
    "clusters/a/flux-instance.yaml": (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
        'spec:\n  distribution:\n    version: "2.4.0"\n'
    ),
    "scripts/install.sh": "flux install --version=v2.4.0\n",
}


def run(command: str, repo: Path, *args: str) -> Outcome:
    return run_cli(command, *args, "--repo", str(repo), "--offline")


def test_a_bump_keeps_each_files_utf8_byte_order_mark_byte_exact(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {rel: "\ufeff" + text for rel, text in PINS.items()})
    assert run("check", repo).code == 0
    moved = run("to", repo, "2.5.1", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    for rel, text in PINS.items():
        assert after[rel] == b"\xef\xbb\xbf" + text.replace("2.4.0", "2.5.1").encode(), rel


@pytest.mark.parametrize(
    ("rel", "codec"), [(r, "utf-16-le") for r in PINS] + [(".tool-versions", "utf-16-be")]
)
def test_a_utf16_pin_file_is_named_as_not_read_and_nothing_is_written(
    tmp_path: Path, rel: str, codec: str
) -> None:
    repo = write_repo(tmp_path / "repo", PINS, git=False)
    (repo / rel).write_bytes(("\ufeff" + PINS[rel].replace("2.4.0", "2.3.0")).encode(codec))
    write_repo(repo, {}, git=True)
    said = f"{rel}:1: UTF-16 text (byte-order mark); fluxbump reads and writes UTF-8 only"
    status = run("status", repo)
    assert status.code == 0 and said in status.stdout, status.stdout + status.stderr
    check = run("check", repo)
    assert check.code == 1 and said in check.stdout, check.stdout + check.stderr
    before = snapshot(repo)
    moved = run("to", repo, "2.5.1", "--no-git")
    assert moved.code == 2 and said in moved.stderr, moved.stdout + moved.stderr
    assert snapshot(repo) == before


def test_a_utf16_cloud_init_template_is_a_problem_not_the_end_of_the_run(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    template = repo / CLOUDINIT
    template.write_bytes(template.read_text("utf-8").encode("utf-16"))
    init_git(repo)
    said = f"{CLOUDINIT}:1: UTF-16 text (byte-order mark); fluxbump reads and writes UTF-8 only"
    status = run("status", repo)
    assert status.code == 0 and said in status.stdout, status.stdout + status.stderr
    assert "HelmRelease" in status.stdout  # every other pin is still shown
    check = run("check", repo)
    assert check.code == 1 and said in check.stdout, check.stdout + check.stderr
    assert "no line installs" not in check.stdout  # not read is not "no install"
    before = snapshot(repo)
    moved = run("to", repo, "2.5.1", "--no-git")
    assert moved.code == 2 and said in moved.stderr, moved.stdout + moved.stderr
    assert snapshot(repo) == before
