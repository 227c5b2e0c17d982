"""Rendering and planning stay linear in the findings and the diff lines.

A 500 KB document of `TBD` paragraphs gives ~100,000 findings. These tests build
reports that size directly and check that what reaches GitHub stays inside its
limits, that each patch is read once, and that only what is shown gets rendered.
A watchdog fails a test that runs for minutes (a return to quadratic placement
takes hours on these inputs) instead of letting it hang; no test asserts a time.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import ghapp.checkrun
import ghapp.reviewplan
from checks.config import CommentMode, Settings
from checks.fingerprints import asked_fingerprints, finding_fingerprints
from checks.report import DocumentReport, Finding, Severity
from ghapp.checkrun import ANNOTATIONS_PER_REQUEST, TITLE_LIMIT, render_check
from ghapp.diff import commentable_lines
from ghapp.fitting import BODY_LIMIT
from ghapp.reviewplan import ReviewPlan, plan_review
from tests.support import builders
from tests.support.measure import utf8_length
from tests.support.watchdog import watchdog_for_each_test

DOC = "docs/rfcs/0001-plan.md"
MANY = 100_000
SOME = 20_000  # for the tests that need a large report, not the largest
WATCHDOG_SECONDS = 120

watchdog = watchdog_for_each_test(WATCHDOG_SECONDS, "quadratic again?")


def placeholder(line: int, severity: Severity = Severity.WARNING) -> Finding:
    return builders.line_finding(
        "placeholder",
        line,
        severity=severity,
        excerpt="TBD",
        message="A placeholder is left in the document.",
        question="What goes here? If it isn't decided yet, what would decide it, and by when?",
        why="Reviewers can't review a decision that hasn't been written down.",
    )


def document(findings: list[Finding], path: str = DOC) -> DocumentReport:
    return builders.report(
        path, tuple(findings), top_questions=(), title="A plan", line_count=2 * len(findings) + 1
    )


def tbd_document(paragraphs: int) -> tuple[DocumentReport, str]:
    """What the engine makes of a document of `TBD` paragraphs (500 KB for 100,000):
    one finding per paragraph, a few of them errors, in a new file."""
    findings = [
        placeholder(2 * n + 1, Severity.ERROR if n % 997 == 0 else Severity.WARNING)
        for n in range(paragraphs)
    ]
    return document(findings), builders.new_file_patch(2 * paragraphs + 1, line_text="TBD")


@pytest.fixture(scope="module")
def largest() -> tuple[DocumentReport, str]:
    return tbd_document(MANY)


@pytest.fixture(scope="module")
def large() -> tuple[DocumentReport, str]:
    return tbd_document(SOME)


def count_calls(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[int]:
    """Count the calls of `module.<name>` (still calling through)."""
    calls = [0]
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


class CountedLines(frozenset[int]):
    """Commentable lines that count how often they are walked through."""

    walks = 0

    def __iter__(self) -> Iterator[int]:
        CountedLines.walks += 1
        return super().__iter__()

    def __contains__(self, item: object) -> bool:
        CountedLines.walks += 1  # a membership test per question is a scan in disguise
        return super().__contains__(item)


# --------------------------------------------------------------------------- the review


def counted_patch_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the patches read; what they give counts its own walks (`CountedLines`)."""
    CountedLines.walks = 0
    reads = [0]

    def counted_lines(text: str | None) -> frozenset[int]:
        reads[0] += 1
        return CountedLines(commentable_lines(text))

    monkeypatch.setattr(ghapp.reviewplan, "commentable_lines", counted_lines)
    return reads


def assert_body_within_limits(plan: ReviewPlan, questions: int) -> int:
    """The body shows as many questions as fit, marks exactly those (and the inline
    ones), and says the rest come later. Returns how many it shows."""
    assert utf8_length(plan.body) <= BODY_LIMIT
    assert all(utf8_length(comment.body) <= BODY_LIMIT for comment in plan.comments)
    shown = plan.body.count("\n- ")
    assert shown > 100
    inline = sum(len(comment.questions) for comment in plan.comments)
    assert len(asked_fingerprints([plan.body])) == shown + inline == len(plan.fingerprints)
    assert f"{questions - inline - shown} more questions not shown" in plan.body
    return shown


