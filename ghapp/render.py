"""Turn review reports into what GitHub shows: a Check Run output and a PR review.

Pure functions, no I/O: the handlers send what these build. Everything stays
within GitHub's limits. GitHub documents the Check Run summary and text limits as
65,535 "characters" but enforces them as UTF-8 bytes ("summary exceeds a maximum
bytesize of 65535"), so every limit here is measured in bytes, which also keeps
the character count under the documented limit.

Repeats are avoided without server state: every question posted in a review
carries a short fingerprint in a hidden HTML comment
(`<!-- product-review:fp=1a2b3c4d5e6f -->`) in its inline comment, and the
review body's marker lists every fingerprint of that review (inline ones too),
so `asked_fingerprints` over earlier review bodies knows everything asked.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import heapq
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias, TypeVar

from checks.config import CommentMode, Settings
from checks.formats import extra_notes
from checks.report import (
    DimensionResult,
    DocumentReport,
    Finding,
    FindingKind,
    Requirement,
    Severity,
    Status,
)
from ghapp.budget import NotReviewed
from ghapp.diff import commentable_lines

# GitHub's limits (summary, text, review and comment bodies: UTF-8 bytes).
BODY_LIMIT = 65_535
TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
ANNOTATIONS_PER_REQUEST = 50

# Single questions, reasons and excerpts are clipped to these many characters so
# that one runaway finding cannot crowd everything else out of a field.
_QUESTION_CHARS = 600
_WHY_CHARS = 400
_EXCERPT_CHARS = 200
_NOTE_CHARS = 400

RERUN_ACTION_ID = "rerun"
# The Check Run button; GitHub allows label ≤ 20, description ≤ 40 and
# identifier ≤ 20 characters.
RERUN_ACTIONS: tuple[dict[str, str], ...] = (
    {
        "label": "Re-run review",
        "description": "Review this PR's design docs again",
        "identifier": RERUN_ACTION_ID,
    },
)

DIMENSION_LABELS: Mapping[str, str] = {
    "problem": "Problem",
    "users": "Users",
    "why_now": "Why now",
    "metrics": "Metrics",
    "evidence": "Evidence",
    "alternatives": "Alternatives",
    "non_goals": "Non-goals",
    "incremental": "Smallest step",
    "risks": "Risks",
}

CHECK_LABELS: Mapping[str, str] = {
    "solution-first": "Solution-first",
    "absolute-requirement": "Absolute requirement",
    "unquantified-goal": "Unquantified goal",
    "unsupported-demand": "Unsupported demand",
    "technology-first": "Technology-first",
    "placeholder": "Placeholder",
}

_ANNOTATION_LEVELS: Mapping[Severity, str] = {
    Severity.ERROR: "failure",
    Severity.WARNING: "warning",
    Severity.SUGGESTION: "notice",
}

MARK_PRESENT = "✅"
MARK_WEAK = "⚠️"
MARK_MISSING = "❌"
MARK_OPTIONAL = "➖"
MARK_NOT_ASKED = "—"
LEGEND = (
    f"{MARK_PRESENT} covered · {MARK_WEAK} weak · {MARK_MISSING} missing · "
    f"{MARK_OPTIONAL} optional for this kind of work, not covered · "
    f"{MARK_NOT_ASKED} not asked for this kind of work"
)

# Room kept for the "cut to fit" notice when a field is truncated.
_NOTICE_ROOM = 400
_CUT_SUMMARY = "Cut to fit GitHub's size limit for the summary"
_CUT_DETAILS = "Cut to fit GitHub's size limit for the details"
_CUT_REVIEW = "Cut to fit GitHub's size limit for a review"

_MARKER_PREFIX = "<!-- product-review:fp="
_MARKER = re.compile(r"<!-- product-review:fp=([0-9a-f,]*) -->")
_FINGERPRINT_HEX_CHARS = 12


# --------------------------------------------------------------------------- Check Run


@dataclass(frozen=True)
class CheckOutput:
    """Everything a completed `Product review` Check Run shows."""

    title: str
    summary: str
    text: str
    conclusion: str  # success | neutral | failure | skipped
    annotations: tuple[dict[str, Any], ...] = ()
    actions: tuple[dict[str, str], ...] = ()

    def output(self, annotations: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """The request's `output` object, with one batch of annotations (`text` only if any)."""
        result: dict[str, Any] = {"title": self.title, "summary": self.summary}
        if self.text:
            result["text"] = self.text
        if annotations:
            result["annotations"] = list(annotations)
        return result


