"""What a caller (CLI flags, repository config) can tell the engine.

Plain frozen data: the config loader builds one of these; the engine only reads it.
Anything not set here falls back to the rules' own defaults in `checks.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from checks.report import Category, Requirement, Severity

if TYPE_CHECKING:
    from checks.learned import CategoryModel, LearnedModel, LineModel


@dataclass(frozen=True)
class DimensionPolicy:
    requirement: Requirement
    severity: Severity  # severity of a `missing` gap; a `weak` gap is one step lower


@dataclass(frozen=True)
class CheckPolicy:
    enabled: bool = True
    severity: Severity | None = None  # None: the check's built-in severity


@dataclass(frozen=True)
class ReviewOptions:
    # A category imposed by the caller (config `categories` glob or `--category`);
    # front matter `category:` in the document still wins over it.
    category: Category | None = None
    # Per-category overrides of the dimension table: {category: {dimension: policy}}.
    dimensions: Mapping[Category, Mapping[str, DimensionPolicy]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Per-check overrides: {check id: policy}.
    checks: Mapping[str, CheckPolicy] = field(default_factory=lambda: MappingProxyType({}))
    # Extra headings that count for a dimension: {dimension: ("Definition of done", ...)}.
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # The team's own wording of a dimension's question: {dimension: "..."}.
    questions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # How many questions the document summary keeps (best first).
    max_top_questions: int = 5
    # How many line findings a report lists, most severe first: a generated document
    # can raise one on every line, and nobody reads (or GitHub shows) past a few
    # hundred. The report counts the rest.
    max_findings: int = 1000
    # The learned layer (`checks.learned`): it decides each dimension's status, and
    # the category when the text is what gives it. The shipped model by default (it
    # beats the rules on documents it never saw, bench/README.md); None (`model:
    # rules`): the rules judge the dimensions. A model brings its own category and
    # line parts: while it is set, `category_model` and `line_model` are not read.
    model: LearnedModel | None = field(default_factory=lambda: _shipped_model())
    # Without `model`, what decides the category when the text is what gives it: the
    # shipped model's category part by default; None leaves it to the rules' signals.
    category_model: CategoryModel | None = field(default_factory=lambda: _shipped_category())
    # How many evidence blocks each dimension lists, best first, ranked by the learned
    # block scorer (`options.model`, else the shipped one); 0: none, and no scoring.
    explain: int = 0
    # Without `model`, the line model (`checks.learned.LineModel`) adding sentence-level
    # anti-pattern findings to the rules': the shipped model's line part by default
    # (it beats the line rules alone, bench/README.md); None: the rules alone.
    line_model: LineModel | None = field(default_factory=lambda: _shipped_lines())


def _shipped_model() -> LearnedModel:
    # Imported here: the learned layer builds on modules that import this one.
    from checks.learned import shipped_model

    return shipped_model()


def _shipped_category() -> CategoryModel:
    # Imported here: the learned layer builds on modules that import this one.
    from checks.learned import shipped_category_model

    return shipped_category_model()


def _shipped_lines() -> LineModel | None:
    from checks.learned import shipped_line_model

    return shipped_line_model()


DEFAULT_OPTIONS = ReviewOptions()
