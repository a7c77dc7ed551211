from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump import __main__ as entry_point
from fluxbump.remote import index
from tests.support.crash_cli import index_server  # noqa: F401 (a fixture the crash tests take)
from tests.support.fixtures import keep_fleets_in
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

SNAPSHOT = Path(__file__).resolve().parent.parent / "fluxbump" / "data"
SNAPSHOT_INDEX = SNAPSHOT / "fluxcd-community-index-2026-04-15.yaml"
COLD_CACHE = "cold_cache"


def pytest_configure(config: pytest.Config) -> None:
    # Most tests run the CLI in-process (Typer's runner): give it the cyclic collector's
    # setting the console script gives every command (fluxbump/__main__.py).
    entry_point._collect_less_often()
    _compile_sources()


def _compile_sources() -> None:
    """Byte-compile fluxbump and the test helpers that child processes import, as pip does
    for an installed wheel. Under ``PYTHONDONTWRITEBYTECODE=1`` (set on some CI machines and
    on ours) an editable checkout is never compiled to disk, so each of the suite's ~400
    ``python -m fluxbump`` processes compiled the modules it imports again: 0.2-0.3 CPU-s a
    process. The flag only stops Python from writing bytecode; it still reads it."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in (root / "fluxbump", root / "tests" / "support"):
        compileall.compile_dir(str(package), quiet=2)


@pytest.fixture(scope="session", autouse=True)
def fleet_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's directory of the fleets ``make_fleet`` makes once and copies: under
    pytest's base directory, so a worker that dies leaves nothing of its own in /tmp."""
    store = tmp_path_factory.mktemp("fleets")
    keep_fleets_in(store)
    return store


@pytest.fixture(scope="session")
def parsed_indexes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    """The parsed-index sidecars of the two big index texts most tests load: the bundled
    snapshot and the ``helm_server`` index, parsed once per worker.

    Parsing either cost ~0.6 CPU-s of pure-Python YAML (~0.1 s since libyaml reads it,
    fluxbump/yamlio/plaindata.py), and every test starts with an empty cache directory, so
    without these most CLI tests spent more on that one parse than on what they test. A sidecar is keyed by the sha256 of the text it was parsed
    from, so a test whose index differs in one byte still parses it (tests of parsing,
    hostile indexes and the sidecar itself are unaffected); tests that look at the cache
    directory's contents opt out with ``@pytest.mark.cold_cache``.
    """
    seed = tmp_path_factory.mktemp("parsed-index-seed")
    texts = (
        SNAPSHOT_INDEX.read_text("utf-8"),
        flux_repo_routes()["/index.yaml"].decode("utf-8"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(index.CACHE_ENV, str(seed))
        for text in texts:
            index.load_parsed(text, "seed")
    sidecars = tuple(sorted(seed.glob(f"{index.PARSED_PREFIX}*.json")))
    assert len(sidecars) == len(texts)
    return sidecars


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    parsed_indexes: tuple[Path, ...],
) -> Iterator[None]:
    """Every test gets its own index cache (holding only the common parsed-index sidecars),
    state directory (journals outside git), no inherited Helm repo or colour settings."""
    cache = tmp_path / "cache"
    if request.node.get_closest_marker(COLD_CACHE) is None:
        cache.mkdir()
        for sidecar in parsed_indexes:
            shutil.copyfile(sidecar, cache / sidecar.name)  # a copy: a test may damage its own
    monkeypatch.setenv("FLUXBUMP_CACHE_DIR", str(cache))
    monkeypatch.setenv("FLUXBUMP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("FLUXBUMP_HELM_REPO", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture(autouse=True)
def http_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds an in-process run chose to wait between HTTP tries, instead of waiting them.

    A retry's back-off (0.2 s, then 0.4 s) or a server's Retry-After is a number the retry
    tests assert on; sleeping it only left a worker idle (the network test files took 99 s
    of wall time for 26 CPU-s, 54 s without). Whole-process runs still wait for real.
    """
    pauses: list[float] = []
    monkeypatch.setattr("fluxbump.remote.http._pause", pauses.append)
    return pauses


@pytest.fixture
def helm_server() -> Iterator[HelmServer]:
    """A 127.0.0.1 Helm repo: the real fluxcd-community snapshot, chart archives served here."""
    with serve(HelmServer(routes=dict(flux_repo_routes()))) as server:
        yield server
