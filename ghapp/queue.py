"""The review queue: one review at a time per pull request, and what keeps a head or
a delivery from being handled twice.

`ReviewQueue` is all the event handlers and the server use. Its first
implementation, `InMemoryReviewQueue`, keeps everything in this process, which is
right for one replica; a durable one (SQLite, Redis) keeps the same state where
several replicas see it. Every method is a coroutine so that such an
implementation can do I/O, and the queue never reaches into a running review:
the review's first step returns the head it learnt (`Reviewer.prepare`), the queue
acts on it, then lets the review finish.

Three kinds of state:

- deliveries: a delivery id is handled once (GitHub's "Redeliver" keeps the id),
  and only counts as handled once all the work it started completed, so that the
  redelivery of a failed one is handled again;
- heads: a push sends both `pull_request.synchronize` and `check_suite.requested`;
  the first to claim the head reviews it, the other is dropped;
- pull requests: one review runs at a time per pull request; requests arriving
  meanwhile collapse into one that runs next (or takes the result of the review
  that just ran, when that one answered it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from cachetools import TTLCache

from ghapp.jobstore import Admission, SqliteJobStore
from ghapp.pulls import NOTHING_KNOWN, PullRequestRef
from ghapp.review import ReadyReview, Reviewer, ReviewOutcome, ReviewRequest, ReviewResult

log = logging.getLogger("ghapp.queue")

# GitHub redelivers with the same X-GitHub-Delivery; remember handled ids this long.
DELIVERY_TTL_SECONDS = 60 * 60
DELIVERY_CACHE_SIZE = 50_000
# Deliveries whose work did not complete: while their handler runs, then (as failed
# ones) for as long as GitHub offers "Redeliver", three days.
INCOMPLETE_DELIVERIES_MAX = 50_000
INCOMPLETE_DELIVERIES_TTL_SECONDS = 3 * 24 * 60 * 60
# Entries only need to outlive the pair of deliveries a push sends.
RECENT_HEADS_TTL_SECONDS = 15 * 60
RECENT_HEADS_MAX = 10_000
KEEP_RESULTS = 100

# Outcomes after which a review of the same head needs no repeat.
_ANSWERING_OUTCOMES = frozenset({ReviewOutcome.REVIEWED, ReviewOutcome.NO_DESIGN_DOCS})


class DeliveryState(StrEnum):
    """A delivery that is not new."""

    IN_FLIGHT = "in flight"
    HANDLED = "handled"
    # New, and queued for a worker process (scaled out): not handled in this one.
    QUEUED = "queued for a worker"


class ReviewQueue(Protocol):
    """Reviews in turn, and the memory of deliveries and heads that keeps work from
    being done twice."""

    async def start_delivery(
        self, delivery_id: str, *, event: str = "", payload: bytes = b""
    ) -> DeliveryState | None:
        """Start handling a delivery: None when it is new (it is in flight from now),
        else what it already is (a duplicate, not to be handled again). A durable
        queue records `event` and `payload` before it returns, so the delivery's
        work survives this process."""
        ...

    async def release(self, delivery_id: str) -> None:
        """This process stops before the delivery's work ended (a shutdown): it is
        not handled, and a durable queue keeps it for the next process to take."""
        ...

    async def finish_delivery(self, delivery_id: str, *, returned: bool) -> bool:
        """The delivery's handler ended (`returned`: without an error). True when all
        the work it started completed: it is handled. Otherwise it is forgotten, so a
        redelivery is handled again, and known as `failed_before`."""
        ...

    async def note_incomplete(self, delivery_id: str) -> None:
        """Work this delivery started failed or was cancelled: it is not handled."""
        ...

    async def failed_before(self, delivery_id: str) -> bool:
        """Whether this delivery was handled before and did not complete: this is
        GitHub's redelivery of it, and it may have posted a review already."""
        ...

    async def claim_head(self, request: ReviewRequest) -> bool:
        """For an automatic trigger: True when it may review the head its request
        names, because no review of that head completed recently and none is in
        flight. When one is in flight, this delivery is not handled until that one
        has completed (it may yet fail)."""
        ...

    async def submit(self, request: ReviewRequest) -> ReviewResult:
        """Review the pull request in its turn, and return the result: that of the
        review that ran for this request, alone or collapsed with others."""
        ...


@dataclass(frozen=True)
class _FinishedReview:
    head_sha: str | None
    full: bool
    result: ReviewResult

    def answers(self, request: ReviewRequest) -> bool:
        """True when this review already gives what `request` asks for: it completed,
        at the same head, and asked at least as much (a `full` one answers both)."""
        return (
            self.result.outcome in _ANSWERING_OUTCOMES
            and self.head_sha is not None
            and self.head_sha == request.pull.state.head_sha
            and (self.full or not request.full)
        )


