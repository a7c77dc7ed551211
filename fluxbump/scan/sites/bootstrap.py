"""``flux bootstrap`` system manifests: the ``# Flux Version: vX.Y.Z`` header of
``gotk-components.yaml``, which ``flux install --export`` writes above the manifests of that
release; and the same output kept whole under another name (syntasso/kratix applies its
``hack/destination/gitops-tk-install.yaml``, a workflow's ``flux install --export``, to its
worker clusters; redeux/flux2install's ``flux.yaml`` of Flux 0.9.0), known by its header and
the Deployment of each component the header lists: a piece of the output split into files
(redeux/flux2install's ``generated/``) starts with the same lines, but regenerating it whole
would add every other object to it.

The header is a pin of the Flux release (``check`` reports one that disagrees), but the file
is generated: moving it means regenerating every manifest under it, not editing the header.
``install_flags`` reads back the ``flux install`` options that produced the file (the header
holds only the version and the components; the rest is visible in the manifests), so that
``write/regenerate.py`` can run the target release's ``flux install --export`` with them.
"""

from __future__ import annotations

import re

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sources import LINE_END, LINE_START, SourceFile, lines

# ``Flux version`` before Flux 0.22 (fluxcd/flux2 923a588), ``Flux Version`` since.
_HEADER = re.compile(rf"{LINE_START}# Flux [Vv]ersion: (?P<version>\S+)[ \t]*{LINE_END}")
_COMPONENTS = re.compile(rf"{LINE_START}# Components: (?P<list>\S+)")
# The byte test run on every cluster file (``may_hold_bootstrap_header``): the header as
# each release wrote it.
NEEDED = (b"# Flux Version: ", b"# Flux version: ")
# flux bootstrap writes the header in the file's first lines; later matches are not it.
_HEAD_BYTES = 1024


def may_hold_bootstrap_header(raw: bytes) -> bool:
    """Whether a file of any name may be ``flux install --export``'s output."""
    head = raw[:_HEAD_BYTES]
    return NEEDED[0] in head or NEEDED[1] in head


def find_bootstrap_header(source: SourceFile) -> list[PinSite]:
    """The header's version, when the file is a ``gotk-components.yaml`` that has one, or a
    file of another name that ``flux install --export`` wrote."""
    named = source.rel.endswith("gotk-components.yaml")
    if not named and not _whole_export(source.text):
        return []
    match = _HEADER.search(source.text, 0, _HEAD_BYTES)
    if match is None:
        return []
    start, value = match.start("version"), match.group("version")
    components = _COMPONENTS.search(source.text, 0, _HEAD_BYTES)
    owner = f"flux bootstrap ({components.group('list')})" if components else "flux bootstrap"
    return [source.text_site(Role.BOOTSTRAP, start, value, "Flux", owner)]


def _whole_export(text: str) -> bool:
    """Whether a file of another name is ``flux install --export``'s whole output: its header
    (``flux install`` before Flux 0.22 wrote no line above it), and a Deployment of each
    component the header lists."""
    if _HEADER.search(text, 0, _HEAD_BYTES) is None:
        return False
    deployed = {m.group("name") for m in _DEPLOYMENT.finditer(text)}
    listed = components_of(text)
    return bool(listed) and deployed.issuperset(listed)


# A Deployment and its ``metadata.name`` (the first two-space ``name:`` after its kind).
_DEPLOYMENT = re.compile(rf"{LINE_START}kind: Deployment\s(?:[^\n]*\n)*?  name: (?P<name>\S+)")


