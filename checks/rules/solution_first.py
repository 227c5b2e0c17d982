"""`solution-first`: a problem statement that is a solution ("we need to build X")."""

from __future__ import annotations

from collections.abc import Iterator

from checks.enums import Severity
from checks.rules.common import PROBLEM_OUTCOME_WORDS
from checks.rules.scanning import BlockContext, RawFinding
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "solution-first"

SOLUTION_FIRST_PHRASES: tuple[str, ...] = (
    "we need|should|will|must|want to build|implement|create|develop",
    "we need|should|will|must build|implement|create|develop|add",
    "we need to add",
    "the solution is to",
    "we need a new",
)


def detect(context: BlockContext) -> Iterator[RawFinding]:
    """In a problem section, the first sentence that names the thing to build and
    no outcome ("so that", "because", users, costs, errors)."""
    if not context.in_dimension("problem"):
        return
    sentences = context.sentences
    for index, _words in context.hits["solution_first"]:
        _start, end = sentences.span(index)
        sentence = sentences.words(index)
        if not PROBLEM_OUTCOME_WORDS.isdisjoint(sentence):
            continue
        if "so" in sentence or "because" in sentence:
            continue
        yield context.finding(ID, index, min(end - index, 8))
        return


GOOD_EXAMPLE = """\
## Problem

We need to build a recommendation engine so that returning shoppers find products
without searching for them.
"""
BAD_EXAMPLE = """\
## Problem

We need to build a recommendation engine.
"""

RULE = LineCheckRule(
    id=ID,
    message="The problem statement describes a solution, not an outcome.",
    catches='a problem statement that is a solution ("we need to build X")',
    quiet_on='the same words with an outcome ("so that…", "because…")',
    prose=Prose(
        label="Solution-first",
        question="What outcome should this achieve for whom, and how would we know?",
        why="A solution stated as the problem hides the outcome it is meant to reach.",
        looks_for=(
            'A problem statement that is really a solution ("we need to build '
            'X", "the problem is that we lack X") and names no outcome for '
            "anyone."
        ),
        example=(
            'Instead of "We need a recommendation engine": "Returning shoppers '
            "find relevant products only by search; 60% leave without adding "
            'anything to the basket."'
        ),
        description="Problem stated as a solution",
        help=(
            "A problem statement that says what to build hides the outcome it should "
            "achieve. State the outcome so cheaper ways of reaching it can be "
            "considered."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.SUGGESTION,
    phrases={"solution_first": SOLUTION_FIRST_PHRASES},
    detect=detect,
    needs=frozenset({"solution_first"}),
    # After the other checks of a block (see LineCheckRule.scan_order).
    scan_order=1,
)
