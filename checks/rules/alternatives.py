"""`alternatives`: What else was considered (including doing nothing), and why not those?"""

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
    "alternatives",
    "alternative",
    "alternatively",
    "we considered",
    "was considered",
    "were considered",
    "another approach",
    "another option",
    "other approaches",
    "other options",
    "one option",
    "rejected",
    "we could instead",
    "could instead",
    "do nothing",
    "doing nothing",
    "not doing this",
    "status quo",
    "a different approach",
    "considered and rejected",
    "another avenue",
    "we have explored",
    "we explored",
    "we also explored",
    "could be chosen",
    "one alternative",
    "an alternative",
    "another alternative",
    "we chose",
    "we opted",
    "decided against",
    "the downside of",
    "the advantage of",
    "pros and cons",
    "pros",
    "cons",
    "why not",
    "option a|b|1|2",
    "approach a|b|1|2",
    "the first approach",
    "the second approach",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "instead",
    "could",
    "option",
)

# Words that show an option is weighed, not only named.
REASONING_MARKERS: tuple[str, ...] = (
    "because",
    "but",
    "however",
    "downside",
    "drawback",
    "would require",
    "not chosen",
    "rejected",
    "doesn't",
    "does not",
    "too",
    "instead",
    "since",
    "unfortunately",
    "worse",
    "better",
    "prefer",
    "preferred",
    "advantage",
    "disadvantage",
    "cost",
    "costs",
    "pros",
    "cons",
    "trade-off",
    "tradeoff",
    "although",
    "while",
    "problem",
    "issue",
    "complex",
    "complexity",
    "would",
    "unlike",
    "not",
    "why",
)


def judge_section(section: SectionView) -> Assessment | None:
    if not section.primary:
        return section.signal_inside()
    if section.words >= 20 and section.markers.get("reasoning"):
        return section.present()
    return section.weak(f'"{section.title}" names options without reasons')


def judge_text(text: TextEvidence) -> Assessment | None:
    """An alternative named in a block that also gives reasons is enough."""
    tried: set[int] = set()  # a block with many hits is read once, not once per hit
    for line, index in text.strong:
        if index in tried:
            continue
        tried.add(index)
        block = text.doc.blocks[index]
        if block.word_count < 15:
            continue
        if any(phrase.label == "reasoning" for _, phrase in text.markers(block)):
            return Assessment(Status.PRESENT, line, "an alternative with reasons, in the text")
    return None


GOOD_EXAMPLE = """\
## Alternatives

Doing nothing: agents keep the workaround, at roughly 40 hours a week. Buying
Tool X was rejected because it covers returns but not exchanges, which are half
the volume.
"""
BAD_EXAMPLE = """\
## Alternatives

Tool X, Tool Y.
"""

RULE = DimensionRule(
    id="alternatives",
    title="Alternatives",
    present_when="weighs at least one alternative (doing nothing counts) with reasons",
    prose=Prose(
        label="Alternatives",
        question="What else was considered (including doing nothing), and why not those?",
        category_questions={
            Category.STABILIZATION: (
                "Is there a cheaper mitigation that would buy time, and why isn't it enough?"
            ),
        },
        why="Alternatives show the chosen design was picked, not just the first idea.",
        looks_for=(
            "At least one other option, doing nothing included, and the reasoning "
            "for not choosing it. Options listed without reasons count as weak; "
            '"None" or "TBD" under the heading does not count.'
        ),
        example=(
            "Doing nothing: agents keep the workaround, at roughly 40 hours a week. "
            "Buying Tool X: covers returns but not exchanges, which are half the "
            "volume."
        ),
        description="Alternatives are missing or not reasoned",
        help=(
            "List at least one other option (doing nothing counts) and why it was not "
            "chosen, so reviewers can check the trade-off."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(compliance=Requirement.OPTIONAL, research=Requirement.OPTIONAL),
    priority=by_category(product=7, platform=4, compliance=8, research=8, stabilization=5),
    headings=Headings(
        aliases=(
            "alternatives",
            "alternatives considered",
            "rationale and alternatives",
            "alternative designs",
            "alternative approaches",
            "alternative",
            "other options",
            "options considered",
            "considered options",
            "considered alternatives",
            "design alternatives",
            "alternative solutions",
            "rejected alternatives",
            "other approaches",
        ),
        secondary=(
            "rationale",
            "options",
            "prior art",
            "design decisions",
            "discussion",
            "why not",
            "why are we",
            "why don't we",
            "why do we",
            "q and a",
            "faq",
            "frequently asked questions",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    markers={"reasoning": REASONING_MARKERS},
    judge_section=judge_section,
    text_threshold=2,
    judge_text=judge_text,
)
