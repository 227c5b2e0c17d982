"""The `product-review` command: `check` design docs locally, `register` and `serve`
the GitHub App, `config validate` / `config show` / `config schema` for the
repository config.

Exit codes (stable, scripts rely on them): 0 nothing reaches the failing level,
1 something does (or a config file is invalid, for `config validate`), 2 bad usage
or input that could not be read.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from checks.config import FailOn, Settings
from checks.discovery import Reason
from checks.evidence import explanation_text
from checks.formats import FileError, OutputFormat, render
from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import Category, DocumentReport, Severity, at_least
from localreview.budget import (
    DEFAULT_DOCUMENT_MEMORY_MB,
    DEFAULT_DOCUMENT_TIMEOUT_SECONDS,
    DEFAULT_MAX_DOCUMENT_KB,
    Budget,
    default_workers,
)
from localreview.files import (
    STDIN_NAME,
    STDIN_PATH,
    FolderScan,
    Passed,
    Progress,
    Selection,
    SettingsSource,
    StandardInput,
    discover,
    progress_wanted,
    review_files,
)
from localreview.model import RULES_ONLY, SHIPPED_MODEL, ModelFileError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process ended by SIGPIPE


def _tool_version() -> str:
    # importlib.metadata costs ~30 ms to import; only --version and SARIF need it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("product-review")
    except PackageNotFoundError:
        return "0.0.0"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"product-review {_tool_version()}")
        parser.exit()


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and int(value) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {value!r}")
    return int(value)


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < seconds < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="product-review",
        description="Ask the product questions design docs forget.",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="review design docs (files or folders) and print the questions",
        description=(
            "Review Markdown design docs. Folders are searched for Markdown files; those "
            "and the files named are reviewed when they are design docs: by the "
            "include/exclude globs (the config's, --include, --exclude, the defaults), "
            "else by their content. Exit code 0: nothing shown reaches --fail-on; 1: "
            "something shown does; 2: bad usage or a file that could not be read."
        ),
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="Markdown file or folder; - reads one document from standard input",
    )
    check.add_argument(
        "--pull-request",
        metavar="URL",
        default=None,
        help="instead of files: print what the GitHub App would post on this pull request "
        "(https://github.com/OWNER/REPO/pull/N, or its API URL), posting nothing; "
        "credentials from GITHUB_TOKEN, or the App's (APP_ID, PRIVATE_KEY[_PATH]); "
        "GitHub Enterprise through GITHUB_API_URL; --format text or json",
    )
    for flag, meaning in (
        ("--include", "review the files it matches whatever their content, like paths.include"),
        ("--exclude", "never review the files it matches, like paths.exclude; beats --include"),
    ):
        check.add_argument(
            flag, action="append", default=[], metavar="GLOB", help=f"{meaning} (repeatable)"
        )
    check.add_argument(
        "--stdin-filename",
        metavar="NAME",
        default=None,
        help="the name of the document read from standard input (-): shown in the report, "
        "matched by the config's categories, and where the config is looked up from",
    )
    check.add_argument(
        "--format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.TEXT.value,
        help="text: one `file:line:col: severity id message` line per finding "
        "(default); pretty: grouped by file, with scorecards and questions; json (the "
        "stable contract); sarif (code scanning); github (workflow-command annotations)",
    )
    _add_fail_on(check)
    check.add_argument(
        "--min-severity",
        choices=[severity.value for severity in Severity],
        default=Severity.SUGGESTION.value,
        help="findings below it are not shown, in any format, and do not count for the "
        "exit code (default: suggestion, everything)",
    )
    changes = check.add_mutually_exclusive_group()
    changes.add_argument(
        "--changed-lines",
        action="store_true",
        help="in a git work tree, only line findings on lines the staged diff adds or "
        "changes are shown and count for the exit code; the document-level gaps of a "
        "file that already existed are shown but do not (for pre-commit)",
    )
    changes.add_argument(
        "--changed-since",
        metavar="REF",
        default=None,
        help="in a git work tree, review only the Markdown files changed since the "
        "merge base of REF and HEAD (commits, staged and unstaged edits, untracked "
        "files; under PATH, default the current folder), and judge them as "
        "--changed-lines does, on those changes",
    )
    check.add_argument(
        "--category",
        choices=[c.value for c in Category],
        default=None,
        help="kind of work, for documents without `category:` in their front matter",
    )
    check.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="config file (default: .github/product-review.yml of the current git "
        "repository, if there is one)",
    )
    check.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes that review the files (default: number of CPUs)",
    )
    check.add_argument(
        "--max-document-kb",
        type=_positive_int,
        default=DEFAULT_MAX_DOCUMENT_KB,
        metavar="KB",
        help="a larger file is not reviewed and is reported as an error "
        f"(default: {DEFAULT_MAX_DOCUMENT_KB})",
    )
    check.add_argument(
        "--document-timeout",
        type=_positive_seconds,
        default=DEFAULT_DOCUMENT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="time one file may take; past it the file is reported as an error "
        f"(default: {DEFAULT_DOCUMENT_TIMEOUT_SECONDS:g})",
    )
    check.add_argument(
        "--document-memory-mb",
        type=_positive_int,
        default=DEFAULT_DOCUMENT_MEMORY_MB,
        metavar="MB",
        help="memory the review of one file may use, on Linux "
        f"(default: {DEFAULT_DOCUMENT_MEMORY_MB})",
    )
    check.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress on stderr (default: only for large folders on a terminal)",
    )

    # Said as argparse says its own errors, once the arguments are known.
    check.set_defaults(usage_error=check.error)

    check.add_argument(
        "--explain",
        nargs="?",
        type=_positive_int,
        const=3,
        default=0,
        metavar="N",
        help="per dimension, list the N blocks (default 3) the learned scorer ranks as its "
        "best evidence, with their scores and lines (text: after each document; json: "
        "each dimension's `evidence`)",
    )
    learned = check.add_mutually_exclusive_group()
    learned.add_argument(
        "--model",
        metavar="FILE",
        help="judge dimensions and category with a learned model (`product-review train`)",
    )
    learned.add_argument(
        "--learned",
        action="store_true",
        help="judge dimensions and category with the learned model shipped in the package "
        "(the default unless the config says otherwise)",
    )
    learned.add_argument(
        "--rules",
        action="store_true",
        help="judge the dimensions with the rules alone (the learned category and line "
        "checks stay)",
    )

    train = commands.add_parser(
        "train",
        help="train the learned layer from hand labels (needs scikit-learn)",
        description=(
            "Train the learned layer from label files (format 2 of bench/LABELLING.md) and "
            "write the model as JSON. Second labels (<stem>.<letter>.yaml) are left out; "
            "documents the corpus's RESERVED.md lists are refused. The same labels give "
            "the same file, byte for byte."
        ),
    )
    train.add_argument("labels", metavar="LABELS_DIR", help="folder of label files")
    train.add_argument(
        "--corpus", required=True, metavar="DIR", help="the corpus the labels' paths name"
    )
    train.add_argument(
        "--synthetic-root",
        metavar="DIR",
        help="where synthetic/<file>.md documents live (default: the labels folder's parent)",
    )
    train.add_argument(
        "--config",
        metavar="FILE",
        help="read each document as a review with this config would: its `aliases` and "
        "the category its `categories` globs give (paths as the labels name them; "
        "default: no config)",
    )
    train.add_argument("-o", "--output", required=True, metavar="FILE", help="model file")

    register = commands.add_parser(
        "register",
        help="register the GitHub App from app.yml through a page on localhost; writes .env",
        description=(
            "Serve a page on 127.0.0.1 whose button posts the app manifest (app.yml) to "
            "GitHub's new-app page; GitHub's redirect back is exchanged for the app's id, "
            "private key and webhook secret, written to .env (mode 0600). Enterprise "
            "Server: set GHE_HOST (and GHE_PROTOCOL) first."
        ),
    )
    register.add_argument(
        "--org", metavar="ORG", help="register it for this organization (default: your account)"
    )
    register.add_argument(
        "--webhook-url",
        metavar="URL",
        help=(
            "where GitHub sends webhooks, reachable from GitHub: "
            "https://YOUR-HOST/api/github/webhooks (default: app.yml's hook_attributes.url)"
        ),
    )
    register.add_argument(
        "--manifest",
        metavar="FILE",
        help="default: app.yml in the working directory, else the one shipped with the package",
    )
    register.add_argument(
        "--port",
        type=_port,
        default=3000,
        help="the page's port on 127.0.0.1 (default: 3000; 0: any free port)",
    )
    register.add_argument(
        "--force", action="store_true", help="replace an existing .env without asking"
    )

    commands.add_parser("serve", help="run the GitHub App server (settings from env/.env)")
    commands.add_parser(
        "worker",
        help="run reviews queued on Redis by `serve` (REDIS_URL; settings from env/.env)",
    )

    receive = commands.add_parser(
        "receive",
        help="replay a webhook delivery into a local server, signed",
        description=(
            "Send a payload file to a running `serve` as GitHub would: signed with the "
            "webhook secret, under a fresh X-GitHub-Delivery id. Prints the answer."
        ),
    )
    receive.add_argument("-e", "--event", required=True, help="the event name, e.g. pull_request")
    receive.add_argument(
        "-p", "--payload", required=True, metavar="FILE", help="the delivery's JSON body"
    )
    receive.add_argument(
        "--url",
        default=None,
        help="the webhook endpoint (default: http://localhost:3000/api/github/webhooks)",
    )
    receive.add_argument(
        "--secret", default=None, help="default: WEBHOOK_SECRET, from the environment or .env"
    )
    receive.add_argument(
        "--delivery-id", default=None, metavar="ID", help="default: a fresh UUID"
    )

    config = commands.add_parser("config", help="validate the config file or print its schema")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    validate = config_commands.add_parser("validate", help="check a config file, report errors")
    validate.add_argument(
        "file",
        nargs="?",
        default=None,
        metavar="FILE",
        help="default: .github/product-review.yml of the current git repository",
    )
    config_commands.add_parser("schema", help="print the config's JSON Schema")
    show = config_commands.add_parser(
        "show",
        help="print the effective config: every key, its value and where it came from",
    )
    show.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="config file (default: .github/product-review.yml of the current git "
        "repository, if there is one)",
    )
    _add_fail_on(show)
    show.add_argument(
        "--format",
        choices=[OutputFormat.TEXT.value, OutputFormat.JSON.value],
        default=OutputFormat.TEXT.value,
        help="text: one `key: value  # source` line a key (default); json",
    )
    return parser


def _add_fail_on(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fail-on",
        choices=[level.value for level in FailOn],
        default=None,
        help="lowest severity that makes the exit code 1 (default: the config file's "
        "fail_on when it sets one, else error)",
    )


def _write_file_names_as_given() -> None:
    """A file name that is not valid UTF-8 arrives with lone surrogates; write its
    original bytes back out, as `ls` would, instead of failing on it."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="surrogateescape")


