"""`check --changed-lines` and `check --changed-since REF`: judge a change by what
it changes, not by old text.

A pre-commit hook in strict mode (`--fail-on warning`) would otherwise block a
commit for a TBD nobody touched. With --changed-lines the lines that count are
those the staged diff (`git diff --cached`, what the commit will record) adds or
changes; with --changed-since, those the work tree changes since the merge base
of REF and HEAD (the branch's commits, staged and unstaged edits alike), in the
files that changed since then, untracked ones included. The Action reads a pull
request's changes with the same functions, the event's base as REF.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from checks.discovery import is_markdown
from checks.report import LINE_CHECKS, DocumentReport, Finding, FindingKind
from ghapp.diff import commentable_lines

_NEW_FILE = re.compile(r"^new file mode ", re.MULTILINE)
_GIT_TIMEOUT_SECONDS = 30.0


class NotInWorkTree(Exception):
    """The file's diff could not be read (no git, not in a work tree, an unknown
    revision)."""


@dataclass(frozen=True)
class FileChange:
    """What the staged diff (or the diff since a commit) does to one file: adds it, or
    changes these lines."""

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


def file_change(path: str, since: str | None = None) -> FileChange:
    """The staged change to `path` or, given a commit `since`, the work tree's change
    to it since that commit; a file git does not track yet counts as new."""
    folder, name = os.path.split(os.path.abspath(path))
    compared = ["--cached"] if since is None else [since]
    # -U0: no context lines, so every line of a hunk is added or changed.
    diff = _git(
        folder, "diff", *compared, "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
        "--", name,
    )  # fmt: skip
    if diff.returncode != 0:
        raise NotInWorkTree(diff.stderr.strip() or "not in a git work tree")
    if _NEW_FILE.search(diff.stdout):
        return FileChange(is_new=True, lines=frozenset())
    if not diff.stdout:
        tracked = _git(folder, "ls-files", "--error-unmatch", "--", name)
        if tracked.returncode != 0:
            return FileChange(is_new=True, lines=frozenset())
    return FileChange(is_new=False, lines=commentable_lines(diff.stdout))


def merge_base(ref: str, folder: str = ".") -> str:
    """The commit `--changed-since REF` compares with: where HEAD's history meets REF's
    (REF itself when HEAD descends from it, as a branch from its base)."""
    if not ref or ref.startswith("-"):  # never let a value become one of git's options
        raise NotInWorkTree(f"not a git revision: {ref!r}")
    found = _git(folder, "merge-base", ref, "HEAD")
    if found.returncode != 0:
        detail = found.stderr.strip().splitlines()
        reason = detail[0] if detail else "no common history with HEAD"
        raise NotInWorkTree(
            f"cannot compare with {ref!r}: {reason}; a shallow clone may lack it: "
            "fetch it, or clone with more history"
        )
    return found.stdout.strip()


def changed_files(since: str, folder: str = ".") -> list[str]:
    """The files under `folder` that the work tree adds or modifies since the commit
    `since` (not those it deletes), and the untracked ones git does not ignore; paths
    relative to `folder`, sorted."""
    listed = _git(
        folder, "diff", "--name-only", "--diff-filter=d", "--relative", "-z", since, "--"
    )
    if listed.returncode != 0:
        raise NotInWorkTree(listed.stderr.strip() or "not in a git work tree")
    untracked = _git(folder, "ls-files", "--others", "--exclude-standard", "-z")
    if untracked.returncode != 0:
        raise NotInWorkTree(untracked.stderr.strip() or "not in a git work tree")
    names = {*listed.stdout.split("\0"), *untracked.stdout.split("\0")}
    return sorted(name for name in names if name)


def changed_markdown(ref: str, paths: Sequence[str]) -> tuple[str, list[str]]:
    """For `--changed-since REF PATH...`: the commit compared with, and the Markdown
    files changed since then that are, or are under, one of `paths` (relative to the
    current folder, which bounds the search)."""
    since = merge_base(ref)
    wanted = [os.path.normpath(os.path.relpath(os.path.abspath(path))) for path in paths]

    def under_a_path(name: str) -> bool:
        return any(
            prefix == "." or name == prefix or name.startswith(prefix + os.sep)
            for prefix in wanted
        )

    files = [
        name
        for name in (os.path.normpath(name) for name in changed_files(since))
        if is_markdown(name) and under_a_path(name) and os.path.isfile(name)
    ]
    return since, files


def on_changed_lines(finding: Finding, lines: Collection[int]) -> bool:
    last = max(finding.line, finding.end_line)
    return any(line in lines for line in range(finding.line, last + 1))


@dataclass(frozen=True)
class Restricted:
    """A report as shown under --changed-lines / --changed-since, and the part of it
    that decides the exit code (without the document-level gaps of a document that
    already existed)."""

    shown: DocumentReport
    counted: DocumentReport
    hidden: int  # line findings on lines the commit leaves alone


def restrict(report: DocumentReport, change: FileChange) -> Restricted:
    if change.is_new:
        return Restricted(shown=report, counted=report, hidden=0)

    def shown(finding: Finding) -> bool:
        return finding.kind is FindingKind.GAP or on_changed_lines(finding, change.lines)

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
