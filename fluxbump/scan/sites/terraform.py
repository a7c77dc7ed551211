"""Terraform (``*.tf``): the Flux release a ``fluxcd/flux`` provider block installs.

``resource "flux_bootstrap_git" "NAME" { version = "v2.4.0" }`` (provider 1.x) and
``data "flux_install" "NAME" { version = "v2.4.0" }`` (provider 0.x) name a Flux release
(the provider's docs: "``version`` (String) Flux version"). A literal string at the top
level of the block is a pin. ``version = var.NAME`` is followed to the literal values that set
the variable in the same module (the block's directory, as Terraform loads it): the
``default`` of its ``variable "NAME"`` block in a ``*.tf`` file and each ``NAME = "…"`` of a
``*.tfvars`` (``terraform.tfvars``, ``*.auto.tfvars``, or a ``-var-file``), and the arguments
its callers give it (a ``module`` block's, a Terragrunt ``terragrunt.hcl``'s ``inputs`` or
those of the file it includes):
those are the pins, moved by ``to``. A variable with none stays one site holding ``var.NAME``, shown as unproven
(never a violation, never edited); so does any other expression. HCL is edited as text: the
site spans the characters between the quotes.

The provider's own constraint (``required_providers { flux = { source = "fluxcd/flux",
version = "~> 1.2" } }``) is read too, never moved: ``gate/provider.py`` says when no
provider it admits is known to install the target release.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from fluxbump.pins import NO_VERSION, PinSite, PlacedWarning, Role
from fluxbump.scan.sources import SourceFile, note_skipped

# The blocks of the fluxcd/flux provider whose ``version`` is the Flux release. A block may
# start on line 1 after a byte-order mark (the text keeps it, as U+FEFF).
_BLOCKS = {("resource", "flux_bootstrap_git"), ("data", "flux_install")}
_HEADER = re.compile(
    r'^\ufeff?[ \t]*(?P<kind>resource|data)[ \t]+"(?P<type>[^"\n]+)"[ \t]+"(?P<name>[^"\n]+)"[ \t]*\{',
    re.MULTILINE,
)
# A line keeps its CR in a CRLF file: ``\r?$`` ends it there as ``$`` does in an LF one.
_VERSION = re.compile(
    r'^[ \t]*version[ \t]*=[ \t]*"(?P<version>[^"$%\\\n]*)"[ \t]*(?:#.*|//.*)?\r?$'
)


# ``var.NAME``, or the same as Terraform 0.11 wrote it, a string of one interpolation:
# ``"${var.NAME}"`` (the site spans ``var.NAME``).
_REFERENCE = re.compile(
    r'^[ \t]*version[ \t]*=[ \t]*(?P<quote>"\$\{[ \t]*)?'
    r"(?P<version>var\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
    r'(?(quote)[ \t]*\}")[ \t]*(?:#.*|//.*)?\r?$'
)
# Any other expression (``local.v``, ``"v${local.v}"``, a call): a version this cannot tell,
# the site of its first line shown unproven (never a violation, never edited).
_OTHER_VERSION = re.compile(
    r"^[ \t]*version[ \t]*=[ \t]*(?P<version>[^\s#/][^#\r\n]*?)[ \t]*(?:#.*|//.*)?\r?$"
)
# Any ``version`` argument, whatever its expression: a block without one has no version.
_ANY_VERSION = re.compile(r"^[ \t]*version[ \t]*=")
_VARIABLE = re.compile(r'^[ \t]*variable[ \t]+"(?P<name>[^"\n]+)"[ \t]*\{[ \t]*\r?$', re.MULTILINE)
_DEFAULT = re.compile(
    r'^[ \t]*default[ \t]*=[ \t]*"(?P<version>[^"$%\\\n]*)"[ \t]*(?:#.*|//.*)?\r?$'
)


def find_terraform_pins(source: SourceFile) -> list[PinSite]:
    """The ``version`` of each Flux provider block in one ``.tf`` file: a literal, a
    ``var.NAME`` reference (its value is ``var.NAME``; ``follow_variables`` resolves it), or
    any other expression as written (unproven)."""
    # (HCL's scanner: ``Newline = '\\r'? '\\n'``; a .tfvars file's values are read for the
    # ``var.NAME`` of any block: ``follow_variables``)
    if source.rel.endswith(".tfvars"):
        source.refuse_lone_cr("Terraform")
    if not source.rel.endswith(".tf") or b"flux_" not in source.raw:
        return []
    source.refuse_lone_cr("Terraform")
    sites = []
    for _, owner, lines in _flux_blocks(source):
        for start, line in lines:
            match = _VERSION.match(line) or _REFERENCE.match(line) or _OTHER_VERSION.match(line)
            if match is not None and match.group("version"):
                at = start + match.start("version")
                sites.append(_site(source, at, match.group("version"), owner))
    return sites


def follow_variables(
    pins: list[PinSite], files: Sequence[str], read: Callable[[str], SourceFile]
) -> list[PinSite]:
    """``pins`` with each Terraform ``var.NAME`` version replaced by the literal values that
    set NAME in its module (``files``: the repository's, ``read``: one of them): in the
    module's own files, and the arguments of the ``module`` blocks (and Terragrunt
    ``inputs``) that call it by a local path (from any directory); one no literal sets is
    kept as it is, an unproven site."""
    followed: list[PinSite] = []
    order = {rel: i for i, rel in enumerate(files)}
    known = set(files)
    for pin in pins:
        name = variable_of(pin)
        if name is None:
            followed.append(pin)
            continue
        module = posixpath.dirname(pin.file)
        own = [
            s
            for rel in files
            if posixpath.dirname(rel) == module
            for s in variable_values(read(rel), name)
        ]
        calls = [
            (called, site)
            for rel in files
            if is_caller_file(rel) and posixpath.dirname(rel) != module
            for called, site in _calls_with_includes(read(rel), name, known, read)
            if called == module
        ]
        # A caller that passes an expression (``var.x``) deploys a version this cannot tell:
        # the reference stays too, unproven, beside the literals (the default kept for the
        # callers that leave NAME to it).
        given = [site for _, site in calls if isinstance(site, PinSite)]
        setters = [
            replace(
                site, owner=_followed_owner(site, pin, name), role=pin.role, subject=pin.subject
            )
            for site in [*own, *[replace(g, owner=f"{g.owner} ->") for g in given]]
        ]
        setters.sort(key=lambda s: (order[s.file], s.start))  # the first is the reference
        opaque = any(site == _EXPRESSION for _, site in calls)
        followed += [*setters, pin] if opaque or not setters else setters
    # one variable, several blocks (of one chart: two charts keep a site each)
    unique = {(p.role, p.file, p.start, p.subject): p for p in followed}
    return list(unique.values())


def _followed_owner(setter: PinSite, pin: PinSite, name: str) -> str:
    """``BLOCK (var.NAME)``, after the calling ``module "…" ->`` for a module argument."""
    caller = f"{setter.owner} " if setter.owner.endswith("->") else ""
    return f"{caller}{pin.owner} (var.{name})"


def setters_like(source: SourceFile, site: PinSite, name: str) -> list[PinSite]:
    """The literals of ``source`` (another revision of the file of ``site``, a literal that
    sets ``name``: ``follow_variables`` made it) that set it where ``site`` does: the same
    ``module`` block's argument, else the variable's default or ``.tfvars`` value. Another
    module's block in the file passes its own ``name``, never a revision of this one."""
    caller, arrow, _ = site.owner.partition(" -> ")
    owner = (
        caller if arrow and caller.startswith(("module ", "terragrunt ")) else f'variable "{name}"'
    )
    if owner == _INPUTS_OWNER:  # a terragrunt.hcl's inputs, or those of a file it includes
        return [s for s in inputs_values(source, name) if isinstance(s, PinSite)]
    found = variable_values(source, name) + [s for _, s in module_arguments(source, name)]
    return [s for s in found if s.owner == owner]


