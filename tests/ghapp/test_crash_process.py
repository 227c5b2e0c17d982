"""The real server process (`python -m ghapp`) against the fake GitHub, killed and
stopped in the middle of a review: after a restart on the same `STATE_DIR` the
review is done, exactly one review is on the pull request, and every check run
is completed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ghapp.jobstore import JobState, SqliteJobStore
from ghapp.server import DEFAULT_DRAIN_SECONDS
from tests.ghapp.test_server_process import free_port
from tests.support.apptools import WEBHOOK_SECRET, KeyPair, sign, wait_until
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = (
    "# Offline mode\n\n## Problem\nField staff lose work when the network drops.\n\n"
    "## Proposal\nSync must be real-time across all devices.\n\n## Rollout\nTBD\n"
)
# Docker's default grace between SIGTERM and SIGKILL.
STOP_TIMEOUT_SECONDS = 10.0
WATCHDOG_SECONDS = 60.0


@dataclass
class Servers:
    """Starts `python -m ghapp` processes sharing one working directory (and so one
    STATE_DIR), each after the previous one stopped."""

    workdir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_dir(self) -> Path:
        return self.workdir / ".product-review"

    def log(self, index: int = -1) -> str:
        return (self.workdir / f"server-{index % len(self.processes)}.log").read_text(
            errors="replace"
        )

    async def start(self) -> subprocess.Popen[bytes]:
        self.port = free_port()
        log_path = self.workdir / f"server-{len(self.processes)}.log"
        with log_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "ghapp"],
                cwd=self.workdir,
                env={**self.env, "PORT": str(self.port)},
                stderr=stderr,
            )
        self.processes.append(process)
        deadline = time.monotonic() + WATCHDOG_SECONDS
        async with aiohttp.ClientSession() as session:
            while True:
                assert process.poll() is None, self.log()
                try:
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return process
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                await asyncio.sleep(0.05)

    async def deliver(self, event: str, payload: dict[str, Any], delivery_id: str) -> int:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": sign(body),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url + "/api/github/webhooks", data=body, headers=headers) as response,
        ):
            return response.status

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def servers(key_pair: KeyPair, fake_github: FakeGitHub, tmp_path: Path) -> Iterator[Servers]:
    env = {
        **os.environ,
        "APP_ID": "4242",
        "PRIVATE_KEY": key_pair.private_pem,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HOST": "127.0.0.1",
        "GITHUB_API_URL": fake_github.url,
        "LOG_LEVEL": "info",
        "REVIEW_WORKERS": "1",
    }
    running = Servers(tmp_path, env)
    yield running
    running.stop_all()


async def wait_for(condition: Callable[[], bool]) -> None:
    await wait_until(condition, timeout=WATCHDOG_SECONDS)


async def stored_state(state_dir: Path, delivery_id: str) -> JobState | None:
    store = SqliteJobStore(state_dir)
    await store.open()
    try:
        return await store.state_of(delivery_id)
    finally:
        await store.close()


async def handled(state_dir: Path, delivery_id: str) -> None:
    """Wait until the delivery's job is done (its process marks it handled last)."""
    deadline = time.monotonic() + WATCHDOG_SECONDS
    while await stored_state(state_dir, delivery_id) is not JobState.HANDLED:
        assert time.monotonic() < deadline, "the job was not handled"
        await asyncio.sleep(0.1)


