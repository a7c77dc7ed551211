"""``Globs`` (the role globs every walked path is sorted by) answers as its patterns do one by
one (``glob_regex``), whichever shortcut it takes: by file name, by literal parts, or whole."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.commands.renovate import glob_to_regex
from fluxbump.config import Config
from fluxbump.scan.renovate_paths import RenovatePaths, _segments
from fluxbump.scan.roles import Roles, classify
from fluxbump.scan.sources import Globs, GlobToken, glob_pattern, glob_regex, glob_tokens, matches
from tests.support.cli_runner import run_process
from tests.support.fixtures import CONSISTENT, commit_file, make_fleet

_PATTERN_PARTS = st.sampled_from(
    ["**/", "**", "*", "?", "a", "b", ".", "/", ".yaml", "x", ".github/", "\n"]
)
_PATH_PARTS = st.sampled_from(["a", "b", "/", ".", ".yaml", "x", ".github", "\n", "ab"])
PATTERN = st.lists(_PATTERN_PARTS, min_size=1, max_size=5).map("".join)
PATH = st.lists(_PATH_PARTS, min_size=1, max_size=7).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(PATTERN, max_size=4), st.lists(PATH, min_size=1, max_size=6))
def test_globs_match_as_their_patterns_do(patterns: list[str], paths: list[str]) -> None:
    globs = Globs(patterns)
    for rel in paths * 2:  # the second time a name is answered from what the first learned
        assert globs.match(rel) == matches(rel, patterns), (rel, patterns)


def test_the_default_globs_sort_fleet_paths_as_their_patterns_do() -> None:
    config = Config()
    paths = [
        "clusters/c1/apps/00-app.yaml",
        "clusters/c1/.github/workflows/ci.yml",
        ".github/workflows/ci.yaml",
        "platform/flux/Chart.yaml",
        "platform/flux/blueprint.yaml",
        "infra/cloud-init.tftpl",
        "a\nb/c.yaml",  # ``**/`` crosses a line break in a directory name, as any character
        "mise.toml",
        "x/.config/mise/config.toml",
        "x/aqua.yaml",
    ]
    for patterns in (config.clusters, config.release_pins, config.charts, config.cloudinit):
        globs = Globs(patterns)
        assert [globs.match(p) for p in paths] == [matches(p, patterns) for p in paths]
    assert Globs(config.clusters).match("a\nb/c.yaml") is True
    assert Globs(config.release_pins).match("clusters/c1/.github/workflows/ci.yml") is True


def _one_by_one(files: list[str], config: Config) -> Roles:
    """``classify`` as its rules read, every path against every pattern."""
    roles = Roles()
    rendered = [f[: -len("Chart.yaml")] + "templates/" for f in files
                if f == "Chart.yaml" or f.endswith("/Chart.yaml")]  # fmt: skip
    for rel in files:
        if matches(rel, config.exclude):
            continue
        if any(rel.startswith(r) for r in rendered):  # Helm renders it: its Flux apiVersions
            if rel.endswith((".yaml", ".yml", ".tpl")):
                roles.chart_templates.append(rel)
            continue
        if rel.endswith("Chart.yaml") and matches(rel, config.charts):
            roles.charts.append(rel)
        elif rel.endswith("Chart.lock"):
            roles.locks.add(rel)
        for kept, patterns in ((roles.cloudinit, config.cloudinit),
                               (roles.blueprints, config.blueprints),
                               (roles.clusters, config.clusters),
                               (roles.release_pins, config.release_pins)):  # fmt: skip
            if matches(rel, patterns):
                kept.append(rel)
    return roles


_ROLE_PATH = st.lists(
    st.sampled_from([*_PATH_PARTS.elements, "Chart.yaml", "templates/", "workflows/", "/"]),
    min_size=1,
    max_size=6,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_ROLE_PATH, min_size=1, max_size=12),
    st.lists(PATTERN, max_size=2),
    st.lists(PATTERN, max_size=3),
)
def test_classify_sorts_paths_as_each_pattern_does(
    files: list[str], exclude: list[str], clusters: list[str]
) -> None:
    # Default globs (by name, and the release pins' by path) and drawn ones (any shape); each
    # path twice: the second time its name's roles are answered from what the first learned.
    for config in (
        Config(),
        Config(exclude=tuple(exclude), clusters=tuple(clusters), release_pins=tuple(clusters)),
    ):
        assert classify(files * 2, config) == _one_by_one(files * 2, config), config


@settings(max_examples=500, deadline=None)
@given(PATTERN, st.lists(PATH, min_size=1, max_size=6))
def test_renovate_file_match_regexes_match_what_fluxbump_matches(
    pattern: str, paths: list[str]
) -> None:
    # Renovate 39's fileMatch must see the files fluxbump reads: ``clusters/**`` was
    # ``clusters/[^/]*[^/]*`` there, so Renovate missed every nested file.
    regex = re.compile(glob_to_regex(pattern))
    for rel in (p for p in paths if "\n" not in p):  # (no path Renovate sees has one)
        assert bool(regex.search(rel)) == matches(rel, [pattern]), (rel, pattern)


# --- the time a glob takes: about linear in the path, whatever the pattern ------------------

_RUN_PARTS = st.sampled_from(["**/", "**", "*", "?", "a", "b", "/", "a/", "[ab]", "{a,b}"])
# Any path of these characters (what joining up to 12 of "a", "b", "/", "ab", "a/" makes),
# drawn as one string: a list of parts cost Hypothesis a draw per part.
_RUN_PATH = st.text(alphabet="ab/", max_size=24)


def _plain(tokens: list[GlobToken]) -> re.Pattern[str]:
    """The tokens joined as written: every split tried (the reference, slow at worst)."""
    return re.compile("".join(regex for _, regex in tokens) + r"\Z", re.DOTALL)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_RUN_PARTS, min_size=1, max_size=8).map("".join), st.lists(_RUN_PATH, max_size=5))
def test_a_glob_matches_as_its_parts_joined_as_written_do(pattern: str, paths: list[str]) -> None:
    """Committing to a run's first fit changes no answer, in either dialect."""
    ours, renovate = glob_tokens(pattern), _segments(pattern)
    for rel in paths:
        assert (glob_regex(pattern).match(rel) is None) == (_plain(ours).match(rel) is None)
        fast = re.compile(glob_pattern(renovate) + r"\Z", re.DOTALL)
        assert (fast.match(rel) is None) == (_plain(renovate).match(rel) is None), rel


