"""Terraform ``templatefile()``: the Flux release a cloud-init template takes from a variable.

A template whose install URL reads ``…/download/v${flux_version}/install.yaml`` installs what
the ``templatefile("${path.module}/<template>", { flux_version = "2.4.0" })`` calls of the
repository's ``.tf`` files pass it (Terraform renders ``${NAME}`` from that object). Each
literal is the template's install pin, edited as text like the URL would be: the site spans
the characters between its quotes, ``v`` or not as written there (the URL adds its own
prefix: ``v${x}`` with ``"2.4.0"`` installs v2.4.0). ``NAME = var.X`` is followed to the
literals that set X (``terraform.follow_variables``). Anything this cannot read to one
literal — an expression, a call passing no NAME, no call at all — is a problem naming
file:line, never a guess.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from operator import itemgetter
from typing import NamedTuple

from fluxbump import versions
from fluxbump.pins import PinSite, Role, Violation
from fluxbump.scan.sites.terraform import (
    STRING_LITERAL,
    comments,
    follow_variables,
    followed_variable,
    object_entries,
    setters_like,
    string_end,
)
from fluxbump.scan.sources import SourceFile

_COMMENT = re.compile(r"[ \t]*(?:#|//|/\*|\*)")  # matched at a line's start
# The rest of the URL word before and after a match (for messages), at most _URL_SHOWN
# characters either side: the words of a long line are not walked once per match.
_URL_STOPS = " \t\r\f\v'\""
_URL_END = re.compile(r"[^\s'\"]*")
_URL_SHOWN = 1000


@dataclass(frozen=True)
class TemplateVariable:
    """A template line whose install URL takes the release from variable ``name``."""

    template: str
    line: int
    url: str  # the URL as written, for messages
    name: str
    prefix: str | None  # "v" when the URL writes ``v${NAME}``; None: no URL (a chart version)


def template_variables(source: SourceFile, pattern: str) -> list[TemplateVariable]:
    """The install URLs of one template (not on comment lines) whose release is a variable."""
    text, found, line_start, line = source.text, [], 0, 0
    for match in re.finditer(pattern, text):
        at = source.line_at(match.start())
        if at != line:  # (each line's start found once: many URLs on one line stay linear)
            line, line_start = at, source.line_start(match.start())
        if _COMMENT.match(text, line_start):
            continue
        floor = max(line_start, match.start() - _URL_SHOWN)
        start = max(floor, *(text.rfind(stop, floor, match.start()) + 1 for stop in _URL_STOPS))
        after = _URL_END.match(text, match.end(), match.end() + _URL_SHOWN)
        url = text[start : after.end() if after else match.end()]
        found.append(TemplateVariable(source.rel, line, url, match["name"], match["prefix"]))
    return found


class Followed(NamedTuple):
    """The install pins a template's variable is set to, and what could not be followed."""

    sites: list[PinSite]
    problems: list[Violation]


@dataclass(frozen=True)
class _Call:
    """One ``templatefile(PATH, VARS)`` call of a ``.tf`` file."""

    file: str
    line: int
    path: str  # as written: a quoted string, or an expression (``format(…)``)
    template: str | None  # the repository path it renders; None: not resolvable here
    entries: list[tuple[int, str]] | None  # VARS' entries; None: VARS is not an object


def follow_templates(
    variables: Sequence[TemplateVariable],
    files: Sequence[str],
    read: Callable[[str], SourceFile],
    real: Callable[[str], str | None],
    subject: str,
) -> Followed:
    """The literals the ``templatefile()`` calls in ``files`` (the ``.tf`` ones) pass each
    template variable, as install pins of ``subject``, and a problem for each that is not one.
    ``real``: a repository path with its symlinks resolved (None: it leaves the repository)."""
    calls = [c for rel in files if rel.endswith(".tf") for c in _calls(read(rel))]
    real = cache(real)  # (each call's path is compared with every template)
    sites: dict[tuple[str, int], PinSite] = {}
    problems: list[Violation] = []
    for variable in _by_real_path(variables, real):
        rendering = [c for c in calls if _renders(c, variable.template, real)]
        if not rendering:
            problems += _unrendered(variable, calls)
        for call in rendering:
            found = _passed(call, variable, read(call.file), subject, files, read)
            sites.update(((s.file, s.start), s) for s in found.sites)
            problems += found.problems
    return Followed(list(sites.values()), problems)


# A value that is one template variable and nothing else (``${flux_chart}``).
_ONE_VARIABLE = re.compile(r"\$\{[ \t]*(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\}")


