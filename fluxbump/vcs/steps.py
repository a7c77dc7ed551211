"""The git steps of one bump (branch, commit, index), recorded so they can be undone.

The journal (``write.transaction``) holds the branch and HEAD the run started from and each
step taken; ``BumpGit`` takes the steps, and undoes or finishes them (after a failure, or
when the next run recovers a killed one). The steps are chosen so that every state between
them is easy to read back from git itself:

1. the branch is created at HEAD and checked out by ref updates only (no index, no files);
2. the commit is built in a private index (HEAD's tree plus exactly the written files,
   added as literal paths from stdin; the message from a file), so nothing the user staged
   or left uncommitted enters it, and no argument list grows with the fleet; the user's
   hooks run as for any ``git commit``;
3. the real index entries of the written files are set to the new commit.

Until step 2 the work tree and index are the start's; after it, HEAD's tree is the work tree.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxbump.errors import UsageError
from fluxbump.output import one_line
from fluxbump.scan.sources import READ_LIMIT
from fluxbump.write.places import Places
from fluxbump.write.transaction import GIT_STATE, Stamps, Transaction, held_lock

_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
PRIVATE_INDEX = "index"
MESSAGE = "message"


class GitStepFailed(UsageError):
    """A git command failed; the message carries git's own output (hook output included)."""


