"""A Timoni bundle's flux-aio module version pins the Flux release.

stefanprodan's flux-aio module is versioned ``X.Y.Z-N`` (Flux X.Y.Z, the module's revision
N). A bundle installing Flux so (``module: {url: "oci://…/flux-aio", version: "2.4.0-0"}``)
was read by nothing: ``status`` did not show it, ``check`` passed it beside another release
and ``to 2.5.1`` moved the other pins and left it behind, silently.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

BUNDLE = "timoni/flux-aio.cue"
# A comment mentioning another version and another module (flux-helm-release, not Flux) sit
# beside the pin; a commented-out module pins nothing.
BUNDLE_TEXT = """\
// Flux, installed by Timoni
bundle: {
	apiVersion: "v1alpha1"
	name:       "flux-aio"
	instances: {
		"flux": {
			module: {
				url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
				version: "2.4.0-1" // was 2.3.0-0
			}
			namespace: "flux-system"
		}
		// old: module: {url: "oci://ghcr.io/stefanprodan/modules/flux-aio", version: "2.0.0-0"}
		podinfo: {
			module: {
				url:     "oci://ghcr.io/stefanprodan/modules/flux-helm-release"
				version: "2.3.0-0"
			}
			namespace: "apps"
		}
	}
}
"""
# Versions that are no literal: a reference, the type ``string``, an interpolation.
UNPROVEN = "timoni/edge.cue"
UNPROVEN_TEXT = """\
bundle: {
	_flux: version: "2.4.0-0"
	instances: {
		a: module: {url: "oci://ghcr.io/stefanprodan/modules/flux-aio", version: _flux.version}
		b: module: {
			url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
			version: string @timoni(runtime:string:FLUX_VERSION)
		}
		c: module: {
			url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
			version: "\\(_flux.release)-0"
		}
	}
}
"""
KUSTOMIZATION = "base/kustomization.yaml"
KUSTOMIZATION_TEXT = "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.5.1\n"


def _repo(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    return write_repo(
        tmp_path / "repo",
        files or {BUNDLE: BUNDLE_TEXT, UNPROVEN: UNPROVEN_TEXT, KUSTOMIZATION: KUSTOMIZATION_TEXT},
    )


def test_status_shows_the_flux_aio_module_and_each_version_it_cannot_read(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    sites = [
        (s["file"], s["line"], s["owner"], s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
        if s["role"] == "Timoni flux-aio module"
    ]
    assert sites == [
        (UNPROVEN, 4, 'Timoni instance "a"', "_flux.version", False),
        (UNPROVEN, 7, 'Timoni instance "b"', "string", False),
        (UNPROVEN, 11, 'Timoni instance "c"', '"\\(_flux.release)-0"', False),
        (BUNDLE, 9, 'Timoni instance "flux"', "2.4.0", True),
    ], status.stdout + status.stderr
    table = run_cli("status", "--repo", str(repo), "--offline")
    assert f"Timoni flux-aio module    {BUNDLE}:9" in table.stdout, table.stdout


def test_check_compares_the_module_release_with_the_other_flux_pins(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    checked = run_cli("check", "--repo", str(repo), "--offline", "--format", "github")
    assert checked.code == 1, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[0] == (
        f'::error file={BUNDLE},line=9::Timoni instance "flux" pins Flux 2.4.0, kustomize '
        "resources fluxcd/flux2/manifests/install pins Flux v2.5.1 "
        f"({KUSTOMIZATION}:2) — make them agree"
    )


def test_to_moves_the_module_to_the_new_release_at_revision_0(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {BUNDLE: BUNDLE_TEXT, UNPROVEN: UNPROVEN_TEXT})
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[BUNDLE].decode() == BUNDLE_TEXT.replace('"2.4.0-1"', '"2.5.1-0"')
    assert {rel for rel in after if after[rel] != before[rel]} == {BUNDLE}
    again = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert again.code == 0, again.stdout + again.stderr
    assert snapshot(repo) == after


def test_to_keeps_a_later_revision_of_the_release_it_moves_to(tmp_path: Path) -> None:
    revised = BUNDLE_TEXT.replace('"2.4.0-1"', '"2.5.1-2"')
    older = KUSTOMIZATION_TEXT.replace("v2.5.1", "v2.4.0")
    repo = _repo(tmp_path, {BUNDLE: revised, KUSTOMIZATION: older})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[BUNDLE].decode() == revised
    assert after[KUSTOMIZATION].decode() == KUSTOMIZATION_TEXT


def test_to_moves_the_module_of_a_crlf_bundle_and_keeps_its_line_endings(tmp_path: Path) -> None:
    crlf = BUNDLE_TEXT.replace("\n", "\r\n")
    repo = _repo(tmp_path, {BUNDLE: crlf})
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 0, checked.stdout + checked.stderr
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert f"{BUNDLE}:9: Timoni flux-aio module" in moved.stdout, moved.stdout
    assert (repo / BUNDLE).read_bytes() == crlf.replace('"2.4.0-1"', '"2.5.1-0"').encode()


# Timoni's own example sets a module's fields one by one; a digest beside a version is checked
# against it by Timoni, so that version is kept.
SPLIT = "timoni/split.cue"
SPLIT_TEXT = """\
bundle: instances: {
	flux: {
		module: url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
		module: version: "2.4.0-0"
		namespace: "flux-system"
	}
	pinned: module: {
		url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
		version: "2.4.0-0"
		digest:  "sha256:54d38b407012ccfb42badf0974ba70f9ae229ecd38f17e8a1f4e7189283b924f"
	}
}
"""


def test_to_moves_a_version_set_apart_and_keeps_one_a_digest_pins(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {SPLIT: SPLIT_TEXT})
    status = run_cli("status", "--repo", str(repo), "--offline", "--json")
    sites = [(s["line"], s["owner"], s["proven"]) for s in json.loads(status.stdout)["sites"]]
    assert sites == [(4, 'Timoni instance "flux"', True), (9, 'Timoni instance "pinned"', False)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SPLIT).read_text() == SPLIT_TEXT.replace(
        'module: version: "2.4.0-0"', 'module: version: "2.5.1-0"'
    )
