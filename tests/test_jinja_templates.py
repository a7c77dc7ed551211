"""Flux pins in Jinja templates (``*.j2``): named with their file:line, never moved.

gavinmcfall/home-ops keeps onedr0p/cluster-template's makejinja templates beside the files
they rendered: ``bootstrap/templates/kubernetes/bootstrap/flux/kustomization.yaml.j2`` pins
``fluxcd/flux2/manifests/install?ref=v2.7.3`` while the rendered kustomization pins v2.9.3,
and fluxbump said nothing of it (a render would put the old release back after any bump).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.fixtures import snapshot, write_repo

KUSTOMIZATION = "kubernetes/bootstrap/flux/kustomization.yaml"
TEMPLATES = "bootstrap/templates/"
REMOTE = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - github.com/fluxcd/flux2/manifests/install?ref={ref}
"""
# makejinja's delimiters are YAML comments; an if/else leaves a key twice in the template.
MANIFESTS = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  #% if flux.fast %#
  interval: 1m
  #% else %#
  interval: 10m
  #% endif %#
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: v2.3.0
"""
INSTANCE = """\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: 2.x
    registry: ghcr.io/fluxcd
"""


def repo(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path / "repo",
        {
            KUSTOMIZATION: REMOTE.format(ref="v2.4.0"),
            f"{TEMPLATES}{KUSTOMIZATION}.j2": REMOTE.format(ref="v2.3.0"),
            f"{TEMPLATES}kubernetes/flux/config/flux.yaml.j2": MANIFESTS,
            f"{TEMPLATES}kubernetes/flux/instance.yaml.j2": INSTANCE,
            "ansible/roles/x/templates/motd.j2": "Welcome to {{ host }} (no flux here: v2.3.0)\n",
        },
    )


def template_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Jinja template" in line]


def test_each_pin_of_a_jinja_template_is_named_with_its_line(tmp_path: Path) -> None:
    status = run_cli("status", "--repo", str(repo(tmp_path)), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    named = [line.split(": this Jinja template pins ") for line in template_warnings(status.stderr)]
    assert [(where, said.split(",")[0]) for where, said in named] == [
        (f"warning: {TEMPLATES}{KUSTOMIZATION}.j2:5", "kustomize remote install v2.3.0"),
        (f"warning: {TEMPLATES}kubernetes/flux/config/flux.yaml.j2:15",
         "flux-manifests OCI artifact v2.3.0"),
    ]  # fmt: skip
    assert all(
        said.endswith("a render from it puts that release back: move it by hand, or list it "
                      "under exclude: in .fluxbump.yaml if nothing renders it")
        for _, said in named
    )  # fmt: skip
    # (the range 2.x is no release a render puts back; Jinja's if/else is no duplicate key)
    assert "appears twice" not in status.stderr
    # The rendered kustomization alone is a pin-site: the template's v2.3.0 is no violation.
    assert f"{KUSTOMIZATION}:5" in status.stdout and ".j2" not in status.stdout


def test_json_places_each_template_warning_at_its_file_and_line(tmp_path: Path) -> None:
    status = run_cli("status", "--repo", str(repo(tmp_path)), "--offline", "--json")
    assert status.code == 0, status.stdout + status.stderr
    placed = [(w["file"], w["line"]) for w in json.loads(status.stdout)["warnings"] if w["file"]]
    assert placed == [
        (f"{TEMPLATES}{KUSTOMIZATION}.j2", 5),
        (f"{TEMPLATES}kubernetes/flux/config/flux.yaml.j2", 15),
    ]


def test_a_bump_moves_the_rendered_file_and_names_the_template_left(tmp_path: Path) -> None:
    root = repo(tmp_path)
    before = snapshot(root)
    moved = run_cli("to", "2.5.1", "--repo", str(root), "--offline", "--no-git")
    assert moved.code == 0, moved.stdout + moved.stderr
    after = snapshot(root)
    assert after[KUSTOMIZATION] == REMOTE.format(ref="v2.5.1").encode()
    assert {rel: text for rel, text in after.items() if rel != KUSTOMIZATION} == {
        rel: text for rel, text in before.items() if rel != KUSTOMIZATION
    }
    assert len(template_warnings(moved.stderr)) == 2, moved.stderr


def test_excluded_templates_are_not_named(tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / ".fluxbump.yaml").write_text(f'exclude: ["{TEMPLATES}**"]\n', "utf-8")
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert template_warnings(status.stderr) == []


# Plain Jinja (Ansible, copier): a statement or comment on a line of its own is no YAML.
STATEMENTS = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{% if flux_bootstrap | default(true) %}
  - github.com/fluxcd/flux2/manifests/install?ref=v2.3.0
{%- endif %}
  {# the CRDs come with it #}
"""


