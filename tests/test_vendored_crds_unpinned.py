"""A Flux install vendored as split manifests with no release header (neuralnetes/monorepo's
``kustomize/manifests/flux-system/base/``, Flux v0.x): no pin names the release, so ``to
2.6.4`` took 2.6.4 for the installed one and moved every object to ``v1``, which the
repository's own CRDs do not serve. Where nothing names the release, those CRDs are what the
clusters serve: no object moves past them (exit 4, nothing written)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import git, snapshot, write_repo

BASE = "kustomize/manifests/flux-system/base"
SOURCE_CONTROLLER = f"{BASE}/source-controller.yaml"
GIT_REPOSITORY = "kustomize/manifests/flux-git-repositories/base/flux-git-repository.yaml"
KUSTOMIZATION = "kustomize/manifests/flux-kustomization/cert-manager/base/flux-kustomization.yaml"


def _crd(plural: str, group: str, kind: str, versions: tuple[str, ...]) -> str:
    """A CRD as ``flux install --export`` writes it, serving ``versions`` (the last stored)."""
    entries = "".join(
        f"  - name: {v}\n    schema:\n      openAPIV3Schema:\n        type: object\n"
        f"    served: true\n    storage: {'true' if v == versions[-1] else 'false'}\n"
        for v in versions
    )
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  annotations:\n    controller-gen.kubebuilder.io/version: v0.4.1\n"
        f"  name: {plural}.{group}\nspec:\n  group: {group}\n  names:\n    kind: {kind}\n"
        f"    plural: {plural}\n  scope: Namespaced\n  versions:\n{entries}"
    )


def _controller(name: str, crd: str, tag: str) -> str:
    return (
        f"---\n{crd}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
        f"spec:\n  template:\n    spec:\n      containers:\n      - image: "
        f"fluxcd/{name}:{tag}\n        name: manager\n"
    )


def _repo(root: Path, served: tuple[str, ...] | None = ("v1beta1",)) -> Path:
    """neuralnetes/monorepo's shape: the split install (its CRDs serving ``served``; None: no
    install in the repository), a GitRepository and a Kustomization at v1beta1, and a CI
    script installing the latest Flux CLI (the only pin, and it names no release)."""
    files = {
        "bash/kubernetes/functions.sh": (
            "function setup_flux() {\n    wget https://fluxcd.io/install.sh\n"
            '    bash "${GITHUB_WORKSPACE}/install.sh" "${HOME}/.local/bin"\n}\n'
        ),
        GIT_REPOSITORY: (
            "apiVersion: source.toolkit.fluxcd.io/v1beta1\nkind: GitRepository\nmetadata:\n"
            "  name: monorepo\nspec:\n  interval: 1m\n  ref:\n    branch: main\n"
            "  url: https://github.com/neuralnetes/monorepo\n"
        ),
        KUSTOMIZATION: (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1beta1\nkind: Kustomization\nmetadata:\n"
            "  name: cert-manager\nspec:\n  interval: 1m\n"
            "  path: kustomize/manifests/cert-manager/base\n  prune: true\n  sourceRef:\n"
            "    name: monorepo\n    kind: GitRepository\n  targetNamespace: cert-manager\n"
        ),
    }
    if served is not None:
        source = _crd("gitrepositories", "source.toolkit.fluxcd.io", "GitRepository", served)
        kustomize = _crd("kustomizations", "kustomize.toolkit.fluxcd.io", "Kustomization", served)
        files |= {
            f"{BASE}/kustomization.yaml": (
                "namespace: flux-system\nresources:\n- source-controller.yaml\n"
                "- kustomize-controller.yaml\n"
            ),
            SOURCE_CONTROLLER: _controller("source-controller", source, "v0.15.4"),
            f"{BASE}/kustomize-controller.yaml": _controller(
                "kustomize-controller", kustomize, "v0.14.1"
            ),
        }
    return write_repo(root, files)


def _to(repo: Path, *args: str) -> Outcome:
    return run_cli("to", *args, "--offline", "--repo", str(repo))


def _crd_line(repo: Path) -> int:
    lines = (repo / SOURCE_CONTROLLER).read_text("utf-8").splitlines()
    return lines.index("  name: gitrepositories.source.toolkit.fluxcd.io") + 1


def test_to_refuses_moving_objects_past_the_crds_the_repository_vendors(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    before = snapshot(repo)
    for args in (("2.6.4",), ("2.6.4", "--no-git"), ("latest",)):
        outcome = _to(repo, *args)
        assert outcome.code == 4, (args, outcome.stdout, outcome.stderr)
        errors = [line for line in outcome.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, outcome.stderr
        assert errors[0].startswith(
            f"error: {SOURCE_CONTROLLER}:{_crd_line(repo)}: this repository's CRD "
            "gitrepositories.source.toolkit.fluxcd.io serves only v1beta1 and no pin names "
            "the Flux release installing it, so moving GitRepository monorepo "
            f"({GIT_REPOSITORY}:1) to source.toolkit.fluxcd.io/v1 (Flux "
        ), errors[0]
        assert errors[0].endswith(
            ", and 1 more object, would have the API server reject them: upgrade that install "
            "first, or pin its release, then re-run; --force-unsafe-crds overrides; nothing written"
        ), errors[0]
        assert snapshot(repo) == before
    assert git(repo, "branch", "--list", "fluxbump/*") == ""


def _moved(repo: Path, *args: str) -> tuple[Outcome, dict[str, bytes]]:
    """``to 2.6.4 --no-git`` (with ``args``), which must succeed, and each file it changed as
    it was before."""
    before = snapshot(repo)
    outcome = _to(repo, "2.6.4", "--no-git", *args)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = snapshot(repo)
    return outcome, {rel: text for rel, text in before.items() if after[rel] != text}


def _at_v1(repo: Path, moved: dict[str, bytes]) -> bool:
    """Each object moved from v1beta1 to v1, by its apiVersion line alone."""
    return {rel: (repo / rel).read_bytes() for rel in moved} == {
        rel: text.replace(b"/v1beta1\n", b"/v1\n", 1) for rel, text in moved.items()
    }


def test_forced_the_objects_move_and_the_refusal_is_said(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    outcome, moved = _moved(repo, "--force-unsafe-crds")
    assert f"warning: --force-unsafe-crds: {SOURCE_CONTROLLER}:" in outcome.stderr
    assert set(moved) == {GIT_REPOSITORY, KUSTOMIZATION} and _at_v1(repo, moved)


def test_objects_move_where_the_repository_s_crds_serve_the_version_they_move_to(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path / "repo", served=("v1beta1", "v1beta2", "v1"))
    _, moved = _moved(repo)
    assert set(moved) == {GIT_REPOSITORY, KUSTOMIZATION} and _at_v1(repo, moved)


def test_objects_move_as_before_where_the_repository_holds_no_crds(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", served=None)
    _, moved = _moved(repo)
    assert set(moved) == {GIT_REPOSITORY, KUSTOMIZATION} and _at_v1(repo, moved)


def test_of_two_vendored_installs_the_one_that_does_not_serve_the_version_refuses(
    tmp_path: Path,
) -> None:
    """An install kept for another cluster may be older: every copy must serve the move."""
    repo = _repo(tmp_path / "repo", served=("v1beta1", "v1beta2", "v1"))
    legacy = "kustomize/manifests/flux-system-legacy/source-controller.yaml"
    crd = _crd("gitrepositories", "source.toolkit.fluxcd.io", "GitRepository", ("v1beta1",))
    (repo / legacy).parent.mkdir(parents=True)
    (repo / legacy).write_text(_controller("source-controller", crd, "v0.12.2"), "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a legacy install")
    before = snapshot(repo)
    outcome = _to(repo, "2.6.4", "--no-git")
    assert outcome.code == 4, outcome.stdout + outcome.stderr
    assert f"error: {legacy}:7: this repository's CRD gitrepositories." in outcome.stderr
    assert f"GitRepository monorepo ({GIT_REPOSITORY}:1) to source.toolkit.fluxcd.io/v1 (Flux " in (
        outcome.stderr
    )
    assert snapshot(repo) == before
