"""`fluxbump renovate-config`: the snippet each Renovate release accepts, for this repository.

The vendored schemas (tests/data/renovate/, made by tests/renovate_schema.py from each
release's renovate-schema.json) close every object fluxbump writes, so an option a release
does not know fails here, offline, as Renovate's own validator fails on it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fluxbump import fleet
from fluxbump.commands.renovate import glob_to_regex
from tests.support.cli_runner import run_cli
from tests.support.data import DATA
from tests.support.fixtures import init_git, make_fleet, write_repo

SCHEMAS = sorted((Path(__file__).parent / "data" / "renovate").glob("renovate-*.schema.json"))


def _release(schema: Path) -> str:
    return schema.name.removeprefix("renovate-").removesuffix(".schema.json")


def generated(repo: Path, *args: str) -> dict[str, Any]:
    outcome = run_cli("renovate-config", "--repo", str(repo), *args)
    assert outcome.code == 0, outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def problems(schema: Path, config: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(schema.read_text("utf-8")))
    return [error.message for error in validator.iter_errors(config)]


def test_both_validated_releases_are_vendored() -> None:
    assert {_release(s).split(".")[0] for s in SCHEMAS} >= {"39", "42"}


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_config_for_a_release_is_what_its_schema_accepts(tmp_path: Path, schema: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    release = _release(schema)
    assert problems(schema, generated(repo, "--renovate-version", release)) == []
    other = "42" if int(release.split(".")[0]) < 41 else "39"
    refused = problems(schema, generated(repo, "--renovate-version", other))
    assert refused and all("was unexpected" in p for p in refused)


def test_default_is_the_current_form(tmp_path: Path) -> None:
    config = generated(make_fleet(tmp_path / "fleet"))
    for manager in config["customManagers"]:
        assert manager["managerFilePatterns"] == ["**/*.tftpl"] and "fileMatch" not in manager


def test_renovate_39_gets_a_regex_that_matches_the_cloud_init_template(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    config = generated(repo, "--renovate-version", "39.264.1")
    for manager in config["customManagers"]:
        assert "managerFilePatterns" not in manager
        (pattern,) = manager["fileMatch"]
        assert re.search(pattern, fleet.CLOUDINIT)
        assert re.search(pattern, "cloudinit.tftpl")  # ** spans no directory too
        assert not re.search(pattern, fleet.WRAPPER_CHART)
        assert not re.search(pattern, "infra/x.tftpl.bak")


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("**/*.tftpl", "a/b/c.tftpl", True),
        ("infra/*/cloud-init.tftpl", "infra/hetzner/cloud-init.tftpl", True),
        ("infra/*/cloud-init.tftpl", "infra/a/b/cloud-init.tftpl", False),
        ("infra/*/cloud-init.tftpl", "infra/hetzner/cloud-initxtftpl", False),
        ("x?.tftpl", "x1.tftpl", True),
    ],
)
def test_glob_to_regex(glob: str, path: str, matches: bool) -> None:
    assert bool(re.search(glob_to_regex(glob), path)) is matches
    assert "\\-" not in glob_to_regex(glob)  # a syntax error in a JavaScript unicode regex


def test_file_filters_cover_every_file_sync_can_write(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path / "fleet")
    (repo / ".fluxbump.yaml").write_text(
        'cloudinit: ["infra/**/*.tftpl"]\nclusters: ["kubernetes/**/*.yaml"]\n', "utf-8"
    )
    for rule in generated(repo)["packageRules"]:
        if "postUpgradeTasks" in rule:
            filters = rule["postUpgradeTasks"]["fileFilters"]
            for glob in ("**/*.yaml", "**/*.yml", "**/Chart.lock", "infra/**/*.tftpl"):
                assert glob in filters
            assert "kubernetes/**/*.yaml" in filters
            for glob in ("**/.tool-versions", "**/mise.toml", "**/*.tf"):  # Flux CLI/Terraform
                assert glob in filters


def test_charts_of_the_repository_are_not_updated_by_renovate(tmp_path: Path) -> None:
    config = generated(make_fleet(tmp_path / "fleet"))
    (rule,) = (r for r in config["packageRules"] if r.get("enabled") is False)
    assert rule["matchDepNames"] == ["bp-catalyst-platform", "bp-flux"]  # not flux2: upstream


def test_a_repository_without_local_charts_has_no_empty_matcher(tmp_path: Path) -> None:
    repo = tmp_path / "bare"
    repo.mkdir()
    config = generated(repo)
    assert all(r.get("matchDepNames") != [] for r in config["packageRules"])
    assert not any(r.get("enabled") is False for r in config["packageRules"])


@pytest.mark.parametrize("bad", ["latest", "39.x", "", "v"])
def test_a_bad_renovate_version_is_one_line_and_exit_2(tmp_path: Path, bad: str) -> None:
    outcome = run_cli("renovate-config", "--repo", str(tmp_path), "--renovate-version", bad)
    assert outcome.code == 2 and outcome.stdout == ""
    assert "--renovate-version" in outcome.stderr and len(outcome.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda text: text.encode("utf-16"), ":1: UTF-16 text (byte-order mark)"),
        (lambda text: text.encode() + b"# caf\xe9\n", ": not UTF-8"),
    ],
    ids=["utf-16", "latin-1"],
)
def test_an_unreadable_cloud_init_template_is_named_and_the_config_still_written(
    tmp_path: Path, spoil: Callable[[str], bytes], said: str
) -> None:
    """status and check name such a template and go on; so does renovate-config (Renovate's
    regex manager reads the template as UTF-8 text: it cannot match it either)."""
    repo = make_fleet(tmp_path / "fleet")
    template = repo / fleet.CLOUDINIT
    template.write_bytes(spoil(template.read_text("utf-8")))
    outcome = run_cli("renovate-config", "--repo", str(repo))
    assert outcome.code == 0, outcome.stderr
    (warning,) = [line for line in outcome.stderr.splitlines() if fleet.CLOUDINIT in line]
    assert warning.startswith(f"warning: {fleet.CLOUDINIT}") and said in warning, warning
    config = json.loads(outcome.stdout)
    assert problems(SCHEMAS[-1], config) == []
    # Not read, so no install URL is followed: the sync follows the chart pin Renovate moved.
    (flux,) = (r for r in config["packageRules"] if r.get("groupName") == "Flux")
    assert flux["postUpgradeTasks"]["commands"] == ["fluxbump sync"]


# Flux pins of the kinds no Renovate manager reads, each as a repository writes it.
KIND_FILES = {
    "clusters/prod/flux-instance.yaml": (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
        'spec:\n  distribution:\n    registry: ghcr.io/fluxcd\n    version: "2.4.0" # exact\n'
    ),
    "infra/flux.tf": (
        'resource "flux_bootstrap_git" "this" {\n  path = "clusters/prod"\n'
        '  timeouts {\n    create = "5m"\n  }\n  version = "v2.4.0"\n}\n'
    ),
    ".github/workflows/e2e.yaml": (
        "jobs:\n  e2e:\n    steps:\n      - uses: fluxcd/flux2/action@v2.4.0 # pinned\n"
        "        with:\n          token: x\n          version: v2.4.0\n"
        "      - uses: other/action@v1\n        with:\n          version: 9.9.9\n"
    ),
    "aqua.yaml": "packages:\n  - name: helm/helm@v3.16.2\n  - name: fluxcd/flux2@v2.4.0\n",
    "clusters/prod/flux-system/flux.yaml": (
        "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n"
        "  name: flux-manifests\nspec:\n  interval: 10m\n"
        "  url: oci://ghcr.io/fluxcd/flux-manifests # Flux itself\n  ref:\n    tag: v2.4.0\n"
    ),
    "bootstrap/kustomization.yaml": (
        "resources:\n  - https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
    ),
    "scripts/bootstrap.sh": (
        "# the release this script installs\n"
        "kubectl apply -k 'github.com/fluxcd/flux2/manifests/install?ref=v2.4.0'\n"
        "kubectl apply -f https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml\n"
        "flux install --components=source-controller --version=v2.4.0 --export > f.yaml\n"
        "flux -n flux-system --verbose bootstrap github --owner=me --version v2.4.0\n"
    ),
}
KIND_MANAGERS = {  # a word of each manager's description -> the file it reads
    "FluxInstance": "clusters/prod/flux-instance.yaml",
    "flux_bootstrap_git": "infra/flux.tf",
    "fluxcd/flux2/action": ".github/workflows/e2e.yaml",
    "aqua.yaml": "aqua.yaml",
    "flux-manifests artifact": "clusters/prod/flux-system/flux.yaml",
    "install.yaml)": "bootstrap/kustomization.yaml",
    "command line": "scripts/bootstrap.sh",
}
# How many pins of the release each kind's file holds.
KIND_PINS = {"scripts/bootstrap.sh": 4}


def kinds_repo(tmp_path: Path, *, operator: bool = True) -> Path:
    """The flux-operator fixture (its charts) with a Flux pin of every kind beside it."""
    repo = tmp_path / "kinds"
    if operator:
        shutil.copytree(DATA / "operator", repo)
    for rel, text in KIND_FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    return repo


def _manager_of(config: dict[str, Any], word: str) -> dict[str, Any]:
    (manager,) = (m for m in config["customManagers"] if word in m["description"])
    found: dict[str, Any] = manager
    return found


def _py(pattern: str) -> re.Pattern[str]:
    """Renovate's ``(?<name>…)`` as Python's ``(?P<name>…)``."""
    return re.compile(pattern.replace("(?<", "(?P<"))


def test_each_flux_pin_kind_found_gets_a_manager_that_reads_it(tmp_path: Path) -> None:
    config = generated(kinds_repo(tmp_path))
    for word, rel in KIND_MANAGERS.items():
        manager = _manager_of(config, word)
        assert manager["depNameTemplate"] == "fluxcd/flux2"  # joins the Flux group by name
        assert manager["datasourceTemplate"] == "github-releases"
        assert any(
            fnmatch(rel, g) or fnmatch(f"x/{rel}", g) for g in manager["managerFilePatterns"]
        )
        patterns = manager["matchStrings"]
        values = [m["currentValue"] for p in patterns for m in _py(p).finditer(KIND_FILES[rel])]
        wanted = "2.4.0" if word == "FluxInstance" else "v2.4.0"
        assert values == [wanted] * KIND_PINS.get(rel, 1), word


@pytest.mark.parametrize("text", [
    "kind: FluxInstance\nspec:\n  distribution:\n    version: 2.x\n",  # a range: not Renovate's
    'resource "flux_bootstrap_git" "x" {\n  version = var.flux_version\n}\n',
    "      - uses: fluxcd/flux2/action@main\n      - uses: o/a@v1\n        with:\n"
    "          version: 9.9.9\n",  # another step's input
    "  url: oci://ghcr.io/fluxcd/flux-manifests\n  ref:\n    tag: v2.4.0\n"
    "    digest: sha256:0123\n",  # Flux pulls the digest, not the tag
    "  url: oci://ghcr.io/stefanprodan/manifests/podinfo\n  ref:\n    tag: v6.7.0\n",
    "resources:\n  - https://github.com/fluxcd/flux2/releases/latest/download/install.yaml\n",
    "kubectl apply -k github.com/someone/flux2/manifests/install?ref=v9.9.9\n",  # a fork
    "flux install --version=latest\n",
])  # fmt: skip
def test_the_kind_managers_leave_ranges_variables_and_other_steps_alone(
    tmp_path: Path, text: str
) -> None:
    config = generated(kinds_repo(tmp_path))
    for word in KIND_MANAGERS:
        for pattern in _manager_of(config, word)["matchStrings"]:
            assert _py(pattern).search(text) is None, word


def test_pins_naming_no_release_get_no_manager(tmp_path: Path) -> None:
    # A script applying the latest release, a kustomize remote at main and the action's
    # default: nothing for Renovate to move, so no manager that could match none of them.
    repo = tmp_path / "repo"
    files = {
        "deploy.sh": "kubectl apply -f https://github.com/fluxcd/flux2/releases/latest/download/install.yaml\n",
        "flux/kustomization.yaml": "resources:\n  - github.com/fluxcd/flux2/manifests/install?ref=main\n",
        ".github/workflows/ci.yaml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n"
        "      - uses: fluxcd/flux2/action@main\n",
        ".tool-versions": "flux2 2.4.0\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")
    init_git(repo)
    described = [m["description"] for m in generated(repo)["customManagers"]]
    assert not [d for d in described if "command line" in d or "action step" in d], described


# Lookaround and back-references: RE2, which Renovate uses when its native module is built
# (its Docker image, most npm installs), refuses them, and Renovate then rejects the whole
# config ("Repository has invalid config") and moves nothing.
NOT_RE2 = re.compile(r"\(\?<?[=!]|\\k<|\\[1-9]")


def test_every_kind_manager_is_one_re2_compiles(tmp_path: Path) -> None:
    config = generated(kinds_repo(tmp_path))
    for manager in config["customManagers"]:
        for pattern in manager["matchStrings"]:
            assert NOT_RE2.search(pattern) is None, manager["description"][:60]


def test_the_flux_manifests_tag_is_read_before_any_line_but_a_digest(tmp_path: Path) -> None:
    (pattern,) = _manager_of(generated(kinds_repo(tmp_path)), "flux-manifests")["matchStrings"]
    ref = "  url: oci://ghcr.io/fluxcd/flux-manifests\n  ref:\n    tag: v2.4.0\n"
    for after in ("", "  interval: 10m\n", "    semver: x\n", "\n"):
        assert [m["currentValue"] for m in _py(pattern).finditer(ref + after)] == ["v2.4.0"]
    assert _py(pattern).search(ref + "    digest: sha256:0123\n") is None


def test_a_repository_without_those_kinds_gets_none_of_their_parts(tmp_path: Path) -> None:
    config = generated(make_fleet(tmp_path / "fleet"))
    assert len(config["customManagers"]) == 2  # the cloud-init install URL and helm install
    assert not any(r.get("groupName") == "flux-operator" for r in config["packageRules"])


def test_operator_charts_are_grouped_and_followed_by_sync(tmp_path: Path) -> None:
    config = generated(kinds_repo(tmp_path))
    (rule,) = (r for r in config["packageRules"] if r.get("groupName") == "flux-operator")
    assert rule["postUpgradeTasks"]["commands"] == ["fluxbump sync"]
    names = rule["matchDepNames"]
    assert {"flux-operator", "flux-instance"} <= set(names)  # helmfile and helm_release deps
    (oci,) = (n for n in names if n.startswith("/"))  # the flux manager's OCIRepository dep
    matcher = _py(oci.strip("/"))
    assert matcher.search("ghcr.io/controlplaneio-fluxcd/charts/flux-instance")
    assert not matcher.search("ghcr.io/controlplaneio-fluxcd/charts/flux-operator-mcp")
    assert config["packageRules"][-1]["groupName"] == "Flux"  # still last
    # no cloud-init Flux install and no Flux chart: Flux is pinned outside charts only, and
    # sync follows whichever of those pins Renovate moved
    assert config["packageRules"][-1]["postUpgradeTasks"]["commands"] == ["fluxbump sync"]


def test_without_operator_charts_the_kind_managers_still_come(tmp_path: Path) -> None:
    config = generated(kinds_repo(tmp_path, operator=False))
    assert not any(r.get("groupName") == "flux-operator" for r in config["packageRules"])
    for word in KIND_MANAGERS:
        _manager_of(config, word)


@pytest.mark.parametrize("schema", SCHEMAS, ids=_release)
def test_the_config_with_every_kind_is_what_each_release_accepts(
    tmp_path: Path, schema: Path
) -> None:
    config = generated(kinds_repo(tmp_path), "--renovate-version", _release(schema))
    assert problems(schema, config) == []
    if int(_release(schema).split(".")[0]) < 41:
        manager = _manager_of(config, "flux_bootstrap_git")
        (pattern,) = manager["fileMatch"]
        assert re.search(pattern, "infra/flux.tf") and not re.search(pattern, "infra/flux.tfx")


def test_a_url_a_script_keeps_for_its_command_gets_the_command_manager(tmp_path: Path) -> None:
    # Its only Flux pin is ``FLUX_MANIFEST=…`` (applied later as "$FLUX_MANIFEST"): without the
    # command-line manager nothing would ever move it (there was none for such a repository).
    script = (
        'FLUX_MANIFEST="https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml"\n'
        'kubectl apply -f "$FLUX_MANIFEST"\n'
    )
    repo = write_repo(tmp_path / "repo", {"scripts/up.sh": script})
    manager = _manager_of(generated(repo), "command line")
    assert any(fnmatch("scripts/up.sh", g) for g in manager["managerFilePatterns"])
    values = [m["currentValue"] for p in manager["matchStrings"] for m in _py(p).finditer(script)]
    assert values == ["v2.4.0"]


def test_a_release_variable_a_command_line_takes_gets_a_manager_of_its_assignment(
    tmp_path: Path,
) -> None:
    # weaveworks/weave-gitops's Makefile: FLUX_VERSION=2.7.2, downloaded as
    # …/download/v$(FLUX_VERSION)/install.yaml. The pin is the assignment, which no manager
    # matched (the command-line manager reads literal releases): Renovate never moved it.
    makefile = (
        "FLUX_VERSION=2.7.2\n"
        "DOCKERARGS+=--build-arg FLUX_VERSION=$(FLUX_VERSION)\n"
        "crds:\n\tcurl -sSL https://github.com/fluxcd/flux2/releases/download/v$(FLUX_VERSION)"
        "/install.yaml \\\n\t| yq e '.' > crds.yaml\n"
    )
    script = "REF=v2.7.2\nkubectl apply -k github.com/fluxcd/flux2/manifests/install?ref=${REF}\n"
    repo = write_repo(tmp_path / "repo", {"Makefile": makefile, "hack/up.sh": script})
    config = generated(repo)
    manager = _manager_of(config, "variable a command line")
    assert manager["depNameTemplate"] == "fluxcd/flux2"
    assert manager["datasourceTemplate"] == "github-releases"
    assert sorted(manager["managerFilePatterns"]) == ["Makefile", "hack/up.sh"]
    for text, value in ((makefile, "2.7.2"), (script, "v2.7.2")):
        found = [m["currentValue"] for p in manager["matchStrings"] for m in _py(p).finditer(text)]
        assert found == [value]
    for schema in SCHEMAS:  # in the form each release accepts (fileMatch before 41)
        written = generated(repo, "--renovate-version", _release(schema))
        assert problems(schema, written) == []


def test_a_download_of_the_manifests_tarball_gets_the_command_manager(tmp_path: Path) -> None:
    script = "wget https://github.com/fluxcd/flux2/releases/download/v2.4.0/manifests.tar.gz\n"
    repo = write_repo(tmp_path / "repo", {"scripts/up.sh": script})
    manager = _manager_of(generated(repo), "command line")
    values = [m["currentValue"] for p in manager["matchStrings"] for m in _py(p).finditer(script)]
    assert values == ["v2.4.0"]


def test_renovate_39_sees_every_file_a_double_star_glob_of_the_config_reads(
    tmp_path: Path,
) -> None:
    # ``infra/**`` became ``^infra/[^/]*[^/]*$``: Renovate never read the nested template.
    repo = make_fleet(tmp_path / "fleet")
    (repo / ".fluxbump.yaml").write_text("cloudinit:\n  - infra/**\n", "utf-8")
    init_git(repo)
    config = generated(repo, "--renovate-version", "39.264.1")
    patterns = [p for m in config["customManagers"] for p in m["fileMatch"]]
    assert patterns and all(re.search(p, fleet.CLOUDINIT) for p in patterns), patterns
    assert fleet.CLOUDINIT.startswith("infra/") and fleet.CLOUDINIT.count("/") > 1
