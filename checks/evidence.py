"""What a dimension's status rests on, in words a reader can check.

Two things, both computed from the parsed document and never re-judged:

- the *deciding text*: the words of the block on the line a status rests on
  (the strongest evidence, or the weak section), shown beside a gap;
- the *evidence*, asked for with `ReviewOptions.explain`: the prose blocks the
  learned block scorer of each dimension ranks highest, with the scorer's
  probability. It explains a `missing` too: the best candidate and how far it
  fell short.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from checks.document import Block, Document
from checks.learned import DocumentView, LearnedModel
from checks.report import DimensionResult, DocumentReport, Evidence

EVIDENCE_TEXT_CHARS = 160


def _cut(text: str) -> str:
    """One line of at most EVIDENCE_TEXT_CHARS; renderers make it safe for their format."""
    # Only a prefix can survive the cut: a huge block is not split whole.
    flat = " ".join(text[: 4 * EVIDENCE_TEXT_CHARS].split())
    if len(flat) <= EVIDENCE_TEXT_CHARS and len(text) <= 4 * EVIDENCE_TEXT_CHARS:
        return flat
    return flat[: EVIDENCE_TEXT_CHARS - 1].rsplit(" ", 1)[0] + "…"


class BlockFinder:
    """The block on a line: the nearest block starting on or before it that covers it."""

    # A list item's block can span the items nested in it: look back a little.
    LOOK_BACK = 8

    def __init__(self, doc: Document) -> None:
        # The parser emits blocks in document order, so their first lines ascend.
        self.blocks: list[Block] = doc.blocks
        self.starts = [b.line for b in self.blocks]

    def text_at(self, line: int | None) -> str:
        if line is None:
            return ""
        last = bisect.bisect_right(self.starts, line) - 1
        for position in range(last, max(last - self.LOOK_BACK, -1), -1):
            if self.blocks[position].end_line >= line:
                return _cut(self.blocks[position].text)
        return ""


def _probability(score: float) -> float:
    # The block scorer is a logistic regression: its probability is the logistic of
    # the score. Clamped so a huge score cannot overflow.
    bounded = max(-40.0, min(40.0, score))
    return round(1.0 / (1.0 + math.exp(-bounded)), 3)


def ranked_evidence(
    view: DocumentView, model: LearnedModel, key: str, top: int
) -> tuple[Evidence, ...]:
    """The `top` best-scored blocks of `key`, best first; a hollow section's never."""
    scores = model.block_scores(view, key)
    usable = [i for i in range(len(scores)) if i not in view.hollow]
    # Ties go to the earlier block, so the order is the same on every run.
    best = sorted(usable, key=lambda i: (-scores[i], i))[:top]
    return tuple(
        Evidence(
            line=view.blocks[i].line,
            end_line=view.blocks[i].end_line,
            score=_probability(scores[i]),
            text=_cut(view.blocks[i].text),
        )
        for i in best
    )


def with_evidence(
    results: Sequence[DimensionResult],
    finder: BlockFinder,
    ranked: Mapping[str, tuple[Evidence, ...]],
) -> tuple[DimensionResult, ...]:
    """`results` with their deciding text, and their evidence where it was ranked."""
    return tuple(
        replace(
            result,
            deciding_text=finder.text_at(result.line),
            evidence=ranked.get(result.key, ()),
        )
        for result in results
    )


def explanation_text(reports: Sequence[DocumentReport]) -> str:
    """`check --explain` on a terminal: per document and dimension, the status, the
    line it rests on, and the ranked evidence with its scores."""
    lines: list[str] = []
    for report in reports:
        if report.skipped:
            continue
        lines.append(f"{report.path}: evidence, best first (score: the learned scorer's 0-1)")
        for result in report.dimensions:
            where = f"line {result.line}" if result.line is not None else "no line"
            lines.append(f"  {result.key}: {result.status.value} ({where})")
            if result.deciding_text:
                lines.append(f"    rests on: {result.deciding_text}")
            for item in result.evidence:
                lines.append(f"    {item.score:5.3f}  line {item.line}: {item.text}")
        lines.append("")
    return "\n".join(lines)
