"""Parse, validate and merge `.github/product-review.yml` files. Pure: text in, data out.

The flow for one file is `parse_config` (YAML with bounds → JSON Schema validation →
canonical form); layers are combined with `merge_layers` and turned into `Settings`
by `settings_from_layers`. `parse_settings` does all of it for a single file on top of
the defaults (the CLI's `--config FILE`). Reading files and following `_extends`
through the GitHub API happens in `ghapp.repoconfig` / `localreview.config`.

A broken file never silently falls back: every problem becomes a `ConfigError`, and
only the offending keys are dropped; the valid parts still apply.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import pathspec
import yaml

from checks import boundedyaml
from checks.config import (
    DEFAULT_SETTINGS,
    CommentMode,
    ConfigError,
    FailOn,
    Layer,
    Settings,
)
from checks.learned import shipped_model
from checks.options import CheckPolicy, DimensionPolicy, ReviewOptions
from checks.report import Category, Requirement, Severity
from checks.rules import DIMENSION_BY_ID, did_you_mean

if TYPE_CHECKING:
    import jsonschema

CONFIG_PATH = ".github/product-review.yml"
SCHEMA_RESOURCE = "product-review.schema.json"

MAX_CONFIG_BYTES = 64 * 1024
# Bound on the YAML node graph once aliases are expanded: a real config has a few
# hundred nodes; an alias bomb ("billion laughs") has billions.
MAX_EXPANDED_NODES = 10_000
MAX_NESTING = 32
CONFIG_LIMITS = boundedyaml.YamlLimits(
    max_bytes=MAX_CONFIG_BYTES, max_nodes=MAX_EXPANDED_NODES, max_depth=MAX_NESTING
)

# Globs become regular expressions inside pathspec. These bounds keep the number of
# wildcards (and so the backtracking a hostile path can force) small.
MAX_DOUBLE_STAR_SEGMENTS = 3
MAX_WILDCARDS_PER_SEGMENT = 3

KeyPath = tuple[str | int, ...]
_T = TypeVar("_T")


# --------------------------------------------------------------------------- schema


@cache
def schema_text() -> str:
    """The JSON Schema of the config file, as shipped in the package."""
    return resources.files("checks").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@cache
def schema() -> Mapping[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@cache
def _validator() -> jsonschema.protocols.Validator:
    # Imported on first use: most command-line runs have no config file to validate,
    # and the import is a large part of the command's start-up time.
    import jsonschema.validators

    validator_class = jsonschema.validators.validator_for(schema())
    return validator_class(schema())


# ----------------------------------------------------------------------------- YAML

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _ConfigLoader(boundedyaml.BoundedLoader):
    """Bounded SafeLoader with YAML 1.2 booleans: only true/false are booleans, so `off`
    stays the word "off" (a requirement, a check switch) instead of becoming false."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _key_positions(root: yaml.Node) -> tuple[dict[KeyPath, tuple[int, int]], list[ConfigError]]:
    """Line and column (1-based) of every key and list item, and duplicate keys."""
    positions: dict[KeyPath, tuple[int, int]] = {}
    duplicates: list[ConfigError] = []

    def walk(node: yaml.Node, path: KeyPath) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                child = (*path, key_node.value)
                mark = key_node.start_mark
                if key_node.value in seen:
                    duplicates.append(
                        ConfigError(
                            "",
                            render_key_path(child),
                            "duplicate key; the last one wins",
                            mark.line + 1,
                            mark.column + 1,
                        )
                    )
                seen.add(key_node.value)
                positions.setdefault(child, (mark.line + 1, mark.column + 1))
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                mark = item.start_mark
                positions.setdefault((*path, index), (mark.line + 1, mark.column + 1))
                walk(item, (*path, index))

    walk(root, ())
    return positions, duplicates


@dataclass(frozen=True)
class _LoadedYaml:
    data: Any
    positions: Mapping[KeyPath, tuple[int, int]]
    errors: tuple[ConfigError, ...]


def _load_yaml(text: str, source: str) -> _LoadedYaml:
    loaded = boundedyaml.load(text, CONFIG_LIMITS, _ConfigLoader, what="the file")
    if loaded.refusal is not None:
        refusal = loaded.refusal
        error = ConfigError(source, "", refusal.message, refusal.line, refusal.column)
        return _LoadedYaml(None, {}, (error,))
    if loaded.root is None:  # empty file or only comments: a valid, empty config
        return _LoadedYaml({}, {}, ())
    positions, duplicates = _key_positions(loaded.root)
    return _LoadedYaml(
        loaded.data,
        positions,
        tuple(ConfigError(source, e.key_path, e.message, e.line, e.column) for e in duplicates),
    )


