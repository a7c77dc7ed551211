"""The Flux CLI a repository's automation installs: CI steps and tool-version files.

* GitHub Actions: the ``version:`` input of a ``uses: fluxcd/flux2/action@…`` step.
* asdf ``.tool-versions``: a ``flux2 2.4.0`` line.
* mise (``mise.toml``, ``.mise.toml``, ``mise.*.toml``): ``flux2 = "2.4.0"`` or the same
  tool by backend (``"aqua:fluxcd/flux2"``, ``"github:fluxcd/flux2"``, ``"ubi:fluxcd/flux2"``,
  ``"asdf:tablexi/asdf-flux2"``) under ``[tools]``, its value a string or a table's ``version``
  (``{ version = "…" }``, ``flux2.version = "…"`` or a ``[tools.flux2]`` table).
* aqua (``aqua.yaml``): a ``- name: fluxcd/flux2@v2.4.0`` package.
* A Dev Container's ``devcontainer.json``: a Flux CLI feature's ``version`` (``devcontainer.py``).
* The CLI's container image (``ghcr.io/fluxcd/flux-cli:v2.4.0``) in a Dockerfile or any such
  file, its tag a pin (a Dockerfile ``ARG`` it names followed; with a digest, not a pin).
* A download of the CLI's release asset in any such file (a script's ``curl``, an Ansible
  role's vars, a Makefile): ``…/fluxcd/flux2/releases/download/v2.4.0/flux_2.4.0_linux_amd64.tar.gz``
  holds the release twice (tag and asset name), each a pin; a variable there (``${FLUX_VERSION}``,
  ``{{ flux_cli_ver }}``) is the literal the same file gives it, else shown unproven; the
  asset's literal file name elsewhere in that file (``tar -xzf flux_2.4.0_…``) is one more.
* Flux's install script given a release (``curl -s https://fluxcd.io/install.sh |
  FLUX_VERSION=2.4.0 bash``; a saved copy's run, an exported variable: ``installscript.py``).

Each names a Flux release (the CLI the automation runs against the cluster), so each must
equal the release the repository installs. A ``latest`` or a partial version is not a pin:
it is reported, never rewritten. Text formats are edited as text (``doc_index`` None).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from fluxbump.errors import UsageError
from fluxbump.pins import PinSite, PlacedWarning, Role, yaml_site
from fluxbump.scan.sites import devcontainer, shellheredoc
from fluxbump.scan.sites.installscript import NAME as _SCRIPT_NAME
from fluxbump.scan.sites.installscript import RELEASE, install_script_pins
from fluxbump.scan.sites.kustomizeremote import (
    ASSET,
    COMMENT,
    TARBALL,
    follow_file_variables,
    variable_name,
)
from fluxbump.scan.sources import SourceFile, lines
from fluxbump.yamlio import blockyaml, yamldoc

SUBJECT = "Flux"
_ACTION = "fluxcd/flux2/action"
# ``flux2 2.4.0`` (asdf allows several versions on one line: the first is the one in use).
# Each line pattern admits the byte-order mark a Windows editor puts before line 1 (the text
# keeps it, as U+FEFF) and the CR a CRLF line ends with.
_TOOL_VERSIONS = re.compile(r"^\ufeff?[ \t]*flux2[ \t]+(?P<version>[^\s#]+)", re.MULTILINE)
# A mise ``[tools]`` entry; the key may be bare or quoted, the value a string or an inline table.
# The names that select the Flux CLI: mise's registry entry ``flux2`` (registry/flux2.toml:
# backends ``aqua:fluxcd/flux2`` and ``asdf:tablexi/asdf-flux2``, no alias) and mise's generic
# GitHub-release backends ``github:`` and ``ubi:`` (deprecated) of the ``fluxcd/flux2``
# repository, whose releases hold the CLI.
_MISE_TOOL = r"(?:flux2|(?:aqua:|github:|ubi:)?fluxcd/flux2|asdf:tablexi/asdf-flux2)"
_MISE_KEY = rf"(?:flux2|\"{_MISE_TOOL}\"|'{_MISE_TOOL}')"
_MISE_ENTRY = re.compile(
    rf"^\ufeff?[ \t]*{_MISE_KEY}[ \t]*=[ \t]*(?:\{{[^}}\n]*?\bversion[ \t]*=[ \t]*)?"
    r"(?P<quote>[\"'])(?P<version>[^\"'\n]+)(?P=quote)",
    re.MULTILINE,
)
_TABLE = re.compile(r"^\ufeff?[ \t]*\[(?P<name>[^\]\n]+)\][ \t]*(?:#.*)?\r?$", re.MULTILINE)
# The same entry as its own table (``[tools."github:fluxcd/flux2"]`` then ``version = "…"``)
# or as a dotted key under ``[tools]`` (``flux2.version = "…"``): TOML reads all three alike.
_MISE_TOOL_TABLE = re.compile(rf"tools[ \t]*\.[ \t]*{_MISE_KEY}")
_VERSION = r"(?:version|\"version\"|'version')[ \t]*=[ \t]*(?P<quote>[\"'])(?P<version>[^\"'\n]+)(?P=quote)"
_MISE_VERSION = re.compile(rf"^\ufeff?[ \t]*{_VERSION}", re.MULTILINE)
_MISE_DOTTED = re.compile(rf"^\ufeff?[ \t]*{_MISE_KEY}[ \t]*\.[ \t]*{_VERSION}", re.MULTILINE)
_AQUA_PACKAGE = "fluxcd/flux2@"
# A GitHub action's metadata file: a composite action's steps install tools as a workflow's do.
ACTION_FILES = ("action.yml", "action.yaml")
_RELEASES = "github.com/fluxcd/flux2/releases/download/"
# The release in a download URL of the CLI's asset, as a literal or a variable of the file
# (``installscript.RELEASE``). The asset's name
# (``flux_<release>_…``) tells it from install.yaml; a name that is itself a Jinja variable
# (``{{ flux_cli_archive_name }}``, azimuth-cloud's) is taken for the CLI's, the asset a
# role downloads (the release is the pin either way).
_RELEASE = RELEASE
_ASSET = re.compile(
    rf"{re.escape(_RELEASES)}v?(?P<tag>{_RELEASE})/(?:flux_(?P<name>{_RELEASE})_|\{{\{{)"
)
DOWNLOAD = "fluxcd/flux2 CLI download"
# The same asset's file name elsewhere in a file that downloads it (``wget …/v2.0.0/
# flux_2.0.0_linux_arm64.tar.gz`` then ``tar -zxvf flux_2.0.0_linux_arm64.tar.gz``, as
# giolekva/pcloud's core/installer/Dockerfile.flux has it; a checksums file's name too): the
# release again, moved with the URL, else the unpacking names a file no longer fetched.
_ASSET_NAME = re.compile(
    r"(?<![\w.-])flux_(?P<name>\d[\dA-Za-z.+-]*)_[^\s\"'/]*?\.(?:tar\.gz|zip|txt)(?![\w.])"
)
NAMED = f"{DOWNLOAD}, asset file name"
# Any asset of a release (the CLI's, install.yaml, manifests.tar.gz).
_RELEASE_ASSET = re.compile(rf"{re.escape(_RELEASES)}v?{_RELEASE}/")
# The release's CRD schemas (what kubeconform validates the manifests against in CI): a
# download names the release the manifests are checked for, as the CLI's does.
_SCHEMAS = re.compile(rf"{re.escape(_RELEASES)}v?(?P<tag>{_RELEASE})/crd-schemas\.tar\.gz")
SCHEMAS = "fluxcd/flux2 CRD schemas download"
# What installs whichever release is newest when it runs, so no pin: the newest release's
# CRD schemas (``…/releases/latest/download/crd-schemas.tar.gz``) and a CLI found by asking
# GitHub's API for the newest release (``curl -sL https://api.github.com/repos/fluxcd/flux2/
# releases/latest | jq … | xargs curl``, weaveworks/eksctl's build/docker/Dockerfile:44).
# Each is a site of value ``latest``, shown unproven and named by check and to
# (``gate/floating.py``), never moved.
_LATEST = "fluxcd/flux2/releases/latest"
_LATEST_DOWNLOADS = (
    (re.compile(r"github\.com/fluxcd/flux2/releases/latest/download/crd-schemas\.tar\.gz"), SCHEMAS),
    (re.compile(r"api\.github\.com/repos/fluxcd/flux2/releases/latest(?![\w/-])"),
     "fluxcd/flux2 releases/latest (GitHub API)"),
)  # fmt: skip


# The CLI's container image at a tag (Docker Hub's ``fluxcd/flux-cli``, ``ghcr.io``'s, a
# mirror's path ending so): a tag, a variable of the file (a Dockerfile ``ARG``, after the
# tag's ``v``: weave-gitops's ``flux-cli:v$FLUX_VERSION``; Flux's post-build substitution,
# ``${FLUX_VERSION:=v2.4.0}``), or a tag with the digest that
# decides the image (shown as a whole: not a pin to move).
_IMAGE_NAME = "fluxcd/flux-cli:"
_IMAGE = re.compile(
    r"(?<![\w./-])(?:[\w.-]+(?::\d+)?/)*fluxcd/flux-cli:"
    r"(?P<tag>v?\$\{[A-Za-z_]\w*(?::?[-=][\w.+-]*)?\}|v?\$[A-Za-z_]\w*"
    r"|[\w.+-]+(?:@sha256:[0-9a-f]{64})?)"
)
# The same image as Helm values give one: a mapping whose ``repository`` (after a
# ``registry:`` or not) or ``image`` (the flux2 chart's ``cli.image``) is the CLI's, untagged,
# and whose ``tag`` is the pin; a ``digest`` beside it decides the image (no pin).
_REPOSITORY = re.compile(r"(?:[\w.-]+(?::\d+)?/)*fluxcd/flux-cli")
_REPOSITORY_KEYS = ("repository", "image")
# A Dockerfile ``ARG NAME=<image>`` (the image reference kept for a ``FROM``).
_IMAGE_ARG = re.compile(r"^[ \t]*ARG[ \t]+(?P<name>[A-Za-z_]\w*)=")
IMAGE = "fluxcd/flux-cli image"


def find_cli_pins(source: SourceFile) -> list[PinSite]:
    """The Flux CLI pins of one file: its kind's (told by its name), its downloads, its
    install script's release and its images."""
    return _kind_pins(source) + find_written_cli_pins(source)


