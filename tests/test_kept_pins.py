"""Pins kept on purpose: ``keep:`` in .fluxbump.yaml. A NixOS host keeps the previous
release's install.yaml as a transition step; an archived cluster stays at its last release.

End to end through the CLI in git repositories in ``tmp_path``; ``--offline`` uses the
bundled Helm index snapshot (2.4.0 and 2.5.1 are in it).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, init_git, make_fleet, snapshot, write_repo
from tests.support.wrappers import (
    CILIUM_BLUEPRINT,
    CILIUM_CHART,
    CILIUM_RELEASE,
    CLUSTERS,
    wrappers_fleet,
)

DATA = Path(__file__).parent / "data"
NIXOS = "nixos/configuration.nix"
NIXOS_TEXT = (DATA / NIXOS).read_text("utf-8")  # installs v2.9.2, v2.8.8 to migrate through
KEEP_TRANSITION = """\
keep:
  - file: nixos/*.nix
    value: v2.8.8
    reason: transition release the image APIs are migrated through
"""
# The same host a release back, where the index has a chart of the next release (2.5.1).
OLDER_NIXOS = NIXOS_TEXT.replace("v2.8.8", "v2.3.0").replace("v2.9.2", "v2.4.0")
KEEP_OLDER = KEEP_TRANSITION.replace("v2.8.8", "v2.3.0")
OMANTEL = "clusters/omantel.omani.works/bootstrap-kit/03-flux.yaml"
MUSCAT = "clusters/muscat.omani.works/bootstrap-kit/03-flux.yaml"
OMANTEL_UMBRELLA = "clusters/omantel.omani.works/bootstrap-kit/13-bp-catalyst-platform.yaml"
UMBRELLA_CHART = "products/catalyst/chart/Chart.yaml"


def nixos_repo(tmp_path: Path, text: str = NIXOS_TEXT, keep: str = KEEP_TRANSITION) -> Path:
    return write_repo(tmp_path / "repo", {NIXOS: text, ".fluxbump.yaml": keep})


def test_status_lists_a_kept_pin_marked_kept_with_its_reason(tmp_path: Path) -> None:
    # The transition install.yaml was a violation forever: the only escape was excluding the
    # whole file, which also hid the release the host installs.
    repo = nixos_repo(tmp_path)
    status = run_cli("status", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stdout + status.stderr
    (kept,) = [line for line in status.stdout.splitlines() if f"{NIXOS}:8 " in line]
    assert kept.split()[-11:-8] == ["v2.8.8", "v2.8.8", "kept:"]
    assert kept.endswith("kept: transition release the image APIs are migrated through")
    lines = status.stdout.splitlines()
    assert any(f"{NIXOS}:12 " in line and line.endswith(" ok") for line in lines)


def test_status_json_marks_only_the_kept_site(tmp_path: Path) -> None:
    repo = nixos_repo(tmp_path)
    status = run_cli("status", "--offline", "--json", "--repo", str(repo))
    assert status.code == 0, status.stdout + status.stderr
    sites = json.loads(status.stdout)["sites"]
    assert sorted((s["line"], s["value"], s["ok"], s.get("kept")) for s in sites) == [
        (8, "v2.8.8", True, "transition release the image APIs are migrated through"),
        (12, "v2.9.2", True, None),
        (24, "v2.9.2", True, None),
    ]


def test_check_passes_with_the_transition_pin_kept_and_still_fails_on_the_others(
    tmp_path: Path,
) -> None:
    repo = nixos_repo(tmp_path)
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    assert check.stdout == (
        "check: consistent — 2 pin-sites agree; 1 kept on purpose ('keep' in .fluxbump.yaml; "
        "'status' lists them)\n"
    )
    # The CLI image is not kept: it still has to agree with the installed release.
    drifted = NIXOS_TEXT.replace("flux-cli:v2.9.2", "flux-cli:v2.9.1")
    other = nixos_repo(tmp_path / "other", drifted)
    failed = run_cli("check", "--offline", "--repo", str(other))
    assert failed.code == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith(f"{NIXOS}:24: fluxcd/flux-cli image pins Flux v2.9.1")


def test_to_leaves_the_kept_pin_byte_identical_and_moves_the_rest(tmp_path: Path) -> None:
    repo = nixos_repo(tmp_path, OLDER_NIXOS, KEEP_OLDER)
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    moved_pins = OLDER_NIXOS.replace("download/v2.4.0", "download/v2.5.1")
    assert (repo / NIXOS).read_text("utf-8") == moved_pins.replace(":v2.4.0", ":v2.5.1")
    assert "releases/download/v2.3.0/install.yaml" in (repo / NIXOS).read_text("utf-8")
    said = [line for line in moved.stdout.splitlines() if line.startswith("kept")]
    assert said == [
        f"kept, not moved ('keep' in .fluxbump.yaml): {NIXOS}:8 v2.3.0 (transition release "
        "the image APIs are migrated through)"
    ]
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_to_moves_every_cluster_but_the_archived_one(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    (repo / ".fluxbump.yaml").write_text(
        "keep:\n  - file: clusters/omantel.omani.works/**\n    value: 1.1.1\n"
        "    reason: archived, stays at its last release\n",
        "utf-8",
    )
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[OMANTEL] == before[OMANTEL]
    assert b"version: 1.1.2" in after[MUSCAT] and b"version: 1.1.1" in before[MUSCAT]
    assert "and 1 more" in moved.stdout  # its umbrella's release is kept too, said once
    assert "gate: passed: 16 pin-sites consistent, 2 kept on purpose" in moved.stdout
    status = json.loads(run_cli("status", "--offline", "--json", "--repo", str(repo)).stdout)
    kept = {(s["file"], s["value"]) for s in status["sites"] if "kept" in s}
    assert (OMANTEL, "1.1.1") in kept and status["ok"] is True


def test_keeping_the_only_cloudinit_install_is_refused_with_nothing_written(
    tmp_path: Path,
) -> None:
    # Kept, the install would stay at v2.4.0 while 'to' moved the chart to 2.5.1's: the
    # incident (a chart of one release over an install of another). Refused as configuration.
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True)
    (repo / ".fluxbump.yaml").write_text(
        "keep:\n  - file: infra/**\n    value: v2.4.0\n    reason: cloud-init stays\n", "utf-8"
    )
    before = snapshot(repo)
    said = (
        "error: .fluxbump.yaml:2: keep entry 'infra/**' v2.4.0 would set aside "
        "infra/hetzner/cloudinit-control-plane.tftpl:16 (cloud-init install v2.4.0), the last "
        "pin saying which flux release is installed"
    )
    for command in (("check",), ("status",), ("to", "2.5.1")):
        refused = run_cli(*command, "--offline", "-q", "--repo", str(repo))
        assert refused.code == 2, (command, refused.stdout + refused.stderr)
        assert refused.stderr.startswith(said), refused.stderr
    assert snapshot(repo) == before


def test_a_keep_entry_that_matches_no_pin_is_warned_about(tmp_path: Path) -> None:
    # After the transition is over (v2.8.8 gone), the entry would keep the next pin that
    # happens to hold v2.8.8 in silence.
    repo = nixos_repo(tmp_path, NIXOS_TEXT.replace("v2.8.8", "v2.9.2"))
    check = run_cli("check", "--offline", "--json", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    warning = {
        "file": ".fluxbump.yaml",
        "line": 2,
        "message": "keep entry 'nixos/*.nix' v2.8.8 matches no pin fluxbump moves (the pin "
        "moved, or is gone, or is a chart's own version): remove the entry",
    }
    assert warning in json.loads(check.stdout)["warnings"]
    text = run_cli("check", "--offline", "--repo", str(repo))
    assert f".fluxbump.yaml:2: {warning['message']}" in text.stderr


def test_a_keep_entry_without_a_reason_exits_2_at_its_line(tmp_path: Path) -> None:
    repo = nixos_repo(
        tmp_path, keep="exclude: []\nkeep:\n  - file: nixos/*.nix\n    value: v2.8.8\n"
    )
    before = snapshot(repo)
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 2, check.stdout + check.stderr
    assert check.stderr == (
        "error: .fluxbump.yaml:2: keep entry 1: 'keep' must be a list of {file: GLOB, "
        "value: VERSION, reason: TEXT} and optionally component: NAME (each a quoted string)\n"
    )
    assert snapshot(repo) == before


def cilium_at_flux_version(tmp_path: Path) -> Path:
    """The fleet of every wrapper with bp-cilium at 1.1.1, bp-flux's version: in each
    cluster, two components' HelmReleases hold one value."""
    repo = wrappers_fleet(tmp_path / "repo", git=False)
    releases = [f"clusters/{c}/{CILIUM_RELEASE}" for c in CLUSTERS]
    for rel in (CILIUM_CHART, CILIUM_BLUEPRINT, UMBRELLA_CHART, *releases):
        (repo / rel).write_text((repo / rel).read_text("utf-8").replace("1.0.3", "1.1.1"))
    return repo


def keep_omantel(repo: Path, extra: str = "") -> None:
    (repo / ".fluxbump.yaml").write_text(
        "keep:\n  - file: clusters/omantel.omani.works/**\n    value: 1.1.1\n"
        f"    reason: archived, stays at its last release\n{extra}",
        "utf-8",
    )
    init_git(repo)


def test_an_entry_matching_two_components_pins_exits_2_asking_for_component(
    tmp_path: Path,
) -> None:
    # Matched by value alone, the entry meant for the archived cluster's Flux also set aside
    # its bp-cilium release: a cilium bump would have left it behind without a word.
    repo = cilium_at_flux_version(tmp_path)
    keep_omantel(repo)
    before = snapshot(repo)
    said = (
        "error: .fluxbump.yaml:2: keep entry 'clusters/omantel.omani.works/**' 1.1.1 matches "
        f"pins of more than one component ({OMANTEL}:31 HelmRelease of flux, "
        f"clusters/omantel.omani.works/{CILIUM_RELEASE}:13 HelmRelease of cilium): add "
        "'component: NAME' to the entry to say whose pin it keeps\n"
    )
    for command in (("check",), ("status",), ("to", "2.5.1", "--no-git")):
        refused = run_cli(*command, "--offline", "-q", "--repo", str(repo))
        assert refused.code == 2, (command, refused.stdout + refused.stderr)
        assert refused.stderr == said, refused.stderr
    assert snapshot(repo) == before


def test_component_keeps_only_that_components_pins(tmp_path: Path) -> None:
    repo = cilium_at_flux_version(tmp_path)
    keep_omantel(repo, "    component: flux\n")
    status = json.loads(run_cli("status", "--offline", "--json", "--repo", str(repo)).stdout)
    kept = sorted((s["file"], s["line"]) for s in status["sites"] if "kept" in s)
    # bp-flux's release and the umbrella's (every component's pin, kept in each); not cilium's
    assert kept == [(OMANTEL, 31), (OMANTEL_UMBRELLA, 18)]
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert (after[OMANTEL], after[OMANTEL_UMBRELLA]) == (before[OMANTEL], before[OMANTEL_UMBRELLA])
    assert b"version: 1.1.2" in after[MUSCAT]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    assert "2 kept on purpose" in check.stdout


REDIS = "clusters/omantel.omani.works/apps/redis.yaml"
REDIS_TEXT = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: redis
  namespace: cache
spec:
  chart:
    spec:
      chart: redis
      version: 17.0.0
      sourceRef:
        kind: HelmRepository
        name: bitnami
"""


def test_an_entry_for_a_chart_no_component_tracks_says_so(tmp_path: Path) -> None:
    # It read as stale ('the pin moved, or is gone'): the pin is right there, but fluxbump
    # never checks or moves redis, so there is nothing to keep.
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / REDIS).parent.mkdir(parents=True)
    (repo / REDIS).write_text(REDIS_TEXT, "utf-8")
    entry = "  - file: clusters/omantel.omani.works/apps/*\n    value: 17.0.0\n    reason: pinned\n"
    (repo / ".fluxbump.yaml").write_text(
        f"keep:\n{entry}{entry.replace('17.0.0', '17.1.0')}    component: redis\n"
        f"{entry.replace('17.0.0', '2.4.0')}    component: fluxx\n",
        "utf-8",
    )
    init_git(repo)
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    head = "keep entry 'clusters/omantel.omani.works/apps/*'"
    redis = (
        ": chart redis is not one fluxbump bumps (no component tracks it: its pins are neither "
        "checked nor moved, so there is nothing to keep; components: flux): remove the entry"
    )
    said = [
        line for line in check.stderr.splitlines() if line.startswith("warning: .fluxbump.yaml")
    ]
    assert said == [
        f"warning: .fluxbump.yaml:2: {head} 17.0.0{redis}",
        f"warning: .fluxbump.yaml:5: {head} 17.1.0{redis}",
        f"warning: .fluxbump.yaml:9: {head} 2.4.0: component 'fluxx' is none of this repository's "
        "(flux): correct the name or remove the entry",
    ]


def test_one_component_is_checked_alone_beside_entries_for_others(tmp_path: Path) -> None:
    # ``--component`` narrows the scan to that component's charts; keep entries (one naming
    # its component, one naming none) are judged there by that component's pins alone.
    repo = cilium_at_flux_version(tmp_path)
    keep_omantel(repo, "    component: flux\n  - file: nixos/*\n    value: 9.9.9\n    reason: x\n")
    alone = run_cli("status", "--offline", "--json", "--component", "flux", "--repo", str(repo))
    assert alone.code == 0, alone.stdout + alone.stderr
    kept = sorted((s["file"], s["line"]) for s in json.loads(alone.stdout)["sites"] if "kept" in s)
    assert kept == [(OMANTEL, 31), (OMANTEL_UMBRELLA, 18)]
    cilium = run_cli("check", "--offline", "--component", "cilium", "--repo", str(repo))
    assert cilium.code == 0, cilium.stdout + cilium.stderr
    assert "kept on purpose" not in cilium.stdout


def test_an_entry_naming_no_component_is_judged_by_the_asked_components_pins(
    tmp_path: Path,
) -> None:
    # The whole repository refuses the entry (it matches flux's and cilium's pins); asked for
    # flux alone, only flux's pins are read, and the entry keeps those.
    repo = cilium_at_flux_version(tmp_path)
    keep_omantel(repo)
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 2
    alone = run_cli("status", "--offline", "--json", "--component", "flux", "--repo", str(repo))
    assert alone.code == 0, alone.stdout + alone.stderr
    kept = sorted((s["file"], s["line"]) for s in json.loads(alone.stdout)["sites"] if "kept" in s)
    assert kept == [(OMANTEL, 31), (OMANTEL_UMBRELLA, 18)]