@dataclass
class _Waiting:
    """Requests that arrived while a review of their pull request was running,
    collapsed into one review that runs when that one ends."""

    request: ReviewRequest
    done: asyncio.Future[ReviewResult]

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
            # commit): the collapsed review takes the state the pull request has when
            # it starts (its prefetch reads it).
            pull=replace(request.pull, state=NOTHING_KNOWN),
        )


@dataclass
class _PullQueue:
    """One review at a time for one pull request, and at most one collapsed request
    waiting behind it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: _Waiting | None = None
    last: _FinishedReview | None = None
    users: int = 0  # callers inside `submit`; the queue goes when idle


# In the heads cache: the head's review completed (other values: the delivery id of
# the review in flight).
_HEAD_REVIEWED = ""
_HeadKey = tuple[str, int, str]


def _head_key(pull: PullRequestRef, head_sha: str) -> _HeadKey:
    return (pull.full_name, pull.number, head_sha)


class InMemoryReviewQueue:
    """`ReviewQueue` in this process's memory, running each review in the task that
    submitted it. For one replica: two would not see each other's guards."""

    def __init__(self, reviewer: Reviewer, *, keep_results: int = KEEP_RESULTS) -> None:
        self._reviewer = reviewer
        # The latest results, oldest first, for tests and benchmarks.
        self.results: list[ReviewResult] = []
        self._keep_results = keep_results
        self._pulls: dict[tuple[str, int], _PullQueue] = {}
        # (repo, number, head) -> `_HEAD_REVIEWED`, or the delivery id reviewing it now.
        self._heads: TTLCache[_HeadKey, str] = TTLCache(
            maxsize=RECENT_HEADS_MAX, ttl=RECENT_HEADS_TTL_SECONDS
        )
        self._handled: TTLCache[str, bool] = TTLCache(
            maxsize=DELIVERY_CACHE_SIZE, ttl=DELIVERY_TTL_SECONDS
        )
        self._in_flight: set[str] = set()
        self._incomplete: TTLCache[str, bool] = TTLCache(
            maxsize=INCOMPLETE_DELIVERIES_MAX, ttl=INCOMPLETE_DELIVERIES_TTL_SECONDS
        )
        self._failed: TTLCache[str, bool] = TTLCache(
            maxsize=INCOMPLETE_DELIVERIES_MAX, ttl=INCOMPLETE_DELIVERIES_TTL_SECONDS
        )

    # -- deliveries ---------------------------------------------------------------

    async def start_delivery(
        self, delivery_id: str, *, event: str = "", payload: bytes = b""
    ) -> DeliveryState | None:
        if delivery_id in self._handled:
            return DeliveryState.HANDLED
        if delivery_id in self._in_flight:
            return DeliveryState.IN_FLIGHT
        self._in_flight.add(delivery_id)
        return None

    async def finish_delivery(self, delivery_id: str, *, returned: bool) -> bool:
        completed = self._incomplete.pop(delivery_id, None) is None
        if completed:
            self._failed.pop(delivery_id, None)
        else:
            self._failed[delivery_id] = True
        handled = completed and returned
        self._in_flight.discard(delivery_id)
        if handled:
            self._handled[delivery_id] = True
        return handled

    async def release(self, delivery_id: str) -> None:
        await self.finish_delivery(delivery_id, returned=False)

    async def note_incomplete(self, delivery_id: str) -> None:
        self._incomplete[delivery_id] = True

    async def failed_before(self, delivery_id: str) -> bool:
        return delivery_id in self._failed

    # -- heads --------------------------------------------------------------------

    async def claim_head(self, request: ReviewRequest) -> bool:
        head_sha = request.pull.state.head_sha
        assert head_sha is not None  # automatic triggers name their head
        key = _head_key(request.pull, head_sha)
        holder = self._heads.get(key)
        if holder is None:
            self._heads[key] = request.delivery_id
            return True
        if holder not in (_HEAD_REVIEWED, request.delivery_id):
            # Deferred to a review still in flight, which may yet fail: until it has
            # completed, this delivery is not handled either, so its redelivery counts.
            self._incomplete[request.delivery_id] = True
        return False

    async def _hold_head(self, pull: PullRequestRef, delivery_id: str) -> None:
        """A review of the pull request's head is starting: automatic triggers for it
        need not start another (unless it fails)."""
        if pull.state.head_sha is None:
            return
        key = _head_key(pull, pull.state.head_sha)
        if key not in self._heads:
            self._heads[key] = delivery_id

    async def _settle_heads(
        self, pull: PullRequestRef, delivery_id: str, *, completed: bool, learnt: str | None
    ) -> None:
        """The review `delivery_id` started ended: a completed one is remembered, a
        failed one forgets the heads it held, so their next event reviews them again.
        `learnt` is the head the review learnt, when the request named none."""
        for head_sha in dict.fromkeys([pull.state.head_sha, learnt]):
            if head_sha is None:
                continue
            key = _head_key(pull, head_sha)
            if completed:
                self._heads[key] = _HEAD_REVIEWED
            elif self._heads.get(key) == delivery_id:
                del self._heads[key]

    # -- reviews ------------------------------------------------------------------

    def has_waiting_review(self, full_name: str, number: int) -> bool:
        """Whether requests wait behind a running review of this pull request."""
        return bool(self.waiting_triggers(full_name, number))

    def waiting_triggers(self, full_name: str, number: int) -> list[str]:
        """The triggers of the requests collapsed behind a running review of this
        pull request, in arrival order (for tests and the log)."""
        pull_queue = self._pulls.get((full_name, number))
        if pull_queue is None or pull_queue.waiting is None:
            return []
        return pull_queue.waiting.request.trigger.split("+")

    async def submit(self, request: ReviewRequest) -> ReviewResult:
        """See `ReviewQueue.submit`. The review holds the head it knows (from the
        start, or once learnt) while it runs; a completed review then marks its head
        reviewed, and a failed or cancelled one (or a bug) releases it and leaves its
        delivery incomplete."""
        await self._hold_head(request.pull, request.delivery_id)
        result: ReviewResult | None = None
        try:
            result = await self._review_in_turn(request)
            return result
        finally:
            completed = result is not None and result.outcome.completed
            await self._settle_heads(
                request.pull,
                request.delivery_id,
                completed=completed,
                learnt=result.head_sha if result is not None else None,
            )
            if not completed:
                self._incomplete[request.delivery_id] = True

    async def _review_in_turn(self, request: ReviewRequest) -> ReviewResult:
        """Review a pull request, one review at a time per pull request.

        A request that arrives while a review of the same pull request runs waits
        for it; every request arriving meanwhile joins that waiting one, so they
        produce a single review (`full` if any of them was). When the review that
        was running already answered the waiting request (same head, nothing more
        asked), the waiting request takes its result instead of reviewing again.
        A request that names no head reviews the head the pull request has when the
        review starts.
        """
        key = (request.pull.full_name, request.pull.number)
        pull_queue = self._pulls.setdefault(key, _PullQueue())
        pull_queue.users += 1
        try:
            if pull_queue.waiting is not None:
                pull_queue.waiting.absorb(request)
                # Shielded: a cancelled caller must not cancel the others' result.
                return await asyncio.shield(pull_queue.waiting.done)
            behind_another = pull_queue.lock.locked()
            entry = _Waiting(
                # After another review of this PR, there are earlier reviews to read.
                replace(request, first_review=request.first_review and not behind_another),
                asyncio.get_running_loop().create_future(),
            )
            if behind_another:
                pull_queue.waiting = entry
            try:
                async with pull_queue.lock:
                    if pull_queue.waiting is entry:
                        pull_queue.waiting = None  # later requests start a new batch
                    result = await self._run(
                        entry.request, pull_queue, behind_another=behind_another
                    )
            except BaseException as error:
                if pull_queue.waiting is entry:
                    pull_queue.waiting = None
                if isinstance(error, asyncio.CancelledError):
                    entry.done.cancel()
                else:
                    # A bug: the requests waiting behind this one see it too.
                    entry.done.set_exception(error)
                    entry.done.exception()  # retrieved here, so asyncio does not warn if none wait
                raise
            entry.done.set_result(result)
            return result
        finally:
            pull_queue.users -= 1
            if pull_queue.users == 0 and self._pulls.get(key) is pull_queue:
                del self._pulls[key]

    async def _run(
        self, request: ReviewRequest, pull_queue: _PullQueue, *, behind_another: bool
    ) -> ReviewResult:
        last = pull_queue.last if behind_another else None
        result: ReviewResult | None = None
        if last is None or not last.answers(request):
            result = await self._review(request, last)
        if pull_queue.last is not None and (
            result is None or result.outcome is ReviewOutcome.NOT_NEEDED
        ):
            log.info(
                "review not repeated delivery=%s trigger=%s repo=%s pr=%d: the review that "
                "just finished answered it",
                request.delivery_id,
                request.trigger,
                request.pull.full_name,
                request.pull.number,
            )
            return pull_queue.last.result
        assert result is not None  # without an earlier review, nothing answered it
        pull_queue.last = _FinishedReview(result.head_sha, request.full, result)
        self.results.append(result)
        del self.results[: -self._keep_results]
        return result

    async def _review(self, request: ReviewRequest, last: _FinishedReview | None) -> ReviewResult:
        """Run the review in its two steps; in between, act on the head it learnt when
        the request named none: hold it (the push's own events need not review it
        again), and stop when the review that just finished answered it."""
        prepared = await self._reviewer.prepare(request)
        if not isinstance(prepared, ReadyReview):
            return prepared
        if request.pull.state.head_sha is None:
            await self._hold_head(prepared.request.pull, prepared.request.delivery_id)
            if last is not None and last.answers(prepared.request):
                return prepared.not_needed()
        return await prepared.finish()


