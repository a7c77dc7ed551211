"""flux-operator pins written as Flux post-build placeholders, as stuttgart-things/flux writes
its flux-operator HelmRelease (``version: ${FLUX_WEB_VERSION:-0.43.0}``).

A placeholder's version is what Flux deploys: the value a Kustomization's
``postBuild.substitute`` sets for the file, else the placeholder's default. That is the pin
``check`` compares and ``to`` moves, in place. A variable a Kustomization may take from a
ConfigMap or Secret (``substituteFrom``) is set where fluxbump does not look: unproven, said
with the Kustomization's file:line. The operator chart's version is compared with its other
pins only, never with the Flux release a FluxInstance pins.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import git, snapshot, write_repo
from tests.test_operator_charts import oci_repository

OPERATOR = "clusters/prod/flux-system/flux-operator.yaml"
INSTANCE = "clusters/prod/flux-system/flux-instance.yaml"
SCRIPT = "scripts/bootstrap.sh"
WORKFLOW = ".github/workflows/diff.yaml"
SETTER = "clusters/prod/flux-system.yaml"


def operator_release(version: str) -> str:
    return f"""\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: flux-operator
  namespace: flux-system
spec:
  type: oci
  interval: 1h
  url: oci://ghcr.io/controlplaneio-fluxcd/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-operator
  namespace: flux-system
spec:
  interval: 30m
  chart:
    spec:
      chart: flux-operator
      # renovate: datasource=docker depName=ghcr.io/controlplaneio-fluxcd/charts/flux-operator
      version: {version}
      sourceRef:
        kind: HelmRepository
        name: flux-operator
"""


def flux_instance(version: str) -> str:
    return f"""\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: {version}
    registry: ghcr.io/fluxcd
"""


def bootstrap_script(version: str) -> str:
    return (
        "#!/bin/sh\nhelm upgrade --install flux-operator "
        "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator \\\n"
        f"  --namespace flux-system --create-namespace --version {version}\n"
    )


def workflow(cli: str) -> str:
    return (
        "on: pull_request\njobs:\n  diff:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: fluxcd/flux2/action@main\n        with:\n          version: {cli}\n"
    )


def kustomization(post_build: str) -> str:
    """The Flux Kustomization rendering clusters/prod, with ``post_build`` as its postBuild."""
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: flux-system\n  namespace: flux-system\n"
        "spec:\n  interval: 10m\n  path: ./clusters/prod\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        f"  postBuild:\n{post_build}"
    )


SUBSTITUTE = '    substitute:\n      FLUX_OPERATOR_VERSION: "0.43.0"\n'
SUBSTITUTE_FROM = (
    "    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-versions\n"
    "    substitute:\n      CLUSTER: prod\n"
)


def layout(
    tmp_path: Path,
    *,
    operator: str = "${FLUX_OPERATOR_VERSION:-0.43.0}",
    script: str = "0.43.0",
    instance: str = "${FLUX_VERSION:-2.7.3}",
    cli: str = "2.7.3",
    post_build: str | None = None,
) -> Path:
    """A flux-operator layout: the operator's HelmRelease and a FluxInstance under
    clusters/prod, a bootstrap script installing the operator chart, a workflow's Flux CLI,
    and (``post_build``) the Kustomization that renders clusters/prod."""
    files = {
        OPERATOR: operator_release(operator),
        INSTANCE: flux_instance(instance),
        SCRIPT: bootstrap_script(script),
        WORKFLOW: workflow(cli),
    }
    if post_build is not None:
        files[SETTER] = kustomization(post_build)
    return write_repo(tmp_path / "repo", files)


def sites(repo: Path) -> dict[tuple[str, int], dict[str, object]]:
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert status.code == 0, status.stdout + status.stderr
    return {(s["file"], s["line"]): s for s in json.loads(status.stdout)["sites"]}


def operator_to(repo: Path, version: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files before and after ``to VERSION --component flux-operator``."""
    before = snapshot(repo)
    bump = run_cli(
        "to", version, "--component", "flux-operator", "--offline", "--no-git",
        "--repo", str(repo),
    )  # fmt: skip
    assert bump.code == 0, bump.stdout + bump.stderr
    return before, snapshot(repo)


def test_status_shows_the_operator_default_as_the_pin(tmp_path: Path) -> None:
    # It was shown as "${FLUX_OPERATOR_VERSION:-0.43.0}", expected "0.43.0 (after
    # substitution)", unproven: the default was never read.
    site = sites(layout(tmp_path))[(OPERATOR, 23)]
    assert (site["subject"], site["value"], site["proven"], site["ok"]) == (
        "flux-operator", "0.43.0", True, True,
    )  # fmt: skip
    assert "default of ${FLUX_OPERATOR_VERSION}" in str(site["owner"]), site


def test_check_compares_the_operator_default_with_the_other_operator_pins(
    tmp_path: Path,
) -> None:
    # It passed (exit 0, the HelmRelease "cannot be proven") though the script installs
    # another chart than the HelmRelease then deploys.
    repo = layout(tmp_path, script="0.42.0")
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    said = f"{SCRIPT}:3: script pins flux-operator 0.42.0, HelmRelease flux-system/flux-operator"
    assert said in check.stdout, check.stdout
    assert f"pins 0.43.0 ({OPERATOR}:23)" in check.stdout, check.stdout


def test_the_operator_version_is_not_compared_with_the_flux_release(tmp_path: Path) -> None:
    # The chart's version line is the operator's own: 0.43.0 beside Flux 2.7.3 agrees.
    check = run_cli("check", "--offline", "--repo", str(layout(tmp_path)))
    assert check.code == 0, check.stdout + check.stderr
    assert "cannot be proven" not in check.stdout, check.stdout


