"""Flux installed by kustomize from fluxcd/flux2, or from the flux-manifests OCI artifact, and
the Flux CLI under mise's other tool names: pin kinds found on real repositories.

End to end through the CLI in git repositories in ``tmp_path``; ``--offline`` uses the
bundled Helm index snapshot (2.4.0 and 2.5.1 are in it), the wrapper fleet the 127.0.0.1 one.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, edit, git, init_git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

KUSTOMIZATION = "clusters/prod/flux-system/kustomization.yaml"
# Every URL form kustomize reads (its remoteBuild.md: go-getter's legacy form, a git clone
# URL with ``//`` before the directory and query parameters in any order, ssh, ``git::``),
# a release asset it downloads, and what is not a pin of the release.
KUSTOMIZATION_TEXT = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0 # Flux itself
  - "https://github.com/fluxcd/flux2//manifests/install?timeout=120&ref=v2.4.0"
  - 'git@github.com:fluxcd/flux2.git//manifests/crds?version=v2.4.0'
  - git::https://github.com/fluxcd/flux2//manifests/install/?ref=v2.4.0&submodules=false
  - https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml
  - github.com/fluxcd/flux2/manifests/install?ref=main
  - github.com/someone/flux2/manifests/install?ref=v1.0.0
  - https://github.com/fluxcd/flux2/releases/latest/download/install.yaml
  - ./gotk-sync.yaml
patches:
  - path: github.com/fluxcd/flux2/manifests/install?ref=v0.0.1
"""
MANIFESTS = "clusters/prod/flux-system/flux.yaml"
MANIFESTS_TEXT = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: "v2.4.0" # the release Flux reconciles itself from
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: pinned-by-digest
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: v0.0.1
    digest: sha256:0123
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 10m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: 6.7.0
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux
  namespace: flux-system
spec:
  sourceRef:
    kind: OCIRepository
    name: flux-manifests
  path: ./
"""


def install_repo(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    """Flux pinned only by what installs it: the kustomization and the OCI artifact."""
    repo = tmp_path / "repo"
    chosen = files if files is not None else {KUSTOMIZATION: KUSTOMIZATION_TEXT,
                                              MANIFESTS: MANIFESTS_TEXT}  # fmt: skip
    for rel, text in chosen.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def rows(repo: Path, *args: str) -> list[tuple[str, str, str, str, bool]]:
    """``status --json`` rows of the two install kinds: role, file:line, value, expected, and
    whether it is proven to agree."""
    outcome = run_cli("status", "--repo", str(repo), "--json", *args)
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    kinds = ("kustomize remote install", "flux-manifests OCI artifact")
    return [
        (s["role"], f"{s['file']}:{s['line']}", s["value"], s["expected"], s["ok"] and s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] in kinds
    ]


def moved_kustomization(release: str) -> str:
    """The kustomization with its five exact pins (lines 4-8) at ``release``: a branch, a
    fork, ``latest`` and a patch path are not Flux's release and stay."""
    lines = KUSTOMIZATION_TEXT.splitlines(keepends=True)
    for at in range(3, 8):
        lines[at] = lines[at].replace("v2.4.0", f"v{release}")
    return "".join(lines)


def violations(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": " in line and "check:" not in line]


