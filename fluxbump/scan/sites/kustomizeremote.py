"""Flux installed by kustomize from its own repository: a remote entry of a ``kustomization.yaml``.

A ``resources:`` (or ``components:``, or the deprecated ``bases:``) entry that points into
``fluxcd/flux2`` at a release installs that release's manifests:

* a remote kustomization directory, in kustomize's URL syntax (a git clone URL with an
  optional ``//`` before the directory, ``git::`` or ``ssh://`` forms too) and its ``ref=``
  query parameter (``version=`` when there is no ``ref=``, as kustomize reads it), e.g.
  ``github.com/fluxcd/flux2/manifests/install?ref=v2.4.0`` or
  ``https://github.com/fluxcd/flux2//manifests/install?ref=v2.4.0``;
* a release asset kustomize downloads over HTTP,
  ``https://github.com/fluxcd/flux2/releases/download/v2.4.0/install.yaml``
  (and, downloaded by ``curl``/``wget``, the release's ``manifests.tar.gz``).

The same URLs on a command line (``kubectl apply -k URL``, ``kustomize build URL``) of a
bootstrap script, a Taskfile, a Makefile or a CI step install that release too
(``find_install_commands``), as does ``flux install`` or ``flux bootstrap …`` given
``--version vX`` (a Flux CLI pin: the release the CLI installs); a comment line is not a command.

Either installs Flux (it counts as installed for the downgrade guard, as the ``flux
bootstrap`` manifests do). Only the version inside the URL is the pin: it is edited as text,
so the rest of the entry, its quotes and its comment stay as written. A branch (``ref=main``)
is not a pin: it is reported, never rewritten; nor is a ``releases/latest/download/`` asset
(``kubectl apply -f …/releases/latest/download/install.yaml`` in microsoft/kalypso's
deploy.sh): its site's value is ``latest``, shown unproven as ``ref=main`` and the action's
default are (tests/test_install_pins.py).
"""

from __future__ import annotations

import re
from typing import Any

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sites.cloudinit import COMMAND_WORD, LOGICAL_LINE
from fluxbump.scan.sources import LINE_START, SourceFile, lines_kept
from fluxbump.yamlio import blockyaml, yamldoc

SUBJECT = "Flux"
# The names kustomize reads a kustomization from.
FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# The list fields whose entries may be remote kustomizations.
_FIELDS = ("resources", "components", "bases")
_NEEDLE = b"fluxcd/flux2"
# What a release asset entry is called in its pin's owner (renovate-config tells it by this).
ASSET = "fluxcd/flux2 install.yaml asset"
# A git URL of the flux2 repository and a directory of its ``manifests/`` tree; the owner
# is matched exactly (a fork is not Flux's release).
_GIT = re.compile(
    r"^(?:git::)?(?:(?:https?|ssh)://)?(?:[^@/\s]+@)?github\.com[:/]fluxcd/flux2(?:\.git)?"
    r"/{1,2}(?P<directory>manifests(?:/[^?\s]*)?)\?(?P<query>[^\s#]+)$"
)
# A command that fetches a URL it is given: kubectl (``apply -k``/``-f``) or kustomize.
_COMMAND = re.compile(r"\b(kubectl|kustomize)\b")
# One word of a command line, without the quotes around it, nor what ends its command
# glued to it: a ``;`` (``if ! kubectl apply -f URL; then`` in microsoft/kalypso's
# cluster.sh), a ``&&``, ``|`` or redirection (``curl URL&&kubectl …``), the ``)`` closing a
# ``$(curl URL)``. A ``&`` that a query's next parameter follows (``?ref=v2.4.0&timeout=2m``,
# quoted in the shell) is part of the URL, and so is a Makefile's ``$(NAME)``.
_WORD_PART = r"(?:\$\([A-Za-z_]\w*\)|[^\s'\"`;&|()<>]|&(?=[^\s'\"`;&|()<>]))"
_WORD = re.compile(rf"{_WORD_PART}+")
# kubectl's options that take the URL in the same word.
_OPTION = re.compile(r"^(?:--kustomize=|--filename=|-[kf]=?)")
# ``flux install`` / ``flux bootstrap <provider>``, as a command (not inside a word), with
# the CLI's global flags before the subcommand (``flux -n flux-system install``, ``flux
# --kubeconfig=k bootstrap``: cobra reads persistent flags anywhere); a flag's value is the
# next word unless it is the subcommand (``--verbose install``) or another flag. A UTF-8
# byte-order mark (U+FEFF, kept in the text) may open the first line.
_GAP = r"(?:[ \t]|\\(?:\r\n?|\n))+"  # blanks, and a backslash that continues the line
_SUBCOMMAND = r"(?:install|bootstrap)\b"
_GLOBAL_FLAG = rf"{_GAP}(?!{_SUBCOMMAND})--?[A-Za-z][\w-]*(?:=[^\s;&|]*|{_GAP}(?![-\\]|{_SUBCOMMAND})[^\s;&|]+)?"
_FLUX_COMMAND = re.compile(
    rf"(?:^|[\s;&|(\ufeff])flux(?:{_GLOBAL_FLAG})*{_GAP}(install|bootstrap)\b"
)
# The owners of the pins a command line holds (renovate-config tells their kind by these).
COMMAND_OWNERS = ("kubectl ", "kustomize ", "flux install ", "flux bootstrap ")
# A comment's start: ``#`` opening a word.
COMMENT = re.compile(r"(?:^|\s)#")
# Words that end one command on a line.
_SEPARATORS = frozenset({"|", "||", "&&", ";", ">", ">>", "&"})
# Generated manifests, read by the bootstrap kind: they hold no command line.
_NOT_COMMANDS = (*FILE_NAMES, "gotk-components.yaml")
_ASSET = re.compile(
    r"^https://github\.com/fluxcd/flux2/releases/download/(?P<version>[^/\s]+)/install\.yaml$"
)
# The newest release's asset: whichever release is newest when it runs, so no pin; its
# ``latest`` is the site's value, compared with nothing and never rewritten.
_LATEST_ASSET = re.compile(
    r"^https://github\.com/fluxcd/flux2/releases/(?P<version>latest)/download/install\.yaml$"
)


