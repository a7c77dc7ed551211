"""The table of each Flux release's controller tags is built from fluxcd/flux2's
``manifests/bases/<controller>/kustomization.yaml`` at each release tag."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.fixtures import git, write_repo
from tools.build_flux_controller_table import main

BASE = "manifests/bases/{}/kustomization.yaml"
DOWNLOAD = "resources:\n- https://github.com/fluxcd/{0}/releases/download/{1}/{0}.crds.yaml\n"
ARCHIVE = "resources:\n- https://github.com/fluxcd/{0}/archive/{1}.zip//{0}-x/config/crd\n"


def tag(clone: Path, name: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text, "utf-8")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", name)
    git(clone, "tag", name)


def test_each_release_tag_gives_its_controllers_tags_and_pre_releases_are_left_out(
    tmp_path: Path,
) -> None:
    clone = write_repo(tmp_path / "flux2", {"README.md": "flux2\n"})
    tag(clone, "v0.5.0", {BASE.format("source-controller"): ARCHIVE.format("source-controller", "v0.5.2"),
                          "manifests/bases/rbac/rbac.yaml": "kind: ClusterRole\n"})  # fmt: skip
    tag(clone, "v2.6.4", {BASE.format("source-controller"): DOWNLOAD.format("source-controller", "v1.6.2"),
                          BASE.format("helm-controller"): DOWNLOAD.format("helm-controller", "v1.3.0")})  # fmt: skip
    tag(clone, "v2.7.0-rc.1", {BASE.format("helm-controller"): DOWNLOAD.format("helm-controller", "v1.4.0-rc.1")})  # fmt: skip
    out = tmp_path / "table.json"
    main([str(clone), "--out", str(out)])
    table = json.loads(out.read_text("utf-8"))
    assert table["releases"] == {
        "0.5.0": {"source-controller": "v0.5.2"},
        "2.6.4": {"helm-controller": "v1.3.0", "source-controller": "v1.6.2"},
    }
    assert table["source"].startswith("https://github.com/fluxcd/flux2/tree/")
