"""The budget per document on the App's side: a document over the size cap, one
that runs past the time limit and one that exhausts the memory limit are each
reported in the check with their reason, the other documents are still reviewed
and their questions posted, the check completes, and the server keeps answering
while a document runs long. The engines below run in the worker processes, so
they are module-level functions (a worker imports them by name)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from checks.config import DEFAULT_SETTINGS
from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp.checkrun import render_check
from ghapp.github import _RESPONSE_LIMIT as RESPONSE_LIMIT
from ghapp.github import GitHubApp, InstallationClient, ResponseTooLarge
from ghapp.settings import SettingsError, load_server_settings
from localreview.budget import (
    REVIEW_NICENESS,
    Budget,
    Limit,
    NotReviewed,
    PoolRunner,
    WorkerPool,
)
from tests.support.apptools import deliver, outcomes, settled, wait_until
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub

NORMAL = "docs/rfcs/0001-normal.md"
NORMAL_TEXT = "# Normal\n\nThe rollout plan is TBD\n"
ALLOCATE = "ALLOCATE-UNTIL-STOPPED"
SPIN = "SPIN-UNTIL-STOPPED"
# Far above what a review needs, far below what a bomb asks for.
MEMORY_MB = 64
TIMEOUT_SECONDS = 3.0


def budget_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    """The stub engine, except for the two documents that blow a budget."""
    if ALLOCATE in text:
        # 4 GB in 16 MB steps: fine on this machine without a limit, so only the
        # memory limit can stop it.
        held = [bytearray(16 * 1024 * 1024) for _ in range(256)]
        raise AssertionError(f"allocated {len(held)} blocks: no memory limit applied")
    if SPIN in text:
        marker = text.split(SPIN, 1)[1].split()[0]
        Path(marker).write_text("started")
        # Catastrophic backtracking: every match holds the GIL for a long while,
        # as a slow regex in the engine would; only the time limit stops it.
        while True:
            re.match(r"(a+)+$", "a" * 24 + "b")
    return stub_engine(text, path, options)


async def _app(make_client: Any, drain_seconds: float = 8.0, **budget: Any) -> TestClient[Any, Any]:
    limits = {"memory_mb": MEMORY_MB, "timeout_seconds": TIMEOUT_SECONDS, **budget}
    client: TestClient[Any, Any] = await make_client(
        engine=budget_engine,
        engine_in_pool=True,
        budget=Budget(**limits),
        drain_seconds=drain_seconds,
    )
    return client


def _posted_text(pull: Any) -> str:
    return "\n".join(
        [review["body"] for review in pull.reviews]
        + [comment["body"] for comment in pull.review_comments]
    )


async def test_documents_over_the_size_and_memory_limits_are_reported_and_the_rest_reviewed(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await _app(make_client, max_document_kb=4)
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(
        repo,
        added={
            NORMAL: NORMAL_TEXT,
            "docs/rfcs/0002-large.md": "# Large\n\n" + "A long paragraph. " * 400,
            "docs/rfcs/0003-bomb.md": f"# Bomb\n\n{ALLOCATE}\n",
        },
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    summary = run["output"]["summary"]
    assert "2 documents not reviewed" in summary
    assert "`docs/rfcs/0002-large.md`: larger than 4 KB" in summary
    assert f"`docs/rfcs/0003-bomb.md`: needed more than {MEMORY_MB} MB" in summary
    assert "Not reviewed: larger than 4 KB." in run["output"]["text"]
    assert "2 documents not reviewed" in run["output"]["title"]
    # The normal document was reviewed and its question posted.
    assert "`docs/rfcs/0001-normal.md`" in summary
    assert "What should replace the placeholder" in _posted_text(pull)
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_a_slow_document_is_stopped_while_the_server_keeps_answering(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await _app(make_client)
    repo = fake_github.add_repo()
    with tempfile.TemporaryDirectory() as folder:
        marker = Path(folder) / "started"
        pull = fake_github.add_pull(
            repo,
            added={NORMAL: NORMAL_TEXT, "docs/rfcs/0002-slow.md": f"# Slow\n\n{SPIN} {marker}\n"},
        )
        await deliver(
            client,
            "pull_request",
            fake_github.pull_request_event(repo, pull, "opened"),
            settle=False,
        )
        await wait_until(marker.exists)
        # The engine is spinning on the slow document right now: the event loop
        # still answers.
        health = await client.get("/healthz")
        assert health.status == 200
        assert (await health.json())["reviews_in_flight"] == 1
        await asyncio.wait_for(settled(client), timeout=60)

    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert (
        f"`docs/rfcs/0002-slow.md`: took longer than {TIMEOUT_SECONDS:g} s"
        in (run["output"]["summary"])
    )
    assert "What should replace the placeholder" in _posted_text(pull)


async def test_shutdown_stops_a_document_still_running(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    # A time limit the shutdown will not wait for: the drain cancels the review.
    client = await _app(make_client, drain_seconds=0.2, timeout_seconds=600)
    repo = fake_github.add_repo()
    with tempfile.TemporaryDirectory() as folder:
        marker = Path(folder) / "started"
        pull = fake_github.add_pull(repo, added={"docs/rfcs/0002-slow.md": f"{SPIN} {marker}\n"})
        await deliver(
            client,
            "pull_request",
            fake_github.pull_request_event(repo, pull, "opened"),
            settle=False,
        )
        await wait_until(marker.exists)
        await asyncio.wait_for(client.close(), timeout=60)
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["output"]["title"] == "Product review could not complete"
    assert "shut down" in run["output"]["summary"]


async def test_an_injected_engine_still_gets_the_size_cap(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await make_client(engine=lambda *args: stub_engine(*args), budget=Budget(1))
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(
        repo, added={NORMAL: NORMAL_TEXT, "docs/rfcs/0002-large.md": "x" * 2048}
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert "`docs/rfcs/0002-large.md`: larger than 1 KB" in run["output"]["summary"]
    assert "What should replace the placeholder" in _posted_text(pull)


async def test_render_and_plan_jobs_carry_settings_across_processes() -> None:
    # Settings hold read-only mapping proxies, which pickle only through the
    # reducer localreview.budget registers; a render job in a worker proves it works.
    runner = PoolRunner(WorkerPool(Budget(), workers=1))
    try:
        report = stub_engine(NORMAL_TEXT, NORMAL, DEFAULT_SETTINGS.options_for(NORMAL))
        in_worker = await runner.run(render_check, [report], settings=DEFAULT_SETTINGS)
    finally:
        await runner.close()
    assert in_worker == render_check([report], settings=DEFAULT_SETTINGS)


def test_the_check_says_when_no_document_could_be_reviewed() -> None:
    output = render_check(
        [],
        settings=DEFAULT_SETTINGS,
        not_reviewed=[NotReviewed("docs/rfcs/a.md", Limit.TIME, "took long")],
    )
    assert output.conclusion == "neutral"
    assert output.title == "1 document not reviewed"
    assert "No changed design document could be reviewed." in output.summary
    assert "`docs/rfcs/a.md`: took long" in output.summary


# --- settings -----------------------------------------------------------------------


def _env(**values: str) -> dict[str, str]:
    return {"APP_ID": "1", "WEBHOOK_SECRET": "s", **values}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_DOCUMENT_KB", "0"),
        ("MAX_DOCUMENT_KB", "1.5"),
        ("MAX_DOCUMENT_KB", "²"),
        ("DOCUMENT_TIMEOUT_SECONDS", "0"),
        ("DOCUMENT_TIMEOUT_SECONDS", "nan"),
        ("DOCUMENT_TIMEOUT_SECONDS", "soon"),
        ("DOCUMENT_MEMORY_MB", "-5"),
        ("REVIEW_WORKERS", "100000"),
    ],
)
def test_a_malformed_budget_setting_is_one_problem_line(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_server_settings(_env(**{name: value}))
    lines = [problem for problem in error.value.problems if problem.startswith(f"{name}:")]
    assert len(lines) == 1
    assert repr(value) in lines[0]


def test_budget_settings_are_read_from_the_environment(key_pair: Any) -> None:
    settings = load_server_settings(
        _env(
            PRIVATE_KEY=key_pair.private_pem,
            MAX_DOCUMENT_KB="2048",
            DOCUMENT_TIMEOUT_SECONDS="2.5",
            DOCUMENT_MEMORY_MB="256",
            REVIEW_WORKERS="3",
        )
    )
    assert settings.budget == Budget(max_document_kb=2048, timeout_seconds=2.5, memory_mb=256)
    assert settings.review_workers == 3


async def test_the_pool_recovers_when_an_idle_worker_is_killed() -> None:
    # pebble gives up on a pool whose idle worker dies (the OOM killer, an operator's
    # kill); the server must go on reviewing all the same.
    runner = PoolRunner(WorkerPool(Budget(), workers=1))
    try:
        await runner.warm_up()
        first = await runner.run(os.getpid)
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.5)  # pebble notices the death and marks its pool broken
        second = await runner.run(os.getpid)
        report = await runner.review(
            stub_engine, NORMAL_TEXT, NORMAL, DEFAULT_SETTINGS.options_for(NORMAL)
        )
    finally:
        await runner.close()
    assert second != first
    assert isinstance(report, DocumentReport)


async def test_a_review_shares_one_findings_budget_among_its_documents(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    # Reports travel from the workers to the server and back for rendering: their
    # size is bounded per review, so a pull request of many documents stays cheap.
    seen: dict[str, int] = {}

    def recording_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
        seen[path] = options.max_findings
        return stub_engine(text, path, options)

    client = await make_client(engine=recording_engine)
    repo = fake_github.add_repo()
    few = fake_github.add_pull(repo, number=1, added={"docs/rfcs/a.md": "# A\nTBD\n"})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, few, "opened"))
    assert seen == {"docs/rfcs/a.md": ReviewOptions().max_findings}

    seen.clear()
    many = {f"docs/rfcs/{n:03}.md": "# N\nTBD\n" for n in range(50)}
    pull = fake_github.add_pull(repo, number=2, added=many)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert set(seen) == set(many)
    assert set(seen.values()) == {10_000 // 50}


async def test_a_modified_document_over_the_cap_is_not_downloaded_whole(
    make_client: Any, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A modified document's size comes with its text in the review's GraphQL request
    # (a new one comes in its patch); one over the cap is never read through REST.
    read: list[int] = []
    real = InstallationClient.read_text

    async def recording(self: InstallationClient, **kwargs: Any) -> str:
        read.append(kwargs["max_bytes"])
        return await real(self, **kwargs)

    monkeypatch.setattr(InstallationClient, "read_text", recording)
    client = await make_client(budget=Budget(max_document_kb=4))
    repo = fake_github.add_repo()
    big = "# Big\n\n" + "A long paragraph. " * 5000
    pull = fake_github.add_pull(
        repo,
        added={NORMAL: NORMAL_TEXT},
        modified={"docs/rfcs/0002-big.md": (big, "@@ -1,1 +1,2 @@\n # Big\n+more")},
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert read == []
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert "`docs/rfcs/0002-big.md`: larger than 4 KB" in run["output"]["summary"]
    assert "What should replace the placeholder" in _posted_text(pull)


async def test_an_answer_over_the_limit_stops_being_read(aiohttp_server: Any) -> None:
    sent: list[int] = []

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # no Content-Length: the cap counts the bytes
        await response.prepare(request)
        for _ in range(256):
            await response.write(b"x" * 65_536)
            sent.append(1)
        return response

    app = web.Application()
    app.router.add_get("/file", huge)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(
            session=session, app_id="1", private_key="", api_url=str(server.make_url(""))
        )
        client = github.installation(1)
        limit = RESPONSE_LIMIT.set(100_000)
        try:
            with pytest.raises(ResponseTooLarge):
                await client._gh._capped_request("GET", str(server.make_url("/file")), {}, b"")
        finally:
            RESPONSE_LIMIT.reset(limit)
    assert len(sent) < 256  # the 16 MB answer was not read to its end


def _niceness() -> int:
    return os.nice(0)


async def test_review_workers_run_behind_the_server_for_the_cpu() -> None:
    # The server's pool is started niced: under load the event loop answering
    # webhooks gets the CPU first.
    runner = PoolRunner(WorkerPool(Budget(), workers=1, niceness=REVIEW_NICENESS))
    try:
        in_worker = await runner.run(_niceness)
    finally:
        await runner.close()
    assert in_worker == min(19, os.nice(0) + REVIEW_NICENESS)


def _policy() -> int:
    return os.sched_getscheduler(0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling policies")
async def test_an_idle_pool_runs_its_workers_as_sched_idle() -> None:
    # Beside a web process, the engine takes only the CPU time nothing else wants.
    idle = PoolRunner(WorkerPool(Budget(), workers=1, niceness=REVIEW_NICENESS, idle=True))
    niced = PoolRunner(WorkerPool(Budget(), workers=1, niceness=REVIEW_NICENESS))
    try:
        assert await idle.run(_policy) == os.SCHED_IDLE
        assert await niced.run(_policy) == os.SCHED_OTHER
    finally:
        await idle.close()
        await niced.close()