def render_check(
    reports: Sequence[DocumentReport],
    *,
    settings: Settings,
    max_annotations: int | None = None,
    not_reviewed: Sequence[NotReviewed] = (),
) -> CheckOutput:
    """The Check Run for one review: scorecard, top questions, details, annotations.

    Conclusion: `failure` when a finding reaches `fail_on`, `neutral` when there
    are questions (or a document went over a limit and was not reviewed, or the
    repository config has problems to point out), `success` when there is nothing
    to ask, `skipped` when every document opted out.
    `max_annotations` keeps the most severe ones (the rest stay in the details).
    """
    ordered = sorted(reports, key=lambda report: report.path)
    reviewed = [report for report in ordered if not report.skipped]
    skipped = [report for report in ordered if report.skipped]
    left_out = sorted(not_reviewed, key=lambda document: document.path)
    if not ordered and not left_out:
        return render_skipped()

    question_count = sum(len(report.findings) + report.omitted_findings for report in reviewed)
    failing_level = settings.fail_on.severity
    blocking = (
        0
        if failing_level is None
        else sum(
            1
            for report in reviewed
            for finding in report.findings
            if finding.severity.rank >= failing_level.rank
        )
    )
    if blocking:
        conclusion = "failure"
    elif question_count or left_out:
        conclusion = "neutral"  # a document left out must not pass as a green check
    elif not reviewed:
        conclusion = "skipped"
    elif settings.errors:
        conclusion = "neutral"  # a broken config must not hide behind a green check
    else:
        conclusion = "success"

    # Only the annotations sent are rendered: a report may hold 100,000 findings.
    located_count = sum(1 for _ in _annotated_findings(reviewed))
    left_unannotated = 0
    located: Iterable[_Located] = _annotated_findings(reviewed)
    if max_annotations is not None and located_count > max_annotations:
        left_unannotated = located_count - max(max_annotations, 0)
        located = _most_severe(located, max(max_annotations, 0))
    annotations = [_annotation(report, finding) for report, finding in located]

    return CheckOutput(
        title=_check_title(
            len(reviewed), len(skipped), question_count, blocking, settings, len(left_out)
        ),
        summary=_check_summary(
            reviewed, skipped, question_count, blocking, settings, left_unannotated, left_out
        ),
        text=_check_text(ordered, left_out),
        conclusion=conclusion,
        annotations=tuple(annotations),
        actions=RERUN_ACTIONS,
    )


def render_skipped() -> CheckOutput:
    """No design document changed in the pull request."""
    return CheckOutput(
        title="No design documents changed",
        summary=(
            "No file changed in this pull request looks like a design document, "
            "so there is nothing to review."
        ),
        text="",
        conclusion="skipped",
    )


def render_failure(reason: str) -> CheckOutput:
    """The review started but could not finish; the check must not stay in progress."""
    reason_text = _clip_bytes(reason.strip() or "unknown error", 4_000)
    return CheckOutput(
        title="Product review could not complete",
        summary=(
            "The review stopped before it could finish, so no questions were posted "
            "for this run.\n\n"
            f"**Reason:** {_plain(reason_text)}\n\n"
            "Use the **Re-run review** button, or comment `/product-review` on the pull request, "
            "to try again."
        ),
        text="",
        conclusion="neutral",
        actions=RERUN_ACTIONS,
    )


def render_paused() -> CheckOutput:
    """Automatic reviews are paused on this pull request."""
    return CheckOutput(
        title="Product review is paused on this pull request",
        summary=(
            "Automatic reviews are paused on this pull request. "
            "Comment `/product-review resume` to turn them back on, "
            "or `/product-review` (or the **Re-run review** button) for a one-off review."
        ),
        text="",
        conclusion="skipped",
        actions=RERUN_ACTIONS,
    )


def _check_title(
    reviewed: int,
    skipped: int,
    questions: int,
    blocking: int,
    settings: Settings,
    not_reviewed: int = 0,
) -> str:
    if reviewed:
        title = f"{_plural(reviewed, 'document')}, "
        title += _plural(questions, "question") if questions else "no questions"
        if blocking:
            title += f", {blocking} at the failing level"
    elif skipped:
        title = f"{_plural(skipped, 'document')} skipped"
    else:
        title = ""
    if not_reviewed:
        title += ("; " if title else "") + f"{_plural(not_reviewed, 'document')} not reviewed"
    if settings.errors:
        title += f"; config has {_plural(len(settings.errors), 'problem')}"
    return _clip_bytes(title, TITLE_LIMIT)


