"""The Flux API versions of the objects a flux-operator ResourceSet generates (``spec.resources``)
are checked against the pinned release's CRDs and moved by ``to`` exactly as top-level ones.

The ResourceSet has the shape of the Flux Operator's reference fleet (controlplaneio-fluxcd/
d2-fleet's ``tenants/apps.yaml``, written here anew): per-tenant objects rendered from
``<< inputs.… >>``, among them Flux sources and a Kustomization. Flux 2.8 (flux2 chart 2.18.x)
stops serving every ``v1beta2``: an operator applying the rendered objects is then refused by the
API server, the same class of failure as a top-level object left behind. End to end through the
CLI on real git repos and the real CRD catalog.
"""

from __future__ import annotations

from pathlib import Path

from fluxbump.fleet import FleetSpec, write_fleet
from fluxbump.scan.apiversions import api_versions
from fluxbump.scan.sources import source_of
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import (
    CONSISTENT,
    changed_lines,
    commit_file,
    edit,
    git,
    make_fleet,
    snapshot,
    write_repo,
)
from tests.support.helm_server import HelmServer
from tests.test_resourceset import INSTANCE as FLUX_INSTANCE

FLUX_2_7 = {"flux_release": "2.7.5", "flux_chart": "2.17.2"}
TENANTS = "clusters/omantel.omani.works/tenants/apps.yaml"

RESOURCE_SET = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
      kind: Kustomization
      name: infra-configs
      namespace: flux-system
  inputs:
    - tenant: "frontend"
      interval: "5m"
    - tenant: "backend"
      interval: "10m"
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: << inputs.tenant >>
    - apiVersion: source.toolkit.fluxcd.io/v1beta2   # written for Flux 2.2
      kind: HelmRepository
      metadata:
        name: charts
        namespace: << inputs.tenant >>
      spec:
        interval: << inputs.interval >>
        url: https://charts.example.invalid/<< inputs.tenant >>
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: apps
        namespace: << inputs.tenant >>
      spec:
        interval: 5m
        url: "oci://ghcr.io/example/apps/<< inputs.tenant >>"
        ref:
          tag: latest
    - apiVersion: "kustomize.toolkit.fluxcd.io/v1beta2"
      kind: Kustomization
      metadata:
        name: apps
        namespace: << inputs.tenant >>
      spec:
        targetNamespace: << inputs.tenant >>
        interval: 30m
        path: "./<< inputs.tenant >>"
        prune: true
        sourceRef:
          kind: OCIRepository
          name: apps
    - apiVersion: << inputs.api >>
      kind: HelmRelease
      metadata:
        name: rendered
        namespace: << inputs.tenant >>
"""
# One more generated source at v1beta2, appended to RESOURCE_SET's resources.
GIT_REPOSITORY = """\
    - apiVersion: source.toolkit.fluxcd.io/v1beta2
      kind: GitRepository
      metadata:
        name: config
        namespace: << inputs.tenant >>
      spec:
        interval: 5m
        url: https://git.example.invalid/<< inputs.tenant >>
        ref:
          branch: main
