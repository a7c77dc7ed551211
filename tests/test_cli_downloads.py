"""The Flux CLI a repository downloads from a fluxcd/flux2 release (``flux_<ver>_<os>_<arch>.tar.gz``).

An Ansible role's vars (evocloud-dev/evocloud-paas: ``flux_cli_ver`` and a download URL of
``v{{ flux_cli_ver }}``, then ``flux bootstrap`` with that CLI), a script's ``curl`` of the
same asset: the version in the URL, or the literal the same file gives its variable, is a
Flux CLI pin, checked against the other Flux pins and moved by ``to``.
"""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump.scan.sites.fluxcli import find_cli_pins
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import role_rows, run_cli
from tests.support.fixtures import edit, snapshot
from tests.support.layouts import write_repo

VARS = "ansible/roles/flux-cli/vars/main.yml"
VARS_TEXT = """\
---
# renovate: datasource=github-releases depName=fluxcd/flux2
flux_cli_ver: "2.4.0"
#https://github.com/fluxcd/flux2/releases/download/v2.3.0/flux_2.3.0_linux_amd64.tar.gz
flux_cli_url: 'https://github.com/fluxcd/flux2/releases/download/v{{ flux_cli_ver }}/flux_{{ flux_cli_ver }}_linux_amd64.tar.gz'
"""
TASKS = "ansible/roles/flux/tasks/main.yml"
TASKS_TEXT = """\
- name: Download the Flux CLI
  ansible.builtin.get_url:
    url: "https://github.com/fluxcd/flux2/releases/download/v{{ flux_version }}/flux_{{ flux_version }}_linux_amd64.tar.gz"
    dest: /tmp/flux.tar.gz
"""
SCRIPT = "scripts/tools.sh"
SCRIPT_TEXT = """\
#!/bin/sh
curl -fsSLO https://github.com/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_linux_amd64.tar.gz
"""
ROLE = "Flux CLI pin"


def repo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_repo(tmp_path / "repo", files)


def cli_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    return role_rows(repo, ROLE)


