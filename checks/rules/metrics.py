"""`metrics`: How will we know it worked? Which number moves, from what baseline to what target?"""

from __future__ import annotations

from collections.abc import Sequence

from checks.document import SENTENCE_END, Block
from checks.enums import Category, Severity, Status
from checks.rules.judging import Assessment, SectionView, TextEvidence
from checks.rules.types import (
    DimensionRule,
    Examples,
    Headings,
    Prose,
    by_category,
    required_except,
)

STRONG_SIGNALS: tuple[str, ...] = ()
WEAK_SIGNALS: tuple[str, ...] = (
    "improve",
    "improves",
    "faster",
    "better",
    "reduce",
    "increase",
    "goal",
    "goals",
    "success metric",
    "success metrics",
    "success criteria",
    "we will measure",
    "we'll measure",
    "measured by",
    "slo",
    "slos",
    "sli",
    "slis",
    "p99",
    "p95",
    "error budget",
    "kpi",
    "kpis",
    "exit criteria",
    "success looks like",
    "we will know",
)

# Words that make a number in a sentence a target: comparators, units, measures.
METRIC_COMPARATORS: frozenset[str] = frozenset(
    [
        "less",
        "fewer",
        "more",
        "under",
        "below",
        "above",
        "within",
        "least",
        "most",
        "reduce",
        "reduced",
        "reduces",
        "reducing",
        "increase",
        "increased",
        "increases",
        "increasing",
        "decrease",
        "decreases",
        "target",
        "targets",
        "goal",
        "than",
        "percent",
        "ms",
        "seconds",
        "second",
        "minutes",
        "minute",
        "hours",
        "hour",
        "days",
        "latency",
        "throughput",
        "rate",
        "slo",
        "sli",
        "p99",
        "p95",
        "p90",
        "p50",
        "faster",
        "slower",
        "x",
        "times",
        "budget",
        "uptime",
        "availability",
        "conversion",
        "retention",
        "adoption",
        "errors",
        "error",
        "accuracy",
    ]
)
# Outside a metrics section, a target also needs one of these in its sentence.
GOAL_WORDS = frozenset(
    {
        "goal",
        "goals",
        "success",
        "metric",
        "metrics",
        "slo",
        "slos",
        "objective",
        "objectives",
        "kpi",
        "kpis",
        "aim",
        "budget",
    }
)


def is_quantity(token: str) -> bool:
    if not token[:1].isdigit():  # "http2", "v1", "x86" are names, not amounts
        return False
    if token.count(".") >= 2:  # a version such as 1.2.3
        return False
    return not (len(token) == 4 and token.isdigit() and token[:2] in {"19", "20"})  # a year


def target_lines(blocks: Sequence[Block], need_goal_word: bool) -> list[int]:
    """Lines where a number sits in a sentence with a comparator or unit (a target)."""
    found: list[int] = []
    for block in blocks:
        if not block.has_number:
            continue
        tokens = block.tokens
        start = 0
        for end in range(len(tokens) + 1):
            if end < len(tokens) and tokens[end] not in SENTENCE_END:
                continue
            sentence = tokens[start:end]
            if any(is_quantity(t) for t in sentence) and (
                any(t in METRIC_COMPARATORS or t.endswith("%") for t in sentence)
            ):
                goal_ok = not need_goal_word or not GOAL_WORDS.isdisjoint(sentence)
                if goal_ok:
                    found.append(block.token_lines[start] if start < len(tokens) else block.line)
            start = end + 1
    return found


def judge_section(section: SectionView) -> Assessment | None:
    """Present with a target under the heading; a secondary heading (Goals) is judged
    the same way, but never weak."""
    targets = target_lines(section.blocks, need_goal_word=False)
    if targets:
        return section.present(targets[0], f'target under "{section.title}"')
    if not section.primary:
        return None
    return section.weak(f'"{section.title}" names success without a measure')


def judge_text(text: TextEvidence) -> Assessment | None:
    targets = target_lines(text.blocks(), need_goal_word=True)
    if targets:
        return Assessment(Status.PRESENT, targets[0], "a measurable target in the text")
    return None