def follow_written(
    site: PinSite,
    files: Sequence[str],
    read: Callable[[str], SourceFile],
    real: Callable[[str], str | None],
) -> list[PinSite]:
    """A HelmChart version a template writes as one variable (``version: ${flux_chart}``,
    ``writefiles``): the literals its ``templatefile()`` calls pass, as HelmChart pins there
    (``to`` edits them as text). Anything not followed to literals alone (an expression, a
    call passing none, no call) leaves the site as written: unproven, never guessed."""
    name = one_variable(site.value)
    if name is None:
        return [site]
    variable = TemplateVariable(site.file, site.line, site.value, name, None)
    followed = follow_templates([variable], files, read, real, site.subject)
    if followed.problems or not followed.sites:
        return [site]
    return [
        replace(s, role=Role.HELMCHART, owner=f"{site.owner} from {s.owner}")
        for s in followed.sites
    ]


def one_variable(value: str) -> str | None:
    """The variable a value is, alone (``${flux_chart}``: ``flux_chart``), else None."""
    match = _ONE_VARIABLE.fullmatch(value)
    return match["name"] if match is not None else None


def is_passed_chart(site: PinSite) -> bool:
    """A HelmChart pin ``follow_written`` made: a template writes the HelmChart, a ``.tf``
    file's ``templatefile()`` call passes its version, or a ``.tfvars`` value of the variable
    it passes (no HelmChart is read from a Terraform file)."""
    return site.role is Role.HELMCHART and site.file.endswith((".tf", ".tfvars"))


_CALL = re.compile(r"\btemplatefile[ \t]*\(\s*")
# Space and comments between parts of a call.
_GAP = r"(?:\s|#[^\n]*|//[^\n]*|/\*.*?\*/)*"
# After the path, the comma and the ``{`` of an object (group 1) if it comes next.
_OBJECT_NEXT = re.compile(rf"{_GAP},{_GAP}(\{{)?", re.DOTALL)
_ROOTS = re.compile(r"\A\$\{[ \t]*path\.(?:module|root|cwd)[ \t]*\}/")


def _calls(source: SourceFile) -> list[_Call]:
    """Every ``templatefile(PATH, VARS)`` call of one ``.tf`` file, not in a comment; a PATH
    that is no string (``format(…)``) is kept too, unresolved, so a problem can name it."""
    if b"templatefile" not in source.raw:
        return []
    text, found = source.text, []
    spans = comments(text)  # a call in one (a resource commented out with /* */) renders nothing
    for match in _CALL.finditer(text):
        if _inside(spans, match.start()):
            continue
        quoted = text.startswith('"', match.end())
        end = (string_end if quoted else _expression_end)(text, match.end())
        path = text[match.end() : end].rstrip()
        if not path:
            continue
        rest = _OBJECT_NEXT.match(text, end)
        entries = None
        if rest is not None and rest.group(1) is not None:
            entries = object_entries(text, rest.end())[0]
        template = _resolve(source.rel, path[1:-1]) if quoted else None
        found.append(_Call(source.rel, source.line_at(match.start()), path, template, entries))
    return found


_PATH_READ = 1000  # characters of an expression path read at most: one line of calls stays linear


def _expression_end(text: str, start: int) -> int:
    """Where an argument that is no string ends: at the first ``,`` or ``)`` outside its
    brackets and strings, a line's end, or ``_PATH_READ`` characters on (shown, not followed)."""
    i, depth, stop = start, 0, min(len(text), start + _PATH_READ)
    while i < stop and text[i] != "\n" and not (depth == 0 and text[i] in ",)"):
        if text[i] == '"':
            i = string_end(text, i)
            continue
        depth += (text[i] in "([{") - (text[i] in ")]}")
        i += 1
    return min(i, stop)


def _inside(spans: list[tuple[int, int]], at: int) -> bool:
    """Whether ``at`` falls in one of ``spans`` (in order, apart)."""
    last = bisect_right(spans, at, key=itemgetter(0)) - 1
    return last >= 0 and at < spans[last][1]


def _resolve(tf_file: str, path: str) -> str | None:
    """The repository path a template path names, relative to the ``.tf`` file's directory
    (``${path.module}``, ``${path.root}``, ``${path.cwd}`` or none); None for another
    interpolation, an absolute path, or one outside the repository. A Windows ``\\`` (as HCL
    writes a backslash) separates as ``/`` does, as Terraform on Windows reads it."""
    path = _ROOTS.sub("", path.replace("\\\\", "/"))
    if "${" in path or "%{" in path or path.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(tf_file), path))
    return None if joined == ".." or joined.startswith("../") else joined


def _by_real_path(
    variables: Sequence[TemplateVariable], real: Callable[[str], str | None]
) -> list[TemplateVariable]:
    """Each template line once, named by its file's real path: a symlink to a template is
    walked beside its target, and a call through a linked directory renders the target."""
    named = (replace(v, template=real(v.template) or v.template) for v in variables)
    return list(dict.fromkeys(named))


