"""The per-pull-request review queue when a review fails with a bug."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ghapp import routing
from ghapp.review import PullRequestRef, ReviewRequest


class _NoGitHub:
    def installation(self, installation_id: int) -> None:
        return None


def _request(delivery: str) -> ReviewRequest:
    pull = PullRequestRef(
        installation_id=1,
        owner="acme",
        repo="widgets",
        number=7,
        head_sha="abc",
        default_branch="main",
        repository_url="http://127.0.0.1/repos/acme/widgets",
        pull_url="http://127.0.0.1/repos/acme/widgets/pulls/7",
    )
    return ReviewRequest(pull=pull, delivery_id=delivery, trigger="test", explicit=True)


async def test_a_bug_in_a_review_reaches_the_requests_waiting_behind_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()

    async def broken_review(request: ReviewRequest, **_: Any) -> Any:
        await release.wait()
        raise RuntimeError("bug in the review flow")

    monkeypatch.setattr(routing, "review_pull_request", broken_review)
    context = routing.EventContext(
        github=_NoGitHub(),  # type: ignore[arg-type]
        engine=lambda *args: None,  # type: ignore[arg-type,return-value]
        load_settings=None,  # type: ignore[arg-type]
    )
    running = asyncio.create_task(context.review(_request("d1")))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(context.review(_request("d2")))
    while not context.has_waiting_review("acme/widgets", 7):
        await asyncio.sleep(0)
    # A third request joins the waiting one instead of queueing a review of its own.
    joined = asyncio.create_task(context.review(_request("d3")))
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(running, waiting, joined, return_exceptions=True)
    # Everyone sees the bug itself; the joined request is not silently cancelled.
    assert [type(r) for r in results] == [RuntimeError, RuntimeError, RuntimeError]
    assert context.has_waiting_review("acme/widgets", 7) is False
