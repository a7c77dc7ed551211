"""``Globs`` (the role globs every walked path is sorted by) answers as its patterns do one by
one (``glob_regex``), whichever shortcut it takes: by file name, by literal parts, or whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.config import Config
from fluxbump.scan.sources import Globs, matches

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
        "a\nb/c.yaml",  # ``**/`` does not cross a line break in a directory name
        "mise.toml",
        "x/.config/mise/config.toml",
        "x/aqua.yaml",
    ]
    for patterns in (config.clusters, config.release_pins, config.charts, config.cloudinit):
        globs = Globs(patterns)
        assert [globs.match(p) for p in paths] == [matches(p, patterns) for p in paths]
    assert Globs(config.clusters).match("a\nb/c.yaml") is False
    assert Globs(config.release_pins).match("clusters/c1/.github/workflows/ci.yml") is True
