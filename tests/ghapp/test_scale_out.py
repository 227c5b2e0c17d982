"""Scaled out for real: a Redis server (Debian's `redis-server`, started by
pytest-redis's executor, with its append-only file on), two web processes
(`python -m ghapp` with REDIS_URL) and two workers (`product-review worker`),
against the fake GitHub. 200 deliveries for 20 pull requests, spread over both
web processes, each redelivered once to the other, with Redis restarted in the
middle of the run: each head gets one completed check, each pull request one
review, no question is asked twice, and nothing is lost."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_redis.executor import RedisExecutor

from ghapp.redisqueue import Keys, open_redis
from tests.ghapp.test_server_process import free_port
from tests.support.apptools import WEBHOOK_SECRET, KeyPair, sign
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

PULLS = 20
WATCHDOG_SECONDS = 120.0
DOC_TEXT = (
    "# Offline mode {n}\n\n## Problem\nField staff lose work when the network drops.\n\n"
    "## Proposal\nSync must be real-time across all devices.\n\n## Rollout\nTBD\n"
)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisExecutor]:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    # A short path: the executor's unix socket lives in it.
    datadir = Path(tmp_path_factory.mktemp("redis", numbered=True))
    server = RedisExecutor(
        executable,
        databases=1,
        redis_timeout=30,
        loglevel="notice",
        host="127.0.0.1",
        port=free_port(),
        # Durable across a restart: what the README asks of a production Redis.
        appendonly="yes",
        datadir=datadir,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    web_ports: list[int] = field(default_factory=list)
    metrics_ports: list[int] = field(default_factory=list)  # the workers'
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        with log:
            process = subprocess.Popen(
                command, cwd=self.workdir, env={**self.env, **env}, stderr=log
            )
        self.processes.append((name, process))

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n" + (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
            for name, _ in self.processes
        )

    def log_texts(self) -> list[str]:
        return [
            (self.workdir / f"{name}.log").read_text(errors="replace") for name, _ in self.processes
        ]

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + WATCHDOG_SECONDS
        async with aiohttp.ClientSession() as session:
            for port in self.web_ports:
                while True:
                    for _, process in self.processes:
                        assert process.poll() is None, self.logs()
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                            if answer.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, self.logs()
                    await asyncio.sleep(0.05)

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cluster_env(
    redis_server: RedisExecutor,
    fake_github: FakeGitHub,
    key_pair: KeyPair,
    *,
    job_timeout: int,
    lease: int = 30,
) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ID": "4242",
        "PRIVATE_KEY": key_pair.private_pem,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HOST": "127.0.0.1",
        "GITHUB_API_URL": fake_github.url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "LOG_LEVEL": "info",
        "REVIEW_WORKERS": "1",
        # A job whose worker lost it is taken again this long (plus 10 s) after it started.
        "JOB_TIMEOUT_SECONDS": str(job_timeout),
        # How long a dead worker's pull-request lock outlives it.
        "JOB_LEASE_SECONDS": str(lease),
    }


@pytest.fixture
async def cluster(
    redis_server: RedisExecutor, fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> AsyncIterator[Cluster]:
    running = Cluster(tmp_path, cluster_env(redis_server, fake_github, key_pair, job_timeout=20))
    for index in range(2):
        port = free_port()
        running.web_ports.append(port)
        running.start(f"web-{index}", [sys.executable, "-m", "ghapp"], {"PORT": str(port)})
    for index in range(2):
        port = free_port()
        running.metrics_ports.append(port)
        running.start(
            f"worker-{index}",
            [sys.executable, "-m", "localreview", "worker"],
            {"METRICS_PORT": str(port)},
        )
    try:
        await running.wait_ready()
        yield running
    finally:
        running.stop()


async def post(
    session: aiohttp.ClientSession, port: int, event: str, body: bytes, delivery: str
) -> int:
    """Deliver as GitHub does, redelivering what was not accepted (a 5xx or a
    dropped connection while Redis restarts)."""
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }
    deadline = time.monotonic() + WATCHDOG_SECONDS
    while True:
        try:
            async with session.post(
                f"http://127.0.0.1:{port}/api/github/webhooks", data=body, headers=headers
            ) as answer:
                if answer.status < 500:
                    return answer.status
        except (aiohttp.ClientError, TimeoutError):
            pass
        assert time.monotonic() < deadline, "never accepted"
        await asyncio.sleep(0.2)


def deliveries_for(
    fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> list[tuple[str, dict[str, Any]]]:
    """Five deliveries that all name the pull request's one head."""
    return [
        ("pull_request", fake.pull_request_event(repo, pull, "opened")),
        ("pull_request", fake.pull_request_event(repo, pull, "synchronize")),
        ("pull_request", fake.pull_request_event(repo, pull, "synchronize")),
        ("check_suite", fake.check_suite_event(repo, pull, "requested")),
        ("check_suite", fake.check_suite_event(repo, pull, "requested")),
    ]


