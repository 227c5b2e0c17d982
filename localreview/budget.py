"""A budget per document: a size cap, a time limit and a memory limit.

The engine (and, on the server, rendering and planning) runs in worker processes
managed by pebble. A job that runs past its time limit has its worker killed and
replaced; each job may grow its worker's address space by the memory limit and
no more (RLIMIT_AS), so an allocation past it raises MemoryError, or kills the
worker when it happens outside Python. A document over a limit becomes a
`NotReviewed` result for that document alone; the other documents are reviewed.

Defaults, from the 1,763 real design docs of the shared corpus free for
development: the largest is 168 KB, the slowest takes 0.05 s and a review needs
at most ~25 MB; the limits leave them far inside (1 MB is 6x the largest; 10 s is
200x the slowest; 512 MB is 20x the memory).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import threading
import types
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from multiprocessing.reduction import ForkingPickler
from typing import Any, ParamSpec, Protocol, TypeVar

from pebble import ProcessExpired, ProcessPool

from checks.options import ReviewOptions
from checks.report import DocumentReport

DEFAULT_MAX_DOCUMENT_KB = 1024
DEFAULT_DOCUMENT_TIMEOUT_SECONDS = 10.0
DEFAULT_DOCUMENT_MEMORY_MB = 512
# Rendering the Check Run and planning the review are linear in the findings; this
# bound only stops a bug from holding a worker (and the review) forever.
RENDER_TIMEOUT_SECONDS = 30.0
# A worker is replaced after this many jobs, so what one document leaves behind in
# a worker's heap cannot build up.
TASKS_PER_WORKER = 100
# What a forkserver (the server's start method) imports once, so that each worker it
# forks starts ready for the engine and for the server's render jobs.
PRELOAD = ("checks", "checks.engine", "localreview.budget", "ghapp.checkrun", "ghapp.reviewplan")

P = ParamSpec("P")
T = TypeVar("T")

Engine = Callable[[str, str, ReviewOptions], DocumentReport]


def _mapping_proxy(items: dict[Any, Any]) -> Mapping[Any, Any]:
    return types.MappingProxyType(items)


def _reduce_mapping_proxy(proxy: Mapping[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _mapping_proxy, (dict(proxy),)


# Settings keep their tables in read-only mapping proxies, which do not pickle; the
# multiprocessing pickler (and only it) sends them as the dicts they wrap.
ForkingPickler.register(types.MappingProxyType, _reduce_mapping_proxy)


@dataclass(frozen=True)
class Budget:
    """The limits one document is reviewed within."""

    max_document_kb: int = DEFAULT_MAX_DOCUMENT_KB
    timeout_seconds: float = DEFAULT_DOCUMENT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_DOCUMENT_MEMORY_MB

    @property
    def max_document_bytes(self) -> int:
        return self.max_document_kb * 1024

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024

    def check_size(self, path: str, size_bytes: int) -> NotReviewed | None:
        return self.too_large(path) if size_bytes > self.max_document_bytes else None

    def too_large(self, path: str) -> NotReviewed:
        return NotReviewed(path, Limit.SIZE, f"larger than {self.max_document_kb} KB")

    def too_slow(self, path: str) -> NotReviewed:
        return NotReviewed(path, Limit.TIME, f"took longer than {self.timeout_seconds:g} s")

    def too_big_in_memory(self, path: str) -> NotReviewed:
        return NotReviewed(path, Limit.MEMORY, f"needed more than {self.memory_mb} MB")


class Limit(StrEnum):
    SIZE = "size"
    TIME = "time"
    MEMORY = "memory"


@dataclass(frozen=True)
class NotReviewed:
    """A document left out because it went over a limit; `reason` says which."""

    path: str
    limit: Limit
    reason: str  # e.g. "larger than 1024 KB"

    @property
    def message(self) -> str:
        return f"not reviewed: {self.reason}"


class WorkLimitExceeded(Exception):
    """A render or planning job went over its limits (a bug, not a document's fault)."""


# --- inside a worker ----------------------------------------------------------------


def _address_space_bytes() -> int | None:
    """This process's virtual size, or None where /proc does not tell (not Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


def _limit_address_space(extra_bytes: int) -> None:
    """Let this process grow by `extra_bytes` from now on, and no more."""
    current = _address_space_bytes()
    if current is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = current + extra_bytes
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _worker_started(niceness: int = 0, idle: bool = False) -> None:
    # pebble stops a worker with SIGTERM and a Python-level handler, which cannot
    # run while a regex or the Markdown parser is inside C code: the default
    # action ends the worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if idle:
        # Only the CPU time every other task leaves: the kernel preempts a SCHED_IDLE
        # task the moment anything else wakes, where at any nice level a waking web
        # process may still wait out the worker's slice.
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (OSError, AttributeError):
            pass  # not Linux, or not permitted: nice(2) instead
    if niceness:
        # Behind the server's event loop for the CPU: webhooks are answered at once
        # while reviews take what is left.
        os.nice(niceness)


def _run_within(
    memory_bytes: int, function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    # Measured per job, so every document gets the same headroom whatever the
    # worker's heap looks like after the previous one.
    unlimited = resource.getrlimit(resource.RLIMIT_AS)
    _limit_address_space(memory_bytes)
    try:
        return function(*args, **kwargs)
    except MemoryError:
        # The error's traceback keeps alive whatever the job's frames held, so
        # sending it back could run out of memory again: leave the handler first.
        pass
    finally:
        # The limit is this job's alone: the result's trip back and the next job's
        # arguments are not counted against it.
        resource.setrlimit(resource.RLIMIT_AS, unlimited)
    raise MemoryError(f"over the limit of {memory_bytes // (1024 * 1024)} MB")


# --- the pool -----------------------------------------------------------------------


# How much lower than the server's a review worker's CPU priority is (nice(2)).
REVIEW_NICENESS = 10


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Worker processes that run jobs within a memory limit and a time limit each.

    `start_method` "forkserver" suits a process with threads (the server): workers
    are forked from a clean process that imported `PRELOAD` once. "fork" suits a
    single-threaded process that already imported the engine (the command line):
    a worker starts in about a millisecond instead of half a second.
    """

    def __init__(
        self,
        budget: Budget,
        *,
        workers: int,
        start_method: str = "forkserver",
        niceness: int = 0,
        idle: bool = False,
    ) -> None:
        """`niceness`: added to the workers' nice(2) value; `idle`: the workers run
        as SCHED_IDLE instead (Linux), for a pool beside a web process."""
        self.budget = budget
        self._niceness = niceness
        self._idle = idle
        self._workers = max(1, workers)
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload(list(PRELOAD))
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPool:
        return ProcessPool(
            max_workers=self._workers,
            max_tasks=TASKS_PER_WORKER,
            initializer=_worker_started,
            initargs=(self._niceness, self._idle),
            context=self._context,
        )

    def submit(
        self, timeout: float, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        """Run `function(*args, **kwargs)` in a worker; past `timeout` seconds its
        future raises TimeoutError (the worker is killed and replaced)."""
        payload = (self.budget.memory_bytes, function, args, kwargs)
        with self._lock:
            try:
                return self._pool.schedule(_run_within, args=payload, timeout=timeout)
            except RuntimeError:
                # pebble gives up on its pool for good when a worker dies while idle
                # (killed from outside): start a fresh one rather than refuse all work.
                broken, self._pool = self._pool, self._new_pool()
                broken.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
                threading.Thread(target=broken.join, daemon=True).start()
                return self._pool.schedule(_run_within, args=payload, timeout=timeout)

    def warm_up(self) -> None:
        """Start the workers now (blocking), not on the first document."""
        self.submit(RENDER_TIMEOUT_SECONDS, os.getpid).result()

    def close(self) -> None:
        """Stop every worker now, running jobs included."""
        with self._lock:
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
            self._pool.join()

    def document_outcome(self, future: Future[T], path: str) -> T | NotReviewed:
        """The result of a document's job, or why the document was not reviewed.
        Any other error (an engine bug) is raised for the caller to report."""
        try:
            return future.result()
        except TimeoutError:
            return self.budget.too_slow(path)
        except (MemoryError, ProcessExpired):
            # A worker that dies mid-review has almost always hit the memory limit
            # outside Python (the Markdown parser aborts when an allocation fails).
            return self.budget.too_big_in_memory(path)


def pool_broke(future: Future[Any]) -> bool:
    """Whether the job ended because the whole pool broke (another worker died while
    idle) rather than because of the job: worth one more try on a fresh pool."""
    return (
        future.done()
        and not future.cancelled()
        and (isinstance(future.exception(), BrokenProcessPool))
    )


# --- the server's side: awaitable jobs ------------------------------------------------


class Runner(Protocol):
    """Where the server's CPU work runs, so the event loop only waits for it."""

    budget: Budget

    async def review(
        self, engine: Engine, text: str, path: str, options: ReviewOptions
    ) -> DocumentReport | NotReviewed: ...

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


class PoolRunner:
    """Engine, render and planning jobs in worker processes, within the budget."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.budget = pool.budget

    async def review(
        self, engine: Engine, text: str, path: str, options: ReviewOptions
    ) -> DocumentReport | NotReviewed:
        too_large = self.budget.check_size(path, len(text.encode("utf-8", "surrogatepass")))
        if too_large is not None:
            return too_large
        future = await self._finished(
            lambda: self.pool.submit(self.budget.timeout_seconds, engine, text, path, options)
        )
        if pool_broke(future):
            return self.budget.too_big_in_memory(path)
        return self.pool.document_outcome(future, path)

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        future = await self._finished(
            lambda: self.pool.submit(RENDER_TIMEOUT_SECONDS, function, *args, **kwargs)
        )
        try:
            return future.result()
        except TimeoutError:
            raise WorkLimitExceeded(f"took longer than {RENDER_TIMEOUT_SECONDS:g} s") from None
        except (MemoryError, ProcessExpired):
            raise WorkLimitExceeded(f"needed more than {self.budget.memory_mb} MB") from None

    async def _finished(self, submit: Callable[[], Future[T]]) -> Future[T]:
        """The job's future once it is done (tried twice if the pool broke under it)."""
        for attempt in (1, 2):
            future = submit()
            try:
                await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                future.cancel()  # stops the worker too, so a shutdown does not wait for it
                raise
            except Exception:
                pass  # told apart by the caller, from the future itself
            if attempt == 2 or not pool_broke(future):
                break
        return future

    async def warm_up(self) -> None:
        await asyncio.to_thread(self.pool.warm_up)

    async def close(self) -> None:
        await asyncio.to_thread(self.pool.close)


class ThreadRunner:
    """The size cap only, and the work in a thread: for an engine injected by a test
    or a benchmark, which need not pickle (a closure, a lambda)."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()

    async def review(
        self, engine: Engine, text: str, path: str, options: ReviewOptions
    ) -> DocumentReport | NotReviewed:
        too_large = self.budget.check_size(path, len(text.encode("utf-8", "surrogatepass")))
        if too_large is not None:
            return too_large
        return await asyncio.to_thread(engine, text, path, options)

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)


@dataclass(frozen=True)
class BudgetedEngine:
    """An engine together with where its work runs. Itself an Engine (called
    directly it runs in this process), so it travels wherever an engine does."""

    engine: Engine
    runner: Runner

    def __call__(self, text: str, path: str, options: ReviewOptions) -> DocumentReport:
        return self.engine(text, path, options)


def split_engine(engine: Engine) -> tuple[Engine, Runner]:
    """The engine to run and its runner: a plain engine gets threads and the size cap."""
    if isinstance(engine, BudgetedEngine):
        return engine.engine, engine.runner
    return engine, ThreadRunner()
