"""Flux installed by a command line: ``kubectl apply -k github.com/fluxcd/flux2/manifests/
install?ref=vX`` (or ``-f`` of a release's ``install.yaml``) in a bootstrap script, a Taskfile
or a cloud-init template. Real repositories do it (tests/realworld/chamburr-homelab).

End to end through the CLI in git repositories in ``tmp_path``; ``--offline`` uses the bundled
Helm index snapshot (2.4.0 and 2.5.1 are in it), the wrapper fleet the 127.0.0.1 one.
"""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump.fleet import CLOUDINIT
from tests.support import independent_scan
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, edit, init_git, make_fleet, snapshot, write_repo
from tests.support.helm_server import HelmServer

SCRIPT = "scripts/bootstrap.sh"
SCRIPT_TEXT = """\
#!/usr/bin/env bash
set -euo pipefail
# kubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=v1.0.0 (an old note)
kubectl apply -k 'github.com/fluxcd/flux2/manifests/install?ref=v2.4.0'
kubectl apply --server-side --kustomize=https://github.com/fluxcd/flux2//manifests/crds?ref=v2.4.0 \\
  --force-conflicts
kubectl apply -f "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
kubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=$FLUX_VERSION
kubectl apply -k github.com/someone/flux2/manifests/install?ref=v9.9.9
echo github.com/fluxcd/flux2/manifests/install?ref=v0.0.1
"""
TASKFILE = ".taskfiles/flux/Taskfile.yaml"
TASKFILE_TEXT = """\
version: "3"
tasks:
  install:
    cmds:
      - kubectl apply --server-side --kustomize github.com/fluxcd/flux2/manifests/install?ref=v2.4.0
"""
ROLE = "kustomize remote install"


