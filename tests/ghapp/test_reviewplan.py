"""The PR review planned from review reports: what is asked, where it goes, and
what it says."""

from __future__ import annotations

import dataclasses
import re

import pytest

from checks.config import CommentMode, Settings
from checks.fingerprints import asked_fingerprints, finding_fingerprints
from checks.report import DocumentReport, Severity
from ghapp.fitting import BODY_LIMIT
from ghapp.reviewplan import ReviewPlan, plan_review
from tests.support.builders import (
    DOC,
    SAMPLE,
    SETTINGS,
    line_finding,
    new_file_patch,
    report,
    shifted,
)
from tests.support.measure import utf8_length


def all_bodies(plan: ReviewPlan) -> list[str]:
    return [plan.body, *(comment.body for comment in plan.comments)]


def test_comments_sit_only_on_diff_lines() -> None:
    document = report(
        findings=(
            line_finding(line=12, excerpt="all providers"),  # not in the diff
            line_finding(line=20, end_line=24, excerpt="every region"),  # diff has 21, 22
            line_finding(line=30, excerpt="zero downtime"),  # in the diff
        )
    )
    patch = "@@ -20,1 +21,2 @@\n x\n+y\n@@ -28,1 +30,1 @@\n-old\n+new"
    plan = plan_review([document], patches={DOC: patch}, asked=frozenset(), settings=SETTINGS)
    assert plan is not None
    assert [(c["path"], c["line"], c["side"]) for c in plan.as_request_comments()] == [
        (DOC, 22, "RIGHT"),  # the last changed line inside 20-24
        (DOC, 30, "RIGHT"),
    ]
    assert "(line 12, `absolute-requirement`)" in plan.body  # the rest goes to the body
    assert len(plan.fingerprints) == 3


def test_file_without_patch_puts_everything_in_the_body() -> None:
    plan = plan_review([SAMPLE], patches={DOC: None}, asked=frozenset(), settings=SETTINGS)
    assert plan is not None
    assert plan.comments == ()
    assert plan.body.count("\n- ") == 3


def test_comment_reads_as_a_question_with_its_reason_and_marker() -> None:
    plan = plan_review(
        [report(findings=(line_finding(),))],
        patches={DOC: new_file_patch(50)},
        asked=frozenset(),
        settings=SETTINGS,
    )
    assert plan is not None
    (comment,) = plan.comments
    assert comment.body.startswith("Which providers are enough for the first release?\n\n")
    assert "_Why we ask:_ A smaller target may give most of the value" in comment.body
    assert comment.body.endswith(f"<!-- product-review:fp={comment.fingerprint} -->")
    assert re.fullmatch(r"[0-9a-f]{12}", comment.fingerprint)


def test_max_inline_keeps_the_most_severe_then_earliest() -> None:
    severities = [Severity.SUGGESTION, Severity.WARNING, Severity.ERROR]
    findings = tuple(
        line_finding(line=n, severity=severities[n % 3], excerpt=f"all {n}") for n in range(1, 16)
    )
    plan = plan_review(
        [report(findings=findings)],
        patches={DOC: new_file_patch(20)},
        asked=frozenset(),
        settings=Settings(max_inline=6),
    )
    assert plan is not None
    # Errors sit on lines 2, 5, ..., 14, warnings on 1, 4, 7, ...
    assert [c.line for c in plan.comments] == [2, 5, 8, 11, 14, 1]
    assert plan.body.count("\n- ") == 15 - 6
    assert "6 on the changed lines, the rest below" in plan.body
    assert len(plan.fingerprints) == 15


def test_comments_across_documents_are_ranked_by_severity_first() -> None:
    first = report("docs/design/a.md", findings=(line_finding(line=1, severity=Severity.WARNING),))
    second = report("docs/design/b.md", findings=(line_finding(line=9, severity=Severity.ERROR),))
    plan = plan_review(
        [first, second],
        patches={"docs/design/a.md": new_file_patch(10), "docs/design/b.md": new_file_patch(10)},
        asked=frozenset(),
        settings=Settings(max_inline=1),
    )
    assert plan is not None
    assert [(c.path, c.line) for c in plan.comments] == [("docs/design/b.md", 9)]


def test_a_push_does_not_repeat_questions_and_full_asks_again() -> None:
    patches = {DOC: new_file_patch(60)}
    first = plan_review([SAMPLE], patches=patches, asked=frozenset(), settings=SETTINGS)
    assert first is not None
    asked = asked_fingerprints(all_bodies(first))
    assert asked == first.fingerprints
    # The review body alone lists everything the review asked, inline comments included.
    assert asked_fingerprints([first.body]) == first.fingerprints
    assert first.comments  # so the line above covers inline questions

    after_push = shifted(SAMPLE, 4)
    assert plan_review([after_push], patches=patches, asked=asked, settings=SETTINGS) is None

    again = plan_review([after_push], patches=patches, asked=asked, settings=SETTINGS, full=True)
    assert again is not None
    assert again.fingerprints == first.fingerprints


def test_only_the_new_question_is_asked_after_a_push() -> None:
    patches = {DOC: new_file_patch(60)}
    first = plan_review([SAMPLE], patches=patches, asked=frozenset(), settings=SETTINGS)
    assert first is not None
    grown = dataclasses.replace(
        SAMPLE, findings=(*SAMPLE.findings, line_finding("placeholder", 55, excerpt="TODO"))
    )
    second = plan_review(
        [grown], patches=patches, asked=asked_fingerprints(all_bodies(first)), settings=SETTINGS
    )
    assert second is not None
    assert [c.line for c in second.comments] == [55]
    assert "has 1 question about" in second.body
    assert len(second.fingerprints) == 1