def assert_refused(repo: Path, args: tuple[str, ...], code: int, line: str) -> None:
    """``args`` (offline, no git) exit ``code`` with ``line`` on stderr and write nothing."""
    before = snapshot(repo)
    outcome = run_cli(*args, "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == code, outcome.stdout + outcome.stderr
    assert line in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr  # one line, no traceback
    assert snapshot(repo) == before


def test_status_shows_every_kustomize_and_flux_manifests_pin(tmp_path: Path) -> None:
    repo = install_repo(tmp_path)
    k, m = "kustomize remote install", "flux-manifests OCI artifact"
    assert rows(repo, "--offline") == [
        (k, f"{KUSTOMIZATION}:4", "v2.4.0", "v2.4.0", True),
        (k, f"{KUSTOMIZATION}:5", "v2.4.0", "v2.4.0", True),
        (k, f"{KUSTOMIZATION}:6", "v2.4.0", "v2.4.0", True),
        (k, f"{KUSTOMIZATION}:7", "v2.4.0", "v2.4.0", True),
        (k, f"{KUSTOMIZATION}:8", "v2.4.0", "v2.4.0", True),
        (k, f"{KUSTOMIZATION}:9", "main", "Flux 2.4.0", False),  # a branch: not a pin
        (k, f"{KUSTOMIZATION}:11", "latest", "Flux 2.4.0", False),  # the newest: nor that
        (m, f"{MANIFESTS}:10", "v2.4.0", "v2.4.0", True),
    ]
    status = run_cli("status", "--repo", str(repo), "--offline")
    assert "flux (release pins outside charts)" in status.stdout, status.stdout + status.stderr


def test_check_names_each_install_pin_that_disagrees_with_file_and_line(tmp_path: Path) -> None:
    repo = install_repo(tmp_path)
    edit(repo, KUSTOMIZATION, "crds?version=v2.4.0", "crds?version=v2.3.0")
    edit(repo, KUSTOMIZATION, "download/v2.4.0/", "download/v2.3.0/")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    first = "OCIRepository flux-system/flux-manifests (flux-manifests) pins Flux v2.4.0"
    where = f"({MANIFESTS}:10)"
    assert violations(check.stdout) == [
        f"{KUSTOMIZATION}:6: kustomize resources fluxcd/flux2/manifests/crds pins Flux v2.3.0, "
        f"{first} {where} — make them agree",
        f"{KUSTOMIZATION}:8: kustomize resources fluxcd/flux2 install.yaml asset pins Flux "
        f"v2.3.0, {first} {where} — make them agree",
    ]


def test_to_moves_every_install_pin_byte_minimally(tmp_path: Path) -> None:
    repo = install_repo(tmp_path)
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[KUSTOMIZATION].decode() == moved_kustomization("2.5.1")
    assert after[MANIFESTS].decode() == MANIFESTS_TEXT.replace('"v2.4.0"', '"v2.5.1"')
    assert set(after) - {KUSTOMIZATION, MANIFESTS} == set(before) - {KUSTOMIZATION, MANIFESTS}
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_the_install_pins_count_as_installed_for_the_downgrade_guard(tmp_path: Path) -> None:
    for files, where in (
        ({KUSTOMIZATION: KUSTOMIZATION_TEXT}, f"{KUSTOMIZATION}:4"),
        ({MANIFESTS: MANIFESTS_TEXT}, f"{MANIFESTS}:10"),
    ):
        repo = install_repo(tmp_path / next(iter(files)).replace("/", "-"), files)
        said = f"older than the installed 2.4.0, which {where} pins: refusing a downgrade"
        assert_refused(repo, ("to", "2.3.0"), 4, said)


def test_a_refused_downgrade_names_the_pin_of_the_newest_installed_release(
    tmp_path: Path,
) -> None:
    # Two clusters at different releases (h3mmy/bloopySphere: flux-manifests v2.8.1 in one,
    # v2.9.4 in the other): the refusal said 'older than the installed 2.9.4' and no more,
    # leaving the user to find which of the repository's pins installs it.
    staging = "clusters/staging/flux-system/flux.yaml"
    files = {MANIFESTS: MANIFESTS_TEXT, staging: MANIFESTS_TEXT.replace('"v2.4.0"', '"v2.5.1"')}
    repo = install_repo(tmp_path, files)
    assert_refused(
        repo,
        ("to", "2.4.0"),
        4,
        f"error: Flux 2.4.0 is older than the installed 2.5.1, which {staging}:10 pins: "
        "refusing a downgrade",
    )


def test_a_flux_manifests_semver_range_is_kept_and_must_admit_the_target(tmp_path: Path) -> None:
    ranged = MANIFESTS_TEXT.replace('tag: "v2.4.0"', 'semver: "2.4.x"\n    tag: v2.4.0')
    repo = install_repo(tmp_path, {KUSTOMIZATION: KUSTOMIZATION_TEXT, MANIFESTS: ranged})
    assert ("flux-manifests OCI artifact", f"{MANIFESTS}:10", "2.4.x", "2.4.0", True) in rows(
        repo, "--offline"
    )  # Flux prefers the range to the tag: the range is the pin
    assert_refused(repo, ("to", "2.5.1"), 1,
        f"{MANIFESTS}:10: OCIRepository flux-system/flux-manifests (flux-manifests) requires "
        "Flux 2.4.x, which does not admit 2.5.1; widen the range first; nothing written",
    )  # fmt: skip


def test_sync_follows_the_kustomize_ref_renovate_moved(tmp_path: Path) -> None:
    # Renovate's kustomize manager moves ``?ref=`` of a github.com remote (depName
    # fluxcd/flux2, so in the Flux group); sync moves every other pin with it.
    repo = install_repo(tmp_path)
    edit(repo, KUSTOMIZATION, "install?ref=v2.4.0 # Flux", "install?ref=v2.5.1 # Flux")
    synced = run_cli("sync", "--repo", str(repo), "--offline")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / MANIFESTS).read_text("utf-8") == MANIFESTS_TEXT.replace("v2.4.0", "v2.5.1")
    assert (repo / KUSTOMIZATION).read_text("utf-8") == moved_kustomization("2.5.1")


