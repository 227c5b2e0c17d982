"""Output formats: the JSON contract, SARIF for code scanning, workflow-command escaping,
and the text layout. Reports are built by hand so these tests do not depend on how
the engine judges documents."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from checks import formats
from checks.formats import (
    ANNOTATIONS_PER_KIND,
    RULES,
    FileError,
    OutputFormat,
    artifact_uri,
    escape_data,
    escape_property,
    format_github,
    format_json,
    format_pretty,
    format_sarif,
    format_text,
    render,
    scorecard,
    workflow_command,
)
from checks.report import (
    DIMENSIONS,
    LINE_CHECKS,
    DocumentReport,
    Finding,
    Question,
    Requirement,
    Severity,
    Status,
)
from tests.support import builders

TOP_QUESTION = Question(
    "metrics", "What number tells us it worked?", "Targets end debates.", 7, Severity.WARNING
)


def make_report(
    path: str = "docs/rfcs/0001-search.md",
    statuses: dict[str, Status] | None = None,
    findings: tuple[Finding, ...] = (),
    *,
    skipped: bool = False,
) -> DocumentReport:
    return builders.report(
        path,
        findings,
        statuses=statuses,
        skipped=skipped,
        top_questions=(TOP_QUESTION,),
        title="Search",
        line_count=40,
        category_source="default",
    )


def make_finding(
    check: str = "absolute-requirement",
    severity: Severity = Severity.WARNING,
    line: int = 12,
    end_line: int = 12,
    message: str = "'real-time' is used as a requirement.",
    question: str = "Which delay would still give most of the value?",
    excerpt: str = "real-time",
) -> Finding:
    if check in DIMENSIONS:
        return builders.gap_finding(check, line, severity, message=message, question=question)
    return builders.line_finding(
        check,
        line,
        end_line=end_line,
        severity=severity,
        excerpt=excerpt,
        question=question,
        message=message,
        why="Maximal targets cost the most.",
    )


GAP = make_finding(
    "metrics",
    Severity.ERROR,
    line=1,
    end_line=1,
    message="No measurable success criterion.",
    question="How will we know it worked?",
    excerpt="",
)
LINE = make_finding()
NOTE = make_finding(
    "placeholder", Severity.SUGGESTION, line=30, end_line=31, message="TBD left.", excerpt="TBD"
)


# --- json ---------------------------------------------------------------------------


def test_json_has_the_contract_keys_for_every_document() -> None:
    report = make_report(statuses={"metrics": Status.MISSING}, findings=(GAP, LINE))
    payload = json.loads(format_json([report], [FileError("bad.md", "not valid UTF-8")]))

    assert set(payload) == {"documents", "errors"}
    document = payload["documents"][0]
    assert {"path", "category", "kind", "dimensions", "findings"} <= set(document)
    assert list(document["dimensions"]) == list(DIMENSIONS)
    assert document["dimensions"]["metrics"] == {
        **document["dimensions"]["metrics"],
        "status": "missing",
        "line": None,
    }
    assert document["dimensions"]["problem"]["status"] == "present"
    first = document["findings"][0]
    assert {"check", "severity", "line", "end_line", "message", "question"} <= set(first)
    assert (first["check"], first["severity"], first["line"]) == ("metrics", "error", 1)
    assert payload["errors"] == [{"path": "bad.md", "message": "not valid UTF-8"}]


def test_json_documents_equal_report_to_dict_in_order() -> None:
    reports = [make_report("b.md"), make_report("a.md", findings=(LINE,))]
    payload = json.loads(format_json(reports))
    assert payload == {"documents": [r.to_dict() for r in reports], "errors": []}


def test_json_keeps_non_ascii_text_readable() -> None:
    report = make_report(findings=(make_finding(message="« temps réel » demandé"),))
    assert "« temps réel »" in format_json([report])


# --- sarif --------------------------------------------------------------------------


def sarif(reports: list[DocumentReport], errors: list[FileError] | None = None) -> Any:
    return json.loads(format_sarif(reports, errors or [], tool_version="1.2.3"))


def test_sarif_top_level_is_2_1_0_with_one_run() -> None:
    log = sarif([make_report(findings=(LINE,))])
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "product-review"
    assert driver["semanticVersion"] == "1.2.3"


def test_sarif_rules_cover_every_check_and_dimension_with_help() -> None:
    rules = sarif([])["runs"][0]["tool"]["driver"]["rules"]
    assert {rule["id"] for rule in rules} == set(DIMENSIONS) | set(LINE_CHECKS)
    assert set(RULES) == set(DIMENSIONS) | set(LINE_CHECKS)
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}


def test_sarif_results_point_at_rules_files_and_lines() -> None:
    log = sarif([make_report(findings=(GAP, LINE, NOTE))])
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["metrics", "absolute-requirement", "placeholder"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "docs/rfcs/0001-search.md"
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
    assert results[2]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 30,
        "endLine": 31,
    }
    assert "Which delay" in results[1]["message"]["text"]


def test_sarif_regions_have_a_start_column_only_when_the_finding_has_one() -> None:
    located = dataclasses.replace(LINE, column=7)
    log = json.loads(format_sarif([make_report(findings=(located, NOTE))]))
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in log["runs"][0]["results"]]
    assert {"startLine": 12, "startColumn": 7}.items() <= regions[0].items()
    assert "startColumn" not in regions[1]


def test_sarif_fingerprints_survive_line_shifts_and_tell_duplicates_apart() -> None:
    moved = make_finding(line=40, end_line=40)
    first = sarif([make_report(findings=(LINE,))])["runs"][0]["results"][0]
    shifted = sarif([make_report(findings=(moved,))])["runs"][0]["results"][0]
    assert first["partialFingerprints"] == shifted["partialFingerprints"]
    twice = sarif([make_report(findings=(LINE, moved))])["runs"][0]["results"]
    assert twice[0]["partialFingerprints"] != twice[1]["partialFingerprints"]


def test_sarif_reports_unreadable_files_as_tool_notifications_not_results() -> None:
    log = sarif([], [FileError("docs/design/broken.md", "binary file")])
    run = log["runs"][0]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"] == "binary file"
    uri = notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "docs/design/broken.md"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("docs/rfcs/0001-a.md", "docs/rfcs/0001-a.md"),
        ("docs\\rfcs\\b.md", "docs/rfcs/b.md"),
        ("docs/my design/c d.md", "docs/my%20design/c%20d.md"),
        ("/abs/path/e.md", "file:///abs/path/e.md"),
        ("docs/ü.md", "docs/%C3%BC.md"),
    ],
)
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


# --- github -------------------------------------------------------------------------


def test_escape_data_and_properties() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    # ':' and ',' are harmless in the message part and stay readable.
    assert escape_data("a: b, c") == "a: b, c"


def test_workflow_command_layout() -> None:
    line = workflow_command("warning", "msg", file="a,b:c.md", line=3)
    assert line == "::warning file=a%2Cb%3Ac.md,line=3::msg"
    assert workflow_command("notice", "bare") == "::notice::bare"


def test_github_format_one_annotation_per_finding() -> None:
    report = make_report("docs/design/pay, v2.md", findings=(GAP, LINE, NOTE))
    lines = format_github([report]).splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        "::error file=docs/design/pay%2C v2.md,line=1,endLine=1,"
        "title=product-review%3A metrics::No measurable success criterion.%0A"
        "How will we know it worked?"
    )
    assert lines[1].startswith("::warning file=")
    assert lines[2].startswith("::notice file=")
    assert ",line=30,endLine=31," in lines[2]


def test_github_format_escapes_percent_and_newlines_in_messages() -> None:
    finding = make_finding(message="Aims for 100%\nof users", question="")
    (line,) = format_github([make_report(findings=(finding,))]).splitlines()
    assert line.endswith("::Aims for 100%25%0Aof users")


def test_github_format_reports_unreadable_files_as_errors() -> None:
    output = format_github([], [FileError("docs/rfcs/x.md", "not valid UTF-8")])
    assert output == (
        "::error file=docs/rfcs/x.md,title=product-review%3A unreadable file::not valid UTF-8\n"
    )


# --- text ---------------------------------------------------------------------------


def test_scorecard_lists_weak_and_missing_dimensions() -> None:
    report = make_report(statuses={"users": Status.WEAK, "metrics": Status.MISSING})
    total = len(DIMENSIONS)
    assert scorecard(report) == f"{total - 2}/{total} present | weak: users | missing: metrics"
    assert scorecard(make_report()) == f"{total}/{total} present"


def test_scorecard_shows_dimensions_off_for_the_category_as_off_not_missing() -> None:
    report = builders.report(
        statuses={"incremental": Status.MISSING, "users": Status.MISSING, "why_now": Status.WEAK},
        requirements={"incremental": Requirement.OFF, "why_now": Requirement.OFF},
    )
    judged = len(DIMENSIONS) - 2
    assert scorecard(report) == (
        f"{judged - 1}/{judged} present | missing: users | off: why_now, incremental"
    )


def test_text_is_one_clickable_line_per_finding_then_a_summary() -> None:
    located = dataclasses.replace(LINE, column=7)
    reports = [
        make_report("docs/rfcs/a.md", {"metrics": Status.MISSING}, (GAP, located)),
        make_report("docs/rfcs/b.md", findings=(NOTE,)),
    ]
    text = format_text(reports, [FileError("docs/rfcs/c.md", "binary file")])
    assert text.splitlines() == [
        "docs/rfcs/a.md:1:1: error metrics No measurable success criterion.",
        "docs/rfcs/a.md:12:7: warning absolute-requirement 'real-time' is used as a "
        "requirement.",
        # No column known: 1. The line is the finding's first.
        "docs/rfcs/b.md:30:1: suggestion placeholder TBD left.",
        "2 documents reviewed: 1 error, 1 warning, 1 suggestion; 1 file could not be reviewed",
    ]


def test_text_puts_a_gap_without_a_line_on_line_1_and_a_message_on_one_line() -> None:
    gap = dataclasses.replace(GAP, line=0, end_line=0, message="Metrics:\nnot found.")
    (line, _) = format_text([make_report(findings=(gap,))]).splitlines()
    assert line == "docs/rfcs/0001-search.md:1:1: error metrics Metrics: not found."


def test_text_notes_and_skipped_documents_name_their_file() -> None:
    report = dataclasses.replace(make_report(findings=(LINE,)), notes=("front matter ignored",))
    lines = format_text([report, make_report("docs/rfcs/s.md", skipped=True)]).splitlines()
    assert lines[0] == "docs/rfcs/0001-search.md: note: front matter ignored"
    assert lines[2] == "docs/rfcs/s.md: note: skipped (front matter product_review: skip)"


def test_text_colour_only_when_asked() -> None:
    report = make_report(findings=(LINE,))
    coloured = format_text([report], color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == format_text([report], color=False)
    assert "\x1b[" not in format_text([report], color=False)


def test_text_marks_skipped_documents_and_clean_runs() -> None:
    text = format_text([make_report(skipped=True)])
    assert "skipped" in text
    assert text.splitlines()[-1] == "1 document reviewed: no findings"


def test_pretty_groups_findings_under_their_file_with_lines_and_questions() -> None:
    reports = [
        make_report("docs/rfcs/a.md", {"metrics": Status.MISSING}, (GAP, LINE)),
        make_report("docs/rfcs/b.md", findings=(NOTE,)),
    ]
    text = format_pretty(reports, [FileError("docs/rfcs/c.md", "binary file")])
    assert render(OutputFormat.PRETTY, reports, [FileError("docs/rfcs/c.md", "x")]) == text
    lines = text.splitlines()
    a_at, b_at = (
        lines.index("docs/rfcs/a.md (rfc, product)"),
        lines.index("docs/rfcs/b.md (rfc, product)"),
    )
    assert a_at < b_at
    section_a = "\n".join(lines[a_at:b_at])
    total = len(DIMENSIONS)
    assert f"scorecard: {total - 1}/{total} present | missing: metrics" in section_a
    assert " 1  error" in section_a and "No measurable success criterion." in section_a
    assert "12  warning" in section_a
    assert "? Which delay would still give most of the value?" in section_a
    assert "30-31  suggestion" in text
    assert lines[-1] == (
        "2 documents reviewed: 1 error, 1 warning, 1 suggestion; 1 file could not be reviewed"
    )
    assert "\x1b[" not in text


def test_pretty_colour_only_when_asked() -> None:
    report = make_report(findings=(LINE,))
    assert "\x1b[" in format_pretty([report], color=True)
    assert "\x1b[" not in format_pretty([report], color=False)


@pytest.mark.parametrize("output_format", list(OutputFormat))
def test_render_dispatches_and_ends_with_newline(output_format: OutputFormat) -> None:
    output = render(output_format, [make_report(findings=(LINE,))])
    assert output.endswith("\n")
    if output_format in (OutputFormat.JSON, OutputFormat.SARIF):
        json.loads(output)


def test_json_is_compact_unless_pretty() -> None:
    reports = [make_report(findings=(LINE,))]
    compact, pretty = format_json(reports), format_json(reports, pretty=True)
    assert compact.count("\n") == 1
    assert pretty.count("\n") > 20
    assert json.loads(compact) == json.loads(pretty)
    assert format_sarif(reports).count("\n") == 1


def test_github_format_spills_past_the_per_step_annotation_limit_into_the_log() -> None:
    warnings = tuple(make_finding(line=n, end_line=n) for n in range(1, 14))
    notes = (NOTE,)
    lines = format_github([make_report(findings=(*warnings, *notes))]).splitlines()

    commands = [line for line in lines if line.startswith("::")]
    plain = [line for line in lines if not line.startswith("::")]
    assert lines[0].startswith("::notice title=product-review::3 more findings")
    assert sum(line.startswith("::warning ") for line in commands) == ANNOTATIONS_PER_KIND
    assert sum(line.startswith("::notice ") for line in commands) == 2
    assert plain == [
        f"docs/rfcs/0001-search.md:{n}: warning: 'real-time' is used as a requirement. "
        "Which delay would still give most of the value? [product-review: absolute-requirement]"
        for n in (11, 12, 13)
    ]


def test_github_spill_notice_counts_the_notice_it_displaces() -> None:
    warnings = tuple(make_finding(line=n, end_line=n) for n in range(1, 12))
    notes = tuple(
        make_finding("placeholder", Severity.SUGGESTION, line=n, end_line=n, excerpt=f"TBD{n}")
        for n in range(20, 30)
    )
    lines = format_github([make_report(findings=(*warnings, *notes))]).splitlines()
    # 11 warnings (1 over the limit) and 10 notices, of which 1 gives way to the notice.
    assert lines[0].startswith("::notice title=product-review::2 more findings")
    assert sum(line.startswith("::notice ") for line in lines) == ANNOTATIONS_PER_KIND
    assert len([line for line in lines if not line.startswith("::")]) == 2


def test_sarif_keeps_the_most_severe_results_within_the_code_scanning_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(formats, "SARIF_MAX_RESULTS", 2)
    log = sarif([make_report(findings=(NOTE, LINE, GAP))])
    run = log["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "warning"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("1 least severe results left out")
