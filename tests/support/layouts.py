"""Small repositories written file by file, for layouts other than the generated fleet."""

from __future__ import annotations

from pathlib import Path

from tests.support.fixtures import init_git


def write_repo(root: Path, files: dict[str, str], *, git: bool = True) -> Path:
    """Write ``files`` (path -> text) under ``root``; optionally commit them."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    if git:
        init_git(root)
    return root


def chart(name: str, version: str, *dependencies: tuple[str, str, str]) -> str:
    """A Chart.yaml; each dependency is (name, version, repository)."""
    text = f"apiVersion: v2\nname: {name}\nversion: {version}\n"
    if dependencies:
        text += "dependencies:\n" + "".join(
            f"  - name: {d}\n    version: {v}\n    repository: {r}\n" for d, v, r in dependencies
        )
    return text


def helmrelease(name: str, chart_name: str, version: str) -> str:
    """A HelmRelease deploying ``chart_name`` at ``version`` from a HelmRepository."""
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n  chart:\n    spec:\n"
        f"      chart: {chart_name}\n      version: {version}\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: charts\n"
    )


COMMUNITY = "https://fluxcd-community.github.io/helm-charts"
