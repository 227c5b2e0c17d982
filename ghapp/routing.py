"""Which webhook events start a review: one gidgethub `Router` per event family,
combined in `ROUTER`. Events and actions not registered here are acknowledged
by the server and ignored.

Callbacks take `(event, context)`; `context` carries what a review needs
(the GitHub client factory, the engine, the settings loader) so tests can swap
any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace

from cachetools import TTLCache
from gidgethub import routing, sansio

from ghapp import payloads
from ghapp.commands import (
    PAUSED_LABEL,
    PAUSED_LABEL_COLOR,
    PAUSED_LABEL_DESCRIPTION,
    Action,
    Command,
    denied_reply,
    is_paused,
    may_run,
    parse_command,
    text_reply,
)
from ghapp.github import GitHubApp, InstallationClient
from ghapp.render import RERUN_ACTION_ID
from ghapp.review import (
    CHECK_NAME,
    NOT_NEEDED,
    Engine,
    Known,
    PullRequestRef,
    ReviewOutcome,
    ReviewRequest,
    SettingsLoader,
    publish_paused,
    review_pull_request,
)

log = logging.getLogger("ghapp.routing")

# A push to a PR branch sends both `pull_request.synchronize` and
# `check_suite.requested`; whichever arrives first reviews that head, the other
# is dropped. Entries only need to outlive that pair of deliveries.
_RECENT_HEADS_TTL_SECONDS = 15 * 60
_RECENT_HEADS_MAX = 10_000
# In `recent_heads`: the head's review completed (other values: the delivery id of
# the review in flight).
_HEAD_REVIEWED = ""
# Deliveries whose work did not complete: while their handler runs, then (as failed
# ones) for as long as GitHub offers "Redeliver", three days.
_INCOMPLETE_DELIVERIES_MAX = 50_000
_INCOMPLETE_DELIVERIES_TTL_SECONDS = 3 * 24 * 60 * 60


# Outcomes after which a review of the same head needs no repeat.
_COMPLETED_OUTCOMES = frozenset({"reviewed", "no-design-docs"})
# Outcomes of a review that did not do its work: the delivery and the head are not
# remembered as handled, so a redelivery (or the head's next event) reviews again.
INCOMPLETE_OUTCOMES = frozenset({"failed", "cancelled"})


@dataclass(frozen=True)
class _FinishedReview:
    head_sha: str
    full: bool
    outcome: ReviewOutcome

    def answers(self, request: ReviewRequest) -> bool:
        """True when this review already gives what `request` asks for: it completed,
        at the same head, and asked at least as much (a `full` one answers both)."""
        return (
            self.outcome.outcome in _COMPLETED_OUTCOMES
            and self.head_sha == request.pull.head_sha
            and (self.full or not request.full)
        )


@dataclass
class _Waiting:
    """Requests that arrived while a review of their pull request was running,
    collapsed into one review that runs when that one ends."""

    request: ReviewRequest
    done: asyncio.Future[ReviewOutcome]

    def absorb(self, request: ReviewRequest) -> None:
        earlier = self.request
        triggers = dict.fromkeys([*earlier.trigger.split("+"), request.trigger])
        # `full` and `explicit` are kept if any request asked for them.
        self.request = replace(
            request,
            trigger="+".join(triggers),
            first_review=False,
            explicit=earlier.explicit or request.explicit,
            full=earlier.full or request.full,
            # Requests name different heads (a re-run button may sit on an older
            # commit): the collapsed review takes the head the pull request has when
            # it starts (its prefetch reads it).
            known=Known.NOTHING,
        )


@dataclass
class _PullQueue:
    """One review at a time for one pull request, and at most one collapsed request
    waiting behind it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: _Waiting | None = None
    last: _FinishedReview | None = None
    users: int = 0  # callers inside `EventContext.review`; the queue goes when idle


