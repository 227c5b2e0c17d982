"""The nine dimensions: status (present / weak / missing) and the deciding line.

Two sources of evidence are combined, and the better one wins:
- sections whose heading is an alias of the dimension, judged on substance
  (a hollow "None"/"TBD"/template-prompt section is weak, never present);
- signal phrases in the prose anywhere in the document, so a "why now" in the
  Summary or drawbacks discussed under "Compatibility" still count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from checks import tables
from checks.document import SENTENCE_END, Block, Document, normalize_heading
from checks.phrases import PhraseMatcher, phrases_from_table
from checks.report import DIMENSIONS, Category, Status


@dataclass
class Evidence:
    """What was seen for one dimension while scanning the document."""

    strong: list[tuple[int, int]] = field(default_factory=list)  # (line, block index)
    weak: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Assessment:
    status: Status
    line: int | None
    note: str


@cache
def _signal_matcher() -> PhraseMatcher:
    return PhraseMatcher(
        phrases_from_table(tables.STRONG_SIGNALS, strength=2)
        + phrases_from_table(tables.WEAK_SIGNALS, strength=1)
    )


@cache
def _marker_matcher() -> PhraseMatcher:
    return PhraseMatcher.from_table(
        {
            "problem": tables.PROBLEM_MARKERS,
            "solution": tables.SOLUTION_MARKERS,
            "reasoning": tables.REASONING_MARKERS,
            "stage": tables.STAGE_MARKERS,
        }
    )


def words(block: Block) -> int:
    return sum(1 for token in block.tokens if token not in SENTENCE_END)


def heading_dimensions(
    norm_title: str, extra_aliases: Mapping[str, tuple[str, ...]]
) -> dict[str, bool]:
    """Dimensions a heading stands for: {dimension: is_primary}."""
    padded = f" {norm_title} "
    found: dict[str, bool] = {}
    for key in DIMENSIONS:
        if any(f" {ex} " in padded for ex in tables.EXCLUDED_HEADINGS.get(key, ())):
            continue
        secondary = tables.SECONDARY_HEADING_ALIASES.get(key, ())
        extra = tuple(normalize_heading(a) for a in extra_aliases.get(key, ()))
        primary = [a for a in tables.HEADING_ALIASES[key] if a not in secondary]
        if any(f" {alias} " in padded for alias in (*primary, *extra)):
            found[key] = True
        elif any(f" {alias} " in padded for alias in secondary):
            found[key] = False
    # "Goals" is not non-goals, "Non-goals" is not goals.
    if "non goals" in norm_title or "non-goals" in norm_title:
        found = {k: v for k, v in found.items() if k == "non_goals"}
        found["non_goals"] = True
    return found


def _is_hollow(blocks: Sequence[Block]) -> bool:
    text_blocks = [b for b in blocks if b.kind != "heading"]
    if not text_blocks:
        return True
    joined = " ".join(" ".join(t for t in b.tokens if t not in SENTENCE_END) for b in text_blocks)
    if joined.strip() in tables.HOLLOW_TEXTS or not joined.strip():
        return True
    if all(b.template_tags and words(b) <= 12 for b in text_blocks):
        return True
    # A template's prompts are questions; an answered section has statements.
    total = sum(words(b) for b in text_blocks)
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
                goal_ok = not need_goal_word or any(
                    t in {"target", "goal", "goals", "success", "measure", "metric", "metrics",
                          "slo", "expect", "aim", "objective", "kpi", "budget"}
                    for t in sentence
                )
                if goal_ok:
                    found.append(block.token_lines[start] if start < len(tokens) else block.line)
            start = end + 1
    return found


def _is_quantity(token: str) -> bool:
    if not any(c.isdigit() for c in token):
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
    signals = _signal_matcher()
    for index, block in enumerate(doc.blocks):
        if block.kind == "heading":
            continue
        for position, phrase in signals.finditer(block.tokens):
            bucket = evidence[phrase.label]
            line = block.token_lines[position]
            (bucket.strong if phrase.strength == 2 else bucket.weak).append((line, index))
        for link in block.links:
            if _is_demand_link(link):
                evidence["evidence"].weak.append((block.line, index))

    sections: dict[str, list[_SectionView]] = {key: [] for key in DIMENSIONS}
    markers = _marker_matcher()
    for index, section in enumerate(doc.sections):
        mapped = heading_dimensions(section.norm_title, aliases)
        if not mapped:
            continue
        blocks = doc.section_blocks(index)
        found: dict[str, list[int]] = {}
        for block in blocks:
            for position, phrase in markers.finditer(block.tokens):
                found.setdefault(phrase.label, []).append(block.token_lines[position])
        view = _SectionView(
            index=index,
            primary=False,
            blocks=blocks,
            words=sum(words(b) for b in blocks if b.kind != "heading"),
            hollow=_is_hollow(blocks),
            markers=found,
        )
        for key, primary in mapped.items():
            sections[key].append(
                _SectionView(view.index, primary, view.blocks, view.words, view.hollow, view.markers)
            )

    hollow_blocks = {
        i
        for views in sections.values()
        for v in views
        if v.hollow
        for i in doc.sections[v.index].content_range
    }
    results: dict[str, Assessment] = {}
    for key in DIMENSIONS:
        results[key] = _combine(
            key, doc, sections[key], evidence[key], hollow_blocks, category
        )
    return results


def _is_demand_link(url: str) -> bool:
    lowered = url.lower()
    return any(
        marker in lowered
        for marker in ("/issues/", "/discussions/", "/pull/", "forum", "internals.rust-lang",
                       "users.rust-lang", "stackoverflow.com", "groups.google", "/issue/",
                       "bugs.", "bugzilla", "jira")
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
    for view in views:
        judged = _judge_section(key, doc, view)
        if judged is not None and _RANK[judged.status] > _RANK[best.status]:
            best = judged
    if best.status is Status.PRESENT:
        return best
    from_text = _judge_text(key, doc, seen, hollow_blocks, category)
    if _RANK[from_text.status] > _RANK[best.status]:
        return from_text
    return best


def _judge_section(key: str, doc: Document, view: _SectionView) -> Assessment | None:
    section = doc.sections[view.index]
    title = section.title.strip()
    if view.hollow:
        if not view.primary:
            return None
        return Assessment(Status.WEAK, section.line, f'"{title}" has no real content')
    first_line = next((b.line for b in view.blocks if b.kind != "heading"), section.line)
    present = Assessment(Status.PRESENT, first_line, f'under "{title}"')
    m = view.markers
    problem_hits = len(m.get("problem", ()))
    solution_hits = len(m.get("solution", ()))
    if key == "problem":
        if view.words >= 25 and problem_hits >= 2 and problem_hits >= solution_hits:
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


# Strong text hits needed (outside hollow sections) before a dimension counts as
# present from the prose alone; phrases common in technical writing need more.
_TEXT_THRESHOLD: dict[str, int] = {
    "problem": 3, "users": 2, "why_now": 1, "metrics": 1, "evidence": 2,
    "alternatives": 2, "non_goals": 1, "incremental": 2, "risks": 2,
}


def _judge_text(
    key: str, doc: Document, seen: Evidence, hollow_blocks: set[int], category: Category
) -> Assessment:
    strong = [hit for hit in seen.strong if hit[1] not in hollow_blocks]
    weak = [hit for hit in seen.weak if hit[1] not in hollow_blocks]
    if key == "metrics":
        targets = _target_lines(
            [b for i, b in enumerate(doc.blocks) if i not in hollow_blocks], need_goal_word=True
        )
        if targets:
            return Assessment(Status.PRESENT, targets[0], "a measurable target in the text")
    distinct_blocks = {b for _, b in strong}
    needed = _TEXT_THRESHOLD[key]
    if strong and (len(strong) >= needed and (needed == 1 or len(distinct_blocks) >= 2)):
        return Assessment(Status.PRESENT, strong[0][0], "stated in the text")
    if strong or weak:
        line = (strong or weak)[0][0]
        return Assessment(Status.WEAK, line, "only hinted at in the text")
    return Assessment(Status.MISSING, None, "")
