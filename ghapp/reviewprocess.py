"""The review process of `product-review serve`: reviews apart from the web process.

Run alone (no `REDIS_URL`), `product-review serve` is two processes on one
`STATE_DIR`. The web process only verifies, records (SQLite, before its 2xx) and
acknowledges; the review process it starts claims the recorded jobs with the
store's leases and runs everything else: the review orchestration, one review at
a time per pull request, and the pool of worker processes that judge, render and
plan within the per-document budget. So no review work ever takes the web
process's CPU or its interpreter lock.

- The web process wakes the review process through a pipe after each delivery
  it recorded (a byte; a full pipe already means "look"); the review process
  also looks at every heartbeat, so a lost wake only delays a job.
- The review process dies with the web process: on Linux the kernel sends it
  SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), as if the two were one
  process killed at once; elsewhere, and as a second guard, it stops when the
  pipe's other end closes. Its jobs' leases are then taken up by the next start.
- SIGTERM to the web process stops accepting, then stops the review process with
  SIGTERM: it lets running reviews finish for the drain time, cancels the rest
  (they complete their checks and go back to the queue) and exits.
- A review process that exits on its own (a crash, the OOM killer) is started
  again; its unfinished jobs are taken up at once (its lock file is gone).
- Its pool's workers, which judge and render, run as SCHED_IDLE: the kernel
  gives the web process the CPU the moment it wakes, and reviews take every CPU
  left idle. The process itself runs at nice 10, not SCHED_IDLE: it writes to
  the SQLite file the web process writes to, and a writer holding the file's
  lock must not wait behind its own pool for a CPU while the web process waits
  for that lock (a SCHED_IDLE holder made 3% of acknowledgements wait 1 to 40 ms).
- Its metrics reach the web process's `/metrics` through a file it rewrites every
  few seconds in `STATE_DIR`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp import web

from ghapp.settings import ServerSettings, settings_from_environment

log = logging.getLogger("ghapp.reviewprocess")

WAKE_FD_VARIABLE = "PRODUCT_REVIEW_WAKE_FD"
PARENT_PID_VARIABLE = "PRODUCT_REVIEW_PARENT_PID"
METRICS_FILE_VARIABLE = "PRODUCT_REVIEW_METRICS_FILE"
METRICS_FOLDER = "metrics"
METRICS_WRITE_SECONDS = 2.0
STALE_METRICS_SECONDS = 60 * 60
# Jobs recorded within this long of each other are claimed together.
WAKE_EVERY_SECONDS = 0.02
RESTART_DELAY_SECONDS = 1.0
WATCH_SECONDS = 0.2
# Beyond the drain, what cancelled reviews take to complete their checks (bounded).
STOP_MARGIN_SECONDS = 16.0
_PR_SET_PDEATHSIG = 1
# nice(2) of a process that reviews (the review process, a scaled-out worker),
# above the web process's; its pool's workers add `REVIEW_NICENESS` (to at most 19).
REVIEW_PROCESS_NICENESS = 10


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only).
    Returns whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def yield_the_cpu_to_the_web_process() -> None:
    """Lower this process's CPU priority to nice 10 (weighed, never starved), so
    that when both want a CPU, the process answering GitHub gets it first. Its
    pool's workers, which do the heavy work, go further where they share the
    machine with a web process (`WorkerPool(idle=True)`: SCHED_IDLE)."""
    with contextlib.suppress(OSError):
        os.nice(REVIEW_PROCESS_NICENESS)


# -- the web process's side ----------------------------------------------------------


class ReviewProcess:
    """Starts the review process, wakes it, starts it again when it dies, and
    stops it. Start and stop from the event loop's thread: the kernel's
    death signal follows the thread that started the child."""

    def __init__(self, state_dir: Path, *, drain_seconds: float) -> None:
        self._state_dir = state_dir
        self._drain_seconds = drain_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._wake_fd: int | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_wake = -WAKE_EVERY_SECONDS
        self._wake_pending: asyncio.TimerHandle | None = None
        self.restarts = 0
        self.metrics_file = state_dir / METRICS_FOLDER / f"review-{uuid.uuid4().hex}.prom"
        self.metrics_file.parent.mkdir(parents=True, exist_ok=True)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        self._forget_stale_metrics()
        self._spawn()
        self._watcher = asyncio.get_running_loop().create_task(
            self._watch(), name="review-process-watcher"
        )

    def _forget_stale_metrics(self) -> None:
        """Remove the files of review processes killed with their web process
        (a live one rewrites its own every few seconds)."""
        cutoff = time.time() - STALE_METRICS_SECONDS
        for path in self.metrics_file.parent.glob("review-*.prom"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ghapp.reviewprocess"],
                env={
                    **os.environ,
                    WAKE_FD_VARIABLE: str(read_fd),
                    PARENT_PID_VARIABLE: str(os.getpid()),
                    METRICS_FILE_VARIABLE: str(self.metrics_file),
                },
                pass_fds=(read_fd,),
            )
        finally:
            os.close(read_fd)
        self._close_wake()
        self._wake_fd = write_fd
        log.info("review process started pid=%d", self._process.pid)

    def _close_wake(self) -> None:
        if self._wake_fd is not None:
            os.close(self._wake_fd)
            self._wake_fd = None

    def wake(self) -> None:
        """A job was recorded: the review process claims it soon. Wakes are sent at
        most every `WAKE_EVERY_SECONDS`: each costs this process a system call and
        a switch to the review process, and one claim takes all that waits."""
        if self._wake_pending is not None:
            return  # the one scheduled covers this job too
        loop = asyncio.get_running_loop()
        due = self._last_wake + WAKE_EVERY_SECONDS
        if loop.time() >= due:
            self._send_wake()
        else:
            self._wake_pending = loop.call_at(due, self._send_wake)

    def _send_wake(self) -> None:
        self._wake_pending = None
        self._last_wake = asyncio.get_running_loop().time()
        if self._wake_fd is None:
            return
        # A full pipe already holds a wake; a dead reader is restarted and
        # claims everything queued when it starts.
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._wake_fd, b"\0")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            process = self._process
            if self._stopping or process is None or process.poll() is None:
                continue
            log.error(
                "review process pid=%d exited with %s: starting another in %g s"
                " (its jobs are taken up)",
                process.pid,
                process.returncode,
                RESTART_DELAY_SECONDS,
            )
            self._close_wake()
            await asyncio.sleep(RESTART_DELAY_SECONDS)
            if not self._stopping:
                self.restarts += 1
                self._spawn()

    def begin_stop(self) -> None:
        """SIGTERM: the review process drains. Returns at once."""
        self._stopping = True
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    async def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL past the drain and its margin) and wait."""
        self.begin_stop()
        if self._wake_pending is not None:
            self._wake_pending.cancel()
            self._wake_pending = None
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        process = self._process
        if process is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._drain_seconds + STOP_MARGIN_SECONDS
            while process.poll() is None and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                log.error("review process pid=%d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()
        self._close_wake()
        with contextlib.suppress(OSError):
            self.metrics_file.unlink()

    def metrics_text(self) -> str:
        """The review process's latest metrics exposition ("" before its first)."""
        try:
            return self.metrics_file.read_text(encoding="utf-8")
        except OSError:
            return ""


# -- the review process --------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".metrics-", delete=False) as out:
        out.write(data)
    os.replace(out.name, path)


async def _write_metrics(app: web.Application, path: Path) -> None:
    from ghapp.server import METRICS_KEY

    metrics = app[METRICS_KEY]
    while True:
        try:
            await asyncio.to_thread(_write_atomically, path, metrics.exposition())
        except OSError as error:
            log.warning("could not write the review process's metrics to %s: %s", path, error)
        await asyncio.sleep(METRICS_WRITE_SECONDS)


async def _run(settings: ServerSettings, wake_fd: int, metrics_file: Path | None) -> None:
    # Imported here: the web process imports this module for `ReviewProcess` only.
    from ghapp.server import JOB_RUNNER_KEY, create_app

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # The reviews of this process, without a listening socket: the web process
    # answers GitHub. Its runner claims the jobs that process records.
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    job_runner = app[JOB_RUNNER_KEY]

    def woken() -> None:
        try:
            data = os.read(wake_fd, 4096)
        except BlockingIOError:
            return
        if not data:
            # The web process is gone (where no death signal came first).
            loop.remove_reader(wake_fd)
            stop.set()
            return
        job_runner.wake()

    os.set_blocking(wake_fd, False)
    loop.add_reader(wake_fd, woken)
    writer = (
        None
        if metrics_file is None
        else loop.create_task(_write_metrics(app, metrics_file), name="metrics-writer")
    )
    log.info("review process ready pid=%d", os.getpid())
    try:
        await stop.wait()
    finally:
        log.info("review process stopping pid=%d", os.getpid())
        loop.remove_reader(wake_fd)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        await runner.cleanup()


def main() -> int:
    """Started by `product-review serve` only (it hands over the wake pipe)."""
    guarded = die_with_parent()
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    wake = os.environ.get(WAKE_FD_VARIABLE, "")
    if not parent.isdigit() or not wake.isdigit():
        print("ghapp.reviewprocess: started by `product-review serve` only", file=sys.stderr)
        return 2
    if guarded and os.getppid() != int(parent):
        return 1  # the web process died before the death signal was set
    # Ctrl-C reaches the whole process group: the web process stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield_the_cpu_to_the_web_process()
    from ghapp.server import configure_logging

    settings = settings_from_environment("review process")
    if settings is None:
        return 2
    # Beside its web process by definition: its pool takes only idle CPU time.
    settings = dataclasses.replace(settings, worker_priority="idle")
    configure_logging(settings)
    metrics_file = os.environ.get(METRICS_FILE_VARIABLE, "")
    asyncio.run(_run(settings, int(wake), Path(metrics_file) if metrics_file else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
