"""``renovate-config`` for a Timoni bundle's flux-aio module version: fluxbump reads it as a
Flux release pin (``sites/timoni.py``) and no Renovate manager reads CUE, so Renovate never
proposed a move of it. The manager is what the recorded schemas of Renovate 39 and 42 accept,
in the Flux group, and its regex (RE2 and JavaScript share this subset with Python's ``re``)
finds exactly the literal module versions fluxbump reads, at their lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from fluxbump.scan.sites.timoni import find_timoni_pins
from fluxbump.scan.sources import SourceFile
from tests.support.fixtures import write_repo
from tests.test_renovate import SCHEMAS, _release, problems
from tests.test_renovate_new_kinds import config_of
from tests.test_timoni import BUNDLE, BUNDLE_TEXT, SPLIT, SPLIT_TEXT, UNPROVEN, UNPROVEN_TEXT

FLUX_AIO = "ghcr.io/stefanprodan/modules/flux-aio"
DIGEST = "sha256:54d38b407012ccfb42badf0974ba70f9ae229ecd38f17e8a1f4e7189283b924f"
# flux-aio's own README form: the instance's module given field by field, then its values.
README = "timoni/readme.cue"
README_TEXT = """\
bundle: {
	apiVersion: "v1alpha1"
	name:       "flux-aio"
	instances: {
		"flux": {
			module: url:     "oci://ghcr.io/stefanprodan/modules/flux-aio"
			module: version: "2.3.0-0"
			namespace: "flux-system"
			values: {
				hostNetwork:     false
				securityProfile: "privileged"
				controllers: notification: enabled: false
			}
		}
	}
}
"""
# What the regex must not take: a commented-out flux-aio URL above another module, a flux-aio
# module with no version (the latest) beside a struct that has one; and one it must: the
# module on one line.
TRICKY = "timoni/tricky.cue"
TRICKY_TEXT = """\
bundle: instances: {
	apps: module: {
		// url: "oci://ghcr.io/stefanprodan/modules/flux-aio"
		url:     "oci://ghcr.io/stefanprodan/modules/flux-helm-release"
		version: "2.3.0-0"
	}
	latest: {
		module: {url: "oci://ghcr.io/stefanprodan/modules/flux-aio"}
		values: {version: "1.0.0"}
	}
	edge: module: {url: "oci://ghcr.io/stefanprodan/modules/flux-aio", version: "2.5.1-0"}
}
"""
FILES = {BUNDLE: BUNDLE_TEXT, UNPROVEN: UNPROVEN_TEXT, SPLIT: SPLIT_TEXT, README: README_TEXT,
         TRICKY: TRICKY_TEXT}  # fmt: skip


def timoni_manager(config: dict[str, Any]) -> dict[str, Any]:
    (found,) = [m for m in config["customManagers"] if ".cue" in str(m.get("managerFilePatterns",
                                                                            m.get("fileMatch")))]  # fmt: skip
    return found


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return timoni_manager(config_of(write_repo(tmp_path_factory.mktemp("repo"), FILES)))


def matches(manager: dict[str, Any], text: str) -> list[re.Match[str]]:
    pythonic = [s.replace("(?<", "(?P<") for s in manager["matchStrings"]]  # (same syntax)
    return [m for s in pythonic for m in re.finditer(s, text)]


def lines_read(rel: str, text: str) -> list[int]:
    """The lines of the module versions timoni.py reads as a literal (a release, or one a
    digest pins)."""
    sites = find_timoni_pins(SourceFile(rel, text.encode(), text))
    return [s.line for s in sites if re.match(r"[0-9]+\.[0-9]+\.[0-9]+", s.value)]


def test_a_timoni_flux_aio_module_gets_a_manager_in_the_flux_group(tmp_path: Path) -> None:
    config = config_of(write_repo(tmp_path / "repo", FILES))
    manager = timoni_manager(config)
    assert manager["managerFilePatterns"] == [BUNDLE, README, SPLIT, TRICKY]  # (no UNPROVEN)
    assert manager["datasourceTemplate"] == "docker"
    found = {rel: [(m["depName"], m["currentValue"], m["currentDigest"])
                   for m in matches(manager, text)] for rel, text in FILES.items()}  # fmt: skip
    assert found == {
        BUNDLE: [(FLUX_AIO, "2.4.0-1", None)],  # not the comment's, nor flux-helm-release's
        UNPROVEN: [],
        SPLIT: [(FLUX_AIO, "2.4.0-0", None), (FLUX_AIO, "2.4.0-0", DIGEST)],
        README: [(FLUX_AIO, "2.3.0-0", None)],
        TRICKY: [(FLUX_AIO, "2.5.1-0", None)],
    }
    (group,) = [r for r in config["packageRules"] if r.get("groupName") == "Flux"]
    assert "/(^|/)flux-aio$/" in group["matchDepNames"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("rel", list(FILES))
def test_the_regex_finds_exactly_the_module_versions_timoni_reads(
    manager: dict[str, Any], rel: str, newline: str
) -> None:
    text = FILES[rel].replace("\n", newline)
    found = [text.count("\n", 0, m.start("currentValue")) + 1 for m in matches(manager, text)]
    assert found == lines_read(rel, text)


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_timoni_manager_is_what_each_release_accepts(tmp_path: Path, schema: Path) -> None:
    repo = write_repo(tmp_path / "repo", {BUNDLE: BUNDLE_TEXT})
    config = config_of(repo, "--renovate-version", _release(schema))
    assert timoni_manager(config)["datasourceTemplate"] == "docker"
    assert problems(schema, config) == []