# What ``may_hold_written_cli_pin`` needs one of: the downloads and the image name hold the
# first, the install script's URLs one of the two.
NEEDED = (b"fluxcd/flux", b"fluxcd.io/install.sh")


def may_hold_written_cli_pin(raw: bytes) -> bool:
    """The byte test run on every cluster file (``find_written_cli_pins``)."""
    return (
        _RELEASES.encode() in raw
        or _LATEST.encode() in raw
        or _IMAGE_NAME[:-1].encode() in raw  # (with its tag, or a tag beside it)
        or bool(_SCRIPT_NAME.search(raw))
    )


def find_written_cli_pins(source: SourceFile) -> list[PinSite]:
    """The CLI pins a file of any kind may hold: its downloads of the CLI, its install
    script's release and its images. A Kubernetes Job running ``flux bootstrap`` in the CLI's
    image, a CronJob running ``flux reconcile``, a CloudFormation or cloud-init YAML whose
    commands install the CLI: each is the release that CLI is, as in a script or Dockerfile."""
    pins: list[PinSite] = []
    if _RELEASES.encode() in source.raw:
        pins += _download_pins(source)
    if _LATEST.encode() in source.raw:
        pins += _latest_downloads(source)
    if _SCRIPT_NAME.search(source.raw):
        pins += install_script_pins(source)
    if _IMAGE_NAME.encode() in source.raw:
        pins += _image_pins(source)
    if _IMAGE_NAME[:-1].encode() in source.raw and source.rel.endswith((".yaml", ".yml")):
        pins += _image_value_pins(source)
    if _IMAGE_NAME[:-1].encode() in source.raw and source.rel.endswith(shellheredoc.SCRIPTS):
        pins += _heredoc_image_value_pins(source)
    return sorted(pins, key=lambda site: site.start)  # (in the file's order, whatever the kind)


