"""The nine dimensions: status (present / weak / missing) and the deciding line.

Two sources of evidence are combined, and the better one wins:
- sections whose heading is an alias of the dimension, judged on substance
  (a hollow "None"/"TBD"/template-prompt section is weak, never present);
- signal phrases in the prose anywhere in the document, so a "why now" in the
  Summary or drawbacks discussed under "Compatibility" still count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

from checks import tables
from checks.document import SENTENCE_END, Block, Document, normalize_heading
from checks.report import DIMENSIONS, Category, Status
from checks.vocabulary import hits


@dataclass
class Evidence:
    """What was seen for one dimension while scanning the document."""

    strong: list[tuple[int, int]] = field(default_factory=list)  # (line, block index)
    weak: list[tuple[int, int]] = field(default_factory=list)
    # Signals specific to the document's category: one is enough on its own.
    decisive: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Assessment:
    status: Status
    line: int | None
    note: str


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


@cache
def _builtin_alias_patterns() -> dict[
    str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]
]:
    """{dimension: (primary, secondary, excluded)} over the built-in tables."""
    table = {}
    for key in DIMENSIONS:
        secondary = tables.SECONDARY_HEADING_ALIASES.get(key, ())
        primary = tuple(a for a in tables.HEADING_ALIASES[key] if a not in secondary)
        table[key] = (
            _phrases_regex(primary),
            _phrases_regex(secondary),
            _phrases_regex(tables.EXCLUDED_HEADINGS.get(key, ())),
        )
    return table


@lru_cache(maxsize=8192)
def _heading_dimensions(
    norm_title: str, extra: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[str, bool], ...]:
    padded = f" {norm_title} "
    # A team's aliases are plain phrases, compared as text, never compiled.
    extra_aliases = {key: [f" {normalize_heading(a)} " for a in aliases] for key, aliases in extra}
    found: dict[str, bool] = {}
    for key, (primary, secondary, excluded) in _builtin_alias_patterns().items():
        if excluded.search(norm_title):
            continue
        if primary.search(norm_title) or any(
            alias in padded for alias in extra_aliases.get(key, ()) if alias.strip()
        ):
            found[key] = True
        elif secondary.search(norm_title):
            found[key] = False
    # "Goals" is not non-goals, "Non-goals" is not goals.
    if "non goals" in norm_title or "non-goals" in norm_title:
        found = {k: v for k, v in found.items() if k == "non_goals"}
        found["non_goals"] = True
    return tuple(found.items())


def _is_hollow(blocks: Sequence[Block]) -> bool:
    text_blocks = [b for b in blocks if b.kind != "heading"]
    if not text_blocks:
        return True
    joined = " ".join(" ".join(t for t in b.tokens if t not in SENTENCE_END) for b in text_blocks)
    if joined.strip() in tables.HOLLOW_TEXTS or not joined.strip():
        return True
    if all(b.template_tags and b.word_count <= 12 for b in text_blocks):
        return True
    # A template's prompts are questions; an answered section has statements.
    total = sum(b.word_count for b in text_blocks)
    return total < 120 and all(b.text.rstrip().endswith("?") for b in text_blocks)


def _target_lines(blocks: Sequence[Block], need_goal_word: bool) -> list[int]:
    """Lines where a number sits in a sentence with a comparator or unit (a target)."""
    found: list[int] = []
    for block in blocks:
        if not block.has_number:
            continue
        tokens = block.tokens
        start = 0
        for end in range(len(tokens) + 1):
            if end < len(tokens) and tokens[end] not in SENTENCE_END:
                continue
            sentence = tokens[start:end]
            if any(_is_quantity(t) for t in sentence) and (
                any(t in tables.METRIC_COMPARATORS or t.endswith("%") for t in sentence)
            ):
                goal_ok = not need_goal_word or not _GOAL_WORDS.isdisjoint(sentence)
                if goal_ok:
                    found.append(block.token_lines[start] if start < len(tokens) else block.line)
            start = end + 1
    return found


_GOAL_WORDS = frozenset(
    {
        "goal",
        "goals",
        "success",
        "metric",
        "metrics",
        "slo",
        "slos",
        "objective",
        "objectives",
        "kpi",
        "kpis",
        "aim",
        "budget",
    }
)


def _is_quantity(token: str) -> bool:
    if not token[:1].isdigit():  # "http2", "v1", "x86" are names, not amounts
        return False
    if token.count(".") >= 2:  # a version such as 1.2.3
        return False
    return not (len(token) == 4 and token.isdigit() and token[:2] in {"19", "20"})  # a year


@dataclass
class _SectionView:
    index: int
    primary: bool
    blocks: list[Block]
    words: int
    hollow: bool
    markers: dict[str, list[int]]  # marker label -> lines


def assess(
    doc: Document,
    category: Category,
    extra_aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Assessment]:
    aliases = extra_aliases or {}
    evidence = {key: Evidence() for key in DIMENSIONS}
    # Links before the first section body are the doc's own metadata (its
    # tracking issue, its discussion thread), not evidence of demand.
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
        for link in () if in_preamble or _is_metadata_line(block) else block.links:
            if _is_demand_link(link):
                evidence["evidence"].strong.append((block.line, index))
        if block.quoted and block.word_count >= 15:  # a quoted voice, not a one-line note
            evidence["evidence"].strong.append((block.line, index))
        for position, token in enumerate(block.tokens if "%" in block.text else ()):
            if token.endswith("%") and token[:1].isdigit():
                evidence["evidence"].strong.append((block.token_lines[position], index))
                break

    sections: dict[str, list[_SectionView]] = {key: [] for key in DIMENSIONS}
    for index, section in enumerate(doc.sections):
        mapped = heading_dimensions(section.norm_title, aliases)
        if not mapped:
            continue
        blocks = doc.section_blocks(index)
        found: dict[str, list[int]] = {}
        for block in blocks:
            for position, phrase in hits(block, "marker"):
                found.setdefault(phrase.label, []).append(block.token_lines[position])
        view = _SectionView(
            index=index,
            primary=False,
            blocks=blocks,
            words=sum(b.word_count for b in blocks if b.kind != "heading"),
            hollow=_is_hollow(blocks),
            markers=found,
        )
        for key, primary in mapped.items():
            sections[key].append(replace(view, primary=primary))

    hollow_blocks = {
        i
        for views in sections.values()
        for v in views
        if v.hollow
        for i in doc.sections[v.index].content_range
    }
    # A risks section that only denies any cost lends its words to no dimension.
    hollow_blocks |= {
        i for v in sections["risks"] if _denies_cost(v) for i in doc.sections[v.index].content_range
    }
    results: dict[str, Assessment] = {}
    for key in DIMENSIONS:
        results[key] = _combine(key, doc, sections[key], evidence[key], hollow_blocks, category)
    return results


def _denies_cost(view: _SectionView) -> bool:
    return bool(view.markers.get("risk_denial")) and view.words < 80


def _is_metadata_line(block: Block) -> bool:
    """Header lines such as "* Review: (pitch)" or "- Rust Issue: #123"."""
    head = block.text[:40]
    return block.kind == "item" and ":" in head and len(head.split(":", 1)[0].split()) <= 3


def _is_demand_link(url: str) -> bool:
    lowered = url.lower()
    return any(
        marker in lowered
        for marker in (
            "/issues/",
            "/discussions/",
            "/pull/",
            "forum",
            "internals.rust-lang",
            "users.rust-lang",
            "stackoverflow.com",
            "groups.google",
            "/issue/",
            "bugs.",
            "bugzilla",
            "jira",
        )
    )


_RANK = {Status.PRESENT: 2, Status.WEAK: 1, Status.MISSING: 0}


def _combine(
    key: str,
    doc: Document,
    views: list[_SectionView],
    seen: Evidence,
    hollow_blocks: set[int],
    category: Category,
) -> Assessment:
    best = Assessment(Status.MISSING, None, "")
    strong_blocks = {block: line for line, block in reversed(seen.strong)}
    for view in views:
        judged = _judge_section(key, doc, view, strong_blocks)
        if judged is not None and _RANK[judged.status] > _RANK[best.status]:
            best = judged
    if best.status is Status.PRESENT:
        return best
    from_text = _judge_text(key, doc, seen, hollow_blocks, category)
    if _RANK[from_text.status] > _RANK[best.status]:
        return from_text
    return best


def _judge_section(
    key: str, doc: Document, view: _SectionView, strong_blocks: Mapping[int, int]
) -> Assessment | None:
    section = doc.sections[view.index]
    title = section.title.strip()
    if view.hollow:
        if not view.primary:
            return None
        return Assessment(Status.WEAK, section.line, f'"{title}" has no real content')
    first_line = next((b.line for b in view.blocks if b.kind != "heading"), section.line)
    present = Assessment(Status.PRESENT, first_line, f'under "{title}"')
    if key == "risks" and _denies_cost(view):
        # "Raises no compatibility issues" names no cost; weak, like "None".
        return Assessment(Status.WEAK, first_line, f'"{title}" only says there is no cost')
    if not view.primary and key not in ("problem", "metrics", "incremental"):
        # A secondary heading (a Summary, a Background) only counts with a signal
        # of this dimension inside it.
        inside = [
            strong_blocks[i] for i in doc.sections[view.index].content_range if i in strong_blocks
        ]
        if not inside:
            return None
        return Assessment(Status.PRESENT, inside[0], f'under "{title}"')
    m = view.markers
    problem_hits = len(m.get("problem", ()))
    solution_hits = len(m.get("solution", ()))
    if key == "problem":
        if view.words >= 15 and problem_hits >= 1 and problem_hits >= solution_hits:
            return Assessment(Status.PRESENT, m["problem"][0], f'under "{title}"')
        if not view.primary:
            return None
        if solution_hits > problem_hits:
            note = f'"{title}" restates the solution instead of the problem'
        else:
            note = f'"{title}" says little about what is wrong today'
        return Assessment(Status.WEAK, first_line, note)
    if key == "metrics":
        targets = _target_lines(view.blocks, need_goal_word=False)
        if targets:
            return Assessment(Status.PRESENT, targets[0], f'target under "{title}"')
        if not view.primary:
            return None
        return Assessment(Status.WEAK, first_line, f'"{title}" names success without a measure')
    if key == "evidence":
        if any(b.links for b in view.blocks) and view.primary:
            return present
        return present if view.primary and view.words >= 30 else None
    if key == "alternatives":
        if view.words >= 20 and m.get("reasoning"):
            return present if view.primary or view.words >= 60 else None
        if not view.primary:
            return None
        return Assessment(Status.WEAK, first_line, f'"{title}" names options without reasons')
    if key == "incremental":
        if view.primary and view.words >= 15:
            return present
        if m.get("stage") and view.words >= 15:
            return Assessment(Status.PRESENT, m["stage"][0], f'under "{title}"')
        return None
    minimum = {"users": 25, "why_now": 10, "non_goals": 4, "risks": 12}.get(key, 10)
    if view.words >= minimum:
        return present if view.primary or view.words >= 3 * minimum else None
    if not view.primary:
        return None
    return Assessment(Status.WEAK, first_line, f'"{title}" is a single short line')


def _reasoned_alternative(doc: Document, strong: list[tuple[int, int]]) -> int | None:
    tried: set[int] = set()  # a block with many hits is read once, not once per hit
    for line, index in strong:
        if index in tried:
            continue
        tried.add(index)
        block = doc.blocks[index]
        if block.word_count < 15:
            continue
        if any(p.label == "reasoning" for _, p in hits(block, "marker")):
            return line
    return None


# Strong text hits needed (outside hollow sections) before a dimension counts as
# present from the prose alone; phrases common in technical writing need more.
_TEXT_THRESHOLD: dict[str, int] = {
    "problem": 2,
    "users": 1,
    "why_now": 1,
    "metrics": 1,
    "evidence": 2,
    "alternatives": 2,
    "non_goals": 1,
    "incremental": 2,
    "risks": 2,
}


def _judge_text(
    key: str, doc: Document, seen: Evidence, hollow_blocks: set[int], category: Category
) -> Assessment:
    decisive = [hit for hit in seen.decisive if hit[1] not in hollow_blocks]
    if decisive:
        return Assessment(Status.PRESENT, decisive[0][0], f"stated in the text ({category.value})")
    strong = [hit for hit in seen.strong if hit[1] not in hollow_blocks]
    weak = [hit for hit in seen.weak if hit[1] not in hollow_blocks]
    if key == "metrics":
        targets = _target_lines(
            [b for i, b in enumerate(doc.blocks) if i not in hollow_blocks], need_goal_word=True
        )
        if targets:
            return Assessment(Status.PRESENT, targets[0], "a measurable target in the text")
    if key == "alternatives":
        reasoned = _reasoned_alternative(doc, strong)
        if reasoned is not None:
            return Assessment(Status.PRESENT, reasoned, "an alternative with reasons, in the text")
    if key == "users":
        # One specific group named where the problem is described is enough.
        for line, index in strong:
            section = doc.blocks[index].section
            if section != -1 and "problem" in heading_dimensions(
                doc.sections[section].norm_title, {}
            ):
                return Assessment(
                    Status.PRESENT, line, "a specific group where the problem is told"
                )
    distinct_blocks = {b for _, b in strong}
    needed = _TEXT_THRESHOLD[key]
    spread = needed == 1 or key == "evidence" or len(distinct_blocks) >= 2
    if strong and len(strong) >= needed and spread:
        return Assessment(Status.PRESENT, strong[0][0], "stated in the text")
    if strong or weak:
        line = (strong or weak)[0][0]
        return Assessment(Status.WEAK, line, "only hinted at in the text")
    return Assessment(Status.MISSING, None, "")
