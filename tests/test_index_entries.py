"""Entries of a Helm index that are not what Helm writes: a version YAML reads as a number
(``version: 2.10`` is 2.1) is refused and named, never taken as the text of that number."""

from __future__ import annotations

import json

from tests.support.cli_runner import run_cli
from tests.support.helm_server import HelmServer, serve

# Helm quotes every version it writes; a hand-made mirror left two plain, the first a YAML
# float (2.10 -> 2.1), the second an integer.
INDEX = b"""apiVersion: v1
entries:
  flux2:
  - name: flux2
    version: 2.10
    appVersion: 2.4.0
  - name: flux2
    version: "2.14.1"
    appVersion: "2.4.0"
  - name: flux2
    version: "2.13.0"
    appVersion: 3
"""
FLOAT = (
    "a 'flux2' entry's version is the YAML number 2.1, not a string (unquoted, 2.10 reads "
    "as 2.1; Helm writes it quoted): the entry is left out; quote its version"
)
INT = "a 'flux2' entry's appVersion is the YAML number 3, not a string"


def test_an_entry_whose_version_is_a_yaml_number_is_refused_and_named() -> None:
    with serve(HelmServer(routes={"/index.yaml": INDEX})) as server:
        url = server.url("/index.yaml")
        for _ in range(2):  # the second run reads the parsed index the first one kept
            outcome = run_cli("resolve", "2.4.0", "--helm-repo", server.base_url, "--json")
            assert outcome.code == 0, outcome.stderr
            assert json.loads(outcome.stdout)["candidates"] == ["2.14.1"]
            warnings = outcome.stderr.splitlines()
            assert f"warning: {url}: {FLOAT}" in warnings, outcome.stderr
            assert any(w.startswith(f"warning: {url}: {INT}") for w in warnings), warnings
        assert server.bodies_sent() == 1
