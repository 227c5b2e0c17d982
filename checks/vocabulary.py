"""Every phrase table of the engine in one matcher, run once per block.

Dimensions, line checks and category detection all read the same hits, so a
block's tokens are scanned a single time however many tables there are.
"""

from __future__ import annotations

from functools import cache

from checks import category_signals
from checks.document import Block
from checks.phrases import Hit, PhraseMatcher, phrases_from_table
from checks.rules import DIMENSION_RULES, LINE_CHECK_RULES


@cache
def matcher() -> PhraseMatcher:
    phrases = (
        phrases_from_table({rule.id: rule.strong_signals for rule in DIMENSION_RULES}, 2, "signal")
        + phrases_from_table({rule.id: rule.weak_signals for rule in DIMENSION_RULES}, 1, "signal")
        + phrases_from_table(
            {label: specs for rule in DIMENSION_RULES for label, specs in rule.markers.items()},
            group="marker",
        )
        + phrases_from_table(
            {label: specs for rule in LINE_CHECK_RULES for label, specs in rule.phrases.items()},
            group="finding",
        )
        + phrases_from_table(
            {c.value: specs for c, specs in category_signals.CATEGORY_SIGNALS.items()},
            group="category",
        )
        + phrases_from_table(
            {
                f"{category.value}:{rule.id}": specs
                for rule in DIMENSION_RULES
                for category, specs in rule.category_signals.items()
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
