"""`/product-review explain ID`: what a dimension or a line check looks for, why it
matters, what a good answer looks like, and how to silence it.

Pure text. Everything it says comes from the engine's own rules (`checks.rules`), so
the explanation says exactly what a review asks; when the configuration words a
dimension's question its own way (`questions`), the explanation shows that wording,
as the engine asks it, and says it is the team's.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.config import Layer, Settings
from checks.markdown_text import code_safe
from checks.report import DIMENSIONS, LINE_CHECKS, Category
from checks.rules import DIMENSION_BY_ID, DIMENSION_RULES, LINE_CHECK_BY_ID
from checks.rules.types import Prose

_CATEGORY_ORDER = (
    Category.PLATFORM,
    Category.COMPLIANCE,
    Category.RESEARCH,
    Category.STABILIZATION,
)


def _category_variants(questions: Mapping[Category, str]) -> list[tuple[Category, str]]:
    """(category, question) where a question is worded differently, in a fixed order."""
    return [(c, questions[c]) for c in _CATEGORY_ORDER if c in questions]


def known_ids() -> tuple[str, ...]:
    """Every id `explain` knows: the dimensions, then the line checks, in registry order."""
    return (*DIMENSIONS, *LINE_CHECKS)


def canonical_id(text: str) -> str | None:
    """The id a person most likely meant: case, backticks, and `-`/`_`/space
    between words do not matter (`why-now`, `Why now`, `non_goals` all work)."""
    words = text.strip().strip("`'\"").lower().replace("_", " ").replace("-", " ").split()
    if not words:
        return None
    if "_".join(words) in DIMENSIONS:
        return "_".join(words)
    if "-".join(words) in LINE_CHECKS:
        return "-".join(words)
    for rule in DIMENSION_RULES:
        if " ".join(words) == rule.title.lower():
            return rule.id
    return None


# Where a `questions` entry was set, as the explanation names it.
_QUESTION_SOURCES: Mapping[str, str] = {
    Layer.ORGANISATION.value: "the organisation's `.github/product-review.yml`",
    Layer.EXTENDS.value: "the shared config file that this repository's config extends",
    Layer.REPOSITORY.value: "this repository's `.github/product-review.yml`",
}


def explain(identifier: str, settings: Settings | None = None) -> str | None:
    """The reply for `/product-review explain ID`, or None when the id is unknown.
    With `settings`, a dimension's question is the one the team configured, if any."""
    key = canonical_id(identifier)
    if key is None:
        return None
    if key in DIMENSIONS:
        return _explain_dimension(key, settings)
    return _explain_check(key)


def explain_reply(argument: str, settings: Settings | None = None) -> str:
    """The reply to `explain` with any argument: the explanation, or what can be explained."""
    text = explain(argument, settings) if argument else None
    if text is not None:
        return text
    intro = (
        f"I don't know the id `{code_safe(argument).strip()[:80]}`. "
        if argument
        else "Which one? Use `/product-review explain ID` with one of these ids. "
    )
    return (
        intro
        + "Dimensions: "
        + ", ".join(f"`{key}`" for key in DIMENSIONS)
        + ". Line checks: "
        + ", ".join(f"`{check}`" for check in LINE_CHECKS)
        + "."
    )


def _team_question(key: str, settings: Settings | None) -> tuple[str, str] | None:
    """(the team's wording, where it was set) when the configuration words `key`'s
    question its own way."""
    question = settings.review.questions.get(key) if settings is not None else None
    if not question:
        return None
    layer = settings.sources.get(f"questions.{key}", "") if settings is not None else ""
    return question, _QUESTION_SOURCES.get(layer, "the configuration")


def _explain_dimension(key: str, settings: Settings | None = None) -> str:
    rule = DIMENSION_BY_ID[key]
    prose = rule.prose
    team = _team_question(key, settings)
    lines = [f"### `{key}`: {rule.title}", ""]
    if team is None:
        lines.append(f"**The question:** {prose.question}")
    else:
        question, source = team
        lines += [
            f"**The question, in your team's words:** {question}",
            "",
            f"This wording is your team's own: `questions.{key}` in {source} sets it, "
            "and reviews here ask it for every kind of work. The app's default wording "
            f"is: {prose.question}",
        ]
    lines += [
        "",
        f"**What it looks for:** {prose.looks_for} Headings help but are not required: "
        "the text itself counts wherever it is.",
        "",
        f"**Why it matters:** {prose.why}",
        "",
        f"**A good answer, for example:** {prose.example}",
    ]
    if team is None:  # the team's wording replaces these too
        lines += _asked_differently(prose)
    lines += [
        "",
        "**How to silence it** (when the doc deliberately leaves it out):",
        f"- for this document: front matter `product_review: {{disable: [{key}]}}`, or "
        f"`<!-- product-review disable={key} -->` anywhere in it (a dimension is about "
        "the whole document);",
        "- for a kind of work in the whole repository: in `.github/product-review.yml`, "
        f"`dimensions: {{product: {{{key}: optional}}}}` (or `off`), per category.",
    ]
    return "\n".join(lines)


def _asked_differently(prose: Prose) -> list[str]:
    variants = _category_variants(prose.category_questions)
    lines: list[str] = []
    if variants:
        lines += [
            "",
            "**Asked differently for other kinds of work:**",
            *(f"- {category.value}: {question}" for category, question in variants),
        ]
    if prose.kind_questions:
        lines += [
            "",
            "**Asked in their own terms for platform work of these document templates**, "
            "whose documents nearly all leave it open:",
            *(f"- {kind}: {question}" for kind, question in sorted(prose.kind_questions.items())),
        ]
    return lines


def _explain_check(check: str) -> str:
    prose = LINE_CHECK_BY_ID[check].prose
    lines = [
        f"### `{check}`",
        "",
        f"**What it looks for:** {prose.looks_for}",
        "",
        f"**The question it asks:** {prose.question}",
        "",
        f"**Why it matters:** {prose.why}",
        "",
        f"**A good answer, for example:** {prose.example}",
    ]
    lines += _asked_differently(prose)
    lines += [
        "",
        "**How to silence it** (when the wording is deliberate):",
        f"- for the next paragraph, list or table: put `<!-- product-review disable={check} -->` "
        "on the line before it;",
        "- for a stretch of the document: `<!-- product-review off -->` before it and "
        "`<!-- product-review on -->` after it (silences every line check in between);",
        f"- for the whole document: front matter `product_review: {{disable: [{check}]}}`;",
        f"- for the whole repository: `checks: {{{check}: off}}` in `.github/product-review.yml`.",
    ]
    return "\n".join(lines)
