"""The review of one pull request: read the changed design docs, run the engine,
publish a Check Run and (when there is something new to ask) one PR review.

API calls per review, in order (N = changed design docs):
  one GraphQL request for everything but the docs (1: the config file at the
  default branch and at the head, the organisation's config, the earlier
  reviews' bodies, the pull request's head, draft state and labels; see
  ghapp.prefetch) · list files (1 per 100 files) · create the check (1) · read
  each doc (N; none for a newly added doc, whose patch is the whole file) · post
  the review (1, +1 on a 422) · complete the check (1). N + 5 in all, whatever
  started the review: a `check_suite` (no draft state or labels in its payload)
  and the comment command (no head) learn what they lack from the same GraphQL
  request. REST reads only fill what the prefetch could not give: `_extends`
  targets, a truncated or binary config file, more than 100 earlier reviews or
  labels, or a failed GraphQL request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

import aiohttp
from gidgethub import HTTPException

from checks.config import ConfigError, Settings
from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp.budget import NotReviewed, Runner, split_engine
from ghapp.commands import is_paused
from ghapp.diff import commentable_lines
from ghapp.github import (
    CheckRun,
    GraphQLFailed,
    InstallationClient,
    PullFile,
    ResponseTooLarge,
)
from ghapp.prefetch import EMPTY_CONTEXT, ContextRequest, PullState, ReviewContext, describe
from ghapp.render import (
    ANNOTATIONS_PER_REQUEST,
    BODY_LIMIT,
    CheckOutput,
    ReviewPlan,
    asked_fingerprints,
    plan_review,
    render_check,
    render_failure,
    render_paused,
    render_skipped,
)
from ghapp.repoconfig import CONFIG_PATH, FileReader, PrefetchedReader, config_errors_at

CHECK_NAME = "Product review"
# Line findings listed for a whole review, shared among its documents (each keeps at
# least the minimum); a report counts the ones it leaves out. GitHub shows 50
# annotations and 10 inline comments, so this is far more than anyone reads.
REVIEW_FINDINGS = 10_000
MIN_FINDINGS_PER_DOCUMENT = 20
# Marker format documented in ghapp.render; used to make a review body carry the
# fingerprints of its inline comments too, so one list call finds everything asked.
_FINGERPRINT_MARKER = "<!-- product-review:fp={} -->"
_REASON_CHARS = 300

log = logging.getLogger("ghapp.review")

Engine = Callable[[str, str, ReviewOptions], DocumentReport]


class SettingsLoader(Protocol):
    def __call__(
        self, reader: FileReader, *, owner: str, repo: str, default_branch: str
    ) -> Awaitable[Settings]: ...


class Known(StrEnum):
    """How much of the pull request's state the event that asked for a review carried.
    What it lacks comes from the review's GraphQL prefetch, at no extra call."""

    # Head, draft state and labels (`pull_request` events), or all a re-run needs
    # (its head; a re-run is explicit, so neither drafts nor pausing stop it).
    EVERYTHING = "everything"
    # The head only (`check_suite`): the draft state and the labels are read, and
    # a head the pull request has moved on from is not reviewed.
    HEAD = "head"
    # Nothing (the comment command, collapsed requests): review the current head.
    NOTHING = "nothing"


@dataclass(frozen=True)
class PullRequestRef:
    """What a review needs to know about the pull request (from the webhook payload)."""

    installation_id: int
    owner: str
    repo: str
    number: int
    head_sha: str  # "" when the event did not say (see `Known.NOTHING`)
    default_branch: str
    repository_url: str  # API URL of the repository
    pull_url: str  # API URL of the pull request
    draft: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


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
    # What `pull` already says; the rest is read when the review starts.
    known: Known = Known.EVERYTHING


# Outcomes of a review that stopped before reviewing anything.
PAUSED = "paused"  # automatic reviews are paused on the PR (the check says so)
SUPERSEDED = "superseded"  # the PR's head moved on; the newer head has its own events
NOT_NEEDED = "not-needed"  # `on_head` said the review that just ran answered this one

