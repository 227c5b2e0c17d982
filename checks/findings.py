"""The six line-level checks (the README lists them).

Each check looks at one block (paragraph, list item, table row) at a time and
at the sentence around a match, so harmless uses stay quiet: "all tests pass"
is not a requirement, "real-time chat is out of scope" is negated, and a
non-goals section is never read as a list of requirements.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from checks import tables
from checks.dimensions import heading_dimensions
from checks.document import SENTENCE_END, Block, Document
from checks.vocabulary import hits as block_hits

# "[Feature name]", "[Link to design]": bracketed template prompts, recognised
# by their wording so that "[Breaking change]" labels and "[...]" elisions pass.
# Two steps, each linear: a short bracket (at most 62 characters are read from
# any "["), then the wording inside it.
_SHORT_BRACKET_RE = re.compile(r"\[[A-Z][^\]\[]{1,60}\]")
_TEMPLATE_WORDING_RE = re.compile(
    r"\b(?:[Nn]ame|[Dd]escription|[Dd]escribe|[Ll]ink|[Tt]itle|[Yy]our|[Ii]nsert|"
    r"[Pp]laceholder|UNRESOLVED|TBD|TODO)\b"
)
_PLACEHOLDER_RE = re.compile(r"\b(?:" + "|".join(sorted(tables.PLACEHOLDER_TOKENS)) + r")\b")


@dataclass(frozen=True)
class RawFinding:
    check: str
    line: int
    end_line: int
    excerpt: str


def _sentences(block: Block) -> Iterator[tuple[int, int]]:
    start = 0
    tokens = block.tokens
    for i, token in enumerate(tokens):
        if token in SENTENCE_END:
            if i > start:
                yield start, i
            start = i + 1
    if start < len(tokens):
        yield start, len(tokens)


class _Sentences:
    """A block's sentences, found by bisection; each sentence's words are read once.

    A block may be one paragraph of a million words: every hit asking for its
    sentence must cost a lookup, not a scan of the block or of the sentence.
    """

    def __init__(self, block: Block) -> None:
        self.tokens = block.tokens
        self.spans = list(_sentences(block))
        self.starts = [start for start, _ in self.spans]
        self._words: dict[int, frozenset[str]] = {}
        self._quantity: dict[int, bool] = {}

    def _position(self, index: int) -> int:
        position = bisect_right(self.starts, index) - 1
        if position < 0 or index >= self.spans[position][1]:
            return len(self.spans) - 1  # a sentence end itself: the last sentence
        return position

    def span(self, index: int) -> tuple[int, int]:
        return self.spans[self._position(index)] if self.spans else (0, 0)

    def words(self, index: int) -> frozenset[str]:
        position = self._position(index)
        if position not in self._words:
            start, end = self.spans[position] if self.spans else (0, 0)
            self._words[position] = frozenset(self.tokens[start:end])
        return self._words[position]

    def has_quantity(self, index: int) -> bool:
        position = self._position(index)
        if position not in self._quantity:
            start, end = self.spans[position] if self.spans else (0, 0)
            self._quantity[position] = _has_quantity(self.tokens[start:end])
        return self._quantity[position]


def _any_between(sorted_indexes: list[int], start: int, end: int) -> bool:
    """Whether some index i of the sorted list has start <= i < end."""
    position = bisect_left(sorted_indexes, start)
    return position < len(sorted_indexes) and sorted_indexes[position] < end


def _has_quantity(tokens: list[str]) -> bool:
    return any(any(c.isdigit() for c in t) for t in tokens)


def find(doc: Document, extra_aliases: Mapping[str, tuple[str, ...]]) -> list[RawFinding]:
    section_dims = [heading_dimensions(s.norm_title, extra_aliases) for s in doc.sections]
    goal_sections = {
        i
        for i, s in enumerate(doc.sections)
        if any(f" {h} " in f" {s.norm_title} " for h in tables.GOAL_HEADINGS)
        and "non goals" not in s.norm_title
    }

    def in_dimension(block: Block, key: str, primary_only: bool = True) -> bool:
        index = block.section
        while index != -1:
            mapped = section_dims[index]
            if key in mapped and (mapped[key] or not primary_only):
                return True
            index = doc.sections[index].parent
        return False

    def in_goal_section(block: Block) -> bool:
        index = block.section
        while index != -1:
            if index in goal_sections:
                return True
            index = doc.sections[index].parent
        return False

    results: list[RawFinding] = []
    blocks = doc.blocks
    for position, block in enumerate(blocks):
        results.extend(_placeholders(block))
        if block.kind == "heading":
            continue
        hits: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for index, phrase in block_hits(block, "finding"):
            hits.setdefault(phrase.label, []).append((index, phrase.tokens))
        if "placeholder" in hits:
            index, words = hits["placeholder"][0]
            results.append(_raw("placeholder", block, index, len(words)))
        if not hits:
            continue
        in_non_goals = in_dimension(block, "non_goals", primary_only=False)
        sentences = _Sentences(block)
        sentence_of = sentences.span

        if "absolute" in hits and not in_non_goals:
            for index, words in hits["absolute"]:
                start, _ = sentence_of(index)
                if not tables.NEGATION_WORDS.isdisjoint(sentences.words(index)):
                    continue
                # The absolute must be what is required: "must support all X".
                lead = block.tokens[max(start, index - 8) : index]
                if tables.REQUIREMENT_WORDS.isdisjoint(lead):
                    continue
                results.append(_raw("absolute-requirement", block, index, len(words)))
                break

        if "goal_verb" in hits and not in_non_goals:
            goal_section = in_goal_section(block)
            context_starts = [i for i, _ in hits.get("goal_context", ())]  # in token order
            for index, words in hits["goal_verb"]:
                if not goal_section and words[0] not in tables.STRONG_GOAL_VERBS:
                    continue
                start, end = sentence_of(index)
                before = block.tokens[index - 1] if index > start else ""
                after = block.tokens[index + 1] if index + 1 < end else ""
                if before in tables.NOUN_BEFORE or after in tables.NOUN_AFTER:
                    continue  # "an increase in X" describes, it does not aim
                if goal_section and index != start and before not in tables.GOAL_LEAD:
                    continue  # in a Goals list the goal leads its item: "Improve X."
                has_context = goal_section or _any_between(context_starts, start, end)
                if not has_context or sentences.has_quantity(index):
                    continue
                if not tables.NEGATION_WORDS.isdisjoint(sentences.words(index)):
                    continue
                if block.kind == "table_row":
                    continue
                results.append(_raw("unquantified-goal", block, index, min(end - index, 6)))
                break

        if "demand" in hits and not in_non_goals:
            neighbours = [
                b for b in blocks[max(position - 1, 0) : position + 2] if b.section == block.section
            ]
            index, words = hits["demand"][0]
            start, _ = sentence_of(index)
            conditional = (
                "if" in block.tokens[start:index] or "whether" in block.tokens[start:index]
            )
            if not conditional and not any(b.has_number or b.links for b in neighbours):
                results.append(_raw("unsupported-demand", block, index, len(words)))

        if "tech_change" in hits and "tech_reason" in hits:
            reason_starts = [i for i, _ in hits["tech_reason"]]  # in token order
            for index, _words in hits["tech_change"]:
                start, end = sentence_of(index)
                sentence = sentences.words(index)
                if not _any_between(reason_starts, start, end) or sentences.has_quantity(index):
                    continue
                if not tables.PROBLEM_OUTCOME_WORDS.isdisjoint(sentence):
                    continue
                hedged = not tables.HYPOTHETICAL_WORDS.isdisjoint(sentence)
                if hedged or not tables.NEGATION_WORDS.isdisjoint(sentence):
                    continue
                results.append(_raw("technology-first", block, index, min(end - index, 8)))
                break

        if "solution_first" in hits and in_dimension(block, "problem"):
            for index, _words in hits["solution_first"]:
                start, end = sentence_of(index)
                sentence = sentences.words(index)
                if not tables.PROBLEM_OUTCOME_WORDS.isdisjoint(sentence):
                    continue
                if "so" in sentence or "because" in sentence:
                    continue
                results.append(_raw("solution-first", block, index, min(end - index, 8)))
                break
    return results


def _raw(check: str, block: Block, index: int, length: int) -> RawFinding:
    end = min(index + max(length, 1), len(block.tokens))
    words = [t for t in block.tokens[index:end] if t not in SENTENCE_END]
    return RawFinding(
        check=check,
        line=block.token_lines[index],
        end_line=block.token_lines[end - 1],
        excerpt=" ".join(words),
    )


_PLACEHOLDER_WORDS = frozenset({"tbd", "todo", "tbc", "fixme", "xxx", "tktk"})


def _placeholders(block: Block) -> list[RawFinding]:
    found: list[RawFinding] = []
    if not _PLACEHOLDER_WORDS.isdisjoint(block.tokens):
        match = _PLACEHOLDER_RE.search(block.text)
        if match:
            word = match.group(0).lower()
            index = block.tokens.index(word) if word in block.tokens else 0
            line = block.token_lines[index] if block.token_lines else block.line
            found.append(RawFinding("placeholder", line, line, match.group(0)))
    for line, tag in block.template_tags:
        found.append(RawFinding("placeholder", line, line, tag))
    if "[" in block.text and not found:
        prompt = _template_bracket(block.text)
        if prompt is not None:
            found.append(RawFinding("placeholder", block.line, block.line, prompt))
    return found[:1]


def _template_bracket(text: str) -> str | None:
    for match in _SHORT_BRACKET_RE.finditer(text):
        if _TEMPLATE_WORDING_RE.search(match.group(0)):
            return match.group(0)
    return None
