"""`check --changed-lines`: judge a commit by what it changes, not by old text.

A pre-commit hook in strict mode (`--fail-on warning`) would otherwise block a
commit for a TBD nobody touched. The lines that count are those the staged diff
(`git diff --cached`, what the commit will record) adds or changes.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from dataclasses import dataclass

from checks.report import LINE_CHECKS, DocumentReport, Finding, FindingKind
from ghapp.diff import commentable_lines

_NEW_FILE = re.compile(r"^new file mode ", re.MULTILINE)
_GIT_TIMEOUT_SECONDS = 30.0


class NotInWorkTree(Exception):
    """The file's staged diff could not be read (no git, or not in a work tree)."""


@dataclass(frozen=True)
class StagedChange:
    """What the staged diff does to one file: adds it, or changes these lines."""

    is_new: bool
    lines: frozenset[int]


def _git(folder: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotInWorkTree(f"git could not be run: {error}") from None


def staged_change(path: str) -> StagedChange:
    """The staged change to `path`; a file git does not track yet counts as new."""
    folder, name = os.path.split(os.path.abspath(path))
    # -U0: no context lines, so every line of a hunk is added or changed.
    diff = _git(
        folder, "diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
        "--", name,
    )  # fmt: skip
    if diff.returncode != 0:
        raise NotInWorkTree(diff.stderr.strip() or "not in a git work tree")
    if _NEW_FILE.search(diff.stdout):
        return StagedChange(is_new=True, lines=frozenset())
    if not diff.stdout:
        tracked = _git(folder, "ls-files", "--error-unmatch", "--", name)
        if tracked.returncode != 0:
            return StagedChange(is_new=True, lines=frozenset())
    return StagedChange(is_new=False, lines=commentable_lines(diff.stdout))


def _on_changed_lines(finding: Finding, lines: frozenset[int]) -> bool:
    return any(line in lines for line in range(finding.line, finding.end_line + 1))


@dataclass(frozen=True)
class Restricted:
    """A report as shown under --changed-lines, and the part of it that decides the
    exit code (without the document-level gaps of a document that already existed)."""

    shown: DocumentReport
    counted: DocumentReport
    hidden: int  # line findings on lines the commit leaves alone


def restrict(report: DocumentReport, change: StagedChange) -> Restricted:
    if change.is_new:
        return Restricted(shown=report, counted=report, hidden=0)

    def shown(finding: Finding) -> bool:
        return finding.kind is FindingKind.GAP or _on_changed_lines(finding, change.lines)

    findings = tuple(f for f in report.findings if shown(f))
    changed = tuple(f for f in findings if f.kind is not FindingKind.GAP)
    questions = tuple(
        q
        for q in report.top_questions
        if q.source not in LINE_CHECKS or (q.line is not None and q.line in change.lines)
    )
    return Restricted(
        shown=dataclasses.replace(report, findings=findings, top_questions=questions),
        counted=dataclasses.replace(report, findings=changed, top_questions=()),
        hidden=len(report.findings) - len(findings),
    )