def test_to_moves_the_operator_default_inside_the_placeholder_only(tmp_path: Path) -> None:
    # 'to' moved the script alone and left the HelmRelease deploying 0.43.0.
    before, after = operator_to(layout(tmp_path), "0.44.0")
    assert after[OPERATOR] == before[OPERATOR].replace(
        b"${FLUX_OPERATOR_VERSION:-0.43.0}", b"${FLUX_OPERATOR_VERSION:-0.44.0}"
    )
    assert after[SCRIPT] == before[SCRIPT].replace(b"--version 0.43.0", b"--version 0.44.0")
    assert {k for k in after if after[k] != before[k]} == {OPERATOR, SCRIPT}


def test_a_kustomization_that_sets_the_operator_version_is_the_pin_and_to_moves_it(
    tmp_path: Path,
) -> None:
    repo = layout(tmp_path, operator="${FLUX_OPERATOR_VERSION:-0.40.0}", post_build=SUBSTITUTE)
    pins = sites(repo)
    assert (SETTER, 15) in pins, sorted(pins)
    setter = pins[(SETTER, 15)]
    assert (setter["subject"], setter["value"], setter["proven"], setter["ok"]) == (
        "flux-operator", "0.43.0", True, True,
    )  # fmt: skip
    assert (OPERATOR, 23) not in pins  # its default is not in effect
    before, after = operator_to(repo, "0.44.0")
    assert after[SETTER] == before[SETTER].replace(b'"0.43.0"', b'"0.44.0"')
    assert after[OPERATOR] == before[OPERATOR]
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_a_variable_a_kustomization_may_take_from_a_configmap_is_unproven_where_it_is_set(
    tmp_path: Path,
) -> None:
    # The FluxInstance's default was compared (a violation beside the CLI at 2.7.2) though
    # the ConfigMap may set FLUX_VERSION; the operator's showed no Kustomization.
    repo = layout(tmp_path, cli="2.7.2", post_build=SUBSTITUTE_FROM)
    pins = sites(repo)
    for rel, variable in ((OPERATOR, "FLUX_OPERATOR_VERSION"), (INSTANCE, "FLUX_VERSION")):
        site = pins[(rel, 23 if rel == OPERATOR else 8)]
        assert site["proven"] is False, site
        why = str(site.get("unproven", ""))
        assert f"ConfigMap cluster-versions ({SETTER}:15)" in why, site
        assert f"set {variable} in its postBuild.substitute" in why, site
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    assert f"{OPERATOR}:23 (" in check.stdout and f"{INSTANCE}:8 (" in check.stdout
    before, after = operator_to(repo, "0.44.0")
    assert {k for k in after if after[k] != before[k]} == {SCRIPT}


# An OCIRepository of the operator chart in a file read before the HelmRelease's: the first
# exact pin, which ``sync`` takes when it sees no pin moved.
TAG = "clusters/prod/flux-system/a-operator-source.yaml"


def renovate_moved(repo: Path, rel: str, old: bytes, new: bytes) -> dict[str, bytes]:
    """The files after ``sync --component flux-operator`` once ``rel`` was moved from ``old``
    to ``new``, as Renovate moves it; the move is checked kept."""
    (repo / TAG).write_text(oci_repository("flux-operator", "0.43.0"), "utf-8")
    git(repo, "add", TAG)
    git(repo, "commit", "-qm", "the operator chart's source")
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    moved = (repo / rel).read_bytes().replace(old, new)
    (repo / rel).write_bytes(moved)
    synced = run_cli("sync", "--component", "flux-operator", "--offline", "--repo", str(repo))
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / rel).read_bytes() == moved
    return snapshot(repo)


def test_sync_follows_the_operator_default_renovate_moved(tmp_path: Path) -> None:
    # The default was not read at the base revision: sync saw no pin moved, took the
    # OCIRepository's 0.43.0 and moved the default back.
    after = renovate_moved(layout(tmp_path), OPERATOR, b":-0.43.0}", b":-0.44.0}")
    assert b'tag: "0.44.0"' in after[TAG] and b"--version 0.44.0" in after[SCRIPT]


def test_sync_follows_the_operator_version_a_kustomization_sets(tmp_path: Path) -> None:
    repo = layout(tmp_path, operator="${FLUX_OPERATOR_VERSION:-0.40.0}", post_build=SUBSTITUTE)
    after = renovate_moved(repo, SETTER, b'"0.43.0"', b'"0.44.0"')
    assert b'tag: "0.44.0"' in after[TAG] and b"--version 0.44.0" in after[SCRIPT]


def test_a_configmap_substituted_for_another_directory_leaves_the_default_the_pin(
    tmp_path: Path,
) -> None:
    # (the ConfigMap may set variables of what its Kustomization renders, not of clusters/prod)
    other = kustomization(SUBSTITUTE_FROM).replace("./clusters/prod", "./apps/prod")
    repo = layout(tmp_path, script="0.42.0", post_build=None)
    (repo / "apps/prod").mkdir(parents=True)
    (repo / "apps/prod/namespace.yaml").write_text("apiVersion: v1\nkind: Namespace\n")
    (repo / SETTER).write_text(other, "utf-8")
    pins = sites(repo)
    assert (pins[(OPERATOR, 23)]["value"], pins[(OPERATOR, 23)]["proven"]) == ("0.43.0", True)
    assert (pins[(INSTANCE, 8)]["value"], pins[(INSTANCE, 8)]["proven"]) == ("2.7.3", True)
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1  # the script's 0.42.0
