"""Chart.lock: Helm's digest reproduced on real locks, rewritten by `to`, checked by `check`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.lockdigest import go_time, hash_req
from fluxbump.scan.sites.chartlock import parse_lock, requirements
from fluxbump.scan.sources import source_of
from tests.support.cli_runner import run_cli, run_process
from tests.support.fixtures import INCIDENT, edit, git, init_git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

DATA = Path(__file__).resolve().parent / "data" / "chartlock"
PAIRS = sorted(p.name for p in DATA.iterdir() if p.is_dir())

FLUX_REPO = "https://fluxcd-community.github.io/helm-charts"
OCI_REPO = "oci://ghcr.io/openova/charts"
WRAPPER_LOCK = "platform/flux/chart/Chart.lock"
UMBRELLA_LOCK = "products/catalyst/chart/Chart.lock"


def _digest(go_json: str) -> str:
    """Helm's digest of a JSON text written out by hand (independent of fluxbump's code)."""
    return "sha256:" + hashlib.sha256(go_json.encode()).hexdigest()


def test_every_real_pair_is_in_the_data_set() -> None:
    assert len(PAIRS) >= 5


@pytest.mark.parametrize("pair", PAIRS)
def test_digest_equals_the_one_helm_wrote(pair: str) -> None:
    chart = source_of(f"{pair}/Chart.yaml", (DATA / pair / "Chart.yaml").read_bytes())
    lock = parse_lock(
        source_of(f"{pair}/Chart.lock", (DATA / pair / "Chart.lock").read_bytes()), "x"
    )
    assert lock.digest is not None
    written = lock.digest.value
    assert hash_req(requirements(chart), [e.data for e in lock.entries]) == written


def test_digest_covers_chart_fields_the_lock_does_not_hold() -> None:
    # Helm hashes Chart.yaml's condition/tags too: a lock must follow an edit of either.
    chart = source_of("Chart.yaml", (DATA / "bitnami-wordpress" / "Chart.yaml").read_bytes())
    lock = parse_lock(
        source_of("Chart.lock", (DATA / "bitnami-wordpress" / "Chart.lock").read_bytes()), "x"
    )
    required = requirements(chart)
    required[0]["condition"] = "other.enabled"
    assert lock.digest is not None
    assert hash_req(required, [e.data for e in lock.entries]) != lock.digest.value


def test_generated_is_written_as_go_formats_time() -> None:
    moment = datetime(2026, 2, 2, 2, 11, 19, 957757, tzinfo=timezone(timedelta(hours=1)))
    assert go_time(moment) == "2026-02-02T02:11:19.957757+01:00"
    assert (
        go_time(datetime(2025, 1, 27, 9, 57, 11, 574770, tzinfo=UTC))
        == "2025-01-27T09:57:11.57477Z"
    )
    assert go_time(
        datetime(2025, 1, 27, 9, 57, 11, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    ) == ("2025-01-27T09:57:11-05:30")


def _lock_text(entries: list[tuple[str, str, str]], digest: str, generated: str) -> str:
    """A Chart.lock laid out exactly as `helm dependency update` writes one."""
    lines = ["dependencies:"]
    for name, repository, version in entries:
        lines += [f"- name: {name}", f"  repository: {repository}", f"  version: {version}"]
    return "\n".join([*lines, f"digest: {digest}", f'generated: "{generated}"', ""])


def _wrapper_json(version: str) -> str:
    dep = f'{{"name":"flux2","version":"{version}","repository":"{FLUX_REPO}"}}'
    return f"[[{dep}],[{dep}]]"


def _umbrella_json(flux: str) -> str:
    deps = (
        f'{{"name":"bp-flux","version":"{flux}","repository":"{OCI_REPO}"}},'
        f'{{"name":"bp-cert-manager","version":"1.4.0","repository":"{OCI_REPO}"}}'
    )
    return f"[[{deps}],[{deps}]]"


def _locked_fleet(root: Path) -> Path:
    """The incident fleet with the two charts' locks as Helm wrote them for their pins."""
    repo = make_fleet(root, INCIDENT)
    wrapper = _lock_text(
        [("flux2", FLUX_REPO, "2.13.0")],
        _digest(_wrapper_json("2.13.0")),
        "2024-06-03T10:00:00.5+02:00",
    )
    umbrella = _lock_text(
        [("bp-flux", OCI_REPO, "1.1.1"), ("bp-cert-manager", OCI_REPO, "1.4.0")],
        _digest(_umbrella_json("1.1.1")),
        "2024-06-03T10:00:01.25Z",
    )
    (repo / WRAPPER_LOCK).write_text(wrapper)
    (repo / UMBRELLA_LOCK).write_text(umbrella)
    init_git(repo)
    return repo


