"""Parse, validate and merge `.github/product-review.yml` files. Pure: text in, data out.

The flow for one file is `parse_config` (YAML with bounds → JSON Schema validation →
canonical form); layers are combined with `merge_layers` and turned into `Settings`
by `settings_from_layers`. `parse_settings` does all of it for a single file on top of
the defaults (the CLI's `--config FILE`). Reading files and following `_extends`
through the GitHub API happens in `ghapp.repoconfig` / `ghapp.localconfig`.

A broken file never silently falls back: every problem becomes a `ConfigError`, and
only the offending keys are dropped; the valid parts still apply.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import jsonschema
import pathspec
import yaml

from checks import tables
from checks.config import (
    DEFAULT_SETTINGS,
    CommentMode,
    ConfigError,
    FailOn,
    Layer,
    Settings,
)
from checks.options import CheckPolicy, DimensionPolicy, ReviewOptions
from checks.report import Category, Requirement, Severity

CONFIG_PATH = ".github/product-review.yml"
SCHEMA_RESOURCE = "product-review.schema.json"

MAX_CONFIG_BYTES = 64 * 1024
# Bound on the YAML node graph once aliases are expanded: a real config has a few
# hundred nodes; an alias bomb ("billion laughs") has billions.
MAX_EXPANDED_NODES = 10_000
MAX_NESTING = 32

# Globs become regular expressions inside pathspec. These bounds keep the number of
# wildcards (and so the backtracking a hostile path can force) small.
MAX_DOUBLE_STAR_SEGMENTS = 3
MAX_WILDCARDS_PER_SEGMENT = 3

KeyPath = tuple[str | int, ...]


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
    validator_class = jsonschema.validators.validator_for(schema())
    return validator_class(schema())


# ----------------------------------------------------------------------------- YAML

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans, so `off`
    stays the word "off" (a requirement, a check switch) instead of becoming false."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _RefusedYaml(Exception):
    def __init__(self, message: str, node: yaml.Node | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


def _expanded_size(root: yaml.Node) -> int:
    """Node count with every alias expanded, without expanding anything.

    PyYAML shares aliased nodes, so an alias bomb is small in memory until something
    walks it (validation, merging, JSON). Memoised per node; refuses recursive anchors
    and deep nesting.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise _RefusedYaml("an alias refers to a node that contains it (recursive)", node)
        if depth > MAX_NESTING:
            raise _RefusedYaml(f"nested deeper than {MAX_NESTING} levels", node)
        in_progress.add(key)
        total = 1
        children: Iterable[yaml.Node] = ()
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = (part for pair in node.value for part in pair)
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_NODES:
                raise _RefusedYaml(
                    f"expands to more than {MAX_EXPANDED_NODES} YAML nodes "
                    "(aliases repeated too often)",
                    node,
                )
        in_progress.discard(key)
        sizes[key] = total
        return total

    return size(root, 0)


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
    def refused(message: str, line: int | None = None, column: int | None = None) -> _LoadedYaml:
        return _LoadedYaml(None, {}, (ConfigError(source, "", message, line, column),))

    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_CONFIG_BYTES:
        return refused(f"the file is {size} bytes; the limit is {MAX_CONFIG_BYTES} bytes")
    loader: _ConfigLoader | None = None
    try:
        loader = _ConfigLoader(text)
        node = loader.get_single_node()
        if node is None:  # empty file or only comments: a valid, empty config
            return _LoadedYaml({}, {}, ())
        _expanded_size(node)
        positions, duplicates = _key_positions(node)
        data = loader.construct_document(node)
    except _RefusedYaml as refusal:
        mark = refusal.node.start_mark if refusal.node is not None else None
        return refused(
            f"YAML refused: {refusal.message}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        )
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        return refused(
            f"YAML syntax error: {problem or 'invalid YAML'}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        )
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        return refused(f"YAML syntax error: {error.reason} (#x{error.character:04x})", line)
    except yaml.YAMLError as error:
        return refused(f"YAML error: {error}")
    except RecursionError:
        return refused(f"YAML refused: nested deeper than {MAX_NESTING} levels")
    finally:
        if loader is not None:
            loader.dispose()
    return _LoadedYaml(
        data,
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
    return f"a {type(value).__name__} ({str(value)[:40]})"


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
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
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
        pathspec.PathSpec.from_lines("gitignore", [glob])
    except ValueError as error:
        return f"not a valid glob ({error})"
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
            if not isinstance(key, str):
                shown = _yaml_scalar_text(key)
                problems.append(
                    _Problem((*path, shown), f"keys must be text; found {describe_found(key)}")
                )
                continue
            copy[key] = _copy_with_text_keys(item, (*path, key), problems)
        return copy
    if isinstance(value, list):
        return [
            _copy_with_text_keys(item, (*path, index), problems) for index, item in enumerate(value)
        ]
    return value


def _yaml_scalar_text(value: object) -> str:
    # How the key was most likely written, so the key path matches the file.
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


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
        errors.append(
            ConfigError(source, render_key_path(problem.path), problem.message, line, column)
        )
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
        "fail_on": settings.fail_on.value,
        "comments": {"max_inline": settings.max_inline, "mode": settings.comment_mode.value},
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
    """Settings from the defaults plus `layers` (lowest precedence first)."""
    documents: list[tuple[str, Mapping[str, Any]]] = [(Layer.DEFAULT.value, defaults_document())]
    documents.extend((layer, parsed.document) for layer, parsed in layers)
    merged, sources = merge_layers(documents)
    # A file named by two layers (the organisation file, also an `_extends` target)
    # reports its problems once.
    errors = list(
        dict.fromkeys([*(error for _, parsed in layers for error in parsed.errors), *extra_errors])
    )
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
    """Convert a merged, validated, canonical document (defaults included) to Settings."""
    paths = document.get("paths", {})
    comments = document.get("comments", {})
    command = document.get("command", {})
    defaults = DEFAULT_SETTINGS
    review = ReviewOptions(
        dimensions=MappingProxyType(
            {
                Category(category): MappingProxyType(
                    {
                        key: _dimension_policy(Category(category), key, policy)
                        for key, policy in table.items()
                    }
                )
                for category, table in document.get("dimensions", {}).items()
            }
        ),
        checks=MappingProxyType(
            {
                check: CheckPolicy(
                    enabled=bool(policy.get("enabled", True)),
                    severity=Severity(policy["severity"]) if "severity" in policy else None,
                )
                for check, policy in document.get("checks", {}).items()
            }
        ),
        aliases=MappingProxyType(
            {key: tuple(phrases) for key, phrases in document.get("aliases", {}).items()}
        ),
        questions=MappingProxyType(dict(document.get("questions", {}))),
    )
    return Settings(
        review=review,
        include=tuple(paths.get("include", defaults.include)),
        exclude=tuple(paths.get("exclude", defaults.exclude)),
        categories=tuple(
            (glob, Category(category)) for glob, category in document.get("categories", {}).items()
        ),
        fail_on=FailOn(document.get("fail_on", defaults.fail_on.value)),
        max_inline=int(comments.get("max_inline", defaults.max_inline)),
        comment_mode=CommentMode(comments.get("mode", defaults.comment_mode.value)),
        drafts=bool(document.get("drafts", defaults.drafts)),
        command_associations=tuple(command.get("associations", defaults.command_associations)),
        command_allow_author=bool(command.get("allow_author", defaults.command_allow_author)),
        errors=tuple(errors),
        values=MappingProxyType(flatten(document)),
        sources=MappingProxyType(dict(sources or {})),
        files=tuple(files),
    )


def _dimension_policy(category: Category, key: str, policy: Mapping[str, Any]) -> DimensionPolicy:
    """What the config says, completed from the engine's tables for what it leaves out."""
    requirement = policy.get("requirement")
    severity = policy.get("severity")
    return DimensionPolicy(
        requirement=Requirement(requirement) if requirement else tables.REQUIREMENTS[category][key],
        severity=Severity(severity) if severity else tables.GAP_SEVERITY[key],
    )


def parse_settings(text: str, *, source: str, layer: str = Layer.FILE.value) -> Settings:
    """Settings from one file's text on top of the defaults (`_extends` is not followed:
    that needs the GitHub API; see `ghapp.repoconfig`)."""
    return settings_from_layers([(layer, parse_config(text, source=source))])
