"""The aiohttp server: `/healthz` and the webhook endpoint.

The webhook handler only verifies, validates, deduplicates and acknowledges, so
GitHub gets its answer in milliseconds (it gives up after 10 s). Under
`product-review serve` the reviews run in a review process of their own
(`ghapp.reviewprocess`, which runs this same app without a socket), or in the
workers when scaled out; an app made by a test runs them as tracked background
tasks of its own. Either way a shutdown lets in-flight reviews finish, up to a
bound.

The endpoint faces the internet, so everything before the signature is checked
is bounded: the body's size (read as it streams, the HMAC computed on the way),
how many bodies are read at once, and how long a connection may take to send its
headers and its body. Only a body whose signature matches is parsed.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from gidgethub import routing, sansio
from redis.exceptions import RedisError

from checks import review_document
from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp import logcontext, payloads
from ghapp.github import (
    ApiScope,
    CheckRun,
    CredentialsRejected,
    ForeignURL,
    GitHubApp,
    GitHubUnreachable,
    RetryPolicy,
    Sleep,
)
from ghapp.jobrunner import JobRunner
from ghapp.jobstore import Job, SqliteJobStore
from ghapp.metrics import (
    DELIVERY_OUTCOME,
    METRICS_PATH,
    AccessLogWithoutScrapes,
    DeliveryOutcome,
    Metrics,
    counting_deliveries,
)
from ghapp.queue import (
    DeliveryState,
    DurableReviewQueue,
    HandedOffQueue,
    InMemoryReviewQueue,
    ReviewQueue,
)
from ghapp.redisqueue import RedisInstallationTokens, RedisReviewQueue, open_redis
from ghapp.repoconfig import RepoConfigLoader
from ghapp.review import CheckStarted, Engine, Reviewer, describe_error
from ghapp.reviewprocess import ReviewProcess
from ghapp.routers import ROUTER
from ghapp.routers.context import EventContext
from ghapp.settings import ServerSettings, settings_from_environment
from localreview.budget import (
    REVIEW_NICENESS,
    Budget,
    BudgetedEngine,
    PoolRunner,
    ThreadRunner,
    WorkerPool,
)

log = logging.getLogger("ghapp.server")

# GitHub's cap is 25 MB, but the events this app subscribes to are far smaller: the
# largest example payload is 32 KB, and one with every text field at GitHub's
# maximum length, each character escaped at 12 bytes, stays under 2 MB (the README
# has the figures). Anything larger is refused before it is read whole.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# Bodies read at once; each is held (at most MAX_PAYLOAD_BYTES) until its signature
# is checked. A delivery waits this long for a slot, then gets 503 with Retry-After.
MAX_CONCURRENT_READS = 16
# A body gets this long to start, then must keep arriving at this rate (GitHub sends
# a whole delivery in milliseconds); `BODY_TIMEOUT_SECONDS` still caps the total.
BODY_GRACE_SECONDS = 2.0
MIN_BODY_BYTES_PER_SECOND = 16 * 1024
READ_SLOT_WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 10
# After an early answer (413, 408) the rest of the body is read and dropped for up
# to this long, so the client can read the answer instead of a connection reset.
LINGER_SECONDS = 2.0
# A header value sent before the signature is checked is the sender's text: logged short.
_LOGGED_HEADER_CHARS = 80
# How long a shutdown waits for in-flight reviews (Docker's default stop grace is 10 s).
DEFAULT_DRAIN_SECONDS = 8.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
GIL_SWITCH_INTERVAL_SECONDS = 0.0005


class BackgroundTasks:
    """Reviews running after their webhook was answered."""

    def __init__(self) -> None:
        # Each task, with when it started on the loop's clock.
        self._tasks: dict[asyncio.Task[None], float] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        loop = asyncio.get_running_loop()
        task = loop.create_task(work, name=name)
        self._tasks[task] = loop.time()  # a strong reference: the loop keeps only weak ones
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    def oldest_age(self) -> float:
        """Seconds since the oldest running task started; 0 when none runs."""
        if not self._tasks:
            return 0.0
        return asyncio.get_running_loop().time() - min(self._tasks.values())

    async def join(self) -> None:
        """Wait until every task (including ones spawned meanwhile) has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self, timeout: float) -> int:
        """Let running tasks finish for up to `timeout` s, then cancel the rest.
        Returns how many were cancelled."""
        if not self._tasks:
            return 0
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            # Cancelled reviews complete their check runs (bounded) before exiting.
            await asyncio.wait(pending, timeout=15)
        return len(pending)


