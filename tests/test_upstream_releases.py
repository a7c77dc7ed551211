"""A HelmRelease of a chart from another project's repository is no release of this
repository's chart of the same name (``scan/chartsources.py``): a vendored copy of bitnami's
``redis`` beside a HelmRelease of bitnami's ``redis``, or a copy of the community ``flux2``
beside a HelmRelease of the community chart (still the Flux chart pin)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import edit, write_repo

_BITNAMI = "https://charts.bitnami.com/bitnami"
_COMMUNITY = "https://fluxcd-community.github.io/helm-charts"


def _source(name: str, url: str) -> str:
    return f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  url: {url}
"""


def _deployed(source: str, url: str, chart: str, version: str, namespace: str = "") -> str:
    """A HelmRepository and a HelmRelease of ``chart`` from it, in one file."""
    release = _release(chart, version, source, *([namespace] if namespace else []))
    return _source(source, url) + "---\n" + release


def _check(repo: Path) -> Outcome:
    return run_cli("check", "--repo", str(repo), "--offline", "-q")


def _release(chart: str, version: str, source: str, namespace: str = "flux-system") -> str:
    return f"""apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {chart}
  namespace: {namespace}
spec:
  interval: 1h
  chart:
    spec:
      chart: {chart}
      version: {version}
      sourceRef:
        kind: HelmRepository
        name: {source}
        namespace: flux-system
"""


# bitnami's own Chart.yaml, as a repository that vendors the chart holds it.
_VENDORED_REDIS = """apiVersion: v2
name: redis
version: 17.0.0
appVersion: 7.0.5
home: https://bitnami.com
sources:
  - https://github.com/bitnami/charts/tree/main/bitnami/redis
maintainers:
  - name: Bitnami
    url: https://github.com/bitnami/charts
"""


def _status_rows(repo: Path) -> list[dict[str, object]]:
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json", "-q")
    rows: list[dict[str, object]] = json.loads(outcome.stdout)["sites"]
    return rows


