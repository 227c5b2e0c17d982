"""What a dimension rule's hooks receive and return.

`checks.dimensions` scans the document once for every dimension; each rule then
judges what was seen through these objects, so a rule module holds the decisions
and none of the scanning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from checks.document import Block, Document
from checks.enums import Status
from checks.phrases import Hit


@dataclass(frozen=True)
class Assessment:
    status: Status
    line: int | None
    note: str


@dataclass
class SectionView:
    """One section whose heading stands for the dimension being judged."""

    index: int  # into Document.sections
    primary: bool  # a primary alias; a secondary one (a Summary) only counts with a signal
    title: str  # the heading as written, stripped
    line: int  # the heading's line
    first_line: int  # the first line under the heading (the heading's own when empty)
    blocks: list[Block]
    content: range  # indexes of the section's blocks in Document.blocks
    words: int  # words under the heading
    hollow: bool  # nothing real under it: "None", "TBD", only template prompts
    markers: dict[str, list[int]]  # marker label -> lines, over the section's blocks
    # Block index -> line of the first strong signal of this dimension in that block.
    signals: Mapping[int, int] = field(default_factory=dict)

    def present(self, line: int | None = None, note: str = "") -> Assessment:
        """Present, at `line` (the section's first line by default)."""
        return Assessment(
            Status.PRESENT,
            self.first_line if line is None else line,
            note or f'under "{self.title}"',
        )

    def weak(self, note: str) -> Assessment:
        return Assessment(Status.WEAK, self.first_line, note)

    def signal_inside(self) -> Assessment | None:
        """Present at the first strong signal of the dimension inside the section, if any:
        how a secondary heading (a Summary, a Background) shows a dimension."""
        inside = [self.signals[i] for i in self.content if i in self.signals]
        return self.present(inside[0]) if inside else None

    def judged_by_length(self, minimum: int) -> Assessment | None:
        """The usual judgement: a secondary heading needs a signal inside; a primary one
        is present with at least `minimum` words, weak below."""
        if not self.primary:
            return self.signal_inside()
        if self.words >= minimum:
            return self.present()
        return self.weak(f'"{self.title}" is a single short line')


@dataclass(frozen=True)
class TextEvidence:
    """The prose evidence of one dimension, outside hollow sections."""

    doc: Document
    strong: Sequence[tuple[int, int]]  # (line, block index) of strong signals, in order
    hollow_blocks: frozenset[int] | set[int]  # blocks whose words count for nothing
    markers: Callable[[Block], Sequence[Hit]]  # a block's marker hits
    # The dimensions a section's heading stands for, by the built-in aliases only.
    section_dimensions: Callable[[int], Mapping[str, bool]]

    def blocks(self) -> list[Block]:
        """The document's blocks outside hollow sections, in order."""
        return [b for i, b in enumerate(self.doc.blocks) if i not in self.hollow_blocks]


SectionJudge = Callable[[SectionView], Assessment | None]
TextJudge = Callable[[TextEvidence], Assessment | None]
# Strong evidence lines a block gives beyond the signal phrases: (block, in_preamble).
BlockEvidence = Callable[[Block, bool], list[int]]
# Whether a section of this dimension lends its words to no dimension's text judgement.
SectionVoid = Callable[[SectionView], bool]