def _image_value_pins(source: SourceFile) -> list[PinSite]:
    """The ``tag`` beside each untagged reference to the CLI's image in a YAML mapping (Helm
    values: ``image: {repository: ghcr.io/fluxcd/flux-cli, tag: v2.4.0}``)."""
    try:
        documents = blockyaml.compose_all(source.text, source.rel)
    except UsageError:  # not YAML: its image references are read as text (``_image_pins``)
        return []
    sites = []
    for index, root in enumerate(documents):
        for path, mapping in yamldoc.mappings(root):
            names = (yamldoc.text_of(yamldoc.child(mapping, key)) for key in _REPOSITORY_KEYS)
            if not any(name and _REPOSITORY.fullmatch(name) for name in names):
                continue
            if yamldoc.text_of(yamldoc.child(mapping, "digest")):
                continue  # pulled by its digest: the tag decides nothing
            tag = yamldoc.located(yamldoc.child(mapping, "tag"), index, (*path, "tag"))
            if tag is not None and tag.value:
                sites.append(yaml_site(Role.CLI, source.rel, tag, subject=SUBJECT, owner=IMAGE))
    return sorted(sites, key=lambda site: site.start)


def _heredoc_image_value_pins(source: SourceFile) -> list[PinSite]:
    """The same tags in the YAML a shell script writes in a heredoc (the flux2 chart's
    values it installs with: ``cat > values.yaml <<EOF``, ``cli: {image: …, tag: v2.2.0}``)."""
    return [
        shellheredoc.placed(source, offset, site)
        for offset, body, _ in shellheredoc.yaml_bodies(source)
        for site in _image_value_pins(body)
    ]