"""
# The lines of the two v1beta2 objects' apiVersion in RESOURCE_SET (1-based).
HELM_REPOSITORY_LINE = 22
KUSTOMIZATION_LINE = 40
# check's line for each of them, at Flux 2.8.5.
UNSERVED_BY_2_8 = [
    f"{TENANTS}:{HELM_REPOSITORY_LINE}: HelmRepository << inputs.tenant >>/charts: "
    "apiVersion source.toolkit.fluxcd.io/v1beta2 is not served by Flux 2.8.5; "
    "'fluxbump to' moves it to source.toolkit.fluxcd.io/v1",
    f"{TENANTS}:{KUSTOMIZATION_LINE}: Kustomization << inputs.tenant >>/apps: apiVersion "
    "kustomize.toolkit.fluxcd.io/v1beta2 is not served by Flux 2.8.5; 'fluxbump to' moves "
    "it to kustomize.toolkit.fluxcd.io/v1",
]


def fleet_with_resource_set(root: Path, text: str = RESOURCE_SET) -> Path:
    repo = make_fleet(root, CONSISTENT, git=True, **FLUX_2_7)
    return commit_file(repo, TENANTS, text, "tenants")


def bump(server: HelmServer, repo: Path, *args: str) -> Outcome:
    return run_cli("to", *args, "--repo", str(repo), "--helm-repo", server.base_url)


def check(server: HelmServer, repo: Path) -> Outcome:
    return run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url)


def test_the_line_numbers_name_the_nested_api_versions() -> None:
    lines = RESOURCE_SET.splitlines()
    assert lines[HELM_REPOSITORY_LINE - 1].lstrip().startswith("- apiVersion: source.toolkit")
    assert lines[KUSTOMIZATION_LINE - 1].lstrip().startswith('- apiVersion: "kustomize.toolkit')


def test_check_names_each_generated_object_the_pinned_release_does_not_serve(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with_resource_set(tmp_path / "repo")
    served = check(helm_server, repo)
    # Flux 2.7 still serves v1beta2 but deprecates it: a warning at each nested line.
    assert served.code == 0, served.stdout + served.stderr
    assert (
        f"{TENANTS}:{HELM_REPOSITORY_LINE}: HelmRepository << inputs.tenant >>/charts: apiVersion "
        "source.toolkit.fluxcd.io/v1beta2 is deprecated by Flux 2.7.5" in served.stderr
    )
    # Pin the 2.8 chart by hand (as a Renovate PR would): the v1beta2 objects are now unserved.
    write_fleet(repo, FleetSpec(flux_release="2.8.5", flux_chart="2.18.3"))
    outcome = check(helm_server, repo)
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    lines = [x for x in outcome.stdout.splitlines() if "is not served by" in x]
    assert lines == UNSERVED_BY_2_8


def test_to_moves_exactly_the_generated_objects_unserved_api_versions(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = fleet_with_resource_set(tmp_path / "repo")
    outcome = bump(helm_server, repo, "2.8.5")
    assert outcome.code == 0, outcome.stderr
    assert changed_lines(repo, TENANTS) == [
        "-    - apiVersion: source.toolkit.fluxcd.io/v1beta2   # written for Flux 2.2",
        "+    - apiVersion: source.toolkit.fluxcd.io/v1   # written for Flux 2.2",
        '-    - apiVersion: "kustomize.toolkit.fluxcd.io/v1beta2"',
        '+    - apiVersion: "kustomize.toolkit.fluxcd.io/v1"',
    ]
    # The served OCIRepository, the dependsOn reference (not an object the set generates) and
    # the apiVersion rendered from the inputs are as they were: every other byte is.
    assert (repo / TENANTS).read_text() == RESOURCE_SET.replace(
        "source.toolkit.fluxcd.io/v1beta2   #", "source.toolkit.fluxcd.io/v1   #"
    ).replace('"kustomize.toolkit.fluxcd.io/v1beta2"', '"kustomize.toolkit.fluxcd.io/v1"')
    assert git(repo, "log", "-1", "--format=%s").startswith("Bump Flux to v2.8.5")
    assert (
        f"{TENANTS}:{HELM_REPOSITORY_LINE}: Flux apiVersion (HelmRepository "
        "<< inputs.tenant >>/charts)" in outcome.stdout
    )
    assert check(helm_server, repo).code == 0


def test_a_resource_set_of_served_versions_is_left_untouched(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    text = RESOURCE_SET.replace("fluxcd.io/v1beta2   #", "fluxcd.io/v1   #").replace(
        '"kustomize.toolkit.fluxcd.io/v1beta2"', '"kustomize.toolkit.fluxcd.io/v1"'
    )
    repo = fleet_with_resource_set(tmp_path / "repo", text)
    outcome = bump(helm_server, repo, "2.8.5")
    assert outcome.code == 0, outcome.stderr
    assert git(repo, "diff", "--stat", "HEAD~1", "--", TENANTS) == ""
    assert "Flux apiVersion" not in outcome.stdout


def test_a_generated_object_that_would_not_validate_is_refused_naming_the_field(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # A field GitRepository v1beta2 has and v1 lacks that Flux's migration notes do not
    # rename; a field every version lacks is not the move's doing
    # (tests/test_api_move_already_invalid.py).
    text = RESOURCE_SET + GIT_REPOSITORY + "        accessFrom:\n          namespaceSelectors: []\n"
    repo = fleet_with_resource_set(tmp_path / "repo", text)
    before = snapshot(repo)
    outcome = bump(helm_server, repo, "2.8.5")
    assert outcome.code == 2, outcome.stderr
    access_line = RESOURCE_SET.count("\n") + GIT_REPOSITORY.count("\n") + 1
    assert outcome.stderr.startswith(
        f"error: {TENANTS}:{access_line}: moving GitRepository "
        "<< inputs.tenant >>/config from source.toolkit.fluxcd.io/v1beta2 to "
        "source.toolkit.fluxcd.io/v1 leaves it invalid: GitRepository "
    ), outcome.stderr
    assert "spec.accessFrom: unknown field" in outcome.stderr
    assert "nothing written" in outcome.stderr
    assert snapshot(repo) == before


def test_the_scan_names_a_resource_sets_generated_api_versions() -> None:
    kinds = ("HelmRelease", "HelmRepository", "Kustomization", "Namespace", "OCIRepository",
             "ResourceSet")  # fmt: skip
    assert api_versions(RESOURCE_SET.encode()) == (
        ("kustomize.toolkit.fluxcd.io", "v1beta2", kinds),
        ("source.toolkit.fluxcd.io", "v1beta2", kinds),
        ("source.toolkit.fluxcd.io", "v1", kinds),
        ("kustomize.toolkit.fluxcd.io", "v1beta2", kinds),
    )
    # Indented lines of any other file are not objects (a HelmRelease's sourceRef, a list).
    nested = b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n" + (
        b"  chart:\n    spec:\n      sourceRef:\n        apiVersion: source.toolkit.fluxcd.io/v1beta2\n"
    )
    assert api_versions(nested) == (("helm.toolkit.fluxcd.io", "v2", ("HelmRelease",)),)


def test_the_generated_objects_are_flux_objects_at_their_path_in_the_document() -> None:
    from fluxbump.crds.migrate import flux_objects

    found = flux_objects(source_of(TENANTS, ("---\n" + RESOURCE_SET).encode()))
    assert [(o.site.line, o.site.value, o.site.path) for o in found] == [
        (HELM_REPOSITORY_LINE + 1, "source.toolkit.fluxcd.io/v1beta2",
         ("spec", "resources", 1, "apiVersion")),
        (HELM_REPOSITORY_LINE + 9, "source.toolkit.fluxcd.io/v1",
         ("spec", "resources", 2, "apiVersion")),
        (KUSTOMIZATION_LINE + 1, "kustomize.toolkit.fluxcd.io/v1beta2",
         ("spec", "resources", 3, "apiVersion")),
    ]  # fmt: skip
    # An apiVersion whose version the ResourceSet renders from its inputs is not guessed.
    rendered = RESOURCE_SET.replace("<< inputs.api >>", "helm.toolkit.fluxcd.io/<< inputs.api >>")
    assert rendered != RESOURCE_SET
    again = flux_objects(source_of(TENANTS, ("---\n" + rendered).encode()))
    assert [o.site.path for o in again] == [o.site.path for o in found]
    # The object itself: its data and its line.
    assert found[0].doc.obj["spec"] == {"interval": "<< inputs.interval >>", "url": (
        "https://charts.example.invalid/<< inputs.tenant >>")}  # fmt: skip
    assert found[0].doc.line == HELM_REPOSITORY_LINE + 1


def test_a_field_flux_renamed_moves_with_the_generated_objects_api_version(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    patched = "        prune: true\n" + (
        "        patchesStrategicMerge:\n"
        "          - apiVersion: apps/v1   # fewer replicas\n"
        "            kind: Deployment\n"
        "            metadata: {name: << inputs.tenant >>}\n"
        "            spec:\n"
        "              replicas: 2\n"
    )
    repo = fleet_with_resource_set(
        tmp_path / "repo", RESOURCE_SET.replace("        prune: true\n", patched)
    )
    outcome = bump(helm_server, repo, "2.8.5")
    assert outcome.code == 0, outcome.stderr
    migrated = (
        RESOURCE_SET.replace("fluxcd.io/v1beta2   #", "fluxcd.io/v1   #")
        .replace('"kustomize.toolkit.fluxcd.io/v1beta2"', '"kustomize.toolkit.fluxcd.io/v1"')
        .replace(
            "        prune: true\n",
            "        prune: true\n"
            "        patches:\n"
            "          - patch: |\n"
            "              apiVersion: apps/v1   # fewer replicas\n"
            "              kind: Deployment\n"
            "              metadata: {name: << inputs.tenant >>}\n"
            "              spec:\n"
            "                replicas: 2\n",
        )
    )
    assert (repo / TENANTS).read_text() == migrated
    assert (
        f"{TENANTS}:{KUSTOMIZATION_LINE + 10}: Flux API field (Kustomization "
        "<< inputs.tenant >>/apps) patchesStrategicMerge -> patches" in outcome.stdout
    )


def test_without_a_wrapper_chart_check_judges_them_by_the_flux_instance_release(
    tmp_path: Path,
) -> None:
    """The d2-fleet layout: flux-operator's FluxInstance installs Flux, no chart wraps it."""
    files = {"clusters/a/flux-instance.yaml": FLUX_INSTANCE.replace('"2.4.0"', '"2.7.5"')}
    repo = write_repo(tmp_path / "repo", {**files, TENANTS: RESOURCE_SET})
    served = run_cli("check", "--repo", str(repo), "--offline")
    assert served.code == 0, served.stdout + served.stderr
    assert f"{TENANTS}:{KUSTOMIZATION_LINE}: Kustomization " in served.stderr  # deprecated
    edit(repo, "clusters/a/flux-instance.yaml", '"2.7.5"', '"2.8.5"')
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert [x for x in outcome.stdout.splitlines() if "is not served by" in x] == (UNSERVED_BY_2_8)
    # `to` from 2.7.5 moves them, and check then agrees.
    edit(repo, "clusters/a/flux-instance.yaml", '"2.8.5"', '"2.7.5"')
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert len(changed_lines(repo, TENANTS)) == 4
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