@dataclass
class EventContext:
    github: GitHubApp
    engine: Engine
    load_settings: SettingsLoader
    # (repo, number, head) -> `_HEAD_REVIEWED`, or the delivery id reviewing it now.
    recent_heads: TTLCache[tuple[str, int, str], str] = field(
        default_factory=lambda: TTLCache(maxsize=_RECENT_HEADS_MAX, ttl=_RECENT_HEADS_TTL_SECONDS)
    )
    outcomes: list[ReviewOutcome] = field(default_factory=list)  # the latest, for tests/bench
    keep_outcomes: int = 100
    _queues: dict[tuple[str, int], _PullQueue] = field(default_factory=dict)
    _incomplete_deliveries: TTLCache[str, bool] = field(
        default_factory=lambda: TTLCache(
            maxsize=_INCOMPLETE_DELIVERIES_MAX, ttl=_INCOMPLETE_DELIVERIES_TTL_SECONDS
        )
    )
    _failed_deliveries: TTLCache[str, bool] = field(
        default_factory=lambda: TTLCache(
            maxsize=_INCOMPLETE_DELIVERIES_MAX, ttl=_INCOMPLETE_DELIVERIES_TTL_SECONDS
        )
    )

    @staticmethod
    def _head_key(pull: PullRequestRef, head_sha: str | None = None) -> tuple[str, int, str]:
        return (pull.full_name, pull.number, pull.head_sha if head_sha is None else head_sha)

    def claim_head(self, pull: PullRequestRef, delivery_id: str) -> bool:
        """True when an automatic trigger may review this head of this PR: no review of
        it completed recently and none is in flight."""
        key = self._head_key(pull)
        holder = self.recent_heads.get(key)
        if holder is None:
            self.recent_heads[key] = delivery_id
            return True
        if holder != _HEAD_REVIEWED and holder != delivery_id:
            # Deferred to a review still in flight, which may yet fail: until it has
            # completed, this delivery is not handled either, so its redelivery counts.
            self.note_incomplete(delivery_id)
        return False

    def mark_head(self, pull: PullRequestRef, delivery_id: str) -> None:
        """A review of this head is starting: automatic triggers for it need not start
        another (unless it fails)."""
        key = self._head_key(pull)
        if key not in self.recent_heads:
            self.recent_heads[key] = delivery_id

    def settle_head(
        self, pull: PullRequestRef, delivery_id: str, *, completed: bool, head_sha: str = ""
    ) -> None:
        """The review `delivery_id` started ended: a completed one is remembered, a failed
        one forgets the head it held, so the head's next event reviews it again.
        `head_sha` is the head the review learnt, when the request named none."""
        for sha in dict.fromkeys([pull.head_sha, head_sha]):
            if not sha:
                continue
            key = self._head_key(pull, sha)
            if completed:
                self.recent_heads[key] = _HEAD_REVIEWED
            elif self.recent_heads.get(key) == delivery_id:
                del self.recent_heads[key]

    def note_incomplete(self, delivery_id: str) -> None:
        """Work started by this delivery failed or was cancelled."""
        self._incomplete_deliveries[delivery_id] = True

    def delivery_completed(self, delivery_id: str) -> bool:
        """Whether all the work the delivery started completed; asked once, when its
        handler has returned. A delivery that did not stays known as `failed_before`."""
        if self._incomplete_deliveries.pop(delivery_id, None) is None:
            self._failed_deliveries.pop(delivery_id, None)
            return True
        self._failed_deliveries[delivery_id] = True
        return False

    def failed_before(self, delivery_id: str) -> bool:
        """Whether this delivery was handled before and did not complete: this is
        GitHub's redelivery of it, and it may have posted a review already."""
        return delivery_id in self._failed_deliveries

    def has_waiting_review(self, full_name: str, number: int) -> bool:
        """Whether requests wait behind a running review of this pull request."""
        queue = self._queues.get((full_name, number))
        return queue is not None and queue.waiting is not None

    async def review(self, request: ReviewRequest) -> ReviewOutcome:
        """Review a pull request (see `_review_in_turn`), then settle what it holds: a
        completed review marks its head reviewed; a failed or cancelled one (or a bug)
        releases its head and marks its delivery incomplete."""
        outcome: ReviewOutcome | None = None
        try:
            outcome = await self._review_in_turn(request)
            return outcome
        finally:
            completed = outcome is not None and outcome.outcome not in INCOMPLETE_OUTCOMES
            self.settle_head(
                request.pull,
                request.delivery_id,
                completed=completed,
                head_sha=outcome.head_sha if outcome is not None else "",
            )
            if not completed:
                self.note_incomplete(request.delivery_id)

    async def _review_in_turn(self, request: ReviewRequest) -> ReviewOutcome:
        """Review a pull request, one review at a time per pull request.

        A request that arrives while a review of the same pull request runs waits
        for it; every request arriving meanwhile joins that waiting one, so they
        produce a single review (`full` if any of them was). When the review that
        was running already answered the waiting request (same head, nothing more
        asked), the waiting request takes its outcome instead of reviewing again.
        A request with `Known.NOTHING` reviews the head the pull request has when
        the review starts (the comment command names none).
        """
        key = (request.pull.full_name, request.pull.number)
        queue = self._queues.setdefault(key, _PullQueue())
        queue.users += 1
        try:
            if queue.waiting is not None:
                queue.waiting.absorb(request)
                # Shielded: a cancelled caller must not cancel the others' result.
                return await asyncio.shield(queue.waiting.done)
            behind_another = queue.lock.locked()
            entry = _Waiting(
                # After another review of this PR, there are earlier reviews to read.
                replace(request, first_review=request.first_review and not behind_another),
                asyncio.get_running_loop().create_future(),
            )
            if behind_another:
                queue.waiting = entry
            try:
                async with queue.lock:
                    if queue.waiting is entry:
                        queue.waiting = None  # later requests start a new batch
                    outcome = await self._run(entry, queue, behind_another=behind_another)
            except BaseException as error:
                if queue.waiting is entry:
                    queue.waiting = None
                if isinstance(error, asyncio.CancelledError):
                    entry.done.cancel()
                else:
                    # A bug: the requests waiting behind this one see it too.
                    entry.done.set_exception(error)
                    entry.done.exception()  # retrieved here, so asyncio does not warn if none wait
                raise
            entry.done.set_result(outcome)
            return outcome
        finally:
            queue.users -= 1
            if queue.users == 0 and self._queues.get(key) is queue:
                del self._queues[key]

    async def _run(
        self, entry: _Waiting, queue: _PullQueue, *, behind_another: bool
    ) -> ReviewOutcome:
        request = entry.request
        # A client of its own: it counts this review's calls and nothing else.
        client = self.github.installation(request.pull.installation_id)

        def answered(resolved: ReviewRequest) -> bool:
            return behind_another and queue.last is not None and queue.last.answers(resolved)

        def on_head(resolved: ReviewRequest) -> bool:
            # The head was learnt by the review's prefetch: the push's own events
            # need not review it again, nor this one repeat the review just done.
            self.mark_head(resolved.pull, resolved.delivery_id)
            return not answered(resolved)

        head_known = request.known is not Known.NOTHING
        if head_known and answered(request):
            outcome = None  # decided without a call
        else:
            outcome = await review_pull_request(
                request,
                client=client,
                engine=self.engine,
                load_settings=self.load_settings,
                on_head=None if head_known else on_head,
            )
        last = queue.last
        if last is not None and (outcome is None or outcome.outcome == NOT_NEEDED):
            log.info(
                "review not repeated delivery=%s trigger=%s repo=%s pr=%d: the review that "
                "just finished answered it",
                request.delivery_id,
                request.trigger,
                request.pull.full_name,
                request.pull.number,
            )
            return last.outcome
        assert outcome is not None  # without an earlier review, `answered` is False
        queue.last = _FinishedReview(outcome.head_sha, request.full, outcome)
        self.outcomes.append(outcome)
        del self.outcomes[: -self.keep_outcomes]
        return outcome

    async def publish_paused(self, pull: PullRequestRef, *, delivery_id: str) -> None:
        """The "paused" check for a pull request whose event says it is paused."""
        client = self.github.installation(pull.installation_id)
        completed = False
        try:
            await publish_paused(client, pull, delivery_id=delivery_id)
            completed = True
        except Exception:
            log.exception(
                "could not post the paused check delivery=%s repo=%s pr=%d",
                delivery_id,
                pull.full_name,
                pull.number,
            )
            return
        finally:
            # Settled like a review: a check that was not posted is posted next time.
            self.settle_head(pull, delivery_id, completed=completed)
            if not completed:
                self.note_incomplete(delivery_id)
        log.info(
            "review paused delivery=%s repo=%s pr=%d head=%s",
            delivery_id,
            pull.full_name,
            pull.number,
            pull.head_sha[:12],
        )


