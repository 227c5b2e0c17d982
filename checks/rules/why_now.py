"""`why_now`: Why now? What changes, or what does it cost, if this waits a quarter?"""

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
    "why now",
    "now that",
    "deadline",
    "end of life",
    "end-of-life",
    "eol",
    "no longer supported",
    "will be removed",
    "is being removed",
    "is deprecated",
    "increasingly",
    "more and more",
    "growing number",
    "rapidly growing",
    "cost of delay",
    "if we do nothing",
    "without this",
    "blocker",
    "unblock",
    "unblocks",
    "prerequisite",
    "in time for",
    "urgent",
    "urgently",
    "before the release",
    "recently",
    "has become",
    "have become",
    "is becoming",
    "are becoming",
    "trend",
    "every release",
    "each release",
    "the longer we wait",
    "sooner",
    "time-sensitive",
    "by the end of",
    "due to the upcoming",
    "put off",
    "putting off",
    "if we wait",
    "for the next # months|years|releases",
    "has grown",
    "have grown",
    "greatly expanded",
    "has expanded",
    "growing demand",
    "is growing",
    "are growing",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "soon",
    "upcoming",
    "today",
    "now",
    "long-standing",
    "long standing",
    "release",
)


def judge_section(section: SectionView) -> Assessment | None:
    return section.judged_by_length(minimum=10)


GOOD_EXAMPLE = """\
## Why now

The vendor ends support for the current SDK on 30 June; after that, security
fixes stop and the app store will reject our updates.
"""
BAD_EXAMPLE = """\
## Why now

Soon.
"""

RULE = DimensionRule(
    id="why_now",
    title="Why now",
    present_when="gives a trigger, deadline, dependency, trend or cost of delay",
    prose=Prose(
        label="Why now",
        question="Why now? What changes, or what does it cost, if this waits a quarter?",
        category_questions={
            Category.COMPLIANCE: (
                "What is the deadline (audit date, effective date), and what happens if we miss it?"
            ),
        },
        why="Timing decides priority against everything else the team could do.",
        looks_for=(
            "A reason the work should happen now rather than later: a trigger, a "
            "deadline, a dependency, a trend, or what waiting costs. A doc where "
            "the urgency is only implied counts as weak."
        ),
        example=(
            "The vendor ends support for the current SDK on 30 June; after that, "
            "security fixes stop and the app store will reject our updates."
        ),
        description="Why now is not stated",
        help=(
            "Name the trigger, deadline, dependency or the cost of waiting, so the work "
            "can be weighed against everything else the team could do."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(
        platform=Requirement.OPTIONAL, research=Requirement.OPTIONAL, stabilization=Requirement.OFF
    ),
    priority=by_category(product=5, platform=8, compliance=2, research=6, stabilization=9),
    headings=Headings(
        aliases=(
            "why now",
            "timing",
            "urgency",
            "deadline",
            "why this why now",
            "cost of delay",
            "why is this needed now",
            "why now and not later",
        ),
        secondary=(
            "motivation",
            "background",
            "summary",
            "introduction",
            "abstract",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    category_signals={
        Category.COMPLIANCE: (
            "audit window",
            "effective date",
            "compliance deadline",
            "audit date",
        ),
    },
    judge_section=judge_section,
    text_threshold=1,
)
