"""HelmRelease versions set through Flux post-build substitution (`version: ${VAR}`)."""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, edit, make_fleet
from tests.support.helm_server import HelmServer
from tests.support.overlays import KS, RELEASE
from tests.support.overlays import SUBSTITUTE as KUSTOMIZATION


def substituted_fleet(root: Path, *, with_kustomization: bool = True) -> Path:
    repo = make_fleet(root, INCIDENT)
    edit(repo, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION}\n")
    if with_kustomization:
        (repo / KS).parent.mkdir(parents=True)
        (repo / KS).write_text(KUSTOMIZATION)
    return repo


def test_the_variable_is_the_pin_and_to_moves_it(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = substituted_fleet(tmp_path / "repo")
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert (
        f"{KS}:12: substitution variable (flux-system/bootstrap-kit) 1.1.1 -> 1.1.2"
        in outcome.stdout
    )
    assert (
        '      BP_FLUX_VERSION: "1.1.2"   # the bp-flux chart this cluster runs\n'
        in (repo / KS).read_text()
    )
    assert "version: ${BP_FLUX_VERSION}\n" in (repo / RELEASE).read_text()
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0


def test_a_stale_variable_is_a_violation(tmp_path: Path, helm_server: HelmServer) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT, flux_chart="2.14.1", wrapper_version="1.1.2",
                      umbrella_pin="1.1.2", release_pin="1.1.2")  # fmt: skip
    edit(repo, RELEASE, "      version: 1.1.2\n", "      version: ${BP_FLUX_VERSION}\n")
    (repo / KS).parent.mkdir(parents=True)
    (repo / KS).write_text(KUSTOMIZATION)
    outcome = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 1
    assert (
        f"{KS}:12: flux-system/bootstrap-kit deploys bp-flux 1.1.1, chart is 1.1.2"
        in outcome.stdout
    )


def test_a_variable_set_outside_the_repo_is_not_reported_ok(tmp_path: Path) -> None:
    repo = substituted_fleet(tmp_path / "repo", with_kustomization=False)
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    row = next(
        x
        for x in outcome.stdout.splitlines()
        if x.split()[2:3] == [f"{RELEASE}:31"] or f"{RELEASE}:31" in x
    )
    assert row.rstrip().endswith("??") and "set outside this repo" in row
    document = json.loads(run_cli("status", "--repo", str(repo), "--offline", "--json").stdout)
    site = next(s for s in document["sites"] if s["file"] == RELEASE)
    assert site["proven"] is False
    consistent = make_fleet(tmp_path / "consistent")
    edit(consistent, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION}\n")
    check = run_cli("check", "--repo", str(consistent), "--offline")
    assert check.code == 0  # nothing contradicts, but the summary does not count it as agreeing
    assert check.stdout.splitlines()[-1] == (
        "check: consistent — 17 pin-sites agree, 1 cannot be proven from this repo "
        "(marked ?? by 'status')"
    )


def test_the_post_write_resurvey_equals_a_fresh_walk(tmp_path: Path) -> None:
    """The gate re-reads only the written files; what it sees must be what a walk sees."""
    from fluxbump.config import Config
    from fluxbump.scan.discover import resurvey, survey

    repo = substituted_fleet(tmp_path / "repo")
    before = survey(repo, Config())
    written = [KS, fleet.UMBRELLA_CHART, f"clusters/muscat.omani.works/{fleet.FLUX_RELEASE_FILE}"]
    edit(repo, KS, '"1.1.1"', '"1.1.2"')
    edit(repo, fleet.UMBRELLA_CHART, "    version: 1.1.1\n", "    version: 1.0.9\n")
    edit(repo, written[2], "      version: 1.1.1\n", "      version: 1.1.3\n")
    after, fresh = resurvey(before, written), survey(repo, Config())
    assert after.releases == fresh.releases and after.releases != before.releases
    assert after.substitutions == fresh.substitutions
    assert {n: c.dependencies for n, c in after.charts.items()} == {
        n: c.dependencies for n, c in fresh.charts.items()
    }
    assert {rel: s.raw for rel, s in after.sources.items() if rel in written} == {
        rel: (repo / rel).read_bytes() for rel in written
    }