def _image_pins(source: SourceFile) -> list[PinSite]:
    """The tag of each reference to the CLI's image outside comments (a Dockerfile's
    ``FROM``, a CI job's ``container:``, a ``docker run``): the release that CLI is."""
    sites: list[PinSite] = []
    by_digest: list[PinSite] = []
    for match in _IMAGE.finditer(source.text):
        line = source.line_before(match.start())
        if COMMENT.search(line) is None:
            site = _text_site(source, match.start("tag"), match.group("tag"), IMAGE)
            (by_digest if _pulled_by_digest(source.text, line) else sites).append(site)
    return by_digest + follow_file_variables(source, sites)


def _pulled_by_digest(text: str, line: str) -> bool:
    """Whether ``line`` (up to the image) is an ``ARG`` a ``FROM $NAME@sha256:…`` takes: the
    digest decides the image, so the ARG's tag (or the version it names) pins nothing."""
    arg = _IMAGE_ARG.match(line)
    if arg is None:
        return False
    name = re.escape(arg.group("name"))
    return re.search(rf"\$(?:{name}|\{{{name}\}})@sha256:", text) is not None


def _kind_pins(source: SourceFile) -> list[PinSite]:
    name = source.rel.rsplit("/", 1)[-1]
    if name == ".tool-versions":
        source.refuse_lone_cr("asdf or mise")  # (each splits it at LF, a CR kept in the line)
        return _text_pins(source, _TOOL_VERSIONS, ".tool-versions")
    if name.endswith(".toml") and "mise" in source.rel:
        source.refuse_lone_cr("TOML")  # (TOML 1.0: "Newline means LF or CRLF")
        return _mise_pins(source)
    if name.endswith((".yaml", ".yml")) and "/workflows/" in f"/{source.rel}":
        return _action_pins(source) if _ACTION.encode() in source.raw else []
    if name in ACTION_FILES:
        return _composite_pins(source) if _ACTION.encode() in source.raw else []
    if name.endswith((".yaml", ".yml")) and _AQUA_PACKAGE.encode() in source.raw:
        return _aqua_pins(source)
    if name in devcontainer.FILE_NAMES:
        return devcontainer.find_devcontainer_pins(source)
    return []


def _download_pins(source: SourceFile) -> list[PinSite]:
    """The release each download of the CLI's asset (or of the release's CRD schemas) names,
    outside comments (a commented URL documents a release, it fetches none)."""
    sites = []
    for match in _ASSET.finditer(source.text):
        line = source.line_before(match.start())
        if COMMENT.search(line) is not None:
            continue
        tag, name = match.group("tag"), match.group("name")
        # one variable read twice is one reference (a literal is edited in both places),
        # also when the asset's name cuts its ``v`` (``flux_$(FLUX_CLI_VERSION:v%=%)_…``)
        once = name is None or (variable_name(name) or None) == variable_name(tag)
        parts = ("tag",) if once else ("tag", "name")
        for part in parts:
            sites.append(_text_site(source, match.start(part), match.group(part), DOWNLOAD))
    sites += _asset_names(source, sites)
    for match in _SCHEMAS.finditer(source.text):
        if COMMENT.search(source.line_before(match.start())) is None:
            sites.append(_text_site(source, match.start("tag"), match.group("tag"), SCHEMAS))
    return follow_file_variables(source, sites)


