"""`incremental`: What is the smallest version that would test the bet before building all of it?"""

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
    "phase 1|one|i",
    "first phase",
    "phase #",
    "mvp",
    "minimum viable",
    "milestone",
    "milestones",
    "alpha",
    "beta",
    "feature gate",
    "feature flag",
    "feature-gated",
    "behind a flag",
    "behind a feature",
    "opt-in",
    "experimental",
    "nightly",
    "unstable",
    "preview",
    "pilot",
    "staged",
    "gradual",
    "gradually",
    "incrementally",
    "incremental",
    "first step",
    "initial version",
    "initial implementation",
    "iteration",
    "rollout",
    "roll out",
    "canary",
    "experiment",
    "a/b",
    "prototype",
    "proof of concept",
    "timebox",
    "time-box",
    "timeboxed",
    "first version",
    "v1",
    "start with",
    "starting with",
    "to begin with",
    "later phases",
    "stabilize",
    "stabilization",
    "graduate",
    "ga",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "first",
    "initially",
    "later",
    "follow-up",
    "stable",
)


def judge_section(section: SectionView) -> Assessment | None:
    """Present with 15 words under a primary heading, or under a secondary one
    (Implementation, Timeline) that names a stage; never weak."""
    if section.words < 15:
        return None
    if section.primary:
        return section.present()
    stage = section.markers.get("stage")
    return section.present(stage[0]) if stage else None


GOOD_EXAMPLE = """\
## Rollout

Phase 1: single sign-on with the two identity providers our three largest
customers use, behind a feature flag; more providers only when a customer asks.
"""
BAD_EXAMPLE = """\
## Rollout

TBD.
"""

RULE = DimensionRule(
    id="incremental",
    title="Smallest first step",
    present_when="has an MVP, phases, milestones, a flag or a staged rollout",
    prose=Prose(
        label="Smallest step",
        question=(
            "What is the smallest version that would test the bet before building all of it?"
        ),
        category_questions={
            Category.PLATFORM: (
                "Which one or two teams could adopt a first version, and what would they "
                "need on day one?"
            ),
            Category.RESEARCH: "What is the timebox, and what gets decided when it ends?",
        },
        # Measured on the corpus: 65-80% of these families' documents leave it open.
        kind_questions={
            "rfc": (
                "What is the smallest part that could be stabilised first, behind a feature "
                "gate on nightly, with the rest left for later?"
            ),
            "swift-evolution": (
                "What is the smallest part that could be proposed on its own, with the rest "
                "left as future directions?"
            ),
            "dotnet-design": (
                "What is the smallest version that could ship first, as a preview package or "
                "behind a feature switch, and who would try it?"
            ),
        },
        why="A small first version tests the bet before the full cost is paid.",
        looks_for=(
            "The smallest version that tests the idea: an MVP, phases, milestones, "
            "a staged rollout, a feature flag, or an experiment. A passing hint "
            "counts as weak."
        ),
        example=(
            "Phase 1: SSO with the two identity providers our three largest "
            "customers use, behind a flag; more providers only when a customer asks."
        ),
        description="No smallest first version",
        help=(
            "Describe the smallest version that tests the bet: an MVP, phases, a staged "
            "rollout, a flag or an experiment."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(compliance=Requirement.OFF, stabilization=Requirement.OPTIONAL),
    priority=by_category(product=6, platform=5, compliance=9, research=3, stabilization=6),
    headings=Headings(
        aliases=(
            "rollout",
            "rollout plan",
            "phases",
            "phasing",
            "milestones",
            "mvp",
            "implementation plan",
            "release plan",
            "staging",
            "feature enablement and rollback",
            "experiment",
            "experiments",
            "delivery plan",
            "iteration plan",
            "rollout upgrade and rollback planning",
            "phased rollout",
            "pilot",
            "timebox",
        ),
        secondary=(
            "implementation",
            "plan",
            "timeline",
            "deployment",
            "next steps",
            "graduation criteria",
            "migration plan",
            "roadmap",
            "upgrade downgrade strategy",
            "implementation history",
            "version skew strategy",
            "transition",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    category_signals={
        Category.RESEARCH: (
            "timebox",
            "timeboxed",
            "time-boxed",
            "# weeks|days|sprints",
        ),
    },
    markers={"stage": STRONG_SIGNALS},
    judge_section=judge_section,
    text_threshold=2,
)