SETTINGS_KEY = web.AppKey("settings", ServerSettings)
BACKGROUND_KEY = web.AppKey("background", BackgroundTasks)
CONTEXT_KEY = web.AppKey("context", EventContext)
CONFIG_LOADER_KEY = web.AppKey("config_loader", RepoConfigLoader)
ROUTER_KEY = web.AppKey("router", routing.Router)
ENGINE_KEY = web.AppKey("engine", BudgetedEngine)
READ_SLOTS_KEY = web.AppKey("read_slots", asyncio.Semaphore)
API_SCOPE_KEY = web.AppKey("api_scope", ApiScope)
JOB_RUNNER_KEY = web.AppKey("job_runner", JobRunner)
METRICS_KEY = web.AppKey("metrics", Metrics)
REVIEW_PROCESS_KEY = web.AppKey("review_process", ReviewProcess)


def _recorder(store: SqliteJobStore) -> CheckStarted:
    async def record(delivery_id: str, installation_id: int, check_run: CheckRun) -> None:
        try:
            await store.note_check_run(
                delivery_id, installation_id, url=check_run.url, check_run_id=check_run.id
            )
        except (sqlite3.Error, OSError) as error:
            # The review goes on; only its recovery after a crash is at stake.
            log.warning(
                "could not record check run delivery=%s: %s", delivery_id, describe_error(error)
            )

    return record


def _spawn_stored(
    background: BackgroundTasks, router: routing.Router, job: Job, context: EventContext
) -> None:
    background.spawn(_dispatch_stored(router, job, context), name=f"delivery-{job.delivery_id}")


def default_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    """The real engine."""
    return review_document(text, path, options)


def signature_matches(body: bytes, signature: str, secret: str) -> bool:
    """Constant-time check of X-Hub-Signature-256; never raises on odd input."""
    return _digest_matches(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), signature)


def _digest_matches(hex_digest: str, signature: str) -> bool:
    expected = "sha256=" + hex_digest
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _reply(status: int, message: str, *, close: bool = False) -> web.Response:
    response = web.json_response({"message": message}, status=status)
    if close:
        # The body was not read to its end: the connection cannot carry another request.
        response.force_close()
    return response


def _logged(value: str) -> str:
    return value[:_LOGGED_HEADER_CHARS] or "-"


async def _read_signed_body(
    request: web.Request, *, secret: str, signature: str, timeout: float
) -> bytes | web.Response:
    """The body, read as it streams with its HMAC computed on the way, when its
    signature matches; otherwise the answer to give (401, 408, 413, 400)."""
    delivery = _logged(request.headers.get("X-GitHub-Delivery", ""))
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout_at(started + min(timeout, BODY_GRACE_SECONDS)) as deadline:
            async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
                size += len(chunk)
                # A slot is only held while the body keeps coming: after a grace
                # period, it must arrive at a minimum rate, so a few connections
                # dribbling bytes cannot keep GitHub's deliveries waiting.
                allowed = BODY_GRACE_SECONDS + size / MIN_BODY_BYTES_PER_SECOND
                deadline.reschedule(started + min(timeout, allowed))
                if size > MAX_PAYLOAD_BYTES:
                    log.warning(
                        "webhook body over %d bytes delivery=%s", MAX_PAYLOAD_BYTES, delivery
                    )
                    return _reply(413, "payload too large", close=True)
                mac.update(chunk)
                chunks.append(chunk)
    except TimeoutError:
        log.warning(
            "webhook body too slow: %d bytes in %.1f s delivery=%s: closed",
            size,
            loop.time() - started,
            delivery,
        )
        return _reply(408, "body not received in time", close=True)
    except ConnectionError:
        # Nobody is left to answer; not the server's error.
        log.info("client went away after %d bytes of the body delivery=%s", size, delivery)
        request[DELIVERY_OUTCOME] = DeliveryOutcome.CLIENT_GONE
        return _reply(400, "connection lost", close=True)
    except asyncio.CancelledError:
        # A runner with `handler_cancellation` cancels the handler when the client
        # leaves (aiohttp's test server does); a shutdown leaves the transport open.
        if request.transport is None:
            log.info("client went away after %d bytes of the body delivery=%s", size, delivery)
        raise
    except HttpProcessingError as error:
        log.info("malformed body framing delivery=%s: %s", delivery, error.message)
        return _reply(400, "malformed body", close=True)
    if not _digest_matches(mac.hexdigest(), signature):
        log.warning("webhook signature mismatch delivery=%s", delivery)
        return _reply(401, "signature missing or wrong")
    return b"".join(chunks)


