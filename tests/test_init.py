"""`fluxbump init`: a valid `.fluxbump.yaml` describing what discovery found."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from fluxbump.config import Config, load_config
from tests.cli_runner import run_cli
from tests.fixtures import make_fleet


def test_init_writes_a_config_that_loads_back_to_the_discovered_layout(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text()
    assert f"cloud-init {fleet.CLOUDINIT}; wrapper {fleet.WRAPPER_CHART}" in text
    config = load_config(repo)
    defaults = Config()
    assert (config.wrapper, config.upstream, config.cloudinit) == (
        defaults.wrapper, defaults.upstream, defaults.cloudinit,
    )  # fmt: skip
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_init_keeps_an_existing_config_unless_forced(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    (repo / ".fluxbump.yaml").write_text("wrapper: bp-flux\n")
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 2 and "--force" in outcome.stderr
    assert (repo / ".fluxbump.yaml").read_text() == "wrapper: bp-flux\n"
    assert run_cli("init", "--repo", str(repo), "--force").code == 0
    assert "app_version_policy: follow" in (repo / ".fluxbump.yaml").read_text()


def test_init_names_the_configured_wrapper(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    chart = repo / fleet.WRAPPER_CHART
    chart.write_text(chart.read_text().replace("name: bp-flux\n", "name: gitops-engine\n"))
    (repo / ".fluxbump.yaml").write_text("wrapper: gitops-engine\n")
    assert run_cli("init", "--repo", str(repo), "--force").code == 0
    assert load_config(repo).wrapper == "gitops-engine"
