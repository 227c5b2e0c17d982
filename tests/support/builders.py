"""Review reports built by hand, for every test of what is made from a report (the
CLI formats, the Check Run, the review, fingerprints) and the stub engine of the App's
tests, so that none of them depends on how the engine judges documents."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from checks.config import Settings
from checks.options import ReviewOptions
from checks.report import (
    DIMENSIONS,
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

DOC = "docs/rfcs/0042-sso.md"


def dimension(
    key: str,
    status: Status = Status.PRESENT,
    line: int | None = 3,
    requirement: Requirement = Requirement.REQUIRED,
) -> DimensionResult:
    return DimensionResult(
        key=key,
        status=status,
        line=line if status is not Status.MISSING else None,
        requirement=requirement,
        question=f"What about {key}?",
        why=f"Because {key} matters.",
        note=f"{key} looked {status.value}",
    )


def line_finding(
    check: str = "absolute-requirement",
    line: int = 12,
    *,
    end_line: int | None = None,
    severity: Severity = Severity.WARNING,
    excerpt: str = "all providers",
    question: str = "Which providers are enough for the first release?",
    message: str | None = None,
    why: str = "A smaller target may give most of the value at a fraction of the cost.",
) -> Finding:
    return Finding(
        check=check,
        kind=FindingKind.LINE,
        severity=severity,
        line=line,
        end_line=line if end_line is None else end_line,
        message=message or f'Absolute wording "{excerpt}" used as a requirement',
        question=question,
        why=why,
        excerpt=excerpt,
    )


def gap_finding(
    key: str,
    line: int = 1,
    severity: Severity = Severity.WARNING,
    *,
    message: str | None = None,
    question: str | None = None,
    why: str | None = None,
) -> Finding:
    return Finding(
        check=key,
        kind=FindingKind.GAP,
        severity=severity,
        line=line,
        end_line=line,
        message=message or f"{key} is not covered",
        question=question or f"What about {key}?",
        why=why or f"Because {key} matters.",
    )


def report(
    path: str = DOC,
    findings: tuple[Finding, ...] = (),
    *,
    statuses: Mapping[str, Status] | None = None,
    requirements: Mapping[str, Requirement] | None = None,
    skipped: bool = False,
    top_questions: tuple[Question, ...] | None = None,
    title: str = "Single sign-on for enterprise customers",
    line_count: int = 200,
    category_source: str = "front-matter",
) -> DocumentReport:
    """A report whose gap findings agree with its dimension statuses."""
    statuses = dict(statuses or {})
    for finding in findings:
        if finding.kind is FindingKind.GAP:
            statuses.setdefault(finding.check, Status.MISSING)
    gap_lines = {f.check: f.line for f in findings if f.kind is FindingKind.GAP}
    dimensions = tuple(
        dimension(
            key,
            statuses.get(key, Status.PRESENT),
            line=gap_lines.get(key, 3),
            requirement=(requirements or {}).get(key, Requirement.REQUIRED),
        )
        for key in DIMENSIONS
    )
    if top_questions is None:
        top_questions = tuple(
            Question(f.check, f.question, f.why, f.line, f.severity) for f in findings[:3]
        )
    return DocumentReport(
        path=path,
        category=Category.PRODUCT,
        category_source=category_source,
        kind="rfc",
        title=title,
        line_count=line_count,
        dimensions=dimensions,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        top_questions=top_questions,
        skipped=skipped,
    )


def new_file_patch(line_count: int, line_text: str = "line {n}") -> str:
    """The patch of a new file of `line_count` generated lines, line `n` reading
    `line_text` with `{n}` filled in (`fakegithub.added_file_patch` takes the text)."""
    added = (line_text.format(n=n) for n in range(1, line_count + 1))
    return f"@@ -0,0 +1,{line_count} @@\n" + "\n".join("+" + line for line in added)


def shifted(document: DocumentReport, by: int) -> DocumentReport:
    """The same document after a push that inserted `by` lines above everything."""
    findings = tuple(
        dataclasses.replace(f, line=f.line + by, end_line=f.end_line + by)
        for f in document.findings
    )
    return dataclasses.replace(document, findings=findings)


SETTINGS = Settings()
SAMPLE = report(
    findings=(
        line_finding(line=12),
        line_finding(
            "unquantified-goal", 30, excerpt="improve onboarding", question="By how much?"
        ),
        gap_finding("evidence", severity=Severity.ERROR),
    ),
    statuses={"evidence": Status.MISSING},
)


def stub_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    """A predictable engine for the app tests: `TBD` lines are placeholders,
    "real-time" is an absolute requirement, and a doc without a `## Metrics`
    heading misses the metrics dimension. (The engine has its own tests.)"""
    findings: list[Finding] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if "TBD" in line:
            findings.append(
                line_finding(
                    "placeholder",
                    number,
                    excerpt=line.strip(),
                    message="A placeholder is left in the document.",
                    question=f"What should replace the placeholder in “{line.strip()}”?",
                    why="Placeholders hide decisions nobody has made yet.",
                )
            )
        if "real-time" in line:
            findings.append(
                line_finding(
                    line=number,
                    severity=Severity.SUGGESTION,
                    excerpt="real-time",
                    message="“real-time” is used as a requirement.",
                    question="What latency would be good enough?",
                    why="A looser target can give most of the value for less.",
                )
            )
    if "## Metrics" not in text:
        findings.append(
            gap_finding(
                "metrics",
                message="No measure of success.",
                question="How will we know this worked?",
                why="Without a target nobody can tell success from activity.",
            )
        )
    return report(
        path,
        tuple(findings),
        top_questions=(),
        title=lines[0].lstrip("# "),
        line_count=len(lines),
        category_source="default",
    )


def contrary_model_text() -> str:
    """The shipped model file, except that every dimension's decision says `weak`
    whatever the document: a team's model that judges unlike both the shipped layer
    and the rules, so a test can tell which of the three judged."""
    import json
    from pathlib import Path

    from checks.learned import DECISION_FEATURES

    shipped = Path(__file__).resolve().parents[2] / "checks" / "model.json"
    data = json.loads(shipped.read_text(encoding="utf-8"))
    width = len(DECISION_FEATURES)
    for entry in data["dimensions"].values():
        entry["decision"] = [[0.0] * width, [0.0] * (width - 1) + [10.0], [0.0] * width]
    return json.dumps(data)
