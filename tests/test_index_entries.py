"""Entries of a Helm index that are not what Helm writes: a version YAML reads as a number
(``version: 2.10`` is 2.1) is refused and named, never taken as the text of that number; a
version listed twice, the entries disagreeing, is refused and named, never one of them taken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.errors import EXIT_RESOLUTION
from tests.adversarial.harness import git_state
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, make_fleet
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

# Helm quotes every version it writes; a hand-made mirror left two plain, the first a YAML
# float (2.10 -> 2.1), the second an integer.
INDEX = b"""apiVersion: v1
entries:
  flux2:
  - name: flux2
    version: 2.10
    appVersion: 2.4.0
  - name: flux2
    version: "2.14.1"
    appVersion: "2.4.0"
  - name: flux2
    version: "2.13.0"
    appVersion: 3
"""
FLOAT = (
    "a 'flux2' entry's version is the YAML number 2.1, not a string (unquoted, 2.10 reads "
    "as 2.1; Helm writes it quoted): the entry is left out; quote its version"
)
INT = "a 'flux2' entry's appVersion is the YAML number 3, not a string"


def test_an_entry_whose_version_is_a_yaml_number_is_refused_and_named() -> None:
    with serve(HelmServer(routes={"/index.yaml": INDEX})) as server:
        url = server.url("/index.yaml")
        for _ in range(2):  # the second run reads the parsed index the first one kept
            outcome = run_cli("resolve", "2.4.0", "--helm-repo", server.base_url, "--json")
            assert outcome.code == 0, outcome.stderr
            assert json.loads(outcome.stdout)["candidates"] == ["2.14.1"]
            warnings = outcome.stderr.splitlines()
            assert f"warning: {url}: {FLOAT}" in warnings, outcome.stderr
            assert any(w.startswith(f"warning: {url}: {INT}") for w in warnings), warnings
        assert server.bodies_sent() == 1


def _listed_twice(
    app_version: str, digest: str | None = None, version: str = "2.14.1"
) -> dict[str, bytes]:
    """The local flux2 repository with chart 2.14.1 listed a second time, after the real
    entry, as ``version`` with ``app_version`` (and ``digest``, when given), the same archive
    URL."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    real = next(e for e in charts if e["version"] == "2.14.1")
    again = {"version": version, "appVersion": app_version, "digest": digest or real["digest"]}
    charts.append({**real, **again})
    routes["/index.yaml"] = json.dumps(index).encode()
    return routes


TWICE = (
    "the 'flux2' entries of version 2.14.1 disagree (appVersion 2.4.0 and 2.5.0): Helm may "
    "install either, so each is left out"
)


def test_a_version_listed_twice_with_two_app_versions_is_left_out_and_named(
    tmp_path: Path,
) -> None:
    """chart 2.14.1 listed again with appVersion 2.5.0: ``to 2.5.0`` pinned it beside
    cloud-init 2.5.0 and committed (its archive, fetched through the first entry, declares
    2.4.0, which agreed with that entry), the incident itself; ``to 2.4.0`` took it too."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=_listed_twice("2.5.0"))) as srv:
        url = srv.url("/index.yaml")
        moved = run_cli("to", "2.5.0", "--repo", str(repo), "--helm-repo", srv.base_url)
        assert moved.code == EXIT_RESOLUTION, moved.stdout
        assert moved.stderr.startswith("error: Flux release 2.5.0 has no 'flux2' chart in the ")
        assert moved.stderr.endswith(f" (the index's entries left out: {TWICE})\n")
        assert git_state(repo) == before
        chosen = run_cli("to", "2.4.0", "--dry-run", "--json", "--repo", str(repo),
                         "--helm-repo", srv.base_url)  # fmt: skip
    assert chosen.code == 0, chosen.stderr
    assert json.loads(chosen.stdout)["to"] == {"release": "2.4.0", "chart": "2.14.0"}
    assert f"warning: {url}: {TWICE}" in chosen.stderr.splitlines(), chosen.stderr
    assert git_state(repo) == before


def test_a_version_listed_twice_alike_is_one_entry() -> None:
    """The same entry twice (a careless merge) names one chart: nothing to choose between."""
    with serve(HelmServer(routes=_listed_twice("2.4.0"))) as srv:
        outcome = run_cli("resolve", "2.4.0", "--helm-repo", srv.base_url, "--json")
    assert outcome.code == 0 and outcome.stderr == "", outcome.stderr
    assert json.loads(outcome.stdout)["chart"] == "2.14.1"


def test_a_version_listed_twice_with_two_digests_is_left_out_and_named() -> None:
    with serve(HelmServer(routes=_listed_twice("2.4.0", "ab" * 32))) as srv:
        outcome = run_cli("resolve", "2.4.0", "--helm-repo", srv.base_url, "--json")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["chart"] == "2.14.0"
    assert "version 2.14.1 disagree (digest " in outcome.stderr, outcome.stderr


def test_a_release_only_a_chart_version_no_semver_carries_is_not_latest(tmp_path: Path) -> None:
    """An entry whose chart version is no SemVer (``latest``, a mirror's alias; Helm skips
    such entries) carrying appVersion 2.9.9: ``to latest`` chose Flux 2.9.9, then found no
    chart for it (exit 3, "has no 'flux2' chart"), so the scheduled bump never moved."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    charts.insert(0, {**charts[0], "version": "latest", "appVersion": "2.9.9"})
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(HelmServer(routes=routes)) as srv:
        outcome = run_cli("to", "latest", "--dry-run", "--json", "--repo", str(repo),
                          "--helm-repo", srv.base_url)  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["to"] == {"release": "2.5.1", "chart": "2.15.0"}


