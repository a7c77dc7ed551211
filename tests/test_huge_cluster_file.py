"""A cluster file of gigabytes (a generated bundle committed by mistake, a dump named .yaml)
is read no further than a manifest may be: named as too large to read, at the memory any run
costs. It was read whole, so a 1 GiB file cost 26 s and 2.1 GB of memory, and one larger
than the memory there is ended the run (MemoryError, exit 70)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import make_fleet
from tests.support.huge import run_limited, sparse

BUNDLE = "clusters/a.example/bundle.yaml"


@pytest.mark.parametrize(
    ("head", "code", "said"),
    [
        # It names the wrapper: named as too large, its component unproven.
        (b"kind: HelmRelease\n# chart: bp-flux\n", 1, "larger than 8 MiB, too large to be read"),
        # A Flux object naming no chart: the CRD checks read it again (crds/migrate.py).
        (b"apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n", 0, None),
    ],
)
def test_a_cluster_file_of_gigabytes_costs_no_more_memory_than_a_manifest(
    tmp_path: Path, head: bytes, code: int, said: str | None
) -> None:
    root = make_fleet(tmp_path / "repo", clusters=("a.example",), git=True)
    sparse(root / BUNDLE, head)
    checked = run_limited("check", "--offline", "--repo", str(root))
    assert checked.returncode == code, checked.stdout + checked.stderr
    assert said is None or f"{BUNDLE}:1: {said}" in checked.stdout, checked.stdout
    assert "Traceback" not in checked.stderr and "MemoryError" not in checked.stderr