async def stopped_by_sigterm(servers: Servers, process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, then the seconds it took to exit (within the stop timeout, cleanly)."""
    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    while process.poll() is None:
        assert time.monotonic() - stopping < STOP_TIMEOUT_SECONDS, "did not stop in time"
        await asyncio.sleep(0.05)
    assert process.returncode == 0, servers.log()
    return time.monotonic() - stopping


@dataclass(frozen=True)
class HeldReview:
    repo: FakeRepo
    pull: FakePull
    delivery: str
    gate: asyncio.Event  # set: the held request goes on


async def hold_a_review(
    servers: Servers,
    fake_github: FakeGitHub,
    method: str = "POST",
    held_request: str = r"/reviews$",
    held_path: str = "/reviews",
) -> HeldReview:
    """A pull request opened on the running server, whose review is held at its
    first request matching `method` and `held_request`."""
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    gate = fake_github.stall(method, held_request)
    delivery = str(uuid.uuid4())
    status = await servers.deliver(
        "pull_request", fake_github.pull_request_event(repo, pull, "opened"), delivery
    )
    assert status == 202
    await wait_for(lambda: bool(fake_github.calls(method, held_path)))
    return HeldReview(repo, pull, delivery, gate)


async def reviewed_once_more(servers: Servers, held: HeldReview) -> None:
    """Wait until the held review's job was done again: two check runs, both
    completed, the job handled."""
    await wait_for(
        lambda: (
            len(held.repo.check_runs) == 2
            and all(run["status"] == "completed" for run in held.repo.check_runs.values())
        )
    )
    await handled(servers.state_dir, held.delivery)


@pytest.mark.parametrize(
    ("method", "held_request", "held_path"),
    [
        # Killed while posting the review: nothing of it reached the pull request.
        ("POST", r"/reviews$", "/reviews"),
        # Killed after the review was posted, while completing the check: the
        # review done again finds its questions asked (fingerprints), posts none.
        ("PATCH", r"/check-runs/\d+$", "/check-runs/"),
    ],
    ids=["posting-the-review", "review-posted"],
)
async def test_killed_mid_review_then_restarted_the_check_completes_and_one_review_is_posted(
    servers: Servers, fake_github: FakeGitHub, method: str, held_request: str, held_path: str
) -> None:
    first = await servers.start()
    # The review is held mid-way.
    review = await hold_a_review(servers, fake_github, method, held_request, held_path)
    repo, pull, delivery, gate = review.repo, review.pull, review.delivery, review.gate
    (held,) = repo.check_runs.values()
    assert held["status"] == "in_progress"
    posted_before_the_crash = len(pull.reviews)
    assert posted_before_the_crash == (1 if method == "PATCH" else 0)

    first.send_signal(signal.SIGKILL)
    first.wait()
    gate.set()
    await asyncio.sleep(0.1)

    await servers.start()
    await reviewed_once_more(servers, review)
    assert held["conclusion"] == "neutral"
    assert held["output"]["title"] == "Product review was interrupted"
    newest = repo.check_runs[max(repo.check_runs)]
    assert newest["head_sha"] == pull.head_sha
    assert "question" in newest["output"]["title"]
    assert len(pull.reviews) == 1, [review["body"][:80] for review in pull.reviews]
    # The same delivery again is recognised across the restart.
    assert (
        await servers.deliver(
            "pull_request", fake_github.pull_request_event(repo, pull, "opened"), delivery
        )
        == 200
    )
    assert await stored_state(servers.state_dir, delivery) is JobState.HANDLED
    assert "Traceback" not in servers.log(), servers.log()[-3000:]


async def test_sigterm_drains_within_the_stop_timeout_and_the_next_start_finishes_the_job(
    servers: Servers, fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    first = await servers.start()
    gate = fake_github.stall("POST", r"/reviews$")
    delivery = str(uuid.uuid4())
    await servers.deliver(
        "pull_request", fake_github.pull_request_event(repo, pull, "opened"), delivery
    )
    await wait_for(lambda: bool(fake_github.calls("POST", "/reviews")))

    took = await stopped_by_sigterm(servers, first)
    # It waited for the review (the drain), then cut it short and said so on the check.
    assert took >= DEFAULT_DRAIN_SECONDS * 0.9
    (cut,) = repo.check_runs.values()
    assert cut["status"] == "completed"
    assert await stored_state(servers.state_dir, delivery) is JobState.QUEUED
    gate.set()

    await servers.start()
    await wait_for(
        lambda: (
            len(repo.check_runs) == 2
            and all(run["status"] == "completed" for run in repo.check_runs.values())
        )
    )
    newest = repo.check_runs[max(repo.check_runs)]
    assert "question" in newest["output"]["title"]
    await handled(servers.state_dir, delivery)
    assert len(pull.reviews) == 1
