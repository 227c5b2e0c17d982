"""The review report: frozen dataclasses, deterministic order, JSON-ready.

Everything downstream (CLI formats, the GitHub Check Run, the PR review)
renders these objects; nothing downstream re-judges a document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from checks.enums import Category, FindingKind, Requirement, Severity, Status
from checks.rules import DIMENSION_RULES, LINE_CHECK_RULES

__all__ = [
    "DIMENSIONS",
    "LINE_CHECKS",
    "Category",
    "DimensionResult",
    "DocumentReport",
    "Evidence",
    "Finding",
    "FindingKind",
    "Question",
    "Requirement",
    "Severity",
    "Status",
    "at_least",
]

# The dimension keys and the line check ids, in report order: the registry's (checks.rules).
DIMENSIONS: tuple[str, ...] = tuple(rule.id for rule in DIMENSION_RULES)
LINE_CHECKS: tuple[str, ...] = tuple(rule.id for rule in LINE_CHECK_RULES)


@dataclass(frozen=True)
class Evidence:
    """A prose block ranked as evidence of a dimension by the learned block scorer."""

    line: int
    end_line: int
    score: float  # 0..1: the scorer's probability that the block answers the dimension
    text: str  # the block's words, cut short


@dataclass(frozen=True)
class DimensionResult:
    key: str
    status: Status
    line: int | None  # line of the strongest evidence (or of the weak section)
    requirement: Requirement
    question: str  # worded for the document's category
    why: str  # one short line: why the question matters
    note: str = ""  # what the engine saw, e.g. "Alternatives section only says 'None'"
    # The words on `line`, the line the status rests on (empty without one).
    deciding_text: str = ""
    # The best-scored blocks, best first; only when the review was asked to explain.
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Finding:
    check: str  # a LINE_CHECKS id, or a DIMENSIONS key for a gap
    kind: FindingKind
    severity: Severity
    line: int
    end_line: int
    message: str
    question: str
    why: str
    excerpt: str = ""  # the words that raised it (empty for gaps)
    column: int | None = None  # 1-based, where the excerpt starts on `line`, when known
    score: float | None = None  # a learned line finding's probability; None from a rule

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.line, self.end_line, self.check, self.excerpt)


@dataclass(frozen=True)
class Question:
    """One of the few questions that matter most for a document."""

    source: str  # dimension key or check id
    text: str
    why: str
    line: int | None
    severity: Severity


@dataclass(frozen=True)
class DocumentReport:
    path: str
    category: Category
    category_source: str  # "front-matter" | "config" | "text" | "default"
    kind: str  # template family: rfc, kep, go-proposal, swift-evolution, adr, prd, design
    title: str
    line_count: int
    dimensions: tuple[DimensionResult, ...]  # one per dimension, in DIMENSIONS order
    findings: tuple[Finding, ...]  # sorted by line
    top_questions: tuple[Question, ...] = ()
    skipped: bool = False  # front matter `product_review: skip`
    notes: tuple[str, ...] = field(default_factory=tuple)
    omitted_findings: int = 0  # line findings past `ReviewOptions.max_findings`, not listed

    def dimension(self, key: str) -> DimensionResult:
        for result in self.dimensions:
            if result.key == key:
                return result
        raise KeyError(key)

    @property
    def max_severity(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def reaches(self, level: Severity) -> bool:
        top = self.max_severity
        return top is not None and top.rank >= level.rank

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract the README documents (extra keys allowed, none renamed)."""
        return {
            "path": self.path,
            "category": self.category.value,
            "category_source": self.category_source,
            "kind": self.kind,
            "title": self.title,
            "skipped": self.skipped,
            # What the review left out, and why (e.g. front matter it ignored).
            "notes": list(self.notes),
            "omitted_findings": self.omitted_findings,
            "dimensions": {
                d.key: {
                    "status": d.status.value,
                    "line": d.line,
                    "requirement": d.requirement.value,
                    "question": d.question,
                    "note": d.note,
                    "deciding_text": d.deciding_text,
                    "evidence": [
                        {
                            "line": e.line,
                            "end_line": e.end_line,
                            "score": e.score,
                            "text": e.text,
                        }
                        for e in d.evidence
                    ],
                }
                for d in self.dimensions
            },
            "findings": [
                {
                    "check": f.check,
                    "kind": f.kind.value,
                    "severity": f.severity.value,
                    "line": f.line,
                    "end_line": f.end_line,
                    "column": f.column,
                    "message": f.message,
                    "question": f.question,
                    "why": f.why,
                    **({} if f.score is None else {"score": f.score}),
                }
                for f in self.findings
            ],
            "top_questions": [
                {
                    "source": q.source,
                    "question": q.text,
                    "why": q.why,
                    "line": q.line,
                    "severity": q.severity.value,
                }
                for q in self.top_questions
            ],
        }


def at_least(report: DocumentReport, severity: Severity) -> DocumentReport:
    """The report without the findings (and top questions) below `severity`: what
    `--min-severity` and the Action's `min-severity` show and count."""
    if severity is Severity.SUGGESTION:
        return report
    kept = tuple(f for f in report.findings if f.severity.rank >= severity.rank)
    top = tuple(q for q in report.top_questions if q.severity.rank >= severity.rank)
    return replace(report, findings=kept, top_questions=top)
