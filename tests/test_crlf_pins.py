"""Every pin-site kind in CRLF files (issue 23): found by status/check and moved by `to` exactly
as in the same repository with LF line ends, CR LF kept on every line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import INCIDENT, edit, make_fleet, snapshot
from tests.support.helm_server import HelmServer
from tests.support.layouts import write_repo
from tests.support.overlays import (
    JSON6902,
    KS,
    KUSTOMIZATION,
    PATCH,
    RELEASE,
    STRATEGIC,
    SUBSTITUTE,
    patch,
)

STRATEGIC_KS = "clusters/omantel.omani.works/flux-system/strategic.yaml"


def every_kind_fleet(root: Path, *, crlf: bool, pin: str = "1.1.1") -> Path:
    """The incident fleet plus an inline JSON6902 patch, an inline strategic patch, a patch
    file and a post-build substitution, each pinning bp-flux ``pin``."""
    repo = make_fleet(root, INCIDENT)
    edit(repo, RELEASE, "      version: 1.1.1\n", "      version: ${BP_FLUX_VERSION}\n")
    extra = {
        KS: SUBSTITUTE.replace('"1.1.1"', f'"{pin}"'),
        KUSTOMIZATION: JSON6902.replace("VERSION", pin),
        STRATEGIC_KS: STRATEGIC.replace("VERSION", pin),
        PATCH: patch(pin),
    }
    for rel, text in extra.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    if crlf:
        for rel, data in snapshot(repo).items():
            (repo / rel).write_bytes(data.replace(b"\n", b"\r\n"))
    return repo


def run(command: str, repo: Path, *args: str) -> Outcome:
    return run_cli(command, *args, "--repo", str(repo), "--offline")


def as_lf(outcome: Outcome, repo: Path) -> list[str]:
    return outcome.stdout.replace(str(repo), "REPO").splitlines()


def test_crlf_pins_are_listed_by_status_like_lf_ones(tmp_path: Path) -> None:
    lf = every_kind_fleet(tmp_path / "lf", crlf=False)
    crlf = every_kind_fleet(tmp_path / "crlf", crlf=True)
    want, got = run("status", lf, "--verbose"), run("status", crlf, "--verbose")
    assert got.code == want.code == 0
    assert as_lf(got, crlf) == as_lf(want, lf)
    for rel in (KUSTOMIZATION, STRATEGIC_KS, PATCH, KS):
        assert rel in got.stdout, rel


def test_stale_crlf_pins_are_violations_like_lf_ones(tmp_path: Path) -> None:
    lf = every_kind_fleet(tmp_path / "lf", crlf=False, pin="1.1.0")
    crlf = every_kind_fleet(tmp_path / "crlf", crlf=True, pin="1.1.0")
    want, got = run("check", lf), run("check", crlf)
    assert got.code == want.code == 1
    assert as_lf(got, crlf) == as_lf(want, lf)
    stale = [line.split(":")[0] for line in got.stdout.splitlines() if "1.1.0" in line]
    assert set(stale) == {KUSTOMIZATION, STRATEGIC_KS, PATCH, KS}


def test_to_moves_crlf_pins_byte_minimally(tmp_path: Path, helm_server: HelmServer) -> None:
    lf = every_kind_fleet(tmp_path / "lf", crlf=False)
    crlf = every_kind_fleet(tmp_path / "crlf", crlf=True)
    before = snapshot(lf)
    for repo in (lf, crlf):
        outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--no-git",
                          "--helm-repo", helm_server.base_url)  # fmt: skip
        assert outcome.code == 0, outcome.stderr
    moved = snapshot(lf)
    assert {rel for rel in moved if moved[rel] != before[rel]} >= {
        KUSTOMIZATION,
        STRATEGIC_KS,
        PATCH,
        KS,
    }
    assert snapshot(crlf) == {rel: data.replace(b"\n", b"\r\n") for rel, data in moved.items()}
    # The moved pins agree (what check still reports is the same for both: the fixture's
    # substitution Kustomization is not a complete Flux object).
    want, got = run("check", lf), run("check", crlf)
    assert as_lf(got, crlf) == as_lf(want, lf)
    assert not [line for line in got.stdout.splitlines() if "1.1.1" in line]


def test_lone_cr_pins_are_listed_judged_and_moved_like_lf_ones(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # With lone CRs (classic Mac) an inline patch's block was no line of the file to the
    # reader that places its version: three stale pins were missing from status and check.
    lf = every_kind_fleet(tmp_path / "lf", crlf=False, pin="1.1.0")
    cr = every_kind_fleet(tmp_path / "cr", crlf=False, pin="1.1.0")
    for rel, data in snapshot(cr).items():
        (cr / rel).write_bytes(data.replace(b"\n", b"\r"))
    for command in ("status", "check"):
        want, got = run(command, lf), run(command, cr)
        assert (got.code, as_lf(got, cr)) == (want.code, as_lf(want, lf))
    assert f"{STRATEGIC_KS}:17: bp-flux (patch) deploys bp-flux 1.1.0" in got.stdout
    for repo in (lf, cr):
        outcome = run_cli("to", "2.4.0", "--repo", str(repo), "--no-git",
                          "--helm-repo", helm_server.base_url)  # fmt: skip
        assert outcome.code == 0, outcome.stderr
    assert snapshot(cr) == {rel: data.replace(b"\n", b"\r") for rel, data in snapshot(lf).items()}


# The Flux release outside charts: Terraform (after a heredoc), mise [tools] (after another
# table), asdf, aqua and the CI action; the same texts as in tests/test_release_pins.py.
RELEASE_PINS = {
    "main.tf": (
        'resource "flux_bootstrap_git" "this" {\n  path    = "clusters/a"\n'
        "  kustomization_override = <<-EOT\n    value: '}'\n  EOT\n"
        '  version = "v2.4.0" # the release\n}\n\n'
        'resource "flux_bootstrap_git" "other" {\n  version = "v2.4.0"\n}\n'
    ),
    "mise.toml": '[env]\nFOO = "bar"\n\n[tools]\nflux2 = "2.4.0"\n',
    ".tool-versions": "flux2 2.4.0\nkubectl 1.30.0\n",
    "aqua.yaml": "packages:\n- name: fluxcd/flux2@v2.4.0\n",
    ".github/workflows/e2e.yaml": (
        "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: fluxcd/flux2/action@main\n        with:\n          version: 2.4.0\n"
    ),
}


def test_crlf_release_pins_are_listed_by_status_like_lf_ones(tmp_path: Path) -> None:
    # Seen with a CRLF .mise.toml: its [tools] header was not a table, so the pin was missed.
    lf = write_repo(tmp_path / "lf", RELEASE_PINS)
    crlf = write_repo(
        tmp_path / "crlf", {rel: text.replace("\n", "\r\n") for rel, text in RELEASE_PINS.items()}
    )
    want, got = run("status", lf), run("status", crlf)
    assert want.code == got.code == 0, got.stderr
    assert len(want.stdout.splitlines()) == 2 + 6  # the header lines and every pin
    assert as_lf(got, crlf) == as_lf(want, lf)


def test_release_pins_on_the_first_line_of_a_byte_order_marked_file_are_found(
    tmp_path: Path,
) -> None:
    # A Windows editor's BOM sits before line 1: ``flux2 2.4.0``, ``resource "flux_…"`` and
    # ``[tools]`` there were not at a line start for the patterns, and their pins were missed.
    files = {**RELEASE_PINS, "mise.toml": '[tools]\nflux2 = "2.4.0"\n'}
    plain = write_repo(tmp_path / "plain", files)
    marked = write_repo(tmp_path / "bom", {rel: "\ufeff" + text for rel, text in files.items()})
    want, got = run("status", plain), run("status", marked)
    assert want.code == got.code == 0, got.stderr
    assert len(want.stdout.splitlines()) == 2 + 6
    assert as_lf(got, marked) == as_lf(want, plain)