def script_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for rel, text in ((SCRIPT, SCRIPT_TEXT), (TASKFILE, TASKFILE_TEXT)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def rows(repo: Path) -> list[tuple[str, str, str, str, bool]]:
    outcome = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    return [
        (s["owner"], f"{s['file']}:{s['line']}", s["value"], s["expected"], s["ok"] and s["proven"])
        for s in json.loads(outcome.stdout)["sites"]
        if s["role"] == ROLE
    ]


def test_a_script_or_taskfile_line_that_applies_flux_from_its_repository_is_a_pin(
    tmp_path: Path,
) -> None:
    repo = script_repo(tmp_path)
    install, crds = "fluxcd/flux2/manifests/install", "fluxcd/flux2/manifests/crds"
    assert rows(repo) == [
        (f"kubectl {install}", f"{TASKFILE}:5", "v2.4.0", "v2.4.0", True),
        (f"kubectl {install}", f"{SCRIPT}:4", "v2.4.0", "v2.4.0", True),
        (f"kubectl {crds}", f"{SCRIPT}:5", "v2.4.0", "v2.4.0", True),
        ("kubectl fluxcd/flux2 install.yaml asset", f"{SCRIPT}:7", "v2.4.0", "v2.4.0", True),
        # a shell variable is not a release: shown, never rewritten
        (f"kubectl {install}", f"{SCRIPT}:8", "$FLUX_VERSION", "Flux 2.4.0", False),
    ]
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr


def test_check_names_the_script_line_that_disagrees(tmp_path: Path) -> None:
    repo = script_repo(tmp_path)
    edit(repo, SCRIPT, "download/v2.4.0/", "download/v2.3.0/")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.startswith(
        f"{SCRIPT}:7: kubectl fluxcd/flux2 install.yaml asset pins Flux v2.3.0, "
    ), check.stdout


def test_to_moves_the_release_in_each_command_line_and_nothing_else(tmp_path: Path) -> None:
    repo = script_repo(tmp_path)
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    lines = SCRIPT_TEXT.splitlines(keepends=True)
    for at in (3, 4, 6):  # lines 4, 5 and 7: the literal releases of fluxcd/flux2
        lines[at] = lines[at].replace("v2.4.0", "v2.5.1")
    assert after[SCRIPT].decode() == "".join(lines)
    assert after[TASKFILE].decode() == TASKFILE_TEXT.replace("v2.4.0", "v2.5.1")
    assert set(after) == set(before)
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_command_ended_by_a_semicolon_on_its_line_is_still_a_pin(tmp_path: Path) -> None:
    # microsoft/kalypso's scripts/bootstrap/lib/cluster.sh:263: ``if ! kubectl apply -f URL;
    # then``. The ``;`` was taken as part of the URL, so the pin was not read and 'to' left it.
    script = (
        "#!/bin/sh\n"
        "if ! kubectl apply -f https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml; then\n"
        "  exit 1\nfi\n"
        "kubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=v2.4.0;echo done\n"
    )
    repo = write_repo(tmp_path / "repo", {SCRIPT: script})
    assert [(where, value) for _, where, value, _, _ in rows(repo)] == [
        (f"{SCRIPT}:2", "v2.4.0"),
        (f"{SCRIPT}:5", "v2.4.0"),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SCRIPT).read_text("utf-8") == script.replace("v2.4.0", "v2.5.1")


def test_a_url_with_the_next_command_or_a_closing_parenthesis_glued_on_is_still_a_pin(
    tmp_path: Path,
) -> None:
    # ``curl -sL URL&&kubectl …`` and ``$(curl URL)``: the ``&&`` and ``)`` were read as part
    # of the URL, which then matched no pin, so check passed over the line and to left it.
    asset = "https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
    remote = "github.com/fluxcd/flux2/manifests/install?ref=v2.4.0"
    script = (
        "#!/bin/sh\n"
        f"curl -sL {asset}&&kubectl get ns\n"
        f"kubectl apply -f $(echo {asset})\n"
        f'echo "$(curl -sL {asset})" | kubectl apply -f -\n'
        f"MANIFEST=$(curl -sL {asset})\n"
        f"kubectl apply -k {remote}||exit 1\n"
        f"kubectl apply -k '{remote}&timeout=2m'>/dev/null\n"
    )
    repo = write_repo(tmp_path / "repo", {SCRIPT: script})
    assert [(where, value) for _, where, value, _, _ in rows(repo)] == [
        (f"{SCRIPT}:{line}", "v2.4.0") for line in range(2, 8)
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SCRIPT).read_text("utf-8") == script.replace("v2.4.0", "v2.5.1")


def test_a_cloud_init_template_may_install_flux_by_kustomize_from_its_repository(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The wrapper layout's template, installing by ``kubectl apply -k`` instead of the
    # release asset: the same pin (it used to be "no line installs the Flux install.yaml URL").
    repo = make_fleet(tmp_path / "fleet", CONSISTENT)
    asset = "apply -f https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
    kustomize = "apply -k github.com/fluxcd/flux2/manifests/install?ref=v2.4.0"
    edit(repo, CLOUDINIT, asset, kustomize)
    init_git(repo)
    helm = ("--helm-repo", helm_server.base_url)
    check = run_cli("check", "--repo", str(repo), *helm)
    assert check.code == 0, check.stdout + check.stderr
    before = (repo / CLOUDINIT).read_text("utf-8")
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--no-git", *helm)
    assert moved.code == 0, moved.stdout + moved.stderr
    after = (repo / CLOUDINIT).read_text("utf-8")
    assert after == before.replace("install?ref=v2.4.0", "install?ref=v2.5.1")
    # a drifted ref is the cloud-init invariant's violation, named by file:line
    edit(repo, CLOUDINIT, "install?ref=v2.5.1", "install?ref=v2.5.0")
    drifted = run_cli("check", "--repo", str(repo), *helm)
    assert drifted.code == 1, drifted.stdout + drifted.stderr
    assert f"cloud-init installs Flux v2.5.0 ({CLOUDINIT}:16)" in drifted.stdout


GIT_SOURCE = "kubernetes/flux-system/flux-installation.yaml"
# Flux reconciling itself from its own repository at a tag (chamburr/homelab's layout), and
# what is not a pin of the release: a commit wins over the tag, a fork, a branch.
GIT_SOURCE_TEXT = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-installation
  namespace: flux-system
spec:
  interval: 10m
  ref:
    # renovate: datasource=github-releases depName=fluxcd/flux2
    tag: v2.4.0
  url: https://github.com/fluxcd/flux2
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-installation
  namespace: flux-system
spec:
  path: ./manifests/install
  sourceRef:
    kind: GitRepository
    name: flux-installation
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: by-commit
spec:
  ref:
    tag: v0.0.1
    commit: 0123456789abcdef0123456789abcdef01234567
  url: ssh://git@github.com/fluxcd/flux2.git
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: a-fork
spec:
  ref:
    tag: v9.9.9
  url: https://github.com/someone/flux2
"""
GIT_ROLE = "fluxcd/flux2 GitRepository"


def test_a_git_repository_of_flux_itself_at_a_tag_is_a_pin_the_script_must_agree_with(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    for rel, text in ((SCRIPT, SCRIPT_TEXT), (GIT_SOURCE, GIT_SOURCE_TEXT)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text.replace("v2.4.0", "v2.3.0") if rel == SCRIPT else text)
    init_git(repo)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    found = [
        (s["role"], s["owner"], f"{s['file']}:{s['line']}", s["value"])
        for s in json.loads(status.stdout)["sites"]
        if s["role"] == GIT_ROLE
    ]
    owner = "GitRepository flux-system/flux-installation (fluxcd/flux2)"
    assert found == [(GIT_ROLE, owner, f"{GIT_SOURCE}:10", "v2.4.0")]
    # the reconciled source is what the cluster runs: the stale bootstrap line is named
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert check.stdout.startswith(
        f"{SCRIPT}:4: kubectl fluxcd/flux2/manifests/install pins Flux v2.3.0, "
        f"{owner} pins Flux v2.4.0 ({GIT_SOURCE}:10) — make them agree"
    ), check.stdout
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / GIT_SOURCE).read_text("utf-8") == GIT_SOURCE_TEXT.replace(
        "tag: v2.4.0", "tag: v2.5.1"
    )
    assert "install?ref=v2.5.1'" in (repo / SCRIPT).read_text("utf-8")
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    refused = run_cli("to", "2.4.0", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 4, refused.stdout + refused.stderr  # installed: no downgrade


def test_a_script_that_is_not_utf8_and_names_no_flux_costs_nothing(tmp_path: Path) -> None:
    # Old scripts and Makefiles are often Latin-1: one that cannot pin Flux must not make the
    # release unproven (and refuse every bump); one that names Flux still does, by file:line.
    repo = script_repo(tmp_path)
    (repo / "Makefile").write_bytes(b"all:\n\techo caf\xe9\n")
    (repo / "scripts/latin.sh").write_bytes(b"#!/bin/sh\necho caf\xe9\n")
    init_git(repo)
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0, check.stdout + check.stderr
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    (repo / "scripts/flux.sh").write_bytes(b"# caf\xe9\nflux install --version=v2.5.1\n")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert (
        "scripts/flux.sh:1: not UTF-8 text (byte 0xe9): save it as UTF-8; flux is unproven"
        in check.stdout
    )


MAKEFILE_TEXT = """\
gotk: ## flux install --version=v1.0.0 in a comment is not a command
\tflux install --version=v2.4.0 --network-policy=false \\
\t\t--export > clusters/prod/flux-system/gotk-components.yaml
e2e:
\tflux install --components=source-controller --version "v2.4.0" && kubectl get pods
bootstrap:
\tflux bootstrap github --owner=me --version=$(FLUX_VERSION) --path=clusters/prod
"""


def test_a_flux_install_or_bootstrap_version_on_a_command_line_is_a_pin(tmp_path: Path) -> None:
    # Makefiles regenerate gotk-components.yaml with ``flux install --version=vX --export``
    # and CI installs a release with it: the release those lines install.
    repo = script_repo(tmp_path)
    (repo / "Makefile").write_text(MAKEFILE_TEXT, "utf-8")
    init_git(repo)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    found = [
        (s["owner"], f"{s['file']}:{s['line']}", s["value"], s["ok"] and s["proven"])
        for s in json.loads(status.stdout)["sites"]
        if s["file"] == "Makefile"
    ]
    assert found == [
        ("flux install --version", "Makefile:2", "v2.4.0", True),
        ("flux install --version", "Makefile:5", "v2.4.0", True),
        ("flux bootstrap --version", "Makefile:7", "$(FLUX_VERSION)", False),
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "Makefile").read_text("utf-8") == MAKEFILE_TEXT.replace(
        "--version=v2.4.0", "--version=v2.5.1"
    ).replace('"v2.4.0"', '"v2.5.1"')


VARIABLE_SCRIPT = """\
#!/usr/bin/env bash
set -euo pipefail
FLUX_VERSION="v2.4.0"  # renovate: datasource=github-releases depName=fluxcd/flux2
kubectl apply -f "https://github.com/fluxcd/flux2/releases/download/${FLUX_VERSION}/install.yaml"
kubectl apply -k "github.com/fluxcd/flux2/manifests/crds?ref=${FLUX_VERSION}"
kubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=$OTHER_VERSION
"""
VARIABLE_MAKEFILE = """\
FLUX_VERSION ?= v2.4.0
bootstrap:
\tflux bootstrap github --owner=me --version=$(FLUX_VERSION) --path=clusters/prod
"""


def variable_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for rel, text in ((SCRIPT, VARIABLE_SCRIPT), ("Makefile", VARIABLE_MAKEFILE)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def test_a_variable_the_file_sets_is_followed_to_its_literal_version(tmp_path: Path) -> None:
    # Scripts name the release once (``FLUX_VERSION="v2.4.0"``) and use ``${FLUX_VERSION}``
    # in their commands: the assignment is the pin. One nothing sets stays unproven.
    repo = variable_repo(tmp_path)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert [
        (s["owner"], f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
    ] == [
        ("flux bootstrap --version ($FLUX_VERSION)", "Makefile:1", "v2.4.0", True),
        ("kubectl fluxcd/flux2 install.yaml asset ($FLUX_VERSION)", f"{SCRIPT}:3", "v2.4.0", True),
        ("kubectl fluxcd/flux2/manifests/install", f"{SCRIPT}:6", "$OTHER_VERSION", False),
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0
    edit(repo, "Makefile", "?= v2.4.0", "?= v2.3.0")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1 and "Makefile:1: " in check.stdout, check.stdout + check.stderr
    edit(repo, "Makefile", "?= v2.3.0", "?= v2.4.0")
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SCRIPT).read_text("utf-8") == VARIABLE_SCRIPT.replace('"v2.4.0"', '"v2.5.1"')
    assert (repo / "Makefile").read_text("utf-8") == VARIABLE_MAKEFILE.replace("v2.4.0", "v2.5.1")


def test_sync_follows_a_script_variable_renovate_moved(tmp_path: Path) -> None:
    repo = variable_repo(tmp_path)
    edit(repo, SCRIPT, 'FLUX_VERSION="v2.4.0"', 'FLUX_VERSION="v2.5.1"')  # its renovate comment
    synced = run_cli("sync", "--repo", str(repo), "--offline")
    assert synced.code == 0, synced.stdout + synced.stderr
    assert (repo / "Makefile").read_text("utf-8") == VARIABLE_MAKEFILE.replace("v2.4.0", "v2.5.1")


GLOBAL_FLAGS_TEXT = """\
#!/usr/bin/env bash
flux --namespace flux-system install --version v2.4.0
flux -n flux-system bootstrap github --owner=me --version=v2.4.0 --path=clusters/prod
flux --verbose --kubeconfig=/etc/k3s.yaml install --version=v2.4.0
flux --context=prod install --export > gotk.yaml  # no version: the CLI's own release
"""


def test_flux_global_flags_before_the_subcommand_still_make_a_cli_pin(tmp_path: Path) -> None:
    # ``flux [global flags] install|bootstrap``: cobra reads persistent flags anywhere.
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "scripts/flux.sh").write_text(GLOBAL_FLAGS_TEXT, "utf-8")
    init_git(repo)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    found = [
        (s["owner"], s["line"], s["value"])
        for s in json.loads(status.stdout)["sites"]
        if s["file"] == "scripts/flux.sh"
    ]
    assert found == [
        ("flux install --version", 2, "v2.4.0"),
        ("flux bootstrap --version", 3, "v2.4.0"),
        ("flux install --version", 4, "v2.4.0"),
    ]
    oracle = [p for p in independent_scan.scan(repo).flux_pins if p.kind == "cli"]
    assert [(p.file, p.version) for p in oracle] == [("scripts/flux.sh", "v2.4.0")] * 3
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "scripts/flux.sh").read_text("utf-8") == GLOBAL_FLAGS_TEXT.replace(
        "v2.4.0", "v2.5.1"
    )


DEFAULTS_SCRIPT = """\
#!/usr/bin/env bash
: "${FLUX_VERSION:=v2.4.0}"
CRDS_VERSION="${CRDS_VERSION:-v2.4.0}"
OTHER=${UNSET_VERSION:-v2.3.0}
kubectl apply -k "github.com/fluxcd/flux2/manifests/install?ref=${FLUX_VERSION}"
kubectl apply -k "github.com/fluxcd/flux2/manifests/crds?ref=${CRDS_VERSION}"
flux install --version "$UNSET_VERSION"
"""


def test_only_a_default_that_assigns_the_variable_is_its_pin(tmp_path: Path) -> None:
    # ``${NAME:=v}`` and ``NAME=${NAME:-v}`` set NAME; ``OTHER=${NAME:-v}`` leaves NAME unset,
    # so the command using it installs whatever the CLI defaults to: unproven, not v2.3.0.
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / SCRIPT).write_text(DEFAULTS_SCRIPT, "utf-8")
    init_git(repo)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert sorted(
        (f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
    ) == [
        (f"{SCRIPT}:2", "v2.4.0", True),
        (f"{SCRIPT}:3", "v2.4.0", True),
        (f"{SCRIPT}:7", "$UNSET_VERSION", False),
    ]


KEPT_URL_SCRIPT = """\
#!/bin/sh
FLUX_MANIFEST="https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"
export FLUX_KUSTOMIZE=github.com/fluxcd/flux2/manifests/install?ref=v2.4.0  # was v2.3.0
wget -qO /tmp/flux.yaml https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml
echo "see https://github.com/fluxcd/flux2/releases/download/v0.0.1/install.yaml"
kubectl apply -f "$FLUX_MANIFEST"
"""
KEPT_URL_WORKFLOW = """\
on: push
jobs:
  e2e:
    runs-on: ubuntu-latest
    env:
      FLUX_MANIFEST: https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml
    steps:
      - run: kubectl apply -f "$FLUX_MANIFEST"
"""
KEPT_URL_MAKEFILE = (
    "FLUX_MANIFEST ?= https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
    "install:\n\tkubectl apply -f $(FLUX_MANIFEST)\n"
)


def test_a_url_kept_in_a_variable_or_downloaded_is_a_pin_and_moves(tmp_path: Path) -> None:
    # Scripts keep the install URL in a variable (``FLUX_MANIFEST=…``, then ``kubectl apply
    # -f "$FLUX_MANIFEST"``) or download it first (``wget``): the URL names the release. These
    # were not read: ``to`` left them at the old release. A URL only printed is no pin.
    files = {SCRIPT: KEPT_URL_SCRIPT, ".github/workflows/e2e.yaml": KEPT_URL_WORKFLOW,
             "Makefile": KEPT_URL_MAKEFILE}  # fmt: skip
    repo = write_repo(tmp_path / "repo", files)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert sorted(
        (f"{s['file']}:{s['line']}", s["value"]) for s in json.loads(status.stdout)["sites"]
    ) == [(".github/workflows/e2e.yaml:6", "v2.4.0"), ("Makefile:1", "v2.4.0"),
          (f"{SCRIPT}:2", "v2.4.0"), (f"{SCRIPT}:3", "v2.4.0"), (f"{SCRIPT}:4", "v2.4.0")]  # fmt: skip
    edit(repo, SCRIPT, "download/v2.4.0/install.yaml\necho", "download/v2.3.0/install.yaml\necho")
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 1 and f"{SCRIPT}:4: " in check.stdout, check.stdout + check.stderr
    before = snapshot(repo)
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = {rel: text.decode("utf-8") for rel, text in snapshot(repo).items()}
    expected = {rel: text.decode("utf-8") for rel, text in before.items()}
    for rel in files:
        expected[rel] = (
            expected[rel]
            .replace("v2.4.0", "v2.5.1")
            .replace("download/v2.3.0/", "download/v2.5.1/")
        )
    assert after == expected
    assert "v0.0.1" in after[SCRIPT] and "# was v2.3.0" in after[SCRIPT]


def test_a_variable_after_the_tags_v_is_followed_too(tmp_path: Path) -> None:
    # weaveworks/weave-gitops's Makefile: ``FLUX_VERSION=2.7.2`` and
    # ``curl …/download/v$(FLUX_VERSION)/install.yaml``: the assignment is the pin, written
    # without the "v" it is given after. It was shown unproven and never moved.
    makefile = (
        "FLUX_VERSION=2.4.0\n"
        "crds:\n\tcurl -sSL https://github.com/fluxcd/flux2/releases/download/v$(FLUX_VERSION)"
        "/install.yaml > crds.yaml\n"
    )
    repo = write_repo(tmp_path / "repo", {"Makefile": makefile})
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert [
        (s["owner"], f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
    ] == [("fluxcd/flux2 install.yaml asset ($FLUX_VERSION)", "Makefile:1", "2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "Makefile").read_text("utf-8") == makefile.replace("=2.4.0", "=2.5.1")


def test_the_gate_after_to_counts_a_pin_it_left_unproven_apart(tmp_path: Path) -> None:
    # weaveworks/weave-gitops: its Makefile's FLUX_VERSION and CI steps of the latest CLI. The
    # gate after 'to' said "3 pin-sites consistent" where check says 1 agrees, 2 unproven.
    makefile = (
        "FLUX_VERSION=2.4.0\n"
        "crds:\n\tcurl -sSL https://github.com/fluxcd/flux2/releases/download/v$(FLUX_VERSION)"
        "/install.yaml > crds.yaml\n"
    )
    workflow = (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: fluxcd/flux2/action@main\n"
    )
    repo = write_repo(
        tmp_path / "repo", {"Makefile": makefile, ".github/workflows/t.yaml": workflow}
    )
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert ".github/workflows/t.yaml:6: Flux CLI pin latest names no Flux release" in moved.stderr
    gate = next(line for line in moved.stdout.splitlines() if line.startswith("gate: "))
    assert gate.startswith(
        "gate: passed: 1 pin-sites consistent, 1 left unproven (see the warnings);"
    )
    check = run_cli("check", "--repo", str(repo), "--offline")
    assert check.code == 0 and "1 pin-sites agree, 1 cannot be proven" in check.stdout


def test_a_download_of_the_releases_manifests_tarball_is_a_pin(tmp_path: Path) -> None:
    # The release's manifests.tar.gz (what `flux install` and fluxcd/terraform-provider-flux
    # embed) downloaded by curl or wget names that release as install.yaml does; it was not
    # read, so check passed over a disagreement and to left it behind. A release the file
    # cannot say (terraform-provider-flux's FLUX_VERSION:=$(shell grep … flux.go)) is unproven.
    script = (
        "#!/bin/sh\n"
        "wget https://github.com/fluxcd/flux2/releases/download/v2.4.0/manifests.tar.gz\n"
        "tar xzf manifests.tar.gz\n"
    )
    makefile = (
        "FLUX_VERSION:=$(shell grep 'DefaultFluxVersion' flux.go | awk '{ print $$5 }')\n"
        "manifests:\n\tcurl -sLO https://github.com/fluxcd/flux2/releases/download/"
        "$(FLUX_VERSION)/manifests.tar.gz\n"
    )
    repo = write_repo(tmp_path / "repo", {SCRIPT: script, "Makefile": makefile})
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert sorted(
        (f"{s['file']}:{s['line']}", s["value"]) for s in json.loads(status.stdout)["sites"]
    ) == [("Makefile:3", "$(FLUX_VERSION)"), (f"{SCRIPT}:2", "v2.4.0")]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / SCRIPT).read_text("utf-8") == script.replace("v2.4.0", "v2.5.1")
    assert (repo / "Makefile").read_text("utf-8") == makefile
    assert "Makefile:3: kustomize remote install $(FLUX_VERSION) left as written" in moved.stderr


TASK_VARIABLE = """\
---
version: "3"

vars:
  # renovate: datasource=github-releases depName=fluxcd/flux2
  FLUX_VERSION: v2.4.0

tasks:
  install:
    cmds:
      - kubectl apply --server-side --kustomize "github.com/fluxcd/flux2/manifests/install?ref={{.FLUX_VERSION}}"
      - flux install --version={{ .FLUX_VERSION }} --export > gotk-components.yaml
"""


def test_a_taskfile_variable_is_followed_to_its_vars_entry(tmp_path: Path) -> None:
    # Task writes a variable as a Go template of its ``vars:``, ``{{.FLUX_VERSION}}``: it was
    # shown unproven, and ``to`` left the vars entry at the old release.
    repo = write_repo(tmp_path / "repo", {"Taskfile.yml": TASK_VARIABLE})
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    assert [
        (s["owner"], f"{s['file']}:{s['line']}", s["value"], s["proven"])
        for s in json.loads(status.stdout)["sites"]
    ] == [
        (
            "kubectl fluxcd/flux2/manifests/install ({{.FLUX_VERSION}})",
            "Taskfile.yml:6",
            "v2.4.0",
            True,
        )
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / "Taskfile.yml").read_text("utf-8") == TASK_VARIABLE.replace(
        "FLUX_VERSION: v2.4.0", "FLUX_VERSION: v2.5.1"
    )
