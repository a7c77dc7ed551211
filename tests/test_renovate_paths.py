"""Files the repository's Renovate configuration keeps Renovate out of are not read.

A home-ops repository archives retired apps under ``.archive/`` and tells Renovate to leave
them (``ignorePaths: [".archive/**"]``); read by fluxbump, an archived release pinned at an
old Flux was a violation no bump could end, and ``to`` rewrote the archive.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fluxbump.scan.renovate_paths import RenovatePaths, read_renovate_paths
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, commit_file, git, make_fleet, snapshot
from tests.support.layouts import helmrelease

RECORDED = Path(__file__).parent / "data" / "renovate" / "ignore-paths-minimatch.json"
ARCHIVED = ".archive/kubernetes/old/flux.yaml"
RENOVATE = '{\n  // archived apps: Renovate leaves them\n  ignorePaths: [".archive/**",],\n}\n'


def test_an_ignore_path_is_matched_as_renovates_minimatch_matched_it() -> None:
    """Every row recorded from Renovate's own test run by its minimatch (39 and 42)."""
    rows = json.loads(RECORDED.read_text("utf-8"))["rows"]
    differ = [(p, f, want) for p, f, want in rows if RenovatePaths("x", (p,)).skips(f) != want]
    assert differ == []
    assert sum(want for _, _, want in rows) > 100  # both answers are really tested