# Told the request once the review knows the head it reviews; False stops it.
HeadCallback = Callable[["ReviewRequest"], bool]


@dataclass
class ReviewOutcome:
    """What happened; logged as one line per review."""

    outcome: str = "started"
    head_sha: str = ""  # the head reviewed (learnt during the review when not known)
    documents: int = 0
    findings: int = 0
    inline_comments: int = 0
    review_posted: bool = False
    check_run: CheckRun | None = None
    conclusion: str = ""
    reason: str = ""
    api_calls: int = 0
    duration_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def text_from_added_patch(patch: str | None) -> str | None:
    """The whole file when `patch` is the diff of a newly added text file, else None.

    An added file's patch is one hunk `@@ -0,0 +1,K @@` of K added lines, which
    is exactly the file at the head commit, so it need not be downloaded again.
    Anything unexpected (a count mismatch, an omitted patch) returns None and the
    caller reads the file through the API instead.
    """
    if not patch:
        return None
    lines = patch.split("\n")
    header = re.fullmatch(r"@@ -0,0 \+1(?:,(\d+))? @@.*", lines[0])
    if header is None:
        return None
    expected = 1 if header.group(1) is None else int(header.group(1))
    body = lines[1:]
    if body and body[-1] == "":
        body = body[:-1]
    ends_with_newline = True
    if body and body[-1].startswith("\\"):  # "\ No newline at end of file"
        ends_with_newline = False
        body = body[:-1]
    if len(body) != expected or not all(line.startswith("+") for line in body):
        return None
    text = "\n".join(line[1:] for line in body)
    return text + "\n" if ends_with_newline and body else text


def design_docs(files: Sequence[PullFile], settings: Settings) -> list[PullFile]:
    """Changed files to review: design docs by the settings, not removed.

    A renamed file is judged (and reviewed) under its new name.
    """
    return [
        item for item in files if item.status != "removed" and settings.is_design_doc(item.filename)
    ]


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


def _with_all_fingerprints(plan: ReviewPlan) -> str:
    """The review body, plus a hidden marker for fingerprints only its inline
    comments carry (so reading earlier review bodies alone finds them)."""
    missing = plan.fingerprints - asked_fingerprints([plan.body])
    if not missing:
        return plan.body
    marker = _FINGERPRINT_MARKER.format(",".join(sorted(missing)))
    body = f"{plan.body}\n{marker}"
    return body if len(body.encode("utf-8")) <= BODY_LIMIT else plan.body


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
    pull: PullRequestRef,
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
                pull_url=pull.pull_url,
                commit_id=pull.head_sha,
                body=_with_all_fingerprints(plan),
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


def config_annotations(problems: Sequence[ConfigError]) -> list[dict[str, Any]]:
    """Annotations on the config file a pull request changes, one per problem."""
    return [
        {
            "path": CONFIG_PATH,
            "start_line": problem.line or 1,
            "end_line": problem.line or 1,
            "annotation_level": "failure",
            "title": "Product review configuration",
            "message": str(problem)[:4000],
        }
        for problem in problems
    ]


def with_config_problems(output: CheckOutput, problems: Sequence[ConfigError]) -> CheckOutput:
    """`output` plus what is wrong in the config file this pull request changes.

    The default branch's config still applies to this review (a pull request never
    configures its own review); these problems would apply once it merges.
    """
    if not problems:
        return output
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    note = (
        f"### `{CONFIG_PATH}` in this pull request\n\n"
        f"The changed config file has {count}; this review used the default branch's "
        "config, and the file needs fixing before it merges:\n\n"
        + "\n".join(f"- {str(problem)[:1000]}" for problem in problems)
    )
    summary = f"{output.summary}\n\n{note}"
    if len(summary.encode("utf-8")) > BODY_LIMIT:
        summary = output.summary  # the annotations still say it
    title = output.title
    conclusion = output.conclusion
    if conclusion in ("success", "skipped"):
        conclusion = "neutral"  # a broken config must not pass unnoticed
        title = f"The changed config has {count}"
    return dataclasses.replace(
        output,
        title=title,
        summary=summary,
        conclusion=conclusion,
        annotations=(*config_annotations(problems), *output.annotations),
    )


