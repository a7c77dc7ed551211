"""Git for `fluxbump to`: base revision, dirty-file and branch checks, branch, commit, push.

GitPython is imported here only, so commands that never touch git stay fast. Commits go
through the git command line (``repo.git.commit``) so the user's hooks and identity apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fluxbump.errors import ResolutionError, UsageError
from fluxbump.scan.sites.chart import ChartFile, parse_chart
from fluxbump.scan.sources import MAX_FILE_BYTES, SourceFile, decode


@dataclass
class GitRepo:
    """A work tree that holds the fluxbump repo root (possibly in a subdirectory)."""

    handle: Any  # git.Repo
    top: Path
    prefix: str  # repo root relative to the work tree top, "" or "sub/dir/"

    def path(self, rel: str) -> str:
        """``rel`` as git names it: a symlink to another file of the work tree is that file,
        since that is what a bump writes, stages and commits."""
        real = Path(os.path.realpath(self.top / (self.prefix + rel)))
        if real.is_relative_to(self.top) and real != self.top:
            return real.relative_to(self.top).as_posix()
        return self.prefix + rel


class GitUnusable(UsageError):
    """``root`` is in a git work tree fluxbump cannot read or commit: no git executable (a slim
    container image), or SHA-256 object names (GitPython reads SHA-1 ones only)."""

    def __init__(self, top: Path, why: str, remedy: str, read_remedy: str = "") -> None:
        self.top = top
        self.why = why
        self.read_remedy = read_remedy  # what lets status and check read the history
        super().__init__(
            f"{top} is a git work tree, but {why}: fluxbump commits with it; {remedy}; "
            "nothing was written"
        )


def open_repo(root: Path) -> GitRepo | None:
    """The git work tree containing ``root``, or None when it is not in one. Raises
    GitUnusable for a work tree fluxbump cannot use."""
    try:
        import git
    except ImportError:  # GitPython's own import checks for a git executable
        here = root.resolve()
        top = next((d for d in (here, *here.parents) if (d / ".git").exists()), None)
        if top is None:
            return None
        raise _no_git_to_run(top) from None

    try:
        handle = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        broken = _broken_git_file(root)
        if broken is not None:
            raise broken from None
        return None
    if handle.bare or handle.working_tree_dir is None:
        return None
    top = Path(handle.working_tree_dir).resolve()
    _refuse_object_format(handle, top)
    relative = root.resolve().relative_to(top).as_posix()
    return GitRepo(handle, top, "" if relative == "." else relative + "/")


def _no_git_to_run(top: Path) -> GitUnusable:
    """Why ``git version``, which GitPython's import runs, failed: no git on PATH (a slim
    container image), or a git that refuses to start (a broken global configuration)."""
    import shutil

    if shutil.which("git") is None:
        return GitUnusable(
            top,
            "git is not installed (no git on PATH)",
            "install git, or pass --no-git to only write the files",
            "; install git",
        )
    try:
        _, said = _git_says("version")
    except OSError as exc:  # (too many open files, say)
        said = exc.strerror or type(exc).__name__
    why = said if said is not None else "git version failed"
    return GitUnusable(
        top,
        f"git does not run ({why})",
        "fix that, or pass --no-git to only write the files",
        "; fix that",
    )


def _broken_git_file(root: Path) -> GitUnusable | None:
    """A ``.git`` file git cannot follow (a linked worktree whose main repository moved or was
    pruned): git stops there with an error, so the bump must not write files uncommitted as if
    no repository were there. None when git agrees there is none (or opens it after all)."""
    here = root.resolve()
    top = next((d for d in (here, *here.parents) if (d / ".git").is_file()), None)
    if top is None:
        return None
    try:
        code, said = _git_says("-C", str(here), "rev-parse", "--git-dir")
    except OSError:
        return None
    if code == 0 or said is None:
        return None
    return GitUnusable(
        top,
        f"git cannot open its .git file ({said})",
        "repair it (`git worktree repair` in the main work tree), or pass --no-git to only "
        "write the files",
        "; repair it",
    )


def _git_says(*args: str) -> tuple[int, str | None]:
    """Run git (before GitPython can, or where it cannot): its exit status and the first line
    of its stderr without git's ``fatal: `` (None when it printed nothing there)."""
    import subprocess

    proc = subprocess.run(["git", *args], capture_output=True, check=False)
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return proc.returncode, lines[0].removeprefix("fatal: ") if lines else None


def _refuse_object_format(handle: Any, top: Path) -> None:
    """GitPython finds no commit in a SHA-256 repository (``git init --object-format``): a
    bump wrote its files uncommitted, saying the repository had none."""
    with handle.config_reader("repository") as config:
        object_format = config.get_value("extensions", "objectformat", "sha1")
    if str(object_format).lower() != "sha1":
        raise GitUnusable(
            top,
            f"it names objects by {str(object_format).upper().replace('SHA', 'SHA-')}, which "
            "fluxbump's git library (GitPython) cannot read",
            "pass --no-git to only write the files, and commit them yourself",
        )


def base_source_reader(repo: GitRepo, rev: str) -> Callable[[str], SourceFile | None]:
    """A function reading a file as it was at ``rev`` (None if absent there)."""
    import git

    try:
        commit = repo.handle.commit(rev)
    except (git.BadName, ValueError):
        raise UsageError(f"--base {rev}: no such revision in {repo.top}") from None

    def read(rel: str) -> SourceFile | None:
        try:
            blob = commit.tree / repo.path(rel)
        except KeyError:
            return None
        raw = _blob_bytes(repo, blob.binsha, f"{rev}:{rel}")
        return SourceFile(rel, raw, decode(raw, f"{rev}:{rel}"))

    return read


def base_chart_reader(repo: GitRepo, rev: str) -> Callable[[str], ChartFile | None]:
    """A function reading a Chart.yaml as it was at ``rev`` (None if absent there)."""
    read_source = base_source_reader(repo, rev)

    def read(rel: str) -> ChartFile | None:
        source = read_source(rel)
        return parse_chart(source) if source is not None else None

    return read


