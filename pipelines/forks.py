"""Helper processes of a scoring job: forked, so they share what the scorer has loaded, and ended with it.

A scorer killed with SIGKILL cannot stop its helpers, and they would wait for tasks forever, each holding
what it inherited (helpers of one pool keep each other's end of the task pipe open, so no end of file
ever reaches them). Every helper therefore watches its parent and exits once the parent is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: How often a helper checks that the scorer that started it is still alive, in seconds.
PARENT_CHECK_S = 1.0


def can_fork() -> bool:
    """Whether processes can be forked here (Linux, macOS): only a forked helper shares what the scorer has
    loaded, so without fork the store calls run in the scorer itself."""
    return "fork" in multiprocessing.get_all_start_methods()


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """Processes that inherit this one (forked where possible) and end with it; ``initializer`` runs first."""
    context = multiprocessing.get_context("fork" if can_fork() else None)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(initializer, initargs))


def finished(value: T) -> Future[T]:
    """A future that already holds ``value``: what runs in-process when no helper does."""
    future: Future[T] = Future()
    future.set_result(value)
    return future


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)