def test_a_script_applying_the_latest_release_is_shown_unproven_and_never_moved(
    tmp_path: Path,
) -> None:
    # microsoft/kalypso's deploy/deploy.sh:227 installs Flux so; fluxbump read nothing of it,
    # where it shows ``ref=main`` and the action's default (``latest``) as unproven sites.
    script = "deploy/deploy.sh"
    text = (
        "#!/bin/sh\nset -e\n"
        "kubectl apply -f https://github.com/fluxcd/flux2/releases/latest/download/install.yaml\n"
    )
    repo = install_repo(tmp_path, {script: text, MANIFESTS: MANIFESTS_TEXT})
    assert ("kustomize remote install", f"{script}:3", "latest", "Flux 2.4.0", False) in rows(
        repo, "--offline"
    )
    said = (
        f"warning: {script}:3: kustomize remote install latest names no Flux release: fluxbump "
        "neither checks nor moves it; write the release there to have it checked"
    )
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert "1 cannot be proven" in check.stdout and said in check.stderr.splitlines()
    dry = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--dry-run")
    assert dry.code == 0 and script not in dry.stdout, dry.stdout + dry.stderr
    assert said in dry.stderr.splitlines(), dry.stderr
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / script).read_text("utf-8") == text
    assert moved.stderr.count(f"{script}:3") == 1, moved.stderr  # said with the plan, once


