"""Flux's install script (``fluxcd.io/install.sh``): the release each run of it installs.

The script installs the release its environment's ``FLUX_VERSION`` names (it fetches
``tags/v${FLUX_VERSION}``: the release without its "v"), else the latest. That variable reaches
a run three ways, each read here:

* set on the run's own command: piped (``curl -s https://fluxcd.io/install.sh |
  FLUX_VERSION=2.4.0 bash``, as fluxcd.io/flux/cmd documents; after ``sudo`` or ``env`` too),
  or on the run of a copy saved first (``curl … > ~/bin/install-flux2.sh``, then
  ``FLUX_VERSION=$1 ~/bin/install-flux2.sh``: SovereignCloudStack/k8s-cluster-api-provider's
  ``install_flux.sh``; ``bash /tmp/install.sh``; the copy found by its file name);
* exported earlier (``export FLUX_VERSION=2.4.0``, a Dockerfile's ``ENV``, a workflow's
  ``env:`` key), unless ``sudo`` runs it without keeping the environment (``-E``);
* a variable of the file (``FLUX_VERSION=${VERSION}``), followed to the literal it is given.

A literal is a pin ``to`` moves; a value this file does not spell (``$1``) is shown at its
line, unproven; a run given nothing is ``latest``, shown at the script's URL. None is
skipped in silence: each installs a CLI that talks to the cluster.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from fluxbump.pins import PinSite, Role
from fluxbump.scan.sites.kustomizeremote import COMMENT, follow_file_variables
from fluxbump.scan.sources import SourceFile

SUBJECT = "Flux"
# A release as a literal or a variable of the file (shell; Makefile, whose ``$${…}`` is a
# shell one; Jinja): what a download URL's tag or ``FLUX_VERSION=`` may hold.
RELEASE = r"(?:\{\{[^{}\n]*\}\}|\$\$?\{[^{}\s]*\}|\$\([^()\s]*\)|\$[A-Za-z_]\w*|\d[\dA-Za-z.+-]*)"
# raw.githubusercontent.com's copy of ``install/flux.sh`` is the same script.
_SCRIPT_URL = r"(?:fluxcd\.io/install\.sh|fluxcd/flux2/[^/\s]+/install/flux\.sh)"
NAME = re.compile(_SCRIPT_URL.encode())
_PIPED = re.compile(
    rf"{_SCRIPT_URL}[^|\n]*\|[ \t]*"
    r"(?:sudo(?:[ \t]+-[A-Za-z]+)*[ \t]+)?(?:env[ \t]+)?(?:[A-Za-z_]\w*=\S*[ \t]+)*"
    rf"FLUX_VERSION=(?P<quote>[\"']?)(?P<version>{RELEASE})(?P=quote)(?=[\s;&|]|$)",
    re.MULTILINE,
)
INSTALL_SCRIPT = "fluxcd.io/install.sh"
LATEST_SCRIPT = f"{INSTALL_SCRIPT} (no FLUX_VERSION: the latest release)"
_SCRIPT_USE = re.compile(_SCRIPT_URL)
_GIVEN = re.compile(r"\bFLUX_VERSION=(?P<quote>[\"']?)(?P<version>[^\s\"';&|]+)")
# What ends one command on a line (the words of the run are those after it).
_SEPARATOR = re.compile(r"&&|\|\||[;|&(]")
# A run's words before the script's path: a Dockerfile's ``RUN``, a YAML list item or step
# key, a shell keyword, ``sudo``/``env`` and their flags, assignments, the shell reading it.
_PREFIX_WORDS = frozenset(
    {"RUN", "-", "run:", "script:", "command:", "then", "do", "else", "exec", "time", "nohup",
     "sudo", "env", "bash", "sh", "zsh", "dash", "ksh", "source", "."}
)  # fmt: skip
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=\S*")
# Where a fetch of the script writes it: a redirect, curl's ``-o``/``--output``, wget's
# ``-O``/``--output-document`` (``-`` is stdout: a pipe), or the URL's own file name (curl's
# ``-O``/``--remote-name``, wget's default).
_REDIRECT = re.compile(r"(?<![\d&>])>>?[ \t]*(?P<path>[^\s;&|()<>]+)")
_CURL_OUTPUT = re.compile(r"(?:(?<=\s)-[A-Za-z]*o[ \t]*|--output[ \t=]+)(?P<path>[^\s;&|()]+)")
_CURL_REMOTE = re.compile(r"(?<=\s)(?:-[A-Za-z]*O(?![\w-])|--remote-name(?![\w-]))")
_WGET_OUTPUT = re.compile(
    r"(?:(?<=\s)-[A-Za-z]*O[ \t]*|--output-document[ \t=]+)(?P<path>[^\s;&|()]+)"
)
_FETCHER = re.compile(r"(?<![\w./-])(?P<tool>curl|wget)(?![\w-])")
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
# An exported ``FLUX_VERSION``: the environment of every later command (a plain assignment is
# the shell's own: a child does not see it).
_EXPORTED = re.compile(
    r"^[ \t]*(?:export|declare[ \t]+-\w*x\w*|ENV)[ \t]+FLUX_VERSION[= ][ \t]*"
    r"(?P<quote>[\"']?)(?P<version>[^\s\"';&|]+)(?P=quote)",
    re.MULTILINE,
)
# A YAML ``env:`` key (a workflow's, a GitLab job's ``variables:``): exported to its commands.
_ENV_KEY = re.compile(
    r"^[ \t]*FLUX_VERSION:[ \t]+(?P<quote>[\"']?)(?P<version>[^\s\"'#]+)(?P=quote)",
    re.MULTILINE,
)


def install_script_pins(source: SourceFile) -> list[PinSite]:
    """The release each run of Flux's install script is given, outside comments."""
    sites = []
    for match in _PIPED.finditer(source.text):
        if COMMENT.search(source.line_before(match.start())) is None:
            sites.append(_site(source, match.start("version"), match.group("version")))
    read = {source.line_at(site.start) for site in sites}
    return follow_file_variables(source, sites + _other_runs(source, read))


