"""Which webhook events start a review: one gidgethub `Router` per event family,
combined in `ROUTER`. Events and actions not registered here are acknowledged
by the server and ignored.

Callbacks take `(event, context)`; `context` carries what a review needs
(the GitHub client factory, the engine, the settings loader) so tests can swap
any of them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from gidgethub import routing, sansio

from ghapp.github import GitHubApp, InstallationClient
from ghapp.render import RERUN_ACTION_ID
from ghapp.review import (
    CHECK_NAME,
    Engine,
    PullRequestRef,
    ReviewOutcome,
    ReviewRequest,
    SettingsLoader,
    review_pull_request,
)

log = logging.getLogger("ghapp.routing")

# A push to a PR branch sends both `pull_request.synchronize` and
# `check_suite.requested`; whichever arrives first reviews that head, the other
# is dropped. Entries only need to outlive that pair of deliveries.
_RECENT_HEADS_TTL_SECONDS = 15 * 60
_RECENT_HEADS_MAX = 10_000


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
    _pull_locks: dict[tuple[str, int], asyncio.Lock] = field(default_factory=dict)

    def claim_head(self, pull: PullRequestRef) -> bool:
        """True the first time an automatic trigger asks for this head of this PR."""
        key = (pull.full_name, pull.number, pull.head_sha)
        if key in self.recent_heads:
            return False
        self.recent_heads[key] = True
        return True

    def mark_head(self, pull: PullRequestRef) -> None:
        self.recent_heads[(pull.full_name, pull.number, pull.head_sha)] = True

    async def review(
        self, request: ReviewRequest, *, client: InstallationClient | None = None
    ) -> ReviewOutcome:
        """Run one review; reviews of the same pull request run one after another,
        so a later one sees what an earlier one asked."""
        key = (request.pull.full_name, request.pull.number)
        lock = self._pull_locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                outcome = await review_pull_request(
                    request,
                    client=client or self.github.installation(request.pull.installation_id),
                    engine=self.engine,
                    load_settings=self.load_settings,
                )
        finally:
            if not lock.locked() and self._pull_locks.get(key) is lock:
                del self._pull_locks[key]
        self.outcomes.append(outcome)
        del self.outcomes[: -self.keep_outcomes]
        return outcome


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
    GitHub leaves the list empty for forks, whose pull_request events cover them)."""
    repository = event.data["repository"]
    refs = []
    for item in pulls:
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
        # The suite's PR summary lacks `draft`; the pull request itself has it.
        client = context.github.installation(ref.installation_id)
        pull = await client.get_pull(pull_url=ref.pull_url)
        if str(pull["head"]["sha"]) != ref.head_sha:
            continue  # the branch moved on; the newer head has its own events
        await context.review(
            ReviewRequest(
                pull=pull_ref_from_pull(pull, event.data["repository"], ref.installation_id),
                delivery_id=event.delivery_id,
                trigger="check_suite.requested",
            ),
            client=client,  # so the call above counts toward this review
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


# Issue 5 (the `/product-review` comment command) adds its router here.
ROUTER = routing.Router(pull_request_router, checks_router)