def _check_summary(
    reviewed: Sequence[DocumentReport],
    skipped: Sequence[DocumentReport],
    question_count: int,
    blocking: int,
    settings: Settings,
    left_unannotated: int,
    not_reviewed: Sequence[NotReviewed] = (),
) -> str:
    blocks: list[_Block] = []
    if not reviewed and not_reviewed:
        blocks.append(_Block("No changed design document could be reviewed."))
    elif not reviewed:
        blocks.append(_Block("Every changed design document asked to be skipped."))
    elif not question_count:
        blocks.append(
            _Block(
                f"{MARK_PRESENT} **Nothing to ask.** "
                f"{_plural(len(reviewed), 'design document')} reviewed; "
                "no product questions came up."
            )
        )
    else:
        severities = Counter(f.severity for report in reviewed for f in report.findings)
        breakdown = ", ".join(
            _plural(severities[severity], severity.value)
            for severity in sorted(severities, key=lambda s: -s.rank)
        )
        blocks.append(
            _Block(
                f"**{_plural(question_count, 'question')}** about "
                f"{_plural(len(reviewed), 'design document')} ({breakdown}). "
                "They are questions, not verdicts: answer them in the document, "
                "or say on the pull request why one does not apply."
            )
        )
    if blocking:
        level = settings.fail_on.value
        blocks.append(
            _Block(
                f"\n{MARK_MISSING} **{_plural(blocking, 'finding')} at or above "
                f"`fail_on: {level}`**, so this check fails."
            )
        )
    if not_reviewed:
        verb = "it was" if len(not_reviewed) == 1 else "they were"
        others = "; the other documents were reviewed" if reviewed or skipped else ""
        blocks.append(
            _Block(
                f"\n{MARK_WEAK} **{_plural(len(not_reviewed), 'document')} not reviewed:** "
                f"over a limit of the review, so {verb} left out{others}.\n"
            )
        )
        blocks.extend(
            _Block(
                f"- {_code(document.path)}: {_plain(document.reason, 200)}",
                "not-reviewed document",
            )
            for document in not_reviewed
        )
    if reviewed:
        blocks.append(_Block("\n" + _scorecard_header()))
        blocks.extend(_Block(_scorecard_row(report), "document") for report in reviewed)
        blocks.append(_Block("\n" + LEGEND))
    if skipped:
        blocks.append(_Block("\nNot reviewed (front matter `product_review: skip`):\n"))
        blocks.extend(_Block(f"- {_code(report.path)}", "skipped document") for report in skipped)
    if left_unannotated:
        blocks.append(
            _Block(
                f"\n{_plural(left_unannotated, 'finding')} not annotated on the files "
                "(the details below list every finding)."
            )
        )
    question_blocks = _top_question_blocks(reviewed, settings)
    blocks.extend(question_blocks)
    if question_blocks:
        blocks.append(_Block("\nEvery question, with its lines, is listed in the details below."))
    tail = _config_error_text(settings)
    if not tail:
        return _fit(blocks, BODY_LIMIT, lead=_CUT_SUMMARY)
    tail_bytes = _byte_len(tail) + 2
    return _fit(blocks, BODY_LIMIT - tail_bytes, lead=_CUT_SUMMARY) + "\n\n" + tail


def _scorecard_header() -> str:
    labels = list(DIMENSION_LABELS.values())
    header = "| Document | Kind | " + " | ".join(labels) + " | Questions |"
    align = "|---|---|" + ":-:|" * len(labels) + ":-:|"
    return header + "\n" + align


def _scorecard_row(report: DocumentReport) -> str:
    results = {result.key: result for result in report.dimensions}
    marks = [
        _dimension_mark(results[key]) if key in results else MARK_NOT_ASKED
        for key in DIMENSION_LABELS
    ]
    kind = f"{report.category.value} {report.kind}".strip()
    return (
        f"| {_cell(_code(report.path))} | {_cell(kind)} | "
        + " | ".join(marks)
        + f" | {len(report.findings)} |"
    )


def _dimension_mark(result: DimensionResult) -> str:
    if result.status is Status.PRESENT:
        return MARK_PRESENT
    if result.requirement is Requirement.OFF:
        return MARK_NOT_ASKED
    if result.requirement is Requirement.OPTIONAL:
        return MARK_OPTIONAL
    return MARK_WEAK if result.status is Status.WEAK else MARK_MISSING


def _top_question_blocks(reviewed: Sequence[DocumentReport], settings: Settings) -> list[_Block]:
    blocks: list[_Block] = []
    for report in reviewed:
        whole_document = {d.key for d in report.dimensions if d.line is None}
        questions = (
            # A missing dimension has no line of its own, whatever line the engine
            # attached to its question (usually the title's).
            [
                (q.text, q.why, None if q.source in whole_document else q.line)
                for q in report.top_questions
            ]
            or [  # an engine that left top_questions empty still gets its worst findings shown
                (f.question or f.message, f.why, f.line if _is_located(report, f) else None)
                for f in heapq.nsmallest(
                    settings.review.max_top_questions, report.findings, key=_finding_rank
                )
            ]
        )
        if not questions:
            continue
        if not blocks:
            blocks.append(_Block("\n### Questions that matter most"))
        blocks.append(_Block(f"\n**{_code(report.path)}**\n"))
        for number, (text, why, line) in enumerate(questions, start=1):
            where = f" _(line {line})_" if line is not None else ""
            blocks.append(
                _Block(
                    f"{number}. **{_plain(text, _QUESTION_CHARS)}** "
                    f"{_plain(why, _WHY_CHARS)}{where}",
                    "question",
                )
            )
    return blocks