def is_kustomization(rel: str) -> bool:
    """Whether kustomize reads the file at ``rel`` (a path or a glob) as a kustomization."""
    return rel.rsplit("/", 1)[-1] in FILE_NAMES


def find_kustomize_remote(source: SourceFile) -> list[PinSite]:
    """The Flux release each remote flux2 entry of a kustomization names."""
    if not is_kustomization(source.rel) or _NEEDLE not in source.raw:
        return []
    sites = []
    for root in blockyaml.compose_all(source.text, source.rel):
        if not _is_kustomization(root):
            continue
        for field in _FIELDS:
            for _, entry in yamldoc.items(yamldoc.child(root, field)):
                site = _entry_pin(source, field, entry)
                if site is not None:
                    sites.append(site)
    return sites


def find_install_commands(source: SourceFile) -> list[PinSite]:
    """The Flux release each command line fetching a flux2 URL names (a script's, a
    Taskfile's, a CI step's: the line's text is the pin, whatever format holds it)."""
    if b"flux" not in source.raw or source.rel.rsplit("/", 1)[-1] in _NOT_COMMANDS:
        return []
    sites, offset = [], 0
    for line in lines_kept(source.text):
        if "fluxcd/flux2" in line and not line.lstrip(" \t-").startswith("#"):
            command = _COMMAND.search(line)
            if command is not None:
                sites += _command_pins(source, offset, line, command.group(1))
            else:  # a URL kept for a command elsewhere: ``FLUX_MANIFEST=…``, ``wget …``
                sites += _named_urls(source, offset, line)
        offset += len(line)
    if "flux" in source.text:
        sites += _flux_cli_versions(source)
    return sorted(follow_file_variables(source, sites), key=lambda s: s.start)


# A version given as a variable of the file: ``$NAME``, ``${NAME}`` or a Makefile's ``$(NAME)``
# (after the tag's ``v``: ``v$(FLUX_VERSION)`` of ``FLUX_VERSION=2.7.2``),
# or a Jinja expression of an Ansible vars file (``{{ NAME }}``) or a Taskfile's Go template
# of its ``vars:`` (``{{.NAME}}``), set by a YAML key there. The same variable with its ``v``
# cut (make's ``$(NAME:v%=%)``, the shell's ``${NAME#v}``: a release asset's name) is it too.
_VARIABLE = re.compile(
    r"^v?(?:\$[{(]?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::v%=%|#v)?[})]?"
    r"|\{\{[ \t]*(?P<task>\.)?(?P<jinja>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\}\})$"
)
# The literal value a file gives NAME: a shell assignment (``NAME=v2.4.0``, quoted, after
# ``export``/``readonly``/``local``/``declare -x``; a Dockerfile's ``ARG``/``ENV``), its
# default (``NAME="${NAME:-v2.4.0}"``, ``: "${NAME:=v2.4.0}"``), a Makefile's (``NAME ?= v2.4.0``, ``:=``, ``=``) or a YAML
# key's (a Taskfile's ``vars:``, a workflow's ``env:``: ``NAME: v2.4.0``). A ``${NAME:-v}``
# anywhere else only substitutes the default: NAME stays unset for the next command.
_SETTER = (
    rf"(?:{LINE_START}"  # (YAML's line start: a vars file may end its lines with lone CRs)
    r"[ \t]*(?:(?:export|readonly|local|declare(?:[ \t]+-\w+)*|ARG|ENV)[ \t]+)?{name}"
    r"(?:=|[ \t]*[?:]?=[ \t]*|:[ \t]+)(?:[\"']?\$\{{{name}:?-)?|\$\{{{name}:?=)"
    r"(?P<quote>[\"']?)(?P<value>v?\d+\.\d+\.\d+[\w.+-]*)(?P=quote)"
)


