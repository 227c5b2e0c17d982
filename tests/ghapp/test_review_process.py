"""`product-review serve` on a `STATE_DIR` is two processes: the web process
records and acknowledges, its review process reviews. Run for real (`python -m
ghapp`) against the fake GitHub: the review runs in the child, the child dies
with the web process, SIGTERM stops both, a child that dies alone is replaced
and its job is taken up, and `/metrics` shows the child's counts."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from ghapp.jobstore import DATABASE_NAME
from tests.ghapp.test_crash_process import (
    WATCHDOG_SECONDS,
    HeldReview,
    Servers,
    handled,
    hold_a_review,
    reviewed_once_more,
    servers,
    stopped_by_sigterm,
    wait_for,
)
from tests.support.fakegithub import FakeGitHub

__all__ = ["servers"]  # the fixture, shared with the crash tests


def review_process_of(web_pid: int) -> int | None:
    """The pid of the web process's review process (`python -m ghapp.reviewprocess`),
    started from its main thread."""
    try:
        children = Path(f"/proc/{web_pid}/task/{web_pid}/children").read_text().split()
    except OSError:
        return None
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ghapp.reviewprocess" in command:
            return int(pid)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def review_process_started(web_pid: int) -> int:
    await wait_for(lambda: review_process_of(web_pid) is not None)
    child = review_process_of(web_pid)
    assert child is not None
    return child


async def start_holding_a_review(
    servers: Servers, fake_github: FakeGitHub
) -> tuple[subprocess.Popen[bytes], int, HeldReview]:
    """A server started, its review process, and a review held by the fake."""
    web = await servers.start()
    child = await review_process_started(web.pid)
    return web, child, await hold_a_review(servers, fake_github)


def owners_of_running_jobs(state_dir: Path) -> list[str]:
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        running = db.execute("SELECT owner FROM deliveries WHERE state = 'running'")
        return [owner for (owner,) in running]


async def test_the_review_runs_in_the_review_process_which_dies_with_the_web_process(
    servers: Servers, fake_github: FakeGitHub
) -> None:
    web, child, held = await start_holding_a_review(servers, fake_github)
    # The job is leased to the review process, not to the web process that recorded it.
    (owner,) = owners_of_running_jobs(servers.state_dir)
    assert f"-{child}-" in owner and f"-{web.pid}-" not in owner

    web.send_signal(signal.SIGKILL)
    web.wait()
    await wait_for(lambda: not alive(child))
    held.gate.set()
    (check,) = held.repo.check_runs.values()
    assert check["status"] == "in_progress"  # nobody finished it: both died at once

    # The next start takes the job up, as after the crash of a single process.
    await servers.start()
    await reviewed_once_more(servers, held)
    assert len(held.pull.reviews) == 1


async def test_sigterm_stops_the_review_process_too(servers: Servers) -> None:
    web = await servers.start()
    child = await review_process_started(web.pid)
    await wait_for(lambda: f"review process ready pid={child}" in servers.log())
    await stopped_by_sigterm(servers, web)
    # The web process waited for it: it is gone, not orphaned.
    assert not alive(child)
    log = servers.log()
    assert f"review process stopping pid={child}" in log
    assert "Traceback" not in log, log[-3000:]


async def test_a_review_process_that_dies_alone_is_replaced_and_its_job_taken_up(
    servers: Servers, fake_github: FakeGitHub
) -> None:
    web, first_child, held = await start_holding_a_review(servers, fake_github)

    os.kill(first_child, signal.SIGKILL)  # the OOM killer, say
    held.gate.set()
    await wait_for(lambda: review_process_of(web.pid) not in (None, first_child))
    await reviewed_once_more(servers, held)
    assert len(held.pull.reviews) == 1
    assert web.poll() is None  # the web process kept answering throughout
    assert f"review process pid={first_child} exited" in servers.log()


async def test_metrics_of_the_web_process_show_the_reviews_of_its_review_process(
    servers: Servers, fake_github: FakeGitHub
) -> None:
    await servers.start()
    held = await hold_a_review(servers, fake_github)
    held.gate.set()
    await handled(servers.state_dir, held.delivery)

    async def scrape() -> str:
        async with (
            aiohttp.ClientSession() as session,
            session.get(servers.url + "/metrics") as response,
        ):
            assert response.status == 200
            return await response.text()

    deadline = time.monotonic() + WATCHDOG_SECONDS
    while 'product_review_reviews_total{outcome="reviewed"} 1.0' not in (text := await scrape()):
        assert time.monotonic() < deadline, text
        await asyncio.sleep(0.2)
    # Deliveries are counted where they were answered, once.
    assert 'product_review_deliveries_total{event="pull_request",outcome="accepted"} 1.0' in text
    assert text.count("# TYPE product_review_deliveries_total counter") == 1
    assert 'endpoint="/repos/{owner}/{repo}/pulls/{pull_number}/reviews"' in text


def _policy_after_yielding() -> tuple[int, int]:
    from ghapp.reviewprocess import yield_the_cpu_to_the_web_process

    yield_the_cpu_to_the_web_process()
    return os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling policies")
def test_a_process_that_reviews_yields_the_cpu_by_nice_never_by_sched_idle() -> None:
    # In a child of its own: the test runner keeps its priority. SCHED_IDLE is for
    # the pool alone: this process writes to the store the web process waits on.
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        policy, niceness = pool.apply(_policy_after_yielding)
    assert policy == os.SCHED_OTHER
    assert niceness >= os.getpriority(os.PRIO_PROCESS, 0) + 10 or niceness == 19


def scheduling_of(pid: int) -> tuple[int, int]:
    """(policy, nice) of a process, from /proc (field 41 is the policy)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[38]), int(fields[16])


def children_of(pid: int) -> list[int]:
    """Children started by any thread of the process (a pool starts from a thread)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend(map(int, (task / "children").read_text().split()))
    return found


def pool_workers_of(pid: int) -> list[int]:
    """The engine's workers: children of the process's multiprocessing fork server."""
    workers: list[int] = []
    for child in children_of(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"forkserver" in command:
                workers.extend(children_of(child))
        except OSError:
            continue
    return workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling policies")
async def test_the_review_process_runs_niced_and_its_pool_only_on_idle_cpu_time(
    servers: Servers, fake_github: FakeGitHub
) -> None:
    web, child, held = await start_holding_a_review(servers, fake_github)
    try:
        assert scheduling_of(web.pid) == (os.SCHED_OTHER, os.getpriority(os.PRIO_PROCESS, 0))
        policy, niceness = scheduling_of(child)
        assert policy == os.SCHED_OTHER and niceness >= 10
        await wait_for(lambda: bool(pool_workers_of(child)))
        workers = pool_workers_of(child)
        assert {scheduling_of(pid)[0] for pid in workers} == {os.SCHED_IDLE}
    finally:
        held.gate.set()
