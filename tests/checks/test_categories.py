"""Categories: where they come from, and how they change what is asked."""

from __future__ import annotations

import pytest

from checks import Category, Requirement, ReviewOptions, review_document

COMPLIANCE = """# Encrypt backups at rest

## Problem

The SOC 2 audit found that database backups are stored unencrypted, which
fails control CC6.1. The auditor needs evidence of encryption for every backup
bucket before the attestation window closes, and HIPAA rules apply to two of
the buckets. Regulatory exposure grows with each month of non-compliance.
"""

RESEARCH = """# Spike: can we index PDFs client-side?

## Hypothesis

We believe a WebAssembly build of the indexer can index a 200-page PDF in the
browser. This research spike is timeboxed to two weeks; the exploration ends
with a go/no-go note. We want to learn whether the feasibility holds on
low-end laptops before investing, and the proof of concept stays throwaway.
"""

STABILIZATION = """# Stop the nightly import from paging on-call

## Problem

The import job crashed in 9 of the last 30 nights, each incident paging the
on-call engineer. Postmortems point to flaky retries; the error budget for the
pipeline was exhausted last month, and reliability of the reports depends on it.
Outages of the import delay every downstream dashboard.
"""

PLATFORM = """# Typed configuration for the service SDK

## Motivation

Service owners configure the SDK through untyped maps today, so mistakes
surface at runtime. The API should offer a typed builder in the library, and
the compiler catches misspelled keys. The framework's module system and the
runtime both need a small change.
"""

PRODUCT = """# One-click reorder

## Problem

Customers who reorder the same groceries every week rebuild the basket by
hand. Retention drops for shoppers who churn after the third order, and the
checkout funnel loses them at the basket step; the dashboard shows the drop.
"""


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (COMPLIANCE, Category.COMPLIANCE),
        (RESEARCH, Category.RESEARCH),
        (STABILIZATION, Category.STABILIZATION),
        (PLATFORM, Category.PLATFORM),
        (PRODUCT, Category.PRODUCT),
    ],
)
def test_category_is_inferred_from_the_text(text: str, category: Category) -> None:
    report = review_document(text, "x.md")
    assert (report.category, report.category_source) == (category, "text")


def test_front_matter_wins_over_config_and_config_over_text() -> None:
    fronted = "---\ncategory: research\n---\n" + PRODUCT
    options = ReviewOptions(category=Category.COMPLIANCE)
    assert review_document(fronted, "x.md", options).category_source == "front-matter"
    assert review_document(fronted, "x.md", options).category is Category.RESEARCH
    from_config = review_document(PRODUCT, "x.md", options)
    assert (from_config.category, from_config.category_source) == (Category.COMPLIANCE, "config")


def test_an_unknown_front_matter_category_falls_back() -> None:
    report = review_document("---\ncategory: marketing\n---\n" + PRODUCT, "x.md")
    assert report.category_source == "text"


def _questions(category: Category) -> dict[str, str]:
    text = f"---\ncategory: {category.value}\n---\n# Empty\n\nNothing here yet.\n"
    return {d.key: d.question for d in review_document(text, "x.md").dimensions}


def _requirements(category: Category) -> dict[str, Requirement]:
    text = f"---\ncategory: {category.value}\n---\n# Empty\n\nNothing here yet.\n"
    return {d.key: d.requirement for d in review_document(text, "x.md").dimensions}


def test_compliance_never_asks_for_a_smaller_scope() -> None:
    assert _requirements(Category.COMPLIANCE)["incremental"] is Requirement.OFF
    report = review_document("---\ncategory: compliance\n---\n# Empty\n\nText.\n", "x.md")
    assert "incremental" not in {f.check for f in report.findings}
    questions = _questions(Category.COMPLIANCE)
    assert "clause" in questions["problem"] and "auditor" in questions["metrics"]


def test_research_asks_for_hypothesis_timebox_and_exit_criteria() -> None:
    questions = _questions(Category.RESEARCH)
    assert "hypothesis" in questions["metrics"] and "exit criteria" in questions["metrics"]
    assert "timebox" in questions["incremental"]
    assert _requirements(Category.RESEARCH)["users"] is Requirement.OPTIONAL


def test_stabilization_asks_for_incident_data_not_why_now() -> None:
    assert _requirements(Category.STABILIZATION)["why_now"] is Requirement.OFF
    assert "incident" in _questions(Category.STABILIZATION)["evidence"]


def test_platform_asks_about_adoption_and_on_call() -> None:
    questions = _questions(Category.PLATFORM)
    assert "adoption" in questions["metrics"]
    assert "on-call" in questions["risks"]
    assert "teams" in questions["users"]


def test_team_wording_replaces_the_built_in_question() -> None:
    options = ReviewOptions(questions={"metrics": "Which OKR does this move?"})
    report = review_document(PRODUCT, "x.md", options)
    assert report.dimension("metrics").question == "Which OKR does this move?"


@pytest.mark.parametrize(
    ("category", "sentence", "dimension"),
    [
        (Category.COMPLIANCE, "We export a monthly retention report for the auditor.", "metrics"),
        (Category.RESEARCH, "Our hypothesis is that caching halves cold starts.", "metrics"),
        (Category.RESEARCH, "The spike is timeboxed to two weeks.", "incremental"),
        (Category.STABILIZATION, "On-call was paged on nine nights last month.", "evidence"),
    ],
)
def test_some_signals_count_only_for_their_kind_of_work(
    category: Category, sentence: str, dimension: str
) -> None:
    text = "---\ncategory: {cat}\n---\n# Plan\n\n" + sentence + "\n"
    # The rules' signals, so the learned layer (which reads them as features) is left out.
    rules = ReviewOptions(model=None)
    own = review_document(text.format(cat=category.value), "x.md", rules).dimension(dimension)
    other = review_document(text.format(cat="product"), "x.md", rules).dimension(dimension)
    assert own.status.value == "present"
    assert other.status.value != "present"
