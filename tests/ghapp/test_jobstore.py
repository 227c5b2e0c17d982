"""The durable delivery store: admission, leases, take-up after a process died,
redeliveries recognised across restarts, rows forgotten after their time."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ghapp.jobstore import (
    DATABASE_NAME,
    FAILED_TTL_SECONDS,
    HANDLED_TTL_SECONDS,
    Admission,
    JobState,
    SqliteJobStore,
)
from ghapp.server import state_dir_problem


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteJobStore]:
    opened = SqliteJobStore(tmp_path, lease_seconds=30, clock=clock)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def web_store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteJobStore]:
    """A web process's store on the same folder as `store`."""
    opened = await other_store(tmp_path, clock, waits_on_loop=True)
    yield opened
    await opened.close()


async def other_store(
    tmp_path: Path, clock: Clock, *, waits_on_loop: bool = False
) -> SqliteJobStore:
    opened = SqliteJobStore(tmp_path, lease_seconds=30, clock=clock, waits_on_loop=waits_on_loop)
    await opened.open()
    return opened


async def test_a_delivery_is_admitted_once_then_known_as_in_flight_or_handled(
    store: SqliteJobStore,
) -> None:
    assert await store.admit("d1", "pull_request", b"{}") is Admission.NEW
    assert await store.admit("d1", "pull_request", b"{}") is Admission.IN_FLIGHT
    await store.finish("d1", handled=True)
    assert await store.admit("d1", "pull_request", b"{}") is Admission.HANDLED
    assert await store.failed_before("d1") is False


async def test_a_failed_delivery_is_taken_again_and_known_to_have_failed(
    store: SqliteJobStore,
) -> None:
    await store.admit("d1", "pull_request", b"{}")
    await store.finish("d1", handled=False, reason="did not complete")
    assert await store.failed_before("d1") is False  # its first attempt
    assert await store.admit("d1", "pull_request", b'{"a": 1}') is Admission.REDELIVERED
    assert await store.failed_before("d1") is True
    assert await store.state_of("d1") is JobState.RUNNING


async def test_a_restarted_process_takes_up_the_jobs_of_the_one_that_died_at_once(
    tmp_path: Path, clock: Clock
) -> None:
    dead = await other_store(tmp_path, clock)
    await dead.admit("d1", "pull_request", b'{"n": 1}')
    await dead.note_check_run("d1", 5, url="https://api/check-runs/9", check_run_id=9)
    alive = await other_store(tmp_path, clock)
    try:
        # Its owner still holds its lock: the lease is valid, nothing to take.
        assert await alive.claim(10) == []
        await dead.close()  # what the kernel does when the process is killed
        (job,) = await alive.claim(10)
        assert (job.delivery_id, job.event, job.payload) == ("d1", "pull_request", b'{"n": 1}')
        assert job.attempts == 2 and job.ran_before
        assert [
            (c.url, c.check_run_id, c.installation_id) for c in await alive.open_check_runs("d1")
        ] == [("https://api/check-runs/9", 9, 5)]
        assert await alive.failed_before("d1") is True
        assert await alive.claim(10) == []  # now leased to `alive`
    finally:
        await alive.close()


async def test_an_expired_lease_is_taken_even_when_its_owner_lives(
    tmp_path: Path, clock: Clock
) -> None:
    stuck = await other_store(tmp_path, clock)  # alive, but no longer beating
    other = await other_store(tmp_path, clock)
    try:
        await stuck.admit("d1", "pull_request", b"{}")
        clock.now += 29
        assert await other.claim(10) == []
        clock.now += 2
        assert [job.delivery_id for job in await other.claim(10)] == ["d1"]
    finally:
        await stuck.close()
        await other.close()


async def test_the_heartbeat_keeps_a_long_job_leased(tmp_path: Path, clock: Clock) -> None:
    runner = await other_store(tmp_path, clock)
    other = await other_store(tmp_path, clock)
    try:
        await runner.admit("d1", "pull_request", b"{}")
        for _ in range(10):
            clock.now += 20
            assert await runner.heartbeat() == 1
            assert await other.claim(10) == []
    finally:
        await runner.close()
        await other.close()