async def _changed_config_problems(
    reader: FileReader, pull: PullRequestRef, files: Sequence[PullFile]
) -> tuple[ConfigError, ...]:
    if not any(f.filename == CONFIG_PATH and f.status != "removed" for f in files):
        return ()
    return await config_errors_at(reader, owner=pull.owner, repo=pull.repo, ref=pull.head_sha)


async def _prefetch(client: InstallationClient, request: ReviewRequest) -> ReviewContext:
    """The review's one GraphQL request. Should it fail, the review carries on with
    the REST reads it replaces (more calls, same result)."""
    pull = request.pull
    try:
        context = await client.review_context(
            ContextRequest(
                owner=pull.owner,
                repo=pull.repo,
                number=pull.number,
                default_branch=pull.default_branch,
                head_sha="" if request.known is Known.NOTHING else pull.head_sha,
                earlier_reviews=not (request.first_review or request.full),
            )
        )
    except (HTTPException, GraphQLFailed, aiohttp.ClientError, TimeoutError) as error:
        # (A POST is not retried on a dropped connection; the REST reads are.)
        log.warning(
            "prefetch failed, reading through REST delivery=%s repo=%s pr=%d: %s",
            request.delivery_id,
            pull.full_name,
            pull.number,
            describe_error(error),
        )
        return EMPTY_CONTEXT
    if context.problems:
        log.warning(
            "prefetch incomplete, reading the rest through REST delivery=%s repo=%s pr=%d: %s",
            request.delivery_id,
            pull.full_name,
            pull.number,
            describe(context.problems),
        )
    return context


def pull_state_from_api(pull: Mapping[str, Any]) -> PullState:
    """The state in a REST pull request object (GET /pulls/{n})."""
    return PullState(
        head_sha=str(pull["head"]["sha"]),
        draft=bool(pull.get("draft", False)),
        labels=tuple(
            str(label["name"])
            for label in pull.get("labels") or []
            if isinstance(label, Mapping) and label.get("name")
        ),
    )


async def publish_paused(
    client: InstallationClient, pull: PullRequestRef, *, delivery_id: str
) -> None:
    """A completed check that says automatic reviews are paused on this PR (one call)."""
    paused = render_paused()
    await client.create_check_run(
        repository_url=pull.repository_url,
        name=CHECK_NAME,
        head_sha=pull.head_sha,
        status="completed",
        conclusion=paused.conclusion,
        output=paused.output(),
        external_id=delivery_id,
        actions=paused.actions,
    )


async def _resolve(
    client: InstallationClient,
    request: ReviewRequest,
    context: ReviewContext,
    outcome: ReviewOutcome,
) -> ReviewRequest | None:
    """`request` completed with the pull request's state where its event lacked it,
    or None when there is nothing to review: the head moved on (`Known.HEAD`), or
    automatic reviews are paused (then a completed check says so).

    The state comes from the prefetch; REST is asked only when the prefetch could
    not tell (it failed, or the pull request has more than 100 labels)."""
    if request.known is Known.EVERYTHING:
        return request
    state = context.pull
    if state is None or (state.labels is None and not request.explicit):
        try:
            state = pull_state_from_api(await client.get_pull(pull_url=request.pull.pull_url))
        except Exception as error:
            raise ReviewFailed("reading the pull request", error) from error
    pull = request.pull
    if request.known is Known.HEAD and state.head_sha != pull.head_sha:
        outcome.outcome = SUPERSEDED
        return None
    request = replace(request, pull=replace(pull, head_sha=state.head_sha, draft=state.draft))
    outcome.head_sha = state.head_sha
    if not request.explicit and is_paused(state.labels or ()):
        await publish_paused(client, request.pull, delivery_id=request.delivery_id)
        outcome.outcome = PAUSED
        outcome.conclusion = render_paused().conclusion
        return None
    return request