def refuse_untrusted_work_tree(repo: GitRepo) -> None:
    """git itself may refuse a work tree GitPython opens: one owned by another user (CI
    containers, a shared checkout: "detected dubious ownership"). A bump would then write its
    files and never commit them; refused first, with git's reason and what to do."""
    from fluxbump.vcs.steps import run_git

    proc = run_git(repo.top, ["rev-parse", "--git-dir"])
    if proc.returncode == 0:
        return
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    why = lines[0].removeprefix("fatal: ") if lines else "git rev-parse failed"
    hint = (
        f"if you trust it, run git config --global --add safe.directory {repo.top}, "
        if "safe.directory" in proc.stderr.decode(errors="replace")
        else "fix that, "
    )
    raise UsageError(
        f"git refuses to work in {repo.top} ({why}); {hint}or pass --no-git to only write "
        "the files; nothing was written"
    )


def has_head(repo: GitRepo) -> bool:
    return repo.handle.head.is_valid()  # type: ignore[no-any-return]


_NO_OPTIONAL_LOCKS = {"GIT_OPTIONAL_LOCKS": "0"}


def dirty_files(repo: GitRepo, rels: Iterable[str]) -> list[str]:
    """Those of ``rels`` with uncommitted changes (staged, unstaged, or untracked), as the
    refusal names them.

    git is asked about the whole index and the answer filtered here: a pathspec of every
    file a fleet's bump writes made git match each index entry against each path (4.4 s
    for ``status`` and 1.7 s for ``ls-files`` with 2,000 paths of 44,000, where the whole
    index takes 0.12 and 0.02 s). Only files the index lacks, few or none, are named to git."""
    wanted = {repo.path(rel): rel for rel in rels}
    if not wanted:
        return []
    import git

    try:
        index = _index_tags(repo)
        fresh = [path for path in wanted if path not in index]
        entries = _status(repo, "--untracked-files=no")
        if fresh:
            # --ignored: a file .gitignore lists is read like any other, but the commit
            # cannot hold it (git add refuses it after every file was written).
            entries += _status(repo, "--untracked-files=all", "--ignored", "--", *fresh)
        hidden = _hidden_edits(repo, {p: index[p] for p in wanted if p in index})
    except git.GitCommandError as exc:  # e.g. a full disk: git cannot refresh its index
        raise UsageError(
            f"git status failed: {_first_error_line(exc)}; nothing was written"
        ) from None
    dirty = {
        wanted[entry[3:]] + (_IGNORED if entry.startswith("!!") else "")
        for entry in entries
        if entry[3:] in wanted
    }
    for path, bit in hidden.items():
        note = f"hidden from git status by its {bit} bit; git update-index --no-{bit} shows them"
        dirty.add(f"{wanted[path]} ({note})")
    return sorted(dirty)


def _status(repo: GitRepo, *args: str) -> list[str]:
    """``git status --porcelain -z`` entries, "XY path" (--no-renames: a rename's second
    path, its old one, would read as an entry of its own). No optional lock: git status
    refreshes the index as it goes, and a git killed then (a file size limit's SIGXFSZ)
    would leave the user an index.lock."""
    listed: str = repo.handle.git.status(
        "--porcelain", "-z", "--no-renames", *args, env=_NO_OPTIONAL_LOCKS
    )
    return [entry for entry in listed.split("\0") if entry]


def _index_tags(repo: GitRepo) -> dict[str, str]:
    """Every index entry's path and its ``git ls-files -v`` tag (``H``, ``S``, ``h``...)."""
    listed: str = repo.handle.git.ls_files("-v", "-z")
    return {entry[2:]: entry[0] for entry in listed.split("\0") if entry}


_IGNORED = (
    " (untracked, and .gitignore lists it: 'git add -f' tracks it, or exclude it in .fluxbump.yaml)"
)

# ``git ls-files -v`` tags: lower case is assume-unchanged, "S"/"s" skip-worktree.
_INDEX_BITS = {"S": "skip-worktree", "s": "skip-worktree"}


def _hidden_edits(repo: GitRepo, tags: dict[str, str]) -> dict[str, str]:
    """Those of the paths ``tags`` gives (each with its ``ls-files -v`` tag) whose index
    entry git status never compares with the work tree (``git update-index
    --assume-unchanged`` or ``--skip-worktree``) and whose bytes differ from it, each with its
    bit's name: the commit stages whole files, so it would take them."""
    marked = {
        path: _INDEX_BITS.get(tag, "assume-unchanged")
        for path, tag in tags.items()
        if (tag in _INDEX_BITS or tag.islower()) and os.path.isfile(repo.top / path)
    }
    if not marked:
        return {}
    staged = repo.handle.git.ls_files("-s", "-z", "--", *marked).split("\0")
    index = {entry.split("\t", 1)[1]: entry.split()[1] for entry in staged if "\t" in entry}
    # hash-object applies the clean filters and line-ending rules ``git add`` would.
    now = repo.handle.git.hash_object("--", *marked).split()
    return {
        path: bit
        for (path, bit), sha in zip(marked.items(), now, strict=True)
        if index.get(path) != sha
    }


# Markers git leaves while an operation is half done; committing then would mix our change in.
_IN_PROGRESS = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or am",
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


def refuse_unsettled(repo: GitRepo) -> None:
    """A detached HEAD or a half-done merge/rebase: refuse before anything is written."""
    git_dir = Path(repo.handle.git_dir)
    for marker, operation in _IN_PROGRESS.items():
        if (git_dir / marker).exists():
            raise UsageError(
                f"{repo.top} is in the middle of {operation}; finish or abort it, then re-run"
            )
    if current_branch(repo) is None:
        raise UsageError(
            f"{repo.top} has a detached HEAD; check out a branch to start from, or pass --no-git"
        )


def refuse_other_git_dir(repo: GitRepo) -> None:
    """GIT_DIR or GIT_WORK_TREE in the environment (a git hook exports them) is what every git
    command follows: naming another repository, the bump's branch and commit went there while
    its files were written here."""
    for name, ours in (("GIT_DIR", Path(repo.handle.git_dir)), ("GIT_WORK_TREE", repo.top)):
        value = os.environ.get(name)
        # Relative to where git runs: the work tree's top.
        if value and os.path.realpath(repo.top / value) != os.path.realpath(ours):
            what = "git directory" if name == "GIT_DIR" else "work tree"
            raise UsageError(
                f"{name}={value} is not the {what} of {repo.top}, so git would commit there; "
                f"unset {name} (a git hook exports it) and re-run; nothing was written"
            )


