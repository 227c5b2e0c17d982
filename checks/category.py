"""What kind of work a document describes (category) and which template it uses (kind)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks import category_signals
from checks.document import Document
from checks.report import Category
from checks.vocabulary import hits as block_hits

_SPECIAL = (Category.COMPLIANCE, Category.RESEARCH, Category.STABILIZATION)


def parse_category(value: Any) -> Category | None:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().lower().replace("stabilisation", "stabilization")
    try:
        return Category(cleaned)
    except ValueError:
        return None


def detect_category(doc: Document, imposed: Category | None) -> tuple[Category, str]:
    """(category, where it came from): front matter, then the caller, then the text."""
    from_front = parse_category(doc.front_matter.get("category"))
    if from_front is not None:
        return from_front, "front-matter"
    if imposed is not None:
        return imposed, "config"
    return infer_category(doc), "text"


def infer_category(doc: Document) -> Category:
    hits: dict[str, int] = {}
    distinct: dict[str, set[tuple[str, ...]]] = {}
    word_count = 0
    for block in doc.blocks:
        weight = 4 if block.kind == "heading" else 1
        word_count += block.word_count
        for _, phrase in block_hits(block, "category"):
            hits[phrase.label] = hits.get(phrase.label, 0) + weight
            distinct.setdefault(phrase.label, set()).add(phrase.tokens)
    if word_count == 0:
        return Category.PRODUCT
    density = {label: count * 1000 / max(word_count, 200) for label, count in hits.items()}

    def score(category: Category) -> float:
        return density.get(category.value, 0.0)

    specials = sorted(_SPECIAL, key=score, reverse=True)
    top = specials[0]
    if (
        score(top) >= category_signals.CATEGORY_MIN_DENSITY[top]
        and len(distinct.get(top.value, ())) >= 3
        and score(top) > 1.5 * score(specials[1])
    ):
        return top
    platform, product = score(Category.PLATFORM), score(Category.PRODUCT)
    platform_floor = category_signals.CATEGORY_MIN_DENSITY[Category.PLATFORM]
    if platform >= platform_floor and platform > 2 * product:
        return Category.PLATFORM
    return Category.PRODUCT


def detect_kind(doc: Document, front_matter: Mapping[str, Any]) -> str:
    for key in ("kind", "type", "doc_type"):
        value = front_matter.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    titles = {s.norm_title for s in doc.sections}
    best, best_count = "", 0
    for kind, headings in category_signals.KIND_HEADINGS.items():
        count = sum(1 for h in headings if h in titles)
        if count > best_count:
            best, best_count = kind, count
    if best_count >= 2:
        return best
    lowered = doc.path.lower()
    for marker, kind in (
        ("kep", "kep"),
        ("rfc", "rfc"),
        ("adr", "adr"),
        ("prd", "prd"),
        ("proposal", "proposal"),
    ):
        if marker in lowered:
            return kind
    return "design"
