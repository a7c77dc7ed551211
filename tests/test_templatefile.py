"""A cloud-init template whose Flux URL takes the release from a variable (``v${flux_version}``):
the ``templatefile()`` calls of the .tf files that render it pass the pins.

End to end through the CLI on the generated fleet (chart 2.14.1 carries Flux 2.4.0) with its
template's URL made a variable and Terraform files beside it; ``to`` and ``check`` run against
the 127.0.0.1 Helm index.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fluxbump import fleet
from tests.support.cli_runner import Outcome, run_cli
from tests.support.fixtures import CONSISTENT, git, init_git, make_fleet, snapshot
from tests.support.helm_server import HelmServer

LITERAL_URL = re.compile(
    r"-f https://github\.com/fluxcd/flux2/releases/download/v[^/]+/install\.yaml"
)

MAIN = """\
resource "hcloud_server" "cp" {
  user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", {
    flux_version = "2.4.0" # the Flux release
    # flux_version = "2.3.0" (the release before)
    k3s_version  = "v1.31.2+k3s1"
  })
}
# user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", { flux_version = "2.3.0" })
"""
MAIN_RELEASE_LINE = 3  # of MAIN: flux_version = "2.4.0"


def templated_repo(
    tmp_path: Path,
    files: dict[str, str],
    url: str = "-f https://github.com/fluxcd/flux2/releases/download/v${flux_version}/install.yaml",
    **fleet_changes: str,
) -> Path:
    """The fleet, its template's ``kubectl apply`` of Flux written with ``url``, and ``files``;
    committed."""
    repo = make_fleet(tmp_path / "repo", CONSISTENT, **fleet_changes)
    template = repo / fleet.CLOUDINIT
    text, count = LITERAL_URL.subn(lambda _: url, template.read_text("utf-8"))
    assert count == 1
    template.write_text(text, "utf-8")
    for rel, body in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(body, "utf-8")
    init_git(repo)
    return repo


def status(repo: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The cloud-init install rows and the problems (``file:line: message``) of ``status``."""
    outcome = run_cli("status", "--repo", str(repo), "--offline", "--json")
    assert outcome.code in (0, 1), outcome.stderr
    report = json.loads(outcome.stdout)
    rows = [
        {k: r[k] for k in ("file", "line", "value", "owner", "ok", "proven")}
        for r in report["sites"]
        if r["role"] == "cloud-init install"
    ]
    return rows, [f"{p['file']}:{p['line']}: {p['message']}" for p in report["problems"]]


def check(server: HelmServer, repo: Path) -> Outcome:
    return run_cli("check", "--repo", str(repo), "--helm-repo", server.base_url)


def install_row(file: str, line: int, value: str, owner: str) -> dict[str, Any]:
    return {"file": file, "line": line, "value": value, "owner": owner, "ok": True, "proven": True}


def test_status_shows_the_templatefile_literal_as_the_cloud_init_install(tmp_path: Path) -> None:
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": MAIN})
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert rows == [install_row("infra/hetzner/main.tf", MAIN_RELEASE_LINE, "2.4.0", owner)]
    assert problems == []


def test_paths_resolve_from_the_tf_file_and_a_whole_release_ref_keeps_its_v(
    tmp_path: Path,
) -> None:
    other = 'locals {\n  a = templatefile("./cloudinit-control-plane.tftpl", { v = "v2.4.0" })\n}\n'
    root = 'output "b" {\n  value = templatefile("${path.root}/../../infra/hetzner/cloudinit-control-plane.tftpl", {\n    v = "v2.4.0"\n  })\n}\n'
    elsewhere = 'output "c" {\n  value = templatefile("${path.module}/cloudinit-control-plane.tftpl", { v = "v9.9.9" })\n}\n'
    files = {
        "infra/hetzner/servers.tf": other,
        "envs/prod/main.tf": root,
        "infra/other/main.tf": elsewhere,  # renders its own (absent) template: not ours
    }
    url = "-k github.com/fluxcd/flux2/manifests/install?ref=${v}"
    repo = templated_repo(tmp_path, files, url=url)
    rows, problems = status(repo)
    assert rows == [
        install_row("envs/prod/main.tf", 3, "v2.4.0", "cloud-init via templatefile() in main.tf"),
        install_row("infra/hetzner/servers.tf", 2, "v2.4.0",
                    "cloud-init via templatefile() in servers.tf"),
    ]  # fmt: skip
    assert problems == []


