"""`product-review worker`: runs the reviews that web processes queued on Redis.

Any number of workers, on any machine, take deliveries from the arq queue that
`product-review serve` fills when `REDIS_URL` is set. Each worker reviews with
the same router, reviewer and per-document budget as a server running alone
(engine, rendering and planning in its own process pool), and shares with the
other processes everything that keeps work from being done twice
(`ghapp.redisqueue`).

A job taken again after its worker died first completes the check runs that
attempt left in progress; a job taken more than `MAX_ATTEMPTS` times is given
up the same way, so a delivery that kills its worker cannot loop. A try that
the worker's own stop cut short (a deploy) does not count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from arq.connections import ArqRedis
from arq.worker import Retry, Worker, func
from gidgethub import sansio
from redis.exceptions import RedisError

from checks import review_document
from ghapp.github import CheckRun, GitHubApp
from ghapp.jobstore import MAX_ATTEMPTS
from ghapp.metrics import HEALTH_PATH, METRICS_PATH, Metrics
from ghapp.redisqueue import (
    JOB_FUNCTION,
    RedisInstallationTokens,
    RedisReviewQueue,
    json_deserializer,
    json_serializer,
    open_redis,
)
from ghapp.repoconfig import RepoConfigLoader
from ghapp.review import Reviewer, describe_error
from ghapp.reviewprocess import yield_the_cpu_to_the_web_process
from ghapp.routers import ROUTER
from ghapp.routers.context import EventContext
from ghapp.server import DEFAULT_DRAIN_SECONDS, HTTP_TIMEOUT, configure_logging, dispatch_event
from ghapp.settings import ServerSettings, settings_from_environment
from localreview.budget import REVIEW_NICENESS, BudgetedEngine, PoolRunner, WorkerPool

log = logging.getLogger("ghapp.worker")

# Reviews one worker process runs at once (each waits on GitHub most of the time).
DEFAULT_JOBS_PER_WORKER = 10
REDIS_RETRY_SECONDS = 1
# Above the longest clean-up of a cancelled review (its check completion is bounded
# at 10 s, retries included), so arq's timeout never cuts our retry short.
ARQ_TIMEOUT_MARGIN_SECONDS = 30
_STATE = "product_review"
# Deploys that may each cut a job short before arq gives it up.
MAX_STOPPED_TRIES = 20


@dataclass
class _WorkerState:
    """What every job of this process shares; it outlives a lost Redis connection."""

    settings: ServerSettings
    redis: ArqRedis
    session: aiohttp.ClientSession
    runner: PoolRunner
    github: GitHubApp
    queue: RedisReviewQueue
    context: EventContext
    # What /healthz says of the connection: "ok", or "reconnecting" after a loss.
    redis_status: str = "ok"
    # The arq worker taking jobs now (a new one after each lost connection).
    worker: Worker | None = None

    def stopping(self) -> bool:
        """Whether a signal is stopping this process: arq stops picking jobs, waits
        for the running ones for the drain time, then cancels them."""
        return self.worker is not None and not self.worker.allow_pick_jobs

    @classmethod
    async def open(cls, settings: ServerSettings) -> _WorkerState:
        assert settings.redis_url is not None
        redis = await open_redis(settings.redis_url)
        session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        runner = PoolRunner(
            WorkerPool(
                settings.budget,
                workers=settings.review_workers,
                niceness=REVIEW_NICENESS,
                idle=settings.worker_priority == "idle",
            )
        )
        await runner.warm_up()
        github = GitHubApp(
            session=session,
            app_id=settings.app_id,
            private_key=settings.private_key,
            api_url=settings.github_api_url,
            metrics=Metrics(),
            tokens=RedisInstallationTokens(redis),
        )
        config = RepoConfigLoader()
        queue_holder: list[RedisReviewQueue] = []

        async def check_started(delivery_id: str, installation_id: int, check: CheckRun) -> None:
            try:
                await queue_holder[0].note_check_run(delivery_id, installation_id, check)
            except (RedisError, OSError) as error:
                # The review goes on; only its recovery after a crash is at stake.
                log.warning(
                    "could not record check run delivery=%s: %s", delivery_id, describe_error(error)
                )

        reviewer = Reviewer(
            github=github,
            engine=BudgetedEngine(review_document, runner),
            config=config,
            check_started=check_started,
        )
        queue = RedisReviewQueue(reviewer, redis, pull_lock_seconds=settings.job_lease_seconds)
        queue_holder.append(queue)
        context = EventContext(github=github, queue=queue, config=config)
        return cls(settings, redis, session, runner, github, queue, context)

    async def close(self) -> None:
        try:
            await self.session.close()
        finally:
            try:
                await self.runner.close()
            finally:
                await self.redis.aclose()


async def handle_delivery(ctx: dict[str, Any], event: str, delivery_id: str, payload: str) -> None:
    """The arq job: one delivery, as the web process received it."""
    state: _WorkerState = ctx[_STATE]
    job_try = attempt = int(ctx["job_try"])
    try:
        if job_try > 1:
            # A try cut short because its worker stopped (a deploy) is not an attempt.
            attempt = max(1, attempt - await state.queue.stopped_tries(delivery_id))
        async with asyncio.timeout(state.settings.job_timeout_seconds):
            await _handle(state, attempt, event, delivery_id, payload, taken_again=job_try > 1)
    except asyncio.CancelledError:
        # arq cancels the jobs still running when the worker stops, past the drain,
        # and queues them again; it also cancels on its own timeout or an abort,
        # which stay attempts.
        if state.stopping():
            with contextlib.suppress(RedisError, OSError):
                await state.queue.note_stopped_try(delivery_id)
        raise
    except TimeoutError as error:
        # Its check was completed by the cancelled review; the next try reviews again
        # (arq's own, later timeout would drop the job instead).
        log.warning(
            "delivery=%s attempt=%d took over JOB_TIMEOUT_SECONDS=%s: retried",
            delivery_id,
            attempt,
            state.settings.job_timeout_seconds,
        )
        raise Retry(defer=REDIS_RETRY_SECONDS) from error
    except (RedisError, OSError) as error:
        # Redis went away mid-job: arq runs it again once Redis is back (this try
        # counts as one of its attempts).
        log.warning(
            "delivery=%s attempt=%d stopped, Redis unavailable (%s): retried",
            delivery_id,
            attempt,
            describe_error(error),
        )
        raise Retry(defer=REDIS_RETRY_SECONDS * attempt) from error


async def _handle(
    state: _WorkerState,
    attempt: int,
    event: str,
    delivery_id: str,
    payload: str,
    *,
    taken_again: bool,
) -> None:
    queue = state.queue
    if await queue.already_handled(delivery_id):
        # A redelivery that reached a web process after the delivery was handled:
        # the web process said so to GitHub, and queued this job all the same.
        log.info("delivery=%s event=%s was handled already: nothing to do", delivery_id, event)
        return
    if taken_again:
        again = attempt <= MAX_ATTEMPTS
        left = await queue.complete_left_checks(delivery_id, state.github, again=again)
        log.warning(
            "taking up delivery=%s event=%s attempt=%d: its earlier attempt did not finish"
            " (%d check run(s) completed as interrupted)%s",
            delivery_id,
            event,
            attempt,
            left,
            "" if again else f"; giving up after {MAX_ATTEMPTS} attempts",
        )
        state.github.metrics.note_recovered(1)
        if not again:
            await queue.finish_delivery(delivery_id, returned=False)
            return
    queue.running(delivery_id, attempt=2 if taken_again else 1)
    data = json.loads(payload)
    await dispatch_event(
        ROUTER, sansio.Event(data, event=event, delivery_id=delivery_id), state.context
    )


def build_worker(state: _WorkerState, *, jobs: int = DEFAULT_JOBS_PER_WORKER) -> Worker:
    """An arq worker taking jobs with `state`. Call from a running event loop."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[_STATE] = state
        state.redis_status = "ok"  # arq is connected and takes jobs

    return Worker(
        functions=[
            func(
                handle_delivery,
                name=JOB_FUNCTION,
                # One more than ours (the last try completes the checks and gives up),
                # plus the tries that stopping workers cut short.
                max_tries=MAX_ATTEMPTS + 1 + MAX_STOPPED_TRIES,
                keep_result=0,
            )
        ],
        redis_pool=state.redis,
        job_serializer=json_serializer,
        job_deserializer=json_deserializer,
        on_startup=startup,
        # Ours (in `handle_delivery`) runs out first and retries; arq's drops the job.
        job_timeout=state.settings.job_timeout_seconds + ARQ_TIMEOUT_MARGIN_SECONDS,
        # On SIGTERM: stop taking jobs, let running ones finish this long, then
        # cancel them (arq queues them again).
        job_completion_wait=int(DEFAULT_DRAIN_SECONDS),
        keep_result=0,
        max_jobs=jobs,
        poll_delay=0.2,
    )