def _asset_names(source: SourceFile, downloads: Sequence[PinSite]) -> list[PinSite]:
    """The release each other literal name of the CLI's asset spells outside comments, in a
    file with a download of it (``downloads``)."""
    if not downloads:
        return []
    taken = {site.start for site in downloads}
    sites = []
    for match in _ASSET_NAME.finditer(source.text):
        if match.start("name") in taken or COMMENT.search(source.line_before(match.start())):
            continue
        sites.append(_text_site(source, match.start("name"), match.group("name"), NAMED))
    return sites


def _latest_downloads(source: SourceFile) -> list[PinSite]:
    """A ``latest`` site at each download of the newest release (``_LATEST_DOWNLOADS``)
    outside comments: nothing to splice."""
    sites = []
    for pattern, owner in _LATEST_DOWNLOADS:
        for match in pattern.finditer(source.text):
            if COMMENT.search(source.line_before(match.start())) is None:
                site = _text_site(source, match.start(), "latest", owner)
                sites.append(replace(site, end=site.start))
    return sites


# A sha256 digest (hex), alone or after ``sha256:``: what a download is verified against.
_DIGEST = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")


MISE_OWNER = "mise [tools]"
# A mise lock's entry of the Flux CLI (``[[tools."aqua:fluxcd/flux2"]]``, ``[[tools.flux2]]``)
# and the ``version`` line of its body (up to the next table).
_LOCK_ENTRY = re.compile(
    rf"^\[\[tools\.(?:\"(?P<quoted>{_MISE_TOOL})\"|(?P<bare>flux2))\]\][ \t]*\r?$"
    r"(?:\n(?!\[)[^\n]*)*?\nversion[ \t]*=[ \t]*\"(?P<version>[^\"\n]+)\"",
    re.MULTILINE,
)


def left_behind(
    edits: Sequence[tuple[PinSite, str]], read: Callable[[str], SourceFile | None]
) -> list[PlacedWarning]:
    """What a move of Flux CLI pins (``edits``: site, new value) leaves at the old release
    and fluxbump cannot rewrite: the sha256 digests beside a download, and the ``mise.lock``
    entry of a mise pin (``read``: a file of the repository, None when there is none)."""
    warnings: list[PlacedWarning] = []
    digests = {(s.file, _downloaded(s.owner)): (s.value, new) for s, new in edits}
    for (rel, asset), (old, release) in sorted(digests.items()):
        source = read(rel) if asset else None
        warnings += stale_digests(source, old, release, asset) if source is not None else []
    mise = {site.file: new for site, new in edits if site.owner == MISE_OWNER}
    for rel, release in sorted(mise.items()):
        lock = read(_lock_of(rel))
        warnings += stale_locks(lock, release, _declared(read(rel))) if lock is not None else []
    return warnings


# The other release assets (the install manifests, the CRD schemas kubeconform checks
# against), by the owner of a pin that downloads one.
_MANIFEST_ASSETS = {
    ASSET: "install.yaml",
    TARBALL: "manifests.tar.gz",
    SCHEMAS: "crd-schemas.tar.gz",
}


def _downloaded(owner: str) -> str:
    """The release asset a pin of ``owner`` downloads ("" when none): the CLI's, the
    install manifests' or the CRD schemas', whose digest beside the download is as stale
    once moved."""
    if owner.startswith(DOWNLOAD):
        return "CLI"
    return next((name for asset, name in _MANIFEST_ASSETS.items() if asset in owner), "")