_MODULE = re.compile(r'^\ufeff?[ \t]*module[ \t]+"(?P<name>[^"\n]+)"[ \t]*\{', re.MULTILINE)
_SOURCE_LINE = re.compile(r'^[ \t]*source[ \t]*=[ \t]*"(?P<source>\.{1,2}/[^"\n]*)"')


def module_arguments(source: SourceFile, name: str) -> list[tuple[str, PinSite]]:
    """Each literal ``name = "…"`` argument of a ``module`` block that calls a module of this
    repository, with the directory of the module it calls (``module_calls``)."""
    return [
        (called, site) for called, site in module_calls(source, name) if isinstance(site, PinSite)
    ]


# What a module call gives NAME besides a literal: an expression (``var.x``, ``local.v``).
_EXPRESSION = "expression"


def module_calls(source: SourceFile, name: str) -> list[tuple[str, PinSite | str | None]]:
    """Each ``module`` block that calls a module of this repository (``source = "./…"`` or
    ``"../…"``: Terraform's local paths; a registry or git source is another repository's),
    with the directory it calls and what it gives ``name``: the literal's site, ``_EXPRESSION``
    for any other value, None when it leaves ``name`` to the module's default."""
    return [
        (called, _given(source, lines, name, owner)) for called, owner, lines in _callers(source)
    ]


