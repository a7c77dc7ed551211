"""verify_chart_version against real HTTP servers on 127.0.0.1: a Helm repository and a
small OCI registry that demands an anonymous Bearer token and pages its tag lists."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fluxbump.errors import EXIT_RESOLUTION, EXIT_USAGE, ResolutionError, UsageError
from fluxbump.remote import upstream
from fluxbump.remote.upstream import PLAIN_HTTP_ENV, latest_chart_version, verify_chart_version
from tests.support.helm_server import Fault, HelmServer, serve
from tests.support.registry import TOKEN, Registry, helm_index, serve_registry

CERT_MANAGER = ("v1.15.3", "v1.16.5", "v1.16.6", "v1.17.0", "v1.17.1")


@pytest.fixture
def cert_manager_repo() -> Iterator[HelmServer]:
    """A Helm repository whose cert-manager chart versions are ``v``-prefixed."""
    routes = {"/index.yaml": helm_index("cert-manager", CERT_MANAGER)}
    with serve(HelmServer(routes=routes)) as server:
        yield server


# --- a small OCI registry ----------------------------------------------------------------


@contextmanager
def plain_registry(monkeypatch: pytest.MonkeyPatch, registry: Registry) -> Iterator[str]:
    """Serve ``registry`` over plain HTTP and yield its ``oci://host/charts`` repository URL."""
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, f"example.invalid, {registry.host}")
        yield f"oci://{registry.host}/charts"


# --- Helm repositories -------------------------------------------------------------------


def test_helm_hit_returns_the_repository_spelling(cert_manager_repo: HelmServer) -> None:
    found = verify_chart_version(cert_manager_repo.base_url + "/", "cert-manager", "1.16.6")
    assert found == "v1.16.6"
    assert [r.path for r in cert_manager_repo.requests] == ["/index.yaml"]


def test_helm_hit_on_the_real_flux2_index(helm_server: HelmServer) -> None:
    assert verify_chart_version(helm_server.base_url, "flux2", "2.18.3") == "2.18.3"
    assert verify_chart_version(helm_server.base_url, "flux2", "v2.18.3") == "2.18.3"


def test_helm_miss_names_chart_version_repo_and_nearest_newer(
    cert_manager_repo: HelmServer,
) -> None:
    with pytest.raises(UsageError) as caught:
        verify_chart_version(cert_manager_repo.base_url, "cert-manager", "1.16.7")
    message = caught.value.message
    assert caught.value.exit_code == EXIT_USAGE
    assert "'cert-manager'" in message
    assert "1.16.7" in message
    assert cert_manager_repo.base_url in message
    assert message.endswith("nearest newer: v1.17.0, v1.17.1")


def test_helm_miss_beyond_the_newest_lists_the_latest(cert_manager_repo: HelmServer) -> None:
    with pytest.raises(UsageError, match=r"latest available: v1\.17\.1, v1\.17\.0, v1\.16\.6"):
        verify_chart_version(cert_manager_repo.base_url, "cert-manager", "9.0.0")


def test_helm_chart_absent_from_the_index(cert_manager_repo: HelmServer) -> None:
    with pytest.raises(UsageError, match="has no versions of 'flux2'"):
        verify_chart_version(cert_manager_repo.base_url, "flux2", "2.18.3")


def test_helm_http_500_is_retried(cert_manager_repo: HelmServer) -> None:
    cert_manager_repo.faults.append(Fault(status=500))
    assert verify_chart_version(cert_manager_repo.base_url, "cert-manager", "1.16.6") == "v1.16.6"
    assert len(cert_manager_repo.requests) == 2


def test_helm_http_500_every_time_is_a_resolution_error(cert_manager_repo: HelmServer) -> None:
    cert_manager_repo.faults += [Fault(status=500) for _ in range(3)]
    with pytest.raises(ResolutionError) as caught:
        verify_chart_version(cert_manager_repo.base_url, "cert-manager", "1.16.6")
    assert caught.value.exit_code == EXIT_RESOLUTION
    assert caught.value.message == (
        f"{cert_manager_repo.url('/index.yaml')}: cannot fetch the Helm index after 3 tries "
        "(HTTP 500)"
    )


