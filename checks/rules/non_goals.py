"""`non_goals`: What is deliberately left out of this, so scope doesn't creep?"""

from __future__ import annotations

from checks.enums import Category, Requirement, Severity
from checks.rules.judging import Assessment, SectionView
from checks.rules.types import (
    DimensionRule,
    Examples,
    Headings,
    Prose,
    by_category,
    required_except,
)

STRONG_SIGNALS: tuple[str, ...] = (
    "non-goal",
    "non-goals",
    "nongoals",
    "non goals",
    "out of scope",
    "out-of-scope",
    "not a goal",
    "not in scope",
    "outside the scope",
    "outside of the scope",
    "beyond the scope",
    "future work",
    "left for future",
    "left to future",
    "left for a future",
    "for a future",
    "future rfc",
    "future proposal",
    "future kep",
    "separate proposal",
    "separate rfc",
    "follow-up",
    "follow up work",
    "deferred",
    "we defer",
    "defer",
    "will not address",
    "does not attempt",
    "does not address",
    "doesn't attempt",
    "not covered",
    "explicitly not",
    "we do not propose",
    "this proposal does not",
    "this rfc does not",
    "this kep does not",
    "not proposing",
    "is not addressed",
    "not intended to",
    "we do not intend",
    "do not intend to",
    "does not intend to",
    "no plan to",
    "no plans to",
    "intentionally do not",
    "intentionally not",
    "deliberately not",
    "narrowly focused",
    "focuses on",
    "focused on",
    "is intended for",
    "will not be detailed",
    "not detailed in",
    "not defined in this",
    "distinct from this proposal",
    "separate from this",
    "will not attempt",
    "does not add",
    "does not change",
    "does not alter",
    "does not propose",
    "not part of this",
    "outside this",
    "does not cover",
    "won't cover",
    "this rfc will not",
    "this proposal will not",
    "this kep will not",
    "we are not proposing",
    "not within the scope",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "future",
    "later",
    "separately",
)


def judge_section(section: SectionView) -> Assessment | None:
    return section.judged_by_length(minimum=4)


GOOD_EXAMPLE = """\
## Non-goals

Offline support, and migrating reports older than two years.
"""
BAD_EXAMPLE = """\
## Non-goals

None.
"""

RULE = DimensionRule(
    id="non_goals",
    title="Non-goals",
    present_when="lists out-of-scope or deferred items",
    prose=Prose(
        label="Non-goals",
        question="What is deliberately left out of this, so scope doesn't creep?",
        category_questions={
            Category.COMPLIANCE: "Which parts of the system are outside the scope of the control?",
            Category.RESEARCH: (
                "What will this spike deliberately not produce (e.g. production code)?"
            ),
        },
        why="Saying what is out keeps scope from creeping during the build.",
        looks_for=(
            "Explicit items that are out of scope or deferred. Scope that is only "
            "implied counts as weak."
        ),
        example=(
            "Out of scope: offline support, and migrating reports older than two "
            "years (they stay read-only in the old system)."
        ),
        description="Non-goals are not stated",
        help=(
            "Say what is deliberately out of scope or deferred; it keeps the work from "
            "growing and tells readers what not to expect."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(stabilization=Requirement.OPTIONAL),
    priority=by_category(product=8, platform=7, compliance=5, research=4, stabilization=7),
    headings=Headings(
        aliases=(
            "non goals",
            "non-goals",
            "nongoals",
            "out of scope",
            "not in scope",
            "out-of-scope",
            "scope",
            "future work",
            "deferred",
            "what this is not",
            "not doing",
        ),
        secondary=(
            "future",
            "later",
            "limitations",
            "future possibilities",
            "future directions",
            "unresolved questions",
            "open questions",
        ),
        excluded=("future possibilities for",),
        # "Goals" is not non-goals, "Non-goals" is not goals.
        exclusive=("non goals", "non-goals"),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    judge_section=judge_section,
    text_threshold=1,
)