def _generated(text: str) -> datetime:
    line = next(x for x in text.splitlines() if x.startswith("generated: "))
    return datetime.fromisoformat(line.split('"')[1].replace("Z", "+00:00"))


def test_to_rewrites_version_digest_and_generated_and_nothing_else(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    started = datetime.now(UTC).replace(microsecond=0)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    finished = datetime.now(UTC)
    assert outcome.code == 0, outcome.stderr
    after = snapshot(repo)
    wrapper = after[WRAPPER_LOCK].decode()
    umbrella = after[UMBRELLA_LOCK].decode()
    assert started <= _generated(wrapper) <= finished
    assert started <= _generated(umbrella) <= finished
    assert wrapper == _lock_text(
        [("flux2", FLUX_REPO, "2.14.1")],
        _digest(_wrapper_json("2.14.1")),
        go_time(_generated(wrapper)),
    )
    assert umbrella == _lock_text(
        [("bp-flux", OCI_REPO, "1.1.2"), ("bp-cert-manager", OCI_REPO, "1.4.0")],
        _digest(_umbrella_json("1.1.2")),
        go_time(_generated(umbrella)),
    )
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert WRAPPER_LOCK in committed and UMBRELLA_LOCK in committed
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def _generated_local(text: str) -> str:
    return text.split('generated: "')[1].split('"')[0]


def test_generated_keeps_the_local_offset_as_helm_does(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    # A POSIX TZ rule needs no tz database: five and a half hours east of UTC.
    outcome = run_process(
        "to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url,
        env={"TZ": "IST-5:30"},
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert _generated_local((repo / WRAPPER_LOCK).read_text()).endswith("+05:30")


def test_check_reports_a_lock_left_behind_by_a_hand_edit(tmp_path: Path) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    edit(repo, fleet.WRAPPER_CHART, '"2.13.0"', '"2.14.1"')
    edit(repo, fleet.WRAPPER_VALUES, '"2.13.0"', '"2.14.1"')
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert (
        f"{WRAPPER_LOCK}:4: locks flux2 2.13.0 but {fleet.WRAPPER_CHART} pins 2.14.1; "
        "run 'fluxbump sync' (or 'helm dependency update')"
    ) in outcome.stdout


def test_check_reports_a_digest_helm_would_refuse(tmp_path: Path) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    edit(
        repo,
        fleet.UMBRELLA_CHART,
        "version: 1.4.0\n",
        "version: 1.4.0\n    condition: certs.enabled\n",
    )
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert (
        f"{UMBRELLA_LOCK}:8: digest does not match the dependencies of {fleet.UMBRELLA_CHART}"
        in outcome.stdout
    )


def test_sync_realigns_a_lock_after_renovate_moved_the_pin(tmp_path: Path) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    edit(repo, fleet.WRAPPER_CHART, '"2.13.0"', '"2.14.1"')  # what Renovate's helmv3 manager does
    git(repo, "commit", "-qam", "renovate: flux2 2.14.1")
    outcome = run_cli("sync", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    wrapper = (repo / WRAPPER_LOCK).read_text()
    assert wrapper == _lock_text(
        [("flux2", FLUX_REPO, "2.14.1")],
        _digest(_wrapper_json("2.14.1")),
        _generated_local(wrapper),
    )
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_a_lock_listing_other_charts_blocks_the_bump(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = _locked_fleet(tmp_path / "repo")
    edit(repo, WRAPPER_LOCK, "- name: flux2", "- name: flux")
    git(repo, "commit", "-qam", "stale lock")
    before = snapshot(repo)
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 1
    assert (
        f"{WRAPPER_LOCK}:2: locks flux but {fleet.WRAPPER_CHART} depends on flux2; "
        "run 'helm dependency update' there first"
    ) in outcome.stderr
    assert snapshot(repo) == before
