"""Benchmark fluxbump on generated Catalyst-layout fleets against a grep/sed floor.

    python -m benchmarks.fleet [--shape flux|real] [--sizes 10,100,1000] [--runs 5]

For each size N it writes a fleet of N clusters (``fluxbump.fleet.write_fleet``). Shape
``flux``: each cluster directory holds the two pin files (Flux, the umbrella) and
``--filler-files`` unrelated multi-document HelmRelease files. Shape ``real``, as real
repositories of this layout are: ``--wrappers`` (40) more wrapper charts, each a component
with values mirror and Blueprint, all under the umbrella and each deployed by a HelmRelease in
every cluster, plus ``--filler-files`` (default 2 for this shape) unrelated files. It then
times whole processes (``sys.executable -m fluxbump``, as a user runs it): ``--warmups``
unmeasured runs (1), then the median wall time of ``--runs`` runs and the peak RSS of any run
(from ``os.wait4``, per child). The fleet is written and committed once per size; ``to`` and the
sed floor edit it, so git restores it after each of their runs (``git checkout -- .`` and
``git clean``: only the files they wrote are rewritten), outside the timed region. The floors are what a shell one-liner pays to find (``grep -rl``) and
to rewrite (``grep -rl | xargs sed -i``) the same pins, so the ratios say how far fluxbump's
parsing and proving is from plain text search. The fleet is committed to git; ``status`` and
``check`` run cold (``--no-cache``), and ``check --offline, warm`` twice per measured run on
the unchanged repository, the second one timed (the first leaves its caches in ``.git``).
``check --component flux`` runs cold too, compared with a grep of Flux's own pin files (the
sed floor's pattern): a narrowed check costs that component's files, not the fleet's. The
load average is printed before and after: the machine's noise is part of the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fluxbump.fleet import FleetSpec, upstreams, write_fleet

TARGET_RELEASE = "2.5.1"
# The fleet starts consistent (Flux 2.4.0 <-> flux2 chart 2.14.1), so `check` exits 0 and
# `to 2.5.1` moves every pin: flux2 2.14.1 -> 2.15.0, bp-flux and its umbrella 1.1.1 -> 1.1.2.
START_RELEASE, START_CHART = "2.4.0", "2.14.1"
CHART_NAMES = ("bp-flux", "bp-catalyst-platform")
# The sed floor makes the same version edits `to` makes, in the same files.
SED_EDITS = (
    r"s#releases/download/v2\.4\.0/#releases/download/v2.5.1/#",
    r"s/2\.14\.1/2.15.0/",
    r"s/1\.1\.1/1.1.2/g",
)
SED_DIRS = ("clusters", "infra", "platform", "products")
# The files the sed floor rewrites: those holding a pin `to` moves, found as a shell user would,
# by the pinning line (a HelmRelease's or Blueprint's chart, a chart's own name, the flux2
# dependency, the install URL). Not every file naming bp-flux: in the real shape each wrapper's
# HelmRelease names it under dependsOn, and sed would rewrite the whole fleet.
_PINNED = "bp-(flux|catalyst-platform)$"
SED_PATTERNS = (
    f"chart: {_PINNED}",
    f"charts/{_PINNED}",
    f"^name: {_PINNED}",
    r"2\.14\.1",
    r"releases/download/v2\.4\.0/",
)
# `check --component flux` is compared with a grep of Flux's own pin files (the pinning lines
# the sed floor finds): its cost is that component's files, not the fleet's.
FLUX_GREP = "grep -rlE flux pins"
FLUX_CHECK = "check --offline --component flux"
# What CPython itself pays to walk clusters/ and read every file (no parsing, no imports
# beyond the standard library's): the least any Python tool that must read each file, as a
# cold check does for the Flux API versions of its objects, can take. Shown beside grep.
PYTHON_READ = "python: read every file"
_READ_EVERY_FILE = """import os
for top, _, names in os.walk("clusters"):
    for name in names:
        with open(os.path.join(top, name), "rb") as f:
            f.read()
