"""Git around one bump: the base reader, the refusals, the branch, commit, push and PR.

GitPython is imported only through ``fluxbump.vcs.git``, inside the methods that need it, so
commands that never touch git stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fluxbump.config import Config
from fluxbump.errors import ResolutionError, UsageError
from fluxbump.plan import BaseCharts, Plan
from fluxbump.results import BumpOptions, BumpResult
from fluxbump.scan.moved import BaseSources
from fluxbump.scan.sources import SourceFile
from fluxbump.vcs.text import branch_name, bump_prefix, commit_message, pr_text

# Past file contents, the commits read, and whether the bound cut the history.
PastFiles = tuple[list[SourceFile], int, bool]

if TYPE_CHECKING:
    from fluxbump.remote.forge import PullRequest
    from fluxbump.vcs.git import DeletedPins
    from fluxbump.vcs.steps import BumpGit, HeadOnly
    from fluxbump.write.transaction import Transaction


class GitSession:
    """Git around one bump: the base reader, the refusals, the branch and commit."""

    def __init__(self, repo: Any, options: BumpOptions, notes: list[str]) -> None:
        self.repo = repo
        self.options = options
        self.notes = notes
        self.original: str | None = None
        self.branch: str | None = None
        self.index_url = ""
        self.forge: tuple[Any, str] | None = None
        self.config = Config()  # the run's: where its 'remote' is set, for the refusals

    @classmethod
    def open(cls, root: Path, options: BumpOptions) -> GitSession:
        """Git is read (for the base revision) even with --no-git; only writes are skipped."""
        from fluxbump.vcs import git

        try:
            repo = git.open_repo(root)
        except git.GitUnusable:
            if not options.no_git:
                raise
            repo = None  # --no-git asks for no commit; the base revision is then the files
        if repo is not None and not (options.no_git or options.dry_run):  # (git would commit)
            git.refuse_untrusted_work_tree(repo)  # before has_head, which git's refusal fails
        if repo is None or not git.has_head(repo):
            where = (
                "not in a git repository" if repo is None else "in a git repository with no commit"
            )
            note = (
                [] if options.no_git else [f"{root} is {where}: writing files only (as --no-git)"]
            )
            return cls(None, options, note)
        session = cls(repo, options, [])
        session.original = git.current_branch(repo)
        return session

    @property
    def writes(self) -> bool:
        return self.repo is not None and not self.options.no_git

    def source_reader(self, base: str | None) -> BaseSources:
        """Files as they were at the base revision (``sync`` finds what Renovate moved)."""
        if self.repo is None:
            return _no_base
        from fluxbump.vcs import git

        return git.base_source_reader(self.repo, base or "HEAD")

    def base_reader(self, base: str | None) -> BaseCharts:
        if self.repo is None:
            return _no_base
        from fluxbump.vcs import git

        reader: Callable[[str], Any] = git.base_chart_reader(self.repo, base or "HEAD")
        return reader

    def past_versions(self, rels: list[str], limit: int, deleted: DeletedPins) -> PastFiles | None:
        """Past contents of ``rels`` (the pin files) and of the deleted files ``deleted``
        takes (``git.past_versions``) from git; None without a git history."""
        if self.repo is None:
            return None
        from fluxbump.vcs import git

        return git.past_versions(self.repo, rels, limit=limit, deleted=deleted)

    def refuse_unsafe(self, plan: Plan, remote: str) -> None:
        """Dirty files, an existing branch, a missing forge token: refused before any write."""
        if not self.writes:
            return
        from fluxbump.vcs import git

        git.refuse_other_git_dir(self.repo)
        git.refuse_unsettled(self.repo)
        git.refuse_sparse(self.repo)
        git.refuse_git_locks(self.repo)
        git.refuse_no_identity(self.repo)
        dirty = git.dirty_files(self.repo, plan.files())
        if dirty:
            # The commit takes whole files: it would carry the user's own edits as the bump's.
            # --allow-dirty does not change that (it never commits the user's edits).
            raise UsageError(
                f"uncommitted changes in {', '.join(dirty)}, which this bump edits and commits; "
                "commit or stash them and re-run (or pass --no-git to only write the files); "
                "nothing was written"
            )
        git.refuse_nested(self.repo, plan.files())
        git.refuse_outside_sparse(self.repo, plan.files())
        self.branch = branch_name(plan, self.options.branch)
        if self.options.branch:
            git.refuse_bad_branch(self.repo, self.branch)
        git.refuse_unwritable(self.repo, self.branch)
        git.refuse_branch_lock(self.repo, self.branch)
        if git.branch_exists(self.repo, self.branch) and not self.options.reuse_existing:
            # Run again on that branch, the same --push/--open-pr publishes it (``resumed``).
            finish = (
                f" (to publish the bump it holds, git checkout {self.branch} and run this "
                "command again)"
                if self.options.push
                else ""
            )
            raise UsageError(
                f"branch {self.branch} already exists; delete it, or pass --branch NAME{finish}"
            )
        git.refuse_path_clash(self.repo, self.branch)
        self._refuse_stacking(plan)
        if self.options.push:
            self._require_remote(remote)
        if self.options.open_pr:
            self.forge = _forge_for(self.repo, remote)

    def _refuse_stacking(self, plan: Plan) -> None:
        """A pull request opened from another bump's branch of this component would target
        that branch (and be closed with it when that bump is superseded): refused."""
        earlier = self.original or ""
        if self.options.open_pr and earlier.startswith(bump_prefix(plan.component)):
            raise UsageError(
                f"--open-pr: this checkout is on {earlier}, an earlier bump's branch: the pull "
                "request would target it; git checkout the branch that bump started from "
                "(main, say) and re-run; nothing was written"
            )

    def _require_remote(self, remote: str) -> None:
        from fluxbump.vcs import git

        if not git.has_remote(self.repo, remote):
            flag = "--open-pr" if self.options.open_pr else "--push"
            raise UsageError(
                f"{flag}: no git remote '{remote}' ({self.config.advice('remote')}, or "
                f"git remote add {remote} URL); nothing was written"
            )

    def proposed(self, result: BumpResult) -> bool:
        """True when the scheduled job finds its bump branch already there (nothing to do)."""
        if not self.writes or self.branch is None or not self.options.reuse_existing:
            return False
        from fluxbump.vcs import git

        if not git.branch_exists(self.repo, self.branch):
            return False
        result.branch = self.branch
        result.notes.append(
            f"a bump to v{result.plan.release} already exists on branch {self.branch}; nothing to do"
        )
        return True

    def resumed(self, remote: str, result: BumpResult) -> BumpResult | None:
        """Nothing to write, on this bump's own branch (left checked out by a run whose push
        or pull request failed, now run again): the branch is pushed, and its pull request
        found, as asked. None: not that case."""
        if not (self.writes and self.options.push) or self.original is None:
            return None
        branch = branch_name(result.plan, self.options.branch)
        if self.original != branch:
            return None
        self._require_remote(remote)
        forge = _forge_for(self.repo, remote) if self.options.open_pr else None
        result.branch = branch
        self.push(remote, result)
        if result.pushed:
            result.notes.append(f"pushed {branch} (the bump an earlier run committed)")
        if forge is not None:
            self._found_pr(forge, result)
        return result

    def _found_pr(self, forge: tuple[Any, str], result: BumpResult) -> None:
        from fluxbump.remote.forge import find_pull_request

        assert result.branch is not None
        pr = find_pull_request(*forge, head=result.branch)
        _record_pr(forge, result, pr if pr is not None else self._open_resumed(forge, result))

    def _open_resumed(self, forge: tuple[Any, str], result: BumpResult) -> PullRequest:
        """The pull request an earlier run committed and pushed the bump for, then failed to
        open: against the branch the bump branch started from, described by the bump's own
        commit messages (this run planned no edit to describe, as ``gh pr create --fill``)."""
        from fluxbump.remote.forge import create_pull_request
        from fluxbump.vcs import git

        branch = result.branch
        assert branch is not None
        start = git.branch_start(self.repo, branch)
        hand = f"open it from {branch} by hand"
        if len(start.candidates) > 1:
            raise UsageError(
                f"--open-pr: {branch} holds the bump an earlier run committed, but it started "
                f"where {' and '.join(start.candidates)} both are, so the pull request's base "
                f"is not known: {hand}"
            )
        if start.base is None:
            raise UsageError(
                f"--open-pr: {branch} holds the bump an earlier run committed, but no local "
                f"branch it started from is left to be the pull request's base: {hand}"
            )
        if not start.ours:
            raise UsageError(
                f"--open-pr: {branch} holds commits since {start.base} that fluxbump did not "
                f"write, so this run cannot describe them in a new pull request: {hand}"
            )
        title, _ = pr_text(result)
        body = "\n\n".join([_RESUMED, *start.messages])
        return create_pull_request(*forge, head=branch, base=start.base, title=title, body=body)

    def publish(self, remote: str, result: BumpResult) -> BumpResult:
        """Push the branch and open (or find) its pull request, as asked."""
        if not self.writes or result.branch is None:
            return result
        if self.options.push:
            self.push(remote, result)
        if self.options.open_pr and self.forge is not None:
            self.open_pr(result)
        return result

    def open_pr(self, result: BumpResult) -> None:
        from fluxbump.remote.forge import open_pull_request

        assert self.forge is not None and result.branch is not None
        target, token = self.forge
        title, body = pr_text(result)
        pr = open_pull_request(
            target, token, head=result.branch, base=self.original or "main", title=title, body=body
        )
        _record_pr(self.forge, result, pr)

    def steps(self) -> BumpGit | HeadOnly | None:
        """The git steps this bump will take, for the journal (None: not in git); a run that
        takes none records where HEAD was."""
        if self.repo is None:
            return None
        from fluxbump.vcs.steps import BumpGit, HeadOnly
        from fluxbump.write.places import places

        where = places(self.repo.top)
        head = str(self.repo.handle.head.commit.hexsha)
        if not self.writes or self.branch is None or self.original is None:
            return HeadOnly(where.base, where.journal, self.original, head)
        return BumpGit(where.base, where.journal, self.original, head, self.branch, [])

    def commit(self, result: BumpResult, transaction: Transaction) -> None:
        """Branch and commit exactly the files ``transaction`` wrote (its git steps)."""
        from fluxbump.vcs.steps import BumpGit

        steps = transaction.git
        if not isinstance(steps, BumpGit) or self.branch is None:
            return
        steps.paths = [entry.key for entry in transaction.entries]
        message = commit_message(result.plan, self.index_url)
        result.commit = steps.run(transaction, message)
        result.branch = self.branch

    def push(self, remote: str, result: BumpResult) -> None:
        """Push the new branch. The push target may already hold it (the scheduled job re-run
        from a fresh clone while its PR is open): the same files are adopted, not pushed; a
        branch of fluxbump's own commits is updated by force-with-lease; anything else is
        left alone (exit 3). A failure leaves the commit on the local branch."""
        if not self.writes or result.branch is None:
            return
        from fluxbump.vcs import git

        there = git.pushed_branch(self.repo, remote, result.branch, self.original)
        if there is not None and there.same_tree:
            git.adopt(self.repo, result.branch, there.sha)
            result.commit = there.sha
            result.notes.append(
                f"{remote} {result.branch} already has this bump (same files); nothing pushed"
            )
            return
        if there is not None and not there.ours:
            raise ResolutionError(
                f"{remote} {result.branch} holds not only fluxbump's commits; nothing pushed "
                "(the commit is on the local branch): merge or close its pull request, or "
                "pass --branch NAME"
            )
        git.push(self.repo, remote, result.branch, lease=there.sha if there else None)
        result.pushed = True
        if there is not None:
            result.notes.append(
                f"updated {remote} {result.branch} by force-with-lease (it held an older "
                "fluxbump bump)"
            )


_RESUMED = (
    "Opened by a later run of fluxbump: the run that committed this bump could not open its "
    "pull request. What the bump changed, as its commit says:"
)


def _record_pr(forge: tuple[Any, str], result: BumpResult, pr: PullRequest) -> None:
    """The bump's pull request, opened or found, in the result; and the older bumps' it
    supersedes."""
    result.pr_url = pr.url
    verb = "opened" if pr.created else "found existing"
    result.notes.append(f"{verb} pull request #{pr.number}: {pr.url}")
    _name_superseded(forge, result)


def _name_superseded(forge: tuple[Any, str], result: BumpResult) -> None:
    """A note per open pull request of an older bump of this component: this run's replaces
    it. Closing it is left to people; a forge error here is a warning, the run went fine."""
    from fluxbump import versions
    from fluxbump.remote.forge import open_branches

    prefix = bump_prefix(result.plan.component)
    try:
        listing = open_branches(*forge, prefix=prefix)
    except ResolutionError as exc:
        result.warnings.append(f"could not look for superseded bump pull requests: {exc.message}")
        return
    if listing.cut_at:
        result.warnings.append(
            f"looked for superseded bump pull requests in the first {listing.cut_at} pages of "
            f"open pull requests only ({listing.listed} of them); an older bump's beyond them "
            "is not named"
        )
    release = versions.try_parse(result.plan.release)
    for number, branch in listing.found:
        older = versions.try_parse(branch[len(prefix) :])
        if branch != result.branch and release and older and older < release:
            result.notes.append(
                f"pull request #{number} ({branch}) is superseded by this one; close it"
            )


def _forge_for(repo: Any, remote: str) -> tuple[Any, str]:
    """The forge and token for --open-pr, checked before anything is written."""
    from fluxbump.remote.forge import forge_for_remote, token_for
    from fluxbump.vcs import git

    if not git.has_remote(repo, remote):
        raise UsageError(f"--open-pr: no git remote '{remote}' (set 'remote' in .fluxbump.yaml)")
    target = forge_for_remote(git.remote_url(repo, remote), os.environ)
    return target, token_for(target, os.environ)


def _no_base(rel: str) -> None:
    return None