@pytest.mark.parametrize(
    ("pattern", "rel"),
    [
        ("**/" + "*a" * 30 + "*c", "x/" + "a" * 200 + ".yaml"),
        ("**/a/" * 30 + "c", "a/" * 300 + "b"),
        ("**a" * 30 + "**c", "a" * 300),
        ("**/" + "*a" * 15 + "**/" * 15 + "c", "a/" * 300 + "b"),
    ],
    ids=["stars-in-a-name", "directories", "spanning-runs", "mixed"],
)
def test_a_glob_of_many_runs_answers_at_once(pattern: str, rel: str) -> None:
    """Joined as written, 14 stars over a name of 40 a's took hours (a ``.fluxbump.yaml``
    ``exclude``, a Renovate ``ignorePaths`` entry); each answer here takes milliseconds."""
    started = time.monotonic()
    assert not glob_regex(pattern).match(rel)
    assert not Globs([pattern]).match(rel)
    assert not RenovatePaths("renovate.json", (pattern,)).skips(rel)
    assert time.monotonic() - started < 10  # (hours before; milliseconds now: a loaded CI too)


def test_check_with_an_exclude_of_many_stars_answers_at_once(tmp_path: Path) -> None:
    """Such an ``exclude`` over a file of a long name: check did not end (killed after 120 s)."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, clusters=("a.example",))
    commit_file(repo, ".fluxbump.yaml", "exclude: ['**/" + "*a" * 14 + "*c']\n")
    commit_file(repo, "clusters/a.example/" + "a" * 60 + ".yaml", "kind: ConfigMap\n")
    started = time.monotonic()
    outcome = run_process("check", "--offline", "--repo", str(repo))
    assert outcome.code == 0 and "consistent" in outcome.stdout, outcome.stdout + outcome.stderr
    assert time.monotonic() - started < 60  # (killed after 120 s before; seconds now)
