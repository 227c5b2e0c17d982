"""The Redis queue's shared state, against a real redis-server: deliveries queued
once and remembered, heads claimed by one process of many, installation tokens
minted once for all of them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from arq.connections import ArqRedis
from arq.worker import Retry
from pytest_redis.executor import RedisExecutor

import ghapp.worker as worker_module
from ghapp.auth import InstallationToken
from ghapp.github import CheckRun, GitHubApp
from ghapp.pulls import PullRequestRef, PullState
from ghapp.queue import DeliveryState
from ghapp.redisqueue import Keys, RedisInstallationTokens, RedisReviewQueue, open_redis
from ghapp.review import Reviewer, ReviewRequest
from tests.ghapp.test_server_process import free_port
from tests.support.apptools import APP_ID, KeyPair
from tests.support.fakegithub import FakeGitHub


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisExecutor]:
    server = RedisExecutor(
        shutil.which("redis-server") or "/usr/bin/redis-server",
        databases=1,
        redis_timeout=30,
        loglevel="warning",
        host="127.0.0.1",
        port=free_port(),
        datadir=Path(tmp_path_factory.mktemp("redis")),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(redis_server: RedisExecutor) -> AsyncIterator[ArqRedis]:
    pool = await open_redis(f"redis://127.0.0.1:{redis_server.port}/0")
    await pool.flushdb()
    yield pool
    await pool.aclose()


def queue(redis: ArqRedis) -> RedisReviewQueue:
    # The reviewer is never reached: these tests stop before a review runs.
    return RedisReviewQueue(Reviewer.__new__(Reviewer), redis)


def request(delivery: str, head: str = "a" * 40) -> ReviewRequest:
    pull = PullRequestRef(
        installation_id=1,
        owner="acme",
        repo="widgets",
        number=7,
        default_branch="main",
        repository_url="http://127.0.0.1/repos/acme/widgets",
        pull_url="http://127.0.0.1/repos/acme/widgets/pulls/7",
        state=PullState(head_sha=head),
    )
    return ReviewRequest(pull=pull, delivery_id=delivery, trigger="pull_request.synchronize")


async def test_a_delivery_is_queued_once_and_remembered_once_handled(redis: ArqRedis) -> None:
    web_a, web_b, worker = queue(redis), queue(redis), queue(redis)
    assert await web_a.start_delivery("d1", event="ping", payload=b"{}") is DeliveryState.QUEUED
    # The redelivery reaches the other web process while the job waits.
    assert await web_b.start_delivery("d1", event="ping", payload=b"{}") is DeliveryState.IN_FLIGHT
    assert await redis.zcard("arq:queue") == 1
    assert await worker.finish_delivery("d1", returned=True) is True
    assert await web_b.start_delivery("d1", event="ping", payload=b"{}") is DeliveryState.HANDLED


async def test_a_redelivery_after_the_job_is_gone_is_known_as_handled_and_its_job_dropped(
    redis: ArqRedis,
) -> None:
    web, worker = queue(redis), queue(redis)
    assert await web.start_delivery("d1", event="ping", payload=b"{}") is DeliveryState.QUEUED
    assert await worker.finish_delivery("d1", returned=True) is True
    # arq deletes a finished job (results are not kept): the redelivery queues a new
    # one while the web process answers that it was handled.
    await redis.delete("arq:job:d1")
    await redis.zrem("arq:queue", "d1")
    assert await web.start_delivery("d1", event="ping", payload=b"{}") is DeliveryState.HANDLED
    assert await redis.zcard("arq:queue") == 1
    # The worker that takes that job sees it is done.
    assert await worker.already_handled("d1") is True
    assert await worker.already_handled("d2") is False


async def test_a_failed_delivery_is_known_to_every_process(redis: ArqRedis) -> None:
    worker, other = queue(redis), queue(redis)
    await worker.note_incomplete("d1")
    assert await worker.finish_delivery("d1", returned=True) is False
    assert await other.failed_before("d1") is True
    assert await other.failed_before("d2") is False
    # A job taken again after its worker died counts as failed before, too.
    other.running("d3", attempt=2)
    assert await other.failed_before("d3") is True


async def test_one_process_of_many_claims_a_head(redis: ArqRedis) -> None:
    first, second = queue(redis), queue(redis)
    assert await first.claim_head(request("sync")) is True
    assert await second.claim_head(request("suite")) is False
    # The head is still in review elsewhere: the second delivery is not handled yet.
    assert await second.finish_delivery("suite", returned=True) is False
    await first._settle_heads(request("sync").pull, "sync", completed=True, learnt=None)
    assert await second.claim_head(request("again")) is False
    assert await second.finish_delivery("again", returned=True) is True
    # A review that failed lets the head go: its next event reviews it.
    assert await first.claim_head(request("x", head="b" * 40)) is True
    await first._settle_heads(request("x", head="b" * 40).pull, "x", completed=False, learnt=None)
    assert await second.claim_head(request("y", head="b" * 40)) is True


async def test_workers_share_installation_tokens(redis: ArqRedis) -> None:
    minted: list[int] = []

    async def mint(installation: int) -> InstallationToken:
        minted.append(installation)
        return InstallationToken(token=f"t{len(minted)}", expires_at=4_000_000_000.0)

    one, two = RedisInstallationTokens(redis), RedisInstallationTokens(redis)
    assert await one.get(5, mint=mint) == "t1"
    assert await two.get(5, mint=mint) == "t1"
    assert minted == [5]
    assert await redis.ttl(Keys().token(5)) > 0


async def test_checks_whose_job_is_over_are_swept_and_the_others_left(
    redis: ArqRedis, fake_github: FakeGitHub, key_pair: KeyPair
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-x.md": "# X\n"})
    worker = queue(redis)
    for delivery, run_id in (("ended", 901), ("queued", 902)):
        repo.check_runs[run_id] = {
            "id": run_id,
            "url": f"{fake_github.url}/repos/{repo.full_name}/check-runs/{run_id}",
            "name": "Product review",
            "head_sha": pull.head_sha,
            "status": "in_progress",
            "conclusion": None,
            "output": {"annotations": []},
            "actions": [],
            "updates": 0,
        }
        await worker.note_check_run(
            delivery, 42, CheckRun(id=run_id, url=repo.check_runs[run_id]["url"])
        )
    await redis.set("arq:job:queued", b"{}")  # arq still holds this one's job
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        )
        assert await worker.sweep_left_checks(github) == 1
    assert repo.check_runs[901]["status"] == "completed"
    assert "could not complete" in repo.check_runs[901]["output"]["title"]
    assert repo.check_runs[902]["status"] == "in_progress"  # its next attempt's
    assert await redis.exists(Keys().checks("ended")) == 0


@dataclass
class HeldJobs:
    """The worker's delivery handling, replaced by one that notes its attempt and
    then waits until cancelled."""

    seen: list[tuple[int, bool]] = field(default_factory=list)
    running: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(
        self, state: Any, attempt: int, event: str, delivery: str, payload: str, *,
        taken_again: bool,
    ) -> None:
        self.seen.append((attempt, taken_again))
        self.running.set()
        await asyncio.Event().wait()


@pytest.fixture
def held_jobs(monkeypatch: pytest.MonkeyPatch) -> HeldJobs:
    held = HeldJobs()
    monkeypatch.setattr(worker_module, "_handle", held.handle)
    return held


def worker_state(redis: ArqRedis, *, job_timeout: float, stopping: bool) -> Any:
    """What `handle_delivery` reads of a worker's state."""
    return SimpleNamespace(
        queue=queue(redis),
        settings=SimpleNamespace(job_timeout_seconds=job_timeout),
        stopping=lambda: stopping,
    )


