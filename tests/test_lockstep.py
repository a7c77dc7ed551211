"""`check` reports drift in every other wrapper: Cilium's cloud-init pin, mirrors, umbrellas."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from fluxbump.sites.cloudinit import helm_install_pins
from fluxbump.sources import SourceFile
from tests.cli_runner import run_cli
from tests.fixtures import edit, make_fleet

CILIUM_CHART = "platform/cilium/chart/Chart.yaml"
CILIUM_VALUES = "platform/cilium/chart/values.yaml"
CILIUM_BLUEPRINT = "platform/cilium/blueprint.yaml"
INSTALL = """\
  - |
    # The pin must equal bp-cilium's cilium dependency so the HelmRelease adopts the release.
    helm install cilium cilium/cilium \\
      --namespace kube-system \\
      --version 1.16.5 \\
      --set kubeProxyReplacement=true
"""


def cilium_fleet(root: Path) -> Path:
    repo = make_fleet(root)
    files = {
        CILIUM_CHART: "apiVersion: v2\nname: bp-cilium\nversion: 1.0.3\ndependencies:\n"
        '  - name: cilium\n    version: "1.16.5"\n    repository: https://helm.cilium.io\n',
        CILIUM_VALUES: 'catalystBlueprint:\n  upstream: { chart: cilium, version: "1.16.5", repo: "https://helm.cilium.io" }\n',
        CILIUM_BLUEPRINT: "apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata:\n"
        "  name: bp-cilium\nspec:\n  version: 1.0.3\n",
        "platform/library/chart/Chart.yaml": "apiVersion: v2\nname: bp-lib\ntype: library\nversion: 0.1.0\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    edit(repo, fleet.UMBRELLA_CHART, "  - name: bp-cert-manager\n",
         "  - name: bp-cilium\n    version: 1.0.3\n    repository: oci://x\n  - name: bp-cert-manager\n")  # fmt: skip
    edit(repo, fleet.CLOUDINIT, "runcmd:\n", "runcmd:\n" + INSTALL)
    return repo


def check(repo: Path) -> tuple[int, list[str]]:
    outcome = run_cli("check", "--repo", str(repo), "--offline")
    return outcome.code, outcome.stdout.splitlines()


def test_consistent_wrappers_pass(tmp_path: Path) -> None:
    code, lines = check(cilium_fleet(tmp_path / "repo"))
    assert code == 0, lines


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            fleet.CLOUDINIT,
            "--version 1.16.5",
            "--version 1.16.4",
            f"{fleet.CLOUDINIT}:19: cloud-init installs cilium 1.16.4, but bp-cilium pins cilium 1.16.5 ({CILIUM_CHART}:6); the HelmRelease would not adopt it",
        ),
        (
            CILIUM_BLUEPRINT,
            "version: 1.0.3",
            "version: 1.0.2",
            f"{CILIUM_BLUEPRINT}:6: Blueprint of bp-cilium mirrors 1.0.2, chart is 1.0.3",
        ),
        (
            fleet.UMBRELLA_CHART,
            "    version: 1.0.3",
            "    version: 1.0.2",
            f"{fleet.UMBRELLA_CHART}:12: bp-catalyst-platform pins bp-cilium 1.0.2, bp-cilium is 1.0.3",
        ),
        (
            CILIUM_VALUES,
            'version: "1.16.5"',
            'version: "1.16.4"',
            f"{CILIUM_VALUES}:2: values mirror of cilium is 1.16.4, dependency pins 1.16.5",
        ),
    ],
    ids=[
        "cloud-init --version",
        "Blueprint behind",
        "umbrella pins older wrapper",
        "values mirror",
    ],
)
def test_each_kind_of_drift_is_one_violation_line(
    tmp_path: Path, rel: str, old: str, new: str, expected: str
) -> None:
    repo = cilium_fleet(tmp_path / "repo")
    edit(repo, rel, old, new)
    code, lines = check(repo)
    assert code == 1
    assert [x for x in lines if not x.startswith("check:")] == [expected]


def test_helm_install_pins_across_continuations_and_equals_form() -> None:
    text = "helm upgrade --install cilium cilium/cilium \\\n  --version=v1.16.5 -n kube-system\nhelm install x repo/other --version '2.0.0'\n# helm install y r/z --version 9\n"
    sites = helm_install_pins(SourceFile("t.tftpl", text.encode(), text))
    assert [(s.subject, s.value, s.line, text[s.start : s.end]) for s in sites] == [
        ("cilium", "v1.16.5", 2, "v1.16.5"), ("other", "2.0.0", 3, "2.0.0"),
    ]  # fmt: skip
