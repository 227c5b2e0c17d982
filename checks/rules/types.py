"""The two kinds of rule: a dimension of the rubric, and a line check.

A rule module (one file per rule under `checks/rules/`) builds one of these and
names it `RULE`; `checks/rules/__init__.py` lists them. Everything the engine,
the explanations, the SARIF output, the scorecard, the config schema and the
README know about a rule comes from its object.

Phrases are token specs (see `checks.phrases`): space-separated tokens, `a|b`
for alternatives, `#` for any number. Headings are compared after
`checks.document.normalize_heading` (lowercase words, numbering dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from checks.enums import Category, Requirement, Severity
from checks.rules.judging import BlockEvidence, SectionJudge, SectionVoid, TextJudge
from checks.rules.scanning import Detector

_Value = TypeVar("_Value")


def by_category(
    *,
    product: _Value,
    platform: _Value,
    compliance: _Value,
    research: _Value,
    stabilization: _Value,
) -> Mapping[Category, _Value]:
    """One value for each category, none left out."""
    return {
        Category.PRODUCT: product,
        Category.PLATFORM: platform,
        Category.COMPLIANCE: compliance,
        Category.RESEARCH: research,
        Category.STABILIZATION: stabilization,
    }


def required_except(**exceptions: Requirement) -> Mapping[Category, Requirement]:
    """Required for every category but those named (`research=Requirement.OPTIONAL`)."""
    profile = dict.fromkeys(Category, Requirement.REQUIRED)
    for name, requirement in exceptions.items():
        profile[Category(name)] = requirement  # a misspelt category fails at import
    return profile


@dataclass(frozen=True)
class Headings:
    """Which headings stand for a dimension.

    A heading counts when its normalised words contain one of the phrases as whole
    words. A secondary alias (a Summary, a Background) often holds the dimension and
    just as often holds something else: it can show the dimension is present, never
    that it is weak.
    """

    aliases: tuple[str, ...]  # primary aliases (a phrase is in one list or the other)
    secondary: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # never this dimension, whatever else matches
    # A heading containing one of these (as text) stands for this dimension alone.
    exclusive: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prose:
    """What people read about a rule, wherever it is shown."""

    label: str  # the scorecard's short column label
    question: str  # the question, in the product wording
    why: str  # one short line: why the question matters
    looks_for: str  # what counts (explanations: "What it looks for")
    example: str  # a good passage (explanations: "A good answer, for example")
    description: str  # one line naming the problem (SARIF shortDescription)
    help: str  # a short paragraph (SARIF help)
    # The question worded for other kinds of work, where it differs.
    category_questions: Mapping[Category, str] = field(default_factory=dict)
    # Platform work of one template family (the report's `kind`: "rfc", "kep", ...)
    # whose documents nearly all leave this dimension open: the question in that
    # family's own terms, so it reads as a peer's question, not a product manager's.
    kind_questions: Mapping[str, str] = field(default_factory=dict)

    def question_for(self, category: Category, kind: str = "") -> str:
        if category is Category.PLATFORM and kind in self.kind_questions:
            return self.kind_questions[kind]
        return self.category_questions.get(category, self.question)


@dataclass(frozen=True)
class Examples:
    """Two short Markdown documents the tests run through the engine: the rule is
    satisfied by `good` (present; no finding) and raised by `bad` (a gap; a finding)."""

    good: str
    bad: str


@dataclass(frozen=True)
class DimensionRule:
    id: str  # the key in reports, configs and directives: `why_now`
    title: str  # in messages and explanations: "Why now"
    present_when: str  # the README's rubric: "`present` when the doc…"
    prose: Prose
    examples: Examples
    severity: Severity  # of a missing required dimension; a weak one is one step lower
    requirements: Mapping[Category, Requirement]  # for every category
    priority: Mapping[Category, int]  # for every category: 1 is asked about first
    headings: Headings
    strong_signals: tuple[str, ...]  # present from the prose, given `text_threshold` of them
    weak_signals: tuple[str, ...]  # only hint at the dimension: weak at best
    # How an aliased section is judged (after hollow ones are set aside).
    judge_section: SectionJudge
    # Strong prose hits needed (outside hollow sections) before the prose alone makes
    # the dimension present; phrases common in technical writing need more.
    text_threshold: int
    # Signals that decide the dimension on their own for one kind of work.
    category_signals: Mapping[Category, tuple[str, ...]] = field(default_factory=dict)
    # Marker phrases, by label, counted inside aliased sections (labels are global).
    markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # With more than one needed, whether they must come from two blocks or more.
    text_spread: bool = True
    # A way the prose shows the dimension besides `text_threshold` signals.
    judge_text: TextJudge | None = None
    # Strong evidence a block gives besides signal phrases (links, quotes, numbers).
    block_evidence: BlockEvidence | None = None
    # A section of this dimension whose words count for no dimension's prose.
    voids_text: SectionVoid | None = None

    def requirement(self, category: Category) -> Requirement:
        return self.requirements[category]


@dataclass(frozen=True)
class LineCheckRule:
    id: str  # the `check` of findings, configs and directives: `placeholder`
    message: str  # what a finding says; `{excerpt}` is the words that raised it
    catches: str  # the README's checks table: what it catches
    quiet_on: str  # the README's checks table: what it stays quiet on
    prose: Prose
    examples: Examples
    severity: Severity
    # Phrases, by label, found in every block (labels are global).
    phrases: Mapping[str, tuple[str, ...]]
    # Examines one block and yields its findings.
    detect: Detector
    # The detector only runs on blocks with hits for all of these phrase labels.
    needs: frozenset[str] = frozenset()
    reads_headings: bool = False  # headings are examined too (they have no phrase hits)
    # Checks examine a block in this order (then in registry order). It only decides
    # which of two findings on one line, of one severity, a report at its cap keeps.
    scan_order: int = 0


Rule = DimensionRule | LineCheckRule