def _given(
    source: SourceFile, lines: list[tuple[int, str]], name: str, owner: str
) -> PinSite | str | None:
    """What the argument lines of a call (or a Terragrunt ``inputs`` object) give ``name``:
    the literal's site, ``_EXPRESSION`` for any other value, None when they do not set it."""
    literal = re.compile(
        rf'^[ \t]*{re.escape(name)}[ \t]*=[ \t]*"(?P<version>[^"$%\\\n]*)"[ \t]*(?:#.*|//.*)?\r?$'
    )
    argument = re.compile(rf"^[ \t]*{re.escape(name)}[ \t]*=")
    given: PinSite | str | None = None
    for start, line in lines:
        match = literal.match(line)
        if match is not None and match.group("version"):
            given = _site(source, start + match.start("version"), match.group("version"), owner)
        elif argument.match(line):
            given = _EXPRESSION
    return given


def _callers(source: SourceFile) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """Each call of a module of this repository in one file: the directory it calls, its
    owner and its argument lines. A ``.tf`` file's ``module`` blocks; a Terragrunt
    ``terragrunt.hcl`` is one call, of its ``terraform { source = "…" }`` with the ``inputs``
    object (Terragrunt passes each as the variable of that name; ``//`` only marks where the
    module's directory starts in its source, a local path like any other)."""
    if source.rel.rsplit("/", 1)[-1] == TERRAGRUNT:
        return _terragrunt_call(source)
    if b"module" not in source.raw:
        return []
    found = []
    for block in _MODULE.finditer(source.text):
        lines = _top_level_lines(source.text, block.end())[0]
        called = _called(source, lines)
        if called is not None:
            found.append((called, f'module "{block.group("name")}"', lines))
    return found


TERRAGRUNT = "terragrunt.hcl"


def is_caller_file(rel: str) -> bool:
    """Whether a file may call a module: a ``.tf`` file, or a Terragrunt configuration."""
    return rel.endswith(".tf") or rel.rsplit("/", 1)[-1] == TERRAGRUNT


_TERRAFORM_BLOCK = re.compile(r"^\ufeff?[ \t]*terraform[ \t]*\{", re.MULTILINE)
_INPUTS = re.compile(r"^\ufeff?[ \t]*inputs[ \t]*=[ \t]*\{", re.MULTILINE)


_INPUTS_OWNER = "terragrunt inputs"


def _terragrunt_call(source: SourceFile) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """The module a ``terragrunt.hcl`` calls by a local path and its ``inputs`` lines (none
    when it has no ``inputs``: an included file's may set them all)."""
    block = _TERRAFORM_BLOCK.search(source.text)
    if block is None:
        return []
    called = _called(source, _top_level_lines(source.text, block.end())[0])
    return [] if called is None else [(called, _INPUTS_OWNER, _inputs_lines(source))]


def _inputs_lines(source: SourceFile) -> list[tuple[int, str]]:
    """The lines of a Terragrunt file's ``inputs`` object at depth one (none without it)."""
    inputs = _INPUTS.search(source.text)
    return [] if inputs is None else _top_level_lines(source.text, inputs.end())[0]