def test_a_hundred_thousand_findings_plan_a_review_within_githubs_limits(
    monkeypatch: pytest.MonkeyPatch, largest: tuple[DocumentReport, str]
) -> None:
    report, patch = largest
    reads = counted_patch_reads(monkeypatch)
    lookups = count_calls(monkeypatch, ghapp.reviewplan, "_target_line")
    rendered_items = count_calls(monkeypatch, ghapp.reviewplan, "_body_item")

    plan = plan_review(
        [report], patches={DOC: patch}, asked=frozenset(), settings=Settings(max_inline=10)
    )

    assert plan is not None
    # The patch is read once and walked once; past the cap nothing is looked up.
    assert reads[0] == 1 and CountedLines.walks == 1
    assert lookups[0] == 10
    # The most severe go inline, on their own lines.
    errors = sorted(f.line for f in report.findings if f.severity is Severity.ERROR)
    assert [comment.line for comment in plan.comments] == errors[:10]
    shown = assert_body_within_limits(plan, MANY)
    # Only the questions that could fit were rendered.
    assert rendered_items[0] < 2 * shown


@pytest.mark.parametrize(("mode", "reads"), [(CommentMode.FILE, 1), (CommentMode.OFF, 0)])
def test_other_comment_modes_read_the_patch_at_most_once(
    monkeypatch: pytest.MonkeyPatch,
    large: tuple[DocumentReport, str],
    mode: CommentMode,
    reads: int,
) -> None:
    report, patch = large
    patch_reads = counted_patch_reads(monkeypatch)
    plan = plan_review(
        [report],
        patches={DOC: patch},
        asked=frozenset(),
        settings=Settings(comment_mode=mode, max_inline=10),
    )
    assert plan is not None
    assert patch_reads[0] == reads and CountedLines.walks == reads
    assert len(plan.comments) == reads  # one comment for the one document, or none
    assert_body_within_limits(plan, SOME)


def test_no_inline_comments_means_no_patch_is_read(
    monkeypatch: pytest.MonkeyPatch, large: tuple[DocumentReport, str]
) -> None:
    report, patch = large
    reads = counted_patch_reads(monkeypatch)
    plan = plan_review(
        [report], patches={DOC: patch}, asked=frozenset(), settings=Settings(max_inline=0)
    )
    assert plan is not None and plan.comments == ()
    assert reads[0] == 0


def test_the_review_is_not_repeated_after_a_push_even_at_scale(
    large: tuple[DocumentReport, str],
) -> None:
    report, patch = large
    settings = Settings(max_inline=10)
    first = plan_review([report], patches={DOC: patch}, asked=frozenset(), settings=settings)
    assert first is not None
    second = plan_review(
        [report], patches={DOC: patch}, asked=first.fingerprints, settings=settings
    )
    assert second is not None
    # What the first review asked is not asked again; the next batch is.
    assert not second.fingerprints & first.fingerprints
    assert len(second.comments) == 10
    everything = frozenset(finding_fingerprints(report))
    assert plan_review([report], patches={DOC: patch}, asked=everything, settings=settings) is None


def test_moving_comments_into_the_body_at_scale_stays_within_the_limit(
    large: tuple[DocumentReport, str],
) -> None:
    report, patch = large
    plan = plan_review(
        [report], patches={DOC: patch}, asked=frozenset(), settings=Settings(max_inline=50)
    )
    assert plan is not None
    retried = plan.without(range(len(plan.comments)))
    assert retried.comments == ()
    assert utf8_length(retried.body) <= BODY_LIMIT
    assert len(asked_fingerprints([retried.body])) == len(retried.fingerprints)


# --------------------------------------------------------------------------- the check run


