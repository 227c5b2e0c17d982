"""`pull_request` events: a review at the pull request's head."""

from __future__ import annotations

import logging

from gidgethub import routing, sansio

from ghapp import payloads
from ghapp.pulls import PullRequestRef, PullState
from ghapp.review import ReviewRequest
from ghapp.routers.context import EventContext

log = logging.getLogger("ghapp.routers")

router = routing.Router()

_FIRST_REVIEW_ACTIONS = frozenset({"opened"})
# Pushes: a head already reviewed (via check_suite) is not reviewed again.
_AUTOMATIC_ACTIONS = frozenset({"opened", "synchronize"})


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def on_pull_request(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.pull_request_event(event.data)
    action = payload.action
    queue = context.queue
    request = ReviewRequest(
        pull=PullRequestRef.in_repository(
            payload.repository,
            payload.installation_id,
            number=payload.pull.number,
            pull_url=payload.pull.url,
            state=PullState(
                head_sha=payload.pull.head_sha,
                draft=payload.pull.draft,
                labels=payload.pull.labels,
            ),
        ),
        delivery_id=event.delivery_id,
        trigger=f"pull_request.{action}",
        # A redelivery of `opened` may follow a review that posted before failing.
        first_review=action in _FIRST_REVIEW_ACTIONS
        and not await queue.failed_before(event.delivery_id),
    )
    if action in _AUTOMATIC_ACTIONS and not await queue.claim_head(request):
        log.info(
            "head already reviewed or in review delivery=%s pr=%d",
            event.delivery_id,
            payload.pull.number,
        )
        return
    # Paused or not: the review decides, and then posts the "paused" check instead.
    await queue.submit(request)
