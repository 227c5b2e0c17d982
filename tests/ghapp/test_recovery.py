"""The durable queue in the app: a job a dead process left is taken up when the
app starts, its check completed and the review done again; a job cut short by a
shutdown is taken up by the next app; a job that kept killing its process is
given up with its check completed. No check is left in progress."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ghapp.jobstore import DATABASE_NAME, MAX_ATTEMPTS, JobState, SqliteJobStore
from ghapp.settings import ServerSettings
from tests.ghapp.test_metrics import scrape, value
from tests.support.apptools import deliver, settled, wait_until
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = "# Offline mode\n\n## Problem\nField staff lose work offline.\n\n## Rollout\nTBD\n"


def in_progress_check(fake: FakeGitHub, repo: FakeRepo, pull: FakePull, delivery: str) -> int:
    """A check run as an earlier attempt left it: created, never completed."""
    run_id = 900 + len(repo.check_runs)
    repo.check_runs[run_id] = {
        "id": run_id,
        "url": f"{fake.url}/repos/{repo.full_name}/check-runs/{run_id}",
        "name": "Product review",
        "head_sha": pull.head_sha,
        "status": "in_progress",
        "conclusion": None,
        "external_id": delivery,
        "output": {"annotations": []},
        "actions": [],
        "updates": 0,
    }
    return run_id


async def left_by_a_dead_process(
    state_dir: Path, fake: FakeGitHub, repo: FakeRepo, pull: FakePull, delivery: str
) -> int:
    """Record the delivery as a process that then died would have: admitted, a
    check created in progress, never finished. Returns the check's id."""
    store = SqliteJobStore(state_dir)
    await store.open()
    payload = json.dumps(fake.pull_request_event(repo, pull, "opened")).encode()
    await store.admit(delivery, "pull_request", payload)
    run_id = in_progress_check(fake, repo, pull, delivery)
    await store.note_check_run(delivery, 1, url=repo.check_runs[run_id]["url"], check_run_id=run_id)
    await store.close()  # its lock goes, as when the kernel reaps a killed process
    return run_id


async def job_state(state_dir: Path, delivery: str) -> JobState | None:
    store = SqliteJobStore(state_dir)
    await store.open()
    try:
        return await store.state_of(delivery)
    finally:
        await store.close()


async def test_a_job_left_by_a_dead_process_is_reviewed_again_when_the_app_starts(
    make_client: Any, fake_github: FakeGitHub, server_settings: ServerSettings
) -> None:
    assert server_settings.state_dir is not None
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    old_id = await left_by_a_dead_process(
        server_settings.state_dir, fake_github, repo, pull, "d-crashed"
    )

    client = await make_client()
    await wait_until(lambda: len(repo.check_runs) == 2)
    await settled(client)

    old = repo.check_runs[old_id]
    assert (old["status"], old["conclusion"]) == ("completed", "neutral")
    assert old["output"]["title"] == "Product review was interrupted"
    assert "running again" in old["output"]["summary"]
    (new,) = [run for run_id, run in repo.check_runs.items() if run_id != old_id]
    assert new["status"] == "completed" and new["head_sha"] == pull.head_sha
    assert "question" in new["output"]["title"]
    assert len(pull.reviews) == 1
    # A taken-up job is a redelivery: the review read what earlier attempts posted.
    assert fake_github.calls("POST", "/graphql")
    assert all(run["status"] == "completed" for run in repo.check_runs.values())
    samples = await scrape(client)
    assert value(samples, "product_review_jobs_recovered_total") == 1.0
    assert value(samples, "product_review_queue_depth") == 0.0
    await client.close()
    assert await job_state(server_settings.state_dir, "d-crashed") is JobState.HANDLED


async def test_a_job_that_kept_killing_its_process_is_given_up_with_its_check_completed(
    make_client: Any, fake_github: FakeGitHub, server_settings: ServerSettings
) -> None:
    assert server_settings.state_dir is not None
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    old_id = await left_by_a_dead_process(
        server_settings.state_dir, fake_github, repo, pull, "d-poison"
    )
    with sqlite3.connect(server_settings.state_dir / DATABASE_NAME) as db:
        db.execute("UPDATE deliveries SET attempts = ? WHERE id = 'd-poison'", (MAX_ATTEMPTS,))

    client = await make_client()
    await wait_until(lambda: repo.check_runs[old_id]["status"] == "completed")
    await settled(client)
    old = repo.check_runs[old_id]
    assert old["conclusion"] == "neutral"
    assert "not tried again" in old["output"]["summary"]
    assert len(repo.check_runs) == 1 and pull.reviews == []
    await client.close()
    assert await job_state(server_settings.state_dir, "d-poison") is JobState.ABANDONED


async def test_a_job_cut_short_by_a_shutdown_is_done_by_the_next_app_and_posted_once(
    make_client: Any, fake_github: FakeGitHub, server_settings: ServerSettings
) -> None:
    assert server_settings.state_dir is not None
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    first = await make_client(drain_seconds=0.2)
    gate = fake_github.stall("POST", r"/reviews$")
    await deliver(
        first,
        "pull_request",
        fake_github.pull_request_event(repo, pull, "opened"),
        delivery_id="d-cut",
        settle=False,
    )
    await wait_until(lambda: bool(fake_github.calls("POST", "/reviews")))
    await first.close()  # the drain bound cancels the review
    assert await job_state(server_settings.state_dir, "d-cut") is JobState.QUEUED
    (cut,) = repo.check_runs.values()
    assert cut["status"] == "completed"
    gate.set()

    second = await make_client()
    await wait_until(lambda: len(repo.check_runs) == 2)
    await settled(second)
    assert all(run["status"] == "completed" for run in repo.check_runs.values())
    newest = repo.check_runs[max(repo.check_runs)]
    assert "question" in newest["output"]["title"]
    # However the held request ended, the questions are on the pull request once.
    bodies = [review["body"] for review in pull.reviews]
    assert len(bodies) == 1, bodies
    await second.close()
    assert await job_state(server_settings.state_dir, "d-cut") is JobState.HANDLED


async def test_a_check_its_review_could_not_complete_is_completed_at_the_next_beat(
    make_client: Any, fake_github: FakeGitHub, server_settings: ServerSettings
) -> None:
    assert server_settings.state_dir is not None
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    # A job that ended (failed) while its check was still on record: GitHub refused
    # the completion, say. The delivery itself is not taken up again.
    store = SqliteJobStore(server_settings.state_dir)
    await store.open()
    await store.admit("d-ended", "pull_request", b"{}")
    run_id = in_progress_check(fake_github, repo, pull, "d-ended")
    await store.note_check_run(
        "d-ended", 1, url=repo.check_runs[run_id]["url"], check_run_id=run_id
    )
    await store.finish("d-ended", handled=False, reason="did not complete")
    await store.close()

    client = await make_client()
    await wait_until(lambda: repo.check_runs[run_id]["status"] == "completed")
    await settled(client)
    left = repo.check_runs[run_id]
    assert left["conclusion"] == "neutral"
    assert "could not complete" in left["output"]["title"]
    assert len(repo.check_runs) == 1 and pull.reviews == []  # nothing reviewed again
    await client.close()
    reopened = SqliteJobStore(server_settings.state_dir)
    await reopened.open()
    try:
        assert await reopened.orphaned_check_runs() == []
    finally:
        await reopened.close()
