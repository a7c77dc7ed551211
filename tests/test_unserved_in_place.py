"""Flux objects the pinned release does not serve, where the pins name it more than once or
already name the release ``to`` is asked for.

Without a wrapper chart every cluster has its own HelmRelease of flux2: ``check`` judged the
repository's objects only against a single pin, so with two clusters it said "consistent"
over a Kustomization the release no longer serves. And ``check`` says "'fluxbump to' moves
it", but ``to`` at the release already pinned said "nothing to do".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import git, snapshot
from tests.support.layouts import helmrelease, write_repo

APPS = "clusters/c0/apps.yaml"
KUSTOMIZATION = """apiVersion: kustomize.toolkit.fluxcd.io/v1beta1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
UNSERVED = (
    f"{APPS}:1: Kustomization flux-system/apps: apiVersion kustomize.toolkit.fluxcd.io/v1beta1 "
    "is not served by Flux 2.7.2; 'fluxbump to' moves it to kustomize.toolkit.fluxcd.io/v1"
)


def _clusters(root: Path, count: int, *, chart: str = "2.17.1") -> Path:
    """``count`` clusters, each deploying flux2 ``chart`` (Flux 2.7.2) with its HelmRelease;
    the first also applies a Kustomization at v1beta1, which Flux 2.7 does not serve."""
    files = {f"clusters/c{i}/flux.yaml": helmrelease("flux", "flux2", chart) for i in range(count)}
    return write_repo(root, {**files, APPS: KUSTOMIZATION})


def test_check_judges_the_objects_when_every_cluster_pins_the_same_chart(tmp_path: Path) -> None:
    for count in (1, 2, 3):
        repo = _clusters(tmp_path / str(count), count)
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 1, (count, outcome.stdout)
        assert UNSERVED in outcome.stdout.splitlines(), (count, outcome.stdout)


def test_check_of_disagreeing_clusters_names_the_disagreement(tmp_path: Path) -> None:
    """No one release to judge the objects by: the pins' disagreement is the violation."""
    repo = _clusters(tmp_path / "repo", 2)
    (repo / "clusters/c1/flux.yaml").write_text(helmrelease("flux", "flux2", "2.16.4"), "utf-8")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1
    assert any(line.startswith("clusters/c1/flux.yaml:") for line in outcome.stdout.splitlines())