def test_app_versions_the_index_writes_with_a_v_map_the_same_releases(tmp_path: Path) -> None:
    """A mirror that writes every appVersion as ``v2.4.0`` (the archives' Chart.yaml say
    ``2.4.0``): ``to 2.4.0`` moves to the same chart, the archive agreeing, and ``check``
    then finds the repository consistent."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    for entry in index["entries"]["flux2"]:
        entry["appVersion"] = "v" + entry["appVersion"]
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(HelmServer(routes=routes)) as srv:
        moved = run_cli("to", "2.4.0", "--json", "--repo", str(repo), "--helm-repo", srv.base_url)
        assert moved.code == 0, moved.stderr
        assert json.loads(moved.stdout)["to"] == {"release": "2.4.0", "chart": "2.14.1"}
        checked = run_cli("check", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert checked.code == 0, checked.stdout


@pytest.mark.parametrize("spelled", ["v2.14.1", "2.14.1+mirror"])
def test_one_version_to_helm_spelled_twice_with_two_app_versions_is_left_out(spelled: str) -> None:
    """Helm matches a pin of 2.14.1 to ``v2.14.1`` and ``2.14.1+mirror`` alike (SemVer
    equality, build metadata ignored) and takes whichever sorts first: the entries are one
    version to it, and disagreeing they name no one chart."""
    with serve(HelmServer(routes=_listed_twice("2.5.0", version=spelled))) as srv:
        outcome = run_cli("resolve", "2.5.0", "--helm-repo", srv.base_url)
    assert outcome.code == EXIT_RESOLUTION, outcome.stdout
    assert outcome.stderr.endswith(
        f"(the index's entries left out: the 'flux2' entries of version 2.14.1 and {spelled} "
        "disagree (appVersion 2.4.0 and 2.5.0): Helm may install either, so each is left out)\n"
    ), outcome.stderr


def test_an_entry_whose_chart_version_is_no_semver_does_not_make_a_cached_index_know_more(
    tmp_path: Path,
) -> None:
    """The same ``latest`` entry carrying appVersion 2.9.9, in a cached index read offline:
    ``resolve 2.9.0`` said the release has no chart, as if the index proved it, instead of
    that the index may predate it (beyond_index counted the appVersion Helm never reads)."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    charts.insert(0, {**charts[0], "version": "latest", "appVersion": "2.9.9"})
    routes["/index.yaml"] = json.dumps(index).encode()
    with serve(HelmServer(routes=routes)) as srv:
        cached = run_cli("resolve", "2.4.0", "--helm-repo", srv.base_url)
        assert cached.code == 0, cached.stderr
        outcome = run_cli("resolve", "2.9.0", "--offline", "--helm-repo", srv.base_url)
    assert outcome.code == EXIT_RESOLUTION, outcome.stdout
    assert outcome.stderr.startswith("error: Flux release 2.9.0 has no 'flux2' chart"), outcome
    assert (
        f"({srv.base_url}/index.yaml may predate it: cannot be proven without the live index)"
    ) in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("field", ["version", "appVersion"])
