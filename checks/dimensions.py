"""The dimensions (`checks.rules`): status (present / weak / missing) and the deciding line.

Two sources of evidence are combined, and the better one wins:
- sections whose heading is an alias of the dimension, judged on substance
  (a hollow "None"/"TBD"/template-prompt section is weak, never present);
- signal phrases in the prose anywhere in the document, so a "why now" in the
  Summary or drawbacks discussed under "Compatibility" still count.

This module is the shared machinery: it scans the document once for every
dimension, then asks each rule (`checks.rules`) to judge its sections and prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from checks.document import SENTENCE_END, Block, Document, normalize_heading
from checks.enums import Category, Status
from checks.phrases import Hit
from checks.rules import DIMENSION_RULES
from checks.rules.judging import Assessment, SectionView, TextEvidence
from checks.rules.types import DimensionRule
from checks.vocabulary import hits

__all__ = ["Assessment", "assess", "heading_dimensions", "is_hollow"]

# Phrases that mean a section is hollow: "None.", "TBD", "N/A".
HOLLOW_TEXTS: frozenset[str] = frozenset(
    {
        "none",
        "n/a",
        "na",
        "tbd",
        "tbc",
        "todo",
        "nothing",
        "not applicable",
        "none yet",
        "none at this time",
        "none identified",
        "none known",
        "no alternatives",
        "none considered",
        "to be determined",
        "to be decided",
        "coming soon",
        "nothing yet",
        "-",
        "--",
        "no",
        "no drawbacks",
        "none that we know of",
        "none so far",
        "not yet",
        "no alternatives considered",
        "no alternatives were considered",
        "n a",
        "no risks",
        "none that i know of",
        "not sure",
        "unknown",
        "same as above",
    }
)
_HOLLOW_MAX_WORDS = max(len(text.split()) for text in HOLLOW_TEXTS)


@dataclass
class Evidence:
    """What was seen for one dimension while scanning the document."""

    strong: list[tuple[int, int]] = field(default_factory=list)  # (line, block index)
    weak: list[tuple[int, int]] = field(default_factory=list)
    # Signals specific to the document's category: one is enough on its own.
    decisive: list[tuple[int, int]] = field(default_factory=list)


def heading_dimensions(
    norm_title: str, extra_aliases: Mapping[str, tuple[str, ...]]
) -> dict[str, bool]:
    """Dimensions a heading stands for: {dimension: is_primary}."""
    extra = tuple(sorted((k, tuple(v)) for k, v in extra_aliases.items()))
    return dict(_heading_dimensions(norm_title, extra))


def _phrases_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word search for any of the built-in phrases (escaped literals only)."""
    body = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z'-])(?:{body})(?![a-z'-])") if body else re.compile(r"(?!)")


