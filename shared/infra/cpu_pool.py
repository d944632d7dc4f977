"""A bounded pool of worker processes for CPU-bound work (typesetting, charts).

Work run here is outside the service's event loop and outside its interpreter lock, so a
burst of renders never starves HTTP requests, NATS consumers or Temporal heartbeats of
the one process that serves them. The pool is sized from the cores (a setting); work
beyond its size waits in the pool's queue, and the callers (activity workers) are
themselves bounded so that excess work waits in Temporal's task queue instead.

Workers are forked from a clean `forkserver` process (never from this process, whose
threads hold the Temporal core and the S3 client), with the modules they need preloaded.
A worker that dies breaks the pool; the next call builds a new one and the failed call
raises `PoolBroken`, which the caller retries.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from shared.infra.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class PoolBroken(RuntimeError):
    """A worker process died (killed, out of memory); the pool was rebuilt: try again."""


def default_size() -> int:
    """One process per core the service may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class CpuPool:
    def __init__(self, size: int, *, preload: Sequence[str] = (), name: str = "cpu") -> None:
        if size < 1:
            raise ValueError("a CPU pool needs at least one process")
        self.size, self.name = size, name
        self._preload = list(preload)
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(self._preload)
            self._executor = ProcessPoolExecutor(max_workers=self.size, mp_context=context)
        return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker process (both must pickle: a module-level function,
        plain arguments). Cancelling the caller does not stop a call already running."""
        pool = self._pool()
        try:
            return await asyncio.wrap_future(pool.submit(fn, *args))
        except BrokenProcessPool as exc:
            log.error("cpu_pool.broken", pool=self.name, error=str(exc)[:200])
            if self._executor is pool:
                self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise PoolBroken(f"a {self.name} worker process died; the pool was restarted") from None

    async def warm_up(self) -> None:
        """Start every worker now, so the first real call does not pay for it."""
        await asyncio.gather(*(self.run(os.getpid) for _ in range(self.size)))

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
