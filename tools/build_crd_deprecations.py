"""Build the bundled catalog of deprecated Flux API versions, per released ``flux2`` chart.

    python -m tools.build_crd_deprecations CHARTS_CLONE [--out fluxbump/data/flux2-crd-deprecations.json]

CHARTS_CLONE is a git clone of https://github.com/fluxcd-community/helm-charts with its tags
(the same input as ``tools/build_crd_schemas.py``). For every tag ``flux2-X.Y.Z`` (X >= 2) it
reads the CRD templates the chart packages at that tag and records each served version marked
``deprecated: true`` with its ``deprecationWarning`` (what the API server prints on every
request). A ``flux2-crd-versions.json`` snapshot lacks these marks; ``to`` moves manifests off a
version the target deprecates, and ``status``/``check`` warn about one.

The file is small: each distinct set of deprecated versions ("crd/version" -> warning) is
stored once (``sets``), and each chart names its set (``charts``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from fluxbump.crds.definitions import CRD_KIND, DOC_SPLIT, detemplate, dig
from tools.build_crd_schemas import CHART_DIR, chart_versions, git

DEFAULT_OUT = Path("fluxbump/data/flux2-crd-deprecations.json")
SOURCE = "https://github.com/fluxcd-community/helm-charts tags flux2-* (charts/flux2 CRDs)"


def deprecations_at(clone: Path, version: str) -> dict[str, str]:
    """ "crd/version" -> deprecationWarning for each deprecated served version at the tag."""
    from ruamel.yaml import YAML

    tag = f"flux2-{version}"
    names = git(clone, "ls-tree", "-r", "--name-only", tag, CHART_DIR).split("\n")
    found: dict[str, str] = {}
    for name in sorted(n for n in names if n.endswith(".crds.yaml") or "/crds/" in n):
        text = detemplate(git(clone, "show", f"{tag}:{name}"))
        for chunk in DOC_SPLIT.split(text):
            if not CRD_KIND.search(chunk):
                continue
            doc: Any = YAML(typ="safe", pure=True).load(chunk)
            crd = dig(doc, "metadata", "name")
            for entry in dig(doc, "spec", "versions") or []:
                if isinstance(entry, dict) and entry.get("served") and entry.get("deprecated"):
                    warning = str(entry.get("deprecationWarning") or "deprecated")
                    found[f"{crd}/{entry['name']}"] = warning
    return found


def build(clone: Path) -> dict[str, Any]:
    sets: dict[str, dict[str, str]] = {}
    charts: dict[str, str] = {}
    for version in chart_versions(clone):
        found = dict(sorted(deprecations_at(clone, version).items()))
        key = hashlib.sha256(json.dumps(found).encode()).hexdigest()[:12]
        sets[key] = found
        charts[version] = key
    return {"format": 1, "source": SOURCE, "sets": sets, "charts": charts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.write_text(json.dumps(build(args.clone), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