@dataclass
class BumpGit:
    """One bump's git steps: start state, the branch it creates, the files it commits."""

    top: Path
    journal: Path
    branch0: str
    head0: str
    branch: str
    paths: list[str]  # relative to the work tree top, committed literally
    steps: list[str] = field(default_factory=list)
    commit_sha: str = ""
    staged_tree: str = ""  # the tree the run staged: its commit must hold exactly this
    _restaged_at: str = ""  # the run's commit, found holding another tree (``committed``)
    _theirs: bool = False  # the branch was made by another process: never deleted (``undo``)

    def state(self) -> dict[str, Any]:
        return {
            "branch0": self.branch0,
            "head0": self.head0,
            "branch": self.branch,
            "paths": self.paths,
            "steps": self.steps,
            "commit": self.commit_sha,
            "staged": self.staged_tree,
        }

    @classmethod
    def from_state(cls, where: Places, state: dict[str, Any]) -> BumpGit:
        """The record a killed run left (shape-checked: it names refs and paths)."""
        names = ("branch0", "head0", "branch")
        paths = state.get("paths")
        if not all(isinstance(state.get(k), str) and state[k] for k in names) or not (
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        ):
            raise UsageError(f"{where.journal}: its git record is damaged; inspect it by hand")
        steps = state.get("steps")
        return cls(
            where.base,
            where.journal,
            state["branch0"],
            state["head0"],
            state["branch"],
            list(paths),
            list(steps) if isinstance(steps, list) else [],
            str(state.get("commit") or ""),
            str(state.get("staged") or ""),
        )

    # --- taking the steps ------------------------------------------------------------------

    def run(self, tx: Transaction, message: str) -> str:
        """Branch, commit, index; each step recorded in the journal, then a kill point."""
        self._refuse_moved(self.branch0)
        tx.refuse_changed()
        index = {"GIT_INDEX_FILE": str(self.journal / PRIVATE_INDEX)}
        message_file = self.journal / MESSAGE
        fd = os.open(message_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(message)
        # Staged before the branch, whose record holds the tree: a run killed while the
        # user's hooks run (git commits all the same) is judged by it (``committed``).
        self._private_index(index)
        self._stage(index)
        self.staged_tree = self._git("write-tree", env=index).strip()
        self._create_branch()
        self._git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
        self._after(tx, "branch")
        self._refuse_moved(self.branch)
        tx.refuse_changed()  # (the commit takes the staged files: none may have moved since)
        seen = tx.stamps()
        try:
            self._git("commit", "-q", "--no-edit", "-F", str(message_file), env=index)
        except GitStepFailed:
            # A refusing hook may have fixed the files first (a formatter under the pre-commit
            # framework): its edits are this run's, restored with the bump's.
            tx.claim_current(changed_since=seen)
            raise
        self.commit_sha = self._git("rev-parse", "--verify", "HEAD").strip()
        self._after(tx, "commit")
        self._refuse_restaged(tx, seen)
        self._update_index()
        tx.writer.step("git")
        return self.commit_sha

    def _create_branch(self) -> None:
        """The run's branch at the start, only if no such branch exists: one made since the
        refusals by another process (a run in another work tree of this repository) is
        theirs, and the rollback leaves it (it was deleted when it pointed at the start)."""
        try:
            # The reflog's first entry proves to recovery that this run made the branch
            # (``_unproven``); with core.logAllRefUpdates=false git writes none, as it should.
            self._git("update-ref", "-m", self._created(), f"refs/heads/{self.branch}",
                      self.head0, "")  # fmt: skip
        except GitStepFailed:
            if self._rev(f"refs/heads/{self.branch}") is None:
                raise
            self._theirs = True
            raise GitStepFailed(
                f"branch {self.branch} was created by another process while fluxbump was "
                "writing; it is kept; nothing was committed, every file is restored: delete "
                "it, or pass --branch NAME, and re-run"
            ) from None

    def _created(self) -> str:
        """The reflog entry the run's branch begins with: made by this run, from its start."""
        return f"fluxbump: created from {self.branch0} at {self.head0}"

    def _refuse_unproven(self) -> None:
        """Recovery moves HEAD off and deletes the branch the git record names; a record
        another hand wrote, or one copied from another clone, named ``main`` and recovery
        deleted it (its commits and reflog too). Only a branch whose reflog begins with this
        run creating it from the recorded start is the run's; anything else is refused before
        a file or ref is touched."""
        if self._rev(f"refs/heads/{self.branch}") is None:
            return  # (killed before the branch was made: nothing to delete or leave)
        reason = self._unproven()
        if not reason:
            return
        record = self.journal / GIT_STATE
        raise UsageError(
            f"{record} names {self.branch} as the branch of an interrupted fluxbump run, but "
            f"{reason}: the branch, HEAD and every file are left as they are; if that record "
            f"is not this clone's, remove it and re-run to restore the files (or remove "
            f"{self.journal} to keep them)"
        )

    def _unproven(self) -> str:
        """Why the branch the record names is not that run's ("" when it is)."""
        from fluxbump.vcs.text import BRANCH_PREFIX

        if self.branch == self.branch0:
            return "it is the branch that run started from"
        proc = self._proc("reflog", "show", "--format=%gs", f"refs/heads/{self.branch}", "--")
        entries = proc.stdout.decode(errors="replace").splitlines()
        if proc.returncode != 0 or not entries:
            # No reflog (core.logAllRefUpdates=false, or expired): a bump branch's name is
            # the proof left, which no start branch has.
            if self.branch.startswith(BRANCH_PREFIX):
                return ""
            return (
                f"it has no reflog to show who created it and its name does not start with "
                f"{BRANCH_PREFIX}"
            )
        if entries[-1] != self._created():
            return (
                f"its reflog does not begin with fluxbump creating it from {self.branch0} at "
                f"{self.head0[:12]} (it began: {one_line(entries[-1])[:80]})"
            )
        return ""

    def _refuse_moved(self, expected: str) -> None:
        """HEAD must still be ``expected`` (the start branch, then the run's) at the start:
        another git command meanwhile (a checkout, a commit) would leave the bump's branch
        under someone else's work tree, or have the bump committed on their branch or on top
        of their commit, as ``git commit`` takes whatever HEAD is."""
        current, head = self._current(), self._rev("HEAD")
        if current == expected and head == self.head0:
            return
        at = (head or "no commit")[:12]
        if current == self.branch:  # their commit on the run's branch: it stays there
            what = f"a commit ({at}) was made on {self.branch}"
            then = (
                f"; it stays there: rename that branch (git branch -m {self.branch} NAME), re-run"
            )
        else:
            what = f"HEAD moved to {f'branch {current}' if current else 'a detached HEAD'} at {at}"
            then = ": re-run once it is done"
        raise UsageError(
            f"{what} while fluxbump was writing (another git command ran in {self.top}); "
            f"nothing was committed, every file is restored{then}"
        )

    def _refuse_restaged(self, tx: Transaction, seen: Stamps) -> None:
        """The commit must hold the tree the run staged: a hook that stages again (a formatter
        under lint-staged, ``git add -A``) would commit what the gate never read, or the
        user's other work as part of the bump. Raised after the commit is recorded, so the
        rollback takes it back; the hook's edits to the run's files are restored with its."""
        if not self._restaged(self.commit_sha):
            return
        tx.claim_current(changed_since=seen)
        changed = sorted(self._changed(self.commit_sha, since=self.staged_tree))
        named = _first_three(changed)
        raise GitStepFailed(
            f"a git hook changed the commit fluxbump staged ({named or 'its tree'}): it would "
            "hold what the gate did not verify; nothing was committed, every file is restored; "
            "make the hook leave staged files as they are (or fail, to refuse the commit), or "
            "commit the bump by hand"
        )

    def _restaged(self, commit: str) -> bool:
        """Whether ``commit``'s tree is not the one the run staged (unknown: a journal of an
        earlier version, which recorded none, is taken as it stands)."""
        return bool(self.staged_tree) and self._rev(commit, "tree") != self.staged_tree

    def _after(self, tx: Transaction, step: str) -> None:
        tx.writer.step("git")
        self.steps.append(step)
        tx.record_git(self.state())

    def _private_index(self, index: dict[str, str]) -> None:
        """The index the commit is made from: HEAD's tree, with the stat data of the user's
        index where its entry is HEAD's (``read-tree -m`` of one tree keeps it), so that
        ``git commit`` re-reads only what changed; from HEAD's tree alone it hashed every
        tracked file again (0.74 against 0.10 s for 44,000 files). The user's staged
        changes are HEAD's again here; an index read-tree cannot merge (unmerged entries)
        gives HEAD's tree alone."""
        user = self._git("rev-parse", "--git-path", "index").strip()
        private = Path(index["GIT_INDEX_FILE"])
        try:
            shutil.copyfile(self.top / user, private)
        except OSError:  # (no index yet)
            private.unlink(missing_ok=True)
        merged = self._proc("read-tree", "-m", "HEAD", env=index)
        if merged.returncode < 0:  # killed (a file size limit): said as any step's failure
            raise GitStepFailed(f"git read-tree failed: {_one_line(merged)}")
        if merged.returncode != 0:
            private.unlink(missing_ok=True)
            self._git("read-tree", "HEAD", env=index)

    def _stage(self, index: dict[str, str]) -> None:
        """Stage the run's files in the private index. What HEAD tracks is staged by
        ``update-index`` (a tracked file under a directory .gitignore lists too; it looks
        each path up where ``add -u`` matched 2,000 pathspecs against every entry: 1.06
        against 0.06 s at 44,000 files); only the files the run created take a plain add
        (one that .gitignore lists is refused, never committed)."""
        tracked = _paths(self._proc("ls-files", "-z", env=index).stdout)  # HEAD's (read-tree)
        created = [p for p in self.paths if p not in tracked]  # (a deleted file is HEAD's)
        kept = _nul([p for p in self.paths if p in tracked])
        if kept:
            # (the user's assume-unchanged and skip-worktree bits came along: update-index
            # would take such a file as it stands in the index, unread)
            self._git("update-index", "--no-assume-unchanged", "--no-skip-worktree", "-z",
                      "--stdin", env=index, stdin=kept)  # fmt: skip
            self._git("update-index", "--remove", "-z", "--stdin", env=index, stdin=kept)
        if created:
            self._git("add", "--pathspec-from-file=-", "--pathspec-file-nul", env=index,
                      stdin=_nul(created))  # fmt: skip

    def _update_index(self) -> None:
        """The user's index entries of the run's files as HEAD has them (``reset -q --
        PATHS``, whose pathspec matching cost 0.9 s for 2,000 files of 44,000): each set from
        HEAD's tree, one HEAD lacks removed; their stat data is refreshed by git's next
        ``status``."""
        listed = self._git_out("ls-tree", "-r", "-z", "--full-tree", "HEAD")
        entries = {}
        for record in listed.split(b"\0"):
            info, _, path = record.partition(b"\t")
            if path:
                mode, _, sha = info.split(b" ")
                entries[os.fsdecode(path)] = (mode, sha)
        kept = [path for path in self.paths if path in entries]
        lines = [b"%s %s\t%s\0" % (*entries[path], os.fsencode(path)) for path in kept]
        if lines:
            self._git("update-index", "-z", "--index-info", stdin=b"".join(lines))
        if len(kept) < len(self.paths):
            gone = [path for path in self.paths if path not in entries]
            self._git("update-index", "--force-remove", "-z", "--stdin", stdin=_nul(gone))

    # --- reading back, undoing, finishing ---------------------------------------------------

    def committed(self, files: Sequence[str]) -> bool:
        """The run's commit exists and HEAD is on it, or on commits made after it: finish,
        not undo. HEAD where the run started, or moved by commits that touch none of
        ``files`` (a pull) and not on the run's branch: undo. Otherwise neither is safe, nor
        when the branch the record names is not the run's (``_refuse_unproven``)."""
        self._refuse_unproven()
        head = self._rev("HEAD")
        tip = self._rev(f"refs/heads/{self.branch}")
        own = self._own_commit(tip) if tip is not None else None
        restaged = own is not None and self._restaged(own)
        if restaged:  # its files may hold a hook's edits: undone with the run's (``hook_edit``)
            self._restaged_at = own or ""
        if head is None or head == self.head0:
            return False
        if own is not None and not restaged and self._is_ancestor(own, head):
            return True
        if restaged and head == own:
            if own != self.commit_sha:  # (unrecorded: a hook staged again, or an amend since)
                raise self._not_as_staged(own or "")
            return False  # killed before ``run`` refused it: undone
        on_branch = self._current() == self.branch
        if not on_branch and not touched(self.top, self.head0, head, files):
            return False
        if on_branch and head == tip:
            self._refuse_swept(head)
        # Commits made since (the bump's files committed by hand, say): undoing would restore
        # the files under them (or move HEAD off them), and finishing would claim a commit
        # the run never made.
        raise head_moved(self.top, self.journal, self.branch0, self.head0)

    def _not_as_staged(self, commit: str) -> UsageError:
        """The refusal to judge a commit on the run's branch, made from where it began, that
        holds another tree than the run staged and was never recorded as its own: git's
        (its hooks staged again while fluxbump was killed) or the user's (an amend)."""
        return UsageError(
            f"the commit {commit[:12]} on {self.branch} holds other files than the interrupted "
            "fluxbump run staged (a git hook staged again while it committed, or the commit "
            f"was amended since): keep it by removing {self.journal}, or check out "
            f"{self.branch0} and re-run to restore the files, then delete {self.branch}"
        )

    def _refuse_swept(self, head: str) -> None:
        """The run's branch is one commit from where it began that changes every file of the
        run and others: a hook staged the user's other work while git committed, fluxbump
        killed (or the user committed by hand). Refused like any commit the run did not
        make, but saying so, with the way out that works: "HEAD moved to commits" read as someone
        else's, and its "check out the start branch" git refuses (the untracked other files
        are the commit's)."""
        if not self.paths or self._rev(f"{head}^") != self.head0:
            return
        changed = self._changed(head)
        extra = sorted(changed - set(self.paths))
        if not extra or not changed >= set(self.paths):
            return
        named = _first_three(extra)
        raise UsageError(
            f"the commit {head[:12]} on {self.branch} holds the interrupted fluxbump run's files "
            f"and others it did not write ({named}: staged by a git hook while it committed, "
            "or committed by hand since), so fluxbump can neither finish nor undo it: keep it "
            f"by removing {self.journal}, then run git reset (the index may still hold the "
            "files the run began with)"
        )

    def complete(self) -> None:
        tip = self._rev(f"refs/heads/{self.branch}")
        if self._current() == self.branch and tip is not None and tip == self._own_commit(tip):
            self._update_index()  # with commits after it, or elsewhere, the index is the user's

    def undo(self) -> None:
        """Back on the start branch at the start HEAD, the new branch deleted; the files are
        the start's by then, so only refs move (and the index, if it was updated)."""
        on_branch = self._current() == self.branch
        if on_branch:
            self._git("symbolic-ref", "HEAD", f"refs/heads/{self.branch0}")
        tip = self._rev(f"refs/heads/{self.branch}")
        # Its commit, once the user checked out another branch, looked finished to them (it
        # may be pushed, even proposed): kept. Only a run still on its branch takes it back.
        if (tip is not None and not self._theirs) and (
            tip == self.head0 or (on_branch and tip == self._own_commit(tip))
        ):
            self._git("update-ref", "-d", f"refs/heads/{self.branch}", tip)
        if "commit" in self.steps:
            self._update_index()  # its entries may be the new commit's: back to HEAD's

    def hook_edit(self, key: str) -> bytes | None:
        if not self._restaged_at:
            return None
        blob = f"{self._restaged_at}:{key}"
        size = self._proc("cat-file", "-s", blob)
        if size.returncode != 0 or int(size.stdout or 0) > READ_LIMIT:  # (never held whole)
            return None
        proc = self._proc("cat-file", "blob", blob)
        return proc.stdout if proc.returncode == 0 else None

    def _own_commit(self, tip: str) -> str | None:
        """The run's commit on the branch ending at ``tip``: the one recorded, else (killed
        before recording it, or reworded since) the branch's first commit, when it changes
        exactly the run's files. A commit of the user's on the branch also has the start as
        its parent, so the parent alone proves nothing."""
        for commit, recorded in ((self.commit_sha, True), (self._first_after_start(tip), False)):
            if not commit or self._rev(f"{commit}^") != self.head0:
                continue
            if not self._is_ancestor(commit, tip):
                continue
            if recorded or (self.paths and self._changed(commit) == set(self.paths)):
                return commit
        return None

    def _is_ancestor(self, commit: str, of: str) -> bool:
        return self._proc("merge-base", "--is-ancestor", commit, of).returncode == 0

    def _first_after_start(self, tip: str) -> str:
        listed = self._git("rev-list", "--first-parent", f"{self.head0}..{tip}").split()
        return listed[-1] if listed else ""

    def _changed(self, commit: str, since: str = "") -> set[str]:
        proc = self._proc(*_DIFF_NAMES, since or self.head0, commit)
        if proc.returncode != 0:
            raise GitStepFailed(f"git diff-tree failed: {_one_line(proc)}")
        return _paths(proc.stdout)

    def _current(self) -> str | None:
        proc = self._proc("symbolic-ref", "-q", "HEAD")
        ref = proc.stdout.decode().strip()
        return ref.removeprefix("refs/heads/") if proc.returncode == 0 else None

    def _rev(self, rev: str, kind: str = "commit") -> str | None:
        proc = self._proc("rev-parse", "-q", "--verify", f"{rev}^{{{kind}}}")
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def _git(self, *args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> str:
        return self._git_out(*args, env=env, stdin=stdin).decode(errors="replace")

    def _git_out(self, *args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> bytes:
        """A git step's output as git wrote it (paths: bytes); a GitStepFailed if it failed."""
        proc = self._proc(*args, env=env, stdin=stdin)
        if proc.returncode != 0:
            raise GitStepFailed(f"git {args[0]} failed: {_one_line(proc)}")
        return proc.stdout

    def _proc(
        self, *args: str, env: dict[str, str] | None = None, stdin: bytes = b""
    ) -> subprocess.CompletedProcess[bytes]:
        return run_git(self.top, list(args), env=env, stdin=stdin)


def touched(top: Path, since: str, head: str, files: Sequence[str]) -> bool:
    """Whether the commits from ``since`` to ``head`` change any of ``files`` (git failing
    to say, a ``since`` gone from the repository, counts as yes)."""
    proc = run_git(top, [*_DIFF_NAMES, since, head])
    if proc.returncode != 0:
        return True
    changed = _paths(proc.stdout)
    return any(file in changed for file in files)


_DIFF_NAMES = ("diff-tree", "-r", "-z", "--no-commit-id", "--name-only")


def _first_three(paths: Sequence[str]) -> str:
    """``a, b, c and 4 more``: the paths a refusal names."""
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(paths[:3]) + more


def _nul(paths: Sequence[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)


def _paths(listed: bytes) -> set[str]:
    """The paths ``git diff-tree -z --name-only`` printed, as the journal holds them (a
    byte that is not UTF-8 kept as its surrogate, ``os.fsdecode``)."""
    return {path for path in os.fsdecode(listed).split("\0") if path}


def head_moved(top: Path, journal: Path, branch0: str | None, head0: str) -> UsageError:
    """The refusal to recover a run after HEAD moved to commits it did not make."""
    if run_git(top, ["cat-file", "-e", f"{head0}^{{commit}}"]).returncode != 0:
        # Told to check out a commit that is not there, the user could do nothing.
        return UsageError(
            f"{journal} records that an interrupted fluxbump run began at commit {head0[:12]}, "
            "which is not in this repository (its history was rewritten, or the record is "
            "damaged), so fluxbump cannot tell whether commits since hold what that run "
            f"wrote: see git status, then remove {journal} to keep the files as they are"
        )
    start = f"{branch0} (at {head0[:12]}, where it began)" if branch0 else f"{head0[:12]}"
    return UsageError(
        "HEAD moved to commits an interrupted fluxbump run did not make; undoing that run "
        f"would restore files under them: check out {start} and re-run to undo it, or "
        f"remove {journal} to keep the files as they are"
    )


@dataclass
class HeadOnly:
    """A run that takes no git step (``--no-git``, ``sync``) in a git work tree: recorded
    is only where HEAD was, so that recovery never restores the files under commits made
    since (the files it wrote, committed by hand after the crash)."""

    top: Path
    journal: Path
    branch0: str | None
    head0: str

    def state(self) -> dict[str, Any]:
        return {"branch0": self.branch0, "head0": self.head0}

    def committed(self, files: Sequence[str]) -> bool:
        """Never: there is nothing to finish. HEAD moved by commits touching ``files`` is
        refused (undoing would restore them under those commits)."""
        proc = run_git(self.top, ["rev-parse", "-q", "--verify", "HEAD^{commit}"])
        head = proc.stdout.decode().strip() if proc.returncode == 0 else self.head0
        if head != self.head0 and touched(self.top, self.head0, head, files):
            raise head_moved(self.top, self.journal, self.branch0, self.head0)
        return False

    def complete(self) -> None:
        return None

    def undo(self) -> None:
        return None

    def hook_edit(self, key: str) -> bytes | None:
        return None  # (no commit of its own)


def run_git(
    top: Path, args: Sequence[str], *, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """One git command, pathspecs literal, to completion: a signal arriving meanwhile is held
    until git is done (a git killed half-way leaves its own locks), then delivered."""
    full_env = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", **(env or {})}
    with _signals_held():
        return subprocess.run(
            ["git", *args], cwd=top, env=full_env, input=stdin, capture_output=True, check=False,
            pass_fds=held_lock(),  # git (a hook) outliving a killed run keeps the lock
        )  # fmt: skip


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP caught while the block runs, then raised again under the
    handlers and signal mask it found (one still blocked stays pending, as it was). Caught,
    not blocked: git and the user's hooks must see them as usual, a child inherits the mask,
    and unblocking it in the child takes ``preexec_fn``, which makes subprocess fork where it
    would vfork (50 ms a git call for a fleet-sized process, not 5: a bump makes about 20).
    One ignored (``nohup``) stays ignored, for git too. Only the main thread handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = [sig for sig in _SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, lambda signum, _: caught.append(signum)) for sig in held}
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _one_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    """git's stderr and stdout (a refusing hook's output too) on one line."""
    text = (proc.stderr + b"\n" + proc.stdout).decode(errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if proc.returncode < 0:
        lines.append(_killed(-proc.returncode))
    return " / ".join(lines) or f"exit status {proc.returncode}"


def _killed(signum: int) -> str:
    """What a signal that killed git means (subprocess gives git the default actions back)."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum == signal.SIGXFSZ:
        return f"killed by {name} (a file passed the file size limit: raise ulimit -f)"
    return f"killed by {name}"


def load(where: Places, state: dict[str, Any]) -> BumpGit | HeadOnly:
    """``recover``'s reader of the journal's git record (a run with no branch took no step)."""
    if "branch" in state:
        return BumpGit.from_state(where, state)
    head0, branch0 = state.get("head0"), state.get("branch0")
    if not isinstance(head0, str) or not head0 or not isinstance(branch0, (str, type(None))):
        raise UsageError(f"{where.journal}: its git record is damaged; inspect it by hand")
    return HeadOnly(where.base, where.journal, branch0, head0)
