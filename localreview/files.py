"""Local files for `product-review check`: discovery, reading, parallel review, progress.

Every failure that belongs to one file (missing, unreadable, binary, not UTF-8, over
a limit of the budget, or an engine error) becomes a `FileError` for that file; the
other files are still reviewed. Results always come back in discovery order, however
the work was spread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from checks import review_document
from checks.config import DEFAULT_SETTINGS, Settings
from checks.decoding import UndecodableText, decode_text
from checks.discovery import (
    SCANNED_CHARS,
    Decision,
    Reason,
    decide_by_content,
    decide_by_path,
    is_markdown,
)
from checks.formats import FileError
from checks.learned import LearnedModel
from checks.report import Category, DocumentReport
from localreview.budget import Budget, Limit, NotReviewed, WorkerPool, pool_broke
from localreview.config import find_repository_root

# Once worker processes were only used above this many files; now every file is
# reviewed in one (for its limits). Kept for the callers that still name it.
PARALLEL_THRESHOLD = 50
MAX_CHUNK_FILES = 64
# Auto progress only for runs long enough to look stuck without it.
PROGRESS_THRESHOLD = 20


# --- settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsSource:
    """How to build the run's Settings: picklable, so worker processes rebuild the same
    Settings themselves instead of receiving (unpicklable) mapping proxies."""

    config_path: str | None = None
    category: Category | None = None
    # The learned layer: a model file (`product-review train`), SHIPPED_MODEL for the
    # one in the package, RULES_ONLY for none (the rules judge the dimensions); None:
    # as the config says (the shipped one by default).
    model_path: str | None = None
    # Evidence blocks per dimension to rank and report (`check --explain`); 0: none.
    explain: int = 0

    def load(self) -> Settings:
        return _load_settings(self)


@lru_cache(maxsize=8)
def _load_settings(source: SettingsSource) -> Settings:
    settings = DEFAULT_SETTINGS
    if source.config_path is not None:
        from localreview.config import load_settings_file

        settings = load_settings_file(source.config_path)
    if source.category is not None:
        settings = replace(settings, review=replace(settings.review, category=source.category))
    if source.model_path is not None:  # `--model FILE`, `--learned`, `--rules` win over the config
        from localreview.model import RULES_ONLY, load_model

        model = None if source.model_path == RULES_ONLY else load_model(source.model_path)
        settings = replace(settings, review=replace(settings.review, model=model))
    elif settings.model_file is not None:
        team = _team_model(source, settings.model_file)
        settings = replace(settings, review=replace(settings.review, model=team))
    if source.explain:
        settings = replace(settings, review=replace(settings.review, explain=source.explain))
    return settings


def _team_model(source: SettingsSource, model_file: str) -> LearnedModel:
    """The model file the config names (`model: PATH`), from the repository root."""
    from localreview.model import ModelFileError, load_model, model_root

    path = model_root(source.config_path, Path.cwd()) / model_file
    try:
        return load_model(str(path))
    except ModelFileError as error:
        raise ModelFileError(f"{source.config_path}: model: {error}") from None


# --- discovery ----------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The command line's `--include` / `--exclude` globs, which count as the config's
    (`checks.discovery`): picklable, so the workers decide with the same rules."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def by_path(self, path: str, settings: Settings) -> Decision | None:
        return decide_by_path(
            _glob_path(path), settings, include=self.include, exclude=self.exclude
        )

    def by_content(self, path: str, text: str) -> Decision:
        """For a file `by_path` left undecided."""
        return decide_by_content(_glob_path(path), text)


# A walked file whose path does not settle it and whose text cannot be decoded.
UNREADABLE = "could not be read to judge its content"


@dataclass(frozen=True)
class Passed:
    """A Markdown file that is not reviewed, and why (a `Reason`, or UNREADABLE)."""

    path: str
    reason: str


ReviewOutcome = DocumentReport | FileError | Passed


@dataclass(frozen=True)
class FolderScan:
    """The Markdown files found under one folder given on the command line."""

    folder: str
    files: tuple[str, ...]  # display paths, each also in `Discovery.files` or `.passed`


@dataclass(frozen=True)
class StandardInput:
    """The document handed over on standard input (`-` as a path)."""

    name: str  # what the report calls it, and the path its globs are matched on
    data: bytes


STDIN_PATH = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class Discovery:
    files: tuple[str, ...]  # display paths, in the order they will be reported
    errors: tuple[FileError, ...]
    # Files in `files` whose content decides, once read by the worker reviewing them.
    undecided: frozenset[str] = frozenset()
    # Text already read (files named on the command line, standard input).
    texts: Mapping[str, str] = field(default_factory=dict)
    # Named on the command line, and not reviewed: each gets a line on stderr.
    passed: tuple[Passed, ...] = ()
    folders: tuple[FolderScan, ...] = ()
    # Found in folders and left out by their path alone (no reading needed).
    passed_in_folders: tuple[Passed, ...] = ()


def _display_path(path: str) -> str:
    return os.path.normpath(path)


def _glob_path(path: str) -> str:
    """The path globs and the content rule see: relative to the root of the git work
    tree holding the file, as the App sees it, so that `check .`, `check docs` and
    `check /abs/path` decide alike. Outside a work tree: relative to the current
    folder when under it, else as given. Globs are written with "/" on every
    platform."""
    absolute = os.path.abspath(path)
    root = _work_tree_root(os.path.dirname(absolute))
    if root is None:
        here = os.getcwd()
        root = here if absolute.startswith(here + os.sep) else None
    shown = os.path.relpath(absolute, root) if root is not None else path
    return shown.replace(os.sep, "/")


@lru_cache(maxsize=4096)
def _work_tree_root(folder: str) -> str | None:
    found = find_repository_root(Path(folder))
    return str(found) if found is not None else None


def _walk_markdown(folder: str) -> Iterator[str]:
    """Markdown files under `folder`, sorted, skipping hidden folders such as `.git`
    and `node_modules` (also a default exclude: never worth walking)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        for name in sorted(files):
            if is_markdown(name):
                yield os.path.join(root, name)


