"""`check_suite` and `check_run` events: a push's check suite, and re-runs."""

from __future__ import annotations

from gidgethub import routing, sansio

from ghapp import payloads
from ghapp.checkrun import RERUN_ACTION_ID
from ghapp.pulls import PullRequestRef, PullState
from ghapp.review import CHECK_NAME, ReviewRequest
from ghapp.routers.context import EventContext

router = routing.Router()


def _review_requests(
    payload: payloads.CheckEvent, delivery_id: str, trigger: str, *, explicit: bool = False
) -> list[ReviewRequest]:
    """A request for each pull request the suite or run belongs to (same-repo PRs
    only: GitHub leaves the list empty for forks, whose pull_request events cover them).

    GitHub lists every open pull request whose head matches, including one from this
    repository's branch into another repository (an upstream): that one is not
    reviewed here, since its number and URL belong to the other repository.

    The summary of a pull request has no draft state and no labels: an automatic
    review reads them (and skips a head the branch moved on from; the newer head has
    its own events), an explicit one needs neither."""
    repository = payload.repository
    return [
        ReviewRequest(
            pull=PullRequestRef.in_repository(
                repository,
                payload.installation_id,
                number=item.number,
                pull_url=item.url,
                state=PullState(head_sha=payload.head_sha),
            ),
            delivery_id=delivery_id,
            trigger=trigger,
            explicit=explicit,
        )
        for item in payload.pulls
        if item.base_repository_url in (None, repository.url)
    ]


@router.register("check_suite", action="requested")
async def on_check_suite_requested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_suite_event(event.data)
    for request in _review_requests(payload, event.delivery_id, "check_suite.requested"):
        if await context.queue.claim_head(request):
            await context.queue.submit(request)


@router.register("check_suite", action="rerequested")
async def on_check_suite_rerequested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_suite_event(event.data)
    await _review_again(context, payload, event.delivery_id, "check_suite.rerequested")


@router.register("check_run", action="rerequested")
async def on_check_run_rerequested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_run_event(event.data)
    if payload.name == CHECK_NAME:
        await _review_again(context, payload, event.delivery_id, "check_run.rerequested")


@router.register("check_run", action="requested_action")
async def on_check_run_requested_action(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_run_event(event.data)
    # The "Re-run review" button of a completed check (see ghapp.checkrun.RERUN_ACTIONS).
    if payload.name == CHECK_NAME and payload.requested_action == RERUN_ACTION_ID:
        await _review_again(context, payload, event.delivery_id, "check_run.requested_action")


async def _review_again(
    context: EventContext, payload: payloads.CheckEvent, delivery_id: str, trigger: str
) -> None:
    """Someone asked: the head is reviewed again, whatever was reviewed before."""
    for request in _review_requests(payload, delivery_id, trigger, explicit=True):
        await context.queue.submit(request)