def test_check_flags_a_literal_that_disagrees_with_the_chart_at_its_tf_line(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    main = MAIN.replace('"2.4.0" #', '"2.3.0" #')
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main})
    outcome = check(helm_server, repo)
    assert outcome.code == 1, outcome.stderr
    assert (
        "platform/flux/chart/Chart.yaml:10: flux2 2.14.1 carries appVersion 2.4.0 but cloud-init "
        f"installs Flux 2.3.0 (infra/hetzner/main.tf:{MAIN_RELEASE_LINE})"
    ) in outcome.stdout


def test_to_moves_only_the_literal_and_the_gate_passes(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    mention = "# was: https://github.com/fluxcd/flux2/releases/download/v2.3.0/install.yaml\n"
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": MAIN})
    template = (repo / fleet.CLOUDINIT).read_text("utf-8")
    (repo / fleet.CLOUDINIT).write_text(mention + template, "utf-8")
    git(repo, "commit", "-qam", "a comment mentions the old URL")
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert "gate: passed" in outcome.stdout
    after = snapshot(repo)
    changed = {rel for rel in before if before[rel] != after[rel]}
    clusters = {rel for rel in changed if rel.startswith("clusters/")}
    assert len(clusters) == 8  # 2 HelmReleases x (_template + 3 clusters), as with a URL pin
    assert changed - clusters == {
        "infra/hetzner/main.tf", fleet.WRAPPER_CHART, fleet.WRAPPER_VALUES,
        fleet.WRAPPER_BLUEPRINT, fleet.UMBRELLA_CHART, fleet.UMBRELLA_BLUEPRINT,
    }  # fmt: skip
    assert set(after) == set(before)
    assert (
        after["infra/hetzner/main.tf"]
        == MAIN.replace('flux_version = "2.4.0"', 'flux_version = "2.5.1"').encode()
    )
    assert after[fleet.CLOUDINIT] == before[fleet.CLOUDINIT]  # the URL and the mention stay
    assert after[fleet.WRAPPER_CHART] == before[fleet.WRAPPER_CHART].replace(
        b"version: 1.1.1", b"version: 1.1.2"
    ).replace(b'version: "2.14.1"', b'version: "2.15.0"')
    message = git(repo, "log", "-1", "--format=%B")
    assert (
        f"- infra/hetzner/main.tf:{MAIN_RELEASE_LINE}: cloud-init install "
        "(cloud-init via templatefile() in main.tf) 2.4.0 -> 2.5.1"
    ) in message
    assert check(helm_server, repo).code == 0


def test_a_variable_is_followed_to_its_default(tmp_path: Path) -> None:
    main = MAIN.replace('"2.4.0" # the Flux release', "var.flux_version")
    variables = 'variable "flux_version" {\n  type    = string\n  default = "2.4.0"\n}\n'
    repo = templated_repo(
        tmp_path, {"infra/hetzner/main.tf": main, "infra/hetzner/variables.tf": variables}
    )
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf (var.flux_version)"
    assert rows == [install_row("infra/hetzner/variables.tf", 3, "2.4.0", owner)]
    assert problems == []


def test_what_cannot_be_followed_is_a_problem_naming_its_line(tmp_path: Path) -> None:
    cases = {
        "var.flux_version": (
            f"infra/hetzner/main.tf:{MAIN_RELEASE_LINE}",
            "passes flux_version = var.flux_version, and no variable default, .tfvars value "
            "or module argument sets it to a literal",
        ),
        "local.flux": (
            f"infra/hetzner/main.tf:{MAIN_RELEASE_LINE}",
            "passes flux_version = local.flux, not a literal",
        ),
        '"v2.4.0"': (
            f"infra/hetzner/main.tf:{MAIN_RELEASE_LINE}",
            "flux_version = \"v2.4.0\" renders 'vv2.4.0' into the Flux URL",
        ),
    }
    for value, (where, message) in cases.items():
        main = MAIN.replace('"2.4.0" # the Flux release', value)
        repo = templated_repo(tmp_path / value.strip('"'), {"infra/hetzner/main.tf": main})
        rows, problems = status(repo)
        assert rows == [], value
        assert len(problems) == 1 and problems[0].startswith(f"{where}: "), problems
        assert message in problems[0], problems


def test_a_call_passing_no_variable_or_an_expression_map_is_a_problem(tmp_path: Path) -> None:
    main = (
        'resource "hcloud_server" "a" {\n'
        '  user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", local.vars)\n'
        "}\n"
        'resource "hcloud_server" "b" {\n'
        '  user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", { k = "1" })\n'
        "}\n"
    )
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main})
    rows, problems = status(repo)
    assert rows == []
    assert [p.split(": ", 1)[0] for p in problems] == [
        "infra/hetzner/main.tf:2",
        "infra/hetzner/main.tf:5",
    ]
    assert "passes its variables as an expression" in problems[0]
    assert 'passes no flux_version; add flux_version = "X.Y.Z"' in problems[1]


