"""The pin-site model: one place in one file that holds one version. Every command uses it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from fluxbump import versions
from fluxbump.yamlio.yamldoc import Scalar, YamlPath


class Role(StrEnum):
    """What a pinned version means in the layout (docs/ARCHITECTURE.md, "The invariants")."""

    INSTALL = "cloud-init install"
    UPSTREAM = "upstream dependency"
    MIRROR = "values mirror"
    CHART_VERSION = "chart version"
    APP_VERSION = "chart appVersion"
    BLUEPRINT = "Blueprint mirror"
    DEPENDENCY = "dependent pin"
    HELMRELEASE = "HelmRelease"
    OCI_TAG = "OCIRepository tag"
    SUBSTITUTE = "substitution variable"
    CONSTRAINT = "semver constraint"
    LOCK = "Chart.lock version"
    LOCK_DIGEST = "Chart.lock digest"
    LOCK_GENERATED = "Chart.lock generated"
    API_VERSION = "Flux apiVersion"
    API_FIELD = "Flux API field"  # a field renamed with its apiVersion (crds/renames.py)
    CLI = "Flux CLI pin"  # CI action input, .tool-versions, mise, aqua (scan/sites/fluxcli.py)
    TERRAFORM = "Terraform Flux version"  # flux_bootstrap_git (scan/sites/terraform.py)
    INSTANCE = "FluxInstance version"  # flux-operator (scan/sites/fluxinstance.py)
    BOOTSTRAP = "flux bootstrap header"  # gotk-components.yaml (scan/sites/bootstrap.py)
    KUSTOMIZE_REMOTE = "kustomize remote install"  # kustomization.yaml (sites/kustomizeremote.py)
    FLUX_MANIFESTS = "flux-manifests OCI artifact"  # OCIRepository (sites/fluxmanifests.py)
    FLUX_GIT = "fluxcd/flux2 GitRepository"  # Flux's own repository at a tag (the same module)
    TIMONI = "Timoni flux-aio module"  # a Timoni bundle's flux-aio module (scan/sites/timoni.py)
    # a Flux controller's image tag in a component vector (scan/sites/controllerimages.py):
    # the controller of a Flux release, not a release (its subject is the controller)
    CONTROLLER_IMAGE = "Flux controller image"
    # flux-operator's charts (scan/sites/operator.py); OCI_TAG, HELMRELEASE, INSTALL too
    OCI_SEMVER = "OCIRepository semver"
    # a FluxInstance's ``distribution.artifact`` at flux-operator's release (the same module)
    OPERATOR_ARTIFACT = "flux-operator-manifests artifact"
    HELMFILE = "helmfile release version"
    # a kustomization's ``helmCharts:`` entry (scan/sites/kustomizehelm.py)
    KUSTOMIZE_HELM = "kustomize helmCharts version"
    # a Sveltos ClusterProfile's or Profile's ``spec.helmCharts`` entry (scan/sites/sveltos.py)
    SVELTOS_HELM = "Sveltos helmCharts chartVersion"
    # a Cluster API HelmChartProxy's ``spec.version``, a Crossplane Helm Release's chart
    # ``version`` (scan/sites/clusteraddons.py)
    CAPI_HELM = "Cluster API HelmChartProxy version"
    CROSSPLANE_HELM = "Crossplane Release chart version"
    # a Pulumi YAML program's Helm resource (scan/sites/pulumiyaml.py)
    PULUMI_HELM = "Pulumi YAML chart version"
    TERRAFORM_HELM = "Terraform helm_release version"
    # ``helm install|upgrade … flux2 --version X`` of a script: the community chart's version
    HELM_COMMAND = "helm install version"
    # an Argo CD Application's (or ApplicationSet template's) Helm source at ``targetRevision``
    # (scan/sites/argocd.py)
    ARGO_APP = "Argo CD Application"
    # a HelmChart's ``spec.version``: k3s/RKE2's (helm.cattle.io) or Flux's own
    # (scan/sites/helmchart.py)
    HELMCHART = "HelmChart"


# The owner of a script's ``helm install`` pin (``cloudinit.script_helm_commands``), and how
# its role reads (``PinSite.label``).
SCRIPT_OWNER = "script"
SCRIPT_INSTALL = "install script"
# How the owner of a chart key a script reads the release from ends (``scan/chartkeys.py``):
# ``flux2 ($VERSION, read by yq in hack/flux-manifest.sh)``.
READ_BY = ", read by yq in "


@dataclass(frozen=True)
class PinSite:
    """A version in a file: its role, position, current value, and what it is a version of.

    ``subject`` is the chart (or release) the value versions; ``owner`` is what holds it
    (a chart, a Blueprint, a HelmRelease ``namespace/name``, the cloud-init template).
    ``doc_index`` is None for text templates, which are edited by pattern, not as YAML.
    """

    role: Role
    file: str
    line: int
    column: int
    value: str
    subject: str
    owner: str
    start: int
    end: int
    doc_index: int | None = None
    path: YamlPath = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def label(self) -> str:
        """The role as printed. A shell script's ``helm install`` is read as an install pin,
        as a cloud-init template's is, but it is no cloud-init: said so, it sent a reader
        looking for a template that does not exist. So with a chart key a script reads."""
        if self.role is Role.INSTALL and self.owner == SCRIPT_OWNER:
            return SCRIPT_INSTALL
        # A chart key a script reads its download's release from is moved as that download,
        # but it is no kustomization: said so, it sent a reader looking for one.
        if READ_BY in self.owner and self.path:
            return f"chart {self.path[-1]} read by script"
        if self.role is Role.CONTROLLER_IMAGE:  # which controller, of which releases
            return self.owner
        return self.role.value

    def moved(self, file: str, lines: int, offset: int) -> PinSite:
        """The same site in ``file``, ``lines`` lines and ``offset`` characters further on. A
        fleet's scan moves one remembered site per cluster file: copying the fields skips the
        frozen ``__init__``'s eleven ``object.__setattr__`` calls."""
        site = object.__new__(PinSite)
        values = site.__dict__
        values.update(self.__dict__)
        values["file"] = file
        values["line"] = self.line + lines
        values["start"] = self.start + offset
        values["end"] = self.end + offset
        return site

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.label,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "subject": self.subject,
            "owner": self.owner,
        }