def test_downloads_of_the_newest_release_are_shown_unproven_named_and_never_moved(
    tmp_path: Path,
) -> None:
    # weaveworks/eksctl's build/docker/Dockerfile:44 installs the CLI GitHub's API names the
    # newest release; CI jobs fetch the newest release's crd-schemas or manifests.tar.gz.
    # None was read: check said nothing of them, as it names ref=main and the action's default.
    dockerfile = (
        "FROM alpine:3.20\n"
        "# curl -sL https://api.github.com/repos/fluxcd/flux2/releases/latest (a note)\n"
        "RUN curl -sL https://api.github.com/repos/fluxcd/flux2/releases/latest 2>/dev/null | \\\n"
        "    jq -r '.assets[] | .browser_download_url' | xargs curl -sL | tar xz\n"
    )
    latest = "https://github.com/fluxcd/flux2/releases/latest/download"
    script = (
        "#!/bin/sh\n"
        f"curl -sL {latest}/crd-schemas.tar.gz | tar zxf - -C /tmp/schemas\n"
        f"curl -sL -o m.tgz {latest}/manifests.tar.gz\n"
    )
    files = {"Dockerfile": dockerfile, "ci/validate.sh": script, MANIFESTS: MANIFESTS_TEXT}
    repo = install_repo(tmp_path, files)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert [
        (s["role"], f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
        if s["value"] == "latest"
    ] == [
        ("Flux CLI pin", "Dockerfile:3", "latest", False),
        ("Flux CLI pin", "ci/validate.sh:2", "latest", False),
        ("kustomize remote install", "ci/validate.sh:3", "latest", False),
    ], status.stdout
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    named = [line for line in check.stderr.splitlines() if "latest names no Flux release" in line]
    assert [line.split(": ")[1] for line in named] == [
        "Dockerfile:3",
        "ci/validate.sh:2",
        "ci/validate.sh:3",
    ], check.stderr
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "Dockerfile").read_text("utf-8") == dockerfile
    assert (repo / "ci/validate.sh").read_text("utf-8") == script


