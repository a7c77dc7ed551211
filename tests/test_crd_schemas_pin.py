"""A download of a Flux release's ``crd-schemas.tar.gz`` (kubeconform validates the manifests
against it in CI) names that release: ``to`` moves it with the rest, ``check`` compares it.
Before, it was no pin: after a bump CI kept validating against the old release's schemas."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot
from tests.support.layouts import write_repo

VALIDATE = "scripts/validate.sh"
SCHEMAS = "https://github.com/fluxcd/flux2/releases/{}/crd-schemas.tar.gz"


def validate_script(where: str) -> str:
    return (
        "#!/usr/bin/env bash\nset -o errexit\n"
        "# from https://github.com/fluxcd/flux2/releases/download/v2.0.0/crd-schemas.tar.gz once\n"
        f"curl -sL {SCHEMAS.format(where)} | tar zxf - -C /tmp/schemas\n"
    )


def repository(root: Path, where: str, script: str = VALIDATE) -> Path:
    return write_repo(root, {script: validate_script(where), ".tool-versions": "flux2 2.4.0\n"})


def test_to_moves_the_schemas_download_with_the_cli(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", "download/v2.4.0")
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert f"  {VALIDATE}:4: Flux CLI pin (fluxcd/flux2 CRD schemas download) 2.4.0 -> 2.5.1" in (
        outcome.stdout.splitlines()
    )
    after = snapshot(repo)
    assert after[VALIDATE].decode() == validate_script("download/v2.5.1")  # not the comment
    assert after[".tool-versions"] == b"flux2 2.5.1\n"
    assert [rel for rel in before if after[rel] != before[rel]] == [".tool-versions", VALIDATE]


def test_check_names_schemas_of_another_release(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", "download/v2.3.0")
    outcome = run_cli("check", "--offline", "--repo", str(repo))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert any(line.startswith(f"{VALIDATE}:4: ") for line in outcome.stdout.splitlines())


def test_the_latest_schemas_are_no_pin_but_are_named(tmp_path: Path) -> None:
    # The newest release's schemas: compared with nothing and never moved, but named, as a
    # script applying the latest install.yaml is (gate/floating.py), not passed over in silence.
    repo = repository(tmp_path / "repo", "latest/download")
    outcome = run_cli("status", "--offline", "--repo", str(repo))
    rows = [line.split() for line in outcome.stdout.splitlines() if VALIDATE in line]
    assert rows == [["Flux", "CLI", "pin", f"{VALIDATE}:4", "latest", "Flux", "2.4.0", "??"]]
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 0, check.stdout + check.stderr
    assert f"warning: {VALIDATE}:4: Flux CLI pin latest names no Flux release" in check.stderr
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (repo / VALIDATE).read_text("utf-8") == validate_script("latest/download")


def test_a_bash_script_is_read_as_a_shell_script(tmp_path: Path) -> None:
    # justingarfield/home-ops keeps its kubeconform run in scripts/flux/flux-validate.bash
    # (curl …/download/v2.0.1/crd-schemas.tar.gz beside a v2.1.2 bootstrap): no release_pins
    # glob named a ``.bash`` file, so the pin was neither checked nor moved.
    script = "scripts/flux/flux-validate.bash"
    repo = repository(tmp_path / "repo", "download/v2.3.0", script)
    check = run_cli("check", "--offline", "--repo", str(repo))
    assert check.code == 1, check.stdout + check.stderr
    assert any(line.startswith(f"{script}:4: ") for line in check.stdout.splitlines())
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    assert snapshot(repo)[script].decode() == validate_script("download/v2.5.1")


def test_to_names_the_nix_hash_it_leaves_beside_a_moved_schemas_download(tmp_path: Path) -> None:
    # A Nix program that validates with kubeconform fetches the schemas as a fixed-output
    # derivation: the moved URL beside the old hash fails the build, or, with the old file
    # in the store under that hash, validates against the old release's schemas. The CLI's
    # download had its hash named; the schemas' was passed over (no warning).
    program = "nix/validate-flux.nix"
    hashed = '    hash = "sha256-mRey8M8vanOCaGprO3oZZbYPfPDTXgTFFCgbgtoMp5g=";\n'
    text = (
        "{ pkgs }:\n"
        "pkgs.fetchurl {\n"
        f'    url = "{SCHEMAS.format("download/v2.4.0")}";\n'
        f"{hashed}"
        "}\n"
    )
    repo = write_repo(tmp_path / "repo", {program: text, ".tool-versions": "flux2 2.4.0\n"})
    moved = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert moved.code == 0, moved.stdout + moved.stderr
    assert (
        f"warning: {program}:4: a sha256 digest beside the Flux crd-schemas.tar.gz download "
        "moved to 2.5.1 is still the old asset's: replace it with the hash 'nix store "
        "prefetch-file URL' prints"
    ) in moved.stderr.splitlines()
    assert snapshot(repo)[program].decode() == text.replace("v2.4.0", "v2.5.1")  # hash kept