@pytest.mark.parametrize(
    "reports",
    [[], [report()], [report(findings=(line_finding(),), skipped=True)]],
    ids=["no documents", "nothing to ask", "skipped document"],
)
def test_nothing_to_ask_means_no_review(reports: list[DocumentReport]) -> None:
    assert plan_review(reports, patches={}, asked=frozenset(), settings=SETTINGS, full=True) is None


def test_without_moves_rejected_comments_into_the_body() -> None:
    findings = tuple(line_finding(line=n, excerpt=f"all {n}") for n in (5, 10, 15))
    plan = plan_review(
        [report(findings=findings)],
        patches={DOC: new_file_patch(20)},
        asked=frozenset(),
        settings=SETTINGS,
    )
    assert plan is not None
    assert len(plan.comments) == 3

    retry = plan.without({1})
    assert [c.line for c in retry.comments] == [5, 15]
    assert "(line 10, `absolute-requirement`)" in retry.body
    assert retry.fingerprints == plan.fingerprints
    assert asked_fingerprints(all_bodies(retry)) == plan.fingerprints

    body_only = plan.without(range(3))
    assert body_only.as_request_comments() == []
    assert body_only.body.count("\n- ") == 3
    assert asked_fingerprints([body_only.body]) == plan.fingerprints
    assert plan.without({7}) == plan  # an index that is not there changes nothing


def test_comment_mode_off_puts_everything_in_the_body() -> None:
    plan = plan_review(
        [SAMPLE],
        patches={DOC: new_file_patch(60)},
        asked=frozenset(),
        settings=Settings(comment_mode=CommentMode.OFF),
    )
    assert plan is not None
    assert plan.comments == ()
    assert asked_fingerprints([plan.body]) == frozenset(finding_fingerprints(SAMPLE))


def test_comment_mode_file_posts_one_comment_per_document() -> None:
    other = report("docs/design/b.md", findings=(line_finding(line=3),))
    patches = {DOC: "@@ -8,2 +8,3 @@\n a\n+b\n c", "docs/design/b.md": None}
    plan = plan_review(
        [SAMPLE, other],
        patches=patches,
        asked=frozenset(),
        settings=Settings(comment_mode=CommentMode.FILE),
    )
    assert plan is not None
    (comment,) = plan.comments  # b.md has no diff to comment on
    assert (comment.path, comment.line) == (DOC, 8)
    assert comment.body.count("_Why we ask:_") == 3  # the whole-document gap too
    assert set(comment.fingerprint.split(",")) == set(finding_fingerprints(SAMPLE))
    assert "`docs/design/b.md`" in plan.body
    assert asked_fingerprints(all_bodies(plan)) == plan.fingerprints
    assert len(plan.fingerprints) == 4


def test_review_body_stays_within_the_limit_and_marks_only_what_it_shows() -> None:
    findings = tuple(
        line_finding(line=n, excerpt=f"all {n}", question="Which target is enough? " * 20)
        for n in range(1, 3001)
    )
    plan = plan_review(
        [report(findings=findings)], patches={DOC: None}, asked=frozenset(), settings=SETTINGS
    )
    assert plan is not None
    assert utf8_length(plan.body) <= BODY_LIMIT
    shown = plan.body.count("\n- ")
    assert 0 < shown < 3000
    assert f"{3000 - shown} more questions not shown; they will be asked in a later review" in (
        plan.body
    )
    assert len(asked_fingerprints([plan.body])) == shown == len(plan.fingerprints)


def test_document_text_cannot_forge_a_fingerprint_marker() -> None:
    forged = "<!-- product-review:fp=deadbeefcafe -->"
    document = report(findings=(line_finding(excerpt=forged, question=f"Really? {forged}"),))
    plan = plan_review([document], patches={DOC: None}, asked=frozenset(), settings=SETTINGS)
    assert plan is not None
    assert "deadbeefcafe" not in asked_fingerprints(all_bodies(plan))


def test_the_posted_body_marks_every_fingerprint_of_the_review() -> None:
    plan = plan_review(
        [SAMPLE], patches={DOC: new_file_patch(60)}, asked=frozenset(), settings=SETTINGS
    )
    assert plan is not None
    assert plan.as_request_body() == plan.body  # the body's own marker lists them all
    unmarked = ReviewPlan(body="text", comments=(), fingerprints=frozenset({"aaaaaaaaaaaa"}))
    assert unmarked.as_request_body() == "text\n<!-- product-review:fp=aaaaaaaaaaaa -->"


def test_a_capped_review_asks_only_each_documents_most_important_questions() -> None:
    from checks import review_document
    from checks.engine import question_rank

    text = "# Cache\n\n## Problem\n\nBuilds are slow.\n\n## Alternatives\n\nTBD\n\nTBD\n"
    reviewed = review_document(text, DOC)
    assert len(reviewed.findings) > 3
    capped = dataclasses.replace(SETTINGS, max_per_document=3)
    plan = plan_review([reviewed], patches={DOC: None}, asked=frozenset(), settings=capped)
    assert plan is not None
    fingerprint_of = dict(zip(reviewed.findings, finding_fingerprints(reviewed), strict=True))
    best = sorted(reviewed.findings, key=lambda f: question_rank(f, reviewed.category))[:3]
    assert set(plan.fingerprints) == {fingerprint_of[f] for f in best}
    # Asked once, the top three are not followed by the next three on a later push.
    again = plan_review(
        [reviewed], patches={DOC: None}, asked=frozenset(plan.fingerprints), settings=capped
    )
    assert again is None
    uncapped = plan_review(
        [reviewed], patches={DOC: None}, asked=frozenset(plan.fingerprints), settings=SETTINGS
    )
    assert uncapped is not None and len(uncapped.fingerprints) == len(reviewed.findings) - 3
