"""`technology-first`: a rewrite or migration justified by the technology ("more modern")."""

from __future__ import annotations

from collections.abc import Iterator

from checks.enums import Severity
from checks.rules.common import NEGATION_WORDS, PROBLEM_OUTCOME_WORDS
from checks.rules.scanning import BlockContext, RawFinding, any_between
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "technology-first"

TECH_CHANGE_PHRASES: tuple[str, ...] = (
    "rewrite",
    "rewriting",
    "rewrite it",
    "re-write",
    "re-architect",
    "rearchitect",
    "rebuild",
    "rebuilding",
    "migrate to",
    "migrating to",
    "migration to",
    "port to",
    "porting to",
    "switch to",
    "switching to",
    "move to",
    "moving to",
    "adopt",
    "adopting",
    "replace",
    "replacing",
    "convert to",
)
TECH_REASON_PHRASES: tuple[str, ...] = (
    "modern",
    "modernize",
    "modernise",
    "more modern",
    "new technology",
    "cutting-edge",
    "cutting edge",
    "state-of-the-art",
    "state of the art",
    "trendy",
    "hype",
    "industry standard",
    "everyone is using",
    "everybody uses",
    "everyone uses",
    "future-proof",
    "future proof",
    "cool",
    "shiny",
    "best practice",
    "best practices",
    "the way forward",
    "outdated",
    "old-fashioned",
    "more elegant",
)

# A hedged sentence ("we could adopt X if...") is not a justification.
HYPOTHETICAL_WORDS: frozenset[str] = frozenset({"if", "could", "may", "might", "would", "whether"})


def detect(context: BlockContext) -> Iterator[RawFinding]:
    """The first change of technology whose sentence gives the technology as its
    reason, with no number, outcome, hedge or negation in it."""
    sentences = context.sentences
    reason_starts = [i for i, _ in context.hits["tech_reason"]]  # in token order
    for index, _words in context.hits["tech_change"]:
        start, end = sentences.span(index)
        sentence = sentences.words(index)
        if not any_between(reason_starts, start, end) or sentences.has_quantity(index):
            continue
        if not PROBLEM_OUTCOME_WORDS.isdisjoint(sentence):
            continue
        hedged = not HYPOTHETICAL_WORDS.isdisjoint(sentence)
        if hedged or not NEGATION_WORDS.isdisjoint(sentence):
            continue
        yield context.finding(ID, index, min(end - index, 8))
        return


GOOD_EXAMPLE = """\
## Motivation

Imports over 1 GB time out for 12 customers; streaming the parse fixes that, and
we compared it with raising the timeout.
"""
BAD_EXAMPLE = """\
## Motivation

We should rewrite the importer in Rust because it is more modern.
"""

RULE = LineCheckRule(
    id=ID,
    message='The change is justified by the technology itself: "{excerpt}".',
    catches='a rewrite or migration justified by the technology ("more modern")',
    quiet_on="one justified by incidents, cost, latency or users",
    prose=Prose(
        label="Technology-first",
        question=(
            "Which user or business problem does this change solve, and what would "
            "a smaller fix to the current system achieve?"
        ),
        why="A technology is a means; the reason has to be a user or business outcome.",
        looks_for=(
            "A rewrite, a migration or a new technology whose stated reason is the "
            'technology itself ("move to microservices because they are modern").'
        ),
        example=(
            'Instead of "rewrite the importer in Rust": "imports over 1 GB time '
            "out for 12 customers; streaming the parse fixes that, and we compared "
            'it with raising the timeout".'
        ),
        description="Technology chosen for its own sake",
        help=(
            "A rewrite, migration or new technology should be justified by what it "
            "changes for users or operators, not by the technology itself."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.SUGGESTION,
    phrases={"tech_change": TECH_CHANGE_PHRASES, "tech_reason": TECH_REASON_PHRASES},
    detect=detect,
    needs=frozenset({"tech_change", "tech_reason"}),
)
