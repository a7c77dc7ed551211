"""Round trip: moving Flux objects' apiVersion and moving it back restores the original bytes
(the edit is the scalar only: quoting, comments, CRLF, flow style and other documents survive)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fluxbump.crds.migrate import flux_objects
from fluxbump.scan.sources import source_of
from fluxbump.write.splice import edit_yaml

GROUPS = {
    "GitRepository": "source.toolkit.fluxcd.io",
    "Kustomization": "kustomize.toolkit.fluxcd.io",
    "HelmRelease": "helm.toolkit.fluxcd.io",
    "Alert": "notification.toolkit.fluxcd.io",
}
VERSIONS = ("v1beta1", "v1beta2", "v1beta3", "v1", "v2beta1", "v2beta2", "v2")

quote = st.sampled_from(["", "'", '"'])
comment = st.sampled_from(["", "  # pinned", "   #x"])
document = st.tuples(
    st.sampled_from(sorted(GROUPS)),
    st.sampled_from(VERSIONS),
    quote,
    comment,
    st.sampled_from(["metadata:\n  name: a\n", "metadata: {name: a, namespace: b}\n"]),
    st.sampled_from(["spec:\n  interval: 5m\n", "spec: {interval: 1m}\n", ""]),
)


def render(docs: list[tuple[str, str, str, str, str, str]], newline: str, header: str) -> str:
    parts = [
        f"apiVersion: {q}{GROUPS[kind]}/{version}{q}{note}\nkind: {kind}\n{meta}{spec}"
        for kind, version, q, note, meta, spec in docs
    ]
    return (header + "---\n".join(parts)).replace("\n", newline)


def moved(rel: str, text: str, new_versions: list[str]) -> str:
    objects = flux_objects(source_of(rel, text.encode()))
    edits = [
        (obj.site, f"{obj.group}/{version}")
        for obj, version in zip(objects, new_versions, strict=True)
    ]
    return edit_yaml(rel, text, edits)


@settings(max_examples=150, deadline=None)
@given(
    docs=st.lists(document, min_size=1, max_size=4),
    targets=st.lists(st.sampled_from(VERSIONS), min_size=4, max_size=4),
    newline=st.sampled_from(["\n", "\r\n"]),
    header=st.sampled_from(["", "# Flux objects\n---\n", "---\n"]),
)
def test_migrate_then_migrate_back_restores_the_bytes(
    docs: list[tuple[str, str, str, str, str, str]],
    targets: list[str],
    newline: str,
    header: str,
) -> None:
    text = render(docs, newline, header)
    originals = [version for _, version, *_ in docs]
    there = moved("f.yaml", text, targets[: len(docs)])
    # Only the apiVersion scalars changed: one line per document at most.
    changed = [(a, b) for a, b in zip(text.splitlines(), there.splitlines(), strict=True) if a != b]
    assert len(changed) <= len(docs)
    assert all(a.startswith("apiVersion:") for a, _ in changed)
    assert [o.version for o in flux_objects(source_of("f.yaml", there.encode()))] == targets[
        : len(docs)
    ]
    assert moved("f.yaml", there, originals) == text


# --- fields Flux renamed (crds/renames.py) ----------------------------------------------
# Moving back is not a fluxbump operation: v1beta2 serves ``patches`` too, so a move back
# to it keeps them. The property is the inverse as text: undoing the literal block (its
# header line and the two columns it added) gives back the original bytes exactly.

patch_item = st.tuples(
    st.sampled_from([" ", "   "]),  # after the dash
    st.booleans(),  # a comment line inside the patch
    st.booleans(),  # a block scalar inside the patch
    st.sampled_from(["podinfo", "'quoted'", "a # trailing"]),
)


def render_patches(indent: str, dash: str, items: list[tuple[str, bool, bool, str]]) -> str:
    lines = []
    for gap, note, block, name in items:
        col = " " * (len(indent + dash) + 1 + len(gap))
        lines.append(f"{indent}{dash}-{gap}apiVersion: v1")
        lines.append(f"{col}kind: ConfigMap")
        if note:
            lines.append(f"{col}# why this patch")
        lines += [f"{col}metadata:", f"{col}  name: {name}"]
        if block:
            lines += [
                f"{col}data:",
                f"{col}  run.sh: |",
                f"{col}    echo a",
                "",
                f"{col}    exit 0",
            ]
    return "\n".join(lines) + "\n"


def undo_literals(text: str) -> str:
    """The test's oracle: ``- patch: |`` + its lines two columns further in -> the item."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        head = re.match(r"\s*-\s+patch: \|\r?$", line)
        if head is not None:
            column = head.end() - len("patch: |\r" if line.endswith("\r") else "patch: |")
            out.append(line[:column] + lines[i + 1][column + 2 :])
            i += 2
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) >= column + 2
            ):
                out.append(lines[i][2:] if lines[i].strip() else lines[i])
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out).replace("patches:", "patchesStrategicMerge:")


@settings(max_examples=120, deadline=None)
@given(
    dash=st.sampled_from(["", "  "]),
    items=st.lists(patch_item, min_size=1, max_size=3),
    after=st.sampled_from(["", "  timeout: 1m\n", "  # the end\n"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_a_strategic_merge_patch_list_becomes_patches_and_back(
    dash: str,
    items: list[tuple[str, bool, bool, str]],
    after: str,
    newline: str,
) -> None:
    from fluxbump.crds.migrate import migration_edits
    from fluxbump.crds.schema_catalog import bundled_crds
    from fluxbump.write.splice import edit_with_fields

    body = render_patches("  ", dash, items)
    text = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n"
        "  name: a\nspec:\n  interval: 5m\n  path: ./a\n  prune: false\n"
        "  sourceRef: {kind: GitRepository, name: a}\n"
        f"  patchesStrategicMerge:\n{body}{after}"
    ).replace("\n", newline)
    crds = bundled_crds("2.18.0")
    assert crds is not None
    objects = flux_objects(source_of("f.yaml", text.encode()))
    edits = migration_edits(objects, crds, "Flux 2.8.0")
    there = edit_with_fields("f.yaml", text, [(e.site, e.text or e.new) for e in edits])
    assert "patchesStrategicMerge" not in there and len(re.findall(r"-\s+patch: \|", there)) == len(
        items
    )
    back = undo_literals(there).replace("fluxcd.io/v1" + newline, "fluxcd.io/v1beta2" + newline)
    assert back == text