# ----------------------------------------------------------------------- key paths

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def render_key_path(path: Sequence[str | int]) -> str:
    """`comments.mode`, `paths.include[2]`, `categories."docs/platform/**"`."""
    rendered = ""
    for part in path:
        if isinstance(part, int):
            rendered += f"[{part}]"
            continue
        text = part if _PLAIN_KEY.match(part) else json.dumps(part)
        rendered += f".{text}" if rendered else text
    return rendered


def _position_for(
    positions: Mapping[KeyPath, tuple[int, int]], path: KeyPath
) -> tuple[int | None, int | None]:
    for end in range(len(path), 0, -1):
        if path[:end] in positions:
            return positions[path[:end]]
    return None, None


# --------------------------------------------------------------- error messages


def describe_found(value: object) -> str:
    if isinstance(value, boundedyaml.Unreadable):
        return str(value)
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__} ({_short_text(value, 40)})"


def _short_text(value: object, limit: int) -> str:
    # str() of a YAML value is bounded (no big numbers, no huge nodes), but cut anyway.
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Mapping[str, Any] = schema()["$defs"][ref.removeprefix("#/$defs/")]
        return resolved
    return node


def describe_allowed(node: Mapping[str, Any]) -> str:
    """What a schema node accepts, in words (for "found X; allowed: Y")."""
    node = _resolve(node)
    if "anyOf" in node:
        return " or ".join(describe_allowed(branch) for branch in node["anyOf"])
    if "enum" in node:
        return ", ".join(json.dumps(value) for value in node["enum"])
    kind = node.get("type")
    if kind == "boolean":
        return "true or false"
    if kind == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        return "a whole number"
    if kind == "string":
        if "pattern" in node and "description" in node:
            return str(node["description"])
        low, high = node.get("minLength"), node.get("maxLength")
        return f"text of {low or 0} to {high} characters" if high is not None else "text"
    if kind == "array":
        items = describe_allowed(node.get("items", {}))
        limit = f" (at most {node['maxItems']} items)" if "maxItems" in node else ""
        return f"a list{limit} of: {items}"
    if kind == "object":
        properties = node.get("properties")
        if properties:
            return "a mapping with keys " + ", ".join(properties)
        return "a mapping"
    return "see the schema"


@dataclass(frozen=True)
class _Problem:
    path: KeyPath  # the key to drop (and to name in the message)
    message: str
    # Where the problem is, when the key path does not say it (an unreadable key).
    line: int | None = None
    column: int | None = None
    drop: bool = True  # False when the offending part is already left out


def _problems(error: jsonschema.ValidationError) -> Iterator[_Problem]:
    path: KeyPath = tuple(error.absolute_path)
    instance: Any = error.instance
    node: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    found = describe_found(instance)
    validator = error.validator
    if validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = list(node.get("properties", {}))
        for key in instance:
            if key in allowed:
                continue
            suggestion = did_you_mean(str(key), allowed)
            yield _Problem(
                (*path, key),
                f"unknown key {str(key)!r}{suggestion}; allowed keys: {', '.join(allowed)}",
            )
        return
    if "propertyNames" in error.absolute_schema_path:  # the key itself is wrong
        yield _Problem(
            (*path, instance),
            f"found key {describe_found(instance)}; allowed: {describe_allowed(node)}",
        )
        return
    if validator == "required" and isinstance(instance, Mapping):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [key for key in required if key not in instance]
        yield _Problem(path, f"missing key {', '.join(map(repr, missing))}")
        return
    if validator == "anyOf":
        # Explain with the branch of the same shape, if one exists: a mapping with a
        # bad key inside is better told about that key than about every branch.
        same_shape = [
            sub
            for sub in error.context or ()
            # A type error deeper inside the branch is a real problem, not a shape mismatch.
            if (sub.validator != "type" or sub.relative_path)
            and _branch_type_matches(node, sub, instance)
        ]
        if same_shape:
            for sub in same_shape:
                yield from _problems(sub)
            return
    if validator == "uniqueItems":
        yield _Problem(path, f"found {found} with repeated items; allowed: each item once")
        return
    if validator == "maxProperties":
        yield _Problem(
            path, f"found {len(instance)} keys; allowed: at most {error.validator_value}"
        )
        return
    yield _Problem(path, f"found {found}; allowed: {describe_allowed(node)}")


