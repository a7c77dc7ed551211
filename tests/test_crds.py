"""CRD guard tests: real chart archives built in memory, served from a 127.0.0.1 server."""

from __future__ import annotations

import copy
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from fluxbump.crds.archives import ArchiveLimits, fetch_chart_archive, resolve_chart_url
from fluxbump.crds.definitions import (
    Crd,
    CrdVersions,
    catalog_app_version,
    crd_catalog_offline,
    detemplate,
    read_crds,
)
from fluxbump.crds.drops import Drop, dropped_versions, guard_transition
from fluxbump.crds.schema import ObjectDoc, object_docs, validate_objects
from fluxbump.errors import EXIT_UNSAFE, ResolutionError, UnsafeTransitionError
from fluxbump.remote.index import HelmIndex, parse_index
from tests.support.data import manifest
from tests.support.helm_server import Fault, HelmServer, serve

# --- building real charts ----------------------------------------------------------------

HEADER = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    {{- with .Values.crds.annotations }}
    {{- . | toYaml | nindent 4 }}
    {{- end }}
    controller-gen.kubebuilder.io/version: v0.16.1
  labels:
    app.kubernetes.io/instance: {{ .Release.Namespace }}
    app.kubernetes.io/version: '{{ .Chart.AppVersion }}'
    helm.sh/chart: '{{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}'
  name: NAME
