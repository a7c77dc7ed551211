"""The ``flux`` CLI of one Flux release, for regenerating ``flux bootstrap`` manifests.

``flux install --export`` of the CLI whose own version is the release prints the manifests from
the copy embedded in the binary (no network, no cluster). The CLI is, in order: the ``--flux-cli
PATH`` of that release (given once per release: the target's regenerates, the current one's
proves the file unchanged; given ones are all there is); ``flux`` on ``PATH`` when ``flux version --client`` is the release; a copy cached
earlier; the release asset ``flux_<ver>_<os>_<arch>.tar.gz`` downloaded from the release
download base (``--flux-releases``, ``$FLUXBUMP_FLUX_RELEASES``; default GitHub's) and
verified against ``flux_<ver>_checksums.txt`` (sha256) before a byte of it is kept. The
archive is read in memory by the bounded reader of chart archives (links, ``..`` paths and
oversized members refused: nothing is extracted by tarfile), and the ``flux`` member is
cached under the archive's digest, with its own digest re-checked on every later use.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fluxbump.errors import ResolutionError, UsageError
from fluxbump.remote import http

RELEASES_ENV = "FLUXBUMP_FLUX_RELEASES"
DEFAULT_RELEASES = "https://github.com/fluxcd/flux2/releases/download"
MIB = 1024 * 1024
ARCHIVE_BYTES = 128 * MIB  # a flux release archive is ~25 MiB packed, ~80 MiB unpacked
CHECKSUMS_BYTES = 64 * 1024
OUTPUT_BYTES = 32 * MIB  # the manifests of every component are ~1 MiB
RUN_SECONDS = 120.0
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
             "armv7l": "arm", "armv6l": "arm"}  # fmt: skip
_CLIENT = re.compile(r"^flux: v?(?P<version>\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class FluxCli:
    path: Path
    release: str
    origin: str  # where it came from, for the report

    def install_export(self, flags: tuple[str, ...]) -> bytes:
        """``flux install --export FLAGS``'s stdout; a failure or a timeout exits 3."""
        argv = [str(self.path), "install", "--export", *flags]
        shown = "flux install --export " + " ".join(flags)
        done = _run(argv, shown)
        if len(done.stdout) > OUTPUT_BYTES:
            raise ResolutionError(f"'{shown}' printed more than {OUTPUT_BYTES} bytes; refusing it")
        return done.stdout


def release_base() -> str:
    return os.environ.get(RELEASES_ENV, "").strip() or DEFAULT_RELEASES


def obtain_cli(
    release: str, *, given: tuple[str, ...], releases: str | None, offline: bool
) -> FluxCli:
    """The CLI of ``release`` (X.Y.Z), or one line naming what is missing (exit 3)."""
    if given:
        return _given([Path(path) for path in given], release)
    on_path = shutil.which("flux")
    seen = ""
    if on_path is not None:
        version = client_version(Path(on_path))
        if version == release:
            return FluxCli(Path(on_path), release, f"flux on PATH ({on_path})")
        seen = f" (the flux on PATH is {version or 'of an unknown version'})"
    asset = asset_name(release, seen)
    cached = _cached(asset)
    if cached is not None:
        return FluxCli(cached, release, "cache")
    base = f"{(releases or release_base()).rstrip('/')}/v{release}/"
    missing = f"flux {release} CLI not on PATH{seen} and could not be fetched from {base}"
    fix = "install it or pass --flux-cli PATH"
    if offline:
        raise ResolutionError(f"{missing}: --offline; {fix}")
    try:
        return _download(release, base, asset)
    except ResolutionError as exc:
        raise ResolutionError(f"{missing}: {exc.message}; {fix}") from None


def refuse_unpublished(release: str, *, releases: str | None) -> None:
    """Refuse (exit 3) a release whose checksums file the release download base lacks: what
    proves a release exists when no chart of the index carries it."""
    base = f"{(releases or release_base()).rstrip('/')}/v{release}/"
    name = f"flux_{release}_checksums.txt"
    try:
        _get(base + name, name, CHECKSUMS_BYTES)
    except ResolutionError as exc:
        raise ResolutionError(
            f"Flux release {release}: no chart carries it and {base} does not publish it "
            f"({exc.message}); check the release, or pass --offline to move to it unchecked"
        ) from None


def client_version(path: Path) -> str | None:
    """What ``flux version --client`` says (X.Y.Z), or None when it does not run."""
    try:
        done = _run([str(path), "version", "--client"], "flux version --client")
    except ResolutionError:
        return None
    match = _CLIENT.search(done.stdout.decode("utf-8", "replace"))
    return match.group("version") if match else None