def test_a_downloaded_cli_is_a_pin_its_variable_followed_to_the_same_file(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {VARS: VARS_TEXT, TASKS: TASKS_TEXT, SCRIPT: SCRIPT_TEXT})
    download = "fluxcd/flux2 CLI download"
    assert cli_rows(repo) == [
        # the variable is set in another file (by Ansible's precedence): shown once, unproven
        (f"{TASKS}:3", "{{ flux_version }}", download, False),
        # the comment line names no release; the URL's variable is the line-3 literal
        (f"{VARS}:3", "2.4.0", f"{download} ({{{{ flux_cli_ver }}}})", True),
        # a literal URL holds the release twice: the tag and the asset's name
        (f"{SCRIPT}:2", "2.4.0", download, True),
        (f"{SCRIPT}:2", "2.4.0", download, True),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_check_names_a_downloaded_cli_that_disagrees(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {VARS: VARS_TEXT.replace('"2.4.0"', '"2.3.0"'), SCRIPT: SCRIPT_TEXT})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    # (compared with the newest of the CLI pins, as 'to' refuses a downgrade below it)
    assert check.stdout.startswith(
        f"{VARS}:3: fluxcd/flux2 CLI download ({{{{ flux_cli_ver }}}}) pins Flux 2.3.0, "
        f"fluxcd/flux2 CLI download pins Flux 2.4.0 ({SCRIPT}:2) — make them agree\n"
    ), check.stdout


def test_to_moves_the_downloaded_cli_and_nothing_else(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {VARS: VARS_TEXT, TASKS: TASKS_TEXT, SCRIPT: SCRIPT_TEXT})
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after[VARS].decode() == VARS_TEXT.replace('"2.4.0"', '"2.5.1"')  # not the comment
    assert after[SCRIPT].decode() == SCRIPT_TEXT.replace("2.4.0", "2.5.1")
    assert after[TASKS] == before[TASKS]


def test_an_asset_name_cutting_the_variables_v_is_the_same_pin_moved_once(tmp_path: Path) -> None:
    # gardener-landscape-kit's hack/tools.mk names the asset by make's $(FLUX_CLI_VERSION:v%=%);
    # a script cuts the shell's ${FLUX_VERSION#v}: each read the same literal, not a second pin
    # that could not be proven.
    makefile = (
        "FLUX_CLI_VERSION ?= v2.4.0\n"
        "flux:\n\tcurl -Lo flux.tar.gz https://github.com/fluxcd/flux2/releases/download/"
        "$(FLUX_CLI_VERSION)/flux_$(FLUX_CLI_VERSION:v%=%)_linux_amd64.tar.gz\n"
    )
    script = (
        'FLUX_VERSION="v2.4.0"\ncurl -fsSLO "https://github.com/fluxcd/flux2/releases/download/'
        '${FLUX_VERSION}/flux_${FLUX_VERSION#v}_linux_amd64.tar.gz"\n'
    )
    repo = repo_with(tmp_path, {"hack/tools.mk": makefile, SCRIPT: script})
    download = "fluxcd/flux2 CLI download"
    assert cli_rows(repo) == [
        ("hack/tools.mk:1", "v2.4.0", f"{download} ($FLUX_CLI_VERSION)", True),
        (f"{SCRIPT}:1", "v2.4.0", f"{download} ($FLUX_VERSION)", True),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    assert after["hack/tools.mk"].decode() == makefile.replace("v2.4.0", "v2.5.1")
    assert after[SCRIPT].decode() == script.replace("v2.4.0", "v2.5.1")


def test_to_names_the_old_assets_digest_it_leaves_beside_the_moved_cli(tmp_path: Path) -> None:
    # get_url verifies the download against it: after the move it is the old asset's digest,
    # and the next run fails; fluxbump does not fetch digests, so it says which line to fix.
    digest = "1e92141e8498289e4b27411385aeb18396053176cf297b0cb99abd6ca8293e75"
    text = VARS_TEXT + f'flux_cli_checksum: "sha256:{digest}" # of 2.4.0\n'
    repo = repo_with(tmp_path, {VARS: text})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git", "--json")
    assert moved.code == 0, moved.stdout + moved.stderr
    warnings = [w for w in json.loads(moved.stdout)["warnings"] if w["file"] == VARS]
    assert warnings == [
        {
            "file": VARS,
            "line": 6,
            "message": "a sha256 digest beside the Flux CLI download moved to 2.5.1 is still "
            "the old asset's: replace it with the one flux_2.5.1_checksums.txt lists",
        }
    ]
    assert (repo / VARS).read_text("utf-8") == text.replace('"2.4.0"', '"2.5.1"')


def download_pins(rel: str, text: str) -> list[tuple[int, str, str]]:
    """(line, value, the text at the site's span) of each Flux CLI pin of one file."""
    return [
        (s.line, s.value, text[s.start : s.end])
        for s in find_cli_pins(SourceFile(rel, text.encode(), text))
    ]


def test_each_form_of_a_cli_download_is_found_at_the_text_it_edits() -> None:
    makefile = (
        "FLUX_VERSION ?= v2.4.0\n"
        "# curl https://github.com/fluxcd/flux2/releases/download/v2.3.0/flux_2.3.0_linux_amd64.tar.gz\n"
        "tools:\n"
        "\tcurl -LO https://github.com/fluxcd/flux2/releases/download/$(FLUX_VERSION)/flux_$${FLUX_VERSION#v}_linux_amd64.tar.gz\n"
        "\tkubectl apply -f https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
        "\tcurl -LO https://github.com/controlplaneio-fluxcd/flux-operator/releases/download/v0.46.0/flux-operator_0.46.0_linux_amd64.tar.gz\n"
    )  # fmt: skip
    # the tag's variable is the Makefile's literal; the asset name's shell expansion is not a
    # variable this file sets: shown as written (unproven); install.yaml is no CLI, nor is a
    # flux-operator asset, nor a comment
    assert download_pins("Makefile", makefile) == [
        (1, "v2.4.0", "v2.4.0"),
        (4, "$${FLUX_VERSION#v}", "$${FLUX_VERSION#v}"),
    ]
    script = "curl -sL https://github.com/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_darwin_arm64.tar.gz\n"
    assert download_pins("get.sh", script) == [(1, "2.4.0", "2.4.0"), (1, "2.4.0", "2.4.0")]


def test_only_the_flux_assets_digests_are_named_not_other_tools(tmp_path: Path) -> None:
    # an inventory's vars pin many tools with their digests: only Flux's (a line naming flux
    # or the old release, as a digest table keyed by version has it) go stale with the move
    helm = "a" * 64
    flux = "b" * 64
    text = (
        VARS_TEXT
        + f'helm_checksum: "sha256:{helm}"\n'
        + f"flux_checksums:\n  amd64:\n    2.4.0: {flux}\n"
    )
    repo = repo_with(tmp_path, {VARS: text})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git", "--json")
    assert moved.code == 0, moved.stdout + moved.stderr
    lines = [w["line"] for w in json.loads(moved.stdout)["warnings"] if w["file"] == VARS]
    assert lines == [9]


# An image build that fetches the CLI's asset, then unpacks it by its file name (the form of
# giolekva/pcloud's core/installer/Dockerfile.flux, written anew here): the name spells the
# release a second time, outside the URL.
UNPACK = "build/Dockerfile.flux"
UNPACK_TEXT = """\
FROM alpine:3.20 AS fetch
WORKDIR /download
# RUN tar -zxvf flux_0.41.2_linux_arm64.tar.gz
RUN wget https://github.com/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_linux_arm64.tar.gz
RUN tar -zxvf flux_2.4.0_linux_arm64.tar.gz flux
FROM alpine:3.20
COPY --from=fetch /download/flux /usr/local/bin/flux
"""
# A script that unpacks an asset it does not fetch: the name alone is no pin.
LOCAL = "scripts/unpack.sh"
LOCAL_TEXT = "#!/bin/sh\ntar -xzf ./vendor/flux_2.3.0_linux_amd64.tar.gz\n"


def test_the_unpacking_of_a_downloaded_cli_moves_with_its_download(tmp_path: Path) -> None:
    # Before, only the URL moved: the build fetched flux_2.5.1_… and unpacked flux_2.4.0_…,
    # a file no longer there, and failed.
    repo = repo_with(tmp_path, {UNPACK: UNPACK_TEXT, LOCAL: LOCAL_TEXT})
    named = "fluxcd/flux2 CLI download, asset file name"
    assert [row for row in cli_rows(repo) if row[0].startswith(UNPACK)] == [
        (f"{UNPACK}:4", "2.4.0", "fluxcd/flux2 CLI download", True),
        (f"{UNPACK}:4", "2.4.0", "fluxcd/flux2 CLI download", True),
        (f"{UNPACK}:5", "2.4.0", named, True),
    ]
    assert not [row for row in cli_rows(repo) if row[0].startswith(LOCAL)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    # every 2.4.0 of the file moves (the commented 0.41.2 stays), and nothing else does
    assert (repo / UNPACK).read_text() == UNPACK_TEXT.replace("2.4.0", "2.5.1")
    assert (repo / LOCAL).read_text() == LOCAL_TEXT


def test_check_names_an_unpacking_the_download_was_moved_without(tmp_path: Path) -> None:
    text = UNPACK_TEXT.replace("v2.4.0/flux_2.4.0_", "v2.5.1/flux_2.5.1_")
    repo = repo_with(tmp_path, {UNPACK: text})
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{UNPACK}:5: fluxcd/flux2 CLI download, asset file name pins Flux 2.4.0" in check.stdout


FLAKE = "flake.nix"
FLAKE_TEXT = """\
{
  outputs = { self, nixpkgs }: let
    pkgs = nixpkgs.legacyPackages.x86_64-linux;
  in {
    packages.x86_64-linux.flux = pkgs.stdenv.mkDerivation {
      name = "flux";
      # the CLI as Flux releases it, not nixpkgs' build
      src = pkgs.fetchurl {
        url = "https://github.com/fluxcd/flux2/releases/download/v2.2.0/flux_2.2.0_linux_amd64.tar.gz";
      };
    };
  };
}
"""


def test_a_flake_downloading_the_cli_is_a_pin_and_to_moves_it(tmp_path: Path) -> None:
    # A flake.nix fetching the CLI's release asset pins the CLI a devShell runs, but no
    # release_pins glob named *.nix: status showed nothing and to left it behind.
    repo = repo_with(tmp_path, {FLAKE: FLAKE_TEXT, SCRIPT: SCRIPT_TEXT.replace("2.4.0", "2.2.0")})
    download = "fluxcd/flux2 CLI download"
    assert cli_rows(repo)[:2] == [(f"{FLAKE}:9", "2.2.0", download, True)] * 2
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    # the tag and the asset's name, in one move with the script's
    assert (repo / FLAKE).read_text("utf-8") == FLAKE_TEXT.replace(
        "v2.2.0/flux_2.2.0_", "v2.5.1/flux_2.5.1_"
    )
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_flake_downloading_the_cli_at_its_version_attribute_moves_that_literal(
    tmp_path: Path,
) -> None:
    flake = FLAKE_TEXT.replace(
        '      name = "flux";\n', '      name = "flux";\n      version = "2.2.0";\n'
    )
    flake = flake.replace("v2.2.0/flux_2.2.0_", "v${version}/flux_${version}_")
    repo = repo_with(tmp_path, {FLAKE: flake})
    assert cli_rows(repo) == [(f"{FLAKE}:7", "2.2.0", "fluxcd/flux2 CLI download ($version)", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / FLAKE).read_text("utf-8") == flake.replace('"2.2.0"', '"2.5.1"')


def test_to_names_the_nix_hash_of_the_fetchurl_it_moves_not_another_tools(tmp_path: Path) -> None:
    # fetchurl checks the asset against its hash: after the move nix build fails on the old
    # one. The hash sits on its own line of the same { … } (no flux on it), in SRI or hex form.
    helm = (
        "    helm = pkgs.fetchurl {\n"
        '      url = "https://get.helm.sh/helm-v3.16.0-linux-amd64.tar.gz";\n'
        f'      sha256 = "{"a" * 64}";\n'
        "    };\n"
    )
    flake = FLAKE_TEXT.replace(
        '_linux_amd64.tar.gz";\n',
        '_linux_amd64.tar.gz";\n        hash = "sha256-IaLJJNPKX4trYqv1kHeI8vZByQDDRCBVdvv5+kxzxr4=";\n',
    ).replace("  in {\n", "  in {\n" + helm)
    repo = repo_with(tmp_path, {FLAKE: flake})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git", "--json")
    assert moved.code == 0, moved.stdout + moved.stderr
    warnings = [w for w in json.loads(moved.stdout)["warnings"] if w["file"] == FLAKE]
    assert [w["line"] for w in warnings] == [14]  # the Flux fetchurl's; helm's (7) is not named
    # SRI, not the hex checksums.txt lists: the way to get it in that form is named
    assert "'nix store prefetch-file URL' prints" in warnings[0]["message"]


# Flux's install script given a release, as fluxcd.io/flux/cmd documents it (public scripts,
# devcontainers and Dockerfiles install the CLI so).
INSTALL = "scripts/bootstrap.sh"
INSTALL_TEXT = """\
#!/bin/bash
# curl -s https://fluxcd.io/install.sh | FLUX_VERSION=2.0.0 bash
curl -s https://fluxcd.io/install.sh | FLUX_VERSION=2.4.0 bash -s ~/.local/bin
curl -s https://fluxcd.io/install.sh | sudo FLUX_VERSION="2.4.0" bash
"""
INSTALL_IMAGE = "tools/Dockerfile"
INSTALL_IMAGE_TEXT = """\
FROM debian:12
ENV FLUX_VERSION=2.4.0
RUN curl -s https://fluxcd.io/install.sh | FLUX_VERSION=${FLUX_VERSION} bash
"""


def test_the_install_script_given_a_release_is_a_cli_pin(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {INSTALL: INSTALL_TEXT, INSTALL_IMAGE: INSTALL_IMAGE_TEXT})
    script = "fluxcd.io/install.sh"
    assert cli_rows(repo) == [
        (f"{INSTALL}:3", "2.4.0", script, True),
        (f"{INSTALL}:4", "2.4.0", script, True),
        (f"{INSTALL_IMAGE}:2", "2.4.0", f"{script} ($FLUX_VERSION)", True),
    ]
    edit(repo, INSTALL, 'FLUX_VERSION="2.4.0"', 'FLUX_VERSION="2.3.0"')
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"{INSTALL}:4: fluxcd.io/install.sh pins Flux 2.3.0" in check.stdout
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stderr
    assert (repo / INSTALL).read_text() == INSTALL_TEXT.replace(
        "FLUX_VERSION=2.4.0", "FLUX_VERSION=2.5.1"
    ).replace('"2.4.0"', '"2.5.1"')
    assert (repo / INSTALL_IMAGE).read_text() == INSTALL_IMAGE_TEXT.replace("2.4.0", "2.5.1")


UNREAD_WORKFLOW = ".github/workflows/e2e.yaml"
UNREAD_WORKFLOW_TEXT = """\
jobs:
  e2e:
    steps:
      - run: curl -s https://fluxcd.io/install.sh | sudo bash
"""
UNREAD_SCRIPT = "bin/install_flux.sh"
UNREAD_SCRIPT_TEXT = """\
#!/bin/bash
# curl -s https://fluxcd.io/install.sh | bash
curl -s https://fluxcd.io/install.sh | FLUX_VERSION=$1 bash
curl -s https://fluxcd.io/install.sh > ~/bin/install-flux2.sh
FLUX_VERSION=$1 ~/bin/install-flux2.sh
"""


def test_an_install_script_run_whose_release_the_file_does_not_give_is_shown_unproven(
    tmp_path: Path,
) -> None:
    """Each run installs a CLI (the latest with no FLUX_VERSION, as the action with no
    ``version``; a caller's ``$1``, piped or given to the copy saved first, as
    SovereignCloudStack/k8s-cluster-api-provider's install_flux.sh runs it), so none is
    skipped silently: shown, never moved. The save itself runs nothing: no row."""
    files = {
        INSTALL: INSTALL_TEXT,
        UNREAD_WORKFLOW: UNREAD_WORKFLOW_TEXT,
        UNREAD_SCRIPT: UNREAD_SCRIPT_TEXT,
    }
    repo = repo_with(tmp_path, files)
    latest = "fluxcd.io/install.sh (no FLUX_VERSION: the latest release)"
    assert cli_rows(repo) == [
        (f"{UNREAD_WORKFLOW}:4", "latest", latest, False),
        (f"{UNREAD_SCRIPT}:3", "$1", "fluxcd.io/install.sh", False),
        (f"{UNREAD_SCRIPT}:5", "$1", "fluxcd.io/install.sh", False),
        (f"{INSTALL}:3", "2.4.0", "fluxcd.io/install.sh", True),
        (f"{INSTALL}:4", "2.4.0", "fluxcd.io/install.sh", True),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    assert "3 cannot be proven" in check.stdout
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stderr
    assert (repo / UNREAD_WORKFLOW).read_text() == UNREAD_WORKFLOW_TEXT
    assert (repo / UNREAD_SCRIPT).read_text() == UNREAD_SCRIPT_TEXT
    assert (repo / INSTALL).read_text() == INSTALL_TEXT.replace("2.4.0", "2.5.1")


# A role's tasks download the CLI at a release its defaults set (Ansible reads a role's
# defaults/main.yml for its tasks): the pin is that default, moved by ``to``. Before, the
# download was shown unproven at the task (``{{ flux_version }}``) and never moved.
ROLE_DEFAULTS = "ansible/roles/flux/defaults/main.yml"
ROLE_DEFAULTS_TEXT = "---\nflux_version: 2.4.0\n"


def test_a_role_download_is_the_release_the_role_defaults_give_it(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {TASKS: TASKS_TEXT, ROLE_DEFAULTS: ROLE_DEFAULTS_TEXT})
    download = "fluxcd/flux2 CLI download ({{ flux_version }})"
    assert cli_rows(repo) == [(f"{ROLE_DEFAULTS}:2", "2.4.0", download, True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / ROLE_DEFAULTS).read_text() == ROLE_DEFAULTS_TEXT.replace("2.4.0", "2.5.1")
    assert (repo / TASKS).read_text() == TASKS_TEXT


# The install script saved, then run given the release on its own command (by PATH, through
# ``env`` or a shell), or piped with the release exported earlier: each is the release the
# run installs. Before, each was shown as ``latest`` at the URL and never moved.
SAVED = "bin/install-cli.sh"
SAVED_TEXT = """\
#!/bin/bash
curl -s https://fluxcd.io/install.sh > ~/bin/install-flux2.sh
chmod +x ~/bin/install-flux2.sh
FLUX_VERSION=2.4.0 install-flux2.sh
curl -sSLo /tmp/flux-install.sh https://fluxcd.io/install.sh
env FLUX_VERSION="2.4.0" bash /tmp/flux-install.sh
"""
EXPORTED = "bin/exported.sh"
EXPORTED_TEXT = """\
#!/bin/bash
export FLUX_VERSION=2.4.0
curl -s https://fluxcd.io/install.sh | sudo -E bash
wget -q https://fluxcd.io/install.sh && bash install.sh ~/.local/bin
"""
# ``sudo`` without ``-E`` resets the environment: the exported release never reaches the run.
RESET = "bin/reset.sh"
RESET_TEXT = """\
#!/bin/bash
export FLUX_VERSION=2.4.0
curl -s https://fluxcd.io/install.sh | sudo bash
"""


def test_a_saved_or_exported_install_script_release_is_read_and_moved(tmp_path: Path) -> None:
    files = {SAVED: SAVED_TEXT, EXPORTED: EXPORTED_TEXT, RESET: RESET_TEXT}
    repo = repo_with(tmp_path, files)
    exported = "fluxcd.io/install.sh (exported FLUX_VERSION)"
    latest = "fluxcd.io/install.sh (no FLUX_VERSION: the latest release)"
    assert cli_rows(repo) == [
        (f"{EXPORTED}:2", "2.4.0", exported, True),
        (f"{SAVED}:4", "2.4.0", "fluxcd.io/install.sh", True),
        (f"{SAVED}:6", "2.4.0", "fluxcd.io/install.sh", True),
        (f"{RESET}:3", "latest", latest, False),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SAVED).read_text() == SAVED_TEXT.replace("2.4.0", "2.5.1")
    assert (repo / EXPORTED).read_text() == EXPORTED_TEXT.replace("2.4.0", "2.5.1")
    assert (repo / RESET).read_text() == RESET_TEXT


# A NixOS host that applies Flux's install.yaml itself (a systemd unit running ``kubectl apply
# -f ${fluxInstallManifest}``, the manifest a fetchurl pins by its hash), as a public k3s
# homelab's configuration.nix does; a script that checks the manifest it downloads.
NIXOS = "nixos/configuration.nix"
NIXOS_TEXT = """\
{ config, lib, pkgs, ... }:

let
  fluxInstallManifest = pkgs.fetchurl {
    url = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml";
    hash = "sha256-Sl87fH08AlzmMFwvqD46OQacfaq8QEqw5nKW+hcwWxg=";
  };
  seccomp = pkgs.fetchurl {
    url = "https://raw.githubusercontent.com/microsoft/playwright/main/seccomp_profile.json";
    hash = "sha256-zD5hyr2mu8HlPlTSe6TVWp076Cm23RpZb0p7MbHMeEk=";
  };
in
{
  systemd.services.reconcile-flux.script = ''
    kubectl apply --server-side -f ${fluxInstallManifest}
  '';
}
"""
CHECKED = "scripts/install-flux.sh"
CHECKED_TEXT = f"""\
#!/bin/sh
curl -fsSLo install.yaml https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml
FLUX_INSTALL_SHA256="{"b" * 64}"
echo "$FLUX_INSTALL_SHA256  install.yaml" | sha256sum -c
kubectl apply -f install.yaml
"""


def test_to_names_the_hash_of_an_install_manifest_download_it_moves(tmp_path: Path) -> None:
    # Before, only a CLI download's digest was named: the install.yaml's hash was left at the
    # old release's in silence, and the host's next nixos-rebuild (or sha256sum -c) failed.
    repo = repo_with(tmp_path, {NIXOS: NIXOS_TEXT, CHECKED: CHECKED_TEXT})
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git", "--json")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / NIXOS).read_text("utf-8") == NIXOS_TEXT.replace("v2.4.0", "v2.5.1")
    named = [
        (w["file"], w["line"])
        for w in json.loads(moved.stdout)["warnings"]
        if "sha256 digest" in w["message"]
    ]
    assert named == [(NIXOS, 6), (CHECKED, 3)]  # not the seccomp profile's hash (line 10)
    message = next(w["message"] for w in json.loads(moved.stdout)["warnings"] if w["line"] == 6)
    assert "Flux install.yaml download moved to v2.5.1" in message