def refuse_sparse(repo: GitRepo) -> None:
    """Tracked files a sparse checkout (or ``--skip-worktree``) leaves out of the work tree hold
    pins the scan never reads and the bump never moves: its commit kept them at the old release
    while the gate, which reads the work tree, passed."""
    listed = repo.handle.git.ls_files("-v", "-z", "--", repo.prefix or ".").split("\0")
    absent = _not_checked_out(repo.top, listed)
    if absent:
        raise UsageError(
            f"{repo.top} is a sparse checkout: {len(absent)} tracked files are not checked out "
            f"(first {absent[0]}), so their pins can be neither read nor moved and the commit "
            "would leave them behind; run git sparse-checkout disable, then re-run; nothing "
            "was written"
        )


def sparse_warnings(root: Path) -> list[str]:
    """``check`` in a sparse checkout reads the work tree only: the pins of tracked files it
    leaves out are not checked, which a check that says "consistent" must say (``to``
    refuses there: ``refuse_sparse``). One ``git config`` call elsewhere (milliseconds)."""
    from fluxbump.vcs.steps import run_git

    def git(*args: str) -> bytes:
        proc = run_git(root, args)
        return proc.stdout if proc.returncode == 0 else b""

    try:
        if git("config", "--type=bool", "--get", "core.sparseCheckout").strip() != b"true":
            return []
        listed = os.fsdecode(git("ls-files", "-v", "-z", "--", ".")).split("\0")
    except OSError:  # (no git here: no sparse checkout either)
        return []
    absent = _not_checked_out(root, listed)
    if not absent:
        return []
    return [
        f"a sparse checkout: {len(absent)} tracked files are not checked out "
        f"(first {absent[0]}), so their pins are not checked; run git sparse-checkout disable "
        "for a check of the whole repository"
    ]


def _not_checked_out(top: Path, listed: Iterable[str]) -> list[str]:
    """The files of ``git ls-files -v -z`` entries (paths relative to ``top``) that git keeps
    out of the work tree (skip-worktree) and are absent there."""
    from fluxbump.scan.walked import SKIP_DIRS

    return [
        entry[2:]
        for entry in listed
        if entry[:1] in _INDEX_BITS
        and not SKIP_DIRS.intersection(entry[2:].split("/")[:-1])  # never scanned anyway
        and not os.path.lexists(top / entry[2:])
    ]


def refuse_outside_sparse(repo: GitRepo, rels: Iterable[str]) -> None:
    """In a sparse checkout, a file the bump edits that its definition leaves out (present
    all the same: git leaves a file it finds modified) is one git add refuses, after every
    file was written; git's own dry run says which, before anything is."""
    import git

    paths = {repo.path(rel): rel for rel in rels}
    if not paths or _config_flag(repo, "core.sparseCheckout") is not True:
        return
    try:
        repo.handle.git.add("--dry-run", "--ignore-missing", "--", *paths, env=_NO_OPTIONAL_LOCKS)
    except git.GitCommandError as exc:
        outside = next((rel for path, rel in paths.items() if path in _stderr_lines(exc)), None)
        named = outside or _first_error_line(exc)
        raise UsageError(
            f"{named} is outside this sparse checkout's definition, so git add would refuse "
            "it; run git sparse-checkout disable (or add it to the definition), then re-run; "
            "nothing was written"
        ) from None


def _config_flag(repo: GitRepo, key: str) -> bool | None:
    """A boolean setting as git reads it (a work tree's ``config.worktree`` too, where
    ``git sparse-checkout`` writes its own); None when unset."""
    import git

    try:
        return repo.handle.git.config("--type=bool", "--get", key) == "true"  # type: ignore[no-any-return]
    except git.GitCommandError:
        return None


def refuse_nested(repo: GitRepo, rels: Iterable[str]) -> None:
    """A file in a repository of its own inside this one (a submodule) is no part of this
    one's commit: git add failed ("is in submodule") after every file was written."""
    nested: dict[str, bool] = {}  # folder (from the top) -> it holds a .git
    for rel in sorted(rels):
        folders = repo.path(rel).split("/")[:-1]
        for depth in range(len(repo.prefix.split("/")), len(folders) + 1):
            folder = "/".join(folders[:depth])
            if folder not in nested:
                nested[folder] = os.path.lexists(repo.top / folder / ".git")
            if nested[folder]:
                inner = folder.removeprefix(repo.prefix)
                raise UsageError(
                    f"{rel} is in {inner}, a repository of its own (a submodule), which this "
                    f"repository's commit cannot hold; run fluxbump there (--repo {inner}), or "
                    "pass --no-git to only write the files; nothing was written"
                )


def refuse_no_identity(repo: GitRepo) -> None:
    """An author and committer git can commit as: without them the commit fails after every
    file was written and the gate ran (a fresh CI runner has none until one is set)."""
    from fluxbump.vcs.steps import run_git

    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = run_git(repo.top, ["var", ident])
        if proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            why = lines[-1].removeprefix("fatal: ") if lines else f"git var {ident} failed"
            raise UsageError(
                f"git cannot commit here: {why}; set git config user.name and user.email "
                "(in CI: git config --global …), or pass --no-git; nothing was written"
            )


# What git writes for the commit and the branch, under the git directory (``--git-path``
# follows a worktree's common directory and $GIT_OBJECT_DIRECTORY).
_GIT_WRITES = {
    "refs/heads/{branch}": "git creates the bump's branch there",
    "logs/refs/heads/{branch}": "git logs the bump's branch there",
}
_GIT_WRITES_UNLOGGED = {k: v for k, v in _GIT_WRITES.items() if not k.startswith("logs/")}
_OBJECTS_WHY = "git stores the bump's commit there"


