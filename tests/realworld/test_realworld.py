"""fluxbump on trimmed snapshots of public GitOps repositories (see each SOURCE.md).

The expected facts come from ``tests.support.independent_scan``, which shares no code with
fluxbump; the expected diffs of the bumps were written by reading the snapshot files.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import renovate_regex
from tests.support.cli_runner import Outcome, run_cli, run_process
from tests.support.fixtures import init_git, snapshot
from tests.support.flux_release import install_printing, install_stand_in
from tests.support.independent_scan import (
    FLUX_UPSTREAM,
    OPERATOR_CHARTS,
    DependencyPin,
    Facts,
    FluxPin,
    Release,
    artifact_pins,
)
from tests.support.independent_scan import scan as scan_tree

SNAPSHOTS = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in SNAPSHOTS.iterdir() if (p / "SOURCE.md").is_file())


def scan(root: Path) -> Facts:
    """The oracle's facts of ``root``. A snapshot here is read once per process: the
    parametrized tests asked again for each snapshot (a third of this module's CPU), and
    no test writes a snapshot (a bump works on a copy). Each caller gets its own copy."""
    if root.parent != SNAPSHOTS:
        return scan_tree(root)
    return copy.deepcopy(_snapshot_facts(root.name))


@functools.cache
def _snapshot_facts(name: str) -> Facts:
    return scan_tree(SNAPSHOTS / name)


def test_there_are_ten_snapshots_each_with_its_license_and_source() -> None:
    assert len(NAMES) >= 10
    for name in NAMES:
        source = (SNAPSHOTS / name / "SOURCE.md").read_text("utf-8")
        assert "commit `" in source and "License:" in source
        assert (SNAPSHOTS / name / "LICENSE").is_file()
        size = sum(p.stat().st_size for p in (SNAPSHOTS / name).rglob("*") if p.is_file())
        assert size < 300_000


def test_the_oracle_finds_the_flux_wrapper_and_the_lock_of_kcm() -> None:
    facts = scan(SNAPSHOTS / "k0rdent-kcm")
    assert facts.flux_wrappers() == ["kcm"]
    assert (
        DependencyPin(
            "templates/provider/kcm/Chart.yaml",
            "kcm",
            "flux2",
            "2.17.2",
            "https://fluxcd-community.github.io/helm-charts",
        )
        in facts.upstream_pins()
    )
    # the Go-templated chart templates are not manifests
    assert not any("/templates/" in r.file for r in facts.releases)


def test_the_oracle_sees_same_named_charts_and_unreadable_files() -> None:
    mmalyska = scan(SNAPSHOTS / "mmalyska-home-ops")
    assert sorted(n for n, files in mmalyska.charts.items() if len(files) > 1) == [
        "hass-proxy",
        "jellyfin",
    ]
    onedr0p = scan(SNAPSHOTS / "onedr0p-home-ops")
    assert onedr0p.unreadable == ["kubernetes/apps/default/recyclarr/app/resources/recyclarr.yml"]
    assert (
        Release(
            "kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml",
            "cert-manager",
            "cert-manager",
            "v1.21.1",
        )
        in onedr0p.releases
    )


def test_the_oracle_follows_a_terraform_variable_to_its_default_and_its_module_call() -> None:
    devdynamicio = scan(SNAPSHOTS / "devdynamicio-terraform-kubernetes-fluxcd")
    assert [(c.file, c.version) for c in devdynamicio.terraform_charts] == [
        ("variables.tf", "2.14.0"),
        ("examples/simple/main.tf", "2.9.2"),  # module "fluxcd" { source = "../../" }
    ]  # not the flux2-sync chart's helm_release (var.flux_sync_version, 1.8.2 and 1.10.0)
    assert devdynamicio.flux_disagreements() == {("examples/simple/main.tf", "2.9.2")}
    assert devdynamicio.unversioned_charts == []


def test_the_oracle_reads_a_flux_action_step_with_no_version_as_the_latest_cli() -> None:
    grafana = scan(SNAPSHOTS / "grafana-k8s-monitoring-helm")
    assert [(p.file, p.kind, p.version) for p in grafana.flux_pins] == [
        (".github/workflows/integration-test.yml", "cli", "latest"),
        (".github/workflows/platform-test.yml", "cli", "latest"),
    ]
    assert grafana.flux_disagreements() == set()


def test_the_oracle_reads_the_flux_release_a_terraform_helm_release_of_flux_instance_sets() -> None:
    # 1ab-io/d2-fleet: Terraform installs both operator charts (no version), the instance's
    # values from a templatefile this cannot read; the clusters' FluxInstances say 2.x.
    d2 = scan(SNAPSHOTS / "1ab-io-d2-fleet")
    assert ("terraform/main.tf", "instance", "values") in {
        (p.file, p.kind, p.version) for p in d2.flux_pins
    }
    assert [(p.file, p.chart) for p in d2.unversioned_operator_charts] == [
        ("terraform/main.tf", "flux-operator"),
        ("terraform/main.tf", "flux-instance"),
    ]
    assert d2.flux_disagreements() == set()


def test_the_oracle_reads_the_release_an_umbrella_gives_its_vendored_flux_instance() -> None:
    cozystack = scan(SNAPSHOTS / "aenix-io-cozystack")
    assert cozystack.flux_pins == [
        FluxPin("packages/system/fluxcd/values.yaml", "instance", "2.5.x")
    ]  # the vendored chart's own 2.x is its default, which the umbrella's values override
    assert (cozystack.operator_pins, cozystack.flux_disagreements()) == ([], set())


def test_the_flux_release_an_umbrella_gives_flux_instance_is_checked_and_blocks_a_bump(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # cozystack asks for Flux 2.5.x: 2.5.1 is admitted (nothing to write), 2.8.5 is refused
    # naming the range (exit 1), and nothing is written either way.
    root = work_copy("aenix-io-cozystack", tmp_path)
    before = snapshot(root)
    admitted = run_cli("to", "2.5.1", *UNGUARDED, "--repo", str(root), env=cache)
    assert admitted.code == 0, admitted.stdout + admitted.stderr
    assert "every range admits it" in admitted.stdout
    refused = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert refused.code == 1, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: packages/system/fluxcd/values.yaml:7: chart cozy-fluxcd's flux-instance values "
        "requires Flux 2.5.x, which does not admit 2.8.5; widen the range first; nothing written"
    )
    assert snapshot(root) == before


def test_the_oracle_sees_a_terraform_helm_release_of_flux2_with_no_version() -> None:
    ctf = scan(SNAPSHOTS / "4t-24-ctf-2024-infra")
    assert ctf.unversioned_charts == ["modules/flux-bootstrap/main.tf"]
    assert (ctf.terraform_charts, ctf.flux_pins) == ([], [])


def test_the_oracle_reads_the_flux_release_pins_outside_charts() -> None:
    daluca = scan(SNAPSHOTS / "daluca-cloud")
    assert sorted((p.file, p.kind, p.version) for p in daluca.flux_pins) == [
        (f"clusters/{cluster}/flux-system/gotk-components.yaml", "bootstrap", "v2.4.0")
        for cluster in ("production", "staging")
    ]
    arthurgeek = scan(SNAPSHOTS / "arthurgeek-home-ops")
    assert arthurgeek.flux_disagreements() == {(".mise.toml", "2.8.8")}
    # a kubectl apply -k line of a script, and a GitRepository of Flux's own repository;
    # the script's other kubectl apply -k (this repository's, ref=master) pins nothing, and
    # lint.sh's download of the newest release's CRD schemas names no release
    chamburr = scan(SNAPSHOTS / "chamburr-homelab")
    assert sorted((p.file, p.kind, p.version) for p in chamburr.flux_pins) == [
        ("kubernetes/base/flux-system/flux-installation.yaml", "git", "v0.34.0"),
        ("scripts/configure.sh", "kustomize", "v0.33.0"),
        ("scripts/lint.sh", "cli", "latest"),
    ]
    assert chamburr.flux_disagreements() == {("scripts/configure.sh", "v0.33.0")}


def test_the_oracle_tells_a_published_sibling_and_a_vendored_subchart_from_an_upstream() -> None:
    newrelic = scan(SNAPSHOTS / "newrelic-helm-charts")
    by_dependency = {(p.chart, p.dependency): p for p in newrelic.pins}
    bundle = "charts/nri-bundle/Chart.yaml"
    assert newrelic.charts["nri-bundle"] == [bundle, "charts/nri-bundle-legacy/Chart.yaml"]
    assert newrelic.published_here(by_dependency["nri-bundle", "newrelic-logging"])
    assert not newrelic.published_here(by_dependency["nri-bundle", "kube-state-metrics"])
    runtime = by_dependency["synthetics-job-manager", "ping-runtime"]
    assert (runtime.repository, runtime.upstream) == ("", False)
    assert newrelic.flux_wrappers() == ["agent-control-cd"]


def test_the_oracle_follows_a_makefile_variable_and_reads_resourceset_objects() -> None:
    weave = scan(SNAPSHOTS / "weaveworks-weave-gitops")
    # curl …/download/v$(FLUX_VERSION)/install.yaml (line 220) of FLUX_VERSION=2.7.2
    assert ("Makefile", "kustomize", "2.7.2") in {
        (p.file, p.kind, p.version) for p in weave.flux_pins
    }
    xunholy = scan(SNAPSHOTS / "xunholy-k8s-gitops")
    assert sorted((p.chart, p.version) for p in xunholy.operator_pins) == [
        ("flux-instance", "0.53.0"),
        ("flux-operator", "0.53.0"),
        ("flux-operator", "v0.53.0"),  # values.yaml's distribution artifact
    ]
    # its values (valuesFrom: a ConfigMap the kustomization generates of values.yaml, named
    # into the ResourceSet by kustomizeconfig.yaml) set no version: the chart's 2.x
    assert xunholy.valued_instances == []
    assert ("instance", "2.x") in {(p.kind, p.version) for p in xunholy.flux_pins}


def test_a_terraform_template_that_is_not_cloud_init_is_not_asked_to_install_flux(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # terraform-provider-flux's kustomization patch is a *.tftpl the default glob takes: it is
    # given to flux_bootstrap_git, not to a machine's user-data, and installs nothing.
    name = "fluxcd-terraform-provider-flux"
    template = "examples/github-with-inline-customizations/resources/flux-kustomization-patch.tftpl"
    assert (SNAPSHOTS / name / template).is_file()
    assert scan(SNAPSHOTS / name).cloud_init_templates == []
    outcome = run_cli("check", "--offline", "--repo", str(repositories[name]), env=cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "tftpl" not in outcome.stdout + outcome.stderr


@pytest.mark.parametrize("name", NAMES)
def test_the_oracle_reads_every_snapshot(name: str) -> None:
    facts = scan(SNAPSHOTS / name)
    found = facts.charts or facts.releases or facts.flux_pins or facts.terraform_charts
    found = found or facts.unversioned_charts
    assert found or name == "fluxcd-flux2-multi-tenancy"


# --- fluxbump against the oracle ---------------------------------------------------------

KCM_CHART = "templates/provider/kcm/Chart.yaml"
REGIONAL_CHART = "templates/provider/kcm-regional/Chart.yaml"
KCM_LOCK = "templates/provider/kcm/Chart.lock"
REGIONAL_LOCK = "templates/provider/kcm-regional/Chart.lock"
# The digests Helm wrote; the new ones are Helm's algorithm (proven against locks Helm wrote
# in tests/test_chartlock.py) and ``generated`` is the time of the run: both are matched by form.
KCM_DIGEST = "ad4568dd5a8197e8215154284a4a9a021cf20e3f620bb647dae824009e587fee"
REGIONAL_DIGEST = "a25812413200117dd30ee1f7d85a5ed814867faf091ce4c82c39767bae54010b"
NEW_DIGEST, NEW_TIME = "digest: sha256:<new>", "generated: <now>"
AC_CHART = "charts/agent-control-cd/Chart.yaml"
AC_LOCK = "charts/agent-control-cd/Chart.lock"
AC_DIGEST = "342040f7a5839657d32cf0be208b08f7ed9c5a791e1b134745040c1d9db3751a"
BS_DIGEST = "aab13dba7b2f938d51509ebf7069ace5e5fefe09a08a368a1c5618f7ad66fd18"
CILIUM_CHART = "cluster/apps/core/cilium/Chart.yaml"
TOR_HELMFILE = "bootstrap/helmfile.d/01-apps.yaml"
TOR_OCI = "kubernetes/apps/flux-system/{}/app/ocirepository.yaml"
COOL_HELMFILES = ("bootstrap/helmfile.d/01-apps.yaml", "bootstrap/helmfile.yaml")
CHAM_FLUX = "kubernetes/base/flux-system/flux-{}.yaml"
EVO_VARS = "Ansible/roles/app-flux-cli/vars/main.yml"
TF_HELM = "examples/helm-install/main.tf"
XUN_SET = "kubernetes/clusters/cluster-00/flux-system/{}/app/helmrelease.yaml"
XUN_VALUES = "kubernetes/clusters/cluster-00/flux-system/flux-instance/app/values.yaml"
XUN_ARTIFACT = "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
HUB_CERT_MANAGER = "deploy/infra-controllers/cert-manager.yaml"
SOURCE_V1 = (
    "apiVersion: source.toolkit.fluxcd.io/v1beta2",
    "apiVersion: source.toolkit.fluxcd.io/v1",
)
KUSTOMIZE_V1 = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2",
    "apiVersion: kustomize.toolkit.fluxcd.io/v1",
)
# One real bump per snapshot that has something to move, and its whole diff: every changed
# line of every changed file, as (file, line, before, after), read off the snapshot by hand.
BUMPS: dict[str, tuple[tuple[str, ...], list[tuple[str, int, str, str]]]] = {
    # cert-manager is wrapped by kcm-regional, which kcm takes by path: both are bumped.
    "k0rdent-kcm": (
        ("to", "1.20.3", "--component", "cert-manager"),
        [
            # Helm locked jetstack's "v1.20.2" for the pin 1.20.2: the lock keeps the prefix.
            (REGIONAL_LOCK, 4, "  version: v1.20.2", "  version: v1.20.3"),
            (REGIONAL_LOCK, 14, f"digest: sha256:{REGIONAL_DIGEST}", NEW_DIGEST),
            (REGIONAL_LOCK, 15, 'generated: "2026-05-15T14:13:26.892193+02:00"', NEW_TIME),
            (REGIONAL_CHART, 16, "version: 1.10.0", "version: 1.10.1"),
            (REGIONAL_CHART, 19, "    version: 1.20.2", "    version: 1.20.3"),
            (KCM_LOCK, 10, "  version: 1.10.0", "  version: 1.10.1"),
            (KCM_LOCK, 11, f"digest: sha256:{KCM_DIGEST}", NEW_DIGEST),
            (KCM_LOCK, 12, 'generated: "2026-06-08T13:07:03.829214+04:00"', NEW_TIME),
            (KCM_CHART, 16, "version: 1.10.0", "version: 1.10.1"),
            (KCM_CHART, 28, "    version: 1.10.0", "    version: 1.10.1"),
        ],
    ),
    # The bootstrap helmfile and the OCIRepository Flux reconciles later move together, and
    # flux-instance with flux-operator: both charts are released under one version.
    "torstava-home-ops": (
        ("to", "0.59.0", "--component", "flux-operator"),
        [
            (TOR_HELMFILE, 34, "    version: 0.58.0", "    version: 0.59.0"),
            (TOR_HELMFILE, 41, "    version: 0.58.0", "    version: 0.59.0"),
            (TOR_OCI.format("flux-instance"), 13, "    tag: 0.58.0", "    tag: 0.59.0"),
            (TOR_OCI.format("flux-operator"), 13, "    tag: 0.58.0", "    tag: 0.59.0"),
        ],
    ),
    # The same flux-operator layout with the operator at 0.28.0 (and a Flux CLI pin that
    # disagrees with the FluxInstance, which a chart bump leaves as it found it).
    "arthurgeek-home-ops": (
        ("to", "0.29.0", "--component", "flux-operator"),
        [
            ("bootstrap/helmfile.d/01-apps.yaml", 40, "    version: 0.28.0", "    version: 0.29.0"),
            # flux-instance follows: both charts are released under one version
            ("bootstrap/helmfile.d/01-apps.yaml", 47, "    version: 0.28.0", "    version: 0.29.0"),
            (TOR_OCI.format("flux-instance"), 13, "    tag: 0.28.0", "    tag: 0.29.0"),
            (TOR_OCI.format("flux-operator"), 13, "    tag: 0.28.0", "    tag: 0.29.0"),
        ],
    ),
    # The operator's distribution artifact, pinned in the flux-instance values, moves with both
    # charts' OCIRepositories (Renovate groups the three; the bootstrap helmfile reads them).
    "diaoul-home-ops": (
        ("to", "0.59.0", "--component", "flux-operator"),
        [
            (
                TOR_OCI.format("flux-instance").replace("ocirepository", "helmrelease"),
                15,
                f"        artifact: {XUN_ARTIFACT}:v0.58.1",
                f"        artifact: {XUN_ARTIFACT}:v0.59.0",
            ),
            (TOR_OCI.format("flux-instance"), 13, "    tag: 0.58.1", "    tag: 0.59.0"),
            (TOR_OCI.format("flux-operator"), 13, "    tag: 0.58.1", "    tag: 0.59.0"),
        ],
    ),
    # Two helmfile bootstraps pin flux-instance: both move with the OCIRepository.
    "coolguy1771-home-ops": (
        ("to", "0.59.0", "--component", "flux-instance"),
        [
            # flux-operator follows (lines 67 and 60): one version line with flux-instance
            (COOL_HELMFILES[0], 67, "    version: 0.58.0", "    version: 0.59.0"),
            (COOL_HELMFILES[0], 76, "    version: 0.58.0", "    version: 0.59.0"),
            (COOL_HELMFILES[1], 60, "    version: 0.58.0", "    version: 0.59.0"),
            (COOL_HELMFILES[1], 67, "    version: 0.58.0", "    version: 0.59.0"),
            (TOR_OCI.format("flux-instance"), 13, "    tag: 0.58.0", "    tag: 0.59.0"),
            (TOR_OCI.format("flux-operator"), 13, "    tag: 0.58.0", "    tag: 0.59.0"),
        ],
    ),
    # The bootstrap script's kubectl apply -k and the GitRepository of fluxcd/flux2 Flux
    # reconciles itself from move together (they disagreed: v0.33.0 and v0.34.0), and the
    # objects of APIs 2.8.5 no longer serves move to their v1/v2 apiVersions.
    "chamburr-homelab": (
        ("to", "2.8.5"),
        [
            (
                "kubernetes/apps/automation/home-assistant/helm-release.yaml",
                2,
                "apiVersion: helm.toolkit.fluxcd.io/v2beta1",
                "apiVersion: helm.toolkit.fluxcd.io/v2",
            ),
            (CHAM_FLUX.format("cluster"), 2, *SOURCE_V1),
            (CHAM_FLUX.format("cluster"), 13, *KUSTOMIZE_V1),
            (CHAM_FLUX.format("installation"), 2, *SOURCE_V1),
            (CHAM_FLUX.format("installation"), 11, "    tag: v0.34.0", "    tag: v2.8.5"),
            (CHAM_FLUX.format("installation"), 17, *KUSTOMIZE_V1),
            ("kubernetes/charts/k8s-at-home.yaml", 2, *SOURCE_V1),
            (
                "scripts/configure.sh",
                68,
                "  kubectl apply -k 'github.com/fluxcd/flux2/manifests/install?ref=v0.33.0'",
                "  kubectl apply -k 'github.com/fluxcd/flux2/manifests/install?ref=v2.8.5'",
            ),
        ],
    ),
    # Terraform's Helm provider installs the flux2 chart: the variable's default and the
    # example's module argument (they disagreed: 2.14.0 and 2.9.2) move to the chart of 2.6.4.
    "devdynamicio-terraform-kubernetes-fluxcd": (
        ("to", "2.6.4"),
        [
            (
                "examples/simple/main.tf",
                3,
                '  flux_version      = "2.9.2"',
                '  flux_version      = "2.16.4"',
            ),
            ("variables.tf", 3, '  default     = "2.14.0"', '  default     = "2.16.4"'),
        ],
    ),
    # A chart repository's Flux wrapper: its flux2 pin, its own patch version and its lock
    # (the dependencies with no repository beside it are another chart's own files, unmoved).
    "newrelic-helm-charts": (
        ("to", "2.6.1"),
        [
            (AC_LOCK, 4, "  version: 2.15.0", "  version: 2.16.0"),
            (AC_LOCK, 5, f"digest: sha256:{AC_DIGEST}", NEW_DIGEST),
            (AC_LOCK, 6, 'generated: "2025-07-23T16:48:31.70457+02:00"', NEW_TIME),
            (AC_CHART, 7, "version: 1.0.0", "version: 1.0.1"),
            (AC_CHART, 12, "    version: 2.15.0", "    version: 2.16.0"),
        ],
    ),
    # A repository that is one wrapper chart at its root, named like the chart it wraps (it
    # used to depend on itself: no component, and a false violation); the pin keeps its 'v'.
    "blindfoldedsurgery-cert-manager": (
        ("to", "v1.14.4", "--component", "cert-manager"),
        [
            ("Chart.lock", 4, "  version: v1.14.3", "  version: v1.14.4"),
            ("Chart.lock", 5, f"digest: sha256:{BS_DIGEST}", NEW_DIGEST),
            ("Chart.lock", 6, 'generated: "2024-02-23T10:56:27.402747564Z"', NEW_TIME),
            ("Chart.yaml", 5, "version: 0.2.0", "version: 0.2.1"),
            ("Chart.yaml", 10, "    version: v1.14.3", "    version: v1.14.4"),
        ],
    ),
    # No pin names a release (the hub's Flux is what the action's newest CLI installs), but
    # the spokes' objects are at APIs 2.8.5 no longer serves: they move, and nothing else.
    "fluxcd-flux2-hub-spoke-example": (
        ("to", "2.8.5"),
        [
            (HUB_CERT_MANAGER, 2, *SOURCE_V1),
            (
                HUB_CERT_MANAGER,
                10,
                "apiVersion: helm.toolkit.fluxcd.io/v2beta2",
                "apiVersion: helm.toolkit.fluxcd.io/v2",
            ),
        ],
    ),
    # Ansible downloads the Flux CLI of flux_cli_ver, which then bootstraps the cluster: the
    # variable moves, not the commented URLs of the old release (named as stale mentions).
    "evocloud-dev-evocloud-paas": (
        ("to", "2.8.5"),
        [(EVO_VARS, 5, 'flux_cli_ver: "2.7.5"', 'flux_cli_ver: "2.8.5"')],
    ),
    # Ansible installs the flux2 chart 2.18.3 (Flux 2.8.5) and downloads the CLI of v2.8.3, two
    # variables of one role's defaults: the CLI moves to the release the chart carries.
    "azimuth-cloud-ansible-collection-azimuth-ops": (
        ("to", "2.8.5"),
        [
            (
                "roles/flux/defaults/main.yml",
                41,
                "flux_cli_version: v2.8.3",
                "flux_cli_version: v2.8.5",
            )
        ],
    ),
    # A Makefile keeps Flux in FLUX_VERSION=2.7.2 and downloads v$(FLUX_VERSION)/install.yaml:
    # the assignment moves, the curl line (and the CI's latest CLI) stay as written.
    # (within 2.7: 2.8 stops serving the v1beta2 APIs a 2.7 cluster may store, which the CRD
    # guard refuses without a wrapper chart too)
    "weaveworks-weave-gitops": (
        ("to", "2.7.5"),
        [("Makefile", 10, "FLUX_VERSION=2.7.2", "FLUX_VERSION=2.7.5")],
    ),
    # Flux's own Terraform provider: the helm-install example's flux2 chart 2.12.4 moves to
    # the chart of 2.6.4 (not the flux2-sync chart's 1.8.2, nor the kustomize patch template).
    "fluxcd-terraform-provider-flux": (
        ("to", "2.6.4"),
        [(TF_HELM, 77, '  version    = "2.12.4"', '  version    = "2.16.4"')],
    ),
    # flux-operator's charts come from OCIRepositories a ResourceSet generates: both move.
    "xunholy-k8s-gitops": (
        ("to", "0.59.0", "--component", "flux-operator"),
        [
            (XUN_SET.format("flux-instance"), 26, "          tag: 0.53.0", "          tag: 0.59.0"),
            # the distribution artifact its values pin (Renovate groups it with both charts)
            (
                XUN_VALUES,
                5,
                f"    artifact: {XUN_ARTIFACT}:v0.53.0",
                f"    artifact: {XUN_ARTIFACT}:v0.59.0",
            ),
            (XUN_SET.format("flux-operator"), 26, "          tag: 0.53.0", "          tag: 0.59.0"),
        ],
    ),
    "mmalyska-home-ops": (
        ("to", "1.20.1", "--component", "cilium"),
        [
            (CILIUM_CHART, 3, "version: 0.0.1", "version: 0.0.2"),
            (CILIUM_CHART, 7, "    version: 1.20.0", "    version: 1.20.1"),
        ],
    ),
}


@pytest.fixture(scope="module")
def repositories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each snapshot as a git repository of its own (as a user has it), shared by the
    read-only tests of this module: status and check write nothing."""
    base = tmp_path_factory.mktemp("realworld")
    roots = {}
    for name in NAMES:
        roots[name] = base / name
        shutil.copytree(SNAPSHOTS / name, roots[name])
        init_git(roots[name])
    return roots


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One index cache for the module: the bundled snapshot is parsed once, not per test."""
    return {"FLUXBUMP_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}


def work_copy(name: str, tmp_path: Path) -> Path:
    """A copy to write to (the bumps run with --no-git)."""
    return Path(shutil.copytree(SNAPSHOTS / name, tmp_path / name))


def expected_upstream_pins(facts: Facts) -> set[tuple[str, str, str]]:
    """(file, chart, version) of every upstream pin a wrapper holds: a chart whose
    dependencies all come from chart repositories (an umbrella that also takes charts of this
    repo, by path or as published, wraps none of them), and every chart's flux2 pin."""
    umbrellas = {p.file for p in facts.pins if not p.upstream or facts.published_here(p)}
    return {
        (p.file, p.dependency, p.version)
        for p in facts.upstream_pins()
        if p.file not in umbrellas or p.dependency == FLUX_UPSTREAM
    }


def sites(document: dict[str, Any], role: str) -> set[tuple[str, str, str]]:
    return {(s["file"], s["subject"], s["value"]) for s in document["sites"] if s["role"] == role}


FLUX_PIN_ROLES = {
    "flux bootstrap header": "bootstrap",
    "FluxInstance version": "instance",
    "Flux CLI pin": "cli",
    "kustomize remote install": "kustomize",
    "chart appVersion read by script": "kustomize",  # (the install.yaml download's release)
    "flux-manifests OCI artifact": "manifests",
    "fluxcd/flux2 GitRepository": "git",
}


def flux_sites(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(file, kind, value) of every pin of the Flux release outside charts."""
    return {
        (s["file"], FLUX_PIN_ROLES[s["role"]], s["value"])
        for s in document["sites"]
        if s["role"] in FLUX_PIN_ROLES
    }


def operator_sites(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """flux-operator's chart pins: their own component's every pin-site."""
    components = {c["name"] for c in document["components"]} & set(OPERATOR_CHARTS)
    return {
        (s["file"], s["subject"], s["value"])
        for s in document["sites"]
        if s["subject"] in components and s["role"] != "FluxInstance version"
    }


@pytest.mark.parametrize("name", NAMES)
def test_status_reports_every_pin_the_oracle_finds_and_nothing_else(
    name: str, repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    facts = scan(SNAPSHOTS / name)
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repositories[name]), env=cache)
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert sites(document, "upstream dependency") == expected_upstream_pins(facts)
    local = {r for r in facts.releases if r.chart in facts.charts}
    releases = {s for s in sites(document, "HelmRelease") if s[1] not in OPERATOR_CHARTS}
    assert releases == {(r.file, r.chart, str(r.version)) for r in local}
    assert operator_sites(document) == {(p.file, p.chart, p.version) for p in facts.operator_pins}
    operators = [c["name"] for c in document["components"] if c["name"] in OPERATOR_CHARTS]
    charts = {p.chart for p in facts.operator_pins + facts.unversioned_operator_charts}
    assert operators == sorted(charts, reverse=True)
    flux = [c["wrapper"] for c in document["components"] if c["name"] == "flux"]
    # No wrapper chart: Flux is still a component when it is pinned outside charts.
    outside = facts.flux_pins or facts.terraform_charts or facts.ansible_charts
    outside = outside or facts.unversioned_charts
    assert flux == (facts.flux_wrappers() or ([None] if outside else []))
    assert sites(document, "Terraform helm_release version") == {
        (c.file, FLUX_UPSTREAM, c.version) for c in facts.terraform_charts
    }
    assert sites(document, "helm install version") == {
        (c.file, FLUX_UPSTREAM, c.version) for c in facts.ansible_charts
    }
    # a flux-instance version its valuesFrom may set is unknown to both: shown as such
    unknown = {(file, "instance", "valuesFrom") for file in facts.valued_instances}
    assert flux_sites(document) == {(p.file, p.kind, p.version) for p in facts.flux_pins} | unknown
    images = {
        (s["file"], s["subject"], s["value"])
        for s in document["sites"]
        if " image of " in s["role"]
    }
    assert images == set(facts.controller_images)
    violations = {(v["file"], v["found"]) for v in document["violations"]}
    assert violations == facts.flux_disagreements() | facts.operator_disagreements()


@pytest.mark.parametrize("name", NAMES)
def test_check_finds_no_false_violation(
    name: str, repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    facts = scan(SNAPSHOTS / name)
    outcome = run_cli("check", "--offline", "--repo", str(repositories[name]), env=cache)
    if disagreements := facts.flux_disagreements() | facts.operator_disagreements():
        assert outcome.code == 1, outcome.stdout + outcome.stderr  # real: each said, file:line
        said = {line.split(":", 1)[0] for line in outcome.stdout.splitlines() if ": " in line}
        said |= set(re.findall(r"\(([^():\s]+):\d+\)", outcome.stdout))  # a pin compared with
        assert {file for file, _ in disagreements} <= said
    elif unversioned := facts.unversioned_charts + [
        p.file for p in facts.unversioned_operator_charts
    ]:
        # Flux (or its operator) deployed at the newest chart: unproven, said
        assert outcome.code == 1, outcome.stdout + outcome.stderr
        said = {line.split(":", 1)[0].strip() for line in outcome.stdout.splitlines()}
        assert set(unversioned) <= said
        assert "with no version" in outcome.stdout
    elif expected_upstream_pins(facts) or facts.operator_pins or facts.flux_pins:
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert (
            f"{len(expected_upstream_pins(facts))} " in outcome.stdout or "agree" in outcome.stdout
        )
    else:  # nothing to prove is not a pass
        assert outcome.code == 2
        assert "nothing to check" in outcome.stderr


@pytest.mark.parametrize("name", sorted(BUMPS))
def test_one_real_bump_changes_exactly_the_expected_lines(
    name: str, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = work_copy(name, tmp_path)
    before = snapshot(root)
    args, expected = BUMPS[name]
    outcome = run_cli(*args, "--offline", "--no-git", "--repo", str(root), env=cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert [_by_form(c) for c in line_changes(before, snapshot(root))] == expected
    after = run_cli("check", "--offline", "--repo", str(root), env=cache).code
    # a bump of another component leaves a disagreement of Flux's pins as it found it
    left = "--component" in args and scan(SNAPSHOTS / name).flux_disagreements()
    assert after == (1 if left else 0)


def _by_form(change: tuple[str, int, str, str]) -> tuple[str, int, str, str]:
    """A lock's new digest and ``generated`` stand as their placeholders when well-formed."""
    rel, line, old, new = change
    if old.startswith("digest: ") and re.fullmatch(r"digest: sha256:[0-9a-f]{64}", new):
        return rel, line, old, NEW_DIGEST if new != old else new
    if old.startswith("generated: ") and re.fullmatch(r'generated: "\d{4}-\d\d-\d\dT[^"]+"', new):
        return rel, line, old, NEW_TIME
    return change


# The copies have no git history, so the CRD guard takes every version an installed release
# serves for stored and refuses moving a manifest install past one (test_outside_charts_guard.py
# proves it): these bumps are about which lines move, so they pass the guard. And 2.8.5, the
# bundled index's newest, is older than some pins (mirceanton's CLI is at 2.9.4): a downgrade.
UNGUARDED = ("--offline", "--no-git", "--force-unsafe-crds", "--allow-downgrade")


# Snapshots whose bump to 2.8.5 has a test of its own (its refusal comes before the rest).
AWS = "aws-samples-eks-multi-cluster-gitops"
WAYFINDER = "platformcompass-wayfinder"
NEURAL = "neuralnetes-monorepo"
GLK = "gardener-gardener-landscape-kit"
ROLE = "andrewrothstein-ansible-flux"
OWN_BUMP_TEST = {AWS, "aenix-io-cozystack", WAYFINDER, NEURAL, GLK, ROLE}


@pytest.mark.parametrize("name", sorted(set(NAMES) - set(BUMPS) - OWN_BUMP_TEST))
def test_a_flux_bump_without_a_flux_wrapper_moves_the_pins_outside_charts_or_writes_nothing(
    name: str, tmp_path: Path, cache: dict[str, str]
) -> None:
    facts = scan(SNAPSHOTS / name)
    assert not facts.flux_wrappers()  # these snapshots deploy Flux without a wrapper chart
    root = work_copy(name, tmp_path)
    before = snapshot(root)
    outcome = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    if facts.unversioned_charts:  # a Flux chart at no version: refused, naming it
        assert outcome.code == 2, outcome.stdout + outcome.stderr
        assert facts.unversioned_charts[0] in outcome.stderr
    elif not facts.flux_pins:  # nothing pins Flux: nothing to move
        assert outcome.code == 2
        assert "no chart depends on 'flux2'" in outcome.stderr
    elif any(p.kind == "bootstrap" for p in facts.flux_pins):  # checked, regenerated by a CLI
        assert outcome.code == 3, outcome.stdout + outcome.stderr
        assert "fluxbump needs the CLI of Flux" in outcome.stderr
        assert "CLI not on PATH" in outcome.stderr
    else:
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        changed = {rel for rel, *_ in line_changes(before, snapshot(root))}
        assert changed == {p.file for p in facts.flux_pins if p.exact}
        return
    assert snapshot(root) == before


def bump_with_stand_in(
    name: str, tmp_path: Path, cache: dict[str, str]
) -> tuple[Path, dict[str, bytes], Outcome]:
    """``to 2.8.5`` on a copy of a snapshot, its bootstrap manifests regenerated by the stand-in
    CLI of 2.8.5: the copy, its files before, and the outcome."""
    cli = install_stand_in(tmp_path / "flux", "2.8.5")
    root = work_copy(name, tmp_path)
    before = snapshot(root)
    args = ("to", "2.8.5", *UNGUARDED, "--flux-cli", str(cli), "--repo", str(root))
    return root, before, run_cli(*args, *current_clis(name, tmp_path), env=cache)


def current_clis(name: str, tmp_path: Path) -> list[str]:
    """``--flux-cli`` of each release a snapshot's bootstrap manifests are of, printing them
    as committed (the real CLI would: they were not edited since it wrote them)."""
    given: dict[str, str] = {}
    for pin in scan(SNAPSHOTS / name).flux_pins:
        version = pin.version.removeprefix("v")
        if pin.kind == "bootstrap" and version not in given:
            printed = (SNAPSHOTS / name / pin.file).read_bytes()
            given[version] = str(install_printing(tmp_path / f"flux-{version}", version, printed))
    return [arg for path in given.values() for arg in ("--flux-cli", path)]


def flux_bump(
    name: str, tmp_path: Path, cache: dict[str, str]
) -> tuple[Path, list[tuple[str, int, str, str]]]:
    """``to 2.8.5`` on a copy of a snapshot (it must succeed) and the lines it changed."""
    root = work_copy(name, tmp_path)
    before = snapshot(root)
    outcome = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return root, line_changes(before, snapshot(root))


def test_a_flux_operator_repository_moves_its_flux_release_pins_with_no_wrapper_chart(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # arthurgeek pins Flux in its FluxInstance values (2.6.4) and its mise CLI (2.8.8).
    root, changes = flux_bump("arthurgeek-home-ops", tmp_path, cache)
    instance = "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml"
    assert changes == [
        (".mise.toml", 16, '"aqua:fluxcd/flux2" = "2.8.8"', '"aqua:fluxcd/flux2" = "2.8.5"'),
        (instance, 27, "        version: 2.6.4", "        version: 2.8.5"),
    ]
    check = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert check.code == 0, check.stdout + check.stderr


def test_the_oracle_reads_the_values_file_a_flux_instance_configmap_is_generated_of() -> None:
    damacus = scan(SNAPSHOTS / "damacus-home-ops")
    instance = "kubernetes/apps/flux-system/flux-instance"
    assert [(p.file, p.version) for p in damacus.flux_pins if p.kind == "instance"] == [
        (f"{instance}/instance.yaml", "2.x"),
        (f"{instance}/app/helm/values.yaml", "2.9.4"),  # valuesFrom: flux-instance-values
    ]
    assert damacus.valued_instances == []


def test_a_flux_instance_values_file_moves_with_the_install_pins(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # damacus installs Flux by kustomize and the flux-manifests artifact at v2.9.4, and its
    # FluxInstance's version is set in the file its valuesFrom ConfigMap is generated of.
    root, changes = flux_bump("damacus-home-ops", tmp_path, cache)
    assert changes == [
        ("kubernetes/apps/flux-system/flux-instance/app/helm/values.yaml", 5,
         "    version: 2.9.4", "    version: 2.8.5"),
        ("kubernetes/bootstrap/flux/kustomization.yaml", 7,
         "  - github.com/fluxcd/flux2/manifests/install?ref=v2.9.4",
         "  - github.com/fluxcd/flux2/manifests/install?ref=v2.8.5"),
        ("kubernetes/flux/config/flux.yaml", 11, "    tag: v2.9.4", "    tag: v2.8.5"),
    ]  # fmt: skip
    check = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert check.code == 0, check.stdout + check.stderr


def test_a_kustomize_and_flux_manifests_repository_moves_both_install_pins(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # bluevulpine installs Flux by kustomize from fluxcd/flux2 at a ref, then reconciles it
    # from the flux-manifests artifact: both name v2.7.2, and move together.
    root, changes = flux_bump("bluevulpine-flux-talos", tmp_path, cache)
    assert changes == [
        ("kubernetes/bootstrap/flux/kustomization.yaml", 7,
         "  - github.com/fluxcd/flux2/manifests/install?ref=v2.7.2",
         "  - github.com/fluxcd/flux2/manifests/install?ref=v2.8.5"),
        ("kubernetes/flux/config/flux.yaml", 11, "    tag: v2.7.2", "    tag: v2.8.5"),
    ]  # fmt: skip
    refused = run_cli("to", "2.6.1", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert refused.code == 4, refused.stdout + refused.stderr  # installed: no downgrade


def line_changes(
    before: dict[str, bytes], after: dict[str, bytes]
) -> list[tuple[str, int, str, str]]:
    """Every changed line of every changed file (no file is added or removed by a bump)."""
    assert set(before) == set(after)
    changes = []
    for rel in sorted(rel for rel in before if before[rel] != after[rel]):
        old, new = before[rel].decode().splitlines(), after[rel].decode().splitlines()
        assert len(old) == len(new), rel
        changes += [
            (rel, i, a, b) for i, (a, b) in enumerate(zip(old, new, strict=True), 1) if a != b
        ]
    return changes


AWS_SYNC = "repos/gitops-system/clusters/mgmt/flux-system/gotk-sync.yaml"


def test_a_bootstrap_whose_placeholder_url_no_version_accepts_is_refused_naming_the_value(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # aws-samples' GitRepositories say url: REPO_PREFIX/..., which every API version's schema
    # rejects (the setup seds it): moving them off v1beta2, which 2.8.5 no longer serves,
    # would write an invalid object, so to refuses, naming the value to correct rather than
    # Flux's migration notes (which have nothing to say about it); nothing is written.
    root, before, outcome = bump_with_stand_in(AWS, tmp_path, cache)
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    error = outcome.stderr.strip().splitlines()[-1]
    assert error.startswith(
        f"error: {AWS_SYNC}:14: moving GitRepository flux-system/flux-system from "
        "source.toolkit.fluxcd.io/v1beta2 to source.toolkit.fluxcd.io/v1 keeps it invalid, as "
        "it is as written: GitRepository flux-system/flux-system: spec.url: "
        "'REPO_PREFIX/gitops-system' does not match"
    ), error
    assert error.endswith("; correct that value, then re-run; nothing written")
    assert snapshot(root) == before


# The API versions Flux 2.8 serves of the groups the snapshots' chart templates write (its
# release notes: the v1beta2 and v2beta2 APIs are gone; the CRDs of 2.8.5 serve these alone).
SERVED_BY_2_8 = {
    "helm.toolkit.fluxcd.io/v2",
    "source.toolkit.fluxcd.io/v1",
    "kustomize.toolkit.fluxcd.io/v1",
}


def test_a_chart_template_writing_a_flux_api_the_target_does_not_serve_blocks_the_bump(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # wayfinder's chart renders a HelmRepository and a HelmRelease per values entry in
    # v1beta2 and v2beta2: to refuses, naming the first line, until they are written by hand;
    # then it moves the manifests off what 2.8.5 no longer serves, and nothing else.
    templates = scan(SNAPSHOTS / WAYFINDER).chart_template_apis
    unserved = [t for t in templates if t[2] not in SERVED_BY_2_8]
    assert [(file, line) for file, line, _ in unserved] == [
        ("chart/templates/_helmRelease.tpl", 8),
        ("chart/templates/_helmRepository.tpl", 6),
    ]
    root = work_copy(WAYFINDER, tmp_path)
    before = snapshot(root)
    refused = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert refused.code == 2, refused.stdout + refused.stderr
    file, line, api = unserved[0]
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {file}:{line}: Helm chart template: apiVersion {api} is not served by Flux "
        "2.8.5, and a template is not rewritten: write helm.toolkit.fluxcd.io/v2 there by hand, "
        "then re-run; nothing written"
    )
    assert snapshot(root) == before
    for file, _, api in unserved:
        group = api.split("/")[0]
        (new,) = [served for served in SERVED_BY_2_8 if served.startswith(f"{group}/")]
        text = (root / file).read_text("utf-8")
        (root / file).write_text(text.replace(f"apiVersion: {api}", f"apiVersion: {new}"))
    written = snapshot(root)
    moved = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    changes = line_changes(written, snapshot(root))
    assert len(changes) == 16  # read off the snapshot: 10 v1beta2 and 6 v2beta1 objects
    for rel, _, old, new in changes:
        assert rel.startswith("kubernetes/") and old.startswith("apiVersion: ")
        assert new.removeprefix("apiVersion: ") in SERVED_BY_2_8
    # sulibot's chart templates write what 2.8.5 serves: its bump is not blocked
    sulibot = scan(SNAPSHOTS / "sulibot-home-ops").chart_template_apis
    assert sulibot and all(api in SERVED_BY_2_8 for *_, api in sulibot)


@pytest.mark.parametrize("name", NAMES)
def test_a_warm_status_equals_a_cold_one(name: str, tmp_path: Path, cache: dict[str, str]) -> None:
    # The first run keeps what it found in the git directory, the second takes it from there.
    repo = Path(shutil.copytree(SNAPSHOTS / name, tmp_path / name))
    init_git(repo)
    args = ("status", "--json", "--offline", "-q", "--repo", str(repo))
    cold = run_cli(*args, "--no-cache", env=cache)
    first = run_cli(*args, env=cache)
    assert (repo / ".git" / "fluxbump-cache").is_file()
    warm = run_cli(*args, env=cache)
    assert cold.code == first.code == warm.code
    assert json.loads(cold.stdout) == json.loads(first.stdout) == json.loads(warm.stdout)


def test_a_real_disagreement_of_the_flux_cli_and_the_flux_instance_is_reported_once(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    repo = repositories["arthurgeek-home-ops"]
    outcome = run_cli("check", "--offline", "--repo", str(repo), env=cache)
    instance = "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml:27"
    assert outcome.code == 1
    assert outcome.stdout.splitlines() == [
        f".mise.toml:16: mise [tools] pins Flux 2.8.8, flux-instance values pins Flux 2.6.4 "
        f"({instance}) — make them agree",
        "check: 1 violation(s) in 6 pin-sites",
    ]


def test_a_dependency_with_no_repository_is_the_charts_own_copy_not_a_component(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # synthetics-job-manager takes ping-runtime & co. from its own charts/ (no repository):
    # no index can move them, so they are no upstream to bump (they were, and 'to' rewrote
    # the pin while the vendored chart stayed at the old version).
    repo = repositories["newrelic-helm-charts"]
    status = run_cli("status", "--json", "--offline", "--repo", str(repo), env=cache)
    assert status.code == 0, status.stderr
    document = json.loads(status.stdout)
    wrappers = {c["wrapper"] for c in document["components"]}
    assert "synthetics-job-manager" not in wrappers and "agent-control-cd" in wrappers
    assert not [s for s in document["sites"] if "synthetics-job-manager" in s["file"]]
    refused = run_cli(
        "to", "1.0.51", "--component", "ping-runtime", "--offline", "--no-git", "--dry-run",
        "--repo", str(repo), env=cache,
    )  # fmt: skip
    assert refused.code == 2
    assert refused.stderr.startswith("error: --component ping-runtime: no such component")


def test_a_file_yaml_1_2_reads_but_libyaml_refuses_prints_no_python_warning(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # coolguy1771's Taskfile defines ``&vars`` twice and holds a backslash: it cannot pin
    # anything, and reading it must not print ruamel's warning (a whole process: as a user runs it).
    repo = repositories["coolguy1771-home-ops"]
    outcome = run_process("status", "--offline", "-q", "--no-cache", "--repo", str(repo), env=cache)
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr == ""
    assert "helmfile release version  bootstrap/helmfile.yaml:60" in outcome.stdout


def test_one_unreadable_release_pin_file_leaves_flux_unproven_and_every_other_component_working(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # A repository holds hundreds of kustomization.yaml files; one that does not parse must
    # cost the Flux release it may pin (named by file:line), not the run.
    root = work_copy("arthurgeek-home-ops", tmp_path)
    (root / "broken").mkdir()
    (root / "broken/kustomization.yaml").write_text(
        "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.6.4\n  - [\n", "utf-8"
    )
    init_git(root)
    problem = "broken/kustomization.yaml:4: invalid YAML"
    status = run_cli("status", "--offline", "--repo", str(root), env=cache)
    assert status.code == 0, status.stdout + status.stderr
    assert "flux (release pins outside charts)" in status.stdout
    assert f"{problem}" in status.stdout and "flux is unproven" in status.stdout
    check = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert check.code == 1 and problem in check.stdout, check.stdout + check.stderr
    before = snapshot(root)
    refused = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert refused.code == 2 and refused.stderr.startswith(f"error: {problem}"), refused.stderr
    assert snapshot(root) == before
    operator = run_cli(
        "to", "0.59.0", "--component", "flux-operator", "--offline", "--no-git",
        "--repo", str(root), env=cache,
    )  # fmt: skip
    assert operator.code == 0, operator.stdout + operator.stderr
    assert snapshot(root) != before


def test_a_bump_of_an_ansible_downloaded_cli_names_the_digest_it_leaves_stale(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # evocloud's get_url checks the download against flux_cli_checksum, the 2.7.5 asset's:
    # moved alone, the version would fail the next Ansible run without a word from fluxbump.
    root = work_copy("evocloud-dev-evocloud-paas", tmp_path)
    assert placed_warnings(root, "2.8.5", cache) == [(EVO_VARS, 17)]


def test_a_bump_of_a_mise_pinned_cli_names_the_mise_lock_entry_it_leaves(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # mirceanton's mise.lock holds the 2.9.4 CLI's URLs and checksums: with .mise.toml moved
    # alone, 'mise install --locked' refuses the new version until 'mise lock' runs. (2.8.5,
    # the bundled index's newest, is older: without --allow-downgrade the move is refused.)
    root = work_copy("mirceanton-home-ops", tmp_path)
    refused = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert refused.code == 4 and ".mise.toml:19 pins" in refused.stderr, refused.stderr
    assert placed_warnings(root, "2.8.5", cache) == [("mise.lock", 173)]
    assert (root / "mise.lock").read_bytes() == (
        SNAPSHOTS / "mirceanton-home-ops/mise.lock"
    ).read_bytes()


def placed_warnings(root: Path, version: str, cache: dict[str, str]) -> list[tuple[str, int]]:
    """(file, line) of each warning about a place that ``to VERSION`` (it must succeed) gives."""
    args = (
        "to",
        version,
        "--offline",
        "--no-git",
        "--allow-downgrade",
        "--json",
        "--repo",
        str(root),
    )
    outcome = run_cli(*args, env=cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return [(w["file"], w["line"]) for w in json.loads(outcome.stdout)["warnings"] if w["file"]]


def test_a_makefile_release_variable_is_moved_named_and_given_to_renovate(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # weave-gitops: FLUX_VERSION=2.7.2 (line 10) is what its curl of v$(FLUX_VERSION)/install.yaml
    # fetches; its CI installs the latest CLI, and its image the digest's: no bump proves them.
    root = work_copy("weaveworks-weave-gitops", tmp_path)
    init_git(root)
    config = run_cli("renovate-config", "--repo", str(root), env=cache)
    assert config.code == 0, config.stderr
    (manager,) = (
        m for m in json.loads(config.stdout)["customManagers"]
        if "variable a command line" in m["description"]
    )  # fmt: skip
    makefile = (root / "Makefile").read_text("utf-8")
    patterns = [re.compile(p.replace("(?<", "(?P<")) for p in manager["matchStrings"]]
    assert [m["currentValue"] for p in patterns for m in p.finditer(makefile)] == ["2.7.2"]
    moved = run_cli("to", "2.7.5", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr

    def named(said: str) -> list[str]:
        return [line.split(": ")[1] for line in moved.stderr.splitlines() if said in line]

    # the CLI image its dockerfile takes by digest (FROM $FLUX_CLI@sha256:…), and the latest
    # CLI its CI installs, named with the plan (gate/floating.py)
    assert named("left as written") == ["gitops.dockerfile:2"]
    assert named("names no Flux release") == [
        ".github/workflows/nightly.yaml:56",
        ".github/workflows/pr.yaml:52",
    ]
    assert "gate: passed: 1 pin-sites consistent, 3 left unproven" in moved.stdout


def rendered_templates(name: str, into: Path) -> Path:
    """A snapshot's Jinja templates as the files they render (``x.yaml`` of ``x.yaml.j2``):
    makejinja's delimiters are YAML comments, so the oracle reads them as it reads those."""
    for template in (SNAPSHOTS / name).rglob("*.j2"):
        rel = template.relative_to(SNAPSHOTS / name).as_posix().removesuffix(".j2")
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, into / rel)
    return into


def test_each_exact_pin_of_a_jinja_template_is_named_and_the_template_left_as_written(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # gavinmcfall keeps cluster-template's makejinja templates beside the files they rendered;
    # its kustomization.yaml.j2 still pins v2.7.3 (line 7), which a render would put back.
    name = "gavinmcfall-home-ops"
    facts = scan(rendered_templates(name, tmp_path / "rendered"))
    expected = {(f"{p.file}.j2", p.version) for p in facts.flux_pins if p.exact}
    expected |= {(f"{p.file}.j2", p.version) for p in facts.operator_pins}
    root = work_copy(name, tmp_path)
    before = snapshot(root)
    moved = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    named = re.findall(r"^warning: (\S+\.j2):(\d+): this Jinja template pins .* (\S+), which",
                       moved.stderr, re.MULTILINE)  # fmt: skip
    assert {(file, value) for file, _, value in named} == expected
    kustomize = "bootstrap/templates/kubernetes/bootstrap/flux/kustomization.yaml.j2"
    assert (kustomize, "7", "v2.7.3") in named and len(named) == len(expected) == 5
    instance = (
        "bootstrap/templates/kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml.j2"
    )
    assert (instance, "17", "v0.56.0") in named  # flux-operator's distribution artifact
    changed = {rel for rel, *_ in line_changes(before, snapshot(root))}
    assert changed == {p.file for p in scan(SNAPSHOTS / name).flux_pins if p.exact}


def _naming_the_operator_artifact(name: str) -> bool:
    return any(b"flux-operator-manifests" in f.read_bytes()
               for f in (SNAPSHOTS / name).rglob("*") if f.is_file())  # fmt: skip


@pytest.mark.parametrize("name", [n for n in NAMES if _naming_the_operator_artifact(n)])
def test_renovate_s_artifact_manager_reads_exactly_the_artifacts_the_oracle_finds(
    name: str, tmp_path: Path, cache: dict[str, str]
) -> None:
    # mirceanton's artifact at v0.46.0 beside charts at 0.58.1 (check exits 1), Diaoul's and
    # xunholy's with their charts, gavinmcfall's (its Jinja template of the file is named, not
    # moved: no pin); aenix's and 1ab-io's at :latest pin nothing, and get no manager
    root = work_copy(name, tmp_path)
    init_git(root)
    expected = artifact_pins(root)
    config = run_cli("renovate-config", "--repo", str(root), env=cache)
    assert config.code == 0, config.stderr
    dep = "ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
    managers = [m for m in json.loads(config.stdout)["customManagers"]
                if m.get("depNameTemplate") == dep]  # fmt: skip
    if not expected:
        assert managers == []
        return
    (manager,) = managers
    assert manager["managerFilePatterns"] == sorted({rel for rel, _ in expected})
    # every YAML file read (not only those it names): it finds no other artifact in them
    read = {
        (f.relative_to(root).as_posix(), value)
        for f in root.rglob("*.y*ml") if ".git" not in f.relative_to(root).parts
        for value in renovate_regex.values(manager, f.read_text("utf-8", errors="replace"))
    }  # fmt: skip
    assert read == expected


KRATIX = "syntasso-kratix"
KRATIX_INSTALL = "hack/destination/gitops-tk-install.yaml"
KRATIX_WORKFLOW = ".github/workflows/upgrade-flux.yaml"


def test_the_oracle_reads_a_flux_install_export_kept_under_another_name() -> None:
    # kratix's workers apply the CLI's `flux install --export` output, which a workflow writes
    # with the Flux CLI its install script step pins.
    assert sorted((p.file, p.kind, p.version) for p in scan(SNAPSHOTS / KRATIX).flux_pins) == [
        (KRATIX_WORKFLOW, "cli", "2.4.0"),
        (KRATIX_INSTALL, "bootstrap", "v2.4.0"),
    ]


def test_kratix_install_export_is_regenerated_with_its_cli_pin_and_its_objects_moved(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # Before fluxbump read the export, to 2.8.5 moved the CLI pin and the Buckets to v1 while
    # the workers kept installing Flux 2.4.0, which serves no v1 Bucket.
    root, before, outcome = bump_with_stand_in(KRATIX, tmp_path, cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(root)
    assert after.pop(KRATIX_INSTALL).decode().splitlines()[1:3] == [
        "# This manifest was generated by flux. DO NOT EDIT.",
        "# Flux Version: v2.8.5",
    ]  # (the stand-in's whole output: the file is regenerated, not edited)
    del before[KRATIX_INSTALL]
    workflow = [c for c in line_changes(before, after) if c[0] == KRATIX_WORKFLOW]
    assert workflow == [
        (
            KRATIX_WORKFLOW,
            16,
            "        run: curl -s https://fluxcd.io/install.sh | sudo FLUX_VERSION=2.4.0 bash",
            "        run: curl -s https://fluxcd.io/install.sh | sudo FLUX_VERSION=2.8.5 bash",
        )
    ]
    buckets = "hack/destination/gitops-tk-resources.yaml"
    assert (buckets, 2, "apiVersion: source.toolkit.fluxcd.io/v1beta2",
            "apiVersion: source.toolkit.fluxcd.io/v1") in line_changes(before, after)  # fmt: skip


GLK_GOTK = "pkg/components/flux/templates/landscape/flux-system/gotk-components.yaml"


def test_the_oracle_reads_the_cli_an_ocm_descriptor_and_a_run_script_pin() -> None:
    glk = scan(SNAPSHOTS / GLK)
    assert sorted((p.file, p.kind, p.version) for p in glk.flux_pins) == [
        (".ocm/base-component.yaml", "cli", "v2.9.4"),
        ("componentvector/components.yaml", "cli", "v2.9.4"),
        ("dev-setup/git-repos/workflow-push-oci.yaml", "cli", "2.9.3"),
        ("hack/tools.mk", "cli", "$(FLUX_CLI_VERSION)"),  # ?= $(shell grep … components.yaml)
        (GLK_GOTK, "bootstrap", "v2.9.4"),
    ]


def test_bootstrap_manifests_templated_after_flux_install_are_refused_not_regenerated(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # gardener-landscape-kit's generator replaces each controller's image of `flux install
    # --export`'s output with a Go template placeholder its Go code fills from the component
    # vector. `to` overwrote the file with the new CLI's output: the placeholders were gone,
    # and the repository's templating of the controllers' images with them.
    root, before, outcome = bump_with_stand_in(GLK, tmp_path, cache)
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert outcome.stderr.splitlines()[-1] == (
        f"error: {GLK_GOTK}:129: image '{{{{ .resources.sourceController.ociImage.ref }}}}' is "
        "not an image 'flux install --export' writes: the file was changed after flux "
        "generated it, and regenerating it as Flux 2.8.5's output would drop that change; "
        "regenerate it as the repository does, or list it under exclude: in .fluxbump.yaml; "
        "nothing written"
    )
    assert snapshot(root) == before


GLK_VECTOR = "componentvector/components.yaml"
GLK_OCM = ".ocm/base-component.yaml"


def glk_without_its_template(tmp_path: Path) -> Path:
    """A copy of gardener-landscape-kit whose Go-templated manifests (which ``to`` refuses to
    regenerate) are excluded, as its error says to: the rest of the bump can be seen."""
    root = work_copy(GLK, tmp_path)
    (root / ".fluxbump.yaml").write_text(f"exclude:\n  - {GLK_GOTK}\n", "utf-8")
    return root


def test_the_controller_images_of_a_component_vector_are_checked_and_moved_with_flux(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # The component vector (and the OCM descriptor) pin each Flux controller's image at the
    # tag of the release the rest pins (2.9.4); only the CLI beside them was named. A bump
    # left the controllers at 2.9.4's tags, and check never compared them.
    root = glk_without_its_template(tmp_path)
    init_git(root)
    vector = (root / GLK_VECTOR).read_text("utf-8")
    (root / GLK_VECTOR).write_text(vector.replace("tag: v1.6.3", "tag: v1.6.2"), "utf-8")
    check = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert check.code == 1, check.stdout + check.stderr
    assert (
        f"{GLK_VECTOR}:13: helm-controller image of Flux 2.9.1 to 2.9.2 is at v1.6.2, but the "
        "repository installs Flux 2.9.4, whose helm-controller is v1.6.3 — run 'fluxbump to "
        "2.9.4'"
    ) in check.stdout
    (root / GLK_VECTOR).write_text(vector, "utf-8")
    before = snapshot(root)
    moved = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    tags = [(13, "v1.6.3", "v1.5.3"), (17, "v1.9.4", "v1.8.3"), (21, "v1.9.3", "v1.8.3"),
            (25, "v1.9.4", "v1.8.2")]  # fmt: skip
    changed = {(rel, line) for rel, line, *_ in line_changes(before, snapshot(root))}
    assert changed == {
        ("dev-setup/git-repos/workflow-push-oci.yaml", 24),
        *((GLK_OCM, line) for line in (16, 23, 30, 37, 44)),
        *((GLK_VECTOR, line) for line in (9, 13, 17, 21, 25)),
    }
    lines = (root / GLK_VECTOR).read_text("utf-8").splitlines()
    assert [lines[line - 1].strip() for line, _, _ in tags] == [f"tag: {t}" for *_, t in tags]


def test_a_controller_image_the_table_knows_no_tag_of_for_the_target_is_named_left(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    root = glk_without_its_template(tmp_path)
    before = snapshot(root)
    moved = run_cli("to", "2.10.0", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (
        f"warning: {GLK_VECTOR}:13: Flux controller image v1.6.3 left as written: fluxbump "
        "cannot prove it is the helm-controller of Flux 2.10.0 (fluxbump's controller table "
        "ends at Flux 2.9.4); check it by hand"
    ) in moved.stderr.splitlines()
    left = [line for line in moved.stderr.splitlines() if "Flux controller image" in line]
    assert len(left) == 8  # four controllers, each in the vector and the OCM descriptor
    after = snapshot(root)
    assert [c for c in line_changes(before, after) if c[0] == GLK_VECTOR] == [
        (GLK_VECTOR, 9, "        tag: v2.9.4", "        tag: v2.10.0")
    ]


OG = "oliver-goetz-gardener-landscape-kit"
OG_GOTK = "pkg/components/flux/templates/landscape/gotk-components.yaml"


def test_a_makefile_include_pinning_the_cli_is_moved_with_the_bootstrap_manifests(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # hack/tools.mk, a Makefile include, downloads the CLI at FLUX_CLI_VERSION, naming the asset
    # by make's $(FLUX_CLI_VERSION:v%=%). No *.mk file was read: `to` regenerated the manifests
    # and left the CLI that regenerates them at 2.7.3, and check never saw the pin.
    assert [(p.file, p.version) for p in scan(SNAPSHOTS / OG).flux_pins if p.kind == "cli"] == [
        ("hack/tools.mk", "v2.7.3")
    ]
    root, before, outcome = bump_with_stand_in(OG, tmp_path, cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(root)
    assert after.pop(OG_GOTK).decode().splitlines()[2] == "# Flux Version: v2.8.5"
    del before[OG_GOTK]
    assert line_changes(before, after) == [
        ("hack/tools.mk", 6, "FLUX_CLI_VERSION ?= v2.7.3", "FLUX_CLI_VERSION ?= v2.8.5")
    ]


ROLE_DEFAULTS = "defaults/main.yml"


def test_a_role_downloading_the_cli_is_moved_only_to_a_release_its_checksum_table_has(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # The role joins its download URL from variables ('{{ flux_mirror }}/v{{ flux_ver }}/…',
    # the prefix set in defaults/main.yml): no file held the URL, so the pin was missed. Its
    # checksum lookup (flux_checksums[flux_ver]) fails for a release the table lacks.
    assert scan(SNAPSHOTS / ROLE).flux_pins == [FluxPin(ROLE_DEFAULTS, "cli", "2.4.0")]
    root = work_copy(ROLE, tmp_path)
    before = snapshot(root)
    refused = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"error: {ROLE_DEFAULTS}:3: moving flux_ver to 2.8.5 leaves the role's flux_checksums "
        f"({ROLE_DEFAULTS}:11) with no '2.8.5' entry, where its download of the Flux CLI looks "
        "its checksum up: add the 2.8.5 checksums there, or keep this pin (keep: in "
        ".fluxbump.yaml); nothing written"
    )
    assert snapshot(root) == before
    # the entry added (as dl-checksum.sh writes it), the same bump moves the release
    entry = f"  '2.8.5':\n    linux_amd64: sha256:{'a' * 64}\n"
    with (root / ROLE_DEFAULTS).open("a", encoding="utf-8") as defaults:
        defaults.write(entry)
    before = snapshot(root)
    moved = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert line_changes(before, snapshot(root)) == [
        (ROLE_DEFAULTS, 3, "flux_ver: 2.4.0", "flux_ver: 2.8.5")
    ]


SCS = "sovereigncloudstack-k8s-cluster-api-provider"
SCS_SCRIPT = "terraform/files/bin/install_flux.sh"


def test_a_saved_install_script_installs_the_release_its_run_is_given_not_the_latest(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # install_flux.sh saves fluxcd.io/install.sh, then runs the copy as
    # `FLUX_VERSION=$1 install-flux2.sh`. The save was shown as `latest` (a CLI of whichever
    # release is newest), and the run that installs its caller's release was not read.
    assert scan(SNAPSHOTS / SCS).flux_pins == [FluxPin(SCS_SCRIPT, "cli", "$1")]
    root = work_copy(SCS, tmp_path)
    init_git(root)
    status = run_cli("status", "--json", "--offline", "--repo", str(root), env=cache)
    assert status.code == 0, status.stderr
    rows = [(s["line"], s["value"]) for s in json.loads(status.stdout)["sites"]]
    assert rows == [(8, "$1")]
    check = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert check.code == 0, check.stdout + check.stderr
    assert "1 cannot be proven" in check.stdout
    before = snapshot(root)
    moved = run_cli("to", "2.5.1", "--no-git", "--offline", "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(root) == before


TALOS = "sergelogvinov-terraform-talos"
TALOS_RENDER = "_deployments/vars/flux-result.yaml"


def test_the_oracle_reads_a_kustomize_remote_and_a_dev_container_flux_feature() -> None:
    assert sorted((p.file, p.kind, p.version) for p in scan(SNAPSHOTS / TALOS).flux_pins) == [
        (".devcontainer/devcontainer.json", "cli", "latest"),
        ("_deployments/flux/kustomization.yaml", "kustomize", "v2.7.5"),
    ]


def test_the_kustomize_build_a_talos_cluster_applies_is_named_when_its_ref_moves(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # proxmox/Makefile applies the render, not the kustomization: a bump that moves the ref
    # alone leaves the clusters at the render's controllers, so each run names the render.
    named = (
        f"warning: {TALOS_RENDER}:5: Flux's manifests (objects labelled app.kubernetes.io/"
        "part-of: flux, with no release label; controllers helm-controller v1.4.5, "
        "kustomize-controller v1.7.3, notification-controller v1.7.5, source-controller v1.7.4) "
        "kept without the '# Flux Version:' header of 'flux install --export', which fluxbump "
        "does not read, check or move: replace them with the manifests of the release Flux "
        "moves to, or list the file under exclude: in .fluxbump.yaml if it installs no cluster "
        "of this repository"
    )
    root, changes = flux_bump(TALOS, tmp_path, cache)
    assert [c[:2] for c in changes] == [("_deployments/flux/kustomization.yaml", 8)]
    checked = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert checked.code == 0, checked.stdout + checked.stderr
    assert named in checked.stderr.splitlines()


def test_a_nix_generated_fluxinstance_is_named_and_a_tenant_file_under_flux_s_name_is_not(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # dorn-haus/8: Nix writes the FluxInstance (its version from cluster/versions.nix): named at
    # its kind line, never read. flux2-hub-spoke-example: hub/flux-system/gotk-components.yaml
    # holds the tenants' RBAC, no flux install output: no bootstrap pin, no warning of it.
    nix = run_cli("check", "--offline", "--repo", str(repositories["dorn-haus-8"]), env=cache)
    assert nix.code == 0, nix.stdout + nix.stderr
    assert [line.split(": this ")[0] for line in nix.stderr.splitlines() if "Nix" in line] == [
        "warning: manifests/flux-system/flux-instance.yaml.nix:8"
    ]
    hub = "fluxcd-flux2-hub-spoke-example"
    spoke = run_cli("check", "--offline", "--repo", str(repositories[hub]), env=cache)
    assert spoke.code == 0, spoke.stdout + spoke.stderr
    assert "gotk-components" not in spoke.stdout + spoke.stderr


# neuralnetes/monorepo, read from its files: the vendored install's CRDs serve GitRepository
# (source-controller.yaml:191) and Kustomization (kustomize-controller.yaml:7) at v1beta1 only,
# and no pin names the release; its Flux objects are the GitRepository and three Kustomizations.
NEURAL_OBJECTS = [
    ("kustomize/manifests/flux-git-repositories/base/flux-git-repository.yaml", 1, "source"),
    ("kustomize/manifests/flux-kustomization/cert-manager/base/flux-kustomization.yaml", 1,
     "kustomize"),
    ("kustomize/manifests/flux-kustomization/cert-manager/overlays/management-sbsc/"
     "patch-flux-kustomization.yaml", 2, "kustomize"),
    ("kustomize/manifests/flux-kustomization/flux-system/base/flux-kustomization.yaml", 1,
     "kustomize"),
]  # fmt: skip


def test_objects_are_not_moved_past_the_crds_of_a_vendored_install_no_pin_names(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    root = work_copy(NEURAL, tmp_path)
    before = snapshot(root)
    outcome = run_cli("to", "2.6.4", "--offline", "--no-git", "--repo", str(root), env=cache)
    assert outcome.code == 4, outcome.stdout + outcome.stderr
    assert (
        "error: kustomize/manifests/flux-system/base/source-controller.yaml:191: this "
        "repository's CRD gitrepositories.source.toolkit.fluxcd.io serves only v1beta1 and no "
        "pin names the Flux release installing it, so moving GitRepository monorepo "
        f"({NEURAL_OBJECTS[0][0]}:1) to source.toolkit.fluxcd.io/v1 (Flux 2.6.4), and 3 more "
        "objects, would have the API server reject them: upgrade that install first, or pin "
        "its release, then re-run; --force-unsafe-crds overrides; nothing written"
    ) in outcome.stderr.splitlines()
    assert snapshot(root) == before
    forced = run_cli("to", "2.6.4", *UNGUARDED, "--repo", str(root), env=cache)
    assert forced.code == 0, forced.stdout + forced.stderr
    assert line_changes(before, snapshot(root)) == [
        (rel, line, f"apiVersion: {group}.toolkit.fluxcd.io/v1beta1",
         f"apiVersion: {group}.toolkit.fluxcd.io/v1")
        for rel, line, group in NEURAL_OBJECTS
    ]  # fmt: skip


GIANT_CHART = "helm/flux-app/Chart.yaml"


def test_the_oracle_follows_a_script_s_yq_read_of_a_chart_s_app_version() -> None:
    facts = scan(SNAPSHOTS / "giantswarm-flux-app")
    assert facts.flux_pins == [FluxPin(GIANT_CHART, "kustomize", "2.6.4")]
    assert [(p.dependency, p.version) for p in facts.upstream_pins()] == [
        ("kube-state-metrics", "7.2.1")
    ]


def test_flux_repackaged_as_a_chart_moves_its_app_version_and_names_its_add_on_apart(
    tmp_path: Path, repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # giantswarm/flux-app: hack/flux-manifest.sh downloads v${VERSION}'s install.yaml with
    # VERSION=$(yq '.appVersion' ./helm/flux-app/Chart.yaml): the URL was unproven, 'to' did
    # nothing, and the chart was 'flux-app', the wrapper of its optional kube-state-metrics.
    root = repositories["giantswarm-flux-app"]
    outcome = run_cli("status", "--json", "--offline", "--repo", str(root), env=cache)
    document = json.loads(outcome.stdout)
    assert [c["name"] for c in document["components"]] == ["flux", "kube-state-metrics"]
    (flux,) = (s for s in document["sites"] if s["subject"] == "Flux")
    assert (flux["file"], flux["line"], flux["value"], flux["proven"]) == (
        GIANT_CHART, 2, "2.6.4", True
    )  # fmt: skip
    _, changes = flux_bump("giantswarm-flux-app", tmp_path, cache)
    assert changes == [(GIANT_CHART, 2, "appVersion: 2.6.4", "appVersion: 2.8.5")]


# Each controller's image tag in Flux's install.yaml, read from fluxcd/flux2's
# manifests/bases/<controller>/kustomization.yaml at the release tag (v2.6.4, v0.13.4).
FLUX_2_6_4 = {
    "helm-controller": "v1.3.0", "image-automation-controller": "v0.41.2",
    "image-reflector-controller": "v0.35.2", "kustomize-controller": "v1.6.1",
    "notification-controller": "v1.6.0", "source-controller": "v1.6.2",
}  # fmt: skip
FLUX_0_13_4 = {
    "helm-controller": "v0.10.1", "image-automation-controller": "v0.9.1",
    "image-reflector-controller": "v0.9.1", "kustomize-controller": "v0.12.0",
    "notification-controller": "v0.13.0", "source-controller": "v0.12.2",
}  # fmt: skip
GIANT_TEMPLATES = "helm/flux-app/templates/base"


def image_tags(folder: Path, files: list[str], image: str) -> dict[str, str]:
    """controller -> the tag of its Deployment's image, read by ``image`` (a regex whose groups
    are the controller's name and the tag) from each file of ``files``."""
    found = {}
    for name in files:
        (match,) = re.findall(image, (folder / name).read_text("utf-8"), re.MULTILINE)
        found[match[0]] = match[1]
    return found


def test_a_chart_app_version_a_script_reads_is_labelled_so_not_as_a_kustomization(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # giantswarm/flux-app's followed appVersion was labelled 'kustomize remote install', the
    # role of the install.yaml download it stands for: a reader looked for a kustomization.
    root = repositories["giantswarm-flux-app"]
    outcome = run_cli("status", "--offline", "--repo", str(root), env=cache)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    row = next(line for line in outcome.stdout.splitlines() if f"{GIANT_CHART}:2 " in line)
    assert row.split()[:5] == ["chart", "appVersion", "read", "by", "script"], row
    assert "kustomize remote install" not in outcome.stdout


def test_a_chart_s_generated_templates_left_at_the_old_release_are_named_after_to_and_by_check(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    # giantswarm/flux-app: hack/flux-manifest.sh writes the install.yaml of the appVersion's
    # release into templates/base/; 'to' moved the appVersion and said nothing of them.
    root = work_copy("giantswarm-flux-app", tmp_path)
    deployments = sorted(p.name for p in (root / GIANT_TEMPLATES).glob("deployment-*.yaml"))
    tags = image_tags(
        root / GIANT_TEMPLATES, deployments, r"^  name: ([a-z-]+)$[\s\S]*image: '[^']*:(v[\d.]+)'$"
    )
    assert tags == FLUX_2_6_4  # the templates are Flux 2.6.4's: the pin's release
    listed = ", ".join(f"{name} {tag}" for name, tag in sorted(tags.items()))
    stale = (
        f"warning: {GIANT_CHART}:2: {GIANT_TEMPLATES}/ holds Flux 2.6.4's manifests ({listed}), "
        "which hack/flux-manifest.sh generates from this key, now 2.8.5: re-run "
        "hack/flux-manifest.sh to regenerate them"
    )
    before = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert before.code == 0, before.stdout + before.stderr
    assert "flux-manifest.sh" not in before.stderr  # at the pin's release: nothing to say
    moved = run_cli("to", "2.8.5", *UNGUARDED, "--repo", str(root), env=cache)
    assert moved.code == 0, moved.stdout + moved.stderr
    assert stale in moved.stderr.splitlines()
    after = run_cli("check", "--offline", "--repo", str(root), env=cache)
    assert after.code == 0, after.stdout + after.stderr
    assert stale in after.stderr.splitlines()


def test_a_vendored_install_one_file_per_controller_is_named_with_its_release(
    repositories: dict[str, Path], cache: dict[str, str]
) -> None:
    # neuralnetes/monorepo applies Flux 0.13.4's controllers, a file each, through the folder's
    # kustomization.yaml: no header, no release label, so status and check said nothing of it.
    base = repositories[NEURAL] / "kustomize/manifests/flux-system/base"
    kustomization = (base / "kustomization.yaml").read_text("utf-8")
    files = re.findall(r"^- (\S+-controller\.yaml)$", kustomization, re.MULTILINE)
    tags = image_tags(base, files, r"^\s+image: fluxcd/([a-z-]+):(v[\d.]+)$")
    assert tags == FLUX_0_13_4
    listed = ", ".join(f"{name} {tag}" for name, tag in sorted(tags.items()))
    named = (
        "warning: kustomize/manifests/flux-system/base/kustomization.yaml:3: "
        f"kustomize/manifests/flux-system/base/ holds Flux 0.13.4's manifests, one file per "
        f"controller ({listed}), with no '# Flux Version:' header or release label, which "
        "fluxbump does not read, check or move: replace them with the manifests of the release "
        "Flux moves to (each controller's release assets), or list them under exclude: in "
        ".fluxbump.yaml if they install no cluster of this repository"
    )
    for command in ("status", "check"):
        outcome = run_cli(command, "--offline", "--repo", str(repositories[NEURAL]), env=cache)
        assert outcome.code == 0, outcome.stdout + outcome.stderr
        assert named in outcome.stderr.splitlines(), command