def _other_runs(source: SourceFile, read: set[int]) -> list[PinSite]:
    """The release of each fetch of the script outside comments on a line none of ``read``
    is: of its pipe to a shell, else of the runs of the copy it saves."""
    sites = []
    text = source.text
    for match in _SCRIPT_USE.finditer(text):
        at = source.line_at(match.start())
        if at in read or COMMENT.search(source.line_before(match.start())) is not None:
            continue
        read.add(at)
        start, end = _command_span(text, match.start(), match.end())
        if _pipe_runner(text, end):
            sites += _given(source, (end + 1, _line_end(text, end)), match.start())
            continue
        saved = _saved_as(text[start:end], match.group())
        runs = _runs_of(source, saved, end) if saved else []
        sites += [site for run, first in runs for site in _given(source, run, first)]
        if not runs:  # (a copy run elsewhere; an ``echo`` of the URL)
            sites += _given(source, (match.end(), _line_end(text, match.end())), match.start())
    return sites


def _given(source: SourceFile, run: tuple[int, int], at: int) -> list[PinSite]:
    """What one run (its words at ``run``: start, end) is given: its own ``FLUX_VERSION``,
    else the exported one, else ``latest`` (shown at ``at``: nothing to splice)."""
    given = _GIVEN.search(source.text, *run)
    if given is not None:
        return [_site(source, given.start("version"), given.group("version"))]
    words = source.text[run[0] : run[1]].split()
    keeps = "sudo" not in words or any(w in ("-E", "--preserve-env") for w in words)
    exported = _exported(source, run[0]) if keeps else []
    if exported:
        return exported
    site = source.text_site(Role.CLI, at, "latest", SUBJECT, LATEST_SCRIPT)
    return [replace(site, end=site.start)]


