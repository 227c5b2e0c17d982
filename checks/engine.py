"""review_document: text in, DocumentReport out. Pure and deterministic."""

from __future__ import annotations

from dataclasses import replace

from checks import tables
from checks.category import detect_category, detect_kind
from checks.dimensions import assess
from checks.document import Document, parse
from checks.findings import RawFinding, find
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

_LOWER = {
    Severity.ERROR: Severity.WARNING,
    Severity.WARNING: Severity.SUGGESTION,
    Severity.SUGGESTION: Severity.SUGGESTION,
}


def review_document(
    text: str, path: str = "", options: ReviewOptions = DEFAULT_OPTIONS
) -> DocumentReport:
    doc = parse(text, path)
    category, category_source = detect_category(doc, options.category)
    kind = detect_kind(doc, doc.front_matter)
    settings = _front_matter_settings(doc)
    assessed = assess(doc, category, options.aliases)

    dimensions = tuple(
        DimensionResult(
            key=key,
            status=assessed[key].status,
            line=assessed[key].line,
            requirement=_requirement(key, category, options),
            question=_dimension_question(key, category, options),
            why=tables.WHY[key],
            note=assessed[key].note,
        )
        for key in DIMENSIONS
    )
    base = DocumentReport(
        path=path,
        category=category,
        category_source=category_source,
        kind=kind,
        title=doc.title,
        line_count=doc.line_count,
        dimensions=dimensions,
        findings=(),
    )
    if settings.skip:
        notes = ("skipped by front matter `product_review: skip`",)
        return replace(base, skipped=True, notes=notes)

    suppressed = _Suppression(doc, settings.disabled)
    findings = [
        f
        for f in _gap_findings(doc, dimensions, category, options)
        if not suppressed.silences_gap(f.check)
    ]
    for raw in find(doc, options.aliases):
        finding = _line_finding(raw, category, options, doc.line_count)
        if finding is not None and not suppressed.silences(finding):
            findings.append(finding)
    findings = _deduplicate(findings)
    findings.sort(key=Finding.sort_key)
    parse_note = "the Markdown parser stopped early; only the first part was reviewed"
    return replace(
        base,
        findings=tuple(findings),
        top_questions=_top_questions(findings, category, options.max_top_questions),
        notes=(parse_note,) if doc.parse_failed else (),
    )


class _FrontMatterSettings:
    def __init__(self, skip: bool, disabled: frozenset[str]) -> None:
        self.skip = skip
        self.disabled = disabled


def _front_matter_settings(doc: Document) -> _FrontMatterSettings:
    value = doc.front_matter.get("product_review", doc.front_matter.get("product-review"))
    if isinstance(value, str):
        return _FrontMatterSettings(value.strip().lower() in {"skip", "off"}, frozenset())
    if value is False:
        return _FrontMatterSettings(True, frozenset())
    if isinstance(value, dict):
        skip = bool(value.get("skip")) or str(value.get("skip", "")).lower() == "true"
        disabled = value.get("disable", ())
        ids = (
            frozenset(str(x).strip().lower() for x in disabled)
            if isinstance(disabled, list)
            else frozenset()
        )
        return _FrontMatterSettings(skip, ids)
    return _FrontMatterSettings(False, frozenset())


class _Suppression:
    """`<!-- product-review off/on -->`, `<!-- product-review disable=ID -->` (next block)."""

    def __init__(self, doc: Document, disabled: frozenset[str]) -> None:
        self.everywhere = set(disabled)
        self.off_ranges: list[tuple[int, int]] = []
        self.block_ranges: list[tuple[int, int, frozenset[str]]] = []
        off_since: int | None = None
        for directive in doc.directives:
            if directive.action == "off" and off_since is None:
                off_since = directive.line
            elif directive.action == "on" and off_since is not None:
                self.off_ranges.append((off_since, directive.line))
                off_since = None
            elif directive.action == "disable":
                self.everywhere.update(i for i in directive.ids if i in DIMENSIONS)
                following = next((b for b in doc.blocks if b.line > directive.line), None)
                if following is not None:
                    self.block_ranges.append((following.line, following.end_line, directive.ids))
        if off_since is not None:
            self.off_ranges.append((off_since, doc.line_count))

    def silences_gap(self, key: str) -> bool:
        return key in self.everywhere

    def silences(self, finding: Finding) -> bool:
        if finding.check in self.everywhere:
            return True
        if any(start <= finding.line <= end for start, end in self.off_ranges):
            return True
        return any(
            start <= finding.line <= end and (not ids or finding.check in ids)
            for start, end, ids in self.block_ranges
        )