def _config_error_text(settings: Settings) -> str:
    if not settings.errors:
        return ""
    blocks = [
        _Block(
            "### Configuration problems\n\nThe repository config has settings that could "
            "not be used as written:\n"
        )
    ]
    blocks.extend(
        _Block(f"- {_plain(str(error), 1_000)}", "config problem") for error in settings.errors
    )
    return _fit(blocks, 8_000, lead="Cut to keep this list short")


def _check_text(
    ordered: Sequence[DocumentReport], not_reviewed: Sequence[NotReviewed] = ()
) -> str:
    blocks: list[_Block | _Each[Finding]] = [
        _Block(
            f"## {_code(document.path)}\n\nNot reviewed: {_plain(document.reason, 200)}.\n",
            "document",
        )
        for document in not_reviewed
    ]
    for report in ordered:
        if report.skipped:
            blocks.append(
                _Block(
                    f"## {_code(report.path)}\n\n"
                    "Skipped: the front matter says `product_review: skip`.\n",
                    "document",
                )
            )
            blocks.extend(
                _Block(f"> {_plain(note, _NOTE_CHARS)}\n") for note in extra_notes(report)
            )
            continue
        if not report.findings and not report.notes:
            continue
        heading = f"## {_code(report.path)}\n\n"
        if report.title:
            heading += f"**{_plain(report.title, 200)}** · "
        heading += (
            f"{report.category.value} ({report.category_source}) · {_plain(report.kind, 40)}\n"
        )
        blocks.append(_Block(heading, "document"))
        for note in report.notes:
            blocks.append(_Block(f"> {_plain(note, _NOTE_CHARS)}\n"))
        blocks.append(_Each(report.findings, functools.partial(_finding_detail, report), "finding"))
    return _fit(blocks, BODY_LIMIT, lead=_CUT_DETAILS) if blocks else ""


def _finding_detail(report: DocumentReport, finding: Finding) -> str:
    where = _line_span(finding) if _is_located(report, finding) else "Whole document"
    detail = f"- **{where} · {_check_label(finding.check)}** ({finding.severity.value})"
    if finding.message:
        detail += f": {_plain(finding.message, _QUESTION_CHARS)}"
    if finding.excerpt:
        detail += f"\n  > {_plain(finding.excerpt, _EXCERPT_CHARS)}"
    if finding.kind is FindingKind.GAP:
        note = _gap_note(report, finding)
        if note:
            detail += f"\n  _Seen:_ {note}"
    if finding.question:
        detail += f"\n  **Ask:** {_plain(finding.question, _QUESTION_CHARS)}"
    if finding.why:
        detail += f"\n  _Why:_ {_plain(finding.why, _WHY_CHARS)}"
    return detail + "\n"


def _gap_note(report: DocumentReport, finding: Finding) -> str:
    try:
        return _plain(report.dimension(finding.check).note, _NOTE_CHARS)
    except KeyError:
        return ""


_Located = tuple[DocumentReport, Finding]


def _annotated_findings(reviewed: Sequence[DocumentReport]) -> Iterator[_Located]:
    """The findings that point at lines, each with its report, in file and line order."""
    for report in reviewed:
        for finding in sorted(report.findings, key=Finding.sort_key):
            if _is_located(report, finding):
                yield report, finding


def _annotation(report: DocumentReport, finding: Finding) -> dict[str, Any]:
    message = _plain(
        finding.message or finding.question or _check_label(finding.check),
        _QUESTION_CHARS,
    )
    if finding.question and finding.question != finding.message:
        message += f"\n\nQuestion: {_plain(finding.question, _QUESTION_CHARS)}"
    if finding.why:
        message += f"\nWhy it matters: {_plain(finding.why, _WHY_CHARS)}"
    return {
        "path": report.path,
        "start_line": finding.line,
        "end_line": max(finding.line, finding.end_line),
        "annotation_level": _ANNOTATION_LEVELS[finding.severity],
        "title": _clip_bytes(_annotation_title(report, finding), TITLE_LIMIT),
        "message": _clip_bytes(message, ANNOTATION_MESSAGE_LIMIT),
    }


def _annotation_title(report: DocumentReport, finding: Finding) -> str:
    if finding.kind is FindingKind.GAP:
        try:
            status = report.dimension(finding.check).status.value
        except KeyError:
            status = "gap"
        return f"Product review: {_check_label(finding.check)} ({status})"
    return f"Product review: {_check_label(finding.check)}"


def _most_severe(located: Iterable[_Located], keep: int) -> list[_Located]:
    """The `keep` most severe (the earliest among equals), back in file and line order."""
    ranked = heapq.nsmallest(
        keep, enumerate(located), key=lambda pair: (-pair[1][1].severity.rank, pair[0])
    )
    return [pair for _, pair in sorted(ranked, key=lambda pair: pair[0])]