def test_no_templatefile_call_keeps_the_template_line_a_problem(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    repo = templated_repo(tmp_path, {})
    rows, problems = status(repo)
    assert rows == []
    assert problems == [
        f"{fleet.CLOUDINIT}:16: installs Flux from "
        "'https://github.com/fluxcd/flux2/releases/download/v${flux_version}/install.yaml', "
        "and no templatefile() call in a .tf file of this repository renders it; pass "
        'flux_version = "X.Y.Z" there, or write the release vX.Y.Z in the URL'
    ]
    before = snapshot(repo)
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 2
    assert f"{fleet.CLOUDINIT}:16: installs Flux from" in outcome.stderr
    assert snapshot(repo) == before


def test_two_calls_that_disagree_are_a_violation_at_the_second(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    worker = MAIN.replace('"cp"', '"worker"').replace('"2.4.0" #', '"2.3.0" #')
    repo = templated_repo(
        tmp_path, {"infra/hetzner/main.tf": MAIN, "infra/hetzner/workers.tf": worker}
    )
    outcome = check(helm_server, repo)
    assert outcome.code == 1, outcome.stderr
    assert (
        f"infra/hetzner/workers.tf:{MAIN_RELEASE_LINE}: cloud-init installs Flux 2.3.0 here "
        f"but 2.4.0 at infra/hetzner/main.tf:{MAIN_RELEASE_LINE}: make them agree "
        "('fluxbump to X.Y.Z' moves both)"
    ) in outcome.stdout


def test_sync_takes_the_literal_renovate_moved_and_refuses_a_conflicting_chart(
    tmp_path: Path,
) -> None:
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": MAIN})
    moved = MAIN.replace('"2.4.0" #', '"2.5.1" #')
    (repo / "infra/hetzner/main.tf").write_text(moved, "utf-8")
    chart = (repo / fleet.WRAPPER_CHART).read_text("utf-8")
    (repo / fleet.WRAPPER_CHART).write_text(chart.replace('"2.14.1"', '"2.13.0"'), "utf-8")
    before = snapshot(repo)
    outcome = run_cli("sync", "--repo", str(repo), "--offline")
    assert outcome.code == 2, outcome.stdout + outcome.stderr
    assert (
        f"infra/hetzner/main.tf:{MAIN_RELEASE_LINE} (cloud-init install) 2.4.0 -> 2.5.1"
    ) in outcome.stderr
    assert snapshot(repo) == before
    (repo / fleet.WRAPPER_CHART).write_text(chart, "utf-8")  # the literal alone moved
    outcome = run_cli("sync", "--repo", str(repo), "--offline")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert (repo / "infra/hetzner/main.tf").read_text("utf-8") == moved
    assert '"2.15.0"' in (repo / fleet.WRAPPER_CHART).read_text("utf-8")


def test_the_crd_guard_reads_the_releases_past_literals_installed(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Flux 2.2.3 stored ImageUpdateAutomations as v1beta1, which 2.7 drops: cloud-init once
    # installed it (the literal), while the chart was already at 2.16.4 (Flux 2.6.4).
    past = MAIN.replace('"2.4.0" #', '"2.2.3" #')
    repo = templated_repo(
        tmp_path, {"infra/hetzner/main.tf": past}, flux_release="2.6.4", flux_chart="2.16.4"
    )
    (repo / "infra/hetzner/main.tf").write_text(MAIN.replace('"2.4.0" #', '"2.6.4" #'), "utf-8")
    git(repo, "commit", "-qam", "cloud-init installs Flux 2.6.4")
    before = snapshot(repo)
    outcome = run_cli("to", "2.7.5", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 4, outcome.stdout + outcome.stderr
    assert "imageupdateautomations.image.toolkit.fluxcd.io/v1beta1 (stored by flux2 2.12.3)" in (
        outcome.stderr
    )
    assert snapshot(repo) == before


def test_a_call_inside_a_block_comment_is_not_followed(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # A resource commented out with /* */ (its call on a line of its own) renders nothing;
    # a "//" in a string before a real call on its line does not make it a comment.
    commented = (
        '/*\nresource "hcloud_server" "old" {\n'
        '  user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", {\n'
        '    flux_version = "2.3.0"\n  })\n}\n*/\n'
        'locals { url = "https://x", worker = templatefile("${path.module}/cloudinit-control-plane.tftpl", { flux_version = "2.4.0" }) }\n'
    )  # fmt: skip
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": MAIN + commented})
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert rows == [
        install_row("infra/hetzner/main.tf", MAIN_RELEASE_LINE, "2.4.0", owner),
        install_row("infra/hetzner/main.tf", MAIN.count("\n") + 8, "2.4.0", owner),
    ]
    assert problems == []
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    after = (repo / "infra/hetzner/main.tf").read_text("utf-8")
    assert after == (MAIN + commented).replace('"2.4.0"', '"2.5.1"')


def test_block_comments_around_an_entry_and_before_the_object_are_comments(
    tmp_path: Path,
) -> None:
    path = '"${path.module}/cloudinit-control-plane.tftpl"'
    main = (
        f'locals {{\n  a = templatefile({path}, {{\n    /* pinned */ flux_version = "2.4.0"\n  }})\n'
        f'  b = templatefile({path}, {{ k = "1", flux_version = "2.4.0" /* pinned */ }})\n'
        f'  c = templatefile({path}, # the variables\n    {{\n      flux_version = "2.4.0"\n    }})\n}}\n'
    )  # fmt: skip
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main})
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert problems == []
    assert rows == [install_row("infra/hetzner/main.tf", n, "2.4.0", owner) for n in (3, 5, 8)]


def test_long_lines_are_read_in_linear_time(tmp_path: Path) -> None:
    # Each long run below made a regex backtrack quadratically (minutes at this size, hours at
    # the 8 MiB a file may hold): a word before the URL, a long key before the literal on its
    # line (read again by sync), a value with a long run of blanks that is not a literal.
    n = 200_000
    call = 'templatefile("${path.module}/cloudinit-control-plane.tftpl", {'
    main = f'locals {{\n  a = {call} {"k" * n} = "1", flux_version = "2.4.0" }})\n}}\n'
    url = "-f https://github.com/fluxcd/flux2/releases/download/v${flux_version}/install.yaml"
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main}, url=f"-f {'a' * n} {url}")
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert (rows, problems) == ([install_row("infra/hetzner/main.tf", 2, "2.4.0", owner)], [])
    (repo / "infra/hetzner/main.tf").write_text(main.replace('"2.4.0"', '"2.5.1"'), "utf-8")
    outcome = run_cli("sync", "--repo", str(repo), "--offline", "--dry-run")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("Flux v2.5.1 → flux2 chart 2.15.0 (from Flux v2.4.0"), (
        outcome.stdout
    )
    blanks = main.replace('"2.4.0" }', f'"2.4.0"{" " * n}x }}')
    (repo / "infra/hetzner/main.tf").write_text(blanks, "utf-8")
    rows, problems = status(repo)
    assert rows == [] and len(problems) == 1, problems
    assert problems[0].startswith("infra/hetzner/main.tf:2: templatefile() of "), problems[0][:300]


def test_a_windows_path_with_backslashes_is_followed(tmp_path: Path) -> None:
    # Terraform on Windows reads "\\" in a path (written "\\\\" in HCL) as a separator.
    path = r'"${path.module}\\..\\hetzner\\cloudinit-control-plane.tftpl"'
    main = f'locals {{\n  a = templatefile({path}, {{ flux_version = "2.4.0" }})\n}}\n'
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main})
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert (rows, problems) == ([install_row("infra/hetzner/main.tf", 2, "2.4.0", owner)], [])


