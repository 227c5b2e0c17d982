"""The documented JSON contract and the report's ordering."""

from __future__ import annotations

import json
from pathlib import Path

from checks import DIMENSIONS, review_document

FIXTURES = Path(__file__).parent / "fixtures"


def test_to_dict_keeps_the_contract() -> None:
    report = review_document((FIXTURES / "hollow-sections.md").read_text(), "docs/x.md")
    data = json.loads(json.dumps(report.to_dict()))
    assert {"path", "category", "kind", "dimensions", "findings"} <= data.keys()
    assert list(data["dimensions"]) == list(DIMENSIONS)
    for value in data["dimensions"].values():
        assert value["status"] in {"present", "weak", "missing"}
        assert value["line"] is None or isinstance(value["line"], int)
    assert data["findings"]
    for finding in data["findings"]:
        assert {"check", "severity", "line", "end_line", "message", "question"} <= finding.keys()
        assert finding["severity"] in {"suggestion", "warning", "error"}


def test_findings_are_sorted_and_top_questions_are_few_and_best_first() -> None:
    report = review_document((FIXTURES / "solution-restated.md").read_text(), "x.md")
    assert list(report.findings) == sorted(report.findings, key=lambda f: f.sort_key())
    assert 0 < len(report.top_questions) <= 5
    ranks = [q.severity.rank for q in report.top_questions]
    assert ranks == sorted(ranks, reverse=True)
    assert len({q.source for q in report.top_questions}) == len(report.top_questions)