def inputs_values(source: SourceFile, name: str) -> list[PinSite | str]:
    """What the ``inputs`` of a Terragrunt file give ``name`` (``_given``), if they set it."""
    given = _given(source, _inputs_lines(source), name, _INPUTS_OWNER)
    return [] if given is None else [given]


def _calls_with_includes(
    source: SourceFile, name: str, known: set[str], read: Callable[[str], SourceFile]
) -> list[tuple[str, PinSite | str | None]]:
    """``module_calls``, a ``terragrunt.hcl`` whose own ``inputs`` leave ``name`` unset given
    what the ``inputs`` of each file it includes set it to: Terragrunt merges an included
    file's ``inputs`` under the child's (the child's keys win). Each include that sets it
    is a setter (``to`` moves them all; Terragrunt allows one level of includes); one this
    cannot resolve may set it to anything, as an expression may."""
    found: list[tuple[str, PinSite | str | None]] = []
    for called, given in module_calls(source, name):
        inherited = (
            [
                value
                for rel in included_files(source, known)
                for value in (inputs_values(read(rel), name) if rel else [_EXPRESSION])
            ]
            if given is None and source.rel.rsplit("/", 1)[-1] == TERRAGRUNT
            else []
        )
        found += [(called, value) for value in inherited] or [(called, given)]
    return found


_INCLUDE = re.compile(r'^\ufeff?[ \t]*include(?:[ \t]+"[^"\n]*")?[ \t]*\{', re.MULTILINE)
# (a quoted path may hold ``//``, which elsewhere opens a comment)
_INCLUDE_PATH = re.compile(
    r'^[ \t]*path[ \t]*=[ \t]*(?P<path>"[^"\r\n]*"|[^#\r\n]*?)[ \t]*(?:#.*|//.*)?\r?$'
)
_NO_MERGE = re.compile(r'^[ \t]*merge_strategy[ \t]*=[ \t]*"no_merge"')
# ``find_in_parent_folders()`` (Terragrunt looks for ``terragrunt.hcl``) or of one literal
# name; a fallback argument or any other function is an expression this does not evaluate.
_FIND_IN_PARENTS = re.compile(r'find_in_parent_folders\([ \t]*(?:"(?P<name>[^"$%\\\n]+)"[ \t]*)?\)')


def included_files(source: SourceFile, known: set[str]) -> list[str]:
    """The files (of ``known``, relative to the repository) the ``include`` blocks of a
    Terragrunt file name, in file order. One naming no such file, or by a path this cannot
    evaluate, is "" and a warning at its ``path`` line (its inputs stay unread), never an
    error."""
    found = []
    for block in _INCLUDE.finditer(source.text):
        entries = object_entries(source.text, block.end())[0]  # (one-line blocks too)
        if any(_NO_MERGE.match(line) for _, line in entries):
            continue  # Terragrunt merges none of its configuration into the child's
        for start, line in entries:
            match = _INCLUDE_PATH.match(line)
            if match is None:
                continue
            resolved, problem = _include_target(source.rel, match.group("path"), known)
            if resolved is None:
                note_skipped(PlacedWarning(source.rel, source.line_at(start), problem))
            found.append(resolved or "")
    return found


def _include_target(child: str, path: str, known: set[str]) -> tuple[str | None, str]:
    """The file an ``include``'s ``path`` expression names, or why there is none."""
    here = posixpath.dirname(child)
    searched = _FIND_IN_PARENTS.fullmatch(path)
    literal = STRING_LITERAL.fullmatch(path)
    if searched is not None:
        name = searched.group("name") or TERRAGRUNT
        parent = here
        while parent:  # from the child's parent directory up to the repository's root
            parent = posixpath.dirname(parent)
            candidate = posixpath.normpath(posixpath.join(parent, name))
            if candidate in known:
                return candidate, ""
        return None, (
            f"include path {path} finds no {name} read in a directory above {here or '.'}: "
            "the inputs it would give are not followed; create it, or exclude this file"
        )
    if literal is not None and not posixpath.isabs(literal.group("text")):
        candidate = posixpath.normpath(posixpath.join(here, literal.group("text")))
        if candidate in known:
            return candidate, ""
        return None, (
            f"include path {path} names {candidate}, which is not a file fluxbump reads: "
            "the inputs it would give are not followed; fix the path, or exclude this file"
        )
    return None, (
        f"include path {path} is an expression fluxbump cannot evaluate: the inputs it "
        'would give are not followed; write find_in_parent_folders("NAME") or a relative path'
    )


