"""The GitHub Action's entry point (`python -m localreview.action`, run by action.yml).

It reviews the design docs a pull request changes (`mode: changed`, against the pull
request's base) or every one in the repository (`mode: all`) with the engine and the
settings of `product-review check`, then:

- appends the scorecard, the same Markdown as the App's Check Run summary, to
  `$GITHUB_STEP_SUMMARY`;
- prints workflow-command annotations, only for findings on lines the pull request
  changes (the rest are in the summary and the SARIF file);
- writes a SARIF file for `github/codeql-action/upload-sarif`;
- sets the step outputs `sarif-file`, `conclusion` and `questions`;
- exits as `check` does: 0, 1 when a finding reaches `fail-on`, 2 for a file that
  could not be read or a config with problems.

The inputs arrive as environment variables (`PRODUCT_REVIEW_*`, set by action.yml):
an input never becomes part of a shell command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pathspec

from checks.config import FailOn, Settings
from checks.discovery import Reason, is_markdown
from checks.formats import FileError, format_github, format_sarif, workflow_command
from checks.markdown_text import code_span, plain
from checks.report import DocumentReport, Finding, Severity
from ghapp.checkrun import PassedOver, Unreviewed, is_located, render_check
from ghapp.diff import commentable_lines
from localreview.budget import Budget, Limit, NotReviewed, default_workers
from localreview.files import Passed, Selection, SettingsSource, discover, review_files
from localreview.main import (
    EXIT_USAGE,
    _config_path,
    _load_settings,
    _tool_version,
    exit_code,
)

SUMMARY_HEADING = "## Product review"
# A base that no commit has: the first push of a branch.
_NO_COMMIT = "0" * 40


class Mode(StrEnum):
    CHANGED = "changed"
    ALL = "all"


class ActionError(Exception):
    """An input or a repository the action cannot work with; the message says why."""


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, as action.yml hands them over."""

    paths: tuple[str, ...] = ()
    config: str | None = None
    fail_on: FailOn | None = None
    min_severity: Severity = Severity.SUGGESTION
    mode: Mode = Mode.CHANGED
    sarif_file: str = "product-review.sarif"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Inputs:
        def value(name: str) -> str:
            return environ.get(f"PRODUCT_REVIEW_{name}", "").strip()

        try:
            return cls(
                # One glob a line, or several on one line separated by spaces.
                paths=tuple(value("PATHS").split()),
                config=value("CONFIG") or None,
                fail_on=FailOn(value("FAIL_ON")) if value("FAIL_ON") else None,
                min_severity=Severity(value("MIN_SEVERITY") or Severity.SUGGESTION),
                mode=Mode(value("MODE") or Mode.CHANGED),
                sarif_file=value("SARIF_FILE") or cls.sarif_file,
            )
        except ValueError as error:
            raise ActionError(f"invalid input: {error}") from None


@dataclass(frozen=True)
class Revisions:
    """The commits a run compares: the pull request's base and head."""

    base: str
    head: str


def event_revisions(event_path: str | None) -> Revisions | None:
    """The base and head of the pull request (or push) that triggered the run; None
    when the event has neither (a schedule, a manual run)."""
    if not event_path or not os.path.isfile(event_path):
        return None
    with open(event_path, encoding="utf-8") as file:
        event = json.load(file)
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        return Revisions(pull["base"]["sha"], pull["head"]["sha"])
    before, after = event.get("before"), event.get("after")
    if isinstance(before, str) and isinstance(after, str) and before != _NO_COMMIT:
        return Revisions(before, after)
    return None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            encoding="utf-8",
            errors="surrogateescape",
        )
    except subprocess.CalledProcessError as failure:
        raise ActionError(
            f"git {' '.join(args)} failed: {failure.stderr.strip()} (the action needs "
            "the repository checked out at the workspace with `fetch-depth: 0`, so that "
            "the pull request's base is there)"
        ) from None
    return done.stdout


def changed_files(revisions: Revisions) -> list[str]:
    """The files the pull request adds or modifies (not those it deletes)."""
    range_ = f"{revisions.base}...{revisions.head}"
    listed = _git("diff", "--name-only", "--diff-filter=d", "-z", range_, "--")
    return [path for path in listed.split("\0") if path]


def repository_files() -> list[str]:
    listed = _git("ls-files", "-z")
    return [path for path in listed.split("\0") if path]


def changed_lines(revisions: Revisions, path: str) -> frozenset[int]:
    """The lines of `path` at the head that the pull request adds or changes."""
    patch = _git("diff", "-U0", "--no-color", f"{revisions.base}...{revisions.head}", "--", path)
    return commentable_lines(patch)


def on_changed_lines(finding: Finding, lines: Collection[int]) -> bool:
    last = max(finding.line, finding.end_line)
    return any(line in lines for line in range(finding.line, last + 1))


def at_least(report: DocumentReport, severity: Severity) -> DocumentReport:
    """The report without the findings below `severity`."""
    if severity is Severity.SUGGESTION:
        return report
    kept = tuple(f for f in report.findings if f.severity.rank >= severity.rank)
    top = tuple(q for q in report.top_questions if q.severity.rank >= severity.rank)
    return dataclasses.replace(report, findings=kept, top_questions=top)