def test_a_heredoc_value_is_named_as_not_a_literal(tmp_path: Path) -> None:
    path = '"${path.module}/cloudinit-control-plane.tftpl"'
    main = f'locals {{\n  a = templatefile({path}, {{\n    flux_version = <<-EOT\n      2.4.0\n    EOT\n  }})\n}}\n'  # fmt: skip
    repo = templated_repo(tmp_path, {"infra/hetzner/main.tf": main})
    rows, problems = status(repo)
    assert rows == []
    assert problems == [
        "infra/hetzner/main.tf:3: templatefile() of infra/hetzner/cloudinit-control-plane.tftpl "
        "(whose line 16 installs Flux) passes flux_version = <<-EOT, not a literal; write "
        'flux_version = "X.Y.Z" (or var.NAME with a literal default)'
    ]


def moved_template(tmp_path: Path, calls: dict[str, str], link: tuple[str, str]) -> Path:
    """The templated fleet with its template moved to modules/cloud/ (the real directory),
    the symlink ``link`` (name, target) and the ``.tf`` files ``calls``; committed."""
    repo = templated_repo(tmp_path, {})
    (repo / "modules/cloud").mkdir(parents=True)
    (repo / fleet.CLOUDINIT).rename(repo / "modules/cloud/cloudinit-control-plane.tftpl")
    (repo / link[0]).symlink_to(link[1])
    for rel, body in calls.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(body, "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the template lives in modules/cloud")
    return repo