def test_a_template_with_jinja_statement_lines_is_read_around_them(tmp_path: Path) -> None:
    template = f"roles/flux/templates/{KUSTOMIZATION}.j2"
    root = write_repo(
        tmp_path / "repo",
        {KUSTOMIZATION: REMOTE.format(ref="v2.4.0"), template: STATEMENTS},
    )
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    named = [line.split(": this Jinja template pins ") for line in template_warnings(status.stderr)]
    assert [(where, said.split(",")[0]) for where, said in named] == [
        (f"warning: {template}:6", "kustomize remote install v2.3.0")
    ]


@pytest.mark.parametrize("ending", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_a_template_with_other_line_endings_is_read_around_its_statements(
    tmp_path: Path, ending: str
) -> None:
    # (with lone CRs a statement line's '.*' ran over every line to the last '%}': the whole
    # template was emptied as one statement line, and its pin went unnamed; Jinja's lexer ends
    # a line at CR too)
    template = f"roles/flux/templates/{KUSTOMIZATION}.j2"
    wrapped = "{% if flux %}\n" + STATEMENTS + "{% endif %}\n"  # (all of it, to '.*' over CRs)
    files = {KUSTOMIZATION: REMOTE.format(ref="v2.4.0"), template: wrapped}
    root = write_repo(tmp_path / "repo", {k: v.replace("\n", ending) for k, v in files.items()})
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    named = [line.split(": this Jinja template pins ") for line in template_warnings(status.stderr)]
    assert [(where, said.split(",")[0]) for where, said in named] == [
        (f"warning: {template}:7", "kustomize remote install v2.3.0")
    ]


def test_a_copier_template_is_named_by_its_jinja_suffix(tmp_path: Path) -> None:
    template = f"template/{KUSTOMIZATION}.jinja"
    root = write_repo(
        tmp_path / "repo",
        {KUSTOMIZATION: REMOTE.format(ref="v2.4.0"), template: REMOTE.format(ref="v2.3.0")},
    )
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert [line.split(": this")[0] for line in template_warnings(status.stderr)] == [
        f"warning: {template}:5"
    ]


# An inline expression ({{ cluster }}-flux) leaves no YAML even with its statement lines
# emptied; a filter's output (to_nice_yaml) is no YAML until rendered, whatever is emptied.
INLINE = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
metadata:
  name: {{ cluster }}-flux
resources:
  - github.com/fluxcd/flux2/manifests/install?ref=v2.3.0
"""
FILTERED = """\
resources:
{{ extra_resources | to_nice_yaml | indent(2) }}
  - github.com/fluxcd/flux2/manifests/install?ref=v2.3.0
"""


def test_a_template_that_is_no_yaml_is_still_named_when_it_names_flux(tmp_path: Path) -> None:
    """Both were skipped in silence: the parse failed, and a template's failure pins nothing.
    Inline Jinja is emptied too and the template read again; one still unread is named at
    its first line that names a Flux release."""
    inline, filtered = (f"roles/{name}/templates/{KUSTOMIZATION}.j2" for name in ("a", "b"))
    root = write_repo(
        tmp_path / "repo",
        {KUSTOMIZATION: REMOTE.format(ref="v2.4.0"), inline: INLINE, filtered: FILTERED},
    )
    status = run_cli("status", "--repo", str(root), "--offline")
    assert status.code == 0, status.stdout + status.stderr
    assert template_warnings(status.stderr) == [
        f"warning: {inline}:7: this Jinja template pins kustomize remote install v2.3.0, which "
        "fluxbump does not check or move, and a render from it puts that release back: move it "
        "by hand, or list it under exclude: in .fluxbump.yaml if nothing renders it",
        f"warning: {filtered}:3: this Jinja template names Flux v2.3.0 here, but is no YAML with "
        "its Jinja emptied (could not find expected ':'), so fluxbump cannot tell what "
        "it pins, nor check or move it: check it by hand when Flux moves, or list it under "
        "exclude: in .fluxbump.yaml if nothing renders it",
    ]
