"""Secrets fluxbump holds (forge tokens), and the scrub every printed line goes through.

A forge may echo the token back (in a pull request's URL, an error body, a proxy's page).
Scrubbing where text leaves the process (``fluxbump.output``) covers success text,
``--json``, errors and warnings alike, whichever module wrote the text; the forge client
also scrubs its own messages so an exception never carries a token.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

TOKEN_ENV = {"github": "GITHUB_TOKEN", "gitea": "GITEA_TOKEN"}
MASK = "***"
# A value this short would blank ordinary words in every line; no forge issues such tokens.
MIN_LENGTH = 8

_held: set[str] = set()


def hold(secret: str) -> None:
    """Scrub ``secret`` from everything printed from now on."""
    if len(secret.strip()) >= MIN_LENGTH:
        _held.add(secret.strip())


# The password of a URL's user information (``https://user:password@host``: a private Helm
# repository the user names, which httpx sends as basic auth): scheme and user kept.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@")
# An HTTP URL's user information without a password is the credential itself
# (``https://<token>@host``, as GitHub and others take a token): all of it masked.
_URL_USER_TOKEN = re.compile(r"(?i)\b(https?://)[^/\s:@]+@")


def scrub(text: str) -> str:
    """``text`` with every held token, every token variable's value and every URL's
    password (or, in an HTTP URL, user information that is only a name) replaced by ***."""
    for form in _forms():
        text = text.replace(form, MASK)
    if "@" not in text:
        return text
    return _URL_USER_TOKEN.sub(rf"\1{MASK}@", _URL_PASSWORD.sub(rf"\1:{MASK}@", text))


def _forms() -> list[str]:
    """Each secret as written raw, URL-quoted and JSON-escaped; longest first."""
    secrets = set(_held)
    for name in TOKEN_ENV.values():
        value = os.environ.get(name, "").strip()
        if len(value) >= MIN_LENGTH:
            secrets.add(value)
    forms = {
        form
        for secret in secrets
        for form in (
            secret,
            quote(secret, safe=""),
            quote(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
        )
    }
    return sorted(forms, key=len, reverse=True)
