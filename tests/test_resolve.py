"""``fluxbump resolve`` end to end against a real 127.0.0.1 Helm server and the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluxbump.remote.index import bundled_snapshot
from fluxbump.resolve import resolve_chart_version
from tests.conftest import SNAPSHOT_INDEX
from tests.support.cli_runner import run_cli
from tests.support.helm_server import Fault, HelmServer


@pytest.mark.parametrize(
    ("release", "chart"),
    [("2.4.0", "2.14.1"), ("v2.4.0", "2.14.1"), ("2.3.0", "2.13.0"), ("2.7.2", "2.17.1")],
)
def test_resolve_maps_release_to_highest_chart_with_that_app_version(
    helm_server: HelmServer, release: str, chart: str
) -> None:
    result = run_cli("resolve", release, "--helm-repo", helm_server.base_url)
    assert result.code == 0, result.stderr
    assert f"→ flux2 chart {chart} (index: {helm_server.url('/index.yaml')})" in result.stdout


def test_resolve_json_shape_lists_candidates_highest_first(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url, "--json")
    assert json.loads(result.stdout) == {
        "ok": True,
        "flux": "2.4.0",
        "chart": "2.14.1",
        "index": helm_server.url("/index.yaml"),
        "candidates": ["2.14.1", "2.14.0"],
    }


def test_latest_is_newest_stable_release(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "latest", "--helm-repo", helm_server.base_url, "--json")
    assert json.loads(result.stdout)["chart"] == "2.18.3"
    assert json.loads(result.stdout)["flux"] == "2.8.5"


def test_pre_admits_release_candidates() -> None:
    resolution = resolve_chart_version(bundled_snapshot(), "2.0.0-rc.3", "flux2", pre=True)
    assert resolution.chart == "2.8.0"


def test_full_index_url_is_used_as_is(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.url("/index.yaml"))
    assert result.code == 0
    assert [r.path for r in helm_server.requests] == ["/index.yaml"]


def test_env_var_names_the_helm_repo(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "2.4.0", env={"FLUXBUMP_HELM_REPO": helm_server.base_url})
    assert result.code == 0
    assert len(helm_server.requests) == 1


def test_local_path_and_file_url(tmp_path: Path) -> None:
    by_path = run_cli("resolve", "2.3.0", "--helm-repo", str(SNAPSHOT_INDEX))
    by_url = run_cli("resolve", "2.3.0", "--helm-repo", SNAPSHOT_INDEX.as_uri())
    assert "2.13.0" in by_path.stdout and "2.13.0" in by_url.stdout


def test_release_without_chart_names_nearest_releases(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "2.5.0", "--helm-repo", helm_server.base_url)
    assert result.code == 3
    assert "2.4.0 -> 2.14.1" in result.stderr and "2.5.1 -> 2.15.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_release_after_the_index_is_not_taken_for_a_chart_version() -> None:
    # auricom/home-ops installs Flux v2.9.0; the bundled index ends at 2.8.5, and flux2 chart
    # 2.9.0 ships Flux 2.0.0: "give the release, 2.0.0" alone read as a seven-minor downgrade.
    outcome = run_cli("resolve", "2.9.0", "--offline")
    assert outcome.code == 3
    assert "whose newest release is 2.8.5: a Flux 2.9.0 newer than the index has no chart" in (
        outcome.stderr
    )
    assert "(to mean that chart, give the release, 2.0.0)" in outcome.stderr


@pytest.mark.parametrize("bad", ["2.4", "v2.4.0; rm -rf /", "../2.4.0", "v2.4.0\n"])
def test_malformed_version_is_exit_2_without_network(helm_server: HelmServer, bad: str) -> None:
    result = run_cli("resolve", bad, "--helm-repo", helm_server.base_url)
    assert result.code == 2
    assert "not a version" in result.stderr
    assert helm_server.requests == []


def test_garbage_index_is_exit_3(helm_server: HelmServer) -> None:
    helm_server.routes["/index.yaml"] = b"<html>not an index</html>"
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    assert result.code == 3
    assert "not a Helm repository index" in result.stderr


def test_server_error_then_success_is_retried(helm_server: HelmServer) -> None:
    helm_server.faults.append(Fault(status=500))
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    assert result.code == 0, result.stderr
    assert len(helm_server.requests) == 2


def test_persistent_server_error_falls_back_with_a_warning(helm_server: HelmServer) -> None:
    helm_server.faults.extend(Fault(status=503) for _ in range(3))
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    assert result.code == 0
    assert "(index: bundled snapshot 2026-04-15)" in result.stdout
    assert "HTTP 503" in result.stderr and "using the bundled snapshot" in result.stderr


def test_not_found_is_exit_3(helm_server: HelmServer) -> None:
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.url("/missing/index.yaml"))
    assert result.code == 3
    assert "HTTP 404" in result.stderr


def test_timeout_is_retried_then_reported(
    helm_server: HelmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fluxbump.remote.http.TIMEOUT_SECONDS", 0.2)
    helm_server.faults.extend(Fault(delay=0.6) for _ in range(3))
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    assert result.code == 0  # read-only: answered from the bundled snapshot, with a warning
    assert "Timeout" in result.stderr and "using the bundled snapshot" in result.stderr


def test_second_call_revalidates_and_reuses_body_on_304(helm_server: HelmServer) -> None:
    first = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    second = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    assert first.code == second.code == 0
    assert "2.14.1" in second.stdout
    assert "if-none-match" in helm_server.requests[1].headers
    assert [r.headers.get("x-served") for r in helm_server.requests] == ["200", "304"]


def test_offline_uses_cache_when_present(helm_server: HelmServer) -> None:
    run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url)
    result = run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url, "--offline")
    assert result.code == 0
    assert "cached index" in result.stderr
    assert len(helm_server.requests) == 1


def test_offline_without_cache_uses_bundled_snapshot_and_says_its_date() -> None:
    result = run_cli("resolve", "2.4.0", "--offline")
    assert result.code == 0
    assert "2.14.1" in result.stdout
    assert "bundled snapshot of 2026-04-15" in result.stderr


def test_bad_response_does_not_poison_the_cache(helm_server: HelmServer) -> None:
    good = helm_server.routes["/index.yaml"]
    helm_server.routes["/index.yaml"] = b"entries: 12"
    assert run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url).code == 3
    helm_server.routes["/index.yaml"] = good
    assert run_cli("resolve", "2.4.0", "--helm-repo", helm_server.base_url).code == 0
