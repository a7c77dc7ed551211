"""Render a file of ``templates/`` with :class:`string.Template` (``$name`` placeholders).

Substitution is strict: a placeholder with no value is a bug in the caller, so it raises
instead of leaving ``$name`` in the output. A literal ``$`` is written ``$$`` in a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from fluxbump.output import one_line
from fluxbump.templates_dir import read_template


class TemplateError(Exception):
    """A template could not be rendered: a placeholder lacks a value, or the text is malformed."""


def render(name: str, **values: str) -> str:
    """Render template ``name`` with ``values``; every placeholder must be given a value."""
    return render_text(read_template(name), name, **values)


def render_text(text: str, name: str = "<text>", **values: str) -> str:
    """Render template text (``name`` only labels errors)."""
    try:
        return Template(text).substitute(values)
    except KeyError as exc:
        raise TemplateError(f"template '{name}': no value for placeholder ${exc.args[0]}") from None
    except ValueError as exc:
        raise TemplateError(f"template '{name}': {exc}") from None


def placeholders(name: str) -> set[str]:
    """The placeholder names template ``name`` uses (``$$`` escapes excluded)."""
    return set(Template(read_template(name)).get_identifiers())


# --- pull request title and body -------------------------------------------------------


@dataclass(frozen=True)
class PrEdit:
    """One changed pin-site, as a row of the pull request's edits table."""

    file: str
    line: int
    role: str
    owner: str
    old: str
    new: str


@dataclass(frozen=True)
class PrContent:
    """Everything the pull request title and body say about one bump."""

    release: str
    chart: str
    from_release: str
    from_chart: str
    edits: tuple[PrEdit, ...] = ()
    stale_mentions: tuple[str, ...] = ()
    gate_result: str = ""
    crd_summary: str = ""
    subject: str = "Flux"  # what moved: Flux, or a component's name
    upstream: str = "flux2"
    flux: bool = True
    blocked: tuple[str, ...] = ()  # `to latest`: newer releases refused, with the steps


FLUX_HAZARD = """\
> [!WARNING]
> **Double-install hazard.** The cloud-init `install.yaml` and the flux2 chart's
> `appVersion` must be the same Flux release. If they differ, the chart's CRD update
> fails, and Helm's rollback then deletes the Flux controllers, leaving the cluster with
> no GitOps reconciler. Merge this pull request whole; do not cherry-pick only some of
> its pin-sites."""

COMPONENT_HAZARD = """\
> [!WARNING]
> **Lockstep pins.** A cloud-init `helm install … --version` of $upstream must equal the
> wrapper's $upstream dependency, or the HelmRelease does not adopt the release cloud-init
> installed; the values mirror, Blueprint and umbrella pins record the same versions.
> Merge this pull request whole; do not cherry-pick only some of its pin-sites."""


def render_pr(content: PrContent) -> tuple[str, str]:
    """The pull request (title, body), from ``pr-title.txt`` and ``pr-body.md``."""
    values = {
        "subject": content.subject,
        "upstream": content.upstream,
        "release": _bare(content.release),
        "chart": content.chart,
        "from_release": _bare(content.from_release),
        "from_chart": content.from_chart,
    }
    title = " ".join(render("pr-title.txt", **values).split())
    body = render(
        "pr-body.md",
        **values,
        edits_table=edits_table(content.edits),
        stale_mentions=_bullets(content.stale_mentions, "_None._"),
        gate_result=_gate(content.gate_result),
        crd_summary=content.crd_summary or "_Not compared._",
        blocked_releases=_bullets(content.blocked, "_None._"),
        hazard=FLUX_HAZARD if content.flux else render_text(COMPONENT_HAZARD, **values),
    )
    return title, body


def edits_table(edits: Sequence[PrEdit]) -> str:
    """A GitHub-flavoured markdown table with one row per changed pin-site."""
    if not edits:
        return "_No pin-site changed._"
    rows = [
        "| File | Line | Role | Owner | From | To |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    for e in edits:
        cells = (
            _code(e.file),
            str(e.line),
            _cell(e.role),
            _cell(e.owner),
            _code(e.old),
            _code(e.new),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _gate(text: str) -> str:
    """One line as is; several lines (command output) in a fenced block."""
    text = text.strip()
    if not text:
        return "_Not run._"
    if "\n" not in text:
        return text
    fence = "~~~~" if "```" in text else "```"
    return f"{fence}text\n{text}\n{fence}"


def _bare(release: str) -> str:
    """``v2.4.0`` -> ``2.4.0`` (the templates write the ``v``)."""
    return release[1:] if release[:1] in ("v", "V") and release[1:2].isdigit() else release


def _bullets(lines: Sequence[str], empty: str) -> str:
    items = [" ".join(one_line(line).split()) for line in lines if line.strip()]
    return "\n".join(f"- {item}" for item in items) if items else empty


def _cell(text: str) -> str:
    """Table-cell text: one line (a file name's control characters and bytes that are not
    UTF-8 escaped as in text output), pipes escaped (GFM honours ``\\|`` even in code spans)."""
    return " ".join(one_line(str(text)).split()).replace("|", "\\|")


def _code(text: str) -> str:
    value = _cell(text)
    if not value:
        return "_(empty)_"
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{value}{pad}{fence}"