def main(argv: Sequence[str] | None = None) -> int:
    _write_file_names_as_given()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if args.command == "check":
        problem = _check_usage(args)
        if problem is not None:
            try:
                args.usage_error(problem)  # prints the usage and the problem, then exits
            except SystemExit:
                return EXIT_USAGE
    try:
        if args.command == "check":
            if args.pull_request is not None:
                return run_pull_request_preview(args)
            return run_check(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "register":
            from ghapp import register

            return register.run(
                org=args.org,
                webhook_url=args.webhook_url,
                manifest=args.manifest,
                port=args.port,
                force=args.force,
            )
        if args.command == "serve":
            # Imported here: `check` never loads the server (aiohttp, gidgethub).
            from ghapp.server import main as serve

            return serve()
        if args.command == "worker":
            from ghapp.worker import main as work

            return work()
        if args.command == "receive":
            from ghapp import receive

            return receive.run(
                event=args.event,
                payload=args.payload,
                url=args.url or receive.DEFAULT_URL,
                secret=args.secret,
                delivery_id=args.delivery_id,
            )
        if args.command == "config":
            if args.config_command == "validate":
                return run_config_validate(args.file)
            if args.config_command == "schema":
                return run_config_schema()
            if args.config_command == "show":
                return run_config_show(args)
            print("usage: product-review config {validate [FILE], show, schema}",
                  file=sys.stderr)
            return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): not an error worth a traceback. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        # (No file descriptor behind stdout when embedded or under test: nothing to do.)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# --- check --------------------------------------------------------------------------


