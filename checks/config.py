"""Effective settings for a review: which files are design docs, how to judge them,
how to comment. Pure data; loading and validating `.github/product-review.yml`
builds one of these (see the config issue), and defaults apply otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import pathspec

from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import Category, Severity

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
    "**/*template*.md",
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

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


@dataclass(frozen=True)
class Settings:
    review: ReviewOptions = DEFAULT_OPTIONS
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    categories: tuple[tuple[str, Category], ...] = ()  # (glob, category), first match wins
    fail_on: FailOn = FailOn.NEVER
    max_inline: int = 10
    comment_mode: CommentMode = CommentMode.CHANGED_LINES
    drafts: bool = False
    command_associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    errors: tuple[ConfigError, ...] = field(default=(), compare=False)

    @cached_property
    def _include_spec(self) -> pathspec.PathSpec:
        return pathspec.PathSpec.from_lines("gitwildmatch", self.include)

    @cached_property
    def _exclude_spec(self) -> pathspec.PathSpec:
        return pathspec.PathSpec.from_lines("gitwildmatch", self.exclude)

    @cached_property
    def _category_specs(self) -> tuple[tuple[pathspec.PathSpec, Category], ...]:
        return tuple(
            (pathspec.PathSpec.from_lines("gitwildmatch", [glob]), category)
            for glob, category in self.categories
        )

    def is_design_doc(self, path: str) -> bool:
        return self._include_spec.match_file(path) and not self._exclude_spec.match_file(path)

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
        from dataclasses import replace

        return replace(self.review, category=category)


DEFAULT_SETTINGS = Settings()
