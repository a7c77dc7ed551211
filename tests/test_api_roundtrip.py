"""Round trip: moving Flux objects' apiVersion and moving it back restores the original bytes
(the edit is the scalar only: quoting, comments, CRLF, flow style and other documents survive)."""

from __future__ import annotations

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