def discover(
    paths: Sequence[str],
    settings: Settings,
    selection: Selection | None = None,
    *,
    budget: Budget | None = None,
    stdin: StandardInput | None = None,
) -> Discovery:
    """Files to review, with the rules of `checks.discovery`: folders are walked for
    Markdown files, and those and the files named are kept when they are design
    documents. The path the rules see is the path as typed (joined with the path
    inside a folder). A walked file that its path does not settle is left for the
    worker reviewing it to read and decide; a named one is read and decided here.
    `-` is the document on `stdin`, always reviewed."""
    selection = selection or Selection()
    budget = budget or Budget()
    files: list[str] = []
    errors: list[FileError] = []
    texts: dict[str, str] = {}
    undecided: set[str] = set()
    passed: list[Passed] = []
    folders: list[FolderScan] = []
    passed_in_folders: list[Passed] = []
    seen: set[str] = set()

    def first_time(path: str) -> bool:
        key = STDIN_PATH if path == STDIN_PATH else os.path.realpath(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    for path in paths:
        if path == STDIN_PATH:
            if stdin is not None and first_time(path):
                _add_standard_input(stdin, budget, files, texts, errors)
        elif os.path.isdir(path):
            found: list[str] = []
            for candidate in _walk_markdown(path):
                if not first_time(candidate):
                    continue
                shown = _display_path(candidate)
                found.append(shown)
                decision = selection.by_path(shown, settings)
                if decision is None:
                    undecided.add(shown)
                    files.append(shown)
                elif decision.reviewed:
                    files.append(shown)
                else:
                    passed_in_folders.append(Passed(shown, decision.reason))
            folders.append(FolderScan(path, tuple(found)))
        elif os.path.exists(path):
            if first_time(path):
                outcome = _decide_named(_display_path(path), settings, selection, budget)
                if isinstance(outcome, Passed):
                    passed.append(outcome)
                elif isinstance(outcome, FileError):
                    errors.append(outcome)
                else:
                    shown, text = outcome
                    files.append(shown)
                    if text is not None:
                        texts[shown] = text
        else:
            errors.append(FileError(path, "no such file or folder"))
    return Discovery(
        files=tuple(files),
        errors=tuple(errors),
        undecided=frozenset(undecided),
        texts=texts,
        passed=tuple(passed),
        folders=tuple(folders),
        passed_in_folders=tuple(passed_in_folders),
    )


def _add_standard_input(
    stdin: StandardInput,
    budget: Budget,
    files: list[str],
    texts: dict[str, str],
    errors: list[FileError],
) -> None:
    if len(stdin.data) > budget.max_document_bytes:
        errors.append(not_reviewed_error(budget.too_large(stdin.name)))
        return
    try:
        texts[stdin.name] = decode_document(stdin.data)
    except UnreadableFile as error:
        errors.append(FileError(stdin.name, str(error)))
        return
    files.append(stdin.name)


def _decide_named(
    path: str, settings: Settings, selection: Selection, budget: Budget
) -> Passed | FileError | tuple[str, str | None]:
    """A file named on the command line: not reviewed (and why), unreadable, or to
    review (with its text when it had to be read to decide)."""
    decision = selection.by_path(path, settings)
    if decision is not None:
        if decision.reason is Reason.NOT_MARKDOWN:
            return FileError(path, "not a Markdown file (.md or .markdown)")
        return (path, None) if decision.reviewed else Passed(path, decision.reason)
    try:
        text, whole = read_for_decision(path, budget.max_document_bytes)
    except DocumentTooLarge:
        # Its start cannot be decoded either: reported as it always was, by its size.
        return not_reviewed_error(budget.too_large(path))
    except UndecodableFile:
        # Nothing says it is a design doc, and its content cannot tell: a Latin-1
        # notes page handed over by the pre-commit hook must not fail the commit.
        return Passed(path, UNREADABLE)
    except UnreadableFile as error:
        return FileError(path, str(error))
    decision = selection.by_content(path, text)
    if not decision.reviewed:
        return Passed(path, decision.reason)
    return (path, text) if whole else not_reviewed_error(budget.too_large(path))


# --- reading and reviewing ----------------------------------------------------------


class UnreadableFile(Exception):
    """The file cannot be reviewed; the message says why, for the person who ran us."""


class UndecodableFile(UnreadableFile):
    """The file was read, but its bytes are not text in an encoding we accept."""


def decode_document(data: bytes) -> str:
    """A file's text: UTF-8, or UTF-16/UTF-32 (see checks.decoding), byte-order mark
    dropped (it would hide front matter from the parser)."""
    try:
        return decode_text(data)
    except UndecodableText as error:
        raise UndecodableFile(str(error)) from None


class DocumentTooLarge(Exception):
    """The file is over the size cap; nothing past the cap was read."""


def read_document(path: str, max_bytes: int | None = None) -> str:
    try:
        with Path(path).open("rb") as file:
            if max_bytes is None:
                data = file.read()
            else:
                # The size first, then a bounded read whatever it said (a file that
                # grows meanwhile, a device): the cap is never read past.
                if os.fstat(file.fileno()).st_size > max_bytes:
                    raise DocumentTooLarge(path)
                data = file.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise DocumentTooLarge(path)
    except IsADirectoryError:
        raise UnreadableFile("is a folder, not a file") from None
    except OSError as error:
        raise UnreadableFile(_cannot_read(error)) from None
    return decode_document(data)


def _cannot_read(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"cannot read: {reason[0].lower()}{reason[1:]}"


def read_for_decision(path: str, max_bytes: int | None) -> tuple[str, bool]:
    """The text to decide on, and whether it is the whole file: a file over
    `max_bytes` gives only its first `SCANNED_CHARS` characters (all the rules
    read), and raises DocumentTooLarge when even that cannot be decoded."""
    try:
        return read_document(path, max_bytes), True
    except DocumentTooLarge:
        pass
    try:
        with Path(path).open("rb") as file:
            # UTF-32 is the widest: four bytes a character.
            start = file.read(4 * SCANNED_CHARS)
    except OSError as error:
        raise UnreadableFile(_cannot_read(error)) from None
    return _decoded_start(start, path), False


def _decoded_start(data: bytes, path: str) -> str:
    # The cut may split a character: drop up to three bytes to find its boundary.
    for cut in range(4):
        try:
            return decode_text(data[: len(data) - cut])[:SCANNED_CHARS]
        except UndecodableText:
            continue
    raise DocumentTooLarge(path)


def review_file(
    path: str,
    settings: Settings,
    budget: Budget | None = None,
    *,
    selection: Selection | None = None,
    text: str | None = None,
) -> ReviewOutcome:
    """One file reviewed in this process; `budget` gives the size cap (the time and
    memory limits need a worker process: see `review_files`). With `selection`, the
    file is first read and decided (`checks.discovery`), and a file that is not a
    design document is `Passed`; `text` is the file's, already read."""
    budget = budget or Budget()
    if text is None and selection is not None:
        try:
            text, whole = read_for_decision(path, budget.max_document_bytes)
        except (UnreadableFile, DocumentTooLarge):
            return Passed(path, UNREADABLE)
        decision = selection.by_content(path, text)
        if not decision.reviewed:
            return Passed(path, decision.reason)
        if not whole:
            return not_reviewed_error(budget.too_large(path))
    if text is None:
        try:
            text = read_document(path, budget.max_document_bytes)
        except UnreadableFile as error:
            return FileError(path, str(error))
        except DocumentTooLarge:
            return not_reviewed_error(budget.too_large(path))
    try:
        return review_document(text, path, settings.options_for(_glob_path(path)))
    except MemoryError:
        raise  # the memory limit, which the caller reports as such
    except Exception as error:  # an engine bug must not hide the other files' results
        return FileError(path, f"internal error while reviewing: {type(error).__name__}: {error}")


# The command-line option that raises each limit, for the message.
_LIMIT_OPTIONS = {
    Limit.SIZE: "--max-document-kb",
    Limit.TIME: "--document-timeout",
    Limit.MEMORY: "--document-memory-mb",
}


def not_reviewed_error(document: NotReviewed) -> FileError:
    return FileError(
        document.path,
        f"{document.message} (raise the limit with {_LIMIT_OPTIONS[document.limit]})",
        over_limit=True,
    )


def _review_in_worker(
    path: str,
    source: SettingsSource,
    budget: Budget,
    selection: Selection | None = None,
    text: str | None = None,
) -> ReviewOutcome:
    return review_file(path, source.load(), budget, selection=selection, text=text)


# --- progress -----------------------------------------------------------------------


class Progress:
    """A single self-overwriting status line on a terminal (stderr)."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.done = 0
        self._last_draw = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        # Redrawing on every file would cost more than reviewing it.
        if now - self._last_draw >= 0.1 or self.done >= self.total:
            self._last_draw = now
            percent = 100 * self.done // max(1, self.total)
            self.stream.write(f"\rreviewing {self.done}/{self.total} files ({percent}%)")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def progress_wanted(total: int, flag: bool | None, stream: TextIO) -> bool:
    """`flag` is the command line's --progress/--no-progress; None means automatic."""
    if flag is not None:
        return flag
    return total >= PROGRESS_THRESHOLD and stream.isatty()


# --- the run ------------------------------------------------------------------------


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # the worker will report why it cannot read the file


def plan_chunks(files: Sequence[str], jobs: int) -> list[list[int]]:
    """Indices of `files` grouped into work items, largest files first.

    Review time grows with document size, so handing out the big documents first and
    the small ones last keeps every worker busy until the end (no straggler holding
    one large chunk). Chunks hold about 1/16 of a worker's share of the bytes: enough
    to amortise sending the results back, small enough to balance and show progress.
    """
    sizes = [_file_size(path) for path in files]
    order = sorted(range(len(files)), key=lambda index: (-sizes[index], index))
    budget = max(1, sum(sizes) // (jobs * 16))
    chunks: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for index in order:
        current.append(index)
        current_bytes += sizes[index]
        if current_bytes >= budget or len(current) >= MAX_CHUNK_FILES:
            chunks.append(current)
            current, current_bytes = [], 0
    if current:
        chunks.append(current)
    return chunks


def review_files(
    files: Sequence[str],
    source: SettingsSource,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    budget: Budget | None = None,
    selection: Selection | None = None,
    undecided: Collection[str] = frozenset(),
    texts: Mapping[str, str] | None = None,
) -> list[ReviewOutcome]:
    """Review `files` in order, each in a worker process within `budget`: a file
    over a limit is a `FileError` saying which, and the others are still reviewed.
    The files in `undecided` are first read and decided with `selection` by their
    worker (a `Passed` when not design documents); `texts` holds the text of files
    already read (standard input), sent to the worker instead of its path."""
    tick: Callable[[int], None] = progress.advance if progress else (lambda count: None)
    work = [
        _Work(
            path,
            selection or Selection() if path in undecided else None,
            texts.get(path) if texts else None,
        )
        for path in files
    ]
    try:
        if not files:
            return []
        return _review_parallel(work, source, jobs, tick, budget or Budget())
    finally:
        if progress:
            progress.finish()


@dataclass(frozen=True)
class _Work:
    path: str
    selection: Selection | None
    text: str | None

    def submit(
        self, pool: WorkerPool, source: SettingsSource, budget: Budget
    ) -> Future[ReviewOutcome]:
        return pool.submit(
            budget.timeout_seconds,
            _review_in_worker,
            self.path,
            source,
            budget,
            self.selection,
            self.text,
        )


def _review_parallel(
    work: Sequence[_Work],
    source: SettingsSource,
    jobs: int,
    tick: Callable[[int], None],
    budget: Budget,
) -> list[ReviewOutcome]:
    # "fork": this process has no threads of its own and has imported the engine
    # already, so a worker is ready in a millisecond (a forkserver costs ~0.5 s).
    pool = WorkerPool(budget, workers=min(jobs, len(work)), start_method="fork")
    outcomes: list[ReviewOutcome | None] = [None] * len(work)
    try:
        # Largest first, so that no big document is left to finish alone at the end.
        order = [
            index for chunk in plan_chunks([item.path for item in work], jobs) for index in chunk
        ]
        pending = {work[index].submit(pool, source, budget): index for index in order}
        for future in as_completed(pending):
            index = pending[future]
            if pool_broke(future):  # not this file's doing: once more, on a fresh pool
                future = work[index].submit(pool, source, budget)
            outcomes[index] = _collected(pool, future, work[index].path)
            tick(1)
    finally:
        # On Ctrl-C or an error, stop the workers instead of waiting for them.
        pool.close()
    return [outcome for outcome in outcomes if outcome is not None]


def _collected(pool: WorkerPool, future: Future[ReviewOutcome], path: str) -> ReviewOutcome:
    try:
        outcome = pool.document_outcome(future, path)
    except Exception as error:  # a bug in a worker must not hide the other files' results
        return FileError(path, f"internal error while reviewing: {type(error).__name__}: {error}")
    return not_reviewed_error(outcome) if isinstance(outcome, NotReviewed) else outcome