"""
TARGETS_FLOOR_RATIO = 3.0
TARGET_WARM_RATIO = 1.0
WARM_CHECK = "check --offline, warm"
TARGET_RSS_MB = 150.0
TARGET_SCALING = 12.0
TARGET_VERSION_S = 0.150


@dataclass(frozen=True)
class Command:
    """One measured command, run in the fleet's root."""

    name: str
    argv: tuple[str, ...]
    edits: bool = False  # it writes the fleet: restored (untimed) after every run
    primed: bool = False  # every timed run follows an untimed one (a warm run's first)
    floor: str | None = None  # name of the command it is compared to
    repo_option: bool = True  # append --repo DIR (fluxbump commands)
    ok_codes: tuple[int, ...] = (0,)

    @property
    def is_fluxbump(self) -> bool:
        """fluxbump's own run: judged by the targets (a floor, or a reference shown with its
        ratio to one, is not)."""
        return self.argv[1:3] == ("-m", "fluxbump")


@dataclass(frozen=True)
class Measure:
    name: str
    size: int | None  # None: independent of the fleet
    wall: float  # median seconds
    rss_mb: float  # peak over the measured runs
    floor: str | None
    fluxbump: bool = False  # judged by the targets (Command.is_fluxbump)


def commands(wrappers: int = 0) -> list[Command]:
    fluxbump = (sys.executable, "-m", "fluxbump")
    charts = (*CHART_NAMES, *(f"bp-{u}" for u in upstreams(wrappers)))
    names = " ".join(f"-e {n}" for n in charts)
    sed = " ".join(f"-e '{e}'" for e in SED_EDITS)
    dirs = " ".join(SED_DIRS)
    pinned = " ".join(f"-e '{p}'" for p in SED_PATTERNS)
    return [
        Command(
            "grep -rl", ("sh", "-c", f"grep -rl {names} clusters/ >/dev/null"), repo_option=False
        ),
        Command(
            "grep -rl + sed -i",
            (
                "sh",
                "-c",
                f"grep -rlE {pinned} {dirs} | xargs -r sed -i {sed}",
            ),
            edits=True,
            repo_option=False,
        ),
        # Cold: every file read and parsed, as on the first run in a clone or CI checkout.
        Command(
            "status --offline", (*fluxbump, "status", "--offline", "--no-cache"), floor="grep -rl"
        ),
        Command(
            "check --offline", (*fluxbump, "check", "--offline", "--no-cache"), floor="grep -rl"
        ),
        Command(
            PYTHON_READ,
            (sys.executable, "-S", "-c", _READ_EVERY_FILE),
            floor="grep -rl",
            repo_option=False,
        ),
        Command(
            FLUX_GREP, ("sh", "-c", f"grep -rlE {pinned} {dirs} >/dev/null"), repo_option=False
        ),
        Command(
            FLUX_CHECK,
            (*fluxbump, "check", "--offline", "--no-cache", "--component", "flux"),
            floor=FLUX_GREP,
        ),
        # Warm: the untimed first run leaves its caches in .git; the timed one finds nothing
        # changed.
        Command(WARM_CHECK, (*fluxbump, "check", "--offline"), floor="grep -rl", primed=True),
        Command(
            f"to {TARGET_RELEASE} --no-git --offline",
            (*fluxbump, "to", TARGET_RELEASE, "--no-git", "--offline"),
            edits=True,
            floor="grep -rl + sed -i",
        ),
    ]


