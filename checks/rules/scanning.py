"""What a line check's detector receives: one block, and what is known around it.

`checks.findings` walks the blocks once and hands each line check a
`BlockContext`; a detector yields the findings of that block (usually at most one).
Everything here is computed lazily and at most once, so a check that does not
need a block's sentences never pays for them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from checks.document import SENTENCE_END, Block, Document, sentence_spans

# The phrases of one table label found in a block: (index of the first token, tokens).
LabelHits = list[tuple[int, tuple[str, ...]]]

_Memo = TypeVar("_Memo")


@dataclass(frozen=True)
class RawFinding:
    check: str
    line: int
    end_line: int
    excerpt: str
    score: float | None = None  # the line model's probability; None from a rule


class DocumentScan:
    """What the line checks share about one document, computed once."""

    def __init__(self, doc: Document, section_dimensions: list[dict[str, bool]]) -> None:
        self.doc = doc
        self.blocks = doc.blocks
        # For each section: {dimension: is_primary} of its heading.
        self.section_dimensions = section_dimensions
        self._memo: dict[Callable[[Document], object], object] = {}

    def once(self, compute: Callable[[Document], _Memo]) -> _Memo:
        """`compute(doc)`, computed on the first call for this document only."""
        if compute not in self._memo:
            self._memo[compute] = compute(self.doc)
        return self._memo[compute]  # type: ignore[return-value]

    def in_sections(self, block: Block, sections: set[int] | frozenset[int]) -> bool:
        """Whether the block lies in one of these sections or in a subsection of one."""
        index = block.section
        while index != -1:
            if index in sections:
                return True
            index = self.doc.sections[index].parent
        return False


class BlockContext:
    """One prose block (or heading) as a line check sees it."""

    __slots__ = ("_sentences", "block", "hits", "position", "scan")

    def __init__(
        self, scan: DocumentScan, position: int, block: Block, hits: Mapping[str, LabelHits]
    ) -> None:
        self.scan = scan
        self.position = position  # index of the block in Document.blocks
        self.block = block
        self.hits = hits  # this block's "finding" phrase hits, by label
        self._sentences: Sentences | None = None

    @property
    def sentences(self) -> Sentences:
        if self._sentences is None:
            self._sentences = Sentences(self.block)
        return self._sentences

    def in_dimension(self, key: str, primary_only: bool = True) -> bool:
        """Whether the block lies under a heading standing for dimension `key`
        (a primary alias only, unless `primary_only` is false)."""
        index = self.block.section
        sections = self.scan.doc.sections
        while index != -1:
            mapped = self.scan.section_dimensions[index]
            if key in mapped and (mapped[key] or not primary_only):
                return True
            index = sections[index].parent
        return False

    def finding(self, check: str, index: int, length: int) -> RawFinding:
        """A finding on `length` tokens of the block from token `index`."""
        block = self.block
        end = min(index + max(length, 1), len(block.tokens))
        words = [t for t in block.tokens[index:end] if t not in SENTENCE_END]
        return RawFinding(
            check=check,
            line=block.token_lines[index],
            end_line=block.token_lines[end - 1],
            excerpt=" ".join(words),
        )


class Sentences:
    """A block's sentences, found by bisection; each sentence's words are read once.

    A block may be one paragraph of a million words: every hit asking for its
    sentence must cost a lookup, not a scan of the block or of the sentence.
    """

    def __init__(self, block: Block) -> None:
        self.tokens = block.tokens
        self.spans = sentence_spans(block.tokens)
        self.starts = [start for start, _ in self.spans]
        self._words: dict[int, frozenset[str]] = {}
        self._quantity: dict[int, bool] = {}

    def _position(self, index: int) -> int:
        position = bisect_right(self.starts, index) - 1
        if position < 0 or index >= self.spans[position][1]:
            return len(self.spans) - 1  # a sentence end itself: the last sentence
        return position

    def span(self, index: int) -> tuple[int, int]:
        """(start, end) token indexes of the sentence holding token `index`."""
        return self.spans[self._position(index)] if self.spans else (0, 0)

    def words(self, index: int) -> frozenset[str]:
        """The words of the sentence holding token `index`."""
        position = self._position(index)
        if position not in self._words:
            start, end = self.spans[position] if self.spans else (0, 0)
            self._words[position] = frozenset(self.tokens[start:end])
        return self._words[position]

    def has_quantity(self, index: int) -> bool:
        """Whether the sentence holding token `index` has a number in it."""
        position = self._position(index)
        if position not in self._quantity:
            start, end = self.spans[position] if self.spans else (0, 0)
            self._quantity[position] = has_quantity(self.tokens[start:end])
        return self._quantity[position]


def any_between(sorted_indexes: Sequence[int], start: int, end: int) -> bool:
    """Whether some index i of the sorted sequence has start <= i < end."""
    position = bisect_left(sorted_indexes, start)
    return position < len(sorted_indexes) and sorted_indexes[position] < end


def has_quantity(tokens: Sequence[str]) -> bool:
    return any(any(c.isdigit() for c in t) for t in tokens)


Detector = Callable[[BlockContext], Iterable[RawFinding]]
