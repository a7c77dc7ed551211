"""flux-operator's distribution artifact at a release's tag (a FluxInstance's
``distribution.artifact: oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v0.58.1``,
as Diaoul/home-ops's flux-instance HelmRelease values pin it): a pin of flux-operator's
release, moved with its charts and compared with them. ``to --component flux-operator`` left it
at the old release (the operator then installs the Flux distributions the old artifact lists)
and ``check`` never saw a stale one. End to end through the CLI on real git repositories.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, snapshot

OCI = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {chart}
  namespace: flux-system
spec:
  interval: 5m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 0.58.1
  url: oci://ghcr.io/controlplaneio-fluxcd/charts/{chart}
"""
ARTIFACT = "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
INSTANCE = f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
spec:
  chartRef:
    kind: OCIRepository
    name: flux-instance
  interval: 1h
  values:
    instance:
      distribution:
        # artifact: {ARTIFACT}:v0.40.0 (a comment pins nothing)
        artifact: {ARTIFACT}:v0.58.1
        version: 2.x
"""
APP = "kubernetes/apps/flux-system/{}/app/{}.yaml"
RELEASE = APP.format("flux-instance", "helmrelease")


def repository(tmp_path: Path, instance: str) -> Path:
    repo = tmp_path / "repo"
    files = {
        APP.format(chart, "ocirepository"): OCI.format(chart=chart)
        for chart in ("flux-operator", "flux-instance")
    }
    for rel, text in {**files, RELEASE: instance}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def test_the_distribution_artifact_moves_with_flux_operator_s_charts(tmp_path: Path) -> None:
    repo = repository(tmp_path, INSTANCE)
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0
    before = snapshot(repo)
    args = ("to", "0.59.0", "--component", "flux-operator", "--offline", "--no-git")
    outcome = run_cli(*args, "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert after.pop(RELEASE) == INSTANCE.replace(":v0.58.1", ":v0.59.0").encode()
    for chart in ("flux-operator", "flux-instance"):
        rel = APP.format(chart, "ocirepository")
        assert after.pop(rel) == before.pop(rel).replace(b"tag: 0.58.1", b"tag: 0.59.0")
    assert after == {rel: data for rel, data in before.items() if rel != RELEASE}


def test_a_stale_distribution_artifact_is_a_violation_at_its_line(tmp_path: Path) -> None:
    # as mirceanton/home-ops: the charts at 0.58.1, the artifact left at v0.46.0
    repo = repository(tmp_path, INSTANCE.replace(":v0.58.1", ":v0.46.0"))
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.splitlines()[0] == (
        f"{RELEASE}:14: distribution artifact pins flux-operator v0.46.0, OCIRepository "
        f"flux-system/flux-operator pins 0.58.1 ({APP.format('flux-operator', 'ocirepository')}:12) — "
        "make them agree: fluxbump to <version> --component flux-operator"
    )


def test_an_artifact_at_latest_or_by_digest_pins_no_release(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    for tail in (":latest", f":v0.46.0@{digest}"):
        repo = repository(tmp_path / tail[1:4], INSTANCE.replace(":v0.58.1", tail))
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert "artifact" not in outcome.stdout
