"""Scalar styles and documents shared by the splice tests."""

from __future__ import annotations

from hypothesis import strategies as st

from fluxbump.pins import PinSite, Role
from fluxbump.yamlio.yamldoc import YamlPath, compose_documents, scalar_at


def site_at(text: str, path: YamlPath, doc: int = 0) -> PinSite:
    scalar = scalar_at(compose_documents(text, "t.yaml")[doc], doc, path)
    assert scalar is not None, path
    return PinSite(
        Role.CHART_VERSION, "t.yaml", scalar.line, scalar.column, scalar.value, "c", "o",
        scalar.start, scalar.end, doc, path,
    )  # fmt: skip


KEYS = st.sampled_from(["name", "version", "chart", "repo", "tag", "x-1", "übung"])


PLAIN = st.from_regex(r"[a-z][a-z0-9.-]{0,8}", fullmatch=True).filter(
    lambda s: s not in ("null", "true", "false", "yes", "no", "on", "off", "y", "n")
)


VERSION = st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)


STYLE = st.sampled_from(["plain", "double", "single"])


def render(value: str, style: str) -> str:
    return {"plain": value, "double": f'"{value}"', "single": f"'{value}'"}[style]
