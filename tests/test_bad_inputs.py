"""A corpus of hostile or broken repositories: every one gets a documented exit code and a
one-line message naming the file (and line), never a traceback, and never a changed file.

Each case mutates a consistent fleet (cloud-init v2.4.0, flux2 2.14.1) and runs ``check``
and ``to 2.5.1`` (a real change, so a refusal matters) through the CLI in-process.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, make_fleet, snapshot
from tests.support.helm_repo import write_flux_repo

HR = f"clusters/a.example/{fleet.FLUX_RELEASE_FILE}"
URL = "https://github.com/fluxcd/flux2/releases/download/v{}/install.yaml"
INSTALL_LINE = f"  - kubectl apply -f {URL.format('2.4.0')}\n"


@pytest.fixture(scope="module")
def index_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small local flux2 repository (parsing the whole snapshot per run would dominate)."""
    keep = frozenset({"2.14.0", "2.14.1", "2.15.0"})
    yield str(write_flux_repo(tmp_path_factory.mktemp("repo"), keep))


Mutation = Callable[[Path], object]


def replace(rel: str, old: str, new: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        text = path.read_text("utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), "utf-8")

    return mutate


def append(rel: str, extra: bytes) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        path.write_bytes(path.read_bytes() + extra)

    return mutate


def write(rel: str, data: bytes) -> Mutation:
    def mutate(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)

    return mutate


def symlinks(*pairs: tuple[str, str]) -> Mutation:
    def mutate(root: Path) -> None:
        for link, target in pairs:
            os.symlink(target, root / link)

    return mutate


def re_encoded(rel: str, codec: str, *, bom: bool = False) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        text = path.read_text("utf-8")
        path.write_bytes(("\ufeff" if bom else "").encode(codec) + text.encode(codec))

    return mutate


def big_file(with_pin: bool) -> Mutation:
    """A 50 MB YAML file in clusters/ (a generated bundle), with or without a bp-flux release."""

    def mutate(root: Path) -> None:
        head = b"kind: HelmRelease\n# chart: bp-flux\n" if with_pin else b"kind: ConfigMap\n"
        with open(root / "clusters/a.example/bundle.yaml", "wb") as handle:
            handle.write(head)
            handle.write(b"# generated padding line\n" * (50 * 1024 * 1024 // 25))

    return mutate


def re_encoded_config(text: str, codec: str) -> Mutation:
    return write(".fluxbump.yaml", text.encode(codec))


def config(text: str | bytes) -> Mutation:
    data = text.encode() if isinstance(text, str) else text
    return write(".fluxbump.yaml", data)


@dataclass(frozen=True)
class Expect:
    """What one command must do: exit code and a fragment of its one-line message.

    For exit 2 (and 3, 4) the message is the only line on stderr, ``error: <where>...``; for a
    gate violation (exit 1 from check) ``where`` starts a line of stdout.
    """

    code: int
    where: str = ""
    says: str = ""


@dataclass(frozen=True)
class Case:
    mutate: Mutation
    check: Expect | None
    to: Expect | None
    release: str = "2.5.1"


def both(mutate: Mutation, where: str, says: str, code: int = 2) -> Case:
    return Case(mutate, Expect(code, where, says), Expect(code, where, says))


def unproven(mutate: Mutation, where: str, says: str) -> Case:
    """A file that cannot be read (a manifest, a Chart.yaml, a values.yaml) costs the components it names: check reports them
    unproven (exit 1), a bump of one of them refuses (exit 2); both name the file."""
    return Case(mutate, Expect(1, where, says), Expect(2, where, says))


WRAPPER, VALUES, BLUEPRINT = fleet.WRAPPER_CHART, fleet.WRAPPER_VALUES, fleet.WRAPPER_BLUEPRINT
UMBRELLA, TFTPL = fleet.UMBRELLA_CHART, fleet.CLOUDINIT
INVALID = "invalid YAML"

CASES: dict[str, Case] = {
    # --- malformed YAML in each kind of pin-site: exit 2, file:line of the problem
    "chart-unclosed-flow": unproven(
        replace(WRAPPER, "dependencies:\n", "dependencies: [\n"), f"{WRAPPER}:8", INVALID
    ),
    "chart-tab-indent": unproven(
        replace(WRAPPER, "type: application", "type:\tapplication\n\t- x"), f"{WRAPPER}:4", INVALID
    ),
    "values-unclosed-flow": unproven(
        replace(VALUES, "owner: platform-team", "owner: [platform-team"), f"{VALUES}:7", INVALID
    ),
    "blueprint-bad-mapping": unproven(
        replace(BLUEPRINT, "  version:", "  version: {\n  v:"), f"{BLUEPRINT}:9", INVALID
    ),
    "helmrelease-unterminated-quote": unproven(
        replace(HR, "      version:", "      version: 'oops\n      x:"), f"{HR}:44", INVALID
    ),
    "umbrella-stray-bracket": unproven(
        replace(UMBRELLA, "appVersion:", "appVersion: ]"), f"{UMBRELLA}:6", INVALID
    ),
    "helmrelease-nested-too-deeply": unproven(
        append(HR, b"---\nkind: HelmRelease\nx: bp-flux\ny: " + b"[" * 500),
        HR,
        "nested too deeply",
    ),
    # (duplicate keys are read as Helm reads them, last wins: tests/test_duplicate_keys.py)
    # --- structure the invariants cannot be proven from
    "wrapper-with-two-flux2-deps": Case(
        append(WRAPPER, b'  - name: flux2\n    version: "2.14.0"\n    repository: x\n'),
        Expect(1, f"{WRAPPER}:13", "'flux2' is a dependency more than once (lines 10, 13)"),
        Expect(2, f"{WRAPPER}:13", "'flux2' is a dependency more than once (lines 10, 13)"),
    ),
    "no-install-url": Case(
        replace(TFTPL, INSTALL_LINE, ""),
        Expect(1, f"{TFTPL}: ", "no line installs the Flux install.yaml URL"),
        Expect(2, f"{TFTPL}: ", "no line installs the Flux install.yaml URL"),
    ),
    "install-url-latest": Case(
        replace(TFTPL, "download/v2.4.0/install", "latest/download/install"),
        Expect(1, f"{TFTPL}:16", "not a literal vX.Y.Z"),
        Expect(2, f"{TFTPL}:16", "not a literal vX.Y.Z"),
    ),
    "install-url-templated": Case(
        replace(TFTPL, "download/v2.4.0/install", "download/v${flux_version}/install"),
        # No templatefile() call renders the template with a literal (test_templatefile.py).
        Expect(1, f"{TFTPL}:16", "/v${flux_version}/install.yaml', and no templatefile() call"),
        Expect(2, f"{TFTPL}:16", "and no templatefile() call in a .tf file"),
    ),
    "wrapper-version-is-a-mapping": Case(
        replace(WRAPPER, "version: 1.1.1", "version: {a: 1}"),
        Expect(1, WRAPPER, "the wrapper chart has no 'version'"),
        Expect(2, WRAPPER, "the wrapper chart has no 'version'"),
    ),
    "dependency-version-empty": Case(
        replace(WRAPPER, '"2.14.1"', ""),
        # Line 10 holds the empty ``version:`` (libyaml's mark; ruamel's was the next line's).
        Expect(1, f"{WRAPPER}:10", "is not an exact pin"),
        Expect(2, f"{WRAPPER}:10", "editing the pin would change other data"),
    ),
    # (a trailing newline passed the pin pattern's "$", then semver's parse raised: exit 70)
    "dependency-version-trailing-newline": Case(
        replace(WRAPPER, '"2.14.1"', '"2.14.1\\n"'),
        Expect(1, f"{WRAPPER}:10", "is not an exact pin"),
        Expect(0),
    ),
    "pin-shared-through-an-alias": Case(
        replace(WRAPPER, '"2.14.1"', '&v "2.14.1"\n    x: *v'),
        Expect(0),
        Expect(2, f"{WRAPPER}:10", "editing the pin would change other data"),
    ),
    "blueprint-version-folded": Case(
        replace(BLUEPRINT, "  version: 1.1.1\n", "  version: >-\n    1.1.1\n"),
        Expect(0),  # the folded value reads fine: 1.1.1
        Expect(2, f"{BLUEPRINT}:7", "block scalar ('>-')"),
    ),
    "wrapper-chart-is-a-list": unproven(
        write(WRAPPER, b"- name: bp-flux\n  version: 1.1.1\n"), f"{WRAPPER}:1", "not a chart"
    ),
    "config-no-cloudinit-glob": Case(
        config("cloudinit: []\n"),
        Expect(1, ".fluxbump.yaml: ", "'cloudinit' lists no template"),
        Expect(2, ".fluxbump.yaml: ", "'cloudinit' lists no template"),
    ),
    # No chart depends on flux2: no Flux component; check proves the rest, to names why.
    "no-wrapper-chart": Case(
        write(WRAPPER, b"apiVersion: v2\nname: other\nversion: 1.0.0\n"),
        Expect(1, f"{BLUEPRINT}:7", "Blueprint of other mirrors 1.1.1, chart is 1.0.0"),
        Expect(2, "no Chart.yaml with 'name: bp-flux'", "no chart depends on 'flux2'"),
    ),
    # --- bytes that are not UTF-8 text: exit 2 with the line of the first bad byte
    "chart-latin1": unproven(append(WRAPPER, b"# caf\xe9\n"), f"{WRAPPER}:12", "not UTF-8"),
    "values-latin1": unproven(append(VALUES, b"# caf\xe9\n"), f"{VALUES}:14", "not UTF-8"),
    "helmrelease-latin1": unproven(append(HR, b"# caf\xe9\n"), f"{HR}:43", "not UTF-8"),
    "tftpl-latin1": unproven(append(TFTPL, b"# caf\xe9\n"), f"{TFTPL}:21", "not UTF-8"),
    # --- UTF-16 (what PowerShell 5 saves): a file that may pin is named, never skipped
    "helmrelease-utf16": unproven(re_encoded(HR, "utf-16"), f"{HR}:1", "UTF-16 text"),
    "chart-utf16-be": unproven(
        re_encoded(WRAPPER, "utf-16-be", bom=True), f"{WRAPPER}:1", "UTF-16"
    ),
    "unrelated-utf16-file": Case(
        write("clusters/a.example/notes.yaml", "kind: ConfigMap\n".encode("utf-16")),
        Expect(0),
        Expect(0, says="gate: passed"),
    ),
    # --- size and filesystem oddities under clusters/
    "50MB-release-file": unproven(
        big_file(with_pin=True), "clusters/a.example/bundle.yaml", "larger than 8 MiB"
    ),
    "symlinked-directory-loop": Case(
        symlinks(("clusters/a.example/loop", ".")), Expect(0), Expect(0, says="gate: passed")
    ),
    # --- .fluxbump.yaml with wrong types or broken YAML: exit 2 naming the key or line
    "config-clusters-not-a-list": both(config("clusters: 3\n"), ".fluxbump.yaml", "'clusters'"),
    # A glob out of the repository matched nothing: the HelmReleases went unread, exit 0.
    "config-glob-dot-dot": both(
        config("remote: origin\nclusters: ['../**/*.yaml']\n"),
        ".fluxbump.yaml:2",
        "'clusters': '../**/*.yaml' leaves the repository; globs are relative to its root",
    ),
    "config-glob-absolute": both(
        config("exclude: [docs/**, /etc/**/*.yaml]\n"),
        ".fluxbump.yaml:1",
        "'exclude': '/etc/**/*.yaml' leaves the repository",
    ),
    # Each '**' inside a name is a run tried at every split: the time grew as a power of a
    # path's length (the stars of '*a*a*c' are matched at their first fit: test_globs.py).
    "config-glob-of-spanning-runs": both(
        config("charts: ['**/Chart.yaml', 'a**/b**/c**.yaml']\n"),
        ".fluxbump.yaml:1",
        "'charts': 'a**/b**/c**.yaml' has more '**' inside names than fluxbump matches in bounded",
    ),
    "config-timeout-is-a-string": both(
        config("gate: {timeout: '10'}\n"), ".fluxbump.yaml", "'gate.timeout' must be a positive"
    ),
    "config-gate-commands-not-strings": both(
        config("gate: {commands: [1, 2]}\n"), ".fluxbump.yaml", "'gate.commands'"
    ),
    "config-policy-not-a-string": both(
        config("app_version_policy: 3\n"), ".fluxbump.yaml", "'app_version_policy'"
    ),
    "config-policy-unknown": both(
        config("app_version_policy: sometimes\n"), ".fluxbump.yaml", "must be one of"
    ),
    "config-wrapper-empty": both(config("wrapper: ''\n"), ".fluxbump.yaml", "'wrapper'"),
    # (the line was not named: '.fluxbump.yaml: components.nope: ...')
    "config-component-unknown": both(
        config("remote: origin\ncomponents:\n  bp-cilium: {wrapper: x, upstream: y}\n"),
        ".fluxbump.yaml:3: components.bp-cilium",
        "no Chart.yaml with 'name: x'",
    ),
    "config-component-to-exclude-unknown": both(
        config("components:\n  flux: false\n  nope: false\n"),
        ".fluxbump.yaml:3: components.nope",
        "no component of that name to exclude",
    ),
    "config-is-a-list": both(config("- wrapper\n"), ".fluxbump.yaml", "must be a mapping"),
    "config-unknown-key": both(config("wraper: bp-flux\n"), ".fluxbump.yaml", "'wraper'"),
    "config-unclosed-flow": both(config("clusters: [\n"), ".fluxbump.yaml:2", "cannot read"),
    "config-nested-too-deeply": both(config("[" * 500), ".fluxbump.yaml", "nested too deeply"),
    "config-latin1": both(
        config(b"remote: o\nwrapper: caf\xe9\n"), ".fluxbump.yaml:2:", "save it as UTF-8"
    ),
    # (it said 'cannot read configuration ('utf-8' codec can't decode byte 0xff ...)')
    "config-utf16": both(
        re_encoded_config("remote: origin\n", "utf-16"), ".fluxbump.yaml:1", "(iconv -f UTF-16"
    ),
    "config-nul": both(config("remote: o\nwrapper: a\x00\n"), ".fluxbump.yaml:2:", "cannot read"),
    "config-bad-int": both(config("wrapper: !!int abc\n"), ".fluxbump.yaml", "cannot read"),
    "config-bad-bool": both(config("wrapper: !!bool maybe\n"), ".fluxbump.yaml:1", "cannot read"),
    # --- release strings that must never reach a branch name or a command
    "release-two-parts": Case(
        lambda r: None, None, Expect(2, "'2.4'", "not a Flux release"), "2.4"
    ),
    "release-shell-injection": Case(
        lambda r: None,
        None,
        Expect(2, "'v2.4.0; rm -rf /'", "not a Flux release"),
        "v2.4.0; rm -rf /",
    ),
    "release-path-traversal": Case(
        lambda r: None, None, Expect(2, "'../2.4.0'", "not a Flux release"), "../2.4.0"
    ),
    "release-embedded-path": Case(
        lambda r: None, None, Expect(2, "'2.4.0/../x'", "not a Flux release"), "2.4.0/../x"
    ),
    "release-newline": Case(
        lambda r: None, None, Expect(2, "'2.4.0\nx'", "not a Flux release"), "2.4.0\nx"
    ),
    # (a trailing newline passed the pin pattern's "$", then semver's parse raised: exit 70)
    "release-trailing-newline": Case(
        lambda r: None, None, Expect(2, "'2.4.0\n'", "not a Flux release"), "2.4.0\n"
    ),
}


def run(root: Path, index: str, *args: str) -> Outcome:
    return run_cli(*args, "--repo", str(root), "--helm-repo", index)


def assert_expected(outcome: Outcome, expect: Expect, what: str) -> None:
    assert outcome.code == expect.code, (what, outcome.code, outcome.stdout, outcome.stderr)
    assert "Traceback" not in outcome.stdout + outcome.stderr, what
    if expect.code == 0:
        assert outcome.stderr == "", what
        assert expect.says in outcome.stdout, what
    elif expect.code == 1:
        # A pin's violation starts a line; a problem is indented in its own section.
        lines = [x.strip() for x in outcome.stdout.splitlines()]
        line = next(x for x in lines if x.startswith(expect.where))
        assert expect.says in line, (what, outcome.stdout)
    else:
        message = outcome.stderr.rstrip("\n")
        expected_where = expect.where.replace("\n", "\\n")  # a newline in it is escaped
        assert "\n" not in message, (what, outcome.stderr)
        assert message.startswith(f"error: {expected_where}"), (what, message)
        assert expect.says in message, (what, message)
        assert outcome.stdout == "", what


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_cleanly(tmp_path: Path, index_file: str, name: str) -> None:
    case = CASES[name]
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    case.mutate(root)
    before = snapshot(root)
    if case.check is not None:
        assert_expected(run(root, index_file, "check"), case.check, f"{name}: check")
        assert snapshot(root) == before
    if case.to is not None:
        outcome = run(root, index_file, "to", case.release)
        assert_expected(outcome, case.to, f"{name}: to")
        if case.to.code != 0:
            assert snapshot(root) == before, name


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("release", ["2.4", "v2.4.0; rm -rf /", "../2.4.0", "2.4.0/../x"])
def test_resolve_refuses_bad_release_text(index_file: str, release: str) -> None:
    outcome = run_cli("resolve", release, "--helm-repo", index_file)
    assert outcome.code == 2
    assert outcome.stderr == f"error: '{release}' is not a version (expected X.Y.Z, e.g. 2.4.0)\n"


# --- inputs that are legitimately realigned (not refused) ----------------------------------


def test_two_install_urls_are_reported_by_check_and_realigned_together_by_to(
    tmp_path: Path, index_file: str
) -> None:
    """Two installs disagree: check names both lines; to moves both to the one target.

    Refusing would leave the user to hand-edit exactly the drift fluxbump exists to fix;
    realigning both is safe because each is an upgrade to the release the user asked for.
    """
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    append(TFTPL, f"  - kubectl apply -f {URL.format('2.3.0')}\n".encode())(root)
    check = run(root, index_file, "check")
    assert check.code == 1
    assert check.stdout.startswith(
        f"{TFTPL}:21: cloud-init installs Flux v2.3.0 here but v2.4.0 at {TFTPL}:16"
    )
    outcome = run(root, index_file, "to", "2.5.1")
    assert outcome.code == 0, outcome.stderr
    text = (root / TFTPL).read_text()
    assert text.count(URL.format("2.5.1")) == 2 and URL.format("2.3.0") not in text
    assert run(root, index_file, "check").code == 0


def test_a_second_install_at_a_newer_release_is_not_silently_downgraded(
    tmp_path: Path, index_file: str
) -> None:
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    append(TFTPL, f"  - kubectl apply -f {URL.format('2.6.1')}\n".encode())(root)
    before = snapshot(root)
    outcome = run(root, index_file, "to", "2.5.1")
    assert outcome.code == 4, outcome.stdout
    assert "--allow-downgrade" in outcome.stderr
    assert snapshot(root) == before


def test_a_range_instead_of_a_pin_is_a_violation_and_to_pins_it(
    tmp_path: Path, index_file: str
) -> None:
    """``~2.14`` cannot be proven equal to the cloud-init release: check fails on that line;
    ``to`` replaces it with the exact chart (shown in the plan), like any other drift."""
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    replace(WRAPPER, '"2.14.1"', '"~2.14"')(root)
    check = run(root, index_file, "check")
    assert check.code == 1
    assert check.stdout.startswith(f"{WRAPPER}:10: flux2 dependency '~2.14' is not an exact pin")
    outcome = run(root, index_file, "to", "2.5.1")
    assert outcome.code == 0, outcome.stderr
    assert "~2.14 -> 2.15.0" in outcome.stdout
    assert 'version: "2.15.0"' in (root / WRAPPER).read_text()
    assert run(root, index_file, "check").code == 0


@pytest.mark.parametrize(
    "mutate",
    [replace(VALUES, "  upstream: {", "  provenance: {"), lambda root: (root / VALUES).unlink()],
    ids=["mirror-key-missing", "values-file-missing"],
)
def test_missing_values_mirror_is_not_invented(
    tmp_path: Path, index_file: str, mutate: Mutation
) -> None:
    """The mirror is optional (not every wrapper records provenance): nothing is written
    into values.yaml, and the other pins still move."""
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    mutate(root)
    values = (root / VALUES).read_bytes() if (root / VALUES).exists() else None
    assert run(root, index_file, "check").code == 0
    outcome = run(root, index_file, "to", "2.5.1")
    assert outcome.code == 0, outcome.stderr
    assert VALUES not in outcome.stdout
    assert ((root / VALUES).read_bytes() if (root / VALUES).exists() else None) == values


def test_a_50MB_file_without_a_pin_is_skipped(tmp_path: Path, index_file: str) -> None:
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    big_file(with_pin=False)(root)
    outcome = run(root, index_file, "check")
    assert outcome.code == 0 and outcome.stderr == ""


def test_a_script_over_the_size_limit_is_named_with_the_way_past_it(
    tmp_path: Path, index_file: str
) -> None:
    """A 9 MiB script (a release pin file by its name) makes every bump refuse: the message
    said only 'larger than 8 MiB; not a pin file', not how to go on."""
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    (root / "scripts").mkdir()
    with open(root / "scripts/vendor.sh", "wb") as handle:
        handle.truncate(9 * 1024 * 1024)  # sparse: read up to the cap, never written out
    says = (
        "scripts/vendor.sh:1: larger than 8 MiB, too large to be read for pins; add it to "
        "'exclude' in .fluxbump.yaml if it pins nothing"
    )
    assert says in run(root, index_file, "check").stdout
    outcome = run(root, index_file, "to", "2.5.1")
    assert outcome.code == 2 and outcome.stderr.startswith(f"error: {says}"), outcome.stderr
    (root / ".fluxbump.yaml").write_text("exclude: [scripts/vendor.sh]\n")
    assert run(root, index_file, "check").code == 0


@pytest.mark.parametrize(
    ("links", "named"),
    [
        ((("clusters/a.yaml", "b.yaml"), ("clusters/b.yaml", "a.yaml")),
         "clusters/a.yaml:1: a symlink to b.yaml, which leads back to it: fix or remove the link"),
        ((("clusters/x.yaml", "missing.yaml"),),
         "clusters/x.yaml:1: a symlink to missing.yaml, which does not exist"),
    ],
    ids=["symlink-file-loop", "dangling-symlink"],
)  # fmt: skip
def test_unreadable_symlink_under_clusters_makes_flux_unproven_naming_it(
    tmp_path: Path, index_file: str, links: tuple[tuple[str, str], ...], named: str
) -> None:
    root = make_fleet(tmp_path / "repo", CONSISTENT, clusters=("a.example",))
    symlinks(*links)(root)
    before = snapshot(root)
    check = run(root, index_file, "check")
    assert check.code == 1
    assert check.stdout.startswith(f"problems (what they name is unproven):\n  {named}")
    assert "flux is unproven" in check.stdout
    bump = run(root, index_file, "to", "2.5.1")
    assert bump.code == 2
    assert bump.stderr.startswith(f"error: {named}")
    assert snapshot(root) == before


def test_a_bare_repository_is_named_not_nothing_to_check(tmp_path: Path) -> None:
    # It said "nothing to check" (exit 2), as if the repository pinned nothing.
    repo = make_fleet(tmp_path / "repo", git=True)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    for command in ("status", "check"):
        outcome = run_cli(command, "--repo", str(bare), "--offline")
        assert outcome.code == 2, outcome.stdout
        assert outcome.stderr.strip() == (
            f"error: --repo {bare}: a bare git repository, which has no files to read; run "
            "fluxbump in a clone of it (git clone)"
        )


def test_a_dangling_symlink_is_named_as_one(tmp_path: Path) -> None:
    # It said ".fluxbump.yaml: cannot read (No such file or directory)" beside a name the
    # user sees in the listing, even with --force.
    repo = make_fleet(tmp_path / "repo", git=True)
    (repo / ".fluxbump.yaml").symlink_to(tmp_path / "gone.yaml")
    said = (
        f"error: .fluxbump.yaml: a symlink to {tmp_path / 'gone.yaml'}, which does not exist: "
        "fix or remove the link"
    )
    for command in (("status", "--offline"), ("init", "--force")):
        outcome = run_cli(*command, "--repo", str(repo))
        assert outcome.code == 2, outcome.stdout
        assert outcome.stderr.strip() == said