def _given(paths: list[Path], release: str) -> FluxCli:
    """The given CLI of ``release``: what the user passed is all there is (no download)."""
    said: list[str] = []
    for path in paths:
        if not path.is_file() or not os.access(path, os.X_OK):
            raise UsageError(f"--flux-cli {path}: not an executable file")
        version = client_version(path)
        if version == release:
            return FluxCli(path, release, f"--flux-cli {path}")
        said.append(
            f"--flux-cli {path}: 'flux version --client' says {version or 'nothing readable'}, "
            f"not {release}"
        )
    raise UsageError(f"{'; '.join(said)}; pass the flux CLI of Flux {release}")


def asset_name(release: str, seen: str = "") -> str:
    """This machine's release archive, ``flux_<ver>_<os>_<arch>.tar.gz``."""
    system = platform.system().lower()
    machine = _MACHINES.get(platform.machine().lower())
    if system not in ("linux", "darwin") or machine is None:
        raise ResolutionError(
            f"flux {release} CLI not on PATH{seen}, and fluxbump does not download it for "
            f"{platform.system()}/{platform.machine()}; install it or pass --flux-cli PATH"
        )
    return f"flux_{release}_{system}_{machine}.tar.gz"


def _download(release: str, base: str, asset: str) -> FluxCli:
    sums_name = f"flux_{release}_checksums.txt"
    sums = _get(base + sums_name, sums_name, CHECKSUMS_BYTES)
    expected = _listed_digest(sums.decode("utf-8", "replace"), asset, sums_name)
    archive = _get(base + asset, asset, ARCHIVE_BYTES)
    actual = hashlib.sha256(archive).hexdigest()
    if actual != expected:
        raise ResolutionError(
            f"{base}{asset} has sha256 {actual}, but {sums_name} says {expected}; refusing it"
        )
    binary = _flux_member(archive, base + asset)
    return FluxCli(_store(release, asset, expected, binary), release, f"downloaded from {base}")


def _get(url: str, name: str, max_bytes: int) -> bytes:
    reply = http.get(url, what=f"download {name}", max_bytes=max_bytes)
    if reply.status != 200:
        raise ResolutionError(f"HTTP {reply.status} fetching {name}")
    return reply.body


def _listed_digest(sums: str, asset: str, sums_name: str) -> str:
    for line in sums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == asset:
            if re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
                return parts[0].lower()
            break
    raise ResolutionError(f"{sums_name} lists no sha256 digest for {asset}")


def _flux_member(archive: bytes, source: str) -> bytes:
    from fluxbump.crds.archives import ArchiveLimits, chart_members

    limits = ArchiveLimits(archive_bytes=ARCHIVE_BYTES, member_bytes=4 * ARCHIVE_BYTES,
                           total_bytes=4 * ARCHIVE_BYTES, members=64)  # fmt: skip
    members = chart_members(archive, source, limits)
    binary = members.get("flux", members.get("./flux"))
    if binary is None:
        raise ResolutionError(f"{source} holds no 'flux' executable")
    return binary


# --- the cache: cache/flux-cli/<release>-<asset>.json -> <archive sha256>/flux -------------


def _cache_dir() -> Path:
    from fluxbump.remote.index import Cache

    return Cache.directory() / "flux-cli"


def _cached(asset: str) -> Path | None:
    """A CLI stored by an earlier run, used only while its bytes still have their digest."""
    try:
        entry = json.loads((_cache_dir() / f"{asset}.json").read_text("utf-8"))
        path = _cache_dir() / str(entry["archive"]) / "flux"
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["binary"]:
            return None  # corrupt or tampered: downloaded again, then overwritten
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path


def _store(release: str, asset: str, digest: str, binary: bytes) -> Path:
    """Write the binary (0755) and then its entry, each atomically."""
    folder = _cache_dir() / digest
    path = folder / "flux"
    entry = {"release": release, "archive": digest, "binary": hashlib.sha256(binary).hexdigest()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, binary, 0o755)
        _write_atomic(_cache_dir() / f"{asset}.json", json.dumps(entry).encode(), 0o644)
    except OSError as exc:
        raise ResolutionError(f"cannot store the flux CLI in {folder} ({exc})") from None
    return path


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _run(argv: list[str], shown: str) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(
            argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=RUN_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise ResolutionError(f"'{shown}' did not finish in {RUN_SECONDS:.0f}s") from None
    except OSError as exc:
        raise ResolutionError(f"cannot run '{shown}' ({exc.strerror or exc})") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise ResolutionError(f"'{shown}' exited {done.returncode}: {lines[-1]}")
    return done