"""


def helmrelease_schema(*, take_ownership: bool) -> dict[str, Any]:
    install: dict[str, Any] = {
        "type": "object",
        "properties": {
            "remediation": {
                "type": "object",
                "properties": {"retries": {"type": "integer", "minimum": 0}},
            },
            "crds": {"type": "string", "enum": ["Skip", "Create", "CreateReplace"]},
        },
    }
    if take_ownership:
        install["properties"]["disableTakeOwnership"] = {"type": "boolean"}
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["interval"],
                "properties": {
                    "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
                    "suspend": {"type": "boolean"},
                    "install": install,
                    "values": {"x-kubernetes-preserve-unknown-fields": True},
                    "timeout": {"type": "string", "nullable": True},
                },
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }


def crd_text(
    name: str, group: str, kind: str, versions: dict[str, tuple[bool, bool]], schema: Any
) -> str:
    """A CRD document as controller-gen and the flux2 chart write it (templated header)."""
    spec = {
        "group": group,
        "names": {"kind": kind, "plural": name.split(".")[0]},
        "scope": "Namespaced",
        "versions": [
            {
                "name": version,
                "served": served,
                "storage": storage,
                "schema": {"openAPIV3Schema": copy.deepcopy(schema)},  # no YAML aliases
            }
            for version, (served, storage) in versions.items()
        ],
    }
    buffer = io.StringIO()
    YAML().dump({"spec": spec}, buffer)
    return HEADER.replace("NAME", name) + buffer.getvalue()


def templates_file(*docs: str) -> bytes:
    body = "---\n".join(docs)
    return f"{{{{- if .Values.installCRDs }}}}\n{body}{{{{- end }}}}\n".encode()


def targz(members: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return out.getvalue()


def flux_chart(version: str, *, bucket_versions: dict[str, tuple[bool, bool]]) -> bytes:
    """A small flux2-like chart: source CRDs (bucket) plus helm CRDs (helmrelease)."""
    any_schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    source = templates_file(
        crd_text(
            "buckets.source.toolkit.fluxcd.io",
            "source.toolkit.fluxcd.io",
            "Bucket",
            bucket_versions,
            any_schema,
        ),
        crd_text(
            "helmcharts.source.toolkit.fluxcd.io",
            "source.toolkit.fluxcd.io",
            "HelmChart",
            {"v1": (True, True)},
            any_schema,
        ),
    )
    helm = templates_file(
        crd_text(
            "helmreleases.helm.toolkit.fluxcd.io",
            "helm.toolkit.fluxcd.io",
            "HelmRelease",
            {"v2": (True, True), "v2beta2": (True, False)},
            helmrelease_schema(take_ownership=False),
        )
    )
    chart_yaml = f"apiVersion: v2\nname: flux2\nversion: {version}\nappVersion: 2.x\n".encode()
    return targz(
        {
            "flux2/Chart.yaml": chart_yaml,
            "flux2/values.yaml": b"installCRDs: true\n",
            "flux2/templates/source-controller.crds.yaml": source,
            "flux2/templates/helm-controller.crds.yaml": helm,
            "flux2/templates/helm-controller.yaml": b"kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        }
    )


OLD = flux_chart("2.0.0", bucket_versions={"v1beta1": (True, False), "v1beta2": (True, True)})
NEW = flux_chart("2.1.0", bucket_versions={"v1beta2": (True, True), "v1": (True, False)})
SAME = flux_chart(
    "2.0.1",
    bucket_versions={"v1beta1": (True, False), "v1beta2": (True, True), "v1": (True, False)},
)


def index_yaml(charts: dict[str, bytes], digests: dict[str, str] | None = None) -> bytes:
    lines = ["apiVersion: v1", "entries:", "  flux2:"]
    for version, body in charts.items():
        digest = (digests or {}).get(version, hashlib.sha256(body).hexdigest())
        lines += [
            "  - name: flux2",
            f"    version: {version}",
            "    appVersion: 2.x",
            f"    urls: [charts/flux2-{version}.tgz]",
            f"    digest: {digest}",
        ]
    return ("\n".join(lines) + "\n").encode()


CHARTS = {"2.0.0": OLD, "2.1.0": NEW, "2.0.1": SAME}


@pytest.fixture(scope="module")
def shared_server() -> Iterator[HelmServer]:
    # One server per module: each shutdown waits out serve_forever's 0.5 s poll.
    with serve(HelmServer()) as server:
        yield server


@pytest.fixture
def chart_server(shared_server: HelmServer) -> HelmServer:
    """The shared server, reset: three flux2-like charts and an index with relative URLs."""
    shared_server.routes = {f"/repo/charts/flux2-{v}.tgz": body for v, body in CHARTS.items()}
    shared_server.routes["/repo/index.yaml"] = index_yaml(CHARTS)
    shared_server.requests.clear()
    shared_server.faults.clear()
    return shared_server


def index_of(server: HelmServer) -> HelmIndex:
    url = server.url("/repo/index.yaml")
    return parse_index(server.routes["/repo/index.yaml"].decode(), url)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


# --- reading CRDs --------------------------------------------------------------------------


def test_read_crds_parses_templated_chart() -> None:
    notes: list[str] = []
    crds = read_crds(OLD, "flux2-2.0.0.tgz", notes=notes)
    assert sorted(crds) == [
        "buckets.source.toolkit.fluxcd.io",
        "helmcharts.source.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
    ]
    bucket = crds["buckets.source.toolkit.fluxcd.io"]
    assert (bucket.group, bucket.kind) == ("source.toolkit.fluxcd.io", "Bucket")
    assert bucket.served == ("v1beta1", "v1beta2") and bucket.storage == "v1beta2"
    release = crds["helmreleases.helm.toolkit.fluxcd.io"]
    assert set(release.schemas) == {"v2", "v2beta2"}
    assert "install" in release.schemas["v2"]["properties"]["spec"]["properties"]
    assert notes == []


def test_unparseable_document_is_skipped_with_a_note() -> None:
    broken = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: [oops\n"
    )
    good = crd_text("a.example.io", "example.io", "A", {"v1": (True, True)}, {"type": "object"})
    chart = targz({"c/templates/x.crds.yaml": templates_file(broken, good)})
    notes: list[str] = []
    assert list(read_crds(chart, "c.tgz", notes=notes)) == ["a.example.io"]
    assert len(notes) == 1 and "c/templates/x.crds.yaml" in notes[0] and "skipped" in notes[0]


def test_a_document_whose_integer_cannot_be_read_is_skipped_with_a_note() -> None:
    # A chart's CRD (a hostile or broken chart) with '!!int abc' or an integer of more than
    # 4300 digits raised ValueError out of the parse: "unexpected error", exit 70.
    good = crd_text("a.example.io", "example.io", "A", {"v1": (True, True)}, {"type": "object"})
    for value in ("!!int abc", "9" * 5000):
        broken = good.replace("a.example.io", "b.example.io").replace(
            "  versions:", f"  x: {value}\n  versions:"
        )
        chart = targz({"c/templates/x.crds.yaml": templates_file(broken, good)})
        notes: list[str] = []
        assert list(read_crds(chart, "c.tgz", notes=notes)) == ["a.example.io"]
        assert len(notes) == 1 and "skipped" in notes[0], notes


def test_document_with_aliases_is_skipped_with_a_note() -> None:
    doc = crd_text("a.example.io", "example.io", "A", {"v1": (True, True)}, {"type": "object"})
    doc = doc.replace("  versions:", "  x: &big [1, 2]\n  y: [*big, *big]\n  versions:")
    notes: list[str] = []
    assert read_crds(targz({"c/crds/a.yaml": doc.encode()}), "c.tgz", notes=notes) == {}
    assert len(notes) == 1 and "aliases" in notes[0]


def test_detemplate_drops_action_lines_and_inline_actions() -> None:
    text = "{{- if .Values.x }}\na: {{ .Release.Name }}\n  {{- end }}\nb: '{{ .A }}-{{ .B }}'\n"
    assert detemplate(text) == "a: TEMPLATED\nb: 'TEMPLATED-TEMPLATED'\n"


# --- the drop guard ----------------------------------------------------------------------


def test_transition_dropping_v1beta1_is_refused_and_forced_warns(chart_server: HelmServer) -> None:
    index = index_of(chart_server)
    current = read_crds(fetch_chart_archive(index, "flux2", "2.0.0", offline=False), "2.0.0")
    target = read_crds(fetch_chart_archive(index, "flux2", "2.1.0", offline=False), "2.1.0")
    drops = dropped_versions(current, target)
    assert drops == [
        Drop("buckets.source.toolkit.fluxcd.io", "v1beta1", stored=False, crd_removed=False)
    ]
    with pytest.raises(UnsafeTransitionError) as caught:
        guard_transition("flux2 2.0.0", "flux2 2.1.0", drops, force=False)
    message = caught.value.message
    assert caught.value.exit_code == EXIT_UNSAFE == 4
    assert "\n" not in message
    assert "buckets.source.toolkit.fluxcd.io/v1beta1" in message
    assert "migrate stored objects first (e.g. `flux migrate`), then bump" in message
    assert "--force-unsafe-crds overrides" in message
    warnings = guard_transition("flux2 2.0.0", "flux2 2.1.0", drops, force=True)
    assert len(warnings) == 1 and "buckets.source.toolkit.fluxcd.io/v1beta1" in warnings[0]


def test_safe_transition_has_no_drops(chart_server: HelmServer) -> None:
    index = index_of(chart_server)
    current = read_crds(fetch_chart_archive(index, "flux2", "2.0.0", offline=False), "2.0.0")
    target = read_crds(fetch_chart_archive(index, "flux2", "2.0.1", offline=False), "2.0.1")
    assert dropped_versions(current, target) == []
    assert guard_transition("2.0.0", "2.0.1", [], force=False) == []


def test_missing_crd_drops_every_served_version() -> None:
    current = {"a.x.io": CrdVersions("a.x.io", ("v1", "v2"), "v2")}
    drops = dropped_versions(current, {})
    assert drops == [Drop("a.x.io", "v1", False, True), Drop("a.x.io", "v2", True, True)]
    assert drops[1].describe() == "a.x.io/v2 (storage version now, CRD removed)"


def test_real_data_downgrade_2_14_1_to_2_13_0_drops_buckets_v1() -> None:
    flux_2_4 = crd_catalog_offline("2.14.1")
    flux_2_3 = crd_catalog_offline("2.13.0")
    assert flux_2_4 is not None and flux_2_3 is not None
    assert (catalog_app_version("2.14.1"), catalog_app_version("2.13.0")) == ("2.4.0", "2.3.0")
    drops = dropped_versions(flux_2_4, flux_2_3)
    assert drops == [Drop("buckets.source.toolkit.fluxcd.io", "v1", stored=True, crd_removed=False)]
    with pytest.raises(UnsafeTransitionError, match=r"buckets\.source\.toolkit\.fluxcd\.io/v1 "):
        guard_transition("flux2 2.14.1", "flux2 2.13.0", drops, force=False)


def test_real_data_upgrade_2_13_0_to_2_14_1_is_safe() -> None:
    flux_2_3, flux_2_4 = crd_catalog_offline("2.13.0"), crd_catalog_offline("2.14.1")
    assert flux_2_3 is not None and flux_2_4 is not None
    assert dropped_versions(flux_2_3, flux_2_4) == []  # 2.14.1 only adds buckets v1
    assert flux_2_4["buckets.source.toolkit.fluxcd.io"].storage == "v1"
    assert flux_2_3["buckets.source.toolkit.fluxcd.io"].served == ("v1beta1", "v1beta2")


def test_real_data_2_17_0_stops_serving_v1beta1_everywhere() -> None:
    before, after = crd_catalog_offline("2.16.4"), crd_catalog_offline("2.17.0")
    assert before is not None and after is not None
    dropped = {(d.crd, d.version) for d in dropped_versions(before, after)}
    assert ("helmreleases.helm.toolkit.fluxcd.io", "v2beta1") in dropped
    assert ("buckets.source.toolkit.fluxcd.io", "v1beta1") in dropped
    assert crd_catalog_offline("9.9.9") is None


# --- fetching ----------------------------------------------------------------------------


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_second_fetch_of_same_digest_makes_no_request(
    chart_server: HelmServer, tmp_path: Path
) -> None:
    index = index_of(chart_server)
    first = fetch_chart_archive(index, "flux2", "2.0.0", offline=False)
    assert len(chart_server.requests) == 1
    assert chart_server.requests[0].path == "/repo/charts/flux2-2.0.0.tgz"  # relative URL resolved
    assert fetch_chart_archive(index, "flux2", "2.0.0", offline=False) == first
    assert fetch_chart_archive(index, "flux2", "2.0.0", offline=True) == first
    assert len(chart_server.requests) == 1
    digest = hashlib.sha256(OLD).hexdigest()
    assert tree(tmp_path / "cache") == ["charts", f"charts/{digest}.tgz"]


def test_offline_without_cache_is_a_resolution_error(chart_server: HelmServer) -> None:
    with pytest.raises(
        ResolutionError, match=r"offline: chart flux2 2\.1\.0 is not in the chart cache"
    ):
        fetch_chart_archive(index_of(chart_server), "flux2", "2.1.0", offline=True)
    assert chart_server.requests == []


def test_unknown_version_is_a_resolution_error(chart_server: HelmServer) -> None:
    with pytest.raises(ResolutionError, match=r"flux2 9\.9\.9 is not in the Helm index"):
        fetch_chart_archive(index_of(chart_server), "flux2", "9.9.9", offline=False)


@pytest.mark.cold_cache  # looks at the cache directory's files
def test_digest_mismatch_is_refused_and_not_cached(
    chart_server: HelmServer, tmp_path: Path
) -> None:
    wrong = "ab" * 32
    chart_server.routes["/repo/index.yaml"] = index_yaml({"2.0.0": OLD}, {"2.0.0": wrong})
    with pytest.raises(ResolutionError) as caught:
        fetch_chart_archive(index_of(chart_server), "flux2", "2.0.0", offline=False)
    message = caught.value.message
    assert "flux2 2.0.0" in message and wrong in message
    assert hashlib.sha256(OLD).hexdigest() in message
    assert tree(tmp_path / "cache") == []


def test_malformed_digest_is_refused(chart_server: HelmServer) -> None:
    chart_server.routes["/repo/index.yaml"] = index_yaml({"2.0.0": OLD}, {"2.0.0": "md5:abc"})
    with pytest.raises(ResolutionError, match="not a sha256 digest"):
        fetch_chart_archive(index_of(chart_server), "flux2", "2.0.0", offline=False)
    assert chart_server.requests == []


def test_server_error_is_retried(chart_server: HelmServer) -> None:
    chart_server.faults.append(Fault(status=503))
    body = fetch_chart_archive(index_of(chart_server), "flux2", "2.1.0", offline=False)
    assert body == NEW and len(chart_server.requests) == 2


def test_local_index_and_file_urls(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "flux2-2.0.0.tgz").write_bytes(OLD)
    local_index = str(tmp_path / "repo" / "index.yaml")
    assert resolve_chart_url(local_index, "flux2-2.0.0.tgz") == str(
        tmp_path / "repo" / "flux2-2.0.0.tgz"
    )
    assert resolve_chart_url("https://h/x/index.yaml", "c/a.tgz") == "https://h/x/c/a.tgz"
    assert resolve_chart_url("https://h/x/index.yaml", "https://o/a.tgz") == "https://o/a.tgz"
    with pytest.raises(ResolutionError, match="is relative and bundled snapshot"):
        resolve_chart_url("bundled snapshot 2026-04-15", "flux2-2.0.0.tgz")
    text = index_yaml({"2.0.0": OLD}).decode().replace("charts/flux2-2.0.0.tgz", "flux2-2.0.0.tgz")
    assert (
        fetch_chart_archive(parse_index(text, local_index), "flux2", "2.0.0", offline=False) == OLD
    )
    file_url = (tmp_path / "repo" / "flux2-2.0.0.tgz").as_uri()
    text = text.replace("[flux2-2.0.0.tgz]", f"[{file_url}]")
    assert (
        fetch_chart_archive(parse_index(text, "elsewhere"), "flux2", "2.0.0", offline=False) == OLD
    )


# --- unsafe archives -------------------------------------------------------------------------


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


UNSAFE = {
    "dotdot": targz({"flux2/Chart.yaml": b"name: flux2\n", "flux2/../x": b"evil"}),
    "absolute": targz({"/tmp/fluxbump-evil": b"evil"}),
    "symlink": targz({}, [special("flux2/templates/link.yaml", tarfile.SYMTYPE, "/etc/passwd")]),
    "hardlink": targz({}, [special("flux2/hard", tarfile.LNKTYPE, "/etc/passwd")]),
    "device": targz({}, [special("flux2/dev", tarfile.CHRTYPE)]),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_member_is_refused_and_nothing_written(
    case: str, tmp_path: Path, chart_server: HelmServer
) -> None:
    archive = UNSAFE[case]
    before = tree(tmp_path)
    with pytest.raises(ResolutionError, match="unsafe archive member"):
        read_crds(archive, f"{case}.tgz")
    chart_server.routes["/repo/charts/flux2-1.0.0.tgz"] = archive
    index = parse_index(
        index_yaml({"1.0.0": archive}).decode(), chart_server.url("/repo/index.yaml")
    )
    with pytest.raises(ResolutionError, match="unsafe archive member"):
        fetch_chart_archive(index, "flux2", "1.0.0", offline=False)
    assert len(chart_server.requests) == 1
    assert tree(tmp_path) == before  # no cache entry, no extracted file
    assert not Path("/tmp/fluxbump-evil").exists()


def test_oversized_member_is_refused() -> None:
    archive = targz({"flux2/templates/big.yaml": b"a" * 2048})
    with pytest.raises(ResolutionError, match="larger than 1024 bytes"):
        read_crds(archive, "big.tgz", limits=ArchiveLimits(member_bytes=1024))


def test_member_over_default_limit_is_refused() -> None:
    archive = targz({"flux2/big": bytes(9 * 1024 * 1024)})
    with pytest.raises(ResolutionError, match="unsafe archive member 'flux2/big'"):
        read_crds(archive, "big.tgz")


def test_gzip_bomb_is_refused_by_total_size() -> None:
    archive = targz({f"flux2/f{i}": bytes(600_000) for i in range(4)})
    assert len(archive) < 20_000
    with pytest.raises(ResolutionError, match="unpacks to more than 1000000 bytes"):
        read_crds(archive, "bomb.tgz", limits=ArchiveLimits(total_bytes=1_000_000))


def test_garbage_is_not_an_archive() -> None:
    with pytest.raises(ResolutionError, match="not a gzip archive"):
        read_crds(b"<html>not found</html>", "x.tgz")


# --- schema validation -----------------------------------------------------------------------

HELMRELEASE = manifest("helmrelease-retries.yaml")


def helm_crds(*, take_ownership: bool, served: tuple[str, ...] = ("v2",)) -> dict[str, Crd]:
    name = "helmreleases.helm.toolkit.fluxcd.io"
    schema = helmrelease_schema(take_ownership=take_ownership)
    crd = Crd(
        name, served, "v2", "helm.toolkit.fluxcd.io", "HelmRelease", {v: schema for v in served}
    )
    return {name: crd}


def validate(text: str, crds: dict[str, Crd]) -> list[str]:
    found = validate_objects(object_docs(text, "hr.yaml"), crds, release="Flux 2.3.0")
    return [v.as_text() for v in found]


def test_unknown_field_fails_against_schema_without_it() -> None:
    text = HELMRELEASE.replace("RETRIES", "3")
    assert validate(text, helm_crds(take_ownership=False)) == [
        "hr.yaml:10: HelmRelease flux-system/bp-flux: spec.install.disableTakeOwnership: "
        "unknown field in helm.toolkit.fluxcd.io/v2 of Flux 2.3.0"
    ]
    assert validate(text, helm_crds(take_ownership=True)) == []


def test_placeholder_accepted_where_integer_expected() -> None:
    crds = helm_crds(take_ownership=True)
    assert validate(HELMRELEASE.replace("RETRIES", "${RETRIES}"), crds) == []
    assert validate(HELMRELEASE.replace("RETRIES", "${RETRIES:=3}"), crds) == []
    wrong = validate(HELMRELEASE.replace("RETRIES", "three"), crds)
    assert len(wrong) == 1 and wrong[0].startswith("hr.yaml:12: HelmRelease flux-system/bp-flux: ")
    assert "spec.install.remediation.retries: 'three' is not of type 'integer'" in wrong[0]
    negative = validate(HELMRELEASE.replace("RETRIES", "-1"), crds)
    assert len(negative) == 1 and "less than the minimum of 0" in negative[0]


def test_other_schema_errors_are_reported() -> None:
    text = HELMRELEASE.replace("RETRIES", "1").replace("interval: 10m", "interval: soon")
    text = text.replace("crds: CreateReplace", "crds: Always")
    found = validate(text, helm_crds(take_ownership=True))
    assert [f.split(": ", 3)[2] for f in found] == ["spec.install.crds", "spec.interval"]
    assert found[0].startswith("hr.yaml:9:") and found[1].startswith("hr.yaml:7:")


def test_api_version_not_served_is_a_violation() -> None:
    text = HELMRELEASE.replace("helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta1")
    found = validate_objects(
        object_docs(text, "hr.yaml"), helm_crds(take_ownership=True), release="Flux 2.3.0"
    )
    assert [(v.line, v.message) for v in found] == [
        (
            1,
            "HelmRelease flux-system/bp-flux: apiVersion helm.toolkit.fluxcd.io/v2beta1 is not "
            "served by Flux 2.3.0's CRD; served: v2",
        )
    ]
    assert found[0].found == "helm.toolkit.fluxcd.io/v2beta1" and found[0].expected == "v2"


def test_plain_tuples_without_nodes_use_the_object_line() -> None:
    obj = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "x"},
        "spec": {"interval": "1m", "nope": 1, "timeout": None},
    }
    found = validate_objects([ObjectDoc("f.yaml", 0, 40, obj)], helm_crds(take_ownership=True))
    assert [v.as_text() for v in found] == [
        "f.yaml:40: HelmRelease x: spec.nope: unknown field in helm.toolkit.fluxcd.io/v2 of the target release"
    ]


def test_validation_against_crds_read_from_a_chart() -> None:
    crds = read_crds(OLD, "flux2-2.0.0.tgz")
    found = validate(HELMRELEASE.replace("RETRIES", "${N}"), crds)
    assert len(found) == 1 and "spec.install.disableTakeOwnership: unknown field" in found[0]


def test_a_tampered_cache_entry_is_ignored_and_fetched_again(
    chart_server: HelmServer, tmp_path: Path
) -> None:
    """SECURITY.md: cached archives are content-addressed and re-verified on every read."""
    index = index_of(chart_server)
    first = fetch_chart_archive(index, "flux2", "2.0.0", offline=False)
    entry = tmp_path / "cache" / "charts" / f"{hashlib.sha256(OLD).hexdigest()}.tgz"
    entry.write_bytes(targz({"flux2/Chart.yaml": b"name: evil\n"}))
    with pytest.raises(ResolutionError, match="not in the chart cache"):
        fetch_chart_archive(index, "flux2", "2.0.0", offline=True)  # never used unverified
    assert fetch_chart_archive(index, "flux2", "2.0.0", offline=False) == first
    assert len(chart_server.requests) == 2 and entry.read_bytes() == OLD


def test_more_members_than_the_default_limit_are_refused() -> None:
    """SECURITY.md: at most 5000 members per chart archive."""
    archive = targz({f"flux2/f{i}": b"" for i in range(5001)})
    with pytest.raises(ResolutionError, match="archive has more than 5000 members"):
        read_crds(archive, "many.tgz")
