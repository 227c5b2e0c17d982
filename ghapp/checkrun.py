"""The `Product review` Check Run: its title, summary (verdict, scorecard, the
questions that matter most), details text, annotations and conclusion, plus the
outputs for a pull request with no design document, a review that failed, a paused
pull request, and problems in a config file the pull request changes. A summary
ends with one line counting the pull request's Markdown files that were not
reviewed, and why, with the config key that changes it (`unreviewed_line`).

Pure functions, no I/O: the handlers in `ghapp.review` send what these build.
Every field stays within GitHub's limits, in UTF-8 bytes (`ghapp.fitting`).
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from checks.config import ConfigError, Settings
from checks.discovery import Reason
from checks.formats import extra_notes
from checks.markdown_text import (
    byte_len,
    clip_bytes,
    code_span,
    escape_cell,
    line_span,
    plain,
    plural,
)
from checks.report import (
    DimensionResult,
    DocumentReport,
    Finding,
    FindingKind,
    Requirement,
    Severity,
    Status,
)
from checks.rules import DIMENSION_RULES, LINE_CHECK_RULES
from ghapp.apitypes import (
    AnnotationLevel,
    CheckAnnotation,
    CheckCompletion,
    CheckRunAction,
    CheckRunOutput,
)
from ghapp.fitting import BODY_LIMIT, Block, Each, fit
from ghapp.repoconfig import CONFIG_PATH
from localreview.budget import NotReviewed

# GitHub's limits besides `BODY_LIMIT` (titles and annotation messages: UTF-8 bytes).
TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
ANNOTATIONS_PER_REQUEST = 50

# Single questions, reasons and excerpts are clipped to these many characters so
# that one runaway finding cannot crowd everything else out of a field.
QUESTION_CHARS = 600
WHY_CHARS = 400
_EXCERPT_CHARS = 200
_NOTE_CHARS = 400

RERUN_ACTION_ID = "rerun"
# The Check Run button; GitHub allows label ≤ 20, description ≤ 40 and
# identifier ≤ 20 characters.
RERUN_ACTIONS: tuple[CheckRunAction, ...] = (
    {
        "label": "Re-run review",
        "description": "Review this PR's design docs again",
        "identifier": RERUN_ACTION_ID,
    },
)

# The scorecard's short labels, from the rule registry.
DIMENSION_LABELS: Mapping[str, str] = {rule.id: rule.prose.label for rule in DIMENSION_RULES}
CHECK_LABELS: Mapping[str, str] = {rule.id: rule.prose.label for rule in LINE_CHECK_RULES}

_ANNOTATION_LEVELS: Mapping[Severity, AnnotationLevel] = {
    Severity.ERROR: "failure",
    Severity.WARNING: "warning",
    Severity.SUGGESTION: "notice",
}

MARK_PRESENT = "✅"
MARK_WEAK = "⚠️"
MARK_MISSING = "❌"
MARK_OPTIONAL = "➖"
MARK_NOT_ASKED = "—"
MARK_NOTE = "ℹ️"
LEGEND = (
    f"{MARK_PRESENT} covered · {MARK_WEAK} weak · {MARK_MISSING} missing · "
    f"{MARK_OPTIONAL} optional for this kind of work, not covered · "
    f"{MARK_NOT_ASKED} not asked for this kind of work"
)

# The notices of a field cut to fit.
_CUT_SUMMARY = "Cut to fit GitHub's size limit for the summary"
_CUT_DETAILS = "Cut to fit GitHub's size limit for the details"


class Unreviewed(StrEnum):
    """Why a Markdown file of the pull request was not reviewed; the value is what
    people read. Over a limit of the review is not here: those documents were
    meant to be reviewed, and the summary lists them with the limit."""

    NOT_DESIGN_BY_CONTENT = "not a design document by its content"
    WELL_KNOWN_FILE = "a well-known project file"
    NOT_INSPECTED = "not inspected (too many files to read to decide)"
    TOO_LARGE = "not inspected (larger than the document size limit)"
    EXCLUDED_BY_CONFIG = "excluded by config"
    OPTED_OUT = "opted out with front matter `product_review: skip`"

    @classmethod
    def of(cls, reason: Reason) -> Unreviewed:
        """The group of a file `checks.discovery` decided not to review."""
        return _UNREVIEWED_BY_REASON[reason]

    @property
    def remedy(self) -> str:
        """What changes it: the config key, or the front matter itself."""
        if self is Unreviewed.EXCLUDED_BY_CONFIG:
            return f"`paths.exclude` in `{CONFIG_PATH}` decides it (a `!glob` line takes one back)"
        if self is Unreviewed.OPTED_OUT:
            return "remove that front matter to review one"
        return f"list one under `paths.include` in `{CONFIG_PATH}` to review it"


_UNREVIEWED_BY_REASON: Mapping[Reason, Unreviewed] = {
    Reason.NOT_DESIGN_BY_CONTENT: Unreviewed.NOT_DESIGN_BY_CONTENT,
    Reason.WELL_KNOWN_FILE: Unreviewed.WELL_KNOWN_FILE,
    Reason.EXCLUDED_BY_CONFIG: Unreviewed.EXCLUDED_BY_CONFIG,
}


@dataclass(frozen=True)
class PassedOver:
    """A Markdown file the pull request changes that was not reviewed, and why."""

    path: str
    why: Unreviewed


@dataclass(frozen=True)
class CheckOutput:
    """Everything a completed `Product review` Check Run shows."""

    title: str
    summary: str
    text: str
    conclusion: str  # success | neutral | failure | skipped
    annotations: tuple[CheckAnnotation, ...] = ()
    actions: tuple[CheckRunAction, ...] = ()
    # The summary's last line, when it has one (`unreviewed_line`): what is added to
    # the summary later goes before it.
    last_line: str = ""

    def output(self, annotations: Sequence[CheckAnnotation] = ()) -> CheckRunOutput:
        """The request's `output` object, with one batch of annotations (`text` only if any)."""
        result: CheckRunOutput = {"title": self.title, "summary": self.summary}
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
    passed_over: Sequence[PassedOver] = (),
) -> CheckOutput:
    """The Check Run for one review: scorecard, top questions, details, annotations,
    and the line counting the Markdown files not reviewed (`passed_over`, and the
    documents that opted out).

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
        return render_skipped(passed_over)

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
    last_line = unreviewed_line(
        [*passed_over, *(PassedOver(report.path, Unreviewed.OPTED_OUT) for report in skipped)]
    )

    return CheckOutput(
        title=_check_title(
            len(reviewed), len(skipped), question_count, blocking, settings, len(left_out)
        ),
        summary=_check_summary(
            reviewed,
            skipped,
            question_count,
            blocking,
            settings,
            left_unannotated,
            left_out,
            last_line=last_line,
        ),
        text=_check_text(ordered, left_out),
        conclusion=conclusion,
        annotations=tuple(annotations),
        actions=RERUN_ACTIONS,
        last_line=last_line,
    )


def render_skipped(passed_over: Sequence[PassedOver] = ()) -> CheckOutput:
    """No design document changed in the pull request; `passed_over` are the
    Markdown files it changes, each listed with why it was not reviewed."""
    if not passed_over:
        return CheckOutput(
            title="No design documents changed",
            summary=(
                "No file changed in this pull request looks like a design document, "
                "so there is nothing to review."
            ),
            text="",
            conclusion="skipped",
        )
    last_line = unreviewed_line(passed_over)
    blocks = [
        Block(
            "No file changed in this pull request is a design document to review. "
            "The Markdown files it changes:\n"
        )
    ]
    blocks.extend(
        Block(f"- {code_span(item.path)}: {item.why.value}", "file")
        for item in sorted(passed_over, key=lambda item: item.path)
    )
    listed = fit(blocks, BODY_LIMIT - byte_len(last_line) - 2, lead=_CUT_SUMMARY)
    return CheckOutput(
        title="No design documents changed",
        summary=f"{listed}\n\n{last_line}",
        text="",
        conclusion="skipped",
        last_line=last_line,
    )


def unreviewed_line(passed_over: Sequence[PassedOver]) -> str:
    """One line: how many Markdown files were not reviewed and why, grouped, each
    group with what changes it; "" when there are none. Counts only, so its size is
    bounded however many files the pull request has."""
    if not passed_over:
        return ""
    counts = Counter(item.why for item in passed_over)
    # Groups changed by the same remedy share it, said once after them.
    by_remedy: dict[str, list[str]] = {}
    for why in Unreviewed:
        if counts[why]:
            by_remedy.setdefault(why.remedy, []).append(f"{why.value} ({counts[why]})")
    groups = "; ".join(f"{', '.join(parts)}: {remedy}" for remedy, parts in by_remedy.items())
    files = plural(len(passed_over), "Markdown file")
    return f"{MARK_NOTE} **{files} not reviewed:** {groups}."


def render_failure(reason: str) -> CheckOutput:
    """The review started but could not finish; the check must not stay in progress."""
    reason_text = clip_bytes(reason.strip() or "unknown error", 4_000)
    return CheckOutput(
        title="Product review could not complete",
        summary=(
            "The review stopped before it could finish, so no questions were posted "
            "for this run.\n\n"
            f"**Reason:** {plain(reason_text)}\n\n"
            "Use the **Re-run review** button, or comment `/product-review` on the pull request, "
            "to try again."
        ),
        text="",
        conclusion="neutral",
        actions=RERUN_ACTIONS,
    )


def render_interrupted(*, again: bool) -> CheckOutput:
    """The app stopped while this check's review ran (a restart, a crash): the check
    must not stay in progress. `again`: the review is running once more."""
    if again:
        next_step = (
            "The review is running again at the pull request's current head; its result "
            "is the newer **Product review** check."
        )
    else:
        next_step = (
            "It was stopped this way several times, so it is not tried again by itself. "
            "Use the **Re-run review** button, or comment `/product-review`, to try again."
        )
    return CheckOutput(
        title="Product review was interrupted",
        summary=(
            "The app stopped while this review ran (a restart or a crash), so no "
            f"questions were posted for this run.\n\n{next_step}"
        ),
        text="",
        conclusion="neutral",
        actions=RERUN_ACTIONS,
    )


def interrupted_completion(*, again: bool) -> CheckCompletion:
    """What a check its review never finished is completed with (a crash, a restart)."""
    return _bare_completion(render_interrupted(again=again))


def unfinished_completion() -> CheckCompletion:
    """What a check is completed with when its review ended without completing it."""
    return _bare_completion(render_failure("its result could not be posted when the review ended"))


def _bare_completion(shows: CheckOutput) -> CheckCompletion:
    return {
        "conclusion": shows.conclusion,
        "output": shows.output(),
        "actions": list(shows.actions),
    }


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


def config_annotations(problems: Sequence[ConfigError]) -> list[CheckAnnotation]:
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
    count = plural(len(problems), "problem")
    note = (
        f"### `{CONFIG_PATH}` in this pull request\n\n"
        f"The changed config file has {count}; this review used the default branch's "
        "config, and the file needs fixing before it merges:\n\n"
        + "\n".join(f"- {str(problem)[:1000]}" for problem in problems)
    )
    summary = f"{output.summary}\n\n{note}"
    if output.last_line:  # it stays last
        body = output.summary.removesuffix(output.last_line).rstrip("\n")
        summary = f"{body}\n\n{note}\n\n{output.last_line}"
    if byte_len(summary) > BODY_LIMIT:
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


def _check_title(
    reviewed: int,
    skipped: int,
    questions: int,
    blocking: int,
    settings: Settings,
    not_reviewed: int = 0,
) -> str:
    if reviewed:
        title = f"{plural(reviewed, 'document')}, "
        title += plural(questions, "question") if questions else "no questions"
        if blocking:
            title += f", {blocking} at the failing level"
    elif skipped:
        title = f"{plural(skipped, 'document')} skipped"
    else:
        title = ""
    if not_reviewed:
        title += ("; " if title else "") + f"{plural(not_reviewed, 'document')} not reviewed"
    if settings.errors:
        title += f"; config has {plural(len(settings.errors), 'problem')}"
    return clip_bytes(title, TITLE_LIMIT)


def _check_summary(
    reviewed: Sequence[DocumentReport],
    skipped: Sequence[DocumentReport],
    question_count: int,
    blocking: int,
    settings: Settings,
    left_unannotated: int,
    not_reviewed: Sequence[NotReviewed] = (),
    *,
    last_line: str = "",
) -> str:
    blocks: list[Block] = []
    if not reviewed and not_reviewed:
        blocks.append(Block("No changed design document could be reviewed."))
    elif not reviewed:
        blocks.append(Block("Every changed design document asked to be skipped."))
    elif not question_count:
        blocks.append(
            Block(
                f"{MARK_PRESENT} **Nothing to ask.** "
                f"{plural(len(reviewed), 'design document')} reviewed; "
                "no product questions came up."
            )
        )
    else:
        severities = Counter(f.severity for report in reviewed for f in report.findings)
        breakdown = ", ".join(
            plural(severities[severity], severity.value)
            for severity in sorted(severities, key=lambda s: -s.rank)
        )
        blocks.append(
            Block(
                f"**{plural(question_count, 'question')}** about "
                f"{plural(len(reviewed), 'design document')} ({breakdown}). "
                "They are questions, not verdicts: answer them in the document, "
                "or say on the pull request why one does not apply."
            )
        )
    if blocking:
        level = settings.fail_on.value
        blocks.append(
            Block(
                f"\n{MARK_MISSING} **{plural(blocking, 'finding')} at or above "
                f"`fail_on: {level}`**, so this check fails."
            )
        )
    if not_reviewed:
        verb = "it was" if len(not_reviewed) == 1 else "they were"
        others = "; the other documents were reviewed" if reviewed or skipped else ""
        blocks.append(
            Block(
                f"\n{MARK_WEAK} **{plural(len(not_reviewed), 'document')} not reviewed:** "
                f"over a limit of the review, so {verb} left out{others}.\n"
            )
        )
        blocks.extend(
            Block(
                f"- {code_span(document.path)}: {plain(document.reason, 200)}",
                "not-reviewed document",
            )
            for document in not_reviewed
        )
    if reviewed:
        blocks.append(Block("\n" + _scorecard_header()))
        blocks.extend(Block(_scorecard_row(report), "document") for report in reviewed)
        blocks.append(Block("\n" + LEGEND))
    if skipped:
        blocks.append(Block("\nNot reviewed (front matter `product_review: skip`):\n"))
        blocks.extend(
            Block(f"- {code_span(report.path)}", "skipped document") for report in skipped
        )
    if left_unannotated:
        blocks.append(
            Block(
                f"\n{plural(left_unannotated, 'finding')} not annotated on the files "
                "(the details below list every finding)."
            )
        )
    question_blocks = _top_question_blocks(reviewed, settings)
    blocks.extend(question_blocks)
    if question_blocks:
        blocks.append(Block("\nEvery question, with its lines, is listed in the details below."))
    # Said whatever is cut: the config's problems, then the files not reviewed.
    tails = [tail for tail in (_config_error_text(settings), last_line) if tail]
    room = BODY_LIMIT - sum(byte_len(tail) + 2 for tail in tails)
    return "\n\n".join([fit(blocks, room, lead=_CUT_SUMMARY), *tails])


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
        f"| {escape_cell(code_span(report.path))} | {escape_cell(kind)} | "
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


def _top_question_blocks(reviewed: Sequence[DocumentReport], settings: Settings) -> list[Block]:
    blocks: list[Block] = []
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
                (f.question or f.message, f.why, f.line if is_located(report, f) else None)
                for f in heapq.nsmallest(
                    settings.review.max_top_questions, report.findings, key=_finding_rank
                )
            ]
        )
        if not questions:
            continue
        if not blocks:
            blocks.append(Block("\n### Questions that matter most"))
        blocks.append(Block(f"\n**{code_span(report.path)}**\n"))
        for number, (text, why, line) in enumerate(questions, start=1):
            where = f" _(line {line})_" if line is not None else ""
            blocks.append(
                Block(
                    f"{number}. **{plain(text, QUESTION_CHARS)}** {plain(why, WHY_CHARS)}{where}",
                    "question",
                )
            )
    return blocks


def _config_error_text(settings: Settings) -> str:
    if not settings.errors:
        return ""
    blocks = [
        Block(
            "### Configuration problems\n\nThe repository config has settings that could "
            "not be used as written:\n"
        )
    ]
    blocks.extend(
        Block(f"- {plain(str(error), 1_000)}", "config problem") for error in settings.errors
    )
    return fit(blocks, 8_000, lead="Cut to keep this list short")


def _check_text(ordered: Sequence[DocumentReport], not_reviewed: Sequence[NotReviewed] = ()) -> str:
    blocks: list[Block | Each[Finding]] = [
        Block(
            f"## {code_span(document.path)}\n\nNot reviewed: {plain(document.reason, 200)}.\n",
            "document",
        )
        for document in not_reviewed
    ]
    for report in ordered:
        if report.skipped:
            blocks.append(
                Block(
                    f"## {code_span(report.path)}\n\n"
                    "Skipped: the front matter says `product_review: skip`.\n",
                    "document",
                )
            )
            blocks.extend(Block(f"> {plain(note, _NOTE_CHARS)}\n") for note in extra_notes(report))
            continue
        if not report.findings and not report.notes:
            continue
        heading = f"## {code_span(report.path)}\n\n"
        if report.title:
            heading += f"**{plain(report.title, 200)}** · "
        heading += (
            f"{report.category.value} ({report.category_source}) · {plain(report.kind, 40)}\n"
        )
        blocks.append(Block(heading, "document"))
        for note in report.notes:
            blocks.append(Block(f"> {plain(note, _NOTE_CHARS)}\n"))
        blocks.append(Each(report.findings, functools.partial(_finding_detail, report), "finding"))
    return fit(blocks, BODY_LIMIT, lead=_CUT_DETAILS) if blocks else ""


def _finding_detail(report: DocumentReport, finding: Finding) -> str:
    where = line_span(finding, prose=True) if is_located(report, finding) else "Whole document"
    detail = f"- **{where} · {check_label(finding.check)}** ({finding.severity.value})"
    if finding.message:
        detail += f": {plain(finding.message, QUESTION_CHARS)}"
    if finding.excerpt:
        detail += f"\n  > {plain(finding.excerpt, _EXCERPT_CHARS)}"
    if finding.kind is FindingKind.GAP:
        note = _gap_note(report, finding)
        if note:
            detail += f"\n  _Seen:_ {note}"
        deciding = _deciding_text(report, finding)
        if deciding:
            detail += f"\n  _Rests on:_ {deciding}"
    if finding.question:
        detail += f"\n  **Ask:** {plain(finding.question, QUESTION_CHARS)}"
    if finding.why:
        detail += f"\n  _Why:_ {plain(finding.why, WHY_CHARS)}"
    return detail + "\n"


def _deciding_text(report: DocumentReport, finding: Finding) -> str:
    """The words on the line a weak dimension rests on, quoted for the details."""
    if not is_located(report, finding):
        return ""
    try:
        text = report.dimension(finding.check).deciding_text
    except KeyError:
        return ""
    return f"“{plain(text, _EXCERPT_CHARS)}”" if text else ""


def _gap_note(report: DocumentReport, finding: Finding) -> str:
    try:
        return plain(report.dimension(finding.check).note, _NOTE_CHARS)
    except KeyError:
        return ""


_Located = tuple[DocumentReport, Finding]


def _annotated_findings(reviewed: Sequence[DocumentReport]) -> Iterator[_Located]:
    """The findings that point at lines, each with its report, in file and line order."""
    for report in reviewed:
        for finding in sorted(report.findings, key=Finding.sort_key):
            if is_located(report, finding):
                yield report, finding


def _annotation(report: DocumentReport, finding: Finding) -> CheckAnnotation:
    message = plain(
        finding.message or finding.question or check_label(finding.check),
        QUESTION_CHARS,
    )
    if finding.question and finding.question != finding.message:
        message += f"\n\nQuestion: {plain(finding.question, QUESTION_CHARS)}"
    if finding.why:
        message += f"\nWhy it matters: {plain(finding.why, WHY_CHARS)}"
    return {
        "path": report.path,
        "start_line": finding.line,
        "end_line": max(finding.line, finding.end_line),
        "annotation_level": _ANNOTATION_LEVELS[finding.severity],
        "title": clip_bytes(_annotation_title(report, finding), TITLE_LIMIT),
        "message": clip_bytes(message, ANNOTATION_MESSAGE_LIMIT),
    }


def _annotation_title(report: DocumentReport, finding: Finding) -> str:
    if finding.kind is FindingKind.GAP:
        try:
            status = report.dimension(finding.check).status.value
        except KeyError:
            status = "gap"
        return f"Product review: {check_label(finding.check)} ({status})"
    return f"Product review: {check_label(finding.check)}"


def _most_severe(located: Iterable[_Located], keep: int) -> list[_Located]:
    """The `keep` most severe (the earliest among equals), back in file and line order."""
    ranked = heapq.nsmallest(
        keep, enumerate(located), key=lambda pair: (-pair[1][1].severity.rank, pair[0])
    )
    return [pair for _, pair in sorted(ranked, key=lambda pair: pair[0])]


def check_label(check: str) -> str:
    """How a dimension or check is named to people ("Smallest step", "Placeholder")."""
    if check in DIMENSION_LABELS:
        return DIMENSION_LABELS[check]
    return CHECK_LABELS.get(check, check.replace("-", " ").replace("_", " ").capitalize())


def is_located(report: DocumentReport, finding: Finding) -> bool:
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
