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
from typing import Any

from cachetools import TTLCache
from gidgethub import routing, sansio

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


# Outcomes after which a review of the same head needs no repeat.
_COMPLETED_OUTCOMES = frozenset({"reviewed", "no-design-docs"})


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
    recent_heads: TTLCache[tuple[str, int, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=_RECENT_HEADS_MAX, ttl=_RECENT_HEADS_TTL_SECONDS)
    )
    outcomes: list[ReviewOutcome] = field(default_factory=list)  # the latest, for tests/bench
    keep_outcomes: int = 100
    _queues: dict[tuple[str, int], _PullQueue] = field(default_factory=dict)

    def claim_head(self, pull: PullRequestRef) -> bool:
        """True the first time an automatic trigger asks for this head of this PR."""
        key = (pull.full_name, pull.number, pull.head_sha)
        if key in self.recent_heads:
            return False
        self.recent_heads[key] = True
        return True

    def mark_head(self, pull: PullRequestRef) -> None:
        self.recent_heads[(pull.full_name, pull.number, pull.head_sha)] = True

    def has_waiting_review(self, full_name: str, number: int) -> bool:
        """Whether requests wait behind a running review of this pull request."""
        queue = self._queues.get((full_name, number))
        return queue is not None and queue.waiting is not None

    async def review(self, request: ReviewRequest) -> ReviewOutcome:
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
            self.mark_head(resolved.pull)
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
        try:
            await publish_paused(client, pull, delivery_id=delivery_id)
        except Exception:
            log.exception(
                "could not post the paused check delivery=%s repo=%s pr=%d",
                delivery_id,
                pull.full_name,
                pull.number,
            )
            return
        log.info(
            "review paused delivery=%s repo=%s pr=%d head=%s",
            delivery_id,
            pull.full_name,
            pull.number,
            pull.head_sha[:12],
        )


def pull_ref_from_pull(
    pull: dict[str, Any], repository: dict[str, Any], installation_id: int
) -> PullRequestRef:
    """A PullRequestRef from a full pull request object (webhook or GET /pulls/{n})."""
    return PullRequestRef(
        installation_id=installation_id,
        owner=str(repository["owner"]["login"]),
        repo=str(repository["name"]),
        number=int(pull["number"]),
        head_sha=str(pull["head"]["sha"]),
        default_branch=str(repository.get("default_branch") or "main"),
        repository_url=str(repository["url"]),
        pull_url=str(pull["url"]),
        draft=bool(pull.get("draft", False)),
    )


def _installation_id(event: sansio.Event) -> int:
    return int(event.data["installation"]["id"])


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
    action = str(event.data["action"])
    pull = pull_ref_from_pull(
        event.data["pull_request"], event.data["repository"], _installation_id(event)
    )
    if action in _AUTOMATIC_ACTIONS:
        if not context.claim_head(pull):
            log.info("head already reviewed delivery=%s pr=%d", event.delivery_id, pull.number)
            return
    else:
        context.mark_head(pull)
    if is_paused(event.data["pull_request"].get("labels") or []):
        await context.publish_paused(pull, delivery_id=event.delivery_id)
        return
    await context.review(
        ReviewRequest(
            pull=pull,
            delivery_id=event.delivery_id,
            trigger=f"pull_request.{action}",
            first_review=action in _FIRST_REVIEW_ACTIONS,
        )
    )


# --------------------------------------------------------------------------- checks

checks_router = routing.Router()


def _pull_refs_from_checks(
    event: sansio.Event, pulls: list[dict[str, Any]], head_sha: str
) -> list[PullRequestRef]:
    """Refs for the pull requests a check suite/run belongs to (same-repo PRs only:
    GitHub leaves the list empty for forks, whose pull_request events cover them).

    GitHub lists every open pull request whose head matches, including one from this
    repository's branch into another repository (an upstream): that one is not
    reviewed here, since its number and URL belong to the other repository."""
    repository = event.data["repository"]
    refs = []
    for item in pulls:
        base_repo = (item.get("base") or {}).get("repo") or {}
        if base_repo.get("url", repository["url"]) != repository["url"]:
            continue
        ref = pull_ref_from_pull(
            {**item, "head": {**item.get("head", {}), "sha": head_sha}},
            repository,
            _installation_id(event),
        )
        refs.append(ref)
    return refs


@checks_router.register("check_suite", action="requested")
async def on_check_suite_requested(event: sansio.Event, context: EventContext) -> None:
    suite = event.data["check_suite"]
    for ref in _pull_refs_from_checks(event, suite.get("pull_requests") or [], suite["head_sha"]):
        if not context.claim_head(ref):
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
    suite = event.data["check_suite"]
    for ref in _pull_refs_from_checks(event, suite.get("pull_requests") or [], suite["head_sha"]):
        context.mark_head(ref)
        await context.review(
            ReviewRequest(
                pull=ref,
                delivery_id=event.delivery_id,
                trigger="check_suite.rerequested",
                explicit=True,
            )
        )