def refuse_unwritable(repo: GitRepo, branch: str) -> None:
    """The directories git writes the commit and the branch into must be writable by this
    user (a clone shared read-only, a CI cache owned by another user): git found out in
    ``git add`` or ``update-ref``, after every file was written and the gate ran."""
    writes = _GIT_WRITES if _logs_new_refs(repo) else _GIT_WRITES_UNLOGGED
    names = ["objects", *(name.format(branch=branch) for name in writes)]
    found = repo.handle.git.rev_parse(*(a for n in names for a in ("--git-path", n)))
    objects, *files = (repo.top / path for path in found.splitlines())
    # A loose object goes to the two-hex-digit folder its name starts with: any of them.
    _refuse_unwritable_folder(repo, objects, _OBJECTS_WHY)
    for folder in objects.glob("[0-9a-f][0-9a-f]"):
        _refuse_unwritable_folder(repo, folder, _OBJECTS_WHY)
    for file, why in zip(files, writes.values(), strict=True):
        # The ref's folders that do not exist yet are created in the closest one that does.
        closest = next(d for d in file.parents if d.is_dir())
        _refuse_unwritable_folder(repo, closest, why)


def _logs_new_refs(repo: GitRepo) -> bool:
    """Whether git creates a reflog for a new branch: unless ``core.logAllRefUpdates`` says
    false (git's default in a work tree is true; ``always`` logs every ref)."""
    from fluxbump.vcs.steps import run_git

    proc = run_git(repo.top, ["config", "--get", "core.logAllRefUpdates"])
    value = proc.stdout.decode(errors="replace").strip().lower()
    return proc.returncode != 0 or value not in {"false", "no", "off", "0"}


def _refuse_unwritable_folder(repo: GitRepo, folder: Path, why: str) -> None:
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        shown = folder.relative_to(repo.top) if folder.is_relative_to(repo.top) else folder
        raise UsageError(
            f"{shown}: not writable by this user, and {why}; make it writable, or pass "
            "--no-git; nothing was written"
        )


def refuse_bad_branch(repo: GitRepo, branch: str) -> None:
    """A ``--branch`` git would refuse (``a b``, ``x..y``, ``-x``): refused before any write,
    not by ``update-ref`` after every file was written and the gate ran."""
    import git

    try:
        repo.handle.git.check_ref_format("--branch", branch)
    except git.GitCommandError:
        raise UsageError(
            f"--branch '{branch}': not a valid git branch name (git check-ref-format --branch "
            "says why); nothing was written"
        ) from None


def branch_exists(repo: GitRepo, branch: str) -> bool:
    return branch in {head.name for head in repo.handle.heads}


def refuse_path_clash(repo: GitRepo, branch: str) -> None:
    """git keeps branches as paths: beside a branch ``fluxbump`` (the one that added
    fluxbump, say) none named ``fluxbump/…`` can be created, nor one above another's folder.
    Refused before any write, not by ``update-ref`` after the files and the gate."""
    parts = branch.split("/")
    folders = {"/".join(parts[:i]) for i in range(1, len(parts))}
    for head in repo.handle.heads:
        if head.name in folders or head.name.startswith(f"{branch}/"):
            raise UsageError(
                f"branch {branch} cannot be created beside branch {head.name} (git keeps "
                "branches as paths, and one would be the other's folder); rename that one, "
                "or pass --branch NAME; nothing was written"
            )


def current_branch(repo: GitRepo) -> str | None:
    try:
        return str(repo.handle.active_branch.name)
    except TypeError:  # detached HEAD
        return None


def refuse_git_locks(repo: GitRepo) -> None:
    """git's own locks on the index and on HEAD (a work tree's own, in its git directory):
    the branch step or the commit would fail after the files were written."""
    for name in ("index.lock", "HEAD.lock"):
        _refuse_lock(Path(repo.handle.git_dir) / name)


def refuse_branch_lock(repo: GitRepo, branch: str) -> None:
    """git's lock on the bump branch's ref (shared by every work tree of the repository): the
    branch step would fail after the files were written, with git's message."""
    _refuse_lock(Path(repo.handle.common_dir) / "refs" / "heads" / f"{branch}.lock")


def _refuse_lock(lock: Path) -> None:
    if os.path.lexists(lock):
        raise UsageError(
            f"{lock} exists: another git process is running (or one was killed); wait for "
            "it or remove the lock, then re-run; nothing was written"
        )


def has_remote(repo: GitRepo, remote: str) -> bool:
    return remote in {r.name for r in repo.handle.remotes}


def push(repo: GitRepo, remote: str, branch: str, lease: str | None = None) -> None:
    """Push ``branch`` to ``remote`` and set its upstream; with ``lease``, replace the remote
    branch only while it still points at that commit."""
    import git

    if not has_remote(repo, remote):
        raise UsageError(f"no git remote '{remote}' (set 'remote' in .fluxbump.yaml)")
    force = [f"--force-with-lease=refs/heads/{branch}:{lease}"] if lease else []
    try:
        # Full names: a tag named like the branch made NAME:NAME match both.
        ref = f"refs/heads/{branch}"
        repo.handle.git.push("--set-upstream", *force, remote, f"{ref}:{ref}")
    except git.GitCommandError as exc:
        raise ResolutionError(
            f"push of {branch} to {remote} failed: {_push_refusal(exc)}; "
            "the commit is on the local branch"
        ) from None


def remote_url(repo: GitRepo, remote: str) -> str:
    return str(repo.handle.remote(remote).url)


def _stderr_lines(exc: Any) -> list[str]:
    text = str(getattr(exc, "stderr", "") or exc).strip()
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in text.splitlines()]
    return [line for line in lines if line]


def _push_refusal(exc: Any) -> str:
    """Why a push failed: git's ``! [...]`` line for the branch, with the lines the remote
    sent (a hook's or the forge's own reason), which git's last line never names."""
    lines = _stderr_lines(exc)
    refused = next((line for line in lines if line.startswith("! [")), None)
    if refused is None:
        return _first_error_line(exc)
    said = [line for line in lines if line.startswith("remote: ") and line[8:].strip()]
    return f"{refused} ({' / '.join(said[:3])})" if said else refused


