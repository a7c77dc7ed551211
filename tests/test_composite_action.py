"""The Flux CLI a composite GitHub action installs.

Altinn/altinn-platform's ``actions/flux/setup-flux-acr/action.yaml`` (a composite action its
workflows call) runs ``fluxcd/flux2/action`` with ``version: ${{ inputs.flux_version }}``, the
input defaulting to ``"2.6.4"``. Only ``.github/workflows/`` files were read, so that pin was
read nowhere ("nothing to check", exit 2); a composite action's steps are read as a workflow's,
``${{ inputs.NAME }}`` being the input's literal ``default`` (what runs when a caller gives none).
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import role_rows, run_cli
from tests.support.fixtures import snapshot, write_repo

ACTION = ".github/actions/setup-flux/action.yml"
ACTION_TEXT = """\
name: Setup Flux
inputs:
  flux_version:
    description: Flux CLI release
    default: "2.6.4" # renovate: datasource=github-releases depName=fluxcd/flux2
  other:
    description: none given
runs:
  using: composite
  steps:
    - uses: fluxcd/flux2/action@v2.6.4
      with:
        version: ${{ inputs.flux_version }}
    - uses: fluxcd/flux2/action@v2.6.4
      with:
        version: v2.6.4
    - uses: fluxcd/flux2/action@v2.6.4
      env:
        FLUX: 2.6.4
      with:
        version: ${{ env.FLUX }}
    - uses: fluxcd/flux2/action@v2.6.4
      with:
        version: ${{ inputs.other }}
"""
OWNER = "fluxcd/flux2/action (.github/actions/setup-flux)"


def test_a_composite_actions_flux_steps_are_cli_pins_that_to_moves(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {ACTION: ACTION_TEXT})
    assert role_rows(repo, "Flux CLI pin") == [
        (f"{ACTION}:5", "2.6.4", f"{OWNER} via inputs.flux_version default", True),
        (f"{ACTION}:16", "v2.6.4", OWNER, True),
        (f"{ACTION}:19", "2.6.4", f"{OWNER} via env.FLUX", True),
        (f"{ACTION}:24", "${{ inputs.other }}", OWNER, False),  # no default: unproven
    ]
    before = snapshot(repo)
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    expected = (
        ACTION_TEXT.replace('"2.6.4" #', '"2.8.5" #')
        .replace("version: v2.6.4", "version: v2.8.5")
        .replace("FLUX: 2.6.4", "FLUX: 2.8.5")
    )  # the action's ref (@v2.6.4) is Renovate's github-actions manager's to move
    after = snapshot(repo)
    assert after[ACTION].decode() == expected
    assert {rel for rel in after if after[rel] != before[rel]} == {ACTION}


def test_a_composite_action_pinning_another_release_is_a_violation(tmp_path: Path) -> None:
    workflow = (
        "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: fluxcd/flux2/action@main\n        with:\n          version: 2.8.5\n"
    )
    repo = write_repo(
        tmp_path / "repo", {ACTION: ACTION_TEXT, ".github/workflows/e2e.yml": workflow}
    )
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    # (each of the action's pins, compared with the newest CLI pin, as 'to' reads it)
    assert outcome.stdout.startswith(
        f"{ACTION}:5: fluxcd/flux2/action (.github/actions/setup-flux) via inputs.flux_version "
        "default pins Flux 2.6.4, fluxcd/flux2/action (e2e) pins Flux 2.8.5 "
        "(.github/workflows/e2e.yml:8) — make them agree\n"
    ), outcome.stdout