def _use_color(stream: TextIO) -> bool:
    # https://no-color.org: any non-empty NO_COLOR turns colour off.
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _config_path(explicit: str | None, start: str = ".") -> str | None:
    if explicit is not None:
        return explicit
    from localreview.config import find_config

    return find_config(start)


def exit_code(
    reports: Sequence[DocumentReport], errors: Sequence[FileError], fail_on: FailOn
) -> int:
    if errors:
        return EXIT_USAGE
    threshold = fail_on.severity
    if threshold is not None and any(report.reaches(threshold) for report in reports):
        return EXIT_FINDINGS
    return EXIT_OK


def _load_settings(source: SettingsSource) -> Settings | None:
    """The run's settings, or None (after explaining on stderr) when the config file
    cannot be read at all. Problems inside the file are printed here; the review then
    runs with the file's valid parts and the exit code is 2, so that a CI run with a
    broken config does not pass silently."""
    if source.config_path is not None and not os.path.isfile(source.config_path):
        print(f"{source.config_path}: error: config file not found", file=sys.stderr)
        return None
    try:
        settings = source.load()
    except ModelFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    except OSError as error:
        print(f"{source.config_path}: error: cannot read: {error.strerror}", file=sys.stderr)
        return None
    except Exception as error:  # parsing never raises; this keeps a bug from a traceback
        print(f"{source.config_path}: error: {_unreadable_config(error)}", file=sys.stderr)
        return None
    for problem in settings.errors:
        print(f"error: {problem}", file=sys.stderr)
    return settings


