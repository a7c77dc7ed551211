"""A Flux chart named by an OCI reference at a tag, as a mirror list names what an air-gapped
bundle holds (mesosphere/kommander-applications' ``artifacts_full.yaml``:
``oci://ghcr.io/fluxcd-community/charts/flux2:2.18.3`` beside the CLI's image, a pin fluxbump
reads). fluxbump does not move such a line, but names it in every command; it was silent."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet

LIST = "airgap/artifacts.yaml"
ARTIFACTS = """\
apps:
  - name: flux
    version: 2.4.0
    images:
      - oci://ghcr.io/fluxcd-community/charts/flux2:2.14.1
      # - oci://ghcr.io/fluxcd-community/charts/flux2:2.13.0 (the one before)
      - ghcr.io/fluxcd/source-controller:v1.4.1
      - ghcr.io/controlplaneio-fluxcd/flux-operator:v0.33.0
      - registry.example.com:5000/mirror/charts/flux-operator:0.33.0
"""
NAMED = (
    "{line}: {chart} chart {version} named by its OCI reference ({ref}:{version}, as a mirror "
    "list names it), which fluxbump does not read, check or move: move it by hand when Flux "
    "moves, or list the file under exclude: in .fluxbump.yaml if it is not this repository's Flux"
)
FLUX2 = NAMED.format(
    line=f"{LIST}:5",
    chart="flux2",
    version="2.14.1",
    ref="oci://ghcr.io/fluxcd-community/charts/flux2",
)
OPERATOR = NAMED.format(
    line=f"{LIST}:9",
    chart="flux-operator",
    version="0.33.0",
    ref="registry.example.com:5000/mirror/charts/flux-operator",
)


def named(stderr: str) -> list[str]:
    return [
        line.removeprefix("warning: ") for line in stderr.splitlines() if "OCI reference" in line
    ]


def test_a_mirror_list_naming_a_flux_chart_is_named_at_each_line_and_left(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    (repo / LIST).parent.mkdir(parents=True, exist_ok=True)
    (repo / LIST).write_text(ARTIFACTS, "utf-8")
    for run in ("cold", "warm"):  # the second run is answered from what the first kept
        outcome = run_cli("check", "--offline", "--repo", str(repo))
        assert outcome.code == 0, (run, outcome.stdout + outcome.stderr)
        assert named(outcome.stderr) == [FLUX2, OPERATOR], run
    bump = run_cli("to", "2.5.1", "--offline", "--no-git", "--repo", str(repo))
    assert bump.code == 0, bump.stdout + bump.stderr
    assert named(bump.stderr) == [FLUX2, OPERATOR]
    assert (repo / LIST).read_text("utf-8") == ARTIFACTS
