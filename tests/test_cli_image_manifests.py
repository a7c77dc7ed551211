"""The Flux CLI's image in a Kubernetes manifest is a pin of the release, as in a Dockerfile.

weaveworks/weave-gitops-enterprise bootstraps each new cluster from a ClusterBootstrapConfig
whose Job runs ``ghcr.io/fluxcd/flux-cli:v2.0.0 bootstrap github …``: that image installs Flux
2.0.0 on every cluster it creates. A CronJob running ``flux reconcile`` is the same CLI. Only
the files of the ``release_pins`` globs (Dockerfiles, CI) were searched for the image, so
``status`` did not list it, ``check`` passed over it and ``to`` left it behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo
from tests.test_api_move_already_invalid import INSTALL, INSTALL_TEXT  # Flux 2.7.5 installed

BOOTSTRAP = "capi/cluster-bootstrap-config.yaml"
BOOTSTRAP_TEXT = """\
apiVersion: capi.weave.works/v1alpha1
kind: ClusterBootstrapConfig
metadata:
  name: capi-gitops
  namespace: default
spec:
  jobTemplate:
    generateName: "run-gitops-{{ .ObjectMeta.Name }}"
    spec:
      containers:
        - image: ghcr.io/fluxcd/flux-cli:v2.6.0
          name: flux-bootstrap
          args: ["bootstrap", "github", "--owner=$(GITHUB_USER)"]
      restartPolicy: Never
"""
CRONJOB = "apps/flux-reconcile.yaml"
CRONJOB_TEXT = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: flux-reconcile
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: flux
              # the CLI of the installed release
              image: "ghcr.io/fluxcd/flux-cli:v2.6.0"
              args: ["reconcile", "source", "git", "flux-system"]
"""
WORKFLOW = ".github/workflows/validate.yaml"
WORKFLOW_TEXT = """\
jobs:
  validate:
    runs-on: ubuntu-latest
    container: ghcr.io/fluxcd/flux-cli:v2.7.5
    steps:
      - run: flux check --pre
"""


def _cli_pins(repo: Path) -> list[tuple[str, int, str]]:
    outcome = run_cli("status", "--json", "--offline", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    sites = json.loads(outcome.stdout)["sites"]
    return sorted((s["file"], s["line"], s["value"]) for s in sites if s["role"] == "Flux CLI pin")


def test_the_cli_image_of_a_job_and_a_cron_job_is_checked_and_moved(tmp_path: Path) -> None:
    files = {INSTALL: INSTALL_TEXT, BOOTSTRAP: BOOTSTRAP_TEXT, CRONJOB: CRONJOB_TEXT}
    repo = write_repo(tmp_path / "repo", files)
    assert _cli_pins(repo) == [(CRONJOB, 14, "v2.6.0"), (BOOTSTRAP, 11, "v2.6.0")]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    said = {row.split(": ", 1)[0] for row in check.stdout.splitlines()}
    assert {f"{BOOTSTRAP}:11", f"{CRONJOB}:14"} <= said
    before = snapshot(repo)
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    after = snapshot(repo)
    for rel in (BOOTSTRAP, CRONJOB):
        assert after[rel] == before[rel].replace(b"v2.6.0", b"v2.8.5")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_an_image_in_a_file_read_for_release_pins_anyway_is_one_pin(tmp_path: Path) -> None:
    """A workflow is YAML too (read by the cluster pass): its image is listed once."""
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, WORKFLOW: WORKFLOW_TEXT})
    assert _cli_pins(repo) == [(WORKFLOW, 4, "v2.7.5")]


# aws-samples/eks-multi-cluster-gitops installs the CLI on its workstation from a
# CloudFormation template's UserData (initial-setup/auto/cfn.yaml), a YAML list of commands.
CFN = "initial-setup/auto/cfn.yaml"
CFN_TEXT = """\
Resources:
  SetupDocument:
    Type: AWS::SSM::Document
    Properties:
      Content:
        mainSteps:
          - action: aws:runShellScript
            inputs:
              runCommand:
                - "echo \\"Installing flux v2...\\""
                - "curl -s https://fluxcd.io/install.sh | sudo FLUX_VERSION=2.6.0 bash"
                - "curl -sL https://github.com/fluxcd/flux2/releases/download/v2.6.0/flux_2.6.0_linux_arm64.tar.gz | tar xz"
"""


def test_a_cli_install_in_any_yaml_file_is_checked_and_moved(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, CFN: CFN_TEXT})
    assert _cli_pins(repo) == [(CFN, 11, "2.6.0"), (CFN, 12, "2.6.0"), (CFN, 12, "2.6.0")]
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 1
    before = snapshot(repo)[CFN]
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    assert snapshot(repo)[CFN] == before.replace(b"2.6.0", b"2.8.5")


# The CLI's image as Helm values give images: a repository (with or without its registry,
# or as the flux2 chart's ``cli.image``) and a tag beside it.
VALUES = "apps/flux-tools/values.yaml"
VALUES_TEXT = """\
# the job that runs 'flux reconcile'
reconciler:
  image: {repository: ghcr.io/fluxcd/flux-cli, tag: v2.6.0}
checker:
  image:
    registry: ghcr.io
    repository: fluxcd/flux-cli
    tag: "v2.6.0"
    pullPolicy: IfNotPresent
cli:
  image: ghcr.io/fluxcd/flux-cli
  tag: v2.6.0
pinned:
  image: {repository: fluxcd/flux-cli, tag: v2.6.0, digest: "sha256:%s"}
other:
  image: {repository: ghcr.io/fluxcd/flux-cli-extra, tag: v2.6.0}
""" % ("0" * 64)


def test_a_cli_image_given_as_repository_and_tag_is_checked_and_moved(tmp_path: Path) -> None:
    """``image: {repository: ghcr.io/fluxcd/flux-cli, tag: v2.3.0}`` was no pin, though
    ``image: ghcr.io/fluxcd/flux-cli:v2.3.0`` is: ``check`` passed over it and ``to`` left it.
    Only the tag moves; one with a digest beside it is pulled by the digest (no pin), and
    another repository's image is not the CLI's."""
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, VALUES: VALUES_TEXT})
    assert _cli_pins(repo) == [(VALUES, 3, "v2.6.0"), (VALUES, 8, "v2.6.0"), (VALUES, 12, "v2.6.0")]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    said = {row.split(": ", 1)[0] for row in check.stdout.splitlines()}
    assert {f"{VALUES}:3", f"{VALUES}:8", f"{VALUES}:12"} <= said
    before = snapshot(repo)[VALUES].decode()
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    lines = before.splitlines(keepends=True)
    for number in (3, 8, 12):
        lines[number - 1] = lines[number - 1].replace("v2.6.0", "v2.8.5")
    assert snapshot(repo)[VALUES].decode() == "".join(lines)
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0
