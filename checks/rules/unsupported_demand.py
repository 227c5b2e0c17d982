"""`unsupported-demand`: "users want", "customers keep asking", "I think users"."""

from __future__ import annotations

from collections.abc import Iterator

from checks.enums import Category, Severity
from checks.rules.scanning import BlockContext, RawFinding
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "unsupported-demand"

DEMAND_PHRASES: tuple[str, ...] = (
    "users|customers|people|developers|everyone want|wants|love",
    "users|customers|people|developers are|keep asking|requesting",
    "users|customers|people|developers have been asking|requesting",
    "users|customers|developers have asked|requested",
    "i think users|customers|people",
    "we think users|customers|people",
    "i believe users|customers",
    "we believe users|customers",
    "users|customers would love|like|prefer",
    "everyone wants",
    "everybody wants",
    "frequently requested",
    "commonly requested",
    "highly requested",
    "heavily requested",
    "often requested",
    "most requested",
    "popular request",
    "often asked",
    "there is demand",
    "high demand",
    "strong demand",
    "huge demand",
    "lots of people",
    "a lot of people",
    "a lot of users",
    "many users want|need|ask|have asked|are asking",
    "customers keep asking",
    "users keep asking",
)


def detect(context: BlockContext) -> Iterator[RawFinding]:
    """The block's first claim of demand, unless it is conditional ("if users want")
    or a number or a link sits in it or next to it, in the same section."""
    if context.in_dimension("non_goals", primary_only=False):
        return
    block, position = context.block, context.position
    neighbours = [
        b
        for b in context.scan.blocks[max(position - 1, 0) : position + 2]
        if b.section == block.section
    ]
    index, words = context.hits["demand"][0]
    start, _ = context.sentences.span(index)
    conditional = "if" in block.tokens[start:index] or "whether" in block.tokens[start:index]
    if not conditional and not any(b.has_number or b.links for b in neighbours):
        yield context.finding(ID, index, len(words))


GOOD_EXAMPLE = """\
## Motivation

Customers keep asking for dark mode: 50 requests this year, against 500 people a
month abandoning the payment step.
"""
BAD_EXAMPLE = """\
## Motivation

Customers keep asking for dark mode.
"""

RULE = LineCheckRule(
    id=ID,
    message='Demand asserted with no data nearby: "{excerpt}".',
    catches='"users want", "customers keep asking", "I think users"',
    quiet_on="the same next to a number or a link to the requests",
    prose=Prose(
        label="Unsupported demand",
        question=(
            "What shows this demand: how many requests, from whom, and how does it "
            "compare with other problems?"
        ),
        category_questions={
            Category.PLATFORM: "Which teams asked for this, and what are they doing instead today?",
        },
        why="Assumed demand is the favourite-feature trap.",
        looks_for=(
            'Demand asserted without data nearby: "users want", "customers keep '
            'asking", "I think users would".'
        ),
        example=(
            'Instead of "customers keep asking for dark mode": "50 requests for '
            "dark mode in a year, against 500 people a month abandoning the payment "
            'step".'
        ),
        description="Demand asserted without data",
        help=(
            "Statements such as 'users want' need a source: requests, research, usage "
            "data or incidents. Without one the priority is a guess."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.SUGGESTION,
    phrases={"demand": DEMAND_PHRASES},
    detect=detect,
    needs=frozenset({"demand"}),
)
