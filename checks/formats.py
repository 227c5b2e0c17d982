"""Render review reports for the command line: text, pretty, json, sarif, github.

Pure functions: reports (and per-file read errors) in, one string out. The CLI
decides where the string goes; nothing here touches files, the clock or the
terminal. The JSON shape is a documented contract and must not change meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, ClassVar
from urllib.parse import quote

from checks.fingerprints import SARIF_FINGERPRINT_CHARS, finding_fingerprints
from checks.markdown_text import line_span, plural
from checks.report import (
    DIMENSIONS,
    DocumentReport,
    Finding,
    Requirement,
    Severity,
    Status,
)
from checks.rules import ALL_RULES

TOOL_NAME = "product-review"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_MAX_RESULTS = 25_000  # GitHub code scanning's limit of results per run


class OutputFormat(StrEnum):
    TEXT = "text"
    PRETTY = "pretty"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"


@dataclass(frozen=True)
class FileError:
    """A file the CLI could not review (missing, unreadable, binary, not UTF-8), or
    one it left out because it went over a limit (`over_limit`; the message says which)."""

    path: str
    message: str
    over_limit: bool = False

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class RuleInfo:
    """What code scanning shows for a rule: a title and a help paragraph."""

    title: str
    help: str


# One entry per SARIF rule, from the rule registry. Gap rules are named after the
# dimension key, line rules after the check id, so `ruleId` equals the `check` field
# of the JSON output.
RULES: dict[str, RuleInfo] = {
    rule.id: RuleInfo(rule.prose.description, rule.prose.help) for rule in ALL_RULES
}

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "note"}
_GITHUB_COMMAND = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.SUGGESTION: "notice",
}


def render(
    output_format: OutputFormat,
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError] = (),
    *,
    color: bool = False,
    pretty: bool = False,
    tool_version: str = "0.0.0",
) -> str:
    """One entry point for the CLI: the whole output for one run, newline-terminated.

    `color` applies to text and pretty, `pretty` (indented JSON) to json and sarif."""
    if output_format is OutputFormat.JSON:
        return format_json(reports, errors, pretty=pretty)
    if output_format is OutputFormat.SARIF:
        return format_sarif(reports, errors, tool_version=tool_version, pretty=pretty)
    if output_format is OutputFormat.GITHUB:
        return format_github(reports, errors)
    if output_format is OutputFormat.PRETTY:
        return format_pretty(reports, errors, color=color)
    return format_text(reports, errors, color=color)


# --- json ---------------------------------------------------------------------------


def _dump(value: object, pretty: bool) -> str:
    # Indenting switches json to its pure-Python encoder (3x slower on a large folder),
    # so machine output stays compact unless a person is reading it.
    return json.dumps(value, indent=2 if pretty else None, ensure_ascii=False) + "\n"


def format_json(
    reports: Sequence[DocumentReport], errors: Sequence[FileError] = (), *, pretty: bool = False
) -> str:
    payload = {
        "documents": [report.to_dict() for report in reports],
        "errors": [error.to_dict() for error in errors],
    }
    return _dump(payload, pretty)


# --- text ---------------------------------------------------------------------------


class _Style:
    """ANSI styling that collapses to plain text when colour is off."""

    _CODES: ClassVar[dict[str, str]] = {
        "bold": "1",
        "dim": "2",
        "red": "31",
        "green": "32",
        "yellow": "33",
        "blue": "34",
        "cyan": "36",
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(self._CODES[name] for name in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.SUGGESTION: "blue"}


def scorecard(report: DocumentReport) -> str:
    """One line: how many of the dimensions that apply to the document's category are
    present, which are weak or missing, and which are off for the category."""
    off = [d.key for d in report.dimensions if d.requirement is Requirement.OFF]
    judged = [d for d in report.dimensions if d.requirement is not Requirement.OFF]
    weak = [d.key for d in judged if d.status is Status.WEAK]
    missing = [d.key for d in judged if d.status is Status.MISSING]
    present = len(judged) - len(weak) - len(missing)
    parts = [f"{present}/{len(judged)} present"]
    if weak:
        parts.append("weak: " + ", ".join(weak))
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if off:
        parts.append("off: " + ", ".join(off))
    return " | ".join(parts)


def _severity_counts(reports: Iterable[DocumentReport]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for report in reports:
        for finding in report.findings:
            counts[finding.severity] += 1
    return counts


def finding_line(path: str, finding: Finding) -> str:
    """`path:line:col: severity id message`, the line editors and terminals jump from.
    A gap has the line it rests on (a weak section, else the document's start)."""
    where = f"{path}:{max(finding.line, 1)}:{finding.column or 1}"
    return f"{where}: {finding.severity.value} {finding.check} {_one_line(finding.message)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_text(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError] = (),
    *,
    color: bool = False,
) -> str:
    """One line per finding, then one summary line: what linters print."""
    style = _Style(color)
    lines: list[str] = []
    for report in reports:
        if report.skipped:
            lines.append(f"{report.path}: note: skipped (front matter product_review: skip)")
        lines.extend(f"{report.path}: note: {_one_line(note)}" for note in extra_notes(report))
        for finding in report.findings:
            line = finding_line(report.path, finding)
            if color:
                severity = finding.severity.value
                location, _, rest = line.partition(f": {severity} ")
                coloured = style(severity, _SEVERITY_STYLE[finding.severity])
                line = f"{style(location, 'bold')}: {coloured} {rest}"
            lines.append(line)
    lines.append(_summary_line(reports, errors))
    return "\n".join(lines) + "\n"


