"""A key twice in one mapping (issue 16, item 2): read as Helm and Flux read it, the last one
wins; every command says so once, with file:line, and handles the file normally."""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import edit, git, make_fleet, snapshot

VALUES, WRAPPER = fleet.WRAPPER_VALUES, fleet.WRAPPER_CHART
STALE_FIRST = '  upstream: { chart: flux2, version: "2.0.0" }\n'
MIRROR = "  upstream: { chart: flux2"
WARNING = (
    f"warning: {VALUES}:5: key 'upstream' appears twice in one mapping (also on line 4); "
    "the last one is used, as Helm and Flux do"
)


def run(repo: Path, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(repo), "--offline")


def values_with_a_dead_first_entry(root: Path) -> Path:
    """The mirror written twice: a stale first entry, the current one last."""
    repo = make_fleet(root, git=True)
    edit(repo, VALUES, MIRROR, STALE_FIRST + MIRROR)
    git(repo, "commit", "-qam", "a stale duplicate")
    return repo


def test_check_and_status_read_the_last_value_and_warn_once(tmp_path: Path) -> None:
    repo = values_with_a_dead_first_entry(tmp_path)
    for command in ("check", "status"):
        outcome = run(repo, command)
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert outcome.stderr.splitlines().count(WARNING) == 1
    status = run(repo, "status").stdout
    assert f"values mirror        {VALUES}:5" in status


def test_json_lists_the_warning_stderr_says(tmp_path: Path) -> None:
    """``--json``'s warnings are the ones stderr shows (this one was stderr only)."""
    repo = values_with_a_dead_first_entry(tmp_path)
    for command in ("check", "status"):
        outcome = run(repo, command, "--json")
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        listed = [w["message"] for w in json.loads(outcome.stdout)["warnings"]]
        assert listed.count(WARNING.removeprefix("warning: ")) == 1, listed
        assert outcome.stderr.splitlines().count(WARNING) == 1


def test_a_bump_moves_the_last_value_and_leaves_the_dead_line(tmp_path: Path) -> None:
    repo = values_with_a_dead_first_entry(tmp_path)
    before = (repo / VALUES).read_text()
    outcome = run(repo, "to", "2.5.1", "--no-git")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr.splitlines().count(WARNING) == 1
    assert (repo / VALUES).read_text() == before.replace(
        'version: "2.14.1", repo', 'version: "2.15.0", repo'
    )


def test_sync_and_init_warn_the_same_way(tmp_path: Path) -> None:
    repo = values_with_a_dead_first_entry(tmp_path)
    sync = run(repo, "sync", "--dry-run")
    assert sync.code == 0, sync.stderr
    assert sync.stderr.splitlines().count(WARNING) == 1
    init = run_cli("init", "--repo", str(repo))
    assert init.code == 0, init.stderr
    assert init.stderr.splitlines().count(WARNING) == 1


def test_a_duplicate_chart_version_is_the_last_one(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    with (repo / WRAPPER).open("a") as chart:
        chart.write("version: 9.9.9\n")
    before = snapshot(repo)
    check = run(repo, "check")
    assert check.code == 1
    assert f"{fleet.WRAPPER_BLUEPRINT}:7: Blueprint of bp-flux mirrors 1.1.1, chart is 9.9.9" in (
        check.stdout
    )
    assert "key 'version' appears twice in one mapping (also on line 6)" in check.stderr
    assert snapshot(repo) == before


def test_a_duplicate_key_in_a_flux_object_the_gate_validates_is_the_last_one(
    tmp_path: Path,
) -> None:
    # The schema gate read each Flux object's data by ruamel.yaml's safe loader, which refuses
    # a duplicate key: check and to stopped with "unexpected error (DuplicateKeyError ...)".
    repo = make_fleet(tmp_path / "repo")
    release = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
    text = (repo / release).read_text()
    assert "  interval: " in text
    (repo / release).write_text(text.replace("  interval: ", "  interval: 1m\n  interval: ", 1))
    warning = f"warning: {release}:"
    check = run(repo, "check")
    assert check.code == 0, check.stdout + check.stderr
    assert "key 'interval' appears twice in one mapping" in check.stderr
    assert [line for line in check.stderr.splitlines() if line.startswith(warning)]
    bump = run(repo, "to", "2.5.1", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert "Flux objects valid" in bump.stdout


def test_a_key_twice_in_a_later_document_is_named_at_its_line_in_the_file(
    tmp_path: Path,
) -> None:
    """The schema check reads each document alone: it named the key at its line in the
    document (":13 (also on line 12)") beside the right warning (":32 (also on line 31)")."""
    repo = make_fleet(tmp_path / "repo", git=True)
    release = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
    edit(repo, release, "      version: 1.1.1\n", "      version: 1.1.1\n" * 2)
    git(repo, "commit", "-qam", "a duplicated version")
    outcome = run(repo, "check", "--no-cache")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert [line for line in outcome.stderr.splitlines() if "appears twice" in line] == [
        f"warning: {release}:32: key 'version' appears twice in one mapping (also on line 31); "
        "the last one is used, as Helm and Flux do"
    ]