def annotation_commands(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError],
    revisions: Revisions | None,
    changed: Collection[str],
) -> str:
    """Workflow commands for the findings on changed lines (every located finding when
    there is no pull request to compare with), and for the files that could not be read."""
    shown: list[DocumentReport] = []
    for report in reports:
        if report.skipped:
            continue
        if revisions is None:
            kept = tuple(f for f in report.findings if is_located(report, f))
        elif report.path in changed:
            lines = changed_lines(revisions, report.path)
            kept = tuple(
                f for f in report.findings if is_located(report, f) and on_changed_lines(f, lines)
            )
        else:
            kept = ()
        if kept:
            shown.append(dataclasses.replace(report, findings=kept, notes=()))
    if not shown and not errors:
        return ""
    return format_github(shown, errors)


def _not_reviewed(error: FileError) -> NotReviewed:
    reason = error.message.removeprefix("not reviewed: ").split(" (raise the limit")[0]
    if reason.startswith("larger"):
        limit = Limit.SIZE
    elif reason.startswith("took"):
        limit = Limit.TIME
    else:
        limit = Limit.MEMORY
    return NotReviewed(error.path, limit, reason)


def _passed_over(passed: Passed) -> PassedOver | None:
    try:
        return PassedOver(passed.path, Unreviewed.of(Reason(passed.reason)))
    except (ValueError, KeyError):  # unreadable, or not Markdown: not the summary's to count
        return None


def step_summary(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError],
    passed: Sequence[Passed],
    settings: Settings,
) -> tuple[str, str]:
    """The Markdown for `$GITHUB_STEP_SUMMARY` (the Check Run's title, summary and
    details) and the Check Run's conclusion."""
    output = render_check(
        reports,
        settings=settings,
        not_reviewed=[_not_reviewed(error) for error in errors if error.over_limit],
        passed_over=[item for item in map(_passed_over, passed) if item is not None],
    )
    parts = [SUMMARY_HEADING, f"**{output.title}**", output.summary]
    unreadable = [error for error in errors if not error.over_limit]
    if unreadable:
        parts.append(
            "### Files that could not be read\n\n"
            + "\n".join(
                f"- {code_span(error.path)}: {plain(error.message, 400)}" for error in unreadable
            )
        )
    if output.text:
        parts.append(f"<details><summary>Every finding</summary>\n\n{output.text}\n\n</details>")
    return "\n\n".join(parts) + "\n", output.conclusion


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)


def candidates(inputs: Inputs, revisions: Revisions | None) -> list[str]:
    """The Markdown files to consider: those the pull request changes, or all of the
    repository's; only those the `paths` globs match when they are given."""
    if inputs.mode is Mode.ALL:
        files = repository_files()
    elif revisions is None:
        raise ActionError(
            "mode `changed` needs a pull_request (or push) event to compare with; "
            "use `mode: all` to review the whole repository"
        )
    else:
        files = changed_files(revisions)
    files = [path for path in files if is_markdown(path) and os.path.isfile(path)]
    if inputs.paths:
        spec = pathspec.PathSpec.from_lines("gitwildmatch", inputs.paths)
        files = [path for path in files if spec.match_file(path)]
    return sorted(files)


def run(inputs: Inputs, environ: Mapping[str, str]) -> int:
    revisions = event_revisions(environ.get("GITHUB_EVENT_PATH"))
    files = candidates(inputs, revisions)
    source = SettingsSource(config_path=_config_path(inputs.config))
    settings = _load_settings(source)
    if settings is None:
        return EXIT_USAGE
    if inputs.fail_on is not None:
        fail_on = inputs.fail_on
    else:
        fail_on = settings.fail_on if source.config_path is not None else FailOn.ERROR
    settings = dataclasses.replace(settings, fail_on=fail_on)

    budget = Budget()
    # The `paths` globs review what they match whatever its content, as --include does.
    selection = Selection(include=inputs.paths)
    found = discover(files, settings, selection, budget=budget)
    outcomes = review_files(
        found.files,
        source,
        jobs=default_workers(),
        budget=budget,
        selection=selection,
        undecided=found.undecided,
        texts=found.texts,
    )
    reports = [
        at_least(outcome, inputs.min_severity)
        for outcome in outcomes
        if isinstance(outcome, DocumentReport)
    ]
    errors = [*found.errors, *(o for o in outcomes if isinstance(o, FileError))]
    passed = [*found.passed, *(o for o in outcomes if isinstance(o, Passed))]

    summary, conclusion = step_summary(reports, errors, passed, settings)
    _append(environ.get("GITHUB_STEP_SUMMARY"), summary)
    sys.stdout.write(annotation_commands(reports, errors, revisions, set(files)))
    print(f"product-review: {len(reports)} documents reviewed, conclusion {conclusion}")

    sarif = Path(inputs.sarif_file)
    sarif.parent.mkdir(parents=True, exist_ok=True)
    sarif.write_text(
        format_sarif(reports, errors, tool_version=_tool_version(), pretty=True),
        encoding="utf-8",
    )
    questions = sum(
        len(report.findings) + report.omitted_findings for report in reports if not report.skipped
    )
    _append(
        environ.get("GITHUB_OUTPUT"),
        f"sarif-file={inputs.sarif_file}\nconclusion={conclusion}\nquestions={questions}\n",
    )
    code = exit_code(reports, errors, fail_on)
    return EXIT_USAGE if settings.errors else code


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    workspace = environ.get("GITHUB_WORKSPACE")
    try:
        if workspace:
            os.chdir(workspace)
        return run(Inputs.from_environment(environ), environ)
    except ActionError as error:
        print(workflow_command("error", str(error), title="product-review"))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
