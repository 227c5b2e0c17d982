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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pathspec

from checks.config import FailOn, Settings
from checks.discovery import Reason, is_markdown
from checks.formats import FileError, format_github, format_sarif, workflow_command
from checks.markdown_text import code_span, plain
from checks.report import DocumentReport, Severity, at_least
from ghapp.checkrun import PassedOver, Unreviewed, is_located, render_check
from localreview.budget import Budget, Limit, NotReviewed, default_workers
from localreview.changes import (
    NotInWorkTree,
    changed_markdown,
    file_change,
    merge_base,
    on_changed_lines,
)
from localreview.config import effective_fail_on
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


def event_base(event_path: str | None) -> str | None:
    """The commit the triggering pull request (or push) is compared with: the pull
    request's base, or the commit before the push; None when the event has neither
    (a schedule, a manual run)."""
    if not event_path or not os.path.isfile(event_path):
        return None
    with open(event_path, encoding="utf-8") as file:
        event = json.load(file)
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        base = pull["base"]["sha"]
        return base if isinstance(base, str) else None
    before = event.get("before")
    if isinstance(before, str) and isinstance(event.get("after"), str) and before != _NO_COMMIT:
        return before
    return None


def _git_failed(error: NotInWorkTree) -> ActionError:
    return ActionError(
        f"{error} (the action needs the repository checked out at the workspace with "
        "`fetch-depth: 0`, so that the pull request's base is there)"
    )


def repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            capture_output=True,
            text=True,
            check=True,
            encoding="utf-8",
            errors="surrogateescape",
        ).stdout
    except (OSError, subprocess.CalledProcessError) as failure:
        raise ActionError(f"git ls-files failed: {failure}") from None
    return [path for path in listed.split("\0") if path]


def annotation_commands(
    reports: Sequence[DocumentReport],
    errors: Sequence[FileError],
    since: str | None,
) -> str:
    """Workflow commands for the findings on lines changed since the commit `since`
    (every located finding when there is no pull request to compare with), and for
    the files that could not be read."""
    shown: list[DocumentReport] = []
    for report in reports:
        if report.skipped:
            continue
        located = tuple(f for f in report.findings if is_located(report, f))
        if since is not None:
            try:
                change = file_change(report.path, since)
            except NotInWorkTree as error:
                raise _git_failed(error) from None
            if not change.is_new:
                located = tuple(f for f in located if on_changed_lines(f, change.lines))
        if located:
            shown.append(dataclasses.replace(report, findings=located, notes=()))
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


def candidates(inputs: Inputs, since: str | None) -> list[str]:
    """The Markdown files to consider: those changed since the commit `since` (what
    `check --changed-since` reviews), or all of the repository's; only those the
    `paths` globs match when they are given."""
    if inputs.mode is Mode.ALL:
        files = [path for path in repository_files() if is_markdown(path)]
        files = [path for path in files if os.path.isfile(path)]
    elif since is None:
        raise ActionError(
            "mode `changed` needs a pull_request (or push) event to compare with; "
            "use `mode: all` to review the whole repository"
        )
    else:
        try:
            _, files = changed_markdown(since, ["."])
        except NotInWorkTree as error:
            raise _git_failed(error) from None
    if inputs.paths:
        spec = pathspec.PathSpec.from_lines("gitwildmatch", inputs.paths)
        files = [path for path in files if spec.match_file(path)]
    return sorted(files)


def run(inputs: Inputs, environ: Mapping[str, str]) -> int:
    base = event_base(environ.get("GITHUB_EVENT_PATH"))
    # Where the checkout's history meets the base: the changed files and lines are
    # the work tree's since then, as `check --changed-since BASE` sees them.
    since = None
    if base is not None:
        try:
            since = merge_base(base)
        except NotInWorkTree as error:
            raise _git_failed(error) from None
    files = candidates(inputs, since)
    source = SettingsSource(config_path=_config_path(inputs.config))
    settings = _load_settings(source)
    if settings is None:
        return EXIT_USAGE
    fail_on, _ = effective_fail_on(settings, inputs.fail_on, "the fail-on input")
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
    sys.stdout.write(annotation_commands(reports, errors, since))
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