async def test_a_released_job_is_queued_for_the_next_process_without_using_an_attempt(
    tmp_path: Path, clock: Clock
) -> None:
    first = await other_store(tmp_path, clock)
    await first.admit("d1", "check_suite", b"{}")
    await first.note_check_run("d1", 5, url="u", check_run_id=1)
    await first.release("d1")
    assert await first.state_of("d1") is JobState.QUEUED
    await first.close()
    second = await other_store(tmp_path, clock)
    try:
        (job,) = await second.claim(10)
        # What the cancelled attempt may have posted counts; its check stays on
        # record until someone is known to have completed it.
        assert job.attempts == 1 and job.ran_before
        assert [c.url for c in await second.open_check_runs("d1")] == ["u"]
    finally:
        await second.close()


async def test_a_check_run_stays_on_record_until_completed_even_after_its_job_ended(
    store: SqliteJobStore,
) -> None:
    await store.admit("d1", "pull_request", b"{}")
    await store.note_check_run("d1", 5, url="u1", check_run_id=1)
    await store.note_check_run("d1", 5, url="u2", check_run_id=2)
    assert await store.orphaned_check_runs() == []  # its job still runs
    await store.forget_check_run("u1")  # the review completed this one
    await store.finish("d1", handled=False, reason="GitHub refused the completion")
    assert [(d, c.url) for d, c in await store.orphaned_check_runs()] == [("d1", "u2")]


async def test_a_job_taken_over_is_not_ended_by_the_process_that_lost_it(
    tmp_path: Path, clock: Clock
) -> None:
    slow = await other_store(tmp_path, clock)
    fast = await other_store(tmp_path, clock)
    try:
        await slow.admit("d1", "pull_request", b"{}")
        clock.now += 31  # slow stopped beating; fast takes the job over
        assert [job.delivery_id for job in await fast.claim(10)] == ["d1"]
        await slow.finish("d1", handled=False)
        assert await fast.state_of("d1") is JobState.RUNNING
        await fast.finish("d1", handled=True)
        assert await fast.state_of("d1") is JobState.HANDLED
    finally:
        await slow.close()
        await fast.close()


async def test_finished_rows_are_forgotten_after_their_time(
    store: SqliteJobStore, clock: Clock
) -> None:
    await store.admit("handled", "pull_request", b"{}")
    await store.finish("handled", handled=True)
    await store.admit("failed", "pull_request", b"{}")
    await store.finish("failed", handled=False)
    clock.now += HANDLED_TTL_SECONDS + 1
    await store.heartbeat()
    assert await store.state_of("handled") is None
    assert await store.state_of("failed") is JobState.FAILED
    clock.now += FAILED_TTL_SECONDS
    await store.heartbeat()
    assert await store.state_of("failed") is None


async def test_the_backlog_counts_unfinished_jobs_and_the_oldest_age(
    store: SqliteJobStore, clock: Clock
) -> None:
    await store.admit("a", "pull_request", b"{}")
    clock.now += 5
    await store.admit("b", "pull_request", b"{}")
    await store.finish("b", handled=True)
    clock.now += 1
    backlog = await store.backlog()
    assert (backlog.depth, backlog.oldest_age_seconds) == (1, 6.0)


async def test_state_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    first = await other_store(tmp_path, clock)
    await first.admit("d1", "pull_request", b"{}")
    await first.finish("d1", handled=True)
    await first.close()
    second = await other_store(tmp_path, clock)
    try:
        assert await second.admit("d1", "pull_request", b"{}") is Admission.HANDLED
    finally:
        await second.close()


def test_replicas_sharing_a_state_dir_all_pass_its_start_up_check(tmp_path: Path) -> None:
    # Web replicas started together on one volume must not trip on each other's probe.
    state_dir = tmp_path / "shared" / ".product-review"
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(lambda _: state_dir_problem(state_dir), range(400)))
    assert problems == [None] * 400
    assert list(state_dir.iterdir()) == []


def test_an_unwritable_state_dir_is_refused_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    problem = state_dir_problem(blocker / "state")
    assert problem is not None
    assert problem.startswith(f"STATE_DIR: cannot write {blocker / 'state'}: ")