def format_pretty(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError] = (),
    *,
    color: bool = False,
) -> str:
    """Grouped by file: a scorecard line, each finding with its lines and question."""
    style = _Style(color)
    lines: list[str] = []
    for report in reports:
        header = style(report.path, "bold")
        details = f"{report.kind}, {report.category.value}"
        lines.append(f"{header} {style(f'({details})', 'dim')}")
        notes = [f"  note: {note}" for note in extra_notes(report)]
        if report.skipped:
            lines.append("  skipped (front matter product_review: skip)")
            lines.extend(notes)
            lines.append("")
            continue
        lines.append(f"  scorecard: {scorecard(report)}")
        lines.extend(notes)
        span_width = max((len(line_span(f)) for f in report.findings), default=1)
        for finding in report.findings:
            severity = style(f"{finding.severity.value:<10}", _SEVERITY_STYLE[finding.severity])
            span = line_span(finding).rjust(span_width)
            lines.append(f"  {span}  {severity} {finding.message} {style(finding.check, 'dim')}")
            if finding.question:
                indent = " " * (span_width + 4)
                lines.append(f"{indent}{style('?', 'cyan')} {finding.question}")
        lines.append("")
    # Read errors themselves go to stderr (the CLI prints them); the summary counts them.
    lines.append(_summary_line(reports, errors))
    return "\n".join(lines) + "\n"


def extra_notes(report: DocumentReport) -> list[str]:
    """The report's notes, less the one that only repeats that it was skipped."""
    return [note for note in report.notes if not (report.skipped and note.startswith("skipped"))]


def _summary_line(reports: Sequence[DocumentReport], errors: Sequence[FileError]) -> str:
    counts = _severity_counts(reports)
    total = sum(counts.values())
    summary = f"{plural(len(reports), 'document')} reviewed"
    if total:
        by_severity = ", ".join(
            plural(counts[severity], severity.value)
            for severity in (Severity.ERROR, Severity.WARNING, Severity.SUGGESTION)
            if counts[severity]
        )
        summary += f": {by_severity}"
    else:
        summary += ": no findings"
    if errors:
        summary += f"; {plural(len(errors), 'file')} could not be reviewed"
    return summary


# --- sarif --------------------------------------------------------------------------


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def artifact_uri(path: str) -> str:
    """A SARIF `artifactLocation.uri`: POSIX separators, percent-encoded, relative kept
    relative (code scanning resolves it against the repository root)."""
    # A file name that is not valid UTF-8 reaches us with lone surrogates, which no
    # URI can carry: they become U+FFFD, so the report still names the file.
    path = _SURROGATE_RE.sub("\ufffd", path)
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    text = str(posix)
    return quote(text, safe="/-._~")


def _sarif_rules() -> list[dict[str, Any]]:
    rules = []
    for rule_id, info in RULES.items():
        kind = "gap" if rule_id in DIMENSIONS else "line"
        rules.append(
            {
                "id": rule_id,
                "name": "".join(part.capitalize() for part in rule_id.replace("_", "-").split("-")),
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": info.help},
                "help": {"text": info.help, "markdown": info.help},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"tags": ["product-review", kind], "precision": "medium"},
            }
        )
    return rules


