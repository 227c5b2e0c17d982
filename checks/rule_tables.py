"""The README's rubric table and checks table, generated from the rule registry.

`python scripts/regenerate.py` rewrites the tables between their markers in
README.md; a test fails while the README and the registry disagree.
"""

from __future__ import annotations

import re

from checks.markdown_text import escape_cell
from checks.rules import DIMENSION_RULES, LINE_CHECK_RULES

_BEGIN = "<!-- BEGIN {name} table: generated from checks/rules by scripts/regenerate.py -->"
_END = "<!-- END {name} table -->"


def rubric_table() -> str:
    rows = [
        "| key | the question (product wording) | `present` when the doc… |",
        "|---|---|---|",
    ]
    rows += [
        f"| `{rule.id}` | {escape_cell(rule.prose.question)} | {escape_cell(rule.present_when)} |"
        for rule in DIMENSION_RULES
    ]
    return "\n".join(rows)


def checks_table() -> str:
    rows = ["| id | severity | catches | stays quiet on |", "|---|---|---|---|"]
    rows += [
        f"| `{rule.id}` | {rule.severity.value} | {escape_cell(rule.catches)} "
        f"| {escape_cell(rule.quiet_on)} |"
        for rule in LINE_CHECK_RULES
    ]
    return "\n".join(rows)


_TABLES = {"rubric": rubric_table, "checks": checks_table}


def _region(name: str) -> re.Pattern[str]:
    begin, end = _BEGIN.format(name=name), _END.format(name=name)
    return re.compile(re.escape(begin) + r"\n(.*?)\n" + re.escape(end), re.DOTALL)


def readme_table(readme: str, name: str) -> str | None:
    """The table `name` as the README has it between its markers (None: no markers)."""
    match = _region(name).search(readme)
    return match.group(1) if match else None


def with_tables(readme: str) -> str:
    """The README with every generated table replaced by the registry's version.
    Raises ValueError when the README lost a table's markers."""
    for name, table in _TABLES.items():
        match = _region(name).search(readme)
        if match is None:
            raise ValueError(f"README.md has no markers for the {name} table")
        readme = readme[: match.start(1)] + table() + readme[match.end(1) :]
    return readme
