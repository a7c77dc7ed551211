"""The crash tests' fixtures: a small 127.0.0.1 index (module scope) and no inherited kill
or pause seam (it would stop pytest itself)."""

from __future__ import annotations

from tests.support.crash_cli import index_server, no_seams

__all__ = ["index_server", "no_seams"]