GOOD_EXAMPLE = """\
## Success metrics

Checkout abandonment on mobile drops from 38% to below 30% within eight weeks of
launch, measured on the existing funnel dashboard.
"""
BAD_EXAMPLE = """\
## Success metrics

Improve checkout performance.
"""

RULE = DimensionRule(
    id="metrics",
    title="Success metrics",
    present_when="states a measurable criterion with a number or threshold",
    prose=Prose(
        label="Metrics",
        question=(
            "How will we know it worked? Which number moves, from what baseline to what target?"
        ),
        category_questions={
            Category.PLATFORM: (
                "How will we know it worked for the teams that depend on it: an SLO, an "
                "adoption target, time to integrate?"
            ),
            Category.COMPLIANCE: (
                "What evidence will the auditor need to see, and how will we produce it?"
            ),
            Category.RESEARCH: (
                "What is the hypothesis, and what result would confirm or kill it (exit criteria)?"
            ),
            Category.STABILIZATION: "Which error budget or SLO tells us this is fixed?",
        },
        # Measured on the corpus: 84-99% of these families' documents leave it open.
        kind_questions={
            "rfc": (
                "How will we know it worked: how many crates or projects adopt it, which "
                "issues or confusing errors it ends, what it does to compile time?"
            ),
            "swift-evolution": (
                "How will we know it worked: adoption in packages, the boilerplate or bugs "
                "it removes, its effect on compile time or binary size?"
            ),
            "go-proposal": (
                "How will we know it worked: how many programs would use it (a search of "
                "existing code, say), which bugs or boilerplate it removes, its build-time cost?"
            ),
            "dotnet-design": (
                "How will we know it worked: adoption by libraries and apps, fewer reported "
                "issues, and the performance it must reach (throughput, allocations, startup)?"
            ),
            "kep": (
                "Which SLIs (error rate, latency) show the feature works in production, and "
                "what numbers must hold to graduate it?"
            ),
        },
        why="Without a measure, nobody can tell later whether this worked.",
        looks_for=(
            "A measurable criterion with a target or threshold: a number, a "
            "baseline and a target, an SLO, or a measurable bar for graduation. "
            'Success named without a measure ("improve performance") counts as '
            "weak."
        ),
        example=(
            "Checkout abandonment on mobile drops from 38% to below 30% within eight "
            "weeks of launch, measured on the existing funnel dashboard."
        ),
        description="No measurable success criterion",
        help=(
            "Give a criterion with a target or threshold (a number, baseline to target, "
            "an SLO) so that everyone can tell later whether the change worked."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(),
    priority=by_category(product=3, platform=3, compliance=3, research=2, stabilization=3),
    headings=Headings(
        aliases=(
            "success metrics",
            "metrics",
            "success criteria",
            "measuring success",
            "kpis",
            "kpi",
            "goals and metrics",
            "definition of done",
            "acceptance criteria",
            "success measures",
            "measures of success",
            "key results",
            "slos",
            "slo",
            "graduation criteria",
            "how will we measure success",
            "exit criteria",
        ),
        secondary=(
            "success",
            "measurement",
            "goals",
            "goal",
            "objectives",
            "requirements",
        ),
        excluded=(
            "non goals",
            "non-goals",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    category_signals={
        Category.COMPLIANCE: (
            "for the auditor",
            "to the auditor",
            "audit evidence",
            "evidence of compliance",
            "evidenced",
            "control passes",
            "audit report",
            "retention report",
            "compliance report",
            "attestation",
        ),
        Category.RESEARCH: (
            "hypothesis",
            "exit criteria",
            "we will know",
            "success looks like",
            "go/no-go",
            "go no-go",
            "what we learn",
            "decision at the end",
        ),
        Category.STABILIZATION: (
            "error budget",
            "slo",
            "slos",
            "error rate below|under",
        ),
    },
    judge_section=judge_section,
    text_threshold=1,
    judge_text=judge_text,
)