def test_a_cli_download_of_the_version_the_api_names_is_shown_in_the_files_order(
    tmp_path: Path,
) -> None:
    # briandenicola/kubernetes's .devcontainer/post-create.sh:56-57: the release GitHub's API
    # says is the latest, then the CLI's asset of it. status listed line 57 before 56.
    script = (
        "#!/bin/bash\n"
        'VERSION=`curl --silent "https://api.github.com/repos/fluxcd/flux2/releases/latest"'
        " | grep tag_name | sed -E 's/.*v([^\"]+).*/\\1/'`\n"
        'curl -Ls "https://github.com/fluxcd/flux2/releases/download/v${VERSION}/'
        'flux_${VERSION}_linux_amd64.tar.gz" -o /tmp/flux2.tar.gz\n'
    )
    repo = install_repo(tmp_path, {".devcontainer/post-create.sh": script})
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert [
        (f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
    ] == [
        (".devcontainer/post-create.sh:2", "latest", False),
        (".devcontainer/post-create.sh:3", "${VERSION}", False),
    ], status.stdout


def fleet_with_kustomization(tmp_path: Path, resource: str) -> Path:
    """The consistent fleet (cloud-init installs v2.4.0) with a kustomize remote beside it."""
    repo = make_fleet(tmp_path / "fleet", CONSISTENT)
    (repo / "bootstrap").mkdir()
    (repo / "bootstrap/kustomization.yaml").write_text(f"resources:\n  - {resource}\n", "utf-8")
    init_git(repo)
    return repo


def test_beside_a_cloud_init_install_a_kustomize_pin_must_name_its_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    resource = "https://github.com/fluxcd/flux2//manifests/install?ref=v2.3.0"
    repo = fleet_with_kustomization(tmp_path, resource)
    check = run_cli("check", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "bootstrap/kustomization.yaml:2: kustomize resources fluxcd/flux2/manifests/install pins "
        "Flux v2.3.0, the repository installs Flux 2.4.0 — run 'fluxbump to 2.4.0'"
    ) in check.stdout
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert moved.code == 0, moved.stdout + moved.stderr
    moved_resource = resource.replace("v2.3.0", "v2.5.1")
    assert (repo / "bootstrap/kustomization.yaml").read_text("utf-8") == (
        f"resources:\n  - {moved_resource}\n"
    )


def test_a_kustomization_that_is_not_yaml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    repo = install_repo(tmp_path)
    (repo / "bad").mkdir()
    (repo / "bad/kustomization.yaml").write_text(
        "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0\n  - [\n", "utf-8"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bad")
    assert_refused(repo, ("to", "2.5.1"), 2, "error: bad/kustomization.yaml:")


MISE = """\
[tools]
"github:fluxcd/flux2" = "2.4.0"
'ubi:fluxcd/flux2' = { version = "v2.4.0" }
"asdf:tablexi/asdf-flux2" = "2.4.0"
"github:fluxcd/flux2-extra" = "9.9.9"
"github:someone/flux2" = "9.9.9"
"""


def test_mise_backends_that_select_the_flux_cli_are_pins(tmp_path: Path) -> None:
    repo = install_repo(tmp_path, {MANIFESTS: MANIFESTS_TEXT, "mise.toml": MISE})
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    cli = [
        (s["line"], s["value"], s["ok"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "Flux CLI pin"
    ]
    assert cli == [(2, "2.4.0", True), (3, "v2.4.0", True), (4, "2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "mise.toml").read_text("utf-8") == MISE.replace("2.4.0", "2.5.1")


# TOML reads a ``[tools.X]`` table and a ``X.version`` dotted key as the inline table
# ``X = { version = … }``, and mise with them (its docs' sub-table form).
MISE_TABLES = """\
[env]
version = "1.0.0"

[tools]
flux2.version = "2.4.0"
"github:someone/flux2".version = "9.9.9"

[tools."github:fluxcd/flux2"]
version = 'v2.4.0' # the CLI CI runs
postinstall = "flux --version"

[tools.flux2-extra]
version = "9.9.9"

[tools . "aqua:fluxcd/flux2"]
"version" = "2.4.0"
"""


def test_mise_tool_tables_and_dotted_keys_are_pins(tmp_path: Path) -> None:
    repo = install_repo(tmp_path, {MANIFESTS: MANIFESTS_TEXT, ".mise.toml": MISE_TABLES})
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    cli = [
        (s["line"], s["value"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == "Flux CLI pin"
    ]
    assert cli == [(5, "2.4.0"), (9, "v2.4.0"), (16, "2.4.0")]
    edit(repo, ".mise.toml", "version = 'v2.4.0'", "version = 'v2.3.0'")
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 1
    assert ".mise.toml:9: mise [tools]" in checked.stdout, checked.stdout
    edit(repo, ".mise.toml", "version = 'v2.3.0'", "version = 'v2.4.0'")
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    expected = MISE_TABLES.replace('= "2.4.0"', '= "2.5.1"').replace("v2.4.0", "v2.5.1")
    assert (repo / ".mise.toml").read_text("utf-8") == expected


def test_renovate_config_reads_the_asset_and_the_artifact_and_leaves_git_refs_to_kustomize(
    tmp_path: Path,
) -> None:
    import re

    repo = install_repo(tmp_path)
    outcome = run_cli("renovate-config", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    config = json.loads(outcome.stdout)
    found = {}
    for manager in config["customManagers"]:
        (pattern,) = manager["matchStrings"][:1]
        if "flux-manifests" in manager["description"] or "kustomization" in manager["description"]:
            assert manager["depNameTemplate"] == "fluxcd/flux2"  # the Flux group, by name
            found[manager["description"][:40]] = [
                m.group("currentValue")
                for text in (KUSTOMIZATION_TEXT, MANIFESTS_TEXT)
                for m in re.finditer(pattern.replace("(?<", "(?P<"), text)
            ]
    # one asset URL and one artifact tag: git refs are Renovate's kustomize manager's
    assert sorted(found.values()) == [["v2.4.0"], ["v2.4.0"]], found
    (off,) = (r for r in config["packageRules"] if r.get("enabled") is False
              and "docker" in r.get("matchDatasources", []))  # fmt: skip
    assert re.search(off["matchDepNames"][0].strip("/"), "ghcr.io/fluxcd/flux-manifests")


def test_init_names_the_files_of_both_install_kinds(tmp_path: Path) -> None:
    repo = install_repo(tmp_path)
    assert run_cli("init", "--repo", str(repo)).code == 0
    written = (repo / ".fluxbump.yaml").read_text("utf-8")
    assert (
        f"Found here: {KUSTOMIZATION} (kustomize remote install), "
        f"{MANIFESTS} (flux-manifests OCI artifact)"
    ) in written
    assert '  - "**/kustomization.yaml"' in written
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0  # read back, same pins


def test_sync_never_moves_back_a_kustomize_ref_renovate_moved_on_its_own(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The kustomize manager may move the ref without the cloud-init install: sync refuses to
    # undo it (exit 2, nothing written) rather than silently moving it back.
    repo = fleet_with_kustomization(
        tmp_path, "github.com/fluxcd/flux2/manifests/install?ref=v2.4.0"
    )
    edit(repo, "bootstrap/kustomization.yaml", "ref=v2.4.0", "ref=v2.5.1")
    before = snapshot(repo)
    synced = run_cli("sync", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert synced.code == 2, synced.stdout + synced.stderr
    assert synced.stderr == (
        "error: bootstrap/kustomization.yaml:2: kustomize resources "
        "fluxcd/flux2/manifests/install moved Flux v2.4.0 -> v2.5.1 since the base revision, "
        "but the release being synced is v2.4.0; sync does not undo it: revert the pin, or move "
        "the install with it; nothing written\n"
    )
    assert snapshot(repo) == before


def test_a_bom_crlf_flow_list_kustomization_keeps_every_other_byte(tmp_path: Path) -> None:
    raw = b'\xef\xbb\xbfresources: [ "github.com/fluxcd/flux2/manifests/install?ref=v2.4.0" ]\r\n'
    repo = tmp_path / "repo"
    (repo / "k").mkdir(parents=True)
    (repo / "k/kustomization.yaml").write_bytes(raw)
    init_git(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "k/kustomization.yaml").read_bytes() == raw.replace(b"v2.4.0", b"v2.5.1")


NIXOS = "nixos/configuration.nix"


def test_two_install_downloads_of_one_file_install_the_newest_for_status_check_and_to(
    tmp_path: Path,
) -> None:
    # A NixOS host downloads v2.8.8's install.yaml to migrate through and v2.9.2's, which it
    # installs: status expected v2.8.8 (the first in the file) of every pin while to refused a
    # move below "the installed 2.9.2". Both now read the newest of one kind of install pin.
    text = (Path(__file__).parent / "data" / NIXOS).read_text("utf-8")
    repo = install_repo(tmp_path, {NIXOS: text})
    status = run_cli("status", "--offline", "--json", "--repo", str(repo))
    assert [(s["line"], s["value"], s["expected"], s["ok"])
            for s in json.loads(status.stdout)["sites"]] == [
        (24, "v2.9.2", "v2.9.2", True),  # the CLI image that migrates
        (8, "v2.8.8", "v2.9.2", False),  # the transition release
        (12, "v2.9.2", "v2.9.2", True),
    ]  # fmt: skip
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.startswith(f"{NIXOS}:8: fluxcd/flux2 install.yaml asset pins Flux v2.8.8")
    said = f"older than the installed 2.9.2, which {NIXOS}:12 pins: refusing a downgrade"
    assert_refused(repo, ("to", "2.8.5"), 4, said)


def test_a_move_below_a_newer_install_of_a_less_trusted_kind_is_still_a_downgrade(
    tmp_path: Path,
) -> None:
    # check compares the pins with the most trusted kind's (the FluxInstance's 2.4.0), but `to`
    # moves every pin: to 2.4.0 would move the kustomize install from v2.5.1 down to v2.4.0.
    instance = (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
        'spec:\n  distribution:\n    version: "2.4.0"\n    registry: ghcr.io/fluxcd\n'
    )
    remote = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        "  - github.com/fluxcd/flux2/manifests/install?ref=v2.5.1\n"
    )
    repo = install_repo(
        tmp_path, {"clusters/prod/flux-instance.yaml": instance, KUSTOMIZATION: remote}
    )
    said = f"Flux 2.4.0 is older than the installed 2.5.1, which {KUSTOMIZATION}:4 pins"
    assert_refused(repo, ("to", "2.4.0"), 4, said)