def _branch_type_matches(
    any_of_schema: Mapping[str, Any], sub: jsonschema.ValidationError, instance: object
) -> bool:
    index = sub.relative_schema_path[0] if sub.relative_schema_path else None
    if not isinstance(index, int):
        return False
    branch = _resolve(any_of_schema["anyOf"][index])
    expected = {"object": Mapping, "string": str, "boolean": bool}.get(str(branch.get("type")))
    return expected is not None and isinstance(instance, expected)


# -------------------------------------------------------------------- glob guard


def glob_problem(glob: str) -> str | None:
    """Why a glob is refused (too many wildcards, invalid), or None when it is fine."""
    segments = glob.split("/")
    if sum(segment == "**" for segment in segments) > MAX_DOUBLE_STAR_SEGMENTS:
        return f"at most {MAX_DOUBLE_STAR_SEGMENTS} '**' segments are allowed in one glob"
    for segment in segments:
        if segment != "**" and sum(segment.count(c) for c in "*?") > MAX_WILDCARDS_PER_SEGMENT:
            return f"at most {MAX_WILDCARDS_PER_SEGMENT} '*' or '?' are allowed per path segment"
    try:
        with warnings.catch_warnings():  # re's FutureWarning for `[[`: not for the log
            warnings.simplefilter("ignore")
            pathspec.PathSpec.from_lines("gitignore", [glob])
    except Exception as error:  # pathspec's own ValueError, or re.error from `[z-a]`
        return f"not a valid glob ({_short_text(error, 120)})"
    return None


def _glob_problems(document: Mapping[str, Any]) -> Iterator[_Problem]:
    paths = document.get("paths")
    if isinstance(paths, Mapping):
        for key in ("include", "exclude"):
            globs = paths.get(key)
            if isinstance(globs, list):
                for index, glob in enumerate(globs):
                    problem = glob_problem(glob) if isinstance(glob, str) else None
                    if problem:
                        yield _Problem(
                            ("paths", key, index), f"found {json.dumps(glob)}; {problem}"
                        )
    categories = document.get("categories")
    if isinstance(categories, Mapping):
        for glob in categories:
            problem = glob_problem(glob) if isinstance(glob, str) else None
            if problem:
                yield _Problem(("categories", glob), f"found {json.dumps(glob)}; {problem}")


# ----------------------------------------------------------------------- _extends


@dataclass(frozen=True)
class ExtendsTarget:
    owner: str
    repo: str
    path: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.repo}:{self.path}"


def parse_extends(value: str, *, owner: str) -> ExtendsTarget:
    """Probot's `_extends`: `REPO`, `OWNER/REPO`, `REPO:PATH` or `OWNER/REPO:PATH`.

    Without a path the target is the same config path in the other repository.
    The value's form has already been checked by the schema.
    """
    repository, _, path = value.partition(":")
    target_owner, _, repo = repository.rpartition("/")
    return ExtendsTarget(target_owner or owner, repo, path.strip().lstrip("/") or CONFIG_PATH)


def _extends_problem(value: str) -> str | None:
    _, _, path = value.partition(":")
    if any(part in ("", ".", "..") for part in path.strip().lstrip("/").split("/")) and path:
        return "the path must not contain empty, '.' or '..' segments"
    return None


# -------------------------------------------------------------------------- model

MODEL_CHOICES = ("rules", "learned")
MAX_MODEL_PATH_CHARS = 200
_MODEL_PATH_CHARS = re.compile(r"[A-Za-z0-9._/-]+")
MODEL_ALLOWED = '"rules", "learned", or a model file\'s repository-relative path ending in .json'


def model_path_problem(path: str) -> str | None:
    """Why `path` cannot name a model file in the repository, or None."""
    if len(path) > MAX_MODEL_PATH_CHARS:
        return f"a path of at most {MAX_MODEL_PATH_CHARS} characters, not {len(path)}"
    if path.startswith(("/", "~")) or re.match(r"[A-Za-z]:", path) or "\\" in path:
        return "the path must be relative to the repository root, not absolute"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "the path must not contain empty, '.' or '..' segments"
    if not _MODEL_PATH_CHARS.fullmatch(path):
        return "only letters, digits, '.', '_', '-' and '/' may name the file"
    if not path.endswith(".json"):
        return "a model file's name ends in .json"
    return None


