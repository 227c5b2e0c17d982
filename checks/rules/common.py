"""Words several rules read (a rule's own words live in its module)."""

from __future__ import annotations

# A sentence with one of these is negated: "real-time chat is not a goal".
NEGATION_WORDS: frozenset[str] = frozenset(
    [
        "not",
        "no",
        "non-goal",
        "non-goals",
        "nongoal",
        "don't",
        "doesn't",
        "won't",
        "isn't",
        "aren't",
        "never",
        "without",
        "neither",
        "nor",
        "unnecessary",
        "optional",
    ]
)
# A sentence with one of these names an outcome or a problem someone has.
PROBLEM_OUTCOME_WORDS: frozenset[str] = frozenset(
    [
        "incident",
        "incidents",
        "outage",
        "outages",
        "cost",
        "costs",
        "latency",
        "bug",
        "bugs",
        "error",
        "errors",
        "slow",
        "crash",
        "crashes",
        "fail",
        "fails",
        "failure",
        "failures",
        "users",
        "customers",
        "revenue",
        "churn",
        "conversion",
        "security",
        "vulnerability",
        "vulnerabilities",
        "reduce",
        "reduces",
        "increase",
        "increases",
    ]
)
