"""Split one CPU-bound pass over many files between this process and one forked child.

Reading and scanning a thousand cluster directories is pure Python work (threads share one
interpreter lock and were measured slower); a fork starts in about a millisecond with every
module already imported, so the second core halves the pass. The child sends its result back
pickled through a pipe, or the exception it raised; the parent's half comes first, so errors
are reported in the same order as a sequential pass. Without ``os.fork`` or a second core,
below ``threshold`` items, or with ``FLUXBUMP_NO_FORK`` set, everything runs here.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from fluxbump import progress
from fluxbump.errors import UsageError
from fluxbump.yamlio.yamldoc import note_warnings, reading_warnings

T = TypeVar("T")
R = TypeVar("R")

NO_FORK_ENV = "FLUXBUMP_NO_FORK"


class Ahead(Generic[R]):
    """Work a command needs after the scan but not from it (the Helm index, an import): done
    by this process once its half is scanned, while the child still sends its half (the
    child pickles for tenths of a second; this process only waited), else when first asked.
    Its exception is raised where its result is asked for, as if computed there."""

    def __init__(self, compute: Callable[[], R]) -> None:
        self._compute = compute
        self._done: tuple[bool, Any] | None = None

    def run(self) -> None:
        if self._done is None:
            try:
                self._done = (True, self._compute())
            except Exception as exc:  # (raised by ``result``, in the command's order)
                self._done = (False, exc)

    def result(self) -> R:
        self.run()
        assert self._done is not None
        ok, value = self._done
        if not ok:
            raise value
        result: R = value
        return result


_waiting: list[Ahead[Any]] = []


@contextmanager
def while_waiting(*work: Ahead[Any]) -> Iterator[None]:
    """Within this block, ``in_two`` runs ``work`` between its own half and the child's."""
    _waiting.extend(work)
    try:
        yield
    finally:
        del _waiting[len(_waiting) - len(work) :]


def in_two(
    work: Callable[[Sequence[T]], R],
    items: Sequence[T],
    *,
    threshold: int,
    phase: str | None = None,
) -> list[R]:
    """``[work(first half), work(second half)]``, the second half computed by a child.

    ``phase``: the progress phase ``work`` steps once per item; the child reports nothing
    (this process draws the terminal), so its half is counted here when it arrives."""
    if not _may_fork(len(items), threshold):
        return [work(items)]
    middle = len(items) // 2
    read_end, write_end = os.pipe()
    # What exists now lives to the end of the run in both processes: the collector stops
    # walking it (each full collection walked every object the walk and the imports made,
    # and the child's walks would copy the pages it shares with this process).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any exit handler
        os.close(read_end)
        progress.silence()
        _send(write_end, work, items[middle:])
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    try:
        first = work(items[:middle])
        for ahead in _waiting:
            ahead.run()
        payload = pipe.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        pipe.close()
    os.waitpid(pid, 0)
    second = _received(payload)  # (both halves are kept to the end of the run: frozen)
    if phase is not None:
        progress.step(phase, len(items) - middle)
    return [first, second]


def _may_fork(count: int, threshold: int) -> bool:
    return (
        count >= threshold
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and not os.environ.get(NO_FORK_ENV)
    )


def _send(fd: int, work: Callable[[Sequence[T]], R], items: Sequence[T]) -> None:
    """Send ``work(items)`` or its exception, with the warnings noted while reading (they
    live in this process's memory, which ends here)."""
    try:
        outcome: tuple[bool, Any]
        try:
            outcome = (True, work(items))
        except BaseException as exc:  # reported by the parent, as if raised there
            outcome = (False, _portable(exc))
        warnings = reading_warnings()
        try:
            payload = pickle.dumps((*outcome, warnings), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # a result that does not pickle: its error, likewise
            payload = pickle.dumps(
                (False, _portable(exc), warnings), protocol=pickle.HIGHEST_PROTOCOL
            )
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it pickles and unpickles (an ``__init__`` taking other
    arguments than its ``args`` pickles, then fails to rebuild), else a UsageError carrying
    its message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return UsageError(f"{type(exc).__name__}: {exc}")
    return exc


def _received(payload: bytes) -> Any:
    if not payload:
        raise UsageError("a worker process died before reporting; re-run with FLUXBUMP_NO_FORK=1")
    # Unpickling makes hundreds of thousands of objects, all kept: a collection among
    # them would find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        ok, value, warnings = pickle.loads(payload)
    except Exception as exc:  # cut short: the child was killed while it sent
        raise UsageError(
            f"a worker process sent an unreadable result ({type(exc).__name__}); "
            "re-run with FLUXBUMP_NO_FORK=1"
        ) from None
    finally:
        # Before collecting again: the objects just made, kept to the end of the run, would
        # fill the young generation the next allocation collects (~0.03 s walking them).
        gc.freeze()
        if collecting:
            gc.enable()
    note_warnings(warnings)  # after this half's: the order one process notes them in
    if not ok:
        raise value
    return value