def model_problem(value: object) -> str | None:
    """The one message for a bad `model:` value, or None when it is usable."""
    if value in MODEL_CHOICES:
        return None
    found = describe_found(value)
    if not isinstance(value, str) or not any(char in value for char in "./"):
        return f"found {found}; allowed: {MODEL_ALLOWED}"  # not meant as a path
    why = model_path_problem(value)
    return None if why is None else f"found {found}; {why}; allowed: {MODEL_ALLOWED}"


# ---------------------------------------------------------------- canonical form


def _canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    """Shorthands expanded so layers merge key by key: `metrics: optional` becomes
    `{requirement: optional}`, `placeholder: off` becomes `{enabled: false}`."""
    result = dict(document)
    dimensions = document.get("dimensions")
    if isinstance(dimensions, Mapping):
        result["dimensions"] = {
            category: {
                key: {"requirement": policy} if isinstance(policy, str) else dict(policy)
                for key, policy in table.items()
            }
            for category, table in dimensions.items()
        }
    checks = document.get("checks")
    if isinstance(checks, Mapping):
        result["checks"] = {check: _canonical_check(policy) for check, policy in checks.items()}
    return result


def _canonical_check(policy: object) -> dict[str, Any]:
    if isinstance(policy, bool):
        return {"enabled": policy}
    if policy == "on":
        return {"enabled": True}
    if policy == "off":
        return {"enabled": False}
    if isinstance(policy, str):  # a severity: on, at that severity
        return {"enabled": True, "severity": policy}
    return dict(policy) if isinstance(policy, Mapping) else {}


def _drop(document: dict[str, Any], path: KeyPath) -> None:
    """Remove the key at `path`; a problem inside a list drops the whole list."""
    for cut, part in enumerate(path):
        if isinstance(part, int):
            path = path[:cut]
            break
    if not path:
        return
    parent: Any = document
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
        if parent is None:
            return
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def _copy_with_text_keys(value: Any, path: KeyPath, problems: list[_Problem]) -> Any:
    """A copy of the YAML data with every non-text key dropped (and reported).

    Copying also matters for aliases: PyYAML shares an anchored value between its
    uses, and dropping a bad key in one place must not drop it everywhere.
    """
    if isinstance(value, dict):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, boundedyaml.Unreadable):
                problems.append(
                    _Problem(
                        path,
                        f"a key could not be read as YAML ({key.message}); it is ignored",
                        key.line,
                        key.column,
                        drop=False,
                    )
                )
                continue
            if not isinstance(key, str):
                shown = _yaml_scalar_text(key)
                problems.append(
                    _Problem((*path, shown), f"keys must be text; found {describe_found(key)}")
                )
                continue
            if isinstance(item, boundedyaml.Unreadable):
                problems.append(_unreadable_problem((*path, key), item))
                continue
            copy[key] = _copy_with_text_keys(item, (*path, key), problems)
        return copy
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            if isinstance(item, boundedyaml.Unreadable):
                # Left out here; the whole list is then dropped with the problem.
                problems.append(_unreadable_problem((*path, index), item))
                continue
            items.append(_copy_with_text_keys(item, (*path, index), problems))
        return items
    return value


def _unreadable_problem(path: KeyPath, value: boundedyaml.Unreadable) -> _Problem:
    return _Problem(
        path, f"the YAML value could not be read ({value.message})", value.line, value.column
    )


def _yaml_scalar_text(value: object) -> str:
    # How the key was most likely written, so the key path matches the file.
    try:
        return _short_text(json.dumps(value), 60)
    except (TypeError, ValueError):
        return _short_text(value, 60)


# -------------------------------------------------------------------- one file


@dataclass(frozen=True)
class ParsedConfig:
    """One config file: its valid parts in canonical form, its `_extends`, its errors."""

    source: str
    document: Mapping[str, Any]  # without `_extends`
    extends: str | None = None
    errors: tuple[ConfigError, ...] = ()
    positions: Mapping[KeyPath, tuple[int, int]] = field(default_factory=dict, compare=False)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        return _position_for(self.positions, tuple(path))[0]


