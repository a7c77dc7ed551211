"""Where a bump of Flux starts when no chart pins it, and what a repository pinning no Flux
release at all is told."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import write_repo
from tests.test_api_move_already_invalid import INSTALL, INSTALL_TEXT  # Flux 2.7.5 installed


def test_to_the_release_a_kustomize_install_pins_says_it_is_already_there(tmp_path: Path) -> None:
    """It said "no pin names an exact release (every range admits it …)" of a pin naming
    exactly that release: the release a layout without charts installs was never read."""
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT})
    outcome = run_cli("to", "2.7.5", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "Flux v2.7.5 → flux2 chart 2.17.2: already at v2.7.5; nothing to do" in outcome.stdout
    assert "no pin names an exact release" not in outcome.stdout


def test_a_bump_without_charts_names_the_release_it_moves_from(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {INSTALL: INSTALL_TEXT})
    args = ("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git", "--dry-run")
    assert "Flux v2.8.5 → flux2 chart 2.18.3 (from Flux v2.7.5)" in run_cli(*args).stdout
    plan = json.loads(run_cli(*args, "--json").stdout)
    assert plan["from"] == {"release": "2.7.5", "chart": None}


def test_a_repository_pinning_no_flux_release_is_refused_saying_so(tmp_path: Path) -> None:
    """fluxcd/flux, Flux v1, ships its own ``flux`` chart (appVersion 1.25.4) and pins no
    Flux 2 release: refused (exit 2), saying nothing pins Flux here, not that fluxbump moves
    only wrapper charts (it moves installs, bootstraps, FluxInstances and CLIs without one)."""
    chart = "apiVersion: v1\nname: flux\nversion: 1.13.3\nappVersion: 1.25.4\n"
    repo = write_repo(tmp_path / "repo", {"chart/flux/Chart.yaml": chart})
    outcome = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    error = outcome.stderr.strip().splitlines()[-1]
    assert "no chart depends on 'flux2'" in error
    assert "nor any other pin of a Flux release: nothing to move" in error
    assert "see 'fluxbump status'" in error and "fluxbump moves a wrapper chart" not in error


def test_a_configured_wrapper_that_is_not_there_names_the_pins_and_the_setting(
    tmp_path: Path,
) -> None:
    """With ``wrapper: my-flux`` configured and no such chart, it said the pins outside charts
    are ones "fluxbump moves only with a wrapper chart: move them with the tool that installs
    Flux here"; fluxbump moves them itself once the setting names no missing chart."""
    files = {INSTALL: INSTALL_TEXT, ".fluxbump.yaml": "wrapper: my-flux\n"}
    repo = write_repo(tmp_path / "repo", files)
    for command in (("check",), ("to", "2.8.5", "--no-git")):
        outcome = run_cli(*command, "--repo", str(repo), "--offline")
        assert outcome.code == 2, outcome.stdout + outcome.stderr
        error = outcome.stderr.strip().splitlines()[-1]
        assert f"({INSTALL}:4: kustomize remote install)" in error
        assert "remove 'wrapper: my-flux' from .fluxbump.yaml" in error
        assert "only with a wrapper chart" not in error
    (repo / ".fluxbump.yaml").unlink()
    assert run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git").code == 0
