"""Stale mentions: comments naming a moved version are listed, never edited."""

from __future__ import annotations

from pathlib import Path

from fluxbump import fleet
from fluxbump.scan.mentions import comment_mentions
from fluxbump.scan.sources import SourceFile
from tests.support.cli_runner import run_cli
from tests.support.fixtures import CONSISTENT, make_fleet
from tests.support.helm_server import HelmServer


def source(text: str) -> SourceFile:
    return SourceFile("f.yaml", text.encode(), text)


def test_comment_lines_and_trailing_comments_are_found() -> None:
    text = (
        "# pinned at v2.4.0 on purpose\nversion: 2.5.1  # was 2.4.0\nname: x-2.4.0\nurl: a#2.4.0\n"
    )
    found = comment_mentions(source(text), ["v2.4.0"])
    assert [(m.line, m.value) for m in found] == [(1, "2.4.0"), (2, "2.4.0")]


def test_longer_versions_and_prefixes_do_not_match() -> None:
    text = "# 12.4.0 and 2.4.0.1 and 2.4.01 and 2.4.0-rc.1 are other versions\n"
    assert comment_mentions(source(text), ["2.4.0"]) == []


def test_to_reports_the_cloud_init_comment_that_still_names_the_old_release(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = make_fleet(tmp_path / "repo", CONSISTENT)
    before = (repo / fleet.CLOUDINIT).read_text()
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert "stale mentions (comments still naming the old release; not edited):" in outcome.stdout
    assert (
        f"  {fleet.CLOUDINIT}:4: # CRITICAL VERSION-PIN INVARIANT: the Flux release installed here (v2.4.0) MUST equal the"
        in outcome.stdout
    )
    after = (repo / fleet.CLOUDINIT).read_text()
    assert after.count("(v2.4.0)") == before.count("(v2.4.0)") == 1
