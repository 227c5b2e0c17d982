"""`unquantified-goal`: a goal (improve, reduce, increase…) with no number."""

from __future__ import annotations

from collections.abc import Iterator

from checks.document import Document
from checks.enums import Category, Severity
from checks.rules.common import NEGATION_WORDS
from checks.rules.scanning import BlockContext, RawFinding, any_between
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "unquantified-goal"

GOAL_VERB_PHRASES: tuple[str, ...] = (
    "improve",
    "improves",
    "improving",
    "improved",
    "reduce",
    "reduces",
    "reducing",
    "increase",
    "increases",
    "increasing",
    "faster",
    "speed up",
    "decrease",
    "decreases",
    "minimize",
    "minimise",
    "maximize",
    "maximise",
    "boost",
    "enhance",
    "optimize",
    "optimise",
    "cut",
    "grow",
)
GOAL_CONTEXT_PHRASES: tuple[str, ...] = (
    "goal",
    "goals",
    "aim",
    "aims",
    "objective",
    "objectives",
    "we want to",
    "we aim to",
    "we hope to",
    "we expect to",
    "success",
    "intended to",
    "the purpose",
    "we plan to",
    "expected to",
)

# Goal verbs strong enough to state a goal anywhere; the rest of GOAL_VERB_PHRASES
# ("faster", "cut") only count inside a Goals/Success section.
STRONG_GOAL_VERBS: frozenset[str] = frozenset(
    """improve improves improving reduce reduces reducing increase increases increasing
    decrease decreases minimize minimise maximize maximise boost enhance optimize optimise
    speed""".split()
)
# "an increase in X" describes; "Increase X" aims.
NOUN_BEFORE: frozenset[str] = frozenset(
    {"a", "an", "the", "any", "no", "significant", "large", "small"}
)
NOUN_AFTER: frozenset[str] = frozenset({"in", "of"})
# In a Goals list the goal leads its item, or follows one of these.
GOAL_LEAD: frozenset[str] = frozenset(
    {"to", "will", "should", "must", "and", "also", "further", "greatly"}
)
# Sections whose every sentence is a goal.
GOAL_HEADINGS: tuple[str, ...] = (
    "goals",
    "goal",
    "objectives",
    "objective",
    "success metrics",
    "success criteria",
    "expected outcomes",
    "outcomes",
    "key results",
    "benefits",
)


def _goal_sections(doc: Document) -> frozenset[int]:
    return frozenset(
        i
        for i, s in enumerate(doc.sections)
        if any(f" {h} " in f" {s.norm_title} " for h in GOAL_HEADINGS)
        and "non goals" not in s.norm_title
    )


def detect(context: BlockContext) -> Iterator[RawFinding]:
    """The first goal of the block with no number in its sentence: a goal verb in a
    Goals section, or a strong one framed as a goal ("our aim is to reduce X")."""
    if context.in_dimension("non_goals", primary_only=False):
        return
    block, sentences, hits = context.block, context.sentences, context.hits
    goal_section = context.scan.in_sections(block, context.scan.once(_goal_sections))
    context_starts = [i for i, _ in hits.get("goal_context", ())]  # in token order
    for index, words in hits["goal_verb"]:
        if not goal_section and words[0] not in STRONG_GOAL_VERBS:
            continue
        start, end = sentences.span(index)
        before = block.tokens[index - 1] if index > start else ""
        after = block.tokens[index + 1] if index + 1 < end else ""
        if before in NOUN_BEFORE or after in NOUN_AFTER:
            continue  # "an increase in X" describes, it does not aim
        if goal_section and index != start and before not in GOAL_LEAD:
            continue  # in a Goals list the goal leads its item: "Improve X."
        has_context = goal_section or any_between(context_starts, start, end)
        if not has_context or sentences.has_quantity(index):
            continue
        if not NEGATION_WORDS.isdisjoint(sentences.words(index)):
            continue
        if block.kind == "table_row":
            continue
        yield context.finding(ID, index, min(end - index, 6))
        return


GOOD_EXAMPLE = """\
## Goals

- Cut the median time from sign-up to first project from 3 days to 1 day by Q3.
"""
BAD_EXAMPLE = """\
## Goals

- Reduce onboarding time.
"""

RULE = LineCheckRule(
    id=ID,
    message='A goal with no number or target: "{excerpt}".',
    catches="a goal (improve, reduce, increase…) with no number",
    quiet_on='"reduce p95 from 800 ms to 300 ms", descriptions such as "an increase in X"',
    prose=Prose(
        label="Unquantified goal",
        question="By how much, from what baseline, and by when?",
        category_questions={
            Category.COMPLIANCE: (
                "Which control does this satisfy, and what evidence shows it is met?"
            ),
            Category.RESEARCH: "What result would confirm or reject the hypothesis?",
            Category.STABILIZATION: "Which error rate or incident count should drop, and to what?",
        },
        why="A goal without a number can't be checked after launch.",
        looks_for=(
            "A goal verb (improve, reduce, increase, faster, more) with no number, "
            "baseline or target near it."
        ),
        example=(
            'Instead of "reduce onboarding time": "cut median time from sign-up '
            'to first project from 3 days to 1 day by the end of Q3".'
        ),
        description="Goal without a number",
        help=(
            "A goal such as improve, reduce or faster needs a baseline and a target, "
            "otherwise nobody can tell whether it was reached."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.SUGGESTION,
    phrases={"goal_verb": GOAL_VERB_PHRASES, "goal_context": GOAL_CONTEXT_PHRASES},
    detect=detect,
    needs=frozenset({"goal_verb"}),
)
