"""Infrastructure programs (Pulumi, AWS CDK, CDKTF, cdk8s) that install Flux: named, never read.

aws-quickstart/cdk-eks-blueprints installs the community ``flux2`` chart from an AWS CDK
add-on (``chart: "flux2", version: "2.13.0"`` in ``lib/addons/fluxcd/index.ts``), and
hyperledger-labs/splice from a Pulumi program (``new k8s.helm.v3.Release('flux', {chart:
'flux2', version: '2.14.1', …})``). Such a value is code (a constant, a parameter, a default
merged with the caller's), so it is no pin-site fluxbump reads; but a bump that leaves it behind
installs the old release at the program's next deploy, and fluxbump said nothing of it. Each
line of a program naming what installs Flux (a Flux chart, Flux's or flux-operator's release
manifests, a ``FluxInstance``, the Pulumi flux provider's install) is named instead, as a warning with its file:line, for a human
to move.

Terraform is read where it installs a Flux chart through a ``helm_release`` (its ``chart``
argument, ``scan/sites/terraform.py``). A Flux chart it names in another object is no pin-site
either: danielr1996/hydrogen hands k0s's Helm extensions (``chartname =
"fluxcd-community/flux2"``, ``version = "2.13.0"``) to k0sctl from Terraform ``locals``, which
k0s installs at boot. Such a line is named the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from fluxbump.config import CONFIG_NAME
from fluxbump.errors import NotRegularFile, UsageError
from fluxbump.pins import PlacedWarning
from fluxbump.scan.sources import (
    MAX_FILE_BYTES,
    READ_LIMIT,
    SourceFile,
    lines,
    read_raw,
    source_of,
)

# The languages Pulumi and the CDKs are written in.
SUFFIXES = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".py", ".go", ".cs", ".java", ".kt")
# What each framework's imports say: ``@pulumi/kubernetes``, ``pulumi_kubernetes``,
# ``aws-cdk-lib``, ``aws_cdk``, ``github.com/aws/aws-cdk-go/awscdk``, ``cdktf``, ``cdk8s``.
_FRAMEWORKS = (
    ("Pulumi", re.compile(rb"(?i)pulumi")),
    ("CDK for Terraform", re.compile(rb"(?i)cdktf")),
    ("cdk8s", re.compile(rb"(?i)cdk8s")),
    ("AWS CDK", re.compile(rb"(?i)aws[-_]?cdk")),
)
# A chart argument naming a Flux chart, by name or OCI URL: ``chart: 'flux2'``,
# ``chart="flux2"``, ``Chart: pulumi.String("flux2")``, ``.chart("flux-operator")``.
_CHART = re.compile(
    r"""(?i)\b(?P<key>chart\w*)["']?\s*(?:[:=]\s*(?:[\w.]+\(\s*)?|\(\s*)["'`]"""
    r"""(?:[^"'`\s]*/)?(?P<what>flux2|flux-operator|flux-instance)["'`]"""
)
# Flux's and flux-operator's own release manifests, a FluxInstance the program writes, and the
# Pulumi flux provider's install (oun/pulumi-flux, a bridge of terraform-provider-flux): its
# ``getFluxInstall`` data source (``flux_install``: the manifests of its ``version``, else the
# provider's default release; squaremo/flux-plus-pulumi applies ``getFluxInstallOutput``'s
# content) and its ``FluxBootstrapGit`` resource, in each SDK's spelling, where a program calls
# them from the module (``flux.getFluxInstall(``): not where imported, nor where the provider's
# own SDK defines them.
_PROVIDER = re.compile(
    r"(?:[Gg]etFluxInstall|get_flux_install)(?:Output|_output)?|(?:New)?FluxBootstrapGit"
)
_MANIFESTS = re.compile(
    r"(?P<what>fluxcd/flux2/releases/download/|fluxcd/flux2/+manifests/install"
    r"|controlplaneio-fluxcd/flux-operator/releases/download/|ghcr\.io/fluxcd/flux-manifests"
    rf"""|(?<=["'`])FluxInstance(?=["'`])|(?<=\.)(?:{_PROVIDER.pattern})(?=\s*\())"""
)


# The project file each framework deploys from (``pulumi up``, ``cdk deploy``, ``cdktf deploy``,
# ``cdk8s synth`` read it in the program's directory or one above it).
PROJECT_FILES = frozenset({"Pulumi.yaml", "Pulumi.yml", "cdk.json", "cdktf.json", "cdk8s.yaml"})


def program_files(files: Iterable[str]) -> list[str]:
    """The files that may be programs: by their suffix, in a directory at or below one that
    holds a framework's project file, without which the framework deploys nothing. The other
    sources of a code-heavy monorepo are not read (20,000 TypeScript files cost a cold
    ``check`` 17% more CPU when every one was)."""
    listed = list(files)
    projects = {rel.rpartition("/")[0] for rel in listed if rel.rpartition("/")[2] in PROJECT_FILES}
    if not projects:
        return []
    return [rel for rel in listed if rel.endswith(SUFFIXES) and _in_project(rel, projects)]


def _in_project(rel: str, projects: set[str]) -> bool:
    directory = rel.rpartition("/")[0]
    while directory not in projects:
        if not directory:
            return False
        directory = directory.rpartition("/")[0]
    return True


