"""The Check Run output and the PR review built from review reports."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping

import pytest

from checks.config import CommentMode, ConfigError, FailOn, Settings
from checks.report import (
    DIMENSIONS,
    Category,
    DimensionResult,
    DocumentReport,
    Finding,
    FindingKind,
    Question,
    Requirement,
    Severity,
    Status,
)
from ghapp.render import (
    ANNOTATIONS_PER_REQUEST,
    BODY_LIMIT,
    TITLE_LIMIT,
    CheckOutput,
    ReviewPlan,
    asked_fingerprints,
    finding_fingerprints,
    plan_review,
    render_check,
    render_failure,
    render_paused,
    render_skipped,
)

DOC = "docs/rfcs/0042-sso.md"


# --------------------------------------------------------------------------- builders


def dimension(
    key: str,
    status: Status = Status.PRESENT,
    line: int | None = 3,
    requirement: Requirement = Requirement.REQUIRED,
) -> DimensionResult:
    return DimensionResult(
        key=key,
        status=status,
        line=line if status is not Status.MISSING else None,
        requirement=requirement,
        question=f"What about {key}?",
        why=f"Because {key} matters.",
        note=f"{key} looked {status.value}",
    )


def line_finding(
    check: str = "absolute-requirement",
    line: int = 12,
    *,
    end_line: int | None = None,
    severity: Severity = Severity.WARNING,
    excerpt: str = "all providers",
    question: str = "Which providers are enough for the first release?",
) -> Finding:
    return Finding(
        check=check,
        kind=FindingKind.LINE,
        severity=severity,
        line=line,
        end_line=line if end_line is None else end_line,
        message=f'Absolute wording "{excerpt}" used as a requirement',
        question=question,
        why="A smaller target may give most of the value at a fraction of the cost.",
        excerpt=excerpt,
    )


def gap_finding(key: str, line: int = 1, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(
        check=key,
        kind=FindingKind.GAP,
        severity=severity,
        line=line,
        end_line=line,
        message=f"{key} is not covered",
        question=f"What about {key}?",
        why=f"Because {key} matters.",
    )


def report(
    path: str = DOC,
    findings: tuple[Finding, ...] = (),
    *,
    statuses: Mapping[str, Status] | None = None,
    requirements: Mapping[str, Requirement] | None = None,
    skipped: bool = False,
    top_questions: tuple[Question, ...] | None = None,
) -> DocumentReport:
    """A report whose gap findings agree with its dimension statuses."""
    statuses = dict(statuses or {})
    for finding in findings:
        if finding.kind is FindingKind.GAP:
            statuses.setdefault(finding.check, Status.MISSING)
    gap_lines = {f.check: f.line for f in findings if f.kind is FindingKind.GAP}
    dimensions = tuple(
        dimension(
            key,
            statuses.get(key, Status.PRESENT),
            line=gap_lines.get(key, 3),
            requirement=(requirements or {}).get(key, Requirement.REQUIRED),
        )
        for key in DIMENSIONS
    )
    if top_questions is None:
        top_questions = tuple(
            Question(f.check, f.question, f.why, f.line, f.severity) for f in findings[:3]
        )
    return DocumentReport(
        path=path,
        category=Category.PRODUCT,
        category_source="front-matter",
        kind="rfc",
        title="Single sign-on for enterprise customers",
        line_count=200,
        dimensions=dimensions,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        top_questions=top_questions,
        skipped=skipped,
    )


def new_file_patch(lines: int) -> str:
    return f"@@ -0,0 +1,{lines} @@\n" + "\n".join(f"+line {n}" for n in range(1, lines + 1))


def shifted(document: DocumentReport, by: int) -> DocumentReport:
    """The same document after a push that inserted `by` lines above everything."""
    findings = tuple(
        dataclasses.replace(f, line=f.line + by, end_line=f.end_line + by)
        for f in document.findings
    )
    return dataclasses.replace(document, findings=findings)


def all_bodies(plan: ReviewPlan) -> list[str]:
    return [plan.body, *(comment.body for comment in plan.comments)]


SETTINGS = Settings()
SAMPLE = report(
    findings=(
        line_finding(line=12),
        line_finding(
            "unquantified-goal", 30, excerpt="improve onboarding", question="By how much?"
        ),
        gap_finding("evidence", severity=Severity.ERROR),
    ),
    statuses={"evidence": Status.MISSING},
)


# --------------------------------------------------------------------------- Check Run


@pytest.mark.parametrize(
    ("reports", "settings", "conclusion", "title"),
    [
        pytest.param([report()], SETTINGS, "success", "1 document, no questions", id="clean"),
        pytest.param(
            [report(findings=(line_finding(),)), report("docs/design/b.md")],
            SETTINGS,
            "neutral",
            "2 documents, 1 question",
            id="questions",
        ),
        pytest.param(
            [report(findings=(line_finding(severity=Severity.WARNING),))],
            Settings(fail_on=FailOn.WARNING),
            "failure",
            "1 document, 1 question, 1 at the failing level",
            id="fail_on reached",
        ),
        pytest.param(
            [report(findings=(line_finding(severity=Severity.WARNING),))],
            Settings(fail_on=FailOn.ERROR),
            "neutral",
            "1 document, 1 question",
            id="fail_on not reached",
        ),
        pytest.param(
            [report(findings=(line_finding(severity=Severity.ERROR),))],
            Settings(fail_on=FailOn.NEVER),
            "neutral",
            "1 document, 1 question",
            id="fail_on never",
        ),
        pytest.param(
            [report(findings=(line_finding(severity=Severity.ERROR),), skipped=True)],
            Settings(fail_on=FailOn.SUGGESTION),
            "skipped",
            "1 document skipped",
            id="every document opted out",
        ),
        pytest.param(
            [report()],
            Settings(errors=(ConfigError("o/r:.github/product-review.yml", "fail_on", "bad"),)),
            "neutral",
            "1 document, no questions; config has 1 problem",
            id="config errors are not a green check",
        ),
    ],
)
def test_conclusion_and_title(
    reports: list[DocumentReport], settings: Settings, conclusion: str, title: str
) -> None:
    output = render_check(reports, settings=settings)
    assert (output.conclusion, output.title) == (conclusion, title)


def test_no_reports_is_skipped() -> None:
    assert render_check([], settings=SETTINGS) == render_skipped()


def test_summary_has_scorecard_legend_and_top_questions() -> None:
    document = report(
        findings=(gap_finding("metrics", line=40), gap_finding("evidence")),
        statuses={
            "metrics": Status.WEAK,
            "evidence": Status.MISSING,
            "why_now": Status.MISSING,
            "risks": Status.WEAK,
        },
        requirements={"why_now": Requirement.OFF, "risks": Requirement.OPTIONAL},
    )
    summary = render_check([document], settings=SETTINGS).summary
    header = next(line for line in summary.splitlines() if line.startswith("| Document"))
    row = next(line for line in summary.splitlines() if line.startswith(f"| `{DOC}`"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    marks = dict(zip(columns, cells, strict=True))
    assert marks["Problem"] == "✅"
    assert marks["Metrics"] == "⚠️"
    assert marks["Evidence"] == "❌"
    assert marks["Why now"] == "—"  # not asked for this kind of work
    assert marks["Risks"] == "➖"  # optional here and not covered
    assert marks["Questions"] == "2"
    assert "✅ covered · ⚠️ weak · ❌ missing" in summary
    assert "### Questions that matter most" in summary
    assert "1. **What about metrics?** Because metrics matters. _(line 40)_" in summary
    # A missing dimension is about the whole document: no line, whatever the engine set.
    assert "2. **What about evidence?** Because evidence matters.\n" in summary


def test_summary_notes_skipped_documents_and_config_errors() -> None:
    error = ConfigError(
        "octo/docs:.github/product-review.yml", "fail_on", "must be one of never, error", line=3
    )
    output = render_check(
        [report(findings=(line_finding(),)), report("docs/design/old.md", skipped=True)],
        settings=Settings(errors=(error,)),
    )
    assert "Not reviewed (front matter `product_review: skip`):\n\n- `docs/design/old.md`" in (
        output.summary
    )
    assert "### Configuration problems" in output.summary
    assert f"- {error}" in output.summary
    assert "docs/design/old.md" not in [a["path"] for a in output.annotations]


def test_summary_says_when_the_failing_level_is_reached() -> None:
    output = render_check([SAMPLE], settings=Settings(fail_on=FailOn.ERROR))
    assert "1 finding at or above `fail_on: error`" in output.summary


def test_text_lists_every_finding_per_document() -> None:
    text = render_check([SAMPLE], settings=SETTINGS).text
    assert text.startswith(f"## `{DOC}`")
    assert "**Line 12 · Absolute requirement** (warning)" in text
    assert "**Line 30 · Unquantified goal** (warning)" in text
    assert "**Whole document · Evidence** (error)" in text
    assert "**Ask:** By how much?" in text


def test_clean_review_has_no_details_and_output_omits_text() -> None:
    output = render_check([report()], settings=SETTINGS)
    assert output.text == ""
    assert output.output() == {"title": output.title, "summary": output.summary}
    batch = list(render_check([SAMPLE], settings=SETTINGS).annotations[:ANNOTATIONS_PER_REQUEST])
    assert render_check([SAMPLE], settings=SETTINGS).output(batch)["annotations"] == batch


def test_annotations_map_levels_and_skip_whole_document_gaps() -> None:
    document = report(
        findings=(
            line_finding(line=5, end_line=7, severity=Severity.ERROR),
            line_finding("unquantified-goal", 9, severity=Severity.SUGGESTION, excerpt="faster"),
            gap_finding("metrics", line=40),  # weak section: has a line
            gap_finding("evidence"),  # missing: about the whole document
        ),
        statuses={"metrics": Status.WEAK},
    )
    annotations = render_check([document], settings=SETTINGS).annotations
    assert [
        (a["start_line"], a["end_line"], a["annotation_level"], a["title"]) for a in annotations
    ] == [
        (5, 7, "failure", "Product review: Absolute requirement"),
        (9, 9, "notice", "Product review: Unquantified goal"),
        (40, 40, "warning", "Product review: Metrics (weak)"),
    ]
    assert all(a["path"] == DOC for a in annotations)
    assert "Which providers are enough for the first release?" in annotations[0]["message"]


def test_max_annotations_keeps_the_most_severe_in_line_order() -> None:
    document = report(
        findings=(
            line_finding(line=1, severity=Severity.SUGGESTION, excerpt="a"),
            line_finding(line=2, severity=Severity.ERROR, excerpt="b"),
            line_finding(line=3, severity=Severity.WARNING, excerpt="c"),
            line_finding(line=4, severity=Severity.ERROR, excerpt="d"),
        )
    )
    output = render_check([document], settings=SETTINGS, max_annotations=3)
    assert [a["start_line"] for a in output.annotations] == [2, 3, 4]
    assert "1 finding not annotated" in output.summary


def test_output_does_not_depend_on_report_order() -> None:
    reports = [
        report(f"docs/design/{name}.md", findings=(line_finding(line=n + 1),))
        for n, name in enumerate("qwertyuiop")
    ]
    expected = render_check(reports, settings=SETTINGS)
    shuffled = reports[:]
    random.Random(7).shuffle(shuffled)
    assert render_check(shuffled, settings=SETTINGS) == expected
    paths = [line.split("`")[1] for line in expected.summary.splitlines() if line.startswith("| `")]
    assert paths == sorted(paths)


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def test_giant_review_stays_within_github_limits_and_says_what_was_cut() -> None:
    long_question = "Which target is enough here, and who decided it? " * 200
    reports = [
        report(
            f"docs/design/{'very-long-directory-name/' * 8}doc-{n:04}-ü🚀.md",
            findings=tuple(
                line_finding(line=i + 1, excerpt=f"all 🚀 {i}", question=long_question)
                for i in range(40)
            ),
        )
        for n in range(400)
    ]
    output = render_check(
        reports,
        settings=Settings(
            errors=tuple(ConfigError("o/r:cfg.yml", f"k{i}", "x" * 500) for i in range(100))
        ),
    )
    assert _byte_len(output.title) <= TITLE_LIMIT
    assert _byte_len(output.summary) <= BODY_LIMIT
    assert _byte_len(output.text) <= BODY_LIMIT
    assert re.search(
        r"Cut to fit GitHub's size limit for the summary: \d+ more documents", (output.summary)
    )
    assert re.search(r"\d+ more documents and \d+ more findings not shown", output.text)
    # The config problems are kept even when the scorecard is cut.
    assert "### Configuration problems" in output.summary
    assert "more config problems not shown" in output.summary
    assert len(output.annotations) == 400 * 40
    assert all(_byte_len(a["message"]) <= 64 * 1024 for a in output.annotations)
    assert all(_byte_len(a["title"]) <= TITLE_LIMIT for a in output.annotations)


def test_a_single_enormous_field_is_clipped() -> None:
    huge = report(findings=(line_finding(question="Why? " * 40_000),))
    output = render_check([dataclasses.replace(huge, notes=("n " * 100_000,))], settings=SETTINGS)
    assert _byte_len(output.summary) <= BODY_LIMIT
    assert _byte_len(output.text) <= BODY_LIMIT
    assert "…" in output.text  # the question was clipped, and says so
    failure = render_failure("boom " * 50_000)
    assert _byte_len(failure.summary) <= BODY_LIMIT


def test_skipped_failure_and_paused_outputs() -> None:
    skipped = render_skipped()
    assert (skipped.conclusion, skipped.title) == ("skipped", "No design documents changed")
    assert "\n" not in skipped.summary

    failure = render_failure("GitHub answered 502 three times")
    assert failure.conclusion == "neutral"
    assert "could not complete" in failure.title
    assert "GitHub answered 502 three times" in failure.summary
    assert failure.actions  # the re-run button is the way out

    paused = render_paused()
    assert paused.conclusion == "skipped"
    assert "paused" in paused.summary
    assert "`/product-review resume`" in paused.summary


@pytest.mark.parametrize(
    "output",
    [render_check([SAMPLE], settings=SETTINGS), render_failure("x")],
    ids=["review", "failure"],
)
def test_rerun_button_fits_github_limits(output: CheckOutput) -> None:
    assert len(output.actions) == 1
    (action,) = output.actions
    assert action["identifier"] == "rerun"
    assert len(action["label"]) <= 20
    assert len(action["description"]) <= 40
    assert len(action["identifier"]) <= 20


# --------------------------------------------------------------------------- PR review


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


def test_fingerprints_survive_line_shifts_but_not_new_words() -> None:
    assert finding_fingerprints(shifted(SAMPLE, 7)) == finding_fingerprints(SAMPLE)

    def fingerprint_of(excerpt: str, line: int = 12) -> str:
        (fingerprint,) = finding_fingerprints(
            report(findings=(line_finding(line=line, excerpt=excerpt),))
        )
        return fingerprint

    original = fingerprint_of("all providers")
    assert fingerprint_of("all providers", line=90) == original
    assert fingerprint_of("All\n  providers,") == original  # re-wrapped, punctuated
    assert fingerprint_of("every provider") != original


def test_gap_fingerprint_depends_on_status_and_path_not_line() -> None:
    missing = report(
        findings=(gap_finding("metrics", line=1),), statuses={"metrics": Status.MISSING}
    )
    weak = report(findings=(gap_finding("metrics", line=1),), statuses={"metrics": Status.WEAK})
    weak_later = report(
        findings=(gap_finding("metrics", line=80),), statuses={"metrics": Status.WEAK}
    )
    elsewhere = dataclasses.replace(weak, path="docs/design/other.md")
    assert finding_fingerprints(missing) != finding_fingerprints(weak)
    assert finding_fingerprints(weak) == finding_fingerprints(weak_later)
    assert finding_fingerprints(weak) != finding_fingerprints(elsewhere)


def test_the_same_words_twice_are_two_questions() -> None:
    document = report(
        findings=(
            line_finding("placeholder", 10, excerpt="TBD"),
            line_finding("placeholder", 50, excerpt="TBD"),
        )
    )
    fingerprints = finding_fingerprints(document)
    assert len(set(fingerprints)) == 2
    assert finding_fingerprints(shifted(document, 3)) == fingerprints


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
    assert _byte_len(plan.body) <= BODY_LIMIT
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


def test_asked_fingerprints_reads_every_marker() -> None:
    bodies = [
        "text <!-- product-review:fp=aaaaaaaaaaaa -->",
        "<!-- product-review:fp=bbbbbbbbbbbb,cccccccccccc -->\nmore",
        "no marker here",
        "",
    ]
    assert asked_fingerprints(bodies) == {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"}