def test_include_paths_are_not_followed(tmp_path: Path) -> None:
    """``includePaths`` narrows what the bot manages, not what is deployed: the wrapper chart
    and the cloud-init template outside it are live (following it, check found nothing)."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    commit_file(repo, "renovate.json", '{"includePaths": ["clusters/**"]}')
    assert read_renovate_paths(repo) == (None, None)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0 and "18 pin-sites agree" in outcome.stdout, outcome.stdout


@pytest.mark.parametrize(
    ("files", "read"),
    [
        ({"renovate.json": '{"ignorePaths": ["a/**"]}'}, ("renovate.json", ("a/**",))),
        # the first file Renovate looks for is its configuration, not the others
        (
            {".github/renovate.json5": "{ignorePaths: ['b/**']}", ".renovaterc": '{"x": 1}'},
            (".github/renovate.json5", ("b/**",)),
        ),
        ({"package.json": '{"name": "x"}', ".renovaterc.json5": "{}"}, None),
        ({"package.json": '{"renovate": {"ignorePaths": ["c"]}}'}, ("package.json", ("c",))),
        ({"renovate.json": '{"extends": ["config:recommended"]}'}, None),
    ],
)
def test_the_configuration_is_the_first_file_renovate_reads(
    tmp_path: Path, files: dict[str, str], read: tuple[str, tuple[str, ...]] | None
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, "utf-8")
    paths, unread = read_renovate_paths(tmp_path)
    assert unread is None
    assert (None if paths is None else (paths.file, paths.ignore)) == read


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{ignorePaths: [", "renovate.json5: cannot read it as Renovate configuration ("),
        ('{"ignorePaths": ".archive/**"}', "ignorePaths is not a list of strings"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_a_configuration_that_cannot_be_read_is_said_and_nothing_is_skipped(
    tmp_path: Path, text: str, why: str
) -> None:
    (tmp_path / "renovate.json5").write_text(text, "utf-8")
    paths, unread = read_renovate_paths(tmp_path)
    assert paths is None and unread is not None and why in unread, unread


def _archived_fleet(root: Path, ending: str = "\n") -> Path:
    """A consistent fleet whose archive holds a HelmRelease of its wrapper bp-flux 1.0.0 (the
    chart is 1.1.1; its lines ending in ``ending``), and Renovate told to leave the archive."""
    repo = make_fleet(root, CONSISTENT, git=True)
    commit_file(repo, ARCHIVED, helmrelease("flux", "bp-flux", "1.0.0").replace("\n", ending))
    return commit_file(repo, ".github/renovate.json5", RENOVATE)


# (with lone CRs the release's 'chart: bp-flux' line never ended to the byte test: the
# warning named the file without saying it pins Flux)
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_check_does_not_read_what_renovate_ignores_and_says_so(tmp_path: Path, ending: str) -> None:
    repo = _archived_fleet(tmp_path / "repo", ending)
    for cache in ([], ["--no-cache"], []):  # cold, then warm (roles from the cache) too
        outcome = run_cli("check", "--offline", "--repo", str(repo), *cache)
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert (
            "warning: .github/renovate.json5: Renovate's ignorePaths leave "
            f"{ARCHIVED} out, so fluxbump does not read them either; {ARCHIVED} pins Flux "
            "(follow_renovate_paths: false in .fluxbump.yaml reads them)"
        ) in outcome.stderr.splitlines(), outcome.stderr


def test_without_renovates_word_or_when_told_the_archive_is_read(tmp_path: Path) -> None:
    repo = _archived_fleet(tmp_path / "repo")
    commit_file(repo, ".fluxbump.yaml", "follow_renovate_paths: false\n")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1 and f"{ARCHIVED}:" in outcome.stdout, outcome.stdout
    git(repo, "rm", "-q", ".fluxbump.yaml", ".github/renovate.json5")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1


def test_to_leaves_what_renovate_ignores_as_it_is(tmp_path: Path) -> None:
    repo = _archived_fleet(tmp_path / "repo")
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after[ARCHIVED] == before[ARCHIVED]
    assert [rel for rel in before if after[rel] != before[rel]]  # the fleet itself moved


def test_a_setting_that_is_not_a_boolean_is_refused_at_its_line(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / ".fluxbump.yaml").write_text("remote: origin\nfollow_renovate_paths: 'no'\n", "utf-8")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert (outcome.code, outcome.stderr.strip()) == (
        2,
        "error: .fluxbump.yaml:2: 'follow_renovate_paths' must be true or false",
    )


def test_json_says_which_files_were_left_unread(tmp_path: Path) -> None:
    """A script reading ``check --json`` learns it too (the walk's notes were stderr only)."""
    repo = _archived_fleet(tmp_path / "repo")
    outcome = run_cli("check", "--offline", "--json", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    messages = [w["message"] for w in json.loads(outcome.stdout)["warnings"]]
    assert [m for m in messages if m.startswith(".github/renovate.json5: ")] == [
        f".github/renovate.json5: Renovate's ignorePaths leave {ARCHIVED} out, so "
        f"fluxbump does not read them either; {ARCHIVED} pins Flux (follow_renovate_paths: "
        "false in .fluxbump.yaml reads them)"
    ]


def test_a_configuration_linked_out_of_the_repository_is_said_not_an_error(
    tmp_path: Path,
) -> None:
    repo = _archived_fleet(tmp_path / "repo")
    (repo / ".github" / "renovate.json5").unlink()
    (tmp_path / "elsewhere.json").write_text('{"ignorePaths": [".archive/**"]}', "utf-8")
    (repo / "renovate.json").symlink_to(tmp_path / "elsewhere.json")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stdout + outcome.stderr  # the archive is read
    assert (
        "warning: renovate.json: cannot read it as Renovate configuration (not a regular file "
        "inside the repository); the files its ignorePaths name are read"
    ) in outcome.stderr.splitlines(), outcome.stderr


def test_a_warm_run_after_the_ignore_paths_changed_reads_what_they_no_longer_name(
    tmp_path: Path,
) -> None:
    repo = _archived_fleet(tmp_path / "repo")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0  # the cache written
    commit_file(repo, ".github/renovate.json5", '{ignorePaths: ["docs/**"]}')
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1 and f"{ARCHIVED}:" in outcome.stdout, outcome.stdout


def test_the_flux_pins_among_what_renovate_ignores_are_named(tmp_path: Path) -> None:
    """samip5/k8s-cluster leaves a whole cluster to itself, at flux-manifests v2.5.1 beside
    another at v2.9.4: the warning said only "and 662 more"; a file that pins Flux is named."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    commit_file(repo, ".archive/notes.yaml", "note: nothing of Flux here\n")
    commit_file(repo, ".github/renovate.json5", RENOVATE)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert (
        "warning: .github/renovate.json5: Renovate's ignorePaths leave .archive/notes.yaml out, "
        "so fluxbump does not read them either (follow_renovate_paths: false in .fluxbump.yaml "
        "reads them)"
    ) in outcome.stderr.splitlines(), outcome.stderr
    remote = (
        "resources:\n  - https://github.com/fluxcd/flux2/releases/download/v2.0.0/install.yaml\n"
    )
    commit_file(repo, ".archive/a/kustomization.yaml", remote)
    commit_file(repo, ".archive/b/flux.yaml", helmrelease("flux", "flux2", "2.10.0"))
    commit_file(repo, ".archive/c/flux.yaml", helmrelease("flux", "bp-flux", "1.0.0"))
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert (
        "warning: .github/renovate.json5: Renovate's ignorePaths leave .archive/notes.yaml and 3 "
        "more out, so fluxbump does not read them either; .archive/a/kustomization.yaml, "
        ".archive/b/flux.yaml and 1 more pin Flux (follow_renovate_paths: false in .fluxbump.yaml "
        "reads them)"
    ) in outcome.stderr.splitlines(), outcome.stderr


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("[z-a]/**", "ignorePaths entry '[z-a]/**' is no glob (bad character range z-a"),
        ("{a,b}" * 24, "expands to more than 1000 patterns"),
    ],
    ids=["reversed-range", "brace-bomb"],
)
def test_an_ignore_path_that_is_no_glob_is_said_and_nothing_is_skipped(
    tmp_path: Path, entry: str, why: str
) -> None:
    """A class Python's re refuses ('[z-a]') was exit 70 on every command; 24 brace pairs
    expanded to 16 million patterns, MemoryError, exit 70."""
    repo = _archived_fleet(tmp_path / "repo")
    commit_file(repo, ".github/renovate.json5", json.dumps({"ignorePaths": [".archive/**", entry]}))
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1 and f"{ARCHIVED}:" in outcome.stdout, outcome.stdout + outcome.stderr
    [warning] = [x for x in outcome.stderr.splitlines() if "renovate.json5" in x]
    assert warning.startswith(
        "warning: .github/renovate.json5: cannot read it as Renovate configuration ("
    ) and warning.endswith("); the files its ignorePaths name are read"), warning
    assert why in warning, warning


def test_renovate_config_redirected_into_renovate_json_reads_no_config_of_its_own_output(
    tmp_path: Path,
) -> None:
    """``fluxbump renovate-config > renovate.json``: the shell empties the file before
    fluxbump starts, and the scan found it, unreadable as JSON: a warning that the user's
    ignorePaths were not read, about the very file being written."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    commit_file(repo, "renovate.json", '{"ignorePaths": ["docs/**"]}\n')
    fluxbump = f"{shlex.quote(sys.executable)} -m fluxbump"
    shell = subprocess.run(
        ["sh", "-c", f"{fluxbump} renovate-config > renovate.json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    assert "cannot read it as Renovate configuration" not in shell.stderr, shell.stderr
    written = json.loads((repo / "renovate.json").read_text("utf-8"))
    again = run_cli("renovate-config", "--repo", str(repo))  # the snippet now in the file
    assert again.code == 0 and "warning" not in again.stderr, again.stderr
    assert written == json.loads(again.stdout) and written["customManagers"]


@pytest.mark.parametrize("text", ["", "\n  \n"], ids=["empty", "blank"])
def test_an_empty_renovate_json_is_no_configuration(tmp_path: Path, text: str) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    commit_file(repo, "renovate.json", text)
    assert read_renovate_paths(repo) == (None, None)
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0 and "renovate.json" not in outcome.stderr, outcome.stderr