def _unreadable_config(error: Exception) -> str:
    lines = str(error).splitlines()
    detail = f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
    return f"the config file could not be read ({detail})"


# The `check` options for files, with their defaults: the App's review of a pull
# request takes its settings from the repository's config instead.
_FILE_OPTIONS: dict[str, object] = {
    "include": [],
    "exclude": [],
    "stdin_filename": None,
    "fail_on": None,
    "min_severity": Severity.SUGGESTION.value,
    "changed_lines": False,
    "changed_since": None,
    "category": None,
    "config": None,
    "jobs": None,
    "max_document_kb": DEFAULT_MAX_DOCUMENT_KB,
    "document_timeout": DEFAULT_DOCUMENT_TIMEOUT_SECONDS,
    "document_memory_mb": DEFAULT_DOCUMENT_MEMORY_MB,
    "progress": None,
    "model": None,
    "learned": False,
    "rules": False,
    "explain": 0,
}


def _check_usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the `check` arguments that argparse cannot tell alone."""
    if args.pull_request is None:
        if not args.paths and args.changed_since is None:
            return "the following arguments are required: PATH"
        if args.changed_lines and STDIN_PATH in args.paths:
            return "--changed-lines reads the staged diff of files: not with - (standard input)"
        if args.changed_since is not None and STDIN_PATH in args.paths:
            return "--changed-since reviews changed files: not with - (standard input)"
        return None
    if args.paths:
        return "--pull-request reviews a pull request: name no PATH with it"
    if args.format not in (OutputFormat.TEXT.value, OutputFormat.JSON.value):
        return f"--pull-request prints text or json, not {args.format}"
    given = [name for name, default in _FILE_OPTIONS.items() if getattr(args, name) != default]
    if given:
        option = "--" + given[0].replace("_", "-")
        return (
            f"{option} does not apply to --pull-request: the App's review takes its "
            "settings from the repository's .github/product-review.yml"
        )
    return None


def run_pull_request_preview(args: argparse.Namespace) -> int:
    """What the GitHub App would post on the pull request, posted nowhere."""
    # Imported here: reviewing files never loads the App (aiohttp, gidgethub).
    from ghapp.preview import run_preview
    from ghapp.settings import read_environment

    env = read_environment(os.environ, dotenv_path=Path.cwd() / ".env")
    output, error = run_preview(args.pull_request, output_format=args.format, env=env)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(output)
    sys.stdout.flush()
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    category = Category(args.category) if args.category else None
    reads_stdin = STDIN_PATH in args.paths
    stdin_name = args.stdin_filename if args.stdin_filename else STDIN_NAME
    # An editor pipes a buffer from anywhere: its config is the named file's.
    config_start = (
        os.path.dirname(args.stdin_filename) if reads_stdin and args.stdin_filename else "."
    )
    source = SettingsSource(
        config_path=_config_path(args.config, config_start or "."),
        category=category,
        model_path=SHIPPED_MODEL if args.learned else RULES_ONLY if args.rules else args.model,
        explain=args.explain,
    )
    settings = _load_settings(source)
    if settings is None:
        return EXIT_USAGE
    from localreview.config import effective_fail_on

    fail_on, _ = effective_fail_on(settings, FailOn(args.fail_on) if args.fail_on else None)
    output_format = OutputFormat(args.format)
    for_people = output_format in (OutputFormat.TEXT, OutputFormat.PRETTY)
    paths: list[str] = list(args.paths)
    since: str | None = None
    if args.changed_since is not None:
        from localreview.changes import NotInWorkTree, changed_markdown

        try:
            since, paths = changed_markdown(args.changed_since, args.paths or ["."])
        except NotInWorkTree as failure:
            print(f"error: --changed-since: {failure}", file=sys.stderr)
            return EXIT_USAGE
        if not paths and for_people:
            note = f"note: --changed-since {args.changed_since}: no Markdown file changed"
            print(note, file=sys.stderr)

    budget = Budget(
        max_document_kb=args.max_document_kb,
        timeout_seconds=args.document_timeout,
        memory_mb=args.document_memory_mb,
    )
    selection = Selection(include=tuple(args.include), exclude=tuple(args.exclude))
    stdin = None
    if reads_stdin:
        # One byte past the cap is enough to refuse the document.
        data = sys.stdin.buffer.read(budget.max_document_bytes + 1)
        stdin = StandardInput(stdin_name, data)
    found = discover(paths, settings, selection, budget=budget, stdin=stdin)
    # The files --changed-since lists were not named: those that are not design docs
    # are left out quietly, as in a folder.
    if for_people and since is None:
        for named in found.passed:
            print(f"{named.path}: not reviewed: {_with_hint(named)}", file=sys.stderr)
    progress = Progress(
        len(found.files),
        sys.stderr,
        enabled=progress_wanted(len(found.files), args.progress, sys.stderr),
    )
    outcomes = review_files(
        found.files,
        source,
        jobs=args.jobs if args.jobs is not None else default_workers(),
        progress=progress,
        budget=budget,
        selection=selection,
        undecided=found.undecided,
        texts=found.texts,
    )
    reviewed = [outcome for outcome in outcomes if isinstance(outcome, DocumentReport)]
    minimum = Severity(args.min_severity)
    reports = [at_least(report, minimum) for report in reviewed]
    if for_people:
        _note_hidden_below(reviewed, reports, minimum)
    errors = [*found.errors, *(o for o in outcomes if isinstance(o, FileError))]
    counted = reports
    if args.changed_lines or since is not None:
        flag = "--changed-lines" if since is None else "--changed-since"
        reports, counted, change_errors = _restrict_to_changes(
            reports, flag, since, notes=for_people
        )
        errors += change_errors
    left_out = {
        item.path: item.reason
        for item in (*found.passed_in_folders, *(o for o in outcomes if isinstance(o, Passed)))
    }
    for scan in found.folders:
        if scan.files and all(path in left_out for path in scan.files):
            reasons = [left_out[path] for path in scan.files]
            note = nothing_found(scan, reasons, settings, selection)
            print(note, file=sys.stderr)
        elif not scan.files:
            print(f"note: {scan.folder}: no design docs found (no Markdown files)", file=sys.stderr)

    # Machine formats also carry the errors inside; stderr is where people look.
    for error in errors:
        print(f"{error.path}: error: {error.message}", file=sys.stderr)
    sys.stdout.write(
        render(
            output_format,
            reports,
            errors,
            color=_use_color(sys.stdout),
            pretty=sys.stdout.isatty(),
            tool_version=_tool_version() if output_format is OutputFormat.SARIF else "",
        )
    )
    if args.explain and for_people:
        sys.stdout.write("\n" + explanation_text(reports))
    sys.stdout.flush()
    code = exit_code(counted, errors, fail_on)
    return EXIT_USAGE if settings.errors else code


def _note_hidden_below(
    reviewed: Sequence[DocumentReport], shown: Sequence[DocumentReport], minimum: Severity
) -> None:
    hidden = sum(len(r.findings) for r in reviewed) - sum(len(r.findings) for r in shown)
    if hidden:
        findings = "finding" if hidden == 1 else "findings"
        note = f"note: --min-severity {minimum}: {hidden} {findings} below it not shown"
        print(note, file=sys.stderr)


def _restrict_to_changes(
    reports: Sequence[DocumentReport], flag: str, since: str | None, *, notes: bool
) -> tuple[list[DocumentReport], list[DocumentReport], list[FileError]]:
    """The reports as --changed-lines (the staged diff) or --changed-since (the diff
    since the commit `since`) shows them, the parts that decide the exit code, and
    the files whose diff could not be read."""
    from localreview.changes import NotInWorkTree, file_change, restrict

    shown: list[DocumentReport] = []
    counted: list[DocumentReport] = []
    errors: list[FileError] = []
    hidden = 0
    for report in reports:
        try:
            change = file_change(report.path, since)
        except NotInWorkTree as error:
            errors.append(FileError(report.path, f"{flag}: {error}"))
            continue
        restricted = restrict(report, change)
        shown.append(restricted.shown)
        counted.append(restricted.counted)
        hidden += restricted.hidden
    if hidden and notes:
        findings = "finding" if hidden == 1 else "findings"
        print(f"note: {flag}: {hidden} {findings} on unchanged lines not shown", file=sys.stderr)
    return shown, counted, errors


def _with_hint(passed: Passed) -> str:
    """Why a named file is not reviewed, and what would review it."""
    if passed.reason == Reason.EXCLUDED_BY_CONFIG:
        glob = _escape_glob(passed.path.replace(os.sep, "/"))
        return (
            f"{passed.reason}; a line '!{glob}' in paths.exclude (whose defaults leave out "
            "changelogs and templates), or no --exclude matching it, reviews it"
        )
    glob = _escape_glob(passed.path.replace(os.sep, "/"))
    return f"{passed.reason}; --include {shlex.quote(glob)} reviews it"


def _escape_glob(path: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]!\\" else char for char in path)


def nothing_found(
    scan: FolderScan, reasons: Sequence[str], settings: Settings, selection: Selection
) -> str:
    """What a folder without design docs says: the rules tried, in their order, why
    its Markdown files were left out, and how to include more."""
    counts = Counter(reasons)
    files = "file" if len(reasons) == 1 else "files"
    lines = [
        f"note: {scan.folder}: no design docs found among {len(reasons)} Markdown {files}:",
        *(f"  {count} {reason}" for reason, count in counts.most_common()),
        "rules tried, the first that applies decides:",
        f"  exclude: {_globs([*settings.exclude, *selection.exclude])}",
    ]
    forced = [*selection.include, *(settings.include if settings.include_is_configured else ())]
    if forced:
        lines.append(f"  include: {_globs(forced)}")
    lines.append(
        "  well-known project files (README, CONTRIBUTING, CODE_OF_CONDUCT, LICENSE, "
        "CHANGELOG, SECURITY, templates) stay out"
    )
    if not settings.include_is_configured:
        lines.append(f"  design-doc paths: {_globs(settings.include)}")
    lines += [
        "  otherwise the content is scored: headings such as Motivation, Alternatives, "
        "Drawbacks, Non-goals, Decision; metadata such as Status: or Authors:; a numbered "
        "name such as 0042-name.md",
        f"to review more: --include GLOB (e.g. --include {_folder_glob(scan.folder)}), or "
        "paths.include in .github/product-review.yml",
    ]
    return "\n".join(lines)


def _folder_glob(folder: str) -> str:
    prefix = _escape_glob(os.path.normpath(folder).replace(os.sep, "/"))
    return shlex.quote("**/*.md" if prefix == "." else f"{prefix}/**/*.md")


def _globs(globs: Sequence[str]) -> str:
    return ", ".join(globs) if globs else "(none)"


# --- config -------------------------------------------------------------------------


def run_train(args: argparse.Namespace) -> int:
    from localreview.training import LabelFileError, model_bytes, read_labels, train_model

    labels = Path(args.labels)
    synthetic_root = Path(args.synthetic_root) if args.synthetic_root else labels.parent
    try:
        documents = read_labels(labels, Path(args.corpus), synthetic_root)
    except LabelFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not documents:
        print(f"error: {labels}: no label files", file=sys.stderr)
        return EXIT_USAGE
    options_for = _training_options(args.config)
    if options_for is None:
        return EXIT_USAGE
    try:
        model = train_model(documents, options_for)
    except ModuleNotFoundError as error:
        print(f"error: training needs scikit-learn ({error}); pip install scikit-learn",
              file=sys.stderr)
        return EXIT_USAGE
    Path(args.output).write_bytes(model_bytes(model))
    print(f"{args.output}: trained on {len(documents)} documents", file=sys.stderr)
    return 0


def _training_options(config_path: str | None) -> Callable[[str], ReviewOptions] | None:
    """What `train --config` reads each document with; None (after saying why on
    stderr) when the file cannot be used. A model trained on a partly broken config
    would not match the reviews, so any problem in the file stops training."""
    if config_path is None:
        return lambda path: DEFAULT_OPTIONS
    if not os.path.isfile(config_path):
        print(f"{config_path}: error: config file not found", file=sys.stderr)
        return None
    from localreview.config import load_settings_file

    try:
        settings = load_settings_file(config_path)
    except OSError as error:
        print(f"{config_path}: error: cannot read: {error.strerror}", file=sys.stderr)
        return None
    if settings.errors:
        for problem in settings.errors:
            print(f"error: {problem}", file=sys.stderr)
        return None
    return settings.options_for


def run_config_validate(file: str | None) -> int:
    from localreview.config import repository_config, validate_file

    if file is None:
        file = str(repository_config(Path.cwd()))
    if not os.path.isfile(file):
        print(f"{file}: error: config file not found", file=sys.stderr)
        return EXIT_USAGE
    try:
        errors = validate_file(file)
    except OSError as failure:
        print(f"{file}: error: cannot read: {failure.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as failure:  # parsing never raises; this keeps a bug from a traceback
        print(f"{file}: error: {_unreadable_config(failure)}", file=sys.stderr)
        return EXIT_FINDINGS
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return EXIT_FINDINGS
    print(f"{file}: valid")
    return EXIT_OK


def run_config_show(args: argparse.Namespace) -> int:
    """The effective config of `check` run here with these options: every key, its
    value, and its source (default, the file, or the flag)."""
    from localreview.config import config_json, config_text, effective_config, effective_fail_on

    source = SettingsSource(config_path=_config_path(args.config))
    settings = _load_settings(source)
    if settings is None:
        return EXIT_USAGE
    fail_on = effective_fail_on(settings, FailOn(args.fail_on) if args.fail_on else None)
    rows = effective_config(settings, fail_on)
    if args.format == OutputFormat.JSON.value:
        sys.stdout.write(config_json(rows, source.config_path))
    else:
        sys.stdout.write(config_text(rows, source.config_path))
    return EXIT_USAGE if settings.errors else EXIT_OK


def run_config_schema() -> int:
    from localreview.config import schema_text

    text = schema_text()
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