def build_fleet(root: Path, size: int, filler_files: int, wrappers: int) -> tuple[int, int]:
    """Write a fleet of ``size`` clusters; returns (files, bytes) of YAML under clusters/."""
    # In a child process: the generator holds the whole fleet's text, and on Linux a child
    # spawned later inherits this process's peak RSS as its own ru_maxrss (it is recorded at
    # exec), so this process must stay small for the children's peaks to be theirs.
    code = "import sys; from benchmarks.fleet import write; write(*sys.argv[1:])"
    subprocess.run(
        [sys.executable, "-c", code, str(root), str(size), str(filler_files), str(wrappers)],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    commit_fleet(root)
    files = [p for p in (root / "clusters").rglob("*.yaml")]
    return len(files), sum(p.stat().st_size for p in files)


def commit_fleet(root: Path) -> None:
    """Commit the fleet, as a repository is when fluxbump runs on it: a warm run asks git
    which files are unchanged (the cache keys files by git's blob ids)."""
    # No background gc: it would repack .git while a measured run's fresh copy is made.
    identity = ("-c", "user.name=benchmark", "-c", "user.email=benchmark@fluxbump.invalid",
                "-c", "gc.auto=0", "-c", "maintenance.auto=false")  # fmt: skip
    for args in (
        ("init", "-q"),
        ("add", "-A"),
        (*identity, "commit", "-q", "--no-gpg-sign", "-m", "fleet"),
    ):
        subprocess.run(["git", *args], cwd=root, check=True)


def write(root: str, size: str, filler_files: str, wrappers: str = "0") -> None:
    """Write the fleet (run in a child process by ``build_fleet``)."""
    clusters = tuple(f"c{i:04d}.sovereign.example" for i in range(int(size)))
    spec = FleetSpec(
        clusters=clusters,
        flux_release=START_RELEASE,
        flux_chart=START_CHART,
        filler_files=int(filler_files),
        wrappers=int(wrappers),
    )
    write_fleet(Path(root), spec)


def run_once(command: Command, repo: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process, as the kernel accounts for that child."""
    argv = list(command.argv)
    if command.repo_option:
        argv += ["--repo", str(repo)]
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it
        if proc.returncode not in command.ok_codes:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise SystemExit(f"{command.name} exited {proc.returncode}: {' | '.join(tail)}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def measure(
    command: Command, tree: Path, runs: int, env: dict[str, str], warmups: int = 1
) -> tuple[float, float]:
    """``warmups`` unmeasured runs, then the median wall time and peak RSS of ``runs`` runs."""
    walls, peaks = [], []
    for attempt in range(warmups + runs):
        if command.primed:
            run_once(command, tree, env)
        wall, rss = run_once(command, tree, env)
        if command.edits:
            restore(tree)
        if attempt >= warmups:  # a warm-up fills the page cache and Python's bytecode cache
            walls.append(wall)
            peaks.append(rss)
    return statistics.median(walls), max(peaks)


def restore(tree: Path) -> None:
    """Put the committed fleet back: git rewrites only the files a run changed (a copy of a
    44,000-file tree per run took most of a benchmark's time)."""
    for args in (("checkout", "-q", "--", "."), ("clean", "-fdq")):
        subprocess.run(["git", *args], cwd=tree, check=True)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was (its noise)."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def compile_package() -> None:
    """Byte-compile fluxbump as pip does when it installs a wheel: a checkout's stale or
    missing ``__pycache__`` (or ``PYTHONDONTWRITEBYTECODE``) would otherwise put ~60 ms of
    source compilation into every measured run, which no installed user pays."""
    import compileall

    import fluxbump

    compileall.compile_dir(str(Path(fluxbump.__file__).parent), quiet=1)


def bench(
    sizes: Sequence[int],
    runs: int,
    filler_files: int,
    workdir: Path,
    wrappers: int = 0,
    warmups: int = 1,
) -> list[Measure]:
    compile_package()
    env = {**os.environ, "NO_COLOR": "1", "FLUXBUMP_CACHE_DIR": str(workdir / "cache")}
    env.pop("FLUXBUMP_HELM_REPO", None)
    results: list[Measure] = []
    version = Command(
        "--version", (sys.executable, "-m", "fluxbump", "--version"), repo_option=False
    )
    wall, rss = measure(version, workdir, runs, env, warmups)
    results.append(Measure(version.name, None, wall, rss, None, version.is_fluxbump))
    for size in sizes:
        tree = workdir / f"fleet-{size}"
        shutil.rmtree(tree, ignore_errors=True)  # a run stopped before its end left it
        files, size_bytes = build_fleet(tree, size, filler_files, wrappers)
        print(
            f"fleet N={size}: {files} YAML files under clusters/, {size_bytes / 1e6:.1f} MB",
            file=sys.stderr,
        )
        for command in commands(wrappers):
            wall, rss = measure(command, tree, runs, env, warmups)
            results.append(
                Measure(command.name, size, wall, rss, command.floor, command.is_fluxbump)
            )
        shutil.rmtree(tree)
    return results


def table(results: Sequence[Measure]) -> list[str]:
    """One row per command and size: median wall, peak RSS, ratio to its floor."""
    walls = {(m.name, m.size): m.wall for m in results}
    rows = [("command", "N", "median wall s", "peak RSS MB", "ratio to floor")]
    for m in results:
        ratio = f"{m.wall / walls[(m.floor, m.size)]:.2f}" if m.floor else "-"
        size = str(m.size) if m.size is not None else "-"
        rows.append((m.name, size, f"{m.wall:.3f}", f"{m.rss_mb:.1f}", ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# The targets are set at 1,000 clusters; a run without that size is judged at its
# largest. Scaling is judged from there to ten times as many clusters, when measured.
TARGET_SIZE = 1000


def targets(results: Sequence[Measure]) -> list[str]:
    """Whether each target is met: ratios and peak RSS at ``TARGET_SIZE`` clusters (else the
    largest size measured), scaling from there to ten times as many clusters."""
    walls = {(m.name, m.size): m.wall for m in results}
    sizes = sorted({m.size for m in results if m.size is not None})
    lines: list[str] = []
    version = walls[("--version", None)]
    lines.append(
        _verdict(f"--version <= {TARGET_VERSION_S * 1000:.0f} ms", version, TARGET_VERSION_S)
    )
    if not sizes:
        return lines
    at = TARGET_SIZE if TARGET_SIZE in sizes else sizes[-1]
    judged = [m for m in results if m.floor and m.fluxbump]
    for m in judged:
        if m.size == at:
            ratio = m.wall / walls[(m.floor, at)]
            limit = TARGET_WARM_RATIO if m.name == WARM_CHECK else TARGETS_FLOOR_RATIO
            lines.append(_verdict(f"{m.name} <= {limit:.0f}x {m.floor} (N={at})",
                                  ratio, limit, unit="x"))  # fmt: skip
    peak = max(m.rss_mb for m in results if m.fluxbump and m.size in (at, None))
    lines.append(_verdict(f"peak RSS <= {TARGET_RSS_MB:.0f} MB (N={at})", peak, TARGET_RSS_MB,
                          unit=" MB"))  # fmt: skip
    big = at * 10
    if big in sizes:
        for m in judged:
            if m.size == big:
                scale = m.wall / walls[(m.name, at)]
                lines.append(_verdict(f"{m.name} N={big}/N={at} <= {TARGET_SCALING:.0f}x",
                                      scale, TARGET_SCALING, unit="x"))  # fmt: skip
    return lines


def _verdict(what: str, value: float, limit: float, unit: str = " s") -> str:
    shown = f"{value:.2f}{unit}" if unit != " s" else f"{value * 1000:.0f} ms"
    return f"{'met    ' if value <= limit else 'NOT met'}  {what}: {shown}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated cluster counts")
    parser.add_argument("--runs", type=int, default=5, help="measured runs after the warm-ups")
    parser.add_argument("--warmups", type=int, default=1,
                        help="unmeasured runs before them, per command [1]")  # fmt: skip
    parser.add_argument("--shape", choices=("flux", "real"), default="flux",
                        help="flux: one component per cluster; real: --wrappers components")  # fmt: skip
    parser.add_argument("--wrappers", type=int, default=40, help="wrapper charts (shape real)")
    parser.add_argument("--filler-files", type=int, default=None,
                        help="unrelated HelmRelease files per cluster [flux: 33, real: 2]")  # fmt: skip
    parser.add_argument("--workdir", type=Path, help="where fleets are written [temp dir]")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes must be comma-separated integers")
    if not args.sizes or min(args.sizes) < 1 or args.runs < 1:
        parser.error("--sizes and --runs must be positive")
    if args.warmups < 0:
        parser.error("--warmups must not be negative")
    if args.filler_files is None:
        args.filler_files = 33 if args.shape == "flux" else 2
    if args.shape == "flux":
        args.wrappers = 0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fluxbump-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    loads = [load_average()]
    try:
        results = bench(
            args.sizes, args.runs, args.filler_files, workdir, args.wrappers, args.warmups
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    loads.append(load_average())
    print("\n".join(table(results)))
    print()
    print("\n".join(targets(results)))
    print()
    print(f"load average (1, 5, 15 min) at start: {loads[0]}; at end: {loads[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