def follow_file_variables(source: SourceFile, sites: list[PinSite]) -> list[PinSite]:
    """Each site whose version is a variable (``${FLUX_VERSION}``) replaced by the literal
    versions the same file assigns it, which are then the pins ``to`` moves (two commands of
    one variable share them); one the file does not set stays as it is, unproven."""
    followed: dict[int, PinSite] = {}
    for site in sites:
        name = variable_name(site.value)
        setters = _setters(source, name) if name else []
        for at, value in setters:
            reference = _reference(site.value, name)
            owner = f"{site.owner} ({reference})"
            followed.setdefault(at, source.text_site(site.role, at, value, SUBJECT, owner))
        if not setters:
            followed.setdefault(site.start, site)
    return list(followed.values())


def variable_name(value: str) -> str:
    """The variable a pin's value is (``v${FLUX_VERSION}``: ``FLUX_VERSION``), or ""."""
    variable = _VARIABLE.match(value)
    return (variable.group("name") or variable.group("jinja")) if variable is not None else ""


def _reference(value: str, name: str) -> str:
    """How a followed site names its variable in its owner: ``$NAME``, ``{{.NAME}}``, ``{{ NAME }}``."""
    if "$" in value:
        return f"${name}"
    return f"{{{{.{name}}}}}" if "{{." in value.replace(" ", "") else f"{{{{ {name} }}}}"


def _setters(source: SourceFile, name: str) -> list[tuple[int, str]]:
    """Where the file gives variable ``name`` a literal version (offset, value)."""
    pattern = re.compile(_SETTER.format(name=re.escape(name)))
    return [(m.start("value"), m.group("value")) for m in pattern.finditer(source.text)]


def _flux_cli_versions(source: SourceFile) -> list[PinSite]:
    """``--version`` of each ``flux install|bootstrap`` command (continued lines joined)."""
    sites = []
    for line in LOGICAL_LINE.finditer(source.text):
        text = line.group(0)
        command = _FLUX_COMMAND.search(text) if "flux" in text else None
        if command is None or COMMENT.search(text, 0, command.start() + 1):
            continue  # in a comment (``target: ## flux install …`` too)
        words = list(COMMAND_WORD.finditer(text, command.end()))
        for i, word in enumerate(words):
            if word.group() in _SEPARATORS or word.group().startswith(("#", ">")):
                break
            if word.group().split("=", 1)[0] != "--version":
                continue
            at = word if "=" in word.group() else (words[i + 1] if i + 1 < len(words) else None)
            if at is not None:
                sites.append(_cli_site(source, line.start(), at, command.group(1)))
            break
    return sites


def _cli_site(source: SourceFile, base: int, word: re.Match[str], command: str) -> PinSite:
    value = word.group().removeprefix("--version=")
    skip = len(word.group()) - len(value)
    quoted = value[:1] in "'\"" and len(value) > 1 and value[-1] == value[0]
    value = value[1:-1] if quoted else value
    start = base + word.start() + skip + (1 if quoted else 0)
    return source.text_site(Role.CLI, start, value, SUBJECT, f"flux {command} --version")


def _command_pins(source: SourceFile, offset: int, line: str, command: str) -> list[PinSite]:
    sites = []
    for word in _WORD.finditer(line):
        option = _OPTION.match(word.group())
        skip = option.end() if option is not None else 0
        located = _version_in(word.group()[skip:])
        if located is None:
            continue
        at, value, named = located
        start = offset + word.start() + skip + at
        owner = f"{command} {named}"
        sites.append(source.text_site(Role.KUSTOMIZE_REMOTE, start, value, SUBJECT, owner))
    return sites


