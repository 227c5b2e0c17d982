"""Keeps this process's jobs leased, and takes up the jobs of processes that died.

Run alone, the server's webhook handler records each delivery as a job leased
to its process and starts it at once. Under `product-review serve`, the web
process records it as queued instead, and wakes its review process (`wake`),
whose runner claims it and starts it. This runner is what makes either survive a
crash. Every `interval` it extends this process's leases (the heartbeat) and
claims jobs that wait (put back by a shutdown) or whose lease ran out (their
process died).
A job taken up again first completes the check runs its earlier attempt left in
progress, as "interrupted", then runs again from its stored delivery: a review
at the pull request's current head, which posts nothing its earlier attempt
already posted (fingerprints). A job taken `MAX_ATTEMPTS` times is given up,
its checks completed the same way, so a delivery that kills its process each
time cannot loop for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ghapp.apitypes import CheckCompletion
from ghapp.checkrun import interrupted_completion, unfinished_completion
from ghapp.github import CheckRun, GitHubApp
from ghapp.jobstore import MAX_ATTEMPTS, Job, OpenCheckRun, SqliteJobStore
from ghapp.review import describe_error

log = logging.getLogger("ghapp.jobrunner")

# Jobs claimed at a time; the next round takes the rest.
CLAIM_BATCH = 20
CHECK_COMPLETION_TIMEOUT_SECONDS = 15.0

RunJob = Callable[[Job], None]
"""Starts a job's work (as a tracked background task) and returns at once."""
JobsRecovered = Callable[[int], None]


class JobRunner:
    def __init__(
        self,
        store: SqliteJobStore,
        github: GitHubApp,
        run_job: RunJob,
        *,
        interval: float | None = None,
        jobs_recovered: JobsRecovered | None = None,
    ) -> None:
        self._store = store
        self._github = github
        self._run_job = run_job
        # Three heartbeats per lease: one missed beat does not lose a job.
        self._interval = store.lease_seconds / 3 if interval is None else interval
        self._jobs_recovered = jobs_recovered
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()
        self.recovered = 0

    def wake(self) -> None:
        """Jobs were queued (by a web process): claim them now, not at the next beat."""
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="job-runner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time()
        while True:
            try:
                if loop.time() >= next_beat:
                    next_beat = loop.time() + self._interval
                    self._woken.clear()
                    await self.run_once()
                elif self._woken.is_set():
                    self._woken.clear()
                    await self.claim_waiting()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database was busy past its timeout, or the disk failed: the
                # next round tries again; the leases outlive a few missed beats.
                log.warning("job store round failed: %s", describe_error(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), max(0.0, next_beat - loop.time()))

    async def run_once(self) -> int:
        """One round: heartbeat, then take up what waits. Returns the jobs taken
        up again (those recorded by a web process and started now not counted)."""
        await self._store.heartbeat()
        await self._store.checkpoint()
        taken = await self.claim_waiting()
        for delivery_id, check in await self._store.orphaned_check_runs():
            # Its review ended without completing it (GitHub refused or was away).
            await self._complete(delivery_id, check, shows=unfinished_completion())
        return taken

    async def claim_waiting(self) -> int:
        """Claim every job that waits, start it, and return how many of them were
        taken up again (their earlier attempt did not finish)."""
        taken = 0
        while True:
            jobs = await self._store.claim(CLAIM_BATCH)
            for job in jobs:
                if job.fresh:
                    self._run_job(job)
                else:
                    await self._take_up(job)
                    taken += 1
            if len(jobs) < CLAIM_BATCH:
                break
        if taken:
            self.recovered += taken
            if self._jobs_recovered is not None:
                self._jobs_recovered(taken)
        return taken

    async def _take_up(self, job: Job) -> None:
        again = job.attempts <= MAX_ATTEMPTS
        open_checks = await self._store.open_check_runs(job.delivery_id)
        log.warning(
            "taking up delivery=%s event=%s attempt=%d: its earlier attempt did not finish"
            " (%d check run(s) left in progress)%s",
            job.delivery_id,
            job.event,
            job.attempts,
            len(open_checks),
            "" if again else f"; giving up after {MAX_ATTEMPTS} attempts",
        )
        for check in open_checks:
            await self._complete(job.delivery_id, check, shows=interrupted_completion(again=again))
        if again:
            self._run_job(job)
        else:
            await self._store.abandon(
                job.delivery_id, f"its process stopped {MAX_ATTEMPTS} times while it ran"
            )

    async def _complete(
        self, delivery_id: str, check: OpenCheckRun, *, shows: CheckCompletion
    ) -> None:
        client = self._github.installation(check.installation_id)
        try:
            await asyncio.wait_for(
                client.complete_check_run(
                    check_run=CheckRun(id=check.check_run_id, url=check.url), completion=shows
                ),
                timeout=CHECK_COMPLETION_TIMEOUT_SECONDS,
            )
        except Exception as error:
            # The client already retried; kept on record, tried again next round.
            log.warning(
                "could not complete a check run left in progress delivery=%s url=%s: %s",
                delivery_id,
                check.url,
                describe_error(error),
            )
            return
        await self._store.forget_check_run(check.url)
