"""``Globs`` (the role globs every walked path is sorted by) answers as its patterns do one by
one (``glob_regex``), whichever shortcut it takes: by file name, by literal parts, or whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.config import Config
from fluxbump.scan.roles import Roles, classify
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
        if matches(rel, config.exclude) or any(rel.startswith(r) for r in rendered):
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
    import re

    from fluxbump.commands.renovate import glob_to_regex

    regex = re.compile(glob_to_regex(pattern))
    for rel in (p for p in paths if "\n" not in p):  # (no path Renovate sees has one)
        assert bool(regex.search(rel)) == matches(rel, [pattern]), (rel, pattern)