def test_a_default_no_kustomization_overrides_is_the_pin_and_to_moves_it(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    for operator in (":=", ":-"):
        repo = make_fleet(tmp_path / operator, INCIDENT)
        placeholder = "${BP_FLUX_VERSION" + operator
        edit(repo, RELEASE, "      version: 1.1.1\n", f"      version: {placeholder}1.1.1}}\n")
        outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
        assert outcome.code == 0, outcome.stderr
        assert f"{RELEASE}:31: HelmRelease (flux-system/bp-flux) {placeholder}1.1.1}} -> " in (
            outcome.stdout
        )
        # Plain it was, plain it stays: only the default's digits change.
        assert f"      version: {placeholder}1.1.2}}\n" in (repo / RELEASE).read_text()
        check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
        assert check.code == 0, check.stdout


def test_a_stale_default_is_a_violation(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    edit(repo, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION:-1.1.0}\n")
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1
    assert (
        f"{RELEASE}:31: flux-system/bp-flux deploys bp-flux 1.1.0 (the default of "
        "${BP_FLUX_VERSION}, which no Kustomization here sets), chart is 1.1.1"
    ) in outcome.stdout


def test_a_default_behind_a_kustomization_that_sets_the_variable_is_not_the_pin(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = substituted_fleet(tmp_path / "repo")
    edit(repo, RELEASE, "${BP_FLUX_VERSION}", "${BP_FLUX_VERSION:=0.0.1}")
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert 'BP_FLUX_VERSION: "1.1.2"' in (repo / KS).read_text()
    assert "version: ${BP_FLUX_VERSION:=0.0.1}\n" in (repo / RELEASE).read_text()


def test_a_range_as_the_default_is_checked_as_a_range_and_kept(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", INCIDENT)
    edit(repo, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION:=~1.1}\n")
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert "version: ${BP_FLUX_VERSION:=~1.1}\n" in (repo / RELEASE).read_text()
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0
    edit(repo, RELEASE, ":=~1.1}", ":=~1.0}")
    stale = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert stale.code == 1 and f"{RELEASE}:31:" in stale.stdout


def test_a_variable_set_for_one_cluster_does_not_prove_another_clusters_default(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """omantel's Kustomization (spec.path: its bootstrap-kit) sets the variable; muscat's
    HelmRelease uses the same variable with a default nothing sets for it: that default is
    muscat's pin, moved by the bump; omantel's setter is moved too."""
    repo = substituted_fleet(tmp_path / "repo")
    muscat = f"clusters/muscat.omani.works/{fleet.FLUX_RELEASE_FILE}"
    edit(repo, muscat, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION:=1.1.1}\n")
    outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert "version: ${BP_FLUX_VERSION:=1.1.2}\n" in (repo / muscat).read_text()
    assert 'BP_FLUX_VERSION: "1.1.2"' in (repo / KS).read_text()
    assert "version: ${BP_FLUX_VERSION}\n" in (repo / RELEASE).read_text()
    assert run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url).code == 0


def test_a_default_a_kustomization_may_take_from_a_configmap_is_not_the_pin(
    tmp_path: Path,
) -> None:
    """A Kustomization rendering the release substitutes from a ConfigMap, which may set the
    variable: its default may not be what deploys, so it is unproven (the Kustomization's
    entry named), neither compared nor moved."""
    repo = make_fleet(tmp_path / "repo")
    edit(repo, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION:-1.1.0}\n")
    (repo / KS).parent.mkdir(parents=True)
    (repo / KS).write_text(KUSTOMIZATION)
    edit(repo, KS, '      BP_FLUX_VERSION: "1.1.1"   # the bp-flux chart this cluster runs\n', "")
    edit(repo, KS, "  postBuild:\n", "  postBuild:\n    substituteFrom:\n"
         "      - kind: Secret\n        name: cluster-secrets\n")  # fmt: skip
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr  # (1 before: the stale default)
    said = f"may be set by Secret cluster-secrets ({KS}:11), which Kustomization flux-system/"
    assert f"{RELEASE}:31 (${{BP_FLUX_VERSION:-1.1.0}} {said}" in check.stdout, check.stdout
    before = (repo / RELEASE).read_bytes()
    bump = run_cli("to", "2.4.0", "--repo", str(repo), "--offline", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert (repo / RELEASE).read_bytes() == before
