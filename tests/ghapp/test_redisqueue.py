"""The Redis queue's shared state, against a real redis-server: deliveries queued
once and remembered, heads claimed by one process of many, installation tokens
minted once for all of them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from pytest_redis.executor import RedisExecutor

from ghapp.auth import InstallationToken
from ghapp.pulls import PullRequestRef, PullState
from ghapp.queue import DeliveryState
from ghapp.redisqueue import Keys, RedisInstallationTokens, RedisReviewQueue, open_redis
from ghapp.review import Reviewer, ReviewRequest
from tests.ghapp.test_server_process import free_port


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
