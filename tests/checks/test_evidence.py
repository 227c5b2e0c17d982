"""What a dimension's status rests on: the deciding text, and the ranked evidence that
`--explain` asks for, in the report, the JSON, the CLI and the Check Run details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks import ReviewOptions, Status, review_document
from checks.evidence import EVIDENCE_TEXT_CHARS, explanation_text
from localreview.main import main

DOC = """# Faster builds for the mobile team

## Problem

Mobile engineers wait 14 minutes for a clean build, and they start about
30 of them a day: most of an hour each, every day, spent waiting.

## Success metrics

Median clean build time drops from 14 minutes to under 5 by the end of
the quarter, measured by the CI dashboard.

## Alternatives

TBD

## Risks

It adds work.
"""


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(DOC.splitlines(), 1) if line.startswith(text))


def test_by_default_a_status_carries_its_deciding_text_and_no_ranking() -> None:
    report = review_document(DOC, "doc.md")
    risks = report.dimension("risks")
    assert risks.status is Status.WEAK
    assert risks.line == _line_of("It adds work.")
    assert risks.deciding_text == "It adds work."
    assert all(result.evidence == () for result in report.dimensions)
    for result in report.dimensions:
        assert bool(result.deciding_text) == (result.line is not None)


def test_explain_ranks_evidence_best_first_and_never_a_hollow_section() -> None:
    report = review_document(DOC, "doc.md", ReviewOptions(explain=2))
    metrics = report.dimension("metrics")
    assert len(metrics.evidence) == 2
    best = metrics.evidence[0]
    assert best.line == _line_of("Median clean build time")
    assert best.score > metrics.evidence[1].score
    assert best.text.startswith("Median clean build time drops from 14 minutes")
    hollow = _line_of("TBD")
    for result in report.dimensions:
        assert hollow not in {item.line for item in result.evidence}


def test_a_missing_dimension_is_explained_by_how_far_its_best_candidate_fell_short() -> None:
    report = review_document(DOC, "doc.md", ReviewOptions(explain=1))
    non_goals = report.dimension("non_goals")
    assert non_goals.status is Status.MISSING and non_goals.line is None
    (candidate,) = non_goals.evidence
    assert candidate.score < 0.5


def test_evidence_text_is_one_short_line() -> None:
    long_paragraph = "# Doc\n\n## Problem\n\n" + "word " * 2_000 + "\n"
    report = review_document(long_paragraph, "doc.md", ReviewOptions(explain=1))
    for result in report.dimensions:
        for item in result.evidence:
            assert len(item.text) <= EVIDENCE_TEXT_CHARS and "\n" not in item.text
            assert item.text.endswith("…")


def test_the_json_carries_the_new_keys_and_keeps_the_old(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "rfc.md"
    document.write_text(DOC, encoding="utf-8")
    main(["check", str(document), "--format", "json", "--explain", "2", "--no-progress"])
    (report,) = json.loads(capsys.readouterr().out)["documents"]
    metrics = report["dimensions"]["metrics"]
    assert {"status", "line", "requirement", "question", "note"} <= set(metrics)
    assert metrics["deciding_text"].startswith("Median clean build time")
    assert metrics["evidence"][0]["line"] == _line_of("Median clean build time")
    assert len(metrics["evidence"]) == 2
    assert set(metrics["evidence"][0]) == {"line", "end_line", "score", "text"}


def test_check_explain_prints_the_evidence_with_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "rfc.md"
    document.write_text(DOC, encoding="utf-8")
    main(["check", str(document), "--explain", "--no-progress"])
    out = capsys.readouterr().out
    assert f"{document}: evidence, best first" in out
    risks = _line_of("It adds work.")
    assert f"  risks: weak (line {risks})\n    rests on: It adds work.\n" in out
    line = _line_of("Median clean build time")
    sentence = "Median clean build time drops from 14 minutes to under 5 by the end of"
    assert any(f"line {line}: {sentence}" in row for row in out.splitlines())
    report = review_document(DOC, str(document), ReviewOptions(explain=3))
    assert explanation_text([report]) in out