def program_notes(root: Path, rel: str) -> list[PlacedWarning]:
    """A warning for each line of ``rel`` that installs Flux, when it is a program of a
    framework above; none for another file, or one that cannot be read as text."""
    source = _flux_source(root, rel)
    if source is None:
        return []
    framework = next((name for name, mark in _FRAMEWORKS if mark.search(source.raw)), None)
    if framework is None:
        return []
    return _notes(rel, source.text, f"{framework} program", terraform=False)


def terraform_notes(root: Path, rel: str) -> list[PlacedWarning]:
    """A warning for each line of a ``.tf`` file naming a Flux chart other than a
    ``helm_release``'s ``chart`` argument (a k0s extension's ``chartname``, read nowhere)."""
    source = _flux_source(root, rel) if rel.endswith(".tf") else None
    if source is None:
        return []
    return _notes(rel, source.text, "Terraform value", terraform=True)


def nix_notes(root: Path, rel: str) -> list[PlacedWarning]:
    """A warning for each line of a Nix expression that writes a FluxInstance or names a Flux
    chart: manifests Nix generates (dorn-haus/8's ``flux-instance.yaml.nix`` takes its
    ``distribution.version`` from a table of versions), read nowhere. A Nix download of the
    CLI is a pin (``sites/fluxcli.py``), not named here."""
    source = _flux_source(root, rel) if rel.endswith(".nix") else None
    if source is None:
        return []
    notes = []
    for number, line in enumerate(lines(source.text), 1):
        found = _CHART.search(line) or _NIX_INSTANCE.search(line)
        if found is not None and not line.lstrip().startswith("#"):
            notes.append(PlacedWarning(rel, number, _message("Nix expression", found["what"])))
    return notes


# A FluxInstance's kind as a Nix string (``kind = "FluxInstance";``).
_NIX_INSTANCE = re.compile(r"""(?<=["'])(?P<what>FluxInstance)(?=["'])""")


def _flux_source(root: Path, rel: str) -> SourceFile | None:
    """The file when it is text naming flux; None otherwise (too large, not text)."""
    try:
        raw = read_raw(root, rel, limit=READ_LIMIT)
        if len(raw) > MAX_FILE_BYTES or b"flux" not in raw.lower():
            return None
        return source_of(rel, raw)
    except (UsageError, NotRegularFile):  # not text: nothing of ours to name
        return None


def _notes(rel: str, text: str, kind: str, *, terraform: bool) -> list[PlacedWarning]:
    """The warnings of one file's lines (Terraform: charts only, and not a ``chart =``,
    which is a ``helm_release``'s argument, read as a pin)."""
    notes = []
    program = lines(text)
    for number, line in enumerate(program, 1):
        chart = _CHART.search(line)
        if terraform and (chart is None or chart.group("key").lower() == "chart"):
            continue
        found = chart or _MANIFESTS.search(line)
        if found is None:
            continue
        if chart is not None:  # the line a human edits: the version's, when the call has one
            number += _version_below(program[number - 1 : number + _VERSION_LINES], chart.start())
        notes.append(PlacedWarning(rel, number, _message(kind, found.group("what"))))
    return notes


# The chart's version key in the same call: ``version: '2.13.0'``, ``version="2.14.1"``, Go's
# ``Version: pulumi.String("2.12.4")`` (not ``appVersion``, nor a nested object's key).
_VERSION_KEY = re.compile(r"""^[ \t]*["']?(?:version|Version)["']?[ \t]*[:=]""")
# How far below the chart line a version is looked for (cdk-eks-blueprints: the next line).
_VERSION_LINES = 5


def _version_below(program: list[str], key: int) -> int:
    """How many lines below the chart line (``program[0]``, its chart key at ``key``) the
    chart's version key is, within the same object literal or call; 0 when there is none."""
    depth = _depth(program[0][key:])
    for below, line in enumerate(program[1:], 1):
        if depth < 0:
            return 0  # the object closed before any version
        if depth == 0 and _VERSION_KEY.match(line):
            return below
        depth += _depth(line)
    return 0


def _depth(text: str) -> int:
    """Brackets ``text`` opens less those it closes (strings are not told apart: a version
    or chart name holds none)."""
    return sum(text.count(c) for c in "{([") - sum(text.count(c) for c in "})]")


def _message(kind: str, what: str) -> str:
    return (
        f"this {kind} pins {_described(what)} here, which fluxbump does not read, "
        "check or move: move it by hand when Flux moves, or list the file under exclude: in "
        f"{CONFIG_NAME} if it does not deploy this repository's Flux"
    )


def _described(what: str) -> str:
    """What a match of ``_CHART`` or ``_MANIFESTS`` installs, in a user's words."""
    if what.lower() in ("flux2", "flux-operator", "flux-instance"):
        return f"the {what.lower()} chart"
    if what == "FluxInstance":
        return "a FluxInstance"
    if _PROVIDER.fullmatch(what):
        return f"the Flux release the flux provider's {what} installs"
    if what.startswith("controlplaneio"):
        return "flux-operator's release manifest"
    if what.startswith("ghcr"):
        return "Flux's flux-manifests artifact"
    return f"a Flux release ({what.rstrip('/')})"
