"""The scan's line rules in the form Renovate's regex managers take, so both find the same pins.

Renovate compiles a ``matchStrings`` entry with RE2 (JavaScript's ``RegExp`` when RE2 is not
installed) and the ``g`` flag only: no lookaround, and ``^`` is the file's start. A rule such as
"no ``echo`` before the URL on its line" is then spelled out: the text before the URL as a run
of separators and whole words, none of them the excluded ones (``other_word``).
"""

from __future__ import annotations

from fluxbump.scan.sites.operator import (
    ARTIFACT_TAG_ENDS,
    FETCH_WORDS,
    PRINT_WORDS,
    artifact_reference,
    manifest_url,
)

# One character that is no word character (ASCII, as RE2 and JavaScript read ``\w``) and no
# line break; the last one before a URL is no ``.``, ``/`` or ``-`` either (the scan's
# ``(?<![\w./-])``): the URL's scheme is then the URL's, never taken for a key (``https:``).
_SEPARATOR = r"[^\w\n]"
_LAST = r"[^\w\n./-]"
_OPERATOR_MANIFEST = manifest_url("?<currentValue>")


def operator_manifest_string() -> str:
    """flux-operator's release manifest on a line that fetches or keeps it, as
    ``operator.release_manifests`` reads one: before the URL, no comment start and no
    ``PRINT_WORDS`` word, and a list entry, a key set to it or a ``FETCH_WORDS`` command."""
    word = other_word(PRINT_WORDS)
    body = rf"(?:{_SEPARATOR}|{word}{_SEPARATOR})*(?:{word})?"
    rest = rf"(?:{body}{_LAST})?"  # whatever else precedes the URL
    listed = rf"-[ \t]{rest}"
    key = rf"(?:(?:{word}[.\"-]+|[.\"-]+)+(?:{word})?|{word})[ \t]*[:=]{rest}"
    # a command: its first word after blanks (a path before it, ``/usr/bin/kubectl``), or
    # after what starts the line and is no comment (``#``, ``//``)
    opening = rf"(?:/?{word}{_SEPARATOR}|[^\w\s#/]|/[^\w\n/])(?:{_SEPARATOR}|{word}{_SEPARATOR})*"
    fetch = "(?:" + "|".join(FETCH_WORDS) + ")"
    command = rf"(?:/?|{opening}){fetch}(?:{_SEPARATOR}{body})?{_LAST}"
    return rf"(?:^|\n)[ \t]*(?:{listed}|{key}|{command}){_OPERATOR_MANIFEST}"


# A line that is no comment (``#``, ``//``: operator._COMMENTED), from its first character that
# is no blank, without its line break: the scan ends a line at LF or a CR (sources.line_start).
# The break before it is read, the one after it is not, so the next line is the next match. It
# never matches no text: Renovate's loop of ``exec`` would read that match again and again (and
# stop after 10,000), as ``lastIndex`` does not move past it.
_NOT_COMMENT_LINE = r"(?:[\r\n]|^)[ \t]*(?:[^#/ \t\r\n][^\r\n]*|/(?:[^/\r\n][^\r\n]*)?)"


def operator_artifact_strings() -> list[str]:
    """flux-operator's distribution artifact at a release's tag, as
    ``operator.manifests_artifacts`` reads it, for the ``recursive`` strategy: each line that
    is no comment, then each artifact in it. What ends the tag is read (RE2 has no lookahead):
    a character that is no more of it and no ``@``, or the line's end."""
    ends = rf"(?:[^{ARTIFACT_TAG_ENDS}]|$)"
    return [_NOT_COMMENT_LINE, artifact_reference("?<currentValue>") + ends]


def other_word(excluded: tuple[str, ...]) -> str:
    """A whole word (``\\w+``) that is none of ``excluded``, without lookaround: letter by
    letter, each prefix of an excluded word either ends the word (when it is no excluded word
    itself) or goes on with anything but the rest of one."""
    return _none_of(sorted(excluded))


def _none_of(words: list[str]) -> str:
    """A non-empty ``\\w+`` that is none of ``words`` (none of them empty)."""
    firsts = sorted({w[0] for w in words})
    alternatives = [rf"[^\W{''.join(firsts)}]\w*"]
    for first in firsts:
        rests = [w[1:] for w in words if w[0] == first]
        alternatives.append(first + _after(rests))
    return "(?:" + "|".join(alternatives) + ")"


def _after(rests: list[str]) -> str:
    """What may follow a prefix that ``rests`` complete into an excluded word ("": the prefix
    is one, so the word must go on)."""
    longer = [r for r in rests if r]
    if "" in rests:
        return _none_of(longer) if longer else r"\w+"
    return f"(?:{_none_of(longer)})?"