class MetricsPortUnavailable(Exception):
    """The worker could not listen on METRICS_PORT."""


async def serve_worker_metrics(state: _WorkerState) -> web.AppRunner | None:
    """`GET /metrics` (this worker's reviews, GitHub calls, retries, recovered jobs)
    and `GET /healthz` on `METRICS_PORT`, for Prometheus to scrape each worker."""
    port = state.settings.metrics_port
    if port is None:
        return None
    metrics = state.github.metrics

    async def handle_metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )

    async def handle_health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "redis": state.redis_status})

    app = web.Application()
    app.router.add_get(METRICS_PATH, handle_metrics)
    app.router.add_get(HEALTH_PATH, handle_health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, state.settings.host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise MetricsPortUnavailable(
            f"METRICS_PORT: cannot listen on {state.settings.host}:{port}: "
            f"{error.strerror or error} (set METRICS_PORT=0 to serve no metrics)"
        ) from None
    log.info("worker metrics on http://%s:%d%s", state.settings.host, port, METRICS_PATH)
    return runner


async def run_worker(settings: ServerSettings) -> None:
    """Take jobs until a signal stops the worker. arq's loop stops when Redis is
    unreachable for a moment; it is started again (the jobs it held are taken
    again by arq once their time is up) rather than the process exiting."""
    state = await _WorkerState.open(settings)
    try:
        metrics_runner = await serve_worker_metrics(state)
    except MetricsPortUnavailable:
        await state.close()
        raise
    sweeper = asyncio.get_running_loop().create_task(_sweep(state), name="check-sweeper")
    try:
        while True:
            worker = state.worker = build_worker(state)
            try:
                await worker.async_run()
                return
            except asyncio.CancelledError:
                # Stopped by a signal: arq cancelled the jobs still running after the
                # drain; let them complete their checks before the session closes.
                await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
                raise
            except (RedisError, OSError) as error:
                state.redis_status = "reconnecting"
                log.warning(
                    "lost Redis (%s): taking jobs again in %d s",
                    describe_error(error),
                    REDIS_RETRY_SECONDS,
                )
                # Its jobs end on their own (each retries what Redis refused).
                await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
            await asyncio.sleep(REDIS_RETRY_SECONDS)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await state.close()


async def _sweep(state: _WorkerState) -> None:
    """Every lease, complete the check runs whose job ended without completing them."""
    while True:
        await asyncio.sleep(state.settings.job_lease_seconds)
        try:
            await state.queue.sweep_left_checks(state.github)
        except (RedisError, OSError) as error:
            log.warning("check sweep skipped, Redis unavailable: %s", describe_error(error))


def main() -> int:
    """Read the environment (and ./.env), then run reviews until SIGINT/SIGTERM."""
    settings = settings_from_environment("product-review worker")
    if settings is None:
        return 2
    if settings.redis_url is None:
        print(
            "product-review worker: REDIS_URL: missing (workers take their jobs from Redis; "
            "without it, `product-review serve` reviews by itself)",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings)
    log.info("worker for app_id=%s api=%s", settings.app_id, settings.github_api_url)
    # Where a web process shares the machine, webhooks are answered first.
    if settings.worker_priority == "idle":
        # Beside web processes: the whole worker, pool included, takes only idle CPU
        # time. Unlike the review process beside `serve`, it shares no lock with
        # them (Redis serves each command whole), so nothing waits on it.
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (OSError, AttributeError):
            yield_the_cpu_to_the_web_process()
    else:
        yield_the_cpu_to_the_web_process()

    # The signal handler cancels the main task: a normal stop.
    try:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(run_worker(settings))
    except MetricsPortUnavailable as error:
        print(f"product-review worker: {error}", file=sys.stderr)
        return 2
    return 0