def _called(source: SourceFile, lines: list[tuple[int, str]]) -> str | None:
    """The directory (relative to the repository) a block's local ``source`` names."""
    paths = [m.group("source") for _, line in lines if (m := _SOURCE_LINE.match(line))]
    if not paths:
        return None
    called = posixpath.normpath(posixpath.join(posixpath.dirname(source.rel), paths[0]))
    return "" if called == "." else called


def variable_of(pin: PinSite) -> str | None:
    """The variable a Terraform version names (``var.NAME``), if it names one."""
    if pin.role not in _VARIABLE_ROLES or not pin.value.startswith("var."):
        return None
    return pin.value.removeprefix("var.")


def followed_variable(site: PinSite) -> str | None:
    """The variable whose value ``site`` is, when ``follow_variables`` made it (its owner
    ends ``(var.NAME)``): read again at a base revision by ``variable_values``."""
    match = _FOLLOWED.search(site.owner) if site.role in _VARIABLE_ROLES else None
    return match.group("name") if match is not None else None


# The Flux provider's version, a ``helm_release``'s chart version and the Flux release a
# flux-instance ``helm_release`` sets may each name a variable.
_VARIABLE_ROLES = frozenset({Role.TERRAFORM, Role.TERRAFORM_HELM, Role.INSTANCE})
_FOLLOWED = re.compile(r" \(var\.(?P<name>[^()\s]+)\)$")


def variable_values(source: SourceFile, name: str) -> list[PinSite]:
    """Literal values of variable ``name`` in one file of its module: the ``default`` of its
    ``variable`` block (``*.tf``) or its assignment (``*.tfvars``)."""
    owner = f'variable "{name}"'
    if source.rel.endswith(".tfvars"):
        assignment = re.compile(
            rf'^[ \t]*{re.escape(name)}[ \t]*=[ \t]*"(?P<version>[^"$%\\\n]*)"'
            r"[ \t]*(?:#.*|//.*)?\r?$",
            re.MULTILINE,
        )
        return [
            _site(source, m.start("version"), m.group("version"), owner)
            for m in assignment.finditer(source.text)
            if m.group("version")
        ]
    if not source.rel.endswith(".tf") or name.encode() not in source.raw:
        return []
    sites = []
    for block in _VARIABLE.finditer(source.text):
        if block.group("name") != name:
            continue
        for start, line in _top_level_lines(source.text, block.end())[0]:
            match = _DEFAULT.match(line)
            if match is not None and match.group("version"):
                at = start + match.start("version")
                sites.append(_site(source, at, match.group("version"), owner))
    return sites


def find_unversioned_bootstraps(source: SourceFile) -> list[PlacedBlock]:
    """Each Flux provider block of one ``.tf`` file with no ``version`` argument at all: it
    installs the release its provider bundles (the provider's docs: "Flux version. Defaults
    to `v2.8.5`"), which no line of the repository names."""
    if not source.rel.endswith(".tf") or b"flux_" not in source.raw:
        return []
    found = []
    for at, owner, lines in _flux_blocks(source):
        if not any(_ANY_VERSION.match(line) for _, line in lines):
            embedded = any(_EMBEDDED.match(line) for _, line in lines)
            found.append(PlacedBlock(source.rel, source.line_at(at), owner, embedded))
    return found


def _flux_blocks(source: SourceFile) -> Iterator[tuple[int, str, list[tuple[int, str]]]]:
    """Each Flux provider block of a ``.tf`` file (``_BLOCKS``): where its header starts,
    ``TYPE.NAME``, and its lines at depth one with where each starts."""
    for header in _HEADER.finditer(source.text):
        if (header.group("kind"), header.group("type")) in _BLOCKS:
            owner = f"{header.group('type')}.{header.group('name')}"
            yield header.start("kind"), owner, _top_level_lines(source.text, header.end())[0]


