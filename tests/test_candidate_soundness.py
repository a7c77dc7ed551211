"""The narrowed scan's candidate test is sound: a file or document it passes over holds no pin of
the charts asked for. The reference is a full parse of every document (no candidate test), over
every fixture and real-world snapshot file and generated HelmRelease/OCIRepository documents."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fluxbump.errors import UsageError
from fluxbump.fleet import FleetSpec, write_fleet
from fluxbump.scan.releases import _may_pin
from fluxbump.scan.sites import helmrelease
from fluxbump.scan.sources import SourceFile, source_of
from fluxbump.yamlio import blockyaml, yamldoc

TESTS = Path(__file__).parent
CORPUS = sorted(
    p
    for folder in ("data", "realworld")
    for p in (TESTS / folder).rglob("*")
    if p.is_file() and p.suffix in (".yaml", ".yml")
)


class _Every(frozenset[str]):
    """Every chart name: the full parse reports the pins of whatever chart a document names."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(name)


def _pins(source: SourceFile) -> list[tuple[str, int]]:
    """(chart or release name, offset) of every pin the scan could take from ``source``: each
    document parsed, none skipped. A version patch counts under the release name it targets
    (the second pass looks for those names)."""
    scan = helmrelease.ClusterScan([], [])
    for index, root in enumerate(yamldoc.compose_documents(source.text, source.rel)):
        helmrelease._scan_document(source, index, root, _Every(), scan)
    pins = [(site.subject, site.start) for site in scan.sites]
    pins += [(r.chart, r.tag.start) for r in scan.oci_repositories if r.tag is not None]
    return pins + [(p.name, p.site.start) for p in scan.patches]


def _assert_candidates(rel: str, raw: bytes) -> int:
    """Each pin's name makes the file, and the document holding the pin, a candidate."""
    try:
        source = source_of(rel, raw)
        pins = _pins(source)
    except UsageError:
        return 0  # not YAML: the scan reports it when it names a chart, no pins to miss
    return _assert_pins_are_candidates(source, raw, pins)


def _assert_pins_are_candidates(source: SourceFile, raw: bytes, pins: list[tuple[str, int]]) -> int:
    rel = source.rel
    segments = blockyaml.split_documents(source.text) or []
    for name, start in pins:
        names = frozenset({name})
        assert _may_pin(raw, names), f"{rel}: the file pins {name} at {start}"
        for segment in segments:
            if segment.start <= start < segment.end:
                text = source.text[segment.start : segment.end]
                assert helmrelease.may_pin(text, names), f"{rel}: a document pins {name}"
    return len(pins)


def test_corpus_has_pins_of_every_kind() -> None:
    """The corpus the next test reads holds releases, OCI tags and version patches."""
    assert len(CORPUS) > 200
    scans = []
    for path in CORPUS:
        scan = helmrelease.ClusterScan([], [])
        try:
            source = source_of(path.name, path.read_bytes())
            roots = yamldoc.compose_documents(source.text, path.name)
        except UsageError:
            continue
        for index, root in enumerate(roots):
            helmrelease._scan_document(source, index, root, _Every(), scan)
        scans.append(scan)
    assert sum(len(s.sites) for s in scans) >= 5
    assert sum(r.tag is not None for s in scans for r in s.oci_repositories) >= 10
    assert sum(len(s.patches) for s in scans) >= 3


def test_no_pin_outside_the_candidates_of_a_real_shaped_fleet(tmp_path: Path) -> None:
    """The fleet's release files, where every wrapper's release waits for bp-flux."""
    spec = FleetSpec(clusters=("a.example",), wrappers=6, filler_files=2)
    pins = sum(_assert_candidates(rel, (tmp_path / rel).read_bytes())
               for rel in write_fleet(tmp_path, spec) if rel.startswith("clusters/"))  # fmt: skip
    assert pins == 2 * (2 + 6 + 2)  # two cluster dirs: Flux, umbrella, wrappers, fillers


def test_no_pin_outside_the_candidates_of_the_corpus() -> None:
    # One test, not one per file: 300 tests' setup (each copies the parsed indexes into its
    # own cache) cost more than the checks. The assertion names the file.
    for path in CORPUS:
        _assert_candidates(str(path.relative_to(TESTS)), path.read_bytes())


# --- generated documents ---------------------------------------------------------------------

NAMES = ("bp-flux", "flux", "bp-cert-manager")
name = st.sampled_from(NAMES)
# A scalar as a chart name may be written in a block mapping (the value after ``key: ``).
spelled = st.sampled_from(
    (
        "{n}",
        "'{n}'",
        '"{n}"',
        '"\\x{h}{t}"',  # the first letter as a hex escape
        '"\\u00{h}{t}"',
        '"{n}\\\n  "',  # an escaped line break that joins nothing
        "!!str {n}",
        "&a {n}",
        "./charts/{n}",
        "charts/{n}",
    )
)


