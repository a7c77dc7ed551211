"""`fluxbump check` and `fluxbump status` on generated Catalyst-layout fleets."""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump import fleet
from tests.support.cli_runner import run_cli
from tests.support.fixtures import INCIDENT, edit, make_fleet, snapshot


def check(repo: Path, *extra: str) -> tuple[int, str, str]:
    outcome = run_cli("check", "--repo", str(repo), "--offline", *extra)
    return outcome.code, outcome.stdout, outcome.stderr


def test_consistent_fleet_passes(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path))
    assert code == 0
    assert "consistent" in out


def test_incident_state_is_a_violation_naming_both_versions(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, INCIDENT))
    assert code == 1
    line = next(x for x in out.splitlines() if "flux2 2.13.0" in x)
    assert line.startswith(f"{fleet.WRAPPER_CHART}:10:")
    assert "appVersion 2.3.0" in line and "v2.4.0" in line
    assert f"{fleet.CLOUDINIT}:16" in line


def test_values_mirror_drift_is_a_violation(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, mirror="2.13.0"))
    assert code == 1
    assert (
        f"{fleet.WRAPPER_VALUES}:4: values mirror of flux2 is 2.13.0, dependency pins 2.14.1" in out
    )


def test_drifted_blueprint_mirror_is_a_violation(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    edit(repo, fleet.WRAPPER_BLUEPRINT, "version: 1.1.1", "version: 1.1.0")
    code, out, _ = check(repo)
    assert code == 1
    assert f"{fleet.WRAPPER_BLUEPRINT}:7: Blueprint of bp-flux mirrors 1.1.0, chart is 1.1.1" in out


def test_helmrelease_left_behind_in_one_cluster_of_fifty(tmp_path: Path) -> None:
    clusters = tuple(f"c{i:02d}.example.net" for i in range(50))
    repo = make_fleet(tmp_path, clusters=clusters)
    straggler = f"clusters/c37.example.net/{fleet.FLUX_RELEASE_FILE}"
    edit(repo, straggler, "version: 1.1.1", "version: 1.1.0")
    code, out, _ = check(repo)
    assert code == 1
    violations = [x for x in out.splitlines() if "deploys" in x]
    assert violations == [
        f"{straggler}:31: flux-system/bp-flux deploys bp-flux 1.1.0, chart is 1.1.1"
    ]


def test_dependent_pinning_an_old_wrapper_version(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, umbrella_pin="1.1.0"))
    assert code == 1
    assert (
        f"{fleet.UMBRELLA_CHART}:9: bp-catalyst-platform pins bp-flux 1.1.0, bp-flux is 1.1.1"
        in out
    )


def test_constraint_that_no_longer_admits_the_wrapper(tmp_path: Path) -> None:
    code, out, _ = check(
        make_fleet(tmp_path, wrapper_version="2.0.0", umbrella_pin="2.0.0", release_pin="2.0.0")
    )
    assert code == 1
    assert (
        f"{fleet.UMBRELLA_BLUEPRINT}:10: bp-catalyst-platform requires bp-flux ^1.0, "
        "which does not admit 2.0.0"
    ) in out


def test_github_format_prints_annotations(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, INCIDENT), "--format", "github")
    assert code == 1
    assert out.startswith(f"::error file={fleet.WRAPPER_CHART},line=10::flux2 2.13.0")


def test_json_format_lists_sites_and_violations(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, INCIDENT), "--format", "json")
    document = json.loads(out)
    assert code == 1 and document["ok"] is False
    # The appVersion mismatch, and the CRD version it would drop (the seed's failure).
    assert [v["line"] for v in document["violations"]] == [10, 10]
    assert "buckets.source.toolkit.fluxcd.io/v1" in document["violations"][1]["message"]
    assert document["violations"][0]["found"] == "2.13.0"
    assert document["violations"][0]["expected"] == "2.14.1"
    roles = {s["role"] for s in document["sites"]}
    assert {"cloud-init install", "upstream dependency", "values mirror", "HelmRelease"} <= roles


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = check(make_fleet(tmp_path), "--format", "xml")
    assert code == 2 and "--format" in err


def test_status_lists_every_pin_site(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, INCIDENT)
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    assert outcome.code == 0
    components, *rows = outcome.stdout.splitlines()
    assert components == "components: flux (bp-flux -> flux2)"
    assert rows[0].split() == ["ROLE", "WHERE", "VALUE", "EXPECTED", "OK"]
    upstream = next(r for r in rows if r.startswith("upstream dependency"))
    assert upstream.split()[-4:] == [f"{fleet.WRAPPER_CHART}:10", "2.13.0", "2.14.1", "NO"]
    # 1 install + 1 upstream + 1 mirror + 2x(version) + appVersion + 2 blueprints + 1 dependent
    # + 2 HelmReleases x 4 cluster dirs + 1 constraint
    assert len(rows) - 1 == 18


