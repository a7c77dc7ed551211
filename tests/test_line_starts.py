"""Readers that ask where a line starts ask ``SourceFile.line_start`` (a line ends at CR, LF
or CRLF, YAML 1.2 §5.4): a file saved with lone CRs (a classic Mac editor) or CRLF is read,
judged and moved as with LF, every line ending kept byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxbump import fleet
from tests import test_api_renames as renames
from tests import test_helmfile_instance_values as helmfile
from tests import test_write_files as write_files
from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo
from tests.support.helm_server import HelmServer
from tests.test_line_endings import ENDINGS, assert_read_alike, sites
from tests.test_templatefile import MAIN, MAIN_RELEASE_LINE, status, templated_repo


def with_ending(repo: Path, rel: str, ending: str) -> Path:
    path = repo / rel
    path.write_bytes(path.read_bytes().replace(b"\n", ending.encode()))
    return repo


def bumped(repo: Path, target: str) -> dict[str, bytes]:
    outcome = run_cli("to", target, "--offline", "--no-git", "--allow-dirty", "--repo", str(repo))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    return snapshot(repo)


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_template_variable_of_the_install_url_is_followed_to_templatefile(
    tmp_path: Path, ending: str
) -> None:
    # (with lone CRs every URL was taken for one on the template's first line, a comment
    # '#cloud-config': the variable was never followed, and to refused the URL, exit 2)
    files = {"infra/hetzner/main.tf": MAIN}
    lf = templated_repo(tmp_path / "lf", files)
    other = with_ending(templated_repo(tmp_path / "x", files), fleet.CLOUDINIT, ending)
    rows, problems = status(other)
    assert (rows, problems) == status(lf)
    assert [(r["file"], r["line"], r["value"]) for r in rows] == [
        ("infra/hetzner/main.tf", MAIN_RELEASE_LINE, "2.4.0")
    ]
    moved = bumped(lf, "2.5.1")
    assert moved != snapshot(templated_repo(tmp_path / "base", files))  # (the bump moved)
    expected = {**moved, fleet.CLOUDINIT: moved[fleet.CLOUDINIT].replace(b"\n", ending.encode())}
    assert bumped(other, "2.5.1") == expected


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_renamed_flux_api_fields_are_rewritten_keeping_the_line_endings(
    tmp_path: Path, helm_server: HelmServer, ending: str
) -> None:
    # (with lone CRs no field started its line: to refused the file, exit 2, and a patch's
    # new 'patch: |' line would have ended in LF)
    repo = renames.fleet_with(tmp_path / "repo", renames.RENAMED.replace("\n", ending))
    outcome = renames.bump(helm_server, repo)
    assert outcome.code == 0, outcome.stderr
    migrated = (repo / renames.OBJECTS).read_bytes().decode()
    assert migrated == renames.MIGRATED.replace("\n", ending)


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_version_a_template_directive_chooses_is_shown_whole_and_left(
    tmp_path: Path, ending: str
) -> None:
    # (the directives on the version's line are what it spans: its line ends at the CR)
    version = "%{ if lts }2.12.4%{ else }2.13.0%{ endif }"
    files = {write_files.TEMPLATE: write_files.template(version)}
    files[write_files.PROD] = write_files.release("2.13.0")
    assert_read_alike(tmp_path, files, ending, "2.4.0")
    rows = [s for s in sites(tmp_path / "x") if s[1] == write_files.TEMPLATE]
    assert [s[2:] for s in rows] == [(14, 18, version)]
    moved = (tmp_path / "x" / write_files.TEMPLATE).read_bytes()
    assert moved == files[write_files.TEMPLATE].replace("\n", ending).encode()


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
@pytest.mark.parametrize(("version", "rows"), [("", []), ("{{ .Values.flux }}", [17])])
def test_a_helmfile_template_version_is_the_action_on_its_own_line(
    tmp_path: Path, ending: str, version: str, rows: list[int]
) -> None:
    # (with lone CRs an empty version took the next action in the file, the path's
    # '{{ .Environment.Name }}' three lines on, for the Flux release)
    text = helmfile.HELMFILE_TEXT.format(version=version).replace("\n", ending)
    repo = write_repo(tmp_path / "repo", {helmfile.HELMFILE: text, ".mise.toml": helmfile.MISE})
    found = helmfile.instance_rows(repo)
    assert [int(row[0].rsplit(":", 1)[1]) for row in found] == rows
    assert [row[2] for row in found] == ([version] if version else [])
