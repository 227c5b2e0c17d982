"""The engine's small vocabularies (statuses, severities, categories, requirements).

They sit below everything else, so that the rule modules and the report can both
use them; `checks.report` re-exports them, which is where callers import them from.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PRESENT = "present"
    WEAK = "weak"
    MISSING = "missing"


class Severity(StrEnum):
    SUGGESTION = "suggestion"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.SUGGESTION: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Category(StrEnum):
    PRODUCT = "product"
    PLATFORM = "platform"
    COMPLIANCE = "compliance"
    RESEARCH = "research"
    STABILIZATION = "stabilization"


class Requirement(StrEnum):
    """How much a dimension matters for a category (configurable per team)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"


class FindingKind(StrEnum):
    GAP = "gap"  # a required dimension is weak or missing
    LINE = "line"  # one of LINE_CHECKS points at specific lines
