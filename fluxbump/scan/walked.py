"""What the repository walk never enters (its own module: the verdict cache, which runs before
anything else loads, keys only what the walk can see)."""

import os
import re
import stat

# Directories that never hold pin-sites; skipping them keeps the walk cheap.
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".terraform"})

# Tanka vendors the charts its ``chartfile.yaml`` requires (``tk tool charts vendor``) into the
# folder beside it the file names (``directory:``, ``charts`` unless set): copies of other
# projects' charts at the versions it lists, as a chart's own ``charts/`` holds, which no
# HelmRelease here deploys and no pin here wraps.
CHARTFILE = "chartfile.yaml"
_DIRECTORY = re.compile(rb"^directory:[ \t]*([\"']?)(?P<name>[^\s\"'#]+)\1[ \t]*(?:#.*)?\r?$", re.M)
_CHARTFILE_READ = 1 << 16


def tanka_vendored(folder: str) -> frozenset[str]:
    """The folder beside ``folder``'s chartfile.yaml that Tanka vendors charts into (none
    for another file of that name, or a ``directory`` deeper than one folder)."""
    path = os.path.join(folder, CHARTFILE)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return frozenset()  # (a link, a FIFO: never opened by the walk)
        with open(path, "rb") as handle:
            head = handle.read(_CHARTFILE_READ)
    except OSError:
        return frozenset()
    if re.search(rb"^requires:", head, re.M) is None:
        return frozenset()
    named = _DIRECTORY.search(head)
    name = named["name"].decode("utf-8", "replace") if named is not None else "charts"
    name = name.removeprefix("./").rstrip("/")
    return frozenset({name}) if name not in ("", ".") and "/" not in name else frozenset()