def format_sarif(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError] = (),
    *,
    tool_version: str = "0.0.0",
    pretty: bool = False,
) -> str:
    rule_index = {rule_id: index for index, rule_id in enumerate(RULES)}
    results: list[dict[str, Any]] = []
    for report in reports:
        # Line numbers are left out on purpose: an alert should survive edits above it.
        # The same identity as the review's fingerprints, a longer prefix of its digest.
        fingerprints = finding_fingerprints(report, SARIF_FINGERPRINT_CHARS)
        for finding, fingerprint in zip(report.findings, fingerprints, strict=True):
            text = finding.message
            if finding.question:
                text += f" {finding.question}"
            region: dict[str, int] = {"startLine": max(1, finding.line)}
            if finding.column is not None:
                region["startColumn"] = finding.column
            if finding.end_line > finding.line:
                region["endLine"] = finding.end_line
            result: dict[str, Any] = {
                "ruleId": finding.check,
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": artifact_uri(report.path)},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {"productReviewFinding/v2": fingerprint},
                "properties": {"category": report.category.value, "why": finding.why},
            }
            if finding.check in rule_index:
                result["ruleIndex"] = rule_index[finding.check]
            results.append(result)
    notifications = [
        # Files that could not be read are tool problems, not findings in the files.
        {
            "level": "error",
            "message": {"text": error.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(error.path)}}}
            ],
        }
        for error in errors
    ]
    notifications.extend(
        # What the review of a document left out (ignored front matter), for its author.
        {
            "level": "warning",
            "message": {"text": note},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(report.path)}}}
            ],
        }
        for report in reports
        for note in extra_notes(report)
    )
    if len(results) > SARIF_MAX_RESULTS:
        # Code scanning refuses a run above its result limit; keep the most severe.
        order = {"error": 0, "warning": 1, "note": 2}
        results.sort(key=lambda result: order[result["level"]])
        left_out = len(results) - SARIF_MAX_RESULTS
        del results[SARIF_MAX_RESULTS:]
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{left_out} least severe results left out: code scanning "
                    f"accepts at most {SARIF_MAX_RESULTS} results per run."
                },
            }
        )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "semanticVersion": tool_version,
                "rules": _sarif_rules(),
            }
        },
        "results": results,
    }
    if notifications:
        run["invocations"] = [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": notifications,
            }
        ]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return _dump(log, pretty)


# --- github workflow commands -------------------------------------------------------


def escape_data(text: str) -> str:
    """Escape the message part of a workflow command (after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (`file=`, `title=`): also `:` and `,`, which delimit."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{name}={escape_property(str(value))}" for name, value in properties.items())
    head = f"::{command} {props}" if props else f"::{command}"
    return f"{head}::{escape_data(message)}"


# GitHub shows at most this many annotations of each kind (error, warning, notice) per
# step and silently drops the rest, so the rest are printed as plain log lines.
ANNOTATIONS_PER_KIND = 10


@dataclass(frozen=True)
class _Annotation:
    command: str  # error | warning | notice
    path: str
    message: str
    title: str
    line: int | None = None
    end_line: int | None = None

    def as_command(self) -> str:
        properties: dict[str, str | int] = {"file": self.path}
        if self.line is not None:
            properties["line"] = self.line
            properties["endLine"] = self.end_line or self.line
        properties["title"] = self.title
        return workflow_command(self.command, self.message, **properties)

    def as_log_line(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        text = self.message.replace("\r", " ").replace("\n", " ")
        # A plain line must not be mistaken for a command by the runner.
        return f"{where}: {self.command}: {text} [{self.title}]".lstrip(":")


def format_github(reports: Sequence[DocumentReport], errors: Sequence[FileError] = ()) -> str:
    annotations = [
        _Annotation(
            "error",
            error.path.replace("\\", "/"),
            error.message,
            f"product-review: {'not reviewed' if error.over_limit else 'unreadable file'}",
        )
        for error in errors
    ]
    for report in reports:
        annotations.extend(
            _Annotation("notice", report.path.replace("\\", "/"), note, "product-review: note")
            for note in extra_notes(report)
        )
        for finding in report.findings:
            message = finding.message
            if finding.question:
                message += f"\n{finding.question}"
            annotations.append(
                _Annotation(
                    _GITHUB_COMMAND[finding.severity],
                    report.path.replace("\\", "/"),
                    message,
                    f"product-review: {finding.check}",
                    finding.line,
                    max(finding.line, finding.end_line),
                )
            )
    per_kind: dict[str, int] = {}
    for annotation in annotations:
        per_kind[annotation.command] = per_kind.get(annotation.command, 0) + 1
    overflow = sum(max(0, count - ANNOTATIONS_PER_KIND) for count in per_kind.values())

    lines: list[str] = []
    spilled: list[str] = []
    # When some must spill, one notice slot is kept for saying so, so that the
    # explanation itself is never the annotation GitHub drops.
    shown: dict[str, int] = {"notice": 1} if overflow else {}
    for annotation in annotations:
        count = shown.get(annotation.command, 0)
        if count < ANNOTATIONS_PER_KIND:
            shown[annotation.command] = count + 1
            lines.append(annotation.as_command())
        else:
            spilled.append(annotation.as_log_line())
    if spilled:
        lines.insert(
            0,
            workflow_command(
                "notice",
                f"{len(spilled)} more findings are listed in this step's log: GitHub shows "
                f"{ANNOTATIONS_PER_KIND} annotations of each kind per step. "
                "Use --format sarif with code scanning to see all of them.",
                title="product-review",
            ),
        )
    return "".join(line + "\n" for line in [*lines, *spilled])