# ``embedded_manifests = true``: the provider applies the manifests it embeds, and a
# ``version`` "has no effect" (its docs).
_EMBEDDED = re.compile(r"^[ \t]*embedded_manifests[ \t]*=[ \t]*true\b")


@dataclass(frozen=True)
class PlacedBlock:
    """A Terraform block where it starts: ``TYPE.NAME`` at ``file:line``."""

    file: str
    line: int
    owner: str
    embedded: bool = False  # ``embedded_manifests = true``


_CHART = re.compile(r'^[ \t]*chart[ \t]*=[ \t]*"(?P<chart>[^"$%\\\n]*)"')
# A string literal with no interpolation (``${``), directive (``%{``) or escape: its text is
# the value as written (``fullmatch`` it against an argument's value).
STRING_LITERAL = re.compile(r'"(?P<text>[^"$%\\\n]*)"')


@dataclass(frozen=True)
class ResourceBlock:
    """A ``resource "TYPE" "NAME"`` block: ``TYPE.NAME``, and its lines at depth one with
    where each starts in the file's text."""

    owner: str
    lines: list[tuple[int, str]]

    def chart(self) -> tuple[int, str] | None:
        """Where its literal ``chart = "…"`` starts in the text, and the chart it names."""
        found = [(start, m) for start, line in self.lines if (m := _CHART.match(line))]
        if not found:
            return None
        start, match = found[0]
        return start + match.start("chart"), match.group("chart")


def resource_blocks(source: SourceFile, resource: str) -> list[ResourceBlock]:
    """Each ``resource "<resource>"`` block of one ``.tf`` file, in file order."""
    return [
        ResourceBlock(
            f"{resource}.{header.group('name')}", _top_level_lines(source.text, header.end())[0]
        )
        for header in _HEADER.finditer(source.text)
        if (header.group("kind"), header.group("type")) == ("resource", resource)
    ]


def nested_entries(text: str, start: int, line: str) -> list[list[tuple[int, str]]]:
    """The entries of what the argument or block on ``line`` (at ``start``) opens: a nested
    block's (``set { … }``) or an object's lines, one list per item of a list of them
    (``set = [{ … }, { … }]``, each split at commas too; an item that is no object, such as a
    ``for`` expression's, is one entry of its text); none for anything else."""
    opener = re.match(r"[^\[{\"#/]*(?P<open>[\[{])", line)
    if opener is None:
        return []
    at = start + opener.end()
    if opener.group("open") == "{":
        return [object_entries(text, at)[0]]
    items = _top_level(text, at, "\n,")
    parts = [*items[0], *([items[2]] if items[2] is not None else [])]
    return [
        object_entries(text, begin + part.index("{") + 1)[0]
        if part.lstrip().startswith("{")
        else [(begin, part)]
        for begin, part in parts
        if part.strip()
    ]


def block_pins(
    source: SourceFile,
    resource: str,
    chart_of: Callable[[str], str],
    *,
    references: bool = False,
    unversioned: bool = False,
) -> list[PinSite]:
    """The literal ``version`` of each ``resource "<resource>"`` block (the Helm provider's
    ``helm_release``), its subject the block's literal ``chart`` as ``chart_of`` names it;
    with ``references``, a ``version = var.NAME`` too (``follow_variables`` resolves it) and
    any other expression as written (``local.v``: the gate shows it unproven);
    with ``unversioned``, a block with no ``version`` at all is an unpinned site at its
    ``chart`` line (``pins.unpinned``): the provider then installs the newest chart."""
    sites = []
    for block in resource_blocks(source, resource):
        lines, owner, chart = block.lines, block.owner, block.chart()
        if chart is None:
            continue
        subject = chart_of(chart[1])
        if unversioned and not any(_ANY_VERSION.match(line) for _, line in lines):
            site = _site(source, chart[0], "", owner, Role.TERRAFORM_HELM)
            sites.append(replace(site, value=NO_VERSION, subject=subject))
            continue
        for start, line in lines:
            match = _VERSION.match(line) or (
                (_REFERENCE.match(line) or _OTHER_VERSION.match(line)) if references else None
            )
            if match is not None and match.group("version"):
                at = start + match.start("version")
                site = _site(source, at, match.group("version"), owner, Role.TERRAFORM_HELM)
                sites.append(replace(site, subject=subject))
    return sites


