"""Text templates (Terraform ``*.tftpl``): install pins, found by exact patterns.

Flux's is its release URL; other upstreams are ``helm install … <repo>/<chart> --version X``.

Not YAML (``${…}``, ``%{ if }``), so it is edited as text. A match on a comment line only
*mentions* a version: it is reported, never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fluxbump.pins import NO_VERSION, SCRIPT_OWNER, Mention, PinSite, Role, unpinned
from fluxbump.scan.sources import SourceFile

_COMMENT = re.compile(r"^\s*(#|//|/\*|\*)")
# A logical shell line: physical lines joined by a trailing backslash. Lines end at CR, LF
# or CRLF: a cloud-init template is YAML (§5.4), whatever line endings it was saved with.
LOGICAL_LINE = re.compile(r"(?:[^\r\n\\]|\\(?![\r\n])|\\(?:\r\n?|\n))*")
# A template (``{{ .FLUX_VERSION }}`` of a Taskfile, ``{{ flux_version }}`` of Ansible) is
# rendered into the word it stands in, blanks and all.
COMMAND_WORD = re.compile(r"(?:\{\{[^{}\r\n]*\}\}|[^\s\\]|\\(?![\r\n]))+")
# A line that may run ``helm install|upgrade`` (``_helm_command`` decides, past global flags).
_HELM = re.compile(r"(?:^|[\s;&|/\"'(])helm\s")
_SUBCOMMAND = re.compile(r"\b(?:install|upgrade)\b")


def find_install_pins(
    source: SourceFile, pattern: str, subject: str
) -> tuple[list[PinSite], list[Mention]]:
    """Install pins (non-comment lines) and mentions (comment lines) of ``pattern``."""
    sites: list[PinSite] = []
    mentions: list[Mention] = []
    text = source.text
    line_start = line_end = -1
    for match in re.finditer(pattern, text):
        if match.start() > line_end:  # (the line is read once, however many URLs it holds)
            line = source.line_at(match.start())
            line_start, line_end = source.line_start(match.start()), source.line_end(match.end())
            line_text = text[line_start:line_end]
            commented = _COMMENT.match(line_text) is not None
        if commented:
            mentions.append(Mention(source.rel, line, line_text.strip(), match.group("version")))
            continue
        start, end = match.span("version")
        sites.append(
            PinSite(
                role=Role.INSTALL,
                file=source.rel,
                line=line,
                column=start - line_start + 1,
                value=match.group("version"),
                subject=subject,
                owner="cloud-init",
                start=start,
                end=end,
            )
        )
    return sites, mentions


def helm_install_pins(source: SourceFile) -> list[PinSite]:
    """``--version X`` / ``--version=X`` of each ``helm install|upgrade`` command, by chart."""
    return [site for site in helm_commands(source) if not unpinned(site)]


def script_helm_commands(source: SourceFile) -> list[PinSite]:
    """``helm_commands`` of a script (a Makefile, a shell script: no cloud-init template),
    each pin's owner saying so."""
    return [
        site if unpinned(site) else replace(site, owner=SCRIPT_OWNER)
        for site in helm_commands(source)
    ]


def helm_commands(source: SourceFile) -> list[PinSite]:
    """Each ``helm install|upgrade`` of a chart, in text order: its ``--version`` site, or an
    unpinned one (``pins.unpinned``) where it gives none: Helm installs the newest chart, so
    the site is at the chart's reference, owner ``helm install`` or ``helm upgrade``."""
    sites = []
    for line in LOGICAL_LINE.finditer(source.text):
        text = line.group(0)
        if "helm" not in text or text.lstrip().startswith("#") or not _HELM.search(text):
            continue
        if not _SUBCOMMAND.search(text):
            continue
        site = _install_site(source, line.start(), list(COMMAND_WORD.finditer(text)))
        if site is not None:
            sites.append(site)
    return sites