async def test_two_web_processes_and_two_workers_review_each_head_once_across_a_redis_restart(
    cluster: Cluster, redis_server: RedisExecutor, fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pulls = [
        fake_github.add_pull(
            repo, number=100 + n, added={f"docs/rfcs/{n:04d}-offline.md": DOC_TEXT.format(n=n)}
        )
        for n in range(PULLS)
    ]
    sends: list[tuple[int, str, bytes, str]] = []
    ports = itertools.cycle(cluster.web_ports)
    for pull in pulls:
        for event, payload in deliveries_for(fake_github, repo, pull):
            body, delivery = json.dumps(payload).encode(), str(uuid.uuid4())
            first = next(ports)
            second = cluster.web_ports[1 - cluster.web_ports.index(first)]
            sends.append((first, event, body, delivery))
            sends.append((second, event, body, delivery))  # the redelivery
    assert len(sends) == 10 * PULLS

    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:

        async def send(batch: list[tuple[int, str, bytes, str]]) -> None:
            for port, event, body, delivery in batch:
                statuses.append(await post(session, port, event, body, delivery))
                await asyncio.sleep(0.005)

        half = len(sends) // 2
        senders = [asyncio.create_task(send(sends[i:half:4])) for i in range(4)]
        await asyncio.gather(*senders)
        # Mid-run: Redis goes down and comes back (its append-only file keeps the queue).
        redis_server.stop()
        restarting = asyncio.create_task(asyncio.to_thread(redis_server.start))
        senders = [asyncio.create_task(send(sends[half + i :: 4])) for i in range(4)]
        await asyncio.gather(restarting, *senders)

    assert len(statuses) == 10 * PULLS
    assert set(statuses) <= {200, 202}, statuses

    def settled() -> bool:
        return all(
            len(pull.reviews) >= 1
            and [run["status"] for run in runs_of(repo, pull)] == ["completed"]
            for pull in pulls
        )

    deadline = time.monotonic() + WATCHDOG_SECONDS
    while not settled():
        assert time.monotonic() < deadline, cluster.logs()
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # anything late or duplicated would arrive by now

    for pull in pulls:
        runs = runs_of(repo, pull)
        assert len(runs) == 1, (pull.number, runs)
        assert runs[0]["conclusion"] == "neutral" and "question" in runs[0]["output"]["title"]
        assert len(pull.reviews) == 1, (pull.number, len(pull.reviews))
        posted = [comment["body"] for comment in pull.review_comments]
        assert posted and len(posted) == len(set(posted)), (pull.number, posted)

    # A redelivery of a handled delivery, once its job is gone: answered as handled,
    # and the job it queued all the same is dropped by the worker that takes it.
    redis = await open_redis(f"redis://127.0.0.1:{redis_server.port}/0")
    try:
        # Not every one: a job cut off by the restart may have failed (and is retried).
        handled = [send for send in sends if await redis.exists(Keys().handled(send[3]))]
    finally:
        await redis.aclose()
    port, event, body, delivery = handled[0]
    async with aiohttp.ClientSession() as session:
        assert await post(session, port, event, body, delivery) == 200

    def dropped() -> bool:
        return any(
            f"delivery={delivery} event={event} was handled already" in text
            for text in cluster.log_texts()
        )

    deadline = time.monotonic() + WATCHDOG_SECONDS
    while not dropped():
        assert time.monotonic() < deadline, cluster.logs()
        await asyncio.sleep(0.2)
    assert [len(pull.reviews) for pull in pulls] == [1] * PULLS

    # Each worker serves its own counts: between them, every pull request's review.
    reviewed = posted_reviews = 0
    async with aiohttp.ClientSession() as session:
        for port in cluster.metrics_ports:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == 200
                assert await answer.json() == {"status": "ok", "redis": "ok"}
            async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
                assert answer.status == 200
                families = {f.name: f for f in text_string_to_metric_families(await answer.text())}
            for sample in families["product_review_reviews"].samples:
                if sample.name.endswith("_total") and sample.labels["outcome"] == "reviewed":
                    reviewed += int(sample.value)
            for sample in families["product_review_github_calls"].samples:
                if sample.name.endswith("_total") and sample.labels["endpoint"].endswith(
                    "/pulls/{pull_number}/reviews"
                ):
                    posted_reviews += int(sample.value)
    assert reviewed >= PULLS
    assert posted_reviews >= PULLS
    assert "Traceback" not in cluster.logs(), cluster.logs()


def runs_of(repo: FakeRepo, pull: FakePull) -> list[dict[str, Any]]:
    return [run for run in repo.check_runs.values() if run["head_sha"] == pull.head_sha]


async def test_a_worker_killed_mid_review_leaves_its_job_to_another_which_completes_the_check(
    redis_server: RedisExecutor, fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> None:
    running = Cluster(
        tmp_path, cluster_env(redis_server, fake_github, key_pair, job_timeout=5, lease=2)
    )
    port = free_port()
    running.web_ports.append(port)
    running.start("web", [sys.executable, "-m", "ghapp"], {"PORT": str(port)})
    running.start("worker-killed", [sys.executable, "-m", "localreview", "worker"], {})
    try:
        await running.wait_ready()
        repo = fake_github.add_repo()
        pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-offline.md": DOC_TEXT.format(n=1)})
        gate = fake_github.stall("POST", r"/reviews$")  # the review is held mid-way
        body = json.dumps(fake_github.pull_request_event(repo, pull, "opened")).encode()
        async with aiohttp.ClientSession() as session:
            assert await post(session, port, "pull_request", body, str(uuid.uuid4())) == 202
        deadline = time.monotonic() + WATCHDOG_SECONDS
        while not fake_github.calls("POST", "/reviews"):
            assert time.monotonic() < deadline, running.logs()
            await asyncio.sleep(0.05)
        (held,) = repo.check_runs.values()
        assert held["status"] == "in_progress"
        _, killed = running.processes[-1]
        killed.kill()
        killed.wait()
        gate.set()  # GitHub may still act on a request whose sender died

        running.start("worker-new", [sys.executable, "-m", "localreview", "worker"], {})
        while not (
            len(repo.check_runs) == 2
            and all(run["status"] == "completed" for run in repo.check_runs.values())
        ):
            assert time.monotonic() < deadline, running.logs()
            await asyncio.sleep(0.2)
        assert held["conclusion"] == "neutral"
        assert held["output"]["title"] == "Product review was interrupted"
        newest = repo.check_runs[max(repo.check_runs)]
        assert "question" in newest["output"]["title"]
        await asyncio.sleep(1.0)  # a duplicate would arrive by now
        assert len(pull.reviews) == 1
    finally:
        running.stop()


def test_a_worker_whose_metrics_port_is_taken_says_so_and_exits(
    redis_server: RedisExecutor, fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> None:
    env = cluster_env(redis_server, fake_github, key_pair, job_timeout=20)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = subprocess.run(
            [sys.executable, "-m", "localreview", "worker"],
            env={**env, "HOST": "127.0.0.1", "METRICS_PORT": str(port)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=WATCHDOG_SECONDS,
        )
    assert worker.returncode == 2
    said = f"product-review worker: METRICS_PORT: cannot listen on 127.0.0.1:{port}"
    assert said in worker.stderr
    assert "Traceback" not in worker.stderr
