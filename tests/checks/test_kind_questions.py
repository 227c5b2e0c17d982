"""A gap nearly every document of a template family shares is asked in that family's
terms when the work is platform work; elsewhere the category's wording stays."""

from __future__ import annotations

import pytest

from checks import Category, ReviewOptions, review_document
from checks.rules import DIMENSION_BY_ID

KEP = """# KEP-9999: Pod restart budget

## Summary

A per-namespace budget for container restarts, enforced by the kubelet.

## Motivation

Cluster operators see crash loops exhaust node resources.

## Design Details

The kubelet counts restarts per namespace and delays the next one.

## Graduation Criteria

Alpha behind the `RestartBudget` feature gate.

## Implementation History

- 2026-11-30: proposed
"""


def test_platform_work_in_a_kep_is_asked_for_its_slis() -> None:
    report = review_document(KEP, "keps/9999/README.md")
    assert report.kind == "kep" and report.category is Category.PLATFORM
    metrics = report.dimension("metrics")
    assert metrics.status.value != "present"
    assert metrics.question == DIMENSION_BY_ID["metrics"].prose.kind_questions["kep"]
    assert "SLIs" in metrics.question
    gap = next(f for f in report.findings if f.check == "metrics")
    assert gap.question == metrics.question


@pytest.mark.parametrize(
    "category", [Category.PRODUCT, Category.COMPLIANCE, Category.STABILIZATION]
)
def test_other_work_in_the_same_template_keeps_the_categorys_question(category: Category) -> None:
    report = review_document(KEP, "keps/9999/README.md", ReviewOptions(category=category))
    expected = DIMENSION_BY_ID["metrics"].prose.question_for(category)
    assert report.dimension("metrics").question == expected
    assert "SLIs" not in expected


def test_the_teams_own_wording_still_wins() -> None:
    options = ReviewOptions(questions={"metrics": "Which dashboard proves it?"})
    report = review_document(KEP, "keps/9999/README.md", options)
    assert report.dimension("metrics").question == "Which dashboard proves it?"