def _declared(config: SourceFile | None) -> frozenset[str] | None:
    """The Flux CLI tool names a mise config's ``[tools]`` declares: mise keys its lock's
    entries by those names, so an entry of another name (left from a config that named the
    tool otherwise, which ``mise lock`` prunes) is read for no tool. None: not TOML."""
    try:
        tools = tomllib.loads(config.text).get("tools") if config is not None else None
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(tools, dict):
        return None
    return frozenset(name for name in tools if re.fullmatch(_MISE_TOOL, name))


def _lock_of(config: str) -> str:
    """The lock mise keeps beside a config: ``mise.toml`` and ``.mise.toml`` -> ``mise.lock``,
    ``mise.ci.toml`` -> ``mise.ci.lock``."""
    directory, _, name = config.rpartition("/")
    lock = name.removeprefix(".").removesuffix(".toml") + ".lock"
    return f"{directory}/{lock}" if directory else lock


def stale_locks(
    lock: SourceFile, release: str, tools: frozenset[str] | None
) -> list[PlacedWarning]:
    """A warning at each Flux CLI entry of a mise lock (of one of ``tools``, the names its
    config declares, when known) that holds another version than ``release``: ``mise install
    --locked`` refuses the config's version until it is relocked (fluxbump does not write it:
    its URLs and checksums are of every platform's asset)."""
    warnings = []
    for entry in _LOCK_ENTRY.finditer(lock.text):
        tool = entry.group("quoted") or entry.group("bare")
        if entry.group("version").removeprefix("v") == release.removeprefix("v"):
            continue
        if tools is not None and tool not in tools:
            continue
        message = (
            f"mise locks {tool} at {entry.group('version')}, its config now pins {release}: "
            f"run 'mise lock {tool}' ('mise install --locked' refuses it until then)"
        )
        warnings.append(PlacedWarning(lock.rel, lock.line_at(entry.start()), message))
    return warnings


def stale_digests(
    source: SourceFile, old: str, release: str, asset: str = "CLI"
) -> list[PlacedWarning]:
    """A warning for each line of a file whose download of ``asset`` (the CLI's, or
    ``install.yaml``) moves from ``old`` to ``release`` that holds a sha256 digest of Flux's
    (the line names flux, or the old release as a table of digests by version does) outside a
    comment: it is the old asset's (get_url, ``sha256sum -c`` would refuse the new one), and
    fluxbump moves versions, it does not fetch digests. A digest of another tool in the same
    file is not named."""
    warnings = []
    fetched = _nix_fetch_lines(source) if source.rel.endswith(".nix") else set()
    for number, line in enumerate(lines(source.text), start=1):
        digest = (_NIX_HASH if number in fetched else _DIGEST).search(line)
        if digest is None or COMMENT.search(line, 0, digest.start()) is not None:
            continue
        if number in fetched or "flux" in line.lower() or old.removeprefix("v") in line:
            message = (
                f"a sha256 digest beside the Flux {asset} download moved to {release} is still "
                f"the old asset's: {_digest_fix(release, asset, number in fetched, digest.group())}"
            )
            warnings.append(PlacedWarning(source.rel, number, message))
    return warnings


def _digest_fix(release: str, asset: str, fetched: bool, digest: str) -> str:
    """How to get the new asset's digest in the form the line holds."""
    listed = f"flux_{release.removeprefix('v')}_checksums.txt lists"
    if fetched and not _HEX.fullmatch(digest):
        # checksums.txt lists hex; a Nix SRI or base32 hash is that digest in another form
        of = f" (the digest {listed}, in this form)" if asset == "CLI" else ""
        return "replace it with the hash 'nix store prefetch-file URL' prints" + of
    if asset == "CLI":
        return f"replace it with the one {listed}"
    return f"replace it with the sha256 of {release}'s {asset}"


_HEX = re.compile(r"[0-9A-Fa-f]{64}")
# A Nix fetcher's hash: SRI (``sha256-<base64>``), hex, or Nix's own base32.
_NIX_HASH = re.compile(
    r"sha256-[A-Za-z0-9+/]{43}=|(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{64}|[0-9a-df-np-sv-z]{52})(?![0-9A-Za-z])"
)