def test_a_template_reached_through_a_symlinked_directory_is_followed(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # Terraform joins the path lexically, then the system follows infra/prod -> modules/cloud:
    # the call renders the real template, which the walk found at modules/cloud/.
    path = '"${path.module}/../../infra/prod/cloudinit-control-plane.tftpl"'
    main = f'locals {{\n  a = templatefile({path}, {{ flux_version = "2.4.0" }})\n}}\n'
    repo = moved_template(tmp_path, {"envs/prod/main.tf": main}, ("infra/prod", "../modules/cloud"))
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert (rows, problems) == ([install_row("envs/prod/main.tf", 2, "2.4.0", owner)], [])
    outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
    assert outcome.code == 0, outcome.stderr
    assert (repo / "envs/prod/main.tf").read_text("utf-8") == main.replace("2.4.0", "2.5.1")


def test_a_symlinked_template_file_is_the_file_it_names(tmp_path: Path) -> None:
    # infra/hetzner/cloudinit-control-plane.tftpl -> the real template: both walked, one template.
    main = MAIN
    link = (fleet.CLOUDINIT, "../../modules/cloud/cloudinit-control-plane.tftpl")
    repo = moved_template(tmp_path, {"infra/hetzner/main.tf": main}, link)
    rows, problems = status(repo)
    owner = "cloud-init via templatefile() in main.tf"
    assert (rows, problems) == (
        [install_row("infra/hetzner/main.tf", MAIN_RELEASE_LINE, "2.4.0", owner)],
        [],
    )


def test_a_path_through_a_link_out_of_the_repository_renders_none_of_its_templates(
    tmp_path: Path,
) -> None:
    # infra/prod leaves the repository: what the call renders there is no file of it, even
    # when it bears the template's name (the walk does not follow the link either).
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cloudinit-control-plane.tftpl").write_text("v${flux_version}\n", "utf-8")
    path = '"${path.module}/../../infra/prod/cloudinit-control-plane.tftpl"'
    main = f'locals {{\n  a = templatefile({path}, {{ flux_version = "2.4.0" }})\n}}\n'
    repo = moved_template(tmp_path, {"envs/prod/main.tf": main}, ("infra/prod", str(outside)))
    rows, problems = status(repo)
    assert rows == []
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        "modules/cloud/cloudinit-control-plane.tftpl:16: installs Flux from "
    ), problems
    assert "no templatefile() call in a .tf file of this repository renders it" in problems[0]


