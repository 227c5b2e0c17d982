"""The aiohttp server: `/healthz` and the webhook endpoint.

The webhook handler only verifies, deduplicates and acknowledges; reviews run as
tracked background tasks, so GitHub gets its answer in milliseconds (it gives up
after 10 s) and a shutdown lets in-flight reviews finish, up to a bound.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cachetools import TTLCache
from gidgethub import routing, sansio

from checks import review_document
from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp import repoconfig
from ghapp.github import GitHubApp, RetryPolicy, Sleep
from ghapp.review import Engine, SettingsLoader
from ghapp.routing import ROUTER, EventContext
from ghapp.settings import ServerSettings, SettingsError, load_server_settings, read_environment

log = logging.getLogger("ghapp.server")

# GitHub caps webhook payloads at 25 MB.
MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
# GitHub redelivers with the same X-GitHub-Delivery; remember ids this long.
DELIVERY_TTL_SECONDS = 60 * 60
DELIVERY_CACHE_SIZE = 50_000
# How long a shutdown waits for in-flight reviews (Docker's default stop grace is 10 s).
DEFAULT_DRAIN_SECONDS = 8.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)


class BackgroundTasks:
    """Reviews running after their webhook was answered."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)  # a strong reference: the loop keeps only weak ones
        task.add_done_callback(self._tasks.discard)
        return task

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


class RecentDeliveries:
    """X-GitHub-Delivery ids seen recently (a redelivery keeps its id)."""

    def __init__(self, *, ttl: float = DELIVERY_TTL_SECONDS, maxsize: int = DELIVERY_CACHE_SIZE):
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=maxsize, ttl=ttl)

    def first_time(self, delivery_id: str) -> bool:
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = True
        return True


SETTINGS_KEY = web.AppKey("settings", ServerSettings)
BACKGROUND_KEY = web.AppKey("background", BackgroundTasks)
DELIVERIES_KEY = web.AppKey("deliveries", RecentDeliveries)
CONTEXT_KEY = web.AppKey("context", EventContext)
ROUTER_KEY = web.AppKey("router", routing.Router)


def default_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    """The real engine."""
    return review_document(text, path, options)


def signature_matches(body: bytes, signature: str, secret: str) -> bool:
    """Constant-time check of X-Hub-Signature-256; never raises on odd input."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _reply(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


async def handle_webhook(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS_KEY]
    if request.content_length is not None and request.content_length > MAX_PAYLOAD_BYTES:
        return _reply(413, "payload too large")
    if request.content_type != "application/json":
        return _reply(415, "expected content type application/json")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _reply(413, "payload too large")
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature or not signature_matches(body, signature, settings.webhook_secret):
        log.warning(
            "webhook signature %s delivery=%s",
            "missing" if not signature else "mismatch",
            request.headers.get("X-GitHub-Delivery", "-"),
        )
        return _reply(401, "signature missing or wrong")
    event_name = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not event_name or not delivery_id:
        return _reply(400, "X-GitHub-Event and X-GitHub-Delivery are required")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _reply(400, "body is not JSON")
    if not isinstance(data, dict):
        return _reply(400, "body is not a JSON object")

    if not app[DELIVERIES_KEY].first_time(delivery_id):
        log.info("duplicate delivery=%s event=%s acknowledged", delivery_id, event_name)
        return _reply(200, "duplicate delivery, already handled")
    if event_name == "ping":
        return _reply(200, "pong")
    event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
    router = app[ROUTER_KEY]
    if not router.fetch(event):
        return _reply(200, f"ignored {event_name}.{data.get('action', '-')}")
    app[BACKGROUND_KEY].spawn(
        _dispatch(router, event, app[CONTEXT_KEY]), name=f"delivery-{delivery_id}"
    )
    log.debug("accepted delivery=%s event=%s.%s", delivery_id, event_name, data.get("action"))
    return _reply(202, "accepted")


async def _dispatch(router: routing.Router, event: sansio.Event, context: EventContext) -> None:
    try:
        await router.dispatch(event, context)
    except asyncio.CancelledError:
        raise
    except Exception:
        # Reviews report their own failures; this catches a malformed payload.
        log.exception("event handling failed delivery=%s event=%s", event.delivery_id, event.event)


async def handle_health(request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "ok", "reviews_in_flight": len(request.app[BACKGROUND_KEY])}
    )


def create_app(
    settings: ServerSettings,
    *,
    http_session: aiohttp.ClientSession | None = None,
    engine: Engine = default_engine,
    load_settings: SettingsLoader = repoconfig.load_settings,
    router: routing.Router = ROUTER,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.time,
    drain_seconds: float = DEFAULT_DRAIN_SECONDS,
) -> web.Application:
    """The server. `http_session` (owned by the caller) replaces the one the app
    would open; the other keywords exist so tests and benchmarks can swap parts."""
    app = web.Application(client_max_size=MAX_PAYLOAD_BYTES)
    app[SETTINGS_KEY] = settings
    app[BACKGROUND_KEY] = BackgroundTasks()
    app[DELIVERIES_KEY] = RecentDeliveries()
    app[ROUTER_KEY] = router

    async def github_session(app: web.Application) -> AsyncIterator[None]:
        session = http_session or aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        github = GitHubApp(
            session=session,
            app_id=settings.app_id,
            private_key=settings.private_key,
            api_url=settings.github_api_url,
            retry=retry,
            sleep=sleep,
            clock=clock,
        )
        app[CONTEXT_KEY] = EventContext(github=github, engine=engine, load_settings=load_settings)
        try:
            yield
        finally:
            if http_session is None:
                await session.close()

    async def drain_reviews(app: web.Application) -> AsyncIterator[None]:
        yield
        # Registered after the session, so this runs before the session closes.
        log.info("shutting down: %d review(s) in flight", len(app[BACKGROUND_KEY]))
        cancelled = await app[BACKGROUND_KEY].drain(drain_seconds)
        if cancelled:
            log.warning("shutdown cancelled %d unfinished review(s)", cancelled)

    app.cleanup_ctx.append(github_session)
    app.cleanup_ctx.append(drain_reviews)
    app.router.add_get("/healthz", handle_health)
    app.router.add_post(settings.webhook_path, handle_webhook)
    return app


def main() -> int:
    """Read the environment (and ./.env), then serve until SIGINT/SIGTERM.

    Returns 2 without starting when a setting is missing or malformed, after
    printing one line per problem.
    """
    env = read_environment(os.environ, dotenv_path=Path.cwd() / ".env")
    try:
        settings = load_server_settings(env)
    except SettingsError as error:
        for problem in error.problems:
            print(f"product-review serve: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    log.info(
        "serving app_id=%s on %s:%d%s api=%s",
        settings.app_id,
        settings.host,
        settings.port,
        settings.webhook_path,
        settings.github_api_url,
    )
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        # Requests in flight get a moment; reviews are drained by the app itself.
        shutdown_timeout=5,
    )
    return 0