async def _read_documents(
    client: InstallationClient, docs: Sequence[PullFile], *, max_bytes: int
) -> list[tuple[PullFile, str | None]]:
    """Each document's text, or None for one larger than `max_bytes`."""
    texts: list[tuple[PullFile, str | None]] = []
    for item in docs:
        text = text_from_added_patch(item.patch) if item.status == "added" else None
        if text is None:
            try:
                text = await client.read_text(contents_url=item.contents_url, max_bytes=max_bytes)
            except ResponseTooLarge:
                # Over the document cap: the rest is never downloaded or decoded.
                texts.append((item, None))
                continue
            except Exception as error:
                raise ReviewFailed(f"reading {item.filename}", error) from error
        # A byte-order mark would hide the front matter (`category:`) from the engine;
        # the command line drops it too (ghapp.localfiles.decode_document).
        texts.append((item, text.removeprefix("\ufeff")))
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


async def _complete_check(client: InstallationClient, check: CheckRun, output: CheckOutput) -> None:
    # One batch only: the call budget per review must not grow with the findings
    # (render_check was asked for at most one batch and says so when it cut).
    batch = output.annotations[:ANNOTATIONS_PER_REQUEST]
    await client.update_check_run(
        check_run=check,
        status="completed",
        conclusion=output.conclusion,
        output=output.output(batch),
        actions=list(output.actions),
    )


async def review_pull_request(
    request: ReviewRequest,
    *,
    client: InstallationClient,
    engine: Engine,
    load_settings: SettingsLoader,
    on_head: HeadCallback | None = None,
) -> ReviewOutcome:
    """Review one pull request at its head; never leaves a Check Run in progress.

    `on_head` is told the request, its head filled in, before anything is posted;
    when it answers False the review stops there (outcome `NOT_NEEDED`)."""
    started = time.monotonic()
    outcome = ReviewOutcome(head_sha=request.pull.head_sha)
    try:
        await _review(
            request,
            client=client,
            engine=engine,
            load_settings=load_settings,
            outcome=outcome,
            on_head=on_head,
        )
    except asyncio.CancelledError as error:
        outcome.outcome = "cancelled"
        outcome.reason = describe_error(error)
        await _fail_check(client, outcome, request)
        raise
    except Exception as error:
        outcome.outcome = "failed"
        outcome.reason = str(error) if isinstance(error, ReviewFailed) else describe_error(error)
        log.exception(
            "review failed delivery=%s repo=%s pr=%d",
            request.delivery_id,
            request.pull.full_name,
            request.pull.number,
        )
        await _fail_check(client, outcome, request)
    finally:
        # The client belongs to this review: everything it sent counts.
        outcome.api_calls = client.calls
        outcome.duration_ms = round((time.monotonic() - started) * 1000)
        _log_outcome(request, outcome)
    return outcome


async def _fail_check(
    client: InstallationClient, outcome: ReviewOutcome, request: ReviewRequest
) -> None:
    if outcome.check_run is None:
        return
    failure = render_failure(outcome.reason)
    try:
        # Shielded and bounded: this runs during shutdown too, when the task is
        # being cancelled, and must not hang there.
        await asyncio.wait_for(
            asyncio.shield(_complete_check(client, outcome.check_run, failure)), timeout=10
        )
        outcome.conclusion = failure.conclusion
    except (Exception, asyncio.CancelledError) as error:
        log.exception(
            "could not complete the check run after a failure delivery=%s repo=%s pr=%d",
            request.delivery_id,
            request.pull.full_name,
            request.pull.number,
        )
        if isinstance(error, asyncio.CancelledError):
            raise  # the task was cancelled meanwhile: swallowing it would ignore the shutdown


