"""The pull-request review: which questions to ask (those not asked before), where
each goes (an inline comment on a line of the diff, or the review body), and the
text of the comments and of the body, with the hidden markers that carry their
fingerprints (`checks.fingerprints`).

Pure functions, no I/O: `ghapp.review` posts what `plan_review` builds. Bodies
stay within GitHub's limit, in UTF-8 bytes (`ghapp.fitting`).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from checks.config import CommentMode, Settings
from checks.engine import question_rank
from checks.fingerprints import (
    REVIEW_FINGERPRINT_CHARS,
    asked_fingerprints,
    finding_fingerprints,
    fingerprint_marker,
)
from checks.markdown_text import byte_len, code_span, plain, plural
from checks.report import DocumentReport, Finding, Severity
from ghapp.apitypes import DraftReviewComment
from ghapp.checkrun import QUESTION_CHARS, WHY_CHARS, check_label, is_located
from ghapp.diff import commentable_lines
from ghapp.fitting import BODY_LIMIT, Block, fit_counted

_CUT_REVIEW = "Cut to fit GitHub's size limit for a review"


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

    def as_request_comments(self) -> list[DraftReviewComment]:
        """The `comments` array of GitHub's create-review request."""
        return [
            {"path": comment.path, "line": comment.line, "side": "RIGHT", "body": comment.body}
            for comment in self.comments
        ]

    def as_request_body(self) -> str:
        """The `body` of GitHub's create-review request: the body, plus a hidden marker
        for fingerprints only its inline comments carry (so reading earlier review
        bodies alone finds them)."""
        missing = self.fingerprints - asked_fingerprints([self.body])
        if not missing:
            return self.body
        body = f"{self.body}\n{fingerprint_marker(sorted(missing))}"
        return body if byte_len(body) <= BODY_LIMIT else self.body

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
    fresh = _fresh_questions(
        reports, asked=asked, full=full, per_document=settings.max_per_document
    )
    if not fresh:
        return None
    if settings.comment_mode is CommentMode.OFF:
        return _assemble((), fresh)
    diff_lines = _DiffLines(patches)
    if settings.comment_mode is CommentMode.FILE:
        return _place_per_file(fresh, diff_lines, settings.max_inline)
    return _place_on_lines(fresh, diff_lines, settings.max_inline)


def _most_important(report: DocumentReport, limit: int) -> Sequence[tuple[Finding, str]]:
    """The report's findings with their fingerprints, only the `limit` most important
    when `limit` is set. Fingerprints come from the whole report (they number repeated
    words in document order), and the cap applies before what was asked before is
    left out, so a later push never asks the next ones instead."""
    paired = list(zip(report.findings, finding_fingerprints(report), strict=True))
    if not limit or len(paired) <= limit:
        return paired
    category = report.category
    return sorted(paired, key=lambda pair: question_rank(pair[0], category))[:limit]


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


def _fresh_questions(
    reports: Sequence[DocumentReport], *, asked: frozenset[str], full: bool, per_document: int
) -> list[PlannedQuestion]:
    # Engines repeat their wording (one question per check): each text is made plain once.
    plain_once = functools.lru_cache(maxsize=None)(plain)
    candidates = [
        _planned(report, finding, fingerprint, plain_once)
        for report in reports
        if not report.skipped
        for finding, fingerprint in _most_important(report, per_document)
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
    plain_once: Callable[[str, int], str],
) -> PlannedQuestion:
    return PlannedQuestion(
        path=report.path,
        check=finding.check,
        severity=finding.severity,
        line=finding.line,
        end_line=max(finding.line, finding.end_line),
        located=is_located(report, finding),
        question=plain_once(finding.question or finding.message, QUESTION_CHARS),
        why=plain_once(finding.why, WHY_CHARS),
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
    footer = f"\n\n<sub>{_review_footer(question.check)}</sub>\n"
    return text + footer + fingerprint_marker([question.fingerprint])


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
        cost = byte_len(item) + 2 + REVIEW_FINGERPRINT_CHARS + 1
        if included and cost > budget:
            break
        budget -= cost
        items.append(item)
        included.append(question)
    intro = f"A few product questions about this document ({plural(len(included), 'question')}):"
    text = intro + "\n\n" + "\n".join(items)
    text += "\n\n<sub>Answer them in the document, or reply to say why one does not apply.</sub>"
    return text + "\n" + fingerprint_marker(q.fingerprint for q in included), included


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
    intro = f"**Product review** has {plural(total, 'question')} about the design docs "
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

    def candidates() -> Iterator[Block]:
        # Made one at a time as `fit_counted` reads them: none is kept past the cut.
        yield Block(intro)
        current_path: str | None = None
        for question in questions:
            if question.path != current_path:
                current_path = question.path
                shows.append(None)
                yield Block(f"\n**{code_span(question.path)}**\n")
            shows.append(question)
            yield Block.deferred(
                functools.partial(_body_item, question),
                "question",
                reserve=REVIEW_FINGERPRINT_CHARS + 1,  # its fingerprint and comma in the marker
            )

    # The marker's fixed part and the inline fingerprints; each shown question pays
    # for its own fingerprint (`reserve`), so room is kept only for what is shown.
    marker_room = len(fingerprint_marker(inline_fingerprints)) + 2
    body, kept = fit_counted(
        candidates(),
        BODY_LIMIT - marker_room,
        lead=_CUT_REVIEW,
        later="; they will be asked in a later review",
    )
    shown = [q for q in shows[: max(kept - 1, 0)] if q is not None]
    body += "\n\n" + fingerprint_marker([*inline_fingerprints, *(q.fingerprint for q in shown)])
    return body, shown


def _body_item(question: PlannedQuestion) -> str:
    where = f"line {question.line}" if question.located else "whole document"
    item = f"- {question.question}"
    if question.why:
        item += f" _{question.why}_"
    return item + f" ({where}, `{question.check}`)"


def _review_footer(check: str) -> str:
    return (
        f"Product review · {check_label(check)} · "
        f"comment <code>/product-review explain {check}</code> to learn more"
    )