def _renders(call: _Call, template: str, real: Callable[[str], str | None]) -> bool:
    """Whether a call renders ``template`` (a real path): Terraform joins the call's path
    lexically, then the system follows its links; one out of the repository renders none of
    its files. A path it cannot resolve: when it names the template's file, so the problem
    names the call."""
    if call.template is not None:
        return real(call.template) == template
    return _file_named(call) == posixpath.basename(template)


# The file name a path expression writes (``format("%s/x.tftpl", …)``): the last literal
# name.ext before a closing quote, not one a ``${…}`` starts (``${var.env}.tftpl``).
_FILE_NAME = re.compile(r'(?<![\w.}$-])\w[\w.-]*\.\w+(?=")')


def _file_named(call: _Call) -> str | None:
    names = _FILE_NAME.findall(call.path)
    return names[-1] if names else None


def _unrendered(variable: TemplateVariable, calls: Sequence[_Call]) -> list[Violation]:
    """No call renders the template. One call whose path names no file (``"${path.module}/
    ${var.template}"``) may: the problem is named there, with the path to write. Several (a
    module picking its templates by variable) are named in one problem at the template's
    line: one at each would repeat it; with none, the template's line says what to do."""
    maybe = [c for c in calls if c.template is None and _file_named(c) is None]
    if len(maybe) != 1:
        return [_no_call(variable, maybe)]
    call = maybe[0]
    installs = f"{variable.template} (whose line {variable.line} installs Flux)"
    return [
        Violation(
            call.file,
            call.line,
            f"templatefile() path {call.path} cannot be resolved, "
            f"and no call renders {installs} by a path fluxbump can read: if this one "
            f"renders it, {_write_path(call, variable)}",
        )
    ]


def _write_path(call: _Call, variable: TemplateVariable) -> str:
    """What to write so the call's path resolves to the template."""
    relative = posixpath.relpath(variable.template, posixpath.dirname(call.file) or ".")
    return f'write it "${{path.module}}/{relative}" so fluxbump can follow the release'


def _passed(
    call: _Call,
    variable: TemplateVariable,
    source: SourceFile,
    subject: str,
    files: Sequence[str],
    read: Callable[[str], SourceFile],
) -> Followed:
    """What one call passes the variable: its literal (or what ``var.X`` is set to)."""
    at = f"templatefile() of {variable.template} (whose line {variable.line} installs Flux)"
    if call.template is None:
        return _problem(call.file, call.line, f"{at}: path {call.path} cannot be resolved; "
                        f"{_write_path(call, variable)}")  # fmt: skip
    if call.entries is None:
        return _problem(call.file, call.line, f"{at} passes its variables as an expression; "
                        f'write an object {{ {variable.name} = "X.Y.Z" }} there')  # fmt: skip
    key = _entry(variable.name)
    given = [(start + v[0], v[1]) for start, text in call.entries if (v := _value(key, text))]
    if not given:
        return _problem(call.file, call.line, f"{at} passes no {variable.name}; "
                        f'add {variable.name} = "X.Y.Z"')  # fmt: skip
    at_value, value = given[-1]  # (Terraform refuses an object with a key twice)
    owner = f"cloud-init via templatefile() in {posixpath.basename(call.file)}"
    literal = STRING_LITERAL.fullmatch(value)
    if literal is not None:
        site = source.text_site(Role.INSTALL, at_value + 1, literal["text"], subject, owner)
        return _literal(site, variable)
    if re.fullmatch(r"var\.[A-Za-z_][A-Za-z0-9_-]*", value):
        reference = source.text_site(Role.TERRAFORM, at_value, value, subject, owner)
        return _variable(reference, variable, at, files, read)
    line = source.line_at(at_value)
    return _problem(call.file, line, f"{at} passes {variable.name} = {value}, not a literal; "
                    f'write {variable.name} = "X.Y.Z" (or var.NAME with a literal default)')  # fmt: skip


def _entry(name: str) -> re.Pattern[str]:
    """The key of an object entry ``name = VALUE`` (or ``"name": VALUE``), block comments
    before it apart: what ``_value`` reads the value after."""
    return re.compile(rf'^\s*(?:/\*.*?\*/\s*)*"?{re.escape(name)}"?[ \t]*[=:][ \t]*')


_VALUE_END = re.compile(r"#|//|/\*")  # a comment after the value