# A line that keeps a URL for a command elsewhere: a variable set to it (shell, Makefile,
# Dockerfile ``ARG``/``ENV``, a YAML ``env:``/``vars:`` key), or a download tool given it.
_URL_SETTER = re.compile(
    r"^[ \t-]*(?:(?:export|readonly|local|ARG|ENV)[ \t]+)?[A-Za-z_][\w.-]*[ \t]*(?:[?:+]?=|:)"
    rf"[ \t]*[\"']?(?P<url>(?:(?!#){_WORD_PART})+)"
)
_DOWNLOAD = re.compile(r"\b(?:curl|wget)\b")
# The release's manifests as a tarball (what ``flux install`` and the Terraform provider
# embed): downloaded, it names that release as install.yaml does; kustomize cannot read it.
TARBALL = "fluxcd/flux2 manifests.tar.gz asset"
_TARBALL = re.compile(
    r"^https://github\.com/fluxcd/flux2/releases/(?:download/(?P<version>[^/\s]+)"
    r"|(?P<latest>latest)/download)/manifests\.tar\.gz$"
)


def _named_urls(source: SourceFile, offset: int, line: str) -> list[PinSite]:
    """The flux2 URLs a line keeps for a command elsewhere (``FLUX_MANIFEST=…``, then
    ``kubectl apply -f "$FLUX_MANIFEST"``) or downloads (``wget -O flux.yaml …``): a release
    asset or remote kustomization URL names one release, whatever then applies it. A URL
    only printed (``echo …``) or in a comment after them is not read."""
    words: dict[int, str] = {}
    setter = _URL_SETTER.match(line)
    if setter is not None:
        words[setter.start("url")] = setter.group("url")
    if _DOWNLOAD.search(line):  # (``X=$(curl -sL URL)`` too: the setter's value is no URL)
        comment = COMMENT.search(line)
        end = comment.start() if comment else len(line)
        words.update((w.start(), w.group()) for w in _WORD.finditer(line, 0, end))
    sites = []
    for at_word, word in words.items():
        located = _version_in(word) or _tarball_in(word)
        if located is not None:
            at, value, named = located
            start = offset + at_word + at
            sites.append(source.text_site(Role.KUSTOMIZE_REMOTE, start, value, SUBJECT, named))
    return sites


def _tarball_in(url: str) -> tuple[int, str, str] | None:
    """Where in ``url`` of the release's ``manifests.tar.gz`` the release is, and the release
    (``latest`` for the newest release's asset: a site compared with nothing, never moved)."""
    tarball = _TARBALL.match(url)
    if tarball is None:
        return None
    part = "version" if tarball.group("version") is not None else "latest"
    return tarball.start(part), tarball.group(part), TARBALL


def _is_kustomization(root: Any) -> bool:
    """A kustomize Kustomization or Component (``kind`` may be left out); a Flux
    ``Kustomization`` object saved under this name is not one."""
    kind = yamldoc.text_of(yamldoc.child(root, "kind"))
    api = yamldoc.text_of(yamldoc.child(root, "apiVersion")) or ""
    return kind in (None, "Kustomization", "Component") and "toolkit.fluxcd.io" not in api


def _entry_pin(source: SourceFile, field: str, entry: Any) -> PinSite | None:
    if not yamldoc.is_scalar(entry):
        return None
    url = str(entry.value)
    located = _version_in(url)
    if located is None:
        return None
    at, value, named = located
    raw = source.text[entry.start_mark.index : entry.end_mark.index]
    offset = raw.find(url)
    if offset < 0:
        return None  # an escaped or folded scalar: its text is not its value
    start = entry.start_mark.index + offset + at
    owner = f"kustomize {field} {named}"
    return source.text_site(Role.KUSTOMIZE_REMOTE, start, value, SUBJECT, owner)


def _version_in(url: str) -> tuple[int, str, str] | None:
    """Where in ``url`` the release is, the release, and what of flux2 the entry names."""
    asset = _ASSET.match(url) or _LATEST_ASSET.match(url)
    if asset is not None:
        return asset.start("version"), asset.group("version"), ASSET
    match = _GIT.match(url)
    if match is None:
        return None
    directory = "fluxcd/flux2/" + match.group("directory").rstrip("/")
    params: dict[str, tuple[int, str]] = {}
    at = match.start("query")
    for pair in match.group("query").split("&"):
        key, _, value = pair.partition("=")
        params.setdefault(key, (at + len(key) + 1, value))
        at += len(pair) + 1
    found = params.get("ref") or params.get("version")  # kustomize ignores version given ref
    if found is None or not found[1]:
        return None
    return found[0], found[1], directory
