"""Loading a repository's `.github/product-review.yml` through the GitHub API.

Layers, lowest precedence first:

1. built-in defaults;
2. the organisation's `.github` repository, file `.github/product-review.yml`;
3. `_extends` targets named by the repository's file (`REPO`, `OWNER/REPO`,
   `REPO:PATH`, `OWNER/REPO:PATH`, as Probot reads them), deepest first;
4. the repository's own file, read from its default branch: a pull request never
   configures its own review.

API calls per load, through REST: the repository's file (1) + the organisation file
(1, none when the repository is `.github` itself, none while cached) + one per
`_extends` hop (none while cached). The review flow (and the comment command, which
makes the review's prefetch itself) reads the repository's and the organisation's
files ahead, in its one GraphQL request (`ghapp.prefetch`), and hands the loader a
`PrefetchedReader`: files it holds cost no call here (and are fresher
than the cache, so they win over it); only `_extends` targets and files the
prefetch could not give whole (truncated, binary) go through REST. Files outside
the reviewed repository are cached for a short while; every parsed file is cached
by blob SHA, so an unchanged file is never parsed twice.

Entry points: `RepoConfigLoader.load` (the review flow, the comment command) and
`RepoConfigLoader.errors_at` (problems in the config file as a pull request changes
it, for annotations on that file). The server holds one loader per app, with its
caches.
Network errors other than 404 propagate: reviewing with a config that could not be
read would silently ignore what the team configured. A file's content, however, never
makes a load fail: `parse_config` and `settings_from_layers` turn every problem into a
`ConfigError` (shown in the Check Run) and the defaults apply to what it breaks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from cachetools import LRUCache, TTLCache

from checks.config import ConfigError, Layer, Settings
from checks.configfile import (
    CONFIG_PATH,
    ExtendsTarget,
    ParsedConfig,
    parse_config,
    parse_extends,
    settings_from_layers,
)

__all__ = [
    "CONFIG_PATH",
    "MAX_EXTENDS_DEPTH",
    "ORG_CONFIG_REPO",
    "FetchedFile",
    "FileKey",
    "FileReader",
    "PrefetchedReader",
    "RepoConfigLoader",
    "file_key",
]

ORG_CONFIG_REPO = ".github"
MAX_EXTENDS_DEPTH = 5
SHARED_FILE_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class FetchedFile:
    """A file's text at some ref, and its blob SHA (the cache key)."""

    text: str
    sha: str


class FileReader(Protocol):
    """What the loader needs from the GitHub client (ghapp.github)."""

    async def fetch_file(
        self, *, owner: str, repo: str, path: str, ref: str | None = None
    ) -> FetchedFile | None:
        """The file's text and blob SHA, or None when it (or the repo) does not exist."""
        ...


# (owner, repository, path, ref): names lower-cased (GitHub's are case-insensitive);
# ref None is the repository's default branch.
FileKey = tuple[str, str, str, str | None]


def file_key(owner: str, repo: str, path: str, ref: str | None) -> FileKey:
    return (owner.lower(), repo.lower(), path, ref)


class PrefetchedReader:
    """A `FileReader` that answers from files already read (the review's GraphQL
    prefetch) and asks `fallback` (the REST client) for any other file."""

    def __init__(
        self, files: Mapping[FileKey, FetchedFile | None], *, fallback: FileReader
    ) -> None:
        self._files = dict(files)
        self._fallback = fallback

    def holds(self, *, owner: str, repo: str, path: str, ref: str | None) -> bool:
        return file_key(owner, repo, path, ref) in self._files

    async def fetch_file(
        self, *, owner: str, repo: str, path: str, ref: str | None = None
    ) -> FetchedFile | None:
        key = file_key(owner, repo, path, ref)
        if key in self._files:
            return self._files[key]
        return await self._fallback.fetch_file(owner=owner, repo=repo, path=path, ref=ref)


# Stands for a file whose bytes are not UTF-8 (the reader could not decode it).
_NOT_UTF8 = FetchedFile(text="", sha="")


def _identity(target: ExtendsTarget) -> tuple[str, str, str]:
    # GitHub owner and repository names are case-insensitive.
    return (target.owner.lower(), target.repo.lower(), target.path)


@dataclass
class _Chain:
    layers: list[tuple[str, ParsedConfig]]  # lowest precedence first
    errors: list[ConfigError]


