"""Scale-out: deliveries, reviews and shared state on a Redis server (`REDIS_URL`).

The job queue is arq's: a web process (`product-review serve`) verifies a
delivery and enqueues it as an arq job whose id is the delivery id, so a
redelivery that arrives while the first is queued or running is not enqueued
twice; worker processes (`product-review worker`, any number, on any machine)
run the jobs. arq keeps a job in its queue until it finished and marks it taken
with a key that expires: a worker that dies (SIGKILL, OOM, a lost node) leaves
the job to be taken again by another once `job_timeout` has passed; a worker
stopped with SIGTERM lets its jobs finish for the drain time, then cancels the
rest, which arq runs again. arq has no heartbeat, so `job_timeout` must exceed
the longest review; the per-document budget bounds that.

What the in-memory queue keeps per process lives here in Redis, through
redis-py's own primitives:

- handled deliveries (`SET … EX`), and failed ones (GitHub's "Redeliver" then
  counts as a retry that may follow a posted review);
- heads claimed and reviewed (`SET NX EX`): the push's `synchronize` and its
  `check_suite` go to different workers, and one of them reviews;
- one review at a time per pull request, across workers: redis-py's `Lock`,
  with a timeout, extended while the review runs;
- check runs a job left in progress, completed as "interrupted" when the job
  is taken again;
- installation tokens, so N workers mint one per hour, not N.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from typing import Any, cast

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name, job_key_prefix
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ghapp.apitypes import CheckCompletion
from ghapp.auth import TOKEN_EXPIRY_MARGIN_SECONDS, InstallationToken, InstallationTokens, MintToken
from ghapp.checkrun import interrupted_completion, unfinished_completion
from ghapp.github import CheckRun, GitHubApp
from ghapp.jobstore import FAILED_TTL_SECONDS, HANDLED_TTL_SECONDS
from ghapp.pulls import PullRequestRef
from ghapp.queue import (
    RECENT_HEADS_TTL_SECONDS,
    DeliveryState,
    InMemoryReviewQueue,
    _FinishedReview,
)
from ghapp.review import (
    PREFETCH_MAX_AGE_SECONDS,
    Reviewer,
    ReviewRequest,
    ReviewResult,
    describe_error,
)

log = logging.getLogger("ghapp.redisqueue")

KEY_PREFIX = "product-review:"
JOB_FUNCTION = "handle_delivery"
# A review holds its pull request's lock this long without a beat; beaten every third.
PULL_LOCK_SECONDS = 30.0
REDIS_RETRIES = 30
# Wall clocks of the machines may differ this much: a prefetch this close to another
# review is read again.
CLOCK_SKEW = 1.0
_HEAD_REVIEWED = "reviewed"


def json_serializer(job: dict[str, Any]) -> bytes:
    """arq's job encoding: JSON, never pickle (whoever can write to the queue must
    not be able to run code in a worker)."""
    return json.dumps(job).encode()


def json_deserializer(data: bytes) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(data))


def redis_settings(url: str) -> RedisSettings:
    """Connection settings for `url`. A command that meets a dropped connection is
    retried with back-off for about a minute, so a Redis restart (or fail-over)
    pauses the processes instead of failing what they were doing."""
    settings = RedisSettings.from_dsn(url)
    settings.retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=REDIS_RETRIES)
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.conn_retries = REDIS_RETRIES
    return settings


async def open_redis(url: str) -> ArqRedis:
    """A connection pool to the server `url` names, for arq and for the state."""
    return await create_pool(
        redis_settings(url),
        job_serializer=json_serializer,
        job_deserializer=json_deserializer,
    )


@dataclass(frozen=True)
class Keys:
    prefix: str = KEY_PREFIX

    def handled(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}:handled"

    def failed(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}:failed"

    def stopped_tries(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}:stopped-tries"

    def checks(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}:checks"

    def delivery_of_checks(self, key: str) -> str:
        """The delivery id in a key `checks` made."""
        return key.removeprefix(f"{self.prefix}delivery:").removesuffix(":checks")

    def head(self, pull: PullRequestRef, head_sha: str) -> str:
        return f"{self.prefix}head:{pull.full_name}#{pull.number}@{head_sha}"

    def pull_lock(self, pull: PullRequestRef) -> str:
        return f"{self.prefix}pull:{pull.full_name}#{pull.number}"

    def last_review(self, pull: PullRequestRef) -> str:
        return f"{self.prefix}pull:{pull.full_name}#{pull.number}:last-review"

    def token(self, installation_id: int) -> str:
        return f"{self.prefix}token:{installation_id}"


class RedisReviewQueue(InMemoryReviewQueue):
    """`ReviewQueue` over Redis. In a web process, `start_delivery` enqueues the
    delivery for the workers (`DeliveryState.QUEUED`); in a worker, reviews run
    as in `InMemoryReviewQueue`, with the guards of every process in Redis."""

    def __init__(
        self,
        reviewer: Reviewer,
        redis: ArqRedis,
        *,
        keys: Keys | None = None,
        pull_lock_seconds: float = PULL_LOCK_SECONDS,
    ) -> None:
        super().__init__(reviewer)
        self.redis = redis
        self.keys = keys or Keys()
        self._pull_lock_seconds = pull_lock_seconds
        # Deliveries this worker runs that an earlier attempt ran too.
        self._retried: set[str] = set()

    # -- deliveries ---------------------------------------------------------------

    async def start_delivery(
        self, delivery_id: str, *, event: str = "", payload: bytes = b""
    ) -> DeliveryState | None:
        # Asked together, so the acknowledgement waits for arq's round trips alone
        # (one fewer): a job a handled delivery's redelivery queues is dropped by
        # the worker that takes it (`already_handled`).
        handled, job = await asyncio.gather(
            self.already_handled(delivery_id),
            self.redis.enqueue_job(
                JOB_FUNCTION,
                event,
                delivery_id,
                # JSON may come in UTF-16 or UTF-32 too; the job is JSON text.
                payload.decode(json.detect_encoding(payload)),
                _job_id=delivery_id,
            ),
        )
        if handled:
            return DeliveryState.HANDLED
        return DeliveryState.IN_FLIGHT if job is None else DeliveryState.QUEUED

    async def already_handled(self, delivery_id: str) -> bool:
        """Whether a process handled this delivery within `HANDLED_TTL_SECONDS`."""
        return bool(await self.redis.exists(self.keys.handled(delivery_id)))

    async def backlog(self) -> tuple[int, float]:
        """Jobs queued or running on arq's queue, and the age of the oldest (s)."""
        depth = await self.redis.zcard(default_queue_name)
        oldest = await self.redis.zrange(default_queue_name, 0, 0, withscores=True)
        if not oldest:
            return int(depth), 0.0
        return int(depth), max(0.0, time.time() - float(oldest[0][1]) / 1000)

    def running(self, delivery_id: str, *, attempt: int) -> None:
        """A worker starts this delivery's job (`attempt` counts from 1)."""
        if attempt > 1:
            self._retried.add(delivery_id)

    async def finish_delivery(self, delivery_id: str, *, returned: bool) -> bool:
        self._retried.discard(delivery_id)
        completed = self._incomplete.pop(delivery_id, None) is None
        handled = completed and returned
        async with self.redis.pipeline(transaction=True) as pipe:
            # The job is over: a redelivery's job counts its attempts afresh.
            pipe.delete(self.keys.stopped_tries(delivery_id))
            if handled:
                pipe.set(self.keys.handled(delivery_id), b"1", ex=HANDLED_TTL_SECONDS)
                pipe.delete(self.keys.failed(delivery_id))
            else:
                pipe.set(self.keys.failed(delivery_id), b"1", ex=FAILED_TTL_SECONDS)
            await pipe.execute()
        return handled

    async def note_stopped_try(self, delivery_id: str) -> None:
        """This try of the delivery's job was cut short by its worker stopping."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.keys.stopped_tries(delivery_id))
            pipe.expire(self.keys.stopped_tries(delivery_id), FAILED_TTL_SECONDS)
            await pipe.execute()

    async def stopped_tries(self, delivery_id: str) -> int:
        """How many tries of the delivery's job stopping workers cut short."""
        return int(await self.redis.get(self.keys.stopped_tries(delivery_id)) or 0)

    async def release(self, delivery_id: str) -> None:
        # arq runs a cancelled job again. Its checks stay on record: the next attempt
        # completes any the cancelled review could not.
        self._retried.discard(delivery_id)
        self._incomplete.pop(delivery_id, None)

    async def submit(self, request: ReviewRequest) -> ReviewResult:
        result = await super().submit(request)
        if result.check_run is not None and result.conclusion:
            # The review completed its check: nothing is left to complete for it.
            await cast(
                Awaitable[int],
                self.redis.hdel(self.keys.checks(request.delivery_id), result.check_run.url),
            )
        return result

    async def failed_before(self, delivery_id: str) -> bool:
        return delivery_id in self._retried or bool(
            await self.redis.exists(self.keys.failed(delivery_id))
        )

    # -- heads --------------------------------------------------------------------

    async def claim_head(self, request: ReviewRequest) -> bool:
        head_sha = request.pull.state.head_sha
        assert head_sha is not None  # automatic triggers name their head
        key = self.keys.head(request.pull, head_sha)
        if await self.redis.set(key, request.delivery_id, nx=True, ex=RECENT_HEADS_TTL_SECONDS):
            return True
        holder = await self.redis.get(key)
        if holder is not None and holder.decode() == request.delivery_id:
            # Claimed by an earlier attempt at this delivery, whose worker died.
            return True
        if holder is not None and holder.decode() != _HEAD_REVIEWED:
            # Deferred to a review in flight elsewhere, which may yet fail.
            self._incomplete[request.delivery_id] = True
        return False

    async def _hold_head(self, pull: PullRequestRef, delivery_id: str) -> None:
        if pull.state.head_sha is not None:
            await self.redis.set(
                self.keys.head(pull, pull.state.head_sha),
                delivery_id,
                nx=True,
                ex=RECENT_HEADS_TTL_SECONDS,
            )

    async def _settle_heads(
        self, pull: PullRequestRef, delivery_id: str, *, completed: bool, learnt: str | None
    ) -> None:
        for head_sha in dict.fromkeys([pull.state.head_sha, learnt]):
            if head_sha is None:
                continue
            key = self.keys.head(pull, head_sha)
            if completed:
                await self.redis.set(key, _HEAD_REVIEWED, ex=RECENT_HEADS_TTL_SECONDS)
            elif (await self.redis.get(key)) == delivery_id.encode():
                await self.redis.delete(key)

    # -- reviews ------------------------------------------------------------------

    async def _review(self, request: ReviewRequest, last: _FinishedReview | None) -> ReviewResult:
        """One review at a time per pull request across all workers: the review runs
        holding the pull request's lock, extended while it runs. What the comment
        command read before (its prefetch) is used only when no review of the pull
        request started or ended since, on any worker."""
        lock = self.redis.lock(
            self.keys.pull_lock(request.pull),
            timeout=self._pull_lock_seconds,
            blocking=True,
            blocking_timeout=None,
        )
        await lock.acquire()
        marker = self.keys.last_review(request.pull)
        try:
            async with _extended_while_running(lock, every=self._pull_lock_seconds / 3):
                prefetched = request.prefetched
                if prefetched is not None:
                    ran = await self.redis.get(marker)
                    if ran is not None and float(ran) >= prefetched.taken_at_wall - CLOCK_SKEW:
                        request = replace(request, prefetched=None)
                await self._mark_review(marker)
                try:
                    return await super()._review(request, last)
                finally:
                    await self._mark_review(marker)
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                await lock.release()

    async def _mark_review(self, marker: str) -> None:
        await self.redis.set(marker, repr(time.time()), ex=int(PREFETCH_MAX_AGE_SECONDS) + 1)

    # -- check runs ---------------------------------------------------------------

    async def note_check_run(self, delivery_id: str, installation_id: int, check: CheckRun) -> None:
        key = self.keys.checks(delivery_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, check.url, json.dumps([installation_id, check.id]))
            pipe.expire(key, FAILED_TTL_SECONDS)
            await pipe.execute()

    async def complete_left_checks(
        self, delivery_id: str, github: GitHubApp, *, again: bool
    ) -> int:
        """Complete, as interrupted, the check runs an earlier attempt at this
        delivery left in progress. Returns how many."""
        return await self._complete_recorded(
            delivery_id, github, interrupted_completion(again=again)
        )

    async def sweep_left_checks(self, github: GitHubApp) -> int:
        """Complete the check runs on record whose job is over (neither queued nor
        running in arq): their review ended without completing them, GitHub having
        refused or been away. Returns how many."""
        completed = 0
        async for raw_key in self.redis.scan_iter(match=self.keys.checks("*"), count=100):
            delivery_id = self.keys.delivery_of_checks(raw_key.decode())
            if await self.redis.exists(job_key_prefix + delivery_id):
                continue  # queued or running: its next attempt completes them
            completed += await self._complete_recorded(delivery_id, github, unfinished_completion())
        return completed

    async def _complete_recorded(
        self, delivery_id: str, github: GitHubApp, completion: CheckCompletion
    ) -> int:
        key = self.keys.checks(delivery_id)
        left = await cast(Awaitable[dict[bytes, bytes]], self.redis.hgetall(key))
        completed = 0
        for raw_url, raw_ids in left.items():
            url = raw_url.decode()
            installation_id, check_id = json.loads(raw_ids)
            try:
                await github.installation(int(installation_id)).complete_check_run(
                    check_run=CheckRun(id=int(check_id), url=url), completion=completion
                )
            except Exception as error:
                # Kept on record: tried again later.
                log.warning(
                    "could not complete a check run left in progress delivery=%s url=%s: %s",
                    delivery_id,
                    url,
                    describe_error(error),
                )
                continue
            await cast(Awaitable[int], self.redis.hdel(key, url))
            completed += 1
        return completed