# helm install/upgrade options that take a value as the next word (``--opt=value`` is one word).
_TAKES_VALUE = frozenset(
    [
        "-f",
        "--values",
        "--set",
        "--set-string",
        "--set-file",
        "--set-json",
        "--set-literal",
        "-n",
        "--namespace",
        "--version",
        "--repo",
        "--timeout",
        "--kube-context",
        "--kubeconfig",
        "-o",
        "--output",
        "--post-renderer",
        "--post-renderer-args",
        "--description",
        "--username",
        "--password",
        "--ca-file",
        "--cert-file",
        "--key-file",
        "--keyring",
        "--registry-config",
        "--repository-config",
        "--repository-cache",
        "--name-template",
        "--labels",
        "-l",
        "--kube-apiserver",
        "--kube-as-user",
        "--kube-as-group",
        "--kube-token",
        "--kube-ca-file",
        "--kube-tls-server-name",
        "--burst-limit",
        "--qps",
        "--history-max",
    ]
)
_SHELL_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})


def _install_site(source: SourceFile, base: int, tokens: list[re.Match[str]]) -> PinSite | None:
    """The ``--version`` of a ``helm install|upgrade [NAME] CHART`` command and its chart."""
    words = [t.group(0) for t in tokens]
    command = _helm_command(words)
    if command is None:
        return None
    positional: list[int] = []  # indexes of the words that are no option
    version: int | None = None  # index of the word holding the version
    repo_option, generate_name = False, False
    i = command
    while i < len(words) and words[i] not in _SHELL_SEPARATORS:
        word = words[i]
        option = word.split("=", 1)[0]
        if word.startswith("-"):
            repo_option |= option == "--repo"
            generate_name |= option in ("--generate-name", "-g")
            if option == "--version":
                version = i if "=" in word else i + 1
            i += 2 if option in _TAKES_VALUE and "=" not in word else 1
            continue
        positional.append(i)
        i += 1
    at = positional[0 if generate_name else 1] if len(positional) > 1 - generate_name else None
    chart = _chart_name(words[at] if at is not None else None, repo_option)
    if chart is None or at is None:
        return None
    if version is None:  # the newest chart: nothing to edit, said where the chart is named
        start = base + tokens[at].start()
        site = source.text_site(Role.INSTALL, start, "", chart, f"helm {words[command - 1]}")
        return replace(site, value=NO_VERSION)
    if version >= len(words):
        return None
    start = base + tokens[version].start()
    value = words[version]
    if value.startswith("--version="):
        start, value = start + len("--version="), value.removeprefix("--version=")
    if source.text[start] in "'\"":
        start += 1
    value = value.strip("'\"")
    return source.text_site(Role.INSTALL, start, value, chart, "cloud-init")


def _helm_command(words: list[str]) -> int | None:
    """The index of the first word after ``helm install`` / ``helm upgrade``; Helm's global
    flags may come before the subcommand (``helm -n flux-system upgrade …``)."""
    for i, word in enumerate(words[:-1]):
        program = word.lstrip("\"'(").rsplit("/", 1)[-1]  # a quoted YAML item: "helm …"
        if program != "helm":
            continue
        at = _past_flags(words, i + 1)
        if at < len(words) and words[at] in ("install", "upgrade"):
            return at + 1
    return None


def _past_flags(words: list[str], at: int) -> int:
    """The index of the first word from ``at`` that is no flag nor a flag's value."""
    while at < len(words) and words[at].startswith("-"):
        takes = words[at] in _TAKES_VALUE  # (``--namespace=x`` is one word)
        at += 2 if takes else 1
    return at


def _chart_name(reference: str | None, repo_option: bool) -> str | None:
    """``repo/chart`` and ``oci://host/path/chart`` name their chart last; a bare name only
    with ``--repo``; a local path (``./chart``, ``/srv/chart``) names no upstream chart."""
    if not reference or reference.startswith((".", "/", "$")):
        return None
    reference = reference.strip("'\"")
    if "://" in reference:
        return reference.rstrip("/").rsplit("/", 1)[-1] or None
    if "/" in reference:
        return reference.rsplit("/", 1)[-1] or None
    return reference if repo_option else None
