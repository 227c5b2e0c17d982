"""review_document: text in, DocumentReport out. Pure and deterministic."""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace

from checks.boundedyaml import Unreadable
from checks.category import detect_category, detect_kind
from checks.dimensions import assess
from checks.document import Document, FrontMatter, parse
from checks.evidence import BlockFinder, ranked_evidence, with_evidence
from checks.findings import find
from checks.learned import LineModel, document_view, rule_lines, shipped_model
from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import (
    DIMENSIONS,
    LINE_CHECKS,
    Category,
    DimensionResult,
    DocumentReport,
    Evidence,
    Finding,
    FindingKind,
    Question,
    Requirement,
    Severity,
    Status,
)
from checks.rules import (
    DIMENSION_BY_ID,
    DIMENSION_RULES,
    LINE_CHECK_BY_ID,
    RULE_IDS,
    did_you_mean,
    priority_order,
)
from checks.rules.scanning import RawFinding

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
    prior_category = category  # before any model: what the learned decision reads
    model = options.model
    category_model = model.category_model if model is not None else options.category_model
    if category_model is not None and category_source == "text":
        category = category_model.category(doc, category)
    kind = detect_kind(doc, doc.front_matter)
    settings = _front_matter_settings(doc)
    assessed = assess(doc, category, options.aliases)
    view = document_view(doc, options.aliases) if model is not None or options.explain else None
    if model is not None and view is not None:
        assessed = model.judge(view, assessed, prior_category)

    dimensions = tuple(
        DimensionResult(
            key=rule.id,
            status=assessed[rule.id].status,
            line=_within_document(assessed[rule.id].line, doc.line_count),
            requirement=_requirement(rule.id, category, options),
            question=_dimension_question(rule.id, category, kind, options),
            why=rule.prose.why,
            note=assessed[rule.id].note,
        )
        for rule in DIMENSION_RULES
    )
    ranked: dict[str, tuple[Evidence, ...]] = {}
    if options.explain > 0 and view is not None:
        scorer = model if model is not None else shipped_model()
        ranked = {key: ranked_evidence(view, scorer, key, options.explain) for key in assessed}
    dimensions = with_evidence(dimensions, BlockFinder(doc), ranked)
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
        notes = ("skipped by front matter `product_review: skip`", *settings.notes)
        return replace(base, skipped=True, notes=notes)

    suppressed = _Suppression(doc, settings.disabled)
    findings = [
        f
        for f in _gap_findings(doc, dimensions, category, options)
        if not suppressed.silences_gap(f.check)
    ]
    raws = find(doc, options.aliases)
    line_model = model.lines if model is not None else options.line_model
    if line_model is not None:
        raws.extend(_learned_line_findings(line_model, doc, raws))
    candidates = _line_candidates(raws, options, doc.line_count)
    kept = (
        [(raw, severity) for raw, severity in candidates if not suppressed.silences(raw)]
        if suppressed.active
        else candidates
    )
    listed = heapq.nsmallest(
        max(options.max_findings, 0), kept, key=lambda item: (-item[1].rank, item[0].line)
    )
    columns = _Columns(doc.text)
    findings.extend(
        _line_finding(raw, severity, category, columns) for raw, severity in listed
    )
    findings = _deduplicate(findings)
    findings.sort(key=Finding.sort_key)
    omitted = len(kept) - len(listed)
    report_notes = [*settings.notes, *_unknown_directive_ids(doc)]
    if doc.parse_failed:
        report_notes.insert(
            0, "the Markdown parser stopped early; only the first part was reviewed"
        )
    if omitted:
        report_notes.append(
            f"{omitted} more line findings are not listed: a report lists at most "
            f"{options.max_findings}, the most severe first"
        )
    return replace(
        base,
        findings=tuple(findings),
        top_questions=_top_questions(findings, category, options.max_top_questions),
        notes=tuple(report_notes),
        omitted_findings=omitted,
    )


class _FrontMatterSettings:
    def __init__(self, skip: bool, disabled: frozenset[str], notes: tuple[str, ...] = ()) -> None:
        self.skip = skip
        self.disabled = disabled
        self.notes = notes  # what in the front matter was ignored, for the report


_SKIP_WORDS = frozenset({"skip", "off"})
_TRUE_WORDS = frozenset({"true", "yes", "on"})
_EXPECTED = "expected skip, or a mapping with skip and disable"


def _front_matter_settings(doc: Document) -> _FrontMatterSettings:
    """`product_review: skip` / `{skip: true, disable: [ids]}`. Only text and booleans
    are read; anything else is ignored with a note, never turned into text whole."""
    front = doc.front_matter
    notes = list(front.notes) if isinstance(front, FrontMatter) else []
    value = front.get("product_review", front.get("product-review"))
    skip = False
    disabled: frozenset[str] = frozenset()
    if isinstance(value, str):
        skip = value.strip().lower() in _SKIP_WORDS
        if not skip and value.strip():
            notes.append(
                f"front matter `product_review` ignored: found {_shown(value)}; {_EXPECTED}"
            )
    elif value is False:
        skip = True
    elif isinstance(value, dict):
        skip_value = value.get("skip")
        if isinstance(skip_value, str):
            skip = skip_value.strip().lower() in _TRUE_WORDS | _SKIP_WORDS
        elif isinstance(skip_value, bool):
            skip = skip_value
        elif skip_value is not None:
            notes.append(
                f"front matter `product_review.skip` ignored: found {_shown(skip_value)}; "
                "expected true or false"
            )
        disabled = _disabled_ids(value.get("disable"), notes)
    elif value is not None and value is not True and not isinstance(value, Unreadable):
        notes.append(f"front matter `product_review` ignored: found {_shown(value)}; {_EXPECTED}")
    return _FrontMatterSettings(skip, disabled, tuple(notes))