def _nix_fetch_lines(source: SourceFile) -> set[int]:
    """The lines of each ``{ … }`` attribute set (a ``fetchurl``'s) holding a download URL of
    a release asset: its hash has a line of its own there, naming neither flux nor the release."""
    rows = lines(source.text)
    found: set[int] = set()
    for match in _RELEASE_ASSET.finditer(source.text):
        at = source.line_at(match.start()) - 1
        first = next((i for i in range(at, -1, -1) if rows[i].rstrip().endswith("{")), at)
        last = next((i for i in range(at, len(rows)) if rows[i].lstrip().startswith("}")), at)
        found.update(range(first + 1, last + 2))
    return found


def _text_pins(source: SourceFile, pattern: re.Pattern[str], owner: str) -> list[PinSite]:
    sites = []
    for match in pattern.finditer(source.text):
        sites.append(_text_site(source, match.start("version"), match.group("version"), owner))
    return sites


def _text_site(source: SourceFile, start: int, value: str, owner: str) -> PinSite:
    return source.text_site(Role.CLI, start, value, SUBJECT, owner)


def _mise_pins(source: SourceFile) -> list[PinSite]:
    """Entries of the ``[tools]`` table only (``[env]`` or ``[tasks]`` may name flux2 too),
    and the ``version`` of a ``[tools.flux2]`` table."""
    tables = [(m.start(), m.group("name").strip()) for m in _TABLE.finditer(source.text)]

    def table_of(match: re.Match[str]) -> str:
        return next((n for at, n in reversed(tables) if at < match.start()), "")

    found = [
        *(m for m in (*_MISE_ENTRY.finditer(source.text), *_MISE_DOTTED.finditer(source.text))
          if table_of(m) == "tools"),
        *(m for m in _MISE_VERSION.finditer(source.text)
          if _MISE_TOOL_TABLE.fullmatch(table_of(m))),
    ]  # fmt: skip
    return [
        _text_site(source, m.start("version"), m.group("version"), MISE_OWNER)
        for m in sorted(found, key=lambda m: m.start())
    ]


def _action_pins(source: SourceFile) -> list[PinSite]:
    """``with.version`` of each step that uses the Flux action, in every job; a version of
    ``${{ env.NAME }}`` is the literal ``env:`` that sets NAME for that step (the step's own,
    else its job's, else the workflow's: GitHub's order), or stays itself (unproven) when none
    does. One ``env:`` value several steps read is one pin."""
    found = []
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        for job_name in yamldoc.keys(yamldoc.child(root, "jobs")):
            steps: yamldoc.YamlPath = ("jobs", job_name, "steps")
            for i, scalar, owner in _flux_steps(root, index, steps, f"{_ACTION} ({job_name})"):
                scopes = ((*steps, i), ("jobs", job_name), ())
                found.append(_followed(root, index, scalar, owner, scopes, inputs=False))
    return _step_sites(source, found)


def _composite_pins(source: SourceFile) -> list[PinSite]:
    """The same steps in a composite action (an ``action.yml``'s ``runs.steps``, such as
    ``.github/actions/setup/action.yml``, which workflows call): ``${{ env.NAME }}`` is the
    step's own ``env:`` (an action has no other), and ``${{ inputs.NAME }}`` the literal
    ``default`` of that input, the release the action installs when a caller gives none."""
    found = []
    action = source.rel.rpartition("/")[0] or "."
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        steps: yamldoc.YamlPath = ("runs", "steps")
        for i, scalar, owner in _flux_steps(root, index, steps, f"{_ACTION} ({action})"):
            found.append(_followed(root, index, scalar, owner, ((*steps, i),), inputs=True))
    return _step_sites(source, found)


def _step_sites(source: SourceFile, found: list[tuple[yamldoc.Scalar, str]]) -> list[PinSite]:
    """The Flux action steps' versions as pins in text order, each scalar once: one ``env:``
    value (or input default) several steps read is one pin, owned as the first step says."""
    sites: dict[int, PinSite] = {}
    for scalar, owner in found:
        sites.setdefault(scalar.start, yaml_site(Role.CLI, source.rel, scalar,
                                                 subject=SUBJECT, owner=owner))  # fmt: skip
    return [sites[start] for start in sorted(sites)]