def _exported(source: SourceFile, before: int) -> list[PinSite]:
    """The ``FLUX_VERSION`` exported before offset ``before`` (a YAML file's ``env:`` key
    wherever it is: a step's ``env:`` may follow its ``run:``)."""
    found = [m for m in _EXPORTED.finditer(source.text, 0, before)]
    if source.rel.endswith((".yaml", ".yml")):
        found += list(_ENV_KEY.finditer(source.text))
    owner = f"{INSTALL_SCRIPT} (exported FLUX_VERSION)"
    return [
        source.text_site(Role.CLI, m.start("version"), m.group("version"), SUBJECT, owner)
        for m in sorted(found, key=lambda m: m.start())
    ]


def _command_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The command holding ``start``..``end`` on its line: from the separator before it to
    the one after (a pipe's ``|`` is where its end is)."""
    line_start = text.rfind("\n", 0, start) + 1
    before = [m.end() for m in _SEPARATOR.finditer(text, line_start, start)]
    after = _SEPARATOR.search(text, end, _line_end(text, end))
    return (before[-1] if before else line_start), (
        after.start() if after is not None else _line_end(text, end)
    )


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return end if end >= 0 else len(text)


def _pipe_runner(text: str, end: int) -> bool:
    """Whether the command ending at ``end`` pipes into a shell (``| sudo -E bash -s``)."""
    if text[end : end + 1] != "|" or text[end : end + 2] == "||":
        return False
    words = text[end + 1 : _line_end(text, end)].split()
    return any(word in _SHELLS for word in words[: _first_other(words) + 1])


def _first_other(words: list[str]) -> int:
    """The index of the first word no run may start with (``len(words)`` when none is)."""
    return next(
        (i for i, w in enumerate(words) if not _prefix_word(w)),
        len(words),
    )


def _prefix_word(word: str) -> bool:
    return word in _PREFIX_WORDS or word.startswith("-") or bool(_ASSIGNMENT.fullmatch(word))


def _saved_as(command: str, url: str) -> str:
    """The file name a fetch of the script writes it to ("" when it writes to stdout)."""
    redirect = _REDIRECT.search(command)
    if redirect is not None:
        return posixpath.basename(redirect.group("path").strip("\"'"))
    fetcher = _FETCHER.search(command)
    tool = fetcher.group("tool") if fetcher is not None else ""
    output = {"curl": _CURL_OUTPUT, "wget": _WGET_OUTPUT}.get(tool)
    named = output.search(command) if output is not None else None
    if named is not None:
        path = named.group("path").strip("\"'")
        return "" if path == "-" else posixpath.basename(path)
    if tool == "wget" or (tool == "curl" and _CURL_REMOTE.search(command)):
        return posixpath.basename(url)
    return ""


def _runs_of(source: SourceFile, name: str, after: int) -> list[tuple[tuple[int, int], int]]:
    """Each run of the saved copy ``name`` after offset ``after``, outside comments: the
    span of its words up to its path (its own assignments, its runner) and its first word."""
    runs = []
    text = source.text
    word = re.compile(
        rf"(?<![^\s;&|(])[\"']?(?:[^\s;&|()\"']*/)?{re.escape(name)}(?=[\s;&|)\"']|$)"
    )
    for match in word.finditer(text, after):
        if COMMENT.search(text, source.line_start(match.start()), match.start() + 1):
            continue
        start, _ = _command_span(text, match.start(), match.end())
        words = text[start : match.start()]
        if _first_other(words.split()) == len(words.split()):  # (``chmod +x …`` runs none)
            runs.append(((start, match.start()), start + len(words) - len(words.lstrip())))
    return runs


def _site(source: SourceFile, start: int, value: str) -> PinSite:
    return source.text_site(Role.CLI, start, value, SUBJECT, INSTALL_SCRIPT)