async def cancel_a_try(held: HeldJobs, state: Any, job_try: int) -> None:
    """Run try `job_try` of delivery d1 and cancel it once it runs, as arq does."""
    ctx = {"product_review": state, "job_try": job_try}
    task = asyncio.create_task(worker_module.handle_delivery(ctx, "ping", "d1", "{}"))
    await held.running.wait()
    held.running.clear()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_tries_cut_short_by_a_stopping_worker_are_not_counted_as_attempts(
    redis: ArqRedis, held_jobs: HeldJobs
) -> None:
    # A rolling deploy stops each worker with jobs running: arq cancels and requeues
    # them, and they must not run out of attempts on the way.
    stopping = worker_state(redis, job_timeout=60, stopping=True)
    for job_try in range(1, 6):
        await cancel_a_try(held_jobs, stopping, job_try)
    assert held_jobs.seen == [(1, False)] + [(1, True)] * 4
    assert await queue(redis).stopped_tries("d1") == 5
    assert await queue(redis).stopped_tries("d2") == 0

    # arq cancels on its own timeout or an abort too: those stay attempts.
    await cancel_a_try(held_jobs, worker_state(redis, job_timeout=60, stopping=False), 6)
    assert await queue(redis).stopped_tries("d1") == 5

    # Once the job is over, a redelivery's job counts its attempts afresh.
    await queue(redis).finish_delivery("d1", returned=True)
    assert await queue(redis).stopped_tries("d1") == 0


async def test_a_try_that_ran_out_of_time_counts_as_an_attempt(
    redis: ArqRedis, held_jobs: HeldJobs
) -> None:
    state = worker_state(redis, job_timeout=0.01, stopping=False)
    for job_try in (1, 2):
        ctx = {"product_review": state, "job_try": job_try}
        with pytest.raises(Retry):
            await worker_module.handle_delivery(ctx, "ping", "d1", "{}")
    assert [attempt for attempt, _ in held_jobs.seen] == [1, 2]
    assert await queue(redis).stopped_tries("d1") == 0