def parse_config(text: str, *, source: str) -> ParsedConfig:
    """Parse and validate one config file. Never raises for bad content."""
    try:
        return _parse_config(text, source)
    except Exception as error:  # a safety net: a config must never switch the App off
        return ParsedConfig(source, {}, None, (_unexpected(source, "", error),))


def _unexpected(source: str, key_path: str, error: Exception) -> ConfigError:
    return ConfigError(
        source,
        key_path,
        f"could not be read ({type(error).__name__}: {_short_text(error, 200)}); "
        "the defaults apply instead",
    )


def _parse_config(text: str, source: str) -> ParsedConfig:
    loaded = _load_yaml(text, source)
    if loaded.data is None and loaded.errors:
        return ParsedConfig(source, {}, None, loaded.errors)
    data = {} if loaded.data is None else loaded.data  # `~` alone: an empty config
    if not isinstance(data, dict):
        line, column = _position_for(loaded.positions, ())
        return ParsedConfig(
            source,
            {},
            None,
            (
                *loaded.errors,
                ConfigError(
                    source,
                    "",
                    f"the file must be a mapping of keys to values; found {describe_found(data)}",
                    line or 1,
                    column,
                ),
            ),
        )
    problems: list[_Problem] = []
    document: dict[str, Any] = _copy_with_text_keys(data, (), problems)
    problems.extend(
        problem
        for error in sorted(
            _validator().iter_errors(document), key=lambda e: list(map(str, e.path))
        )
        for problem in _problems(error)
    )
    problems.extend(_glob_problems(document))
    if "model" in document and (why := model_problem(document["model"])):
        # One message of our own for the key, instead of the schema's pattern.
        problems = [problem for problem in problems if problem.path != ("model",)]
        problems.append(_Problem(("model",), why))
    extends = document.get("_extends")
    if isinstance(extends, str) and (why := _extends_problem(extends)):
        problems.append(_Problem(("_extends",), f"found {json.dumps(extends)}; {why}"))

    errors = list(loaded.errors)
    seen: set[tuple[KeyPath, str]] = set()
    for problem in problems:
        if (problem.path, problem.message) in seen:
            continue
        seen.add((problem.path, problem.message))
        line, column = _position_for(loaded.positions, problem.path)
        if problem.line is not None:
            line, column = problem.line, problem.column
        errors.append(
            ConfigError(source, render_key_path(problem.path), problem.message, line, column)
        )
        if problem.drop:
            _drop(document, problem.path)
    errors.sort(key=lambda error: (error.line is None, error.line or 0, error.column or 0))

    extends_value = document.pop("_extends", None)
    return ParsedConfig(
        source,
        _canonical(document),
        extends_value if isinstance(extends_value, str) else None,
        tuple(errors),
        loaded.positions,
    )


# ----------------------------------------------------------------------- layers


