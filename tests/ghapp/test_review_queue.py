"""The per-pull-request review queue when a review fails with a bug."""

from __future__ import annotations

import asyncio

from ghapp.pulls import PullRequestRef, PullState
from ghapp.queue import InMemoryReviewQueue
from ghapp.review import ReadyReview, Reviewer, ReviewRequest, ReviewResult


class _BrokenReviewer(Reviewer):
    """A review flow with a bug: it raises once released."""

    def __init__(self, release: asyncio.Event) -> None:
        self.release = release

    async def prepare(self, request: ReviewRequest) -> ReadyReview | ReviewResult:
        await self.release.wait()
        raise RuntimeError("bug in the review flow")


def _request(delivery: str) -> ReviewRequest:
    pull = PullRequestRef(
        installation_id=1,
        owner="acme",
        repo="widgets",
        number=7,
        default_branch="main",
        repository_url="http://127.0.0.1/repos/acme/widgets",
        pull_url="http://127.0.0.1/repos/acme/widgets/pulls/7",
        state=PullState(head_sha="abc"),
    )
    return ReviewRequest(pull=pull, delivery_id=delivery, trigger="test", explicit=True)


async def test_a_bug_in_a_review_reaches_the_requests_waiting_behind_it() -> None:
    release = asyncio.Event()
    queue = InMemoryReviewQueue(_BrokenReviewer(release))
    running = asyncio.create_task(queue.submit(_request("d1")))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(queue.submit(_request("d2")))
    while not queue.has_waiting_review("acme/widgets", 7):
        await asyncio.sleep(0)
    # A third request joins the waiting one instead of queueing a review of its own.
    joined = asyncio.create_task(queue.submit(_request("d3")))
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(running, waiting, joined, return_exceptions=True)
    # Everyone sees the bug itself; the joined request is not silently cancelled.
    assert [type(r) for r in results] == [RuntimeError, RuntimeError, RuntimeError]
    assert queue.has_waiting_review("acme/widgets", 7) is False
