"""Every wrapper is a component: `sync` after any upstream bump, `to --component`, `check`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.remote.upstream import MAX_TAG_LIST_BYTES, PLAIN_HTTP_ENV
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import edit, git, snapshot
from tests.support.helm_server import HelmServer, serve
from tests.support.registry import Registry, helm_index, serve_registry
from tests.support.wrappers import (
    CERT_BLUEPRINT,
    CERT_CHART,
    CERT_RELEASE,
    CERT_VALUES,
    CILIUM_BLUEPRINT,
    CILIUM_CHART,
    CILIUM_RELEASE,
    CILIUM_VALUES,
    CLUSTERS,
    COMMON_CHART,
    wrappers_fleet,
)

UMBRELLA_RELEASE = fleet.UMBRELLA_RELEASE_FILE


def sync(repo: Path, *args: str) -> Outcome:
    return run_cli("sync", "--repo", str(repo), "--offline", *args)


def changed(repo: Path, before: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """Every file whose bytes differ from ``before``: (old text, new text)."""
    after = snapshot(repo)
    return {
        rel: (before[rel].decode(), after[rel].decode())
        for rel in after
        if before.get(rel) != after[rel]
    }


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def expected_cilium_sync(before: dict[str, bytes]) -> dict[str, str]:
    """The exact new text of every file a Cilium 1.16.5 -> 1.16.6 bump must change."""
    text = {rel: raw.decode() for rel, raw in before.items()}
    expected = {
        CILIUM_CHART: replaced(
            text[CILIUM_CHART],
            ("version: 1.0.3", "version: 1.0.4"),
            ('appVersion: "1.16.5"', 'appVersion: "1.16.6"'),
            ('version: "1.16.5"', 'version: "1.16.6"'),
        ),
        CILIUM_VALUES: replaced(text[CILIUM_VALUES], ('version: "1.16.5"', 'version: "1.16.6"')),
        CILIUM_BLUEPRINT: replaced(text[CILIUM_BLUEPRINT], ("version: 1.0.3", "version: 1.0.4")),
        fleet.CLOUDINIT: replaced(text[fleet.CLOUDINIT], ("--version 1.16.5", "--version 1.16.6")),
        fleet.UMBRELLA_CHART: replaced(
            text[fleet.UMBRELLA_CHART],
            ("version: 1.1.1", "version: 1.1.2"),
            ('appVersion: "1.1.1"', 'appVersion: "1.1.2"'),
            ("name: bp-cilium\n    version: 1.0.3", "name: bp-cilium\n    version: 1.0.4"),
        ),
        fleet.UMBRELLA_BLUEPRINT: replaced(
            text[fleet.UMBRELLA_BLUEPRINT], ("version: 1.1.1", "version: 1.1.2")
        ),
    }
    for cluster in CLUSTERS:
        cilium = f"clusters/{cluster}/{CILIUM_RELEASE}"
        umbrella = f"clusters/{cluster}/{UMBRELLA_RELEASE}"
        expected[cilium] = replaced(text[cilium], ("version: 1.0.3", "version: 1.0.4"))
        expected[umbrella] = replaced(text[umbrella], ('version: "1.1.1"', 'version: "1.1.2"'))
    return expected


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return wrappers_fleet(tmp_path / "repo")


def test_every_wrapper_is_found_and_the_fleet_is_consistent(repo: Path) -> None:
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert [(c["name"], c["wrapper"], c["upstream"]) for c in document["components"]] == [
        ("flux", "bp-flux", "flux2"),
        ("cert-manager", "bp-cert-manager", "cert-manager"),
        ("cilium", "bp-cilium", "cilium"),
        ("common", "bp-common", "common"),
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_renovate_moved_the_cilium_dependency_and_sync_moves_exactly_the_rest(
    repo: Path,
) -> None:
    edit(repo, CILIUM_CHART, 'version: "1.16.5"', 'version: "1.16.6"')
    before = snapshot(repo)
    head = git(repo, "rev-parse", "HEAD")
    outcome = sync(repo)
    assert outcome.code == 0, outcome.stderr
    base = {**before, CILIUM_CHART: before[CILIUM_CHART].replace(b'"1.16.6"', b'"1.16.5"')}
    assert {rel: new for rel, (_, new) in changed(repo, before).items()} | {
        CILIUM_CHART: (repo / CILIUM_CHART).read_text()
    } == expected_cilium_sync(base)
    assert "cilium: bp-cilium → cilium chart 1.16.6 (chart was 1.16.5)" in outcome.stdout
    # The comment naming the old version is reported, not edited.
    assert f"{CILIUM_VALUES}:1: # Tested with cilium 1.16.5" in outcome.stdout
    assert "# Tested with cilium 1.16.5" in (repo / CILIUM_VALUES).read_text()
    assert git(repo, "rev-parse", "HEAD") == head
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    # Idempotent: a second sync writes nothing.
    settled = snapshot(repo)
    again = sync(repo)
    assert again.code == 0 and "nothing to do" in again.stdout
    assert snapshot(repo) == settled


def test_renovate_moved_only_the_cloud_init_helm_install_pin(repo: Path) -> None:
    edit(repo, fleet.CLOUDINIT, "--version 1.16.5", "--version 1.16.6")
    before = snapshot(repo)
    base = {**before, fleet.CLOUDINIT: before[fleet.CLOUDINIT].replace(b"1.16.6", b"1.16.5")}
    outcome = sync(repo, "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert [c["component"] for c in document["components"]] == ["cilium"]
    assert document["from"]["chart"] == "1.16.5" and document["to"]["chart"] == "1.16.6"
    after = {rel: new for rel, (_, new) in changed(repo, before).items()}
    expected = expected_cilium_sync(base)
    assert after == {rel: text for rel, text in expected.items() if rel != fleet.CLOUDINIT}


def test_two_components_moved_at_once_bump_the_umbrella_once(repo: Path) -> None:
    edit(repo, CILIUM_CHART, 'version: "1.16.5"', 'version: "1.16.6"')
    edit(repo, CERT_VALUES, 'version: "v1.16.2"', 'version: "v1.16.3"')
    outcome = sync(repo, "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert sorted(c["component"] for c in document["components"]) == ["cert-manager", "cilium"]
    umbrella = (repo / fleet.UMBRELLA_CHART).read_text()
    assert "version: 1.1.2\n" in umbrella and "1.1.3" not in umbrella
    assert "name: bp-cert-manager\n    version: 1.4.1" in umbrella
    # cert-manager keeps its v-prefix style in every pin.
    assert 'version: "v1.16.3"' in (repo / CERT_CHART).read_text()
    assert 'appVersion: "v1.16.3"' in (repo / CERT_CHART).read_text()
    assert "version: 1.4.1" in (repo / CERT_BLUEPRINT).read_text()
    assert "version: 1.4.1" in (repo / "clusters/_template" / CERT_RELEASE).read_text()
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_conflicting_edits_exit_2_and_write_nothing(repo: Path) -> None:
    edit(repo, CILIUM_CHART, 'version: "1.16.5"', 'version: "1.16.6"')
    edit(repo, fleet.CLOUDINIT, "--version 1.16.5", "--version 1.16.7")
    before = snapshot(repo)
    outcome = sync(repo)
    assert outcome.code == 2
    assert f"{CILIUM_CHART}:8 (upstream dependency) 1.16.5 -> 1.16.6" in outcome.stderr
    assert f"{fleet.CLOUDINIT}:20 (cloud-init install) 1.16.5 -> 1.16.7" in outcome.stderr
    assert snapshot(repo) == before


def test_flux_bump_reports_other_drift_without_fixing_or_failing_on_it(repo: Path) -> None:
    edit(repo, CILIUM_BLUEPRINT, "version: 1.0.3", "version: 1.0.2")
    git(repo, "commit", "-qam", "drift")
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    assert "drift in components this run did not move" in outcome.stdout
    assert f"{CILIUM_BLUEPRINT}:7: Blueprint of bp-cilium mirrors 1.0.2, chart is 1.0.3" in (
        outcome.stdout
    )
    assert "version: 1.0.2" in (repo / CILIUM_BLUEPRINT).read_text()
    assert "download/v2.5.1/" in (repo / fleet.CLOUDINIT).read_text()


def test_check_component_filter_narrows_and_names_unknown(repo: Path) -> None:
    edit(repo, CILIUM_VALUES, 'version: "1.16.5"', 'version: "1.16.4"')
    full = run_cli("check", "--repo", str(repo), "--offline")
    assert full.code == 1
    assert f"{CILIUM_VALUES}:3: values mirror of cilium is 1.16.4, dependency pins 1.16.5" in (
        full.stdout
    )
    assert run_cli("check", "--repo", str(repo), "--offline", "--component", "flux").code == 0
    narrowed = run_cli("check", "--repo", str(repo), "--offline", "--component", "cilium", "--json")
    assert narrowed.code == 1
    document = json.loads(narrowed.stdout)
    assert [c["name"] for c in document["components"]] == ["cilium"]
    assert {v["file"] for v in document["violations"]} == {CILIUM_VALUES}
    unknown = run_cli("check", "--repo", str(repo), "--component", "nginx")
    assert unknown.code == 2 and "no such component" in unknown.stderr


@pytest.fixture
def cilium_repo() -> Iterator[HelmServer]:
    routes = {"/index.yaml": helm_index("cilium", ("1.16.4", "1.16.5", "1.16.6"))}
    with serve(HelmServer(routes=routes)) as server:
        yield server


def to(repo: Path, flux_index: HelmServer, *args: str) -> Outcome:
    return run_cli("to", *args, "--repo", str(repo), "--helm-repo", flux_index.base_url)


def test_to_component_verifies_against_the_helm_repository_and_commits(
    tmp_path: Path, cilium_repo: HelmServer, helm_server: HelmServer
) -> None:
    repo = wrappers_fleet(tmp_path / "repo", cilium_repo=cilium_repo.base_url)
    before = snapshot(repo)
    outcome = to(repo, helm_server, "1.16.6", "--component", "cilium")
    assert outcome.code == 0, outcome.stderr
    assert [r.path for r in cilium_repo.requests] == ["/index.yaml"]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "fluxbump/cilium-v1.16.6"
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("Bump cilium to cilium chart 1.16.6")
    assert "Component cilium: cilium chart 1.16.5 -> 1.16.6." in message
    after = {rel: new for rel, (_, new) in changed(repo, before).items()}
    assert after == expected_cilium_sync(before)
    missing = to(repo, helm_server, "1.16.9", "--component", "cilium", "--no-git")
    assert missing.code == 2 and "1.16.9" in missing.stderr


def test_to_refuses_a_second_component_rather_than_move_only_the_last(repo: Path) -> None:
    # --component is repeatable for check, status and sync; 'to' moved only the last one
    # given (epam/edp-cluster-add-ons' twin argo-cd wrappers), silently leaving the first.
    before = snapshot(repo)
    args = ("--component", "cilium", "--component", "cert-manager", "--offline", "--no-git")
    outcome = run_cli("to", "1.16.6", *args, "--repo", str(repo))
    assert outcome.code == 2
    assert outcome.stderr.splitlines()[-1] == (
        "error: --component given 2 times (cilium, cert-manager): 'to' moves one component to "
        "one chart version; run it once per component"
    )
    assert snapshot(repo) == before


def test_to_component_refuses_a_downgrade(
    tmp_path: Path, cilium_repo: HelmServer, helm_server: HelmServer
) -> None:
    repo = wrappers_fleet(tmp_path / "repo", cilium_repo=cilium_repo.base_url)
    before = snapshot(repo)
    outcome = to(repo, helm_server, "1.16.4", "--component", "cilium")
    assert outcome.code == 4 and "downgrade" in outcome.stderr
    assert snapshot(repo) == before


def test_to_component_verifies_against_an_oci_tag_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_server: HelmServer
) -> None:
    registry = Registry(pages={"charts/common": [["2.27.0", "2.27.1", "2.28.0"]]})
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, registry.host)
        repo = wrappers_fleet(tmp_path / "repo", common_repo=f"oci://{registry.host}/charts")
        outcome = to(repo, helm_server, "2.27.1", "--component", "common", "--json")
        assert outcome.code == 0, outcome.stderr
        assert registry.token_requests(), "the anonymous token flow ran"
    document = json.loads(outcome.stdout)
    assert document["component"] == "common" and document["branch"] == "fluxbump/common-v2.27.1"
    assert 'version: "2.27.1"' in (repo / COMMON_CHART).read_text()
    assert "name: bp-common\n    version: 0.2.1" in (repo / fleet.UMBRELLA_CHART).read_text()


def test_to_latest_component_takes_the_highest_stable_version_the_repository_publishes(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    versions = ("1.16.5", "1.16.6", "1.16.10", "1.17.0-rc.1", "1.9.9")
    routes = {"/index.yaml": helm_index("cilium", versions)}
    with serve(HelmServer(routes=routes)) as cilium:
        repo = wrappers_fleet(tmp_path / "repo", cilium_repo=cilium.base_url)
        outcome = to(repo, helm_server, "latest", "--component", "cilium", "--json")
        assert outcome.code == 0, outcome.stderr
        assert [r.path for r in cilium.requests] == ["/index.yaml"]
        document = json.loads(outcome.stdout)
        assert document["branch"] == "fluxbump/cilium-v1.16.10"  # SemVer order, not text
        assert 'version: "1.16.10"' in (repo / CILIUM_VALUES).read_text()
        assert "--version 1.16.10" in (repo / fleet.CLOUDINIT).read_text()
        again = to(repo, helm_server, "latest", "--component", "cilium", "--pre", "--no-git")
        assert again.code == 0, again.stderr
        assert 'version: "1.17.0-rc.1"' in (repo / CILIUM_VALUES).read_text()


def test_to_latest_component_from_an_oci_registry_skips_tags_that_are_not_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_server: HelmServer
) -> None:
    tags = ["2.27.0", "latest", "2.27.1", "sha-9f8e7d", "2.28.0-beta.1"]
    registry = Registry(pages={"charts/common": [tags]})
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, registry.host)
        repo = wrappers_fleet(tmp_path / "repo", common_repo=f"oci://{registry.host}/charts")
        outcome = to(repo, helm_server, "latest", "--component", "common", "--no-git")
        assert outcome.code == 0, outcome.stderr
    assert 'version: "2.27.1"' in (repo / COMMON_CHART).read_text()


def test_to_latest_component_offline_exits_2_and_writes_nothing(repo: Path) -> None:
    before = snapshot(repo)
    outcome = run_cli(
        "to", "latest", "--component", "cilium", "--repo", str(repo), "--offline", "--no-git"
    )
    assert outcome.code == 2
    assert "'latest' for --component cilium asks" in outcome.stderr
    assert "drop --offline or name the version" in outcome.stderr
    assert snapshot(repo) == before


def test_to_component_offline_warns_that_the_version_is_unverified(repo: Path) -> None:
    outcome = run_cli(
        "to", "1.16.6", "--component", "cilium", "--repo", str(repo), "--offline",
        "--no-git", "--dry-run",
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert "cilium 1.16.6 not verified" in outcome.stderr


def test_a_wrapper_with_two_upstreams_is_two_components(repo: Path) -> None:
    chart = repo / "platform/observability/chart"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: bp-observability\nversion: 0.5.0\ndependencies:\n"
        '  - name: loki\n    version: "6.24.0"\n    repository: https://grafana.github.io/helm-charts\n'
        '  - name: tempo\n    version: "1.18.1"\n    repository: https://grafana.github.io/helm-charts\n'
    )
    (chart / "values.yaml").write_text(
        "catalystBlueprint:\n  upstream:\n"
        '    - { chart: loki, version: "6.24.0" }\n'
        '    - { chart: tempo, version: "1.18.1" }\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "observability")
    status = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    names = {c["name"]: c["wrapper"] for c in status["components"]}
    assert names["loki"] == names["tempo"] == "bp-observability"
    edit(repo, "platform/observability/chart/Chart.yaml", '"1.18.1"', '"1.18.2"')
    outcome = sync(repo, "--json")
    assert outcome.code == 0, outcome.stderr
    assert [c["component"] for c in json.loads(outcome.stdout)["components"]] == ["tempo"]
    values = (chart / "values.yaml").read_text()
    assert '{ chart: loki, version: "6.24.0" }' in values
    assert '{ chart: tempo, version: "1.18.2" }' in values
    assert "version: 0.5.1" in (chart / "Chart.yaml").read_text()
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_wrapper_floating_on_a_range_is_unproven_not_a_violation(repo: Path) -> None:
    edit(repo, CERT_CHART, 'version: "v1.16.2"', 'version: "~1.16.0"')
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 0, checked.stdout
    status = run_cli("status", "--repo", str(repo), "--offline", "--component", "cert-manager")
    row = next(line for line in status.stdout.splitlines() if line.startswith("upstream"))
    assert f"{CERT_CHART}:8" in row and "~1.16.0" in row and row.endswith("??")
    # Flux's own dependency must stay exact: the release maps to one chart.
    edit(repo, fleet.WRAPPER_CHART, 'version: "2.14.1"', 'version: "~2.14.0"')
    flux = run_cli("check", "--repo", str(repo), "--offline", "--component", "flux")
    assert flux.code == 1 and "flux2 dependency '~2.14.0' is not an exact pin" in flux.stdout


def test_sync_of_a_component_floating_on_a_range_has_nothing_to_do(repo: Path) -> None:
    edit(repo, CERT_CHART, 'version: "v1.16.2"', 'version: "~1.16.0"')
    git(repo, "commit", "-qam", "float")
    before = snapshot(repo)
    outcome = sync(repo, "--component", "cert-manager", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["changed"] is False and document["component"] is None
    assert "nothing to do" in document["notes"][-1]
    text = sync(repo, "--component", "cert-manager")
    assert text.code == 0 and "nothing to do" in text.stdout
    assert snapshot(repo) == before


def test_flux_renamed_in_the_config_is_still_what_to_moves(repo: Path) -> None:
    (repo / ".fluxbump.yaml").write_text(
        "components:\n  fluxcd: { wrapper: bp-flux, upstream: flux2 }\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "rename flux")
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["component"] == "fluxcd" and document["branch"] == "fluxbump/fluxcd-v2.5.1"


def test_flux_excluded_in_the_config_is_refused_by_to_and_left_alone_by_sync(
    repo: Path,
) -> None:
    (repo / ".fluxbump.yaml").write_text("components:\n  flux: false\n")
    edit(repo, fleet.WRAPPER_CHART, 'version: "2.14.1"', 'version: "2.13.0"')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "exclude flux")
    before = snapshot(repo)
    to = run_cli("to", "2.5.1", "--repo", str(repo), "--offline")
    assert to.code == 2 and "the Flux component is excluded" in to.stderr
    synced = sync(repo)
    assert synced.code == 0 and "nothing to do" in synced.stdout
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    assert snapshot(repo) == before


def test_a_wrapper_without_its_pin_is_refused_before_anything_is_chosen(repo: Path) -> None:
    edit(repo, fleet.WRAPPER_CHART, '    version: "2.14.1"\n', "")
    git(repo, "commit", "-qam", "no pin")
    for args in ((), ("--from", "cloud-init"), ("--from", "chart")):
        outcome = sync(repo, *args)
        assert outcome.code == 2, outcome.stderr
        assert f"{fleet.WRAPPER_CHART}: no 'flux2' dependency with a version" in outcome.stderr


def test_components_config_names_are_the_ones_status_shows(repo: Path) -> None:
    chart = repo / "platform/cache/chart"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: bp-cache\nversion: 0.1.0\ndependencies:\n"
        '  - name: redis\n    alias: sessions\n    version: "19.0.1"\n    repository: https://r.example\n'
        '  - name: redis\n    alias: queue\n    version: "19.0.1"\n    repository: https://r.example\n'
        '  - name: memcached\n    version: "7.4.0"\n    repository: https://r.example\n'
    )
    other = repo / "platform/redis/chart"
    other.mkdir(parents=True)
    (other / "Chart.yaml").write_text(
        "apiVersion: v2\nname: bp-redis\nversion: 0.1.0\ndependencies:\n"
        '  - name: redis\n    version: "19.0.1"\n    repository: https://r.example\n'
    )
    synced = json.loads(sync(repo, "--dry-run", "--json").stdout)
    names = [c["component"] for c in synced["components"]]
    assert names == ["flux"]  # nothing moved: Flux's cloud-init is the source
    status = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    assert {"bp-cache/redis", "bp-redis/redis"} <= {c["name"] for c in status["components"]}
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0  # two aliases, one pin
    (repo / ".fluxbump.yaml").write_text("components:\n  bp-cache/redis: false\n")
    status = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    assert "bp-cache/redis" not in {c["name"] for c in status["components"]}
    assert "bp-redis/redis" in {c["name"] for c in status["components"]}
    (repo / ".fluxbump.yaml").write_text("components:\n  nosuch: false\n")
    typo = run_cli("status", "--repo", str(repo), "--offline")
    assert typo.code == 2 and "components.nosuch: no component of that name" in typo.stderr


def test_from_names_flux_only(repo: Path) -> None:
    outcome = sync(repo, "--from", "cloud-init", "--component", "cilium")
    assert outcome.code == 2 and "--from names Flux's source" in outcome.stderr


def test_an_unreadable_file_of_another_component_does_not_block_a_flux_bump(repo: Path) -> None:
    (repo / CILIUM_VALUES).write_text(
        'catalystBlueprint:\n  upstream: { chart: cilium, version: "1.16.5"\n'
    )
    git(repo, "commit", "-qam", "broken values")
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stderr
    # Reported as drift of the component it leaves unproven; not fixed, not fatal.
    assert f"{CILIUM_VALUES}:3: invalid YAML" in outcome.stdout
    assert "download/v2.5.1/" in (repo / fleet.CLOUDINIT).read_text()
    moved = run_cli("to", "1.16.6", "--component", "cilium", "--repo", str(repo), "--offline")
    assert moved.code == 2 and f"{CILIUM_VALUES}:3" in moved.stderr


def test_flux_keeps_its_name_when_another_wrapper_would_take_it(repo: Path) -> None:
    chart = repo / "platform/flux-ui/chart"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: flux\nversion: 0.1.0\ndependencies:\n"
        '  - name: weave-gitops\n    version: "4.0.36"\n    repository: oci://ghcr.io/weaveworks/charts\n'
    )
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    names = [c["name"] for c in json.loads(status.stdout)["components"]]
    assert names[0] == "flux" and "flux/weave-gitops" in names


def test_a_malformed_dependency_entry_is_named_not_skipped(repo: Path) -> None:
    edit(repo, CILIUM_CHART, "  - name: cilium\n", "  - alias: cni\n")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1  # a problem in its own section: that chart's component unproven
    assert f"  {CILIUM_CHART}:7: a dependency must be a mapping with a 'name'" in outcome.stdout


def test_to_component_refuses_a_tag_list_of_tens_of_megabytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_server: HelmServer
) -> None:
    # 30 pages of ~1 MB each: every page is under the page cap, the whole list is not.
    page = [f"2.27.{n}-build.{n:040d}" for n in range(16_000)]
    registry = Registry(pages={"charts/common": [page] * 30})
    with serve_registry(registry):
        monkeypatch.setenv(PLAIN_HTTP_ENV, registry.host)
        repo = wrappers_fleet(tmp_path / "repo", common_repo=f"oci://{registry.host}/charts")
        before = snapshot(repo)
        outcome = to(repo, helm_server, "2.27.1", "--component", "common", "--no-git")
    assert outcome.code == 3, outcome.stderr
    url = f"http://{registry.host}/v2/charts/common/tags/list"
    said = outcome.stderr.strip().splitlines()[-1]
    assert said.endswith(
        f"{url}: tag list larger than {MAX_TAG_LIST_BYTES} bytes over all pages; "
        "refusing it (is this the chart's repository?)"
    )
    # Reading stopped at the cap: 9 of the 30 pages (plus the unauthenticated first try).
    assert len(registry.tag_requests()) == 1 + 9
    assert snapshot(repo) == before


def test_an_umbrellas_releases_are_judged_once_for_every_component(repo: Path) -> None:
    """Every component tracks the umbrella: its releases' rows (and a wrong one's violation)
    are judged once and shared, with the same reports as judging each component alone."""
    from fluxbump.config import load_config
    from fluxbump.gate.invariants import Judged, combine, evaluate
    from fluxbump.scan.discover import survey

    edit(repo, f"clusters/{CLUSTERS[0]}/{UMBRELLA_RELEASE}", 'version: "1.1.1"', 'version: "1.0.9"')
    found = survey(repo, load_config(repo))
    discoveries = [found.discovery(c) for c in found.components]
    judged = Judged()
    shared = [evaluate(d, None, judged) for d in discoveries]
    alone = [evaluate(d, None) for d in discoveries]
    assert [(r.rows, r.violations) for r in shared] == [(r.rows, r.violations) for r in alone]
    umbrella = [[row for row in r.rows if row.site.file.endswith(UMBRELLA_RELEASE)] for r in shared]
    assert len(umbrella) == 4 and all(len(rows) == len(CLUSTERS) for rows in umbrella)
    assert all(a is b for rows in umbrella[1:] for a, b in zip(umbrella[0], rows, strict=True))
    assert sum("1.0.9" in v.message for v in combine(shared).violations) == 1
    assert (combine(shared).rows, combine(shared).violations) == (
        combine(alone).rows,
        combine(alone).violations,
    )
    again = survey(repo, load_config(repo))  # another survey's sites are judged afresh
    fresh = evaluate(again.discovery(again.components[0]), None, judged).rows
    fresh = [row for row in fresh if row.site.file.endswith(UMBRELLA_RELEASE)]
    assert fresh == umbrella[0] and not any(a is b for a, b in zip(fresh, umbrella[0], strict=True))
