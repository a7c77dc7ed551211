"""The built wheel carries templates/ and the snapshot and works outside the checkout.

The whole ``fluxbump demo`` from a wheel that pip installs in a fresh venv is .ci/run's
"fresh machine" step (it needs pip to install the dependencies too); this is the quick check
a developer's ``pytest`` gives of the same wheel: its files, and that it runs from there."""

from __future__ import annotations

import subprocess
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _build_wheel(out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The PEP 517 hook pip calls (``pip wheel --no-build-isolation`` runs this same function
    in a child process), called here directly: a pip process costs more than the build."""
    from hatchling.build import build_wheel

    monkeypatch.chdir(ROOT)  # the backend reads pyproject.toml from the working directory
    return out / build_wheel(str(out))


def test_wheel_installed_in_fresh_venv_resolves_offline_and_finds_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _build_wheel(tmp_path / "dist", monkeypatch)
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("fluxbump/templates/") for n in names)
    assert "fluxbump/data/fluxcd-community-index-2026-04-15.yaml" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Install the wheel itself (no network): unpacking it is what pip does for a pure wheel.
    zipfile.ZipFile(wheel).extractall(site)
    # Dependencies come from the test environment, appended *after* the new venv's own
    # site-packages so the freshly installed fluxbump wins over the checkout.
    Path(site, "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import fluxbump, fluxbump.templates_dir as t; print(fluxbump.__file__); "
        "print(t.template_path('commit-message.txt'))"
    )
    located = subprocess.run(
        [python, "-c", probe], cwd=elsewhere, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert located[0].startswith(site), located
    assert located[1].startswith(site), located

    result = subprocess.run(
        [python, "-m", "fluxbump", "resolve", "2.4.0", "--offline"],
        cwd=elsewhere, capture_output=True, text=True,
        env={"FLUXBUMP_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "flux2 chart 2.14.1" in result.stdout
