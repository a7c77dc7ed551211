"""``fluxbump ci-workflow``: the GitHub Actions workflow, with an install line that is pinned.

fluxbump is not on the Python package index, so ``pip install fluxbump`` would install
someone else's package (or nothing). The workflow installs exactly what the user names, and
by default what is running now when that came from a git URL at a commit (PEP 610).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fluxbump.errors import UsageError

WORKFLOW_PATH = ".github/workflows/fluxbump.yml"
# What --install accepts: a released version, or a git URL at a full commit id (a tag or a
# branch can be moved under the workflow).
_PINNED = re.compile(
    r"fluxbump==[0-9]+\.[0-9]+\.[0-9]+\S*"
    r"|(?:fluxbump @ )?git\+(?:https|ssh)://\S+@[0-9a-f]{40}(?:#\S*)?"
)
_EXAMPLE = "--install 'fluxbump @ git+https://HOST/OWNER/fluxbump@COMMIT' (a full commit id)"


def install_spec(requested: str | None) -> str:
    """The pip requirement the workflow installs; an unpinned one exits 2."""
    if requested is not None:
        if not _PINNED.fullmatch(requested.strip()):
            raise UsageError(
                f"--install {requested!r} is not pinned: pass fluxbump==X.Y.Z (once published) "
                f"or a git URL at a commit, e.g. {_EXAMPLE}"
            )
        return requested.strip()
    running = spec_from_direct_url(_direct_url())
    if running is None:
        raise UsageError(
            "this fluxbump was not installed from a git URL at a commit, so the workflow "
            f"cannot install the same one; pass {_EXAMPLE}"
        )
    return running


def spec_from_direct_url(direct: dict[str, Any] | None) -> str | None:
    """``fluxbump @ git+URL@COMMIT`` from an installation's PEP 610 record, if it has one."""
    if not direct:
        return None
    vcs = direct.get("vcs_info") or {}
    url, commit = direct.get("url", ""), vcs.get("commit_id", "")
    if vcs.get("vcs") != "git" or not re.fullmatch(r"[0-9a-f]{40}", str(commit)):
        return None
    spec = f"fluxbump @ git+{url}@{commit}"
    return spec if _PINNED.fullmatch(spec) else None


def render_workflow(install: str) -> str:
    from fluxbump.render import render

    return render(
        "ci-workflow.yaml", install=json.dumps(install), workflow_path=WORKFLOW_PATH
    ).rstrip("\n")


def _direct_url() -> dict[str, Any] | None:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("fluxbump").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