def _first_error_line(exc: Any) -> str:
    """The line of git's stderr that says why (``! [rejected] … (non-fast-forward)``)."""
    lines = _stderr_lines(exc)
    for marker in ("[rejected]", "error:", "fatal:", "remote rejected"):
        for line in lines:
            if marker in line:
                return line
    return lines[0] if lines else "unknown error"


# The last line of every commit message fluxbump writes (templates/commit-message.txt).
_FLUXBUMP_MARK = "Generated by fluxbump"


@dataclass(frozen=True)
class RemoteBranch:
    """The branch as the push target holds it, fetched into ``refs/remotes/<remote>/``."""

    sha: str
    same_tree: bool  # the same files as the local branch: nothing to push
    ours: bool  # every commit on it that the base lacks was written by fluxbump


def pushed_branch(repo: GitRepo, remote: str, branch: str, base: str | None) -> RemoteBranch | None:
    """The branch at the URL a push goes to (a fresh clone, as CI makes, has no local copy);
    None when it is not there. Fetched, so its tree and authorship can be compared."""
    import git

    ref = f"refs/remotes/{remote}/{branch}"
    try:
        url = repo.handle.git.remote("get-url", "--push", remote)
        listed = repo.handle.git.ls_remote("--heads", url, f"refs/heads/{branch}").split()
        if not listed:
            return None
        repo.handle.git.fetch("--no-tags", "--quiet", url, f"+refs/heads/{branch}:{ref}")
        tree = repo.handle.git.rev_parse
        same = tree(f"{listed[0]}^{{tree}}") == tree(f"refs/heads/{branch}^{{tree}}")
        since = [listed[0], "--not", base] if base else [listed[0]]
        messages = repo.handle.git.log("--format=%B%x00", *since).split("\x00")
    except git.GitCommandError as exc:
        raise ResolutionError(
            f"cannot read {branch} at {remote}: {_first_error_line(exc)}; nothing pushed, "
            "the commit is on the local branch"
        ) from None
    ours = all(_FLUXBUMP_MARK in m for m in messages if m.strip())
    return RemoteBranch(listed[0], same, ours)


@dataclass(frozen=True)
class BranchStart:
    """Where a bump branch left off other branches: the local branches nearest below its tip,
    the messages of its commits since, oldest first, and whether fluxbump wrote them all."""

    candidates: list[str]
    messages: list[str]
    ours: bool

    @property
    def base(self) -> str | None:
        """The branch it started from; None when no single one is."""
        return self.candidates[0] if len(self.candidates) == 1 else None


def branch_start(repo: GitRepo, branch: str) -> BranchStart:
    """The local branch ``branch`` grew from: of the branches its history holds, the one
    nearest its tip. fluxbump records no base (a re-run on the bump branch needs one for the
    pull request a failed run did not open), and the branch it started from is that one
    until someone moves it."""
    git = repo.handle.git
    tip = git.rev_parse(f"refs/heads/{branch}")
    listed = git.for_each_ref(
        f"--merged={tip}", "--format=%(objectname) %(refname:short)", "refs/heads/"
    )
    below: dict[str, list[str]] = {}
    for line in listed.splitlines():
        sha, _, name = line.partition(" ")
        if sha != tip:  # the bump branch itself, or a copy of it
            below.setdefault(sha, []).append(name)
    if not below:
        return BranchStart([], [], ours=False)
    distance = {sha: int(git.rev_list("--count", f"{sha}..{tip}")) for sha in below}
    nearest = min(distance, key=distance.__getitem__)
    names = sorted(n for sha in below if distance[sha] == distance[nearest] for n in below[sha])
    messages = git.log("--reverse", "--format=%B%x00", f"{nearest}..{tip}").split("\x00")
    kept = [m.strip() for m in messages if m.strip()]
    return BranchStart(names, kept, ours=all(_FLUXBUMP_MARK in m for m in kept))


def adopt(repo: GitRepo, branch: str, sha: str) -> None:
    """Point the local ``branch`` at ``sha`` (a commit with the same tree): local and remote
    then agree, and no second commit of the same bump is left behind."""
    if current_branch(repo) == branch:
        repo.handle.git.reset("--soft", sha)
    else:
        repo.handle.git.branch("-f", branch, sha)


def past_versions(
    repo: GitRepo,
    rels: Sequence[str],
    *,
    limit: int,
    deleted: DeletedPins | None = None,
) -> tuple[list[SourceFile], int, bool] | None:
    """Each distinct past content of ``rels`` in the newest ``limit`` commits touching them.

    Returns the files, the commits read, and whether more commits touched them (the bound
    cut the history, or a shallow clone did); None, with a warning, when git cannot read it.
    One ``git log --raw`` names every blob (no tree walks), one ``git log --no-walk`` what the
    commits that added a file deleted or renamed,
    one ``git diff-tree`` what the oldest commit read held that HEAD lacks, and one
    persistent ``cat-file`` reads them: 400 commits cost tens of milliseconds. A file that
    was renamed is followed to its older name, as ``git log --follow`` would (a cloud-init
    template moved to another directory still pinned what it pinned); a deleted file is
    followed too when ``deleted`` says a version of it pinned something: one the commit that
    added a pin file deleted (the install moved: a template rewritten elsewhere, a kustomize
    install replaced by a HelmRelease), one deleted later on its own or by a merge, or one
    a commit since the oldest commit read deleted (one ``git log --raw`` of at most
    ``WALK_LIMIT`` commits; the history is bounded when there are more). A past version that does
    not decode is skipped (it pinned nothing readable).
    """
    import git

    from fluxbump.yamlio.yamldoc import note_warnings

    paths = {repo.path(rel): rel for rel in rels}
    gone = _Deleted(repo, deleted)
    try:
        blobs, commits, bounded = _past_blobs(repo, paths, limit, "HEAD", gone, walk=True)
        found = [s for sha, rel in blobs.items() if (s := _blob_source(repo, sha, rel))]
    except (git.GitCommandError, ValueError) as exc:  # (ValueError: GitPython's missing object)
        note_warnings([_unread_history_warning(repo, exc)])
        return None
    cut = [_shallow_warning(repo, commits)] if _is_shallow(repo) else []
    cut += [_deleted_warning(gone.read)] if gone.cut else []
    if cut:
        note_warnings(cut)
    # Past the walk's bound: older pins unknown, as past the history's own bound (said where
    # a refusal or --json shows the history, not as a warning: every run of a repository
    # whose pin files are older than its newest WALK_LIMIT commits would print it).
    return found, commits, bounded or bool(cut) or gone.unwalked is not None