def _requirement(key: str, category: Category, options: ReviewOptions) -> Requirement:
    override = options.dimensions.get(category, {}).get(key)
    return override.requirement if override else tables.REQUIREMENTS[category][key]


def _gap_severity(key: str, status: Status, category: Category, options: ReviewOptions) -> Severity:
    override = options.dimensions.get(category, {}).get(key)
    severity = override.severity if override else tables.GAP_SEVERITY[key]
    return severity if status is Status.MISSING else _LOWER[severity]


def _dimension_question(key: str, category: Category, options: ReviewOptions) -> str:
    if key in options.questions:
        return options.questions[key]
    return tables.CATEGORY_QUESTIONS.get(category, {}).get(key, tables.QUESTIONS[key])


def _gap_findings(
    doc: Document,
    dimensions: tuple[DimensionResult, ...],
    category: Category,
    options: ReviewOptions,
) -> list[Finding]:
    anchor = next((b.line for b in doc.blocks), 1)
    gaps: list[Finding] = []
    for result in dimensions:
        if result.status is Status.PRESENT or result.requirement is not Requirement.REQUIRED:
            continue
        title = tables.DIMENSION_TITLES[result.key]
        if result.status is Status.MISSING:
            message = f"{title}: not found in the document."
        else:
            message = f"{title}: weak ({result.note})." if result.note else f"{title}: weak."
        line = min(max(result.line or anchor, 1), doc.line_count)
        gaps.append(
            Finding(
                check=result.key,
                kind=FindingKind.GAP,
                severity=_gap_severity(result.key, result.status, category, options),
                line=line,
                end_line=line,
                message=message,
                question=result.question,
                why=result.why,
                excerpt=result.status.value,
            )
        )
    return gaps


def _line_finding(
    raw: RawFinding, category: Category, options: ReviewOptions, line_count: int
) -> Finding | None:
    policy = options.checks.get(raw.check)
    if policy is not None and not policy.enabled:
        return None
    severity = (policy.severity if policy and policy.severity else None) or tables.CHECK_SEVERITY[
        raw.check
    ]
    question = tables.CATEGORY_CHECK_QUESTIONS.get(category, {}).get(
        raw.check, tables.CHECK_QUESTIONS[raw.check]
    )
    excerpt = raw.excerpt if len(raw.excerpt) <= 80 else raw.excerpt[:77] + "..."
    line = min(max(raw.line, 1), line_count)
    return Finding(
        check=raw.check,
        kind=FindingKind.LINE,
        severity=severity,
        line=line,
        end_line=min(max(raw.end_line, line), line_count),
        message=tables.CHECK_MESSAGES[raw.check].format(excerpt=excerpt),
        question=question,
        why=tables.CHECK_WHY[raw.check],
        excerpt=excerpt,
    )


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.check, finding.line, finding.excerpt)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _top_questions(findings: list[Finding], category: Category, limit: int) -> tuple[Question, ...]:
    priority = tables.DIMENSION_PRIORITY[category]

    def rank(finding: Finding) -> tuple[int, int, int, int]:
        order = (
            priority.index(finding.check)
            if finding.kind is FindingKind.GAP
            else len(priority) + LINE_CHECKS.index(finding.check)
        )
        missing_first = 0 if finding.excerpt == Status.MISSING.value else 1
        return (-finding.severity.rank, missing_first, order, finding.line)

    chosen: list[Question] = []
    asked: set[str] = set()
    for finding in sorted(findings, key=rank):
        if finding.check in asked:
            continue
        asked.add(finding.check)
        chosen.append(
            Question(
                source=finding.check,
                text=finding.question,
                why=finding.why,
                line=finding.line,
                severity=finding.severity,
            )
        )
        if len(chosen) >= limit:
            break
    return tuple(chosen)