def test_a_hundred_thousand_findings_render_a_check_within_githubs_limits(
    monkeypatch: pytest.MonkeyPatch, largest: tuple[DocumentReport, str]
) -> None:
    report, _ = largest
    details = count_calls(monkeypatch, ghapp.checkrun, "_finding_detail")
    annotated = count_calls(monkeypatch, ghapp.checkrun, "_annotation")

    output = render_check([report], settings=Settings(), max_annotations=ANNOTATIONS_PER_REQUEST)

    assert utf8_length(output.title) <= TITLE_LIMIT
    assert utf8_length(output.summary) <= BODY_LIMIT
    assert utf8_length(output.text) <= BODY_LIMIT
    assert len(output.annotations) == ANNOTATIONS_PER_REQUEST
    # The most severe first: every error is annotated before any warning.
    errors = sorted(f.line for f in report.findings if f.severity is Severity.ERROR)
    levels = [annotation["annotation_level"] for annotation in output.annotations]
    assert levels == ["failure"] * ANNOTATIONS_PER_REQUEST
    assert [a["start_line"] for a in output.annotations] == errors[:ANNOTATIONS_PER_REQUEST]
    assert f"{MANY - ANNOTATIONS_PER_REQUEST} findings not annotated" in output.summary
    shown = output.text.count("\n- **")
    assert f"{MANY - shown} more findings not shown" in output.text
    # Only what is sent was rendered, not the 100,000.
    assert annotated[0] == ANNOTATIONS_PER_REQUEST
    assert details[0] < 2 * shown


def test_several_large_documents_share_the_limits() -> None:
    reports = [
        document([placeholder(2 * n + 1) for n in range(SOME // 4)], path=f"docs/rfcs/{i}.md")
        for i in range(4)
    ]
    patch = builders.new_file_patch(SOME // 2 + 1, line_text="TBD")
    patches = {report.path: patch for report in reports}
    output = render_check(reports, settings=Settings(), max_annotations=ANNOTATIONS_PER_REQUEST)
    assert len(output.annotations) == ANNOTATIONS_PER_REQUEST
    assert utf8_length(output.summary) <= BODY_LIMIT and utf8_length(output.text) <= BODY_LIMIT
    plan = plan_review(reports, patches=patches, asked=frozenset(), settings=Settings())
    assert plan is not None
    assert len(plan.comments) == Settings().max_inline
    assert utf8_length(plan.body) <= BODY_LIMIT


# --------------------------------------------------------------------------- placement


def random_patch(rng: random.Random) -> str:
    hunks = []
    old = new = 1
    for _ in range(rng.randint(1, 5)):
        old += rng.randint(0, 20)
        new += rng.randint(0, 20)
        lines = [rng.choice("+- ") + "x" for _ in range(rng.randint(1, 12))]
        old_count = sum(1 for line in lines if line[0] != "+")
        new_count = sum(1 for line in lines if line[0] != "-")
        hunks.append(f"@@ -{old},{old_count} +{new},{new_count} @@\n" + "\n".join(lines))
        old += old_count
        new += new_count
    return "\n".join(hunks)


def test_each_comment_sits_on_the_last_diff_line_of_its_range() -> None:
    rng = random.Random(7)
    for _ in range(200):
        patch = random_patch(rng)
        lines = commentable_lines(patch)
        findings = []
        for n in range(rng.randint(1, 15)):
            start = rng.randint(1, 150)
            end = start + rng.choice([0, 0, 1, 3, 10])
            findings.append(
                dataclasses.replace(placeholder(start), end_line=end, excerpt=f"TBD {n}")
            )
        report = document(findings)
        plan = plan_review(
            [report], patches={DOC: patch}, asked=frozenset(), settings=Settings(max_inline=100)
        )
        assert plan is not None
        # Brute force: the largest diff line inside each finding's range.
        expected = sorted(
            max(n for n in lines if f.line <= n <= f.end_line)
            for f in report.findings
            if any(f.line <= n <= f.end_line for n in lines)
        )
        assert sorted(comment.line for comment in plan.comments) == expected
        assert len(plan.comments) + len(plan.body_questions) == len(report.findings)

        per_file = plan_review(
            [report],
            patches={DOC: patch},
            asked=frozenset(),
            settings=Settings(comment_mode=CommentMode.FILE),
        )
        assert per_file is not None
        if lines:
            (comment,) = per_file.comments
            assert comment.line == min(lines)
        else:
            assert per_file.comments == ()
