"""The post-write survey keeps each cluster file's sites in the order of a fresh walk."""

from __future__ import annotations

from dataclasses import replace

from fluxbump.pins import PinSite, Role
from fluxbump.scan.discover import in_file_order

BASE = PinSite(Role.HELMRELEASE, "", 1, 1, "1.0.0", "bp-x", "ns/bp-x", 0, 5)


def sites(*where: tuple[str, int]) -> list[PinSite]:
    return [replace(BASE, file=rel, start=start) for rel, start in where]


FILES = ["a.yaml", "b.yaml", "c.yaml", "d.yaml"]


def test_sites_read_again_take_their_files_place() -> None:
    kept = sites(("a.yaml", 0), ("a.yaml", 9), ("d.yaml", 3))  # b and c were written
    fresh = sites(("c.yaml", 4), ("b.yaml", 7), ("c.yaml", 1))
    got = in_file_order(FILES, kept, fresh)
    assert [(s.file, s.start) for s in got] == [
        ("a.yaml", 0), ("a.yaml", 9), ("b.yaml", 7), ("c.yaml", 4), ("c.yaml", 1), ("d.yaml", 3)
    ]  # fmt: skip


def test_kept_sites_out_of_file_order_are_placed_by_their_file() -> None:
    kept = sites(("d.yaml", 3), ("a.yaml", 0), ("x.yaml", 2), ("a.yaml", 9))
    fresh = sites(("b.yaml", 7))
    got = in_file_order(FILES, kept, fresh)
    # x.yaml is no cluster file: dropped, as a fresh walk of FILES never finds it
    assert [(s.file, s.start) for s in got] == [
        ("a.yaml", 0), ("a.yaml", 9), ("b.yaml", 7), ("d.yaml", 3)
    ]  # fmt: skip