# --------------------------------------------------------------------------- PR review


@dataclass(frozen=True)
class PlannedQuestion:
    """One question the review may ask, with what is needed to place and dedupe it."""

    path: str
    check: str
    severity: Severity
    line: int  # where it points; meaningful only when `located`
    end_line: int
    located: bool  # False: about the whole document (a missing dimension)
    question: str
    why: str
    fingerprint: str

    def rank(self) -> tuple[int, str, int, int, str, str]:
        return (
            -self.severity.rank,
            self.path,
            self.line if self.located else 0,
            self.end_line,
            self.check,
            self.fingerprint,
        )


@dataclass(frozen=True)
class ReviewComment:
    """One inline comment. `fingerprint` is the marker's content: several
    fingerprints joined by commas when the comment holds several questions
    (comment mode `file`)."""

    path: str
    line: int
    body: str
    fingerprint: str
    questions: tuple[PlannedQuestion, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class ReviewPlan:
    """One PR review (event COMMENT): a body plus inline comments on diff lines."""

    body: str
    comments: tuple[ReviewComment, ...]
    fingerprints: frozenset[str]  # everything this review asks, inline and in the body
    # Every question meant for the body, including any the length limit left out
    # (those are not in `fingerprints`, so a later review asks them).
    body_questions: tuple[PlannedQuestion, ...] = field(default=(), repr=False, compare=False)

    def as_request_comments(self) -> list[dict[str, Any]]:
        """The `comments` array of GitHub's create-review request."""
        return [
            {"path": comment.path, "line": comment.line, "side": "RIGHT", "body": comment.body}
            for comment in self.comments
        ]

    def without(self, indexes: Collection[int]) -> ReviewPlan:
        """The same review with the comments at `indexes` moved into the body
        (for the retry after GitHub rejected some comment with a 422)."""
        dropped = set(indexes)
        kept = tuple(c for i, c in enumerate(self.comments) if i not in dropped)
        moved = [q for i, c in enumerate(self.comments) if i in dropped for q in c.questions]
        return _assemble(kept, [*self.body_questions, *moved])


def plan_review(
    reports: Sequence[DocumentReport],
    *,
    patches: Mapping[str, str | None],
    asked: frozenset[str],
    settings: Settings,
    full: bool = False,
) -> ReviewPlan | None:
    """The review to post, or None when there is nothing new to ask.

    Placement by `settings.comment_mode`:
    - `changed-lines`: each question whose lines are in the diff becomes an inline
      comment on its last changed line (at most `max_inline`, most severe first);
      the rest, and whole-document questions, go to the body.
    - `file`: one comment per document on the first line of its diff, holding all
      of that document's questions (at most `max_inline` documents get one).
    - `off`: everything in the body.
    Questions whose fingerprint is in `asked` are left out unless `full`.
    """
    fresh = _fresh_questions(reports, asked=asked, full=full)
    if not fresh:
        return None
    if settings.comment_mode is CommentMode.OFF:
        return _assemble((), fresh)
    diff_lines = _DiffLines(patches)
    if settings.comment_mode is CommentMode.FILE:
        return _place_per_file(fresh, diff_lines, settings.max_inline)
    return _place_on_lines(fresh, diff_lines, settings.max_inline)


class _DiffLines:
    """Each file's commentable lines, sorted; a patch is read the first time one of
    its lines is asked for, and only once."""

    def __init__(self, patches: Mapping[str, str | None]) -> None:
        self._patches = patches
        self._lines: dict[str, tuple[int, ...]] = {}

    def __call__(self, path: str) -> tuple[int, ...]:
        lines = self._lines.get(path)
        if lines is None:
            lines = tuple(sorted(commentable_lines(self._patches.get(path))))
            self._lines[path] = lines
        return lines


def asked_fingerprints(bodies: Iterable[str | None]) -> frozenset[str]:
    """Fingerprints found in the hidden markers of earlier reviews and comments."""
    found: set[str] = set()
    for body in bodies:
        if not body:
            continue
        for match in _MARKER.finditer(body):
            found.update(fp for fp in match.group(1).split(",") if fp)
    return frozenset(found)


def finding_fingerprints(report: DocumentReport) -> tuple[str, ...]:
    """Short hashes of the report's findings (same order) that survive pushes: they
    ignore line numbers on purpose.

    A gap is identified by (path, dimension, status), so a gap that goes from
    `missing` to `weak` is a new question. A line finding is identified by (path,
    check, the words that raised it, normalised), so moving or re-wrapping the text
    does not make it new; when the same words raise the same check more than once
    in a document, the occurrence number (in document order) tells them apart.
    """
    findings = report.findings
    # The same words come back in many findings (every `TBD`): normalised once each.
    normalise = functools.lru_cache(maxsize=None)(_normalise)
    occurrences: Counter[tuple[str, ...]] = Counter()
    by_finding = [""] * len(findings)
    for index in sorted(range(len(findings)), key=lambda i: (findings[i].sort_key(), i)):
        finding = findings[index]
        if finding.kind is FindingKind.GAP:
            try:
                status = report.dimension(finding.check).status.value
            except KeyError:
                status = ""
            parts: tuple[str, ...] = (report.path, finding.check, status)
        else:
            region = normalise(finding.excerpt) or normalise(finding.message)
            parts = (report.path, finding.check, region)
        seen_before = occurrences[parts]
        occurrences[parts] += 1
        if seen_before:
            parts = (*parts, str(seen_before))
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
        by_finding[index] = digest[:_FINGERPRINT_HEX_CHARS]
    return tuple(by_finding)


def _fresh_questions(
    reports: Sequence[DocumentReport], *, asked: frozenset[str], full: bool
) -> list[PlannedQuestion]:
    # Engines repeat their wording (one question per check): each text is made plain once.
    plain = functools.lru_cache(maxsize=None)(_plain)
    candidates = [
        _planned(report, finding, fingerprint, plain)
        for report in reports
        if not report.skipped
        for finding, fingerprint in zip(report.findings, finding_fingerprints(report), strict=True)
        if full or fingerprint not in asked  # what was asked before is not even built
    ]
    candidates.sort(key=PlannedQuestion.rank)
    fresh: list[PlannedQuestion] = []
    seen: set[str] = set()
    for question in candidates:
        # `seen` guards against the same document appearing twice in `reports`.
        if question.fingerprint in seen or (not full and question.fingerprint in asked):
            continue
        seen.add(question.fingerprint)
        fresh.append(question)
    return fresh


def _planned(
    report: DocumentReport,
    finding: Finding,
    fingerprint: str,
    plain: Callable[[str, int], str],
) -> PlannedQuestion:
    return PlannedQuestion(
        path=report.path,
        check=finding.check,
        severity=finding.severity,
        line=finding.line,
        end_line=max(finding.line, finding.end_line),
        located=_is_located(report, finding),
        question=plain(finding.question or finding.message, _QUESTION_CHARS),
        why=plain(finding.why, _WHY_CHARS),
        fingerprint=fingerprint,
    )


def _place_on_lines(
    ranked: Sequence[PlannedQuestion], diff_lines: _DiffLines, max_inline: int
) -> ReviewPlan:
    comments: list[ReviewComment] = []
    body: list[PlannedQuestion] = []
    for question in ranked:
        # The cap first: past it, nothing is looked up in the diff.
        if len(comments) >= max_inline or not question.located:
            body.append(question)
            continue
        target = _target_line(question, diff_lines(question.path))
        if target is None:
            body.append(question)
            continue
        comments.append(
            ReviewComment(
                path=question.path,
                line=target,
                body=_comment_body(question),
                fingerprint=question.fingerprint,
                questions=(question,),
            )
        )
    return _assemble(tuple(comments), body)


def _target_line(question: PlannedQuestion, diff_lines: Sequence[int]) -> int | None:
    """The last line of the question's range that GitHub accepts a comment on
    (`diff_lines` sorted)."""
    if not question.located:
        return None
    after = bisect.bisect_right(diff_lines, question.end_line)
    if after and diff_lines[after - 1] >= question.line:
        return diff_lines[after - 1]
    return None


def _place_per_file(
    ranked: Sequence[PlannedQuestion], diff_lines: _DiffLines, max_inline: int
) -> ReviewPlan:
    by_path: dict[str, list[PlannedQuestion]] = {}
    for question in ranked:
        by_path.setdefault(question.path, []).append(question)
    comments: list[ReviewComment] = []
    body: list[PlannedQuestion] = []
    # Documents whose most severe question ranks highest get the comments first.
    for path, questions in by_path.items():
        lines = diff_lines(path) if len(comments) < max_inline else ()
        if not lines:
            body.extend(questions)
            continue
        text, included = _file_comment_body(questions)
        body.extend(questions[len(included) :])  # the comment holds a leading run
        comments.append(
            ReviewComment(
                path=path,
                line=lines[0],
                body=text,
                fingerprint=",".join(q.fingerprint for q in included),
                questions=tuple(included),
            )
        )
    return _assemble(tuple(comments), body)


def _comment_body(question: PlannedQuestion) -> str:
    text = question.question
    if question.why:
        text += f"\n\n_Why we ask:_ {question.why}"
    text += f"\n\n<sub>{_review_footer(question.check)}</sub>\n" + _marker([question.fingerprint])
    return text


def _file_comment_body(
    questions: Sequence[PlannedQuestion],
) -> tuple[str, list[PlannedQuestion]]:
    """One comment holding a document's questions, as many as fit in a comment."""
    included: list[PlannedQuestion] = []
    items: list[str] = []
    budget = BODY_LIMIT - 400  # the intro, footer and the marker's own wrapping
    for question in questions:
        where = f" _(line {question.line})_" if question.located else ""
        item = f"{len(items) + 1}. {question.question}{where}"
        if question.why:
            item += f"\n   _Why we ask:_ {question.why}"
        cost = _byte_len(item) + 2 + _FINGERPRINT_HEX_CHARS + 1
        if included and cost > budget:
            break
        budget -= cost
        items.append(item)
        included.append(question)
    intro = f"A few product questions about this document ({_plural(len(included), 'question')}):"
    text = intro + "\n\n" + "\n".join(items)
    text += "\n\n<sub>Answer them in the document, or reply to say why one does not apply.</sub>"
    return text + "\n" + _marker(q.fingerprint for q in included), included


def _assemble(
    comments: tuple[ReviewComment, ...], body_questions: Sequence[PlannedQuestion]
) -> ReviewPlan:
    ordered = sorted(body_questions, key=PlannedQuestion.rank)
    inline = [q.fingerprint for comment in comments for q in comment.questions]
    body, shown = _review_body(ordered, inline)
    return ReviewPlan(
        body=body,
        comments=comments,
        fingerprints=frozenset([*inline, *(q.fingerprint for q in shown)]),
        body_questions=tuple(ordered),
    )


def _review_body(
    questions: Sequence[PlannedQuestion], inline_fingerprints: Sequence[str]
) -> tuple[str, list[PlannedQuestion]]:
    """The review's body and the questions it managed to show.

    The body's marker lists the inline comments' fingerprints as well as its own,
    so reading earlier review bodies alone is enough to know what was asked."""
    inline_count = len(inline_fingerprints)
    total = inline_count + len(questions)
    intro = f"**Product review** has {_plural(total, 'question')} about the design docs "
    if inline_count and questions:
        intro += f"in this pull request: {inline_count} on the changed lines, the rest below."
    elif inline_count:
        intro += "in this pull request, on the changed lines."
    else:
        intro += "in this pull request."
    intro += (
        "\n\nThey are questions, not verdicts: answer them in the document, or reply "
        "to say why one does not apply. The **Product review** check has the scorecard "
        "for each document."
    )
    # What each block after the intro shows: a question, or None for a path heading.
    shows: list[PlannedQuestion | None] = []

    def candidates() -> Iterator[_Block]:
        # Made one at a time as `_fit_counted` reads them: none is kept past the cut.
        yield _Block(intro)
        current_path: str | None = None
        for question in questions:
            if question.path != current_path:
                current_path = question.path
                shows.append(None)
                yield _Block(f"\n**{_code(question.path)}**\n")
            shows.append(question)
            yield _Block.deferred(
                functools.partial(_body_item, question),
                "question",
                reserve=_FINGERPRINT_HEX_CHARS + 1,  # its fingerprint and comma in the marker
            )

    # The marker's fixed part and the inline fingerprints; each shown question pays
    # for its own fingerprint (`reserve`), so room is kept only for what is shown.
    marker_room = len(_marker(inline_fingerprints)) + 2
    body, kept = _fit_counted(
        candidates(),
        BODY_LIMIT - marker_room,
        lead=_CUT_REVIEW,
        later="; they will be asked in a later review",
    )
    shown = [q for q in shows[: max(kept - 1, 0)] if q is not None]
    body += "\n\n" + _marker([*inline_fingerprints, *(q.fingerprint for q in shown)])
    return body, shown


def _body_item(question: PlannedQuestion) -> str:
    where = f"line {question.line}" if question.located else "whole document"
    item = f"- {question.question}"
    if question.why:
        item += f" _{question.why}_"
    return item + f" ({where}, `{question.check}`)"


def _review_footer(check: str) -> str:
    return (
        f"Product review · {_check_label(check)} · "
        f"comment <code>/product-review explain {check}</code> to learn more"
    )


def _marker(fingerprints: Iterable[str]) -> str:
    return f"{_MARKER_PREFIX}{','.join(fingerprints)} -->"


# --------------------------------------------------------------------------- helpers


class _Block:
    """A piece of Markdown; `unit` names what it counts as when left out.

    A block made with `deferred` builds its text only when it is read. `reserve` is
    room the block needs elsewhere once kept (its fingerprint in the review's marker)."""

    __slots__ = ("_render", "_text", "reserve", "unit")

    def __init__(
        self,
        text: str,
        unit: str | None = None,
        *,
        reserve: int = 0,
        render: Callable[[], str] | None = None,
    ) -> None:
        self._text = text
        self._render = render
        self.unit = unit
        self.reserve = reserve

    @classmethod
    def deferred(
        cls, render: Callable[[], str], unit: str | None = None, *, reserve: int = 0
    ) -> _Block:
        return cls("", unit, reserve=reserve, render=render)

    @property
    def text(self) -> str:
        if self._render is not None:
            self._text, self._render = self._render(), None
        return self._text


_Item = TypeVar("_Item")


@dataclass(frozen=True)
class _Each(Generic[_Item]):
    """One block per item, each made and rendered only when `_fit` reaches it, so
    that a report with 100,000 findings renders the few hundred that fit and holds
    no block for the others."""

    items: Sequence[_Item]
    render: Callable[[_Item], str]
    unit: str

    def blocks(self) -> Iterator[_Block]:
        for item in self.items:
            yield _Block.deferred(functools.partial(self.render, item), self.unit)


_Blocks: TypeAlias = Iterable[_Block | _Each[Any]]


def _flatten(blocks: _Blocks) -> Iterator[_Block]:
    for block in blocks:
        if isinstance(block, _Each):
            yield from block.blocks()
        else:
            yield block


def _fit(blocks: _Blocks, limit: int, *, lead: str) -> str:
    return _fit_counted(blocks, limit, lead=lead)[0]


def _fit_counted(blocks: _Blocks, limit: int, *, lead: str, later: str = "") -> tuple[str, int]:
    """Join blocks with newlines within `limit` bytes, cutting only between blocks and
    saying what was left out. Also returns how many blocks were kept whole.

    One pass that stops reading texts once the limit is passed: the cost is the
    size of what fits plus one look at each remaining block's `unit`."""
    budget = limit - _NOTICE_ROOM
    pending = _flatten(blocks)
    first: _Block | None = None
    texts: list[str] = []
    used = 0
    within_budget = 0  # how many leading blocks fit in `budget` (room left for the notice)
    left_out: Counter[str] = Counter()  # units of blocks read but not kept
    for block in pending:
        first = first or block
        text = block.text
        used += _byte_len(text) + (1 if texts else 0) + block.reserve
        if used > limit:
            if block.unit:
                left_out[block.unit] += 1
            break
        texts.append(text)
        if used <= budget:
            within_budget = len(texts)
        elif block.unit:
            left_out[block.unit] += 1
    else:
        return "\n".join(texts), len(texts)
    left_out.update(block.unit for block in pending if block.unit)
    if left_out:
        counts = " and ".join(
            _plural(count, f"more {unit}") for unit, count in sorted(left_out.items())
        )
        missing = f"{counts} not shown{later}."
    else:
        missing = "the rest is not shown."
    notice = f"\n\n_✂️ {lead}: {missing}_"
    if not within_budget:  # one block larger than the whole limit: cut inside it
        assert first is not None
        return _clip_bytes(first.text, limit - _byte_len(notice)) + notice, 0
    return "\n".join(texts[:within_budget]) + notice, within_budget


def _clip_bytes(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, cut at a line (or word) boundary with an ellipsis."""
    if _byte_len(text) <= limit:
        return text
    room = max(limit - len("…".encode()), 0)
    # Each character is at least one byte: no more than `room` of them can be kept.
    cut = text[:room].encode("utf-8")[:room].decode("utf-8", errors="ignore")
    for boundary in ("\n", " "):
        position = cut.rfind(boundary)
        if position > len(cut) // 2:
            cut = cut[:position]
            break
    return cut.rstrip() + "…"


def _byte_len(text: str) -> int:
    # `isascii` is a flag check in CPython: ASCII text is measured without encoding it.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _plain(text: str, max_chars: int | None = None) -> str:
    """Engine or document text made safe for one Markdown line: whitespace collapsed,
    and no HTML comment openers that could forge a fingerprint marker."""
    cut_early = False
    if max_chars is not None and len(text) > 4 * max_chars:
        # Only a prefix can survive the clip; collapsing all of a huge text is wasted work.
        text, cut_early = text[: 4 * max_chars], True
    flat = " ".join(text.split()).replace("<!--", "&lt;!--")
    if max_chars is not None and (cut_early or len(flat) > max_chars):
        flat = flat[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return flat


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    padding = " " if fence == "``" else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_label(check: str) -> str:
    if check in DIMENSION_LABELS:
        return DIMENSION_LABELS[check]
    return CHECK_LABELS.get(check, check.replace("-", " ").replace("_", " ").capitalize())


def _is_located(report: DocumentReport, finding: Finding) -> bool:
    """Whether the finding points at lines: line findings do; a gap does only when
    the engine found a (weak) section for it, not when the dimension is missing."""
    if finding.line < 1:
        return False
    if finding.kind is FindingKind.GAP:
        try:
            return report.dimension(finding.check).line is not None
        except KeyError:
            return False
    return True


def _finding_rank(finding: Finding) -> tuple[int, int, int, str, str]:
    return (-finding.severity.rank, *finding.sort_key())


def _line_span(finding: Finding) -> str:
    if finding.end_line > finding.line:
        return f"Lines {finding.line}–{finding.end_line}"
    return f"Line {finding.line}"