async def _rerun_check(event: sansio.Event, context: EventContext, trigger: str) -> None:
    run = event.data["check_run"]
    if run.get("name") != CHECK_NAME:
        return
    for ref in _pull_refs_from_checks(event, run.get("pull_requests") or [], run["head_sha"]):
        context.mark_head(ref)
        await context.review(
            ReviewRequest(pull=ref, delivery_id=event.delivery_id, trigger=trigger, explicit=True)
        )


@checks_router.register("check_run", action="rerequested")
async def on_check_run_rerequested(event: sansio.Event, context: EventContext) -> None:
    await _rerun_check(event, context, "check_run.rerequested")


@checks_router.register("check_run", action="requested_action")
async def on_check_run_requested_action(event: sansio.Event, context: EventContext) -> None:
    # The "Re-run review" button of a completed check (see ghapp.render.RERUN_ACTIONS).
    if (event.data.get("requested_action") or {}).get("identifier") != RERUN_ACTION_ID:
        return
    await _rerun_check(event, context, "check_run.requested_action")


# --------------------------------------------------------------------------- the command

comment_router = routing.Router()


@comment_router.register("issue_comment", action="created")
async def on_issue_comment(event: sansio.Event, context: EventContext) -> None:
    """`/product-review …` at the start of a new comment on a pull request.

    Edited and deleted comments are other actions (not routed); comments on plain
    issues and by bots (this app's own replies included: no loops) are ignored.
    """
    issue = event.data["issue"]
    comment = event.data["comment"]
    if not issue.get("pull_request"):
        return
    if (comment.get("user") or {}).get("type") == "Bot":
        return
    command = parse_command(str(comment.get("body") or ""))
    if command is None:
        return
    client = context.github.installation(_installation_id(event))
    comment_url = str(comment["url"])
    try:
        await client.add_reaction(comment_url=comment_url, content="eyes")
        reaction = await _run_command(event, context, command, client)
        if reaction is not None:
            await client.add_reaction(comment_url=comment_url, content=reaction)
    except Exception:
        log.exception(
            "command failed delivery=%s repo=%s pr=%s command=%s",
            event.delivery_id,
            event.data["repository"].get("full_name"),
            issue.get("number"),
            command.action.value,
        )
        with contextlib.suppress(Exception):
            await client.add_reaction(comment_url=comment_url, content="confused")


async def _run_command(
    event: sansio.Event, context: EventContext, command: Command, client: InstallationClient
) -> str | None:
    """Carry out a command. Returns the closing reaction: "rocket" when done,
    "confused" when the review failed (its check says why), None after a reply."""
    issue = event.data["issue"]
    comment = event.data["comment"]
    repository = event.data["repository"]
    owner, repo = str(repository["owner"]["login"]), str(repository["name"])
    default_branch = str(repository.get("default_branch") or "main")
    # The default branch's config decides who may: a PR cannot widen that itself.
    settings = await context.load_settings(
        client, owner=owner, repo=repo, default_branch=default_branch
    )
    commenter = str((comment.get("user") or {}).get("login") or "")
    allowed = may_run(
        settings,
        association=str(comment.get("author_association") or "NONE"),
        commenter=commenter,
        pull_author=(issue.get("user") or {}).get("login"),
    )
    comments_url = str(issue["comments_url"])
    if not allowed:
        await client.create_issue_comment(
            comments_url=comments_url, body=denied_reply(settings, commenter=commenter)
        )
        return None
    reply = text_reply(command, settings)
    if reply is not None:
        await client.create_issue_comment(comments_url=comments_url, body=reply)
        return None
    issue_url = str(issue["url"])
    if command.action is Action.PAUSE:
        await client.ensure_label(
            repository_url=str(repository["url"]),
            name=PAUSED_LABEL,
            color=PAUSED_LABEL_COLOR,
            description=PAUSED_LABEL_DESCRIPTION,
        )
        await client.add_labels(issue_url=issue_url, labels=[PAUSED_LABEL])
        return "rocket"
    if command.action is Action.RESUME:
        await client.remove_label(issue_url=issue_url, name=PAUSED_LABEL)
    pull = PullRequestRef(
        installation_id=client.installation_id,
        owner=owner,
        repo=repo,
        number=int(issue["number"]),
        head_sha="",  # read when the review starts: "review now" means the latest head
        default_branch=default_branch,
        repository_url=str(repository["url"]),
        pull_url=str(issue["pull_request"]["url"]),
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
    return "confused" if outcome.outcome in ("failed", "cancelled") else "rocket"


ROUTER = routing.Router(pull_request_router, checks_router, comment_router)
