"""Hostile and odd YAML in the files fluxbump reads, end to end through the CLI on a real
git repository: each run ends in bounded time with a one-line error naming file:line (or a
per-file problem), the exit code the README documents, no traceback and nothing written.
Each run is ``python -m fluxbump``'s ``main`` in this process (``run_main``): a crash is
raised here, never printed and lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import run_main
from tests.support.fixtures import CONSISTENT, commit_file, git, make_fleet, snapshot

WRAPPER = "platform/flux/chart/Chart.yaml"
# A pin of the Flux release outside every chart: with the wrapper unread, Flux stays a
# component of such pins alone.
WORKFLOW = ".github/workflows/e2e.yaml"
WORKFLOW_TEXT = (
    "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: fluxcd/flux2/action@main\n        with:\n          version: 2.4.0\n"
)


def bomb(levels: int = 12) -> str:
    """A "billion laughs": ``levels`` nested anchors of nine aliases each."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def committed_fleet(root: Path, rel: str, edit: object) -> Path:
    """The consistent fleet and a workflow pinning Flux, with ``rel`` (empty if absent)
    rewritten by ``edit`` (text to text; a surrogate escape is that byte), committed."""
    repo = make_fleet(root, CONSISTENT, git=True)
    assert callable(edit)
    commit_file(repo, WORKFLOW, WORKFLOW_TEXT)
    text = (repo / rel).read_text("utf-8") if (repo / rel).exists() else ""
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_bytes(edit(text).encode("utf-8", "surrogateescape"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qam", "odd file")
    return repo


# A default-named wrapper (bp-flux) whose Chart.yaml cannot be read: 'to' moved the release
# pins outside charts (cloud-init, CI) and left the wrapper's flux2 behind, the split fleet
# fluxbump exists to prevent, and its gate passed.
@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda text: text + bomb(), id="alias-bomb"),
        pytest.param(lambda text: text.replace("version: 1.1.1", "version: [1.1.1"), id="invalid"),
    ],
)
def test_an_unreadable_default_wrapper_leaves_flux_unproven_not_half_moved(
    tmp_path: Path, edit: object
) -> None:
    repo = committed_fleet(tmp_path / "repo", WRAPPER, edit)
    before = snapshot(repo)
    bump = run_main("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    last = bump.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {WRAPPER}:") and last.endswith("; flux is unproven"), last
    assert "Traceback" not in bump.stderr
    assert snapshot(repo) == before
    check = run_main("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    named = [line for line in check.stdout.splitlines() if line.startswith(f"  {WRAPPER}:")]
    assert len(named) == 1 and named[0].endswith("; flux is unproven"), check.stdout


# Emptied (or cut to its comments by a bad merge), the wrapper's Chart.yaml has no name, which
# Helm refuses ('chart.metadata.name is required'): it was no chart at all, so 'to' moved the
# pins outside charts and left the wrapper's flux2 behind, and check said consistent. Its
# name unknown, it may be any chart: every component is unproven.
@pytest.mark.parametrize("text", ["", "# emptied by a bad merge\n"], ids=["empty", "comments"])
def test_a_chart_yaml_with_no_name_leaves_flux_unproven_not_half_moved(
    tmp_path: Path, text: str
) -> None:
    repo = committed_fleet(tmp_path / "repo", WRAPPER, lambda _: text)
    before = snapshot(repo)
    problem = (
        f"{WRAPPER}:1: a Chart.yaml with no 'name', which Helm refuses (chart.metadata.name "
        "is required): restore it or delete it; flux is unproven"
    )
    bump = run_main("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert bump.stderr.strip().splitlines()[-1] == f"error: {problem}"
    assert snapshot(repo) == before
    check = run_main("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert f"  {problem}" in check.stdout.splitlines()


DEPENDENCY = '    version: "2.14.1"\n'  # the wrapper's flux2 pin, line 10
BLUEPRINT = "platform/flux/blueprint.yaml"  # its spec.version mirrors the wrapper's, line 7
LOCK = "platform/flux/chart/Chart.lock"
LOCK_TEXT = (
    "dependencies:\n- name: flux2\n  repository: https://fluxcd-community.github.io/helm-charts\n"
    '  version: 2.14.1\ndigest: sha256:0\ngenerated: "2024-06-03T10:00:00Z"\n'
)


# A pin with an explicit tag the new version does not fit (``!!int 2`` -> ``!!int 2.15.0``):
# Helm refuses such a file ("cannot decode"); the edit's proof constructed it and crashed
# (exit 70).
@pytest.mark.parametrize(
    ("rel", "edit", "line"),
    [
        pytest.param(WRAPPER, lambda t: t.replace(DEPENDENCY, "    version: !!int 2\n"), 10,
                     id="int"),
        pytest.param(BLUEPRINT, lambda t: t.replace("version: 1.1.1", "version: !!float 1.1"), 7,
                     id="float"),
    ],
)  # fmt: skip
def test_a_pin_unfit_for_its_tag_is_named_not_a_crash(
    tmp_path: Path, rel: str, edit: object, line: int
) -> None:
    repo = committed_fleet(tmp_path / "repo", rel, edit)
    before = snapshot(repo)
    bump = run_main("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert "Traceback" not in bump.stderr
    last = bump.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {rel}:{line}: a YAML scalar does not read as its tag"), last
    assert snapshot(repo) == before


# One Blueprint or Chart.lock that cannot be read (an alias bomb, bytes that are not UTF-8, a
# NUL) aborted every command (exit 2) where an unreadable Chart.yaml or values.yaml costs only the components of
# its chart: status and check now name it as a problem, and a bump of its chart refuses.
@pytest.mark.parametrize(
    ("rel", "edit", "line"),
    [
        pytest.param(BLUEPRINT, lambda text: text + "---\n" + bomb(), 10, id="alias-bomb"),
        pytest.param(BLUEPRINT, lambda text: text.replace("bp-flux\n", "bp-flux\udcff\n", 1),
                     4, id="not-utf8"),
        pytest.param(LOCK, lambda _: LOCK_TEXT + bomb(), 1, id="lock-alias-bomb"),
        pytest.param(LOCK, lambda _: LOCK_TEXT + "# \x00\n", 7, id="lock-nul"),
    ],
)  # fmt: skip
def test_an_unreadable_blueprint_or_lock_is_a_problem_of_its_chart_not_the_end_of_the_run(
    tmp_path: Path, rel: str, edit: object, line: int
) -> None:
    repo = committed_fleet(tmp_path / "repo", rel, edit)
    before = snapshot(repo)
    problem = f"  {rel}:{line}: "
    status = run_main("status", "--repo", str(repo), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[-1].startswith(problem), status.stdout
    assert status.stdout.endswith("; flux is unproven\n"), status.stdout
    check = run_main("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    assert sum(line.startswith(problem) for line in check.stdout.splitlines()) == 1
    bump = run_main("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert bump.stderr.startswith(f"error: {rel}:{line}: "), bump.stderr
    assert bump.stderr.endswith("; flux is unproven\n"), bump.stderr
    assert snapshot(repo) == before


def test_sync_with_the_default_wrapper_unreadable_names_it_not_nothing_to_do(
    tmp_path: Path,
) -> None:
    # Renovate moved the cloud-init install; the wrapper's Chart.yaml does not parse. sync
    # said "no pin moved …; nothing to do" (exit 0) and the post-upgrade task committed a
    # fleet whose wrapper still deploys Flux 2.4.0.
    repo = committed_fleet(tmp_path / "repo", WRAPPER, lambda text: text + bomb())
    cloudinit = repo / "infra/hetzner/cloudinit-control-plane.tftpl"
    cloudinit.write_text(cloudinit.read_text("utf-8").replace("v2.4.0", "v2.5.1"), "utf-8")
    git(repo, "commit", "-qam", "renovate: flux v2.5.1")
    before = snapshot(repo)
    synced = run_main("sync", "--base", "HEAD~1", "--repo", str(repo), "--offline")
    assert synced.code == 2, synced.stdout + synced.stderr
    assert synced.stderr.startswith(f"error: {WRAPPER}:1: YAML aliases expand"), synced.stderr
    assert synced.stderr.endswith("; flux is unproven\n"), synced.stderr
    assert snapshot(repo) == before


def test_init_refuses_while_a_chart_yaml_cannot_be_read(tmp_path: Path) -> None:
    # With the wrapper's Chart.yaml an alias bomb, init wrote (exit 0) a configuration of
    # what was left: 'bp-flux' as a component the umbrella wraps, kept after the fix.
    repo = committed_fleet(tmp_path / "repo", WRAPPER, lambda text: text + bomb())
    before = snapshot(repo)
    init = run_main("init", "--repo", str(repo))
    assert init.code == 2, init.stdout + init.stderr
    assert init.stderr.startswith(f"error: {WRAPPER}:1: YAML aliases expand"), init.stderr
    assert init.stderr.rstrip().endswith("fix it first"), init.stderr
    assert snapshot(repo) == before


INSTANCE = "clusters/a/flux-instance.yaml"
INSTANCE_TEXT = (
    "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
    'spec:\n  distribution:\n    version: "2.4.0"\n'
)


# A FluxInstance that does not parse or decode names no chart, so the HelmRelease pass never
# reported it: status and check said nothing of it, and 'to' moved every other pin and left
# the operator installing Flux 2.4.0.
@pytest.mark.parametrize(
    ("edit", "line"),
    [
        pytest.param(lambda _: INSTANCE_TEXT + 'note: "a\x00b"\n', 8, id="nul"),
        pytest.param(lambda _: INSTANCE_TEXT + "note: caf\udce9\n", 8, id="not-utf8"),
        pytest.param(lambda _: INSTANCE_TEXT + bomb(), 1, id="alias-bomb"),
    ],
)
def test_an_unreadable_flux_instance_is_named_never_skipped(
    tmp_path: Path, edit: object, line: int
) -> None:
    repo = committed_fleet(tmp_path / "repo", INSTANCE, edit)
    before = snapshot(repo)
    check = run_main("check", "--repo", str(repo), "--offline")
    assert check.code == 1, check.stdout + check.stderr
    named = [x for x in check.stdout.splitlines() if x.startswith(f"  {INSTANCE}:{line}: ")]
    assert len(named) == 1 and named[0].endswith("; flux is unproven"), check.stdout
    bump = run_main("to", "2.5.1", "--no-git", "--repo", str(repo), "--offline")
    assert bump.code == 2, bump.stdout + bump.stderr
    assert bump.stderr.startswith(f"error: {INSTANCE}:{line}: "), bump.stderr
    assert snapshot(repo) == before