# {dimension: (primary, secondary, excluded)} over the rules' own aliases.
_ALIAS_PATTERNS: dict[str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = {
    rule.id: (
        _phrases_regex(rule.headings.aliases),
        _phrases_regex(rule.headings.secondary),
        _phrases_regex(rule.headings.excluded),
    )
    for rule in DIMENSION_RULES
}
# (dimension, phrases): a heading containing one stands for that dimension alone.
_EXCLUSIVE_HEADINGS = tuple(
    (rule.id, rule.headings.exclusive) for rule in DIMENSION_RULES if rule.headings.exclusive
)


@lru_cache(maxsize=8192)
def _heading_dimensions(
    norm_title: str, extra: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[str, bool], ...]:
    padded = f" {norm_title} "
    # A team's aliases are plain phrases, compared as text, never compiled.
    extra_aliases = {key: [f" {normalize_heading(a)} " for a in aliases] for key, aliases in extra}
    found: dict[str, bool] = {}
    for key, (primary, secondary, excluded) in _ALIAS_PATTERNS.items():
        if excluded.search(norm_title):
            continue
        if primary.search(norm_title) or any(
            alias in padded for alias in extra_aliases.get(key, ()) if alias.strip()
        ):
            found[key] = True
        elif secondary.search(norm_title):
            found[key] = False
    for key, phrases in _EXCLUSIVE_HEADINGS:
        if any(phrase in norm_title for phrase in phrases):
            found = {k: v for k, v in found.items() if k == key}
            found[key] = True
    return tuple(found.items())


def is_hollow(blocks: Sequence[Block]) -> bool:
    text_blocks = [b for b in blocks if b.kind != "heading"]
    if not text_blocks:
        return True
    total = sum(b.word_count for b in text_blocks)
    # More words than any hollow text has: the joined words cannot be one (a section
    # can span thousands of words, and is asked about once per dimension it maps to).
    if total <= _HOLLOW_MAX_WORDS:
        words = (" ".join(t for t in b.tokens if t not in SENTENCE_END) for b in text_blocks)
        joined = " ".join(words)
        if joined.strip() in HOLLOW_TEXTS or not joined.strip():
            return True
    if all(b.template_tags and b.word_count <= 12 for b in text_blocks):
        return True
    # A template's prompts are questions; an answered section has statements.
    return total < 120 and all(b.text.rstrip().endswith("?") for b in text_blocks)


# Rules with a hook into the scan, found once.
_BLOCK_EVIDENCE = tuple(
    (rule.id, rule.block_evidence) for rule in DIMENSION_RULES if rule.block_evidence
)
_VOIDS_TEXT = tuple((rule.id, rule.voids_text) for rule in DIMENSION_RULES if rule.voids_text)


def assess(
    doc: Document,
    category: Category,
    extra_aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Assessment]:
    aliases = extra_aliases or {}
    evidence = {rule.id: Evidence() for rule in DIMENSION_RULES}
    # Blocks before the first section body are the doc's preamble (its metadata).
    later_sections = [s.line for s in doc.sections if s.level >= 2]
    preamble_end = later_sections[0] if later_sections else 0
    category_prefix = f"{category.value}:"
    for index, block in enumerate(doc.blocks):
        if block.kind == "heading":
            continue
        for position, phrase in hits(block, "signal"):
            bucket = evidence[phrase.label]
            line = block.token_lines[position]
            (bucket.strong if phrase.strength == 2 else bucket.weak).append((line, index))
        for position, phrase in hits(block, "category_signal"):
            if phrase.label.startswith(category_prefix):
                key = phrase.label[len(category_prefix) :]
                evidence[key].decisive.append((block.token_lines[position], index))
        in_preamble = block.line < preamble_end
        for key, block_evidence in _BLOCK_EVIDENCE:
            lines = block_evidence(block, in_preamble)
            if lines:
                evidence[key].strong.extend((line, index) for line in lines)

    # Per dimension: block index -> line of its first strong signal in that block.
    first_signals = {
        key: {block: line for line, block in reversed(seen.strong)}
        for key, seen in evidence.items()
    }
    sections: dict[str, list[SectionView]] = {rule.id: [] for rule in DIMENSION_RULES}
    for index, section in enumerate(doc.sections):
        mapped = heading_dimensions(section.norm_title, aliases)
        if not mapped:
            continue
        blocks = doc.section_blocks(index)
        found: dict[str, list[int]] = {}
        for block in blocks:
            for position, phrase in hits(block, "marker"):
                found.setdefault(phrase.label, []).append(block.token_lines[position])
        title = section.title.strip()
        first_line = next((b.line for b in blocks if b.kind != "heading"), section.line)
        words = sum(b.word_count for b in blocks if b.kind != "heading")
        hollow = is_hollow(blocks)
        for key, primary in mapped.items():
            sections[key].append(
                SectionView(
                    index=index,
                    primary=primary,
                    title=title,
                    line=section.line,
                    first_line=first_line,
                    blocks=blocks,
                    content=section.content_range,
                    words=words,
                    hollow=hollow,
                    markers=found,
                    signals=first_signals[key],
                )
            )

    hollow_blocks = {i for views in sections.values() for v in views if v.hollow for i in v.content}
    for key, voids_text in _VOIDS_TEXT:
        hollow_blocks |= {i for v in sections[key] if voids_text(v) for i in v.content}
    return {
        rule.id: _combine(rule, doc, sections[rule.id], evidence[rule.id], hollow_blocks, category)
        for rule in DIMENSION_RULES
    }


_RANK = {Status.PRESENT: 2, Status.WEAK: 1, Status.MISSING: 0}


def _combine(
    rule: DimensionRule,
    doc: Document,
    views: list[SectionView],
    seen: Evidence,
    hollow_blocks: set[int],
    category: Category,
) -> Assessment:
    best = Assessment(Status.MISSING, None, "")
    for view in views:
        judged = _judge_section(rule, view)
        if judged is not None and _RANK[judged.status] > _RANK[best.status]:
            best = judged
    if best.status is Status.PRESENT:
        return best
    from_text = _judge_text(rule, doc, seen, hollow_blocks, category)
    if _RANK[from_text.status] > _RANK[best.status]:
        return from_text
    return best


def _judge_section(rule: DimensionRule, view: SectionView) -> Assessment | None:
    if view.hollow:
        if not view.primary:
            return None
        return Assessment(Status.WEAK, view.line, f'"{view.title}" has no real content')
    return rule.judge_section(view)


def _judge_text(
    rule: DimensionRule,
    doc: Document,
    seen: Evidence,
    hollow_blocks: set[int],
    category: Category,
) -> Assessment:
    decisive = [hit for hit in seen.decisive if hit[1] not in hollow_blocks]
    if decisive:
        return Assessment(Status.PRESENT, decisive[0][0], f"stated in the text ({category.value})")
    strong = [hit for hit in seen.strong if hit[1] not in hollow_blocks]
    weak = [hit for hit in seen.weak if hit[1] not in hollow_blocks]
    if rule.judge_text is not None:
        judged = rule.judge_text(
            TextEvidence(
                doc=doc,
                strong=strong,
                hollow_blocks=hollow_blocks,
                markers=_markers,
                section_dimensions=lambda section: heading_dimensions(
                    doc.sections[section].norm_title, {}
                ),
            )
        )
        if judged is not None:
            return judged
    distinct_blocks = {b for _, b in strong}
    needed = rule.text_threshold
    spread = needed == 1 or not rule.text_spread or len(distinct_blocks) >= 2
    if strong and len(strong) >= needed and spread:
        return Assessment(Status.PRESENT, strong[0][0], "stated in the text")
    if strong or weak:
        line = (strong or weak)[0][0]
        return Assessment(Status.WEAK, line, "only hinted at in the text")
    return Assessment(Status.MISSING, None, "")


def _markers(block: Block) -> Sequence[Hit]:
    return hits(block, "marker")
