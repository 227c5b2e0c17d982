"""The review of one pull request: read the changed design docs, run the engine,
publish a Check Run and (when there is something new to ask) one PR review.

Which changed files are reviewed is `checks.discovery`'s decision, with the
repository's settings, as on the command line: the path decides when it can, and
otherwise a Markdown file's content does.

API calls per review, in order (`prefetch`, then the review itself):
  list files (1 per 100 files) · one GraphQL request for everything else it reads
  (1: the config file at the default branch and at the head, the organisation's
  config, the earlier reviews' bodies, the pull request's head, draft state and
  labels, and the texts of the changed Markdown files that may need reading; see
  ghapp.prefetch) · create the check (1) · post the review (1, +1 on a 422) ·
  complete the check (1). 5 in all, whatever the number of docs up to 100 and
  whatever started the review: a `check_suite` (no draft state or labels in its
  payload) and the comment command (no head) learn what they lack from the same
  GraphQL request, and the comment command hands the review the prefetch it made to
  check who may run it (`Prefetched`).
  Which texts a review needs depends on the settings, which come in that same
  request: so it carries every changed Markdown file that any settings could need
  (an added file's patch is its text: none of those), up to `BLOBS_PER_REQUEST`,
  those most like design docs first; an unneeded text costs bytes, not a call.
  More calls only fill what that request could not give, each said in the log:
  more such files than it carries, or a design doc that is not Markdown (one more
  GraphQL request per 100 of them), and through REST `_extends` targets, a
  truncated or binary file, more than 100 earlier reviews or labels, or a failed
  GraphQL request (one call per file then). A team's model file (`model: PATH`)
  costs one raw read the first time its blob is seen, and none after: the GraphQL
  request asks for its blob SHA (see ghapp.teammodel).
  A modified Markdown file whose path does not decide is decided by its content
  (at most `CONTENT_READS_PER_REVIEW` of them), and a design doc among them is
  reviewed from that text. When a text the review needs is not in hand, the check
  is created before it is read, so that a failed read shows on it; when none of the
  files read then turns out to be a design doc, the "skipped" check costs two calls
  (created, then completed) instead of one.

A review runs in two steps (`Reviewer.prepare`, then `ReadyReview.finish`), so that
the queue running it can act on the head the first step learnt before the second
posts anything (`ghapp.queue`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import aiohttp
from cachetools import TTLCache
from gidgethub import HTTPException

from checks.config import DEFAULT_SETTINGS, ConfigError, Settings
from checks.discovery import (
    Decision,
    decide_by_content,
    decide_by_path,
    is_markdown,
    reading_priority,
)
from checks.fingerprints import asked_fingerprints
from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp import logcontext
from ghapp.apitypes import CheckCompletion
from ghapp.checkrun import (
    ANNOTATIONS_PER_REQUEST,
    CheckOutput,
    PassedOver,
    Unreviewed,
    render_check,
    render_failure,
    render_paused,
    render_skipped,
    with_config_problems,
)
from ghapp.commands import is_paused
from ghapp.diff import commentable_lines, text_from_added_patch
from ghapp.github import (
    CheckRun,
    GitHubApp,
    GraphQLFailed,
    InstallationClient,
    PullFile,
    ResponseTooLarge,
)
from ghapp.metrics import Metrics
from ghapp.prefetch import (
    BLOBS_PER_REQUEST,
    EMPTY_CONTEXT,
    BlobsRequest,
    ContextRequest,
    DocumentBlob,
    ReviewContext,
    describe,
)
from ghapp.pulls import PullRequestRef, PullState
from ghapp.repoconfig import CONFIG_PATH, FileReader, PrefetchedReader, RepoConfigLoader
from ghapp.reviewplan import ReviewPlan, plan_review
from ghapp.teammodel import TeamModels
from localreview.budget import NotReviewed, Runner, split_engine

CHECK_NAME = "Product review"
# Line findings listed for a whole review, shared among its documents (each keeps at
# least the minimum); a report counts the ones it leaves out. GitHub shows 50
# annotations and 10 inline comments, so this is far more than anyone reads.
REVIEW_FINDINGS = 10_000
MIN_FINDINGS_PER_DOCUMENT = 20
# Markdown files read through the API only to decide, by their content, whether they
# are design docs: at most this many per review, so a pull request
# touching hundreds of a docs site's pages stays cheap. The others are not
# reviewed, and the check says so; `paths.include` brings a file in by its path.
# An added file's patch is its text and costs no call: it does not count.
CONTENT_READS_PER_REVIEW = 30
_REASON_CHARS = 300
# A prefetch handed to a review (the comment command's) older than this is read again.
PREFETCH_MAX_AGE_SECONDS = 60.0

log = logging.getLogger("ghapp.review")

Engine = Callable[[str, str, ReviewOptions], DocumentReport]


CheckStarted = Callable[[str, int, CheckRun], Awaitable[None]]
"""Told (delivery id, installation id, check run) when a review creates its check in
progress, before the review goes on: a durable queue records it, so a review its
process never finished still gets its check completed."""


@dataclass(frozen=True)
class Prefetched:
    """What a review reads before it decides anything (`prefetch`): the pull
    request's files, and the one GraphQL request's answer."""

    files: tuple[PullFile, ...]
    context: ReviewContext
    calls: int  # the API calls it took
    taken_at: float  # `time.monotonic()` before the first of them
    # The same moment on the wall clock, which processes on other machines share.
    taken_at_wall: float = 0.0


class _RecentReviews:
    """When a review of each pull request last started or ended, to tell whether a
    prefetch made before the review was submitted still holds: one made before
    another review of the pull request posted misses that review's questions.

    It knows the reviews of this process only: right for a queue that runs every
    review of a pull request in one process (`ghapp.queue`)."""

    def __init__(self) -> None:
        self._last: TTLCache[tuple[str, int], float] = TTLCache(
            maxsize=10_000, ttl=PREFETCH_MAX_AGE_SECONDS
        )

    def mark(self, pull: PullRequestRef) -> None:
        self._last[(pull.full_name, pull.number)] = time.monotonic()

    def still_holds(self, pull: PullRequestRef, prefetched: Prefetched) -> bool:
        if time.monotonic() - prefetched.taken_at > PREFETCH_MAX_AGE_SECONDS:
            return False
        last = self._last.get((pull.full_name, pull.number))
        return last is None or last < prefetched.taken_at


@dataclass(frozen=True)
class ReviewRequest:
    pull: PullRequestRef
    delivery_id: str
    trigger: str  # e.g. "pull_request.synchronize", for the log
    # A pull request that was just opened has no earlier reviews to read.
    first_review: bool = False
    # Someone asked for this review (re-run, command): drafts are reviewed too.
    explicit: bool = False
    # Ask every current question again, ignoring what was already asked.
    full: bool = False
    # What was read for this review before it was submitted (the comment command
    # reads its config so); the review reads it again when another review of the
    # pull request ran since.
    prefetched: Prefetched | None = field(default=None, compare=False, repr=False)

    @property
    def needs_state(self) -> bool:
        """Whether the pull request's state must be read before the review starts: its
        head is not known (the comment command, collapsed requests), or an automatic
        review lacks the draft state and labels that decide whether it runs (a
        `check_suite`). An explicit one needs its head only: neither drafts nor pausing
        stop it."""
        state = self.pull.state
        return state.head_sha is None or not (self.explicit or state.complete)

    @property
    def paused(self) -> bool:
        """Whether this is an automatic review on a pull request where they are paused
        (then a completed check says so instead). A review someone asked for runs."""
        return not self.explicit and is_paused(self.pull.state.labels or ())


class ReviewOutcome(StrEnum):
    """How a review ended; the value is what the log line says."""

    REVIEWED = "reviewed"
    NO_DESIGN_DOCS = "no-design-docs"  # a completed "skipped" check, no review
    SKIPPED_DRAFT = "skipped-draft"  # a draft, and the config does not review drafts
    # Stopped before reviewing anything:
    PAUSED = "paused"  # automatic reviews are paused on the PR (the check says so)
    SUPERSEDED = "superseded"  # the PR's head moved on; the newer head has its own events
    NOT_NEEDED = "not-needed"  # the review that had just run answered this one
    # Did not do the work:
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def completed(self) -> bool:
        """False for a review that did not do its work: neither its delivery nor its
        head is remembered as handled, so a redelivery (or the head's next event)
        reviews again."""
        return self not in (ReviewOutcome.FAILED, ReviewOutcome.CANCELLED)


@dataclass(frozen=True)
class ReviewResult:
    """How a review ended and what it did; logged as one line per review."""

    outcome: ReviewOutcome
    head_sha: str | None  # the head reviewed (learnt during the review when not known)
    documents: int = 0
    findings: int = 0
    inline_comments: int = 0
    review_posted: bool = False
    check_run: CheckRun | None = None
    conclusion: str = ""
    reason: str = ""
    api_calls: int = 0
    duration_ms: int = 0


@dataclass
class Discovery:
    """The pull request's changed files sorted out: the design docs to review, the
    Markdown files not reviewed (and why), and those whose content must still be
    read to decide. A removed file is left out; a renamed one is judged (and
    reviewed) under its new name; a file that is not Markdown is never mentioned."""

    docs: list[PullFile] = field(default_factory=list)
    passed_over: list[PassedOver] = field(default_factory=list)
    to_read: list[PullFile] = field(default_factory=list)
    # Texts already known (an added file's patch, a file read to decide), by file
    # name, as GitHub has them: a design doc among them is not read again.
    texts: dict[str, str] = field(default_factory=dict)

    def decided(self, item: PullFile, decision: Decision) -> None:
        if decision.reviewed:
            self.docs.append(item)
        elif is_markdown(item.filename):
            self.passed_over.append(PassedOver(item.filename, Unreviewed.of(decision.reason)))


def discover_by_path(
    files: Sequence[PullFile], settings: Settings
) -> tuple[Discovery, list[tuple[PullFile, str]]]:
    """What the paths decide, without a call; also the Markdown files whose content
    decides and whose text is known already (an added file's patch), with it.

    Of those whose text must be read, `CONTENT_READS_PER_REVIEW` go to `to_read`,
    those whose names look most like design docs first; the others are passed over
    as not inspected."""
    found = Discovery()
    known: list[tuple[PullFile, str]] = []
    unread: list[PullFile] = []
    for item in files:
        if item.status == "removed":
            continue
        decision = decide_by_path(item.filename, settings)
        if decision is not None:
            found.decided(item, decision)
            continue
        if not is_markdown(item.filename):
            continue
        text = text_from_added_patch(item.patch) if item.status == "added" else None
        if text is not None:
            found.texts[item.filename] = text
            known.append((item, text))
        else:
            unread.append(item)
    # Files that look most like design docs by their names are read first.
    unread.sort(key=lambda item: reading_priority(item.filename))
    found.to_read = unread[:CONTENT_READS_PER_REVIEW]
    found.passed_over += [
        PassedOver(item.filename, Unreviewed.NOT_INSPECTED)
        for item in unread[CONTENT_READS_PER_REVIEW:]
    ]
    return found, known


def decide_all(documents: Sequence[tuple[str, str]]) -> list[Decision]:
    """`checks.discovery.decide_by_content` for each (path, text) its path left
    undecided: one job for the runner."""
    return [decide_by_content(path, text) for path, text in documents]


def describe_error(error: BaseException) -> str:
    """A short reason for the Check Run, without internals beyond the error type."""
    if isinstance(error, HTTPException):
        text = f"GitHub answered {int(error.status_code)} ({error})"
    elif isinstance(error, asyncio.CancelledError):
        text = "the server shut down before the review finished"
    elif isinstance(error, TimeoutError):
        text = "a request to GitHub timed out"
    else:
        text = f"{error.__class__.__name__}: {error}" if str(error) else error.__class__.__name__
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


class ReviewFailed(Exception):
    """A step of the review failed; `step` says which, for the Check Run."""

    def __init__(self, step: str, error: BaseException) -> None:
        self.step = step
        super().__init__(f"{step}: {describe_error(error)}")


class Reviewer:
    """Runs reviews, in two steps: `prepare` learns the pull request's head, and the
    `ReadyReview` it returns reviews that head. Whoever runs the review (the queue)
    decides in between whether it goes on, without a callback into the review."""

    def __init__(
        self,
        *,
        github: GitHubApp,
        engine: Engine,
        config: RepoConfigLoader,
        check_started: CheckStarted | None = None,
        metrics: Metrics | None = None,
        clients: Callable[[int], InstallationClient] | None = None,
        models: TeamModels | None = None,
    ) -> None:
        self._github = github
        # Teams' model files, parsed (`model: PATH` in the config).
        self._models = models if models is not None else TeamModels()
        # Makes each review's client, by installation ID (a preview's sends no writes).
        self._clients = clients if clients is not None else github.installation
        self._engine = engine
        self._config = config
        self._check_started = check_started
        # Where reviews are counted: by default, where the client counts its calls.
        self._metrics = metrics if metrics is not None else github.metrics
        self._recent = _RecentReviews()

    async def prepare(self, request: ReviewRequest) -> ReadyReview | ReviewResult:
        """The review's first step: the pull request's state, from the event or else
        from the review's GraphQL prefetch (REST only when that could not tell).

        Returns the review, ready to go on at the head it now knows, or its result
        when it ends here: the head moved on from the one the event named
        (`SUPERSEDED`), automatic reviews are paused (`PAUSED`, after posting the
        check that says so), or a step failed."""
        # A client of its own: it counts this review's calls and nothing else.
        run = _Run(
            request,
            self._clients(request.pull.installation_id),
            self._metrics,
            recent=self._recent,
        )
        pull = request.pull
        logcontext.bind_review(
            delivery=request.delivery_id, repo=pull.full_name, pr=pull.number, head=run.head_sha
        )
        prefetched = self._handed_over(request, run)
        self._recent.mark(pull)
        try:
            return await self._prepare(run, request, prefetched)
        except (Exception, asyncio.CancelledError) as error:
            return await run.failed(error)

    def _handed_over(self, request: ReviewRequest, run: _Run) -> Prefetched | None:
        """The prefetch the request came with, unless another review of the pull
        request started or ended since it was made (or it is old)."""
        prefetched = request.prefetched
        if prefetched is None:
            return None
        run.earlier_calls = prefetched.calls  # made for this review: they count
        if self._recent.still_holds(request.pull, prefetched):
            return prefetched
        log.info(
            "reading the pull request again: another review of it ran since the prefetch "
            "delivery=%s repo=%s pr=%d",
            request.delivery_id,
            request.pull.full_name,
            request.pull.number,
        )
        return None

    async def _prepare(
        self, run: _Run, request: ReviewRequest, prefetched: Prefetched | None
    ) -> ReadyReview | ReviewResult:
        if request.needs_state:
            prefetched = prefetched or await prefetch(
                run.client, request, model_path=self._model_path(request)
            )
            state = await _current_state(run.client, request, prefetched.context)
            named = request.pull.state.head_sha
            if named is not None and state.head_sha != named:
                return run.result(ReviewOutcome.SUPERSEDED)
            request = replace(request, pull=replace(request.pull, state=state))
        head_sha = request.pull.state.head_sha
        assert head_sha is not None  # named by the event, or read from GitHub
        run.head_sha = head_sha
        logcontext.bind_head(head_sha)
        if request.paused:
            paused = render_paused()
            await _create_check(
                run.client,
                request.pull,
                head_sha=head_sha,
                delivery_id=request.delivery_id,
                shows=paused,
            )
            return run.result(ReviewOutcome.PAUSED, conclusion=paused.conclusion)
        if prefetched is None:
            prefetched = await prefetch(
                run.client, request, model_path=self._model_path(request)
            )
        return ReadyReview(
            run,
            request,
            head_sha=head_sha,
            prefetched=prefetched,
            engine=self._engine,
            config=self._config,
            check_started=self._check_started,
            models=self._models,
        )

    def _model_path(self, request: ReviewRequest) -> str | None:
        return self._config.model_path(owner=request.pull.owner, repo=request.pull.repo)


class ReadyReview:
    """A review whose head is known (`Reviewer.prepare` returned it). `finish`
    reviews that head; `not_needed` ends it there, when the review that had just
    run already answered it."""

    def __init__(
        self,
        run: _Run,
        request: ReviewRequest,
        *,
        head_sha: str,
        prefetched: Prefetched,
        engine: Engine,
        config: RepoConfigLoader,
        check_started: CheckStarted | None = None,
        models: TeamModels | None = None,
    ) -> None:
        self.request = request  # with the pull request's state as GitHub has it
        self._models = models if models is not None else TeamModels()
        self._check_started = check_started
        self.head_sha = head_sha
        self._run = run
        self._prefetched = prefetched
        self._engine = engine
        self._config = config

    def not_needed(self) -> ReviewResult:
        return self._run.result(ReviewOutcome.NOT_NEEDED)

    async def finish(self) -> ReviewResult:
        """Review the head; never leaves a Check Run in progress."""
        try:
            return await self._finish()
        except (Exception, asyncio.CancelledError) as error:
            return await self._run.failed(error)

    async def _finish(self) -> ReviewResult:
        request, run, engine = self.request, self._run, self._engine
        client, pull, head_sha = run.client, request.pull, self.head_sha
        context = self._prefetched.context
        reader = PrefetchedReader(context.files, fallback=client)
        settings = await self._config.load(
            reader, owner=pull.owner, repo=pull.repo, default_branch=pull.default_branch
        )
        if pull.state.draft and not settings.drafts and not request.explicit:
            return run.result(ReviewOutcome.SKIPPED_DRAFT)

        files = self._prefetched.files
        config_problems = await self._changed_config_problems(reader, files)
        _, runner = split_engine(engine)
        max_bytes = runner.budget.max_document_bytes
        found, known = discover_by_path(files, settings)
        await _decide_by_content(runner, found, known)
        carried = _carried_texts(request, context, head_sha=head_sha)
        read, unread = _texts_in_hand(_to_read(found), carried, max_bytes=max_bytes)
        check_run: CheckRun | None = None
        if unread:
            # Reads that cost calls come after the check, so that a failure shows on it.
            check_run = await self._start_check()
            read |= await _read_texts(
                client, request, unread, carried=carried, head_sha=head_sha, max_bytes=max_bytes
            )
        _log_too_large(request, read, max_bytes)
        await _read_to_decide(runner, found, read)
        docs = _in_listed_order(found.docs, files)
        run.documents = len(docs)
        if not docs:
            skipped = with_config_problems(render_skipped(found.passed_over), config_problems)
            if check_run is None:
                await _create_check(
                    client, pull, head_sha=head_sha, delivery_id=request.delivery_id, shows=skipped
                )
            else:
                await _complete_check(client, check_run, skipped)
            return run.result(ReviewOutcome.NO_DESIGN_DOCS, conclusion=skipped.conclusion)
        if check_run is None:
            check_run = await self._start_check()

        # The team's model file, if the config names one: read only now that there is
        # something to review, after the check exists (a failure shows on it).
        settings = await self._models.apply(
            settings,
            client=client,
            runner=runner,
            pull=pull,
            blob=context.model,
        )
        documents = _documents(docs, known=found.texts, read=read)
        results = await _run_engine(engine, documents, settings)
        reports = [result for result in results if isinstance(result, DocumentReport)]
        not_reviewed = [result for result in results if isinstance(result, NotReviewed)]
        for left_out in not_reviewed:
            log.warning(
                "document not reviewed delivery=%s repo=%s pr=%d path=%r: %s",
                request.delivery_id,
                pull.full_name,
                pull.number,
                left_out.path,
                left_out.reason,
            )
        run.findings = sum(len(report.findings) for report in reports if not report.skipped)
        # Rendering and planning are CPU work too: they run where the engine does.
        try:
            rendered = await runner.run(
                render_check,
                reports,
                settings=settings,
                max_annotations=ANNOTATIONS_PER_REQUEST - min(len(config_problems), 10),
                not_reviewed=not_reviewed,
                passed_over=found.passed_over,
            )
        except Exception as error:
            raise ReviewFailed("rendering the check", error) from error
        check_output = with_config_problems(rendered, config_problems)

        patches = {item.filename: item.patch for item in docs}
        plan = await self._plan(runner, reports, patches=patches, settings=settings)
        if plan is not None:
            try:
                posted = await _post_review(
                    client, pull_url=pull.pull_url, head_sha=head_sha, plan=plan, patches=patches
                )
            except Exception as error:
                raise ReviewFailed("posting the review", error) from error
            run.review_posted = True
            run.inline_comments = len(posted.comments)

        await _complete_check(client, check_run, check_output)
        return run.result(ReviewOutcome.REVIEWED, conclusion=check_output.conclusion)

    async def _plan(
        self,
        runner: Runner,
        reports: Sequence[DocumentReport],
        *,
        patches: dict[str, str | None],
        settings: Settings,
    ) -> ReviewPlan | None:
        """The review to post, asking only what earlier reviews did not (everything in
        a first or a full review); None when there is nothing to ask."""
        request, full = self.request, self.request.full
        plan = await _plan(
            runner, reports, patches=patches, asked=frozenset(), settings=settings, full=full
        )
        if plan is None or request.first_review or full:
            return plan
        bodies: Sequence[str] | None = self._prefetched.context.earlier_bodies
        if bodies is None:  # the prefetch could not tell: read them through REST
            try:
                client = self._run.client
                bodies = await client.list_bot_review_bodies(pull_url=request.pull.pull_url)
            except Exception as error:
                raise ReviewFailed("reading earlier reviews", error) from error
        asked = asked_fingerprints(bodies)
        return await _plan(runner, reports, patches=patches, asked=asked, settings=settings)

    async def _start_check(self) -> CheckRun:
        """The check, in progress until the review completes it."""
        request, run = self.request, self._run
        check_run = await _create_check(
            run.client, request.pull, head_sha=self.head_sha, delivery_id=request.delivery_id
        )
        run.check_run = check_run
        if self._check_started is not None:
            await self._check_started(request.delivery_id, request.pull.installation_id, check_run)
        return check_run

    async def _changed_config_problems(
        self, reader: FileReader, files: Sequence[PullFile]
    ) -> tuple[ConfigError, ...]:
        if not any(f.filename == CONFIG_PATH and f.status != "removed" for f in files):
            return ()
        pull = self.request.pull
        return await self._config.errors_at(
            reader, owner=pull.owner, repo=pull.repo, ref=self.head_sha
        )


@dataclass
class _Run:
    """One review as it runs: its client, and what it did so far, which its result
    says (also after a failure) and which a failure needs (the check to complete)."""

    request: ReviewRequest  # as submitted: the log line names its delivery and trigger
    client: InstallationClient
    metrics: Metrics
    started: float = field(default_factory=time.monotonic)
    head_sha: str | None = field(init=False)  # the head named, then the head learnt
    documents: int = 0
    findings: int = 0
    inline_comments: int = 0
    review_posted: bool = False
    check_run: CheckRun | None = None
    # Calls made for this review before it started (the comment command's prefetch).
    earlier_calls: int = 0
    # Told when the review ends, so that a prefetch made before then is not trusted.
    recent: _RecentReviews | None = None

    def __post_init__(self) -> None:
        self.head_sha = self.request.pull.state.head_sha

    def result(
        self, outcome: ReviewOutcome, *, conclusion: str = "", reason: str = ""
    ) -> ReviewResult:
        """The review's result, logged and counted."""
        result = ReviewResult(
            outcome=outcome,
            head_sha=self.head_sha,
            documents=self.documents,
            findings=self.findings,
            inline_comments=self.inline_comments,
            review_posted=self.review_posted,
            check_run=self.check_run,
            conclusion=conclusion,
            reason=reason,
            # The client belongs to this review: everything it sent counts.
            api_calls=self.client.calls + self.earlier_calls,
            duration_ms=round((time.monotonic() - self.started) * 1000),
        )
        if self.recent is not None:
            self.recent.mark(self.request.pull)
        _log_result(self.request, result)
        self.metrics.review_finished(outcome, duration_seconds=result.duration_ms / 1000)
        if outcome is ReviewOutcome.REVIEWED:
            self.metrics.documents_reviewed(documents=self.documents, findings=self.findings)
        logcontext.unbind_review()
        return result

    async def failed(self, error: Exception | asyncio.CancelledError) -> ReviewResult:
        """The result of a review stopped by `error`, once the check it created (if
        any) says why. A cancellation is logged, then raised again."""
        if isinstance(error, asyncio.CancelledError):
            reason = describe_error(error)
            conclusion = ""
            try:
                conclusion = await self._fail_check(reason)
            finally:
                self.result(ReviewOutcome.CANCELLED, conclusion=conclusion, reason=reason)
            raise error
        log.error(
            "review failed delivery=%s repo=%s pr=%d",
            self.request.delivery_id,
            self.request.pull.full_name,
            self.request.pull.number,
            exc_info=error,
        )
        reason = str(error) if isinstance(error, ReviewFailed) else describe_error(error)
        conclusion = await self._fail_check(reason)
        return self.result(ReviewOutcome.FAILED, conclusion=conclusion, reason=reason)

    async def _fail_check(self, reason: str) -> str:
        """Complete the check, if the review created one, with `reason`. Returns its
        conclusion, or "" when there was no check or it could not be completed."""
        if self.check_run is None:
            return ""
        failure = render_failure(reason)
        completing = asyncio.ensure_future(_complete_check(self.client, self.check_run, failure))
        # Once nobody awaits it (a timeout, a cancellation), its outcome is read here,
        # so a late failure is not reported as "never retrieved".
        completing.add_done_callback(_retrieve_outcome)
        try:
            # Shielded and bounded: this runs during shutdown too, when the task is
            # being cancelled, and must not hang there.
            await asyncio.wait_for(asyncio.shield(completing), timeout=10)
        except (Exception, asyncio.CancelledError) as error:
            log.exception(
                "could not complete the check run after a failure delivery=%s repo=%s pr=%d",
                self.request.delivery_id,
                self.request.pull.full_name,
                self.request.pull.number,
            )
            if isinstance(error, asyncio.CancelledError):
                raise  # the task was cancelled meanwhile: swallowing it would ignore the shutdown
            return ""
        return failure.conclusion


def _retrieve_outcome(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _unplaceable(plan: ReviewPlan, patches: dict[str, str | None]) -> list[int]:
    """Indexes of comments whose line our own reading of the diff cannot place."""
    return [
        index
        for index, comment in enumerate(plan.comments)
        if comment.line not in commentable_lines(patches.get(comment.path))
    ]


async def _post_review(
    client: InstallationClient,
    *,
    pull_url: str,
    head_sha: str,
    plan: ReviewPlan,
    patches: dict[str, str | None],
) -> ReviewPlan:
    """Post the review; on a 422 post it again with the rejected comments moved to
    the body. GitHub does not say which comment it rejected, so the retry drops
    the ones our diff reading cannot place, or all of them when that finds none
    (typically the head moved on since the files were listed)."""
    attempts = 0
    while True:
        attempts += 1
        try:
            await client.create_review(
                pull_url=pull_url,
                commit_id=head_sha,
                body=plan.as_request_body(),
                comments=plan.as_request_comments(),
            )
            return plan
        except HTTPException as error:
            if int(error.status_code) != 422 or not plan.comments or attempts >= 3:
                raise
            suspects = _unplaceable(plan, patches) if attempts == 1 else []
            dropped = suspects or list(range(len(plan.comments)))
            log.warning(
                "review rejected (422: %s); retrying with %d of %d inline comments moved "
                "to the body",
                error,
                len(dropped),
                len(plan.comments),
            )
            plan = plan.without(dropped)


async def prefetch(
    client: InstallationClient, request: ReviewRequest, *, model_path: str | None = None
) -> Prefetched:
    """What the review of `request` reads before it decides anything: the pull
    request's files, then its one GraphQL request, which carries the texts of the
    changed files that may need reading along with the rest, and the blob SHA of
    `model_path` (the model file the config named last time), if any."""
    taken_at, taken_at_wall, calls = time.monotonic(), time.time(), client.calls
    files = tuple(await client.list_pull_files(pull_url=request.pull.pull_url))
    context = await _fetch_context(
        client,
        request,
        documents=files,
        earlier_reviews=not (request.first_review or request.full),
        model_path=model_path,
    )
    return Prefetched(
        files, context, calls=client.calls - calls, taken_at=taken_at, taken_at_wall=taken_at_wall
    )


async def prefetch_config(client: InstallationClient, request: ReviewRequest) -> ReviewContext:
    """The GraphQL request without texts or earlier reviews: what a comment command
    that reviews nothing needs (the config files)."""
    return await _fetch_context(client, request, documents=(), earlier_reviews=False)


def _reading_order(item: PullFile) -> tuple[int, int]:
    """Lower first: the files most likely to need reading, when not all can come in
    the GraphQL request. Those the default settings review by their path, then those
    whose content would decide (named like design docs first), then the rest."""
    decision = decide_by_path(item.filename, DEFAULT_SETTINGS)
    rank = 1 if decision is None else 0 if decision.reviewed else 2
    return rank, reading_priority(item.filename)


def _documents_to_prefetch(files: Sequence[PullFile]) -> list[PullFile]:
    """Every changed Markdown file whose text some settings could need: not removed,
    and not an added file whose patch is its text. Which of them the review reads is
    known only once the settings, in the same request, are."""
    wanted = [
        item
        for item in files
        if item.status != "removed"
        and is_markdown(item.filename)
        and not (item.status == "added" and text_from_added_patch(item.patch) is not None)
    ]
    return sorted(wanted, key=_reading_order)


async def _fetch_context(
    client: InstallationClient,
    request: ReviewRequest,
    *,
    documents: Sequence[PullFile],
    earlier_reviews: bool,
    model_path: str | None = None,
) -> ReviewContext:
    """The review's one GraphQL request, with the texts of up to `BLOBS_PER_REQUEST`
    of `documents` (and `model_path`'s blob SHA). Should it fail, the review carries
    on with the REST reads it replaces (more calls, same result)."""
    pull = request.pull
    wanted = _documents_to_prefetch(documents)
    carried = wanted[:BLOBS_PER_REQUEST]
    # At the head; when it is not known yet, at the commit the files were listed at
    # (the review uses those texts only if that is the head it learns).
    ref = pull.state.head_sha or next((item.ref for item in carried if item.ref), None)
    # The model file on the default branch, as the config: a pull request must not
    # change what judges it.
    model_ref = pull.default_branch
    if len(wanted) > len(carried):
        log.info(
            "%d changed Markdown files, the texts of %d in the review's GraphQL request; "
            "any other one the review needs costs a request more delivery=%s repo=%s pr=%d",
            len(wanted),
            len(carried),
            request.delivery_id,
            pull.full_name,
            pull.number,
        )
    context_request = ContextRequest(
        owner=pull.owner,
        repo=pull.repo,
        number=pull.number,
        default_branch=pull.default_branch,
        head_sha=pull.state.head_sha,
        earlier_reviews=earlier_reviews,
        documents=tuple(item.filename for item in carried) if ref else (),
        documents_ref=ref,
        model_path=model_path if model_ref else None,
        model_ref=model_ref if model_path else None,
    )
    try:
        context = await client.review_context(context_request)
    except ResponseTooLarge as error:
        if not context_request.documents:
            return _prefetch_failed(request, error)
        log.warning(
            "the review's GraphQL answer with %d texts was too large, asking again without "
            "them delivery=%s repo=%s pr=%d",
            len(context_request.documents),
            request.delivery_id,
            pull.full_name,
            pull.number,
        )
        return await _fetch_context(
            client, request, documents=(), earlier_reviews=earlier_reviews, model_path=model_path
        )
    except (HTTPException, GraphQLFailed, aiohttp.ClientError, TimeoutError) as error:
        # (A POST is not retried on a dropped connection; the REST reads are.)
        return _prefetch_failed(request, error)
    if context.problems:
        log.warning(
            "prefetch incomplete, reading the rest through REST delivery=%s repo=%s pr=%d: %s",
            request.delivery_id,
            pull.full_name,
            pull.number,
            describe(context.problems),
        )
    return context


def _prefetch_failed(request: ReviewRequest, error: BaseException) -> ReviewContext:
    log.warning(
        "prefetch failed, reading through REST delivery=%s repo=%s pr=%d: %s",
        request.delivery_id,
        request.pull.full_name,
        request.pull.number,
        describe_error(error),
    )
    return EMPTY_CONTEXT


async def _current_state(
    client: InstallationClient, request: ReviewRequest, context: ReviewContext
) -> PullState:
    """The pull request's state as GitHub has it now. It comes from the prefetch;
    REST is asked only when the prefetch could not tell (it failed, or the pull
    request has more than 100 labels and an automatic review needs them all)."""
    state = context.pull
    if state is None or (state.labels is None and not request.explicit):
        try:
            state = PullState.from_api(await client.get_pull(pull_url=request.pull.pull_url))
        except Exception as error:
            raise ReviewFailed("reading the pull request", error) from error
    return state


def _completion(shows: CheckOutput) -> CheckCompletion:
    # One batch of annotations only: the call budget per review must not grow with
    # the findings (render_check was asked for at most one batch and says so when it cut).
    return {
        "conclusion": shows.conclusion,
        "output": shows.output(shows.annotations[:ANNOTATIONS_PER_REQUEST]),
        "actions": list(shows.actions),
    }


async def _create_check(
    client: InstallationClient,
    pull: PullRequestRef,
    *,
    head_sha: str,
    delivery_id: str,
    shows: CheckOutput | None = None,
) -> CheckRun:
    """The Product review check on the head: completed, showing `shows`, or in
    progress until `_complete_check` completes it."""
    return await client.create_check_run(
        repository_url=pull.repository_url,
        name=CHECK_NAME,
        head_sha=head_sha,
        external_id=delivery_id,
        completion=None if shows is None else _completion(shows),
    )


async def _complete_check(client: InstallationClient, check: CheckRun, shows: CheckOutput) -> None:
    await client.complete_check_run(check_run=check, completion=_completion(shows))


async def _decide_by_content(
    runner: Runner,
    found: Discovery,
    documents: Sequence[tuple[PullFile, str]],
) -> None:
    """Decide by its content, for each (file, text) whose path did not decide, in one
    job where the engine runs (it is CPU work, however small)."""
    if not documents:
        return
    named = [(item.filename, _without_bom(text)) for item, text in documents]
    try:
        decisions = await runner.run(decide_all, named)
    except Exception as error:
        raise ReviewFailed("deciding which files are design documents", error) from error
    for (item, _), decision in zip(documents, decisions, strict=True):
        found.decided(item, decision)


async def _read_to_decide(
    runner: Runner,
    found: Discovery,
    texts: Mapping[str, str | None],
) -> None:
    """Decide, by their `texts` (read with the bounded read a design doc gets), the
    files whose content decides (`found.to_read`, already capped). The texts are
    kept: a design doc among them is reviewed without a second read. A file over the
    size limit (None) is passed over as not inspected."""
    documents: list[tuple[PullFile, str]] = []
    for item in found.to_read:
        text = texts[item.filename]
        if text is None:
            found.passed_over.append(PassedOver(item.filename, Unreviewed.TOO_LARGE))
            continue
        found.texts[item.filename] = text
        documents.append((item, text))
    found.to_read = []
    await _decide_by_content(runner, found, documents)


def _to_read(found: Discovery) -> list[PullFile]:
    """The files whose text must be read: those whose content decides, and the design
    docs whose text is not known already (from an added file's patch)."""
    unknown = [
        item
        for item in found.docs
        if item.filename not in found.texts
        and not (item.status == "added" and text_from_added_patch(item.patch) is not None)
    ]
    return [*found.to_read, *unknown]


def _carried_texts(
    request: ReviewRequest, context: ReviewContext, *, head_sha: str
) -> Mapping[str, DocumentBlob | None]:
    """The blobs the review's GraphQL request carried, by path, if they are at the
    head reviewed (the head may have moved on since the files were listed)."""
    if context.documents_ref == head_sha:
        return context.documents
    if context.documents:
        log.info(
            "the texts in the review's GraphQL request are at %s, not at the head: "
            "reading the ones needed again delivery=%s repo=%s pr=%d",
            (context.documents_ref or "")[:12],
            request.delivery_id,
            request.pull.full_name,
            request.pull.number,
        )
    return {}


def _text_of(blob: DocumentBlob | None, *, max_bytes: int) -> tuple[bool, str | None]:
    """(known, text) for what GraphQL gave of a file: its text, or None when it is
    larger than `max_bytes` (dropped: never decoded, never downloaded again); not
    known when GraphQL gave nothing or not the whole text."""
    if blob is not None and blob.byte_size > max_bytes:
        return True, None
    if blob is not None and blob.text is not None:
        return True, blob.text
    return False, None


def _texts_in_hand(
    items: Sequence[PullFile], carried: Mapping[str, DocumentBlob | None], *, max_bytes: int
) -> tuple[dict[str, str | None], list[PullFile]]:
    """The texts of `items` the GraphQL request carried (None: over `max_bytes`), and
    the files whose text must still be read."""
    texts: dict[str, str | None] = {}
    unread: list[PullFile] = []
    for item in items:
        known, text = _text_of(carried.get(item.filename), max_bytes=max_bytes)
        if known:
            texts[item.filename] = text
        else:
            unread.append(item)
    return texts, unread


async def _read_texts(
    client: InstallationClient,
    request: ReviewRequest,
    items: Sequence[PullFile],
    *,
    carried: Mapping[str, DocumentBlob | None],
    head_sha: str,
    max_bytes: int,
) -> dict[str, str | None]:
    """Each file's text at the head by file name, or None when it is larger than
    `max_bytes`, for files whose text the review's GraphQL request did not give. Those
    it did not carry come in one more GraphQL request per `BLOBS_PER_REQUEST` files;
    REST reads only what GraphQL did not give (a truncated or binary blob, a failed
    request), one call each. The log says why each of those calls is made."""
    pull = request.pull
    blobs: dict[str, DocumentBlob | None] = dict(carried)
    to_ask = [item for item in items if item.filename not in carried]
    batches = [
        to_ask[start : start + BLOBS_PER_REQUEST]
        for start in range(0, len(to_ask), BLOBS_PER_REQUEST)
    ]
    if batches:
        log.info(
            "reading %d more files' texts in %d more GraphQL requests: the review's "
            "GraphQL request did not carry them delivery=%s repo=%s pr=%d",
            len(to_ask),
            len(batches),
            request.delivery_id,
            pull.full_name,
            pull.number,
        )
    for batch in batches:
        paths = tuple(item.filename for item in batch)
        try:
            blobs |= await client.document_blobs(
                BlobsRequest(owner=pull.owner, repo=pull.repo, ref=head_sha, paths=paths)
            )
        except (
            HTTPException,
            GraphQLFailed,
            ResponseTooLarge,
            aiohttp.ClientError,
            TimeoutError,
        ) as error:
            log.warning(
                "reading %d files through GraphQL failed, reading them through REST "
                "delivery=%s repo=%s pr=%d: %s",
                len(paths),
                request.delivery_id,
                pull.full_name,
                pull.number,
                describe_error(error),
            )
    texts: dict[str, str | None] = {}
    for item in items:
        blob = blobs.get(item.filename)
        known, text = _text_of(blob, max_bytes=max_bytes)
        if not known:
            log.info(
                "reading a file through REST delivery=%s repo=%s pr=%d path=%r: %s",
                request.delivery_id,
                pull.full_name,
                pull.number,
                item.filename,
                f"{blob.unreadable} in GraphQL" if blob is not None else "not in GraphQL's answer",
            )
            text = await _read_text(client, item, max_bytes=max_bytes)
        texts[item.filename] = text
    return texts


def _log_too_large(request: ReviewRequest, texts: Mapping[str, str | None], max_bytes: int) -> None:
    too_large = [path for path, text in texts.items() if text is None]
    if too_large:
        log.info(
            "%d files larger than the document size limit (%d bytes), their texts dropped "
            "delivery=%s repo=%s pr=%d: %s",
            len(too_large),
            max_bytes,
            request.delivery_id,
            request.pull.full_name,
            request.pull.number,
            ", ".join(repr(path) for path in too_large[:5]) + (" …" if len(too_large) > 5 else ""),
        )


def _in_listed_order(docs: Sequence[PullFile], files: Sequence[PullFile]) -> list[PullFile]:
    position = {item.filename: index for index, item in enumerate(files)}
    return sorted(docs, key=lambda item: position[item.filename])


async def _read_text(client: InstallationClient, item: PullFile, *, max_bytes: int) -> str | None:
    """The file at the head, or None when it is larger than `max_bytes` (the rest is
    then never downloaded or decoded)."""
    try:
        return await client.read_text(contents_url=item.contents_url, max_bytes=max_bytes)
    except ResponseTooLarge:
        return None
    except Exception as error:
        raise ReviewFailed(f"reading {item.filename}", error) from error


def _without_bom(text: str) -> str:
    # A byte-order mark would hide the front matter (`category:`, `product_review:`)
    # from the engine and from the content's score; the command line drops it too
    # (localreview.files.decode_document).
    return text.removeprefix("\ufeff")


def _documents(
    docs: Sequence[PullFile], *, known: Mapping[str, str], read: Mapping[str, str | None]
) -> list[tuple[PullFile, str | None]]:
    """Each document's text, or None for one over the size limit: from `known` (by
    file name), an added file's patch, or else what `_read_texts` read."""
    texts: list[tuple[PullFile, str | None]] = []
    for item in docs:
        text = known.get(item.filename)
        if text is None and item.status == "added":
            text = text_from_added_patch(item.patch)
        if text is None:
            text = read[item.filename]
        texts.append((item, None if text is None else _without_bom(text)))
    return texts


async def _run_engine(
    engine: Engine, documents: Sequence[tuple[PullFile, str | None]], settings: Settings
) -> list[DocumentReport | NotReviewed]:
    """Each document reviewed within its budget, all at once (the runner bounds how
    many run in parallel). A document over a limit is a `NotReviewed`; an engine
    error fails the review."""
    function, runner = split_engine(engine)
    # The reports cross to the server process and back to the workers for rendering
    # and planning; their size is bounded for the whole review, not only per document.
    per_document = max(MIN_FINDINGS_PER_DOCUMENT, REVIEW_FINDINGS // max(len(documents), 1))

    def options_for(path: str) -> ReviewOptions:
        options = settings.options_for(path)
        return dataclasses.replace(options, max_findings=min(options.max_findings, per_document))

    async def review_one(item: PullFile, text: str | None) -> DocumentReport | NotReviewed:
        if text is None:
            return runner.budget.too_large(item.filename)
        try:
            return await runner.review(function, text, item.filename, options_for(item.filename))
        except Exception as error:
            raise ReviewFailed(f"the review engine failed on {item.filename}", error) from error

    jobs = [asyncio.ensure_future(review_one(item, text)) for item, text in documents]
    try:
        return list(await asyncio.gather(*jobs))
    finally:
        for job in jobs:  # after a failure (or a shutdown), stop the other documents' work
            job.cancel()


async def _plan(
    runner: Runner,
    reports: Sequence[DocumentReport],
    *,
    patches: dict[str, str | None],
    asked: frozenset[str],
    settings: Settings,
    full: bool = False,
) -> ReviewPlan | None:
    try:
        return await runner.run(
            plan_review, reports, patches=patches, asked=asked, settings=settings, full=full
        )
    except Exception as error:
        raise ReviewFailed("planning the review", error) from error


def _log_result(request: ReviewRequest, result: ReviewResult) -> None:
    # One logfmt line per review: easy to grep, easy to parse.
    fields: dict[str, object] = {
        "delivery": request.delivery_id,
        "trigger": request.trigger,
        "repo": request.pull.full_name,
        "pr": request.pull.number,
        "head": (result.head_sha or "")[:12] or "-",
        "outcome": result.outcome,
        "documents": result.documents,
        "findings": result.findings,
        "inline_comments": result.inline_comments,
        "review_posted": str(result.review_posted).lower(),
        "conclusion": result.conclusion or "-",
        "api_calls": result.api_calls,
        "duration_ms": result.duration_ms,
    }
    if result.reason:
        fields["reason"] = result.reason
    line = " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())
    log.info("review %s", line)


def _logfmt_value(value: object) -> str:
    text = str(value)
    if not text or any(char in text for char in ' "=\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return text