def _pull_ref(
    repository: payloads.Repository,
    installation_id: int,
    *,
    number: int,
    pull_url: str,
    head_sha: str,
    draft: bool = False,
) -> PullRequestRef:
    return PullRequestRef(
        installation_id=installation_id,
        owner=repository.owner,
        repo=repository.name,
        number=number,
        head_sha=head_sha,
        default_branch=repository.default_branch,
        repository_url=repository.url,
        pull_url=pull_url,
        draft=draft,
    )


# --------------------------------------------------------------------------- pull_request

pull_request_router = routing.Router()

_FIRST_REVIEW_ACTIONS = frozenset({"opened"})
# Pushes: a head already reviewed (via check_suite) is not reviewed again.
_AUTOMATIC_ACTIONS = frozenset({"opened", "synchronize"})


@pull_request_router.register("pull_request", action="opened")
@pull_request_router.register("pull_request", action="synchronize")
@pull_request_router.register("pull_request", action="reopened")
@pull_request_router.register("pull_request", action="ready_for_review")
async def on_pull_request(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.pull_request_event(event.data)
    action = payload.action
    pull = _pull_ref(
        payload.repository,
        payload.installation_id,
        number=payload.pull.number,
        pull_url=payload.pull.url,
        head_sha=payload.pull.head_sha,
        draft=payload.pull.draft,
    )
    if action in _AUTOMATIC_ACTIONS:
        if not context.claim_head(pull, event.delivery_id):
            log.info(
                "head already reviewed or in review delivery=%s pr=%d",
                event.delivery_id,
                pull.number,
            )
            return
    else:
        context.mark_head(pull, event.delivery_id)
    if is_paused(payload.pull.labels):
        await context.publish_paused(pull, delivery_id=event.delivery_id)
        return
    await context.review(
        ReviewRequest(
            pull=pull,
            delivery_id=event.delivery_id,
            trigger=f"pull_request.{action}",
            # A redelivery of `opened` may follow a review that posted before failing.
            first_review=action in _FIRST_REVIEW_ACTIONS
            and not context.failed_before(event.delivery_id),
        )
    )


# --------------------------------------------------------------------------- checks

checks_router = routing.Router()


def _pull_refs_from_checks(payload: payloads.CheckEvent) -> list[PullRequestRef]:
    """Refs for the pull requests a check suite/run belongs to (same-repo PRs only:
    GitHub leaves the list empty for forks, whose pull_request events cover them).

    GitHub lists every open pull request whose head matches, including one from this
    repository's branch into another repository (an upstream): that one is not
    reviewed here, since its number and URL belong to the other repository."""
    repository = payload.repository
    return [
        _pull_ref(
            repository,
            payload.installation_id,
            number=item.number,
            pull_url=item.url,
            head_sha=payload.head_sha,
        )
        for item in payload.pulls
        if item.base_repository_url in (None, repository.url)
    ]


@checks_router.register("check_suite", action="requested")
async def on_check_suite_requested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_suite_event(event.data)
    for ref in _pull_refs_from_checks(payload):
        if not context.claim_head(ref, event.delivery_id):
            continue
        # The suite's summary of the pull request has no draft state and no labels:
        # the review's prefetch reads them, and skips a head the branch moved on
        # from (the newer head has its own events) or posts the "paused" check.
        await context.review(
            ReviewRequest(
                pull=ref,
                delivery_id=event.delivery_id,
                trigger="check_suite.requested",
                known=Known.HEAD,
            )
        )


@checks_router.register("check_suite", action="rerequested")
async def on_check_suite_rerequested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_suite_event(event.data)
    for ref in _pull_refs_from_checks(payload):
        context.mark_head(ref, event.delivery_id)
        await context.review(
            ReviewRequest(
                pull=ref,
                delivery_id=event.delivery_id,
                trigger="check_suite.rerequested",
                explicit=True,
            )
        )


async def _rerun_check(
    event: sansio.Event, context: EventContext, payload: payloads.CheckEvent, trigger: str
) -> None:
    if payload.name != CHECK_NAME:
        return
    for ref in _pull_refs_from_checks(payload):
        context.mark_head(ref, event.delivery_id)
        await context.review(
            ReviewRequest(pull=ref, delivery_id=event.delivery_id, trigger=trigger, explicit=True)
        )


@checks_router.register("check_run", action="rerequested")
async def on_check_run_rerequested(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_run_event(event.data)
    await _rerun_check(event, context, payload, "check_run.rerequested")


@checks_router.register("check_run", action="requested_action")
async def on_check_run_requested_action(event: sansio.Event, context: EventContext) -> None:
    payload = payloads.check_run_event(event.data)
    # The "Re-run review" button of a completed check (see ghapp.render.RERUN_ACTIONS).
    if payload.requested_action != RERUN_ACTION_ID:
        return
    await _rerun_check(event, context, payload, "check_run.requested_action")


# --------------------------------------------------------------------------- the command

comment_router = routing.Router()


@comment_router.register("issue_comment", action="created")
async def on_issue_comment(event: sansio.Event, context: EventContext) -> None:
    """`/product-review …` at the start of a new comment on a pull request.

    Edited and deleted comments are other actions (not routed); comments on plain
    issues and by bots (this app's own replies included: no loops) are ignored.
    """
    payload = payloads.issue_comment_event(event.data)
    if payload.pull_url is None:
        return
    if payload.commenter_is_bot:
        return
    command = parse_command(payload.comment_body)
    if command is None:
        return
    client = context.github.installation(payload.installation_id)
    try:
        await client.add_reaction(comment_url=payload.comment_url, content="eyes")
        reaction = await _run_command(event, context, payload, command, client)
        if reaction is not None:
            await client.add_reaction(comment_url=payload.comment_url, content=reaction)
    except Exception:
        log.exception(
            "command failed delivery=%s repo=%s pr=%s command=%s",
            event.delivery_id,
            payload.repository.full_name,
            payload.issue_number,
            command.action.value,
        )
        # Not done: a redelivery runs the command again.
        context.note_incomplete(event.delivery_id)
        with contextlib.suppress(Exception):
            await client.add_reaction(comment_url=payload.comment_url, content="confused")


async def _run_command(
    event: sansio.Event,
    context: EventContext,
    payload: payloads.IssueCommentEvent,
    command: Command,
    client: InstallationClient,
) -> str | None:
    """Carry out a command. Returns the closing reaction: "rocket" when done,
    "confused" when the review failed (its check says why), None after a reply."""
    repository = payload.repository
    # The default branch's config decides who may: a PR cannot widen that itself.
    settings = await context.load_settings(
        client,
        owner=repository.owner,
        repo=repository.name,
        default_branch=repository.default_branch,
    )
    allowed = may_run(
        settings,
        association=payload.author_association,
        commenter=payload.commenter,
        pull_author=payload.issue_author,
    )
    if not allowed:
        await client.create_issue_comment(
            comments_url=payload.comments_url,
            body=denied_reply(settings, commenter=payload.commenter),
        )
        return None
    reply = text_reply(command, settings)
    if reply is not None:
        await client.create_issue_comment(comments_url=payload.comments_url, body=reply)
        return None
    if command.action is Action.PAUSE:
        await client.ensure_label(
            repository_url=repository.url,
            name=PAUSED_LABEL,
            color=PAUSED_LABEL_COLOR,
            description=PAUSED_LABEL_DESCRIPTION,
        )
        await client.add_labels(issue_url=payload.issue_url, labels=[PAUSED_LABEL])
        return "rocket"
    if command.action is Action.RESUME:
        await client.remove_label(issue_url=payload.issue_url, name=PAUSED_LABEL)
    assert payload.pull_url is not None  # checked by the caller
    pull = _pull_ref(
        repository,
        client.installation_id,
        number=payload.issue_number,
        pull_url=payload.pull_url,
        head_sha="",  # read when the review starts: "review now" means the latest head
    )
    outcome = await context.review(
        ReviewRequest(
            pull=pull,
            delivery_id=event.delivery_id,
            trigger=f"issue_comment.{command.action.value}",
            explicit=True,
            full=command.action is Action.FULL,
            known=Known.NOTHING,
        )
    )
    return "confused" if outcome.outcome in INCOMPLETE_OUTCOMES else "rocket"


ROUTER = routing.Router(pull_request_router, checks_router, comment_router)