class DurableReviewQueue(InMemoryReviewQueue):
    """`ReviewQueue` whose deliveries live in a `SqliteJobStore`: each is recorded,
    with its payload, before it is acknowledged, and stays leased to this process
    while its work runs, so that a process that dies leaves it for the next one
    (see `ghapp.jobrunner`). Reviews run as in `InMemoryReviewQueue`."""

    def __init__(
        self, reviewer: Reviewer, store: SqliteJobStore, *, keep_results: int = KEEP_RESULTS
    ) -> None:
        super().__init__(reviewer, keep_results=keep_results)
        self.store = store

    async def start_delivery(
        self, delivery_id: str, *, event: str = "", payload: bytes = b""
    ) -> DeliveryState | None:
        admission = await self.store.admit(delivery_id, event, payload)
        if admission is Admission.HANDLED:
            return DeliveryState.HANDLED
        if admission is Admission.IN_FLIGHT:
            return DeliveryState.IN_FLIGHT
        return None

    async def finish_delivery(self, delivery_id: str, *, returned: bool) -> bool:
        completed = self._incomplete.pop(delivery_id, None) is None
        handled = completed and returned
        await self.store.finish(
            delivery_id, handled=handled, reason="" if handled else "did not complete"
        )
        return handled

    async def release(self, delivery_id: str) -> None:
        self._incomplete.pop(delivery_id, None)
        await self.store.release(delivery_id)

    async def failed_before(self, delivery_id: str) -> bool:
        return await self.store.failed_before(delivery_id)

    async def submit(self, request: ReviewRequest) -> ReviewResult:
        result = await super().submit(request)
        if result.check_run is not None and result.conclusion:
            # The review completed its check: nothing is left to complete for it.
            await self.store.forget_check_run(result.check_run.url)
        return result