def test_to_the_pinned_release_moves_the_objects_it_does_not_serve(tmp_path: Path) -> None:
    repo = _clusters(tmp_path / "repo", 2)
    before = snapshot(repo)
    outcome = run_cli("to", "2.7.2", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert outcome.stdout.splitlines()[:3] == [
        "Flux v2.7.2 → flux2 chart 2.17.1 (already pinned)",
        "plan: 1 edit(s) in 1 file(s)",
        f"  {APPS}:1: Flux apiVersion (Kustomization flux-system/apps) "
        "kustomize.toolkit.fluxcd.io/v1beta1 -> kustomize.toolkit.fluxcd.io/v1",
    ]
    after = snapshot(repo)
    assert [rel for rel in before if after[rel] != before[rel]] == [APPS]
    assert after[APPS] == before[APPS].replace(b"/v1beta1\n", b"/v1\n", 1)
    assert git(repo, "show", "--name-only", "--format=") == APPS
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_to_the_pinned_release_with_every_object_served_does_nothing(tmp_path: Path) -> None:
    repo = _clusters(tmp_path / "repo", 2)
    (repo / APPS).write_text(KUSTOMIZATION.replace("/v1beta1", "/v1"), "utf-8")
    git(repo, "commit", "-qam", "served")
    before = snapshot(repo)
    outcome = run_cli("to", "2.7.2", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "already at v2.7.2; nothing to do" in outcome.stdout
    assert snapshot(repo) == before and git(repo, "branch", "--show-current") == "main"


INSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
"""
V1BETA2 = KUSTOMIZATION.replace("/v1beta1", "/v1beta2")


def _ranged(root: Path, instances: int = 2) -> Path:
    """The Flux Operator's d2 layout: each cluster's FluxInstance takes the newest 2.x (no
    pin names a release), and one Kustomization is still at v1beta2, which 2.8 stops serving
    (the bundled index's newest flux2 chart, 2.18.3, carries Flux 2.8.5)."""
    files = {f"clusters/c{i}/flux-instance.yaml": INSTANCE for i in range(instances)}
    return write_repo(root, {**files, APPS: V1BETA2})


def test_check_judges_the_objects_by_the_newest_release_a_flux_instance_range_admits(
    tmp_path: Path,
) -> None:
    repo = _ranged(tmp_path / "repo")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert (
        f"{APPS}:1: Kustomization flux-system/apps: apiVersion kustomize.toolkit.fluxcd.io/v1beta2 "
        "is not served by Flux 2.8.5; 'fluxbump to' moves it to kustomize.toolkit.fluxcd.io/v1"
    ) in outcome.stdout.splitlines()
    assert (
        "warning: Flux 2.8.5: the newest release the FluxInstance range 2.x "
        "(clusters/c0/flux-instance.yaml:8) admits in the Helm index; the operator installs "
        "the newest release its range admits"
    ) in outcome.stderr.splitlines()


def test_a_range_that_admits_no_release_of_the_index_judges_nothing(tmp_path: Path) -> None:
    repo = _ranged(tmp_path / "repo", 1)
    (repo / "clusters/c0/flux-instance.yaml").write_text(INSTANCE.replace("2.x", "9.x"), "utf-8")
    outcome = run_cli("check", "--offline", "--json", "--repo", str(repo))
    assert not any(v["file"] == APPS for v in json.loads(outcome.stdout)["violations"])


def test_to_moves_the_objects_the_release_a_range_admits_does_not_serve(tmp_path: Path) -> None:
    repo = _ranged(tmp_path / "repo")
    before = snapshot(repo)
    outcome = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    assert [rel for rel in before if after[rel] != before[rel]] == [APPS]
    assert after[APPS] == before[APPS].replace(b"/v1beta2\n", b"/v1\n", 1)
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_to_below_what_a_flux_instance_range_runs_is_refused_even_allowing_a_downgrade(
    tmp_path: Path,
) -> None:
    """Only a FluxInstance range says what the cluster runs (the newest 2.x: 2.8.5), and
    ``.tool-versions`` pins the CLI at 2.5.1: ``to 2.4.0 --allow-downgrade`` moved the CLI to
    2.4.0 (exit 0), beside clusters that keep running 2.8.5."""
    repo = _ranged(tmp_path / "repo", 1)
    (repo / APPS).write_text(KUSTOMIZATION.replace("/v1beta1", "/v1"), "utf-8")
    (repo / ".tool-versions").write_text("flux2 2.5.1\n", "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the CLI")
    before = snapshot(repo)
    for allowing in ((), ("--allow-downgrade",)):
        outcome = run_cli("to", "2.4.0", "--offline", "--no-git", *allowing, "--repo", str(repo))
        assert outcome.code == 2, outcome.stdout + outcome.stderr
        assert outcome.stderr.strip().splitlines()[-1] == (
            "error: Flux 2.4.0 is older than 2.8.5, the newest release the FluxInstance range "
            "2.x (clusters/c0/flux-instance.yaml:8) admits, which the operator installs: "
            "fluxbump never rewrites a range; write '2.4.0' there to run Flux 2.4.0; nothing "
            "written"
        )
        assert snapshot(repo) == before


def test_to_an_older_release_than_the_cli_pins_is_refused_where_no_pin_installs_one(
    tmp_path: Path,
) -> None:
    """No pin of the repository says what the cluster runs (a FluxInstance's version set
    outside it), and ``.tool-versions`` pins the CLI at 2.5.1: ``to 2.4.0`` moved that pin
    back (exit 0), as if nothing were installed."""
    unset = INSTANCE.replace('"2.x"', '"${FLUX_VERSION}"')
    repo = write_repo(tmp_path / "repo", {"clusters/c0/flux-instance.yaml": unset})
    (repo / APPS).write_text(KUSTOMIZATION.replace("/v1beta1", "/v1"), "utf-8")
    (repo / ".tool-versions").write_text("flux2 2.5.1\n", "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the CLI")
    before = snapshot(repo)
    outcome = run_cli("to", "2.4.0", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 4, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        "error: Flux 2.4.0 is older than 2.5.1, which .tool-versions:1 pins (no exact pin says "
        "which release is installed): refusing a downgrade (a downgrade can drop CRD versions "
        "the cluster has stored); --allow-downgrade overrides"
    )
    assert snapshot(repo) == before
    allowed = run_cli(
        "to", "2.4.0", "--offline", "--no-git", "--allow-downgrade", "--repo", str(repo)
    )
    assert allowed.code == 0, allowed.stdout + allowed.stderr
    assert (repo / ".tool-versions").read_text("utf-8") == "flux2 2.4.0\n"
