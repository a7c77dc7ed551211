from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.crash_cli import index_server  # noqa: F401 (a fixture the crash tests take)
from tests.support.helm_repo import flux_repo_routes
from tests.support.helm_server import HelmServer, serve

SNAPSHOT = Path(__file__).resolve().parent.parent / "fluxbump" / "data"
SNAPSHOT_INDEX = SNAPSHOT / "fluxcd-community-index-2026-04-15.yaml"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own index cache, state directory (journals outside git), no inherited Helm repo or colour settings."""
    monkeypatch.setenv("FLUXBUMP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FLUXBUMP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("FLUXBUMP_HELM_REPO", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture
def helm_server() -> Iterator[HelmServer]:
    """A 127.0.0.1 Helm repo: the real fluxcd-community snapshot, chart archives served here."""
    with serve(HelmServer(routes=dict(flux_repo_routes()))) as server:
        yield server
