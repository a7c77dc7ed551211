"""YAML a bootstrap script writes in a heredoc pins the Flux release: flux-operator's guide
bootstraps a cluster with ``kubectl apply -f - <<EOF`` of a FluxInstance, and a script that
installs the flux2 chart writes its values so (``cat > values.yaml <<EOF``, the CLI image's
``tag``). Neither was read: on such a repository ``to`` refused "nothing to move" (or moved
the chart and left the CLI tag behind) and ``check`` passed whatever the script said. Read as
the YAML the shell passes on, each is shown, compared and moved as text in the script."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.fixtures import changed_lines, snapshot, write_repo
from tests.test_terraform_instance import instance_rows

SCRIPT = "scripts/bootstrap.sh"
OPERATOR = """\
#!/usr/bin/env bash
set -euo pipefail
helm upgrade --install flux-operator oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator \\
  --version 0.20.0 --namespace flux-system --create-namespace
"""
# line 13 of OPERATOR + INSTANCE holds the version
INSTANCE = """\
kubectl apply -f - <<EOF
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "{version}"
    registry: ghcr.io/fluxcd
EOF
"""


def script_repo(tmp_path: Path, script: str) -> Path:
    return write_repo(tmp_path / "repo", {SCRIPT: script})


def test_a_fluxinstance_a_script_applies_is_the_flux_release_and_moves(tmp_path: Path) -> None:
    repo = script_repo(tmp_path, OPERATOR + INSTANCE.replace("{version}", "2.4.0"))
    owner = "FluxInstance flux-system/flux"
    assert instance_rows(repo) == [(f"{SCRIPT}:13", owner, "2.4.0", True)]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, since=None) == [
        '-    version: "2.4.0"',
        '+    version: "2.5.1"',
    ]
    assert run_cli("check", "--repo", str(repo), "--offline").code == 0


def test_a_range_a_script_asks_the_operator_for_blocks_a_target_outside_it(
    tmp_path: Path,
) -> None:
    repo = script_repo(tmp_path, OPERATOR + INSTANCE.replace("{version}", "2.7.x"))
    before = snapshot(repo)
    refused = run_cli("to", "2.8.5", "--repo", str(repo), "--offline", "--no-git")
    assert refused.code == 1, refused.stdout + refused.stderr
    assert f"{SCRIPT}:13: FluxInstance flux-system/flux requires Flux 2.7.x" in refused.stderr
    assert snapshot(repo) == before


def test_an_expanded_variable_is_the_value_the_script_assigns_and_a_quoted_body_is_not_expanded(
    tmp_path: Path,
) -> None:
    # ``<<-`` strips the tabs of an indented body; a quoted tag passes ``$FLUX_VERSION`` as is
    script = (
        '#!/bin/sh\nFLUX_VERSION="${FLUX_VERSION:-2.4.0}"\nif true; then\n'
        "\tcat <<-EOF | kubectl apply -f -\n"
        "\tapiVersion: fluxcd.controlplane.io/v1\n\tkind: FluxInstance\n\tmetadata:\n"
        "\t  name: flux\n\tspec:\n\t  distribution:\n\t    version: ${FLUX_VERSION}\n\tEOF\nfi\n"
        "kubectl apply -f - <<'YAML'\napiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\n"
        "metadata: {name: later}\nspec: {distribution: {version: $FLUX_VERSION}}\nYAML\n"
    )
    repo = script_repo(tmp_path, script)
    assert instance_rows(repo) == [
        (f"{SCRIPT}:2", "FluxInstance flux ($FLUX_VERSION)", "2.4.0", True),
        (f"{SCRIPT}:18", "FluxInstance later", "$FLUX_VERSION", False),
    ]
    moved = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, since=None) == [
        '-FLUX_VERSION="${FLUX_VERSION:-2.4.0}"',
        '+FLUX_VERSION="${FLUX_VERSION:-2.5.1}"',
    ]


def test_no_heredoc_is_read_in_a_comment_a_shift_or_a_yaml_file(tmp_path: Path) -> None:
    commented = INSTANCE.replace("{version}", "2.4.0").replace("kubectl", "# kubectl", 1)
    shifted = "echo $((1 << n))\n" + INSTANCE.replace("{version}", "2.4.0").replace(
        "kubectl apply -f - <<EOF\n", ""
    )
    repo = write_repo(
        tmp_path / "repo",
        {"a.sh": commented, "b.sh": shifted, "c.md": INSTANCE.replace("{version}", "2.4.0")},
    )
    assert instance_rows(repo) == []


VALUES_SCRIPT = """\
#!/usr/bin/env bash
cat > fluxcd-values.yaml << EOF
cli:
  image: registry.example.com/mirror/fluxcd/flux-cli
  tag: v2.2.0
EOF
helm upgrade --install fluxcd fluxcd-community/flux2 --version 2.12.1 -f fluxcd-values.yaml
"""


def test_the_cli_tag_of_chart_values_a_script_writes_moves_with_the_chart(tmp_path: Path) -> None:
    repo = script_repo(tmp_path, VALUES_SCRIPT)
    status = run_cli("status", "--repo", str(repo), "--json", "--offline")
    rows = [(s["role"], s["line"], s["value"]) for s in json.loads(status.stdout)["sites"]]
    assert ("Flux CLI pin", 5, "v2.2.0") in rows, rows
    moved = run_cli("to", "2.3.0", "--repo", str(repo), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    assert changed_lines(repo, since=None) == [
        "-  tag: v2.2.0",
        "+  tag: v2.3.0",
        "-helm upgrade --install fluxcd fluxcd-community/flux2 --version 2.12.1 -f fluxcd-values.yaml",
        "+helm upgrade --install fluxcd fluxcd-community/flux2 --version 2.13.0 -f fluxcd-values.yaml",
    ]


def test_a_body_that_is_yaml_only_once_the_shell_expands_it_leaves_the_release_unproven(
    tmp_path: Path,
) -> None:
    script = "#!/bin/sh\nkubectl apply -f - <<EOF\nkind: FluxInstance\n$(cat spec.yaml)\n: [\nEOF\n"
    repo = script_repo(tmp_path, script)
    owner = "heredoc FluxInstance (not read: no YAML before the shell expands it)"
    assert instance_rows(repo) == [(f"{SCRIPT}:3", owner, "heredoc", False)]
    before = snapshot(repo)
    bump = run_cli("to", "2.5.1", "--repo", str(repo), "--offline", "--no-git")
    assert bump.code == 0, bump.stdout + bump.stderr
    assert "nothing to do" in bump.stdout
    assert f"warning: {SCRIPT}:3: FluxInstance version heredoc names no Flux release" in bump.stderr
    assert snapshot(repo) == before


def test_a_heredoc_after_thousands_of_shifts_and_other_closers_is_read(tmp_path: Path) -> None:
    # each ``1 << n`` opens nothing (no line closes it); ``fi`` lines close no EOF heredoc
    shifts = "".join(f"x=$((1 << n{i % 40}))\nif true; then :\nfi\n" for i in range(3000))
    script = shifts + INSTANCE.replace("{version}", "2.4.0")
    repo = script_repo(tmp_path, script)
    assert instance_rows(repo) == [
        (f"{SCRIPT}:9009", "FluxInstance flux-system/flux", "2.4.0", True)
    ]