def _unread_history_warning(repo: GitRepo, exc: Exception) -> str:
    """Why the pin files' history is not read: an object git lacks (a partial clone's blob
    it cannot fetch offline, a damaged object store) ends the read, not the run; the CRD
    guard then counts every served version as stored, as with no history at all."""
    import re

    import git

    missing = re.search(r"[0-9a-f]{40,64}", str(exc))  # (GitPython names it as bytes' repr)
    if isinstance(exc, git.GitCommandError):
        why = _first_error_line(exc)
    else:
        why = f"object {missing.group()} missing" if missing else str(exc)
    return (
        f"{repo.top}: git cannot read the pin files' history ({why}): every served CRD "
        "version counts as stored; run git fsck, or fetch the missing objects (a partial "
        "clone fetches them online), to have it read"
    )


def _blob_source(repo: GitRepo, sha: str, rel: str) -> SourceFile | None:
    """A past version of ``rel`` (None: it does not decode, or is larger than a manifest may
    be, so it pinned nothing readable)."""
    try:
        raw = _blob_bytes(repo, bytes.fromhex(sha), f"{sha[:12]}:{rel}")
        return SourceFile(rel, raw, decode(raw, f"{sha[:12]}:{rel}"))
    except UsageError:
        return None


def _blob_bytes(repo: GitRepo, binsha: bytes, label: str) -> bytes:
    """A blob's bytes; a UsageError naming ``label`` as too large to read when it holds more
    than a manifest may (a dump committed by mistake), told by its size alone: the content
    is never asked for (GitPython reads a stream left unread to its end, whole)."""
    odb = repo.handle.odb
    if odb.info(binsha).size > MAX_FILE_BYTES:
        raise UsageError(
            f"{label}: larger than {MAX_FILE_BYTES // 2**20} MiB, too large to be read; commit "
            "the file as it should be first, or name a revision where it is with --base"
        )
    data: bytes = odb.stream(binsha).read()
    return data


def _is_shallow(repo: GitRepo) -> bool:
    """A clone of some commits only (``actions/checkout`` fetches one): git lists the commits
    whose parents it lacks in ``shallow``."""
    return (Path(repo.handle.common_dir) / "shallow").is_file()


def _shallow_warning(repo: GitRepo, commits: int) -> str:
    return (
        f"{repo.top} is a shallow clone: the CRD guard read {commits} commit(s) of the pin "
        "files' history, so a release installed before them is unknown; run git fetch "
        "--unshallow (actions/checkout: fetch-depth: 0)"
    )


def _deleted_warning(read: int) -> str:
    return (
        f"the CRD guard read {read} versions of files deleted from the repository, not all of "
        "them: a release one of the others installed is unknown"
    )


class DeletedPins(Protocol):
    """Which deleted files a pin history reads (``crds/history.py``: ``MovedInstall``)."""

    def candidates(self, rels: Sequence[str]) -> list[str]:
        """Those of ``rels`` whose kind may pin, the likeliest first."""
        ...

    def pinned(self, source: SourceFile) -> bool:
        """Whether this version of a deleted file pinned what the history reads."""
        ...


# Deleted files read to find those that pinned: a commit that regenerated a fleet deletes
# tens of thousands (~60 us each to read), and the install's own kinds are read first.
DELETED_READ_LIMIT = 1000

# Commits whose own changes are read for deleted files: a file added and deleted between the
# oldest commit a history reads and HEAD is in neither (a template that bootstrapped a
# cluster, then gave way to the chart), so every commit since that oldest one is walked, and
# the ``WALKED_COMMITS`` before it (a template deleted just before today's install was added),
# at most ``WALK_LIMIT`` in all. Each costs git ~0.15-0.3 ms on a 1,000-cluster fleet (it
# reads the directory of the clusters twice; pin-kind pathspecs prune no tree there and cost
# more): 200 cost ~60-100 ms, 2,000 ~250-650 ms (``git log --raw``, measured on a
# 2,001-commit fleet); older deletions are seen only as the diff of the oldest commit read
# against HEAD sees them, and the history is bounded (``PinHistory.bounded``).
WALKED_COMMITS = 200
WALK_LIMIT = 2000


