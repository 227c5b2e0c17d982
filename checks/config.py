"""Effective settings for a review: which files are design docs, how to judge them,
how to comment. Pure data; loading and validating `.github/product-review.yml`
builds one of these, and defaults apply otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import TypeVar

import pathspec

from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import Category, Severity

# gitignore-style globs ("gitwildmatch" is the deprecated name of the same syntax).
_GLOB_SYNTAX = "gitignore"

# Where design docs usually live. Matched (gitignore-style) against the path as
# given: a repository-relative path in the app, the path as typed in the CLI.
DEFAULT_INCLUDE: tuple[str, ...] = (
    "**/*rfc*/**/*.md",
    "**/*keps*/**/*.md",
    "**/*design*/**/*.md",
    "**/*proposal*/**/*.md",
    "**/*evolution*/**/*.md",
    "**/adr/**/*.md",
    "**/adrs/**/*.md",
    "**/decisions/**/*.md",
    "**/prd/**/*.md",
    "**/prds/**/*.md",
    "**/*-rfc.md",
    "**/*-prd.md",
    "**/*-design.md",
    "**/*-adr.md",
)
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "**/node_modules/**",
    "**/CHANGELOG.md",
    # Templates, not documents. A new Rust RFC is "0000-my-feature.md" until it
    # gets a number, so only template names are excluded, not every 0000-*.
    "**/0000-template.md",
    "**/0000-*-template.md",
    "**/NNNN-*.md",
    "**/NNNN-*/**",
    "**/template.md",
    "**/TEMPLATE.md",
    "**/templates/**",
)


class FailOn(StrEnum):
    NEVER = "never"
    SUGGESTION = "suggestion"
    WARNING = "warning"
    ERROR = "error"

    @property
    def severity(self) -> Severity | None:
        return None if self is FailOn.NEVER else Severity(self.value)


class CommentMode(StrEnum):
    CHANGED_LINES = "changed-lines"
    FILE = "file"
    OFF = "off"


@dataclass(frozen=True)
class ConfigError:
    """One problem in a config file, phrased for the person who wrote it."""

    source: str  # file the error is in, e.g. "owner/repo:.github/product-review.yml"
    key_path: str  # e.g. "dimensions.product.metrics" ("" for the whole file)
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def file_path(self) -> str:
        """The file's path inside its repository ("owner/repo:PATH" gives PATH), for an
        annotation on it; a local file's path as given."""
        repository, separator, path = self.source.partition(":")
        return path if separator and "/" in repository else self.source

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


class Layer(StrEnum):
    """Where an effective config value came from, lowest precedence first."""

    DEFAULT = "default"
    ORGANISATION = "organisation"
    EXTENDS = "_extends"
    REPOSITORY = "repository"
    FILE = "file"  # a local file given to the CLI


_V = TypeVar("_V")


def compile_globs(globs: Iterable[object]) -> pathspec.PathSpec[pathspec.Pattern]:
    """The globs as one PathSpec, leaving out any glob that does not compile.

    Validation (`checks.configfile.glob_problem`) reports bad globs with their key path;
    this keeps matching from ever raising, however the Settings were built."""
    factory = pathspec.util.lookup_pattern(_GLOB_SYNTAX)
    patterns: list[pathspec.Pattern] = []
    for glob in globs:
        if not isinstance(glob, str) or not glob:
            continue
        try:
            with warnings.catch_warnings():  # re's FutureWarning for `[[`: not for the log
                warnings.simplefilter("ignore")
                patterns.append(factory(glob))
        except Exception:  # pathspec's ValueError, or re.error from a range such as [z-a]
            continue
    return pathspec.PathSpec(patterns)


def _empty_mapping() -> Mapping[str, _V]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Settings:
    review: ReviewOptions = DEFAULT_OPTIONS
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    categories: tuple[tuple[str, Category], ...] = ()  # (glob, category), first match wins
    fail_on: FailOn = FailOn.NEVER
    max_inline: int = 10
    # The review asks at most this many questions per document, best ranked first
    # (`checks.engine.question_rank`); 0: every question.
    max_per_document: int = 0
    comment_mode: CommentMode = CommentMode.CHANGED_LINES
    drafts: bool = False
    command_associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    # The PR author may run the command whatever their association.
    command_allow_author: bool = True
    # `model: PATH`: a team's model file, by its repository-relative path. Only
    # recorded here: the CLI and the App read it and set `review.model` themselves.
    model_file: str | None = None
    errors: tuple[ConfigError, ...] = field(default=(), compare=False)
    # Provenance, for `/product-review config`: the effective config as flat key paths
    # ("comments.max_inline", "dimensions.product.metrics", "paths.include") mapped to
    # their value in config-file form, and to the Layer value that set them.
    values: Mapping[str, object] = field(default_factory=_empty_mapping, compare=False)
    sources: Mapping[str, str] = field(default_factory=_empty_mapping, compare=False)
    # The files that were applied, lowest precedence first: (layer, "owner/repo:path").
    files: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @cached_property
    def _include_spec(self) -> pathspec.PathSpec[pathspec.Pattern]:
        return compile_globs(self.include)

    @cached_property
    def _exclude_spec(self) -> pathspec.PathSpec[pathspec.Pattern]:
        return compile_globs(self.exclude)

    @cached_property
    def _category_specs(self) -> tuple[tuple[pathspec.PathSpec[pathspec.Pattern], Category], ...]:
        return tuple((compile_globs([glob]), category) for glob, category in self.categories)

    def is_included(self, path: str) -> bool:
        return bool(self._include_spec.match_file(path))

    def is_excluded(self, path: str) -> bool:
        return bool(self._exclude_spec.match_file(path))

    @property
    def include_is_configured(self) -> bool:
        """Whether a config file set `paths.include` (then it forces files in)."""
        return "paths.include" in self.sources

    def category_for(self, path: str) -> Category | None:
        for spec, category in self._category_specs:
            if spec.match_file(path):
                return category
        return None

    def options_for(self, path: str) -> ReviewOptions:
        """The engine options for one document (applies the `categories` globs)."""
        category = self.category_for(path)
        if category is None or self.review.category is not None:
            return self.review
        return replace(self.review, category=category)

    def provenance(self) -> list[tuple[str, object, str]]:
        """(key path, effective value, layer) for every configured key, sorted by key path."""
        return [
            (key, value, self.sources.get(key, Layer.DEFAULT.value))
            for key, value in sorted(self.values.items())
        ]


DEFAULT_SETTINGS = Settings()