def test_a_version_ending_in_a_newline_is_no_semver_and_its_entry_is_skipped(
    tmp_path: Path, field: str
) -> None:
    """A lying index lists chart 2.16.0 (Flux 2.5.1) with ``"2.16.0\\n"`` as its version (or
    ``"2.5.1\\n"`` as its appVersion): the pin pattern's ``$`` matched before the newline, so
    it passed as SemVer and semver's own parse then raised: ``resolve`` and ``to`` ended in
    exit 70 ("unexpected error (ValueError: 2.16.0"). It is no SemVer, so Helm skips the
    entry: the release resolves to the chart an honest entry names, and ``to`` moves there."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    lying = {**charts[0], "version": "2.16.0", "appVersion": "2.5.1"}
    lying[field] += "\n"
    charts.insert(0, lying)
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(HelmServer(routes=routes)) as srv:
        resolved = run_cli("resolve", "latest", "--json", "--helm-repo", srv.base_url)
        assert resolved.code == 0, resolved.stderr
        assert json.loads(resolved.stdout)["candidates"] == ["2.15.0"]
        moved = run_cli("to", "2.5.1", "--json", "--repo", str(repo), "--helm-repo", srv.base_url)
    assert moved.code == 0, moved.stderr
    assert json.loads(moved.stdout)["to"] == {"release": "2.5.1", "chart": "2.15.0"}


def test_a_pre_release_chart_of_a_stable_release_is_chosen_only_with_pre(tmp_path: Path) -> None:
    """An index listing chart 2.16.0-rc.1 beside 2.15.0, both carrying Flux 2.5.1: ``resolve
    2.5.1`` and ``to latest`` took the release candidate (the highest), which Helm's ranges,
    Renovate and fluxbump's own ``latest`` leave out unless pre-releases are asked for. The
    stable chart is chosen; ``--pre`` takes the candidate."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    charts = index["entries"]["flux2"]
    stable = next(e for e in charts if e["version"] == "2.15.0")
    charts.insert(0, {**stable, "version": "2.16.0-rc.1"})
    routes["/index.yaml"] = json.dumps(index).encode()
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    with serve(HelmServer(routes=routes)) as srv:
        resolved = run_cli("resolve", "2.5.1", "--json", "--helm-repo", srv.base_url)
        candidate = run_cli("resolve", "2.5.1", "--pre", "--json", "--helm-repo", srv.base_url)
        planned = run_cli("to", "latest", "--dry-run", "--json", "--repo", str(repo),
                          "--helm-repo", srv.base_url)  # fmt: skip
    assert resolved.code == 0, resolved.stderr
    assert json.loads(resolved.stdout)["chart"] == "2.15.0"
    assert json.loads(resolved.stdout)["candidates"] == ["2.16.0-rc.1", "2.15.0"]
    assert json.loads(candidate.stdout)["chart"] == "2.16.0-rc.1"
    assert planned.code == 0, planned.stderr
    assert json.loads(planned.stdout)["to"] == {"release": "2.5.1", "chart": "2.15.0"}


def _without_api_version() -> dict[str, bytes]:
    """The local flux2 repository, its index without the ``apiVersion`` Helm requires."""
    routes = dict(flux_repo_routes(keep=frozenset({"2.13.0", "2.14.0", "2.14.1", "2.15.0"})))
    index = json.loads(routes["/index.yaml"])
    del index["apiVersion"]
    return {**routes, "/index.yaml": json.dumps(index).encode()}


NO_API_VERSION = (
    "not a Helm repository index (no 'apiVersion'): Helm refuses it too (no API version "
    "specified); fix the repository's index or use another"
)


def test_an_index_without_api_version_is_refused_as_helm_refuses_it(tmp_path: Path) -> None:
    """Helm's loadIndex refuses such an index (ErrNoAPIVersion); ``to`` moved pins by it."""
    repo = make_fleet(tmp_path / "repo", INCIDENT, git=True, clusters=("a.example",))
    before = git_state(repo)
    with serve(HelmServer(routes=_without_api_version())) as srv:
        url = srv.url("/index.yaml")
        for command in (("to", "2.4.0"), ("status",)):
            outcome = run_cli(*command, "--repo", str(repo), "--helm-repo", srv.base_url)
            assert outcome.code == EXIT_RESOLUTION, (command, outcome.stdout)
            assert outcome.stderr == f"error: {url}: {NO_API_VERSION}\n"
            assert git_state(repo) == before
    assert not list((tmp_path / "cache").glob("index-*")), "never cached"
