"""The few exception classes fluxbump raises, each tied to a documented exit code.

The CLI is the only place that turns them into a message and an exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_RESOLUTION = 3
EXIT_UNSAFE = 4
# An unexpected failure (a bug, memory, a full disk outside the transaction): sysexits' EX_SOFTWARE.
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM, SIGHUP: every file written is restored


class FluxbumpError(Exception):
    """Base class: an expected failure with a one-line, actionable message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(FluxbumpError):
    """Bad input, configuration or repository state; nothing was written (exit 2)."""

    exit_code = EXIT_USAGE


class NotRegularFile(FluxbumpError):
    """A repository path that is not a regular file inside the repository (a device, FIFO,
    socket, or a symlink out of it): never read, and no command goes on past it (exit 2).

    Not a ``UsageError``: a merely unreadable manifest only makes the components it names
    unproven, but one of these is refused outright, by every command."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, rel: str = "", what: str = "") -> None:
        super().__init__(message)
        self.rel, self.what = rel, what  # the path, and what it is instead of a file to read

    @classmethod
    def of(cls, rel: str, what: str, remedy: str) -> NotRegularFile:
        """``rel: what: remedy; nothing was written``."""
        return cls(f"{rel}: {what}: {remedy}; nothing was written", rel, what)

    def advising(self, remedy: str) -> NotRegularFile:
        """The same refusal with another remedy: the reader knows what the file is for (a
        vendored chart archive, which 'exclude' does not govern)."""
        return NotRegularFile.of(self.rel, self.what, remedy)


class ResolutionError(FluxbumpError):
    """The Helm index or a chart could not be fetched, parsed or resolved (exit 3)."""

    exit_code = EXIT_RESOLUTION


class IndexUnreadable(FluxbumpError):
    """A chart's part of a Helm index, parsed when first consulted, is not valid (exit 3).

    Not a ``ResolutionError``: callers read that one as "this chart has no such release"
    and go on without it, where an index that does not parse must stop the command."""

    exit_code = EXIT_RESOLUTION


class UnsafeTransitionError(FluxbumpError):
    """A downgrade or a CRD API-version drop was refused (exit 4)."""

    exit_code = EXIT_UNSAFE


class GateFailure(FluxbumpError):
    """The gate found violations; after a write every file has been restored (exit 1)."""

    exit_code = EXIT_VIOLATION


class Interrupted(FluxbumpError):
    """Ctrl-C (SIGTERM, SIGHUP) said with what the run did before it (exit 130)."""

    exit_code = EXIT_INTERRUPTED
