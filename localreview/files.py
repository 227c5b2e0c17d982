"""Local files for `product-review check`: discovery, reading, parallel review, progress.

Every failure that belongs to one file (missing, unreadable, binary, not UTF-8, over
a limit of the budget, or an engine error) becomes a `FileError` for that file; the
other files are still reviewed. Results always come back in discovery order, however
the work was spread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from checks import review_document
from checks.config import DEFAULT_SETTINGS, Settings
from checks.decoding import UndecodableText, decode_text
from checks.formats import FileError
from checks.report import Category, DocumentReport
from localreview.budget import Budget, Limit, NotReviewed, WorkerPool, pool_broke

MARKDOWN_SUFFIXES = (".md", ".markdown")
# Once worker processes were only used above this many files; now every file is
# reviewed in one (for its limits). Kept for the callers that still name it.
PARALLEL_THRESHOLD = 50
MAX_CHUNK_FILES = 64
# Auto progress only for runs long enough to look stuck without it.
PROGRESS_THRESHOLD = 20

ReviewOutcome = DocumentReport | FileError


# --- settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsSource:
    """How to build the run's Settings: picklable, so worker processes rebuild the same
    Settings themselves instead of receiving (unpicklable) mapping proxies."""

    config_path: str | None = None
    category: Category | None = None

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
    return settings


# --- discovery ----------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    files: tuple[str, ...]  # display paths, in the order they will be reported
    errors: tuple[FileError, ...]
    notes: tuple[str, ...]  # harmless remarks for stderr, e.g. a folder without design docs


def _display_path(path: str) -> str:
    return os.path.normpath(path)


def _glob_path(path: str) -> str:
    # Globs are written with "/" whatever the platform.
    return path.replace(os.sep, "/")


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _walk_markdown(folder: str) -> Iterator[str]:
    """Markdown files under `folder`, sorted, skipping hidden folders such as `.git`."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_markdown(name):
                yield os.path.join(root, name)


def discover(paths: Sequence[str], settings: Settings) -> Discovery:
    """Files to review: files as given (any Markdown file), folders walked and filtered
    with the design-doc globs on the path as typed joined with the relative path."""
    files: list[str] = []
    errors: list[FileError] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(_display_path(path))

    for path in paths:
        if os.path.isdir(path):
            matched = 0
            for candidate in _walk_markdown(path):
                if settings.is_design_doc(_glob_path(_display_path(candidate))):
                    matched += 1
                    add(candidate)
            if matched == 0:
                notes.append(
                    f"{path}: no design docs found (folders are filtered with the include "
                    "globs; name a file to review it regardless)"
                )
        elif os.path.exists(path):
            if is_markdown(path):
                add(path)
            else:
                errors.append(FileError(path, "not a Markdown file (.md or .markdown)"))
        else:
            errors.append(FileError(path, "no such file or folder"))
    return Discovery(tuple(files), tuple(errors), tuple(notes))


# --- reading and reviewing ----------------------------------------------------------


class UnreadableFile(Exception):
    """The file cannot be reviewed; the message says why, for the person who ran us."""


def decode_document(data: bytes) -> str:
    """A file's text: UTF-8, or UTF-16/UTF-32 (see checks.decoding), byte-order mark
    dropped (it would hide front matter from the parser)."""
    try:
        return decode_text(data)
    except UndecodableText as error:
        raise UnreadableFile(str(error)) from None


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
        reason = error.strerror or str(error)
        raise UnreadableFile(f"cannot read: {reason[0].lower()}{reason[1:]}") from None
    return decode_document(data)


def review_file(path: str, settings: Settings, budget: Budget | None = None) -> ReviewOutcome:
    """One file reviewed in this process; `budget` gives the size cap (the time and
    memory limits need a worker process: see `review_files`)."""
    budget = budget or Budget()
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


def _review_in_worker(path: str, source: SettingsSource, budget: Budget) -> ReviewOutcome:
    return review_file(path, source.load(), budget)


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
) -> list[ReviewOutcome]:
    """Review `files` in order, each in a worker process within `budget`: a file
    over a limit is a `FileError` saying which, and the others are still reviewed."""
    tick: Callable[[int], None] = progress.advance if progress else (lambda count: None)
    try:
        if not files:
            return []
        return _review_parallel(files, source, jobs, tick, budget or Budget())
    finally:
        if progress:
            progress.finish()


def _review_parallel(
    files: Sequence[str],
    source: SettingsSource,
    jobs: int,
    tick: Callable[[int], None],
    budget: Budget,
) -> list[ReviewOutcome]:
    # "fork": this process has no threads of its own and has imported the engine
    # already, so a worker is ready in a millisecond (a forkserver costs ~0.5 s).
    pool = WorkerPool(budget, workers=min(jobs, len(files)), start_method="fork")
    outcomes: list[ReviewOutcome | None] = [None] * len(files)
    try:
        # Largest first, so that no big document is left to finish alone at the end.
        order = [index for chunk in plan_chunks(files, jobs) for index in chunk]
        pending = {
            pool.submit(budget.timeout_seconds, _review_in_worker, files[index], source, budget): (
                index
            )
            for index in order
        }
        for future in as_completed(pending):
            index = pending[future]
            if pool_broke(future):  # not this file's doing: once more, on a fresh pool
                future = pool.submit(
                    budget.timeout_seconds, _review_in_worker, files[index], source, budget
                )
            outcomes[index] = _collected(pool, future, files[index])
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
