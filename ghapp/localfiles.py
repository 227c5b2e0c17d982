"""Local files for `product-review check`: discovery, reading, parallel review, progress.

Every failure that belongs to one file (missing, unreadable, binary, not UTF-8, or
an engine error) becomes a `FileError` for that file; the other files are still
reviewed. Results always come back in discovery order, however the work was spread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from checks import review_document
from checks.config import DEFAULT_SETTINGS, Settings
from checks.formats import FileError
from checks.report import Category, DocumentReport

MARKDOWN_SUFFIXES = (".md", ".markdown")
# Below this many files a process pool costs more (start-up, imports) than it saves.
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
        from ghapp.localconfig import load_settings_file

        settings = load_settings_file(source.config_path)
    if source.category is not None:
        settings = replace(settings, review=replace(settings.review, category=source.category))
    return settings


def find_repository_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file for
    worktrees and submodules)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


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
    if b"\x00" in data:
        raise UnreadableFile("binary file (contains NUL bytes), not a Markdown document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise UnreadableFile(
            f"not valid UTF-8 (byte 0x{byte:02x} on line {line}); save the file as UTF-8"
        ) from None
    # A byte-order mark would hide front matter from the parser.
    return text.removeprefix("\ufeff")


def read_document(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise UnreadableFile("is a folder, not a file") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise UnreadableFile(f"cannot read: {reason[0].lower()}{reason[1:]}") from None
    return decode_document(data)


def review_file(path: str, settings: Settings) -> ReviewOutcome:
    try:
        text = read_document(path)
    except UnreadableFile as error:
        return FileError(path, str(error))
    try:
        return review_document(text, path, settings.options_for(_glob_path(path)))
    except Exception as error:  # an engine bug must not hide the other files' results
        return FileError(path, f"internal error while reviewing: {type(error).__name__}: {error}")


def _review_chunk(paths: Sequence[str], source: SettingsSource) -> list[ReviewOutcome]:
    settings = source.load()
    return [review_file(path, settings) for path in paths]


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


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
) -> list[ReviewOutcome]:
    """Review `files` in order; with `jobs` > 1 and many files, in worker processes."""
    tick: Callable[[int], None] = progress.advance if progress else (lambda count: None)
    try:
        if jobs > 1 and len(files) > PARALLEL_THRESHOLD:
            return _review_parallel(files, source, jobs, tick)
        settings = source.load()
        outcomes = []
        for path in files:
            outcomes.append(review_file(path, settings))
            tick(1)
        return outcomes
    finally:
        if progress:
            progress.finish()


def _review_parallel(
    files: Sequence[str], source: SettingsSource, jobs: int, tick: Callable[[int], None]
) -> list[ReviewOutcome]:
    chunks = plan_chunks(files, jobs)
    outcomes: list[ReviewOutcome | None] = [None] * len(files)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(chunks)))
    try:
        pending: dict[Future[list[ReviewOutcome]], list[int]] = {
            pool.submit(_review_chunk, [files[index] for index in chunk], source): chunk
            for chunk in chunks
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                for index, outcome in zip(chunk, future.result(), strict=True):
                    outcomes[index] = outcome
                tick(len(chunk))
    except BrokenProcessPool:
        # A worker died (killed, out of memory): finish the rest in this process.
        pass
    finally:
        # On Ctrl-C or an error, drop queued chunks instead of waiting for them.
        pool.shutdown(wait=True, cancel_futures=True)
    settings = source.load()
    finished: list[ReviewOutcome] = []
    for index, collected in enumerate(outcomes):
        if collected is None:
            finished.append(review_file(files[index], settings))
            tick(1)
        else:
            finished.append(collected)
    return finished