def test_helm_body_that_is_not_an_index() -> None:
    with (
        serve(HelmServer(routes={"/index.yaml": b"<html>hello</html>"})) as server,
        pytest.raises(ResolutionError, match="not a Helm repository index"),
    ):
        verify_chart_version(server.base_url, "cert-manager", "1.16.6")


def test_helm_body_that_is_not_utf8() -> None:
    with (
        serve(HelmServer(routes={"/index.yaml": b"\xff\xfe\x00garbage"})) as server,
        pytest.raises(ResolutionError, match=r"index\.yaml: index is not UTF-8 text"),
    ):
        verify_chart_version(server.base_url, "cert-manager", "1.16.6")


def test_connection_refused_is_a_one_line_resolution_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ResolutionError) as caught:
        verify_chart_version(f"http://127.0.0.1:{port}", "cert-manager", "1.16.6")
    assert caught.value.message.startswith(f"http://127.0.0.1:{port}/index.yaml: ")
    assert "ConnectError" in caught.value.message
    assert "\n" not in caught.value.message


# --- OCI registries ----------------------------------------------------------------------


def test_oci_anonymous_token_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/flux2": [["2.18.2", "2.18.3"]]})
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "flux2", "2.18.3") == "2.18.3"
    assert registry.token_requests() == [
        {"service": ["test-registry"], "scope": ["repository:charts/flux2:pull"]}
    ]
    first, retried = registry.tag_requests()
    assert "authorization" not in first.headers
    assert retried.headers["authorization"] == f"Bearer {TOKEN}"


def test_oci_token_may_come_as_access_token(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/flux2": [["2.18.3"]]}, token_field="access_token")
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "flux2", "2.18.3") == "2.18.3"


def test_oci_open_registry_needs_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/flux2": [["2.18.3"]]}, token=None)
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "flux2", "2.18.3") == "2.18.3"
    assert registry.token_requests() == []


def test_oci_pagination_follows_link_next(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [["2.16.0", "2.16.1"], ["2.17.0", "2.17.1"], ["2.18.0", "2.18.3"]]
    registry = Registry(pages={"charts/flux2": pages})
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "flux2", "2.18.3") == "2.18.3"
    paths = [r.path for r in registry.tag_requests() if "authorization" in r.headers]
    assert paths == [
        "/v2/charts/flux2/tags/list",
        "/v2/charts/flux2/tags/list?page=1",
        "/v2/charts/flux2/tags/list?page=2",
    ]
    assert len(registry.token_requests()) == 1  # one token serves every page


def test_oci_pagination_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream, "MAX_PAGES", 3)
    registry = Registry(pages={"charts/flux2": [["2.18.3"]]}, endless=True)
    with (
        plain_registry(monkeypatch, registry) as repository,
        pytest.raises(ResolutionError, match="still paging after 3 pages"),
    ):
        verify_chart_version(repository, "flux2", "9.9.9")


def test_oci_v_prefixed_tags_return_the_tag_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/cert-manager": [list(CERT_MANAGER)]})
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "cert-manager", "1.16.6") == "v1.16.6"


def test_oci_build_metadata_tags_use_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    """OCI tags cannot hold '+', so Helm pushes 1.0.0+build as the tag 1.0.0_build."""
    registry = Registry(pages={"charts/app": [["1.0.0_build.7"]]})
    with plain_registry(monkeypatch, registry) as repository:
        assert verify_chart_version(repository, "app", "1.0.0+build.7") == "1.0.0+build.7"


def test_oci_miss_lists_available_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/cert-manager": [list(CERT_MANAGER)]})
    with (
        plain_registry(monkeypatch, registry) as repository,
        pytest.raises(UsageError) as caught,
    ):
        verify_chart_version(repository, "cert-manager", "1.16.7")
    assert caught.value.message == (
        f"chart 'cert-manager' version 1.16.7 is not published in {repository}; "
        "nearest newer: v1.17.0, v1.17.1"
    )