# What ``flux install`` writes for each option (fluxcd/flux2 pkg/manifestgen/install): the
# defaults are those of ``install.MakeDefaultOptions``; an option at its default is not passed.
_NAMESPACE = re.compile(rf"{LINE_START}\s+app\.kubernetes\.io/instance: [\"']?(?P<value>[^\s\"']+)")
_REGISTRY = LINE_START + r"\s+image: [\"']?(?P<value>\S+)/%s:"
_LOG_LEVEL = re.compile(r"--log-level=(?P<value>[A-Za-z]+)")
_DOMAIN = re.compile(r"--events-addr=http://notification-controller\.\S+?\.svc\.(?P<value>\S+?)\./")
_PULL_SECRET = re.compile(
    rf"{LINE_START}\s+imagePullSecrets:\s*[\r\n]\s+- name: [\"']?(?P<value>[^\s\"']+)"
)
_TOLERATIONS = re.compile(rf"{LINE_START}(?P<indent>[ \t]+)tolerations:[ \t]*(?:\r\n?|\n)")
_NETWORK_POLICY = re.compile(rf"{LINE_START}kind: NetworkPolicy")
_TOLERATION_KEY = re.compile(r"^\s+-?\s*key: [\"']?(?P<value>[^\s\"']+)")


def components_of(text: str) -> list[str]:
    """The ``# Components:`` list of the header."""
    match = _COMPONENTS.search(text, 0, _HEAD_BYTES)
    return match.group("list").split(",") if match else []


def install_flags(text: str) -> list[str]:
    """The ``flux install`` flags that reproduce a generated ``gotk-components.yaml``."""
    components = components_of(text)
    flags = [f"--components={','.join(components)}"] if components else []
    namespace = _first(_NAMESPACE, text)
    if namespace not in (None, "flux-system"):
        flags.append(f"--namespace={namespace}")
    registry = (
        _first(re.compile(_REGISTRY % re.escape(components[0])), text) if components else None
    )
    if registry not in (None, "ghcr.io/fluxcd"):
        flags.append(f"--registry={registry}")
    if _NETWORK_POLICY.search(text) is None:
        flags.append("--network-policy=false")
    if "--watch-all-namespaces=false" in text:
        flags.append("--watch-all-namespaces=false")
    level = _first(_LOG_LEVEL, text)
    if level not in (None, "info"):
        flags.append(f"--log-level={level}")
    domain = _first(_DOMAIN, text)
    if domain not in (None, "cluster.local"):
        flags.append(f"--cluster-domain={domain}")
    secret = _first(_PULL_SECRET, text)
    if secret is not None:
        flags.append(f"--image-pull-secret={secret}")
    keys = _toleration_keys(text)
    if keys:
        flags.append(f"--toleration-keys={','.join(keys)}")
    return flags


# ``flux install`` writes each controller's image as a literal reference (under
# ``--registry``'s path, at the controller's tag). Any other value was written after it: a Go
# template placeholder gardener/gardener-landscape-kit's generator puts there
# (``{{ .resources.sourceController.ociImage.ref }}``), a ``${VAR}``; the CLI's output drops it.
_IMAGE = re.compile(rf"{LINE_START}[ \t]+image:[ \t]*(?P<value>[^\s#][^\r\n]*?)[ \t]*{LINE_END}")
_REFERENCE = re.compile(r"[\w.-]+(?::\d+)?(?:/[\w.-]+)+(?::[\w.+-]+)?(?:@sha256:[0-9a-f]{64})?")


def foreign_image(text: str) -> tuple[int, str] | None:
    """The offset and value of the first ``image:`` of generated manifests that is not an
    image reference, as ``flux install --export`` never writes one; None when there is none."""
    for match in _IMAGE.finditer(text):
        if _REFERENCE.fullmatch(match.group("value")) is None:
            return match.start("value"), match.group("value")
    return None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group("value") if match else None


def _toleration_keys(text: str) -> list[str]:
    """The keys of the first Deployment's ``tolerations`` (every controller gets the same)."""
    block = _TOLERATIONS.search(text)
    if block is None:
        return []
    keys, depth = [], len(block.group("indent"))
    for line in lines(text[block.end() :]):
        stripped = line.lstrip(" ")
        if not stripped.strip() or (
            len(line) - len(stripped) <= depth and not stripped.startswith("- ")
        ):
            break
        key = _TOLERATION_KEY.match(line)
        if key is not None:
            keys.append(key.group("value"))
    return keys