@contextlib.asynccontextmanager
async def _extended_while_running(lock: Any, *, every: float) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            await lock.extend(every * 3, replace_ttl=True)

    task = asyncio.get_running_loop().create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class RedisInstallationTokens(InstallationTokens):
    """Installation tokens shared by every process through Redis (each process
    keeps its own copy too). A token is a credential: Redis must be private."""

    def __init__(self, redis: Redis, *, keys: Keys | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._redis = redis
        self._keys = keys or Keys()
        self._forgetting: set[asyncio.Task[None]] = set()

    async def get(self, installation_id: int, *, mint: MintToken) -> str:
        key = self._keys.token(installation_id)

        async def shared(installation: int) -> InstallationToken:
            raw = await self._redis.get(key)
            if raw is not None:
                cached = json.loads(raw)
                return InstallationToken(token=cached["token"], expires_at=cached["expires_at"])
            token = await mint(installation)
            lifetime = token.expires_at - TOKEN_EXPIRY_MARGIN_SECONDS - self._clock()
            if lifetime > 1:
                await self._redis.set(
                    key,
                    json.dumps({"token": token.token, "expires_at": token.expires_at}),
                    ex=int(lifetime),
                )
            return token

        return await super().get(installation_id, mint=shared)

    def invalidate(self, installation_id: int, *, token: str) -> None:
        super().invalidate(installation_id, token=token)
        # Dropped from Redis too, unless another process stored a newer one meanwhile.
        task = asyncio.get_running_loop().create_task(self._forget(installation_id, token))
        self._forgetting.add(task)
        task.add_done_callback(self._forgetting.discard)

    async def _forget(self, installation_id: int, token: str) -> None:
        key = self._keys.token(installation_id)
        with contextlib.suppress(Exception):
            raw = await self._redis.get(key)
            if raw is not None and json.loads(raw)["token"] == token:
                await self._redis.delete(key)
