"""Fixture files under tests/data/: YAML a test reads as text, kept as files so that each
appears once and reads as what it is."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def manifest(name: str) -> str:
    """The text of ``tests/data/manifests/NAME``, exactly as written (no newline translation)."""
    return (DATA / "manifests" / name).read_bytes().decode("utf-8")
