"""The Check Run output built from review reports."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from checks.config import ConfigError, FailOn, Settings
from checks.report import DocumentReport, Requirement, Severity, Status
from ghapp.checkrun import (
    ANNOTATIONS_PER_REQUEST,
    TITLE_LIMIT,
    CheckOutput,
    render_check,
    render_failure,
    render_paused,
    render_skipped,
)
from ghapp.fitting import BODY_LIMIT
from tests.support.builders import (
    DOC,
    SAMPLE,
    SETTINGS,
    gap_finding,
    line_finding,
    report,
)
from tests.support.measure import utf8_length


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
    assert utf8_length(output.title) <= TITLE_LIMIT
    assert utf8_length(output.summary) <= BODY_LIMIT
    assert utf8_length(output.text) <= BODY_LIMIT
    assert re.search(
        r"Cut to fit GitHub's size limit for the summary: \d+ more documents", (output.summary)
    )
    assert re.search(r"\d+ more documents and \d+ more findings not shown", output.text)
    # The config problems are kept even when the scorecard is cut.
    assert "### Configuration problems" in output.summary
    assert "more config problems not shown" in output.summary
    assert len(output.annotations) == 400 * 40
    assert all(utf8_length(a["message"]) <= 64 * 1024 for a in output.annotations)
    assert all(utf8_length(a["title"]) <= TITLE_LIMIT for a in output.annotations)


def test_a_single_enormous_field_is_clipped() -> None:
    huge = report(findings=(line_finding(question="Why? " * 40_000),))
    output = render_check([dataclasses.replace(huge, notes=("n " * 100_000,))], settings=SETTINGS)
    assert utf8_length(output.summary) <= BODY_LIMIT
    assert utf8_length(output.text) <= BODY_LIMIT
    assert "…" in output.text  # the question was clipped, and says so
    failure = render_failure("boom " * 50_000)
    assert utf8_length(failure.summary) <= BODY_LIMIT


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


def test_details_quote_the_line_a_weak_dimension_rests_on() -> None:
    from checks import review_document

    text = "# Cache\n\n## Problem\n\nBuilds are slow.\n\n## Risks\n\nIt adds work.\n"
    reviewed = review_document(text, "docs/cache.md")
    assert reviewed.dimension("risks").status is Status.WEAK
    details = render_check([reviewed], settings=SETTINGS).text
    risks = details[details.index("· Risks**") :].split("\n- ")[0]
    assert "_Rests on:_ “It adds work.”" in risks
    # A missing dimension rests on no line, so it quotes none.
    metrics = details[details.index("· Metrics**") :].split("\n- ")[0]
    assert "_Rests on:_" not in metrics