class HandedOffQueue:
    """`ReviewQueue` of a web process whose reviews run in its review process
    (`ghapp.reviewprocess`), on the same `SqliteJobStore`: a new delivery is
    recorded as queued, and the review process is woken to claim it. Duplicates
    are told from the store, which both processes share; everything else (heads,
    one review at a time per pull request) is the review process's
    `DurableReviewQueue`'s."""

    def __init__(self, store: SqliteJobStore, wake: Callable[[], None]) -> None:
        self.store = store
        self._wake = wake

    async def start_delivery(
        self, delivery_id: str, *, event: str = "", payload: bytes = b""
    ) -> DeliveryState | None:
        admission = await self.store.admit(delivery_id, event, payload, queued=True)
        if admission is Admission.HANDLED:
            return DeliveryState.HANDLED
        if admission is Admission.IN_FLIGHT:
            return DeliveryState.IN_FLIGHT
        self._wake()
        return DeliveryState.QUEUED

    # The web process runs no handler: what follows is the review process's.

    async def release(self, delivery_id: str) -> None:
        raise _handled_elsewhere()

    async def finish_delivery(self, delivery_id: str, *, returned: bool) -> bool:
        raise _handled_elsewhere()

    async def note_incomplete(self, delivery_id: str) -> None:
        raise _handled_elsewhere()

    async def failed_before(self, delivery_id: str) -> bool:
        raise _handled_elsewhere()

    async def claim_head(self, request: ReviewRequest) -> bool:
        raise _handled_elsewhere()

    async def submit(self, request: ReviewRequest) -> ReviewResult:
        raise _handled_elsewhere()


def _handled_elsewhere() -> RuntimeError:
    return RuntimeError("deliveries are handled by the review process, not the web process")
