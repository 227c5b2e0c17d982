"""The registry: every rule of the engine, one line each, in the order reports list them.

A rule lives in its own module here (`checks/rules/why_now.py`, ...) and is
listed once below; everything else (the report's key lists, the config schema,
the SARIF rules, the explanations, the scorecard, the README tables) is derived
from these two tuples.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from checks.enums import Category
from checks.rules import (
    absolute_requirement,
    alternatives,
    evidence,
    incremental,
    metrics,
    non_goals,
    placeholder,
    problem,
    risks,
    solution_first,
    technology_first,
    unquantified_goal,
    unsupported_demand,
    users,
    why_now,
)
from checks.rules.types import DimensionRule, LineCheckRule, Rule

DIMENSION_RULES: tuple[DimensionRule, ...] = (
    problem.RULE,
    users.RULE,
    why_now.RULE,
    metrics.RULE,
    evidence.RULE,
    alternatives.RULE,
    non_goals.RULE,
    incremental.RULE,
    risks.RULE,
)

LINE_CHECK_RULES: tuple[LineCheckRule, ...] = (
    solution_first.RULE,
    absolute_requirement.RULE,
    unquantified_goal.RULE,
    unsupported_demand.RULE,
    technology_first.RULE,
    placeholder.RULE,
)

# Derived once, for lookups in the engine's loops.
ALL_RULES: tuple[Rule, ...] = (*DIMENSION_RULES, *LINE_CHECK_RULES)
DIMENSION_BY_ID: Mapping[str, DimensionRule] = {rule.id: rule for rule in DIMENSION_RULES}
LINE_CHECK_BY_ID: Mapping[str, LineCheckRule] = {rule.id: rule for rule in LINE_CHECK_RULES}
RULE_IDS: frozenset[str] = frozenset(rule.id for rule in ALL_RULES)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `choices` to a mistyped `word`, or ""
    when none is close: the hint the config file and the suppressions both give."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def priority_order(category: Category) -> tuple[str, ...]:
    """The dimensions of `category`, most important first (ties in registry order)."""
    ranked = sorted(DIMENSION_RULES, key=lambda rule: rule.priority[category])
    return tuple(rule.id for rule in ranked)
