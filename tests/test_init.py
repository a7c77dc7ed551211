"""`fluxbump init`: a valid `.fluxbump.yaml` describing what discovery found."""

from __future__ import annotations

import json
from pathlib import Path

from fluxbump import fleet
from fluxbump.config import Config, load_config
from tests.support.cli_runner import run_cli
from tests.support.fixtures import init_git, make_fleet


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
    assert "\nfollow_renovate_paths: true\n" in text and config.follow_renovate_paths
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


def test_init_lists_every_other_component_and_the_config_renames_and_excludes(
    tmp_path: Path,
) -> None:
    from tests.support.wrappers import wrappers_fleet

    repo = wrappers_fleet(tmp_path / "repo", git=False)
    assert run_cli("init", "--repo", str(repo)).code == 0
    config = load_config(repo)
    assert [(c.name, c.wrapper, c.upstream) for c in config.components] == [
        ("cert-manager", "bp-cert-manager", "cert-manager"),
        ("cilium", "bp-cilium", "cilium"),
        ("common", "bp-common", "common"),
    ]
    path = repo / ".fluxbump.yaml"
    text = path.read_text()
    text = text.replace("  cilium: {", "  cni: {").replace(
        "  common: { wrapper: bp-common, upstream: common }", "  common: false"
    )
    path.write_text(text)
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    names = [c["name"] for c in json.loads(outcome.stdout)["components"]]
    assert names == ["flux", "cert-manager", "cni"]


def test_a_malformed_or_dangling_components_entry_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "repo")
    for text, message in (
        ("components:\n  x: { wrapper: bp-x }\n", "components.x: 'components' must map"),
        ("components:\n  x: { wrapper: bp-x, upstream: x }\n", "no Chart.yaml with 'name: bp-x'"),
        ("components: [cilium]\n", "'components' must map a name"),
    ):
        (repo / ".fluxbump.yaml").write_text(text)
        outcome = run_cli("check", "--repo", str(repo), "--offline")
        assert outcome.code == 2 and message in outcome.stderr, outcome.stderr


def test_components_config_cannot_make_flux_generic_or_a_repo_chart_an_upstream(
    tmp_path: Path,
) -> None:
    repo = make_fleet(tmp_path / "repo")
    (repo / ".fluxbump.yaml").write_text(
        "components:\n  flux: false\n  gitops: { wrapper: bp-flux, upstream: flux2 }\n"
    )
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["component"] == "gitops"  # Flux, with its invariants, under another name
    assert "cloud-init install" in {s["role"] for s in document["sites"]}
    (repo / ".fluxbump.yaml").write_text(
        "components:\n  x: { wrapper: bp-catalyst-platform, upstream: bp-flux }\n"
    )
    refused = run_cli("check", "--repo", str(repo), "--offline")
    assert refused.code == 2 and "'bp-flux' is a chart of this repo" in refused.stderr


HOLDER = """
import sys, time
from pathlib import Path
from fluxbump.write.transaction import repo_lock
with repo_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_init_takes_the_lock_and_is_refused_as_to_is_while_another_run_holds_it(
    tmp_path: Path,
) -> None:
    """Issue 18: init is a writing command like to and sync, so it takes the same lock."""
    import subprocess
    import sys

    from fluxbump.write.transaction import lock_path
    from tests.adversarial.harness import git_state
    from tests.support.crash_cli import child_env

    repo = make_fleet(tmp_path / "repo", git=True, clusters=("a.example",))
    before = git_state(repo)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo)], env=child_env(), stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        init = run_cli("init", "--repo", str(repo))
        to = run_cli("to", "2.5.1", "--repo", str(repo), "--offline")
    finally:
        holder.kill()
        holder.wait()
    refusal = (
        f"error: another fluxbump run holds the lock {lock_path(repo)} (pid {holder.pid}); "
        "wait for it or remove it if no fluxbump is running\n"
    )
    assert (init.code, init.stderr) == (2, refusal)
    assert (to.code, to.stderr.splitlines()[-1] + "\n") == (2, refusal)
    assert git_state(repo) == before and not (repo / ".fluxbump.yaml").exists()
    assert run_cli("init", "--repo", str(repo)).code == 0  # the SIGKILLed holder's lock is free
    assert load_config(repo).source == ".fluxbump.yaml"


FLUX_INSTANCE = (
    "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\n"
    "metadata:\n  name: flux\n  namespace: flux-system\n"
    'spec:\n  distribution:\n    version: "2.4.0"\n    registry: ghcr.io/fluxcd\n'
)


def test_init_writes_a_config_for_a_repository_without_a_flux_wrapper(tmp_path: Path) -> None:
    # A flux-operator layout (as bjw-s-labs, zhorvath83, Diaoul and 13 other public
    # repositories tried): init exited 2 asking for a wrapper chart there is no reason to have.
    repo = tmp_path / "repo"
    (repo / "clusters/prod").mkdir(parents=True)
    (repo / "clusters/prod/flux-instance.yaml").write_text(FLUX_INSTANCE)
    (repo / ".tool-versions").write_text("flux2 2.4.0\n")
    init_git(repo)
    before = run_cli("check", "--repo", str(repo), "--offline")
    assert before.code == 0, before.stdout + before.stderr
    outcome = run_cli("init", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    text = (repo / ".fluxbump.yaml").read_text()
    found = "Found here: .tool-versions (Flux CLI pin), clusters/prod/flux-instance.yaml (Flux"
    assert found in text
    assert "# Found by `fluxbump init`: 2 Flux pin(s) outside charts; no Flux wrapper" in text
    assert load_config(repo).wrapper == Config().wrapper
    after = run_cli("check", "--repo", str(repo), "--offline")
    assert (after.code, after.stdout) == (before.code, before.stdout)