async def test_a_delivery_queued_by_a_web_process_is_claimed_fresh_once_by_another(
    web_store: SqliteJobStore, store: SqliteJobStore
) -> None:
    web, reviews = web_store, store
    assert await web.admit("d1", "pull_request", b"{}", queued=True) is Admission.NEW
    assert await web.state_of("d1") is JobState.QUEUED
    # A redelivery while it waits is a duplicate, whichever process asks.
    assert await web.admit("d1", "pull_request", b"{}", queued=True) is Admission.IN_FLIGHT
    (job,) = await reviews.claim(10)
    assert (job.delivery_id, job.attempts, job.fresh, job.ran_before) == ("d1", 1, True, False)
    assert await reviews.claim(10) == []
    # Put back by a shutdown, it is taken up as such, not started afresh.
    await reviews.release("d1")
    (again,) = await reviews.claim(10)
    assert not again.fresh and again.ran_before
    await reviews.finish("d1", handled=False, reason="did not complete")
    # GitHub's redelivery of the failed one: queued afresh, known to have failed.
    assert await web.admit("d1", "pull_request", b"{}", queued=True) is Admission.REDELIVERED
    (redelivered,) = await reviews.claim(10)
    assert redelivered.fresh and redelivered.failed_before


async def test_a_web_process_records_while_another_process_holds_the_write_lock(
    web_store: SqliteJobStore, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        admitting = asyncio.create_task(web_store.admit("d1", "pull_request", b"{}", queued=True))
        await asyncio.sleep(0.05)
        # It waits on the event loop (which runs this test meanwhile), not in SQLite.
        assert not admitting.done()
        holder.execute("COMMIT")
        assert await admitting is Admission.NEW
    finally:
        holder.close()


async def test_jobs_that_end_in_the_same_turn_are_written_in_one_transaction(
    store: SqliteJobStore,
) -> None:
    # Each write takes the lock the web process waits for before it acknowledges.
    ids = [f"d{n}" for n in range(5)]
    for delivery_id in ids:
        await store.admit(delivery_id, "issue_comment", b"{}")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    await asyncio.gather(
        *(store.finish(d, handled=True) for d in ids[:4]), store.abandon("d4", "gave up")
    )
    store._db.set_trace_callback(None)
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert [await store.state_of(d) for d in ids] == [JobState.HANDLED] * 4 + [JobState.ABANDONED]


async def test_an_ending_is_written_even_when_the_job_waiting_for_it_is_cancelled(
    store: SqliteJobStore,
) -> None:
    await store.admit("d1", "issue_comment", b"{}")
    await store.admit("d2", "issue_comment", b"{}")
    first = asyncio.create_task(store.finish("d1", handled=True))
    second = asyncio.create_task(store.finish("d2", handled=False))
    await asyncio.sleep(0)  # both have asked for the write, which has not run yet
    first.cancel()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await store.state_of("d1") is JobState.HANDLED
    assert await store.state_of("d2") is JobState.FAILED


async def test_every_job_waiting_for_a_failed_write_of_endings_gets_its_error(
    tmp_path: Path, clock: Clock
) -> None:
    closed = await other_store(tmp_path, clock)
    await closed.admit("d1", "issue_comment", b"{}")
    await closed.admit("d2", "issue_comment", b"{}")
    await closed.close()
    results = await asyncio.gather(
        closed.finish("d1", handled=True), closed.finish("d2", handled=True), return_exceptions=True
    )
    assert [type(result) for result in results] == [RuntimeError, RuntimeError]
    reopened = await other_store(tmp_path, clock)
    try:
        assert await reopened.state_of("d1") is JobState.RUNNING
    finally:
        await reopened.close()


async def test_ends_asked_for_just_before_closing_are_written_first(
    tmp_path: Path, clock: Clock
) -> None:
    # A shutdown closes the store in the same turn as the last jobs end.
    closing = await other_store(tmp_path, clock)
    await closing.admit("d1", "issue_comment", b"{}")
    ending = asyncio.create_task(closing.finish("d1", handled=True))
    await asyncio.sleep(0)  # the end is asked for; its write waits for the next turn
    await closing.close()
    await ending
    reopened = await other_store(tmp_path, clock)
    try:
        assert await reopened.state_of("d1") is JobState.HANDLED
    finally:
        await reopened.close()
