"""An umbrella chart that carries the flux-instance chart as a subchart.

aenix-io/cozystack's ``cozy-fluxcd`` vendors flux-instance under ``charts/`` (``helm pull
--untar``) and sets ``flux-instance.instance.distribution.version`` in its own values.yaml: the
release the FluxInstance it renders asks flux-operator for. A chart may also declare the
subchart as a dependency, under an ``alias`` Helm then passes it its values by. That value is a
FluxInstance pin as a HelmRelease's values of the chart are; it was read nowhere (cozystack:
"nothing to check", exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import role_rows, run_cli
from tests.support.fixtures import snapshot, write_repo

UMBRELLA = "packages/system/fluxcd"
VALUES = f"{UMBRELLA}/values.yaml"
VALUES_TEXT = """\
# the Flux the platform runs
flux-instance:
  instance:
    cluster:
      networkPolicy: true
    distribution:
      version: "2.7.0" # moved with the platform
      registry: ghcr.io/fluxcd
other:
  instance:
    distribution:
      version: 1.0.0
"""
VENDORED = {
    f"{UMBRELLA}/Chart.yaml": "apiVersion: v2\nname: cozy-fluxcd\nversion: 0.0.0\n",
    f"{UMBRELLA}/charts/flux-instance/Chart.yaml": (
        "apiVersion: v2\nname: flux-instance\nversion: 0.17.0\nappVersion: v0.17.0\n"
    ),
    f"{UMBRELLA}/charts/flux-instance/values.yaml": 'instance:\n  distribution:\n    version: "2.x"\n',
    VALUES: VALUES_TEXT,
}
DEPENDENCY = {
    f"{UMBRELLA}/Chart.yaml": (
        "apiVersion: v2\nname: platform-flux\nversion: 1.0.0\ndependencies:\n"
        "  - name: flux-instance\n    alias: flux\n    version: 0.17.0\n"
        "    repository: oci://ghcr.io/controlplaneio-fluxcd/charts\n"
    ),
    VALUES: VALUES_TEXT.replace("flux-instance:", "flux:"),
}


def instance_rows(repo: Path) -> list[tuple[str, str, str, bool]]:
    return role_rows(repo, "FluxInstance version")


@pytest.mark.parametrize(
    ("files", "owner"),
    [
        (VENDORED, "chart cozy-fluxcd's flux-instance values"),
        (DEPENDENCY, "chart platform-flux's flux values"),
    ],
    ids=["vendored", "alias"],
)
def test_the_release_an_umbrella_gives_its_flux_instance_subchart_is_a_pin_that_to_moves(
    tmp_path: Path, files: dict[str, str], owner: str
) -> None:
    repo = write_repo(tmp_path / "repo", files)
    assert instance_rows(repo) == [(f"{VALUES}:7", "2.7.0", owner, True)]
    checked = run_cli("check", "--repo", str(repo), "--offline")
    assert checked.code == 0, checked.stdout + checked.stderr
    before = snapshot(repo)
    moved = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(repo)
    changed = {rel for rel in after if after[rel] != before[rel]}
    assert changed == {VALUES}  # only the version's bytes, its quotes and comment kept
    assert after[VALUES] == before[VALUES].replace(b'"2.7.0" #', b'"2.8.5" #')


def test_a_range_the_umbrella_gives_blocks_a_target_it_does_not_admit(tmp_path: Path) -> None:
    """cozystack's own form: ``version: 2.5.x`` in the umbrella's values."""
    files = {**VENDORED, VALUES: VALUES_TEXT.replace('"2.7.0"', "2.5.x")}
    repo = write_repo(tmp_path / "repo", files)
    before = snapshot(repo)
    outcome = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert outcome.stderr.strip().splitlines()[-1] == (
        f"error: {VALUES}:7: chart cozy-fluxcd's flux-instance values requires Flux 2.5.x, "
        "which does not admit 2.8.5; widen the range first; nothing written"
    )
    assert snapshot(repo) == before


def test_a_chart_without_the_subchart_pins_nothing_by_those_values(tmp_path: Path) -> None:
    """The same keys in the values of a chart that carries no flux-instance are its own."""
    files = {**VENDORED}
    del files[f"{UMBRELLA}/charts/flux-instance/Chart.yaml"]
    del files[f"{UMBRELLA}/charts/flux-instance/values.yaml"]
    repo = write_repo(tmp_path / "repo", files)
    assert run_cli("status", "--repo", str(repo), "--offline").code == 0
    assert instance_rows(repo) == []