# The value of a HelmRelease site with no version text (``unpinned``): none at all, where
# Flux installs the newest chart (the CRD's default is ``*``), a YAML null (``version:``,
# ``version: ~``: the API server drops a null before defaulting, so the same), or a
# collection, which Flux rejects. Parenthesised: no version, range or placeholder reads so.
NO_VERSION = "(none)"
NULL_VERSION = "(null)"
NOT_A_LIST = "(a list)"
NOT_A_MAPPING = "(a mapping)"
_UNPINNED = (NO_VERSION, NULL_VERSION, NOT_A_LIST, NOT_A_MAPPING)


def unpinned(site: PinSite) -> bool:
    """A HelmRelease that deploys a chart with no version text to check or edit: the survey
    makes it a problem of its component, never a pin (its empty span holds nothing)."""
    return site.start == site.end and site.value in _UNPINNED


_SITE_FIELDS = tuple(f.name for f in fields(PinSite))


def site_of(values: Sequence[Any]) -> PinSite:
    """``PinSite(*values)`` without the frozen ``__init__``'s per-field calls: a forked
    scan's sites (tens of thousands) are built again from tuples in the parent."""
    site = object.__new__(PinSite)
    site.__dict__.update(zip(_SITE_FIELDS, values, strict=True))
    return site


def yaml_site(role: Role, file: str, scalar: Scalar, *, subject: str, owner: str) -> PinSite:
    """A PinSite for a located YAML scalar."""
    return PinSite(
        role=role,
        file=file,
        line=scalar.line,
        column=scalar.column,
        value=scalar.value,
        subject=subject,
        owner=owner,
        start=scalar.start,
        end=scalar.end,
        doc_index=scalar.doc_index,
        path=scalar.path,
    )


@dataclass(frozen=True)
class Mention:
    """A comment or doc line that names a version but is not a pin (reported, never edited)."""

    file: str
    line: int
    text: str
    value: str = ""  # the version mentioned, when known

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "text": self.text, "value": self.value}


@dataclass(frozen=True)
class Violation:
    """One broken invariant: where, what is there, what must be there."""

    file: str
    line: int
    message: str
    found: str = ""
    expected: str = ""

    @property
    def where(self) -> str:
        """``file:line``; a problem of a whole file (line 0) is ``file``, of the repository
        (no file) nothing: a made-up location would send the reader to the wrong place."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_text(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file or None,
            "line": self.line or None,
            "message": self.message,
            "found": self.found,
            "expected": self.expected,
        }


class PlacedWarning(str):
    """A warning about one place in one file (a ``fluxcd/flux`` provider constraint, an
    unresolvable Terraform variable). A ``str``, printed as ``file:line: message`` like every
    other warning, so the lists that carry warnings stay lists of text; ``--json`` lists its
    parts (``warnings_json``)."""

    file: str
    line: int
    message: str

    def __new__(cls, file: str, line: int, message: str) -> PlacedWarning:
        warning = super().__new__(cls, f"{file}:{line}: {message}")
        warning.file, warning.line, warning.message = file, line, message
        return warning


def warnings_json(warnings: Iterable[str]) -> list[dict[str, Any]]:
    """The ``warnings`` of a ``--json`` document, each once: a warning about a place has its
    ``file`` and ``line``; any other has ``null`` there and its whole text as ``message``."""
    return [
        {"file": w.file, "line": w.line, "message": w.message}
        if isinstance(w, PlacedWarning)
        else {"file": None, "line": None, "message": str(w)}
        for w in dict.fromkeys(warnings)
    ]


# Which pin says the installed Flux release, most trusted first: the cluster's own (what the
# operator, the bootstrap manifests or an install URL apply), then Terraform, then the CLI.
_AUTHORITY = (
    Role.INSTANCE, Role.FLUX_MANIFESTS, Role.FLUX_GIT, Role.BOOTSTRAP, Role.KUSTOMIZE_REMOTE,
    Role.TIMONI,
    Role.TERRAFORM,
    Role.CLI,
)  # fmt: skip


def installed_pin(pins: Iterable[PinSite]) -> PinSite | None:
    """The exact pin that says which release is installed (``check`` compares the others with
    it; ``to`` refuses a move below it): the newest of the most trusted kind present. Two of
    one kind are both applied (a NixOS host applies v2.8.8's install.yaml to migrate, then
    v2.9.2's): the cluster ends on the newest, not on the first in the file."""
    trusted = installed_kind(pins)
    return max(trusted, key=lambda p: versions.sort_key(p.value)) if trusted else None


def installed_kind(pins: Iterable[PinSite]) -> list[PinSite]:
    """The exact pins of the most trusted kind present: those ``installed_pin`` chooses from."""
    exact = [p for p in pins if versions.is_pin(p.value)]
    best = min((_rank(p) for p in exact), default=None)
    return [p for p in exact if _rank(p) == best]


def _rank(pin: PinSite) -> int:
    # (another kind, a cloud-init install or a chart pin, is compared only with its own kind)
    return _AUTHORITY.index(pin.role) if pin.role in _AUTHORITY else len(_AUTHORITY)
