"""The checks engine: pure judgement of design documents (no I/O, no network, no clock)."""

from checks.engine import review_document
from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import (
    DIMENSIONS,
    LINE_CHECKS,
    Category,
    DimensionResult,
    DocumentReport,
    Finding,
    FindingKind,
    Question,
    Requirement,
    Severity,
    Status,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "DIMENSIONS",
    "LINE_CHECKS",
    "Category",
    "DimensionResult",
    "DocumentReport",
    "Finding",
    "FindingKind",
    "Question",
    "Requirement",
    "ReviewOptions",
    "Severity",
    "Status",
    "review_document",
]