def test_a_path_fluxbump_cannot_resolve_is_a_problem_at_its_call(
    tmp_path: Path, helm_server: HelmServer
) -> None:
    # The problem stood at the template's line ("no templatefile() call renders it"), which
    # names nothing the user can change: it names the call, and the path to write there.
    template = "infra/hetzner/cloudinit-control-plane.tftpl (whose line 16 installs Flux)"
    write = 'write it "${path.module}/cloudinit-control-plane.tftpl" so fluxbump can follow'
    cases = {
        'format("%s/cloudinit-control-plane.tftpl", path.module)': (
            f"infra/hetzner/main.tf:2: templatefile() of {template}: path "
            f'format("%s/cloudinit-control-plane.tftpl", path.module) cannot be resolved; {write}'
        ),
        '"${path.module}/${var.template}"': (
            'infra/hetzner/main.tf:2: templatefile() path "${path.module}/${var.template}" '
            f"cannot be resolved, and no call renders {template} by a path fluxbump can read: "
            f"if this one renders it, {write}"
        ),
    }
    for path, problem in cases.items():
        main = f'locals {{\n  a = templatefile({path}, {{ flux_version = "2.4.0" }})\n}}\n'
        repo = templated_repo(tmp_path / str(len(path)), {"infra/hetzner/main.tf": main})
        assert status(repo) == ([], [problem + " the release"]), path
        outcome = run_cli("to", "2.5.1", "--repo", str(repo), "--helm-repo", helm_server.base_url)
        assert outcome.code == 2 and "infra/hetzner/main.tf:2: templatefile()" in outcome.stderr


def test_a_path_naming_no_file_is_left_alone_when_another_call_renders_the_template(
    tmp_path: Path,
) -> None:
    # A module may pick other templates by a variable: with the Flux template followed, such
    # a call is no problem of its pin.
    other = 'locals {\n  b = templatefile("${path.module}/${var.template}", { k = "1" })\n}\n'
    files = {"infra/hetzner/main.tf": MAIN, "infra/hetzner/other.tf": other}
    rows, problems = status(templated_repo(tmp_path, files))
    owner = "cloud-init via templatefile() in main.tf"
    assert (rows, problems) == ([install_row("infra/hetzner/main.tf", 3, "2.4.0", owner)], [])


def test_sync_reads_a_module_argument_at_the_base_in_its_own_module_block(
    tmp_path: Path,
) -> None:
    # The template takes var.flux_version, which module "cp" sets; module "other" of the same
    # file passes its own flux_version. A block added above since --base moved "cp" onto the
    # line "other" stood on: read by line, "cp" seemed moved from 9.9.9, a false conflict.
    main = MAIN.replace('"2.4.0" # the Flux release', "var.flux_version")
    callers = (
        'module "cp" {\n  source       = "../../infra/hetzner"\n  flux_version = "2.4.0"\n}\n\n'
        'module "other" {\n  source       = "../../modules/other"\n  flux_version = "9.9.9"\n}\n'
    )
    dns = 'module "dns" {\n  source = "../../modules/dns"\n  zone   = "example.com"\n}\n\n'
    files = {
        "infra/hetzner/main.tf": main,
        "infra/hetzner/variables.tf": 'variable "flux_version" {\n  type = string\n}\n',
        "envs/prod/main.tf": callers,
    }
    repo = templated_repo(tmp_path, files)
    (repo / "envs/prod/main.tf").write_text(dns + callers, "utf-8")
    git(repo, "commit", "-qam", "a dns module above")
    chart = (repo / fleet.WRAPPER_CHART).read_text("utf-8")
    (repo / fleet.WRAPPER_CHART).write_text(chart.replace('"2.14.1"', '"2.15.0"'), "utf-8")
    outcome = run_cli("sync", "--repo", str(repo), "--offline", "--base", "HEAD~1")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    after = (repo / "envs/prod/main.tf").read_text("utf-8")
    assert after == dns + callers.replace('"2.4.0"', '"2.5.1"')
