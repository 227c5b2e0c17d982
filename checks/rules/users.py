"""`users`: Who exactly has this problem, and what are they trying to do when they hit it?"""

from __future__ import annotations

from checks.enums import Category, Requirement, Severity, Status
from checks.rules.judging import Assessment, SectionView, TextEvidence
from checks.rules.types import (
    DimensionRule,
    Examples,
    Headings,
    Prose,
    by_category,
    required_except,
)

STRONG_SIGNALS: tuple[str, ...] = (
    "library|crate|package|framework|plugin|sdk authors|maintainers|developers",
    "app|application|mobile|web|game|embedded|backend|frontend|kernel developers",
    "cluster operators|administrators|admins",
    "platform teams|engineers|operators",
    "site reliability engineers",
    "sres",
    "on-call engineers",
    "data scientists|engineers|analysts",
    "enterprise customers|users",
    "small businesses",
    "first-time users",
    "new contributors",
    "end users",
    "power users",
    "operators",
    "administrators",
    "tool|ide|editor authors|vendors",
    "cloud providers",
    "service owners",
    "persona",
    "personas",
    "user story",
    "user stories",
    "our customers",
    "merchants",
    "admins",
    "beginners",
    "newcomers",
    "driver authors|vendors",
    "people who",
    "developers who",
    "users who",
    "teams that",
    "customers who",
    "programmers who",
    "anyone who",
    "as a|an user|developer|customer|administrator|admin|operator|maintainer|author|engineer",
    "as a|an manager|shopper|merchant|buyer|seller|designer|analyst|researcher|student|teacher",
    "i want to",
    "so that i",
    "maintainers",
    "contributors",
    "distributors",
    "vendors",
    "integrators",
    "author|authors|writer|writers|maintainer|maintainers|users|developers of",
    "test writer|writers|authors",
    "companies|organizations|organisations|teams|vendors that|who",
    "if you are using|building|writing|running",
    "beginner|beginners",
    "low-level applications",
    "for a beginner",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "users",
    "developers",
    "customers",
    "people",
    "programmers",
    "teams",
)


def judge_text(text: TextEvidence) -> Assessment | None:
    """One specific group named where the problem is told is enough."""
    for line, index in text.strong:
        section = text.doc.blocks[index].section
        if section != -1 and "problem" in text.section_dimensions(section):
            return Assessment(Status.PRESENT, line, "a specific group where the problem is told")
    return None


def judge_section(section: SectionView) -> Assessment | None:
    return section.judged_by_length(minimum=25)


GOOD_EXAMPLE = """\
## Users

Warehouse pickers on the night shift, who scan 300 to 400 items an hour on shared
handheld devices with gloves on, and the shift leads who plan their routes before
each shift starts.
"""
BAD_EXAMPLE = """\
## Users

Users.
"""

RULE = DimensionRule(
    id="users",
    title="Users",
    present_when=(
        'names a specific group ("library authors", "cluster operators", a '
        "persona) and their situation"
    ),
    prose=Prose(
        label="Users",
        question=("Who exactly has this problem, and what are they trying to do when they hit it?"),
        category_questions={
            Category.PLATFORM: (
                "Which engineers will use this (which teams, which integrations), and what "
                "do they do today instead?"
            ),
        },
        why="Knowing who is affected decides what matters in the design.",
        looks_for=(
            "A specific group and the situation they are in: a persona, a customer "
            "segment, or a developer audience such as cluster operators or the "
            'payments team. Only "users", "developers" or "customers" counts '
            "as weak."
        ),
        example=(
            "Warehouse pickers on the night shift, who scan 300 to 400 items an hour "
            "on shared handheld devices with gloves on."
        ),
        description="Users are not named specifically",
        help=(
            "Say which group of people is affected (a persona, a segment, or a "
            "developer audience such as cluster operators) and what they are trying to "
            "do."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(
        compliance=Requirement.OPTIONAL,
        research=Requirement.OPTIONAL,
        stabilization=Requirement.OPTIONAL,
    ),
    priority=by_category(product=2, platform=2, compliance=6, research=5, stabilization=8),
    headings=Headings(
        aliases=(
            "users",
            "user stories",
            "user story",
            "personas",
            "persona",
            "target users",
            "audience",
            "target audience",
            "who is this for",
            "customers",
            "scenarios and user experience",
            "target customers",
        ),
        secondary=(
            "scenarios",
            "use cases",
            "use case",
            "user experience",
            "who",
            "customer scenarios",
            "user scenarios",
            "stakeholders",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    judge_section=judge_section,
    text_threshold=1,
    judge_text=judge_text,
)