async def _review(
    request: ReviewRequest,
    *,
    client: InstallationClient,
    engine: Engine,
    load_settings: SettingsLoader,
    outcome: ReviewOutcome,
    on_head: HeadCallback | None = None,
) -> None:
    context = await _prefetch(client, request)
    resolved = await _resolve(client, request, context, outcome)
    if resolved is None:
        return
    request = resolved
    if on_head is not None and not on_head(request):
        outcome.outcome = NOT_NEEDED
        return
    pull = request.pull
    reader = PrefetchedReader(context.files, fallback=client)
    settings = await load_settings(
        reader, owner=pull.owner, repo=pull.repo, default_branch=pull.default_branch
    )
    if pull.draft and not settings.drafts and not request.explicit:
        outcome.outcome = "skipped-draft"
        return

    files = await client.list_pull_files(pull_url=pull.pull_url)
    docs = design_docs(files, settings)
    config_problems = await _changed_config_problems(reader, pull, files)
    outcome.documents = len(docs)
    if not docs:
        skipped = with_config_problems(render_skipped(), config_problems)
        await client.create_check_run(
            repository_url=pull.repository_url,
            name=CHECK_NAME,
            head_sha=pull.head_sha,
            status="completed",
            conclusion=skipped.conclusion,
            output=skipped.output(skipped.annotations[:ANNOTATIONS_PER_REQUEST]),
            external_id=request.delivery_id,
        )
        outcome.outcome = "no-design-docs"
        outcome.conclusion = skipped.conclusion
        return

    outcome.check_run = await client.create_check_run(
        repository_url=pull.repository_url,
        name=CHECK_NAME,
        head_sha=pull.head_sha,
        status="in_progress",
        external_id=request.delivery_id,
    )
    max_bytes = split_engine(engine)[1].budget.max_document_bytes
    documents = await _read_documents(client, docs, max_bytes=max_bytes)
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
    outcome.findings = sum(len(report.findings) for report in reports if not report.skipped)
    # Rendering and planning are CPU work too: they run where the engine does.
    _, runner = split_engine(engine)
    try:
        rendered = await runner.run(
            render_check,
            reports,
            settings=settings,
            max_annotations=ANNOTATIONS_PER_REQUEST - min(len(config_problems), 10),
            not_reviewed=not_reviewed,
        )
    except Exception as error:
        raise ReviewFailed("rendering the check", error) from error
    check_output = with_config_problems(rendered, config_problems)

    patches = {item.filename: item.patch for item in docs}
    plan = await _plan(
        runner, reports, patches=patches, asked=frozenset(), settings=settings, full=request.full
    )
    if plan is not None and not (request.first_review or request.full):
        bodies: Sequence[str] | None = context.earlier_bodies
        if bodies is None:  # the prefetch could not tell: read them through REST
            try:
                bodies = await client.list_bot_review_bodies(pull_url=pull.pull_url)
            except Exception as error:
                raise ReviewFailed("reading earlier reviews", error) from error
        plan = await _plan(
            runner, reports, patches=patches, asked=asked_fingerprints(bodies), settings=settings
        )
    if plan is not None:
        try:
            posted = await _post_review(client, pull=pull, plan=plan, patches=patches)
        except Exception as error:
            raise ReviewFailed("posting the review", error) from error
        outcome.review_posted = True
        outcome.inline_comments = len(posted.comments)

    await _complete_check(client, outcome.check_run, check_output)
    outcome.outcome = "reviewed"
    outcome.conclusion = check_output.conclusion


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


def _log_outcome(request: ReviewRequest, outcome: ReviewOutcome) -> None:
    # One logfmt line per review: easy to grep, easy to parse.
    fields: dict[str, object] = {
        "delivery": request.delivery_id,
        "trigger": request.trigger,
        "repo": request.pull.full_name,
        "pr": request.pull.number,
        "head": (outcome.head_sha or request.pull.head_sha)[:12] or "-",
        "outcome": outcome.outcome,
        "documents": outcome.documents,
        "findings": outcome.findings,
        "inline_comments": outcome.inline_comments,
        "review_posted": str(outcome.review_posted).lower(),
        "conclusion": outcome.conclusion or "-",
        "api_calls": outcome.api_calls,
        "duration_ms": outcome.duration_ms,
    }
    if outcome.reason:
        fields["reason"] = outcome.reason
    line = " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())
    log.info("review %s", line)


def _logfmt_value(value: object) -> str:
    text = str(value)
    if not text or any(char in text for char in ' "=\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return text
