"""The rule registry is complete, and everything derived from it agrees with it.

A rule (`checks/rules/*.py`) carries everything about itself; these tests fail when
a field is left empty, an example does not do what it claims under the real
engine, or a place that lists the rules (report keys, schema, SARIF, explanations,
scorecard, README) has drifted from the registry.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import checks.rules
from checks import review_document
from checks.category_signals import KIND_HEADINGS
from checks.config import DEFAULT_SETTINGS
from checks.configfile import schema_text
from checks.formats import RULES, OutputFormat, render
from checks.options import ReviewOptions
from checks.report import DIMENSIONS, LINE_CHECKS, Category, FindingKind, Requirement, Status
from checks.rule_tables import checks_table, readme_table, rubric_table, with_tables
from checks.rules import (
    ALL_RULES,
    DIMENSION_BY_ID,
    DIMENSION_RULES,
    LINE_CHECK_BY_ID,
    LINE_CHECK_RULES,
    priority_order,
)
from checks.rules.types import DimensionRule, LineCheckRule, Rule
from checks.schema import config_schema, config_schema_text
from ghapp.checkrun import CHECK_LABELS, DIMENSION_LABELS, render_check
from ghapp.explain import canonical_id, explain, known_ids

ROOT = Path(__file__).resolve().parents[2]
# The rules alone judge (the examples show what each rule decides; the learned layer
# reads the rules' statuses as one of its features).
PRODUCT = ReviewOptions(category=Category.PRODUCT, model=None)


def _ids(rules: tuple[Rule, ...]) -> list[str]:
    return [rule.id for rule in rules]


def _empty_text(value: object, where: str) -> list[str]:
    """Every text inside `value` (dataclasses, mappings, tuples) that is empty."""
    if isinstance(value, str):
        return [where] if not value.strip() else []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            problem
            for item in dataclasses.fields(value)
            for problem in _empty_text(getattr(value, item.name), f"{where}.{item.name}")
        ]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _empty_text(item, f"{where}[{key}]")]
    if isinstance(value, tuple | frozenset):
        return [p for i, item in enumerate(value) for p in _empty_text(item, f"{where}[{i}]")]
    return []


# --- the registry itself ------------------------------------------------------------------


def test_ids_are_unique_and_listed_in_report_order() -> None:
    ids = _ids(ALL_RULES)
    assert len(ids) == len(set(ids))
    assert tuple(_ids(DIMENSION_RULES)) == DIMENSIONS
    assert tuple(_ids(LINE_CHECK_RULES)) == LINE_CHECKS
    assert set(DIMENSION_BY_ID) == set(DIMENSIONS) and set(LINE_CHECK_BY_ID) == set(LINE_CHECKS)
    # Config keys, directives and JSON use these spellings.
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", key) for key in DIMENSIONS)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", check) for check in LINE_CHECKS)


def test_each_rule_lives_in_the_module_named_after_it() -> None:
    for rule in ALL_RULES:
        module = importlib.import_module(f"checks.rules.{rule.id.replace('-', '_')}")
        assert module.RULE is rule


def test_every_rule_module_is_in_the_registry() -> None:
    """A rule module left out of the registry would be silently ignored."""
    package = Path(checks.rules.__file__).parent
    rule_modules = set()
    for info in pkgutil.iter_modules([str(package)]):
        module = importlib.import_module(f"checks.rules.{info.name}")
        if isinstance(getattr(module, "RULE", None), DimensionRule | LineCheckRule):
            rule_modules.add(info.name)
    assert rule_modules == {rule.id.replace("-", "_") for rule in ALL_RULES}
    assert len(rule_modules) >= len(ALL_RULES)


def test_scorecard_labels_are_distinct() -> None:
    labels = [rule.prose.label for rule in ALL_RULES]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("rule", ALL_RULES, ids=_ids(ALL_RULES))
def test_every_text_of_a_rule_is_filled_in(rule: Rule) -> None:
    assert _empty_text(rule, rule.id) == []
    prose = rule.prose
    for text in (prose.label, prose.question, prose.why, prose.looks_for, prose.example):
        assert text.strip()
    assert prose.description.strip() and prose.help.strip()
    assert rule.examples.good.strip() and rule.examples.bad.strip()
    assert callable(rule.judge_section if isinstance(rule, DimensionRule) else rule.detect)


@pytest.mark.parametrize("rule", DIMENSION_RULES, ids=_ids(DIMENSION_RULES))
def test_a_dimension_has_a_profile_for_every_category(rule: DimensionRule) -> None:
    assert set(rule.requirements) == set(Category)
    assert set(rule.priority) == set(Category)
    assert rule.title.strip() and rule.present_when.strip()
    assert rule.headings.aliases, "a dimension needs at least one heading alias"
    assert set(rule.headings.aliases).isdisjoint(rule.headings.secondary)
    assert rule.strong_signals or rule.weak_signals or rule.judge_text is not None
    assert rule.text_threshold >= 1
    for category in Category:
        if rule.requirement(category) is Requirement.OFF:
            # A question for work that never asks it is text nobody reads.
            assert category not in rule.prose.category_questions
        else:
            assert rule.prose.question_for(category).strip()
            assert rule.prose.why.strip()


def test_priorities_order_every_category_without_ties() -> None:
    for category in Category:
        ranks = [rule.priority[category] for rule in DIMENSION_RULES]
        assert len(set(ranks)) == len(ranks), category
        assert sorted(priority_order(category)) == sorted(DIMENSIONS)


@pytest.mark.parametrize("rule", LINE_CHECK_RULES, ids=_ids(LINE_CHECK_RULES))
def test_a_line_check_has_its_phrases_and_message(rule: LineCheckRule) -> None:
    assert rule.phrases and all(rule.phrases.values())
    assert rule.needs <= set(rule.phrases), "a check can only need its own phrases"
    assert "{excerpt}" in rule.message or "{" not in rule.message
    for category in Category:
        assert rule.prose.question_for(category).strip()


def test_phrase_labels_belong_to_one_rule_each() -> None:
    markers = [label for rule in DIMENSION_RULES for label in rule.markers]
    phrases = [label for rule in LINE_CHECK_RULES for label in rule.phrases]
    assert len(markers) == len(set(markers))
    assert len(phrases) == len(set(phrases))


# --- the examples, through the real engine --------------------------------------------------


@pytest.mark.parametrize("rule", DIMENSION_RULES, ids=_ids(DIMENSION_RULES))
def test_a_dimensions_good_example_is_present_and_its_bad_one_a_gap(rule: DimensionRule) -> None:
    good = review_document(rule.examples.good, "good.md", PRODUCT)
    assert good.dimension(rule.id).status is Status.PRESENT
    assert not [f for f in good.findings if f.check == rule.id]
    bad = review_document(rule.examples.bad, "bad.md", PRODUCT)
    assert bad.dimension(rule.id).status is not Status.PRESENT
    gaps = [f for f in bad.findings if f.check == rule.id]
    assert len(gaps) == 1 and gaps[0].kind is FindingKind.GAP


@pytest.mark.parametrize("rule", LINE_CHECK_RULES, ids=_ids(LINE_CHECK_RULES))
def test_a_checks_good_example_is_quiet_and_its_bad_one_raises_it(rule: LineCheckRule) -> None:
    good = review_document(rule.examples.good, "good.md", PRODUCT)
    assert not [f for f in good.findings if f.check == rule.id]
    bad = review_document(rule.examples.bad, "bad.md", PRODUCT)
    raised = [f for f in bad.findings if f.check == rule.id]
    assert len(raised) == 1 and raised[0].kind is FindingKind.LINE
    assert raised[0].question == rule.prose.question and raised[0].why == rule.prose.why
    assert raised[0].severity is rule.severity


# --- everything derived from the registry ----------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    assert schema_text() == config_schema_text(), "run python scripts/regenerate.py"


def test_the_schema_lists_every_rule_id() -> None:
    schema = config_schema()
    properties = schema["properties"]
    assert list(properties["checks"]["properties"]) == list(LINE_CHECKS)
    assert list(properties["aliases"]["properties"]) == list(DIMENSIONS)
    assert list(properties["questions"]["properties"]) == list(DIMENSIONS)
    assert list(schema["$defs"]["dimensionTable"]["properties"]) == list(DIMENSIONS)
    assert list(properties["dimensions"]["properties"]) == [c.value for c in Category]


def test_the_readme_tables_are_the_generated_ones() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table(readme, "rubric") == rubric_table(), "run python scripts/regenerate.py"
    assert readme_table(readme, "checks") == checks_table(), "run python scripts/regenerate.py"
    assert with_tables(readme) == readme
    for rule in ALL_RULES:
        assert f"| `{rule.id}` |" in readme


def test_every_rule_is_a_sarif_rule() -> None:
    assert list(RULES) == [*DIMENSIONS, *LINE_CHECKS]
    for rule in ALL_RULES:
        assert RULES[rule.id].title == rule.prose.description
        assert RULES[rule.id].help == rule.prose.help
    report = review_document("# Nothing yet\n\nTBD\n", "doc.md")
    sarif = json.loads(render(OutputFormat.SARIF, [report]))
    driver_rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert [entry["id"] for entry in driver_rules] == [*DIMENSIONS, *LINE_CHECKS]


def test_every_rule_is_explained_in_its_own_words() -> None:
    assert known_ids() == (*DIMENSIONS, *LINE_CHECKS)
    for rule in ALL_RULES:
        text = explain(rule.id)
        assert text is not None
        for part in (rule.prose.question, rule.prose.why, rule.prose.looks_for):
            assert part in text
        assert rule.prose.example in text
    for dimension in DIMENSION_RULES:
        assert canonical_id(dimension.title) == dimension.id


def test_every_rule_has_a_scorecard_label_and_a_column() -> None:
    assert dict(DIMENSION_LABELS) == {rule.id: rule.prose.label for rule in DIMENSION_RULES}
    assert dict(CHECK_LABELS) == {rule.id: rule.prose.label for rule in LINE_CHECK_RULES}
    report = review_document("# A design\n\nSome text.\n", "docs/design/a.md")
    summary = render_check([report], settings=DEFAULT_SETTINGS).summary
    header = next(line for line in summary.splitlines() if line.startswith("| Document |"))
    for rule in DIMENSION_RULES:
        assert f"| {rule.prose.label} |" in header, rule.id


@pytest.mark.parametrize("rule", DIMENSION_RULES, ids=lambda r: r.id)
def test_a_question_in_a_templates_terms_names_a_template_the_engine_detects(
    rule: DimensionRule,
) -> None:
    assert set(rule.prose.kind_questions) <= set(KIND_HEADINGS)
    assert (
        rule.requirement(Category.PLATFORM) is not Requirement.OFF or not rule.prose.kind_questions
    )