class _Deleted:
    """The deleted files ``pins`` takes by a version of theirs (root-relative, as ``rels``),
    each path looked at once, at most the limit read: those the commits that added a pin file
    deleted, those the oldest commit a history read held that HEAD lacks, and those the
    commits since that oldest one (and the ``WALKED_COMMITS`` before it) deleted."""

    def __init__(self, repo: GitRepo, pins: DeletedPins | None) -> None:
        self.repo = repo
        self.pins = pins
        self.seen: set[str] = set()
        self.bases: set[str] = set()
        self.walked = False
        self.read = 0
        self.cut = False  # more deleted files were of a kind that may pin than were read
        self.oldest: list[str] = []  # the oldest commit each history read
        self.unwalked: tuple[int, str] | None = None  # (commits since, the oldest): past the walk

    def base(self, oldest: str | None) -> str | None:
        """``oldest`` when what it held that HEAD lacks is yet to be diffed (None: done)."""
        if oldest is None or oldest in self.bases or self.pins is None:
            return None
        self.bases.add(oldest)
        return oldest

    def reached(self, oldest: str | None) -> None:
        """Note ``oldest`` as the oldest commit a history read (None: it read none)."""
        if oldest is not None and oldest not in self.oldest:
            self.oldest.append(oldest)

    def walk(self) -> dict[str, list[str]]:
        """Path -> its versions (oldest first) of each file deleted since the oldest commit
        the histories read so far (``reached``) or by the ``WALKED_COMMITS`` commits before
        it, within ``WALK_LIMIT`` commits; once."""
        if self.walked or self.pins is None:
            return {}
        self.walked = True
        # Since the oldest of the oldest commits read (one rev-list each: a few, milliseconds).
        since, first = max(((_commits_since(self.repo, c), c) for c in self.oldest),
                           default=(0, ""))  # fmt: skip
        if since > WALK_LIMIT:
            self.unwalked = (since, first)
        return _walked_deletions(self.repo, min(since + WALKED_COMMITS, WALK_LIMIT))

    def pick(self, deleted: dict[str, list[str]], paths: dict[str, str]) -> dict[str, str]:
        """Path -> file of each of ``deleted`` (path -> versions of it) worth following: one
        version pinned (the first read, the oldest known: a template is most often written
        pinning and edited later, and the oldest install is what the target may drop)."""
        prefix = self.repo.prefix  # (a root in a subdirectory reads nothing outside it)
        fresh = {path.removeprefix(prefix): path for path in deleted
                 if path not in paths and path not in self.seen and path.startswith(prefix)}  # fmt: skip
        self.seen.update(fresh.values())
        if self.pins is None or not fresh:
            return {}
        picked: dict[str, str] = {}
        for rel in self.pins.candidates(list(fresh)):
            if self._pinned(self.pins, rel, deleted[fresh[rel]]):
                picked[fresh[rel]] = rel
            if self.cut:
                break
        return picked

    def _pinned(self, pins: DeletedPins, rel: str, blobs: list[str]) -> bool:
        """Whether a version of ``rel`` of ``blobs`` pinned (each read counts to the limit)."""
        for blob in blobs:
            if self.read >= DELETED_READ_LIMIT:
                self.cut = True
                return False
            self.read += 1
            source = _blob_source(self.repo, blob, rel)
            if source is not None and pins.pinned(source):
                return True
        return False


def _commits_since(repo: GitRepo, oldest: str) -> int:
    """How many commits HEAD has that ``oldest``'s parents lack (``oldest`` among them): the
    range a history reading back to ``oldest`` spans (a commit walk, no diffs: milliseconds)."""
    return int(repo.handle.git.rev_list("--count", "HEAD", "--not", f"{oldest}^@"))


def _walked_deletions(repo: GitRepo, limit: int) -> dict[str, list[str]]:
    """Path -> every version the newest ``limit`` commits name of each file they delete
    (oldest first): one ``git log --raw`` of each commit's own changes, a merge's against each
    parent (it may delete a file itself), the root's none (it deletes nothing). Renames are
    no deletions (``_moves``' bound: a repository moved whole would be read file by file),
    but a file renamed, then deleted, is gone under each of its names, each with the versions
    it held there (``_renamed_away``)."""
    from fluxbump.vcs.steps import run_git

    # A delta base cache of 16 MiB, not git's 96: the walk resolves every version of the
    # clusters' directory tree once, and git kept ~106 MB for 2,000 commits of a 1,000-cluster
    # fleet (~25 MB so, at the same CPU time).
    args = ["-c", "log.showRoot=false", "-c", "core.deltaBaseCacheLimit=16m", "log", "HEAD",
            "--format=%H", "--raw", "-z", "--no-abbrev", "-M", "-l100", "-m",
            f"--max-count={limit}"]  # fmt: skip
    proc = run_git(repo.top, args)
    if proc.returncode != 0:
        import git

        raise git.GitCommandError(["git", *args], proc.returncode, proc.stderr)
    versions: dict[str, list[str]] = {}
    gone: set[str] = set()
    renames: list[tuple[str, str]] = []  # (old path, new path), newest first
    for _, status, old, new, named in _raw_changes(proc.stdout.decode("utf-8", "surrogateescape")):
        if status[:1] == "R":  # each path's versions are those it held
            versions.setdefault(named[1], []).append(new)
            versions.setdefault(named[0], []).append(old)
            renames.append((named[0], named[1]))
            if named[1] in gone:  # (a newer commit deleted it: the file is gone)
                gone.add(named[0])
            continue
        versions.setdefault(named[0], []).extend(b for b in (new, old) if b != _NO_BLOB)
        if status == "D":
            gone.add(named[0])
    held = {path: list(dict.fromkeys(reversed(versions[path]))) for path in sorted(gone)}
    return _renamed_away(held, renames)


def _renamed_away(
    held: dict[str, list[str]], renames: list[tuple[str, str]]
) -> dict[str, list[str]]:
    """``held`` (path -> versions) with a version a file kept through a rename (``renames``,
    newest first) left to the name it had first: the refusal names where a release was
    pinned (``git mv`` as it was, then deleted: the old path), and it is read once."""
    before: dict[str, set[str]] = {}  # path -> the versions its older names held
    for old, new in reversed(renames):
        if old in held and new in held:
            before[new] = before.get(new, set()) | before.get(old, set()) | set(held[old])
    return {path: [b for b in blobs if b not in before.get(path, ())]
            for path, blobs in held.items()}  # fmt: skip


def _past_blobs(
    repo: GitRepo,
    paths: dict[str, str],
    limit: int,
    rev: str,
    deleted: _Deleted,
    *,
    walk: bool = False,
) -> tuple[dict[str, str], int, bool]:
    """Blob -> file of every version of ``paths`` (path -> file it is a version of) in the
    newest ``limit`` commits from ``rev`` touching them, of the paths each was renamed from
    (from the commit before the rename on), and of the files ``deleted`` picks of those the
    commits that added one deleted, of those gone since the oldest commit read and, when
    ``walk`` (the first call), of those the commits since the oldest commit any of these
    reads deleted, all within what is left of the bound."""
    if not paths or limit <= 0:
        return {}, 0, bool(paths)
    log = repo.handle.git.log(
        rev, "--format=%H", "--raw", "--no-abbrev", "-z", f"--max-count={limit + 1}", "--", *paths
    )
    added: dict[str, str] = {}
    blobs, commits, oldest = _changed_blobs(log.split("\0"), paths, limit, added)
    read, bounded = min(commits, limit), commits > limit
    renamed, gone = _moves(repo, list(dict.fromkeys(added.values())), paths, deleted.base(oldest))
    deleted.reached(oldest)
    # The paths renamed from first: the walk covers the commits since their oldest too.
    follows = [(renamed[sha], f"{sha}^") for sha in renamed]
    read, bounded = _follow(repo, blobs, follows, (limit, read, bounded), deleted)
    versions = {path: [blob] for path, blob in gone.items()}
    for path, walked in (deleted.walk() if walk else {}).items():
        versions[path] = list(dict.fromkeys([*versions.get(path, []), *walked]))
    picked = deleted.pick(versions, paths)
    # Every version known of a picked file: following it from ``rev`` drops a merged
    # branch's commits when the merge holds the file as its first parent does (not at all).
    blobs.update({b: rel for path, rel in picked.items() for b in versions[path] if b not in blobs})
    follows = [(picked, rev)] if picked else []
    read, bounded = _follow(repo, blobs, follows, (limit, read, bounded), deleted)
    return blobs, read, bounded