def _value(key: re.Pattern[str], entry: str) -> tuple[int, str] | None:
    """The value of an entry whose key is ``key`` (its index in ``entry``, and its text without
    a trailing comment and blanks), or None. Cut in one pass: a lazy value pattern before
    ``[ \t]*`` backtracked quadratically over a long run of blanks."""
    match = key.match(entry)
    if match is None:
        return None
    end = _VALUE_END.search(entry, match.end())
    value = entry[match.end() : end.start() if end else len(entry)]
    return match.end(), value.partition("\n")[0].rstrip(" \t\r")  # (a heredoc: its opener)


# The key of an entry whose literal value starts where the text ends.
_KEY_BEFORE = re.compile(r'(?<![\w"-])"?(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"?[ \t]*[=:][ \t]*"\Z')


def argument_name(source: SourceFile, site: PinSite) -> str | None:
    """The variable a ``templatefile()`` literal is passed as (the key before it)."""
    key = _KEY_BEFORE.search(source.text, source.line_start(site.start), site.start)
    return key["name"] if key is not None else None


def literals_like(site: PinSite, now: SourceFile, then: SourceFile) -> list[PinSite]:
    """The pins of ``then`` (a past or base version of the file of ``site``, a pin this module
    found in ``now``): the literals passed as the same variable, or that set the ``var.X``
    it passes (``follow_variables`` made the site: its owner ends ``(var.X)``)."""
    variable = followed_variable(replace(site, role=Role.TERRAFORM))
    if variable is not None:
        return setters_like(then, site, variable)
    name = argument_name(now, site)
    return passed_literals(then, name) if name is not None else []


def passed_literals(source: SourceFile, name: str) -> list[PinSite]:
    """Each literal ``name = "…"`` a ``templatefile()`` call of one ``.tf`` file passes (any
    template): a pin read again at a base revision (``scan/moved.py``)."""
    key, found = _entry(name), []
    for call in _calls(source):
        for start, text in call.entries or []:
            value = _value(key, text)
            literal = STRING_LITERAL.fullmatch(value[1]) if value is not None else None
            if value is not None and literal is not None:
                at = start + value[0] + 1
                found.append(source.text_site(Role.INSTALL, at, literal["text"], "", ""))
    return found


def _literal(site: PinSite, variable: TemplateVariable) -> Followed:
    """A literal is the pin, unless the URL's prefix and its own make no ``vX.Y.Z``."""
    if variable.prefix is None:  # a HelmChart's version: the literal stands as it is
        return Followed([site], [])
    if versions.is_pin(site.value) and (variable.prefix == "v") == site.value.startswith("v"):
        rendered = variable.prefix + site.value
        fixed = site.value.removeprefix("v") if variable.prefix else f"v{site.value}"
        return _problem(site.file, site.line,
                        f"{variable.name} = \"{site.value}\" renders '{rendered}' into the Flux "
                        f"URL at {variable.template}:{variable.line}, not a release tag vX.Y.Z; "
                        f'write "{fixed}"')  # fmt: skip
    return Followed([site], [])


def _variable(
    reference: PinSite,
    variable: TemplateVariable,
    at: str,
    files: Sequence[str],
    read: Callable[[str], SourceFile],
) -> Followed:
    """``NAME = var.X``: the literals that set X in the module (a default, a ``.tfvars``
    value, the module calls' arguments); an X left unproven is a problem."""
    followed = follow_variables([reference], files, read)
    setters = [s for s in followed if s is not reference]
    checked = [_literal(replace(s, role=Role.INSTALL), variable) for s in setters]
    found = Followed(
        [s for c in checked for s in c.sites], [p for c in checked for p in c.problems]
    )
    if reference in followed:
        why = ("a module call passes it an expression" if setters
               else "no variable default, .tfvars value or module argument sets it to a literal")  # fmt: skip
        found.problems.append(
            Violation(reference.file, reference.line, f"{at} passes {variable.name} = "
                      f"{reference.value}, and {why}; give it a literal value fluxbump can move")
        )  # fmt: skip
    return found


def _no_call(variable: TemplateVariable, unresolved: Sequence[_Call] = ()) -> Violation:
    """``unresolved``: calls whose path fluxbump cannot read, any of which may render it."""
    maybe = ""
    if unresolved:
        named = ", ".join(f"{c.file}:{c.line}" for c in unresolved[:3])
        more = f" and {len(unresolved) - 3} more" if len(unresolved) > 3 else ""
        maybe = (
            f" by a path fluxbump can read (the calls at {named}{more} name their template by "
            'an expression: if one renders it, write its path "${path.module}/…")'
        )
    return Violation(
        variable.template,
        variable.line,
        f"installs Flux from '{variable.url}', and no templatefile() call in a .tf file of "
        f'this repository renders it{maybe}; pass {variable.name} = "X.Y.Z" there, or write '
        "the release vX.Y.Z in the URL",
    )


def _problem(file: str, line: int, message: str) -> Followed:
    return Followed([], [Violation(file, line, message)])
