"""The line-level checks (the README lists them; each lives in `checks.rules`).

Each check looks at one block (paragraph, list item, table row) at a time and
at the sentence around a match, so harmless uses stay quiet: "all tests pass"
is not a requirement, "real-time chat is out of scope" is negated, and a
non-goals section is never read as a list of requirements.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.dimensions import heading_dimensions
from checks.document import Document
from checks.rules import LINE_CHECK_RULES
from checks.rules.scanning import BlockContext, DocumentScan, LabelHits, RawFinding
from checks.vocabulary import hits as block_hits

# The order checks examine a block in (see LineCheckRule.scan_order).
_SCAN_ORDER = tuple(sorted(LINE_CHECK_RULES, key=lambda rule: rule.scan_order))
_HEADING_CHECKS = tuple(rule for rule in _SCAN_ORDER if rule.reads_headings)
# Most blocks have no phrase hit at all: only these checks can raise anything there.
_CHECKS_WITHOUT_HITS = tuple(rule for rule in _SCAN_ORDER if not rule.needs)
_NO_HITS: Mapping[str, LabelHits] = {}


def find(doc: Document, extra_aliases: Mapping[str, tuple[str, ...]]) -> list[RawFinding]:
    scan = DocumentScan(
        doc, [heading_dimensions(s.norm_title, extra_aliases) for s in doc.sections]
    )
    results: list[RawFinding] = []
    for position, block in enumerate(doc.blocks):
        if block.kind == "heading":
            context = BlockContext(scan, position, block, _NO_HITS)
            for rule in _HEADING_CHECKS:
                results.extend(rule.detect(context))
            continue
        found: dict[str, LabelHits] = {}
        for index, phrase in block_hits(block, "finding"):
            found.setdefault(phrase.label, []).append((index, phrase.tokens))
        context = BlockContext(scan, position, block, found)
        if not found:
            for rule in _CHECKS_WITHOUT_HITS:
                results.extend(rule.detect(context))
            continue
        labels = found.keys()
        for rule in _SCAN_ORDER:
            if labels >= rule.needs:
                results.extend(rule.detect(context))
    return results