def _follow(
    repo: GitRepo,
    blobs: dict[str, str],
    follows: list[tuple[dict[str, str], str]],
    bound: tuple[int, int, bool],
    deleted: _Deleted,
) -> tuple[int, bool]:
    """Add to ``blobs`` (a blob first named keeps its file) the versions of each of
    ``follows`` (paths, the revision their history starts from) within what ``bound`` (the
    limit, the commits read, whether the bound cut them) leaves; the new read and cut."""
    limit, read, bounded = bound
    for older_paths, older_rev in follows:
        older, more, cut = _past_blobs(repo, older_paths, limit - read, older_rev, deleted)
        blobs.update({blob: rel for blob, rel in older.items() if blob not in blobs})
        read, bounded = read + more, bounded or cut
    return read, bounded


def _moves(
    repo: GitRepo, commits: list[str], paths: dict[str, str], base: str | None = None
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """What ``commits`` (each against its first parent) renamed into ``paths``: commit ->
    {old path: file}; and what they deleted, and what ``base`` held that HEAD lacks: path ->
    a version of it (the newest deletion's, else base's). A root commit, and a shallow
    clone's oldest one (git has not its parent), delete nothing (no root diff: listing the
    whole tree one adds cost ~40 ms on a 1,000-cluster fleet); a merge shows nothing (its
    changes are its parents').

    An old install deleted by a commit of its own, after today's install was added, or by a
    merge changes no pin file: a walk of every commit's diff finds it (~470 ms on a
    2,000-commit 1,000-cluster fleet), the one diff of ``base`` against HEAD too (~10-20 ms).
    One ``git diff-tree --stdin`` diffs all of them (a git process costs as much as that
    diff); a file added and deleted after ``base`` is not seen (``_walked_deletions``)."""
    from fluxbump.vcs.steps import run_git

    head = [f"{repo.handle.head.commit.hexsha} {base}"] if base is not None else []
    if not commits and not head:
        return {}, {}
    # --always: a line per commit diffed, even with no change, so each change's line says
    # which diff it is of (HEAD may be one of ``commits`` too). -l100: no exhaustive rename
    # search past 100 x 100 files (git's own bound, 1,000 x 1,000, is a million content
    # comparisons, which a diff spanning years of a fleet reaches); a file moved and edited
    # among more is deleted, and read as such.
    args = ["diff-tree", "--stdin", "--always", "-r", "-z", "--no-abbrev", "-M", "-l100",
            "--diff-filter=DR"]  # fmt: skip
    proc = run_git(repo.top, args, stdin="".join(f"{c}\n" for c in (*commits, *head)).encode())
    if proc.returncode != 0:
        import git

        raise git.GitCommandError(["git", *args], proc.returncode, proc.stderr)
    renamed: dict[str, dict[str, str]] = {}
    gone: dict[str, str] = {}
    for diff, status, old_blob, _, named in _raw_changes(
        proc.stdout.decode("utf-8", "surrogateescape")
    ):
        if status[:1] == "R" and diff < len(commits) and named[1] in paths:
            renamed.setdefault(commits[diff], {})[named[0]] = paths[named[1]]
        elif status[:1] == "D":  # the newest deletion's version is what it pinned last
            gone.setdefault(named[0], old_blob)
    return renamed, gone


def _raw_changes(raw: str) -> Iterator[tuple[int, str, str, str, list[str]]]:
    """(diff, status, old blob, new blob, paths) of each change ``diff-tree --stdin --always
    -r -z`` (or ``log --raw -z``) lists, ``diff`` the index of its commit line, a rename
    naming both paths."""
    tokens, diff, i = raw.split("\0"), -1, 0
    while i < len(tokens):
        token = tokens[i].strip("\n")
        if not token.startswith(":"):
            diff, i = diff + bool(token), i + 1
            continue
        _, _, old_blob, new_blob, status = token[1:].split()[:5]
        width = 2 if status[:1] == "R" else 1
        named = tokens[i + 1 : i + 1 + width]
        i += 1 + width
        if len(named) < width:
            return
        yield diff, status, old_blob, new_blob, named


_NO_BLOB = "0" * 40


def _changed_blobs(
    tokens: list[str], paths: dict[str, str], limit: int, added: dict[str, str] | None = None
) -> tuple[dict[str, str], int, str | None]:
    """Blob -> file of every version ``git log --raw -z`` names in its first ``limit``
    commits (before and after each change), how many commits it listed, and the oldest of
    those read (None: none); ``added`` gets path -> the commit that added it."""
    blobs: dict[str, str] = {}
    commits, i, commit, oldest = 0, 0, "", None
    while i < len(tokens):
        token = tokens[i].strip("\n")
        if not token.startswith(":"):
            commits += bool(token)
            commit = token or commit
            oldest = commit if token and commits <= limit else oldest
            i += 1
            continue
        _, _, old, new, status = token[1:].split()[:5]
        width = 2 if status[:1] in ("R", "C") else 1  # a rename names both paths
        rel = paths.get(tokens[i + width]) if i + width < len(tokens) else None
        if rel is not None and commits <= limit:
            blobs.update({sha: rel for sha in (new, old) if sha != _NO_BLOB})
            if status == "A" and added is not None:
                added[tokens[i + width]] = commit
        i += 1 + width
    return blobs, commits, oldest