async def handle_webhook(request: web.Request) -> web.Response:
    """Verify, validate, deduplicate, acknowledge; the review runs afterwards.

    Answers: 202 accepted (a review or a command runs), 200 (ping, an event or action
    this app ignores, a duplicate delivery), 400 (missing GitHub headers, a body that
    is not JSON or lacks what its handler reads), 401 (signature missing or wrong),
    408 (body too slow), 413 (body too large), 415 (not uncompressed JSON), 503 (too
    many bodies being read; retry later)."""
    app = request.app
    settings = app[SETTINGS_KEY]
    if request.content_type != "application/json":
        return _reply(415, "expected content type application/json", close=True)
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in (
        "",
        "identity",
    ):
        # GitHub never compresses deliveries, and a compressed body is a size bomb.
        return _reply(415, "expected an uncompressed body", close=True)
    if request.content_length is not None and request.content_length > MAX_PAYLOAD_BYTES:
        return _reply(413, "payload too large", close=True)
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        log.warning(
            "webhook signature missing delivery=%s",
            _logged(request.headers.get("X-GitHub-Delivery", "")),
        )
        return _reply(401, "signature missing or wrong", close=True)
    event_name = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not event_name or not delivery_id:
        return _reply(400, "X-GitHub-Event and X-GitHub-Delivery are required", close=True)

    slots = app[READ_SLOTS_KEY]
    try:
        async with asyncio.timeout(READ_SLOT_WAIT_SECONDS):
            await slots.acquire()
    except TimeoutError:
        log.warning(
            "too many webhook bodies being read: delivery=%s answered 503", _logged(delivery_id)
        )
        response = _reply(503, "busy, retry later", close=True)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    try:
        body = await _read_signed_body(
            request,
            secret=settings.webhook_secret,
            signature=signature,
            timeout=settings.body_timeout_seconds,
        )
    finally:
        slots.release()
    if isinstance(body, web.Response):
        return body

    try:
        data = json.loads(body)
    except RecursionError:
        return _reply(400, "body is nested too deeply")
    except (ValueError, UnicodeDecodeError):
        return _reply(400, "body is not JSON")
    if not isinstance(data, dict):
        return _reply(400, "body is not a JSON object")
    try:
        action = payloads.action_of(data)
    except payloads.PayloadError as error:
        return _reply(400, str(error))

    if event_name == "ping":
        return _reply(200, "pong")
    event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
    router = app[ROUTER_KEY]
    if not router.fetch(event):
        return _reply(200, f"ignored {event_name}.{action or '-'}")
    try:
        payloads.check(event_name, data)
    except payloads.PayloadError as error:
        log.warning("malformed payload delivery=%s event=%s: %s", delivery_id, event_name, error)
        return _reply(400, str(error))
    foreign = _first_foreign_url(app[API_SCOPE_KEY], event_name, data)
    if foreign is not None:
        log.warning(
            "payload points outside the API delivery=%s event=%s: %s",
            delivery_id,
            event_name,
            foreign,
        )
        request[DELIVERY_OUTCOME] = DeliveryOutcome.FOREIGN_URL
        return _reply(400, foreign)
    context = app[CONTEXT_KEY]
    # A durable queue has the delivery on disk when this returns: only then is it
    # acknowledged, so a crash from here on loses nothing.
    try:
        state = await context.queue.start_delivery(delivery_id, event=event_name, payload=body)
    except (OSError, sqlite3.Error, RedisError) as error:
        # Not recorded, so not acknowledged: GitHub shows the delivery as failed,
        # to be redelivered once the store is back.
        log.error(
            "could not record delivery=%s event=%s: %s: answered 503",
            delivery_id,
            event_name,
            describe_error(error),
        )
        request[DELIVERY_OUTCOME] = DeliveryOutcome.BUSY
        response = _reply(503, "could not record the delivery, retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if state is DeliveryState.QUEUED:
        log.debug("queued delivery=%s event=%s.%s for a worker", delivery_id, event_name, action)
        return _reply(202, "accepted")
    if state is not None:
        log.info("duplicate delivery=%s event=%s (%s) acknowledged", delivery_id, event_name, state)
        request[DELIVERY_OUTCOME] = DeliveryOutcome.DUPLICATE
        if state is DeliveryState.IN_FLIGHT:
            return _reply(200, "duplicate delivery, being handled")
        return _reply(200, "duplicate delivery, already handled")
    app[BACKGROUND_KEY].spawn(
        dispatch_event(router, event, context), name=f"delivery-{delivery_id}"
    )
    log.debug("accepted delivery=%s event=%s.%s", delivery_id, event_name, action)
    return _reply(202, "accepted")


def _first_foreign_url(scope: ApiScope, event_name: str, data: dict[str, Any]) -> str | None:
    """Why the payload is refused when a URL the app would request (and send its token
    to) lies outside the configured API, else None. The client refuses such requests
    too; refusing the payload up front also keeps a check from being left unposted."""
    for where, url in payloads.request_urls(event_name, data):
        try:
            scope.check(url)
        except ForeignURL:
            return f"{where}: not under the configured GitHub API ({scope.api_url})"
    return None


async def dispatch_event(
    router: routing.Router, event: sansio.Event, context: EventContext
) -> None:
    """Run the handlers of one delivery, then settle it with the queue."""
    returned = cancelled = False
    try:
        await router.dispatch(event, context)
        returned = True
    except asyncio.CancelledError:
        cancelled = True
        raise
    except (RedisError, sqlite3.Error):
        # The queue's store is unreachable: the caller decides (a worker retries).
        raise
    except Exception:
        # Reviews report their own failures and payloads were checked: this is a bug.
        log.exception("event handling failed delivery=%s event=%s", event.delivery_id, event.event)
    finally:
        if cancelled:
            # Shutting down: a durable queue keeps the delivery for the next process.
            await context.queue.release(event.delivery_id)
        else:
            # Remembered only once its work completed: a failed one may be redelivered.
            handled = await context.queue.finish_delivery(event.delivery_id, returned=returned)
            if not handled:
                log.info(
                    "delivery=%s event=%s did not complete: a redelivery will be handled",
                    event.delivery_id,
                    event.event,
                )


async def _dispatch_stored(router: routing.Router, job: Job, context: EventContext) -> None:
    """Run a job taken up from the store: its delivery, as it was received."""
    try:
        data = json.loads(job.payload)
    except (ValueError, UnicodeDecodeError):
        # Written only after it parsed: the database was damaged.
        log.error("stored delivery=%s is not JSON any more: dropped", job.delivery_id)
        await context.queue.finish_delivery(job.delivery_id, returned=False)
        return
    event = sansio.Event(data, event=job.event, delivery_id=job.delivery_id)
    await dispatch_event(router, event, context)


async def handle_health(request: web.Request) -> web.Response:
    review_process = request.app.get(REVIEW_PROCESS_KEY)
    if review_process is None:
        return web.json_response(
            {"status": "ok", "reviews_in_flight": len(request.app[BACKGROUND_KEY])}
        )
    # Deliveries are recorded while it restarts, and reviewed once it is back.
    return web.json_response(
        {
            "status": "ok",
            "review_process": "running" if review_process.running else "restarting",
        }
    )


async def handle_metrics(request: web.Request) -> web.Response:
    """The app's metrics, in Prometheus' text format. Not for the internet: the proxy
    in front should route only the webhook path there."""
    metrics = request.app[METRICS_KEY]
    queue = request.app[CONTEXT_KEY].queue
    try:
        if isinstance(queue, DurableReviewQueue | HandedOffQueue):
            backlog = await queue.store.backlog()
            metrics.set_queue_depth(backlog.depth, backlog.oldest_age_seconds)
        elif isinstance(queue, RedisReviewQueue):
            metrics.set_queue_depth(*await queue.backlog())
        else:
            background = request.app[BACKGROUND_KEY]
            metrics.set_queue_depth(len(background), background.oldest_age())
    except (RedisError, sqlite3.Error) as error:
        # The rest still says something; the gauges keep their last values.
        log.warning("queue depth unavailable for /metrics: %s", describe_error(error))
    review_process = request.app.get(REVIEW_PROCESS_KEY)
    # The reviews' own counts are the review process's, read from what it wrote.
    body = (
        metrics.exposition()
        if review_process is None
        else metrics.exposition_with(review_process.metrics_text())
    )
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


def create_app(
    settings: ServerSettings,
    *,
    http_session: aiohttp.ClientSession | None = None,
    engine: Engine = default_engine,
    router: routing.Router = ROUTER,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.time,
    drain_seconds: float = DEFAULT_DRAIN_SECONDS,
    max_concurrent_reads: int = MAX_CONCURRENT_READS,
    budget: Budget | None = None,
    engine_in_pool: bool | None = None,
    review_process: ReviewProcess | None = None,
) -> web.Application:
    """The server. `http_session` (owned by the caller) replaces the one the app
    would open; the other keywords exist so tests and benchmarks can swap parts.

    With `review_process` (`product-review serve` with a `STATE_DIR` and no
    Redis), this app only records deliveries, as queued jobs, and wakes that
    process, which it starts and stops; that process runs this same app without
    a socket, which claims and reviews them. Without it, this process reviews
    what it accepts itself.

    The real engine, rendering and planning run in worker processes within
    `budget` (default: the settings'). An injected engine runs in threads with the
    size cap only, since a test's engine need not pickle; `engine_in_pool=True`
    sends it to the workers too (it must then be a module-level function)."""
    app = web.Application(
        client_max_size=MAX_PAYLOAD_BYTES,
        handler_args={
            # aiohttp arms its keep-alive timer when a connection opens and after each
            # answer, and closes the connection if no complete request head has come
            # by then: that makes it the header timeout (and the idle bound).
            "keepalive_timeout": settings.header_timeout_seconds,
            "lingering_time": LINGER_SECONDS,
        },
    )
    app[SETTINGS_KEY] = settings
    # Counted per app: several apps in one process (tests) do not share counts.
    app[METRICS_KEY] = Metrics()
    app[API_SCOPE_KEY] = ApiScope.of(settings.github_api_url)
    app[BACKGROUND_KEY] = BackgroundTasks()
    # Each app reads repositories' config files with caches of its own.
    app[CONFIG_LOADER_KEY] = RepoConfigLoader()
    app[ROUTER_KEY] = router
    app[READ_SLOTS_KEY] = asyncio.Semaphore(max_concurrent_reads)

    async def github_session(app: web.Application) -> AsyncIterator[None]:
        session = http_session or aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        # Scaled out, this process only accepts: deliveries queue on Redis for the
        # workers (`product-review worker`), which share its token cache.
        redis = None if settings.redis_url is None else await open_redis(settings.redis_url)
        github = GitHubApp(
            session=session,
            app_id=settings.app_id,
            private_key=settings.private_key,
            api_url=settings.github_api_url,
            retry=retry,
            sleep=sleep,
            clock=clock,
            metrics=app[METRICS_KEY],
            tokens=None if redis is None else RedisInstallationTokens(redis, clock=clock),
        )
        config = app[CONFIG_LOADER_KEY]
        store: SqliteJobStore | None = None
        check_started: CheckStarted | None = None
        if redis is None and settings.state_dir is not None:
            store = SqliteJobStore(
                settings.state_dir,
                lease_seconds=settings.job_lease_seconds,
                waits_on_loop=review_process is not None,
            )
            await store.open()
            check_started = _recorder(store)
        queue: ReviewQueue
        if review_process is not None and store is not None:
            queue = HandedOffQueue(store, review_process.wake)
        else:
            reviewer = Reviewer(
                github=github, engine=app[ENGINE_KEY], config=config, check_started=check_started
            )
            if redis is not None:
                queue = RedisReviewQueue(reviewer, redis)
            elif store is not None:
                queue = DurableReviewQueue(reviewer, store)
            else:
                queue = InMemoryReviewQueue(reviewer)
        context = EventContext(github=github, queue=queue, config=config)
        app[CONTEXT_KEY] = context
        if store is not None and review_process is None:
            background = app[BACKGROUND_KEY]
            app[JOB_RUNNER_KEY] = JobRunner(
                store,
                github,
                lambda job: _spawn_stored(background, router, job, context),
                jobs_recovered=app[METRICS_KEY].note_recovered,
            )
        try:
            yield
        finally:
            try:
                if store is not None:
                    await store.close()
                if redis is not None:
                    await redis.aclose()
            finally:
                if http_session is None:
                    await session.close()

    async def drain_reviews(app: web.Application) -> AsyncIterator[None]:
        runner = app.get(JOB_RUNNER_KEY)
        if runner is not None:
            # Jobs a process that died left behind, taken up now and then every beat.
            await runner.run_once()
            runner.start()
        yield
        if runner is not None:
            await runner.stop()
        # Registered after the session, so this runs before the session closes.
        log.info("shutting down: %d review(s) in flight", len(app[BACKGROUND_KEY]))
        cancelled = await app[BACKGROUND_KEY].drain(drain_seconds)
        if cancelled:
            log.warning("shutdown cancelled %d unfinished review(s)", cancelled)

    in_pool = engine is default_engine if engine_in_pool is None else engine_in_pool
    document_budget = budget or settings.budget

    async def review_workers(app: web.Application) -> AsyncIterator[None]:
        # The event loop never runs engine, render or planning work: worker processes
        # do (killed past their time limit), or threads for an injected engine.
        if review_process is not None or settings.redis_url is not None:
            # The review process or the workers have the pool: this process runs no
            # review, and keeps no idle pool whose threads would take its GIL.
            app[ENGINE_KEY] = BudgetedEngine(engine, ThreadRunner(document_budget))
            yield
            return
        if not in_pool:
            app[ENGINE_KEY] = BudgetedEngine(engine, ThreadRunner(document_budget))
            yield
            return
        runner = PoolRunner(
            WorkerPool(
                document_budget,
                workers=settings.review_workers,
                niceness=REVIEW_NICENESS,
                # The review process's pool, beside its web process: idle CPU only.
                idle=settings.worker_priority == "idle",
            )
        )
        # Workers start now, off the event loop, rather than on the first review.
        await runner.warm_up()
        # The engine itself rather than this module's wrapper: workers import less.
        app[ENGINE_KEY] = BudgetedEngine(
            review_document if engine is default_engine else engine, runner
        )
        try:
            yield
        finally:
            # Registered first, so this runs last: after the drain, no review needs it.
            await runner.close()

    async def reviews_apart(app: web.Application) -> AsyncIterator[None]:
        assert review_process is not None
        app[REVIEW_PROCESS_KEY] = review_process
        await review_process.start()
        try:
            yield
        finally:
            # After the socket closed: what was acknowledged is recorded, and the
            # review process drains its reviews before this process exits.
            await review_process.stop()

    async def stop_reviews_early(app: web.Application) -> None:
        # The socket just closed: the drain starts now, not after the requests
        # in flight are answered.
        if review_process is not None:
            review_process.begin_stop()

    app.cleanup_ctx.append(review_workers)
    app.cleanup_ctx.append(github_session)
    if review_process is not None:
        app.cleanup_ctx.append(reviews_apart)
        app.on_shutdown.append(stop_reviews_early)
    else:
        app.cleanup_ctx.append(drain_reviews)
    app.router.add_get("/healthz", handle_health)
    app.router.add_get(METRICS_PATH, handle_metrics)
    app.router.add_post(
        settings.webhook_path, counting_deliveries(handle_webhook, app[METRICS_KEY])
    )
    return app


def configure_logging(settings: ServerSettings) -> None:
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # Lines logged during a review name its delivery, repository, pull request and head.
    logcontext.install(logging.getLogger(), as_json=settings.log_format == "json")


def smee_refusal(settings: ServerSettings) -> str:
    """Why `WEBHOOK_PROXY_URL` is refused, and what to run instead (one line)."""
    target = f"http://localhost:{settings.port}{settings.webhook_path}"
    return (
        "WEBHOOK_PROXY_URL: unsupported (there is no maintained Python smee.io client); "
        f"unset it and relay with `npx smee-client -u {settings.webhook_proxy_url} -t {target}`"
    )


async def check_credentials(settings: ServerSettings) -> str | None:
    """Ask GitHub once whether it takes the app's credentials (GET /app).

    Returns the one line to refuse to start with when GitHub answered 401; None when
    it took them, or could not be asked (logged as one warning: the server still
    starts, since GitHub may be back before the first delivery)."""
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        github = GitHubApp(
            session=session,
            app_id=settings.app_id,
            private_key=settings.private_key,
            api_url=settings.github_api_url,
        )
        try:
            identity = await github.identify()
        except CredentialsRejected as rejected:
            return (
                f"GitHub refused the app's credentials ({rejected.reason}): check APP_ID "
                f"({settings.app_id}) and that the private key is this app's"
            )
        except GitHubUnreachable as unreachable:
            log.warning(
                "could not check the app's credentials at %s: %s",
                settings.github_api_url,
                unreachable.reason,
            )
            return None
    log.info("credentials accepted: app %s (id %d)", identity.slug or "-", identity.id)
    return None


def quoted_secret_warning(webhook_secret: str) -> str | None:
    """A warning when WEBHOOK_SECRET starts and ends with the same quote, else None.

    `docker run --env-file` passes a value on as written, quotes included (a shell
    and a `.env` file read by the server strip them): a secret quoted there no
    longer matches GitHub's, and every delivery is refused as unsigned."""
    if len(webhook_secret) < 2 or webhook_secret[0] != webhook_secret[-1]:
        return None
    if webhook_secret[0] not in "\"'":
        return None
    return (
        "WEBHOOK_SECRET starts and ends with a quote, which is part of the secret as "
        "given (`docker run --env-file` keeps quotes): unless the secret on GitHub has "
        "them too, every delivery will fail its signature check"
    )


def state_dir_problem(state_dir: Path) -> str | None:
    """Create STATE_DIR if needed and prove it writable; say why not, or None."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        # A probe file of its own: replicas sharing the folder start at once.
        with tempfile.TemporaryFile(dir=state_dir):
            pass
    except OSError as error:
        return f"STATE_DIR: cannot write {state_dir}: {error.strerror or error.__class__.__name__}"
    return None


def main() -> int:
    """Read the environment (and ./.env), then serve until SIGINT/SIGTERM.

    Returns 2 without starting when a setting is missing or malformed, after
    printing one line per problem, and when GitHub refuses the app's credentials.
    """
    settings = settings_from_environment("product-review serve")
    if settings is None:
        return 2
    if settings.webhook_proxy_url is not None:
        print(f"product-review serve: {smee_refusal(settings)}", file=sys.stderr)
        return 2
    if settings.state_dir is not None:
        unwritable = state_dir_problem(settings.state_dir)
        if unwritable is not None:
            print(f"product-review serve: {unwritable}", file=sys.stderr)
            return 2
    configure_logging(settings)
    quoted = quoted_secret_warning(settings.webhook_secret)
    if quoted is not None:
        log.warning("%s", quoted)
    refusal = asyncio.run(check_credentials(settings))
    if refusal is not None:
        print(f"product-review serve: {refusal}", file=sys.stderr)
        return 2
    # The pool's result threads share the GIL with the event loop: hand it back
    # sooner than the default 5 ms, so a webhook waits less behind a big result.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    log.info(
        "serving app_id=%s on %s:%d%s api=%s state=%s",
        settings.app_id,
        settings.host,
        settings.port,
        settings.webhook_path,
        settings.github_api_url,
        settings.state_dir or "memory",
    )
    try:
        _serve(settings)
    except (RedisError, OSError) as error:
        # Redis (or the port) was unreachable at start-up: nothing was accepted yet.
        print(f"product-review serve: cannot start: {describe_error(error)}", file=sys.stderr)
        return 1
    return 0


async def _freeze_what_lasts(app: web.Application) -> None:
    """Leave what start-up built (modules, the app, its clients) out of the garbage
    collector's full passes: each pass would walk it all while deliveries wait,
    a pause of milliseconds every few hundred requests."""
    gc.collect()
    gc.freeze()


def _serve(settings: ServerSettings) -> None:
    # Alone on one machine, reviews run in a process of their own (the web
    # process only records and acknowledges); scaled out, in the workers.
    review_process = (
        ReviewProcess(settings.state_dir, drain_seconds=DEFAULT_DRAIN_SECONDS)
        if settings.state_dir is not None and settings.redis_url is None
        else None
    )
    app = create_app(settings, review_process=review_process)
    app.on_startup.append(_freeze_what_lasts)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=AccessLogWithoutScrapes,
        # Requests in flight get a moment; reviews are drained by the app itself.
        shutdown_timeout=5,
    )
