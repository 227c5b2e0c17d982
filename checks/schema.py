"""The JSON Schema of `.github/product-review.yml`, generated.

Every list of ids in it (dimensions, line checks, categories, severities) comes
from the rule registry and the enums, so a new rule appears in the schema by
regenerating it: `python scripts/regenerate.py` writes `config_schema_text()` to
`checks/product-review.schema.json`, the file the config loader reads (and
`product-review config schema` prints), and a test fails while the two differ.
"""

from __future__ import annotations

import json
from typing import Any

from checks.config import CommentMode, FailOn
from checks.enums import Category, Requirement, Severity
from checks.rules import DIMENSION_RULES, LINE_CHECK_RULES

# GitHub's author_association values.
_ASSOCIATIONS = (
    "OWNER",
    "MEMBER",
    "COLLABORATOR",
    "CONTRIBUTOR",
    "FIRST_TIME_CONTRIBUTOR",
    "FIRST_TIMER",
    "MANNEQUIN",
    "NONE",
)
_NUMBER_WORDS: tuple[str, ...] = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
)


def _count(number: int) -> str:
    return _NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else str(number)


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


def _each(ids: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema for every id, as JSON Schema `properties`."""
    return {key: dict(schema) for key in ids}


def config_schema() -> dict[str, Any]:
    dimensions = [rule.id for rule in DIMENSION_RULES]
    checks = [rule.id for rule in LINE_CHECK_RULES]
    categories = _values(Category)
    severities = _values(Severity)
    globs = {"type": "array", "items": {"$ref": "#/$defs/glob"}, "maxItems": 100}
    phrases = {"type": "array", "items": {"$ref": "#/$defs/phrase"}, "maxItems": 50}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "product-review configuration (.github/product-review.yml)",
        "description": "Tunes which files the product review reads, what it asks, and whether "
        "it may fail a check.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "_extends": {
                "type": "string",
                "maxLength": 300,
                "pattern": r"^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}/)?[A-Za-z0-9._-]{1,100}"
                r"(?::[^\s:][^\n]*)?$",
                "description": "REPO, OWNER/REPO, REPO:PATH or OWNER/REPO:PATH: another config "
                "this one builds on (Probot's _extends)",
            },
            "paths": {
                "type": "object",
                "additionalProperties": False,
                "description": "Which changed files are design docs.",
                "properties": {
                    "include": {
                        **globs,
                        "description": "Globs of design docs (replaces the built-in list).",
                    },
                    "exclude": {
                        **globs,
                        "description": "Globs never reviewed, even when included (replaces "
                        "the built-in list).",
                    },
                },
            },
            "categories": {
                "type": "object",
                "maxProperties": 100,
                "description": "Glob -> category, for folders whose docs share one kind of "
                "work. First match wins; front matter still wins.",
                "propertyNames": {"$ref": "#/$defs/glob"},
                "additionalProperties": {"type": "string", "enum": categories},
            },
            "dimensions": {
                "type": "object",
                "additionalProperties": False,
                "description": f"Per category: which of the {_count(len(dimensions))} "
                "dimensions are required, optional or off, and the severity of a gap.",
                "properties": _each(categories, {"$ref": "#/$defs/dimensionTable"}),
            },
            "checks": {
                "type": "object",
                "additionalProperties": False,
                "description": "Line-level findings: each on/off and its severity.",
                "properties": _each(checks, {"$ref": "#/$defs/checkPolicy"}),
            },
            "aliases": {
                "type": "object",
                "additionalProperties": False,
                "description": "Extra headings that count for a dimension (plain phrases, "
                "never regular expressions).",
                "properties": _each(dimensions, phrases),
            },
            "questions": {
                "type": "object",
                "additionalProperties": False,
                "description": "The team's own wording of a dimension's question.",
                "properties": _each(
                    dimensions, {"type": "string", "minLength": 1, "maxLength": 500}
                ),
            },
            "model": {
                "type": "string",
                "maxLength": 200,
                # rules, learned, or a relative path to a .json file: no empty, '.' or
                # '..' segment (the lookahead), one segment after another.
                "pattern": r"^(?:rules|learned|(?:(?!\.\.?/)[A-Za-z0-9._-]+/)*"
                r"[A-Za-z0-9._-]*\.json)$",
                "default": "learned",
                "description": "What judges the nine dimensions: the learned layer shipped "
                "in the package (learned, the default), the rules alone (rules), or a team's "
                "own model file (`product-review train`) by its repository-relative path "
                "ending in .json (the category is the learned one either way).",
            },
            "fail_on": {
                "type": "string",
                "enum": _values(FailOn),
                "default": FailOn.NEVER.value,
                "description": "The lowest finding severity that makes the Check Run conclude "
                "failure (never: it never fails).",
            },
            "comments": {
                "type": "object",
                "additionalProperties": False,
                "description": "How the pull-request review comments.",
                "properties": {
                    "max_inline": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 50,
                        "default": 10,
                        "description": "At most this many inline comments per review; the "
                        "rest go to the review body.",
                    },
                    "max_per_document": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 100,
                        "default": 0,
                        "description": "At most this many questions per document in the "
                        "review, the most important first (0: all); the Check Run still "
                        "lists every one.",
                    },
                    "mode": {
                        "type": "string",
                        "enum": _values(CommentMode),
                        "default": CommentMode.CHANGED_LINES.value,
                        "description": "changed-lines: each question inline on its changed "
                        "line; file: one inline comment per document; off: no inline "
                        "comments, everything in the review body.",
                    },
                },
            },
            "drafts": {
                "type": "boolean",
                "default": False,
                "description": "Review draft pull requests too.",
            },
            "command": {
                "type": "object",
                "additionalProperties": False,
                "description": "Who may run the /product-review comment command.",
                "properties": {
                    "associations": {
                        "type": "array",
                        "maxItems": 10,
                        "uniqueItems": True,
                        "items": {"type": "string", "enum": list(_ASSOCIATIONS)},
                        "default": ["OWNER", "MEMBER", "COLLABORATOR"],
                        "description": "Author associations (GitHub's author_association) "
                        "allowed to run the command.",
                    },
                    "allow_author": {
                        "type": "boolean",
                        "default": True,
                        "description": "Whether the pull request's author may run it whatever "
                        "their association.",
                    },
                },
            },
        },
        "$defs": {
            "glob": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "A gitignore-style glob matched against the repository-relative "
                "path.",
            },
            "phrase": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "A plain phrase (never a regular expression).",
            },
            "dimensionPolicy": {
                "description": "How much a dimension matters: a requirement alone, or a mapping "
                "with requirement and/or the severity of a gap.",
                "anyOf": [
                    {"type": "string", "enum": _values(Requirement)},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "requirement": {
                                "type": "string",
                                "enum": _values(Requirement),
                                "description": "required: a gap is a finding; optional: shown "
                                "in the scorecard, never a finding; off: not asked.",
                            },
                            "severity": {
                                "type": "string",
                                "enum": severities,
                                "description": "Severity of a missing dimension (a weak one is "
                                "one step lower).",
                            },
                        },
                    },
                ],
            },
            "dimensionTable": {
                "type": "object",
                "additionalProperties": False,
                "description": f"The {_count(len(dimensions))} dimensions for one category.",
                "properties": _each(dimensions, {"$ref": "#/$defs/dimensionPolicy"}),
            },
            "checkPolicy": {
                "description": "on / off / a severity, or a mapping with enabled and severity.",
                "anyOf": [
                    {"type": "string", "enum": ["on", "off", *severities]},
                    {"type": "boolean"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "enabled": {"type": "boolean"},
                            "severity": {"type": "string", "enum": severities},
                        },
                    },
                ],
            },
        },
    }


def config_schema_text() -> str:
    """The schema file's exact text."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