def chart_name(chart: str) -> str:
    """A ``helm_release``'s chart by name: ``chart = "flux2"`` (with ``repository``) or the
    chart's whole OCI URL (``oci://ghcr.io/fluxcd-community/charts/flux2``)."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def find_chart_releases(source: SourceFile, charts: frozenset[str]) -> list[PinSite]:
    """The ``version`` of each ``helm_release`` of one of ``charts`` in one ``.tf`` file, in
    file order: a literal, or a ``var.NAME`` reference that ``follow_variables`` resolves in
    its module; a block with none is an unpinned site (the survey makes it a problem). The
    file is read once for every chart (a wrapper's upstreams are dozens)."""
    if not source.rel.endswith(".tf") or not any(c.encode() in source.raw for c in charts):
        return []
    found = block_pins(source, "helm_release", chart_name, references=True, unversioned=True)
    return [site for site in found if site.subject in charts]


def _site(
    source: SourceFile, start: int, value: str, owner: str, role: Role = Role.TERRAFORM
) -> PinSite:
    return source.text_site(role, start, value, "Flux", owner)


def _top_level_lines(text: str, body: int) -> tuple[list[tuple[int, str]], int]:
    """The lines of a block body (from just after its ``{``) at nesting depth one, and the
    index after its closing ``}``: nested blocks (``timeouts { … }``), strings, heredocs and
    comments do not end it early."""
    lines, end, _ = _top_level(text, body, "\n")
    return lines, end


def object_entries(text: str, body: int) -> tuple[list[tuple[int, str]], int]:
    """The entries of an object expression (from just after its ``{``): its lines at depth
    one, split at commas too, the last one before the closing ``}`` included (``{ a = "1",
    b = var.x }`` on one line), and the index after that ``}``."""
    entries, end, tail = _top_level(text, body, "\n,")
    return [*entries, tail] if tail is not None else entries, end


def _top_level(
    text: str, body: int, separators: str
) -> tuple[list[tuple[int, str]], int, tuple[int, str] | None]:
    """The parts of a body at depth one (ended by a newline, or a separator at depth one),
    the index after its closing bracket, and the part that bracket ends (if at depth one)."""
    lines: list[tuple[int, str]] = []
    depth, i, line_start, line_depth = 1, body, body, 1
    while i < len(text) and depth > 0:
        char = text[i]
        if char == "\n" or (char in separators and depth == 1):
            if line_depth == 1:
                lines.append((line_start, text[line_start:i]))
            line_start, line_depth = i + 1, depth
        elif char == '"':
            i = string_end(text, i)
            continue
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        elif text.startswith("<<", i):
            i = _heredoc_end(text, i)
            continue
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        i += 1
    tail = (line_start, text[line_start : i - 1]) if depth == 0 and line_depth == 1 else None
    return lines, i, tail


def string_end(text: str, start: int) -> int:
    """The index after a quoted string's closing quote (``${…}`` inside may hold quotes)."""
    i, nested = start + 1, 0
    while i < len(text) and text[i] != "\n":
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            nested += 1
            i += 2
            continue
        if text[i] == "}" and nested:
            nested -= 1
        elif text[i] == '"' and not nested:
            return i + 1
        i += 1
    return i


# What may open a string, a comment or a heredoc (``comments`` jumps between them).
_OPENERS = re.compile(r'"|#|//|/\*|<<')


def comments(text: str) -> list[tuple[int, int]]:
    """The spans of a ``.tf`` file's comments (``#`` and ``//`` to the line's end, ``/* */``),
    in order; a ``#`` or ``/*`` inside a string or a heredoc opens none."""
    return [(start, end) for token, start, end in _spans(text) if token not in ('"', "<<")]


def heredocs(text: str) -> list[tuple[int, int]]:
    """The spans of a ``.tf`` file's heredoc bodies (the lines between ``<<TAG`` and the
    closing ``TAG``), in order; a ``<<`` inside a string or a comment opens none."""
    return [(start, end) for token, start, end in _spans(text) if token == "<<" and start < end]


def _spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Each string, comment and heredoc body of a ``.tf`` file: its opener and its span."""
    i = 0
    while (opener := _OPENERS.search(text, i)) is not None:
        i, token = opener.start(), opener.group()
        if token == '"':
            start, i = i, string_end(text, i)
        elif token == "<<":
            start, end, i = _heredoc_body(text, i)
            yield token, start, end
            continue
        elif token == "/*":
            close = text.find("*/", i + 2)
            start, i = i, len(text) if close < 0 else close + 2
        else:
            newline = text.find("\n", i)
            start, i = i, len(text) if newline < 0 else newline
        yield token, start, i


_HEREDOC = re.compile(r"<<-?(?P<tag>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


def _heredoc_end(text: str, start: int) -> int:
    """The index of the newline ending a heredoc's closing tag line (or after ``<<``)."""
    return _heredoc_body(text, start)[2]


def _heredoc_body(text: str, start: int) -> tuple[int, int, int]:
    """A heredoc's body (from the line after ``<<TAG`` to its closing tag's line) and the
    index of the newline ending that closing line; an empty body after a ``<<`` that opens
    none. A heredoc never closed runs to the file's end."""
    match = _HEREDOC.match(text, start)
    if match is None:
        return start + 2, start + 2, start + 2
    closing = re.compile(rf"^[ \t]*{match.group('tag')}[ \t]*\r?$", re.MULTILINE)
    end = closing.search(text, match.end())
    if end is None:
        return match.end(), len(text), len(text)
    return match.end(), end.start(), end.end()


@dataclass(frozen=True)
class ProviderConstraint:
    """The ``version`` constraint of a ``required_providers`` entry whose source is the
    ``fluxcd/flux`` provider."""

    file: str
    line: int
    value: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


_REQUIRED = re.compile(r"^[ \t]*required_providers[ \t]*\{", re.MULTILINE)
_ENTRY = re.compile(r"^[ \t]*[A-Za-z_][A-Za-z0-9_-]*[ \t]*=[ \t]*\{")
# Attributes of an entry, one a line or comma-separated on one line.
_ATTRIBUTE = r'(?:^|[{,\s])%s[ \t]*=[ \t]*"(?P<value>[^"\n]*)"'
_SOURCE = re.compile(_ATTRIBUTE % "source")
_CONSTRAINT = re.compile(_ATTRIBUTE % "version")
# ``registry.terraform.io/fluxcd/flux`` and the OpenTofu registry name the same provider.
_FLUX_PROVIDER = re.compile(r"\A(?:registry\.(?:terraform\.io|opentofu\.org)/)?fluxcd/flux\Z")


def find_provider_constraints(source: SourceFile) -> list[ProviderConstraint]:
    """The ``fluxcd/flux`` provider's version constraints in one ``.tf`` file."""
    if not source.rel.endswith(".tf") or b"fluxcd/flux" not in source.raw:
        return []
    found = []
    for block in _REQUIRED.finditer(source.text):
        for start, line in _top_level_lines(source.text, block.end())[0]:
            entry = _ENTRY.match(line)
            if entry is None:
                continue
            body = start + entry.end()
            end = _top_level_lines(source.text, body)[1]
            constraint = _flux_constraint(source.text[body : end - 1])
            if constraint is not None:
                at = body + constraint.start("value")
                found.append(
                    ProviderConstraint(source.rel, source.line_at(at), constraint["value"])
                )
    return found


def _flux_constraint(entry: str) -> re.Match[str] | None:
    """The ``version`` of an entry whose ``source`` is the Flux provider."""
    provider = _SOURCE.search(entry)
    if provider is None or not _FLUX_PROVIDER.match(provider["value"].strip().lower()):
        return None
    return _CONSTRAINT.search(entry)