class RepoConfigLoader:
    """Loads effective settings; holds the caches (one instance per app)."""

    def __init__(
        self,
        *,
        shared_ttl: float = SHARED_FILE_TTL_SECONDS,
        timer: Callable[[], float] = time.monotonic,
        max_cached: int = 512,
    ) -> None:
        self._parsed: LRUCache[tuple[str, str], ParsedConfig] = LRUCache(maxsize=max_cached)
        # Organisation and `_extends` files (also their absence): shared by every
        # repository of an owner and rarely edited. Never the reviewed repo's own file.
        # Keyed by the reviewed repository's owner too: an owner is one installation,
        # so one installation never sees a file read with another one's access.
        self._shared: TTLCache[tuple[str, str, str, str], FetchedFile | None] = TTLCache(
            maxsize=max_cached, ttl=shared_ttl, timer=timer
        )
        # The model file (`model: PATH`) each repository's settings named at their
        # last load: the next review asks for its blob SHA in its one GraphQL request,
        # before these settings are known again.
        self._model_paths: LRUCache[tuple[str, str], str] = LRUCache(maxsize=max_cached)

    def model_path(self, *, owner: str, repo: str) -> str | None:
        """The model file the repository's settings named at their last load, if any."""
        return self._model_paths.get((owner.lower(), repo.lower()))

    async def load(
        self, reader: FileReader, *, owner: str, repo: str, default_branch: str
    ) -> Settings:
        """The effective settings for a review of `owner/repo`."""
        # One fetch per file per load, even when two chains name the same file.
        pending: dict[tuple[str, str, str], asyncio.Task[FetchedFile | None]] = {}

        def fetch(target: ExtendsTarget, ref: str | None) -> Awaitable[FetchedFile | None]:
            key = _identity(target)
            if key not in pending:
                pending[key] = asyncio.ensure_future(
                    self._fetch(reader, target, ref, scope=owner.lower())
                )
            return pending[key]

        own = ExtendsTarget(owner, repo, CONFIG_PATH)
        chains: list[asyncio.Task[_Chain]] = []
        if repo.lower() != ORG_CONFIG_REPO:
            org = ExtendsTarget(owner, ORG_CONFIG_REPO, CONFIG_PATH)
            chains.append(
                asyncio.ensure_future(self._chain(fetch, org, Layer.ORGANISATION, ref=None))
            )
        chains.append(
            asyncio.ensure_future(self._chain(fetch, own, Layer.REPOSITORY, ref=default_branch))
        )
        try:
            loaded = await asyncio.gather(*chains)
        except BaseException:
            # Leave nothing running (or unretrieved) behind a failed load.
            everything = [*chains, *pending.values()]
            for task in everything:
                task.cancel()
            await asyncio.gather(*everything, return_exceptions=True)
            raise
        layers = [layer for chain in loaded for layer in chain.layers]
        errors = [error for chain in loaded for error in chain.errors]
        # Interpreting (like parsing) is pure Python in a thread: the interpreter hands
        # the event loop its turn every few milliseconds, so webhooks stay answered.
        settings = await asyncio.to_thread(settings_from_layers, layers, extra_errors=errors)
        repository = (owner.lower(), repo.lower())
        if settings.model_file is not None:
            self._model_paths[repository] = settings.model_file
        else:
            self._model_paths.pop(repository, None)
        return settings

    async def errors_at(
        self, reader: FileReader, *, owner: str, repo: str, ref: str
    ) -> tuple[ConfigError, ...]:
        """Problems in the repository's config file at `ref` (e.g. a PR's head commit).

        Only that file is checked (its `_extends` is not followed); an absent file has
        no problems.
        """
        target = ExtendsTarget(owner, repo, CONFIG_PATH)
        fetched = await self._fetch(reader, target, ref, scope=None)
        if fetched is None:
            return ()
        return (await self._parse(fetched, str(target))).errors

    async def _chain(
        self,
        fetch: Callable[[ExtendsTarget, str | None], Awaitable[FetchedFile | None]],
        start: ExtendsTarget,
        layer: Layer,
        *,
        ref: str | None,
    ) -> _Chain:
        """A file and the `_extends` targets it names, lowest precedence first."""
        fetched = await fetch(start, ref)
        if fetched is None:
            return _Chain([], [])
        parsed = await self._parse(fetched, str(start))
        found: list[tuple[str, ParsedConfig]] = [(layer.value, parsed)]
        errors: list[ConfigError] = []
        trail = [start]
        while parsed.extends is not None:
            target = parse_extends(parsed.extends, owner=trail[-1].owner)

            def problem(message: str, parsed: ParsedConfig = parsed) -> ConfigError:
                return ConfigError(
                    parsed.source, "_extends", message, parsed.line_of(("_extends",))
                )

            if _identity(target) in {_identity(seen) for seen in trail}:
                cycle = " → ".join(str(item) for item in (*trail, target))
                errors.append(problem(f"_extends cycle, not followed: {cycle}"))
                break
            if len(trail) > MAX_EXTENDS_DEPTH:
                errors.append(
                    problem(f"more than {MAX_EXTENDS_DEPTH} _extends levels; {target} not read")
                )
                break
            fetched_target = await fetch(target, None)
            if fetched_target is None:
                errors.append(
                    problem(f"{target} was not found (or the app cannot read that repository)")
                )
                break
            parsed = await self._parse(fetched_target, str(target))
            found.append((Layer.EXTENDS.value, parsed))
            trail.append(target)
        found.reverse()
        return _Chain(found, errors)

    async def _fetch(
        self,
        reader: FileReader,
        target: ExtendsTarget,
        ref: str | None,
        *,
        scope: str | None,
    ) -> FetchedFile | None:
        """Read a file; `scope` (the reviewing owner) allows the short-lived cache, which
        only ever holds files read at their default branch (ref None)."""
        key = (scope or "", *_identity(target))
        cacheable = scope is not None and ref is None
        prefetched = isinstance(reader, PrefetchedReader) and reader.holds(
            owner=target.owner, repo=target.repo, path=target.path, ref=ref
        )
        if cacheable and not prefetched and key in self._shared:
            return self._shared[key]
        try:
            fetched = await reader.fetch_file(
                owner=target.owner, repo=target.repo, path=target.path, ref=ref
            )
        except UnicodeDecodeError:
            fetched = _NOT_UTF8
        if cacheable:
            self._shared[key] = fetched
        return fetched

    async def _parse(self, fetched: FetchedFile, source: str) -> ParsedConfig:
        if fetched is _NOT_UTF8:
            return ParsedConfig(source, {}, errors=(ConfigError(source, "", "not UTF-8 text"),))
        key = (source, fetched.sha)
        cached = self._parsed.get(key)
        if cached is None:
            # Up to 64 KB of YAML takes a few hundred milliseconds: not on the loop.
            cached = await asyncio.to_thread(parse_config, fetched.text, source=source)
            self._parsed[key] = cached
        return cached