def _flux_steps(
    root: object, index: int, steps: yamldoc.YamlPath, owner: str
) -> Iterator[tuple[int, yamldoc.Scalar, str]]:
    """Each step of ``steps`` that uses the Flux action: its position, its ``with.version``
    (none: the action's default, at its ``uses:``) and the owner that says which."""
    for i, step in yamldoc.items(yamldoc.walk(root, steps)):
        uses = yamldoc.text_of(yamldoc.child(step, "uses")) or ""
        if uses.split("@", 1)[0] != _ACTION:
            continue
        scalar = yamldoc.scalar_at(root, index, (*steps, i, "with", "version"))
        if scalar is None or not scalar.value:
            yield i, _latest(root, index, (*steps, i)), f"{owner} {_DEFAULT}"
        else:
            yield i, scalar, owner


def _followed(
    root: object,
    index: int,
    scalar: yamldoc.Scalar,
    owner: str,
    scopes: Sequence[yamldoc.YamlPath],
    *,
    inputs: bool,
) -> tuple[yamldoc.Scalar, str]:
    """The literal a version written as ``${{ env.NAME }}`` (or, in a composite action,
    ``${{ inputs.NAME }}``) takes in this file, with an owner that says how; else as written."""
    env = _ENV_REFERENCE.fullmatch(scalar.value)
    if env is not None:
        setter = _env_setter(root, index, scopes, env["name"])
        return (scalar, owner) if setter is None else (setter, f"{owner} via env.{env['name']}")
    given = _INPUT_REFERENCE.fullmatch(scalar.value) if inputs else None
    default = _literal(root, index, ("inputs", given["name"], "default")) if given else None
    if given is None or default is None:
        return scalar, owner
    return default, f"{owner} via inputs.{given['name']} default"


# The action's own default (its action.yml: "defaults to latest stable release"), whatever
# release the action's ref is: shown at the step's ``uses:``, unproven, never edited.
_DEFAULT = "(no version: the latest release)"


def _latest(root: object, index: int, step: yamldoc.YamlPath) -> yamldoc.Scalar:
    uses = yamldoc.scalar_at(root, index, (*step, "uses"))
    assert uses is not None  # (the step was found by it)
    return replace(uses, value="latest", end=uses.start)  # nothing to splice


# ``${{ env.NAME }}``, the whole input: the one expression whose value a workflow file sets.
_ENV_REFERENCE = re.compile(r"\$\{\{\s*env\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# ``${{ inputs.NAME }}`` in a composite action: its ``inputs.NAME.default`` in the same file.
_INPUT_REFERENCE = re.compile(r"\$\{\{\s*inputs\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")


def _env_setter(
    root: object, index: int, scopes: Sequence[yamldoc.YamlPath], name: str
) -> yamldoc.Scalar | None:
    """The literal ``env:`` value of NAME a step sees (of ``scopes``, nearest first: step,
    job, workflow); None when none sets it or the nearest is empty or itself an expression."""
    for prefix in scopes:
        holder = yamldoc.walk(root, (*prefix, "env"))
        if holder is not None and name in yamldoc.keys(holder):
            return _literal(root, index, (*prefix, "env", name))
    return None


def _literal(root: object, index: int, path: yamldoc.YamlPath) -> yamldoc.Scalar | None:
    """The scalar at ``path`` when it is a literal; None when absent, empty, null or itself
    an expression (unproven)."""
    scalar = yamldoc.scalar_at(root, index, path)
    literal = scalar is not None and scalar.value and "${{" not in scalar.value
    return scalar if literal else None


def _aqua_pins(source: SourceFile) -> list[PinSite]:
    """``packages[].name: fluxcd/flux2@vX.Y.Z``: only the version after ``@`` is the pin."""
    sites = []
    for index, root in enumerate(blockyaml.compose_all(source.text, source.rel)):
        for _, package in yamldoc.items(yamldoc.child(root, "packages")):
            scalar = yamldoc.scalar_at(package, index, ("name",))
            if scalar is None or not scalar.value.startswith(_AQUA_PACKAGE):
                continue
            value = scalar.value[len(_AQUA_PACKAGE) :]
            raw = source.text[scalar.start : scalar.end]
            at = raw.find("@")
            if at < 0 or raw[at + 1 : at + 1 + len(value)] != value:
                continue  # an escaped or folded scalar: its text is not its value
            start = scalar.start + at + 1
            sites.append(_text_site(source, start, value, "aqua"))
    return sites