def _disabled_ids(value: object, notes: list[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):  # `disable: metrics, placeholder`, as in the comment directive
        ids = frozenset(part.lower() for part in value.replace(",", " ").split())
        notes.extend(_unknown_ids(ids, "front matter `product_review.disable`"))
        return ids
    if not isinstance(value, list):
        notes.append(
            f"front matter `product_review.disable` ignored: found {_shown(value)}; "
            "expected a list of check ids"
        )
        return frozenset()
    ids = frozenset(item.strip().lower() for item in value if isinstance(item, str))
    others = sum(1 for item in value if not isinstance(item, str))
    if others:
        notes.append(
            f"front matter `product_review.disable`: {others} item(s) that are not "
            "check ids (text) ignored"
        )
    notes.extend(_unknown_ids(ids, "front matter `product_review.disable`"))
    return ids


# Bounded: a document full of mistyped ids gets a few notes, not thousands.
_MAX_UNKNOWN_ID_NOTES = 10


def _unknown_ids(ids: Iterable[str], where: str) -> list[str]:
    """A note for each id that names no rule, so a typo does not silently silence
    nothing; with the closest id when one is close."""
    return [
        f"unknown id {_shown(check)} in {where}{did_you_mean(check, RULE_IDS)}; "
        "it silences nothing"
        for check in sorted(set(ids) - RULE_IDS)[:_MAX_UNKNOWN_ID_NOTES]
    ]


def _unknown_directive_ids(doc: Document) -> list[str]:
    notes: list[str] = []
    for directive in doc.directives:
        if len(notes) >= _MAX_UNKNOWN_ID_NOTES:
            break
        if directive.action == "disable" and not directive.ids <= RULE_IDS:
            where = f"the suppression comment on line {directive.line}"
            notes.extend(_unknown_ids(directive.ids, where))
    return notes[:_MAX_UNKNOWN_ID_NOTES]


def _shown(value: object) -> str:
    """A short description of a front matter value: text is quoted and cut; anything
    else is named by its kind, so a large value is never turned into text."""
    if isinstance(value, str):
        text = value.strip()
        return repr(text if len(text) <= 40 else text[:37] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


class _Suppression:
    """`<!-- product-review off/on -->`, `<!-- product-review disable=ID -->` (next block).

    Built once per document with bisection over sorted, merged line ranges, so each
    directive and each finding costs a lookup, however many of either there are.
    """

    def __init__(self, doc: Document, disabled: frozenset[str]) -> None:
        self.everywhere = set(disabled)
        off_ranges: list[tuple[int, int]] = []
        every_check: list[tuple[int, int]] = []  # `disable` with no ids: the next block
        by_check: dict[str, list[tuple[int, int]]] = {}
        block_lines = [b.line for b in doc.blocks]  # blocks come sorted by line
        off_since: int | None = None
        for directive in doc.directives:
            if directive.action == "off" and off_since is None:
                off_since = directive.line
            elif directive.action == "on" and off_since is not None:
                off_ranges.append((off_since, directive.line))
                off_since = None
            elif directive.action == "disable":
                self.everywhere.update(i for i in directive.ids if i in DIMENSIONS)
                following = bisect_right(block_lines, directive.line)
                if following < len(doc.blocks):
                    block = doc.blocks[following]
                    span = (block.line, block.end_line)
                    if not directive.ids:
                        every_check.append(span)
                    for check in directive.ids:
                        by_check.setdefault(check, []).append(span)
        if off_since is not None:
            off_ranges.append((off_since, doc.line_count))
        self._off = _LineRanges(off_ranges)
        self._every_check = _LineRanges(every_check)
        self._by_check = {check: _LineRanges(spans) for check, spans in by_check.items()}

    def silences_gap(self, key: str) -> bool:
        return key in self.everywhere

    @property
    def active(self) -> bool:
        """Whether anything is silenced at all (most documents have no directive)."""
        return bool(self.everywhere or self._off or self._every_check or self._by_check)

    def silences(self, finding: Finding | RawFinding) -> bool:
        if finding.check in self.everywhere:
            return True
        if finding.line in self._off or finding.line in self._every_check:
            return True
        ranges = self._by_check.get(finding.check)
        return ranges is not None and finding.line in ranges


class _LineRanges:
    """A set of lines given as inclusive (start, end) ranges: merged once, then bisected."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(ranges):
            if self._ends and start <= self._ends[-1] + 1:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __contains__(self, line: int) -> bool:
        position = bisect_right(self._starts, line) - 1
        return position >= 0 and line <= self._ends[position]


def _within_document(line: int | None, line_count: int) -> int | None:
    """A reported line always lies in 1..line_count, whatever a check computed."""
    return None if line is None else min(max(line, 1), line_count)


def _requirement(key: str, category: Category, options: ReviewOptions) -> Requirement:
    override = options.dimensions.get(category, {}).get(key)
    return override.requirement if override else DIMENSION_BY_ID[key].requirements[category]


def _gap_severity(key: str, status: Status, category: Category, options: ReviewOptions) -> Severity:
    override = options.dimensions.get(category, {}).get(key)
    severity = override.severity if override else DIMENSION_BY_ID[key].severity
    return severity if status is Status.MISSING else _LOWER[severity]


def _dimension_question(
    key: str, category: Category, kind: str, options: ReviewOptions
) -> str:
    if key in options.questions:
        return options.questions[key]
    return DIMENSION_BY_ID[key].prose.question_for(category, kind)


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
        title = DIMENSION_BY_ID[result.key].title
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


def _line_candidates(
    raws: Iterable[RawFinding], options: ReviewOptions, line_count: int
) -> list[tuple[RawFinding, Severity]]:
    """Enabled line findings with their severity, lines clamped into the document,
    each (check, line, excerpt) once."""
    seen: set[tuple[str, int, str]] = set()
    candidates: list[tuple[RawFinding, Severity]] = []
    for raw in raws:
        policy = options.checks.get(raw.check)
        if policy is not None and not policy.enabled:
            continue
        severity = (
            policy.severity if policy and policy.severity else None
        ) or LINE_CHECK_BY_ID[raw.check].severity
        line = min(max(raw.line, 1), line_count)
        end_line = min(max(raw.end_line, line), line_count)
        excerpt = raw.excerpt if len(raw.excerpt) <= 80 else raw.excerpt[:77] + "..."
        key = (raw.check, line, excerpt)
        if key in seen:
            continue
        seen.add(key)
        if line != raw.line or end_line != raw.end_line or excerpt is not raw.excerpt:
            raw = RawFinding(raw.check, line, end_line, excerpt, raw.score)
        candidates.append((raw, severity))
    return candidates


class _Columns:
    """Where an excerpt starts on its line (1-based, in characters), when the words the
    check saw stand in the source as written; Markdown between them (`**must**`, a
    link) hides the column and the finding has none."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: list[str] | None = None  # split on first use: most findings are few

    def find(self, line: int, excerpt: str) -> int | None:
        if not excerpt:
            return None
        if self._lines is None:
            self._lines = self._text.split("\n")
        if not 1 <= line <= len(self._lines):
            return None
        # Case-insensitive character by character, so the index is the source's own
        # (casefolding the line could change its length: "ß" becomes "ss").
        found = re.search(re.escape(excerpt), self._lines[line - 1], re.IGNORECASE)
        return found.start() + 1 if found else None


def _line_finding(
    raw: RawFinding, severity: Severity, category: Category, columns: _Columns
) -> Finding:
    rule = LINE_CHECK_BY_ID[raw.check]
    return Finding(
        check=raw.check,
        kind=FindingKind.LINE,
        severity=severity,
        line=raw.line,
        end_line=raw.end_line,
        message=rule.message.format(excerpt=raw.excerpt),
        question=rule.prose.question_for(category),
        why=rule.prose.why,
        excerpt=raw.excerpt,
        column=columns.find(raw.line, raw.excerpt),
        score=raw.score,
    )


def _learned_line_findings(
    lines: LineModel, doc: Document, raws: Sequence[RawFinding]
) -> list[RawFinding]:
    """The line model's findings on top of the rules' (which stay, as do the
    placeholders they find); suppression comments apply to both afterwards."""
    return [
        RawFinding(kind, unit.line, unit.end_line, unit.excerpt, score)
        for kind, unit, score in lines.findings(doc, rule_lines(raws))
    ]


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.check, finding.line, finding.excerpt)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


# Which question comes first among equals: the category's priority of the dimensions,
# then the line checks in registry order.
_QUESTION_ORDER: dict[Category, dict[str, int]] = {
    category: {
        check: order
        for order, check in enumerate((*priority_order(category), *LINE_CHECKS))
    }
    for category in Category
}


def question_rank(finding: Finding, category: Category) -> tuple[int, int, int, int]:
    """How important a finding's question is in a document of `category` (smaller is
    more): severity, then a missing dimension before a weak one, then the category's
    priority of the dimensions and the line checks, then the line."""
    missing_first = 0 if finding.excerpt == Status.MISSING.value else 1
    order = _QUESTION_ORDER[category][finding.check]
    return (-finding.severity.rank, missing_first, order, finding.line)


def _top_questions(findings: list[Finding], category: Category, limit: int) -> tuple[Question, ...]:
    chosen: list[Question] = []
    asked: set[str] = set()
    for finding in sorted(findings, key=lambda f: question_rank(f, category)):
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