def _written(form: str, value: str) -> str:
    return form.format(n=value, h=f"{ord(value[0]):02x}", t=value[1:])


@st.composite
def _depends(draw: st.DrawFn) -> str:
    entries = draw(st.lists(st.tuples(name, st.sampled_from(("", " # after", "  "))), max_size=3))
    if not entries:
        return ""
    style = draw(st.sampled_from(("block", "second key", "flow")))
    if style == "flow":
        return "  dependsOn: [" + ", ".join(f"{{name: {n}}}" for n, _ in entries) + "]\n"
    lines = ["  dependsOn:\n"]
    for n, tail in entries:
        if style == "block":
            lines.append(f"    - name: {n}{tail}\n      namespace: flux-system\n")
        else:
            lines.append(f"    - namespace: flux-system\n      name: {n}{tail}\n")
    return "".join(lines)


@st.composite
def _helmrelease(draw: st.DrawFn) -> str:
    release = draw(name)
    chart = _written(draw(spelled), draw(name))
    version = draw(st.sampled_from(("1.2.3", '"1.2.3"', "${VERSION}")))
    spec = draw(st.sampled_from(("block", "flow", "patch", "chartRef")))
    if spec == "block":
        chart_text = f"  chart:\n    spec:\n      chart: {chart}\n      version: {version}\n"
    elif spec == "flow":
        chart_text = f"  chart: {{spec: {{chart: {chart}, version: {version}}}}}\n"
    elif spec == "patch":  # a version patch: names its release, not its chart
        chart_text = f"  chart:\n    spec:\n      version: {version}\n"
    else:
        chart_text = f"  chartRef:\n    kind: OCIRepository\n    name: {draw(name)}\n"
    source = draw(st.sampled_from(("", f"      sourceRef:\n        name: {draw(name)}\n")))
    meta = _written(draw(spelled), release)
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {meta}\n  namespace: flux-system\nspec:\n"
        + draw(_depends())
        + chart_text
        + (source if spec == "block" else "")
    )


@st.composite
def _ocirepository(draw: st.DrawFn) -> str:
    chart = draw(name)
    url = draw(
        st.sampled_from(
            (
                "oci://ghcr.io/x/{n}",
                "oci://ghcr.io/x/{n}/",
                '"oci://ghcr.io/x/{n}"',
                # a URL running over lines that look like list entries: its value ends in
                # the chart, so the names on those lines are pins
                '"oci://ghcr.io/x\n    - name: a/{n}"',
                "|-\n    oci://ghcr.io/x\n    - name: a/{n}",
                "|-\n    oci://ghcr.io/x\n    - name: a #/{n}",
                '"oci://ghcr.io/x/\\\n    {n}"',
            )
        )
    )
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        f"metadata:\n  name: {draw(name)}\nspec:\n  url: {url.format(n=chart)}\n"
        "  ref:\n    tag: 1.2.3\n"
    )


@st.composite
def _kustomization(draw: st.DrawFn) -> str:
    release = draw(name)
    target = draw(st.sampled_from(("block", "flow")))
    where = (
        f"    target:\n      kind: HelmRelease\n      name: {release}\n"
        if target == "block"
        else f"    target: {{kind: HelmRelease, name: {release}}}\n"
    )
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\npatches:\n"
        "  - patch: |\n      - op: replace\n        path: /spec/chart/spec/version\n"
        "        value: 1.2.3\n" + where
    )


documents = st.lists(st.one_of(_helmrelease(), _ocirepository(), _kustomization()), min_size=1)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_no_pin_outside_the_candidates_of_generated_documents(docs: list[str]) -> None:
    raw = ("---\n" + "---\n".join(docs)).encode()
    try:
        source = source_of("generated.yaml", raw)
        pins = _pins(source)  # parsed once: the parse is most of an example's cost
    except UsageError:
        assume(False)
    _assert_pins_are_candidates(source, raw, pins)


def test_a_name_only_in_depends_on_entries_is_no_candidate() -> None:
    """The narrowing this buys: a wrapper's release that waits for bp-flux is not parsed for it,
    in any of the list-entry spellings; its own chart still is."""
    wrapper = b"""apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bp-cilium
spec:
  dependsOn:
    - name: bp-flux
      namespace: flux-system
    -   name: "bp-flux"   # quoted, spaced, commented
    - name: 'bp-flux'\r
  chart:
    spec:
      chart: bp-cilium
      version: 1.2.3
"""
    assert not _may_pin(wrapper, frozenset({"bp-flux"}))
    assert not helmrelease.may_pin(wrapper.decode(), frozenset({"bp-flux"}))
    assert _may_pin(wrapper, frozenset({"bp-cilium"}))
    for other in (b"    - name: &a bp-flux\n", b"    - {name: bp-flux}\n", b"  x: bp-flux\n"):
        assert _may_pin(wrapper + other, frozenset({"bp-flux"})), other
