"""`absolute-requirement`: real-time, all providers, 100%, zero downtime… as something required."""

from __future__ import annotations

from collections.abc import Iterator

from checks.enums import Category, Severity
from checks.rules.common import NEGATION_WORDS
from checks.rules.scanning import BlockContext, RawFinding
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "absolute-requirement"

ABSOLUTE_PHRASES: tuple[str, ...] = (
    "real-time",
    "realtime",
    "real time",
    "100%",
    "100 percent",
    "zero downtime",
    "zero latency",
    "zero errors",
    "zero data loss",
    "zero bugs",
    "zero defects",
    "zero fraud",
    "zero incidents",
    "zero friction",
    "no downtime",
    "instantly",
    "instant results|updates|feedback|response|responses|notifications",
    "always available",
    "never fail|fails|lose|loses|break|breaks|goes down",
    "all providers|platforms|browsers|devices|regions|customers|users|clients|languages|formats",
    "all integrations|markets|countries|channels|methods|currencies|vendors|systems",
    "all payment methods",
    "all identity|sso|auth|oauth|cloud|payment providers",
    "every identity|sso|payment|cloud provider",
    "every user|customer|platform|browser|device|region|provider|request|transaction|market",
    "complete elimination",
    "completely eliminate|eliminates|eliminated",
    "eliminate all",
    "fully automated|automatic",
    "any scale",
    "unlimited",
    "infinite scale",
    "infinitely",
    "all edge cases",
    "every edge case",
    "guaranteed delivery",
    "no latency",
)

# The absolute must be what is required: "must support all X".
REQUIREMENT_WORDS: frozenset[str] = frozenset(
    [
        "must",
        "shall",
        "should",
        "will",
        "need",
        "needs",
        "required",
        "requires",
        "requirement",
        "requirements",
        "goal",
        "goals",
        "ensure",
        "ensures",
        "guarantee",
        "guarantees",
        "support",
        "supports",
        "supported",
        "provide",
        "provides",
        "deliver",
        "delivers",
        "achieve",
        "achieves",
        "want",
        "aim",
        "target",
        "expect",
        "expected",
    ]
)


def detect(context: BlockContext) -> Iterator[RawFinding]:
    """The first absolute of the block that a requirement word leads, outside
    non-goals and negated sentences."""
    if context.in_dimension("non_goals", primary_only=False):
        return
    tokens, sentences = context.block.tokens, context.sentences
    for index, words in context.hits["absolute"]:
        start, _ = sentences.span(index)
        if not NEGATION_WORDS.isdisjoint(sentences.words(index)):
            continue
        lead = tokens[max(start, index - 8) : index]
        if REQUIREMENT_WORDS.isdisjoint(lead):
            continue
        yield context.finding(ID, index, len(words))
        return


GOOD_EXAMPLE = """\
## Requirements

Flag 90% of fraudulent orders within 5 minutes, before they ship.
"""
BAD_EXAMPLE = """\
## Requirements

Fraud must be detected in real time.
"""

RULE = LineCheckRule(
    id=ID,
    message='Absolute wording used as a requirement: "{excerpt}".',
    catches="real-time, all providers, 100%, zero downtime… as something required",
    quiet_on=(
        '"all tests pass", negations, anything under Non-goals ("real-time chat is out of scope")'
    ),
    prose=Prose(
        label="Absolute requirement",
        question=(
            "What target would be enough? Would a softer bound give most of the "
            "value at a fraction of the cost?"
        ),
        category_questions={
            Category.PLATFORM: "What SLO would be enough for the teams that depend on this?",
            Category.COMPLIANCE: (
                "Does the rule require this absolute, or a specific threshold? Which clause "
                "says so?"
            ),
            Category.RESEARCH: (
                "Does the spike need to prove this absolute, or would a smaller result be "
                "enough to decide?"
            ),
            Category.STABILIZATION: "What error budget is acceptable instead of an absolute?",
        },
        why="Maximal targets often cost several times more than 'good enough'.",
        looks_for=(
            "Maximal wording used as a requirement: real-time, all, every, 100%, "
            'zero, complete. Harmless uses are left alone: "all tests pass", or '
            'a non-goal such as "real-time sync is out of scope".'
        ),
        example=(
            'Instead of "fraud must be detected in real time": "flag 90% of '
            'fraudulent orders within 5 minutes, before they ship".'
        ),
        description="Absolute wording used as a requirement",
        help=(
            "Maximal words such as real-time, all, every, 100% or zero are expensive as "
            "requirements. Ask which target would be enough to get most of the value."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.SUGGESTION,
    phrases={"absolute": ABSOLUTE_PHRASES},
    detect=detect,
    needs=frozenset({"absolute"}),
)