def test_status_json(tmp_path: Path) -> None:
    outcome = run_cli("status", "--repo", str(make_fleet(tmp_path)), "--offline", "--json")
    document = json.loads(outcome.stdout)
    assert document["ok"] is True
    assert document["crds"] == {
        "chart": "flux2", "running": ["2.14.1"], "target": "2.14.1", "dropped": [], "safe": True,
        "stored": [], "served_only": [], "history": None, "migrated": False,
    }  # fmt: skip
    assert all(
        {"role", "file", "line", "value", "expected", "ok"} <= set(s) for s in document["sites"]
    )


def test_a_wrapper_with_another_name_is_found_by_its_flux2_dependency(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    edit(repo, fleet.WRAPPER_CHART, "name: bp-flux", "name: bp-flux-renamed")
    outcome = run_cli("status", "--repo", str(repo), "--offline")
    code, out = outcome.code, outcome.stdout
    assert code == 0
    assert out.splitlines()[0].startswith("components: flux (bp-flux-renamed -> flux2)")


def test_a_configured_wrapper_that_is_missing_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    (repo / ".fluxbump.yaml").write_text("wrapper: bp-flux-renamed\n")
    code, _, err = check(repo)
    assert code == 2
    assert "no Chart.yaml with 'name: bp-flux-renamed'" in err
    # The chart that does depend on flux2 is named, with the one line that adopts it.
    assert (
        f"{fleet.WRAPPER_CHART} ('bp-flux') depends on 'flux2': set 'wrapper: bp-flux' in "
        ".fluxbump.yaml"
    ) in err


def test_a_wrapper_whose_flux2_has_no_repository_is_unproven_and_never_moved(
    tmp_path: Path,
) -> None:
    # No 'repository': Helm takes flux2 from the wrapper's own charts/ (an unpacked copy);
    # moving the pin would leave the chart deploying that copy, so the bump refuses.
    repo = make_fleet(tmp_path)
    edit(
        repo,
        fleet.WRAPPER_CHART,
        '    repository: "https://fluxcd-community.github.io/helm-charts"\n',
        "",
    )
    problem = (
        f"{fleet.WRAPPER_CHART}:10: 'flux2' has no 'repository': Helm takes it from "
        "platform/flux/chart/charts/, which a bump cannot replace; give the chart repository "
        "it comes from and run 'helm dependency update'"
    )
    code, out, _ = check(repo)
    assert code == 1 and f"  {problem}" in out
    before = snapshot(repo)
    refused = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert refused.code == 2 and refused.stderr.startswith(f"error: {problem}"), refused.stderr
    assert snapshot(repo) == before


def test_a_range_on_the_flux_chart_names_the_version_its_lock_holds(tmp_path: Path) -> None:
    # clux/homelab's wrapper takes flux2 '*' and its Chart.lock holds 2.17.2: the violation
    # says what to pin, not only that the range is one.
    (tmp_path / "charts/flux").mkdir(parents=True)
    (tmp_path / "charts/flux/Chart.yaml").write_text(
        "apiVersion: v2\nname: flux\nversion: 2.17.2\ndependencies:\n- name: flux2\n"
        "  version: '*'\n  repository: https://fluxcd-community.github.io/helm-charts\n"
    )
    (tmp_path / "charts/flux/Chart.lock").write_text(
        "dependencies:\n- name: flux2\n  repository: https://fluxcd-community.github.io/"
        f"helm-charts\n  version: 2.17.2\ndigest: sha256:{'0' * 64}\n"
        'generated: "2026-01-18T15:43:02.95787834Z"\n'
    )
    code, out, _ = check(tmp_path)
    assert code == 1
    assert (
        "charts/flux/Chart.yaml:6: flux2 dependency '*' is not an exact pin: a Flux release maps "
        "to one chart; pin 2.17.2, the version charts/flux/Chart.lock holds"
    ) in out.splitlines()


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    edit(repo, fleet.WRAPPER_CHART, "type: application", "type: [application")
    code, out, err = check(repo)
    assert code == 1  # the components that need the chart are unproven (issue 16.3)
    assert f"  {fleet.WRAPPER_CHART}:6: invalid YAML" in out
    assert "Traceback" not in out + err


def test_check_json_flag_is_format_json(tmp_path: Path) -> None:
    code, out, _ = check(make_fleet(tmp_path, INCIDENT), "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_github_format_escapes_the_annotation_path(tmp_path: Path) -> None:
    # An unescaped ',' or ':' in file= would end the property and forge line= (issue 23).
    cluster = "evil,line=1:x%2C"
    repo = make_fleet(tmp_path, clusters=(cluster,))
    straggler = f"clusters/{cluster}/{fleet.FLUX_RELEASE_FILE}"
    edit(repo, straggler, "version: 1.1.1", "version: 1.1.0")
    code, out, _ = check(repo, "--format", "github")
    assert code == 1
    annotations = [x for x in out.splitlines() if x.startswith("::error")]
    escaped = f"clusters/evil%2Cline=1%3Ax%252C/{fleet.FLUX_RELEASE_FILE}"
    assert annotations == [
        f"::error file={escaped},line=31::flux-system/bp-flux deploys bp-flux 1.1.0, chart is 1.1.1"
    ]