def test_oci_unknown_chart_is_not_published(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={})
    with (
        plain_registry(monkeypatch, registry) as repository,
        pytest.raises(UsageError, match="has no versions of 'flux2'"),
    ):
        verify_chart_version(repository, "flux2", "2.18.3")


def test_oci_refused_token_is_a_resolution_error(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(pages={"charts/flux2": [["2.18.3"]]}, token_status=403)
    with (
        plain_registry(monkeypatch, registry) as repository,
        pytest.raises(ResolutionError, match="HTTP 403 requesting an anonymous token"),
    ):
        verify_chart_version(repository, "flux2", "2.18.3")


def test_oci_host_not_listed_as_plain_http_is_spoken_to_over_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = Registry(pages={"charts/flux2": [["2.18.3"]]})
    with serve_registry(registry), pytest.raises(ResolutionError) as caught:
        verify_chart_version(f"oci://{registry.host}/charts", "flux2", "2.18.3")
    assert caught.value.message.startswith(f"https://{registry.host}/v2/charts/flux2/tags/list: ")
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "repository", ["file:///srv/charts", "", "@stable", "stable", "s3://bucket/charts"]
)
def test_unsupported_repository_suggests_offline(repository: str) -> None:
    with pytest.raises(UsageError) as caught:
        verify_chart_version(repository, "flux2", "2.18.3")
    assert caught.value.exit_code == EXIT_USAGE
    assert f"repository '{repository}'" in caught.value.message
    assert "--offline" in caught.value.message


def test_oci_without_a_host_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="expected oci://host/path"):
        verify_chart_version("oci:///charts", "flux2", "2.18.3")


# --- latest --------------------------------------------------------------------------------


def test_latest_is_the_highest_stable_semver_in_the_repository_spelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tags = ["v1.9.0", "v1.10.0-rc.1", "latest", "sha-0a1b2c", "v1.10.0_build.1", "v1.2.3"]
    registry = Registry(pages={"charts/app": [tags]})
    with plain_registry(monkeypatch, registry) as repository:
        # 1.10 sorts above 1.9 (not as text); build metadata does not make a pre-release.
        assert latest_chart_version(repository, "app") == "v1.10.0+build.1"
        assert latest_chart_version(repository, "app", pre=True) == "v1.10.0+build.1"


@pytest.mark.parametrize("order", [["1.2.3+a", "1.2.3+b"], ["1.2.3+b", "1.2.3+a"]])
def test_latest_among_equal_versions_does_not_depend_on_the_listing_order(
    monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    registry = Registry(pages={"charts/app": [[t.replace("+", "_") for t in order]]})
    with plain_registry(monkeypatch, registry) as repository:
        assert latest_chart_version(repository, "app") == "1.2.3+b"


def test_latest_from_a_helm_index_reads_it_once(cert_manager_repo: HelmServer) -> None:
    assert latest_chart_version(cert_manager_repo.base_url, "cert-manager") == "v1.17.1"
    assert [r.path for r in cert_manager_repo.requests] == ["/index.yaml"]


def test_latest_without_any_semver_version_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = Registry(pages={"charts/app": [["latest", "main", "2.0.0-beta.1"]]})
    with plain_registry(monkeypatch, registry) as repository:
        with pytest.raises(UsageError) as caught:
            latest_chart_version(repository, "app")
        assert (
            caught.value.message
            == f"{repository} publishes no stable SemVer version of chart 'app'"
        )
        assert latest_chart_version(repository, "app", pre=True) == "2.0.0-beta.1"


def test_latest_from_an_unsupported_repository_asks_for_a_version() -> None:
    with pytest.raises(UsageError) as caught:
        latest_chart_version("file:///srv/charts", "app")
    assert "name the version instead of 'latest'" in caught.value.message
