"""`risks`: What could go wrong, and what does it cost to build, run and maintain?"""

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
    "drawback",
    "drawbacks",
    "downside",
    "downsides",
    "risk",
    "risks",
    "breaking change",
    "breaking changes",
    "backwards incompatible",
    "backward incompatible",
    "source-breaking",
    "source breaking",
    "abi-breaking",
    "migration",
    "maintenance burden",
    "maintenance cost",
    "overhead",
    "trade-off",
    "trade-offs",
    "tradeoff",
    "tradeoffs",
    "mitigation",
    "mitigations",
    "mitigate",
    "regression",
    "regressions",
    "complexity",
    "on-call",
    "operational cost",
    "cost of",
    "costs",
    "security implications",
    "compatibility",
    "incompatible",
    "performance impact",
    "disadvantage",
    "disadvantages",
    "caveat",
    "caveats",
    "concern",
    "concerns",
    "failure mode",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "cost",
    "break",
    "breaks",
    "concern",
    "however",
)

# A risks section that only says there is no cost ("raises no compatibility
# issues", "no drawbacks") names no risk: it is weak, like "None".
RISK_DENIALS: tuple[str, ...] = (
    "no drawbacks",
    "no known drawbacks",
    "no real drawbacks",
    "no downsides",
    "no compatibility issues|concerns|problems",
    "raises no",
    "no impact",
    "no risk",
    "no risks",
    "purely additive",
    "is additive",
    "fully backward|backwards compatible",
    "no breaking changes",
    "does not break",
    "doesn't break",
    "nothing breaks",
    "no existing program|programs|code breaks",
    "should not cause any",
    "none known",
)


def denies_cost(section: SectionView) -> bool:
    """A short section that only says there is no cost; its words count for nothing."""
    return bool(section.markers.get("risk_denial")) and section.words < 80


def judge_section(section: SectionView) -> Assessment | None:
    if denies_cost(section):
        # "Raises no compatibility issues" names no cost; weak, like "None".
        return section.weak(f'"{section.title}" only says there is no cost')
    return section.judged_by_length(minimum=12)


GOOD_EXAMPLE = """\
## Risks

The new queue adds a service the platform team must run on call; we mitigate that
with managed hosting and a runbook, at about $900 a month.
"""
BAD_EXAMPLE = """\
## Drawbacks

This change raises no compatibility issues.
"""

RULE = DimensionRule(
    id="risks",
    title="Risks and costs",
    present_when="discusses drawbacks, costs, compatibility or migration",
    prose=Prose(
        label="Risks",
        question="What could go wrong, and what does it cost to build, run and maintain?",
        category_questions={
            Category.PLATFORM: (
                "What does this add to on-call and maintenance, and what breaks for existing "
                "callers (compatibility, migration)?"
            ),
            Category.COMPLIANCE: (
                "What is the exposure if the control fails or the evidence is incomplete?"
            ),
            Category.STABILIZATION: (
                "What breaks, and how badly, if this waits, and what could the fix itself break?"
            ),
        },
        why="Costs paid later (maintenance, migration, on-call) are part of the decision.",
        looks_for=(
            "Drawbacks and costs: maintenance, migration, compatibility, "
            'operational load, ideally with mitigations. "None", "TBD" or one '
            "vague line counts as weak."
        ),
        example=(
            "The new queue adds a service the platform team must run on call; we "
            "mitigate with managed hosting and a runbook, at about $900 a month."
        ),
        description="Risks and costs are missing or weak",
        help=(
            "Name the drawbacks and the maintenance, migration, compatibility or "
            "operational cost, ideally with mitigations."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(research=Requirement.OPTIONAL),
    priority=by_category(product=9, platform=6, compliance=4, research=9, stabilization=4),
    headings=Headings(
        aliases=(
            "risks",
            "risks and mitigations",
            "risk",
            "drawbacks",
            "drawback",
            "downsides",
            "costs",
            "cost",
            "source compatibility",
            "abi compatibility",
            "effect on abi stability",
            "backwards compatibility",
            "backward compatibility",
            "security considerations",
            "trade offs",
            "tradeoffs",
            "trade-offs",
            "concerns",
            "impact on existing code",
            "operational impact",
            "performance impact",
            "negative consequences",
            "effect on api resilience",
            "breaking changes",
            "caveats",
        ),
        secondary=(
            "migration",
            "security",
            "compatibility",
            "consequences",
            "performance",
            "unresolved questions",
            "open questions",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    markers={"risk_denial": RISK_DENIALS},
    judge_section=judge_section,
    text_threshold=2,
    voids_text=denies_cost,
)
