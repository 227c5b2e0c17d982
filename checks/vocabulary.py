"""Every phrase table of the engine in one matcher, run once per block.

Dimensions, line checks and category detection all read the same hits, so a
block's tokens are scanned a single time however many tables there are.
"""

from __future__ import annotations

from functools import cache

from checks import tables
from checks.document import Block
from checks.phrases import Phrase, PhraseMatcher, phrases_from_table

Hit = tuple[int, Phrase]  # (index of the first token in block.tokens, phrase)


@cache
def matcher() -> PhraseMatcher:
    phrases = (
        phrases_from_table(tables.STRONG_SIGNALS, 2, "signal")
        + phrases_from_table(tables.WEAK_SIGNALS, 1, "signal")
        + phrases_from_table(
            {
                "problem": tables.PROBLEM_MARKERS,
                "solution": tables.SOLUTION_MARKERS,
                "reasoning": tables.REASONING_MARKERS,
                "stage": tables.STAGE_MARKERS,
                "risk_denial": tables.RISK_DENIALS,
            },
            group="marker",
        )
        + phrases_from_table(
            {
                "absolute": tables.ABSOLUTE_PHRASES,
                "goal_verb": tables.GOAL_VERBS,
                "goal_context": tables.GOAL_CONTEXT,
                "demand": tables.DEMAND_PHRASES,
                "tech_change": tables.TECH_CHANGE_PHRASES,
                "tech_reason": tables.TECH_REASON_PHRASES,
                "solution_first": tables.SOLUTION_FIRST_PHRASES,
                "placeholder": tables.PLACEHOLDER_PHRASES,
            },
            group="finding",
        )
        + phrases_from_table(
            {c.value: specs for c, specs in tables.CATEGORY_SIGNALS.items()}, group="category"
        )
        + phrases_from_table(
            {
                f"{category.value}:{key}": specs
                for category, table in tables.CATEGORY_STRONG_SIGNALS.items()
                for key, specs in table.items()
            },
            group="category_signal",
        )
    )
    return PhraseMatcher(phrases)


def hits(block: Block, group: str) -> list[Hit]:
    cached = block.hits
    if cached is None:
        cached = {}
        # A table-of-contents entry repeats headings; it says nothing itself.
        for found in () if block.navigation else matcher().finditer(block.tokens):
            cached.setdefault(found[1].group, []).append(found)
        block.hits = cached
    return cached.get(group, [])
