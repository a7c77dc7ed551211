"""The Flux CLI's container image (``fluxcd/flux-cli``, ``ghcr.io/fluxcd/flux-cli``) at a tag.

chezmoidotsh/arcane's Kairos bundle copies ``flux`` out of ``FROM docker.io/fluxcd/flux-cli:
v2.8.3`` and runs ``flux install`` with it on each node: the tag is the Flux release it
installs. A Dockerfile's ``FROM``, a devcontainer's ``ARG FLUX_VERSION=…`` it names, a CI
job's ``container:``: each tag is a Flux CLI pin; a tag with an ``@sha256:`` digest is the
digest's image, shown and never rewritten.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import role_rows, run_cli
from tests.support.fixtures import snapshot
from tests.support.layouts import write_repo

BUNDLE = "catalog/flux-sync/Dockerfile"
BUNDLE_TEXT = """\
FROM docker.io/fluxcd/flux-cli:v2.4.0 AS flux-cli
FROM scratch
COPY --from=flux-cli /usr/local/bin/flux .
"""
DEVCONTAINER = ".devcontainer/Dockerfile"
DEVCONTAINER_TEXT = """\
ARG TERRAFORM_VERSION=1.6.3
ARG FLUX_VERSION=v2.4.0
FROM hashicorp/terraform:${TERRAFORM_VERSION} as terraform
FROM ghcr.io/fluxcd/flux-cli:${FLUX_VERSION} as flux
FROM ghcr.io/fluxcd/flux-cli:v2.3.0@sha256:b0b43636bede7fee04afa99b9ad0732eca0f1778f7ebaa99fc89d48d35ccae18 as pinned
FROM python:3.9.18-bookworm
"""
WORKFLOW = ".github/workflows/diff.yaml"
WORKFLOW_TEXT = """\
on: [pull_request]
jobs:
  diff:
    runs-on: ubuntu-latest
    container: ghcr.io/fluxcd/flux-cli:v2.4.0
    steps:
      - run: flux version --client
"""


def cli_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    return role_rows(repo, "Flux CLI pin")


def test_each_flux_cli_image_tag_is_a_pin(tmp_path: Path) -> None:
    files = {BUNDLE: BUNDLE_TEXT, DEVCONTAINER: DEVCONTAINER_TEXT, WORKFLOW: WORKFLOW_TEXT}
    repo = write_repo(tmp_path / "repo", files)
    image = "fluxcd/flux-cli image"
    assert cli_rows(repo) == [
        # the ARG the FROM names is the pin; the digest's tag is the digest's image
        (f"{DEVCONTAINER}:2", "v2.4.0", f"{image} ($FLUX_VERSION)", True),
        (f"{DEVCONTAINER}:5", "v2.3.0@sha256:b0b43636bede7fee04afa99b9ad0732eca0f1778f7ebaa99fc89d48d35ccae18", image, False),
        (f"{WORKFLOW}:5", "v2.4.0", image, True),
        (f"{BUNDLE}:1", "v2.4.0", image, True),
    ]  # fmt: skip
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_to_moves_each_tag_and_leaves_a_digest_pinned_image(tmp_path: Path) -> None:
    files = {BUNDLE: BUNDLE_TEXT, DEVCONTAINER: DEVCONTAINER_TEXT, WORKFLOW: WORKFLOW_TEXT}
    repo = write_repo(tmp_path / "repo", files)
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[BUNDLE].decode() == BUNDLE_TEXT.replace("v2.4.0", "v2.5.1")
    assert after[WORKFLOW].decode() == WORKFLOW_TEXT.replace("v2.4.0", "v2.5.1")
    assert after[DEVCONTAINER].decode() == DEVCONTAINER_TEXT.replace("=v2.4.0", "=v2.5.1")
    assert set(after) == set(before)


def test_check_names_an_image_of_another_release(tmp_path: Path) -> None:
    files = {BUNDLE: BUNDLE_TEXT.replace("v2.4.0", "v2.3.0"), WORKFLOW: WORKFLOW_TEXT}
    repo = write_repo(tmp_path / "repo", files)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{BUNDLE}:1: fluxcd/flux-cli image pins Flux v2.3.0" in check.stdout, check.stdout


# weaveworks/weave-gitops's gitops.dockerfile names the image in an ARG, its tag a 'v' and
# the release ARG; a FROM of that ARG at no digest takes the tag the file gives it.
BUILD = "build/Dockerfile"
BUILD_TEXT = """\
ARG FLUX_VERSION=2.4.0
ARG FLUX_CLI=ghcr.io/fluxcd/flux-cli:v$FLUX_VERSION
ARG FLUX_CLI_BRACED=ghcr.io/fluxcd/flux-cli:v${FLUX_VERSION}
FROM $FLUX_CLI AS flux
FROM ${FLUX_CLI_BRACED} AS braced
"""


def test_an_image_tag_of_v_and_a_variable_is_the_literal_the_file_sets(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {BUILD: BUILD_TEXT, WORKFLOW: WORKFLOW_TEXT})
    # the tag was read as 'v' (unproven), and 'to' left the ARG at the old release
    assert cli_rows(repo) == [
        (f"{WORKFLOW}:5", "v2.4.0", "fluxcd/flux-cli image", True),
        (f"{BUILD}:1", "2.4.0", "fluxcd/flux-cli image ($FLUX_VERSION)", True),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / BUILD).read_text("utf-8") == BUILD_TEXT.replace("=2.4.0", "=2.5.1")


def test_an_image_arg_a_from_pins_by_digest_is_shown_never_followed(tmp_path: Path) -> None:
    # gitops.dockerfile itself: FROM $FLUX_CLI@sha256:… pulls the digest's image, whatever
    # the ARG's tag says (and the build passes --build-arg FLUX_VERSION anyway).
    text = (
        "ARG FLUX_VERSION=2.4.0\n"
        "ARG FLUX_CLI=ghcr.io/fluxcd/flux-cli:v$FLUX_VERSION\n\n"
        "FROM $FLUX_CLI@sha256:a9cb966cddc1a0c56dc0d57dda485d9477dd397f8b45f222717b24663471fd1f"
        " AS flux\n"
    )
    repo = write_repo(tmp_path / "repo", {BUILD: text, WORKFLOW: WORKFLOW_TEXT})
    assert cli_rows(repo) == [
        (f"{WORKFLOW}:5", "v2.4.0", "fluxcd/flux-cli image", True),
        (f"{BUILD}:2", "v$FLUX_VERSION", "fluxcd/flux-cli image", False),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / BUILD).read_text("utf-8") == text


def test_a_lowercase_dockerfile_suffix_is_a_dockerfile_too(tmp_path: Path) -> None:
    # weaveworks/weave-gitops builds gitops.dockerfile (docker build -f): Renovate's
    # dockerfile manager reads that name, fluxbump read only Dockerfile, Dockerfile.* and
    # *.Dockerfile, so its Flux CLI image was no pin.
    text = "FROM ghcr.io/fluxcd/flux-cli:v2.4.0 AS flux\nFROM scratch\n"
    repo = write_repo(tmp_path / "repo", {"build/gitops.dockerfile": text})
    assert cli_rows(repo) == [
        ("build/gitops.dockerfile:1", "v2.4.0", "fluxcd/flux-cli image", True)
    ]