def defaults_document(settings: Settings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """The built-in defaults in config-file form (the lowest layer)."""
    return {
        "paths": {"include": list(settings.include), "exclude": list(settings.exclude)},
        "model": "learned" if settings.review.model is not None else "rules",
        "fail_on": settings.fail_on.value,
        "comments": {
            "max_inline": settings.max_inline,
            "max_per_document": settings.max_per_document,
            "mode": settings.comment_mode.value,
        },
        "drafts": settings.drafts,
        "command": {
            "associations": list(settings.command_associations),
            "allow_author": settings.command_allow_author,
        },
    }


def merge_layers(
    layers: Sequence[tuple[str, Mapping[str, Any]]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Deep-merge documents, lowest precedence first: mappings merge key by key, any
    other value (lists included) replaces. Returns the merged document and, per flat
    key path, the layer that set it."""
    sources: dict[str, str] = {}

    def merge(
        lower: Mapping[str, Any], higher: Mapping[str, Any], prefix: KeyPath, layer: str
    ) -> dict[str, Any]:
        # The higher layer's keys come first: order matters for `categories`, where
        # the first matching glob wins.
        result: dict[str, Any] = {}
        for key, value in higher.items():
            path = (*prefix, key)
            if isinstance(value, Mapping):
                below = lower.get(key)
                result[key] = merge(below if isinstance(below, Mapping) else {}, value, path, layer)
            else:
                result[key] = list(value) if isinstance(value, list) else value
                sources[render_key_path(path)] = layer
        for key, value in lower.items():
            result.setdefault(key, value)
        return result

    merged: dict[str, Any] = {}
    for layer, document in layers:
        merged = merge(merged, document, (), layer)
    return merged, sources


def flatten(document: Mapping[str, Any], prefix: KeyPath = ()) -> dict[str, object]:
    """{"comments.mode": "file", "paths.include": (...), ...} (lists are leaves, as tuples)."""
    flat: dict[str, object] = {}
    for key, value in document.items():
        path = (*prefix, key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, path))
        else:
            flat[render_key_path(path)] = tuple(value) if isinstance(value, list) else value
    return flat


def settings_from_layers(
    layers: Sequence[tuple[str, ParsedConfig]],
    *,
    extra_errors: Sequence[ConfigError] = (),
) -> Settings:
    """Settings from the defaults plus `layers` (lowest precedence first). Never raises."""
    # A file named by two layers (the organisation file, also an `_extends` target)
    # reports its problems once.
    errors = list(
        dict.fromkeys([*(error for _, parsed in layers for error in parsed.errors), *extra_errors])
    )
    documents: list[tuple[str, Mapping[str, Any]]] = [(Layer.DEFAULT.value, defaults_document())]
    documents.extend((layer, parsed.document) for layer, parsed in layers)
    try:
        merged, sources = merge_layers(documents)
    except Exception as error:  # a safety net: the defaults, and say why
        problem = _unexpected(", ".join(parsed.source for _, parsed in layers), "", error)
        return Settings(errors=(*errors, problem))
    return settings_from_document(
        merged,
        errors=errors,
        sources=sources,
        files=[(layer, parsed.source) for layer, parsed in layers],
    )


def settings_from_document(
    document: Mapping[str, Any],
    *,
    errors: Sequence[ConfigError] = (),
    sources: Mapping[str, str] | None = None,
    files: Sequence[tuple[str, str]] = (),
) -> Settings:
    """Convert a merged, validated, canonical document (defaults included) to Settings.

    Never raises: a value that cannot be applied (possible only for a document that did
    not come through `parse_config`) is reported with its key path, and the default
    applies instead."""
    problems = list(errors)
    defaults = DEFAULT_SETTINGS
    file_of_layer = dict(files)

    def guarded(key_path: KeyPath, build: Callable[[], _T], default: _T) -> _T:
        try:
            return build()
        except Exception as error:
            rendered = render_key_path(key_path)
            layer = _layer_of(sources or {}, rendered)
            problems.append(_unexpected(file_of_layer.get(layer, layer), rendered, error))
            return default

    paths = _submapping(document, "paths")
    comments = _submapping(document, "comments")
    command = _submapping(document, "command")
    dimensions: dict[Category, Mapping[str, DimensionPolicy]] = {}
    for category_name, table in _submapping(document, "dimensions").items():
        category = guarded(("dimensions", category_name), partial(Category, category_name), None)
        if category is None or not isinstance(table, Mapping):
            continue
        policies: dict[str, DimensionPolicy] = {}
        for key, policy in table.items():
            built = guarded(
                ("dimensions", category_name, key),
                partial(_dimension_policy, category, key, policy),
                None,
            )
            if built is not None:
                policies[key] = built
        dimensions[category] = MappingProxyType(policies)
    checks: dict[str, CheckPolicy] = {}
    for check, policy in _submapping(document, "checks").items():
        built_check = guarded(("checks", check), partial(_check_policy, policy), None)
        if built_check is not None:
            checks[check] = built_check
    aliases: dict[str, tuple[str, ...]] = {}
    for key, phrases in _submapping(document, "aliases").items():
        built_aliases = guarded(("aliases", key), partial(_texts, phrases), None)
        if built_aliases is not None:
            aliases[key] = built_aliases
    questions: dict[str, str] = {}
    for key, question in _submapping(document, "questions").items():
        built_question = guarded(("questions", key), partial(_text, question), None)
        if built_question is not None:
            questions[key] = built_question
    categories: list[tuple[str, Category]] = []
    for glob, category_name in _submapping(document, "categories").items():
        pair = guarded(("categories", glob), partial(_category_rule, glob, category_name), None)
        if pair is not None:
            categories.append(pair)
    judge = guarded(("model",), lambda: _judge(document.get("model", "learned")), "learned")
    model_file = None if judge in MODEL_CHOICES else judge
    review = ReviewOptions(
        dimensions=MappingProxyType(dimensions),
        checks=MappingProxyType(checks),
        aliases=MappingProxyType(aliases),
        questions=MappingProxyType(questions),
        # A team's model file replaces the shipped one once the CLI or the App has read
        # it (`model_file`); until then the shipped layer stands (and in the App, when
        # the file cannot be used; the CLI stops instead).
        model=None if judge == "rules" else shipped_model(),
    )
    return Settings(
        review=review,
        include=guarded(
            ("paths", "include"),
            lambda: _texts(paths.get("include", defaults.include)),
            defaults.include,
        ),
        exclude=guarded(
            ("paths", "exclude"),
            lambda: _texts(paths.get("exclude", defaults.exclude)),
            defaults.exclude,
        ),
        categories=tuple(categories),
        fail_on=guarded(
            ("fail_on",),
            lambda: FailOn(document.get("fail_on", defaults.fail_on.value)),
            defaults.fail_on,
        ),
        max_inline=guarded(
            ("comments", "max_inline"),
            lambda: _whole_number(comments.get("max_inline", defaults.max_inline)),
            defaults.max_inline,
        ),
        max_per_document=guarded(
            ("comments", "max_per_document"),
            lambda: _whole_number(comments.get("max_per_document", defaults.max_per_document)),
            defaults.max_per_document,
        ),
        comment_mode=guarded(
            ("comments", "mode"),
            lambda: CommentMode(comments.get("mode", defaults.comment_mode.value)),
            defaults.comment_mode,
        ),
        drafts=guarded(
            ("drafts",),
            lambda: _boolean(document.get("drafts", defaults.drafts)),
            defaults.drafts,
        ),
        command_associations=guarded(
            ("command", "associations"),
            lambda: _texts(command.get("associations", defaults.command_associations)),
            defaults.command_associations,
        ),
        command_allow_author=guarded(
            ("command", "allow_author"),
            lambda: _boolean(command.get("allow_author", defaults.command_allow_author)),
            defaults.command_allow_author,
        ),
        model_file=model_file,
        errors=tuple(problems),
        values=MappingProxyType(guarded((), lambda: flatten(document), {})),
        sources=MappingProxyType(dict(sources or {})),
        files=tuple(files),
    )


def _layer_of(sources: Mapping[str, str], key_path: str) -> str:
    """The layer that set `key_path` or something under it ("" when unknown)."""
    for path, layer in sources.items():
        if path == key_path or path.startswith((f"{key_path}.", f"{key_path}[")):
            return layer
    return ""


def _submapping(document: Mapping[str, Any], key: str) -> Mapping[Any, Any]:
    value = document.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {describe_found(value)}")
    return value


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of text, found {describe_found(value)}")
    return tuple(_text(item) for item in value)


def _judge(value: object) -> str:
    """`model:` — "rules", "learned" (the shipped layer), or a model file's path."""
    problem = model_problem(value)
    if problem is not None:
        raise ValueError(problem)
    assert isinstance(value, str)  # model_problem refuses anything else
    return value


def _whole_number(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, found {describe_found(value)}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, found {describe_found(value)}")
    return value


def _category_rule(glob: object, category: object) -> tuple[str, Category]:
    return _text(glob), Category(_text(category))


def _check_policy(policy: object) -> CheckPolicy:
    if not isinstance(policy, Mapping):
        raise TypeError(f"expected a mapping, found {describe_found(policy)}")
    severity = policy.get("severity")
    return CheckPolicy(
        enabled=_boolean(policy.get("enabled", True)),
        severity=Severity(severity) if severity is not None else None,
    )


def _dimension_policy(category: Category, key: str, policy: object) -> DimensionPolicy:
    """What the config says, completed from the engine's tables for what it leaves out."""
    if not isinstance(policy, Mapping):
        raise TypeError(f"expected a mapping, found {describe_found(policy)}")
    requirement = policy.get("requirement")
    severity = policy.get("severity")
    return DimensionPolicy(
        requirement=(
            Requirement(requirement) if requirement else DIMENSION_BY_ID[key].requirement(category)
        ),
        severity=Severity(severity) if severity else DIMENSION_BY_ID[key].severity,
    )


def parse_settings(text: str, *, source: str, layer: str = Layer.FILE.value) -> Settings:
    """Settings from one file's text on top of the defaults (`_extends` is not followed:
    that needs the GitHub API; see `ghapp.repoconfig`)."""
    return settings_from_layers([(layer, parse_config(text, source=source))])