STEPS = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: app
  namespace: flux-system
spec:
  steps:
    - name: pre-deploy
      resources:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: app
            namespace: flux-system
    - name: deploy
      resources:
        - apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
          kind: Kustomization
          metadata:
            name: app
            namespace: flux-system
          spec:
            interval: 10m
            path: ./app
            prune: true
            sourceRef:
              kind: GitRepository
              name: flux-system
"""


def test_the_objects_of_a_resource_sets_steps_are_generated_objects_too(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """``spec.steps[*].resources`` (flux-operator's ordered steps) hold objects as
    ``spec.resources`` does."""
    rel = "clusters/omantel.omani.works/app/steps.yaml"
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    commit_file(repo, rel, STEPS, "steps")
    write_fleet(repo, FleetSpec(flux_release="2.8.5", flux_chart="2.18.3"))
    outcome = check(helm_server, repo)
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert [x for x in outcome.stdout.splitlines() if "is not served by" in x] == [
        f"{rel}:17: Kustomization flux-system/app: apiVersion kustomize.toolkit.fluxcd.io/v1beta2 "
        "is not served by Flux 2.8.5; 'fluxbump to' moves it to kustomize.toolkit.fluxcd.io/v1"
    ]
    git(repo, "checkout", "-q", ".")
    moved = bump(helm_server, repo, "2.8.5")
    assert moved.code == 0, moved.stderr
    assert changed_lines(repo, rel) == [
        "-        - apiVersion: kustomize.toolkit.fluxcd.io/v1beta2",
        "+        - apiVersion: kustomize.toolkit.fluxcd.io/v1",
    ]


TEMPLATED = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: bundles
  namespace: flux-system
spec:
  inputs:
    - bundle: addons
      components: [ingress-nginx, cert-manager]
  resourcesTemplate: |
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: << inputs.bundle >>
      namespace: flux-system
    spec:
      interval: 10m
      url: oci://registry.example.invalid/<< inputs.bundle >>
    <<- range $component := inputs.components >>
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
    kind: Kustomization
    metadata:
      name: << $component >>
      namespace: flux-system
    spec:
      interval: 1h
      prune: true
      sourceRef:
        apiVersion: source.toolkit.fluxcd.io/v1beta2
        kind: OCIRepository
        name: << inputs.bundle >>
      path: ./<< $component >>
    <<- end >>
"""
TEMPLATE_KUSTOMIZATION_LINE = 22  # its apiVersion line in TEMPLATED


def test_a_resources_template_line_of_an_unserved_version_is_reported_and_refused(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    """A resourcesTemplate is not YAML until the operator renders it: it is never parsed or
    rewritten, but a top-level ``apiVersion: <Flux group>/<version>`` line of it that no CRD
    of the group serves is an object the operator could not apply, whatever its kind."""
    assert TEMPLATED.splitlines()[TEMPLATE_KUSTOMIZATION_LINE - 1].startswith(
        "    apiVersion: kustomize.toolkit.fluxcd.io/v1beta2"
    )
    rel = "clusters/omantel.omani.works/app/bundles.yaml"
    repo = make_fleet(tmp_path / "repo", CONSISTENT, git=True, **FLUX_2_7)
    commit_file(repo, rel, TEMPLATED, "bundles")
    assert check(helm_server, repo).code == 0
    write_fleet(repo, FleetSpec(flux_release="2.8.5", flux_chart="2.18.3"))
    outcome = check(helm_server, repo)
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    # Not the sourceRef's apiVersion (no object's), not the served OCIRepository.
    assert [x for x in outcome.stdout.splitlines() if "is not served by" in x] == [
        f"{rel}:{TEMPLATE_KUSTOMIZATION_LINE}: ResourceSet flux-system/bundles resourcesTemplate: apiVersion "
        "kustomize.toolkit.fluxcd.io/v1beta2 is not served by Flux 2.8.5; a template is not "
        "rewritten: write kustomize.toolkit.fluxcd.io/v1 there by hand"
    ]
    git(repo, "checkout", "-q", ".")
    before = snapshot(repo)
    refused = bump(helm_server, repo, "2.8.5")
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stderr == (
        f"error: {rel}:{TEMPLATE_KUSTOMIZATION_LINE}: ResourceSet flux-system/bundles resourcesTemplate: "
        "apiVersion kustomize.toolkit.fluxcd.io/v1beta2 is not served by Flux 2.8.5, and a "
        "template is not rewritten: write kustomize.toolkit.fluxcd.io/v1 there by hand, then "
        "re-run; nothing written\n"
    )
    assert snapshot(repo) == before
    # Written by hand as the message says, the bump goes through.
    edit(repo, rel, "kustomize.toolkit.fluxcd.io/v1beta2", "kustomize.toolkit.fluxcd.io/v1")
    git(repo, "commit", "-qam", "by hand")
    assert bump(helm_server, repo, "2.8.5").code == 0


def test_a_resources_template_not_written_as_a_literal_block_is_not_read() -> None:
    from fluxbump.crds.migrate import flux_objects

    literal = flux_objects(source_of("a.yaml", TEMPLATED.encode()))
    assert [(o.site.line, o.site.value) for o in literal] == [
        (12, "source.toolkit.fluxcd.io/v1"),
        (TEMPLATE_KUSTOMIZATION_LINE, "kustomize.toolkit.fluxcd.io/v1beta2"),
    ]
    # Folded, its lines are not the file's lines one for one: left alone.
    folded = TEMPLATED.replace("resourcesTemplate: |", "resourcesTemplate: >")
    assert flux_objects(source_of("a.yaml", folded.encode())) == []
