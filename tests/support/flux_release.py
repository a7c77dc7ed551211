"""A Flux release download base on 127.0.0.1: the stand-in ``flux`` CLI
(``tests/data/fluxcli/flux.py``) packed as ``flux_<ver>_<os>_<arch>.tar.gz`` with its
``flux_<ver>_checksums.txt``, as GitHub serves the real release assets."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

from fluxbump.remote.fluxcli import asset_name
from tests.support.data import DATA

COMPONENTS = "source-controller,kustomize-controller,helm-controller,notification-controller"


def stand_in(version: str) -> bytes:
    """The stand-in CLI of ``version``: a script run by this Python."""
    script = (DATA / "fluxcli" / "flux.py").read_text("utf-8")
    return f"#!{sys.executable}\n{script}".replace(
        'VERSION = "0.0.0"', f'VERSION = "{version}"'
    ).encode()


def install_stand_in(directory: Path, version: str) -> Path:
    """The stand-in written as ``directory/flux`` (executable)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "flux"
    path.write_bytes(stand_in(version))
    path.chmod(0o755)
    return path


def install_printing(directory: Path, version: str, printed: bytes) -> Path:
    """A ``flux`` of ``version`` whose ``install --export`` prints ``printed`` whatever the
    options: the CLI a real repository's manifests came from, which the trimmed stand-in's
    manifests are not (it says the file was not edited since)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "export.yaml").write_bytes(printed)
    script = (
        f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\n"
        f"if args == ['version', '--client']:\n    print('flux: v{version}')\n"
        "elif args[:2] == ['install', '--export']:\n"
        f"    sys.stdout.buffer.write(open({str(directory / 'export.yaml')!r}, 'rb').read())\n"
        "else:\n    sys.exit(1)\n"
    )
    path = directory / "flux"
    path.write_text(script, "utf-8")
    path.chmod(0o755)
    return path


def export(cli: Path, version: str, *flags: str) -> str:
    """What ``flux install --export`` of the stand-in prints (what a repository holds)."""
    argv = [str(cli), "install", "--export", f"--version=v{version}", *flags]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def archive(members: dict[str, bytes]) -> bytes:
    """A .tar.gz of ``members`` (name -> bytes, each 0755), as goreleaser packs the CLI."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def release_routes(
    version: str, *, members: dict[str, bytes] | None = None, digest: str | None = None
) -> dict[str, bytes]:
    """The routes of one release: its archive for this machine and the checksums file
    (``digest`` overrides the archive's true sha256, to serve a bad one)."""
    body = archive(members if members is not None else {"flux": stand_in(version)})
    asset = asset_name(version)
    listed = digest or hashlib.sha256(body).hexdigest()
    sums = f"{'0' * 64}  flux_{version}_windows_amd64.zip\n{listed}  {asset}\n"
    return {
        f"/v{version}/{asset}": body,
        f"/v{version}/flux_{version}_checksums.txt": sums.encode(),
    }
