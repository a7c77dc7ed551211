"""The Flux CLI a CI pipeline of any common forge or runner installs is a pin of the release.

Only GitHub Actions workflows were read: a ``.gitlab-ci.yml`` job running the CLI's image
(``image: ghcr.io/fluxcd/flux-cli:v2.6.0``) or piping Flux's install script with a release
(what fluxcd.io documents for CI) was no pin at all, so ``check`` passed over a CLI two minors
behind the cluster and ``to`` left it there. The same holds for Gitea and Forgejo Actions,
Azure Pipelines, Bitbucket Pipelines, CircleCI, Woodpecker, Drone, Buildkite and Jenkins.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo
from tests.test_api_move_already_invalid import INSTALL, INSTALL_TEXT  # Flux 2.7.5 installed

IMAGE_JOB = """\
validate:
  image: ghcr.io/fluxcd/flux-cli:v2.6.0
  script:
    - flux check --pre
"""
SCRIPT_JOB = """\
steps:
  - script: curl -s https://fluxcd.io/install.sh | FLUX_VERSION=2.6.0 bash
  - script: flux check --pre
"""
ACTION_JOB = """\
jobs:
  validate:
    runs-on: docker
    steps:
      - uses: fluxcd/flux2/action@main
        with:
          version: 2.6.0
"""
JENKINSFILE = """\
pipeline {
  agent any
  stages {
    stage('flux') {
      steps {
        sh 'curl -s https://fluxcd.io/install.sh | FLUX_VERSION=2.6.0 bash'
      }
    }
  }
}
"""
# (file, text, the line of its pin)
PIPELINES = [
    (".gitlab-ci.yml", IMAGE_JOB, 2),
    (".gitlab/ci/flux.yml", IMAGE_JOB, 2),
    (".gitea/workflows/flux.yaml", ACTION_JOB, 7),
    (".forgejo/workflows/flux.yml", ACTION_JOB, 7),
    ("azure-pipelines.yml", SCRIPT_JOB, 2),
    ("bitbucket-pipelines.yml", IMAGE_JOB, 2),
    (".circleci/config.yml", IMAGE_JOB, 2),
    (".woodpecker.yaml", IMAGE_JOB, 2),
    (".woodpecker/flux.yml", SCRIPT_JOB, 2),
    (".drone.yml", IMAGE_JOB, 2),
    (".buildkite/pipeline.yml", SCRIPT_JOB, 2),
    ("Jenkinsfile", JENKINSFILE, 6),
]


@pytest.mark.parametrize(("rel", "text", "line"), PIPELINES, ids=[p[0] for p in PIPELINES])
def test_a_ci_pipeline_installing_an_older_cli_fails_check_and_moves_with_the_bump(
    tmp_path: Path, rel: str, text: str, line: int
) -> None:
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, rel: text})
    status = run_cli("status", "--json", "--offline", "--repo", str(repo))
    pins = [
        (s["role"], s["line"], s["value"])
        for s in json.loads(status.stdout)["sites"]
        if s["file"] == rel
    ]
    written = "v2.6.0" if text == IMAGE_JOB else "2.6.0"  # an image tag keeps its "v"
    assert pins == [("Flux CLI pin", line, written)], status.stdout
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    assert any(row.startswith(f"{rel}:{line}: ") for row in check.stdout.splitlines())
    before = snapshot(repo)
    bump = run_cli("to", "2.8.5", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    after = snapshot(repo)
    assert after[rel] == before[rel].replace(b"2.6.0", b"2.8.5")
    assert run_cli("check", "--offline", "--repo", str(repo)).code == 0


def test_renovate_reads_the_install_commands_of_a_gitlab_pipeline(tmp_path: Path) -> None:
    """Renovate's command-line manager is given the pipelines too: no manager of its own reads
    ``flux install --version`` in a job's script."""
    job = "install:\n  script:\n    - flux install --version=v2.7.5 --export > gotk.yaml\n"
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT, ".gitlab-ci.yml": job})
    outcome = run_cli("renovate-config", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    managers = json.loads(outcome.stdout)["customManagers"]
    commands = [m for m in managers if "command line installs" in m["description"]]
    assert len(commands) == 1
    assert "**/.gitlab-ci.yml" in commands[0]["managerFilePatterns"]