def test_a_release_from_the_vendored_charts_own_repository_is_not_a_release_of_the_copy(
    tmp_path: Path,
) -> None:
    repo = write_repo(
        tmp_path,
        {
            "charts/redis/Chart.yaml": _VENDORED_REDIS,
            "apps/redis.yaml": _deployed("bitnami", _BITNAMI, "redis", "18.1.0", "db"),
            # Flux deployed from the community chart: something for check to prove.
            "clusters/prod/flux.yaml": _deployed("fluxcd-community", _COMMUNITY, "flux2", "2.14.1"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "deploys redis" not in outcome.stdout
    rows = [r for r in _status_rows(repo) if r["role"] == "HelmRelease"]
    assert [r["file"] for r in rows] == ["clusters/prod/flux.yaml"]


def test_a_release_from_another_repository_is_still_a_release_of_the_copy(
    tmp_path: Path,
) -> None:
    # The same copy republished to the organisation's own chart repository (as
    # svc-design/gitops serves its copy of bitnami's redis from charts.onwalk.net):
    # that is the chart deployed, so it must be the version the copy is.
    repo = write_repo(
        tmp_path,
        {
            "charts/redis/Chart.yaml": _VENDORED_REDIS,
            "apps/redis.yaml": _deployed(
                "ours", "https://charts.example.org", "redis", "18.1.0", "db"
            ),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 1
    assert "apps/redis.yaml:20: db/redis deploys redis 18.1.0, chart is 17.0.0" in outcome.stdout


def test_a_release_whose_source_is_not_in_the_repository_is_still_a_release_of_the_copy(
    tmp_path: Path,
) -> None:
    # No HelmRepository named so here: nothing says where the chart comes from.
    repo = write_repo(
        tmp_path,
        {
            "charts/redis/Chart.yaml": _VENDORED_REDIS,
            "apps/redis.yaml": _release("redis", "18.1.0", "bitnami", "db"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 1
    assert "db/redis deploys redis 18.1.0, chart is 17.0.0\n" in outcome.stdout


# cert-manager's own Chart.yaml: its project's home and sources name no host of the chart
# repository it is published to (charts.jetstack.io).
_VENDORED_CERT_MANAGER = """apiVersion: v2
name: cert-manager
version: v1.14.0
appVersion: v1.14.0
home: https://cert-manager.io
sources:
  - https://github.com/cert-manager/cert-manager
"""


def test_a_drifting_release_names_the_repository_it_takes_the_chart_from(tmp_path: Path) -> None:
    """A copy of another project's chart is not told from one this repository publishes
    there (test above), so the release stays matched; the violation said only "chart is
    v1.14.0", as if the release deployed the copy. It names the copy, the repository the
    release takes its chart from, and how to leave the copy out, which is tested."""
    jetstack = "https://charts.jetstack.io"
    repo = write_repo(
        tmp_path,
        {
            "charts/cert-manager/Chart.yaml": _VENDORED_CERT_MANAGER,
            "apps/cert-manager.yaml": _deployed(
                "jetstack", jetstack, "cert-manager", "v1.15.0", "cert-manager"
            ),
            "clusters/prod/flux.yaml": _deployed("fluxcd-community", _COMMUNITY, "flux2", "2.14.1"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 1
    assert (
        "apps/cert-manager.yaml:20: cert-manager/cert-manager deploys cert-manager v1.15.0, "
        "chart is v1.14.0 (charts/cert-manager/Chart.yaml); it takes the chart from "
        f"{jetstack}: if that is another project's cert-manager chart, add "
        "charts/cert-manager/** to 'exclude' in .fluxbump.yaml\n"
    ) in outcome.stdout
    (repo / ".fluxbump.yaml").write_text("exclude:\n  - charts/cert-manager/**\n")
    left_out = _check(repo)
    assert left_out.code == 0, left_out.stdout + left_out.stderr


_FLUX_COPY = """apiVersion: v2
name: flux2
version: 2.14.1
appVersion: 2.4.0
description: A Helm chart for flux2
sources:
  - https://github.com/fluxcd-community/helm-charts
"""


def test_a_release_of_the_community_flux2_beside_a_copy_of_it_is_the_flux_pin(
    tmp_path: Path,
) -> None:
    repo = write_repo(
        tmp_path,
        {
            "charts/flux2/Chart.yaml": _FLUX_COPY,
            "clusters/prod/flux.yaml": _deployed("fluxcd-community", _COMMUNITY, "flux2", "2.15.0"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    rows = [r for r in _status_rows(repo) if r["role"] == "HelmRelease"]
    # Once, as the Flux chart pin (the direct-flux path), not against the copy's 2.14.1.
    assert [(r["file"], r["value"], r["expected"]) for r in rows] == [
        ("clusters/prod/flux.yaml", "2.15.0", "2.15.0")
    ]
    plan = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--dry-run", "--no-git")
    assert plan.code == 0, plan.stdout + plan.stderr
    assert "already at v2.5.1" in plan.stdout
    moved = run_cli("to", "2.6.1", "--repo", str(repo), "--offline", "--dry-run", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert "-      version: 2.15.0\n+      version: 2.16.0" in moved.stdout


def test_a_release_of_a_same_name_wrappers_upstream_is_no_release_of_the_wrapper(
    tmp_path: Path,
) -> None:
    # A local chart ``cilium`` wrapping the upstream ``cilium``: a HelmRelease of cilium from
    # the upstream's repository deploys the upstream chart, never the wrapper's 1.0.0.
    wrapper = """apiVersion: v2
name: cilium
version: 1.0.0
dependencies:
  - name: cilium
    version: 1.16.5
    repository: https://helm.cilium.io
"""
    repo = write_repo(
        tmp_path,
        {
            "platform/cilium/Chart.yaml": wrapper,
            "clusters/prod/cilium.yaml": _deployed(
                "cilium", "https://helm.cilium.io", "cilium", "1.16.5", "kube-system"
            ),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "deploys cilium" not in outcome.stdout


def test_a_copy_that_depends_on_its_projects_common_chart_is_judged_the_same(
    tmp_path: Path,
) -> None:
    # bitnami's charts depend on its ``common``: the copy is then a component (a wrapper of
    # ``common``), and the release from bitnami's repository is still none of its releases.
    copy = _VENDORED_REDIS + (
        "dependencies:\n  - name: common\n    version: 2.13.0\n"
        "    repository: oci://registry-1.docker.io/bitnamicharts\n"
    )
    repo = write_repo(
        tmp_path,
        {
            "charts/redis/Chart.yaml": copy,
            "apps/redis.yaml": _deployed("bitnami", _BITNAMI, "redis", "18.1.0", "db"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert [r["role"] for r in _status_rows(repo)] == [
        "upstream dependency", "chart version", "chart appVersion"
    ]  # fmt: skip


def test_charts_published_to_the_repositorys_own_registry_stay_matched(tmp_path: Path) -> None:
    # The Catalyst layout: wrappers published to one registry of its own (on the domain
    # their ``home`` names), deployed from it and depended on by an umbrella by its URL.
    registry = "https://charts.example.org"
    wrapper = """apiVersion: v2
name: bp-cilium
version: 1.0.0
home: https://example.org
dependencies:
  - name: cilium
    version: 1.16.5
    repository: https://helm.cilium.io
"""
    umbrella = f"""apiVersion: v2
name: bp-platform
version: 1.0.0
home: https://example.org
dependencies:
  - name: bp-cilium
    version: 1.0.0
    repository: {registry}
"""
    repo = write_repo(
        tmp_path,
        {
            "platform/cilium/chart/Chart.yaml": wrapper,
            "products/platform/chart/Chart.yaml": umbrella,
            "clusters/prod/cilium.yaml": _deployed("ours", registry, "bp-cilium", "1.0.1"),
        },
    )
    outcome = _check(repo)
    assert outcome.code == 1
    assert "flux-system/bp-cilium deploys bp-cilium 1.0.1, chart is 1.0.0\n" in outcome.stdout


def test_a_warm_run_knows_the_source_in_a_file_it_takes_from_the_cache(tmp_path: Path) -> None:
    # The HelmRepository in a file of its own: after an unrelated edit the warm run takes that
    # file from the cache (scan/cache.py), unread, and must still know it holds the source.
    repo = write_repo(
        tmp_path,
        {
            "charts/redis/Chart.yaml": _VENDORED_REDIS,
            "apps/sources/bitnami.yaml": _source("bitnami", _BITNAMI),
            "apps/redis.yaml": _release("redis", "18.1.0", "bitnami", "db"),
            "apps/notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n",
            "clusters/prod/flux.yaml": _deployed("fluxcd-community", _COMMUNITY, "flux2", "2.14.1"),
        },
    )
    cold = _check(repo)
    assert cold.code == 0, cold.stdout + cold.stderr
    edit(repo, "apps/notes.yaml", "name: notes", "name: other-notes")
    warm = _check(repo)
    assert warm.code == 0, warm.stdout + warm.stderr
    edit(repo, "apps/sources/bitnami.yaml", _BITNAMI, "https://charts.example.org")
    moved = _check(repo)  # (the source now serves the organisation's own copy)
    assert moved.code == 1, moved.stdout + moved.stderr


def test_a_fleets_copies_of_a_release_from_the_upstream_are_none_of_the_copy(
    tmp_path: Path,
) -> None:
    # The same file in every cluster under a comment header of its own: the scan keeps such
    # copies as header and shared body (scan/repeated.py), and each body is composed once.
    deployed = _deployed("bitnami", _BITNAMI, "redis", "18.1.0", "db")
    header = "# generated for the fleet: do not edit by hand\n" * 4  # (longer than the tail)
    files = {
        f"clusters/c{i}/redis.yaml": f"# cluster c{i}\n{header}---\n{deployed}" for i in range(4)
    }
    files["charts/redis/Chart.yaml"] = _VENDORED_REDIS
    files["flux.yaml"] = _deployed("fluxcd-community", _COMMUNITY, "flux2", "2.14.1")
    repo = write_repo(tmp_path, files)
    outcome = _check(repo)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "deploys redis" not in outcome.stdout
